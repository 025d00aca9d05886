// maxpool.cu -- 2-D max pooling over NCHW input.
//
// Forward: one thread per output y[b, c, p, q] = max over the window of xpad (padding is
// -inf); argmax (int32) is the offset k = i*fw + j of the first maximum in row-major window
// order, as NumPy's argmax. Backward is a gather: one thread per input pixel sums the gy of
// the windows whose argmax names it, in increasing window offset -- no atomics.
#include "dlx_common.cuh"

template <typename T>
__device__ __forceinline__ T maxpool_load(const T* __restrict__ plane, dlx_index y,
                                          dlx_index x, const dlx_geometry& g) {
  const bool inside = y >= 0 && y < g.h && x >= 0 && x < g.w;
  return inside ? plane[y * g.w + x] : dlx_math<T>::neg_inf();
}

template <typename T>
__device__ __forceinline__ void maxpool_fwd_body(const T* __restrict__ x, T* __restrict__ y,
                                                 int* __restrict__ argmax, const dlx_geometry g) {
  const dlx_index total = g.n * g.c * g.oh * g.ow;
  DLX_GRID_STRIDE_LOOP(idx, total) {
    const dlx_index q = idx % g.ow, p = (idx / g.ow) % g.oh, plane = idx / (g.ow * g.oh);
    const T* __restrict__ xs = x + plane * g.h * g.w;
    const dlx_index y0 = p * g.sh - g.ph, x0 = q * g.sw - g.pw;
    T best = maxpool_load(xs, y0, x0, g);
    dlx_index best_k = 0;
    for (dlx_index k = 1; k < g.fh * g.fw; ++k) {
      const T v = maxpool_load(xs, y0 + k / g.fw, x0 + k % g.fw, g);
      if (v > best) {
        best = v;
        best_k = k;
      }
    }
    y[idx] = best;
    argmax[idx] = (int)best_k;
  }
}

template <typename T>
__device__ __forceinline__ void maxpool_bwd_body(const T* __restrict__ gy,
                                                 const int* __restrict__ argmax,
                                                 T* __restrict__ dx, const dlx_geometry g) {
  const dlx_index total = g.n * g.c * g.h * g.w;
  DLX_GRID_STRIDE_LOOP(idx, total) {
    const dlx_index xp = idx % g.w + g.pw, yp = (idx / g.w) % g.h + g.ph;
    const dlx_index plane = idx / (g.w * g.h);
    T sum = T(0);
    // descending window index is ascending offset inside the window (see im2col.cu)
    for (dlx_index p = dlx_last_window(yp, g.sh, g.oh); p >= dlx_first_window(yp, g.fh, g.sh); --p) {
      const dlx_index i = yp - p * g.sh;
      for (dlx_index q = dlx_last_window(xp, g.sw, g.ow); q >= dlx_first_window(xp, g.fw, g.sw); --q) {
        const dlx_index o = (plane * g.oh + p) * g.ow + q;
        if (argmax[o] == i * g.fw + (xp - q * g.sw)) sum += gy[o];
      }
    }
    dx[idx] = sum;
  }
}

#define DLX_MAXPOOL_ENTRIES(SUFFIX, T)                                                  \
  extern "C" __global__ void maxpool_fwd_##SUFFIX(const T* __restrict__ x,              \
                                                  T* __restrict__ y,                    \
                                                  int* __restrict__ argmax,             \
                                                  DLX_GEOMETRY_PARAMS) {                \
    maxpool_fwd_body<T>(x, y, argmax, DLX_GEOMETRY);                                    \
  }                                                                                     \
  extern "C" __global__ void maxpool_bwd_##SUFFIX(const T* __restrict__ gy,             \
                                                  const int* __restrict__ argmax,       \
                                                  T* __restrict__ dx,                   \
                                                  DLX_GEOMETRY_PARAMS) {                \
    maxpool_bwd_body<T>(gy, argmax, dx, DLX_GEOMETRY);                                  \
  }

DLX_MAXPOOL_ENTRIES(f32, float)
DLX_MAXPOOL_ENTRIES(f64, double)
