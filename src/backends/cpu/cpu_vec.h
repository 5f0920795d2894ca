/* Shared vector helpers for CPU kernels: dtype conversion of rows and f32 math on rows.
 *
 * Two layers:
 *  - The functions declared here are plain C entry points: any CPU kernel file may call them. Each takes the ISA
 *    level (ctx->isa) and dispatches to the AVX-512, AVX2 or portable implementation. They work on "rows": n
 *    consecutive floats, n may be any value >= 0 (tails are handled), pointers need no particular alignment.
 *  - cpu_vec_avx512.h and cpu_vec_avx2.h hold inline SIMD primitives (exp, tanh, sigmoid, erf, normal CDF,
 *    f16/bf16 loads and stores) on __m512 / __m256. Include them only from files compiled with those ISA flags
 *    (*_avx512.c / *_avx2.c), and call such code only when ctx->isa says so.
 *
 * Accuracy of the AVX paths against double precision, measured over dense grids: exp <= 1 ulp (results below
 * FLT_MIN are flushed to 0: denormals cost a microcode assist each), erf relative error
 * <= 1e-7, tanh <= 1.3 ulp, sigmoid <= 2.7 ulp, silu <= 3.5 ulp, gelu <= 5 ulp. gelu_tanh and quick_gelu are as
 * good where the result is not tiny; below ~1e-5 the f32 rounding of their exp argument (|z| > 10) costs up to
 * ~20 ulp, which is the precision of the input itself. tests/unit/test_cpu_elementwise.c checks exp and erf
 * directly and every op by NMSE. The portable level uses libm.
 */
#ifndef ACCEL_CPU_VEC_H
#define ACCEL_CPU_VEC_H

#include "backends/cpu/cpu_kernels.h"

/* The *_avx2.c / *_avx512.c files are compiled on x86 only: dispatchers reference them under this macro. */
#if defined(__x86_64__) || defined(__i386__)
#define CPU_VEC_X86 1
#else
#define CPU_VEC_X86 0
#endif

/* ---- dtype conversion (cpu_vec.c) -------------------------------------------------------------------------- */

/* Reads n elements of any plain dtype (f32, f16, bf16, i8, i32, i64) starting at src, `stride` bytes apart (0
 * broadcasts one element; negative strides are allowed), into dst as f32. Integers convert as (float)(double)v,
 * like accel_load_f64 followed by a float store. */
void cpu_vec_load_f32(cpu_isa isa, accel_dtype dt, const void *src, int64_t stride, float *dst, int64_t n);

/* Writes n f32 values to contiguous dst of dtype dt: f16/bf16 round to nearest even (as accel_f32_to_f16 /
 * accel_f32_to_bf16); integers truncate toward zero and saturate, NaN -> 0 (as accel_store_f64). */
void cpu_vec_store_f32(cpu_isa isa, accel_dtype dt, const float *src, void *dst, int64_t n);

/* A row as contiguous f32: returns src itself when it already is (f32 with stride 4), else loads it into buf
 * (room for n floats) and returns buf. */
const float *cpu_vec_row_f32(cpu_isa isa, accel_dtype dt, const void *src, int64_t stride, int64_t n, float *buf);

/* dst[i][j] = src[j][i] for i < rows, j < cols, 32-bit elements (cpu_elementwise.c); dst_stride and src_stride
 * are the byte strides between rows of each (rows of src are contiguous runs of i, rows of dst runs of j). The
 * vector paths transpose 16x16 (AVX-512) or 8x8 (AVX2) blocks in registers, so every cache line is read or
 * written once whatever the strides. */
void cpu_vec_transpose32(cpu_isa isa, void *dst, int64_t dst_stride, const void *src, int64_t src_stride,
                         int64_t rows, int64_t cols);

/* ---- f32 math on rows ---------------------------------------------------------------------------------------- */

/* dst[i] = exp(src[i]) and dst[i] = erf(src[i]) (cpu_vec.c). dst may equal src. The vector exp gives 0 below
 * exp(-87.3365) ~ FLT_MIN; the portable one is libm's expf. */
void cpu_vec_exp_f32(cpu_isa isa, float *dst, const float *src, int64_t n);
void cpu_vec_erf_f32(cpu_isa isa, float *dst, const float *src, int64_t n);

/* Elementwise activation (cpu_elementwise.c): op is ACCEL_OP_SCALE (x * p0 + p1) or one of ACCEL_OP_GELU ..
 * ACCEL_OP_SIGMOID (p0, p1 unused). dst may equal src. */
void cpu_vec_unary_f32(cpu_isa isa, accel_op op, float *dst, const float *src, int64_t n, float p0, float p1);
/* dst = a (op) b for op in ADD, SUB, MUL, DIV (cpu_elementwise.c); the _scalar form broadcasts b. */
void cpu_vec_binary_f32(cpu_isa isa, accel_op op, float *dst, const float *a, const float *b, int64_t n);
void cpu_vec_binary_scalar_f32(cpu_isa isa, accel_op op, float *dst, const float *a, float b, int64_t n);

