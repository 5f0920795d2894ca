/* AVX-512 row kernels of the elementwise ops (see cpu_vec.h). Called only when ctx->isa == CPU_ISA_AVX512. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx512.h"

#include <string.h>

/* Maps a row through EXPR, an expression of the __m512 `x`; the tail uses masked loads and stores. */
#define CPU_MAP512(dst, src, n, EXPR)                                                                           \
    do {                                                                                                        \
        int64_t i_ = 0;                                                                                         \
        for (; i_ + 16 <= (n); i_ += 16) {                                                                      \
            __m512 x = _mm512_loadu_ps((src) + i_);                                                             \
            _mm512_storeu_ps((dst) + i_, (EXPR));                                                               \
        }                                                                                                       \
        if (i_ < (n)) {                                                                                         \
            __mmask16 m_ = cpu_tail_mask16((n) - i_);                                                           \
            __m512 x = _mm512_maskz_loadu_ps(m_, (src) + i_);                                                   \
            _mm512_mask_storeu_ps((dst) + i_, m_, (EXPR));                                                      \
        }                                                                                                       \
    } while (0)

static inline __m512 gelu_tanh_ps512(__m512 x) {
    /* 0.5 (1 + tanh(z)) == sigmoid(2 z): x * sigmoid(x * (2k + 2k c x^2)), no cancellation for negative x */
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 z = _mm512_mul_ps(x, _mm512_fmadd_ps(x2, CPU_PS512(2.0f * CPU_GELU_TANH_K * CPU_GELU_TANH_C),
                                                CPU_PS512(2.0f * CPU_GELU_TANH_K)));
    return _mm512_mul_ps(x, cpu_sigmoid_ps512(z));
}

void cpu_vec_unary_f32_avx512(accel_op op, float *dst, const float *src, int64_t n, float p0, float p1) {
    switch (op) {
    case ACCEL_OP_SCALE: {
        __m512 s = _mm512_set1_ps(p0), b = _mm512_set1_ps(p1);
        CPU_MAP512(dst, src, n, _mm512_fmadd_ps(x, s, b));
        break;
    }
    case ACCEL_OP_GELU: CPU_MAP512(dst, src, n, _mm512_mul_ps(x, cpu_normcdf_ps512(x))); break;
    case ACCEL_OP_GELU_TANH: CPU_MAP512(dst, src, n, gelu_tanh_ps512(x)); break;
    case ACCEL_OP_QUICK_GELU:
        CPU_MAP512(dst, src, n, _mm512_mul_ps(x, cpu_sigmoid_ps512(_mm512_mul_ps(x, CPU_PS512(CPU_QUICK_GELU_K)))));
        break;
    case ACCEL_OP_SILU: CPU_MAP512(dst, src, n, _mm512_mul_ps(x, cpu_sigmoid_ps512(x))); break;
    case ACCEL_OP_RELU: CPU_MAP512(dst, src, n, _mm512_max_ps(_mm512_setzero_ps(), x)); break; /* NaN stays NaN */
    case ACCEL_OP_TANH: CPU_MAP512(dst, src, n, cpu_tanh_ps512(x)); break;
    case ACCEL_OP_SIGMOID: CPU_MAP512(dst, src, n, cpu_sigmoid_ps512(x)); break;
    default: break;
    }
}

/* dst = a OP b over a row; B(i) gives the __m512 of b for lanes starting at i (masked by m_ in the tail). */
#define CPU_ZIP512(OPFN, LOADB)                                                                                 \
    do {                                                                                                        \
        int64_t i_ = 0;                                                                                         \
        __mmask16 m_ = 0xffff;                                                                                  \
        for (; i_ + 16 <= n; i_ += 16) _mm512_storeu_ps(dst + i_, OPFN(_mm512_loadu_ps(a + i_), LOADB));        \
        if (i_ < n) {                                                                                           \
            m_ = cpu_tail_mask16(n - i_);                                                                       \
            _mm512_mask_storeu_ps(dst + i_, m_, OPFN(_mm512_maskz_loadu_ps(m_, a + i_), LOADB));                \
        }                                                                                                       \
    } while (0)

void cpu_vec_binary_f32_avx512(accel_op op, float *dst, const float *a, const float *b, int64_t n) {
#define LOADB _mm512_maskz_loadu_ps(m_, b + i_)
    switch (op) {
    case ACCEL_OP_ADD: CPU_ZIP512(_mm512_add_ps, LOADB); break;
    case ACCEL_OP_SUB: CPU_ZIP512(_mm512_sub_ps, LOADB); break;
    case ACCEL_OP_MUL: CPU_ZIP512(_mm512_mul_ps, LOADB); break;
    case ACCEL_OP_DIV: CPU_ZIP512(_mm512_div_ps, LOADB); break;
    default: break;
    }
#undef LOADB
}

void cpu_vec_binary_scalar_f32_avx512(accel_op op, float *dst, const float *a, float b, int64_t n) {
    __m512 vb = _mm512_set1_ps(b);
    switch (op) {
    case ACCEL_OP_ADD: CPU_ZIP512(_mm512_add_ps, vb); break;
    case ACCEL_OP_SUB: CPU_ZIP512(_mm512_sub_ps, vb); break;
    case ACCEL_OP_MUL: CPU_ZIP512(_mm512_mul_ps, vb); break;
    case ACCEL_OP_DIV: CPU_ZIP512(_mm512_div_ps, vb); break; /* a true division, as the reference computes it */
    default: break;
    }
}

/* The scalar rim of a block transpose: dst[i][j] = src[j][i] for i in [i0, i1), j in [j0, j1). */
static void transpose32_rim(char *dst, int64_t ds, const char *src, int64_t ss, int64_t i0, int64_t i1, int64_t j0,
                            int64_t j1) {
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) memcpy(dst + i * ds + j * 4, src + j * ss + i * 4, 4);
}

/* 16x16 transpose in registers: after the unpack, 64-bit shuffle and two 128-bit lane shuffle stages, r[k] holds
 * column k of the input. */
static inline void transpose16x16(__m512 r[16]) {
    __m512 t[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 4; k++) {
        r[4 * k + 0] = _mm512_shuffle_ps(t[4 * k + 0], t[4 * k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * k + 1] = _mm512_shuffle_ps(t[4 * k + 0], t[4 * k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 4; i++) {
            t[8 * k + i] = _mm512_shuffle_f32x4(r[8 * k + i], r[8 * k + 4 + i], 0x88);
            t[8 * k + 4 + i] = _mm512_shuffle_f32x4(r[8 * k + i], r[8 * k + 4 + i], 0xdd);
        }
    }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
    }
}

void cpu_vec_transpose32_avx512(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                                int64_t cols) {
    char *d = dst;
    const char *s = src;
    int64_t rb = rows / 16 * 16, cb = cols / 16 * 16;
    for (int64_t i0 = 0; i0 < rb; i0 += 16) {
        for (int64_t j0 = 0; j0 < cb; j0 += 16) {
            __m512 r[16];
            for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps((const float *)(s + (j0 + k) * src_stride) + i0);
            transpose16x16(r);
            for (int k = 0; k < 16; k++) _mm512_storeu_ps((float *)(d + (i0 + k) * dst_stride) + j0, r[k]);
        }
    }
    transpose32_rim(d, dst_stride, s, src_stride, 0, rb, cb, cols);
    transpose32_rim(d, dst_stride, s, src_stride, rb, rows, 0, cols);
}
