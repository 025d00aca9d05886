// Batch normalisation of NCHW float32 images per channel: the NumPy backend's compiled path.
//
// Built with direct_conv.cpp into one library (dlx.backends.cpu_kernels) and called through
// ctypes, which releases the GIL; the channels are split over `threads` OpenMP threads.
// x is (N, C, P) with P = H*W; each channel's N*P values are N runs of P contiguous floats.
//
// Forward, training (batch statistics; the course's formulas, biased variance):
//     mean = sum(x) / (N P),  var = sum((x - mean)^2) / (N P),  inv_std = 1 / sqrt(var + eps)
//     y = gamma * inv_std * (x - mean) + beta
// With given statistics (evaluation) only the last line, with the given mean and var.
// Sums are taken over runs of at most 256 values in float vector lanes, and those partial
// sums added in double: 3 passes over a channel (the 2nd and 3rd from the core's cache),
// against NumPy's 10 over the whole tensor.
//
// Backward, with xhat = (x - mean) * inv_std, dbeta = sum(dy), dgamma = sum(dy * xhat):
//     training:   dx = gamma * inv_std * (dy - dbeta / (N P) - xhat * dgamma / (N P))
//     evaluation: dx = gamma * inv_std * dy
// xhat is recomputed from x, so the forward keeps nothing of size N*C*P.

#include <algorithm>
#include <cmath>

#include "cpu_common.hpp"

namespace {

using namespace dlx_cpu;

constexpr i64 RUN = 256;  // values summed in float lanes before the double accumulator

// One channel: N runs of P floats, `stride` floats apart.
struct Channel {
    i64 N, P, stride;
    double count() const { return static_cast<double>(N) * static_cast<double>(P); }
};

// sum of term(a[i], b[i]) over the channel; term takes vectors, and floats at a run's tail
template <typename Term>
double channel_sum(const Channel& ch, const float* a, const float* b, Term term) {
    double total = 0.0;
    for (i64 n = 0; n < ch.N; ++n, a += ch.stride, b += ch.stride) {
        i64 p = 0;
        while (p + VL <= ch.P) {
            vf acc = vf{};
            for (const i64 end = std::min(ch.P, p + RUN) - VL; p <= end; p += VL)
                acc += term(load(a + p), load(b + p));
            total += lane_sum(acc);
        }
        for (; p < ch.P; ++p) total += term(a[p], b[p]);
    }
    return total;
}

// out[i] = f(a[i], b[i]) over the channel, vectors then the tail
template <typename F>
void channel_map(const Channel& ch, float* out, const float* a, const float* b, F f) {
    for (i64 n = 0; n < ch.N; ++n, out += ch.stride, a += ch.stride, b += ch.stride) {
        i64 p = 0;
        for (; p + VL <= ch.P; p += VL) store(out + p, f(load(a + p), load(b + p)));
        for (; p < ch.P; ++p) out[p] = f(a[p], b[p]);
    }
}

// body(c, channel, offset) for each channel c of the tensor shape = {N, C, P}, the
// channels split over `threads` threads; offset = c * P, the channel's first value. Returns
// 0, or 1 for a bad shape.
template <typename Body>
int for_each_channel(const long long* shape, int threads, Body body) {
    if (shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0 || threads < 1) return 1;
    const Channel ch{shape[0], shape[2], shape[1] * shape[2]};
    return parallel_parts(shape[1], threads, [&](i64 c0, i64 c1, int) {
        for (i64 c = c0; c < c1; ++c) body(c, ch, c * ch.P);
    });
}

}  // namespace

extern "C" {

// shape: {N, C, P}. y, and with batch_stats mean and var (written, else read), and inv_std
// (written). Returns 0, or 1 for a bad shape.
int dlx_batch_norm_forward_f32(const float* x, const float* gamma, const float* beta, float* mean,
                               float* var, float* inv_std, float* y, const long long* shape,
                               int batch_stats, float eps, int threads) {
    return for_each_channel(shape, threads, [&](i64 c, const Channel& ch, i64 offset) {
        const float* xc = x + offset;
        if (batch_stats) {
            const double m = channel_sum(ch, xc, xc, [](auto v, auto) { return v; }) / ch.count();
            const float mf = static_cast<float>(m);
            const double v = channel_sum(ch, xc, xc, [mf](auto v, auto) {
                auto d = v - mf;
                return d * d;
            });
            mean[c] = mf;
            var[c] = static_cast<float>(v / ch.count());
        }
        const float istd = static_cast<float>(1.0 / std::sqrt(double{var[c]} + eps));
        inv_std[c] = istd;
        const float scale = gamma[c] * istd, shift = beta[c] - mean[c] * scale;
        channel_map(ch, y + offset, xc, xc,
                    [scale, shift](auto v, auto) { return v * scale + shift; });
    });
}

// dx (may be null), dgamma and dbeta.
int dlx_batch_norm_backward_f32(const float* x, const float* gy, const float* gamma,
                                const float* mean, const float* inv_std, float* gx,
                                float* ggamma, float* gbeta, const long long* shape,
                                int batch_stats, int threads) {
    return for_each_channel(shape, threads, [&](i64 c, const Channel& ch, i64 offset) {
        const float* xc = x + offset;
        const float* gc = gy + offset;
        const float m = mean[c];
        const double db = channel_sum(ch, gc, gc, [](auto g, auto) { return g; });
        const double dxc = channel_sum(ch, gc, xc, [m](auto g, auto v) { return g * (v - m); });
        const double istd = inv_std[c], dgamma = dxc * istd;
        ggamma[c] = static_cast<float>(dgamma);
        gbeta[c] = static_cast<float>(db);
        if (!gx) return;
        // dx = k1 * dy + k2 * (x - mean) + k3
        const double k1 = gamma[c] * istd, n = ch.count();
        const float f1 = static_cast<float>(k1),
                    f2 = batch_stats ? static_cast<float>(-k1 * istd * dgamma / n) : 0.0f,
                    f3 = batch_stats ? static_cast<float>(-k1 * db / n) : 0.0f;
        channel_map(ch, gx + offset, gc, xc,
                    [=](auto g, auto v) { return g * f1 + (v - m) * f2 + f3; });
    });
}
}
