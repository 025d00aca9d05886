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

// sum over n < N of sum over p < P of f(n, p) for one channel, f returning a vector of
// VL values at p (or a scalar at the tail)
template <typename Vec, typename Scalar>
double channel_sum(i64 N, i64 P, Vec vec, Scalar scalar) {
    double total = 0.0;
    for (i64 n = 0; n < N; ++n) {
        i64 p = 0;
        while (p + VL <= P) {
            vf acc = vf{};
            i64 end = std::min<i64>(P, p + RUN) - VL;
            for (; p <= end; p += VL) acc += vec(n, p);
            total += lane_sum(acc);
        }
        for (; p < P; ++p) total += scalar(n, p);
    }
    return total;
}

template <typename Vec, typename Scalar>
void channel_map(i64 N, i64 P, Vec vec, Scalar scalar) {
    for (i64 n = 0; n < N; ++n) {
        i64 p = 0;
        for (; p + VL <= P; p += VL) vec(n, p);
        for (; p < P; ++p) scalar(n, p);
    }
}

}  // namespace

extern "C" {

// shape: {N, C, P}. y, and with batch_stats mean and var (written, else read), and inv_std
// (written). Returns 0, or 1 for a bad shape.
int dlx_batch_norm_forward_f32(const float* x, const float* gamma, const float* beta, float* mean,
                               float* var, float* inv_std, float* y, const long long* shape,
                               int batch_stats, float eps, int threads) {
    const i64 N = shape[0], C = shape[1], P = shape[2];
    if (N <= 0 || C <= 0 || P <= 0 || threads < 1) return 1;
    const double count = static_cast<double>(N) * static_cast<double>(P);
    return parallel_parts(C, threads, [&](i64 c0, i64 c1, int) {
    for (i64 c = c0; c < c1; ++c) {
        const float* xc = x + c * P;
        float* yc = y + c * P;
        auto at = [&](i64 n, i64 p) { return xc + n * C * P + p; };
        if (batch_stats) {
            double m = channel_sum(N, P, [&](i64 n, i64 p) { return load(at(n, p)); },
                                   [&](i64 n, i64 p) { return static_cast<double>(*at(n, p)); }) /
                       count;
            const float mf = static_cast<float>(m);
            const vf mv = broadcast(mf);
            double v = channel_sum(
                N, P,
                [&](i64 n, i64 p) {
                    vf d = load(at(n, p)) - mv;
                    return d * d;
                },
                [&](i64 n, i64 p) {
                    double d = static_cast<double>(*at(n, p)) - m;
                    return d * d;
                }) / count;
            mean[c] = mf;
            var[c] = static_cast<float>(v);
        }
        const float istd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
        inv_std[c] = istd;
        const float scale = gamma[c] * istd, shift = beta[c] - mean[c] * scale;
        const vf sv = broadcast(scale), hv = broadcast(shift);
        channel_map(
            N, P, [&](i64 n, i64 p) { store(yc + n * C * P + p, load(at(n, p)) * sv + hv); },
            [&](i64 n, i64 p) { yc[n * C * P + p] = *at(n, p) * scale + shift; });
    }
    });
}

// dx (may be null), dgamma and dbeta.
int dlx_batch_norm_backward_f32(const float* x, const float* gy, const float* gamma,
                                const float* mean, const float* inv_std, float* gx,
                                float* ggamma, float* gbeta, const long long* shape,
                                int batch_stats, int threads) {
    const i64 N = shape[0], C = shape[1], P = shape[2];
    if (N <= 0 || C <= 0 || P <= 0 || threads < 1) return 1;
    const double count = static_cast<double>(N) * static_cast<double>(P);
    return parallel_parts(C, threads, [&](i64 c0, i64 c1, int) {
    for (i64 c = c0; c < c1; ++c) {
        const i64 base = c * P;
        const float mf = mean[c];
        const vf mv = broadcast(mf);
        auto off = [&](i64 n, i64 p) { return base + n * C * P + p; };
        double db = channel_sum(N, P, [&](i64 n, i64 p) { return load(gy + off(n, p)); },
                                [&](i64 n, i64 p) { return static_cast<double>(gy[off(n, p)]); });
        double dxc = channel_sum(
            N, P, [&](i64 n, i64 p) { return load(gy + off(n, p)) * (load(x + off(n, p)) - mv); },
            [&](i64 n, i64 p) {
                return static_cast<double>(gy[off(n, p)]) * (static_cast<double>(x[off(n, p)]) - mf);
            });
        const double istd = inv_std[c];
        const double dgamma = dxc * istd;
        ggamma[c] = static_cast<float>(dgamma);
        gbeta[c] = static_cast<float>(db);
        if (!gx) continue;
        // dx = k1 * dy + k2 * (x - mean) + k3
        const double k1 = static_cast<double>(gamma[c]) * istd;
        const double k2 = batch_stats ? -k1 * istd * dgamma / count : 0.0;
        const double k3 = batch_stats ? -k1 * db / count : 0.0;
        const float f1 = static_cast<float>(k1), f2 = static_cast<float>(k2),
                    f3 = static_cast<float>(k3);
        const vf v1 = broadcast(f1), v2 = broadcast(f2), v3 = broadcast(f3);
        channel_map(
            N, P,
            [&](i64 n, i64 p) {
                i64 o = off(n, p);
                store(gx + o, load(gy + o) * v1 + (load(x + o) - mv) * v2 + v3);
            },
            [&](i64 n, i64 p) {
                i64 o = off(n, p);
                gx[o] = gy[o] * f1 + (x[o] - mf) * f2 + f3;
            });
    }
    });
}
}
