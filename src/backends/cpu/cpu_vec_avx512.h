/* Inline AVX-512 math and conversion primitives on 16 floats. Include only from *_avx512.c files (compiled with
 * -mavx512f/bw/dq/vl, -mfma, -mf16c) and call them only when ctx->isa == CPU_ISA_AVX512.
 *
 *   cpu_exp_ps512(x)      exp, <= 1 ulp; +inf above 88.8, 0 below -87.3365 (no denormal results), NaN passes
 *   cpu_exp2_ps512(t)     2^t, ~1 ulp; 0 below 2^-125 (no denormal results)
 *   cpu_sigmoid_ps512(x)  1 / (1 + exp(-x)), accurate in both tails (uses exp(-|x|))
 *   cpu_tanh_ps512(x)     tanh, <= 3 ulp
 *   cpu_erf_ps512(x)      erf, relative error ~1e-7
 *   cpu_normcdf_ps512(x)  Phi(x) = (1 + erf(x / sqrt 2)) / 2, accurate also in the lower tail (GELU)
 *   cpu_load_f16_ps512 / cpu_load_bf16_ps512 / cpu_store_f16_ps512 / cpu_store_bf16_ps512 and _mask variants:
 *                         16 halfs <-> 16 floats, round to nearest even (same bits as accel_f32_to_f16/bf16)
 *   cpu_tail_mask16(n)    mask of the first n (< 16) lanes for masked loads and stores of row tails
 */
#ifndef ACCEL_CPU_VEC_AVX512_H
#define ACCEL_CPU_VEC_AVX512_H

#include "backends/cpu/cpu_vec_coef.h"

#include <immintrin.h>
#include <stdint.h>

#define CPU_PS512(c) _mm512_set1_ps(c)

static inline __mmask16 cpu_tail_mask16(int64_t n) { return (__mmask16)((1u << n) - 1u); }

static inline __m512 cpu_exp_ps512(__m512 x) {
    /* min/max with the constant first: a NaN x is the second operand and is passed through */
    __mmask16 keep = _mm512_cmp_ps_mask(x, CPU_PS512(CPU_EXP_FTZ), _CMP_NLT_UQ);
    x = _mm512_min_ps(CPU_PS512(CPU_EXP_MAX), x);
    x = _mm512_max_ps(CPU_PS512(CPU_EXP_FTZ), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, CPU_PS512(CPU_EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, CPU_PS512(CPU_EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, CPU_PS512(CPU_EXP_LN2_LO), r);
    __m512 p = CPU_PS512(CPU_EXP_P0);
    p = _mm512_fmadd_ps(p, r, CPU_PS512(CPU_EXP_P1));
    p = _mm512_fmadd_ps(p, r, CPU_PS512(CPU_EXP_P2));
    p = _mm512_fmadd_ps(p, r, CPU_PS512(CPU_EXP_P3));
    p = _mm512_fmadd_ps(p, r, CPU_PS512(CPU_EXP_P4));
    p = _mm512_fmadd_ps(p, r, CPU_PS512(CPU_EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, CPU_PS512(1.0f));
    /* scalef multiplies by 2^n with one rounding: overflow gives inf */
    return _mm512_maskz_scalef_ps(keep, p, n);
}

/* 1 / d to ~1 ulp: the 14-bit estimate refined by one Newton step. A division (vdivps) would block the divider
 * for ~10 cycles per vector, the bottleneck of the activations that need one. d must be finite and nonzero. */
static inline __m512 cpu_recip_ps512(__m512 d) {
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, CPU_PS512(1.0f)), r);
}

/* 2^t, ~1 ulp, for t >= -125; smaller t (and -inf) give 0 instead of a denormal (see CPU_EXP2_FTZ). The caller's
 * rounding of t is its own business: exp(x) as exp2(x log2 e) would lose accuracy for large |x|, which is why
 * cpu_exp_ps512 reduces by ln 2 instead. */
static inline __m512 cpu_exp2_ps512(__m512 t) {
    t = _mm512_min_ps(CPU_PS512(CPU_EXP2_MAX), t);
    __mmask16 keep = _mm512_cmp_ps_mask(t, CPU_PS512(CPU_EXP2_FTZ), _CMP_NLT_UQ); /* NaN is kept */
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = CPU_PS512(CPU_EXP2_Q0);
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q1));
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q2));
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q3));
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q4));
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q5));
    p = _mm512_fmadd_ps(p, f, CPU_PS512(CPU_EXP2_Q6));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

