// Direct 2-D convolution on the CPU: the NumPy backend's compiled path (float32, NCHW).
//
// Built at run time by dlx.backends.cpu_kernels (host C++ compiler, -O3 -march=native
// -fopenmp) and called through ctypes, which releases the GIL; each call splits its samples
// over `threads` OpenMP threads. Shapes follow dlx.functional.conv:
//     x (N, C, H, W), w (K, C, fh, fw), b (K,), z (N, K, OH, OW),
//     z[n,k,oh,ow] = b[k] + sum_{c,i,j} w[k,c,i,j] * xpad[n, c, oh*sh + i, ow*sw + j].
//
// Layout (the NumPy backend's phase rows, dlx/backends/conv_columns.py, without the
// columns): each sample's zero-padded input is split into its sh*sw stride phases
// xq[a,b][h',w'] = xpad[sh*h' + a, sw*w' + b] (Hq x Wq each). Output position
// q = oh*Wq + ow then reads tap (i, j) at the flat offset
//     toff(i, j) = phase(i % sh, j % sw) * Lq + (i / sh) * Wq + j / sw
// of the channel's phases, so every tap of a run of consecutive positions is one
// contiguous vector load; the Wq - OW positions at the end of each output row wrap into
// the next input row and are computed but never stored.
//
// Kernels (register-blocked, one vector = VL positions, VL = 16 with AVX-512, 8 with AVX):
// * taps_block: out[k][q] = sum_{c,t} w[c][t][k] * in[c][q + toff[t]] for FWD_KR output
//   channels by FWD_PV vectors of positions: the forward, and dx as the same sum over dZ
//   with the taps of one stride phase of dx (dx's phase (a, b) rows h = sh*h' + a receive
//   tap i from dZ row h' + (a + ph - i) / sh when that division is exact);
// * weight_block: dw[k][c][t] += sum_q g[k][q] * in[c][q + toff[t]] for WGT_KR output
//   channels by WGT_CR (channel, tap) operand rows taken in channel-major order (a channel's
//   taps are shifted reads of the same rows), with g = dZ in the forward's position order
//   and zero at the wrapped positions; sums stay in vector lanes until the end.
// Summation order is fixed by the geometry, the vector width and the thread count, so a
// call gives the same bits every time on a given machine; z and dx do not depend on the
// thread count (each sample is one thread's), dw does (per-thread partial sums).

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "cpu_common.hpp"

namespace {

using namespace dlx_cpu;

// Register blocks (benchmarks/cpu_kernels_isa.py and docs/benchmarks.md, sixth pass):
// forward/dx KR output channels x PV position vectors, dW KR output channels x CR operand rows
#if defined(__AVX512F__)
constexpr int FWD_KR = 8, FWD_PV = 3;  // 24 accumulators + 3 inputs + 1 broadcast of 32 registers
constexpr int WGT_KR = 4, WGT_CR = 5;  // 20 accumulators + 4 gradients + 1 input
#else
constexpr int FWD_KR = 6, FWD_PV = 2;  // 12 + 2 + 1 of 16 registers
constexpr int WGT_KR = 3, WGT_CR = 4;  // 12 + 3 + 1 (2 x 5 took 40% longer)
#endif

// A zero-filled, 64-byte aligned float buffer.
struct Buffer {
    float* data = nullptr;
    explicit Buffer(i64 count) {
        std::size_t bytes = (static_cast<std::size_t>(count) * sizeof(float) + 63) / 64 * 64;
        data = static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64));
        if (!data) throw std::bad_alloc();
        std::memset(data, 0, bytes);
    }
    ~Buffer() { std::free(data); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
};

i64 round_up(i64 a, i64 b) { return (a + b - 1) / b * b; }

