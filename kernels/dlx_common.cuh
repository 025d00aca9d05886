// dlx_common.cuh -- the small vocabulary shared by the dlx kernels.
//
// NVRTC-clean: no host headers, no INFINITY/NAN macros (special values come from bit
// patterns). Every kernel walks its index space with a 64-bit grid-stride loop, so any grid
// size is correct. The window kernels decode their indices in a type I: long long always
// works; the launcher picks int (a 32-bit divide is several times cheaper than a 64-bit one)
// when every array extent of the launch fits in 31 bits.
#ifndef DLX_COMMON_CUH
#define DLX_COMMON_CUH

typedef long long dlx_index;

// for (i = global thread id; i < n; i += total threads in the grid)
#define DLX_GRID_STRIDE_LOOP(i, n)                                                   \
  for (dlx_index i = (dlx_index)blockIdx.x * blockDim.x + threadIdx.x; i < (n);     \
       i += (dlx_index)blockDim.x * gridDim.x)

// Geometry of a 2-D window op over NCHW input: input (n, c, h, w), window (fh, fw),
// stride (sh, sw), zero padding (ph, pw), output (oh, ow) = floor((h + 2ph - fh)/sh) + 1, ...
template <typename I>
struct dlx_geometry {
  I n, c, h, w, fh, fw, sh, sw, ph, pw, oh, ow;
};

// The 12 geometry parameters every window kernel takes, in this order, as type I.
#define DLX_GEOMETRY_PARAMS(I)                                                       \
  I n, I c, I h, I w, I fh, I fw, I sh, I sw, I ph, I pw, I oh, I ow
#define DLX_GEOMETRY {n, c, h, w, fh, fw, sh, sw, ph, pw, oh, ow}

// Windows along one axis that cover padded coordinate xp: window p starts at p*s and
// covers [p*s, p*s + f). First such p, and last such p (clipped to the output size o).
template <typename I>
__device__ __forceinline__ I dlx_first_window(I xp, I f, I s) {
  return xp < f ? 0 : (xp - f) / s + 1;
}
template <typename I>
__device__ __forceinline__ I dlx_last_window(I xp, I s, I o) {
  const I p = xp / s;
  return p < o ? p : o - 1;
}

// Per-dtype math: special values and the exp/log overloads the kernels use.
template <typename T> struct dlx_math;
template <> struct dlx_math<float> {
  static __device__ __forceinline__ float neg_inf() { return -__int_as_float(0x7f800000); }
  static __device__ __forceinline__ float quiet_nan() { return __int_as_float(0x7fc00000); }
  static __device__ __forceinline__ float exp(float v) { return expf(v); }
  static __device__ __forceinline__ float log(float v) { return logf(v); }
};
template <> struct dlx_math<double> {
  static __device__ __forceinline__ double neg_inf() {
    return -__longlong_as_double(0x7ff0000000000000LL);
  }
  static __device__ __forceinline__ double quiet_nan() {
    return __longlong_as_double(0x7ff8000000000000LL);
  }
  static __device__ __forceinline__ double exp(double v) { return ::exp(v); }
  static __device__ __forceinline__ double log(double v) { return ::log(v); }
};

#endif  // DLX_COMMON_CUH
