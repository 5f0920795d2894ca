/* Inline AVX2 + FMA + F16C math and conversion primitives on 8 floats. Include only from *_avx2.c files and call
 * them only when ctx->isa >= CPU_ISA_AVX2. Same functions and accuracy as cpu_vec_avx512.h:
 *
 *   cpu_exp_ps256, cpu_exp2_ps256, cpu_sigmoid_ps256, cpu_tanh_ps256, cpu_erf_ps256, cpu_normcdf_ps256
 *   cpu_load_f16_ps256 / cpu_load_bf16_ps256 / cpu_store_f16_ps256 / cpu_store_bf16_ps256 (8 elements)
 *
 * AVX2 has no cheap masked 16-bit loads: row tails go through a small stack buffer in the callers.
 */
#ifndef ACCEL_CPU_VEC_AVX2_H
#define ACCEL_CPU_VEC_AVX2_H

#include "backends/cpu/cpu_vec_coef.h"

#include <immintrin.h>
#include <stdint.h>

#define CPU_PS256(c) _mm256_set1_ps(c)

static inline __m256 cpu_abs_ps256(__m256 x) { return _mm256_andnot_ps(CPU_PS256(-0.0f), x); }
static inline __m256 cpu_sign_ps256(__m256 x) { return _mm256_and_ps(x, CPU_PS256(-0.0f)); }

/* 2^n for integer-valued n in [-150, 129] as two normal factors: p * s1 is exact, the second product rounds once,
 * so overflow gives inf and denormal results are correctly rounded */
static inline __m256 cpu_scale2_ps256(__m256 p, __m256 n) {
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 cpu_exp_ps256(__m256 x) {
    /* min/max with the constant first: a NaN x is the second operand and is passed through */
    __m256 keep = _mm256_cmp_ps(x, CPU_PS256(CPU_EXP_FTZ), _CMP_NLT_UQ);
    x = _mm256_min_ps(CPU_PS256(CPU_EXP_MAX), x);
    x = _mm256_max_ps(CPU_PS256(CPU_EXP_FTZ), x); /* no denormal intermediate in the dropped lanes either */
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, CPU_PS256(CPU_EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, CPU_PS256(CPU_EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, CPU_PS256(CPU_EXP_LN2_LO), r);
    __m256 p = CPU_PS256(CPU_EXP_P0);
    p = _mm256_fmadd_ps(p, r, CPU_PS256(CPU_EXP_P1));
    p = _mm256_fmadd_ps(p, r, CPU_PS256(CPU_EXP_P2));
    p = _mm256_fmadd_ps(p, r, CPU_PS256(CPU_EXP_P3));
    p = _mm256_fmadd_ps(p, r, CPU_PS256(CPU_EXP_P4));
    p = _mm256_fmadd_ps(p, r, CPU_PS256(CPU_EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, CPU_PS256(1.0f));
    return _mm256_and_ps(cpu_scale2_ps256(p, n), keep);
}

/* 2^t, ~1 ulp, for t >= -125; smaller t (and -inf) give 0 instead of a denormal (see cpu_exp2_ps512) */
static inline __m256 cpu_exp2_ps256(__m256 t) {
    t = _mm256_min_ps(CPU_PS256(CPU_EXP2_MAX), t);
    __m256 keep = _mm256_cmp_ps(t, CPU_PS256(CPU_EXP2_FTZ), _CMP_NLT_UQ); /* NaN is kept */
    t = _mm256_max_ps(CPU_PS256(CPU_EXP2_FTZ), t); /* no denormal intermediate in the dropped lanes either */
    __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_sub_ps(t, n);
    __m256 p = CPU_PS256(CPU_EXP2_Q0);
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q1));
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q2));
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q3));
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q4));
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q5));
    p = _mm256_fmadd_ps(p, f, CPU_PS256(CPU_EXP2_Q6));
    return _mm256_and_ps(cpu_scale2_ps256(p, n), keep);
}

static inline __m256 cpu_sigmoid_ps256(__m256 x) {
    __m256 e = cpu_exp_ps256(_mm256_sub_ps(_mm256_setzero_ps(), cpu_abs_ps256(x)));
    __m256 r = _mm256_div_ps(CPU_PS256(1.0f), _mm256_add_ps(CPU_PS256(1.0f), e));
    /* x < 0: sigmoid(x) = e^x / (1 + e^x), which keeps full relative accuracy in the lower tail */
    __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(r, _mm256_mul_ps(r, e), neg);
}

static inline __m256 cpu_tanh_ps256(__m256 x) {
    __m256 ax = cpu_abs_ps256(x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = CPU_PS256(CPU_TANH_P0);
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_TANH_P1));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_TANH_P2));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_TANH_P3));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_TANH_P4));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = cpu_exp_ps256(_mm256_add_ps(ax, ax));
    __m256 big = _mm256_sub_ps(CPU_PS256(1.0f), _mm256_div_ps(CPU_PS256(2.0f), _mm256_add_ps(e, CPU_PS256(1.0f))));
    big = _mm256_or_ps(big, cpu_sign_ps256(x));
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, CPU_PS256(CPU_TANH_SMALL), _CMP_LT_OQ));
}

/* erf(x) / x - 1 for |x| < 1, as a polynomial in z = x^2 */
static inline __m256 cpu_erf_small_ps256(__m256 z) {
    __m256 p = CPU_PS256(CPU_ERF_T0);
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T1));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T2));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T3));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T4));
    p = _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T5));
    return _mm256_fmadd_ps(p, z, CPU_PS256(CPU_ERF_T6M1));
}

