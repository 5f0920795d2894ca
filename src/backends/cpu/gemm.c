/* GEMM driver: blocking, thread split, GEMV and OpenBLAS dispatch. See gemm.h for the design.
 *
 * Loop nest per thread rectangle (GotoBLAS order): an MC x KC block of A stays in L2 and a KC x NR panel of B in
 * L1 while the micro-kernel sweeps the A block's MR panels:
 *   row super-block (only for f16/bf16 C: bounds the f32 accumulation buffer)
 *     jc: NC columns  ->  pc: KC of K
 *       ic: MC rows, pack A block  ->  jr: NR panel of B (packed on first use)  ->  ir: MR panel  ->  micro-kernel
 */
#include "backends/cpu/gemm.h"

#include "core/error.h"
#include "core/log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

/* ---- policy --------------------------------------------------------------------------------------------------- */

static atomic_int g_blas_policy = -1; /* -1: not read from the environment yet */

gemm_blas_policy cpu_gemm_get_blas_policy(void) {
    int p = atomic_load(&g_blas_policy);
    if (p >= 0) return (gemm_blas_policy)p;
    const char *env = getenv("ACCEL_CPU_BLAS");
    p = GEMM_BLAS_AUTO;
    if (env && (!strcasecmp(env, "never") || !strcmp(env, "0") || !strcasecmp(env, "off"))) p = GEMM_BLAS_NEVER;
    if (env && (!strcasecmp(env, "always") || !strcmp(env, "1") || !strcasecmp(env, "on"))) p = GEMM_BLAS_ALWAYS;
    int expected = -1;
    if (atomic_compare_exchange_strong(&g_blas_policy, &expected, p))
        accel_log(ACCEL_LOG_DEBUG, "cpu gemm: OpenBLAS %s (core %s), policy %s",
                  gemm_blas_available() ? "linked" : "not linked", gemm_blas_corename(),
                  p == GEMM_BLAS_NEVER ? "never" : p == GEMM_BLAS_ALWAYS ? "always" : "auto");
    return (gemm_blas_policy)atomic_load(&g_blas_policy);
}

void cpu_gemm_set_blas_policy(gemm_blas_policy policy) { atomic_store(&g_blas_policy, (int)policy); }

const gemm_kernels *gemm_kernels_for(cpu_isa isa) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa == CPU_ISA_AVX512) return &gemm_kernels_avx512;
    if (isa == CPU_ISA_AVX2) return &gemm_kernels_avx2;
#endif
    (void)isa;
    return &gemm_kernels_portable;
}

/* ---- plan ------------------------------------------------------------------------------------------------------ */

enum gemm_mode {
    MODE_PACKED,   /* the blocked engine (any layout) */
    MODE_GEMV_ROW, /* m == 1: y = a_row @ B with B unit-strided along k or n */
    MODE_GEMV_COL, /* n == 1: y = A @ b_col with A unit-strided along k or m */
};

/* Columns of y computed per GEMV chunk (bounded per-thread buffer). */
#define GEMV_CHUNK 512
/* Bytes of the f32 accumulation buffer of a row super-block (f16/bf16 C only). */
#define C_BUFFER_BYTES (1u << 20)

typedef struct gemm_plan {
    const gemm_kernels *kern;
    const gemm_problem *p;
    const gemm_batch *batch;
    int64_t n_items;
    enum gemm_mode mode;
    bool split_items; /* threads take whole batch items; otherwise each takes a rectangle of every item */
    int tm, tn;       /* thread grid over M x N (tm * tn == nth) */
    int64_t nc;       /* columns of a packed B block */
    int64_t rows_sb;  /* rows of a super-block (f16/bf16 C) */
    size_t per_thread;
    char *scratch;
} gemm_plan;

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
static int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }
static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }
static int64_t dtype_bytes(accel_dtype d) { return d == ACCEL_F32 ? 4 : 2; }

