/* AVX2 + FMA + F16C attention kernels (see cpu_attention.h). Compiled with those flags: only reached through
 * cpu_attn_kernels_for(CPU_ISA_AVX2). Row tails that do not fill 8 lanes use masked f32 loads or scalar code. */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec_avx2.h"

#include <math.h>

/* Lane mask selecting the first n (0..8) of 8 lanes, for maskload / maskstore. */
static inline __m256i tail_mask8(int64_t n) {
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(bits + 8 - n));
}

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ---- gemm: register tiles of 4 rows x 16 columns, 4 x 8 (masked) for the column tail ------------------------- */
static void tile_4x16(int64_t K, const float *const ar[4], int64_t a_cs, const float *b, int64_t ldb, float *c,
                      int64_t ldc, int64_t mr, bool accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    for (int64_t k = 0; k < K; k++) {
        const float *bk = b + k * ldb;
        const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
        const int64_t ak = k * a_cs;
        __m256 x = _mm256_broadcast_ss(a0 + ak);
        c00 = _mm256_fmadd_ps(x, b0, c00);
        c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a1 + ak);
        c10 = _mm256_fmadd_ps(x, b0, c10);
        c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a2 + ak);
        c20 = _mm256_fmadd_ps(x, b0, c20);
        c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a3 + ak);
        c30 = _mm256_fmadd_ps(x, b0, c30);
        c31 = _mm256_fmadd_ps(x, b1, c31);
    }
    __m256 cr[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    for (int64_t i = 0; i < mr; i++) {
        float *p = c + i * ldc;
        __m256 v0 = cr[i][0], v1 = cr[i][1];
        if (accumulate) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(p));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(p + 8));
        }
        _mm256_storeu_ps(p, v0);
        _mm256_storeu_ps(p + 8, v1);
    }
}

/* 8 rows x 8 (masked) columns: eight independent FMA chains, for the column tail */
static void tile_8x8(int64_t K, const float *const ar[8], int64_t a_cs, const float *b, int64_t ldb, float *c,
                     int64_t ldc, int64_t mr, __m256i mask, bool accumulate) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    const float *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];
    for (int64_t k = 0; k < K; k++) {
        const __m256 bv = _mm256_maskload_ps(b + k * ldb, mask);
        const int64_t ak = k * a_cs;
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + ak), bv, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + ak), bv, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + ak), bv, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + ak), bv, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + ak), bv, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + ak), bv, c5);
        c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(a6 + ak), bv, c6);
        c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(a7 + ak), bv, c7);
    }
    __m256 cr[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
    for (int64_t i = 0; i < mr; i++) {
        float *p = c + i * ldc;
        __m256 v = cr[i];
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(p, mask));
        _mm256_maskstore_ps(p, mask, v);
    }
}

static void gemm_avx2(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                      int64_t ldb, float *c, int64_t ldc, bool accumulate) {
    /* rows past M repeat the last row: computed, never stored */
    const float *ar[8];
    const int64_t N16 = N / 16 * 16;
    if (N16 > 0) {
        for (int64_t m0 = 0; m0 < M; m0 += 4) {
            const int64_t mr = M - m0 < 4 ? M - m0 : 4;
            for (int64_t i = 0; i < 4; i++) ar[i] = a + (m0 + (i < mr ? i : mr - 1)) * a_rs;
            for (int64_t n0 = 0; n0 < N16; n0 += 16)
                tile_4x16(K, ar, a_cs, b + n0, ldb, c + m0 * ldc + n0, ldc, mr, accumulate);
        }
    }
    if (N16 == N) return;
    for (int64_t m0 = 0; m0 < M; m0 += 8) {
        const int64_t mr = M - m0 < 8 ? M - m0 : 8;
        for (int64_t i = 0; i < 8; i++) ar[i] = a + (m0 + (i < mr ? i : mr - 1)) * a_rs;
        for (int64_t n0 = N16; n0 < N; n0 += 8)
            tile_8x8(K, ar, a_cs, b + n0, ldb, c + m0 * ldc + n0, ldc, mr, tail_mask8(N - n0 < 8 ? N - n0 : 8),
                     accumulate);
    }
}

