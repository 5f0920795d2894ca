/* AVX-512 row kernels of the normalization ops (see cpu_vec.h). Called only when ctx->isa == CPU_ISA_AVX512. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx512.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>

/* v = x * scale (+ mask), the value whose softmax is taken; one rounding (fma) with a mask */
static inline __m512 softmax_v(__m512 x, const float *mask, int64_t j, __mmask16 m, __m512 scale) {
    return mask ? _mm512_fmadd_ps(x, scale, _mm512_maskz_loadu_ps(m, mask + j)) : _mm512_mul_ps(x, scale);
}

/* exp(v - max) as 2^(v k - max log2e) with k = khi + klo (see pass 2). v = -inf is clamped to -FLT_MAX first:
 * -inf * klo could be +inf against the -inf of the other product, a NaN, when klo is negative. */
static inline __m512 softmax_exp(__m512 v, __m512 khi, __m512 klo, __m512 m2) {
    v = _mm512_max_ps(_mm512_set1_ps(-FLT_MAX), v);
    return cpu_exp2_ps512(_mm512_fmadd_ps(v, klo, _mm512_fmsub_ps(v, khi, m2)));
}

void cpu_vec_softmax_f32_avx512(float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid,
                                float scale, const float *next) {
    if (nvalid < 0) nvalid = 0;
    const __mmask16 all = 0xffff;
    /* without a mask and with scale > 0, max(x * scale) == max(x) * scale exactly (rounding is monotonic) */
    bool plain = !mask && scale > 0;
    __m512 vs = _mm512_set1_ps(scale);
    /* pass 1: the maximum (two accumulators for latency) */
    __m512 mx0 = _mm512_set1_ps(-INFINITY), mx1 = mx0;
    int64_t j = 0;
    for (; j + 32 <= nvalid; j += 32) {
        __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + 16);
        if (!plain) {
            a = softmax_v(a, mask, j, all, vs);
            b = softmax_v(b, mask, j + 16, all, vs);
        }
        mx0 = _mm512_max_ps(mx0, a);
        mx1 = _mm512_max_ps(mx1, b);
    }
    for (; j < nvalid; j += 16) {
        __mmask16 m = nvalid - j >= 16 ? all : cpu_tail_mask16(nvalid - j);
        __m512 a = _mm512_maskz_loadu_ps(m, x + j);
        if (!plain) a = softmax_v(a, mask, j, m, vs);
        mx0 = _mm512_mask_max_ps(mx0, m, mx0, a);
    }
    float mx = _mm512_reduce_max_ps(_mm512_max_ps(mx0, mx1));
    if (plain) mx *= scale;
    if (mx == -INFINITY) nvalid = 0; /* nothing visible: the whole row is zeros */
    /* pass 2: exp(v - max) = 2^(v log2e - max log2e) into dst and its sum. The factor log2e (times the scale when
     * there is no mask) is split in two floats so that t carries one rounding; the rounding of max log2e shifts
     * every t alike and cancels in the normalization. The next row is prefetched meanwhile. */
    /* A max beyond +-1e30 (rows masked with -FLT_MAX, as Hugging Face masks) would overflow max log2e: then
     * the max is subtracted from v first and k is log2e alone. */
    bool shift = !(fabsf(mx) < 1e30f);
    double l2e = 1.4426950408889634, k = mask || shift ? l2e : (double)scale * l2e;
    __m512 khi = _mm512_set1_ps((float)k), klo = _mm512_set1_ps((float)(k - (double)(float)k));
    __m512 m2 = _mm512_set1_ps(shift ? 0.0f : (float)((double)mx * l2e)), vmx = _mm512_set1_ps(mx);
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    j = 0;
    for (; j + 32 <= nvalid; j += 32) {
        __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + 16);
        if (mask || shift) {
            a = softmax_v(a, mask, j, all, vs);
            b = softmax_v(b, mask, j + 16, all, vs);
        }
        if (shift) {
            a = _mm512_sub_ps(a, vmx);
            b = _mm512_sub_ps(b, vmx);
        }
        __m512 e0 = softmax_exp(a, khi, klo, m2);
        __m512 e1 = softmax_exp(b, khi, klo, m2);
        _mm512_storeu_ps(dst + j, e0);
        _mm512_storeu_ps(dst + j + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
        if (next) {
            _mm_prefetch((const char *)(next + j), _MM_HINT_T0);
            _mm_prefetch((const char *)(next + j + 16), _MM_HINT_T0);
        }
    }
    for (; j < nvalid; j += 16) {
        __mmask16 m = nvalid - j >= 16 ? all : cpu_tail_mask16(nvalid - j);
        __m512 a = _mm512_maskz_loadu_ps(m, x + j);
        if (mask || shift) a = softmax_v(a, mask, j, m, vs);
        if (shift) a = _mm512_sub_ps(a, vmx);
        __m512 e = softmax_exp(a, khi, klo, m2);
        _mm512_mask_storeu_ps(dst + j, m, e);
        s0 = _mm512_mask_add_ps(s0, m, s0, e);
    }
    /* pass 3: normalize the visible part, zero the hidden part */
    __m512 inv = _mm512_set1_ps(nvalid > 0 ? 1.0f / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) : 0.0f);
    j = 0;
    for (; j + 16 <= nvalid; j += 16) _mm512_storeu_ps(dst + j, _mm512_mul_ps(_mm512_loadu_ps(dst + j), inv));
    if (j < nvalid) {
        __mmask16 m = cpu_tail_mask16(nvalid - j);
        _mm512_mask_storeu_ps(dst + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dst + j), inv));
        j += 16;
        j = j > n ? n : j;
        /* the rest of this vector's lanes are hidden columns */
        for (int64_t c = nvalid; c < j; c++) dst[c] = 0.0f;
    }
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(dst + j, _mm512_setzero_ps());
    if (j < n) _mm512_mask_storeu_ps(dst + j, cpu_tail_mask16(n - j), _mm512_setzero_ps());
}

