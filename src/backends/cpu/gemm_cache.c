/* Pack cache of the GEMM engine: model weights used as B, packed once per compute context (see gemm.h).
 *
 * Why: a Linear weight is B = W^T, contiguous along K, so every call would transpose all of it into NR-column
 * panels, with few rows of A (M = 128 for one 128-token sequence) to spread that cost over; and its rows are
 * often a multiple of 4 KiB apart (K = 1024, 3072, 4096), which puts the 16 rows a transpose reads in the same
 * L1 sets. Packed once, each call only streams the panels.
 *
 * Safety: a weight is immutable while a graph that uses it computes (ACCEL_FLAG_WEIGHT), but its memory may be
 * freed and reused for another weight of the same shape while this context lives (a model freed and another
 * loaded). Each entry keeps a sample of its source values, compared on every lookup: a mismatch repacks. */
#include "backends/cpu/gemm.h"

#include "core/log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Source values compared on every lookup (spread over the whole matrix). */
#define CACHE_SAMPLES 32
#define DEFAULT_BUDGET_MB 1024

typedef struct pack_entry {
    const char *data;
    accel_dtype dtype;
    int64_t rs, cs, k, n;
    const gemm_kernels *kern;
    float *packed;
    size_t bytes;
    unsigned char sample[CACHE_SAMPLES * 4];
} pack_entry;

struct gemm_pack_cache {
    pack_entry *v;
    int n, cap;
    size_t bytes, budget;
};

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

size_t gemm_packed_b_floats(const gemm_kernels *kern, int64_t k, int64_t n) {
    return (size_t)k * (size_t)round_up(n, kern->nr);
}

static atomic_llong g_budget = -1; /* bytes; -1: not read from the environment yet */

void gemm_pack_cache_set_budget(size_t bytes) { atomic_store(&g_budget, (long long)bytes); }

size_t gemm_pack_cache_bytes(const gemm_pack_cache *cache) { return cache ? cache->bytes : 0; }

/* Budget in bytes from ACCEL_CPU_PACK_CACHE_MB (read once per process) or gemm_pack_cache_set_budget. */
static size_t cache_budget(void) {
    long long b = atomic_load(&g_budget);
    if (b >= 0) return (size_t)b;
    long long mb = DEFAULT_BUDGET_MB;
    const char *env = getenv("ACCEL_CPU_PACK_CACHE_MB");
    if (env && *env) {
        char *end;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v >= 0 && v <= (1ll << 30)) mb = v;
        else accel_log(ACCEL_LOG_WARN, "ACCEL_CPU_PACK_CACHE_MB='%s' is not a size in MiB; using %d", env,
                       DEFAULT_BUDGET_MB);
    }
    long long expected = -1;
    atomic_compare_exchange_strong(&g_budget, &expected, mb << 20);
    return (size_t)atomic_load(&g_budget);
}

/* The sampled source values of B (raw bytes, in a fixed order): element idx * (k * n - 1) / (S - 1) of the
 * row-major k x n index space, for idx < S. */
static void take_sample(const gemm_problem *p, unsigned char *out) {
    const int64_t es = p->b.dtype == ACCEL_F32 ? 4 : 2, total = p->k * p->n;
    for (int s = 0; s < CACHE_SAMPLES; s++) {
        const int64_t idx = total > 1 ? (int64_t)((double)s * (double)(total - 1) / (CACHE_SAMPLES - 1)) : 0;
        const int64_t i = idx / p->n, j = idx % p->n;
        memcpy(out + s * es, p->b.data + i * p->b.rs + j * p->b.cs, (size_t)es);
    }
}

static bool entry_matches(const pack_entry *e, const gemm_kernels *kern, const gemm_problem *p) {
    return e->data == p->b.data && e->dtype == p->b.dtype && e->rs == p->b.rs && e->cs == p->b.cs && e->k == p->k &&
           e->n == p->n && e->kern == kern;
}

/* Packed weights are streamed panel by panel: on 2 MiB pages (where the system has transparent huge pages on
 * request) a B block needs a few TLB entries instead of one per 4 KiB. */
