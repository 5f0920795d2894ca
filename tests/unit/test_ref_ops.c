/* The ref backend (the oracle every other backend is compared with) checked against PyTorch.
 *
 * Fixtures: the .txt files in tests/fixtures/ops, written by python/op_fixtures.py (format documented there).
 * Each case is built by hand as accel_tensor structs and run on the "ref" device twice: once with contiguous
 * sources and once with every source laid out with reversed dimension order and a one-element gap between
 * elements (so kernels that ignore strides fail). The fixture directory is $ACCEL_FIXTURES_DIR, or
 * tests/fixtures/ops next to this file.
 *
 * Tolerance, relative to the largest |expected| of the case (PyTorch computes the expected values in float64
 * and rounds once to the output dtype, as ref does):
 *   f32:  1e-6  (ref's double result differs from PyTorch's only in the last bits of float64 before rounding,
 *                so outputs agree to about one f32 ulp; 1e-6 leaves room for ~8 ulps at the largest value)
 *   f16:  2^-10 (one f16 ulp at the largest value's binade: the two float64 results may sit on either side of a
 *                rounding boundary, and ref rounds double -> f32 -> f16; a wrong formula is off by far more)
 *   bf16: 2^-7  (one bf16 ulp, same reasoning)
 *   integer outputs: exact. NaN and infinities must match exactly.
 * Plus fixture-free checks: the device's identity, supports_op refusals (e.g. Q8_0), get_rows' out-of-range
 * error, saturating casts, zero-stride broadcast views.
 */
#include "test.h"
#include "kernel_test.h" /* after test.h: its CHECK / RUN / test_summary stay */

#include "backends/ref/ref_ops.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- the device ------------------------------------------------------------------------------------------------ */
static accel_device *g_dev;
static void capture_device(accel_device *dev) { g_dev = dev; }

static accel_device *ref_device(void) {
    if (!g_dev) accel_ref_backend_reg.enumerate(capture_device);
    return g_dev;
}

static bool dev_supports(const accel_tensor *t) { return ref_device()->iface.supports_op(ref_device(), t); }

static accel_status dev_compute(accel_tensor *t) {
    accel_device *dev = ref_device();
    void *state = NULL;
    accel_status st = dev->iface.compute_init(dev, 1, &state);
    if (st != ACCEL_OK) return st;
    accel_tensor *nodes[1] = {t};
    st = dev->iface.compute(dev, state, nodes, 1);
    dev->iface.compute_free(dev, state);
    return st;
}

/* ---- element access written independently of the ref kernels --------------------------------------------------- */
static bool is_float_dtype(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

static void put_float(void *p, accel_dtype d, double v) {
    float f = (float)v; /* fixture values are exact in their dtype, so this never rounds */
    if (d == ACCEL_F32) memcpy(p, &f, 4);
    else {
        uint16_t h = d == ACCEL_F16 ? accel_f32_to_f16(f) : accel_f32_to_bf16(f);
        memcpy(p, &h, 2);
    }
}

static void set_contiguous(accel_tensor *t) {
    int64_t s = (int64_t)accel_dtype_size(t->dtype);
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = s;
        s *= t->shape[i] > 0 ? t->shape[i] : 1;
    }
}

/* ---- fixture parsing ------------------------------------------------------------------------------------------- */
typedef struct fx_tensor {
    bool present;
    accel_dtype dtype;
    int ndim;
    int64_t shape[ACCEL_MAX_DIMS];
    int64_t n;
    double *fv;  /* float dtypes */
    int64_t *iv; /* integer dtypes */
} fx_tensor;

typedef struct fx_case {
    char name[128];
    accel_op op;
    int32_t params[ACCEL_MAX_OP_PARAMS];
    fx_tensor src[ACCEL_MAX_SRC];
    fx_tensor out;
} fx_case;

typedef struct fx_reader {
    char *save;
    const char *file;
    bool error;
} fx_reader;

