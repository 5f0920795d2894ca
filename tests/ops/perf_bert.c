/* test-ops perf, BERT-base section (issue 4): the work of one bert-base layer (hidden 768, 12 heads of 64,
 * intermediate 3072, 128 tokens per sequence) at batch 1 and 8, in f32, on the cpu device.
 *  (a) "bert linear": the layer's four Linear shapes, ours (accel_linear with its bias, the weight a leaf flagged
 *      as a weight, as a model loads it) against the same x @ W^T without the bias by cblas_sgemm (OpenBLAS) and
 *      dnnl_sgemm (oneDNN), on the same thread count, reading the same weight memory;
 *  (b) "bert layer": each op of the layer alone (ours), with its share of their sum; the whole layer as one graph;
 *      the 12-layer encoder as one graph (each layer with its own weights, 340 MB, so they stream from memory as
 *      in a real model).
 * Contenders are timed in interleaved rounds (ours, openblas, onednn, ours, ...), so load that comes and goes on a
 * shared machine hits all of them alike; each figure is the median of the rounds. A warm-up before every
 * measurement also lets the previous contender's spinning worker threads go to sleep. The load average is printed
 * with the results: timings taken under load are only comparable within one run. ACCEL_PERF_WAIT_IDLE=<seconds>
 * (Linux) waits before each measurement, up to that long, until other processes leave the CPUs idle. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef ACCEL_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef ACCEL_HAVE_DNNL
#include <dnnl.h>
#endif

int perf_bert(accel_device *dev, int n_threads, const case_list *l);

#define BERT_ROUNDS 5
#define BERT_RUN_SECONDS 0.15
#define BERT_WARMUP_SECONDS 0.15
#define BERT_SEQ 128
#define BERT_HIDDEN 768
#define BERT_HEADS 12
#define BERT_HEAD_DIM 64
#define BERT_FF 3072
#define BERT_LAYERS 12

/* ---- timing -------------------------------------------------------------------------------------------------- */
typedef bool (*bert_fn)(void *ctx);

typedef struct contender {
    const char *name;
    bert_fn fn;
    void *ctx;
    double sec; /* median seconds per call; < 0: failed */
} contender;

/* Seconds per call of fn, calling it for at least `seconds`; -1 when it fails. */
static double run_for(bert_fn fn, void *ctx, double seconds) {
    long iters = 0;
    double start = now_seconds(), el;
    do {
        if (!fn(ctx)) return -1;
        iters++;
        el = now_seconds() - start;
    } while (el < seconds);
    return el / (double)iters;
}

/* Busy fraction of all CPUs over ~0.15 s from /proc/stat (our own process sleeps meanwhile); < 0 if unknown. */
static double cpu_busy(void) {
    long long v[2][8];
    for (int t = 0; t < 2; t++) {
        FILE *f = fopen("/proc/stat", "r");
        if (!f) return -1;
        const int got = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[t][0], &v[t][1], &v[t][2],
                               &v[t][3], &v[t][4], &v[t][5], &v[t][6], &v[t][7]);
        fclose(f);
        if (got != 8) return -1;
        if (t == 0) {
            const double t0 = now_seconds();
            while (now_seconds() - t0 < 0.15) usleep(20000);
        }
    }
    long long total = 0, idle = v[1][3] - v[0][3] + v[1][4] - v[0][4];
    for (int i = 0; i < 8; i++) total += v[1][i] - v[0][i];
    return total > 0 ? 1.0 - (double)idle / (double)total : -1;
}

static int g_idle_timeouts; /* measurements that started on a busy machine after waiting the whole time */

