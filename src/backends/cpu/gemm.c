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

/* Column chunks per thread when threads share a packed A (gemm_task). */
#define CHUNKS_PER_THREAD 6
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
    const float *b_packed; /* the whole B packed (pack cache), or NULL: B blocks are packed per call */
    bool share_a;          /* the threads share one packed A (shares_a) */
    float *a_shared;       /* that A, in scratch after the threads' own parts */
    int64_t chunk_cols;    /* > 0: with a shared A, threads take chunks of this many columns from *next_chunk */
    atomic_llong *next_chunk;
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

/* Whether the threads of a grid that splits only N (tm == 1) can share one packed A (one item of at most one MC
 * block of rows): packed once, by all threads together, into scratch, instead of every thread packing all of it
 * (for M = 128 and K = 3072 that was ~8% of each thread's time). With several MC blocks, sharing measured slower
 * (M = 1024, N = 768: 284-306 against 310-315 GFLOP/s): a block packed by the thread itself is still in its L2.
 * The layout is that of a cached B (gemm.h) with mr-row panels. */
static bool shares_a(const gemm_kernels *kern, const gemm_problem *p, int nth) {
    return nth > 1 && p->m > 1 && p->m <= kern->mc && p->n > 1 && p->k > 0;
}

/* a_first is honored the same way: the whole A packed before the compute phase starts (any m, any thread count). */
static bool packs_a_first(const gemm_problem *p) { return p->a_first && p->m > 1 && p->n > 1 && p->k > 0; }

static size_t shared_a_bytes(const gemm_kernels *kern, const gemm_problem *p, int nth) {
    return shares_a(kern, p, nth) || packs_a_first(p)
               ? align64((size_t)round_up(p->m, kern->mr) * (size_t)p->k * sizeof(float))
               : 0;
}

bool cpu_gemm_a_first_free(const cpu_ctx *ctx, const gemm_problem *p) {
    return p->m <= gemm_kernels_for(ctx->isa)->mc;
}

/* Estimated cycles of the busiest thread for a tm x tn grid: its compute plus its packing (about 1/2 cycle per
 * packed element, which makes thin splits of the dimension that must be re-packed expensive). A B taken packed
 * from the pack cache is only read (about 1/8 cycle per element from memory); a shared A is packed once, split
 * among the threads. */