/* Softmax of one row (cpu_norm.c): v[j] = x[j] * scale + (mask ? mask[j] : 0) for j < nvalid, dst[j] =
 * exp(v[j] - max v) / sum; dst[j] = 0 for j >= nvalid. A row whose visible values are all -inf (or nvalid <= 0)
 * becomes zeros. dst may equal x. next (may be NULL): the next row's input, nvalid floats, prefetched meanwhile
 * so that memory reads overlap this row's arithmetic. */
void cpu_vec_softmax_f32(cpu_isa isa, float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid,
                         float scale, const float *next);

/* Sum and sum of squares of a row in one pass, accumulated in double (cpu_norm.c). */
void cpu_vec_sum_sumsq_f64(cpu_isa isa, const float *x, int64_t n, double *sum, double *sumsq);

/* Mean and variance (biased, mean of squared deviations) of a row held in cache (cpu_norm.c): a sum pass, then a
 * pass over (x - mean)^2, each in f32 over blocks of 1024 elements folded into double, so accurate to a few ulp
 * whatever the mean. center == false: mean = 0 and var = mean of squares (RMS norm), one pass. next (may be
 * NULL): the next row's input, n floats, prefetched meanwhile (for rows that stay in cache; streamed rows pass it
 * to cpu_vec_norm_row_f32 instead). */
void cpu_vec_moments_f32(cpu_isa isa, const float *x, int64_t n, bool center, double *mean, double *var,
                         const float *next);

/* dst[j] = (x[j] - mean) * mul * (w ? w[j] : 1) + (b ? b[j] : add) (cpu_norm.c): the write pass of layer, RMS
 * (mean 0), group and batch norm (per-channel scalars). dst may equal x. next (may be NULL): the next row's input,
 * n floats, prefetched meanwhile, and then dst is also fetched ahead of the stores: rows streamed from memory keep
 * the loads of the next row in flight while this row's stores wait for their cache lines. */
void cpu_vec_norm_row_f32(cpu_isa isa, float *dst, const float *x, int64_t n, float mean, float mul, float add,
                          const float *w, const float *b, const float *next);

/* ---- per-ISA implementations (called through the dispatchers above) ----------------------------------------- */
void cpu_vec_f16_to_f32_avx512(const uint16_t *src, float *dst, int64_t n);
void cpu_vec_f32_to_f16_avx512(const float *src, uint16_t *dst, int64_t n);
void cpu_vec_bf16_to_f32_avx512(const uint16_t *src, float *dst, int64_t n);
void cpu_vec_f32_to_bf16_avx512(const float *src, uint16_t *dst, int64_t n);
void cpu_vec_exp_f32_avx512(float *dst, const float *src, int64_t n);
void cpu_vec_erf_f32_avx512(float *dst, const float *src, int64_t n);
void cpu_vec_transpose32_avx512(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                                int64_t cols);
void cpu_vec_unary_f32_avx512(accel_op op, float *dst, const float *src, int64_t n, float p0, float p1);
void cpu_vec_binary_f32_avx512(accel_op op, float *dst, const float *a, const float *b, int64_t n);
void cpu_vec_binary_scalar_f32_avx512(accel_op op, float *dst, const float *a, float b, int64_t n);
void cpu_vec_softmax_f32_avx512(float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid, float scale,
                                const float *next);
void cpu_vec_sum_sumsq_f64_avx512(const float *x, int64_t n, double *sum, double *sumsq);
void cpu_vec_moments_f32_avx512(const float *x, int64_t n, bool center, double *mean, double *var,
                                const float *next);
void cpu_vec_norm_row_f32_avx512(float *dst, const float *x, int64_t n, float mean, float mul, float add,
                                 const float *w, const float *b, const float *next);

void cpu_vec_f16_to_f32_avx2(const uint16_t *src, float *dst, int64_t n);
void cpu_vec_f32_to_f16_avx2(const float *src, uint16_t *dst, int64_t n);
void cpu_vec_bf16_to_f32_avx2(const uint16_t *src, float *dst, int64_t n);
void cpu_vec_f32_to_bf16_avx2(const float *src, uint16_t *dst, int64_t n);
void cpu_vec_exp_f32_avx2(float *dst, const float *src, int64_t n);
void cpu_vec_erf_f32_avx2(float *dst, const float *src, int64_t n);
void cpu_vec_transpose32_avx2(void *dst, int64_t dst_stride, const void *src, int64_t src_stride, int64_t rows,
                              int64_t cols);
void cpu_vec_unary_f32_avx2(accel_op op, float *dst, const float *src, int64_t n, float p0, float p1);
void cpu_vec_binary_f32_avx2(accel_op op, float *dst, const float *a, const float *b, int64_t n);
void cpu_vec_binary_scalar_f32_avx2(accel_op op, float *dst, const float *a, float b, int64_t n);
void cpu_vec_softmax_f32_avx2(float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid, float scale,
                              const float *next);
void cpu_vec_sum_sumsq_f64_avx2(const float *x, int64_t n, double *sum, double *sumsq);
void cpu_vec_moments_f32_avx2(const float *x, int64_t n, bool center, double *mean, double *var, const float *next);
void cpu_vec_norm_row_f32_avx2(float *dst, const float *x, int64_t n, float mean, float mul, float add,
                               const float *w, const float *b, const float *next);

#endif
