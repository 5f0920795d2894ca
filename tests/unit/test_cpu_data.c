/* CPU data-movement, pooling, reduction and interpolation kernels (GET_ROWS, CONCAT, PAD, POOL1D, POOL2D, SUM,
 * MEAN, MAX, ARGMAX, CUMSUM, TOP_K, TOP_K_INDICES, INTERPOLATE) against plain double-precision computations
 * written here, at every ISA level this machine has and with 1 and 3 threads.
 *
 * Nodes are built by hand (accel_tensor structs over malloc'ed memory, sources often non-contiguous: permuted
 * storage, gaps between elements, zero strides) and computed through the op table of cpu_register_data.
 *
 * Limits: copies (get_rows, concat, pad), integer results, argmax, top-k indices and max / max-pool values must be
 * exact. Float results are compared by normalized MSE (sum (out - ref)^2 / sum ref^2) against the double result:
 * f32 1e-12 (sums are accumulated in double, so only the final rounding counts; interpolation and average
 * pooling 1e-10), f16 2e-6, bf16 5e-5 (the final rounding alone gives ~1e-7 and ~5e-6).
 */
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_kernels.h"
#include "core/tensor.h"
#include "kernel_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const accel_dtype k_all_dtypes[] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I8, ACCEL_I32, ACCEL_I64};
static const accel_dtype k_float_dtypes[] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};

static bool is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

/* A random value suited to the dtype: floats uniform in [-amp, amp], integers in a range that overflows nothing
 * but exercises sign and magnitude. */
static double rand_value(accel_dtype dt, double amp) {
    switch (dt) {
    case ACCEL_I8: return floor(kt_urand() * 256.0) - 128.0;
    case ACCEL_I32: return floor((kt_urand() * 2.0 - 1.0) * 2.0e9);
    case ACCEL_I64: return floor((kt_urand() * 2.0 - 1.0) * 4.0e15);
    default: return kt_uniform(dt, amp);
    }
}

static accel_tensor *tnew(accel_dtype dt, int nd, const int64_t *shape, const int *order, int gap, double amp) {
    return kt_tnew(dt, nd, shape, order, gap, rand_value, amp);
}
static accel_tensor *node_new(accel_op op, accel_dtype dt, int nd, const int64_t *shape) {
    return kt_node_new(op, dt, nd, shape, rand_value);
}

/* Expected output: either exact bytes (copies, integers) or doubles with an NMSE limit. */
typedef struct expect {
    const void *bytes; /* exact contents of dst, or NULL */
    const double *vals;
    double limit;
    int64_t n;
} expect;

static cpu_op_entry g_ops[ACCEL_OP_COUNT];
static cpu_isa g_max_isa;

static void check_result(const accel_tensor *dst, const char *label, void *user) {
    const expect *e = user;
    if (e->bytes) {
        const size_t nb = (size_t)e->n * accel_dtype_size(dst->dtype);
        int64_t first_bad = -1;
        const size_t es = accel_dtype_size(dst->dtype);
        for (int64_t i = 0; i < e->n && first_bad < 0; i++)
            if (memcmp((const char *)dst->data + (size_t)i * es, (const char *)e->bytes + (size_t)i * es, es))
                first_bad = i;
        CHECK(first_bad < 0, "%s: element %lld differs (of %zu bytes)", label, (long long)first_bad, nb);
    } else {
        const double err = kt_nmse(dst, e->vals, e->n, true);
        CHECK(err <= e->limit, "%s: nmse %.3g > %.3g", label, err, e->limit);
    }
}

/* Runs dst's kernel at every ISA level and thread count and checks each result. */
static void run_all(accel_tensor *dst, const expect *e, const char *name) {
    kt_run_all(g_ops, g_max_isa, dst, check_result, (void *)e, name);
}

/* Expected bytes of an output of dtype dt from doubles, each stored as the dtype stores it. */
static void *bytes_of(accel_dtype dt, const double *v, int64_t n) {
    const size_t es = accel_dtype_size(dt);
    char *b = malloc((size_t)n * es + 1);
    for (int64_t i = 0; i < n; i++) accel_store_f64(b + (size_t)i * es, dt, v[i]);
    return b;
}

static const int k_perm_rev3[3] = {2, 1, 0};
static const int k_perm_4[4] = {3, 1, 0, 2};

/* ================================================================================================================
 * GET_ROWS
 * ================================================================================================================ */