static enum gemm_mode choose_mode(const gemm_problem *p) {
    const int64_t ea = dtype_bytes(p->a.dtype), eb = dtype_bytes(p->b.dtype);
    if (p->m == 1 && (p->b.rs == eb || p->b.cs == eb)) return MODE_GEMV_ROW;
    if (p->n == 1 && (p->a.cs == ea || p->a.rs == ea)) return MODE_GEMV_COL;
    return MODE_PACKED;
}

/* Columns per packed B block: the budget, a multiple of NR, no wider than the thread's share of N. */
static int64_t choose_nc(const gemm_kernels *kern, int64_t cols) {
    int64_t nc = (int64_t)(kern->b_block_bytes / ((size_t)kern->kc * sizeof(float)));
    nc = nc / kern->nr * kern->nr;
    if (nc < kern->nr) nc = kern->nr;
    const int64_t want = round_up(cols, kern->nr);
    return nc < want ? nc : want;
}

/* Floats of the f32 accumulation buffer for f16/bf16 C: a row super-block of up to C_BUFFER_BYTES (at least one
 * MC block) of the widest B block any thread grid can use (nc_bound). */
static int64_t c_buffer_floats(const gemm_kernels *kern, const gemm_problem *p, int64_t nc_bound) {
    if (p->c_dtype == ACCEL_F32) return 0;
    int64_t f = (int64_t)(C_BUFFER_BYTES / sizeof(float));
    if (f < kern->mc * nc_bound) f = kern->mc * nc_bound;
    const int64_t all = round_up(p->m, kern->mr) * nc_bound;
    return f < all ? f : all;
}

/* Rows of a super-block for B blocks nc wide: the buffer holds them (whole MR panels). */
static int64_t choose_rows_sb(const gemm_kernels *kern, const gemm_problem *p, int64_t nc) {
    if (p->c_dtype == ACCEL_F32) return p->m > 0 ? p->m : 1; /* written in place: one super-block */
    const int64_t nc_bound = choose_nc(kern, p->n);
    const int64_t r = c_buffer_floats(kern, p, nc_bound) / nc / kern->mr * kern->mr;
    return r < kern->mr ? kern->mr : r;
}

/* Estimated cycles of the busiest thread for a tm x tn grid: its compute plus its packing (about 1/2 cycle per
 * packed element, which makes thin splits of the dimension that must be re-packed expensive). */
static double grid_cost(const gemm_kernels *kern, const gemm_problem *p, int tm, int tn) {
    const int64_t rows = ceil_div(ceil_div(p->m, kern->mr), tm) * kern->mr;
    const int64_t cols = ceil_div(ceil_div(p->n, kern->nr), tn) * kern->nr;
    const int64_t nc = choose_nc(kern, cols);
    const double compute = (double)rows * (double)cols * (double)p->k / kern->fma_per_cycle;
    const double pack_a = (double)rows * (double)p->k * (double)ceil_div(cols, nc);
    const double pack_b = (double)cols * (double)p->k;
    return compute + 0.5 * (pack_a + pack_b);
}

static void choose_grid(gemm_plan *pl, int nth) {
    const gemm_problem *p = pl->p;
    pl->tm = nth, pl->tn = 1;
    if (pl->mode == MODE_GEMV_ROW) { /* the output row is split */
        pl->tm = 1, pl->tn = nth;
        return;
    }
    if (pl->mode == MODE_GEMV_COL) return;
    double best = -1;
    for (int tn = 1; tn <= nth; tn++) {
        if (nth % tn) continue;
        const double c = grid_cost(pl->kern, p, nth / tn, tn);
        if (best < 0 || c < best) best = c, pl->tm = nth / tn, pl->tn = tn;
    }
}

/* Scratch bytes per thread. It depends only on the problem (not on the thread grid or mode), and never grows
 * when n shrinks, so a caller can size it once for a series of problems that differ only by a smaller n. */
