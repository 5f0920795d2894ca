/* AVX-512 attention kernels (see cpu_attention.h). Compiled with AVX-512 flags: only reached through
 * cpu_attn_kernels_for(CPU_ISA_AVX512). */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_vec_avx512.h"

#include <math.h>

/* ---- gemm: register tiles of 4 rows x 64 columns (16 accumulators), 4 x 16 (masked) for the column tail ---- */
#define FMA_ROW(x, c0, c1, c2, c3)                                                                                   \
    c0 = _mm512_fmadd_ps(x, b0, c0);                                                                                 \
    c1 = _mm512_fmadd_ps(x, b1, c1);                                                                                 \
    c2 = _mm512_fmadd_ps(x, b2, c2);                                                                                 \
    c3 = _mm512_fmadd_ps(x, b3, c3)

#define STORE_ROW64(p, c0, c1, c2, c3)                                                                               \
    do {                                                                                                             \
        if (accumulate) {                                                                                            \
            c0 = _mm512_add_ps(c0, _mm512_loadu_ps(p));                                                              \
            c1 = _mm512_add_ps(c1, _mm512_loadu_ps(p + 16));                                                         \
            c2 = _mm512_add_ps(c2, _mm512_loadu_ps(p + 32));                                                         \
            c3 = _mm512_add_ps(c3, _mm512_loadu_ps(p + 48));                                                         \
        }                                                                                                            \
        _mm512_storeu_ps(p, c0);                                                                                     \
        _mm512_storeu_ps(p + 16, c1);                                                                                \
        _mm512_storeu_ps(p + 32, c2);                                                                                \
        _mm512_storeu_ps(p + 48, c3);                                                                                \
    } while (0)

static void tile_4x64(int64_t K, const float *const ar[4], int64_t a_cs, const float *b, int64_t ldb, float *c,
                      int64_t ldc, int64_t mr, bool accumulate) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m512 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    __m512 c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    for (int64_t k = 0; k < K; k++) {
        const float *bk = b + k * ldb;
        const __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);
        const __m512 b2 = _mm512_loadu_ps(bk + 32), b3 = _mm512_loadu_ps(bk + 48);
        const int64_t ak = k * a_cs;
        __m512 x = _mm512_set1_ps(a0[ak]);
        FMA_ROW(x, c00, c01, c02, c03);
        x = _mm512_set1_ps(a1[ak]);
        FMA_ROW(x, c10, c11, c12, c13);
        x = _mm512_set1_ps(a2[ak]);
        FMA_ROW(x, c20, c21, c22, c23);
        x = _mm512_set1_ps(a3[ak]);
        FMA_ROW(x, c30, c31, c32, c33);
    }
    STORE_ROW64(c, c00, c01, c02, c03);
    if (mr > 1) STORE_ROW64(c + ldc, c10, c11, c12, c13);
    if (mr > 2) STORE_ROW64(c + 2 * ldc, c20, c21, c22, c23);
    if (mr > 3) STORE_ROW64(c + 3 * ldc, c30, c31, c32, c33);
}

/* 8 rows x 16 (masked) columns: eight independent FMA chains, for column tails and narrow B (decode groups) */
static void tile_8x16(int64_t K, const float *const ar[8], int64_t a_cs, const float *b, int64_t ldb, float *c,
                      int64_t ldc, int64_t mr, __mmask16 mask, bool accumulate) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    const float *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];
    for (int64_t k = 0; k < K; k++) {
        const __m512 bv = _mm512_maskz_loadu_ps(mask, b + k * ldb);
        const int64_t ak = k * a_cs;
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[ak]), bv, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[ak]), bv, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[ak]), bv, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[ak]), bv, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[ak]), bv, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[ak]), bv, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(a6[ak]), bv, c6);
        c7 = _mm512_fmadd_ps(_mm512_set1_ps(a7[ak]), bv, c7);
    }
    __m512 cr[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
    for (int64_t i = 0; i < mr; i++) {
        float *p = c + i * ldc;
        __m512 v = cr[i];
        if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, p));
        _mm512_mask_storeu_ps(p, mask, v);
    }
}