static const char *fx_next(fx_reader *r) {
    const char *tok = strtok_r(NULL, " \t\r\n", &r->save);
    if (!tok) r->error = true;
    return tok ? tok : "";
}

static int64_t fx_int(fx_reader *r) {
    const char *tok = fx_next(r);
    char *end;
    long long v = strtoll(tok, &end, 10);
    if (*tok == '\0' || *end != '\0') r->error = true;
    return v;
}

static bool fx_read_tensor(fx_reader *r, fx_tensor *t) {
    if (accel_dtype_from_name(fx_next(r), &t->dtype) != ACCEL_OK) return false;
    t->ndim = (int)fx_int(r);
    if (t->ndim < 0 || t->ndim > ACCEL_MAX_DIMS) return false;
    t->n = 1;
    for (int i = 0; i < t->ndim; i++) {
        t->shape[i] = fx_int(r);
        t->n *= t->shape[i];
    }
    if (r->error || t->n < 0 || t->n > (1 << 24)) return false;
    size_t count = (size_t)(t->n > 0 ? t->n : 1);
    if (is_float_dtype(t->dtype)) {
        t->fv = calloc(count, sizeof *t->fv);
        if (!t->fv) return false;
        for (int64_t i = 0; i < t->n; i++) {
            const char *tok = fx_next(r);
            char *end;
            t->fv[i] = strtod(tok, &end);
            if (*tok == '\0' || *end != '\0') return false;
        }
    } else {
        t->iv = calloc(count, sizeof *t->iv);
        if (!t->iv) return false;
        for (int64_t i = 0; i < t->n; i++) t->iv[i] = fx_int(r);
    }
    t->present = true;
    return !r->error;
}

static void fx_case_free(fx_case *c) {
    for (int i = 0; i < ACCEL_MAX_SRC; i++) free(c->src[i].fv), free(c->src[i].iv);
    free(c->out.fv), free(c->out.iv);
    memset(c, 0, sizeof *c);
}

static bool fx_op_from_name(const char *name, accel_op *op) {
    for (int i = 0; i < ACCEL_OP_COUNT; i++) {
        if (strcmp(accel_op_name((accel_op)i), name) == 0) {
            *op = (accel_op)i;
            return true;
        }
    }
    return false;
}

/* Parses the body of one case (after "case"); returns false on a malformed block. */
static bool fx_read_case(fx_reader *r, fx_case *c) {
    snprintf(c->name, sizeof c->name, "%s", fx_next(r));
    const char *kw;
    while (!r->error && strcmp(kw = fx_next(r), "end") != 0) {
        if (strcmp(kw, "op") == 0) {
            if (!fx_op_from_name(fx_next(r), &c->op)) return false;
        } else if (strcmp(kw, "params") == 0) {
            int64_t n = fx_int(r);
            if (n < 0 || n > ACCEL_MAX_OP_PARAMS) return false;
            for (int64_t i = 0; i < n; i++) {
                const char *tok = fx_next(r);
                char *end;
                if (tok[0] == 'f') {
                    float f = strtof(tok + 1, &end);
                    memcpy(&c->params[i], &f, sizeof f);
                } else {
                    c->params[i] = (int32_t)strtol(tok, &end, 10);
                }
                if (*end != '\0') return false;
            }
        } else if (strcmp(kw, "src") == 0) {
            int64_t slot = fx_int(r);
            if (slot < 0 || slot >= ACCEL_MAX_SRC || !fx_read_tensor(r, &c->src[slot])) return false;
        } else if (strcmp(kw, "out") == 0) {
            if (!fx_read_tensor(r, &c->out)) return false;
        } else {
            return false;
        }
    }
    return !r->error && c->out.present;
}

/* ---- building and checking one case ---------------------------------------------------------------------------- */
/* Lays src out in buf: contiguous, or (strided) with reversed dimension order and a one-element gap. Unused
 * bytes hold 0xff (NaN / -1), so reading a wrong slot shows up. Returns the buffer (caller frees). */