static size_t thread_scratch_bytes(const gemm_kernels *kern, const gemm_problem *p) {
    const size_t gemv = align64((size_t)p->k * sizeof(float)) + align64(GEMV_CHUNK * sizeof(float));
    const int64_t nc_bound = choose_nc(kern, p->n);
    size_t packed = align64((size_t)kern->mc * (size_t)kern->kc * sizeof(float)); /* A block */
    packed += align64((size_t)kern->kc * (size_t)nc_bound * sizeof(float));       /* B block */
    packed += align64((size_t)c_buffer_floats(kern, p, nc_bound) * sizeof(float)); /* f16/bf16 C */
    return align64(gemv > packed ? gemv : packed);
}

static int64_t batch_items(const gemm_batch *b) {
    int64_t n = 1;
    if (b)
        for (int d = 0; d < b->ndims; d++) n *= b->shape[d];
    return n;
}

/* Threads that will run the task: the pool's size (run() calls every pool thread). */
static int ctx_threads(const cpu_ctx *ctx) { return ctx->pool ? accel_threadpool_size(ctx->pool) : 1; }

static void plan_init(gemm_plan *pl, const cpu_ctx *ctx, const gemm_problem *p, const gemm_batch *batch) {
    memset(pl, 0, sizeof *pl);
    const int nth = ctx_threads(ctx);
    pl->kern = gemm_kernels_for(ctx->isa);
    pl->p = p;
    pl->batch = batch;
    pl->n_items = batch_items(batch);
    pl->mode = choose_mode(p);
    /* Whole items per thread when they divide evenly (or are many), or when one item is too small to split. */
    const double work = (double)p->m * (double)p->n * (double)(p->k ? p->k : 1);
    pl->split_items = nth > 1 && pl->n_items >= nth &&
                      (pl->n_items % nth == 0 || pl->n_items >= 4 * nth || work < 64.0 * 64 * 64);
    if (pl->split_items || nth == 1) {
        pl->tm = pl->tn = 1;
    } else {
        choose_grid(pl, nth);
    }
    const int64_t cols = ceil_div(p->n, pl->tn);
    pl->nc = choose_nc(pl->kern, cols);
    pl->rows_sb = choose_rows_sb(pl->kern, p, pl->nc);
    pl->per_thread = thread_scratch_bytes(pl->kern, p);
}

size_t cpu_gemm_scratch_size(const cpu_ctx *ctx, const gemm_problem *p) {
    return thread_scratch_bytes(gemm_kernels_for(ctx->isa), p) * (size_t)ctx_threads(ctx);
}

/* ---- one rectangle of one item ------------------------------------------------------------------------------ */

typedef struct gemm_item {
    const char *a, *b;
    char *c;
} gemm_item;

static gemm_item item_at(const gemm_plan *pl, int64_t t) {
    const gemm_problem *p = pl->p;
    gemm_item it = {p->a.data, p->b.data, (char *)p->c};
    const gemm_batch *b = pl->batch;
    if (!b) return it;
    for (int d = b->ndims - 1; d >= 0; d--) {
        const int64_t i = t % b->shape[d];
        t /= b->shape[d];
        it.a += i * b->a_stride[d];
        it.b += i * b->b_stride[d];
        it.c += i * b->c_stride[d];
    }
    return it;
}

/* Sets C rows [m0, m1) x cols [n0, n1) of an f32 region (row stride ldc floats) to the bias (or zero). */
static void fill_bias(float *c, int64_t ldc, const float *bias, int64_t rows, int64_t cols) {
    for (int64_t i = 0; i < rows; i++) {
        const float v = bias ? bias[i] : 0.0f;
        for (int64_t j = 0; j < cols; j++) c[i * ldc + j] = v;
    }
}

