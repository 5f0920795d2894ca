/* The CPU GEMM engine: C[M, N] = A[M, K] @ B[K, N] (+ row or column bias), accumulated in f32.
 *
 * One engine serves every layout and float dtype (BLIS / GotoBLAS design): operands are read through byte strides
 * and packed, converted to f32, into cache-sized blocks — B in KC x NR panels, A in MC x KC blocks of MR-row
 * panels — and a register-blocked micro-kernel computes MR x NR tiles of C from them. The micro-kernel, the
 * packing routines, the output conversion and the GEMV kernels (M == 1 or N == 1, which skip packing because they
 * are memory bound) come in one set per ISA, picked at run time from ctx->isa: AVX-512 (8 x 32 tile), AVX2
 * (6 x 16) and portable C (4 x 8).
 *
 * Threads: batch items are split across the pool when there are enough of them; otherwise each thread computes
 * its own rectangle of every C (a tm x tn grid chosen to balance compute and packing), with its own pack buffers,
 * so the threads never wait on each other inside a call. One exception: when all rows fit one MC block (M = 128
 * tokens) and the grid splits N, the threads first pack A together, once, then take column chunks of C from a
 * shared counter (a thread the system preempts delays the call by a chunk, not by half of it).
 *
 * Weights: when B is a model weight (constant between calls, b_constant), the packed engine takes it from a pack
 * cache owned by the compute context (gemm_cache.c) instead of packing it on every call: the whole B, packed once
 * in the kernel set's panel layout, keyed by its memory, layout and kernel set.
 *
 * Bias: a per-row (convolutions) or per-column (Linear layers) bias is added by the micro-kernel when it stores
 * the last K block of a tile, so it costs no pass of its own.
 *
 * OpenBLAS (ACCEL_HAVE_OPENBLAS) may take f32 problems whose operands have a unit stride on one dimension; whether
 * it does is decided in gemm.c from measurements documented there.
 */
#ifndef ACCEL_CPU_GEMM_H
#define ACCEL_CPU_GEMM_H

#include "backends/cpu/cpu_kernels.h"

/* A matrix operand: element (i, j) lives at data + i * rs + j * cs (byte strides, any sign or size). */
typedef struct gemm_operand {
    const char *data;
    accel_dtype dtype; /* f32, f16 or bf16 */
    int64_t rs, cs;
} gemm_operand;

typedef struct gemm_problem {
    int64_t m, n, k;
    gemm_operand a;        /* [m, k] */
    gemm_operand b;        /* [k, n] */
    void *c;               /* [m, n], element (i, j) at c + (i * ldc + j) * sizeof(c_dtype) */
    accel_dtype c_dtype;   /* f32, f16 or bf16: results are rounded once, at the store */
    int64_t ldc;           /* elements */
    const float *row_bias; /* [m]: row_bias[i] added to row i, or NULL */
    const float *col_bias; /* [n]: col_bias[j] added to column j (a Linear bias), or NULL */
    bool b_constant;       /* b's data is a weight that does not change between calls: it may be cached packed */
    bool a_first;          /* C may overlap A's memory: every element of A is read (packed) before any of C is
                              written. Honored for a single item with m > 1 and n > 1 (otherwise ignored) */
} gemm_problem;

/* Batched problems: up to 4 batch dims; item idx uses a, b, c advanced by sum(idx[d] * stride[d]) bytes
 * (stride 0 broadcasts an operand). */
#define GEMM_MAX_BATCH_DIMS 4
typedef struct gemm_batch {
    int ndims;
    int64_t shape[GEMM_MAX_BATCH_DIMS];
    int64_t a_stride[GEMM_MAX_BATCH_DIMS], b_stride[GEMM_MAX_BATCH_DIMS], c_stride[GEMM_MAX_BATCH_DIMS];
} gemm_batch;