static void *fx_place(const fx_tensor *f, accel_tensor *t, bool strided) {
    memset(t, 0, sizeof *t);
    t->dtype = f->dtype;
    t->ndim = f->ndim;
    memcpy(t->shape, f->shape, sizeof t->shape);
    const int64_t es = (int64_t)accel_dtype_size(f->dtype);
    const int64_t n = f->n > 0 ? f->n : 1;
    if (strided) {
        int64_t s = 2 * es;
        for (int i = 0; i < f->ndim; i++) {
            t->stride[i] = s;
            s *= f->shape[i] > 0 ? f->shape[i] : 1;
        }
    } else {
        set_contiguous(t);
    }
    const size_t bytes = (size_t)(n * es * (strided ? 2 : 1));
    char *buf = malloc(bytes);
    if (!buf) return NULL;
    memset(buf, 0xff, bytes);
    t->data = buf;
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    for (int64_t k = 0; k < f->n; k++) {
        char *p = buf + ref_offset(t, idx);
        if (is_float_dtype(f->dtype)) put_float(p, f->dtype, f->fv[k]);
        else kt_store_int(p, f->dtype, f->iv[k]);
        ref_index_next(idx, t->shape, t->ndim);
    }
    return buf;
}

static double fx_rel_tolerance(accel_dtype d) {
    switch (d) {
    case ACCEL_F16: return 1.0 / 1024.0;
    case ACCEL_BF16: return 1.0 / 128.0;
    default: return 1e-6;
    }
}

/* Element k of a contiguous float output, as double. */
static double out_f64(const accel_tensor *dst, int64_t k) {
    return accel_load_f64(accel_tensor_ptr(dst) + k * (int64_t)accel_dtype_size(dst->dtype), dst->dtype);
}

/* Compares dst (contiguous) with the expected values; prints the worst element on failure. */
static bool fx_compare(const fx_case *c, const accel_tensor *dst, const char *layout) {
    const fx_tensor *e = &c->out;
    if (!is_float_dtype(e->dtype)) {
        for (int64_t k = 0; k < e->n; k++) {
            int64_t got = kt_load_int(accel_tensor_ptr(dst) + k * (int64_t)accel_dtype_size(dst->dtype), dst->dtype);
            if (got != e->iv[k]) {
                fprintf(stderr, "  FAIL %s [%s]: element %lld = %lld, expected %lld\n", c->name, layout,
                        (long long)k, (long long)got, (long long)e->iv[k]);
                return false;
            }
        }
        return true;
    }
    double maxabs = 0.0;
    for (int64_t k = 0; k < e->n; k++)
        if (isfinite(e->fv[k]) && fabs(e->fv[k]) > maxabs) maxabs = fabs(e->fv[k]);
    const double tol = fx_rel_tolerance(e->dtype) * maxabs;
    double worst = 0.0;
    int64_t worst_k = -1;
    for (int64_t k = 0; k < e->n; k++) {
        const double got = out_f64(dst, k);
        const double want = e->fv[k];
        bool ok;
        if (isnan(want)) ok = isnan(got);
        else if (isinf(want)) ok = got == want;
        else ok = isfinite(got) && fabs(got - want) <= tol;
        double err = isnan(got) || isinf(got) ? INFINITY : fabs(got - want);
        if (!ok && (worst_k < 0 || err > worst || isnan(want) || isinf(want))) {
            worst = err;
            worst_k = k;
        }
    }
    if (worst_k >= 0) {
        const double got = out_f64(dst, worst_k);
        fprintf(stderr, "  FAIL %s [%s]: element %lld = %.9g, expected %.9g (tolerance %.3g)\n", c->name, layout,
                (long long)worst_k, got, e->fv[worst_k], tol);
        return false;
    }
    return true;
}

