/* test-ops perf mode: one representative large case per op on each device, and the bars measured in the
 * same run:
 *  (1) f32 matmul 1024x1024x1024 on our device vs cblas_sgemm of OpenBLAS (and dnnl_sgemm of oneDNN when the
 *      build found it), same thread count;
 *  (2) softmax and layer norm on 4096x4096 f32 vs memcpy of the same bytes split over the same number of threads,
 *      bytes read + written counted the same way for both;
 *  (3) the work of a bert-base layer (perf_bert.c): its Linear shapes vs OpenBLAS and oneDNN, and its ops' shares.
 * Each figure is the median of PERF_RUNS runs after a warm-up; a run repeats the compute until it has lasted
 * PERF_RUN_SECONDS, so the time per iteration is not dominated by the clock. Only accel_sched_compute is timed:
 * graph building, placement and input upload happen before. */
#include "harness.h"

#include "core/threadpool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef ACCEL_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef ACCEL_HAVE_DNNL
#include <dnnl.h>
#endif

#define PERF_RUNS 5
#define PERF_RUN_SECONDS 0.2
#define PERF_WARMUP_SECONDS 0.1
/* Pause before timing a BLAS peer: a library's worker threads keep spinning for a while after its last call
 * (OpenBLAS's for about 0.1 s) and would compete with the next library timed. */
#define PERF_SETTLE_US 300000

int perf_main(const case_list *l, accel_device *const *devs, int n_devs, int n_threads, bool verbose);
void perf_tune_openblas(char **argv);
int perf_bert(accel_device *dev, int n_threads, const case_list *l); /* perf_bert.c */

typedef bool (*bench_fn)(void *ctx);

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds per call of fn, or a negative value when fn failed. */
static double bench(bench_fn fn, void *ctx) {
    double t0 = now_seconds();
    do {
        if (!fn(ctx)) return -1;
    } while (now_seconds() - t0 < PERF_WARMUP_SECONDS);
    double times[PERF_RUNS];
    for (int r = 0; r < PERF_RUNS; r++) {
        long iters = 0;
        double start = now_seconds(), el;
        do {
            if (!fn(ctx)) return -1;
            iters++;
            el = now_seconds() - start;
        } while (el < PERF_RUN_SECONDS);
        times[r] = el / (double)iters;
    }
    qsort(times, PERF_RUNS, sizeof times[0], cmp_double);
    return times[PERF_RUNS / 2];
}

/* ---- our compute -------------------------------------------------------------------------------------------- */
typedef struct compute_ctx {
    accel_sched *s;
    accel_graph *g;
} compute_ctx;

static bool run_compute(void *p) {
    compute_ctx *c = p;
    return accel_sched_compute(c->s, c->g) == ACCEL_OK;
}

typedef struct case_result {
    double seconds, gflops, gbps;
} case_result;

/* Times one case on dev; returns false (after printing why) when it cannot run there. */
static bool perf_case(const op_case *cs, accel_device *dev, accel_sched *s, case_result *res, bool verbose) {
    prepared p;
    char msg[512];
    const char *dn = accel_device_name(dev);
    run_status st = case_prepare(cs, dev, s, case_seed(cs), &p, msg, sizeof msg);
    bool ok = false;
    if (st == RUN_UNSUPPORTED) {
        printf("%-6s %-16s %-72s not supported (%s)\n", dn, cs->op, cs->desc, msg);
    } else if (st != RUN_OK) {
        printf("%-6s %-16s %-72s FAIL: %s\n", dn, cs->op, cs->desc, msg);
    } else {
        compute_ctx c = {s, p.g};
        double sec = bench(run_compute, &c);
        if (sec < 0) {
            printf("%-6s %-16s %-72s FAIL: compute: %s\n", dn, cs->op, cs->desc, accel_last_error());
        } else {
            res->seconds = sec;
            res->gflops = cs->flops > 0 ? cs->flops / sec * 1e-9 : 0;
            res->gbps = case_bytes(&p) / sec * 1e-9;
            printf("%-6s %-16s %-72s %10.3f ms", dn, cs->op, cs->desc, sec * 1e3);
            if (cs->flops > 0) printf(" %9.1f GFLOP/s", res->gflops);
            else printf(" %17s", "");
            printf(" %8.1f GB/s\n", res->gbps);
            if (verbose) printf("       bytes read+written %.0f, flops %.0f\n", case_bytes(&p), cs->flops);
            ok = true;
        }
    }
    fflush(stdout);
    case_release(&p);
    return ok;
}

