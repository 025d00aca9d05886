// maxpool.cu -- 2-D max pooling over NCHW input.
//
// Forward: one thread per output y[b, c, p, q] = max over the window of xpad (padding is
// -inf), walked as nested (i, j) loops; argmax (int32) is the offset k = i*fw + j of the
// first maximum in row-major window order, as NumPy's argmax. A NaN is the maximum of any
// window it is in (the first NaN names the argmax), as np.max and torch.max_pool2d.
// Backward is a gather: one thread per input pixel sums the gy of the windows whose argmax
// names it, in increasing window offset -- no atomics. Index type I: see dlx_common.cuh.
#include "dlx_common.cuh"

template <typename I, typename T>
__device__ __forceinline__ void maxpool_fwd_body(const T* __restrict__ x, T* __restrict__ y,
                                                 int* __restrict__ argmax,
                                                 const dlx_geometry<I> g) {
  DLX_GRID_STRIDE_LOOP(idx, (dlx_index)g.n * g.c * g.oh * g.ow) {
    const I item = (I)idx;
    const I q = item % g.ow, t1 = item / g.ow, p = t1 % g.oh, plane = t1 / g.oh;
    const T* __restrict__ xs = x + plane * g.h * g.w;
    const I y0 = p * g.sh - g.ph, x0 = q * g.sw - g.pw;
    T best = dlx_math<T>::neg_inf();
    int best_k = 0, k = 0;
    for (I i = 0; i < g.fh; ++i) {
      const I yy = y0 + i;
      const bool row_inside = yy >= 0 && yy < g.h;
      for (I j = 0; j < g.fw; ++j, ++k) {
        const I xx = x0 + j;
        const T v = row_inside && xx >= 0 && xx < g.w ? xs[yy * g.w + xx] : dlx_math<T>::neg_inf();
        if (v > best || (v != v && best == best)) {  // a NaN wins, and stays
          best = v;
          best_k = k;
        }
      }
    }
    y[idx] = best;
    argmax[idx] = best_k;
  }
}

template <typename I, typename T>
__device__ __forceinline__ void maxpool_bwd_body(const T* __restrict__ gy,
                                                 const int* __restrict__ argmax,
                                                 T* __restrict__ dx, const dlx_geometry<I> g) {
  DLX_GRID_STRIDE_LOOP(idx, (dlx_index)g.n * g.c * g.h * g.w) {
    const I item = (I)idx;
    const I xp = item % g.w + g.pw, t1 = item / g.w, yp = t1 % g.h + g.ph, plane = t1 / g.h;
    const I p_first = dlx_first_window(yp, g.fh, g.sh), p_last = dlx_last_window(yp, g.sh, g.oh);
    const I q_first = dlx_first_window(xp, g.fw, g.sw), q_last = dlx_last_window(xp, g.sw, g.ow);
    T sum = T(0);
    // descending window index is ascending offset inside the window (see im2col.cu)
    for (I p = p_last; p >= p_first; --p) {
      const I row = (plane * g.oh + p) * g.ow, k_row = (yp - p * g.sh) * g.fw;
      for (I q = q_last; q >= q_first; --q)
        if (argmax[row + q] == k_row + (xp - q * g.sw)) sum += gy[row + q];
    }
    dx[idx] = sum;
  }
}

#define DLX_MAXPOOL_ENTRIES(PREFIX, I, SUFFIX, T)                                       \
  extern "C" __global__ void maxpool_fwd##PREFIX##_##SUFFIX(                            \
      const T* __restrict__ x, T* __restrict__ y, int* __restrict__ argmax,             \
      DLX_GEOMETRY_PARAMS(I)) {                                                         \
    maxpool_fwd_body<I, T>(x, y, argmax, DLX_GEOMETRY);                                 \
  }                                                                                     \
  extern "C" __global__ void maxpool_bwd##PREFIX##_##SUFFIX(                            \
      const T* __restrict__ gy, const int* __restrict__ argmax, T* __restrict__ dx,     \
      DLX_GEOMETRY_PARAMS(I)) {                                                         \
    maxpool_bwd_body<I, T>(gy, argmax, dx, DLX_GEOMETRY);                               \
  }

DLX_MAXPOOL_ENTRIES(, dlx_index, f32, float)
DLX_MAXPOOL_ENTRIES(, dlx_index, f64, double)
DLX_MAXPOOL_ENTRIES(_i32, int, f32, float)
DLX_MAXPOOL_ENTRIES(_i32, int, f64, double)