static void gemm_avx512(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                        int64_t ldb, float *c, int64_t ldc, bool accumulate) {
    /* rows past M repeat the last row: computed, never stored */
    const float *ar[8];
    const int64_t N64 = N / 64 * 64;
    if (N64 > 0) {
        for (int64_t m0 = 0; m0 < M; m0 += 4) {
            const int64_t mr = M - m0 < 4 ? M - m0 : 4;
            for (int64_t i = 0; i < 4; i++) ar[i] = a + (m0 + (i < mr ? i : mr - 1)) * a_rs;
            for (int64_t n0 = 0; n0 < N64; n0 += 64)
                tile_4x64(K, ar, a_cs, b + n0, ldb, c + m0 * ldc + n0, ldc, mr, accumulate);
        }
    }
    if (N64 == N) return;
    for (int64_t m0 = 0; m0 < M; m0 += 8) {
        const int64_t mr = M - m0 < 8 ? M - m0 : 8;
        for (int64_t i = 0; i < 8; i++) ar[i] = a + (m0 + (i < mr ? i : mr - 1)) * a_rs;
        for (int64_t n0 = N64; n0 < N; n0 += 16) {
            const __mmask16 mask = N - n0 >= 16 ? (__mmask16)0xffff : cpu_tail_mask16(N - n0);
            tile_8x16(K, ar, a_cs, b + n0, ldb, c + m0 * ldc + n0, ldc, mr, mask, accumulate);
        }
    }
}

/* ---- online softmax over key-major tiles ----------------------------------------------------------------------- */
static void softmax_tile_avx512(float *s, int64_t nk, int64_t nr, int64_t ld, float *m, float *l, float *corr) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int64_t r = 0; r < nr; r += 16) {
        __m512 mt = ninf;
        for (int64_t j = 0; j < nk; j++) mt = _mm512_max_ps(mt, _mm512_loadu_ps(s + j * ld + r));
        const __m512 mold = _mm512_loadu_ps(m + r);
        const __m512 mn = _mm512_max_ps(mold, mt);
        const __mmask16 none = _mm512_cmp_ps_mask(mn, ninf, _CMP_EQ_OQ);
        const __m512 mu = _mm512_mask_blend_ps(none, mn, _mm512_setzero_ps());
        __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
        int64_t j = 0;
        for (; j + 2 <= nk; j += 2) { /* two chains hide the exp latency */
            __m512 p0 = cpu_exp_ps512(_mm512_sub_ps(_mm512_loadu_ps(s + j * ld + r), mu));
            __m512 p1 = cpu_exp_ps512(_mm512_sub_ps(_mm512_loadu_ps(s + (j + 1) * ld + r), mu));
            _mm512_storeu_ps(s + j * ld + r, p0);
            _mm512_storeu_ps(s + (j + 1) * ld + r, p1);
            sum0 = _mm512_add_ps(sum0, p0);
            sum1 = _mm512_add_ps(sum1, p1);
        }
        if (j < nk) {
            __m512 p0 = cpu_exp_ps512(_mm512_sub_ps(_mm512_loadu_ps(s + j * ld + r), mu));
            _mm512_storeu_ps(s + j * ld + r, p0);
            sum0 = _mm512_add_ps(sum0, p0);
        }
        const __m512 cr = cpu_exp_ps512(_mm512_sub_ps(mold, mu));
        _mm512_storeu_ps(corr + r, cr);
        _mm512_storeu_ps(l + r, _mm512_fmadd_ps(_mm512_loadu_ps(l + r), cr, _mm512_add_ps(sum0, sum1)));
        _mm512_storeu_ps(m + r, mn);
    }
}

/* ---- single-query kernels (decode) -----------------------------------------------------------------------------
 * One copy per K/V dtype (the load is the only difference), so the inner loops carry no dtype branch; full
 * 16-element chunks use plain loads, only the row tail a masked one. */
