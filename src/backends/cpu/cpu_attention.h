/* CPU attention internals: the small f32 kernels the flash-attention driver (cpu_attention.c) is built from, one
 * set per ISA (cpu_attention_portable.c, cpu_attention_avx2.c, cpu_attention_avx512.c), and the ROPE kernel
 * (cpu_attention_rope.c).
 *
 * All matrices here are f32 with strides in floats, except the K and V rows handed to `scores` / `accum`, which
 * are read in their own dtype (f32, f16 or bf16) through byte strides.
 */
#ifndef ACCEL_CPU_ATTENTION_H
#define ACCEL_CPU_ATTENTION_H

#include "backends/cpu/cpu_kernels.h"

typedef struct cpu_attn_kernels {
    /* C[M, N] = A[M, K] B[K, N] (accumulate: C +=). A element (m, k) is a[m * a_rs + k * a_cs]; B and C are
     * row-major with row strides ldb and ldc. Any M, N, K >= 0. */
    void (*gemm)(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                 int64_t ldb, float *c, int64_t ldc, bool accumulate);
    /* Online-softmax step over a tile of scores stored key-major, s[j * ld + r] for keys j < nk and query
     * columns r < nr (nr a multiple of 16). Per column: mnew = max(m, max_j s); mu = mnew, or 0 when mnew is
     * -inf (nothing visible yet); s = exp(s - mu) (so hidden keys, -inf, become exactly 0);
     * corr = exp(m - mu); l = l * corr + sum_j s; m = mnew. */
    void (*softmax_tile)(float *s, int64_t nk, int64_t nr, int64_t ld, float *m, float *l, float *corr);
    /* s[j] = q . k_j for j < n, with k_j[d] at k + j * k_rs + d * k_cs bytes, dtype kt (f32/f16/bf16). */
    void (*scores)(const float *q, const char *k, int64_t k_rs, int64_t k_cs, accel_dtype kt, int64_t D, int64_t n,
                   float *s);
    /* o[e] += sum_j p[j] v_j[e] for e < Dv, with v_j[e] at v + j * v_rs + e * v_cs bytes, dtype vt. */
    void (*accum)(float *o, const float *p, const char *v, int64_t v_rs, int64_t v_cs, accel_dtype vt, int64_t Dv,
                  int64_t n);
    /* max of s[0..n) (-inf for n == 0) */
    float (*row_max)(const float *s, int64_t n);
    /* s[j] = exp(s[j] - m) for j < n; returns the sum. exp(-inf) is exactly 0. */
    float (*exp_sum)(float *s, int64_t n, float m);
} cpu_attn_kernels;

extern const cpu_attn_kernels cpu_attn_kernels_portable;
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define CPU_ATTN_X86 1
extern const cpu_attn_kernels cpu_attn_kernels_avx2;
extern const cpu_attn_kernels cpu_attn_kernels_avx512;
#else
#define CPU_ATTN_X86 0
#endif

/* The kernel set for an ISA level. */
const cpu_attn_kernels *cpu_attn_kernels_for(cpu_isa isa);

/* ROPE (cpu_attention_rope.c). */
accel_status cpu_rope_compute(cpu_ctx *ctx, accel_tensor *dst);
bool cpu_rope_supports(const accel_tensor *dst);

#endif
