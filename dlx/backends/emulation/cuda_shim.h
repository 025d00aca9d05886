// cuda_shim.h -- the CUDA device vocabulary for the host C++ compiler.
//
// Included before an unchanged dlx .cu file so g++ can compile it for the CPU:
// execution-space qualifiers become nothing, threadIdx/blockIdx/blockDim/gridDim read the
// coordinates the emulator's scheduler sets for the running thread, __shared__ storage is
// static (blocks run one after another, so one copy serves every block), __syncthreads()
// yields to the scheduler (see emu_runtime.hpp), and the intrinsics and atomics the kernels
// may use map onto the C++ library. Atomics are plain read-modify-writes: emulated threads
// of one launch never run at the same time.
#ifndef DLX_CUDA_SHIM_H
#define DLX_CUDA_SHIM_H

#include <cmath>
#include <cstring>
#include <math.h>

struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace dlx_emu {
// Coordinates of the emulated thread that is running now (one set per loaded library).
struct Coordinates {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};
inline Coordinates coords;
void sync_threads();  // defined in emu_runtime.hpp
}  // namespace dlx_emu

#define threadIdx (::dlx_emu::coords.thread_idx)
#define blockIdx (::dlx_emu::coords.block_idx)
#define blockDim (::dlx_emu::coords.block_dim)
#define gridDim (::dlx_emu::coords.grid_dim)

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __syncthreads() ::dlx_emu::sync_threads()

// -- bit casts and math intrinsics --------------------------------------------------------
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, sizeof f); return f; }
inline int __float_as_int(float f) { int v; std::memcpy(&v, &f, sizeof v); return v; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, sizeof d); return d; }
inline long long __double_as_longlong(double d) { long long v; std::memcpy(&v, &d, sizeof v); return v; }
inline float __expf(float v) { return expf(v); }
inline float __logf(float v) { return logf(v); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float v) { return 1.0f / sqrtf(v); }
inline double rsqrt(double v) { return 1.0 / sqrt(v); }

// -- atomics (emulated threads never overlap, so a plain update is atomic) -----------------
template <typename T> inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }
template <typename T> inline T atomicMax(T* address, T value) { T old = *address; if (value > old) *address = value; return old; }
template <typename T> inline T atomicMin(T* address, T value) { T old = *address; if (value < old) *address = value; return old; }
template <typename T> inline T atomicExch(T* address, T value) { T old = *address; *address = value; return old; }
template <typename T> inline T atomicCAS(T* address, T compare, T value) {
  T old = *address;
  if (old == compare) *address = value;
  return old;
}

// -- not emulated: warp-synchronous primitives fail the build with a clear message ---------
template <typename T> struct dlx_emu_unsupported { static constexpr bool value = false; };
template <typename T> inline T __shfl_down_sync(unsigned, T v, int, int = 32) {
  static_assert(dlx_emu_unsupported<T>::value,
                "dlx emulator: warp shuffles are not emulated; use __shared__ + __syncthreads");
  return v;
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int, int = 32) {
  static_assert(dlx_emu_unsupported<T>::value,
                "dlx emulator: warp shuffles are not emulated; use __shared__ + __syncthreads");
  return v;
}

#endif  // DLX_CUDA_SHIM_H
