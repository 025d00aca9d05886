// softmax_ce.cu -- fused, numerically stable softmax cross-entropy over logits z (m, k).
//
// A *team* of threads owns one row at a time (grid-stride over rows): for k up to ~1024 a
// segment of `width` lanes of a warp (softmax_ce_rows_warp, softmax_ce_bwd_warp; width is
// the power of 2 >= k, at most 32, so a warp packs 32 / width rows when k is small), beyond
// that a whole block (..._block). Its lanes stride the classes (c = lane, lane + team size,
// ...), so a warp's loads are consecutive addresses (coalesced), and the row is read once:
//
// softmax_ce_rows_*  online max-and-sum: each lane keeps (mx, s) with s = sum exp(z - mx) over
//                    its classes, rescaled when mx grows (Milakov & Gimelshein 2018, "Online
//                    normalizer calculation for softmax"); lanes merge by a __shfl_xor_sync
//                    butterfly, warps of a block through shared memory. Then
//                    lse[r] = mx + log(s),  row_loss[r] = lse[r] - z[r, t[r]] (0 if ignored,
//                    NaN if t[r] is out of range -- never an out-of-bounds read),
//                    scale[r] = 0 if ignored else (weight[r] if has_weight else 1),
//                    and block b adds its rows' count of valid labels and sum of
//                    scale * row_loss into part_count[b], part_sum[b] (stage 1 of the mean).
// softmax_ce_finish  one block (stage 2): n_valid = sum part_count, total = sum part_sum in a
//                    fixed-shape tree; without weights scale[r] /= max(n_valid, 1) and
//                    loss[0] = total / max(n_valid, 1), with weights loss[0] = total. The mean
//                    never leaves the device.
// softmax_ce_bwd_*   dz[r,c] = (exp(z[r,c] - lse[r]) - [c == t[r]]) * (scale[r] * gloss[0]):
//                    softmax recomputed from the saved log-sum-exp, so the forward writes m
//                    values instead of an (m, k) probability array; 0 for ignored rows, NaN
//                    for out-of-range labels. gloss is read on the device.
//
// Accuracy: exp(a - b) is evaluated as exp(d) * (1 + r), where d + r = a - b exactly (Knuth's
// TwoSum), so the rounding of the difference does not reach the probabilities; what remains
// is exp's own error, the tree sum's and the rounding of the stored lse (half an ulp of
// |lse|: < 4.8e-7 relative for float32 when |lse| < 16).
#include "dlx_common.cuh"

#define DLX_FULL_MASK 0xffffffffu
#define DLX_MAX_BLOCK 1024
#define DLX_MAX_WARPS (DLX_MAX_BLOCK / 32)

// exp(a - b) with the subtraction's rounding error compensated (see the file comment).
template <typename T>
__device__ __forceinline__ T dlx_exp_diff(T a, T b) {
  const T d = a - b;
  const T bb = d - a;
  const T r = (a - (d - bb)) + (-b - bb);  // TwoSum: d + r == a - b exactly
  const T e = dlx_math<T>::exp(d);
  return r == r ? e + e * r : e;  // r is NaN only when d is infinite or NaN
}

// The running pair of the online softmax: sum = sum of exp(v - max) over the values seen.
template <typename T>
struct dlx_lse_acc {
  T max, sum;
};

// Merges (m2, s2) into a; symmetric in its two operands bit for bit, so every lane of a
// butterfly ends with the same pair.
template <typename T>
__device__ __forceinline__ dlx_lse_acc<T> dlx_lse_merge(dlx_lse_acc<T> a, T m2, T s2) {
  const T m = m2 > a.max ? m2 : a.max;
  const T s1 = a.max == m ? a.sum : a.sum * dlx_exp_diff(a.max, m);
  return {m, s1 + (m2 == m ? s2 : s2 * dlx_exp_diff(m2, m))};
}

// Every lane of a segment of `width` lanes gets the merge of the segment's pairs.
template <typename T>
__device__ __forceinline__ dlx_lse_acc<T> dlx_warp_merge(dlx_lse_acc<T> a, int width) {
  for (int offset = width / 2; offset > 0; offset /= 2) {
    const T m2 = __shfl_xor_sync(DLX_FULL_MASK, a.max, offset, width);
    const T s2 = __shfl_xor_sync(DLX_FULL_MASK, a.sum, offset, width);
    a = dlx_lse_merge(a, m2, s2);
  }
  return a;
}

// Sum of v over the 32 lanes of the warp (every lane gets it).
template <typename A>
__device__ __forceinline__ A dlx_warp_sum(A v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(DLX_FULL_MASK, v, offset);
  return v;
}