// dst[k] = src[k * step] and dst[k * step] = src[k] for k < n: short rows, so inline loops
// (a library call per row cost 13% of a forward), the common steps 1 and 2 vectorised
template <int STEP>
void gather_fixed(float* dst, const float* src, i64 n) {
    for (i64 k = 0; k < n; ++k) dst[k] = src[k * STEP];
}
void gather(float* dst, const float* src, i64 n, i64 step) {
    if (step == 1) return gather_fixed<1>(dst, src, n);
    if (step == 2) return gather_fixed<2>(dst, src, n);
    for (i64 k = 0; k < n; ++k) dst[k] = src[k * step];
}
template <int STEP>
void scatter_fixed(float* dst, const float* src, i64 n) {
    for (i64 k = 0; k < n; ++k) dst[k * STEP] = src[k];
}
void scatter(float* dst, const float* src, i64 n, i64 step) {
    if (step == 1) return scatter_fixed<1>(dst, src, n);
    if (step == 2) return scatter_fixed<2>(dst, src, n);
    for (i64 k = 0; k < n; ++k) dst[k * step] = src[k];
}

// out[r][q0 + v*VL ...] = sum_{c<C, t<T} w[c*wc + t*K + r] * in[c*cs + toff[t] + q0 + v*VL ...]
template <int KR, int PV>
void taps_block(const float* in, i64 cs, int C, const i64* toff, int T, const float* w, i64 wc,
                i64 K, float* out, i64 os) {
    vf acc[KR][PV];
    for (int r = 0; r < KR; ++r)
        for (int v = 0; v < PV; ++v) acc[r][v] = vf{};
    for (int c = 0; c < C; ++c) {
        const float* ic = in + c * cs;
        const float* wt = w + c * wc;
        for (int t = 0; t < T; ++t, wt += K) {
            const float* src = ic + toff[t];
            vf xv[PV];
            for (int v = 0; v < PV; ++v) xv[v] = load(src + v * VL);
            for (int r = 0; r < KR; ++r) {
                vf wb = broadcast(wt[r]);
                for (int v = 0; v < PV; ++v) acc[r][v] += wb * xv[v];
            }
        }
    }
    for (int r = 0; r < KR; ++r)
        for (int v = 0; v < PV; ++v) store(out + r * os + v * VL, acc[r][v]);
}

// acc[r*ar + s] += g[r*gs + q] * in[off[s] + q] over nv vectors of each of ns samples, one
// operand row per (channel, tap) pair s; the VL lanes of acc are summed by the caller, once
template <int KR, int CR>
void weight_block(const float* g, i64 gs, const float* in, const i64* off, int ns, i64 g_sample,
                  i64 in_sample, i64 nv, vf* acc_out, i64 ar) {
    vf acc[KR][CR];
    for (int r = 0; r < KR; ++r)
        for (int s = 0; s < CR; ++s) acc[r][s] = acc_out[r * ar + s];
    i64 o[CR];
    for (int s = 0; s < CR; ++s) o[s] = off[s];
    for (int n = 0; n < ns; ++n) {
        const float* gn = g + n * g_sample;
        const float* xn = in + n * in_sample;
        for (i64 q = 0; q < nv * VL; q += VL) {
            vf gv[KR];
            for (int r = 0; r < KR; ++r) gv[r] = load(gn + r * gs + q);
            for (int s = 0; s < CR; ++s) {
                vf xv = load(xn + o[s] + q);
                for (int r = 0; r < KR; ++r) acc[r][s] += gv[r] * xv;
            }
        }
    }
    for (int r = 0; r < KR; ++r)
        for (int s = 0; s < CR; ++s) acc_out[r * ar + s] = acc[r][s];
}

// Dispatch tables: entry [r - 1][c - 1] is the kernel for an r x c block (the blocking's tails)
template <int KR, int PV>
struct Taps {
    static constexpr auto fn = &taps_block<KR, PV>;
};
template <int KR, int CR>
struct Weights {
    static constexpr auto fn = &weight_block<KR, CR>;
};
template <template <int, int> class Kernel, int R, int... C>
constexpr auto table_row(std::integer_sequence<int, C...>) {
    return std::array{Kernel<R, C + 1>::fn...};
}
template <template <int, int> class Kernel, int COLS, int... R>
constexpr auto table(std::integer_sequence<int, R...>) {
    return std::array{table_row<Kernel, R + 1>(std::make_integer_sequence<int, COLS>{})...};
}
const auto TAPS = table<Taps, FWD_PV>(std::make_integer_sequence<int, FWD_KR>{});
const auto WEIGHTS = table<Weights, WGT_CR>(std::make_integer_sequence<int, WGT_KR>{});