static void test_get_rows(void) {
    for (size_t di = 0; di < sizeof k_all_dtypes / sizeof k_all_dtypes[0]; di++) {
        const accel_dtype dt = k_all_dtypes[di];
        for (int idt = 0; idt < 2; idt++) {
            for (int transposed = 0; transposed < 2; transposed++) {
                const int64_t V = 11, D = 7;
                static const int tr[2] = {1, 0};
                accel_tensor *table = tnew(dt, 2, (int64_t[]){V, D}, transposed ? tr : NULL, transposed, 100.0);
                accel_tensor *ids = tnew(idt ? ACCEL_I64 : ACCEL_I32, 2, (int64_t[]){2, 3}, k_perm_rev3 + 1, 1, 0.0);
                int64_t idx[2] = {0, 0};
                do kt_tset_int(ids, idx, (int64_t)(kt_urand() * V));
                while (kt_next_index(idx, ids->shape, 2));
                kt_tset_int(ids, (int64_t[]){1, 2}, V - 1);
                accel_tensor *dst = node_new(ACCEL_OP_GET_ROWS, dt, 3, (int64_t[]){2, 3, D});
                dst->src[0] = table, dst->src[1] = ids;
                const size_t es = accel_dtype_size(dt);
                char *want = malloc((size_t)(6 * D) * es);
                for (int64_t i = 0; i < 2; i++)
                    for (int64_t j = 0; j < 3; j++) {
                        const int64_t id = kt_tget_int(ids, (int64_t[]){i, j});
                        for (int64_t d = 0; d < D; d++)
                            memcpy(want + (size_t)((i * 3 + j) * D + d) * es,
                                   (char *)table->data + kt_toff(table, (int64_t[]){id, d}), es);
                    }
                expect e = {want, NULL, 0, 6 * D};
                char name[128];
                snprintf(name, sizeof name, "get_rows %s ids %s%s", accel_dtype_name(dt), idt ? "i64" : "i32",
                         transposed ? " transposed table" : "");
                run_all(dst, &e, name);
                free(want);
                kt_tfree(table), kt_tfree(ids), kt_tfree(dst);
            }
        }
    }
    /* out-of-range ids fail with INVALID_ARG naming the id, and write nothing */
    const int64_t bad_ids[2] = {40000, -1};
    for (int b = 0; b < 2; b++) {
        accel_tensor *table = tnew(ACCEL_F32, 2, (int64_t[]){32000, 4}, NULL, 0, 1.0);
        accel_tensor *ids = tnew(ACCEL_I64, 1, (int64_t[]){3}, NULL, 0, 0.0);
        kt_tset_int(ids, (int64_t[]){0}, 5);
        kt_tset_int(ids, (int64_t[]){1}, bad_ids[b]);
        kt_tset_int(ids, (int64_t[]){2}, 7);
        accel_tensor *dst = node_new(ACCEL_OP_GET_ROWS, ACCEL_F32, 2, (int64_t[]){3, 4});
        dst->src[0] = table, dst->src[1] = ids;
        cpu_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        accel_threadpool_new(2, &ctx.pool);
        accel_clear_error();
        const accel_status st = g_ops[ACCEL_OP_GET_ROWS].compute(&ctx, dst);
        char idtext[32];
        snprintf(idtext, sizeof idtext, "%lld", (long long)bad_ids[b]);
        CHECK(st == ACCEL_ERR_INVALID_ARG, "get_rows: id %s gave status %d", idtext, (int)st);
        CHECK(strstr(accel_last_error(), idtext) != NULL, "get_rows: message '%s' does not name id %s",
              accel_last_error(), idtext);
        const uint32_t *w = dst->data;
        CHECK(w[0] == 0xffffffffu, "get_rows: wrote output before failing");
        accel_threadpool_free(ctx.pool);
        free(ctx.scratch);
        kt_tfree(table), kt_tfree(ids), kt_tfree(dst);
    }
}

/* ================================================================================================================
 * CONCAT and PAD
 * ================================================================================================================ */
static void test_concat(void) {
    for (size_t di = 0; di < sizeof k_all_dtypes / sizeof k_all_dtypes[0]; di++) {
        const accel_dtype dt = k_all_dtypes[di];
        for (int dim = 0; dim < 3; dim++) {
            int64_t sa[3] = {3, 4, 5}, sb[3] = {3, 4, 5}, so[3] = {3, 4, 5};
            sb[dim] = dim == 1 ? 1 : 2;
            so[dim] = sa[dim] + sb[dim];
            accel_tensor *a = tnew(dt, 3, sa, k_perm_rev3, 0, 50.0);
            accel_tensor *b = tnew(dt, 3, sb, NULL, dim == 2 ? 2 : 0, 50.0);
            accel_tensor *dst = node_new(ACCEL_OP_CONCAT, dt, 3, so);
            dst->src[0] = a, dst->src[1] = b;
            dst->params[0] = dim;
            const size_t es = accel_dtype_size(dt);
            char *want = malloc((size_t)accel_nelements(dst) * es);
            int64_t idx[3] = {0, 0, 0}, n = 0;
            do {
                int64_t si[3] = {idx[0], idx[1], idx[2]};
                const accel_tensor *s = a;
                if (idx[dim] >= sa[dim]) s = b, si[dim] -= sa[dim];
                memcpy(want + (size_t)(n++) * es, (char *)s->data + kt_toff(s, si), es);
            } while (kt_next_index(idx, so, 3));
            expect e = {want, NULL, 0, n};
            char name[96];
            snprintf(name, sizeof name, "concat %s dim %d", accel_dtype_name(dt), dim);
            run_all(dst, &e, name);
            free(want);
            kt_tfree(a), kt_tfree(b), kt_tfree(dst);
        }
    }
}