/* ---- bar (1): BLAS sgemm ------------------------------------------------------------------------------------ */
/* OpenBLAS picks its kernels from the CPU model when it loads; a model it does not know (usual in VMs, whose CPUs
 * report a generic name) gets the generic "Prescott" SSE kernels, several times slower than the machine can do,
 * which would make the bar meaningless. When the ISA allows better, run this program again with
 * OPENBLAS_CORETYPE naming the ISA's kernels (once: the variable is then set). Both our GEMM and the bar see the
 * same OpenBLAS. */
void perf_tune_openblas(char **argv) {
#if defined(ACCEL_HAVE_OPENBLAS) && (defined(__x86_64__) || defined(__i386__))
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *core = openblas_get_corename();
    if (!core) return;
    __builtin_cpu_init();
    const char *want = NULL;
    static const char *const avx512_cores[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
    static const char *const avx2_cores[] = {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", NULL};
    const char *const *good = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
        want = "SkylakeX";
        good = avx512_cores;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        want = "Haswell";
        good = avx2_cores;
    }
    if (!want) return;
    for (int i = 0; good[i]; i++)
        if (strcasecmp(core, good[i]) == 0) return;
    printf("OpenBLAS chose its %s kernels for this CPU; running again with OPENBLAS_CORETYPE=%s\n", core, want);
    fflush(stdout);
    if (setenv("OPENBLAS_CORETYPE", want, 1) == 0) execv("/proc/self/exe", argv);
    printf("could not run again (%s): the BLAS bar uses the %s kernels\n", "execv failed", core);
#else
    (void)argv;
#endif
}

typedef struct gemm_ctx {
    int n;
    float *a, *b, *c;
} gemm_ctx;

#ifdef ACCEL_HAVE_OPENBLAS
static bool run_openblas(void *p) {
    gemm_ctx *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c,
                g->n);
    return true;
}
#endif
#ifdef ACCEL_HAVE_DNNL
static bool run_dnnl(void *p) {
    gemm_ctx *g = p;
    return dnnl_sgemm('N', 'N', g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n) == dnnl_success;
}
#endif

static void matmul_bar(const char *dev_name, double ours_gflops, int n_threads) {
    const int n = 1024;
    double flops = 2.0 * n * n * n;
    printf("\nbar (1): f32 matmul %dx%dx%d, %d threads\n", n, n, n, n_threads);
    printf("  ours (%s)%*s %9.1f GFLOP/s\n", dev_name, (int)(10 - strlen(dev_name) > 0 ? 10 - strlen(dev_name) : 0), "", ours_gflops);
    double best = 0;
    const char *best_name = NULL;
    gemm_ctx g = {n, malloc(sizeof(float) * n * n), malloc(sizeof(float) * n * n), malloc(sizeof(float) * n * n)};
    if (!g.a || !g.b || !g.c) {
        printf("  out of memory for the BLAS comparison\n");
        goto done;
    }
    rng r;
    rng_seed(&r, 42);
    for (int i = 0; i < n * n; i++) {
        g.a[i] = (float)(2 * rng_uniform(&r) - 1);
        g.b[i] = (float)(2 * rng_uniform(&r) - 1);
    }
#ifdef ACCEL_HAVE_OPENBLAS
    {
        openblas_set_num_threads(n_threads);
        usleep(PERF_SETTLE_US);
        double sec = bench(run_openblas, &g);
        double gf = flops / sec * 1e-9;
        printf("  openblas sgemm    %9.1f GFLOP/s (%s kernels)\n", gf, openblas_get_corename());
        if (gf > best) best = gf, best_name = "openblas";
    }
#else
    printf("  openblas          not found at build time\n");
#endif
#ifdef ACCEL_HAVE_DNNL
    {
        usleep(PERF_SETTLE_US);
        double sec = bench(run_dnnl, &g);
        if (sec > 0) {
            double gf = flops / sec * 1e-9;
            printf("  onednn sgemm      %9.1f GFLOP/s (its own thread count)\n", gf);
            if (gf > best) best = gf, best_name = "onednn";
        } else {
            printf("  onednn sgemm      failed\n");
        }
    }
#else
    printf("  onednn            not found at build time\n");
#endif
    if (best_name) printf("  ratio ours/%s = %.2f\n", best_name, ours_gflops / best);
    else printf("  no BLAS to compare with\n");
done:
    free(g.a);
    free(g.b);
    free(g.c);
}

