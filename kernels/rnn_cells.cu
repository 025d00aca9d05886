// rnn_cells.cu -- fused pointwise work of one recurrent step: every gate non-linearity and
// the state update in one launch (the GEMMs stay in cuBLAS / BLAS).
//
// One thread per (row i, unit j) of the (m, n) state, grid-stride. Pre-activations z are
// row-major (m, G*n) with gate blocks of width n: element (i, k, j) at z[i*G*n + k*n + j].
// Row i is active at step t when t < lengths[i]; an inactive row keeps its state and, in
// backward, gets dz = 0 while the state gradient passes through (da_pass = da, dc_prev = dc).
// Formulas, argument meanings and the NumPy twin: dlx/backends/rnn_cells_numpy.py.
//
// rnn_fwd / rnn_bwd           G=1   a = tanh(z) or relu(z)
// lstm_fwd / lstm_bwd         G=4   [f, u, c~, o]; c = Gf c_prev + Gu c~, a = Go tanh(c)
// gru_reset_fwd               G=3   rc = sigma(z_r) * c_prev        (course GRU, launch 1 of 2)
// gru_state_fwd               G=3   c = Gu tanh(z_c) + (1 - Gu) c_prev  (launch 2 of 2)
// gru_state_bwd, gru_reset_bwd      the same two launches backwards (reset_bwd in place)
// gru_torch_fwd / _bwd        G=3   PyTorch's GRU [z, r, n], reset applied after the product
#include "dlx_common.cuh"

template <typename T> struct rnn_math;
template <> struct rnn_math<float> {
  static __device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }
  static __device__ __forceinline__ float tanh_(float v) { return tanhf(v); }
};
template <> struct rnn_math<double> {
  static __device__ __forceinline__ double sigmoid(double v) { return 1.0 / (1.0 + ::exp(-v)); }
  static __device__ __forceinline__ double tanh_(double v) { return ::tanh(v); }
};

#define RNN_ACTIVE(i) (t < lengths[i])

// -- plain RNN ----------------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ void rnn_fwd_body(const T* __restrict__ z,
                                             const T* __restrict__ a_prev,
                                             const long long* __restrict__ lengths,
                                             T* __restrict__ a, dlx_index m, dlx_index n,
                                             long long t, long long relu) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n;
    if (!RNN_ACTIVE(i)) {
      a[idx] = a_prev[idx];
    } else if (relu) {
      a[idx] = z[idx] > T(0) ? z[idx] : T(0);
    } else {
      a[idx] = rnn_math<T>::tanh_(z[idx]);
    }
  }
}

template <typename T>
__device__ __forceinline__ void rnn_bwd_body(const T* __restrict__ z, const T* __restrict__ da,
                                             const long long* __restrict__ lengths,
                                             T* __restrict__ dz, T* __restrict__ da_pass,
                                             dlx_index m, dlx_index n, long long t,
                                             long long relu) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n;
    if (!RNN_ACTIVE(i)) {
      dz[idx] = T(0);
      da_pass[idx] = da[idx];
      continue;
    }
    if (relu) {
      dz[idx] = z[idx] > T(0) ? da[idx] : T(0);
    } else {
      const T g = rnn_math<T>::tanh_(z[idx]);
      dz[idx] = da[idx] * (T(1) - g * g);
    }
    da_pass[idx] = T(0);
  }
}

// -- LSTM -----------------------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ void lstm_fwd_body(const T* __restrict__ z,
                                              const T* __restrict__ a_prev,
                                              const T* __restrict__ c_prev,
                                              const long long* __restrict__ lengths,
                                              T* __restrict__ a, T* __restrict__ c,
                                              dlx_index m, dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    if (!RNN_ACTIVE(i)) {
      c[idx] = c_prev[idx];
      a[idx] = a_prev[idx];
      continue;
    }
    const T* zr = z + i * 4 * n + j;
    const T gf = rnn_math<T>::sigmoid(zr[0]), gu = rnn_math<T>::sigmoid(zr[n]);
    const T gc = rnn_math<T>::tanh_(zr[2 * n]), go = rnn_math<T>::sigmoid(zr[3 * n]);
    const T cn = gf * c_prev[idx] + gu * gc;
    c[idx] = cn;
    a[idx] = go * rnn_math<T>::tanh_(cn);
  }
}