static double grid_cost(const gemm_kernels *kern, const gemm_problem *p, int tm, int tn, bool b_cached) {
    const int64_t rows = ceil_div(ceil_div(p->m, kern->mr), tm) * kern->mr;
    const int64_t cols = ceil_div(ceil_div(p->n, kern->nr), tn) * kern->nr;
    const int64_t nc = choose_nc(kern, cols);
    const double compute = (double)rows * (double)cols * (double)p->k / kern->fma_per_cycle;
    const double pack_a = tm == 1 && shares_a(kern, p, tn) ? (double)rows * (double)p->k / tn
                                                           : (double)rows * (double)p->k * (double)ceil_div(cols, nc);
    const double pack_b = (double)cols * (double)p->k * (b_cached ? 0.25 : 1.0);
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
    /* A cached B with several MC blocks of rows per thread even when M is split: split M, so the threads stream
     * the same B panels at about the same time (bert shapes at M = 1024, 2 threads, interleaved medians: 313-330
     * GFLOP/s split M, 301-314 split N; the cost model below favored N by < 1%). */
    if (pl->b_packed && pl->n_items == 1 && ceil_div(p->m, nth) > pl->kern->mc) return;
    double best = -1;
    for (int tn = 1; tn <= nth; tn++) {
        if (nth % tn) continue;
        const double c = grid_cost(pl->kern, p, nth / tn, tn, pl->b_packed != NULL && pl->n_items == 1);
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

/* Whether every batch item multiplies by the same B (so one packed B serves them all). */
static bool b_shared(const gemm_batch *b) {
    if (b)
        for (int d = 0; d < b->ndims; d++)
            if (b->shape[d] > 1 && b->b_stride[d] != 0) return false;
    return true;
}

/* cpu_gemm is called from outside the pool, so plan_init may run the pool to fill the pack cache. */
static void plan_init(gemm_plan *pl, cpu_ctx *ctx, const gemm_problem *p, const gemm_batch *batch) {
    memset(pl, 0, sizeof *pl);
    const int nth = ctx_threads(ctx);
    pl->kern = gemm_kernels_for(ctx->isa);
    pl->p = p;
    pl->batch = batch;
    pl->n_items = batch_items(batch);
    pl->mode = choose_mode(p);
    if (pl->mode == MODE_PACKED && p->b_constant && b_shared(batch) && p->k > 0)
        pl->b_packed = gemm_pack_cache_get(ctx, pl->kern, p);
    /* Whole items per thread when they divide evenly (or are many), or when one item is too small to split. */
    const double work = (double)p->m * (double)p->n * (double)(p->k ? p->k : 1);
    pl->split_items = nth > 1 && pl->n_items >= nth &&
                      (pl->n_items % nth == 0 || pl->n_items >= 4 * nth || work < 64.0 * 64 * 64);
    const bool a_first = packs_a_first(p) && pl->mode == MODE_PACKED && pl->n_items == 1;
    if (pl->split_items || nth == 1) {
        pl->tm = pl->tn = 1;
    } else if (a_first) { /* the packed A is indexed by row block: any grid works; one that shares it whole */
        pl->tm = 1, pl->tn = nth;
    } else {
        choose_grid(pl, nth);
    }
    const int64_t cols = ceil_div(p->n, pl->tn);
    pl->nc = choose_nc(pl->kern, cols);
    pl->share_a = a_first || (pl->mode == MODE_PACKED && !pl->split_items && nth > 1 && pl->tm == 1 &&
                              pl->n_items == 1 && shares_a(pl->kern, p, nth));
    /* A cached B block is read from memory once per row block, and is not reused from L2 when a thread has a
     * single row block: then one B block as wide as the thread's columns saves the repacks of A. (f32 C only:
     * f16/bf16 C accumulates in a buffer sized for choose_nc's width.) */
    const int64_t rows = ceil_div(ceil_div(p->m, pl->kern->mr), pl->tm) * pl->kern->mr;
    if (rows <= pl->kern->mc && pl->b_packed && p->c_dtype == ACCEL_F32) pl->nc = round_up(cols, pl->kern->nr);
    pl->rows_sb = choose_rows_sb(pl->kern, p, pl->nc);
    pl->per_thread = thread_scratch_bytes(pl->kern, p);
}

size_t cpu_gemm_scratch_size(const cpu_ctx *ctx, const gemm_problem *p) {
    const gemm_kernels *kern = gemm_kernels_for(ctx->isa);
    const int nth = ctx_threads(ctx);
    return thread_scratch_bytes(kern, p) * (size_t)nth + shared_a_bytes(kern, p, nth);
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

/* Sets a rows x cols f32 region (row stride ldc floats) to rb[i] + cb[j] (each bias may be NULL: 0). For K == 0,
 * where no micro-kernel runs. */
static void fill_bias(float *c, int64_t ldc, const float *rb, const float *cb, int64_t rows, int64_t cols) {
    for (int64_t i = 0; i < rows; i++) {
        const float v = rb ? rb[i] : 0.0f;
        for (int64_t j = 0; j < cols; j++) c[i * ldc + j] = cb ? v + cb[j] : v;
    }
}

/* A cached B comes from memory (a model's weights do not stay in cache): the micro-kernel calls on one panel fetch
 * the next one into L2, each a share of its lines spread over its K loop. (A 12-layer bert-base encoder at
 * 1 x 128 tokens, 2 threads, medians of 9 interleaved runs: 91 ms without, 76 with; issuing each call's share at
 * once before it gained half as much.) Returns the panel that follows the one at (jc, pc) in this thread's order,
 * and its cache lines: the next panel of the block (next_in_block, or NULL at its end); after a block's last
 * panel, on the last row block, the first panel of the next K block, or after the last K block the first panel of
 * the column chunk handed out next (to this thread or another: from this L2 it is closer than from memory). */
static const char *next_b_panel(const gemm_plan *pl, int64_t jc, const float *next_in_block, int64_t pc,
                                bool last_row_block, int64_t *lines) {
    const gemm_kernels *kern = pl->kern;
    const int64_t K = pl->p->k, kc = kern->kc, nr = kern->nr, npad = round_up(pl->p->n, nr);
    int64_t k1 = kc, col = -1;
    const float *next = NULL;
    if (next_in_block) {
        next = next_in_block;
        k1 = K - pc < kc ? K - pc : kc;
    } else if (!last_row_block) {
        return NULL;
    } else if (pc + kc < K) {
        k1 = K - pc - kc < kc ? K - pc - kc : kc;
        next = pl->b_packed + (pc + kc) * npad + (jc / nr) * k1 * nr;
    } else if (pl->chunk_cols > 0) {
        col = atomic_load_explicit(pl->next_chunk, memory_order_relaxed) * pl->chunk_cols;
        if (col >= pl->p->n) return NULL;
        k1 = K < kc ? K : kc;
        next = pl->b_packed + (col / nr) * k1 * nr;
    }
    *lines = next ? k1 * nr * (int64_t)sizeof(float) / 64 : 0;
    return (const char *)next;
}

static void packed_rect(const gemm_plan *pl, const gemm_item *it, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                        char *scratch) {
    const gemm_kernels *kern = pl->kern;
    const gemm_problem *p = pl->p;
    const int mr = kern->mr, nr = kern->nr;
    const int64_t K = p->k, kc_max = kern->kc, mc_max = kern->mc, nc_max = pl->nc;
    const int64_t ec = dtype_bytes(p->c_dtype);
    const bool direct_c = p->c_dtype == ACCEL_F32;
    const int64_t b_npad = round_up(p->n, nr); /* floats per packed row of a cached B (see gemm.h) */

    float *const a_own = (float *)scratch;
    const int64_t a_mpad = round_up(p->m, mr); /* floats per packed row of a shared A */
    float *b_buf = (float *)(scratch + align64((size_t)mc_max * (size_t)kc_max * sizeof(float)));
    float *c_buf = (float *)((char *)b_buf + align64((size_t)kc_max * (size_t)nc_max * sizeof(float)));

    for (int64_t r0 = m0; r0 < m1; r0 += pl->rows_sb) {
        const int64_t r1 = m1 - r0 < pl->rows_sb ? m1 : r0 + pl->rows_sb;
        for (int64_t jc = n0; jc < n1; jc += nc_max) {
            const int64_t ncur = n1 - jc < nc_max ? n1 - jc : nc_max;
            /* C region of this (super-block, jc): f32 output is written in place, else accumulated in c_buf */
            float *cr = direct_c ? (float *)it->c + r0 * p->ldc + jc : c_buf;
            const int64_t ldcr = direct_c ? p->ldc : ncur;
            if (K == 0)
                fill_bias(cr, ldcr, p->row_bias ? p->row_bias + r0 : NULL, p->col_bias ? p->col_bias + jc : NULL,
                          r1 - r0, ncur);

            for (int64_t pc = 0; pc < K; pc += kc_max) {
                const int64_t kcur = K - pc < kc_max ? K - pc : kc_max;
                const int accumulate = pc > 0;    /* the first K block stores */
                const bool last_k = pc + kcur >= K; /* the last one adds the biases */
                for (int64_t ic = r0; ic < r1; ic += mc_max) {
                    const int64_t mcur = r1 - ic < mc_max ? r1 - ic : mc_max;
                    const float *a_buf = pl->a_shared ? pl->a_shared + pc * a_mpad + (ic / mr) * kcur * mr : a_own;
                    for (int64_t ip = 0; ip < mcur && !pl->a_shared; ip += mr) {
                        const int64_t mp = mcur - ip < mr ? mcur - ip : mr;
                        kern->pack(a_own + (ip / mr) * kcur * mr, mr, it->a + (ic + ip) * p->a.rs + pc * p->a.cs,
                                   p->a.dtype, mp, kcur, p->a.rs, p->a.cs);
                    }
                    float *c_ic = cr + (ic - r0) * ldcr;
                    const float *rb = p->row_bias && last_k ? p->row_bias + ic : NULL;
                    for (int64_t jp = 0; jp < ncur; jp += nr) {
                        const int n_here = (int)(ncur - jp < nr ? ncur - jp : nr);
                        const float *bp;
                        if (pl->b_packed) {
                            bp = pl->b_packed + pc * b_npad + ((jc + jp) / nr) * kcur * nr;
                        } else {
                            /* B panels are packed during the first MC block, right before their first use, so they
                             * are still in L1 then (with a single MC block they never make the round trip to
                             * L2/L3) */
                            float *dst = b_buf + (jp / nr) * kcur * nr;
                            if (ic == r0)
                                kern->pack(dst, nr, it->b + (jc + jp) * p->b.cs + pc * p->b.rs, p->b.dtype, n_here,
                                           kcur, p->b.cs, p->b.rs);
                            bp = dst;
                        }
                        const float *cb = p->col_bias && last_k ? p->col_bias + jc + jp : NULL;
                        int64_t next_lines = 0, lines_per_call = 0;
                        const char *next = pl->b_packed ? next_b_panel(pl, jc, jp + nr < ncur ? bp + kcur * nr : NULL,
                                                                       pc, ic + mc_max >= r1, &next_lines)
                                                        : NULL;
                        if (next) lines_per_call = ceil_div(next_lines, ceil_div(mcur, mr));
                        for (int64_t ip = 0; ip < mcur; ip += mr) {
                            const int m_here = (int)(mcur - ip < mr ? mcur - ip : mr);
                            gemm_uk_extra x = {accumulate, rb ? rb + ip : NULL, cb, NULL, 0};
                            const int64_t l0 = (ip / mr) * lines_per_call;
                            if (next && l0 < next_lines) {
                                x.pf = next + l0 * 64;
                                x.pf_lines = (int)(next_lines - l0 < lines_per_call ? next_lines - l0 : lines_per_call);
                            }
                            kern->ukernel(kcur, a_buf + (ip / mr) * kcur * mr, bp, c_ic + ip * ldcr + jp, ldcr, m_here,
                                          n_here, &x);
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
            if (p->col_bias)
                for (int64_t q = 0; q < n; q++) y[q] += p->col_bias[j + q];
            kern->store_row(it->c + j * ec, p->c_dtype, y, n);
        } else {
            if (p->row_bias)
                for (int64_t q = 0; q < n; q++) y[q] += p->row_bias[j + q];
            if (p->col_bias)
                for (int64_t q = 0; q < n; q++) y[q] += p->col_bias[0];
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
    if (pl->chunk_cols > 0) { /* column chunks handed out in order: a thread that runs late just takes fewer */
        for (;;) {
            const int64_t n0 = atomic_fetch_add_explicit(pl->next_chunk, 1, memory_order_relaxed) * pl->chunk_cols;
            if (n0 >= p->n) return;
            compute_rect(pl, 0, 0, p->m, n0, n0 + pl->chunk_cols < p->n ? n0 + pl->chunk_cols : p->n, scratch);
        }
    }
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

/* Packs the shared A: thread ith takes its share of the (K block, MR panel) pairs. */
static void pack_a_task(void *arg, int ith, int nth) {
    const gemm_plan *pl = arg;
    const gemm_kernels *kern = pl->kern;
    const gemm_problem *p = pl->p;
    const int mr = kern->mr;
    const int64_t panels = ceil_div(p->m, mr), blocks = ceil_div(p->k, kern->kc), mpad = panels * mr;
    int64_t t0, t1;
    accel_split_range(panels * blocks, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t pc = (t / panels) * kern->kc, ip = (t % panels) * mr;
        const int64_t kcur = p->k - pc < kern->kc ? p->k - pc : kern->kc, np = p->m - ip < mr ? p->m - ip : mr;
        kern->pack(pl->a_shared + pc * mpad + (ip / mr) * kcur * mr, mr, p->a.data + ip * p->a.rs + pc * p->a.cs,
                   p->a.dtype, np, kcur, p->a.rs, p->a.cs);
    }
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
    if (use_blas && gemm_blas_accepts(p) && !packs_a_first(p)) { /* sgemm may write C before it has read A */
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
    const int nth = ctx_threads(ctx);
    atomic_llong next_chunk = 0;
    if (pl.share_a) { /* every element of A is read here, before any of C is written */
        pl.a_shared = (float *)((char *)scratch + pl.per_thread * (size_t)nth);
        if (nth > 1)
            accel_threadpool_run(ctx->pool, pack_a_task, &pl);
        else
            pack_a_task(&pl, 0, 1);
        /* With the whole A packed, any thread can compute any columns: hand them out in chunks (about
         * CHUNKS_PER_THREAD per thread, whole B blocks) instead of fixed halves, so that a thread the system
         * preempts (a shared machine) delays the call by a chunk, not by its whole share. */
        if (nth > 1 && pl.tm == 1 && pl.mode == MODE_PACKED) {
            const int64_t nr = pl.kern->nr, panels = ceil_div(p->n, nr);
            int64_t per = panels / ((int64_t)nth * CHUNKS_PER_THREAD);
            if (per < 1) per = 1;
            if (per * nr > pl.nc) per = pl.nc / nr;
            pl.chunk_cols = per * nr;
            pl.next_chunk = &next_chunk;
        }
    }
    if (nth > 1)
        accel_threadpool_run(ctx->pool, gemm_task, &pl);
    else
        gemm_task(&pl, 0, 1);
    return ACCEL_OK;
}