/* ACCEL_PERF_WAIT_IDLE: wait up to that many seconds for the CPUs to be (nearly) idle. */
static void wait_idle(void) {
    static double limit = -1;
    if (limit < 0) {
        const char *env = getenv("ACCEL_PERF_WAIT_IDLE");
        limit = env ? atof(env) : 0;
        if (!(limit > 0)) limit = 0;
    }
    if (limit == 0) return;
    const double t0 = now_seconds();
    for (;;) {
        const double busy = cpu_busy();
        if (busy < 0 || busy < 0.08) return;
        if (now_seconds() - t0 > limit) {
            g_idle_timeouts++;
            return;
        }
    }
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bench_rounds(contender *c, int n) {
    double t[8][BERT_ROUNDS];
    for (int i = 0; i < n; i++) c[i].sec = 0;
    for (int r = 0; r < BERT_ROUNDS; r++)
        for (int i = 0; i < n; i++) {
            if (c[i].sec < 0) continue;
            wait_idle();
            if (run_for(c[i].fn, c[i].ctx, BERT_WARMUP_SECONDS) < 0 ||
                (t[i][r] = run_for(c[i].fn, c[i].ctx, BERT_RUN_SECONDS)) < 0)
                c[i].sec = -1;
        }
    for (int i = 0; i < n; i++) {
        if (c[i].sec < 0) continue;
        qsort(t[i], BERT_ROUNDS, sizeof(double), cmp_dbl);
        c[i].sec = t[i][BERT_ROUNDS / 2];
    }
}

static void print_load(const char *when) {
    double la[3];
    if (getloadavg(la, 3) == 3) printf("  load average %s: %.2f %.2f %.2f", when, la[0], la[1], la[2]);
    if (g_idle_timeouts) printf(" (%d measurement(s) started on a busy machine)", g_idle_timeouts);
    printf("\n");
}

/* ---- graphs on the cpu device -------------------------------------------------------------------------------- */
#define BG_MAX_BUFS 256
#define BG_MAX_INPUTS 4

typedef struct bert_graph {
    accel_graph *g;
    accel_sched *s;
    void *bufs[BG_MAX_BUFS]; /* host memory of the weights (external) */
    int n_bufs;
    accel_tensor *in[BG_MAX_INPUTS];
    int n_in;
    rng r;
} bert_graph;

static float *rand_floats(rng *r, int64_t n, float scale) {
    float *p = aligned_alloc(64, ((size_t)n * sizeof(float) + 63) & ~(size_t)63);
    if (p)
        for (int64_t i = 0; i < n; i++) p[i] = scale * (float)(2 * rng_uniform(r) - 1);
    return p;
}

static bool bg_init(bert_graph *b, uint64_t seed) {
    memset(b, 0, sizeof *b);
    rng_seed(&b->r, seed);
    accel_graph_params gp = accel_graph_default_params();
    return accel_graph_new(&gp, &b->g) == ACCEL_OK;
}

/* A weight leaf [n0] or [n0, n1] (n1 = 0) in host memory this graph owns, values uniform in [-scale, scale). */
static accel_tensor *bg_weight(bert_graph *b, int64_t n0, int64_t n1, float scale) {
    if (b->n_bufs == BG_MAX_BUFS) return NULL;
    const int64_t n = n0 * (n1 ? n1 : 1);
    float *data = rand_floats(&b->r, n, scale);
    if (!data) return NULL;
    b->bufs[b->n_bufs++] = data;
    accel_tensor *t = n1 ? accel_tensor_new_2d(b->g, ACCEL_F32, n0, n1) : accel_tensor_new_1d(b->g, ACCEL_F32, n0);
    if (!t || accel_tensor_set_external(t, data, (size_t)n * sizeof(float)) != ACCEL_OK) return NULL;
    accel_tensor_set_weight(t);
    return t;
}

/* An input leaf, filled uniform in [-1, 1) after placement. */
static accel_tensor *bg_input(bert_graph *b, int nd, const int64_t *shape) {
    if (b->n_in == BG_MAX_INPUTS) return NULL;
    accel_tensor *t = accel_tensor_new(b->g, ACCEL_F32, nd, shape);
    if (t) b->in[b->n_in++] = t;
    return t;
}

/* Marks out as the output, places the graph on dev alone and fills the inputs. */
static bool bg_finish(bert_graph *b, accel_tensor *out, accel_device *dev, int n_threads) {
    if (!out || accel_graph_status(b->g) != ACCEL_OK || accel_graph_add_output(b->g, out) != ACCEL_OK) return false;
    if (sched_for_device(dev, n_threads, &b->s) != ACCEL_OK || accel_sched_alloc(b->s, b->g) != ACCEL_OK) return false;
    for (int i = 0; i < b->n_in; i++) {
        const int64_t n = accel_tensor_nelements(b->in[i]);
        float *data = rand_floats(&b->r, n, 1.0f);
        bool ok = data && accel_tensor_set(b->in[i], data, (size_t)n * sizeof(float)) == ACCEL_OK;
        free(data);
        if (!ok) return false;
    }
    return true;
}

static void bg_free(bert_graph *b) {
    accel_sched_free(b->s);
    accel_graph_free(b->g);
    for (int i = 0; i < b->n_bufs; i++) free(b->bufs[i]);
    memset(b, 0, sizeof *b);
}

static bool bg_compute(void *p) {
    bert_graph *b = p;
    return accel_sched_compute(b->s, b->g) == ACCEL_OK;
}

/* ---- (a) Linear shapes against the BLAS peers ---------------------------------------------------------------- */
typedef struct linear_shape {
    int64_t k, n;
    const char *what;
} linear_shape;

static const linear_shape k_linears[4] = {
    {BERT_HIDDEN, 3 * BERT_HIDDEN, "qkv (fused)"},
    {BERT_HIDDEN, BERT_HIDDEN, "attention out"},
    {BERT_HIDDEN, BERT_FF, "intermediate"},
    {BERT_FF, BERT_HIDDEN, "output"},
};

typedef struct peer_gemm {
    int m, n, k;
    const float *x, *w; /* x [m, k], w [n, k] */
    float *c;           /* [m, n] */
} peer_gemm;

#ifdef ACCEL_HAVE_OPENBLAS
static bool run_openblas_nt(void *p) {
    peer_gemm *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->m, g->n, g->k, 1.0f, g->x, g->k, g->w, g->k, 0.0f, g->c,
                g->n);
    return true;
}
#endif
#ifdef ACCEL_HAVE_DNNL
static bool run_dnnl_nt(void *p) {
    peer_gemm *g = p;
    return dnnl_sgemm('N', 'T', g->m, g->n, g->k, 1.0f, g->x, g->k, g->w, g->k, 0.0f, g->c, g->n) == dnnl_success;
}
#endif