/* Runs one case with the given source layout; returns true when it matches PyTorch. */
static bool fx_run(const fx_case *c, bool strided) {
    const char *layout = strided ? "strided" : "contiguous";
    accel_tensor srcs[ACCEL_MAX_SRC], dst;
    void *bufs[ACCEL_MAX_SRC] = {0};
    bool ok = true;
    memset(&dst, 0, sizeof dst);
    for (int i = 0; i < ACCEL_MAX_SRC && ok; i++) {
        if (!c->src[i].present) continue;
        bufs[i] = fx_place(&c->src[i], &srcs[i], strided);
        ok = bufs[i] != NULL;
        dst.src[i] = &srcs[i];
    }
    dst.dtype = c->out.dtype;
    dst.ndim = c->out.ndim;
    memcpy(dst.shape, c->out.shape, sizeof dst.shape);
    dst.op = c->op;
    memcpy(dst.params, c->params, sizeof dst.params);
    snprintf(dst.name, sizeof dst.name, "%.*s", (int)sizeof dst.name - 1, c->name);
    set_contiguous(&dst);
    size_t bytes = (size_t)(c->out.n > 0 ? c->out.n : 1) * accel_dtype_size(dst.dtype);
    dst.data = malloc(bytes);
    if (dst.data) memset(dst.data, 0xff, bytes); /* unwritten outputs read as NaN / -1 */
    ok = ok && dst.data;
    if (ok && c->op == ACCEL_OP_WRITE) { /* in place: the node's memory starts out holding dst (src0) */
        accel_tensor init;
        void *b = fx_place(&c->src[0], &init, false);
        ok = b != NULL;
        if (b) memcpy(dst.data, b, bytes);
        free(b);
        dst.view_src = &srcs[0];
    }

    if (ok && !dev_supports(&dst)) {
        fprintf(stderr, "  FAIL %s [%s]: supports_op refused a valid node\n", c->name, layout);
        ok = false;
    }
    if (ok) {
        accel_status st = dev_compute(&dst);
        if (st != ACCEL_OK) {
            fprintf(stderr, "  FAIL %s [%s]: compute returned %s: %s\n", c->name, layout, accel_status_name(st),
                    accel_last_error());
            ok = false;
        }
    }
    ok = ok && fx_compare(c, &dst, layout);
    for (int i = 0; i < ACCEL_MAX_SRC; i++) free(bufs[i]);
    free(dst.data);
    return ok;
}

/* ---- the fixture test ------------------------------------------------------------------------------------------ */
static const char *fixtures_dir(char *buf, size_t size) {
    const char *env = getenv("ACCEL_FIXTURES_DIR");
    if (env && *env) return env;
    /* __FILE__ is .../tests/unit/test_ref_ops.c: replace "unit/test_ref_ops.c" by "fixtures/ops" */
    const char *file = __FILE__;
    const char *tail = strstr(file, "unit/test_ref_ops.c");
    size_t keep = tail ? (size_t)(tail - file) : 0;
    snprintf(buf, size, "%.*sfixtures/ops", (int)keep, file);
    return buf;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1))) {
            if (fread(data, 1, (size_t)n, f) != (size_t)n) {
                free(data);
                data = NULL;
            } else {
                data[n] = '\0';
            }
        }
    }
    fclose(f);
    return data;
}

/* Blanks out '#' comment lines so the token stream only sees data. */
static void strip_comments(char *s) {
    bool line_start = true;
    bool in_comment = false;
    for (; *s; s++) {
        if (line_start && *s == '#') in_comment = true;
        if (*s == '\n') in_comment = false, line_start = true;
        else line_start = false;
        if (in_comment) *s = ' ';
    }
}

static int g_cases_per_op[ACCEL_OP_COUNT];

