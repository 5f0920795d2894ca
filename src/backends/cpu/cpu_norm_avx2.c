/* AVX2 row kernels of the normalization ops (see cpu_vec.h). Called only when ctx->isa >= CPU_ISA_AVX2. Row tails
 * are done by scalar code with the same formulas. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx2.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline double hsum256d(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* v = x * scale (+ mask), the value whose softmax is taken; one rounding (fma) with a mask */
static inline __m256 softmax_v(__m256 x, const float *mask, int64_t j, __m256 scale) {
    return mask ? _mm256_fmadd_ps(x, scale, _mm256_loadu_ps(mask + j)) : _mm256_mul_ps(x, scale);
}

/* exp(v - max) as 2^(v k - max log2e) with k = khi + klo (see pass 2). v = -inf is clamped to -FLT_MAX first:
 * -inf * klo could be +inf against the -inf of the other product, a NaN, when klo is negative. */
static inline __m256 softmax_exp(__m256 v, __m256 khi, __m256 klo, __m256 m2) {
    v = _mm256_max_ps(_mm256_set1_ps(-FLT_MAX), v);
    return cpu_exp2_ps256(_mm256_fmadd_ps(v, klo, _mm256_fmsub_ps(v, khi, m2)));
}

void cpu_vec_softmax_f32_avx2(float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid, float scale,
                              const float *next) {
    if (nvalid < 0) nvalid = 0;
    /* without a mask and with scale > 0, max(x * scale) == max(x) * scale exactly (rounding is monotonic) */
    bool plain = !mask && scale > 0;
    __m256 vs = _mm256_set1_ps(scale);
    /* pass 1: the maximum */
    __m256 mx0 = _mm256_set1_ps(-INFINITY), mx1 = mx0;
    int64_t j = 0;
    for (; j + 16 <= nvalid; j += 16) {
        __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
        if (!plain) {
            a = softmax_v(a, mask, j, vs);
            b = softmax_v(b, mask, j + 8, vs);
        }
        mx0 = _mm256_max_ps(mx0, a);
        mx1 = _mm256_max_ps(mx1, b);
    }
    float mx = hmax256(_mm256_max_ps(mx0, mx1));
    for (; j < nvalid; j++) {
        float v = plain ? x[j] : mask ? fmaf(x[j], scale, mask[j]) : x[j] * scale;
        mx = v > mx ? v : mx;
    }
    if (plain) mx *= scale;
    if (mx == -INFINITY) nvalid = 0; /* nothing visible: the whole row is zeros */
    /* pass 2: exp(v - max) = 2^(v log2e - max log2e) into dst and its sum (see cpu_norm_avx512.c) */
    /* a max beyond +-1e30 (rows masked with -FLT_MAX) would overflow max log2e: subtract it first instead */
    bool shift = !(fabsf(mx) < 1e30f);
    double l2e = 1.4426950408889634, k = mask || shift ? l2e : (double)scale * l2e;
    float khi_s = (float)k, klo_s = (float)(k - (double)(float)k), m2_s = shift ? 0.0f : (float)((double)mx * l2e);
    __m256 khi = _mm256_set1_ps(khi_s), klo = _mm256_set1_ps(klo_s), m2 = _mm256_set1_ps(m2_s);
    __m256 vmx = _mm256_set1_ps(mx);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    j = 0;
    for (; j + 16 <= nvalid; j += 16) {
        __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
        if (mask || shift) {
            a = softmax_v(a, mask, j, vs);
            b = softmax_v(b, mask, j + 8, vs);
        }
        if (shift) {
            a = _mm256_sub_ps(a, vmx);
            b = _mm256_sub_ps(b, vmx);
        }
        __m256 e0 = softmax_exp(a, khi, klo, m2);
        __m256 e1 = softmax_exp(b, khi, klo, m2);
        _mm256_storeu_ps(dst + j, e0);
        _mm256_storeu_ps(dst + j + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
        if (next) _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
    }
    for (; j + 8 <= nvalid; j += 8) {
        __m256 a = _mm256_loadu_ps(x + j);
        if (mask || shift) a = softmax_v(a, mask, j, vs);
        if (shift) a = _mm256_sub_ps(a, vmx);
        __m256 e = softmax_exp(a, khi, klo, m2);
        _mm256_storeu_ps(dst + j, e);
        s0 = _mm256_add_ps(s0, e);
    }
    if (j < nvalid) { /* tail through a zero-padded buffer; padded lanes are not added */
        float t[8] = {0}, e[8];
        for (int64_t c = j; c < nvalid; c++) {
            float v = mask ? fmaf(x[c], scale, mask[c]) : shift ? x[c] * scale : x[c];
            t[c - j] = shift ? v - mx : v;
        }
        __m256 a = _mm256_loadu_ps(t);
        _mm256_storeu_ps(e, softmax_exp(a, khi, klo, m2));
        float s = 0;
        for (int64_t c = 0; c < nvalid - j; c++) {
            dst[j + c] = e[c];
            s += e[c];
        }
        s0 = _mm256_add_ps(s0, _mm256_setr_ps(s, 0, 0, 0, 0, 0, 0, 0));
    }
    /* pass 3: normalize the visible part, zero the hidden part */
    float inv_s = nvalid > 0 ? 1.0f / hsum256(_mm256_add_ps(s0, s1)) : 0.0f;
    __m256 inv = _mm256_set1_ps(inv_s);
    j = 0;
    for (; j + 8 <= nvalid; j += 8) _mm256_storeu_ps(dst + j, _mm256_mul_ps(_mm256_loadu_ps(dst + j), inv));
    for (; j < nvalid; j++) dst[j] *= inv_s;
    for (; j < n; j++) dst[j] = 0.0f;
}

void cpu_vec_sum_sumsq_f64_avx2(const float *x, int64_t n, double *sum, double *sumsq) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256d a0 = _mm256_cvtps_pd(_mm_loadu_ps(x + j)), a1 = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4));
        __m256d a2 = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 8)), a3 = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 12));
        s0 = _mm256_add_pd(s0, a0);
        s1 = _mm256_add_pd(s1, a1);
        s2 = _mm256_add_pd(s2, a2);
        s3 = _mm256_add_pd(s3, a3);
        q0 = _mm256_fmadd_pd(a0, a0, q0);
        q1 = _mm256_fmadd_pd(a1, a1, q1);
        q2 = _mm256_fmadd_pd(a2, a2, q2);
        q3 = _mm256_fmadd_pd(a3, a3, q3);
    }
    double s = hsum256d(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    double q = hsum256d(_mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3)));
    for (; j < n; j++) {
        s += x[j];
        q += (double)x[j] * x[j];
    }
    *sum = s;
    *sumsq = q;
}

