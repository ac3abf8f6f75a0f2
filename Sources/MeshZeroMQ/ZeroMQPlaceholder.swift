// MeshZeroMQ: the only importer of libzmq.
