/* AVX-512 kernel set of the GEMM engine (compiled with AVX-512 F/BW/DQ/VL flags; used only when ctx->isa says
 * the CPU has them).
 *
 * Micro-kernel: 8 x 32 tile = 16 zmm accumulators; per k it loads two B vectors and broadcasts 8 A values (16
 * FMAs per 10 loads: the two FMA ports stay busy and 16 independent chains cover the FMA latency). 8 rows divide
 * the usual model dimensions, where a 14 x 32 tile (as fast on full tiles) wasted a partial tile per 128 rows
 * (128 x 768 x 768 on one core: 8 x 32 ran 142 GFLOP/s, 14 x 32 128). Packing converts f16/bf16 to f32 and
 * transposes operands that are contiguous along K (row-major A, HF Linear weights as B) with 16 x 16 in-register
 * transposes. */
#include "backends/cpu/gemm.h"

#include <immintrin.h>

enum { X_MR = 8, X_NR = 32 };

static inline __mmask16 lanes_mask(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* Up to 16 consecutive elements of dtype at p as f32; lanes outside mask read as 0 (and are not touched). */
static inline __m512 load16(const char *p, accel_dtype dtype, __mmask16 mask) {
    switch (dtype) {
    case ACCEL_F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
    case ACCEL_BF16:
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p)), 16));
    default: return _mm512_maskz_loadu_ps(mask, p);
    }
}

/* In-place transpose of a 16 x 16 block held as 16 row vectors. */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* r[4i + j], 128-bit lane L: column 4L + j of rows 4i .. 4i + 3 */
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    /* 4 x 4 transpose of 128-bit lanes among r[j], r[4 + j], r[8 + j], r[12 + j] */
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
    }
}

/* X(p, k) contiguous along k: load 16 (p) x 16 (k) blocks, transpose, store 16 k-rows of the panel. */
static void pack_along_k(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk,
                         int64_t sp) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    for (int p0 = 0; p0 < width; p0 += 16) {
        const int64_t rows = np - p0;
        const __mmask16 store_mask = lanes_mask(width - p0);
        if (rows <= 0) {
            for (int64_t k = 0; k < nk; k++)
                _mm512_mask_storeu_ps(dst + k * width + p0, store_mask, _mm512_setzero_ps());
            continue;
        }
        for (int64_t k0 = 0; k0 < nk; k0 += 16) {
            const int64_t kn = nk - k0 < 16 ? nk - k0 : 16;
            const __mmask16 load_mask = lanes_mask(kn);
            __m512 v[16];
            for (int r = 0; r < 16; r++)
                v[r] = r < rows ? load16(src + (p0 + r) * sp + k0 * es, dtype, load_mask) : _mm512_setzero_ps();
            transpose16(v);
            for (int64_t kk = 0; kk < kn; kk++) _mm512_mask_storeu_ps(dst + (k0 + kk) * width + p0, store_mask, v[kk]);
        }
    }
}

/* Width 8 (the A panels), X(p, k) contiguous along k: 8 (p) x 16 (k) blocks transposed in 24 shuffles (the 16 x
 * 16 transpose would spend 64 on a block half made of zeros); the two 8-float halves of each result vector are
 * the panel rows k and k + 4 (k + 8 and k + 12), stored with masks. */
