/* test-ops: the op conformance harness (after ggml's test-backend-ops).
 *
 *   test-ops [test|perf|list] [-o op[,op...]] [-b device] [-t threads] [-v]
 *
 * test (default): every case on every compiled device except `ref` (or the one named by -b) against `ref`, on
 *   identical inputs; float outputs compared by normalized MSE against the case's limit (harness.h explains the
 *   limits), integer outputs and data movement exactly, NaN/Inf positions must agree. A case a device's
 *   supports_op refuses is "not supported" (skipped), except on `cpu`, which must support every case: there it
 *   fails. Prints failures and unsupported cases (every case with -v), a table per op x device, and
 *   "N passed, N failed" (", N skipped" when some were not supported).
 * perf: one representative large case per op, timed (perf.c).
 * list: which device supports how many cases of each op (a Markdown table, for docs/ops.md).
 */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int perf_main(const case_list *l, accel_device *const *devs, int n_devs, int n_threads, bool verbose);
void perf_tune_openblas(char **argv);

#define MAX_TEST_DEVICES 16

typedef struct options {
    const char *mode;
    const char *ops;    /* comma-separated filter, NULL = all */
    const char *device; /* NULL = every device except ref (test, list) / cpu (perf) */
    int n_threads;
    bool verbose;
} options;

static void usage(FILE *f) {
    fprintf(f, "usage: test-ops [test|perf|list] [-o op[,op...]] [-b device] [-t threads] [-v]\n"
               "  test  compare every op x dtype x shape case with the ref device (default)\n"
               "  perf  time a large case per op (default device: cpu)\n"
               "  list  table of supported cases per op and device\n");
}

static bool op_selected(const options *o, const char *op) {
    if (!o->ops) return true;
    size_t n = strlen(op);
    for (const char *p = o->ops; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, op, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

/* ---- summary table ----------------------------------------------------------------------------------------- */
enum { CNT_PASS, CNT_FAIL, CNT_SKIP, CNT_N };

typedef struct summary {
    char ops[128][32];
    int n_ops;
    int counts[128][MAX_TEST_DEVICES][CNT_N];
} summary;

static int summary_op(summary *s, const char *op) {
    for (int i = 0; i < s->n_ops; i++)
        if (strcmp(s->ops[i], op) == 0) return i;
    if (s->n_ops == 128) return 127;
    snprintf(s->ops[s->n_ops], sizeof s->ops[0], "%s", op);
    return s->n_ops++;
}

/* ---- outputs and comparison -------------------------------------------------------------------------------- */
typedef struct outputs {
    int n;
    accel_dtype dt[2];
    int64_t count[2];
    double *v[2];
} outputs;

static void outputs_free(outputs *o) {
    for (int i = 0; i < o->n; i++) free(o->v[i]);
    memset(o, 0, sizeof *o);
}

static bool read_outputs(const prepared *p, outputs *o, char *msg, size_t n) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < p->n_out; i++) {
        const accel_tensor *t = p->outs[i];
        accel_dtype dt = accel_tensor_dtype(t);
        int64_t cnt = accel_tensor_nelements(t);
        size_t nb = accel_tensor_nbytes(t);
        unsigned char *buf = malloc(nb ? nb : 1);
        double *v = malloc(sizeof *v * (size_t)(cnt ? cnt : 1));
        if (!buf || !v) {
            free(buf);
            free(v);
            snprintf(msg, n, "out of memory reading output %d", i);
            return false;
        }
        if (accel_tensor_get(t, buf, nb) != ACCEL_OK) {
            snprintf(msg, n, "accel_tensor_get(output %d): %s", i, accel_last_error());
            free(buf);
            free(v);
            return false;
        }
        size_t es = dtype_bytes(dt);
        for (int64_t k = 0; k < cnt; k++) v[k] = load_value(buf + (size_t)k * es, dt);
        free(buf);
        o->dt[o->n] = dt;
        o->count[o->n] = cnt;
        o->v[o->n] = v;
        o->n++;
    }
    return true;
}