/* ---- online softmax over key-major tiles ----------------------------------------------------------------------- */
static void softmax_tile_avx2(float *s, int64_t nk, int64_t nr, int64_t ld, float *m, float *l, float *corr) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int64_t r = 0; r < nr; r += 8) {
        __m256 mt = ninf;
        for (int64_t j = 0; j < nk; j++) mt = _mm256_max_ps(mt, _mm256_loadu_ps(s + j * ld + r));
        const __m256 mold = _mm256_loadu_ps(m + r);
        const __m256 mn = _mm256_max_ps(mold, mt);
        const __m256 mu = _mm256_andnot_ps(_mm256_cmp_ps(mn, ninf, _CMP_EQ_OQ), mn); /* -inf -> 0 */
        __m256 sum0 = _mm256_setzero_ps(), sum1 = sum0;
        int64_t j = 0;
        for (; j + 2 <= nk; j += 2) {
            __m256 p0 = cpu_exp_ps256(_mm256_sub_ps(_mm256_loadu_ps(s + j * ld + r), mu));
            __m256 p1 = cpu_exp_ps256(_mm256_sub_ps(_mm256_loadu_ps(s + (j + 1) * ld + r), mu));
            _mm256_storeu_ps(s + j * ld + r, p0);
            _mm256_storeu_ps(s + (j + 1) * ld + r, p1);
            sum0 = _mm256_add_ps(sum0, p0);
            sum1 = _mm256_add_ps(sum1, p1);
        }
        if (j < nk) {
            __m256 p0 = cpu_exp_ps256(_mm256_sub_ps(_mm256_loadu_ps(s + j * ld + r), mu));
            _mm256_storeu_ps(s + j * ld + r, p0);
            sum0 = _mm256_add_ps(sum0, p0);
        }
        const __m256 cr = cpu_exp_ps256(_mm256_sub_ps(mold, mu));
        _mm256_storeu_ps(corr + r, cr);
        _mm256_storeu_ps(l + r, _mm256_fmadd_ps(_mm256_loadu_ps(l + r), cr, _mm256_add_ps(sum0, sum1)));
        _mm256_storeu_ps(m + r, mn);
    }
}

/* ---- single-query kernels (decode) ----------------------------------------------------------------------------- */
/* 8 elements of a K/V row of dtype dt as f32. */
static inline __m256 load_row8(const char *p, accel_dtype dt) {
    if (dt == ACCEL_F32) return _mm256_loadu_ps((const float *)(const void *)p);
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    if (dt == ACCEL_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static void scores_avx2(const float *q, const char *k, int64_t k_rs, int64_t k_cs, accel_dtype kt, int64_t D,
                        int64_t n, float *s) {
    const int64_t es = kt == ACCEL_F32 ? 4 : 2;
    if (k_cs != es) {
        cpu_attn_kernels_portable.scores(q, k, k_rs, k_cs, kt, D, n, s);
        return;
    }
    const int64_t D8 = D & ~(int64_t)7;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) { /* four keys at once: independent FMA chains */
        const char *r0 = k + j * k_rs, *r1 = r0 + k_rs, *r2 = r1 + k_rs, *r3 = r2 + k_rs;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t d = 0; d < D8; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qv, load_row8(r0 + d * es, kt), a0);
            a1 = _mm256_fmadd_ps(qv, load_row8(r1 + d * es, kt), a1);
            a2 = _mm256_fmadd_ps(qv, load_row8(r2 + d * es, kt), a2);
            a3 = _mm256_fmadd_ps(qv, load_row8(r3 + d * es, kt), a3);
        }
        float t[4] = {hsum256(a0), hsum256(a1), hsum256(a2), hsum256(a3)};
        const char *rows[4] = {r0, r1, r2, r3};
        for (int i = 0; i < 4; i++) {
            for (int64_t d = D8; d < D; d++) t[i] += q[d] * cpu_data_load_float(rows[i] + d * es, kt);
            s[j + i] = t[i];
        }
    }
    for (; j < n; j++) {
        const char *r0 = k + j * k_rs;
        __m256 a0 = _mm256_setzero_ps();
        for (int64_t d = 0; d < D8; d += 8)
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load_row8(r0 + d * es, kt), a0);
        float t = hsum256(a0);
        for (int64_t d = D8; d < D; d++) t += q[d] * cpu_data_load_float(r0 + d * es, kt);
        s[j] = t;
    }
}