/* Largest |ours - (peer + bias)| relative to the largest |peer + bias|: ours computes what the peers compute. */
static double linear_rel_diff(const float *ours, const float *peer, const float *bias, int64_t m, int64_t n) {
    double dmax = 0, vmax = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            const double want = (double)peer[i * n + j] + bias[j], d = (double)ours[i * n + j] - want;
            if (d * d > dmax * dmax) dmax = d < 0 ? -d : d;
            if (want * want > vmax * vmax) vmax = want < 0 ? -want : want;
        }
    return vmax > 0 ? dmax / vmax : dmax;
}

static int bert_linear(accel_device *dev, int n_threads, int batch, const linear_shape *sh) {
    const int64_t m = (int64_t)batch * BERT_SEQ, k = sh->k, n = sh->n;
    const double flops = 2.0 * (double)m * (double)n * (double)k;
    bert_graph b;
    int failures = 0;
    float *c = aligned_alloc(64, (size_t)(m * n) * sizeof(float));
    float *ours_out = malloc((size_t)(m * n) * sizeof(float)), *x = malloc((size_t)(m * k) * sizeof(float));
    bool ok = c && ours_out && x && bg_init(&b, hash_str(sh->what, (uint64_t)batch));
    accel_tensor *w = NULL, *bias = NULL, *xt = NULL, *y = NULL;
    if (ok) {
        w = bg_weight(&b, n, k, 0.05f);
        bias = bg_weight(&b, n, 0, 1.0f);
        xt = bg_input(&b, 3, (const int64_t[]){batch, BERT_SEQ, k});
        y = accel_linear(b.g, xt, w, bias);
        ok = w && bias && xt && bg_finish(&b, y, dev, n_threads) &&
             accel_tensor_get(xt, x, (size_t)(m * k) * 4) == ACCEL_OK;
    }
    char label[96];
    snprintf(label, sizeof label, "%dx%d: M=%lld K=%lld N=%lld (%s)", batch, BERT_SEQ, (long long)m, (long long)k,
             (long long)n, sh->what);
    if (!ok) {
        printf("  %-52s FAIL: %s\n", label, accel_last_error());
        failures = 1;
        goto done;
    }
    peer_gemm pg = {(int)m, (int)n, (int)k, x, b.bufs[0], c}; /* the weight's own memory */
    contender cs[3];
    int nc = 0;
    cs[nc++] = (contender){"ours", bg_compute, &b, 0};
#ifdef ACCEL_HAVE_OPENBLAS
    cs[nc++] = (contender){"openblas", run_openblas_nt, &pg, 0};
#endif
#ifdef ACCEL_HAVE_DNNL
    cs[nc++] = (contender){"onednn", run_dnnl_nt, &pg, 0};
#endif
    bench_rounds(cs, nc);
    printf("  %-52s", label);
    double best = 0;
    for (int i = 0; i < nc; i++) {
        if (cs[i].sec < 0) {
            printf(" %s FAIL", cs[i].name);
            failures = 1;
            continue;
        }
        const double gf = flops / cs[i].sec * 1e-9;
        printf(" %8.1f", gf);
        if (i > 0 && gf > best) best = gf;
    }
    if (best > 0 && cs[0].sec > 0) printf("   %5.2f", flops / cs[0].sec * 1e-9 / best);
    /* the last peer's C (beta = 0, so any peer's) against ours */
    if (nc > 1 && accel_tensor_get(y, ours_out, (size_t)(m * n) * 4) == ACCEL_OK) {
        const double rd = linear_rel_diff(ours_out, c, b.bufs[1], m, n);
        printf("   %.1e", rd);
        if (!(rd < 1e-5)) {
            printf(" MISMATCH");
            failures = 1;
        }
    }
    printf("\n");
    fflush(stdout);
done:
    bg_free(&b);
    free(c);
    free(ours_out);
    free(x);
    return failures;
}