/* Compares device output x with ref output y. Returns true when they agree; msg says how they differ. */
static bool compare(const op_case *cs, int idx, accel_dtype dt, const double *x, const double *y, int64_t n,
                    double *nmse_out, char *msg, size_t msz) {
    bool exact = cs->max_nmse == 0.0 || !dtype_is_float(dt);
    double d2 = 0, y2 = 0, max_err = 0;
    int64_t max_at = -1, n_diff = 0, first_diff = -1;
    for (int64_t i = 0; i < n; i++) {
        bool xf = isfinite(x[i]), yf = isfinite(y[i]);
        if (!xf || !yf) {
            /* non-finite values must agree exactly: same infinity, or both NaN */
            bool same = (isnan(x[i]) && isnan(y[i])) || x[i] == y[i];
            if (!same) {
                snprintf(msg, msz, "output %d: NaN/Inf mismatch at index %lld: got %g, expected %g", idx, (long long)i,
                         x[i], y[i]);
                *nmse_out = INFINITY;
                return false;
            }
            continue;
        }
        double d = x[i] - y[i];
        if (d != 0) {
            n_diff++;
            if (first_diff < 0) first_diff = i;
        }
        d2 += d * d;
        y2 += y[i] * y[i];
        if (fabs(d) > max_err) {
            max_err = fabs(d);
            max_at = i;
        }
    }
    if (exact) {
        *nmse_out = 0;
        if (n_diff == 0) return true;
        snprintf(msg, msz, "output %d (%s, exact): %lld of %lld values differ; first at index %lld: got %.9g, expected %.9g",
                 idx, accel_dtype_name(dt), (long long)n_diff, (long long)n, (long long)first_diff, x[first_diff],
                 y[first_diff]);
        return false;
    }
    double nmse = y2 > 0 ? d2 / y2 : (d2 > 0 ? INFINITY : 0);
    *nmse_out = nmse;
    if (nmse <= cs->max_nmse) return true;
    snprintf(msg, msz, "output %d: nmse %.3g > limit %.3g; max abs error %.3g at index %lld (got %.9g, expected %.9g)",
             idx, nmse, cs->max_nmse, max_err, (long long)max_at, max_at >= 0 ? x[max_at] : 0.0,
             max_at >= 0 ? y[max_at] : 0.0);
    return false;
}

/* Runs a case on dev: RUN_OK with outputs filled, or RUN_FAILED / RUN_UNSUPPORTED with msg. For cases that
 * must fail (expect_error), RUN_OK means the compute failed with ACCEL_ERR_INVALID_ARG. */
static run_status run_on(const op_case *cs, accel_device *dev, accel_sched *s, outputs *out, char *msg, size_t msz) {
    prepared p;
    memset(out, 0, sizeof *out);
    run_status st = case_prepare(cs, dev, s, case_seed(cs), &p, msg, msz);
    if (st == RUN_OK) {
        accel_status cst = accel_sched_compute(s, p.g);
        if (cs->expect_error) {
            if (cst != ACCEL_ERR_INVALID_ARG) {
                snprintf(msg, msz, "compute returned %s, expected ACCEL_ERR_INVALID_ARG", accel_status_name(cst));
                st = RUN_FAILED;
            }
        } else if (cst != ACCEL_OK) {
            snprintf(msg, msz, "accel_sched_compute: %s: %s", accel_status_name(cst), accel_last_error());
            st = RUN_FAILED;
        } else if (!read_outputs(&p, out, msg, msz)) {
            st = RUN_FAILED;
        }
    }
    case_release(&p);
    if (st != RUN_OK) outputs_free(out);
    return st;
}

