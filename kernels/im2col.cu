// im2col.cu -- NCHW image <-> column matrix for convolution as a matrix product.
//
// cols has shape (C*fh*fw, N*OH*OW), C-contiguous:
//   cols[(c*fh + i)*fw + j, (b*OH + p)*OW + q] = xpad[b, c, p*sh + i, q*sw + j]
// where xpad is x zero-padded by (ph, pw). col2im is its adjoint, written as a gather:
// one thread per input pixel sums the column entries that read it, in increasing window
// offset (i, j) -- no atomics, a fixed summation order.
#include "dlx_common.cuh"

// One thread per element of cols.
template <typename T>
__device__ __forceinline__ void im2col_body(const T* __restrict__ x, T* __restrict__ cols,
                                            const dlx_geometry g) {
  const dlx_index ncols = g.n * g.oh * g.ow;
  const dlx_index total = g.c * g.fh * g.fw * ncols;
  DLX_GRID_STRIDE_LOOP(idx, total) {
    const dlx_index col = idx % ncols, row = idx / ncols;
    const dlx_index q = col % g.ow, p = (col / g.ow) % g.oh, b = col / (g.ow * g.oh);
    const dlx_index j = row % g.fw, i = (row / g.fw) % g.fh, ch = row / (g.fw * g.fh);
    const dlx_index y = p * g.sh - g.ph + i, xx = q * g.sw - g.pw + j;
    const bool inside = y >= 0 && y < g.h && xx >= 0 && xx < g.w;
    cols[idx] = inside ? x[((b * g.c + ch) * g.h + y) * g.w + xx] : T(0);
  }
}

// One thread per element of dx: dx[b, c, y, x] = sum of cols entries reading xpad[b, c, y+ph, x+pw].
template <typename T>
__device__ __forceinline__ void col2im_body(const T* __restrict__ cols, T* __restrict__ dx,
                                            const dlx_geometry g) {
  const dlx_index ncols = g.n * g.oh * g.ow;
  const dlx_index total = g.n * g.c * g.h * g.w;
  DLX_GRID_STRIDE_LOOP(idx, total) {
    const dlx_index xp = idx % g.w + g.pw, yp = (idx / g.w) % g.h + g.ph;
    const dlx_index ch = (idx / (g.w * g.h)) % g.c, b = idx / (g.w * g.h * g.c);
    T sum = T(0);
    // window row p reads offset i = yp - p*sh: descending p is ascending i (likewise q, j)
    for (dlx_index p = dlx_last_window(yp, g.sh, g.oh); p >= dlx_first_window(yp, g.fh, g.sh); --p) {
      const dlx_index i = yp - p * g.sh;
      for (dlx_index q = dlx_last_window(xp, g.sw, g.ow); q >= dlx_first_window(xp, g.fw, g.sw); --q) {
        const dlx_index j = xp - q * g.sw;
        sum += cols[((ch * g.fh + i) * g.fw + j) * ncols + (b * g.oh + p) * g.ow + q];
      }
    }
    dx[idx] = sum;
  }
}

#define DLX_IM2COL_ENTRIES(SUFFIX, T)                                                   \
  extern "C" __global__ void im2col_##SUFFIX(const T* __restrict__ x,                   \
                                             T* __restrict__ cols, DLX_GEOMETRY_PARAMS) { \
    im2col_body<T>(x, cols, DLX_GEOMETRY);                                              \
  }                                                                                     \
  extern "C" __global__ void col2im_##SUFFIX(const T* __restrict__ cols,                \
                                             T* __restrict__ dx, DLX_GEOMETRY_PARAMS) {   \
    col2im_body<T>(cols, dx, DLX_GEOMETRY);                                             \
  }

DLX_IM2COL_ENTRIES(f32, float)
DLX_IM2COL_ENTRIES(f64, double)