static void packed_rect(const gemm_plan *pl, const gemm_item *it, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                        char *scratch) {
    const gemm_kernels *kern = pl->kern;
    const gemm_problem *p = pl->p;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t K = p->k, kc_max = kern->kc, mc_max = kern->mc, nc_max = pl->nc;
    const int64_t ec = dtype_bytes(p->c_dtype);
    const bool direct_c = p->c_dtype == ACCEL_F32;

    float *a_buf = (float *)scratch;
    float *b_buf = (float *)(scratch + align64((size_t)mc_max * (size_t)kc_max * sizeof(float)));
    float *c_buf = (float *)((char *)b_buf + align64((size_t)kc_max * (size_t)nc_max * sizeof(float)));

    for (int64_t r0 = m0; r0 < m1; r0 += pl->rows_sb) {
        const int64_t r1 = m1 - r0 < pl->rows_sb ? m1 : r0 + pl->rows_sb;
        for (int64_t jc = n0; jc < n1; jc += nc_max) {
            const int64_t ncur = n1 - jc < nc_max ? n1 - jc : nc_max;
            /* C region of this (super-block, jc): f32 output is written in place, else accumulated in c_buf */
            float *cr = direct_c ? (float *)it->c + r0 * p->ldc + jc : c_buf;
            const int64_t ldcr = direct_c ? p->ldc : ncur;
            const bool prefill = p->row_bias || K == 0;
            if (prefill) fill_bias(cr, ldcr, p->row_bias ? p->row_bias + r0 : NULL, r1 - r0, ncur);

            for (int64_t pc = 0; pc < K; pc += kc_max) {
                const int64_t kcur = K - pc < kc_max ? K - pc : kc_max;
                const int accumulate = prefill || pc > 0;
                for (int64_t ic = r0; ic < r1; ic += mc_max) {
                    const int64_t mcur = r1 - ic < mc_max ? r1 - ic : mc_max;
                    for (int64_t ip = 0; ip < mcur; ip += mr) {
                        const int64_t mp = mcur - ip < mr ? mcur - ip : mr;
                        kern->pack(a_buf + (ip / mr) * kcur * mr, mr, it->a + (ic + ip) * p->a.rs + pc * p->a.cs,
                                   p->a.dtype, mp, kcur, p->a.rs, p->a.cs);
                    }
                    float *c_ic = cr + (ic - r0) * ldcr;
                    for (int64_t jp = 0; jp < ncur; jp += nr) {
                        const int n_here = (int)(ncur - jp < nr ? ncur - jp : nr);
                        float *bp = b_buf + (jp / nr) * kcur * nr;
                        /* B panels are packed during the first MC block, right before their first use, so they
                         * are still in L1 then (with a single MC block they never make the round trip to L2/L3) */
                        if (ic == r0)
                            kern->pack(bp, nr, it->b + (jc + jp) * p->b.cs + pc * p->b.rs, p->b.dtype, n_here, kcur,
                                       p->b.cs, p->b.rs);
                        for (int64_t ip = 0; ip < mcur; ip += mr) {
                            const int m_here = (int)(mcur - ip < mr ? mcur - ip : mr);
                            kern->ukernel(kcur, a_buf + (ip / mr) * kcur * mr, bp, c_ic + ip * ldcr + jp, ldcr,
                                          m_here, n_here, accumulate);
                        }
                    }
                }
            }
            if (!direct_c)
                for (int64_t i = r0; i < r1; i++)
                    kern->store_row(it->c + (i * p->ldc + jc) * ec, p->c_dtype, c_buf + (i - r0) * ncur, ncur);
        }
    }
}

/* GEMV: outputs [j0, j1) of one item. Row mode: y = a[0, :] @ B (outputs are columns of C's single row).
 * Column mode: y = A @ b[:, 0] (outputs are rows of C's single column). */