// A team owns one row at a time. Rows are visited in rounds that are the same for every lane
// of a warp (the shuffles need all 32): round base b, this lane's row b + offset().
// Warp team: a segment of `width` lanes (a power of 2 <= 32); 32 / width rows per warp.
struct dlx_warp_team {
  int width;
  __device__ __forceinline__ dlx_index lane() const { return threadIdx.x % width; }
  __device__ __forceinline__ dlx_index size() const { return width; }
  __device__ __forceinline__ dlx_index offset() const { return threadIdx.x % 32 / width; }
  __device__ __forceinline__ dlx_index first() const {
    return ((dlx_index)blockIdx.x * blockDim.x + threadIdx.x) / 32 * (32 / width);
  }
  __device__ __forceinline__ dlx_index stride() const {
    return (dlx_index)gridDim.x * blockDim.x / 32 * (32 / width);
  }
  template <typename T>
  __device__ __forceinline__ dlx_lse_acc<T> merge(dlx_lse_acc<T> a, T*, T*) const {
    return dlx_warp_merge(a, width);
  }
};

// Block team: all threads of the block own one row.
struct dlx_block_team {
  __device__ __forceinline__ dlx_index lane() const { return threadIdx.x; }
  __device__ __forceinline__ dlx_index size() const { return blockDim.x; }
  __device__ __forceinline__ dlx_index offset() const { return 0; }
  __device__ __forceinline__ dlx_index first() const { return blockIdx.x; }
  __device__ __forceinline__ dlx_index stride() const { return gridDim.x; }
  // warps merge by shuffles, then every thread merges the warps' pairs in warp order
  template <typename T>
  __device__ __forceinline__ dlx_lse_acc<T> merge(dlx_lse_acc<T> a, T* max_buf,
                                                  T* sum_buf) const {
    a = dlx_warp_merge(a, 32);
    const unsigned warp = threadIdx.x / 32, n_warps = (blockDim.x + 31) / 32;
    if (threadIdx.x % 32 == 0) {
      max_buf[warp] = a.max;
      sum_buf[warp] = a.sum;
    }
    __syncthreads();
    dlx_lse_acc<T> total = {max_buf[0], sum_buf[0]};
    for (unsigned w = 1; w < n_warps; ++w) total = dlx_lse_merge(total, max_buf[w], sum_buf[w]);
    __syncthreads();  // the buffers are reused by the next row
    return total;
  }
};

