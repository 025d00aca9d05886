// Shared vocabulary of the NumPy backend's compiled kernels (direct_conv.cpp, batch_norm.cpp):
// GCC/Clang vector extensions sized for the CPU the library is built for (-march=native), and
// the split of a loop over OpenMP threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace dlx_cpu {

typedef long long i64;

#if defined(__AVX512F__)
constexpr int VL = 16;  // floats per vector
#elif defined(__AVX__)
constexpr int VL = 8;
#else
constexpr int VL = 4;
#endif

typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef float vf_unaligned __attribute__((vector_size(VL * sizeof(float)), aligned(alignof(float)),
                                          may_alias));

inline vf load(const float* p) { return *reinterpret_cast<const vf_unaligned*>(p); }
inline void store(float* p, vf v) { *reinterpret_cast<vf_unaligned*>(p) = v; }
inline vf broadcast(float s) { return s - vf{}; }  // x - 0 is exact, so it folds to a broadcast

inline float lane_sum(vf v) {
    float sum = 0.0f;
    for (int l = 0; l < VL; ++l) sum += v[l];
    return sum;
}

// body(i0, i1, t) on each of `threads` threads t, over contiguous parts [i0, i1) of [0, n)
// (part t is always the same range, so per-thread partial results combine in a fixed order).
// Returns 0, or 2 when a thread ran out of memory. One thread (or no OpenMP): one part on
// this thread, outside any OpenMP region -- which is what keeps a forked child, whose
// libgomp cannot use the parent's threads, from hanging (dlx asks for 1 thread there).
template <typename Body>
int parallel_parts(i64 n, int threads, Body body) {
    threads = static_cast<int>(std::max<i64>(1, std::min<i64>(threads, n)));
    if (threads == 1) {
        try {
            body(0, n, 0);
        } catch (const std::bad_alloc&) {
            return 2;
        }
        return 0;
    }
    int status = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        const i64 t = omp_get_thread_num(), parts = omp_get_num_threads();
#else
    {
        const i64 t = 0, parts = 1;
#endif
        try {
            body(n * t / parts, n * (t + 1) / parts, static_cast<int>(t));
        } catch (const std::bad_alloc&) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            status = 2;
        }
    }
    return status;
}

inline int openmp_enabled() {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

}  // namespace dlx_cpu