static void pack8_along_k(float *dst, const char *src, accel_dtype dtype, int64_t np, int64_t nk, int64_t sp) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    /* [u lane L, w lane L, u lane L + 1, w lane L + 1] for L = 0 (lo) and L = 2 (hi) */
    const __m512i lo = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
    const __m512i hi = _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
    for (int64_t k0 = 0; k0 < nk; k0 += 16) {
        const int64_t kn = nk - k0 < 16 ? nk - k0 : 16;
        const __mmask16 load_mask = lanes_mask(kn);
        __m512 r[8], t[8], u[8];
        for (int p = 0; p < 8; p++)
            r[p] = p < np ? load16(src + p * sp + k0 * es, dtype, load_mask) : _mm512_setzero_ps();
        for (int i = 0; i < 4; i++) {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);     /* lane L: p0 p1 of k 4L, 4L + 1 */
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]); /* lane L: p0 p1 of k 4L + 2, 4L + 3 */
        }
        for (int h = 0; h < 2; h++) { /* rows 0-3 (h = 0) and 4-7: u[4h + j] lane L = the 4 rows of k = 4L + j */
            u[4 * h] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
            u[4 * h + 1] = _mm512_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
            u[4 * h + 2] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
            u[4 * h + 3] = _mm512_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
        }
        for (int j = 0; j < 4; j++) {
            const __m512 a = _mm512_permutex2var_ps(u[j], lo, u[4 + j]); /* rows of k = j | k = 4 + j */
            const __m512 b = _mm512_permutex2var_ps(u[j], hi, u[4 + j]); /* k = 8 + j | k = 12 + j */
            float *d = dst + (k0 + j) * 8;
            if (j < kn) _mm512_mask_storeu_ps(d, 0x00FF, a);
            if (4 + j < kn) _mm512_mask_storeu_ps(d + 32 - 8, 0xFF00, a);
            if (8 + j < kn) _mm512_mask_storeu_ps(d + 64, 0x00FF, b);
            if (12 + j < kn) _mm512_mask_storeu_ps(d + 96 - 8, 0xFF00, b);
        }
    }
}

/* X(p, k) contiguous along p: each k-row of the panel is a (converted) copy. */
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
        for (int p0 = 0; p0 < width; p0 += 16) {
            const __m512 v = load16(s + p0 * es, dtype, lanes_mask(np - p0));
            _mm512_mask_storeu_ps(dst + k * width + p0, lanes_mask(width - p0), v);
        }
    }
}

static void pack_avx512(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk, int64_t sp,
                        int64_t sk) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    if (sk == es && np > 1 && width == 8)
        pack8_along_k(dst, src, dtype, np, nk, sp);
    else if (sk == es && np > 1)
        pack_along_k(dst, width, src, dtype, np, nk, sp);
    else if (sp == es || np == 1)
        pack_along_p(dst, width, src, dtype, np, nk, sk);
    else
        gemm_pack_generic(dst, width, src, dtype, np, nk, sp, sk);
}

static void ukernel_8x32(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c,
                          int64_t ldc, int m, int n, const gemm_uk_extra *x) {
    const int accumulate = x->accumulate;
    const float *rb = x->rb, *cb = x->cb;
    /* one prefetch every pf_step iterations of the K loop */
    const char *pf = x->pf;
    const int64_t pf_step = pf && x->pf_lines > 0 ? (kc / x->pf_lines > 0 ? kc / x->pf_lines : 1) : kc + 1;
    const char *pf_end = pf ? pf + (int64_t)x->pf_lines * 64 : NULL;
    int64_t pf_count = pf_step;
    __m512 acc0[X_MR], acc1[X_MR];
#pragma GCC unroll 8
    for (int i = 0; i < X_MR; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
    for (int i = 0; i < m; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + X_NR - 1), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int i = 0; i < X_MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
        a += X_MR;
        b += X_NR;
        if (--pf_count == 0) {
            pf_count = pf_step;
            if (pf < pf_end) _mm_prefetch(pf, _MM_HINT_T1), pf += 64;
        }
    }
    /* the column bias, or zeros */
    const __m512 cb0 = cb ? _mm512_maskz_loadu_ps(lanes_mask(n), cb) : _mm512_setzero_ps();
    const __m512 cb1 = cb ? _mm512_maskz_loadu_ps(lanes_mask(n - 16), cb + 16) : _mm512_setzero_ps();
    if (m == X_MR && n == X_NR) {
#pragma GCC unroll 8
        for (int i = 0; i < X_MR; i++) {
            float *row = c + i * ldc;
            if (accumulate) {
                acc0[i] = _mm512_add_ps(acc0[i], _mm512_loadu_ps(row));
                acc1[i] = _mm512_add_ps(acc1[i], _mm512_loadu_ps(row + 16));
            }
            if (cb) {
                acc0[i] = _mm512_add_ps(acc0[i], cb0);
                acc1[i] = _mm512_add_ps(acc1[i], cb1);
            }
            if (rb) {
                acc0[i] = _mm512_add_ps(acc0[i], _mm512_set1_ps(rb[i]));
                acc1[i] = _mm512_add_ps(acc1[i], _mm512_set1_ps(rb[i]));
            }
            _mm512_storeu_ps(row, acc0[i]);
            _mm512_storeu_ps(row + 16, acc1[i]);
        }
        return;
    }
    /* edge tile: spill to memory, then masked stores of the valid part */
    float tile[X_MR][X_NR] __attribute__((aligned(64)));
#pragma GCC unroll 8
    for (int i = 0; i < X_MR; i++) {
        _mm512_store_ps(tile[i], acc0[i]);
        _mm512_store_ps(tile[i] + 16, acc1[i]);
    }
    const __mmask16 m0 = lanes_mask(n), m1 = lanes_mask(n - 16);
    for (int i = 0; i < m; i++) {
        float *row = c + i * ldc;
        __m512 v0 = _mm512_load_ps(tile[i]), v1 = _mm512_load_ps(tile[i] + 16);
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
        }
        if (cb) {
            v0 = _mm512_add_ps(v0, cb0);
            v1 = _mm512_add_ps(v1, cb1);
        }
        if (rb) {
            v0 = _mm512_add_ps(v0, _mm512_set1_ps(rb[i]));
            v1 = _mm512_add_ps(v1, _mm512_set1_ps(rb[i]));
        }
        _mm512_mask_storeu_ps(row, m0, v0);
        _mm512_mask_storeu_ps(row + 16, m1, v1);
    }
}