static void test_pad(void) {
    const float values[3] = {0.0f, 2.75f, -1e10f};
    for (size_t di = 0; di < sizeof k_all_dtypes / sizeof k_all_dtypes[0]; di++) {
        const accel_dtype dt = k_all_dtypes[di];
        for (int vi = 0; vi < 3; vi++) {
            const int64_t sa[4] = {2, 3, 1, 5};
            const int32_t pads[8] = {0, 1, 2, 0, 1, 1, 3, 2};
            int64_t so[4];
            for (int i = 0; i < 4; i++) so[i] = sa[i] + pads[2 * i] + pads[2 * i + 1];
            accel_tensor *a = tnew(dt, 4, sa, k_perm_4, vi == 1, 50.0);
            accel_tensor *dst = node_new(ACCEL_OP_PAD, dt, 4, so);
            dst->src[0] = a;
            memcpy(dst->params, pads, sizeof pads);
            accel_param_set_f32(dst, 12, values[vi]);
            const size_t es = accel_dtype_size(dt);
            char *want = malloc((size_t)accel_nelements(dst) * es);
            int64_t idx[4] = {0, 0, 0, 0}, n = 0;
            do {
                int64_t si[4];
                bool inside = true;
                for (int i = 0; i < 4; i++) {
                    si[i] = idx[i] - pads[2 * i];
                    inside = inside && si[i] >= 0 && si[i] < sa[i];
                }
                char *w = want + (size_t)(n++) * es;
                if (inside) memcpy(w, (char *)a->data + kt_toff(a, si), es);
                else accel_store_f64(w, dt, values[vi]); /* the value as the dtype stores it */
            } while (kt_next_index(idx, so, 4));
            expect e = {want, NULL, 0, n};
            char name[96];
            snprintf(name, sizeof name, "pad %s value %g", accel_dtype_name(dt), values[vi]);
            run_all(dst, &e, name);
            free(want);
            kt_tfree(a), kt_tfree(dst);
        }
    }
    /* the integer fill value is truncated toward zero and saturated */
    char b8[1], b32[4];
    accel_store_f64(b8, ACCEL_I8, -1e10);
    accel_store_f64(b32, ACCEL_I32, 2.75);
    int32_t v32;
    memcpy(&v32, b32, 4);
    CHECK(b8[0] == -128 && v32 == 2, "pad fill conversion: i8 %d, i32 %d", b8[0], v32);
}

/* ================================================================================================================
 * POOL1D / POOL2D
 * ================================================================================================================ */
typedef struct pool_case {
    int nsp, kind, k[2], s[2], p[2], cip;
    int64_t N, C, H, W;
    accel_dtype dt;
    bool strided, nan;
} pool_case;