static void accum_avx2(float *o, const float *p, const char *v, int64_t v_rs, int64_t v_cs, accel_dtype vt,
                       int64_t Dv, int64_t n) {
    const int64_t es = vt == ACCEL_F32 ? 4 : 2;
    if (v_cs != es) {
        cpu_attn_kernels_portable.accum(o, p, v, v_rs, v_cs, vt, Dv, n);
        return;
    }
    const int64_t D8 = Dv & ~(int64_t)7;
    int64_t e = 0;
    /* blocks of 32 outputs stay in registers while V rows stream by in order, two rows per step */
    for (; e + 32 <= D8; e += 32) {
        const char *col = v + e * es;
        __m256 a0 = _mm256_loadu_ps(o + e), a1 = _mm256_loadu_ps(o + e + 8);
        __m256 a2 = _mm256_loadu_ps(o + e + 16), a3 = _mm256_loadu_ps(o + e + 24);
        __m256 b0 = _mm256_setzero_ps(), b1 = b0, b2 = b0, b3 = b0;
        int64_t j = 0;
        for (; j + 2 <= n; j += 2) {
            const char *r0 = col + j * v_rs, *r1 = r0 + v_rs;
            const __m256 p0 = _mm256_broadcast_ss(p + j), p1 = _mm256_broadcast_ss(p + j + 1);
            a0 = _mm256_fmadd_ps(p0, load_row8(r0, vt), a0);
            a1 = _mm256_fmadd_ps(p0, load_row8(r0 + 8 * es, vt), a1);
            a2 = _mm256_fmadd_ps(p0, load_row8(r0 + 16 * es, vt), a2);
            a3 = _mm256_fmadd_ps(p0, load_row8(r0 + 24 * es, vt), a3);
            b0 = _mm256_fmadd_ps(p1, load_row8(r1, vt), b0);
            b1 = _mm256_fmadd_ps(p1, load_row8(r1 + 8 * es, vt), b1);
            b2 = _mm256_fmadd_ps(p1, load_row8(r1 + 16 * es, vt), b2);
            b3 = _mm256_fmadd_ps(p1, load_row8(r1 + 24 * es, vt), b3);
        }
        if (j < n) {
            const char *r0 = col + j * v_rs;
            const __m256 p0 = _mm256_broadcast_ss(p + j);
            a0 = _mm256_fmadd_ps(p0, load_row8(r0, vt), a0);
            a1 = _mm256_fmadd_ps(p0, load_row8(r0 + 8 * es, vt), a1);
            a2 = _mm256_fmadd_ps(p0, load_row8(r0 + 16 * es, vt), a2);
            a3 = _mm256_fmadd_ps(p0, load_row8(r0 + 24 * es, vt), a3);
        }
        _mm256_storeu_ps(o + e, _mm256_add_ps(a0, b0));
        _mm256_storeu_ps(o + e + 8, _mm256_add_ps(a1, b1));
        _mm256_storeu_ps(o + e + 16, _mm256_add_ps(a2, b2));
        _mm256_storeu_ps(o + e + 24, _mm256_add_ps(a3, b3));
    }
    for (; e < D8; e += 8) {
        const char *col = v + e * es;
        __m256 a0 = _mm256_loadu_ps(o + e), a1 = _mm256_setzero_ps(), a2 = a1, a3 = a1;
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j), load_row8(col + j * v_rs, vt), a0);
            a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j + 1), load_row8(col + (j + 1) * v_rs, vt), a1);
            a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j + 2), load_row8(col + (j + 2) * v_rs, vt), a2);
            a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j + 3), load_row8(col + (j + 3) * v_rs, vt), a3);
        }
        for (; j < n; j++) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p + j), load_row8(col + j * v_rs, vt), a0);
        _mm256_storeu_ps(o + e, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    }
    if (D8 < Dv) cpu_attn_kernels_portable.accum(o + D8, p, v + D8 * es, v_rs, v_cs, vt, Dv - D8, n);
}

static float row_max_avx2(const float *s, int64_t n) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    float r = hmax256(mx);
    for (; j < n; j++) r = s[j] > r ? s[j] : r;
    return r;
}

static float exp_sum_avx2(float *s, int64_t n, float m) {
    const __m256 mv = _mm256_set1_ps(m);
    __m256 sum = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 p = cpu_exp_ps256(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
        _mm256_storeu_ps(s + j, p);
        sum = _mm256_add_ps(sum, p);
    }
    float r = hsum256(sum);
    if (j < n) { /* tail through one masked vector: same exp as the body */
        const __m256i mask = tail_mask8(n - j);
        const __m256 p = cpu_exp_ps256(_mm256_sub_ps(_mm256_maskload_ps(s + j, mask), mv));
        _mm256_maskstore_ps(s + j, mask, p);
        r += hsum256(_mm256_and_ps(p, _mm256_castsi256_ps(mask)));
    }
    return r;
}

const cpu_attn_kernels cpu_attn_kernels_avx2 = {
    gemm_avx2, softmax_tile_avx2, scores_avx2, accum_avx2, row_max_avx2, exp_sum_avx2,
};