template <typename T>
__device__ __forceinline__ void lstm_bwd_body(
    const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ c,
    const T* __restrict__ da, const T* __restrict__ dc, const long long* __restrict__ lengths,
    T* __restrict__ dz, T* __restrict__ dc_prev, T* __restrict__ da_pass, dlx_index m,
    dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    const T* zr = z + i * 4 * n + j;
    T* dzr = dz + i * 4 * n + j;
    if (!RNN_ACTIVE(i)) {
      dzr[0] = dzr[n] = dzr[2 * n] = dzr[3 * n] = T(0);
      dc_prev[idx] = dc[idx];
      da_pass[idx] = da[idx];
      continue;
    }
    const T gf = rnn_math<T>::sigmoid(zr[0]), gu = rnn_math<T>::sigmoid(zr[n]);
    const T gc = rnn_math<T>::tanh_(zr[2 * n]), go = rnn_math<T>::sigmoid(zr[3 * n]);
    const T tc = rnn_math<T>::tanh_(c[idx]);
    const T g = da[idx];
    const T dct = dc[idx] + g * go * (T(1) - tc * tc);
    dzr[3 * n] = (g * tc) * (go * (T(1) - go));
    dzr[0] = (dct * c_prev[idx]) * (gf * (T(1) - gf));
    dzr[n] = (dct * gc) * (gu * (T(1) - gu));
    dzr[2 * n] = (dct * gu) * (T(1) - gc * gc);
    dc_prev[idx] = dct * gf;
    da_pass[idx] = T(0);
  }
}

// -- the course's GRU -----------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ void gru_reset_fwd_body(const T* __restrict__ z,
                                                   const T* __restrict__ c_prev,
                                                   T* __restrict__ rc, dlx_index m,
                                                   dlx_index n) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    rc[idx] = rnn_math<T>::sigmoid(z[i * 3 * n + n + j]) * c_prev[idx];
  }
}

template <typename T>
__device__ __forceinline__ void gru_state_fwd_body(const T* __restrict__ z,
                                                   const T* __restrict__ c_prev,
                                                   const long long* __restrict__ lengths,
                                                   T* __restrict__ c, dlx_index m,
                                                   dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    if (!RNN_ACTIVE(i)) {
      c[idx] = c_prev[idx];
      continue;
    }
    const T* zr = z + i * 3 * n + j;
    const T gu = rnn_math<T>::sigmoid(zr[0]);
    c[idx] = gu * rnn_math<T>::tanh_(zr[2 * n]) + (T(1) - gu) * c_prev[idx];
  }
}

template <typename T>
__device__ __forceinline__ void gru_state_bwd_body(
    const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ dc,
    const long long* __restrict__ lengths, T* __restrict__ dz, T* __restrict__ dc_prev,
    dlx_index m, dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    const T* zr = z + i * 3 * n + j;
    T* dzr = dz + i * 3 * n + j;
    dzr[n] = T(0);  // the reset block is filled by gru_reset_bwd
    if (!RNN_ACTIVE(i)) {
      dzr[0] = dzr[2 * n] = T(0);
      dc_prev[idx] = dc[idx];
      continue;
    }
    const T gu = rnn_math<T>::sigmoid(zr[0]), gc = rnn_math<T>::tanh_(zr[2 * n]);
    const T g = dc[idx];
    dzr[0] = (g * (gc - c_prev[idx])) * (gu * (T(1) - gu));
    dzr[2 * n] = (g * gu) * (T(1) - gc * gc);
    dc_prev[idx] = g * (T(1) - gu);
  }
}