static int64_t pool_out(int64_t in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

static void test_pool_case(const pool_case *c) {
    const int nd = 2 + c->nsp;
    const int64_t xs4[4] = {c->N, c->C, c->H, c->W};
    int64_t xs[4], os[4];
    if (c->nsp == 1) {
        xs[0] = c->N, xs[1] = c->C, xs[2] = c->W;
        os[0] = c->N, os[1] = c->C, os[2] = pool_out(c->W, c->k[0], c->s[0], c->p[0]);
    } else {
        memcpy(xs, xs4, sizeof xs);
        os[0] = c->N, os[1] = c->C, os[2] = pool_out(c->H, c->k[0], c->s[0], c->p[0]);
        os[3] = pool_out(c->W, c->k[1], c->s[1], c->p[1]);
    }
    static const int order3[3] = {2, 0, 1}, order4[4] = {0, 2, 3, 1}; /* channels-last storage */
    accel_tensor *x = tnew(c->dt, nd, xs, c->strided ? (nd == 3 ? order3 : order4) : NULL, c->strided, 3.0);
    if (c->nan) kt_tset(x, (int64_t[]){0, 0, 1, 1}, NAN);
    accel_tensor *dst = node_new(c->nsp == 1 ? ACCEL_OP_POOL1D : ACCEL_OP_POOL2D, c->dt, nd, os);
    dst->src[0] = x;
    dst->params[0] = c->kind;
    if (c->nsp == 1) {
        dst->params[1] = c->k[0], dst->params[2] = c->s[0], dst->params[3] = c->p[0], dst->params[4] = c->cip;
    } else {
        dst->params[1] = c->k[0], dst->params[2] = c->k[1], dst->params[3] = c->s[0], dst->params[4] = c->s[1];
        dst->params[5] = c->p[0], dst->params[6] = c->p[1], dst->params[7] = c->cip;
    }
    /* plain reference over a 4-d view (1-d: height 1) */
    const int kh = c->nsp == 1 ? 1 : c->k[0], kw = c->nsp == 1 ? c->k[0] : c->k[1];
    const int sh = c->nsp == 1 ? 1 : c->s[0], sw = c->nsp == 1 ? c->s[0] : c->s[1];
    const int ph = c->nsp == 1 ? 0 : c->p[0], pw = c->nsp == 1 ? c->p[0] : c->p[1];
    const int64_t H = c->nsp == 1 ? 1 : c->H, OH = c->nsp == 1 ? 1 : os[2], OW = os[nd - 1];
    const int64_t n_out = accel_nelements(dst);
    double *want = malloc((size_t)n_out * sizeof(double));
    int64_t w = 0;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t ch = 0; ch < c->C; ch++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = c->kind == ACCEL_POOL_MAX ? -INFINITY : 0.0;
                    int64_t valid = 0, padded = 0;
                    bool nan = false;
                    for (int a = 0; a < kh; a++)
                        for (int b = 0; b < kw; b++) {
                            const int64_t iy = oy * sh - ph + a, ix = ox * sw - pw + b;
                            if (iy < -ph || iy >= H + ph || ix < -pw || ix >= c->W + pw) continue;
                            padded++;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= c->W) continue;
                            valid++;
                            const double v = c->nsp == 1 ? kt_tget(x, (int64_t[]){n, ch, ix}) : kt_tget(x, (int64_t[]){n, ch, iy, ix});
                            if (v != v) nan = true;
                            if (c->kind == ACCEL_POOL_MAX) acc = v > acc ? v : acc;
                            else acc += v;
                        }
                    if (c->kind == ACCEL_POOL_AVG) acc /= (double)(c->cip ? padded : valid);
                    want[w++] = nan ? NAN : acc;
                }
    expect e;
    void *bytes = NULL;
    if (c->kind == ACCEL_POOL_MAX) { /* max picks an input value: exact (NaN too) */
        bytes = bytes_of(c->dt, want, n_out);
        e = (expect){bytes, NULL, 0, n_out};
    } else {
        e = (expect){NULL, want, kt_nmse_limit(c->dt, 1e-10), n_out};
    }
    char name[160];
    snprintf(name, sizeof name, "pool%dd %s %s k%dx%d s%dx%d p%dx%d cip=%d%s%s", c->nsp,
             c->kind == ACCEL_POOL_MAX ? "max" : "avg", accel_dtype_name(c->dt), kh, kw, sh, sw, ph, pw, c->cip,
             c->strided ? " strided" : "", c->nan ? " nan" : "");
    run_all(dst, &e, name);
    free(bytes);
    free(want);
    kt_tfree(x), kt_tfree(dst);
}