/* Loads and runs every case of one fixture file; returns the number of failed cases (or -1 if unreadable). */
static int run_fixture_file(const char *path, int *n_cases) {
    char *text = read_file(path);
    if (!text) return -1;
    strip_comments(text);
    fx_reader r = {.file = path};
    int failed = 0;
    *n_cases = 0;
    const char *tok = strtok_r(text, " \t\r\n", &r.save);
    while (tok) {
        if (strcmp(tok, "case") != 0) {
            fprintf(stderr, "  FAIL %s: expected 'case', got '%s'\n", path, tok);
            failed++;
            break;
        }
        fx_case c;
        memset(&c, 0, sizeof c);
        if (!fx_read_case(&r, &c)) {
            fprintf(stderr, "  FAIL %s: malformed case '%s'\n", path, c.name);
            fx_case_free(&c);
            failed++;
            break;
        }
        (*n_cases)++;
        g_cases_per_op[c.op]++;
        const bool ok_contig = fx_run(&c, false);
        const bool ok_strided = fx_run(&c, true);
        if (!ok_contig || !ok_strided) failed++;
        fx_case_free(&c);
        tok = strtok_r(NULL, " \t\r\n", &r.save);
    }
    free(text);
    return failed;
}

static void test_pytorch_fixtures(void) {
    char buf[4096];
    const char *dir = fixtures_dir(buf, sizeof buf);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "  cannot open fixture directory %s (set ACCEL_FIXTURES_DIR)\n", dir);
        CHECK(d != NULL);
        return;
    }
    char *names[256];
    int n_files = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n_files < 256) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".txt") == 0) names[n_files++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n_files, sizeof names[0], cmp_str);
    CHECK(n_files > 0);

    int total = 0;
    for (int i = 0; i < n_files; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int n_cases = 0;
        int failed = run_fixture_file(path, &n_cases);
        printf("     %-18s %3d cases x 2 layouts: %s\n", names[i], n_cases,
               failed == 0 ? "all match PyTorch" : failed < 0 ? "unreadable" : "FAILURES");
        CHECK_INT_EQ(failed, 0);
        total += n_cases;
        free(names[i]);
    }
    /* every compute op has at least one PyTorch case, so the suite cannot pass by skipping one */
    for (int op = ACCEL_OP_CPY; op < ACCEL_OP_COUNT; op++) {
        if (g_cases_per_op[op] == 0) fprintf(stderr, "  no fixture case for op %s\n", accel_op_name((accel_op)op));
        CHECK(g_cases_per_op[op] > 0);
    }
    CHECK(total >= 200);
}

/* ---- fixture-free checks ----------------------------------------------------------------------------------------- */
static void tensor_init(accel_tensor *t, accel_dtype dt, int nd, const int64_t *shape, void *data) {
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = nd;
    for (int i = 0; i < nd; i++) t->shape[i] = shape[i];
    set_contiguous(t);
    t->data = data;
}

static bool is_host_true(accel_buffer_type *bt) { return true; }
static bool is_host_false(accel_buffer_type *bt) { return false; }

static void test_device_identity(void) {
    accel_device *dev = ref_device();
    CHECK(dev != NULL);
    if (!dev) return;
    CHECK_STR_EQ(dev->iface.name(dev), "ref");
    CHECK_STR_EQ(dev->iface.description(dev), "scalar reference (double accumulation)");
    CHECK_INT_EQ(dev->priority, -1);
    CHECK_INT_EQ(dev->iface.type(dev), ACCEL_DEVICE_CPU);
    accel_buffer_type host = {.iface = {.is_host = is_host_true}}, dev_mem = {.iface = {.is_host = is_host_false}};
    CHECK(dev->iface.supports_buft(dev, &host));
    CHECK(!dev->iface.supports_buft(dev, &dev_mem));
    CHECK(!dev->iface.supports_buft(dev, NULL));
}