/* ---- (b) the layer's ops alone and together ------------------------------------------------------------------- */
typedef enum part_kind {
    PART_LINEAR,
    PART_ATTENTION,
    PART_MERGE,
    PART_ADD,
    PART_NORM,
    PART_GELU,
    PART_LAYER,  /* one encoder layer */
    PART_ENCODER /* the 12 layers of bert-base, each with its own weights (340 MB: they come from memory) */
} part_kind;

/* q, k, v heads [B, H, S, D] of a fused projection qkv [B, S, 3 * H * D] as strided views (as the models do). */
static accel_tensor *heads(accel_graph *g, accel_tensor *qkv, int which) {
    const int64_t shape[4] = {accel_tensor_dim(qkv, 0), BERT_HEADS, BERT_SEQ, BERT_HEAD_DIM};
    const int64_t strides[4] = {accel_tensor_stride(qkv, 0), BERT_HEAD_DIM * 4, accel_tensor_stride(qkv, 1), 4};
    return accel_view(g, qkv, 4, shape, strides, (size_t)which * BERT_HIDDEN * 4);
}

static accel_tensor *merge_heads(accel_graph *g, accel_tensor *o) {
    static const int perm[4] = {0, 2, 1, 3};
    const int64_t shape[3] = {accel_tensor_dim(o, 0), BERT_SEQ, BERT_HIDDEN};
    return accel_reshape(g, accel_cont(g, accel_permute(g, o, perm)), 3, shape);
}

/* One bert-base encoder layer (post-norm, as Hugging Face's BertLayer; eps 1e-12). */
static accel_tensor *bert_layer(bert_graph *b, accel_tensor *x) {
    accel_graph *g = b->g;
    accel_tensor *qkv = accel_linear(g, x, bg_weight(b, 3 * BERT_HIDDEN, BERT_HIDDEN, 0.05f),
                                     bg_weight(b, 3 * BERT_HIDDEN, 0, 0.1f));
    if (!qkv) return NULL;
    accel_tensor *att =
        merge_heads(g, accel_attention(g, heads(g, qkv, 0), heads(g, qkv, 1), heads(g, qkv, 2), NULL, NULL));
    accel_tensor *a =
        accel_linear(g, att, bg_weight(b, BERT_HIDDEN, BERT_HIDDEN, 0.05f), bg_weight(b, BERT_HIDDEN, 0, 0.1f));
    accel_tensor *h = accel_layer_norm(g, accel_add(g, a, x), bg_weight(b, BERT_HIDDEN, 0, 1.0f),
                                       bg_weight(b, BERT_HIDDEN, 0, 0.1f), 1e-12f);
    accel_tensor *i =
        accel_gelu(g, accel_linear(g, h, bg_weight(b, BERT_FF, BERT_HIDDEN, 0.05f), bg_weight(b, BERT_FF, 0, 0.1f)));
    accel_tensor *o =
        accel_linear(g, i, bg_weight(b, BERT_HIDDEN, BERT_FF, 0.03f), bg_weight(b, BERT_HIDDEN, 0, 0.1f));
    return accel_layer_norm(g, accel_add(g, o, h), bg_weight(b, BERT_HIDDEN, 0, 1.0f),
                            bg_weight(b, BERT_HIDDEN, 0, 0.1f), 1e-12f);
}

