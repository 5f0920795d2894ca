/* AVX2 + FMA + F16C kernel set of the GEMM engine (compiled with those flags; used only when ctx->isa allows).
 *
 * Micro-kernel: 6 x 16 tile = 12 ymm accumulators, two B loads and six broadcasts per k. Packing converts
 * f16/bf16 to f32 and transposes operands contiguous along K with 8 x 8 in-register transposes. */
#include "backends/cpu/gemm.h"

#include <immintrin.h>

enum { Y_MR = 6, Y_NR = 16 };

/* Up to 8 consecutive elements of dtype at p as f32 (n < 8 reads only n, the rest are 0). */
static inline __m256 load8(const char *p, accel_dtype dtype, int64_t n) {
    if (n < 8) {
        float tmp[8] = {0};
        const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
        for (int64_t i = 0; i < n; i++) tmp[i] = gemm_load_f32(p + i * es, dtype);
        return _mm256_loadu_ps(tmp);
    }
    switch (dtype) {
    case ACCEL_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    case ACCEL_BF16:
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    default: return _mm256_loadu_ps((const float *)p);
    }
}

/* Lane mask for maskload/maskstore: the first n of 8 lanes. */
static inline __m256i lanes_mask8(int64_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int c = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), idx);
}

/* In-place transpose of an 8 x 8 block held as 8 row vectors. */
static inline void transpose8(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* r[4i + j], 128-bit lane L: column 4L + j of rows 4i .. 4i + 3 */
    for (int i = 0; i < 2; i++) {
        r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        t[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);
        t[4 + j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31);
    }
    for (int j = 0; j < 8; j++) r[j] = t[j];
}

static void pack_along_k(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk,
                         int64_t sp) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    for (int p0 = 0; p0 < width; p0 += 8) {
        const int64_t rows = np - p0;
        const __m256i store_mask = lanes_mask8(width - p0);
        for (int64_t k0 = 0; k0 < nk; k0 += 8) {
            const int64_t kn = nk - k0 < 8 ? nk - k0 : 8;
            __m256 v[8];
            for (int r = 0; r < 8; r++)
                v[r] = r < rows ? load8(src + (p0 + r) * sp + k0 * es, dtype, kn) : _mm256_setzero_ps();
            transpose8(v);
            for (int64_t kk = 0; kk < kn; kk++) _mm256_maskstore_ps(dst + (k0 + kk) * width + p0, store_mask, v[kk]);
        }
    }
}

/* Rows ahead that pack_along_p prefetches. */
#define PACK_PREFETCH_ROWS 8

static void pack_along_p(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk,
                         int64_t sk) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    const int64_t span = (np < width ? np : width) * es - 1; /* last byte of a row segment */
    for (int64_t k = 0; k < nk; k++) {
        const char *s = src + k * sk;
        /* rows are far apart (often a page or more): fetch a few rows ahead, the hardware prefetcher won't */
        if (k + PACK_PREFETCH_ROWS < nk) {
            _mm_prefetch(s + PACK_PREFETCH_ROWS * sk, _MM_HINT_T0);
            _mm_prefetch(s + PACK_PREFETCH_ROWS * sk + span, _MM_HINT_T0);
        }
        for (int p0 = 0; p0 < width; p0 += 8) {
            const int64_t avail = np - p0;
            const __m256 v = avail > 0 ? load8(s + p0 * es, dtype, avail) : _mm256_setzero_ps();
            _mm256_maskstore_ps(dst + k * width + p0, lanes_mask8(width - p0), v);
        }
    }
}

static void pack_avx2(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk, int64_t sp,
                      int64_t sk) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    if (sk == es && np > 1)
        pack_along_k(dst, width, src, dtype, np, nk, sp);
    else if (sp == es || np == 1)
        pack_along_p(dst, width, src, dtype, np, nk, sk);
    else
        gemm_pack_generic(dst, width, src, dtype, np, nk, sp, sk);
}