static void test_pool(void) {
    const pool_case cases[] = {
        {2, ACCEL_POOL_MAX, {3, 3}, {2, 2}, {1, 1}, 1, 2, 3, 13, 12, ACCEL_F32, false, false},
        {2, ACCEL_POOL_MAX, {2, 3}, {1, 2}, {1, 1}, 1, 1, 4, 7, 9, ACCEL_F16, true, false},
        {2, ACCEL_POOL_AVG, {3, 3}, {2, 2}, {1, 1}, 1, 2, 3, 13, 12, ACCEL_F32, true, false},
        {2, ACCEL_POOL_AVG, {3, 3}, {2, 2}, {1, 1}, 0, 2, 3, 13, 12, ACCEL_F32, false, false},
        {2, ACCEL_POOL_AVG, {4, 2}, {3, 1}, {2, 1}, 1, 1, 2, 11, 6, ACCEL_BF16, true, false},
        {2, ACCEL_POOL_AVG, {7, 7}, {7, 7}, {0, 0}, 1, 2, 5, 7, 7, ACCEL_F32, false, false},
        {2, ACCEL_POOL_MAX, {3, 3}, {2, 2}, {1, 1}, 1, 1, 2, 6, 6, ACCEL_F32, false, true},
        {2, ACCEL_POOL_MAX, {1, 2}, {1, 1}, {0, 1}, 1, 1, 1, 1, 300, ACCEL_F32, false, false},
        {1, ACCEL_POOL_MAX, {3, 0}, {2, 0}, {1, 0}, 1, 2, 3, 0, 17, ACCEL_F32, true, false},
        {1, ACCEL_POOL_AVG, {4, 0}, {3, 0}, {2, 0}, 0, 2, 3, 0, 17, ACCEL_F16, false, false},
        {1, ACCEL_POOL_AVG, {4, 0}, {3, 0}, {2, 0}, 1, 2, 3, 0, 17, ACCEL_F32, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_pool_case(&cases[i]);
}

/* ================================================================================================================
 * SUM / MEAN / MAX / ARGMAX / CUMSUM
 * ================================================================================================================ */
static void test_reduce_one(accel_op op, accel_dtype dt, int nd, const int64_t *shape, int dim, const int *order,
                            int gap) {
    accel_tensor *a = tnew(dt, nd, shape, order, gap, 4.0);
    if (op == ACCEL_OP_ARGMAX || op == ACCEL_OP_MAX) { /* ties: the first maximum must win */
        if (is_float(dt) && accel_nelements(a) > 4) {
            int64_t i0[ACCEL_MAX_DIMS] = {0}, i1[ACCEL_MAX_DIMS] = {0};
            i1[dim] = shape[dim] > 1 ? 1 : 0;
            kt_tset(a, i0, 9.0);
            kt_tset(a, i1, 9.0);
        }
    }
    const bool cumsum = op == ACCEL_OP_CUMSUM;
    int64_t os[ACCEL_MAX_DIMS];
    memcpy(os, shape, sizeof(int64_t) * (size_t)nd);
    if (!cumsum) os[dim] = 1;
    const accel_dtype odt = op == ACCEL_OP_ARGMAX ? ACCEL_I32 : dt;
    accel_tensor *dst = node_new(op, odt, nd, os);
    dst->src[0] = a;
    dst->params[0] = dim;
    const int64_t n_out = accel_nelements(dst), R = shape[dim];
    double *want = malloc((size_t)(n_out + 1) * sizeof(double));
    int64_t *iwant = malloc((size_t)(n_out + 1) * sizeof(int64_t));
    const bool ints = !is_float(dt);
    /* one line along dim per index of the shape with dim collapsed */
    int64_t lshape[ACCEL_MAX_DIMS], idx[ACCEL_MAX_DIMS] = {0};
    memcpy(lshape, shape, sizeof(int64_t) * (size_t)nd);
    lshape[dim] = 1;
    if (n_out > 0) do {
            int64_t at[ACCEL_MAX_DIMS];
            memcpy(at, idx, sizeof at);
            double fsum = 0, fmax = -INFINITY;
            uint64_t isum = 0;
            int64_t imax = INT64_MIN, arg = 0;
            bool nan = false;
            for (int64_t r = 0; r < R; r++) {
                at[dim] = r;
                if (ints) {
                    const int64_t v = kt_tget_int(a, at);
                    isum += (uint64_t)v;
                    if (v > imax) imax = v, arg = r;
                } else {
                    const double v = kt_tget(a, at);
                    fsum += v;
                    if (!nan && (v != v || v > fmax)) fmax = v, arg = r, nan = v != v;
                }
                if (cumsum) { /* dst has a's shape: the flat index of at */
                    int64_t flat = 0;
                    for (int i = 0; i < nd; i++) flat = flat * shape[i] + at[i];
                    iwant[flat] = (int64_t)isum;
                    want[flat] = fsum;
                }
            }
            if (!cumsum) { /* dst has lshape */
                int64_t flat = 0;
                for (int i = 0; i < nd; i++) flat = flat * lshape[i] + idx[i];
                iwant[flat] = op == ACCEL_OP_ARGMAX ? arg : op == ACCEL_OP_MAX ? imax : (int64_t)isum;
                want[flat] = op == ACCEL_OP_MAX ? fmax : op == ACCEL_OP_MEAN ? fsum / (double)R : fsum;
            }
        } while (kt_next_index(idx, lshape, nd));
    expect e;
    void *bytes = NULL;
    if (op == ACCEL_OP_ARGMAX || ints) {
        const size_t es = accel_dtype_size(odt);
        bytes = malloc((size_t)(n_out + 1) * es);
        for (int64_t i = 0; i < n_out; i++) { /* stored as the kernel must: i32 saturates */
            accel_tensor one = {.dtype = odt, .ndim = 1, .shape = {1}, .stride = {(int64_t)es}};
            one.data = (char *)bytes + (size_t)i * es;
            int64_t v = iwant[i];
            if (odt == ACCEL_I32) v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
            kt_tset_int(&one, (int64_t[]){0}, v);
        }
        e = (expect){bytes, NULL, 0, n_out};
    } else if (op == ACCEL_OP_MAX) {
        bytes = bytes_of(dt, want, n_out);
        e = (expect){bytes, NULL, 0, n_out};
    } else {
        e = (expect){NULL, want, kt_nmse_limit(dt, 1e-12), n_out};
    }
    char name[160];
    snprintf(name, sizeof name, "%s %s shape[%d]=%lld dim %d%s", accel_op_name(op), accel_dtype_name(dt), nd,
             (long long)shape[nd - 1], dim, order || gap ? " strided" : "");
    run_all(dst, &e, name);
    free(bytes), free(want), free(iwant);
    kt_tfree(a), kt_tfree(dst);
}

static void test_reductions(void) {
    const accel_op ops[] = {ACCEL_OP_SUM, ACCEL_OP_MEAN, ACCEL_OP_MAX, ACCEL_OP_ARGMAX, ACCEL_OP_CUMSUM};
    const accel_dtype dts[] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I32, ACCEL_I64};
    const int64_t s3[3] = {3, 5, 7}, s1[1] = {1000}, s4[4] = {2, 1, 3, 300}, big[2] = {2, 1500}, wide[2] = {3, 2100};
    for (size_t oi = 0; oi < sizeof ops / sizeof ops[0]; oi++)
        for (size_t di = 0; di < sizeof dts / sizeof dts[0]; di++) {
            if (ops[oi] == ACCEL_OP_MEAN && !is_float(dts[di])) continue;
            for (int dim = 0; dim < 3; dim++) {
                test_reduce_one(ops[oi], dts[di], 3, s3, dim, NULL, 0);
                test_reduce_one(ops[oi], dts[di], 3, s3, dim, k_perm_rev3, 1);
            }
            test_reduce_one(ops[oi], dts[di], 1, s1, 0, NULL, 0);
            for (int dim = 0; dim < 4; dim++) test_reduce_one(ops[oi], dts[di], 4, s4, dim, k_perm_4, 0);
            test_reduce_one(ops[oi], dts[di], 2, big, 1, NULL, 2);
            test_reduce_one(ops[oi], dts[di], 2, big, 0, NULL, 0);
            test_reduce_one(ops[oi], dts[di], 2, wide, 0, NULL, 0); /* lanes in several chunks */
            test_reduce_one(ops[oi], dts[di], 2, wide, 1, NULL, 1);
        }
    /* i32 sums saturate at the store; i64 sums wrap like int64 arithmetic */
    {
        accel_tensor *a = tnew(ACCEL_I32, 1, (int64_t[]){4}, NULL, 0, 0.0);
        const int32_t vals[4] = {2000000000, 2000000000, 5, -1};
        memcpy(a->data, vals, sizeof vals);
        accel_tensor *dst = node_new(ACCEL_OP_SUM, ACCEL_I32, 1, (int64_t[]){1});
        dst->src[0] = a;
        const int32_t want = INT32_MAX;
        expect e = {&want, NULL, 0, 1};
        run_all(dst, &e, "sum i32 saturates");
        kt_tfree(a), kt_tfree(dst);
    }
    /* NaN: max propagates it, argmax points at the first NaN */
    {
        accel_tensor *a = tnew(ACCEL_F32, 2, (int64_t[]){2, 6}, NULL, 0, 1.0);
        kt_tset(a, (int64_t[]){0, 2}, NAN);
        kt_tset(a, (int64_t[]){0, 4}, NAN);
        kt_tset(a, (int64_t[]){0, 5}, 100.0);
        accel_tensor *mx = node_new(ACCEL_OP_MAX, ACCEL_F32, 2, (int64_t[]){2, 1});
        accel_tensor *am = node_new(ACCEL_OP_ARGMAX, ACCEL_I32, 2, (int64_t[]){2, 1});
        mx->src[0] = am->src[0] = a;
        mx->params[0] = am->params[0] = 1;
        float wmax[2] = {NAN, -INFINITY};
        int32_t warg[2] = {2, 0};
        for (int64_t j = 0; j < 6; j++) {
            const float v = (float)kt_tget(a, (int64_t[]){1, j});
            if (v > wmax[1]) wmax[1] = v, warg[1] = (int32_t)j;
        }
        memcpy(&wmax[0], &((float *)a->data)[2], 4); /* the very NaN (bit pattern) of the input */
        expect em = {wmax, NULL, 0, 2}, ea = {warg, NULL, 0, 2};
        run_all(mx, &em, "max with NaN");
        run_all(am, &ea, "argmax with NaN");
        kt_tfree(a), kt_tfree(mx), kt_tfree(am);
    }
}

/* ================================================================================================================
 * TOP_K
 * ================================================================================================================ */
typedef struct ranked {
    double v;
    int64_t i;
} ranked;

static int ranked_cmp(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    const bool na = a->v != a->v, nb = b->v != b->v;
    if (na != nb) return na ? -1 : 1;
    if (!na && a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

/* ties > 0: integer values in [0, ties); nan_pct: percent of NaNs; ascending: each row counts up (every element
 * beats the running threshold). */
static void test_top_k_case(accel_dtype dt, int nd, const int64_t *shape, int64_t k, int ties, int nan_pct,
                            bool ascending, int gap, const char *what) {
    accel_tensor *a = tnew(dt, nd, shape, NULL, gap, 10.0);
    const int64_t N = shape[nd - 1], rows = accel_nelements(a) / N;
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    do {
        if (ties) kt_tset(a, idx, floor(kt_urand() * ties)); /* many equal values */
        if (ascending) kt_tset(a, idx, (double)idx[nd - 1] - 100.0);
        if (kt_urand() * 100.0 < nan_pct) kt_tset(a, idx, NAN);
    } while (kt_next_index(idx, shape, nd));
    int64_t os[ACCEL_MAX_DIMS];
    memcpy(os, shape, sizeof(int64_t) * (size_t)nd);
    os[nd - 1] = k;
    accel_tensor *vals = node_new(ACCEL_OP_TOP_K, dt, nd, os), *inds = node_new(ACCEL_OP_TOP_K_INDICES, ACCEL_I32, nd, os);
    vals->src[0] = inds->src[0] = a;
    vals->params[0] = inds->params[0] = (int32_t)k;
    ranked *row = malloc((size_t)N * sizeof *row);
    const size_t es = accel_dtype_size(dt);
    char *wv = malloc((size_t)(rows * k) * es);
    int32_t *wi = malloc((size_t)(rows * k) * sizeof(int32_t));
    memset(idx, 0, sizeof idx);
    for (int64_t r = 0; r < rows; r++) {
        int64_t rem = r;
        for (int d = nd - 2; d >= 0; d--) idx[d] = rem % shape[d], rem /= shape[d];
        for (int64_t j = 0; j < N; j++) {
            idx[nd - 1] = j;
            row[j] = (ranked){kt_tget(a, idx), j};
        }
        qsort(row, (size_t)N, sizeof *row, ranked_cmp);
        for (int64_t j = 0; j < k; j++) {
            idx[nd - 1] = row[j].i;
            memcpy(wv + (size_t)(r * k + j) * es, (char *)a->data + kt_toff(a, idx), es);
            wi[r * k + j] = (int32_t)row[j].i;
        }
    }
    expect ev = {wv, NULL, 0, rows * k}, ei = {wi, NULL, 0, rows * k};
    char name[160];
    snprintf(name, sizeof name, "top_k %s N=%lld k=%lld %s", accel_dtype_name(dt), (long long)N, (long long)k, what);
    run_all(vals, &ev, name);
    snprintf(name, sizeof name, "top_k_indices %s N=%lld k=%lld %s", accel_dtype_name(dt), (long long)N, (long long)k,
             what);
    run_all(inds, &ei, name);
    free(row), free(wv), free(wi);
    kt_tfree(a), kt_tfree(vals), kt_tfree(inds);
}

static void test_top_k(void) {
    test_top_k_case(ACCEL_F32, 1, (int64_t[]){151936}, 50, 0, 0, false, 0, "vocabulary");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){3, 5000}, 40, 7, 0, false, 0, "ties");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){3, 5000}, 40, 2, 0, false, 1, "ties of two values");
    test_top_k_case(ACCEL_F16, 2, (int64_t[]){4, 3000}, 10, 0, 1, false, 1, "nan strided");
    test_top_k_case(ACCEL_BF16, 3, (int64_t[]){2, 3, 1000}, 5, 0, 0, false, 0, "rows");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){5, 2000}, 1500, 0, 0, false, 0, "large k");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){3, 17}, 17, 3, 0, false, 2, "k = N");
    test_top_k_case(ACCEL_F32, 1, (int64_t[]){1}, 1, 0, 0, false, 0, "one");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){2, 3000}, 60, 0, 1, false, 0, "nan");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){2, 3000}, 10, 0, 10, false, 0, "more nans than k");
    test_top_k_case(ACCEL_F32, 2, (int64_t[]){3, 4000}, 25, 0, 0, true, 0, "ascending");
    test_top_k_case(ACCEL_F16, 2, (int64_t[]){3, 4000}, 25, 0, 2, true, 0, "ascending f16 nan");
}

