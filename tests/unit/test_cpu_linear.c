/* Linear layers on the CPU with weights: the GEMM engine's pack cache (weights packed once per compute context)
 * and the fused matmul + bias add of accel_linear, against double-precision references computed here.
 *
 *  - the engine (cpu_gemm) with a constant B, row and column biases, at every ISA level this machine has, with
 *    1 and 3 threads: results must be identical with and without the cache, which must hold the weight after the
 *    first call, stay empty over budget, and pack again when the weight's memory is reused for other values;
 *  - accel_linear through the scheduler on the cpu device (weights flagged as weights, as models load them):
 *    f32 / f16 / bf16 weights, 2-D and 3-D inputs, shapes with partial tiles and K blocks, M = 1 (GEMV);
 *  - the fusion must not apply when something else reads the matmul's own result: that result must stay right.
 *
 * Every output element must lie within the bound of f32 accumulation in any order (K products and up to two bias
 * adds, each rounding at most 2^-24 of the magnitudes summed so far, with a factor 2 of margin):
 *   |out - ref| <= (K + 2) * 2^-23 * (sum_k |x_k w_k| + |row bias| + |column bias|) + 2^-24 |ref|
 * (ref and sums in double). */
#include "test.h"

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "kernel_test.h"

#include <math.h>
#include <stdlib.h>

/* ---- references ------------------------------------------------------------------------------------------------- */

static float *rand_f32(int64_t n, double scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; p && i < n; i++) p[i] = (float)(scale * kt_srand1());
    return p;
}

/* Checks out[m, n] (row stride ldo) against x[m, k] @ w[n, k]^T + cb[j] + rb[i] (either bias may be NULL). Returns
 * the number of elements out of bound (and reports the first). */
static int check_linear(const char *what, const float *out, int64_t ldo, const float *x, const float *w,
                        const float *rb, const float *cb, int64_t m, int64_t k, int64_t n) {
    int bad = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double ref = 0, mag = 0;
            for (int64_t q = 0; q < k; q++) {
                const double t = (double)x[i * k + q] * (double)w[j * k + q];
                ref += t;
                mag += fabs(t);
            }
            /* each bias is one more rounded add, at the scale of its own magnitude */
            ref += (rb ? rb[i] : 0.0) + (cb ? cb[j] : 0.0);
            mag += (rb ? fabs(rb[i]) : 0.0) + (cb ? fabs(cb[j]) : 0.0);
            const double tol = (double)(k + 2) * ldexp(1.0, -23) * mag + ldexp(1.0, -24) * fabs(ref);
            const double got = out[i * ldo + j];
            if (!(fabs(got - ref) <= tol)) {
                if (!bad)
                    fprintf(stderr, "  %s: [%lld, %lld] = %.9g, want %.9g (tol %.3g)\n", what, (long long)i,
                            (long long)j, got, ref, tol);
                bad++;
            }
        }
    return bad;
}

/* ---- the engine with a constant B ------------------------------------------------------------------------------ */

typedef struct shape {
    int64_t m, k, n;
} shape;

/* Runs y = x @ w^T (+ biases) through cpu_gemm with B = w^T flagged constant. */
static accel_status engine_linear(cpu_ctx *ctx, float *y, const float *x, const float *w, const float *rb,
                                  const float *cb, shape s) {
    gemm_problem p = {
        .m = s.m,
        .n = s.n,
        .k = s.k,
        .a = {(const char *)x, ACCEL_F32, s.k * 4, 4},
        .b = {(const char *)w, ACCEL_F32, 4, s.k * 4}, /* B(k, j) = w[j, k] */
        .c = y,
        .c_dtype = ACCEL_F32,
        .ldc = s.n,
        .row_bias = rb,
        .col_bias = cb,
        .b_constant = true,
    };
    void *scratch = cpu_scratch(ctx, cpu_gemm_scratch_size(ctx, &p));
    if (!scratch) return ACCEL_ERR_OUT_OF_MEMORY;
    return cpu_gemm(ctx, &p, NULL, scratch);
}