static void ukernel_6x16(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c, int64_t ldc,
                         int m, int n, const gemm_uk_extra *x) {
    const int accumulate = x->accumulate;
    const float *rb = x->rb, *cb = x->cb;
    /* one prefetch every pf_step iterations of the K loop */
    const char *pf = x->pf;
    const int64_t pf_step = pf && x->pf_lines > 0 ? (kc / x->pf_lines > 0 ? kc / x->pf_lines : 1) : kc + 1;
    const char *pf_end = pf ? pf + (int64_t)x->pf_lines * 64 : NULL;
    int64_t pf_count = pf_step;
    __m256 acc0[Y_MR], acc1[Y_MR];
#pragma GCC unroll 6
    for (int i = 0; i < Y_MR; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < Y_MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
        a += Y_MR;
        b += Y_NR;
        if (--pf_count == 0) {
            pf_count = pf_step;
            if (pf < pf_end) __builtin_prefetch(pf, 0, 2), pf += 64;
        }
    }
    /* the column bias, or zeros */
    const __m256 cb0 = cb ? _mm256_maskload_ps(cb, lanes_mask8(n)) : _mm256_setzero_ps();
    const __m256 cb1 = cb ? _mm256_maskload_ps(cb + 8, lanes_mask8(n - 8)) : _mm256_setzero_ps();
    if (m == Y_MR && n == Y_NR) {
#pragma GCC unroll 6
        for (int i = 0; i < Y_MR; i++) {
            float *row = c + i * ldc;
            if (accumulate) {
                acc0[i] = _mm256_add_ps(acc0[i], _mm256_loadu_ps(row));
                acc1[i] = _mm256_add_ps(acc1[i], _mm256_loadu_ps(row + 8));
            }
            if (cb) {
                acc0[i] = _mm256_add_ps(acc0[i], cb0);
                acc1[i] = _mm256_add_ps(acc1[i], cb1);
            }
            if (rb) {
                acc0[i] = _mm256_add_ps(acc0[i], _mm256_set1_ps(rb[i]));
                acc1[i] = _mm256_add_ps(acc1[i], _mm256_set1_ps(rb[i]));
            }
            _mm256_storeu_ps(row, acc0[i]);
            _mm256_storeu_ps(row + 8, acc1[i]);
        }
        return;
    }
    float tile[Y_MR][Y_NR] __attribute__((aligned(32)));
#pragma GCC unroll 6
    for (int i = 0; i < Y_MR; i++) {
        _mm256_store_ps(tile[i], acc0[i]);
        _mm256_store_ps(tile[i] + 8, acc1[i]);
    }
    const __m256i k0 = lanes_mask8(n), k1 = lanes_mask8(n - 8);
    for (int i = 0; i < m; i++) {
        float *row = c + i * ldc;
        __m256 v0 = _mm256_load_ps(tile[i]), v1 = _mm256_load_ps(tile[i] + 8);
        if (accumulate) {
            v0 = _mm256_add_ps(v0, _mm256_maskload_ps(row, k0));
            v1 = _mm256_add_ps(v1, _mm256_maskload_ps(row + 8, k1));
        }
        if (cb) {
            v0 = _mm256_add_ps(v0, cb0);
            v1 = _mm256_add_ps(v1, cb1);
        }
        if (rb) {
            v0 = _mm256_add_ps(v0, _mm256_set1_ps(rb[i]));
            v1 = _mm256_add_ps(v1, _mm256_set1_ps(rb[i]));
        }
        _mm256_maskstore_ps(row, k0, v0);
        _mm256_maskstore_ps(row + 8, k1, v1);
    }
}

/* f32 -> bf16 round to nearest even, NaN kept quiet (same rule as accel_f32_to_bf16); 8 results in 128 bits. */
static inline __m128i to_bf16(__m256 v) {
    const __m256i x = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i biased = _mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb);
    const __m256i rounded = _mm256_srli_epi32(biased, 16);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
    const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xD8));
}