static void test_supports_refusals(void) {
    const int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s22[2] = {2, 2}, s4[1] = {4}, s3[1] = {3};
    accel_tensor a, b, dst;
    /* matmul on the reserved block-quantized dtypes */
    tensor_init(&a, ACCEL_F32, 2, s23, NULL);
    tensor_init(&b, ACCEL_Q8_0, 2, s32, NULL);
    tensor_init(&dst, ACCEL_F32, 2, s22, NULL);
    dst.op = ACCEL_OP_MATMUL, dst.src[0] = &a, dst.src[1] = &b;
    CHECK(!dev_supports(&dst));
    b.dtype = ACCEL_Q4_0;
    CHECK(!dev_supports(&dst));
    b.dtype = ACCEL_F32;
    CHECK(dev_supports(&dst)); /* the same node in f32 is fine */
    b.shape[0] = 4;            /* K mismatch */
    CHECK(!dev_supports(&dst));
    b.shape[0] = 3;
    dst.dtype = ACCEL_F16; /* output must have a's dtype */
    CHECK(!dev_supports(&dst));

    /* cpy: all 36 plain pairs are supported, quantized ones are not */
    const accel_dtype plain[] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I8, ACCEL_I32, ACCEL_I64};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            tensor_init(&a, plain[i], 2, s23, NULL);
            tensor_init(&dst, plain[j], 2, s23, NULL);
            dst.op = ACCEL_OP_CPY, dst.src[0] = &a;
            CHECK(dev_supports(&dst));
        }
    a.dtype = ACCEL_Q8_0;
    CHECK(!dev_supports(&dst));

    /* binary: float only, b must broadcast to a */
    tensor_init(&a, ACCEL_F16, 2, s23, NULL);
    tensor_init(&b, ACCEL_BF16, 1, s3, NULL);
    tensor_init(&dst, ACCEL_F16, 2, s23, NULL);
    dst.op = ACCEL_OP_ADD, dst.src[0] = &a, dst.src[1] = &b;
    CHECK(dev_supports(&dst));
    b.shape[0] = 4;
    CHECK(!dev_supports(&dst));
    b.shape[0] = 3, b.dtype = ACCEL_I32;
    CHECK(!dev_supports(&dst));

    /* get_rows: any plain table, but not a quantized one; ids must be i32/i64 */
    tensor_init(&a, ACCEL_Q8_0, 2, s23, NULL);
    tensor_init(&b, ACCEL_I32, 1, s4, NULL);
    const int64_t s43[2] = {4, 3};
    tensor_init(&dst, ACCEL_Q8_0, 2, s43, NULL);
    dst.op = ACCEL_OP_GET_ROWS, dst.src[0] = &a, dst.src[1] = &b;
    CHECK(!dev_supports(&dst));
    a.dtype = dst.dtype = ACCEL_I8;
    CHECK(dev_supports(&dst));
    b.dtype = ACCEL_F32;
    CHECK(!dev_supports(&dst));

    /* softmax of integers; argmax writing f32; top_k with k > N */
    tensor_init(&a, ACCEL_I32, 2, s23, NULL);
    tensor_init(&dst, ACCEL_I32, 2, s23, NULL);
    dst.op = ACCEL_OP_SOFTMAX, dst.src[0] = &a;
    CHECK(!dev_supports(&dst));
    const int64_t s21[2] = {2, 1};
    tensor_init(&a, ACCEL_F32, 2, s23, NULL);
    tensor_init(&dst, ACCEL_F32, 2, s21, NULL);
    dst.op = ACCEL_OP_ARGMAX, dst.src[0] = &a, dst.params[0] = 1;
    CHECK(!dev_supports(&dst));
    dst.dtype = ACCEL_I32;
    CHECK(dev_supports(&dst));
    const int64_t s24[2] = {2, 4};
    tensor_init(&dst, ACCEL_F32, 2, s24, NULL);
    dst.op = ACCEL_OP_TOP_K, dst.src[0] = &a, dst.params[0] = 4;
    CHECK(!dev_supports(&dst));

    /* conv with groups that do not divide the channels; pooling with padding > kernel/2 */
    const int64_t xs[3] = {1, 3, 8}, ws[3] = {4, 1, 3}, ys[3] = {1, 4, 6};
    tensor_init(&a, ACCEL_F32, 3, xs, NULL);
    tensor_init(&b, ACCEL_F32, 3, ws, NULL);
    tensor_init(&dst, ACCEL_F32, 3, ys, NULL);
    dst.op = ACCEL_OP_CONV1D, dst.src[0] = &a, dst.src[1] = &b;
    dst.params[0] = 1, dst.params[1] = 0, dst.params[2] = 1, dst.params[3] = 2;
    CHECK(!dev_supports(&dst));
    const int64_t ps[3] = {1, 3, 9};
    tensor_init(&dst, ACCEL_F32, 3, ps, NULL);
    dst.op = ACCEL_OP_POOL1D, dst.src[0] = &a;
    dst.params[0] = ACCEL_POOL_MAX, dst.params[1] = 2, dst.params[2] = 1, dst.params[3] = 2, dst.params[4] = 1;
    CHECK(!dev_supports(&dst));

    /* nearest with align_corners (PyTorch rejects it); odd n_rot */
    const int64_t is[4] = {1, 1, 2, 2}, os[4] = {1, 1, 4, 4};
    tensor_init(&a, ACCEL_F32, 4, is, NULL);
    tensor_init(&dst, ACCEL_F32, 4, os, NULL);
    dst.op = ACCEL_OP_INTERPOLATE, dst.src[0] = &a, dst.params[0] = ACCEL_INTERP_NEAREST, dst.params[1] = 1;
    CHECK(!dev_supports(&dst));
    dst.params[1] = 0;
    CHECK(dev_supports(&dst));
    const int64_t rs[4] = {1, 2, 1, 6}, pos_s[1] = {2};
    tensor_init(&a, ACCEL_F32, 4, rs, NULL);
    tensor_init(&b, ACCEL_I32, 1, pos_s, NULL);
    tensor_init(&dst, ACCEL_F32, 4, rs, NULL);
    dst.op = ACCEL_OP_ROPE, dst.src[0] = &a, dst.src[1] = &b, dst.params[0] = ACCEL_ROPE_HALF, dst.params[1] = 3;
    CHECK(!dev_supports(&dst));
    dst.params[1] = 6;
    CHECK(dev_supports(&dst));

    /* leaves, views and unknown op codes are not compute nodes */
    tensor_init(&dst, ACCEL_F32, 2, s23, NULL);
    dst.op = ACCEL_OP_NONE;
    CHECK(!dev_supports(&dst));
    dst.op = ACCEL_OP_VIEW;
    CHECK(!dev_supports(&dst));
    dst.op = ACCEL_OP_COUNT;
    CHECK(!dev_supports(&dst));
}