typedef struct layer_part {
    part_kind kind;
    int arg;        /* PART_LINEAR: index into k_linears */
    int per_layer;  /* how many times a layer runs it */
    const char *what;
} layer_part;

static const layer_part k_parts[] = {
    {PART_LINEAR, 0, 1, "linear qkv 768->2304 (+bias)"},
    {PART_ATTENTION, 0, 1, "attention S=128 D=64 12 heads"},
    {PART_MERGE, 0, 1, "merge heads (permute + cont)"},
    {PART_LINEAR, 1, 1, "linear attn out 768->768 (+bias)"},
    {PART_ADD, BERT_HIDDEN, 2, "add residual [.,768]"},
    {PART_NORM, 0, 2, "layer norm 768"},
    {PART_LINEAR, 2, 1, "linear intermediate 768->3072 (+bias)"},
    {PART_GELU, 0, 1, "gelu (erf) [.,3072]"},
    {PART_LINEAR, 3, 1, "linear output 3072->768 (+bias)"},
};
#define N_PARTS ((int)(sizeof k_parts / sizeof k_parts[0]))

static bool build_part(bert_graph *b, part_kind kind, int arg, int batch, accel_device *dev, int n_threads,
                       double *flops) {
    accel_graph *g = b->g;
    const int64_t rows[3] = {batch, BERT_SEQ, 0};
    accel_tensor *out = NULL;
    *flops = 0;
    switch (kind) {
    case PART_LINEAR: {
        const linear_shape *sh = &k_linears[arg];
        accel_tensor *x = bg_input(b, 3, (const int64_t[]){batch, BERT_SEQ, sh->k});
        out = accel_linear(g, x, bg_weight(b, sh->n, sh->k, 0.05f), bg_weight(b, sh->n, 0, 0.1f));
        *flops = 2.0 * batch * BERT_SEQ * (double)sh->k * (double)sh->n;
        break;
    }
    case PART_ATTENTION: {
        accel_tensor *qkv = bg_input(b, 3, (const int64_t[]){batch, BERT_SEQ, 3 * BERT_HIDDEN});
        out = qkv ? accel_attention(g, heads(g, qkv, 0), heads(g, qkv, 1), heads(g, qkv, 2), NULL, NULL) : NULL;
        *flops = 4.0 * batch * BERT_HEADS * BERT_SEQ * (double)BERT_SEQ * BERT_HEAD_DIM;
        break;
    }
    case PART_MERGE:
        out = merge_heads(g, bg_input(b, 4, (const int64_t[]){batch, BERT_HEADS, BERT_SEQ, BERT_HEAD_DIM}));
        break;
    case PART_ADD: {
        const int64_t sh[3] = {rows[0], rows[1], arg};
        out = accel_add(g, bg_input(b, 3, sh), bg_input(b, 3, sh));
        break;
    }
    case PART_NORM:
        out = accel_layer_norm(g, bg_input(b, 3, (const int64_t[]){batch, BERT_SEQ, BERT_HIDDEN}),
                               bg_weight(b, BERT_HIDDEN, 0, 1.0f), bg_weight(b, BERT_HIDDEN, 0, 0.1f), 1e-12f);
        break;
    case PART_GELU: out = accel_gelu(g, bg_input(b, 3, (const int64_t[]){batch, BERT_SEQ, BERT_FF})); break;
    case PART_LAYER:
    case PART_ENCODER: {
        const int layers = kind == PART_LAYER ? 1 : BERT_LAYERS;
        out = bg_input(b, 3, (const int64_t[]){batch, BERT_SEQ, BERT_HIDDEN});
        for (int i = 0; i < layers && out; i++) out = bert_layer(b, out);
        *flops = layers * (2.0 * batch * BERT_SEQ * BERT_HIDDEN * (3.0 * BERT_HIDDEN + BERT_HIDDEN + 2.0 * BERT_FF) +
                           4.0 * batch * BERT_HEADS * BERT_SEQ * (double)BERT_SEQ * BERT_HEAD_DIM);
        break;
    }
    }
    return bg_finish(b, out, dev, n_threads);
}

