#ifndef MESHWORK_CZEROMQ_SHIM_H
#define MESHWORK_CZEROMQ_SHIM_H

#include <zmq.h>
// eventfd(2) is not exported by Swift's Glibc module; the I/O thread's wake-up fd needs it.
#include <sys/eventfd.h>
#include <pthread.h>

// pthread_setname_np is a GNU extension that Swift's Glibc module does not export; the I/O
// threads name themselves with it so `top -H` shows them. (Same prototype as glibc's.)
int pthread_setname_np(pthread_t thread, const char *name);

#endif
