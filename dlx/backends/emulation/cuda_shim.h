// cuda_shim.h -- the CUDA device vocabulary for the host C++ compiler.
//
// Included before an unchanged dlx .cu file so g++ can compile it for the CPU:
// execution-space qualifiers become nothing, threadIdx/blockIdx/blockDim/gridDim read the
// coordinates the emulator's scheduler sets for the running thread, __shared__ storage is
// static (blocks run one after another, so one copy serves every block), __syncthreads()
// yields to the scheduler (see emu_runtime.hpp), the warp primitives (__shfl*_sync,
// __ballot_sync, __syncwarp) are exchange points of the scheduler's warps of 32 fibers, and
// the intrinsics and atomics the kernels may use map onto the C++ library. Atomics are
// plain read-modify-writes: emulated threads of one launch never run at the same time.
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

// -- warp-synchronous primitives ------------------------------------------------------------
// Every one is a warp exchange point (emu_runtime.hpp): the calling lane waits until every
// lane named in `mask` has reached a warp primitive with the same mask, then the values are
// exchanged at once. Between exchange points the lanes of a warp run one after another in
// the launch's thread order, so shared-memory traffic that needs a __syncwarp() and lacks it
// gives order-dependent results; a mask that leaves out the caller, names a lane that has
// exited, or disagrees between lanes is a launch error.
inline constexpr int warpSize = 32;
namespace dlx_emu {
enum WarpOp : int { kShflIdx = 0, kShflXor = 1, kShflDown = 2, kShflUp = 3, kBallot = 4,
                    kSyncWarp = 5 };
unsigned long long warp_exchange(int op, unsigned mask, unsigned long long bits, int arg,
                                 int width);  // defined in emu_runtime.hpp
template <typename T> inline T warp_shuffle(int op, unsigned mask, T v, int arg, int width) {
  static_assert(sizeof(T) <= sizeof(unsigned long long), "dlx emulator: shuffle of a type over 8 bytes");
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  bits = warp_exchange(op, mask, bits, arg, width);
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}
}  // namespace dlx_emu

template <typename T> inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  return ::dlx_emu::warp_shuffle(::dlx_emu::kShflIdx, mask, v, src_lane, width);
}
template <typename T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  return ::dlx_emu::warp_shuffle(::dlx_emu::kShflXor, mask, v, lane_mask, width);
}
template <typename T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return ::dlx_emu::warp_shuffle(::dlx_emu::kShflDown, mask, v, static_cast<int>(delta), width);
}
template <typename T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  return ::dlx_emu::warp_shuffle(::dlx_emu::kShflUp, mask, v, static_cast<int>(delta), width);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return static_cast<unsigned>(
      ::dlx_emu::warp_exchange(::dlx_emu::kBallot, mask, predicate != 0, 0, warpSize));
}
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == mask; }
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::dlx_emu::warp_exchange(::dlx_emu::kSyncWarp, mask, 0, 0, warpSize);
}

#endif  // DLX_CUDA_SHIM_H