static void test_get_rows_out_of_range(void) {
    float table[10 * 2];
    for (int i = 0; i < 20; i++) table[i] = (float)i;
    int32_t ids[3] = {1, 10, 2};
    float out[3 * 2];
    for (int i = 0; i < 6; i++) out[i] = -7.0f;
    const int64_t ts[2] = {10, 2}, is[1] = {3}, os[2] = {3, 2};
    accel_tensor t, idt, dst;
    tensor_init(&t, ACCEL_F32, 2, ts, table);
    tensor_init(&idt, ACCEL_I32, 1, is, ids);
    tensor_init(&dst, ACCEL_F32, 2, os, out);
    dst.op = ACCEL_OP_GET_ROWS, dst.src[0] = &t, dst.src[1] = &idt;
    CHECK(dev_supports(&dst));
    accel_clear_error();
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "id 10") != NULL);
    CHECK(out[0] == -7.0f); /* nothing written */
    ids[1] = -1;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "id -1") != NULL);
    ids[1] = 9;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    CHECK(out[0] == 2.0f && out[1] == 3.0f && out[2] == 18.0f && out[3] == 19.0f && out[5] == 5.0f);
}

/* Float -> int truncates toward zero and saturates (NaN -> 0); integer narrowing saturates too. */
static void test_cpy_saturation(void) {
    float src[8] = {300.0f, -300.0f, 1e10f, -1e10f, NAN, 2.9f, -2.9f, INFINITY};
    int8_t o8[8];
    int32_t o32[8];
    const int64_t s8[1] = {8};
    accel_tensor a, dst;
    tensor_init(&a, ACCEL_F32, 1, s8, src);
    tensor_init(&dst, ACCEL_I8, 1, s8, o8);
    dst.op = ACCEL_OP_CPY, dst.src[0] = &a;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    const int8_t want8[8] = {127, -128, 127, -128, 0, 2, -2, 127};
    for (int i = 0; i < 8; i++) CHECK_INT_EQ(o8[i], want8[i]);
    tensor_init(&dst, ACCEL_I32, 1, s8, o32);
    dst.op = ACCEL_OP_CPY, dst.src[0] = &a;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    const int32_t want32[8] = {300, -300, INT32_MAX, INT32_MIN, 0, 2, -2, INT32_MAX};
    for (int i = 0; i < 8; i++) CHECK_INT_EQ(o32[i], want32[i]);

    int64_t big[3] = {INT64_MAX, INT64_MIN, ((int64_t)1 << 62) + 1};
    int32_t n32[3];
    int64_t n64[3];
    const int64_t s3[1] = {3};
    tensor_init(&a, ACCEL_I64, 1, s3, big);
    tensor_init(&dst, ACCEL_I32, 1, s3, n32);
    dst.op = ACCEL_OP_CPY, dst.src[0] = &a;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    CHECK_INT_EQ(n32[0], INT32_MAX);
    CHECK_INT_EQ(n32[1], INT32_MIN);
    tensor_init(&dst, ACCEL_I64, 1, s3, n64);
    dst.op = ACCEL_OP_CPY, dst.src[0] = &a;
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    CHECK(n64[0] == INT64_MAX && n64[1] == INT64_MIN && n64[2] == ((int64_t)1 << 62) + 1); /* not via double */
}