static void gemv_range(const gemm_plan *pl, const gemm_item *it, int64_t j0, int64_t j1, char *scratch) {
    const gemm_kernels *kern = pl->kern;
    const gemm_problem *p = pl->p;
    const bool row = pl->mode == MODE_GEMV_ROW;
    const int64_t K = p->k, ec = dtype_bytes(p->c_dtype);
    float *x = (float *)scratch;
    float *y = (float *)(scratch + align64((size_t)K * sizeof(float)));

    /* the vector operand, converted to contiguous f32 */
    const gemm_operand *xv = row ? &p->a : &p->b, *wm = row ? &p->b : &p->a;
    const char *xsrc = row ? it->a : it->b;
    const int64_t xstride = row ? p->a.cs : p->b.rs;
    for (int64_t k = 0; k < K; k++) x[k] = gemm_load_f32(xsrc + k * xstride, xv->dtype);

    /* W(k, j): row mode W = B (k = row); column mode W = A^T (k = column of A) */
    const char *w = row ? it->b : it->a;
    const int64_t sk = row ? wm->rs : wm->cs, sj = row ? wm->cs : wm->rs;
    const int64_t ew = dtype_bytes(wm->dtype);

    for (int64_t j = j0; j < j1; j += GEMV_CHUNK) {
        const int64_t n = j1 - j < GEMV_CHUNK ? j1 - j : GEMV_CHUNK;
        if (K == 0)
            memset(y, 0, (size_t)n * sizeof(float));
        else if (sk == ew)
            kern->gemv_dot(y, x, w + j * sj, wm->dtype, K, n, sj);
        else
            kern->gemv_axpy(y, x, w + j * sj, wm->dtype, K, n, sk);
        if (row) {
            if (p->row_bias)
                for (int64_t q = 0; q < n; q++) y[q] += p->row_bias[0];
            kern->store_row(it->c + j * ec, p->c_dtype, y, n);
        } else {
            if (p->row_bias)
                for (int64_t q = 0; q < n; q++) y[q] += p->row_bias[j + q];
            if (p->ldc == 1)
                kern->store_row(it->c + j * ec, p->c_dtype, y, n);
            else
                for (int64_t q = 0; q < n; q++) kern->store_row(it->c + (j + q) * p->ldc * ec, p->c_dtype, y + q, 1);
        }
    }
}

/* Computes rows [m0, m1) x cols [n0, n1) of item t. */
static void compute_rect(const gemm_plan *pl, int64_t t, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                         char *scratch) {
    if (m0 >= m1 || n0 >= n1) return;
    const gemm_item it = item_at(pl, t);
    switch (pl->mode) {
    case MODE_GEMV_ROW: gemv_range(pl, &it, n0, n1, scratch); break;
    case MODE_GEMV_COL: gemv_range(pl, &it, m0, m1, scratch); break;
    default: packed_rect(pl, &it, m0, m1, n0, n1, scratch); break;
    }
}

static void gemm_task(void *arg, int ith, int nth) {
    const gemm_plan *pl = arg;
    const gemm_problem *p = pl->p;
    char *scratch = pl->scratch + (size_t)ith * pl->per_thread;
    if (pl->split_items) {
        int64_t t0, t1;
        accel_split_range(pl->n_items, ith, nth, &t0, &t1);
        for (int64_t t = t0; t < t1; t++) compute_rect(pl, t, 0, p->m, 0, p->n, scratch);
        return;
    }
    /* rectangle (im, in) of the tm x tn grid, aligned to whole micro-tiles (16 outputs for GEMV) */
    const int im = ith / pl->tn, in = ith % pl->tn;
    const int64_t mq = pl->mode == MODE_PACKED ? pl->kern->mr : 16, nq = pl->mode == MODE_PACKED ? pl->kern->nr : 16;
    int64_t b0, b1, m0, m1, n0, n1;
    accel_split_range(ceil_div(p->m, mq), im, pl->tm, &b0, &b1);
    m0 = b0 * mq, m1 = b1 * mq < p->m ? b1 * mq : p->m;
    accel_split_range(ceil_div(p->n, nq), in, pl->tn, &b0, &b1);
    n0 = b0 * nq, n1 = b1 * nq < p->n ? b1 * nq : p->n;
    for (int64_t t = 0; t < pl->n_items; t++) compute_rect(pl, t, m0, m1, n0, n1, scratch);
}