void cpu_vec_sum_sumsq_f64_avx512(const float *x, int64_t n, double *sum, double *sumsq) {
    /* four independent chains each for the sum and the sum of squares hide the add latency */
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 a = _mm512_loadu_ps(x + j), b = _mm512_loadu_ps(x + j + 16);
        __m512d a0 = _mm512_cvtps_pd(_mm512_castps512_ps256(a));
        __m512d a1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
        __m512d b0 = _mm512_cvtps_pd(_mm512_castps512_ps256(b));
        __m512d b1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1)));
        s0 = _mm512_add_pd(s0, a0);
        s1 = _mm512_add_pd(s1, a1);
        s2 = _mm512_add_pd(s2, b0);
        s3 = _mm512_add_pd(s3, b1);
        q0 = _mm512_fmadd_pd(a0, a0, q0);
        q1 = _mm512_fmadd_pd(a1, a1, q1);
        q2 = _mm512_fmadd_pd(b0, b0, q2);
        q3 = _mm512_fmadd_pd(b1, b1, q3);
    }
    for (; j < n; j += 8) { /* masked lanes load zeros, which add nothing */
        __mmask8 m = n - j >= 8 ? 0xff : (__mmask8)((1u << (n - j)) - 1u);
        __m512d a = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + j));
        s0 = _mm512_add_pd(s0, a);
        q0 = _mm512_fmadd_pd(a, a, q0);
    }
    *sum = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
    *sumsq = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(q0, q1), _mm512_add_pd(q2, q3)));
}

#define MOMENT_BLOCK 1024 /* f32 partial sums cover 16 elements per lane before they are folded into double */

static inline __m512d fold_pd(__m512d acc, __m512 s) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(s)));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1))));
}

/* Sum over a row of f(x) with f = x (square false) or (x - c)^2 (square true), prefetching `next` along. */
static double moment_pass(const float *x, int64_t n, bool square, float c, const float *next) {
    __m512 vc = _mm512_set1_ps(c);
    __m512d acc = _mm512_setzero_pd();
    for (int64_t b0 = 0; b0 < n; b0 += MOMENT_BLOCK) {
        int64_t e = n - b0 < MOMENT_BLOCK ? n : b0 + MOMENT_BLOCK, j = b0;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (; j + 64 <= e; j += 64) {
            __m512 a0 = _mm512_loadu_ps(x + j), a1 = _mm512_loadu_ps(x + j + 16);
            __m512 a2 = _mm512_loadu_ps(x + j + 32), a3 = _mm512_loadu_ps(x + j + 48);
            if (square) {
                a0 = _mm512_sub_ps(a0, vc);
                a1 = _mm512_sub_ps(a1, vc);
                a2 = _mm512_sub_ps(a2, vc);
                a3 = _mm512_sub_ps(a3, vc);
                s0 = _mm512_fmadd_ps(a0, a0, s0);
                s1 = _mm512_fmadd_ps(a1, a1, s1);
                s2 = _mm512_fmadd_ps(a2, a2, s2);
                s3 = _mm512_fmadd_ps(a3, a3, s3);
            } else {
                s0 = _mm512_add_ps(s0, a0);
                s1 = _mm512_add_ps(s1, a1);
                s2 = _mm512_add_ps(s2, a2);
                s3 = _mm512_add_ps(s3, a3);
            }
            if (next) {
                for (int k = 0; k < 64; k += 16) _mm_prefetch((const char *)(next + j + k), _MM_HINT_T0);
            }
        }
        for (; j < e; j += 16) { /* masked lanes are zeros: they add nothing, (0 - c)^2 is masked off */
            __mmask16 m = e - j >= 16 ? 0xffff : cpu_tail_mask16(e - j);
            __m512 a = _mm512_maskz_loadu_ps(m, x + j);
            if (square) {
                a = _mm512_maskz_sub_ps(m, a, vc);
                s0 = _mm512_fmadd_ps(a, a, s0);
            } else {
                s0 = _mm512_add_ps(s0, a);
            }
        }
        acc = fold_pd(fold_pd(acc, _mm512_add_ps(s0, s1)), _mm512_add_ps(s2, s3));
    }
    return _mm512_reduce_add_pd(acc);
}