/* An expanded view (stride 0 on a dim of size > 1) reads the same element repeatedly. */
static void test_zero_stride_broadcast(void) {
    float av[12], bv[4] = {1.0f, -2.0f, 0.5f, 8.0f}, out[12];
    for (int i = 0; i < 12; i++) av[i] = (float)i * 0.25f;
    const int64_t s34[2] = {3, 4};
    accel_tensor a, b, dst;
    tensor_init(&a, ACCEL_F32, 2, s34, av);
    tensor_init(&b, ACCEL_F32, 2, s34, bv);
    b.stride[0] = 0; /* [4] expanded to [3, 4] */
    tensor_init(&dst, ACCEL_F32, 2, s34, out);
    dst.op = ACCEL_OP_MUL, dst.src[0] = &a, dst.src[1] = &b;
    CHECK(dev_supports(&dst));
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    for (int i = 0; i < 12; i++) CHECK(out[i] == av[i] * bv[i % 4]);
}

/* A row that is entirely -inf gives zeros (documented), and the other rows still sum to one. */
static void test_softmax_dead_row(void) {
    float x[6] = {-INFINITY, -INFINITY, -INFINITY, 1.0f, 2.0f, 3.0f}, out[6];
    const int64_t s23[2] = {2, 3};
    accel_tensor a, dst;
    tensor_init(&a, ACCEL_F32, 2, s23, x);
    tensor_init(&dst, ACCEL_F32, 2, s23, out);
    dst.op = ACCEL_OP_SOFTMAX, dst.src[0] = &a;
    accel_param_set_f32(&dst, 0, 1.0f);
    CHECK_INT_EQ(dev_compute(&dst), ACCEL_OK);
    CHECK(out[0] == 0.0f && out[1] == 0.0f && out[2] == 0.0f);
    CHECK(fabs((double)out[3] + out[4] + out[5] - 1.0) < 1e-6);
    CHECK(out[5] > out[4] && out[4] > out[3]);
}

int main(void) {
    RUN(test_device_identity);
    RUN(test_supports_refusals);
    RUN(test_get_rows_out_of_range);
    RUN(test_cpy_saturation);
    RUN(test_zero_stride_broadcast);
    RUN(test_softmax_dead_row);
    RUN(test_pytorch_fixtures);
    return test_summary();
}