/* ---- entry ----------------------------------------------------------------------------------------------------- */

/* Whether OpenBLAS takes an f32 problem under GEMM_BLAS_AUTO: only when this engine would run its portable
 * kernels (no AVX2, or a CPU without an ISA-specific kernel set here).
 *
 * Measured on this project's 2-core Xeon (Sapphire Rapids class, AVX-512, shared with other jobs, so ranges over
 * several runs), 2 threads, GFLOP/s, best of 15-61 runs (test_cpu_matmul --bench; b row-major and b = W^T of a
 * Linear weight both measured; OpenBLAS 0.3.21 pthreads):
 *                          this engine (avx512)   OpenBLAS, its own choice   OPENBLAS_CORETYPE=SkylakeX
 *                                                 (Prescott SSE kernels)
 *   1024x1024x1024         285-324                67-69                      308-329   (ours 0.91-0.96x)
 *   128x768x768            281-334                62-69                      200-257   (0.97-1.17x)
 *   128x3072x768           260-320                65-75                      246-309   (0.94-1.20x)
 *   128x768x3072           243-344                64-70                      246-305   (0.95-1.25x)
 *   1x2048x2048 (GEMV)     16-32                  8-13                       9-11      (1.5-3x)
 *   12 x 128x128x64        195-283                32-53                      99-144    (1.8-2.7x)
 *   this engine's avx2 kernels vs OPENBLAS_CORETYPE=Haswell on the same shapes: 150-180 vs 147-195 (0.90-1.1x);
 *   its portable kernels vs OpenBLAS's Prescott kernels, one thread: 23 vs 35-36 (0.65x).
 * OpenBLAS's only measured lead over the AVX-512 / AVX2 kernels is a few percent on large square problems with
 * a core type it does not pick by itself on this CPU, and its worker threads keep spinning for a while after each
 * call, which slowed the next runs of our pool by up to 2x in the same measurements. It is clearly faster than the
 * portable kernels. */
static bool blas_preferred(const gemm_kernels *kern) { return kern == &gemm_kernels_portable; }

static bool dtype_ok(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

accel_status cpu_gemm(cpu_ctx *ctx, const gemm_problem *p, const gemm_batch *batch, void *scratch) {
    if (!ctx || !p || p->m < 0 || p->n < 0 || p->k < 0 || !dtype_ok(p->a.dtype) || !dtype_ok(p->b.dtype) ||
        !dtype_ok(p->c_dtype) || (batch && (batch->ndims < 0 || batch->ndims > GEMM_MAX_BATCH_DIMS)))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu gemm: invalid problem");
    if (p->m == 0 || p->n == 0 || batch_items(batch) == 0) return ACCEL_OK;

    const gemm_blas_policy policy = cpu_gemm_get_blas_policy();
    const bool use_blas = policy == GEMM_BLAS_ALWAYS ||
                          (policy == GEMM_BLAS_AUTO && blas_preferred(gemm_kernels_for(ctx->isa)));
    if (use_blas && gemm_blas_accepts(p)) {
        const int64_t n_items = batch_items(batch);
        gemm_plan pl;
        memset(&pl, 0, sizeof pl);
        pl.p = p;
        pl.batch = batch;
        for (int64_t t = 0; t < n_items; t++) {
            const gemm_item it = item_at(&pl, t);
            gemm_problem q = *p;
            q.a.data = it.a, q.b.data = it.b, q.c = it.c;
            gemm_blas_sgemm(&q, ctx->n_threads > 0 ? ctx->n_threads : 1);
        }
        return ACCEL_OK;
    }

    if (!scratch) return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu gemm: no scratch memory");
    gemm_plan pl;
    plan_init(&pl, ctx, p, batch);
    pl.scratch = scratch;
    if (ctx_threads(ctx) > 1)
        accel_threadpool_run(ctx->pool, gemm_task, &pl);
    else
        gemm_task(&pl, 0, 1);
    return ACCEL_OK;
}