template <typename T>
__device__ __forceinline__ void gru_reset_bwd_body(const T* __restrict__ z,
                                                   const T* __restrict__ c_prev,
                                                   const T* __restrict__ drc,
                                                   T* __restrict__ dz, T* __restrict__ dc_prev,
                                                   dlx_index m, dlx_index n) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    const T gr = rnn_math<T>::sigmoid(z[i * 3 * n + n + j]);
    dz[i * 3 * n + n + j] = (drc[idx] * c_prev[idx]) * (gr * (T(1) - gr));
    dc_prev[idx] += drc[idx] * gr;
  }
}

// -- PyTorch's GRU --------------------------------------------------------------------------
template <typename T>
__device__ __forceinline__ void gru_torch_fwd_body(
    const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ b_hn,
    const T* __restrict__ h_prev, const long long* __restrict__ lengths, T* __restrict__ h,
    dlx_index m, dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    if (!RNN_ACTIVE(i)) {
      h[idx] = h_prev[idx];
      continue;
    }
    const T* xr = zx + i * 3 * n + j;
    const T* hr = zh + i * 3 * n + j;
    const T gz = rnn_math<T>::sigmoid(xr[0] + hr[0]);
    const T gr = rnn_math<T>::sigmoid(xr[n] + hr[n]);
    const T g = rnn_math<T>::tanh_(xr[2 * n] + gr * (hr[2 * n] + b_hn[j]));
    h[idx] = (T(1) - gz) * g + gz * h_prev[idx];
  }
}

template <typename T>
__device__ __forceinline__ void gru_torch_bwd_body(
    const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ b_hn,
    const T* __restrict__ h_prev, const T* __restrict__ dh,
    const long long* __restrict__ lengths, T* __restrict__ dzx, T* __restrict__ dzh,
    T* __restrict__ dh_prev, dlx_index m, dlx_index n, long long t) {
  DLX_GRID_STRIDE_LOOP(idx, m * n) {
    const dlx_index i = idx / n, j = idx % n;
    const dlx_index row = i * 3 * n + j;
    if (!RNN_ACTIVE(i)) {
      for (int k = 0; k < 3; ++k) dzx[row + k * n] = dzh[row + k * n] = T(0);
      dh_prev[idx] = dh[idx];
      continue;
    }
    const T gz = rnn_math<T>::sigmoid(zx[row] + zh[row]);
    const T gr = rnn_math<T>::sigmoid(zx[row + n] + zh[row + n]);
    const T hn = zh[row + 2 * n] + b_hn[j];
    const T g = rnn_math<T>::tanh_(zx[row + 2 * n] + gr * hn);
    const T d = dh[idx];
    const T dn = d * (T(1) - gz) * (T(1) - g * g);
    const T dzz = (d * (h_prev[idx] - g)) * (gz * (T(1) - gz));
    const T dzr = (dn * hn) * (gr * (T(1) - gr));
    dzx[row] = dzh[row] = dzz;
    dzx[row + n] = dzh[row + n] = dzr;
    dzx[row + 2 * n] = dn;
    dzh[row + 2 * n] = dn * gr;
    dh_prev[idx] = d * gz;
  }
}

