/// The inference API server (KServe v2 shape); being built.
public enum InferenceServerPlaceholder {}