/* f32 -> bf16 round to nearest even, NaN kept quiet (same rule as accel_f32_to_bf16). */
static inline __m256i to_bf16(__m512 v) {
    const __m512i x = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i biased = _mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7fff)), lsb);
    const __m512i rounded = _mm512_srli_epi32(biased, 16);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

static void store_row_avx512(void *dst, accel_dtype dtype, const float *src, int64_t n) {
    if (dtype == ACCEL_F32) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 mask = lanes_mask(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(mask, src + i);
        const __m256i r =
            dtype == ACCEL_F16 ? _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) : to_bf16(v);
        _mm256_mask_storeu_epi16(h + i, mask, r);
    }
}

/* Decode-time GEMV (one token: y = W x with W rows contiguous along k) is memory-bound: the kernel must keep many
 * loads in flight and spend no time on per-element branching. So it is specialised per dtype (the conversion is
 * inlined, no switch in the loop), the main loop is unmasked and takes 32 elements of 4 rows per iteration (two
 * accumulators per row: 8 independent FMA chains), and only the tail is masked. */
#define LOAD_F32(p, m) _mm512_maskz_loadu_ps((m), (p))
#define LOAD_F16(p, m) _mm512_cvtph_ps(_mm256_maskz_loadu_epi16((m), (p)))
#define LOAD_BF16(p, m)                                                                                            \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16((m), (p))), 16))
#define GEMV_DOT_AVX512(name, LOAD, es)                                                                            \
    static void name(float *y, const float *x, const char *w, int64_t nk, int64_t n, int64_t sj) {                 \
        const __mmask16 all = (__mmask16)0xFFFF;                                                                   \
        const int64_t nk32 = nk / 32 * 32;                                                                         \
        int64_t j = 0;                                                                                             \
        for (; j + 4 <= n; j += 4) {                                                                               \
            const char *r[4] = {w + j * sj, w + (j + 1) * sj, w + (j + 2) * sj, w + (j + 3) * sj};                 \
            __m512 a[4], b[4];                                                                                     \
            for (int q = 0; q < 4; q++) a[q] = b[q] = _mm512_setzero_ps();                                         \
            for (int64_t k = 0; k < nk32; k += 32) {                                                               \
                const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);                        \
                for (int q = 0; q < 4; q++) {                                                                      \
                    _mm_prefetch(r[q] + k * (es) + 2048, _MM_HINT_T0);                                             \
                    a[q] = _mm512_fmadd_ps(x0, LOAD(r[q] + k * (es), all), a[q]);                                  \
                    b[q] = _mm512_fmadd_ps(x1, LOAD(r[q] + (k + 16) * (es), all), b[q]);                           \
                }                                                                                                  \
            }                                                                                                      \
            for (int64_t k = nk32; k < nk; k += 16) {                                                              \
                const __mmask16 m = lanes_mask(nk - k);                                                            \
                const __m512 x0 = _mm512_maskz_loadu_ps(m, x + k);                                                 \
                for (int q = 0; q < 4; q++) a[q] = _mm512_fmadd_ps(x0, LOAD(r[q] + k * (es), m), a[q]);            \
            }                                                                                                      \
            for (int q = 0; q < 4; q++) y[j + q] = _mm512_reduce_add_ps(_mm512_add_ps(a[q], b[q]));                \
        }                                                                                                          \
        for (; j < n; j++) {                                                                                       \
            const char *r0 = w + j * sj;                                                                           \
            __m512 a0 = _mm512_setzero_ps();                                                                       \
            for (int64_t k = 0; k < nk; k += 16) {                                                                 \
                const __mmask16 m = lanes_mask(nk - k);                                                            \
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), LOAD(r0 + k * (es), m), a0);                 \
            }                                                                                                      \
            y[j] = _mm512_reduce_add_ps(a0);                                                                       \
        }                                                                                                          \
    }