void cpu_vec_moments_f32_avx512(const float *x, int64_t n, bool center, double *mean, double *var,
                                const float *next) {
    double m = 0;
    if (center && n > 0) m = moment_pass(x, n, false, 0.0f, NULL) / (double)n;
    float mf = (float)m;
    double q = moment_pass(x, n, true, mf, next);
    /* the deviations were taken from the rounded mean: sum (x - mf)^2 = sum (x - m)^2 + n (m - mf)^2 */
    double v = n > 0 ? q / (double)n - (m - mf) * (m - mf) : 0.0;
    *mean = m;
    *var = v > 0 ? v : 0.0;
}

/* How far ahead of the stores dst is fetched for writing, in floats, when rows stream (next != NULL). */
#define NORM_STORE_AHEAD 256

/* (x - mean) * mul, then * w and + b (or + add); EXPR sees the lane offset j and mask m. With next, each vector
 * also prefetches the next row's matching line, and dst NORM_STORE_AHEAD floats on (for writing) while within the
 * row: the stores then find their lines on hand instead of waiting on one read-for-ownership after another, and
 * the next row's reads overlap this row's writes, as in a copy. */
#define CPU_NORM512(EXPR)                                                                                       \
    do {                                                                                                        \
        int64_t j = 0;                                                                                          \
        __mmask16 m = 0xffff;                                                                                   \
        if (next) {                                                                                             \
            for (; j + NORM_STORE_AHEAD + 16 <= n; j += 16) {                                                   \
                _mm_prefetch((const char *)(next + j), _MM_HINT_T0);                                            \
                _mm_prefetch((const char *)(dst + j + NORM_STORE_AHEAD), _MM_HINT_ET0);                         \
                __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + j), vmean), vmul);                   \
                _mm512_storeu_ps(dst + j, (EXPR));                                                              \
            }                                                                                                   \
            for (; j + 16 <= n; j += 16) {                                                                      \
                _mm_prefetch((const char *)(next + j), _MM_HINT_T0);                                            \
                __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + j), vmean), vmul);                   \
                _mm512_storeu_ps(dst + j, (EXPR));                                                              \
            }                                                                                                   \
        }                                                                                                       \
        for (; j + 16 <= n; j += 16) {                                                                          \
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + j), vmean), vmul);                       \
            _mm512_storeu_ps(dst + j, (EXPR));                                                                  \
        }                                                                                                       \
        if (j < n) {                                                                                            \
            m = cpu_tail_mask16(n - j);                                                                         \
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vmean), vmul);              \
            _mm512_mask_storeu_ps(dst + j, m, (EXPR));                                                          \
        }                                                                                                       \
    } while (0)

/* prfchw: _MM_HINT_ET0 becomes prefetchw (every AVX-512 CPU has it), a fetch for writing */
__attribute__((target("prfchw"))) void cpu_vec_norm_row_f32_avx512(float *dst, const float *x, int64_t n, float mean,
                                                                     float mul, float add, const float *w,
                                                                     const float *b, const float *next) {
    __m512 vmean = _mm512_set1_ps(mean), vmul = _mm512_set1_ps(mul), vadd = _mm512_set1_ps(add);
    if (w && b) CPU_NORM512(_mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, w + j), _mm512_maskz_loadu_ps(m, b + j)));
    else if (w) CPU_NORM512(_mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, w + j), vadd));
    else if (b) CPU_NORM512(_mm512_add_ps(t, _mm512_maskz_loadu_ps(m, b + j)));
    else CPU_NORM512(_mm512_add_ps(t, vadd));
}