#define HUGE_PAGE ((size_t)2 << 20)
static float *alloc_packed(size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_PAGE) {
        const size_t size = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        float *p = aligned_alloc(HUGE_PAGE, size);
        if (p) madvise(p, size, MADV_HUGEPAGE); /* advice only: failure leaves 4 KiB pages */
        return p;
    }
#endif
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

typedef struct pack_task {
    const gemm_kernels *kern;
    const gemm_problem *p;
    float *dst;
} pack_task;

/* Thread ith packs its share of the NR panels, every K block of each. */
static void pack_task_fn(void *arg, int ith, int nth) {
    const pack_task *t = arg;
    const gemm_kernels *kern = t->kern;
    const gemm_problem *p = t->p;
    const int nr = kern->nr;
    const int64_t panels = round_up(p->n, nr) / nr, npad = panels * nr;
    int64_t j0, j1;
    accel_split_range(panels, ith, nth, &j0, &j1);
    for (int64_t pc = 0; pc < p->k; pc += kern->kc) {
        const int64_t kcur = p->k - pc < kern->kc ? p->k - pc : kern->kc;
        for (int64_t jp = j0; jp < j1; jp++) {
            const int64_t col = jp * nr, ncols = p->n - col < nr ? p->n - col : nr;
            kern->pack(t->dst + pc * npad + jp * kcur * nr, nr, p->b.data + col * p->b.cs + pc * p->b.rs, p->b.dtype,
                       ncols, kcur, p->b.cs, p->b.rs);
        }
    }
}

static void pack_whole(cpu_ctx *ctx, const gemm_kernels *kern, const gemm_problem *p, float *dst) {
    pack_task t = {kern, p, dst};
    if (ctx->pool && accel_threadpool_size(ctx->pool) > 1)
        accel_threadpool_run(ctx->pool, pack_task_fn, &t);
    else
        pack_task_fn(&t, 0, 1);
}

const float *gemm_pack_cache_get(cpu_ctx *ctx, const gemm_kernels *kern, const gemm_problem *p) {
    if (!p->b_constant || p->k <= 0 || p->n <= 0) return NULL;
    const size_t budget = cache_budget();
    if (budget == 0) return NULL;
    if (!ctx->pack_cache) {
        ctx->pack_cache = calloc(1, sizeof *ctx->pack_cache);
        if (!ctx->pack_cache) return NULL;
    }
    gemm_pack_cache *c = ctx->pack_cache;
    c->budget = budget;
    unsigned char sample[CACHE_SAMPLES * 4];
    take_sample(p, sample);
    const size_t sample_bytes = (size_t)CACHE_SAMPLES * (p->b.dtype == ACCEL_F32 ? 4 : 2);
    for (int i = 0; i < c->n; i++) {
        pack_entry *e = &c->v[i];
        if (!entry_matches(e, kern, p)) continue;
        if (memcmp(e->sample, sample, sample_bytes) != 0) { /* the memory now holds other data */
            pack_whole(ctx, kern, p, e->packed);
            memcpy(e->sample, sample, sample_bytes);
        }
        return e->packed;
    }
    const size_t bytes = gemm_packed_b_floats(kern, p->k, p->n) * sizeof(float);
    /* full: the weights already cached stay (a forward pass uses its weights in a cycle, which LRU would thrash) */
    if (c->bytes > c->budget || bytes > c->budget - c->bytes) return NULL;
    if (c->n == c->cap) {
        const int cap = c->cap ? 2 * c->cap : 16;
        pack_entry *v = realloc(c->v, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        c->v = v;
        c->cap = cap;
    }
    float *packed = alloc_packed(bytes);
    if (!packed) return NULL;
    pack_whole(ctx, kern, p, packed);
    pack_entry *e = &c->v[c->n++];
    *e = (pack_entry){p->b.data, p->b.dtype, p->b.rs, p->b.cs, p->k, p->n, kern, packed, bytes, {0}};
    memcpy(e->sample, sample, sample_bytes);
    c->bytes += bytes;
    return packed;
}

void gemm_pack_cache_free(gemm_pack_cache *cache) {
    if (!cache) return;
    for (int i = 0; i < cache->n; i++) free(cache->v[i].packed);
    free(cache->v);
    free(cache);
}