/* ---- bar (2): threaded memcpy ------------------------------------------------------------------------------- */
typedef struct copy_part {
    char *dst;
    const char *src;
    size_t n;
} copy_part;

typedef struct copy_ctx {
    char *dst, *src;
    size_t bytes;
    int n_threads;
} copy_ctx;

static void *copy_worker(void *p) {
    copy_part *c = p;
    memcpy(c->dst, c->src, c->n);
    return NULL;
}

/* One copy of the whole buffer, split in n_threads contiguous parts (the caller copies part 0). */
static bool run_copy(void *p) {
    copy_ctx *c = p;
    pthread_t th[64];
    copy_part parts[64];
    int nt = c->n_threads < 1 ? 1 : c->n_threads < 64 ? c->n_threads : 64;
    for (int t = 0; t < nt; t++) {
        int64_t b, e;
        accel_split_range((int64_t)c->bytes, t, nt, &b, &e);
        parts[t] = (copy_part){c->dst + b, c->src + b, (size_t)(e - b)};
    }
    int started = 1;
    for (int t = 1; t < nt; t++, started++)
        if (pthread_create(&th[t], NULL, copy_worker, &parts[t]) != 0) break;
    copy_worker(&parts[0]);
    for (int t = started; t < nt; t++) copy_worker(&parts[t]); /* threads that could not start */
    for (int t = 1; t < started; t++) pthread_join(th[t], NULL);
    return true;
}

static void bandwidth_bar(const char *const *names, const double *gbps, int n, int n_threads) {
    const size_t bytes = (size_t)4096 * 4096 * sizeof(float);
    copy_ctx c = {malloc(bytes), malloc(bytes), bytes, n_threads};
    printf("\nbar (2): 4096x4096 f32 vs memcpy of the same %zu bytes (read + write counted for both), %d threads\n",
           bytes, n_threads);
    if (!c.dst || !c.src) {
        printf("  out of memory\n");
    } else {
        memset(c.src, 1, bytes);
        double sec = bench(run_copy, &c);
        double copy_gbps = 2.0 * (double)bytes / sec * 1e-9;
        printf("  memcpy            %9.1f GB/s\n", copy_gbps);
        for (int i = 0; i < n; i++)
            printf("  %-17s %9.1f GB/s  ratio ours/memcpy = %.2f\n", names[i], gbps[i], gbps[i] / copy_gbps);
    }
    free(c.dst);
    free(c.src);
}

int perf_main(const case_list *l, accel_device *const *devs, int n_devs, int n_threads, bool verbose) {
    if (n_threads <= 0) n_threads = accel_physical_cores();
    printf("test-ops perf: median of %d runs of >= %.1f s each after warm-up; %d threads\n", PERF_RUNS,
           PERF_RUN_SECONDS, n_threads);
    printf("%-6s %-16s %-72s %13s %17s %13s\n", "device", "op", "case", "time", "compute", "memory");
    int failures = 0;
    for (int d = 0; d < n_devs; d++) {
        accel_device *dev = devs[d];
        accel_sched *s = NULL;
        if (sched_for_device(dev, n_threads, &s) != ACCEL_OK) {
            printf("%s: scheduler: %s\n", accel_device_name(dev), accel_last_error());
            failures++;
            continue;
        }
        double mm_gflops = -1;
        const char *bw_names[4];
        double bw_gbps[4];
        int n_bw = 0;
        for (int i = 0; i < l->n; i++) {
            const op_case *cs = &l->v[i];
            case_result r;
            if (!perf_case(cs, dev, s, &r, verbose)) {
                failures++;
                continue;
            }
            if (strcmp(cs->bar, "matmul") == 0) mm_gflops = r.gflops;
            if (strcmp(cs->bar, "bandwidth") == 0 && n_bw < 4) {
                bw_names[n_bw] = cs->op;
                bw_gbps[n_bw++] = r.gbps;
            }
        }
        accel_sched_free(s);
        /* the bars compare host-memory work with host-memory limits: only meaningful for CPU-type devices */
        if (accel_device_get_type(dev) == ACCEL_DEVICE_CPU && strcmp(accel_device_name(dev), "ref") != 0) {
            if (mm_gflops >= 0) matmul_bar(accel_device_name(dev), mm_gflops, n_threads);
            if (n_bw) bandwidth_bar(bw_names, bw_gbps, n_bw, n_threads);
        }
        if (strcmp(accel_device_name(dev), "cpu") == 0) failures += perf_bert(dev, n_threads, l);
    }
    return failures ? 1 : 0;
}