static void test_engine_cache(void) {
    static const shape shapes[] = {{128, 768, 96}, {37, 300, 45}, {9, 513, 33}, {64, 256, 64}, {3, 1, 17}};
    const cpu_isa best = cpu_detect_isa();
    cpu_gemm_set_blas_policy(GEMM_BLAS_NEVER);
    for (int li = 0; li < kt_isa_count(best); li++)
        for (int threads = 1; threads <= 3; threads += 2)
            for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
                const shape s = shapes[si];
                char what[96];
                snprintf(what, sizeof what, "engine %s t%d %lldx%lldx%lld", cpu_isa_name((cpu_isa)li), threads,
                         (long long)s.m, (long long)s.k, (long long)s.n);
                float *x = rand_f32(s.m * s.k, 1), *w = rand_f32(s.n * s.k, 1), *rb = rand_f32(s.m, 1),
                      *cb = rand_f32(s.n, 1), *y0 = rand_f32(s.m * s.n, 1), *y1 = rand_f32(s.m * s.n, 1);
                cpu_ctx ctx;
                CHECK(x && w && rb && cb && y0 && y1 && kt_ctx_init(&ctx, (cpu_isa)li, threads) == ACCEL_OK);

                /* over budget: nothing cached, packed per call */
                gemm_pack_cache_set_budget(0);
                CHECK(engine_linear(&ctx, y0, x, w, rb, cb, s) == ACCEL_OK);
                CHECK(gemm_pack_cache_bytes(ctx.pack_cache) == 0);
                CHECK(check_linear(what, y0, s.n, x, w, rb, cb, s.m, s.k, s.n) == 0);

                /* cached: the same results, bit for bit, on the call that packs and on the next */
                gemm_pack_cache_set_budget((size_t)1 << 30);
                for (int call = 0; call < 2; call++) {
                    memset(y1, 0xff, (size_t)(s.m * s.n) * sizeof(float));
                    CHECK(engine_linear(&ctx, y1, x, w, rb, cb, s) == ACCEL_OK);
                    CHECK(memcmp(y0, y1, (size_t)(s.m * s.n) * sizeof(float)) == 0);
                }
                CHECK(gemm_pack_cache_bytes(ctx.pack_cache) ==
                      gemm_packed_b_floats(gemm_kernels_for((cpu_isa)li), s.k, s.n) * sizeof(float));

                /* the weight's memory now holds other values (a model freed, another loaded there) */
                for (int64_t i = 0; i < s.n * s.k; i++) w[i] = (float)kt_srand1();
                CHECK(engine_linear(&ctx, y1, x, w, NULL, cb, s) == ACCEL_OK);
                CHECK(check_linear(what, y1, s.n, x, w, NULL, cb, s.m, s.k, s.n) == 0);

                gemm_pack_cache_free(ctx.pack_cache);
                ctx.pack_cache = NULL;
                kt_ctx_release(&ctx);
                free(x), free(w), free(rb), free(cb), free(y0), free(y1);
            }
    cpu_gemm_set_blas_policy(GEMM_BLAS_AUTO);
}

/* ---- accel_linear through the scheduler ------------------------------------------------------------------------ */

typedef struct linear_graph {
    accel_graph *g;
    accel_sched *s;
    accel_tensor *x, *y;
    float *w, *b;   /* f32 values of the weight [n, k] and bias [n] (what the reference uses) */
    void *w_store;  /* the weight's memory in its dtype (external) */
    float *b_store;
} linear_graph;

static bool cpu_sched_threads(accel_sched **s, int threads) {
    accel_device *dev = accel_device_by_name("cpu");
    if (!dev) return false;
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = &dev;
    sp.n_devices = 1;
    sp.n_threads = threads;
    return accel_sched_new(&sp, s) == ACCEL_OK;
}
static bool cpu_sched(accel_sched **s) { return cpu_sched_threads(s, 2); }

/* y = accel_linear(x[batch..., k], w[n, k] in wdt, bias[n] f32 or NULL), weights external and flagged. */
static bool linear_graph_new(linear_graph *lg, int nd, const int64_t *xshape, int64_t n, accel_dtype wdt, bool bias) {
    memset(lg, 0, sizeof *lg);
    const int64_t k = xshape[nd - 1];
    accel_graph_params gp = accel_graph_default_params();
    if (accel_graph_new(&gp, &lg->g) != ACCEL_OK) return false;
    lg->w = rand_f32(n * k, 0.5);
    lg->b = bias ? rand_f32(n, 1) : NULL;
    lg->w_store = malloc((size_t)(n * k) * accel_dtype_size(wdt));
    if (!lg->w || (bias && !lg->b) || !lg->w_store) return false;
    for (int64_t i = 0; i < n * k; i++) { /* the weight in its dtype, and the values the reference sees */
        accel_store_f64((char *)lg->w_store + i * (int64_t)accel_dtype_size(wdt), wdt, lg->w[i]);
        lg->w[i] = (float)accel_load_f64((const char *)lg->w_store + i * (int64_t)accel_dtype_size(wdt), wdt);
    }
    accel_tensor *w = accel_tensor_new_2d(lg->g, wdt, n, k);
    if (!w || accel_tensor_set_external(w, lg->w_store, (size_t)(n * k) * accel_dtype_size(wdt)) != ACCEL_OK)
        return false;
    accel_tensor_set_weight(w);
    accel_tensor *bt = NULL;
    if (bias) {
        bt = accel_tensor_new_1d(lg->g, ACCEL_F32, n);
        if (!bt || accel_tensor_set_external(bt, lg->b, (size_t)n * sizeof(float)) != ACCEL_OK) return false;
        accel_tensor_set_weight(bt);
    }
    lg->x = accel_tensor_new(lg->g, ACCEL_F32, nd, xshape);
    lg->y = accel_linear(lg->g, lg->x, w, bt);
    return lg->y && accel_graph_add_output(lg->g, lg->y) == ACCEL_OK && cpu_sched(&lg->s) &&
           accel_sched_alloc(lg->s, lg->g) == ACCEL_OK;
}