/* erfc(t) for t >= 0.5, given t^2 = t2 + t2lo exactly: exp(-t^2) = exp(-t2) (1 - t2lo) keeps ~1 ulp where t^2
 * is large. Callers that know t^2 better than by squaring a rounded t (GELU: x^2 / 2) pass it. */
static inline __m256 cpu_erfc_tail_ps256(__m256 t, __m256 t2, __m256 t2lo) {
    /* t >= 2: R in 1/t^2 (a NaN t passes through) */
    __m256 q = _mm256_div_ps(CPU_PS256(1.0f), t);
    __m256 near = _mm256_cmp_ps(t, CPU_PS256(2.0f), _CMP_LT_OQ); /* [0.5, 2): G in t - 1.25 */
    __m256 z = _mm256_blendv_ps(_mm256_mul_ps(q, q), _mm256_sub_ps(t, CPU_PS256(CPU_ERFC_G_CENTER)), near);
#define CPU_ERFC_C(k) _mm256_blendv_ps(CPU_PS256(CPU_ERFC_R##k), CPU_PS256(CPU_ERFC_G##k), near)
    __m256 f = CPU_ERFC_C(0);
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(1));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(2));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(3));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(4));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(5));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(6));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(7));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(8));
    f = _mm256_fmadd_ps(f, z, CPU_ERFC_C(9));
#undef CPU_ERFC_C
    f = _mm256_blendv_ps(_mm256_mul_ps(f, q), f, near);
    __m256 e = cpu_exp_ps256(_mm256_sub_ps(_mm256_setzero_ps(), t2));
    e = _mm256_fnmadd_ps(e, t2lo, e);
    return _mm256_mul_ps(e, f);
}

/* erfc(t) for t >= 0.5 (t is clamped to [0.5, 10]: erfc(10) is below every f32, and inf would make t^2's low
 * part NaN). */
static inline __m256 cpu_erfc_big_ps256(__m256 t) {
    t = _mm256_min_ps(CPU_PS256(10.0f), _mm256_max_ps(CPU_PS256(0.5f), t));
    __m256 t2 = _mm256_mul_ps(t, t);
    return cpu_erfc_tail_ps256(t, t2, _mm256_fmsub_ps(t, t, t2));
}

static inline __m256 cpu_erf_ps256(__m256 x) {
    __m256 ax = cpu_abs_ps256(x);
    __m256 small = _mm256_fmadd_ps(x, cpu_erf_small_ps256(_mm256_mul_ps(x, x)), x);
    __m256 big = _mm256_sub_ps(CPU_PS256(1.0f), cpu_erfc_big_ps256(ax));
    big = _mm256_or_ps(big, cpu_sign_ps256(x));
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, CPU_PS256(1.0f), _CMP_LT_OQ));
}

static inline __m256 cpu_normcdf_ps256(__m256 x) {
    /* Phi is 0 or 1 beyond +-40; the clamp keeps x^2 finite */
    x = _mm256_max_ps(CPU_PS256(-40.0f), _mm256_min_ps(CPU_PS256(40.0f), x));
    __m256 u = _mm256_mul_ps(x, CPU_PS256(CPU_SQRT1_2));
    __m256 au = cpu_abs_ps256(u);
    __m256 erf_u = _mm256_fmadd_ps(u, cpu_erf_small_ps256(_mm256_mul_ps(u, u)), u);
    __m256 small = _mm256_fmadd_ps(erf_u, CPU_PS256(0.5f), CPU_PS256(0.5f));
    /* |u| >= 0.5: Phi = erfc(|u|) / 2 below zero (no cancellation in the tail), 1 - erfc(u) / 2 above; u^2 is
     * taken as x^2 / 2 (exact halving of x * x split by fma), not as the square of the rounded u */
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 x2h = _mm256_mul_ps(x2, CPU_PS256(0.5f));
    __m256 x2hlo = _mm256_mul_ps(_mm256_fmsub_ps(x, x, x2), CPU_PS256(0.5f));
    __m256 erfc_au = cpu_erfc_tail_ps256(_mm256_max_ps(CPU_PS256(0.5f), au), x2h, x2hlo);
    __m256 half_erfc = _mm256_mul_ps(erfc_au, CPU_PS256(0.5f));
    __m256 neg = _mm256_cmp_ps(u, _mm256_setzero_ps(), _CMP_LT_OQ);
    __m256 big = _mm256_blendv_ps(_mm256_sub_ps(CPU_PS256(1.0f), half_erfc), half_erfc, neg);
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(au, CPU_PS256(0.5f), _CMP_LT_OQ));
}

/* ---- f16 / bf16 <-> f32 (8 elements) ------------------------------------------------------------------------ */
static inline __m256 cpu_load_f16_ps256(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
static inline void cpu_store_f16_ps256(uint16_t *p, __m256 v) {
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
static inline __m256 cpu_load_bf16_ps256(const uint16_t *p) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
/* Round to nearest even in integer arithmetic; NaN stays a quiet NaN (as accel_f32_to_bf16). */
static inline void cpu_store_bf16_ps256(uint16_t *p, __m256 v) {
    __m256i x = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(x, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
    __m256i qnan = _mm256_or_si256(x, _mm256_set1_epi32(0x400000));
    r = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(r), _mm256_castsi256_ps(qnan),
                                             _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    r = _mm256_srli_epi32(r, 16);
    _mm_storeu_si128((__m128i *)p, _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
}

#endif