GEMV_DOT_AVX512(gemv_dot_f32_avx512, LOAD_F32, 4)
GEMV_DOT_AVX512(gemv_dot_f16_avx512, LOAD_F16, 2)
GEMV_DOT_AVX512(gemv_dot_bf16_avx512, LOAD_BF16, 2)

static void gemv_dot_avx512(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                            int64_t sj) {
    switch (dtype) {
    case ACCEL_F16: gemv_dot_f16_avx512(y, x, w, nk, n, sj); break;
    case ACCEL_BF16: gemv_dot_bf16_avx512(y, x, w, nk, n, sj); break;
    default: gemv_dot_f32_avx512(y, x, w, nk, n, sj); break;
    }
}

/* Columns in chunks of 128 (8 accumulators) so y stays in registers while K is swept. */
static void gemv_axpy_avx512(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                             int64_t sk) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    for (int64_t j0 = 0; j0 < n; j0 += 128) {
        const int64_t cols = n - j0 < 128 ? n - j0 : 128;
        const int nv = (int)((cols + 15) / 16);
        __mmask16 mask[8];
        __m512 acc[8];
        for (int q = 0; q < 8; q++) {
            mask[q] = lanes_mask(cols - 16 * q);
            acc[q] = _mm512_setzero_ps();
        }
        const char *col = w + j0 * es;
        if (nv == 8) {
            for (int64_t k = 0; k < nk; k++) {
                const __m512 xk = _mm512_set1_ps(x[k]);
                const char *r = col + k * sk;
#pragma GCC unroll 8
                for (int q = 0; q < 8; q++)
                    acc[q] = _mm512_fmadd_ps(xk, load16(r + 16 * q * es, dtype, (__mmask16)0xFFFF), acc[q]);
            }
        } else {
            for (int64_t k = 0; k < nk; k++) {
                const __m512 xk = _mm512_set1_ps(x[k]);
                const char *r = col + k * sk;
                for (int q = 0; q < nv; q++)
                    acc[q] = _mm512_fmadd_ps(xk, load16(r + 16 * q * es, dtype, mask[q]), acc[q]);
            }
        }
        for (int q = 0; q < nv; q++) _mm512_mask_storeu_ps(y + j0 + 16 * q, mask[q], acc[q]);
    }
}

const gemm_kernels gemm_kernels_avx512 = {
    .name = "avx512",
    .mr = X_MR,
    .nr = X_NR,
    .kc = 256,
    .mc = 8 * 24,
    .b_block_bytes = 2u << 20,
    .fma_per_cycle = 32,
    .ukernel = ukernel_8x32,
    .pack = pack_avx512,
    .store_row = store_row_avx512,
    .gemv_dot = gemv_dot_avx512,
    .gemv_axpy = gemv_axpy_avx512,
};