/* ================================================================================================================
 * INTERPOLATE
 * ================================================================================================================ */
/* PyTorch's source index and weights along one axis, computed plainly. */
static int interp_taps(int mode, int64_t o, int64_t in, int64_t out, bool align, int64_t idx[4], double w[4]) {
    if (mode == ACCEL_INTERP_NEAREST) {
        /* nearest_idx: done in float by PyTorch, which matters when in/out is inexact */
        int64_t s;
        if (out == in) s = o;
        else if (out == 2 * in) s = o >> 1;
        else s = (int64_t)floorf((float)o * ((float)in / (float)out));
        idx[0] = s < in - 1 ? s : in - 1;
        w[0] = 1.0;
        return 1;
    }
    const bool cubic = mode == ACCEL_INTERP_BICUBIC;
    double real;
    if (align) real = out > 1 ? (double)(in - 1) / (double)(out - 1) * (double)o : 0.0;
    else {
        real = (double)in / (double)out * ((double)o + 0.5) - 0.5;
        if (!cubic && real < 0) real = 0;
    }
    int64_t i0 = (int64_t)floor(real);
    if (i0 > in - 1) i0 = in - 1;
    double t = real - (double)i0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    if (!cubic) {
        idx[0] = i0, idx[1] = i0 < in - 1 ? i0 + 1 : i0;
        w[0] = 1 - t, w[1] = t;
        return 2;
    }
    const double A = -0.75;
    const double x[4] = {t + 1, t, 1 - t, 2 - t};
    for (int j = 0; j < 4; j++) {
        const double ax = x[j];
        w[j] = ax <= 1 ? ((A + 2) * ax - (A + 3)) * ax * ax + 1 : ((A * ax - 5 * A) * ax + 8 * A) * ax - 4 * A;
        const int64_t s = i0 - 1 + j;
        idx[j] = s < 0 ? 0 : s > in - 1 ? in - 1 : s; /* the border pixel repeats */
    }
    return 4;
}

