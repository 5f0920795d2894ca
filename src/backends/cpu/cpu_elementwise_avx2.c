/* AVX2 row kernels of the elementwise ops (see cpu_vec.h). Called only when ctx->isa >= CPU_ISA_AVX2. Row tails
 * go through an 8-element stack buffer. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx2.h"

#include <string.h>

/* Maps a row through EXPR, an expression of the __m256 `x`. */
#define CPU_MAP256(dst, src, n, EXPR)                                                                           \
    do {                                                                                                        \
        int64_t i_ = 0;                                                                                         \
        for (; i_ + 8 <= (n); i_ += 8) {                                                                        \
            __m256 x = _mm256_loadu_ps((src) + i_);                                                             \
            _mm256_storeu_ps((dst) + i_, (EXPR));                                                               \
        }                                                                                                       \
        if (i_ < (n)) {                                                                                         \
            float t_[8] = {0};                                                                                  \
            memcpy(t_, (src) + i_, (size_t)((n) - i_) * 4);                                                     \
            __m256 x = _mm256_loadu_ps(t_);                                                                     \
            _mm256_storeu_ps(t_, (EXPR));                                                                       \
            memcpy((dst) + i_, t_, (size_t)((n) - i_) * 4);                                                     \
        }                                                                                                       \
    } while (0)

static inline __m256 gelu_tanh_ps256(__m256 x) {
    /* 0.5 (1 + tanh(z)) == sigmoid(2 z): x * sigmoid(x * (2k + 2k c x^2)), no cancellation for negative x */
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 z = _mm256_mul_ps(x, _mm256_fmadd_ps(x2, CPU_PS256(2.0f * CPU_GELU_TANH_K * CPU_GELU_TANH_C),
                                                CPU_PS256(2.0f * CPU_GELU_TANH_K)));
    return _mm256_mul_ps(x, cpu_sigmoid_ps256(z));
}

void cpu_vec_unary_f32_avx2(accel_op op, float *dst, const float *src, int64_t n, float p0, float p1) {
    switch (op) {
    case ACCEL_OP_SCALE: {
        __m256 s = _mm256_set1_ps(p0), b = _mm256_set1_ps(p1);
        CPU_MAP256(dst, src, n, _mm256_fmadd_ps(x, s, b));
        break;
    }
    case ACCEL_OP_GELU: CPU_MAP256(dst, src, n, _mm256_mul_ps(x, cpu_normcdf_ps256(x))); break;
    case ACCEL_OP_GELU_TANH: CPU_MAP256(dst, src, n, gelu_tanh_ps256(x)); break;
    case ACCEL_OP_QUICK_GELU:
        CPU_MAP256(dst, src, n, _mm256_mul_ps(x, cpu_sigmoid_ps256(_mm256_mul_ps(x, CPU_PS256(CPU_QUICK_GELU_K)))));
        break;
    case ACCEL_OP_SILU: CPU_MAP256(dst, src, n, _mm256_mul_ps(x, cpu_sigmoid_ps256(x))); break;
    case ACCEL_OP_RELU: CPU_MAP256(dst, src, n, _mm256_max_ps(_mm256_setzero_ps(), x)); break; /* NaN stays NaN */
    case ACCEL_OP_TANH: CPU_MAP256(dst, src, n, cpu_tanh_ps256(x)); break;
    case ACCEL_OP_SIGMOID: CPU_MAP256(dst, src, n, cpu_sigmoid_ps256(x)); break;
    default: break;
    }
}

/* dst = a OP b; the tail is done by the scalar C operator, which rounds the same way. */
#define CPU_ZIP256(VOP, SOP, VB, SB)                                                                            \
    do {                                                                                                        \
        int64_t i_ = 0;                                                                                         \
        for (; i_ + 8 <= n; i_ += 8) _mm256_storeu_ps(dst + i_, VOP(_mm256_loadu_ps(a + i_), VB));              \
        for (; i_ < n; i_++) dst[i_] = a[i_] SOP (SB);                                                          \
    } while (0)

void cpu_vec_binary_f32_avx2(accel_op op, float *dst, const float *a, const float *b, int64_t n) {
#define VB _mm256_loadu_ps(b + i_)
    switch (op) {
    case ACCEL_OP_ADD: CPU_ZIP256(_mm256_add_ps, +, VB, b[i_]); break;
    case ACCEL_OP_SUB: CPU_ZIP256(_mm256_sub_ps, -, VB, b[i_]); break;
    case ACCEL_OP_MUL: CPU_ZIP256(_mm256_mul_ps, *, VB, b[i_]); break;
    case ACCEL_OP_DIV: CPU_ZIP256(_mm256_div_ps, /, VB, b[i_]); break;
    default: break;
    }
#undef VB
}

void cpu_vec_binary_scalar_f32_avx2(accel_op op, float *dst, const float *a, float b, int64_t n) {
    __m256 vb = _mm256_set1_ps(b);
    switch (op) {
    case ACCEL_OP_ADD: CPU_ZIP256(_mm256_add_ps, +, vb, b); break;
    case ACCEL_OP_SUB: CPU_ZIP256(_mm256_sub_ps, -, vb, b); break;
    case ACCEL_OP_MUL: CPU_ZIP256(_mm256_mul_ps, *, vb, b); break;
    case ACCEL_OP_DIV: CPU_ZIP256(_mm256_div_ps, /, vb, b); break; /* a true division, as the reference does */
    default: break;
    }
}

/* The scalar rim of a block transpose: dst[i][j] = src[j][i] for i in [i0, i1), j in [j0, j1). */
static void transpose32_rim(char *dst, int64_t ds, const char *src, int64_t ss, int64_t i0, int64_t i1, int64_t j0,
                            int64_t j1) {
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) memcpy(dst + i * ds + j * 4, src + j * ss + i * 4, 4);
}

/* 8x8 transpose in registers: unpack, 64-bit shuffle, then 128-bit lane permutes; r[k] ends as column k. */
static inline void transpose8x8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int k = 0; k < 4; k++) {
        t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 2; k++) {
        u[4 * k + 0] = _mm256_shuffle_ps(t[4 * k + 0], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm256_shuffle_ps(t[4 * k + 0], t[4 * k + 2], 0xEE);
        u[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
        r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
    }
}

void cpu_vec_transpose32_avx2(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                              int64_t cols) {
    char *d = dst;
    const char *s = src;
    int64_t rb = rows / 8 * 8, cb = cols / 8 * 8;
    for (int64_t i0 = 0; i0 < rb; i0 += 8) {
        for (int64_t j0 = 0; j0 < cb; j0 += 8) {
            __m256 r[8];
            for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps((const float *)(s + (j0 + k) * src_stride) + i0);
            transpose8x8(r);
            for (int k = 0; k < 8; k++) _mm256_storeu_ps((float *)(d + (i0 + k) * dst_stride) + j0, r[k]);
        }
    }
    transpose32_rim(d, dst_stride, s, src_stride, 0, rb, cb, cols);
    transpose32_rim(d, dst_stride, s, src_stride, rb, rows, 0, cols);
}