#define MOMENT_BLOCK 1024 /* f32 partial sums cover 32 elements per lane before they are folded into double */

static inline __m256d fold_pd(__m256d acc, __m256 s) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(s)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1)));
}

/* Sum over a row of x (square false) or (x - c)^2 (square true), prefetching `next` along. */
static double moment_pass(const float *x, int64_t n, bool square, float c, const float *next) {
    __m256 vc = _mm256_set1_ps(c);
    __m256d acc = _mm256_setzero_pd();
    double tail = 0;
    for (int64_t b0 = 0; b0 < n; b0 += MOMENT_BLOCK) {
        int64_t e = n - b0 < MOMENT_BLOCK ? n : b0 + MOMENT_BLOCK, j = b0;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (; j + 32 <= e; j += 32) {
            __m256 a0 = _mm256_loadu_ps(x + j), a1 = _mm256_loadu_ps(x + j + 8);
            __m256 a2 = _mm256_loadu_ps(x + j + 16), a3 = _mm256_loadu_ps(x + j + 24);
            if (square) {
                a0 = _mm256_sub_ps(a0, vc);
                a1 = _mm256_sub_ps(a1, vc);
                a2 = _mm256_sub_ps(a2, vc);
                a3 = _mm256_sub_ps(a3, vc);
                s0 = _mm256_fmadd_ps(a0, a0, s0);
                s1 = _mm256_fmadd_ps(a1, a1, s1);
                s2 = _mm256_fmadd_ps(a2, a2, s2);
                s3 = _mm256_fmadd_ps(a3, a3, s3);
            } else {
                s0 = _mm256_add_ps(s0, a0);
                s1 = _mm256_add_ps(s1, a1);
                s2 = _mm256_add_ps(s2, a2);
                s3 = _mm256_add_ps(s3, a3);
            }
            if (next) {
                _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
                _mm_prefetch((const char *)(next + j + 16), _MM_HINT_T0);
            }
        }
        for (; j < e; j++) tail += square ? ((double)x[j] - c) * ((double)x[j] - c) : (double)x[j];
        acc = fold_pd(fold_pd(acc, _mm256_add_ps(s0, s1)), _mm256_add_ps(s2, s3));
    }
    return hsum256d(acc) + tail;
}

void cpu_vec_moments_f32_avx2(const float *x, int64_t n, bool center, double *mean, double *var, const float *next) {
    double m = 0;
    if (center && n > 0) m = moment_pass(x, n, false, 0.0f, NULL) / (double)n;
    float mf = (float)m;
    double q = moment_pass(x, n, true, mf, next);
    /* the deviations were taken from the rounded mean: sum (x - mf)^2 = sum (x - m)^2 + n (m - mf)^2 */
    double v = n > 0 ? q / (double)n - (m - mf) * (m - mf) : 0.0;
    *mean = m;
    *var = v > 0 ? v : 0.0;
}

/* How far ahead of the stores dst is fetched, in floats, when rows stream (next != NULL); see the AVX-512 kernel. */
#define NORM_STORE_AHEAD 256

static inline __m256 norm8(const float *x, int64_t j, __m256 vmean, __m256 vmul, __m256 vadd, const float *w,
                           const float *b) {
    __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vmean), vmul);
    __m256 bias = b ? _mm256_loadu_ps(b + j) : vadd;
    return w ? _mm256_fmadd_ps(t, _mm256_loadu_ps(w + j), bias) : _mm256_add_ps(t, bias);
}

void cpu_vec_norm_row_f32_avx2(float *dst, const float *x, int64_t n, float mean, float mul, float add,
                               const float *w, const float *b, const float *next) {
    __m256 vmean = _mm256_set1_ps(mean), vmul = _mm256_set1_ps(mul), vadd = _mm256_set1_ps(add);
    int64_t j = 0;
    if (next) { /* a cache line (16 floats) per step: the next row's line, and dst's line ahead (T0: a line read
                 * by no other core arrives exclusive, so the store needs no further ownership request) */
        for (; j + 16 <= n; j += 16) {
            _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
            if (j + NORM_STORE_AHEAD < n) _mm_prefetch((const char *)(dst + j + NORM_STORE_AHEAD), _MM_HINT_T0);
            _mm256_storeu_ps(dst + j, norm8(x, j, vmean, vmul, vadd, w, b));
            _mm256_storeu_ps(dst + j + 8, norm8(x, j + 8, vmean, vmul, vadd, w, b));
        }
    }
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, norm8(x, j, vmean, vmul, vadd, w, b));
    for (; j < n; j++) { /* fmaf: the same single rounding as the vector fma */
        float t = (x[j] - mean) * mul;
        float bias = b ? b[j] : add;
        dst[j] = w ? fmaf(t, w[j], bias) : t + bias;
    }
}