static inline __m512 load16_f32(const char *p) { return _mm512_loadu_ps((const float *)(const void *)p); }
static inline __m512 load16_f32_mask(const char *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
static inline __m512 load16_f16(const char *p) { return cpu_load_f16_ps512((const uint16_t *)(const void *)p); }
static inline __m512 load16_f16_mask(const char *p, __mmask16 m) {
    return cpu_load_f16_mask_ps512((const uint16_t *)(const void *)p, m);
}
static inline __m512 load16_bf16(const char *p) { return cpu_load_bf16_ps512((const uint16_t *)(const void *)p); }
static inline __m512 load16_bf16_mask(const char *p, __mmask16 m) {
    return cpu_load_bf16_mask_ps512((const uint16_t *)(const void *)p, m);
}

#define ATTN_PF 16 /* rows ahead to prefetch */
#define DEFINE_SCORES(T, ES)                                                                                         \
    static void scores_##T(const float *q, const char *k, int64_t k_rs, int64_t D, int64_t n, float *s) {            \
        const int64_t D16 = D & ~(int64_t)15;                                                                        \
        const __mmask16 tail = cpu_tail_mask16(D - D16);                                                             \
        int64_t j = 0;                                                                                               \
        for (; j + 4 <= n; j += 4) { /* four keys at once: independent FMA chains */                                 \
            const char *r0 = k + j * k_rs, *r1 = r0 + k_rs, *r2 = r1 + k_rs, *r3 = r2 + k_rs;                       \
            if (j + ATTN_PF + 4 <= n)                                                                                \
                for (int64_t b = 0; b < D * ES; b += 64) {                                                           \
                    _mm_prefetch(r0 + ATTN_PF * k_rs + b, _MM_HINT_T0);                                              \
                    _mm_prefetch(r1 + ATTN_PF * k_rs + b, _MM_HINT_T0);                                              \
                    _mm_prefetch(r2 + ATTN_PF * k_rs + b, _MM_HINT_T0);                                              \
                    _mm_prefetch(r3 + ATTN_PF * k_rs + b, _MM_HINT_T0);                                              \
                }                                                                                                    \
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                              \
            for (int64_t d = 0; d < D16; d += 16) {                                                                  \
                const __m512 qv = _mm512_loadu_ps(q + d);                                                            \
                a0 = _mm512_fmadd_ps(qv, load16_##T(r0 + d * ES), a0);                                               \
                a1 = _mm512_fmadd_ps(qv, load16_##T(r1 + d * ES), a1);                                               \
                a2 = _mm512_fmadd_ps(qv, load16_##T(r2 + d * ES), a2);                                               \
                a3 = _mm512_fmadd_ps(qv, load16_##T(r3 + d * ES), a3);                                               \
            }                                                                                                        \
            if (tail) {                                                                                              \
                const __m512 qv = _mm512_maskz_loadu_ps(tail, q + D16);                                              \
                a0 = _mm512_fmadd_ps(qv, load16_##T##_mask(r0 + D16 * ES, tail), a0);                                \
                a1 = _mm512_fmadd_ps(qv, load16_##T##_mask(r1 + D16 * ES, tail), a1);                                \
                a2 = _mm512_fmadd_ps(qv, load16_##T##_mask(r2 + D16 * ES, tail), a2);                                \
                a3 = _mm512_fmadd_ps(qv, load16_##T##_mask(r3 + D16 * ES, tail), a3);                                \
            }                                                                                                        \
            s[j] = _mm512_reduce_add_ps(a0);                                                                         \
            s[j + 1] = _mm512_reduce_add_ps(a1);                                                                     \
            s[j + 2] = _mm512_reduce_add_ps(a2);                                                                     \
            s[j + 3] = _mm512_reduce_add_ps(a3);                                                                     \
        }                                                                                                            \
        for (; j < n; j++) {                                                                                         \
            const char *r0 = k + j * k_rs;                                                                           \
            __m512 a0 = _mm512_setzero_ps();                                                                         \
            for (int64_t d = 0; d < D16; d += 16)                                                                    \
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), load16_##T(r0 + d * ES), a0);                           \
            if (tail)                                                                                                \
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + D16), load16_##T##_mask(r0 + D16 * ES, tail),   \
                                     a0);                                                                            \
            s[j] = _mm512_reduce_add_ps(a0);                                                                         \
        }                                                                                                            \
    }

/* o += sum_j p[j] v_j: blocks of 64 outputs stay in registers while the V rows stream by in order (two rows per
 * step: 8 independent FMA chains); a column tail under 64 goes 16 at a time. */
#define DEFINE_ACCUM(T, ES)                                                                                          \
    static void accum_##T(float *o, const float *p, const char *v, int64_t v_rs, int64_t Dv, int64_t n) {             \
        int64_t e = 0;                                                                                               \
        for (; e + 64 <= Dv; e += 64) {                                                                              \
            const char *col = v + e * ES;                                                                            \
            __m512 a0 = _mm512_loadu_ps(o + e), a1 = _mm512_loadu_ps(o + e + 16);                                    \
            __m512 a2 = _mm512_loadu_ps(o + e + 32), a3 = _mm512_loadu_ps(o + e + 48);                               \
            __m512 b0 = _mm512_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;                                              \
            int64_t j = 0;                                                                                           \
            for (; j + 2 <= n; j += 2) {                                                                             \
                const char *r0 = col + j * v_rs, *r1 = r0 + v_rs;                                                    \
                if (e == 0 && j + ATTN_PF + 2 <= n)                                                                  \
                    for (int64_t b = 0; b < Dv * ES; b += 64) {                                                      \
                        _mm_prefetch(r0 + ATTN_PF * v_rs + b, _MM_HINT_T0);                                          \
                        _mm_prefetch(r1 + ATTN_PF * v_rs + b, _MM_HINT_T0);                                          \
                    }                                                                                                \
                const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);                               \
                a0 = _mm512_fmadd_ps(p0, load16_##T(r0), a0);                                                        \
                a1 = _mm512_fmadd_ps(p0, load16_##T(r0 + 16 * ES), a1);                                              \
                a2 = _mm512_fmadd_ps(p0, load16_##T(r0 + 32 * ES), a2);                                              \
                a3 = _mm512_fmadd_ps(p0, load16_##T(r0 + 48 * ES), a3);                                              \
                b0 = _mm512_fmadd_ps(p1, load16_##T(r1), b0);                                                        \
                b1 = _mm512_fmadd_ps(p1, load16_##T(r1 + 16 * ES), b1);                                              \
                b2 = _mm512_fmadd_ps(p1, load16_##T(r1 + 32 * ES), b2);                                              \
                b3 = _mm512_fmadd_ps(p1, load16_##T(r1 + 48 * ES), b3);                                              \
            }                                                                                                        \
            if (j < n) {                                                                                             \
                const char *r0 = col + j * v_rs;                                                                     \
                const __m512 p0 = _mm512_set1_ps(p[j]);                                                              \
                a0 = _mm512_fmadd_ps(p0, load16_##T(r0), a0);                                                        \
                a1 = _mm512_fmadd_ps(p0, load16_##T(r0 + 16 * ES), a1);                                              \
                a2 = _mm512_fmadd_ps(p0, load16_##T(r0 + 32 * ES), a2);                                              \
                a3 = _mm512_fmadd_ps(p0, load16_##T(r0 + 48 * ES), a3);                                              \
            }                                                                                                        \
            _mm512_storeu_ps(o + e, _mm512_add_ps(a0, b0));                                                          \
            _mm512_storeu_ps(o + e + 16, _mm512_add_ps(a1, b1));                                                     \
            _mm512_storeu_ps(o + e + 32, _mm512_add_ps(a2, b2));                                                     \
            _mm512_storeu_ps(o + e + 48, _mm512_add_ps(a3, b3));                                                     \
        }                                                                                                            \
        for (; e < Dv; e += 16) {                                                                                    \
            const __mmask16 mask = Dv - e >= 16 ? (__mmask16)0xffff : cpu_tail_mask16(Dv - e);                       \
            const char *col = v + e * ES;                                                                            \
            __m512 a0 = _mm512_maskz_loadu_ps(mask, o + e), a1 = _mm512_setzero_ps(), a2 = a1, a3 = a1;              \
            int64_t j = 0;                                                                                           \
            for (; j + 4 <= n; j += 4) {                                                                             \
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), load16_##T##_mask(col + j * v_rs, mask), a0);             \
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 1]), load16_##T##_mask(col + (j + 1) * v_rs, mask), a1);   \
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 2]), load16_##T##_mask(col + (j + 2) * v_rs, mask), a2);   \
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 3]), load16_##T##_mask(col + (j + 3) * v_rs, mask), a3);   \
            }                                                                                                        \
            for (; j < n; j++)                                                                                       \
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), load16_##T##_mask(col + j * v_rs, mask), a0);             \
            _mm512_mask_storeu_ps(o + e, mask, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));         \
        }                                                                                                            \
    }

DEFINE_SCORES(f32, 4)
DEFINE_SCORES(f16, 2)
DEFINE_SCORES(bf16, 2)
DEFINE_ACCUM(f32, 4)
DEFINE_ACCUM(f16, 2)
DEFINE_ACCUM(bf16, 2)

static void scores_avx512(const float *q, const char *k, int64_t k_rs, int64_t k_cs, accel_dtype kt, int64_t D,
                          int64_t n, float *s) {
    if (kt == ACCEL_F32 && k_cs == 4) scores_f32(q, k, k_rs, D, n, s);
    else if (kt == ACCEL_F16 && k_cs == 2) scores_f16(q, k, k_rs, D, n, s);
    else if (kt == ACCEL_BF16 && k_cs == 2) scores_bf16(q, k, k_rs, D, n, s);
    else cpu_attn_kernels_portable.scores(q, k, k_rs, k_cs, kt, D, n, s);
}

static void accum_avx512(float *o, const float *p, const char *v, int64_t v_rs, int64_t v_cs, accel_dtype vt,
                         int64_t Dv, int64_t n) {
    if (vt == ACCEL_F32 && v_cs == 4) accum_f32(o, p, v, v_rs, Dv, n);
    else if (vt == ACCEL_F16 && v_cs == 2) accum_f16(o, p, v, v_rs, Dv, n);
    else if (vt == ACCEL_BF16 && v_cs == 2) accum_bf16(o, p, v, v_rs, Dv, n);
    else cpu_attn_kernels_portable.accum(o, p, v, v_rs, v_cs, vt, Dv, n);
}

static float row_max_avx512(const float *s, int64_t n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = n - j >= 16 ? (__mmask16)0xffff : cpu_tail_mask16(n - j);
        mx = _mm512_mask_max_ps(mx, mask, mx, _mm512_maskz_loadu_ps(mask, s + j));
    }
    return _mm512_reduce_max_ps(mx);
}

static float exp_sum_avx512(float *s, int64_t n, float m) {
    const __m512 mv = _mm512_set1_ps(m);
    __m512 sum = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 mask = n - j >= 16 ? (__mmask16)0xffff : cpu_tail_mask16(n - j);
        const __m512 p = cpu_exp_ps512(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, s + j), mv));
        _mm512_mask_storeu_ps(s + j, mask, p);
        sum = _mm512_mask_add_ps(sum, mask, sum, p);
    }
    return _mm512_reduce_add_ps(sum);
}

const cpu_attn_kernels cpu_attn_kernels_avx512 = {
    gemm_avx512, softmax_tile_avx512, scores_avx512, accum_avx512, row_max_avx512, exp_sum_avx512,
};
