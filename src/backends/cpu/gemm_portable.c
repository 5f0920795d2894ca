/* Portable C kernel set of the GEMM engine (any CPU), and the generic packing used by every ISA for operands
 * whose strides have no fast path. The 4 x 8 micro-kernel is written so compilers vectorize its inner loop. */
#include "backends/cpu/gemm.h"

#include <stdlib.h>

/* 4 x 8: 8 SSE accumulators on baseline x86-64 (4 x 16 spilled and ran 5 GFLOP/s, 4 x 8 24 GFLOP/s per core). */
enum { P_MR = 4, P_NR = 8 };

/* Packs with the loop over the operand's contiguous (smaller-stride) dimension innermost, so reads stream. */
#define PACK_LOOPS(LOAD)                                                                                        \
    do {                                                                                                        \
        if (llabs(sk) <= llabs(sp)) {                                                                           \
            for (int64_t p = 0; p < np; p++) {                                                                  \
                const char *s = src + p * sp;                                                                   \
                for (int64_t k = 0; k < nk; k++) dst[k * width + p] = LOAD(s + k * sk);                         \
            }                                                                                                   \
        } else {                                                                                                \
            for (int64_t k = 0; k < nk; k++) {                                                                  \
                const char *s = src + k * sk;                                                                   \
                for (int64_t p = 0; p < np; p++) dst[k * width + p] = LOAD(s + p * sp);                         \
            }                                                                                                   \
        }                                                                                                       \
    } while (0)

static inline float load_f32(const char *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}
static inline float load_f16(const char *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return accel_f16_to_f32(h);
}
static inline float load_bf16(const char *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return accel_bf16_to_f32(h);
}

void gemm_pack_generic(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk,
                       int64_t sp, int64_t sk) {
    if (np < width)
        for (int64_t k = 0; k < nk; k++)
            for (int p = (int)np; p < width; p++) dst[k * width + p] = 0.0f;
    switch (dtype) {
    case ACCEL_F16: PACK_LOOPS(load_f16); break;
    case ACCEL_BF16: PACK_LOOPS(load_bf16); break;
    default: PACK_LOOPS(load_f32); break;
    }
}

static void ukernel_4x8(int64_t kc, const float *restrict a, const float *restrict b, float *restrict c,
                         int64_t ldc, int m, int n, const gemm_uk_extra *x) {
    const int accumulate = x->accumulate;
    const float *rb = x->rb, *cb = x->cb;
    float acc[P_MR][P_NR] = {{0}};
    if (x->pf) /* no interleaving here: the portable kernel is far from memory bound */
        for (int l = 0; l < x->pf_lines; l++) __builtin_prefetch(x->pf + l * 64, 0, 2);
    for (int64_t k = 0; k < kc; k++, a += P_MR, b += P_NR)
        for (int i = 0; i < P_MR; i++)
            for (int j = 0; j < P_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (int j = 0; j < n; j++) {
            float v = accumulate ? row[j] + acc[i][j] : acc[i][j];
            if (cb) v += cb[j];
            if (rb) v += rb[i];
            row[j] = v;
        }
    }
}

static void store_row_portable(void *dst, accel_dtype dtype, const float *src, int64_t n) {
    uint16_t *h = dst;
    switch (dtype) {
    case ACCEL_F16:
        for (int64_t i = 0; i < n; i++) h[i] = accel_f32_to_f16(src[i]);
        break;
    case ACCEL_BF16:
        for (int64_t i = 0; i < n; i++) h[i] = accel_f32_to_bf16(src[i]);
        break;
    default: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    }
}

static void gemv_dot_portable(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                              int64_t sj) {
    const int64_t es = dtype == ACCEL_F32 ? 4 : 2;
    for (int64_t j = 0; j < n; j++) {
        const char *row = w + j * sj;
        float acc = 0.0f;
        for (int64_t k = 0; k < nk; k++) acc += x[k] * gemm_load_f32(row + k * es, dtype);
        y[j] = acc;
    }
}

static void gemv_axpy_portable(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                               int64_t sk) {
    for (int64_t j = 0; j < n; j++) y[j] = 0.0f;
    for (int64_t k = 0; k < nk; k++) {
        const char *row = w + k * sk;
        const float xk = x[k];
        if (dtype == ACCEL_F32)
            for (int64_t j = 0; j < n; j++) y[j] += xk * load_f32(row + j * 4);
        else
            for (int64_t j = 0; j < n; j++) y[j] += xk * gemm_load_f32(row + j * 2, dtype);
    }
}

const gemm_kernels gemm_kernels_portable = {
    .name = "portable",
    .mr = P_MR,
    .nr = P_NR,
    .kc = 256,
    .mc = 128,
    .b_block_bytes = 2u << 20,
    .fma_per_cycle = 4,
    .ukernel = ukernel_4x8,
    .pack = gemm_pack_generic,
    .store_row = store_row_portable,
    .gemv_dot = gemv_dot_portable,
    .gemv_axpy = gemv_axpy_portable,
};