static void test_interp_case(int mode, bool align, int64_t H, int64_t W, int64_t OH, int64_t OW, accel_dtype dt,
                             bool strided) {
    static const int order[4] = {0, 2, 3, 1};
    accel_tensor *x = tnew(dt, 4, (int64_t[]){2, 3, H, W}, strided ? order : NULL, strided, 5.0);
    accel_tensor *dst = node_new(ACCEL_OP_INTERPOLATE, dt, 4, (int64_t[]){2, 3, OH, OW});
    dst->src[0] = x;
    dst->params[0] = mode;
    dst->params[1] = align;
    const int64_t n_out = accel_nelements(dst);
    double *want = malloc((size_t)n_out * sizeof(double));
    int64_t w = 0;
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    int64_t iy[4], ix[4];
                    double wy[4], wx[4];
                    const int ny = interp_taps(mode, oy, H, OH, align, iy, wy);
                    const int nx = interp_taps(mode, ox, W, OW, align, ix, wx);
                    double acc = 0;
                    for (int a = 0; a < ny; a++)
                        for (int b = 0; b < nx; b++) acc += wy[a] * wx[b] * kt_tget(x, (int64_t[]){n, c, iy[a], ix[b]});
                    want[w++] = acc;
                }
    expect e;
    void *bytes = NULL;
    if (mode == ACCEL_INTERP_NEAREST) {
        bytes = bytes_of(dt, want, n_out);
        e = (expect){bytes, NULL, 0, n_out};
    } else {
        e = (expect){NULL, want, kt_nmse_limit(dt, 1e-10), n_out};
    }
    static const char *modes[3] = {"nearest", "bilinear", "bicubic"};
    char name[160];
    snprintf(name, sizeof name, "interpolate %s%s %s %lldx%lld -> %lldx%lld%s", modes[mode],
             align ? " align_corners" : "", accel_dtype_name(dt), (long long)H, (long long)W, (long long)OH,
             (long long)OW, strided ? " strided" : "");
    run_all(dst, &e, name);
    free(bytes), free(want);
    kt_tfree(x), kt_tfree(dst);
}

