// softmax_ce.cu -- fused, numerically stable softmax cross-entropy over logits z (m, k).
//
// softmax_ce_rows    one thread per row r:  zmax = max_c z[r,c],  s = sum_c exp(z[r,c] - zmax),
//                    probs[r,c] = exp(z[r,c] - zmax) / s,
//                    row_loss[r] = log(s) + zmax - z[r, t[r]]   (0 if ignored, NaN if t[r] is
//                    out of range -- never an out-of-bounds read),
//                    scale[r] = 0 if ignored else (weight[r] if has_weight else 1).
// softmax_ce_reduce  one block (block 0; others exit): without weights scale[r] /= max(n_valid, 1);
//                    loss[0] = sum_r scale[r] * row_loss[r]. A fixed-shape tree reduction in
//                    shared memory, so the mean never leaves the device.
// softmax_ce_bwd     one thread per element: dz[r,c] = (probs[r,c] - [c == t[r]]) * (scale[r] * gloss[0]);
//                    0 for ignored rows, NaN for out-of-range labels. gloss is read on the device.
#include "dlx_common.cuh"

#define DLX_MAX_BLOCK 1024

template <typename T>
__device__ __forceinline__ void softmax_ce_rows_body(
    const T* __restrict__ z, const long long* __restrict__ t, const T* __restrict__ weight,
    T* __restrict__ probs, T* __restrict__ row_loss, T* __restrict__ scale, dlx_index m,
    dlx_index k, long long ignore_index, long long has_weight) {
  DLX_GRID_STRIDE_LOOP(r, m) {
    const T* __restrict__ zr = z + r * k;
    T* __restrict__ pr = probs + r * k;
    T zmax = zr[0];
    for (dlx_index c = 1; c < k; ++c) zmax = zr[c] > zmax ? zr[c] : zmax;
    T s = T(0);
    for (dlx_index c = 0; c < k; ++c) s += dlx_math<T>::exp(zr[c] - zmax);
    for (dlx_index c = 0; c < k; ++c) pr[c] = dlx_math<T>::exp(zr[c] - zmax) / s;
    const long long label = t[r];
    const bool ignored = label == ignore_index;
    if (ignored) {
      row_loss[r] = T(0);
    } else if (label >= 0 && label < k) {
      row_loss[r] = dlx_math<T>::log(s) + zmax - zr[label];
    } else {
      row_loss[r] = dlx_math<T>::quiet_nan();
    }
    scale[r] = ignored ? T(0) : (has_weight ? weight[r] : T(1));
  }
}

// Sum of v over the threads of the block (any blockDim.x <= DLX_MAX_BLOCK); every thread
// gets the total. buf is a __shared__ array of DLX_MAX_BLOCK elements.
template <typename A>
__device__ __forceinline__ A dlx_block_sum(A v, A* buf) {
  const unsigned tid = threadIdx.x, nt = blockDim.x;
  buf[tid] = v;
  __syncthreads();
  unsigned half = 1;
  while (2 * half < nt) half *= 2;
  for (; half > 0; half /= 2) {
    if (tid < half && tid + half < nt) buf[tid] += buf[tid + half];
    __syncthreads();
  }
  const A total = buf[0];
  __syncthreads();  // buf may be reused right away
  return total;
}

template <typename T>
__device__ __forceinline__ void softmax_ce_reduce_body(const T* __restrict__ row_loss,
                                                       T* __restrict__ scale,
                                                       T* __restrict__ loss, dlx_index m,
                                                       long long has_weight) {
  __shared__ long long count_buf[DLX_MAX_BLOCK];
  __shared__ T sum_buf[DLX_MAX_BLOCK];
  if (blockIdx.x != 0) return;  // the whole reduction is one block's job
  if (!has_weight) {
    long long valid = 0;
    for (dlx_index r = threadIdx.x; r < m; r += blockDim.x) valid += scale[r] != T(0);
    const long long n_valid = dlx_block_sum(valid, count_buf);
    const T denom = T(n_valid > 0 ? n_valid : 1);
    for (dlx_index r = threadIdx.x; r < m; r += blockDim.x) scale[r] = scale[r] / denom;
  }
  T acc = T(0);
  for (dlx_index r = threadIdx.x; r < m; r += blockDim.x) acc += scale[r] * row_loss[r];
  const T total = dlx_block_sum(acc, sum_buf);
  if (threadIdx.x == 0) loss[0] = total;
}

template <typename T>
__device__ __forceinline__ void softmax_ce_bwd_body(
    const T* __restrict__ probs, const long long* __restrict__ t, const T* __restrict__ scale,
    const T* __restrict__ gloss, T* __restrict__ dz, dlx_index m, dlx_index k,
    long long ignore_index) {
  const T g = gloss[0];
  DLX_GRID_STRIDE_LOOP(idx, m * k) {
    const dlx_index r = idx / k, c = idx % k;
    const long long label = t[r];
    if (label == ignore_index) {
      dz[idx] = T(0);
    } else if (label >= 0 && label < k) {
      dz[idx] = (probs[idx] - (c == label ? T(1) : T(0))) * (scale[r] * g);
    } else {
      dz[idx] = dlx_math<T>::quiet_nan();
    }
  }
}

#define DLX_SOFTMAX_CE_ENTRIES(SUFFIX, T)                                                 \
  extern "C" __global__ void softmax_ce_rows_##SUFFIX(                                    \
      const T* __restrict__ z, const long long* __restrict__ t, const T* __restrict__ weight, \
      T* __restrict__ probs, T* __restrict__ row_loss, T* __restrict__ scale, dlx_index m,  \
      dlx_index k, long long ignore_index, long long has_weight) {                        \
    softmax_ce_rows_body<T>(z, t, weight, probs, row_loss, scale, m, k, ignore_index,     \
                            has_weight);                                                  \
  }                                                                                       \
  extern "C" __global__ void softmax_ce_reduce_##SUFFIX(                                  \
      const T* __restrict__ row_loss, T* __restrict__ scale, T* __restrict__ loss,        \
      dlx_index m, long long has_weight) {                                                \
    softmax_ce_reduce_body<T>(row_loss, scale, loss, m, has_weight);                      \
  }                                                                                       \
  extern "C" __global__ void softmax_ce_bwd_##SUFFIX(                                     \
      const T* __restrict__ probs, const long long* __restrict__ t,                       \
      const T* __restrict__ scale, const T* __restrict__ gloss, T* __restrict__ dz,       \
      dlx_index m, dlx_index k, long long ignore_index) {                                 \
    softmax_ce_bwd_body<T>(probs, t, scale, gloss, dz, m, k, ignore_index);               \
  }

DLX_SOFTMAX_CE_ENTRIES(f32, float)
DLX_SOFTMAX_CE_ENTRIES(f64, double)