/* Who computes f32 problems that OpenBLAS could take. */
typedef enum gemm_blas_policy {
    GEMM_BLAS_AUTO = 0,  /* the measured choice (see gemm.c) */
    GEMM_BLAS_NEVER = 1, /* always the built-in engine */
    GEMM_BLAS_ALWAYS = 2 /* OpenBLAS whenever the layout allows it (tests, benchmarks) */
} gemm_blas_policy;

/* Process-wide; the initial value comes from ACCEL_CPU_BLAS=auto|never|always (default auto). Thread-safe. */
void cpu_gemm_set_blas_policy(gemm_blas_policy policy);
gemm_blas_policy cpu_gemm_get_blas_policy(void);

/* Whether a_first costs this problem nothing: the engine packs all of A before computing anyway (one block of
 * rows, m <= the kernel set's MC). */
bool cpu_gemm_a_first_free(const cpu_ctx *ctx, const gemm_problem *p);

/* Scratch bytes cpu_gemm needs for this problem with ctx's thread count and ISA. */
size_t cpu_gemm_scratch_size(const cpu_ctx *ctx, const gemm_problem *p);

/* Computes every batch item of p (batch may be NULL for one item) on ctx's pool. scratch: 64-byte aligned,
 * cpu_gemm_scratch_size(ctx, p) bytes (the caller owns it, so it can share ctx's scratch with its own buffers).
 * Must be called from outside the pool (it runs the pool itself). */
accel_status cpu_gemm(cpu_ctx *ctx, const gemm_problem *p, const gemm_batch *batch, void *scratch);

/* ---- per-ISA kernel sets (gemm_portable.c, gemm_avx2.c, gemm_avx512.c) ----------------------------------- */

/* What a micro-kernel call does besides C (+)= A_panel @ B_panel. */
typedef struct gemm_uk_extra {
    int accumulate;       /* 1: adds the product to C; 0: stores it */
    const float *rb, *cb; /* then adds rb[i] (rows, m values) and cb[j] (columns, n values) when not NULL: given
                             on the last K block, so a bias is added once to the whole sum, as a separate add
                             would (accumulating onto it would round the sum at the bias's larger scale) */
    const char *pf;  /* pf_lines cache lines from here to fetch into L2 during the call (spread over its K loop,
                        so they do not all wait for memory at once), or NULL */
    int pf_lines;
} gemm_uk_extra;

typedef struct gemm_kernels {
    const char *name;
    int mr, nr;            /* micro-tile */
    int kc, mc;            /* K block of a packed A block; rows of a packed A block (multiple of mr) */
    size_t b_block_bytes;  /* footprint budget of one packed B block (KC x NC floats) */
    double fma_per_cycle;  /* f32 multiply-adds per cycle of the micro-kernel, for the thread-grid cost model */

    /* C[0..m) x [0..n) (+)= A_panel (kc x mr, k-major) @ B_panel (kc x nr, k-major); m <= mr, n <= nr; the rest
     * per x. ldc in floats. */
    void (*ukernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int m, int n,
                    const gemm_uk_extra *x);

    /* Packs a panel of width `width` (mr or nr): dst[k * width + p] = X(p, k) converted to f32 for p < np and
     * k < nk, 0 for np <= p < width. X(p, k) is at src + p * sp + k * sk bytes. dst is 64-byte aligned. */
    void (*pack)(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk, int64_t sp,
                 int64_t sk);

    /* dst[0..n) = src[0..n) rounded to dtype (f32, f16, bf16; round to nearest even). */
    void (*store_row)(void *dst, accel_dtype dtype, const float *src, int64_t n);

    /* y[j] = sum_k x[k] * W(k, j) for j < n, k < nk; x is f32 contiguous, W in dtype.
     * gemv_dot: W(k, j) at w + j * sj + k * esize (each output is a dot product of contiguous vectors).
     * gemv_axpy: W(k, j) at w + k * sk + j * esize (rows of W are scaled and summed). */
    void (*gemv_dot)(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n, int64_t sj);
    void (*gemv_axpy)(float *y, const float *x, const char *w, accel_dtype dtype, int64_t nk, int64_t n,
                      int64_t sk);
} gemm_kernels;