static void store_row_avx2(void *dst, accel_dtype dtype, const float *src, int64_t n) {
    if (dtype == ACCEL_F32) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(src + i);
        const __m128i r =
            dtype == ACCEL_F16 ? _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) : to_bf16(v);
        _mm_storeu_si128((__m128i *)(h + i), r);
    }
    for (; i < n; i++) h[i] = dtype == ACCEL_F16 ? accel_f32_to_f16(src[i]) : accel_f32_to_bf16(src[i]);
}

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static void gemv_dot_avx2(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                          int64_t sj) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    const int64_t kv = nk / 8 * 8;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const char *r0 = w + j * sj, *r1 = r0 + sj, *r2 = r1 + sj, *r3 = r2 + sj;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        for (int64_t k = 0; k < kv; k += 8) {
            const __m256 xv = _mm256_loadu_ps(x + k);
            s0 = _mm256_fmadd_ps(xv, load8(r0 + k * es, dtype, 8), s0);
            s1 = _mm256_fmadd_ps(xv, load8(r1 + k * es, dtype, 8), s1);
            s2 = _mm256_fmadd_ps(xv, load8(r2 + k * es, dtype, 8), s2);
            s3 = _mm256_fmadd_ps(xv, load8(r3 + k * es, dtype, 8), s3);
        }
        float t0 = hsum8(s0), t1 = hsum8(s1), t2 = hsum8(s2), t3 = hsum8(s3);
        for (int64_t k = kv; k < nk; k++) {
            t0 += x[k] * gemm_load_f32(r0 + k * es, dtype);
            t1 += x[k] * gemm_load_f32(r1 + k * es, dtype);
            t2 += x[k] * gemm_load_f32(r2 + k * es, dtype);
            t3 += x[k] * gemm_load_f32(r3 + k * es, dtype);
        }
        y[j] = t0, y[j + 1] = t1, y[j + 2] = t2, y[j + 3] = t3;
    }
    for (; j < n; j++) {
        const char *r0 = w + j * sj;
        __m256 s0 = _mm256_setzero_ps();
        for (int64_t k = 0; k < kv; k += 8)
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(r0 + k * es, dtype, 8), s0);
        float t0 = hsum8(s0);
        for (int64_t k = kv; k < nk; k++) t0 += x[k] * gemm_load_f32(r0 + k * es, dtype);
        y[j] = t0;
    }
}

/* Columns in chunks of 64 (8 accumulators); a tail of fewer than 8 columns is summed in scalars. */
static void gemv_axpy_avx2(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                           int64_t sk) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    const int64_t nv_total = n / 8 * 8;
    for (int64_t j0 = 0; j0 < nv_total; j0 += 64) {
        const int nv = (int)((nv_total - j0 < 64 ? nv_total - j0 : 64) / 8);
        __m256 acc[8];
        for (int q = 0; q < 8; q++) acc[q] = _mm256_setzero_ps();
        const char *col = w + j0 * es;
        for (int64_t k = 0; k < nk; k++) {
            const __m256 xk = _mm256_set1_ps(x[k]);
            const char *r = col + k * sk;
            for (int q = 0; q < nv; q++) acc[q] = _mm256_fmadd_ps(xk, load8(r + 8 * q * es, dtype, 8), acc[q]);
        }
        for (int q = 0; q < nv; q++) _mm256_storeu_ps(y + j0 + 8 * q, acc[q]);
    }
    for (int64_t j = nv_total; j < n; j++) {
        float acc = 0.0f;
        for (int64_t k = 0; k < nk; k++) acc += x[k] * gemm_load_f32(w + k * sk + j * es, dtype);
        y[j] = acc;
    }
}

const gemm_kernels gemm_kernels_avx2 = {
    .name = "avx2",
    .mr = Y_MR,
    .nr = Y_NR,
    .kc = 256,
    .mc = 6 * 24,
    .b_block_bytes = 2u << 20,
    .fma_per_cycle = 16,
    .ukernel = ukernel_6x16,
    .pack = pack_avx2,
    .store_row = store_row_avx2,
    .gemv_dot = gemv_dot_avx2,
    .gemv_axpy = gemv_axpy_avx2,
};