#define DLX_RNN_CELL_ENTRIES(SUFFIX, T)                                                       \
  extern "C" __global__ void rnn_fwd_##SUFFIX(const T* __restrict__ z,                        \
                                              const T* __restrict__ a_prev,                   \
                                              const long long* __restrict__ lengths,          \
                                              T* __restrict__ a, dlx_index m, dlx_index n,    \
                                              long long t, long long relu) {                  \
    rnn_fwd_body<T>(z, a_prev, lengths, a, m, n, t, relu);                                    \
  }                                                                                           \
  extern "C" __global__ void rnn_bwd_##SUFFIX(                                                \
      const T* __restrict__ z, const T* __restrict__ da, const long long* __restrict__ lengths, \
      T* __restrict__ dz, T* __restrict__ da_pass, dlx_index m, dlx_index n, long long t,     \
      long long relu) {                                                                       \
    rnn_bwd_body<T>(z, da, lengths, dz, da_pass, m, n, t, relu);                              \
  }                                                                                           \
  extern "C" __global__ void lstm_fwd_##SUFFIX(                                               \
      const T* __restrict__ z, const T* __restrict__ a_prev, const T* __restrict__ c_prev,    \
      const long long* __restrict__ lengths, T* __restrict__ a, T* __restrict__ c,            \
      dlx_index m, dlx_index n, long long t) {                                                \
    lstm_fwd_body<T>(z, a_prev, c_prev, lengths, a, c, m, n, t);                              \
  }                                                                                           \
  extern "C" __global__ void lstm_bwd_##SUFFIX(                                               \
      const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ c,         \
      const T* __restrict__ da, const T* __restrict__ dc,                                     \
      const long long* __restrict__ lengths, T* __restrict__ dz, T* __restrict__ dc_prev,     \
      T* __restrict__ da_pass, dlx_index m, dlx_index n, long long t) {                       \
    lstm_bwd_body<T>(z, c_prev, c, da, dc, lengths, dz, dc_prev, da_pass, m, n, t);           \
  }                                                                                           \
  extern "C" __global__ void gru_reset_fwd_##SUFFIX(const T* __restrict__ z,                  \
                                                    const T* __restrict__ c_prev,             \
                                                    T* __restrict__ rc, dlx_index m,          \
                                                    dlx_index n) {                            \
    gru_reset_fwd_body<T>(z, c_prev, rc, m, n);                                               \
  }                                                                                           \
  extern "C" __global__ void gru_state_fwd_##SUFFIX(                                          \
      const T* __restrict__ z, const T* __restrict__ c_prev,                                  \
      const long long* __restrict__ lengths, T* __restrict__ c, dlx_index m, dlx_index n,     \
      long long t) {                                                                          \
    gru_state_fwd_body<T>(z, c_prev, lengths, c, m, n, t);                                    \
  }                                                                                           \
  extern "C" __global__ void gru_state_bwd_##SUFFIX(                                          \
      const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ dc,        \
      const long long* __restrict__ lengths, T* __restrict__ dz, T* __restrict__ dc_prev,     \
      dlx_index m, dlx_index n, long long t) {                                                \
    gru_state_bwd_body<T>(z, c_prev, dc, lengths, dz, dc_prev, m, n, t);                      \
  }                                                                                           \
  extern "C" __global__ void gru_reset_bwd_##SUFFIX(                                          \
      const T* __restrict__ z, const T* __restrict__ c_prev, const T* __restrict__ drc,       \
      T* __restrict__ dz, T* __restrict__ dc_prev, dlx_index m, dlx_index n) {                \
    gru_reset_bwd_body<T>(z, c_prev, drc, dz, dc_prev, m, n);                                 \
  }                                                                                           \
  extern "C" __global__ void gru_torch_fwd_##SUFFIX(                                          \
      const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ b_hn,         \
      const T* __restrict__ h_prev, const long long* __restrict__ lengths, T* __restrict__ h, \
      dlx_index m, dlx_index n, long long t) {                                                \
    gru_torch_fwd_body<T>(zx, zh, b_hn, h_prev, lengths, h, m, n, t);                         \
  }                                                                                           \
  extern "C" __global__ void gru_torch_bwd_##SUFFIX(                                          \
      const T* __restrict__ zx, const T* __restrict__ zh, const T* __restrict__ b_hn,         \
      const T* __restrict__ h_prev, const T* __restrict__ dh,                                 \
      const long long* __restrict__ lengths, T* __restrict__ dzx, T* __restrict__ dzh,        \
      T* __restrict__ dh_prev, dlx_index m, dlx_index n, long long t) {                       \
    gru_torch_bwd_body<T>(zx, zh, b_hn, h_prev, dh, lengths, dzx, dzh, dh_prev, m, n, t);     \
  }

DLX_RNN_CELL_ENTRIES(f32, float)
DLX_RNN_CELL_ENTRIES(f64, double)