// n split into blocks of at most `most`, as equal as possible: the start of block b
i64 block_start(i64 n, i64 blocks, i64 b) { return n * b / blocks; }
i64 block_count(i64 n, i64 most) { return (n + most - 1) / most; }

struct Geometry {
    i64 N, C, H, W, K, fh, fw, sh, sw, ph, pw;
    i64 OH, OW, Hq, Wq, Lq, phases, Lc, P, Pr;
    std::vector<i64> toff;     // per tap t = i*fw + j
    std::vector<bool> read;   // per stride phase: whether any tap reads it

    explicit Geometry(const i64* g)
        : N(g[0]), C(g[1]), H(g[2]), W(g[3]), K(g[4]), fh(g[5]), fw(g[6]), sh(g[7]), sw(g[8]),
          ph(g[9]), pw(g[10]) {
        OH = (H + 2 * ph - fh) / sh + 1;
        OW = (W + 2 * pw - fw) / sw + 1;
        Hq = (H + 2 * ph + sh - 1) / sh;
        Wq = (W + 2 * pw + sw - 1) / sw;
        Lq = Hq * Wq;
        phases = sh * sw;
        P = OH * Wq;
        Pr = round_up(P, VL);
        Lc = phases * Lq;
        read.assign(phases, false);
        for (i64 i = 0; i < fh; ++i)
            for (i64 j = 0; j < fw; ++j) {
                toff.push_back(((i % sh) * sw + j % sw) * Lq + (i / sh) * Wq + j / sw);
                read[(i % sh) * sw + j % sw] = true;
            }
    }
    bool valid() const {
        return N > 0 && C > 0 && H > 0 && W > 0 && K > 0 && fh > 0 && fw > 0 && sh > 0 &&
               sw > 0 && ph >= 0 && pw >= 0 && OH > 0 && OW > 0;
    }
    // one sample's phases: C channels of Lc floats, plus the overrun of the last position
    // vector and the furthest tap
    i64 sample_floats() const { return C * Lc; }
    i64 slack() const { return Pr + Lc; }
};