/* ---- test mode ---------------------------------------------------------------------------------------------- */
static int test_main(const case_list *l, accel_device *ref, accel_device *const *devs, int n_devs, const options *o) {
    accel_sched *ref_sched = NULL, *scheds[MAX_TEST_DEVICES] = {0};
    int rc = 1;
    if (sched_for_device(ref, o->n_threads, &ref_sched) != ACCEL_OK) {
        fprintf(stderr, "test-ops: scheduler for ref: %s\n", accel_last_error());
        return 1;
    }
    for (int d = 0; d < n_devs; d++) {
        if (sched_for_device(devs[d], o->n_threads, &scheds[d]) != ACCEL_OK) {
            fprintf(stderr, "test-ops: scheduler for %s: %s\n", accel_device_name(devs[d]), accel_last_error());
            goto done;
        }
    }
    summary *sum = calloc(1, sizeof *sum);
    if (!sum) goto done;
    long passed = 0, failed = 0, skipped = 0;
    double t0 = now_seconds();
    char msg[640], rmsg[512];
    for (int i = 0; i < l->n; i++) {
        const op_case *cs = &l->v[i];
        int si = summary_op(sum, cs->op);
        outputs ref_out, dev_out;
        run_status rst = run_on(cs, ref, ref_sched, &ref_out, rmsg, sizeof rmsg);
        for (int d = 0; d < n_devs; d++) {
            const char *dn = accel_device_name(devs[d]);
            int verdict;
            double nmse = 0;
            if (rst != RUN_OK) {
                /* ref must support and compute the whole matrix: its failure fails the case everywhere */
                snprintf(msg, sizeof msg, "ref: %s", rmsg);
                verdict = CNT_FAIL;
            } else {
                run_status st = run_on(cs, devs[d], scheds[d], &dev_out, msg, sizeof msg);
                if (st == RUN_UNSUPPORTED) {
                    verdict = CNT_SKIP;
                    if (strcmp(dn, "cpu") == 0) { /* the cpu device must cover the whole matrix */
                        char why[sizeof msg];
                        snprintf(why, sizeof why, "%s", msg);
                        snprintf(msg, sizeof msg, "not supported on cpu, which must support every case (%.500s)", why);
                        verdict = CNT_FAIL;
                    }
                } else if (st == RUN_FAILED) {
                    verdict = CNT_FAIL;
                } else {
                    verdict = CNT_PASS;
                    if (!cs->expect_error) {
                        if (dev_out.n != ref_out.n) {
                            snprintf(msg, sizeof msg, "%d outputs, ref has %d", dev_out.n, ref_out.n);
                            verdict = CNT_FAIL;
                        }
                        for (int k = 0; verdict == CNT_PASS && k < ref_out.n; k++) {
                            double e = 0;
                            if (dev_out.count[k] != ref_out.count[k] || dev_out.dt[k] != ref_out.dt[k]) {
                                snprintf(msg, sizeof msg, "output %d: %lld %s values, ref has %lld %s", k,
                                         (long long)dev_out.count[k], accel_dtype_name(dev_out.dt[k]),
                                         (long long)ref_out.count[k], accel_dtype_name(ref_out.dt[k]));
                                verdict = CNT_FAIL;
                            } else if (!compare(cs, k, ref_out.dt[k], dev_out.v[k], ref_out.v[k], ref_out.count[k], &e,
                                                msg, sizeof msg)) {
                                verdict = CNT_FAIL;
                            }
                            if (e > nmse) nmse = e;
                        }
                    }
                    outputs_free(&dev_out);
                }
            }
            sum->counts[si][d][verdict]++;
            if (verdict == CNT_PASS) {
                passed++;
                if (o->verbose) {
                    if (cs->expect_error)
                        printf("  %-6s %-16s %s: OK (failed as required)\n", dn, cs->op, cs->desc);
                    else if (cs->max_nmse == 0.0)
                        printf("  %-6s %-16s %s: OK (exact)\n", dn, cs->op, cs->desc);
                    else
                        printf("  %-6s %-16s %s: OK (nmse %.2g, limit %.2g)\n", dn, cs->op, cs->desc, nmse,
                               cs->max_nmse);
                }
            } else if (verdict == CNT_SKIP) {
                skipped++;
                printf("  %-6s %-16s %s: not supported (%s)\n", dn, cs->op, cs->desc, msg);
            } else {
                failed++;
                printf("  %-6s %-16s %s: FAIL: %s\n", dn, cs->op, cs->desc, msg);
            }
            fflush(stdout);
        }
        if (rst == RUN_OK) outputs_free(&ref_out);
    }
    double elapsed = now_seconds() - t0;

    /* table: one row per op, one pass/fail/unsupported column group per device */
    printf("\n%-18s", "op");
    for (int d = 0; d < n_devs; d++) printf(" | %-24s", accel_device_name(devs[d]));
    printf("\n%-18s", "");
    for (int d = 0; d < n_devs; d++) printf(" | %6s %6s %10s", "pass", "fail", "unsupp");
    printf("\n");
    for (int i = 0; i < sum->n_ops; i++) {
        printf("%-18s", sum->ops[i]);
        for (int d = 0; d < n_devs; d++)
            printf(" | %6d %6d %10d", sum->counts[i][d][CNT_PASS], sum->counts[i][d][CNT_FAIL],
                   sum->counts[i][d][CNT_SKIP]);
        printf("\n");
    }
    printf("\n%d ops, %.1f s\n", sum->n_ops, elapsed);
    if (skipped)
        printf("%ld passed, %ld failed, %ld skipped\n", passed, failed, skipped);
    else
        printf("%ld passed, %ld failed\n", passed, failed);
    rc = failed || passed == 0 ? 1 : 0;
    free(sum);
done:
    for (int d = 0; d < n_devs; d++) accel_sched_free(scheds[d]);
    accel_sched_free(ref_sched);
    return rc;
}

