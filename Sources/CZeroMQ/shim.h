#ifndef MESHWORK_CZEROMQ_SHIM_H
#define MESHWORK_CZEROMQ_SHIM_H

#include <zmq.h>
// eventfd(2) is not exported by Swift's Glibc module; the I/O thread's wake-up fd needs it.
#include <sys/eventfd.h>

#endif