static inline __m512 cpu_sigmoid_ps512(__m512 x) {
    __m512 e = cpu_exp_ps512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    __m512 r = cpu_recip_ps512(_mm512_add_ps(CPU_PS512(1.0f), e)); /* 1 + e is in [1, 2] */
    /* x < 0: sigmoid(x) = e^x / (1 + e^x), which keeps full relative accuracy in the lower tail */
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(r, neg, r, e);
}

static inline __m512 cpu_tanh_ps512(__m512 x) {
    __m512 ax = _mm512_abs_ps(x);
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = CPU_PS512(CPU_TANH_P0);
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_TANH_P1));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_TANH_P2));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_TANH_P3));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_TANH_P4));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __m512 e = cpu_exp_ps512(_mm512_add_ps(ax, ax));
    /* 1 - 2 / (e + 1); e + 1 may be +inf for large |x|, where the refined estimate would be NaN: 2 / inf = 0 */
    __m512 ep1 = _mm512_add_ps(e, CPU_PS512(1.0f));
    __mmask16 huge = _mm512_cmp_ps_mask(ep1, CPU_PS512(3.0e38f), _CMP_GE_OQ); /* NaN stays NaN */
    __m512 inv = _mm512_mask_blend_ps(huge, cpu_recip_ps512(ep1), _mm512_setzero_ps());
    __m512 big = _mm512_fnmadd_ps(inv, CPU_PS512(2.0f), CPU_PS512(1.0f));
    big = _mm512_or_ps(big, _mm512_and_ps(x, CPU_PS512(-0.0f))); /* sign of x */
    __mmask16 is_small = _mm512_cmp_ps_mask(ax, CPU_PS512(CPU_TANH_SMALL), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(is_small, big, small);
}

/* erf(x) / x - 1 for |x| < 1, as a polynomial in z = x^2 */
static inline __m512 cpu_erf_small_ps512(__m512 z) {
    __m512 p = CPU_PS512(CPU_ERF_T0);
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T1));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T2));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T3));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T4));
    p = _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T5));
    return _mm512_fmadd_ps(p, z, CPU_PS512(CPU_ERF_T6M1));
}

/* erfc(t) for t >= 0.5, given t^2 = t2 + t2lo exactly: exp(-t^2) = exp(-t2) (1 - t2lo) keeps ~1 ulp where t^2
 * is large. Callers that know t^2 better than by squaring a rounded t (GELU: x^2 / 2) pass it. */
static inline __m512 cpu_erfc_tail_ps512(__m512 t, __m512 t2, __m512 t2lo) {
    __mmask16 near = _mm512_cmp_ps_mask(t, CPU_PS512(2.0f), _CMP_LT_OQ); /* [0.5, 2): G in t - 1.25 */
    __m512 z = _mm512_sub_ps(t, CPU_PS512(CPU_ERFC_G_CENTER)), q = z, f;
    if (near != 0xffff) {
        /* t >= 2: R in 1/t^2; capped so that 1/t stays finite (erfc is 0 long before), a NaN t passes through */
        q = cpu_recip_ps512(_mm512_min_ps(CPU_PS512(1e10f), t));
        z = _mm512_mask_blend_ps(near, _mm512_mul_ps(q, q), z);
    }
#define CPU_ERFC_HORNER(C)                                                                                      \
    f = C(0);                                                                                                   \
    f = _mm512_fmadd_ps(f, z, C(1));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(2));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(3));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(4));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(5));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(6));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(7));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(8));                                                                            \
    f = _mm512_fmadd_ps(f, z, C(9))
#define CPU_ERFC_G(k) CPU_PS512(CPU_ERFC_G##k)
#define CPU_ERFC_GR(k) _mm512_mask_blend_ps(near, CPU_PS512(CPU_ERFC_R##k), CPU_PS512(CPU_ERFC_G##k))
    if (near == 0xffff) { /* the common case in activations: no lane in the far tail, no per-lane coefficients */
        CPU_ERFC_HORNER(CPU_ERFC_G);
    } else {
        CPU_ERFC_HORNER(CPU_ERFC_GR);
        f = _mm512_mask_blend_ps(near, _mm512_mul_ps(f, q), f);
    }
#undef CPU_ERFC_HORNER
#undef CPU_ERFC_G
#undef CPU_ERFC_GR
    __m512 e = cpu_exp_ps512(_mm512_sub_ps(_mm512_setzero_ps(), t2));
    e = _mm512_fnmadd_ps(e, t2lo, e);
    return _mm512_mul_ps(e, f);
}

/* erfc(t) for t >= 0.5 (t is clamped to [0.5, 10]: erfc(10) is below every f32, and inf would make t^2's low
 * part NaN). */