/* ---- list mode ---------------------------------------------------------------------------------------------- */
static int list_main(const case_list *l, accel_device *const *devs, int n_devs, const options *o) {
    summary *sum = calloc(1, sizeof *sum);
    if (!sum) return 1;
    int totals[128] = {0};
    char msg[512];
    for (int i = 0; i < l->n; i++) {
        const op_case *cs = &l->v[i];
        int si = summary_op(sum, cs->op);
        totals[si]++;
        for (int d = 0; d < n_devs; d++) {
            run_status st = case_supported(cs, devs[d], msg, sizeof msg);
            sum->counts[si][d][st == RUN_OK ? CNT_PASS : st == RUN_UNSUPPORTED ? CNT_SKIP : CNT_FAIL]++;
            if (o->verbose)
                printf("%-6s %-16s %s: %s%s%s\n", accel_device_name(devs[d]), cs->op, cs->desc,
                       st == RUN_OK ? "supported" : st == RUN_UNSUPPORTED ? "not supported" : "build error",
                       st == RUN_OK ? "" : ": ", st == RUN_OK ? "" : msg);
        }
    }
    printf("| op | cases |");
    for (int d = 0; d < n_devs; d++) printf(" %s |", accel_device_name(devs[d]));
    printf("\n|---|---|");
    for (int d = 0; d < n_devs; d++) printf("---|");
    printf("\n");
    int errors = 0;
    for (int i = 0; i < sum->n_ops; i++) {
        printf("| %s | %d |", sum->ops[i], totals[i]);
        for (int d = 0; d < n_devs; d++) {
            int ok = sum->counts[i][d][CNT_PASS];
            errors += sum->counts[i][d][CNT_FAIL];
            if (ok == totals[i]) printf(" all |");
            else if (ok == 0) printf(" none |");
            else printf(" %d of %d |", ok, totals[i]);
        }
        printf("\n");
    }
    if (errors) printf("\n%d cases failed to build (run with -v)\n", errors);
    free(sum);
    return errors ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------------------------------------------- */
static bool parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->mode = "test";
    int i = 1;
    if (i < argc && argv[i][0] != '-') o->mode = argv[i++];
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "-b") == 0 || strcmp(a, "-t") == 0) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[1] == 'o') o->ops = v;
            else if (a[1] == 'b') o->device = v;
            else o->n_threads = atoi(v);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else {
            return false;
        }
    }
    if (strcmp(o->mode, "--list") == 0) o->mode = "list";
    return strcmp(o->mode, "test") == 0 || strcmp(o->mode, "perf") == 0 || strcmp(o->mode, "list") == 0;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    bool perf = strcmp(o.mode, "perf") == 0;
    if (perf) perf_tune_openblas(argv); /* may run this program again: first, before any output or work */
    case_list l = {.perf = perf};
    cases_elementwise(&l);
    cases_matmul(&l);
    cases_norm(&l);
    cases_attention(&l);
    cases_conv(&l);
    cases_data(&l);
    int kept = 0; /* -o: keep the selected ops only */
    for (int i = 0; i < l.n; i++)
        if (op_selected(&o, l.v[i].op)) l.v[kept++] = l.v[i];
    l.n = kept;
    if (l.n == 0) {
        fprintf(stderr, "test-ops: no case matches -o %s\n", o.ops ? o.ops : "");
        case_list_free(&l);
        return 1;
    }

    accel_device *ref = accel_device_by_name("ref");
    accel_device *devs[MAX_TEST_DEVICES];
    int n_devs = 0;
    if (o.device) {
        accel_device *d = accel_device_by_name(o.device);
        if (!d) {
            fprintf(stderr, "test-ops: no device named '%s'; devices:", o.device);
            for (int i = 0; i < accel_device_count(); i++) fprintf(stderr, " %s", accel_device_name(accel_device_get(i)));
            fprintf(stderr, "\n");
            case_list_free(&l);
            return 1;
        }
        devs[n_devs++] = d;
    } else if (perf) {
        accel_device *d = accel_device_by_name("cpu");
        if (d) devs[n_devs++] = d;
    } else {
        bool list = strcmp(o.mode, "list") == 0;
        for (int i = 0; i < accel_device_count() && n_devs < MAX_TEST_DEVICES; i++) {
            accel_device *d = accel_device_get(i);
            if (d != ref || list) devs[n_devs++] = d;
        }
    }
    /* the cpu device must exist and is always tested unless another device is named */
    if (!o.device && !accel_device_by_name("cpu")) {
        fprintf(stderr, "test-ops: the cpu device is missing from this build\n");
        case_list_free(&l);
        return 1;
    }
    int rc;
    if (perf) {
        rc = perf_main(&l, devs, n_devs, o.n_threads, o.verbose);
    } else if (strcmp(o.mode, "list") == 0) {
        rc = list_main(&l, devs, n_devs, &o);
    } else {
        if (!ref) {
            fprintf(stderr, "test-ops: the ref device is missing from this build\n");
            case_list_free(&l);
            return 1;
        }
        printf("test-ops: %d cases, devices:", l.n);
        for (int d = 0; d < n_devs; d++) printf(" %s", accel_device_name(devs[d]));
        printf(" (reference: ref)\n");
        rc = test_main(&l, ref, devs, n_devs, &o);
    }
    case_list_free(&l);
    return rc;
}