static void linear_graph_free(linear_graph *lg) {
    accel_sched_free(lg->s);
    accel_graph_free(lg->g);
    free(lg->w), free(lg->b), free(lg->w_store);
}

static void test_linear_weights(void) {
    static const struct {
        int nd;
        int64_t shape[3];
        int64_t n;
        accel_dtype wdt;
        bool bias;
    } cases[] = {
        {2, {128, 768}, 200, ACCEL_F32, true},  {3, {2, 70, 260}, 45, ACCEL_F32, true},
        {2, {33, 600}, 64, ACCEL_F32, false},   {2, {1, 300}, 77, ACCEL_F32, true},
        {3, {1, 1, 64}, 1, ACCEL_F32, true},    {2, {40, 257}, 96, ACCEL_BF16, true},
        {2, {17, 129}, 50, ACCEL_F16, true},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        linear_graph lg;
        const int nd = cases[ci].nd;
        const int64_t k = cases[ci].shape[nd - 1], n = cases[ci].n;
        int64_t m = 1;
        for (int d = 0; d < nd - 1; d++) m *= cases[ci].shape[d];
        char what[96];
        snprintf(what, sizeof what, "linear case %zu (m %lld k %lld n %lld %s)", ci, (long long)m, (long long)k,
                 (long long)n, accel_dtype_name(cases[ci].wdt));
        CHECK(linear_graph_new(&lg, nd, cases[ci].shape, n, cases[ci].wdt, cases[ci].bias));
        float *x = rand_f32(m * k, 1), *y = malloc((size_t)(m * n) * sizeof(float));
        CHECK(x && y && lg.y);
        if (x && y && lg.y) {
            for (int call = 0; call < 3; call++) { /* packs, then reuses; then the weight's memory changes */
                if (call == 2)
                    for (int64_t i = 0; i < n * k; i++) {
                        const int64_t es = (int64_t)accel_dtype_size(cases[ci].wdt);
                        accel_store_f64((char *)lg.w_store + i * es, cases[ci].wdt, 0.5 * kt_srand1());
                        lg.w[i] = (float)accel_load_f64((const char *)lg.w_store + i * es, cases[ci].wdt);
                    }
                memset(y, 0xff, (size_t)(m * n) * sizeof(float));
                CHECK(accel_tensor_set(lg.x, x, (size_t)(m * k) * sizeof(float)) == ACCEL_OK);
                CHECK(accel_sched_compute(lg.s, lg.g) == ACCEL_OK);
                CHECK(accel_tensor_get(lg.y, y, (size_t)(m * n) * sizeof(float)) == ACCEL_OK);
                CHECK(check_linear(what, y, n, x, lg.w, NULL, lg.b, m, k, n) == 0);
            }
        }
        free(x), free(y);
        linear_graph_free(&lg);
    }
}