static int bert_layer_parts(accel_device *dev, int n_threads, int batch) {
    int failures = 0;
    double part_sec[N_PARTS], sum = 0;
    printf("\n  batch %dx%d, each op alone (ms per call, x count per layer):\n", batch, BERT_SEQ);
    for (int i = 0; i < N_PARTS; i++) {
        bert_graph b;
        double flops;
        part_sec[i] = -1;
        if (!bg_init(&b, hash_str(k_parts[i].what, (uint64_t)batch)) ||
            !build_part(&b, k_parts[i].kind, k_parts[i].arg, batch, dev, n_threads, &flops)) {
            printf("    %-40s FAIL: %s\n", k_parts[i].what, accel_last_error());
            failures++;
            bg_free(&b);
            continue;
        }
        contender c = {"ours", bg_compute, &b, 0};
        bench_rounds(&c, 1);
        part_sec[i] = c.sec;
        if (c.sec < 0) {
            printf("    %-40s FAIL: compute: %s\n", k_parts[i].what, accel_last_error());
            failures++;
        } else {
            sum += c.sec * k_parts[i].per_layer;
        }
        bg_free(&b);
        (void)flops;
    }
    double layer_flops = 0, layer_sec = -1, enc_flops = 0, enc_sec = -1;
    for (int whole = 0; whole < 2; whole++) {
        bert_graph b;
        double *flops = whole ? &enc_flops : &layer_flops, *sec = whole ? &enc_sec : &layer_sec;
        if (bg_init(&b, (uint64_t)batch + (uint64_t)whole) &&
            build_part(&b, whole ? PART_ENCODER : PART_LAYER, 0, batch, dev, n_threads, flops)) {
            contender c = {"ours", bg_compute, &b, 0};
            bench_rounds(&c, 1);
            *sec = c.sec;
        }
        if (*sec < 0) {
            printf("    %s FAIL: %s\n", whole ? "encoder" : "whole layer", accel_last_error());
            failures++;
        }
        bg_free(&b);
    }
    for (int i = 0; i < N_PARTS; i++) {
        if (part_sec[i] < 0) continue;
        printf("    %-40s %8.3f ms x%d   %5.1f%% of the sum\n", k_parts[i].what, part_sec[i] * 1e3,
               k_parts[i].per_layer, 100.0 * part_sec[i] * k_parts[i].per_layer / sum);
    }
    printf("    %-40s %8.3f ms\n", "sum of the ops alone", sum * 1e3);
    if (layer_sec > 0)
        printf("    %-40s %8.3f ms   %.1f GFLOP/s (linear + attention flops)\n", "whole layer as one graph",
               layer_sec * 1e3, layer_flops / layer_sec * 1e-9);
    if (enc_sec > 0)
        printf("    %-40s %8.3f ms   %.1f GFLOP/s (12 layers, their own weights)\n", "encoder as one graph",
               enc_sec * 1e3, enc_flops / enc_sec * 1e-9);
    fflush(stdout);
    return failures;
}

/* ---- entry ---------------------------------------------------------------------------------------------------- */
static bool has_op(const case_list *l, const char *op) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].op, op) == 0) return true;
    return false;
}

/* Runs (a) when the selected perf cases include linear, (b) when they include linear, attention, layer_norm,
 * gelu or add (all of them without -o). Returns the number of failed measurements. */
int perf_bert(accel_device *dev, int n_threads, const case_list *l) {
    const bool linear = has_op(l, "linear");
    const bool layer = linear || has_op(l, "attention") || has_op(l, "layer_norm") || has_op(l, "gelu") ||
                       has_op(l, "add");
    if (!layer) return 0;
    int failures = 0;
    if (linear) {
        printf("\nbert linear: y = x @ W^T + b, f32, %d threads; GFLOP/s (ours includes the bias; the peers "
               "compute x @ W^T only), median of %d interleaved rounds\n",
               n_threads, BERT_ROUNDS);
        print_load("before");
        printf("  %-52s %8s", "shape", "ours");
#ifdef ACCEL_HAVE_OPENBLAS
        printf(" %8s", "openblas");
#endif
#ifdef ACCEL_HAVE_DNNL
        printf(" %8s", "onednn");
#endif
        printf("   ours/best   max rel diff\n");
        for (int batch = 1; batch <= 8; batch += 7)
            for (int i = 0; i < 4; i++) failures += bert_linear(dev, n_threads, batch, &k_linears[i]);
        print_load("after");
    }
    printf("\nbert layer: one bert-base encoder layer, f32, %d threads\n", n_threads);
    print_load("before");
    for (int batch = 1; batch <= 8; batch += 7) failures += bert_layer_parts(dev, n_threads, batch);
    print_load("after");
    if (failures) printf("  %d bert measurement(s) failed\n", failures);
    return failures;
}