// One axis of one stride phase: phase indices [q0, q1) that hold input pixels
// (stride*q + phase - pad in [0, n)) and the first such pixel.
struct Span {
    i64 q0, q1, first;
};
i64 floor_div(i64 a, i64 b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
Span phase_span(i64 phase, i64 pad, i64 stride, i64 n_phase, i64 n) {
    i64 q0 = std::max<i64>(0, -floor_div(phase - pad, stride));
    i64 q1 = std::min<i64>(n_phase, floor_div(n - 1 + pad - phase, stride) + 1);
    return {q0, std::max(q0, q1), q0 * stride + phase - pad};
}

// The sample's phases that some tap reads, from x (C, H, W). Only pixels are written: the
// padding (and the unread phases) keep the zeros `out` was allocated with.
void pack_phases(const Geometry& g, const float* x, float* out) {
    for (i64 a = 0; a < g.sh; ++a) {
        Span rows = phase_span(a, g.ph, g.sh, g.Hq, g.H);
        for (i64 b = 0; b < g.sw; ++b) {
            Span cols = phase_span(b, g.pw, g.sw, g.Wq, g.W);
            i64 width = cols.q1 - cols.q0;
            if (rows.q1 <= rows.q0 || width <= 0 || !g.read[a * g.sw + b]) continue;
            for (i64 c = 0; c < g.C; ++c) {
                float* plane = out + c * g.Lc + (a * g.sw + b) * g.Lq;
                const float* xc = x + c * g.H * g.W;
                for (i64 r = rows.q0; r < rows.q1; ++r) {
                    const float* src = xc + (rows.first + (r - rows.q0) * g.sh) * g.W + cols.first;
                    float* dst = plane + r * g.Wq + cols.q0;
                    gather(dst, src, width, g.sw);
                }
            }
        }
    }
}

// out[k][q0..q1) over positions blocked by FWD_PV vectors and channels blocked by FWD_KR
void taps_product(const float* in, i64 cs, int C, const i64* toff, int T, const float* w,
                  i64 K, float* out, i64 os, i64 positions) {
    i64 kblocks = block_count(K, FWD_KR);
    i64 nvec = positions / VL, vblocks = block_count(nvec, FWD_PV);
    for (i64 vb = 0; vb < vblocks; ++vb) {
        i64 v0 = block_start(nvec, vblocks, vb);
        int pv = static_cast<int>(block_start(nvec, vblocks, vb + 1) - v0);
        for (i64 kb = 0; kb < kblocks; ++kb) {
            i64 k0 = block_start(K, kblocks, kb), k1 = block_start(K, kblocks, kb + 1);
            TAPS[k1 - k0 - 1][pv - 1](in + v0 * VL, cs, C, toff, T, w + k0, T * K, K,
                                      out + k0 * os + v0 * VL, os);
        }
    }
}

// z (N, K, OH, OW), the samples split over `threads` threads
int forward(const Geometry& g, const float* x, const float* w, const float* b, float* z,
            int threads) {
    const int T = static_cast<int>(g.fh * g.fw);
    Buffer wp(g.C * T * g.K);  // wp[c][t][k] = w[k][c][t]
    for (i64 k = 0; k < g.K; ++k)
        for (i64 c = 0; c < g.C; ++c)
            for (i64 t = 0; t < T; ++t) wp.data[(c * T + t) * g.K + k] = w[(k * g.C + c) * T + t];
    return parallel_parts(g.N, threads, [&](i64 n0, i64 n1, int) {
        Buffer phases(g.sample_floats() + g.slack());
        Buffer wide(g.K * g.Pr);
        for (i64 n = n0; n < n1; ++n) {
            pack_phases(g, x + n * g.C * g.H * g.W, phases.data);
            taps_product(phases.data, g.Lc, static_cast<int>(g.C), g.toff.data(), T, wp.data, g.K,
                         wide.data, g.Pr, g.Pr);
            float* zn = z + n * g.K * g.OH * g.OW;
            for (i64 k = 0; k < g.K; ++k) {
                float bias = b ? b[k] : 0.0f;
                for (i64 oh = 0; oh < g.OH; ++oh) {
                    const float* src = wide.data + k * g.Pr + oh * g.Wq;
                    float* dst = zn + (k * g.OH + oh) * g.OW;
                    for (i64 ow = 0; ow < g.OW; ++ow) dst[ow] = src[ow] + bias;
                }
            }
        }
    });
}

// dw (K, C, fh, fw) = sum_n dz_n (x) phases_n: the C*T operand rows (c, t) in channel-major
// order, blocked WGT_CR at a time, so that one channel's taps (shifted reads of the same
// rows) share a pass. Each thread sums its own samples; the threads' sums are added in
// thread order. A thread keeps its sums in vector lanes (VL floats per dw entry) while they
// fit LANE_SUMS_BYTES, and reduces each pass's lanes into one float per entry beyond (a
// 512 -> 512 3x3 layer would need 151 MB of lanes per thread).
constexpr i64 LANE_SUMS_BYTES = 8 << 20;

int weight_grad(const Geometry& g, const float* x, const float* gz, float* gw, int threads) {
    const i64 T = g.fh * g.fw, pairs = g.C * T, entries = g.K * pairs;  // dw[k][c][t]
    // samples per pass: their gradients and phases stay in the core's cache (~256 KiB)
    i64 per_sample = (g.K * g.Pr + g.sample_floats()) * static_cast<i64>(sizeof(float));
    i64 group = std::max<i64>(1, std::min<i64>(g.N, (256 << 10) / per_sample));
    std::vector<i64> off(pairs);
    for (i64 c = 0; c < g.C; ++c)
        for (i64 t = 0; t < T; ++t) off[c * T + t] = c * g.Lc + g.toff[t];
    i64 kblocks = block_count(g.K, WGT_KR), pblocks = block_count(pairs, WGT_CR);
    const bool in_lanes = entries * static_cast<i64>(sizeof(vf)) <= LANE_SUMS_BYTES;
    std::vector<vf> lanes(in_lanes ? static_cast<std::size_t>(entries * threads) : 0, vf{});
    std::vector<float> floats(in_lanes ? 0 : static_cast<std::size_t>(entries * threads), 0.0f);
    int status = parallel_parts(g.N, threads, [&](i64 first, i64 last, int thread) {
        Buffer phases(group * g.sample_floats() + g.slack());
        Buffer grads(group * g.K * g.Pr);
        vf pass[WGT_KR * WGT_CR];
        for (i64 n0 = first; n0 < last; n0 += group) {
            i64 ns = std::min(group, last - n0);
            for (i64 s = 0; s < ns; ++s) {
                pack_phases(g, x + (n0 + s) * g.C * g.H * g.W, phases.data + s * g.sample_floats());
                const float* gzn = gz + (n0 + s) * g.K * g.OH * g.OW;
                float* gn = grads.data + s * g.K * g.Pr;
                for (i64 k = 0; k < g.K; ++k)
                    for (i64 oh = 0; oh < g.OH; ++oh)
                        gather(gn + k * g.Pr + oh * g.Wq, gzn + (k * g.OH + oh) * g.OW, g.OW,
                               1);  // wrapped positions stay 0
            }
            for (i64 kb = 0; kb < kblocks; ++kb) {
                i64 k0 = block_start(g.K, kblocks, kb), k1 = block_start(g.K, kblocks, kb + 1);
                for (i64 pb = 0; pb < pblocks; ++pb) {
                    i64 p0 = block_start(pairs, pblocks, pb);
                    i64 p1 = block_start(pairs, pblocks, pb + 1);
                    const i64 first_entry = thread * entries + k0 * pairs + p0;
                    if (!in_lanes) std::fill(pass, pass + WGT_KR * WGT_CR, vf{});
                    WEIGHTS[k1 - k0 - 1][p1 - p0 - 1](
                        grads.data + k0 * g.Pr, g.Pr, phases.data, off.data() + p0,
                        static_cast<int>(ns), g.K * g.Pr, g.sample_floats(), g.Pr / VL,
                        in_lanes ? lanes.data() + first_entry : pass,
                        in_lanes ? pairs : WGT_CR);
                    if (!in_lanes)
                        for (i64 r = 0; r < k1 - k0; ++r)
                            for (i64 q = 0; q < p1 - p0; ++q)
                                floats[first_entry + r * pairs + q] +=
                                    lane_sum(pass[r * WGT_CR + q]);
                }
            }
        }
    });
    for (i64 e = 0; e < entries; ++e) {
        if (in_lanes) {
            vf sum = lanes[e];
            for (int t = 1; t < threads; ++t) sum += lanes[t * entries + e];
            gw[e] = lane_sum(sum);
        } else {
            float sum = floats[e];
            for (int t = 1; t < threads; ++t) sum += floats[t * entries + e];
            gw[e] = sum;
        }
    }
    return status;
}

// The taps of dx's stride phase (a, b): dZ (padded by top, left) row h' + e feeds dx row
// sh*h' + a through kernel row i when e = (a + ph - i) / sh is exact (columns likewise).
struct DxPhase {
    i64 a, b, rows, cols;  // dx rows sh*h' + a for h' < rows, columns sw*v + b for v < cols
    std::vector<i64> toff;
    std::vector<float> w;  // w[k][t][c] of this phase's taps
};

// Along one axis (input length n, stride s, padding p, kernel f, output length o): the zero
// margin dZ needs before its first row so that every tap of every phase reads inside it,
// and its padded length.
struct Margin {
    i64 before, length;
};
Margin dz_margin(i64 n, i64 s, i64 p, i64 f, i64 o) {
    i64 before = 0, reach = 0;
    for (i64 a = 0; a < s; ++a)
        for (i64 i = 0; i < f; ++i)
            if ((a + p - i) % s == 0) {
                const i64 e = (a + p - i) / s;  // dx index s*h' + a reads dZ index h' + e
                before = std::max(before, -e);
                reach = std::max(reach, (n - a + s - 1) / s + e);
            }
    return {before, before + std::max(o, reach)};
}

// dx (N, C, H, W): per stride phase of dx, a taps_product over dZ zero-padded to Hz x Wz; the
// samples split over `threads` threads
int input_grad(const Geometry& g, const float* w, const float* gz, float* gx, int threads) {
    const Margin rows = dz_margin(g.H, g.sh, g.ph, g.fh, g.OH);
    const Margin cols = dz_margin(g.W, g.sw, g.pw, g.fw, g.OW);
    const i64 top = rows.before, left = cols.before, Hz = rows.length, Wz = cols.length;
    const i64 Lz = Hz * Wz;
    const i64 Pz = round_up((g.H + g.sh - 1) / g.sh * Wz, VL);
    const i64 T_all = g.fh * g.fw;
    std::vector<DxPhase> phases;
    for (i64 a = 0; a < g.sh; ++a)
        for (i64 b = 0; b < g.sw; ++b) {
            DxPhase p{a, b, (g.H - a + g.sh - 1) / g.sh, (g.W - b + g.sw - 1) / g.sw, {}, {}};
            std::vector<i64> taps;
            for (i64 i = 0; i < g.fh; ++i)
                for (i64 j = 0; j < g.fw; ++j)
                    if ((a + g.ph - i) % g.sh == 0 && (b + g.pw - j) % g.sw == 0) {
                        p.toff.push_back(((a + g.ph - i) / g.sh + top) * Wz +
                                         (b + g.pw - j) / g.sw + left);
                        taps.push_back(i * g.fw + j);
                    }
            p.w.resize(g.K * taps.size() * g.C);
            for (i64 k = 0; k < g.K; ++k)
                for (std::size_t t = 0; t < taps.size(); ++t)
                    for (i64 c = 0; c < g.C; ++c)
                        p.w[(k * taps.size() + t) * g.C + c] = w[(k * g.C + c) * T_all + taps[t]];
            phases.push_back(std::move(p));
        }
    const bool unreached = std::any_of(phases.begin(), phases.end(),
                                       [](const DxPhase& p) { return p.toff.empty(); });
    return parallel_parts(g.N, threads, [&](i64 n0, i64 n1, int) {
        Buffer dz(g.K * Lz + Pz + Lz);
        Buffer wide(g.C * Pz);
        for (i64 n = n0; n < n1; ++n) {
            const float* gzn = gz + n * g.K * g.OH * g.OW;
            for (i64 k = 0; k < g.K; ++k)
                for (i64 oh = 0; oh < g.OH; ++oh)
                    gather(dz.data + k * Lz + (top + oh) * Wz + left, gzn + (k * g.OH + oh) * g.OW,
                           g.OW, 1);
            float* gxn = gx + n * g.C * g.H * g.W;
            if (unreached)  // some phase gets no tap (a 1x1 kernel with stride 2): its dx is 0
                std::fill(gxn, gxn + g.C * g.H * g.W, 0.0f);
            for (const DxPhase& p : phases) {
                const int T = static_cast<int>(p.toff.size());
                if (T == 0) continue;
                taps_product(dz.data, Lz, static_cast<int>(g.K), p.toff.data(), T, p.w.data(), g.C,
                             wide.data, Pz, round_up(p.rows * Wz, VL));
                for (i64 c = 0; c < g.C; ++c)
                    for (i64 h = 0; h < p.rows; ++h) {
                        const float* src = wide.data + c * Pz + h * Wz;
                        float* dst = gxn + (c * g.H + g.sh * h + p.a) * g.W + p.b;
                        scatter(dst, src, p.cols, g.sw);
                    }
            }
        }
    });
}

}  // namespace

extern "C" {

// geometry: {N, C, H, W, K, fh, fw, sh, sw, ph, pw}. Return 0, 1 (bad geometry) or 2 (out
// of memory).
int dlx_conv2d_forward_f32(const float* x, const float* w, const float* b, float* z,
                           const long long* geometry, int threads) {
    Geometry g(geometry);
    if (!g.valid() || threads < 1) return 1;
    try {
        return forward(g, x, w, b, z, threads);
    } catch (const std::bad_alloc&) {
        return 2;
    }
}

// gx (N, C, H, W) and gw (K, C, fh, fw) from dZ (N, K, OH, OW); either may be null.
int dlx_conv2d_backward_f32(const float* x, const float* w, const float* gz, float* gx,
                            float* gw, const long long* geometry, int threads) {
    Geometry g(geometry);
    if (!g.valid() || threads < 1) return 1;
    try {
        int status = gw ? weight_grad(g, x, gz, gw, threads) : 0;
        return status ? status : gx ? input_grad(g, w, gz, gx, threads) : 0;
    } catch (const std::bad_alloc&) {
        return 2;
    }
}

int dlx_cpu_vector_width() { return VL; }

int dlx_cpu_openmp() { return openmp_enabled(); }
}