static inline __m512 cpu_erfc_big_ps512(__m512 t) {
    t = _mm512_min_ps(CPU_PS512(10.0f), _mm512_max_ps(CPU_PS512(0.5f), t));
    __m512 t2 = _mm512_mul_ps(t, t);
    return cpu_erfc_tail_ps512(t, t2, _mm512_fmsub_ps(t, t, t2));
}

static inline __m512 cpu_erf_ps512(__m512 x) {
    __m512 ax = _mm512_abs_ps(x);
    __m512 small = _mm512_fmadd_ps(x, cpu_erf_small_ps512(_mm512_mul_ps(x, x)), x);
    __m512 big = _mm512_sub_ps(CPU_PS512(1.0f), cpu_erfc_big_ps512(ax));
    big = _mm512_or_ps(big, _mm512_and_ps(x, CPU_PS512(-0.0f)));
    __mmask16 is_small = _mm512_cmp_ps_mask(ax, CPU_PS512(1.0f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(is_small, big, small);
}

static inline __m512 cpu_normcdf_ps512(__m512 x) {
    /* Phi is 0 or 1 beyond +-40; the clamp keeps x^2 finite */
    x = _mm512_max_ps(CPU_PS512(-40.0f), _mm512_min_ps(CPU_PS512(40.0f), x));
    __m512 u = _mm512_mul_ps(x, CPU_PS512(CPU_SQRT1_2));
    __m512 au = _mm512_abs_ps(u);
    __m512 erf_u = _mm512_fmadd_ps(u, cpu_erf_small_ps512(_mm512_mul_ps(u, u)), u);
    __m512 small = _mm512_fmadd_ps(erf_u, CPU_PS512(0.5f), CPU_PS512(0.5f));
    /* |u| >= 0.5: Phi = erfc(|u|) / 2 below zero (no cancellation in the tail), 1 - erfc(u) / 2 above; u^2 is
     * taken as x^2 / 2 (exact halving of x * x split by fma), not as the square of the rounded u */
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 x2h = _mm512_mul_ps(x2, CPU_PS512(0.5f));
    __m512 x2hlo = _mm512_mul_ps(_mm512_fmsub_ps(x, x, x2), CPU_PS512(0.5f));
    __m512 erfc_au = cpu_erfc_tail_ps512(_mm512_max_ps(CPU_PS512(0.5f), au), x2h, x2hlo);
    __m512 half_erfc = _mm512_mul_ps(erfc_au, CPU_PS512(0.5f));
    __mmask16 neg = _mm512_cmp_ps_mask(u, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 big = _mm512_mask_blend_ps(neg, _mm512_sub_ps(CPU_PS512(1.0f), half_erfc), half_erfc);
    __mmask16 is_small = _mm512_cmp_ps_mask(au, CPU_PS512(0.5f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(is_small, big, small);
}

/* ---- f16 / bf16 <-> f32 ------------------------------------------------------------------------------------- */
static inline __m512 cpu_load_f16_ps512(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline __m512 cpu_load_f16_mask_ps512(const uint16_t *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}
static inline void cpu_store_f16_ps512(uint16_t *p, __m512 v) {
    _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
static inline void cpu_store_f16_mask_ps512(uint16_t *p, __m512 v, __mmask16 m) {
    _mm256_mask_storeu_epi16(p, m, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static inline __m512 cpu_bf16_bits_to_ps512(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
static inline __m512 cpu_load_bf16_ps512(const uint16_t *p) {
    return cpu_bf16_bits_to_ps512(_mm256_loadu_si256((const __m256i *)p));
}
static inline __m512 cpu_load_bf16_mask_ps512(const uint16_t *p, __mmask16 m) {
    return cpu_bf16_bits_to_ps512(_mm256_maskz_loadu_epi16(m, p));
}
/* Round to nearest even in integer arithmetic (VCVTNEPS2BF16 would flush denormals); NaN stays a quiet NaN. */
static inline __m256i cpu_ps512_to_bf16_bits(__m512 v) {
    __m512i x = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(x, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(x, _mm512_set1_epi32(0x400000)));
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}
static inline void cpu_store_bf16_ps512(uint16_t *p, __m512 v) {
    _mm256_storeu_si256((__m256i *)p, cpu_ps512_to_bf16_bits(v));
}
static inline void cpu_store_bf16_mask_ps512(uint16_t *p, __m512 v, __mmask16 m) {
    _mm256_mask_storeu_epi16(p, m, cpu_ps512_to_bf16_bits(v));
}

#endif
