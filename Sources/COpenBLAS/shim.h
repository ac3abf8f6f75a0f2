#ifndef MESHWORK_COPENBLAS_SHIM_H
#define MESHWORK_COPENBLAS_SHIM_H

// The real cblas.h is Debian's pthread build (found through pkg-config "openblas"); it already
// declares openblas_get_corename, openblas_set_num_threads and openblas_get_num_threads.
#include <cblas.h>

// Swift cannot give one function a target feature: under Swift's default x86-64 target a SIMD
// `addingProduct` loop compiles to calls to fmaf(), so a measured FMA ceiling needs these two
// kernels, each compiled for its own ISA and chosen at run time from /proc/cpuinfo's flags.
// Each runs `iterations` rounds of 8 independent vector FMA chains (enough to cover the FMA
// latency of 4 cycles on 2 ports) and returns a sum so the work cannot be optimised away.
// The caller must check the CPU has the features first: calling one without them is SIGILL.
#if defined(__x86_64__)
typedef float meshwork_v16f __attribute__((vector_size(64)));
typedef float meshwork_v8f __attribute__((vector_size(32)));

__attribute__((target("avx512f,fma"))) static inline float
meshwork_fma_chains_avx512(long iterations, float seed) {
    meshwork_v16f x = {0}, y = {0};
    meshwork_v16f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int i = 0; i < 16; i++) { x[i] = seed * 1e-3f; y[i] = 0.999f; a0[i] = a1[i] = a2[i] = a3[i] = a4[i] = a5[i] = a6[i] = a7[i] = (float)i; }
    for (long n = 0; n < iterations; n++) {
        a0 = __builtin_elementwise_fma(a0, y, x); a1 = __builtin_elementwise_fma(a1, y, x);
        a2 = __builtin_elementwise_fma(a2, y, x); a3 = __builtin_elementwise_fma(a3, y, x);
        a4 = __builtin_elementwise_fma(a4, y, x); a5 = __builtin_elementwise_fma(a5, y, x);
        a6 = __builtin_elementwise_fma(a6, y, x); a7 = __builtin_elementwise_fma(a7, y, x);
    }
    meshwork_v16f s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    float total = 0;
    for (int i = 0; i < 16; i++) { total += s[i]; }
    return total;
}

__attribute__((target("avx2,fma"))) static inline float
meshwork_fma_chains_avx2(long iterations, float seed) {
    meshwork_v8f x = {0}, y = {0};
    meshwork_v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int i = 0; i < 8; i++) { x[i] = seed * 1e-3f; y[i] = 0.999f; a0[i] = a1[i] = a2[i] = a3[i] = a4[i] = a5[i] = a6[i] = a7[i] = (float)i; }
    for (long n = 0; n < iterations; n++) {
        a0 = __builtin_elementwise_fma(a0, y, x); a1 = __builtin_elementwise_fma(a1, y, x);
        a2 = __builtin_elementwise_fma(a2, y, x); a3 = __builtin_elementwise_fma(a3, y, x);
        a4 = __builtin_elementwise_fma(a4, y, x); a5 = __builtin_elementwise_fma(a5, y, x);
        a6 = __builtin_elementwise_fma(a6, y, x); a7 = __builtin_elementwise_fma(a7, y, x);
    }
    meshwork_v8f s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    float total = 0;
    for (int i = 0; i < 8; i++) { total += s[i]; }
    return total;
}
#endif

#endif