extern const gemm_kernels gemm_kernels_portable;
#if defined(__x86_64__) || defined(__i386__)
extern const gemm_kernels gemm_kernels_avx2;
extern const gemm_kernels gemm_kernels_avx512;
#endif

/* The kernel set for an ISA level (the best one compiled in at or below it). */
const gemm_kernels *gemm_kernels_for(cpu_isa isa);

/* Generic (any strides) packing and f32 load helpers shared by the ISA files for their slow paths. */
void gemm_pack_generic(float *dst, int width, const char *src, accel_dtype dtype, int64_t np, int64_t nk,
                       int64_t sp, int64_t sk);
static inline float gemm_load_f32(const char *p, accel_dtype dtype) {
    if (dtype == ACCEL_F32) {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return dtype == ACCEL_F16 ? accel_f16_to_f32(h) : accel_bf16_to_f32(h);
}

/* ---- packed weights (gemm_cache.c) ----------------------------------------------------------------------------
 * Layout of a whole packed B (k x n) for a kernel set: K blocks of kern->kc rows (the last one shorter), each
 * holding round_up(n, nr) / nr panels of kcur x nr floats (k-major, zero-padded columns). Block pc (the K block
 * starting at row pc) starts at float pc * round_up(n, nr); its panel for columns [j, j + nr) at
 * + (j / nr) * kcur * nr: exactly the panels the packed engine would build itself. */

/* Floats of a whole packed B. */
size_t gemm_packed_b_floats(const gemm_kernels *kern, int64_t k, int64_t n);

/* A context's cache of packed weights (B operands with b_constant): entries keyed by data pointer, dtype, strides,
 * k, n and kernel set, each checked on every lookup against a sample of its source values (memory reused for
 * other data is packed again). Bounded by ACCEL_CPU_PACK_CACHE_MB (MiB, default 1024; 0 turns the cache off):
 * a weight that does not fit is packed per call as before. Not thread-safe: one compute at a time per context. */
typedef struct gemm_pack_cache gemm_pack_cache;

/* The packed B of problem p (p->b_constant, f32/f16/bf16 b, one B for every batch item) from ctx's cache,
 * packing it (on ctx's pool) on a miss. NULL when it is not cached (off, over budget, out of memory): the caller
 * packs per call. Must be called from outside the pool. */
const float *gemm_pack_cache_get(cpu_ctx *ctx, const gemm_kernels *kern, const gemm_problem *p);
/* Frees a cache and every entry (NULL is a no-op). */
void gemm_pack_cache_free(gemm_pack_cache *cache);
/* Bytes of packed weights a cache holds (0 for NULL). */
size_t gemm_pack_cache_bytes(const gemm_pack_cache *cache);
/* Process-wide budget in bytes for caches' further entries, overriding ACCEL_CPU_PACK_CACHE_MB (tests). */
void gemm_pack_cache_set_budget(size_t bytes);

/* ---- OpenBLAS (gemm_blas.c) --------------------------------------------------------------------------------- */

/* True when this build links OpenBLAS. */
bool gemm_blas_available(void);
/* The kernel OpenBLAS runs on this machine (openblas_get_corename()), or "none". */
const char *gemm_blas_corename(void);
/* True when OpenBLAS can take this problem: f32 a, b, c and each of a, b has a unit stride on one of its two
 * dimensions (row- or column-major with a positive leading dimension). */
bool gemm_blas_accepts(const gemm_problem *p);
/* C = A @ B (+ bias) with cblas_sgemm on n_threads OpenBLAS threads. Call from one thread only, outside the
 * pool. Requires gemm_blas_accepts(p). */
void gemm_blas_sgemm(const gemm_problem *p, int n_threads);

#endif
