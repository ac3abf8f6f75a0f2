// MeshRuntime: the composition root (process host, supervisor, launcher, scenario loading).
