// im2col.cu -- NCHW image <-> column matrix for convolution as a matrix product.
//
// cols has shape (C*fh*fw, N*OH*OW), C-contiguous:
//   cols[(c*fh + i)*fw + j, (b*OH + p)*OW + q] = xpad[b, c, p*sh + i, q*sw + j]
// where xpad is x zero-padded by (ph, pw).
//
// im2col: one thread per (channel, output column): it decodes (c, b, p, q) once and writes
// the fh*fw rows of that column for that channel -- consecutive threads write consecutive
// addresses of a row (coalesced) and read a stride-sw run of the input.
// col2im is its adjoint, written as a gather: one thread per input pixel sums the column
// entries that read it, in increasing window offset (i, j) -- no atomics, a fixed order.
// Index type I: see dlx_common.cuh (the launcher picks int when the extents fit).
#include "dlx_common.cuh"

template <typename I, typename T>
__device__ __forceinline__ void im2col_body(const T* __restrict__ x, T* __restrict__ cols,
                                            const dlx_geometry<I> g) {
  const I ncols = g.n * g.oh * g.ow;
  DLX_GRID_STRIDE_LOOP(idx, (dlx_index)g.c * ncols) {
    const I item = (I)idx;
    const I col = item % ncols, ch = item / ncols;
    const I q = col % g.ow, bp = col / g.ow, p = bp % g.oh, b = bp / g.oh;
    const I y0 = p * g.sh - g.ph, x0 = q * g.sw - g.pw;
    const T* __restrict__ plane = x + (b * g.c + ch) * g.h * g.w;
    I row = ch * g.fh * g.fw;
    for (I i = 0; i < g.fh; ++i) {
      const I y = y0 + i;
      const bool row_inside = y >= 0 && y < g.h;
      for (I j = 0; j < g.fw; ++j, ++row) {
        const I xx = x0 + j;
        cols[row * ncols + col] = row_inside && xx >= 0 && xx < g.w ? plane[y * g.w + xx] : T(0);
      }
    }
  }
}

// One thread per element of dx: dx[b, c, y, x] = sum of cols entries reading xpad[b, c, y+ph, x+pw].
template <typename I, typename T>
__device__ __forceinline__ void col2im_body(const T* __restrict__ cols, T* __restrict__ dx,
                                            const dlx_geometry<I> g) {
  const I ncols = g.n * g.oh * g.ow;
  DLX_GRID_STRIDE_LOOP(idx, (dlx_index)g.n * g.c * g.h * g.w) {
    const I item = (I)idx;
    const I xp = item % g.w + g.pw, t1 = item / g.w, yp = t1 % g.h + g.ph, t2 = t1 / g.h;
    const I ch = t2 % g.c, b = t2 / g.c;
    const I p_first = dlx_first_window(yp, g.fh, g.sh), p_last = dlx_last_window(yp, g.sh, g.oh);
    const I q_first = dlx_first_window(xp, g.fw, g.sw), q_last = dlx_last_window(xp, g.sw, g.ow);
    const I base = ch * g.fh * g.fw * ncols + b * g.oh * g.ow;
    T sum = T(0);
    // window row p reads offset i = yp - p*sh: descending p is ascending i (likewise q, j)
    for (I p = p_last; p >= p_first; --p) {
      const I row_base = base + (yp - p * g.sh) * g.fw * ncols + p * g.ow;
      for (I q = q_last; q >= q_first; --q) sum += cols[row_base + (xp - q * g.sw) * ncols + q];
    }
    dx[idx] = sum;
  }
}

#define DLX_IM2COL_ENTRIES(PREFIX, I, SUFFIX, T)                                        \
  extern "C" __global__ void im2col##PREFIX##_##SUFFIX(                                 \
      const T* __restrict__ x, T* __restrict__ cols, DLX_GEOMETRY_PARAMS(I)) {          \
    im2col_body<I, T>(x, cols, DLX_GEOMETRY);                                           \
  }                                                                                     \
  extern "C" __global__ void col2im##PREFIX##_##SUFFIX(                                 \
      const T* __restrict__ cols, T* __restrict__ dx, DLX_GEOMETRY_PARAMS(I)) {         \
    col2im_body<I, T>(cols, dx, DLX_GEOMETRY);                                          \
  }

DLX_IM2COL_ENTRIES(, dlx_index, f32, float)
DLX_IM2COL_ENTRIES(, dlx_index, f64, double)
DLX_IM2COL_ENTRIES(_i32, int, f32, float)
DLX_IM2COL_ENTRIES(_i32, int, f64, double)