template <typename Team, typename T>
__device__ __forceinline__ void softmax_ce_rows_body(
    const Team team, const T* __restrict__ z, const long long* __restrict__ t, const T* __restrict__ weight,
    T* __restrict__ lse, T* __restrict__ scale, long long* __restrict__ part_count,
    T* __restrict__ part_sum, dlx_index m, dlx_index k, long long ignore_index,
    long long has_weight) {
  __shared__ T max_buf[DLX_MAX_WARPS], sum_buf[DLX_MAX_WARPS];
  __shared__ long long warp_count[DLX_MAX_WARPS];
  __shared__ T warp_sum[DLX_MAX_WARPS];
  long long count = 0;  // this team's valid rows (kept by its lane 0)
  T loss_sum = T(0);    // and their sum of scale * row_loss
  for (dlx_index base = team.first(); base < m; base += team.stride()) {
    const dlx_index r = base + team.offset();
    const bool active = r < m;  // a round's last rows may be past the end
    const T* __restrict__ zr = z + (active ? r : 0) * k;
    dlx_lse_acc<T> acc = {dlx_math<T>::neg_inf(), T(0)};
    if (active)
      for (dlx_index c = team.lane(); c < k; c += team.size()) acc = dlx_lse_merge(acc, zr[c], T(1));
    acc = team.merge(acc, max_buf, sum_buf);
    if (active && team.lane() == 0) {
      const T row_lse = acc.max + dlx_math<T>::log(acc.sum);
      const long long label = t[r];
      const bool ignored = label == ignore_index;
      const T w = ignored ? T(0) : (has_weight ? weight[r] : T(1));
      T row_loss = T(0);
      if (!ignored) row_loss = label >= 0 && label < k ? row_lse - zr[label] : dlx_math<T>::quiet_nan();
      lse[r] = row_lse;
      scale[r] = w;
      count += ignored ? 0 : 1;
      loss_sum += w * row_loss;
    }
  }
  // stage 1 of the mean: the block's teams, in team order, into part_*[blockIdx.x]
  count = dlx_warp_sum(count);
  loss_sum = dlx_warp_sum(loss_sum);
  const unsigned warp = threadIdx.x / 32, n_warps = (blockDim.x + 31) / 32;
  if (threadIdx.x % 32 == 0) {
    warp_count[warp] = count;
    warp_sum[warp] = loss_sum;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (unsigned w = 1; w < n_warps; ++w) {
      count += warp_count[w];
      loss_sum += warp_sum[w];
    }
    part_count[blockIdx.x] = count;
    part_sum[blockIdx.x] = loss_sum;
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
__device__ __forceinline__ void softmax_ce_finish_body(const long long* __restrict__ part_count,
                                                       const T* __restrict__ part_sum,
                                                       T* __restrict__ scale,
                                                       T* __restrict__ loss, dlx_index m,
                                                       dlx_index n_parts, long long has_weight) {
  __shared__ long long count_buf[DLX_MAX_BLOCK];
  __shared__ T sum_buf[DLX_MAX_BLOCK];
  if (blockIdx.x != 0) return;  // stage 2 is one block's job
  long long valid = 0;
  T acc = T(0);
  for (dlx_index b = threadIdx.x; b < n_parts; b += blockDim.x) {
    valid += part_count[b];
    acc += part_sum[b];
  }
  const long long n_valid = dlx_block_sum(valid, count_buf);
  const T total = dlx_block_sum(acc, sum_buf);
  const T denom = has_weight ? T(1) : T(n_valid > 0 ? n_valid : 1);
  if (!has_weight)
    for (dlx_index r = threadIdx.x; r < m; r += blockDim.x) scale[r] = scale[r] / denom;
  if (threadIdx.x == 0) loss[0] = total / denom;
}

template <typename Team, typename T>
__device__ __forceinline__ void softmax_ce_bwd_body(
    const Team team, const T* __restrict__ z, const T* __restrict__ lse, const long long* __restrict__ t,
    const T* __restrict__ scale, const T* __restrict__ gloss, T* __restrict__ dz, dlx_index m,
    dlx_index k, long long ignore_index) {
  const T g = gloss[0];
  for (dlx_index base = team.first(); base < m; base += team.stride()) {
    const dlx_index r = base + team.offset();
    if (r >= m) continue;
    const T* __restrict__ zr = z + r * k;
    T* __restrict__ dr = dz + r * k;
    const long long label = t[r];
    const T row_lse = lse[r], f = scale[r] * g;
    const bool ignored = label == ignore_index, in_range = label >= 0 && label < k;
    for (dlx_index c = team.lane(); c < k; c += team.size()) {
      if (ignored) {
        dr[c] = T(0);
      } else if (in_range) {
        dr[c] = (dlx_exp_diff(zr[c], row_lse) - (c == label ? T(1) : T(0))) * f;
      } else {
        dr[c] = dlx_math<T>::quiet_nan();
      }
    }
  }
}

// The warp kernels take the segment width (a power of 2 <= 32) as their last parameter.
#define DLX_ROWS_PARAMS(T)                                                                  \
  const T* __restrict__ z, const long long* __restrict__ t, const T* __restrict__ weight,   \
      T* __restrict__ lse, T* __restrict__ scale, long long* __restrict__ part_count,       \
      T* __restrict__ part_sum, dlx_index m, dlx_index k, long long ignore_index,           \
      long long has_weight
#define DLX_ROWS_ARGS z, t, weight, lse, scale, part_count, part_sum, m, k, ignore_index, has_weight
#define DLX_BWD_PARAMS(T)                                                                   \
  const T* __restrict__ z, const T* __restrict__ lse, const long long* __restrict__ t,      \
      const T* __restrict__ scale, const T* __restrict__ gloss, T* __restrict__ dz,         \
      dlx_index m, dlx_index k, long long ignore_index
#define DLX_BWD_ARGS z, lse, t, scale, gloss, dz, m, k, ignore_index

#define DLX_SOFTMAX_CE_ENTRIES(SUFFIX, T)                                                   \
  extern "C" __global__ void softmax_ce_rows_warp_##SUFFIX(DLX_ROWS_PARAMS(T), long long width) { \
    softmax_ce_rows_body<dlx_warp_team, T>(dlx_warp_team{(int)width}, DLX_ROWS_ARGS);       \
  }                                                                                         \
  extern "C" __global__ void softmax_ce_rows_block_##SUFFIX(DLX_ROWS_PARAMS(T)) {           \
    softmax_ce_rows_body<dlx_block_team, T>(dlx_block_team{}, DLX_ROWS_ARGS);               \
  }                                                                                         \
  extern "C" __global__ void softmax_ce_bwd_warp_##SUFFIX(DLX_BWD_PARAMS(T), long long width) { \
    softmax_ce_bwd_body<dlx_warp_team, T>(dlx_warp_team{(int)width}, DLX_BWD_ARGS);         \
  }                                                                                         \
  extern "C" __global__ void softmax_ce_bwd_block_##SUFFIX(DLX_BWD_PARAMS(T)) {             \
    softmax_ce_bwd_body<dlx_block_team, T>(dlx_block_team{}, DLX_BWD_ARGS);                 \
  }                                                                                         \
  extern "C" __global__ void softmax_ce_finish_##SUFFIX(                                    \
      const long long* __restrict__ part_count, const T* __restrict__ part_sum,             \
      T* __restrict__ scale, T* __restrict__ loss, dlx_index m, dlx_index n_parts,          \
      long long has_weight) {                                                               \
    softmax_ce_finish_body<T>(part_count, part_sum, scale, loss, m, n_parts, has_weight);   \
  }

DLX_SOFTMAX_CE_ENTRIES(f32, float)
DLX_SOFTMAX_CE_ENTRIES(f64, double)