/* The matmul's own result is also read elsewhere (an output, or another op): the bias add must not replace it. */
static void test_fusion_other_readers(void) {
    const int64_t m = 24, k = 70, n = 40;
    for (int variant = 0; variant < 2; variant++) {
        accel_graph *g = NULL;
        accel_sched *s = NULL;
        accel_graph_params gp = accel_graph_default_params();
        CHECK(accel_graph_new(&gp, &g) == ACCEL_OK && cpu_sched(&s));
        float *wv = rand_f32(n * k, 0.5), *bv = rand_f32(n, 1), *xv = rand_f32(m * k, 1);
        accel_tensor *x = accel_tensor_new_2d(g, ACCEL_F32, m, k), *w = accel_tensor_new_2d(g, ACCEL_F32, n, k),
                     *b = accel_tensor_new_1d(g, ACCEL_F32, n);
        CHECK(accel_tensor_set_external(w, wv, (size_t)(n * k) * 4) == ACCEL_OK);
        CHECK(accel_tensor_set_external(b, bv, (size_t)n * 4) == ACCEL_OK);
        accel_tensor_set_weight(w);
        accel_tensor_set_weight(b);
        accel_tensor *mm = accel_matmul(g, x, accel_transpose(g, w));
        accel_tensor *z = accel_add(g, mm, b);
        /* variant 0: mm is an output itself; variant 1: mm also feeds a scale (out2 = 2 * mm) */
        accel_tensor *other = variant == 0 ? mm : accel_scale(g, mm, 2.0f, 0.0f);
        CHECK(accel_graph_add_output(g, z) == ACCEL_OK && accel_graph_add_output(g, other) == ACCEL_OK);
        CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
        CHECK(accel_tensor_set(x, xv, (size_t)(m * k) * 4) == ACCEL_OK);
        CHECK(accel_sched_compute(s, g) == ACCEL_OK);
        float *zo = malloc((size_t)(m * n) * 4), *oo = malloc((size_t)(m * n) * 4);
        CHECK(accel_tensor_get(z, zo, (size_t)(m * n) * 4) == ACCEL_OK);
        CHECK(accel_tensor_get(other, oo, (size_t)(m * n) * 4) == ACCEL_OK);
        CHECK(check_linear("fused z", zo, n, xv, wv, NULL, bv, m, k, n) == 0);
        if (variant == 1)
            for (int64_t i = 0; i < m * n; i++) oo[i] *= 0.5f; /* exact: back to mm */
        CHECK(check_linear(variant == 0 ? "mm output" : "mm via scale", oo, n, xv, wv, NULL, NULL, m, k, n) == 0);
        free(zo), free(oo), free(wv), free(bv), free(xv);
        accel_sched_free(s);
        accel_graph_free(g);
    }
}

static void fusion_reused_memory(int64_t m, int64_t k, int64_t n, int threads);

/* The linear's input dies at its matmul, so the scheduler may give the bias add's output the input's memory: the
 * fused GEMM must not write C over the A it is still reading. The add's output has the input's size; K spans
 * several K blocks (A would still be read after C is written); one block of rows (fused, all of A read first) and
 * several (not fused); one thread and two. */
static void test_fusion_reused_memory(void) {
    for (int variant = 0; variant < 4; variant++) {
        const int64_t m = variant < 2 ? 128 : 400, k = 600, n = 600;
        fusion_reused_memory(m, k, n, variant % 2 ? 2 : 1);
    }
}

static void fusion_reused_memory(int64_t m, int64_t k, int64_t n, int threads) {
    accel_graph *g = NULL;
    accel_sched *s = NULL;
    accel_graph_params gp = accel_graph_default_params();
    CHECK(accel_graph_new(&gp, &g) == ACCEL_OK && cpu_sched_threads(&s, threads));
    float *wv = rand_f32(n * k, 0.5), *bv = rand_f32(n, 1), *xv = rand_f32(m * k, 1);
    accel_tensor *x = accel_tensor_new_2d(g, ACCEL_F32, m, k), *w = accel_tensor_new_2d(g, ACCEL_F32, n, k),
                 *b = accel_tensor_new_1d(g, ACCEL_F32, n);
    CHECK(accel_tensor_set_external(w, wv, (size_t)(n * k) * 4) == ACCEL_OK);
    CHECK(accel_tensor_set_external(b, bv, (size_t)n * 4) == ACCEL_OK);
    accel_tensor_set_weight(w);
    accel_tensor_set_weight(b);
    accel_tensor *h = accel_scale(g, x, 1.0f, 0.0f); /* an activation (not an input: inputs live throughout) */
    accel_tensor *y = accel_scale(g, accel_linear(g, h, w, b), 1.0f, 0.0f);
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    CHECK(accel_tensor_set(x, xv, (size_t)(m * k) * 4) == ACCEL_OK);
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    float *yo = malloc((size_t)(m * n) * 4);
    CHECK(accel_tensor_get(y, yo, (size_t)(m * n) * 4) == ACCEL_OK);
    CHECK(check_linear("linear over reused memory", yo, n, xv, wv, NULL, bv, m, k, n) == 0);
    free(yo), free(wv), free(bv), free(xv);
    accel_sched_free(s);
    accel_graph_free(g);
}

int main(void) {
    kt_rng_seed(0x51ab5eedull);
    RUN(test_engine_cache);
    RUN(test_linear_weights);
    RUN(test_fusion_other_readers);
    RUN(test_fusion_reused_memory);
    return test_summary();
}