static void test_interpolate(void) {
    const int64_t sizes[][4] = {{5, 7, 12, 3}, {4, 4, 8, 8}, {7, 7, 3, 3}, {1, 6, 5, 1}, {6, 9, 6, 9}, {3, 10, 7, 23}};
    for (int mode = 0; mode < 3; mode++)
        for (int align = 0; align < 2; align++) {
            if (mode == ACCEL_INTERP_NEAREST && align) continue;
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                test_interp_case(mode, align, sizes[s][0], sizes[s][1], sizes[s][2], sizes[s][3], ACCEL_F32, s % 2);
            for (size_t di = 1; di < 3; di++) test_interp_case(mode, align, 5, 7, 9, 4, k_float_dtypes[di], true);
        }
    /* PyTorch's float index arithmetic: 7 -> 3 samples source 0, 2, 4 (7/3 in float is 2.3333333) */
    test_interp_case(ACCEL_INTERP_NEAREST, false, 1, 49, 1, 21, ACCEL_F32, false);
}

/* supports() must refuse nodes the kernels cannot compute. */
static void test_refusals(void) {
    accel_tensor *a = tnew(ACCEL_I8, 2, (int64_t[]){3, 4}, NULL, 0, 0.0);
    accel_tensor *dst = node_new(ACCEL_OP_SUM, ACCEL_I8, 2, (int64_t[]){3, 1});
    dst->src[0] = a;
    dst->params[0] = 1;
    CHECK(!g_ops[ACCEL_OP_SUM].supports(dst), "sum of i8 accepted");
    a->dtype = ACCEL_I32, dst->dtype = ACCEL_I32, dst->op = ACCEL_OP_MEAN;
    CHECK(!g_ops[ACCEL_OP_MEAN].supports(dst), "mean of i32 accepted");
    dst->op = ACCEL_OP_TOP_K;
    dst->params[0] = 5;
    a->dtype = dst->dtype = ACCEL_F32;
    dst->shape[1] = 5;
    CHECK(!g_ops[ACCEL_OP_TOP_K].supports(dst), "top_k with k > N accepted");
    kt_tfree(a), kt_tfree(dst);
}

int main(void) {
    kt_rng_seed(0x2545f4914f6cdd1dull);
    g_max_isa = cpu_detect_isa();
    cpu_register_data(g_ops);
    const accel_op mine[] = {ACCEL_OP_GET_ROWS, ACCEL_OP_CONCAT, ACCEL_OP_PAD, ACCEL_OP_POOL1D, ACCEL_OP_POOL2D,
                             ACCEL_OP_SUM, ACCEL_OP_MEAN, ACCEL_OP_MAX, ACCEL_OP_ARGMAX, ACCEL_OP_TOP_K,
                             ACCEL_OP_TOP_K_INDICES, ACCEL_OP_CUMSUM, ACCEL_OP_INTERPOLATE};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        CHECK(g_ops[mine[i]].compute && g_ops[mine[i]].supports, "cpu_register_data did not fill %s",
              accel_op_name(mine[i]));
    test_get_rows();
    test_concat();
    test_pad();
    test_pool();
    test_reductions();
    test_top_k();
    test_interpolate();
    test_refusals();
    printf("ISA levels up to %s\n", cpu_isa_name(g_max_isa));
    return kt_summary("test_cpu_data");
}
