/* The cpu backend's device, ISA dispatch, elementwise and normalization kernels, checked against straightforward
 * double-precision computations written in this file.
 *
 * Every kernel case runs on every ISA level this machine has (portable, avx2, avx512), with 1 and 3 threads,
 * over odd sizes (1, 7, 17, 1000003 elements...), broadcasting patterns, non-contiguous sources (transposed,
 * sliced with a step, zero-stride broadcast views) and every dtype of the agreed matrix.
 *
 * Limits, as normalized MSE (sum (y - ref)^2 / sum ref^2) against the double computation on the same (already
 * rounded) inputs; the output is rounded once to its dtype, which alone gives NMSE ~ (ulp/2)^2 / 3:
 *   f32 output:  1e-12 for add/sub/mul/div/scale/relu (one f32 rounding, NMSE ~1e-15), and for the
 *                transcendental activations, softmax and the norms (a few ulp each; the bar is 1e-10)
 *   f16 output:  1e-6  (rounding alone ~8e-8)
 *   bf16 output: 2e-5  (rounding alone ~5e-6)
 * The denominator counts every element as at least the output dtype's smallest normal, below which a dtype only
 * has absolute precision (f16 subnormals).
 * CPY is exact: it must give the same bits as accel_load_f64 + accel_store_f64 (truncating, saturating casts).
 * The vector math is also checked directly against libm's double: exp within 2 ulp (0 below FLT_MIN), erf within
 * 1e-6 relative error, tanh/sigmoid/silu/gelu within 3/4/5/8 ulp where the result exceeds 1e-6; infinities and
 * NaN.
 */
#include "test.h"
#include "kernel_test.h" /* after test.h: its CHECK / RUN / test_summary stay */

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_vec.h"
#include "core/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- tensors built by hand --------------------------------------------------------------------------------------- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static double rnd01(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

static bool is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

/* A contiguous tensor with fresh memory (not filled). Every tensor and buffer is kt_track-ed: kt_free_all() (after
 * each configuration) frees them. */
static accel_tensor *new_tensor(accel_dtype dt, int ndim, const int64_t *shape) {
    accel_tensor *t = kt_track(calloc(1, sizeof *t));
    const int64_t s = kt_contiguous(t, dt, ndim, shape);
    t->data = kt_track(calloc(1, (size_t)s + 64));
    return t;
}

/* Random values: floats mostly in [-lo, hi] with some large magnitudes for the tails; integers in [-ilim, ilim]. */
static double g_range = 4.0;
static void fill(accel_tensor *t) {
    int64_t n = accel_nelements(t); /* contiguous fresh tensors only */
    size_t es = accel_dtype_size(t->dtype);
    for (int64_t i = 0; i < n; i++) {
        double v;
        if (is_float(t->dtype)) {
            double u = rnd01();
            v = (2 * rnd01() - 1) * (u < 0.02 ? 30.0 : g_range);
        } else {
            double lim = t->dtype == ACCEL_I8 ? 127 : t->dtype == ACCEL_I32 ? 3e9 : 1e12;
            v = floor((2 * rnd01() - 1) * lim);
        }
        accel_store_f64((char *)t->data + i * (int64_t)es, t->dtype, v);
    }
}

static accel_tensor *rand_tensor(accel_dtype dt, int ndim, const int64_t *shape) {
    accel_tensor *t = new_tensor(dt, ndim, shape);
    fill(t);
    return t;
}

/* A view of base with its own shape and element strides (offset in elements). */
static accel_tensor *view(accel_tensor *base, int ndim, const int64_t *shape, const int64_t *estride, int64_t offset) {
    accel_tensor *t = kt_track(calloc(1, sizeof *t));
    int64_t es = (int64_t)accel_dtype_size(base->dtype);
    t->dtype = base->dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->stride[i] = estride[i] * es;
    }
    t->op = ACCEL_OP_VIEW;
    t->view_src = base;
    t->data = (char *)base->data + offset * es;
    return t;
}

/* A random source of `shape` stored transposed in memory (last two dims swapped): a non-contiguous view. */
static accel_tensor *rand_transposed(accel_dtype dt, int ndim, const int64_t *shape) {
    int64_t mshape[ACCEL_MAX_DIMS], est[ACCEL_MAX_DIMS];
    for (int i = 0; i < ndim; i++) mshape[i] = shape[i];
    mshape[ndim - 1] = shape[ndim - 2];
    mshape[ndim - 2] = shape[ndim - 1];
    accel_tensor *m = rand_tensor(dt, ndim, mshape);
    for (int i = 0; i < ndim; i++) est[i] = m->stride[i] / (int64_t)accel_dtype_size(dt);
    int64_t t = est[ndim - 1];
    est[ndim - 1] = est[ndim - 2];
    est[ndim - 2] = t;
    return view(m, ndim, shape, est, 0);
}

/* A random source of `shape` whose last dimension takes every second element of a wider tensor, offset by 1. */
static accel_tensor *rand_sliced(accel_dtype dt, int ndim, const int64_t *shape) {
    int64_t mshape[ACCEL_MAX_DIMS], est[ACCEL_MAX_DIMS];
    for (int i = 0; i < ndim; i++) mshape[i] = shape[i];
    mshape[ndim - 1] = 2 * shape[ndim - 1] + 1;
    accel_tensor *m = rand_tensor(dt, ndim, mshape);
    for (int i = 0; i < ndim; i++) est[i] = m->stride[i] / (int64_t)accel_dtype_size(dt);
    est[ndim - 1] = 2;
    return view(m, ndim, shape, est, 1);
}

static accel_tensor *node(accel_op op, accel_dtype dt, int ndim, const int64_t *shape, accel_tensor *s0,
                          accel_tensor *s1, accel_tensor *s2) {
    accel_tensor *t = new_tensor(dt, ndim, shape);
    t->op = op;
    t->src[0] = s0;
    t->src[1] = s1;
    t->src[2] = s2;
    return t;
}

/* Element of t at the multi-index of dst's linear element i, with numpy broadcasting of t to dst's shape. */
static const char *elem_ptr(const accel_tensor *t, const accel_tensor *dst, int64_t i) {
    const char *p = t->data;
    for (int d = dst->ndim - 1; d >= 0; d--) {
        int64_t idx = i % dst->shape[d];
        i /= dst->shape[d];
        int td = d - (dst->ndim - t->ndim);
        if (td >= 0 && t->shape[td] != 1) p += idx * t->stride[td];
    }
    return p;
}

static double at(const accel_tensor *t, const accel_tensor *dst, int64_t i) {
    return accel_load_f64(elem_ptr(t, dst, i), t->dtype);
}

/* ---- running kernels --------------------------------------------------------------------------------------------- */

static cpu_op_entry g_table[ACCEL_OP_COUNT];
static cpu_ctx g_ctx;
static cpu_isa g_best;

static void ctx_set(cpu_isa isa, int threads) {
    kt_ctx_release(&g_ctx);
    if (kt_ctx_init(&g_ctx, isa, threads) != ACCEL_OK) fprintf(stderr, "threadpool failed\n");
}

static bool compute(accel_tensor *t) {
    const cpu_op_entry *e = &g_table[t->op];
    if (!e->compute || !e->supports(t)) {
        fprintf(stderr, "  op %s unsupported\n", accel_op_name(t->op));
        return false;
    }
    accel_status st = e->compute(&g_ctx, t);
    if (st != ACCEL_OK) fprintf(stderr, "  op %s failed: %s\n", accel_op_name(t->op), accel_last_error());
    return st == ACCEL_OK;
}

static double limit_for(accel_dtype out, double f32_limit) {
    return out == ACCEL_F32 ? f32_limit : out == ACCEL_F16 ? 1e-6 : 2e-5;
}

/* Compares dst with ref[] (double); reports and returns false over the limit. */
static bool check_nmse(const char *what, const accel_tensor *dst, const double *ref, double f32_limit) {
    int64_t n = accel_nelements(dst);
    double num = 0, den = 0;
    int64_t worst = -1;
    double worst_err = -1;
    size_t es = accel_dtype_size(dst->dtype);
    for (int64_t i = 0; i < n; i++) {
        double y = accel_load_f64((const char *)dst->data + i * (int64_t)es, dst->dtype);
        double e = y - ref[i];
        if (isnan(e) ? worst_err == worst_err : fabs(e) > worst_err) { /* the first NaN beats everything */
            worst_err = isnan(e) ? NAN : fabs(e);
            worst = i;
        }
        num += e * e;
        den += ref[i] * ref[i];
    }
    /* values below the output dtype's smallest normal only have absolute precision (a one-element f16 sigmoid of
     * -15 is a subnormal): count each element as at least that large in the denominator */
    double tiny = dst->dtype == ACCEL_F16 ? 6.103515625e-05 : 1.1754943508222875e-38;
    den += (double)n * tiny * tiny;
    double nmse = num / den;
    double lim = limit_for(dst->dtype, f32_limit);
    if (!(nmse <= lim)) {
        double y = accel_load_f64((const char *)dst->data + worst * (int64_t)es, dst->dtype);
        fprintf(stderr, "  %s [%s, isa %s, %d threads, %lld elems]: NMSE %.3g > %.3g; worst at %lld: %.9g vs %.9g\n",
                what, accel_dtype_name(dst->dtype), cpu_isa_name(g_ctx.isa), g_ctx.n_threads, (long long)n, nmse,
                lim, (long long)worst, y, ref[worst]);
        return false;
    }
    return true;
}

/* Runs fn(isa, threads) for every ISA level available and 1 and 3 threads. */
static void for_each_config(void (*fn)(void)) {
    for (int isa = 0; isa < kt_isa_count(g_best); isa++) {
        for (int th = 1; th <= 3; th += 2) {
            ctx_set((cpu_isa)isa, th);
            fn();
            kt_free_all();
        }
    }
}

static const accel_dtype k_floats[3] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};

static double unary_ref(accel_op op, double x, double s, double b);

/* ---- vector math accuracy -------------------------------------------------------------------------------------- */

static void test_vec_math_accuracy(void) {
    int n = 400003;
    float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
    for (int isa = CPU_ISA_PORTABLE; isa <= (int)g_best && isa <= CPU_ISA_AVX512; isa++) {
        /* exp over its whole finite range; below ~FLT_MIN (x < -87.3365) the vector paths give 0 (no denormals),
         * libm a denormal: either is within FLT_MIN of the truth */
        for (int i = 0; i < n; i++) x[i] = -103.0f + 191.7f * (float)i / (float)n;
        cpu_vec_exp_f32((cpu_isa)isa, y, x, n);
        double max_ulp = 0;
        for (int i = 0; i < n; i++) {
            double r = exp((double)x[i]);
            if (r < 1.1755e-38) {
                CHECK(y[i] >= 0 && y[i] <= 1.1754943508222875e-38);
                continue;
            }
            double u = fabs(y[i] - r) / ldexp(1.0, ilogb(r) - 23);
            if (!(u <= max_ulp)) max_ulp = u;
        }
        if (!(max_ulp <= 2.0)) fprintf(stderr, "  exp isa %s: max %.3f ulp\n", cpu_isa_name((cpu_isa)isa), max_ulp);
        CHECK(max_ulp <= 2.0);
        /* erf: relative error against libm's double erf */
        for (int i = 0; i < n; i++) x[i] = -7.0f + 14.0f * (float)i / (float)n;
        cpu_vec_erf_f32((cpu_isa)isa, y, x, n);
        double max_rel = 0;
        for (int i = 0; i < n; i++) {
            double r = erf((double)x[i]);
            double e = r == 0 ? fabs(y[i]) : fabs(y[i] - r) / fabs(r);
            if (!(e <= max_rel)) max_rel = e;
        }
        if (!(max_rel <= 1e-6)) fprintf(stderr, "  erf isa %s: max rel %.3g\n", cpu_isa_name((cpu_isa)isa), max_rel);
        CHECK(max_rel <= 1e-6);
        /* activations in ulp where the result is not tiny (below, see cpu_vec.h: argument rounding dominates) */
        static const accel_op ops[4] = {ACCEL_OP_TANH, ACCEL_OP_SIGMOID, ACCEL_OP_SILU, ACCEL_OP_GELU};
        static const double max_ulps[4] = {3.0, 4.0, 5.0, 8.0};
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < n; i++) x[i] = -20.0f + 40.0f * (float)i / (float)n;
            cpu_vec_unary_f32((cpu_isa)isa, ops[k], y, x, n, 0, 0);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double r = unary_ref(ops[k], x[i], 0, 0);
                if (fabs(r) < 1e-6) continue;
                double u = fabs(y[i] - r) / ldexp(1.0, ilogb(r) - 23);
                if (!(u <= worst)) worst = u;
            }
            if (!(worst <= max_ulps[k]))
                fprintf(stderr, "  %s isa %s: max %.2f ulp\n", accel_op_name(ops[k]), cpu_isa_name((cpu_isa)isa),
                        worst);
            CHECK(worst <= max_ulps[k]);
        }
        /* special values */
        float sp[4] = {INFINITY, -INFINITY, NAN, -200.0f}, out[4];
        cpu_vec_exp_f32((cpu_isa)isa, out, sp, 4);
        CHECK(isinf(out[0]) && out[0] > 0);
        CHECK(out[1] == 0.0f);
        CHECK(isnan(out[2]));
        CHECK(out[3] == 0.0f);
        cpu_vec_erf_f32((cpu_isa)isa, out, sp, 3);
        CHECK(out[0] == 1.0f && out[1] == -1.0f && isnan(out[2]));
        cpu_vec_unary_f32((cpu_isa)isa, ACCEL_OP_GELU, out, sp, 3, 0, 0);
        CHECK(isinf(out[0]) && out[0] > 0 && isnan(out[2]));
        cpu_vec_unary_f32((cpu_isa)isa, ACCEL_OP_TANH, out, sp, 3, 0, 0);
        CHECK(out[0] == 1.0f && out[1] == -1.0f && isnan(out[2]));
        cpu_vec_unary_f32((cpu_isa)isa, ACCEL_OP_SIGMOID, out, sp, 3, 0, 0);
        CHECK(out[0] == 1.0f && out[1] == 0.0f && isnan(out[2]));
    }
    free(x);
    free(y);
}

/* ---- unary activations and scale --------------------------------------------------------------------------------- */

static double unary_ref(accel_op op, double x, double s, double b) {
    switch (op) {
    case ACCEL_OP_SCALE: return x * s + b;
    case ACCEL_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case ACCEL_OP_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case ACCEL_OP_QUICK_GELU: return x / (1.0 + exp(-1.702 * x));
    case ACCEL_OP_SILU: return x / (1.0 + exp(-x));
    case ACCEL_OP_RELU: return x > 0 ? x : 0;
    case ACCEL_OP_TANH: return tanh(x);
    case ACCEL_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    default: return NAN;
    }
}

static bool run_unary(accel_op op, accel_tensor *src) {
    accel_tensor *t = node(op, src->dtype, src->ndim, src->shape, src, NULL, NULL);
    float s = 0.37f, b = -1.25f;
    if (op == ACCEL_OP_SCALE) {
        accel_param_set_f32(t, 0, s);
        accel_param_set_f32(t, 1, b);
    }
    if (!compute(t)) return false;
    int64_t n = accel_nelements(t);
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) ref[i] = unary_ref(op, at(src, t, i), s, b);
    bool ok = check_nmse(accel_op_name(op), t, ref, 1e-12);
    free(ref);
    kt_free_all(); /* cases never share tensors: keeps the million-element runs from piling up */
    return ok;
}

static const accel_op k_unary[] = {ACCEL_OP_SCALE, ACCEL_OP_GELU, ACCEL_OP_GELU_TANH, ACCEL_OP_QUICK_GELU,
                                   ACCEL_OP_SILU,  ACCEL_OP_RELU, ACCEL_OP_TANH,      ACCEL_OP_SIGMOID};

static void unary_cases(void) {
    static const int64_t sizes[] = {1, 7, 17, 1000, 1000003};
    for (size_t oi = 0; oi < sizeof k_unary / sizeof k_unary[0]; oi++) {
        for (int di = 0; di < 3; di++) {
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
                /* the million-element row runs once per op and dtype, with 3 threads */
                if (sizes[si] > 100000 && g_ctx.n_threads == 1) continue;
                CHECK(run_unary(k_unary[oi], rand_tensor(k_floats[di], 1, &sizes[si])));
            }
            int64_t shape[3] = {3, 33, 20};
            CHECK(run_unary(k_unary[oi], rand_transposed(k_floats[di], 3, shape)));
            CHECK(run_unary(k_unary[oi], rand_sliced(k_floats[di], 3, shape)));
        }
    }
}

static void test_unary(void) { for_each_config(unary_cases); }

/* ---- binary ------------------------------------------------------------------------------------------------------ */

static double binary_ref(accel_op op, double a, double b) {
    switch (op) {
    case ACCEL_OP_ADD: return a + b;
    case ACCEL_OP_SUB: return a - b;
    case ACCEL_OP_MUL: return a * b;
    case ACCEL_OP_DIV: return a / b;
    default: return NAN;
    }
}

/* Divisors at least 0.5 in magnitude, so that quotients stay within f16's range (an overflow to inf would be
 * correct rounding, but NMSE cannot compare it). Works on the memory under a view. */
static void keep_away_from_zero(accel_tensor *t) {
    accel_tensor *base = t->view_src ? t->view_src : t;
    size_t es = accel_dtype_size(base->dtype);
    for (int64_t i = 0; i < accel_nelements(base); i++) {
        char *p = (char *)base->data + i * (int64_t)es;
        double v = accel_load_f64(p, base->dtype);
        if (fabs(v) < 0.5) accel_store_f64(p, base->dtype, v < 0 ? v - 0.5 : v + 0.5);
    }
}

static bool run_binary(accel_op op, accel_tensor *a, accel_tensor *b) {
    if (op == ACCEL_OP_DIV) keep_away_from_zero(b);
    accel_tensor *t = node(op, a->dtype, a->ndim, a->shape, a, b, NULL);
    if (!compute(t)) return false;
    int64_t n = accel_nelements(t);
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; i++) ref[i] = binary_ref(op, at(a, t, i), at(b, t, i));
    bool ok = check_nmse(accel_op_name(op), t, ref, 1e-12);
    free(ref);
    kt_free_all();
    return ok;
}

static void binary_cases(void) {
    static const accel_op ops[] = {ACCEL_OP_ADD, ACCEL_OP_SUB, ACCEL_OP_MUL, ACCEL_OP_DIV};
    for (size_t oi = 0; oi < 4; oi++) {
        accel_op op = ops[oi];
        for (int da = 0; da < 3; da++) {
            accel_dtype ta = k_floats[da], tb = k_floats[(da + oi) % 3]; /* mixed dtypes too */
            static const int64_t sizes[] = {1, 7, 17, 1000003};
            for (int si = 0; si < 4; si++) {
                if (sizes[si] > 100000 && (g_ctx.n_threads == 1 || oi % 2)) continue;
                CHECK(run_binary(op, rand_tensor(ta, 1, &sizes[si]), rand_tensor(tb, 1, &sizes[si])));
            }
            int64_t a2[2] = {5, 7}, row[1] = {7}, col[2] = {5, 1}, one[1] = {1};
            CHECK(run_binary(op, rand_tensor(ta, 2, a2), rand_tensor(tb, 1, row)));  /* bias row */
            CHECK(run_binary(op, rand_tensor(ta, 2, a2), rand_tensor(tb, 2, col)));  /* per-row scalar */
            CHECK(run_binary(op, rand_tensor(ta, 2, a2), rand_tensor(tb, 1, one)));  /* scalar */
            CHECK(run_binary(op, rand_tensor(tb, 2, a2), rand_tensor(ta, 2, a2)));   /* same shape */
            int64_t a4[4] = {2, 3, 4, 5}, c4[4] = {1, 3, 1, 1}, m4[2] = {4, 1}, r4[4] = {2, 1, 1, 5};
            CHECK(run_binary(op, rand_tensor(ta, 4, a4), rand_tensor(tb, 4, c4)));   /* conv bias */
            CHECK(run_binary(op, rand_tensor(ta, 4, a4), rand_tensor(tb, 2, m4)));
            CHECK(run_binary(op, rand_tensor(ta, 4, a4), rand_tensor(tb, 4, r4)));   /* attention mask */
            /* non-contiguous operands: transposed and stepped views, and a zero-stride broadcast view */
            int64_t s3[3] = {3, 33, 20};
            CHECK(run_binary(op, rand_transposed(ta, 3, s3), rand_sliced(tb, 3, s3)));
            CHECK(run_binary(op, rand_sliced(ta, 3, s3), rand_transposed(tb, 3, s3)));
            int64_t r1[1] = {20}, est[3] = {0, 0, 1};
            accel_tensor *bb = view(rand_tensor(tb, 1, r1), 3, s3, est, 0);
            CHECK(run_binary(op, rand_transposed(ta, 3, s3), bb));
            CHECK(run_binary(op, view(rand_tensor(ta, 1, r1), 3, s3, est, 0), rand_tensor(tb, 3, s3)));
            /* a long broadcast row that crosses chunk boundaries */
            int64_t big[2] = {3, 10000}, brow[1] = {10000};
            CHECK(run_binary(op, rand_tensor(ta, 2, big), rand_tensor(tb, 1, brow)));
        }
    }
}

static void test_binary(void) { for_each_config(binary_cases); }

/* ---- CPY: every dtype to every dtype, exact -------------------------------------------------------------------- */

static bool run_cpy(accel_tensor *src, accel_dtype to, int ndim, const int64_t *shape) {
    accel_tensor *t = node(ACCEL_OP_CPY, to, ndim, shape, src, NULL, NULL);
    if (!compute(t)) return false;
    int64_t n = accel_nelements(t);
    size_t es = accel_dtype_size(to);
    int64_t bad = 0;
    /* dst linear element i is src element i in src's logical order */
    for (int64_t i = 0; i < n; i++) {
        char want[8] = {0}, got[8] = {0};
        accel_store_f64(want, to, at(src, src, i));
        memcpy(got, (const char *)t->data + i * (int64_t)es, es);
        if (memcmp(want, got, es) != 0) {
            if (bad++ < 3)
                fprintf(stderr, "  cpy %s->%s [%s] elem %lld: got %.17g want %.17g (src %.17g)\n",
                        accel_dtype_name(src->dtype), accel_dtype_name(to), cpu_isa_name(g_ctx.isa), (long long)i,
                        accel_load_f64(got, to), accel_load_f64(want, to), at(src, src, i));
        }
    }
    kt_free_all();
    return bad == 0;
}

static void cpy_cases(void) {
    static const accel_dtype all[6] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I8, ACCEL_I32, ACCEL_I64};
    for (int a = 0; a < 6; a++) {
        for (int b = 0; b < 6; b++) {
            static const int64_t sizes[] = {1, 7, 17, 1000003};
            for (int si = 0; si < 4; si++) {
                if (sizes[si] > 100000 && (g_ctx.n_threads == 1 || (a != b && !is_float(all[a])))) continue;
                CHECK(run_cpy(rand_tensor(all[a], 1, &sizes[si]), all[b], 1, &sizes[si]));
            }
            int64_t s3[3] = {3, 33, 20}, flat[2] = {99, 20};
            CHECK(run_cpy(rand_transposed(all[a], 3, s3), all[b], 3, s3));
            CHECK(run_cpy(rand_sliced(all[a], 3, s3), all[b], 3, s3));
            CHECK(run_cpy(rand_transposed(all[a], 3, s3), all[b], 2, flat)); /* copy into another shape */
            int64_t big_t[2] = {200, 300}; /* a transpose of many tiles, split over threads */
            CHECK(run_cpy(rand_transposed(all[a], 2, big_t), all[b], 2, big_t));
        }
    }
    /* saturation and truncation toward zero, NaN -> 0, and values that f16 cannot hold */
    float special[10] = {1e10f, -1e10f, 200.7f, -200.7f, -0.99f, 2.5f, NAN, 70000.0f, 1e-8f, -3.0e38f};
    int64_t n10 = 10;
    for (int b = 0; b < 6; b++) {
        accel_tensor *s = new_tensor(ACCEL_F32, 1, &n10);
        memcpy(s->data, special, sizeof special);
        CHECK(run_cpy(s, all[b], 1, &n10));
    }
    int64_t ispecial[6] = {INT64_MAX, INT64_MIN, 3000000000ll, -3000000000ll, 129, -129};
    int64_t n6 = 6;
    for (int b = 0; b < 6; b++) {
        if (b == 5) continue; /* i64 -> i64 is a plain copy; the others must saturate */
        accel_tensor *s = new_tensor(ACCEL_I64, 1, &n6);
        memcpy(s->data, ispecial, sizeof ispecial);
        if (!is_float(all[b])) {
            accel_tensor *t = node(ACCEL_OP_CPY, all[b], 1, &n6, s, NULL, NULL);
            CHECK(compute(t));
            double want_i8[6] = {127, -128, 127, -128, 127, -128}, want_i32[6] = {2147483647.0, -2147483648.0,
                                                                                   2147483647.0, -2147483648.0, 129,
                                                                                   -129};
            for (int i = 0; i < 6; i++)
                CHECK(accel_load_f64((char *)t->data + i * (int64_t)accel_dtype_size(all[b]), all[b]) ==
                      (all[b] == ACCEL_I8 ? want_i8[i] : want_i32[i]));
        } else {
            CHECK(run_cpy(s, all[b], 1, &n6));
        }
    }
}

static void test_cpy(void) { for_each_config(cpy_cases); }

/* ---- softmax ----------------------------------------------------------------------------------------------------- */

static bool run_softmax(accel_tensor *x, accel_tensor *mask, float scale, bool causal) {
    accel_tensor *t = node(ACCEL_OP_SOFTMAX, x->dtype, x->ndim, x->shape, x, mask, NULL);
    accel_param_set_f32(t, 0, scale);
    t->params[1] = causal;
    if (!compute(t)) return false;
    int64_t ncols = t->shape[t->ndim - 1], nq = t->ndim >= 2 ? t->shape[t->ndim - 2] : 1;
    int64_t n = accel_nelements(t), nrows = n / ncols;
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t r = 0; r < nrows; r++) {
        double mx = -INFINITY, sum = 0;
        int64_t i = r % nq;
        for (int64_t j = 0; j < ncols; j++) {
            int64_t e = r * ncols + j;
            bool hidden = causal && j > i + ncols - nq;
            double v = hidden ? -INFINITY : at(x, t, e) * scale + (mask ? at(mask, t, e) : 0.0);
            ref[e] = v;
            if (v > mx) mx = v;
        }
        for (int64_t j = 0; j < ncols; j++) {
            double *v = &ref[r * ncols + j];
            *v = mx == -INFINITY ? 0.0 : exp(*v - mx);
            sum += *v;
        }
        for (int64_t j = 0; j < ncols; j++) ref[r * ncols + j] = sum > 0 ? ref[r * ncols + j] / sum : 0.0;
    }
    bool ok = check_nmse("softmax", t, ref, 1e-12);
    /* every row sums to one or is all zeros, exactly zero where hidden */
    free(ref);
    return ok;
}

static void softmax_cases(void) {
    for (int di = 0; di < 3; di++) {
        accel_dtype dt = k_floats[di], mt = k_floats[(di + 1) % 3];
        int64_t s1[2] = {1, 1}, s2[2] = {3, 17}, s4[4] = {2, 3, 5, 33}, m4[4] = {1, 1, 5, 33}, p4[4] = {2, 1, 1, 33};
        CHECK(run_softmax(rand_tensor(dt, 2, s1), NULL, 1.0f, false));
        CHECK(run_softmax(rand_tensor(dt, 2, s2), NULL, 0.125f, false));
        CHECK(run_softmax(rand_tensor(dt, 4, s4), rand_tensor(mt, 4, m4), 0.5f, false));
        CHECK(run_softmax(rand_tensor(dt, 4, s4), rand_tensor(mt, 4, p4), 1.0f, true));
        CHECK(run_softmax(rand_tensor(dt, 4, s4), NULL, 1.0f, true));
        int64_t kv[3] = {2, 4, 9}; /* 4 queries at the end of 9 keys: causal offset 5 */
        CHECK(run_softmax(rand_tensor(dt, 3, kv), NULL, 0.7f, true));
        int64_t more_q[3] = {2, 9, 4}; /* more queries than keys: the first rows see nothing -> zeros */
        CHECK(run_softmax(rand_tensor(dt, 3, more_q), NULL, 1.0f, true));
        CHECK(run_softmax(rand_transposed(dt, 3, kv), rand_sliced(mt, 3, kv), 1.0f, false));
        int64_t wide[2] = {5, 4100}, vocab[2] = {2, 151937};
        CHECK(run_softmax(rand_tensor(dt, 2, wide), NULL, 1.0f, false));
        if (g_ctx.n_threads == 3) CHECK(run_softmax(rand_tensor(dt, 2, vocab), NULL, 1.0f, false));
        /* -inf in x itself (pre-masked scores), for scales whose split of scale*log2(e) has a negative low part
         * (2.5, 0.088388) and a positive one (1.0): those positions give exactly 0, an all -inf row gives zeros;
         * and an HF-style additive mask of -3.4e38 */
        static const float scales[3] = {2.5f, 0.088388f, 1.0f};
        for (int si = 0; si < 3; si++) {
            int64_t sx[2] = {3, 40};
            accel_tensor *xi = rand_tensor(dt, 2, sx);
            for (int64_t i = 0; i < 3 * 40; i++)
                if (i / 40 == 1 || i % 3 == 0) accel_store_f64((char *)xi->data + i * (int64_t)accel_dtype_size(dt), dt,
                                                               -INFINITY);
            CHECK(run_softmax(xi, NULL, scales[si], false));
            accel_tensor *hf = new_tensor(ACCEL_F32, 2, sx);
            /* row 1 entirely -FLT_MAX (a padded query row): uniform, like the reference */
            for (int64_t i = 0; i < 3 * 40; i++)
                ((float *)hf->data)[i] = i % 4 == 1 || i / 40 == 1 ? -3.4028235e38f : 0.0f;
            CHECK(run_softmax(rand_tensor(dt, 2, sx), hf, scales[si], false));
        }
        /* a padding mask with -inf, one row fully masked */
        int64_t pm[2] = {4, 19};
        accel_tensor *mask = new_tensor(ACCEL_F32, 2, pm);
        for (int64_t i = 0; i < 4 * 19; i++) {
            float v = (i / 19 == 2) || (i % 19 > 11) ? -INFINITY : 0.0f;
            memcpy((char *)mask->data + i * 4, &v, 4);
        }
        accel_tensor *x = rand_tensor(dt, 2, pm);
        accel_tensor *t = node(ACCEL_OP_SOFTMAX, dt, 2, pm, x, mask, NULL);
        accel_param_set_f32(t, 0, 1.0f);
        CHECK(compute(t));
        for (int64_t r = 0; r < 4; r++) {
            double sum = 0;
            for (int64_t j = 0; j < 19; j++) {
                double v = accel_load_f64((char *)t->data + (r * 19 + j) * (int64_t)accel_dtype_size(dt), dt);
                if (r == 2 || j > 11) CHECK(v == 0.0);
                sum += v;
            }
            CHECK(r == 2 ? sum == 0.0 : fabs(sum - 1.0) < 1e-2);
        }
    }
}

static void test_softmax(void) { for_each_config(softmax_cases); }

/* ---- layer norm and RMS norm ------------------------------------------------------------------------------------- */

static bool run_rownorm(accel_op op, accel_tensor *x, accel_tensor *w, accel_tensor *b, float eps) {
    accel_tensor *t = node(op, x->dtype, x->ndim, x->shape, x, w, op == ACCEL_OP_LAYER_NORM ? b : NULL);
    accel_param_set_f32(t, 0, eps);
    if (!compute(t)) return false;
    int64_t d = t->shape[t->ndim - 1], n = accel_nelements(t);
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t r = 0; r < n / d; r++) {
        double mean = 0, var = 0;
        if (op == ACCEL_OP_LAYER_NORM) {
            for (int64_t j = 0; j < d; j++) mean += at(x, t, r * d + j);
            mean /= (double)d;
        }
        for (int64_t j = 0; j < d; j++) {
            double c = at(x, t, r * d + j) - mean;
            var += c * c;
        }
        var /= (double)d;
        for (int64_t j = 0; j < d; j++) {
            int64_t e = r * d + j;
            double y = (at(x, t, e) - mean) / sqrt(var + eps);
            if (w) y *= at(w, t, e);
            if (b && op == ACCEL_OP_LAYER_NORM) y += at(b, t, e);
            ref[e] = y;
        }
    }
    bool ok = check_nmse(accel_op_name(op), t, ref, 1e-12);
    free(ref);
    return ok;
}

static void rownorm_cases(void) {
    static const accel_op ops[2] = {ACCEL_OP_LAYER_NORM, ACCEL_OP_RMS_NORM};
    for (int oi = 0; oi < 2; oi++) {
        for (int di = 0; di < 3; di++) {
            accel_dtype dt = k_floats[di], pt = k_floats[(di + 2) % 3];
            int64_t s1[2] = {1, 1}, s2[2] = {3, 17}, s3[3] = {2, 5, 768}, d17[1] = {17}, d768[1] = {768};
            CHECK(run_rownorm(ops[oi], rand_tensor(dt, 2, s1), NULL, NULL, 1e-5f));
            CHECK(run_rownorm(ops[oi], rand_tensor(dt, 2, s2), rand_tensor(pt, 1, d17), rand_tensor(pt, 1, d17),
                              1e-5f));
            CHECK(run_rownorm(ops[oi], rand_tensor(dt, 3, s3), rand_tensor(pt, 1, d768), NULL, 1e-6f));
            CHECK(run_rownorm(ops[oi], rand_tensor(dt, 3, s3), NULL, rand_tensor(pt, 1, d768), 1e-12f));
            int64_t s4[3] = {2, 7, 33}, d33[1] = {33};
            CHECK(run_rownorm(ops[oi], rand_transposed(dt, 3, s4), rand_sliced(pt, 1, d33), rand_tensor(pt, 1, d33),
                              1e-5f));
            /* a large common offset: the variance must not cancel (mean/std ~ 300) */
            g_range = 0.01;
            accel_tensor *x = rand_tensor(ACCEL_F32, 3, s3);
            for (int64_t i = 0; i < 2 * 5 * 768; i++) ((float *)x->data)[i] += 3.0f;
            g_range = 4.0;
            CHECK(run_rownorm(ops[oi], x, rand_tensor(pt, 1, d768), rand_tensor(pt, 1, d768), 1e-12f));
            int64_t wide[2] = {3, 20001}, dw[1] = {20001};
            CHECK(run_rownorm(ops[oi], rand_tensor(dt, 2, wide), rand_tensor(pt, 1, dw), rand_tensor(pt, 1, dw),
                              1e-5f));
        }
    }
}

static void test_layer_rms_norm(void) { for_each_config(rownorm_cases); }

/* ---- group norm and batch norm ----------------------------------------------------------------------------------- */

/* Channel of dst's linear element e (x [N, C, ...]). */
static int64_t channel_of(const accel_tensor *t, int64_t e) {
    int64_t s = 1;
    for (int d = 2; d < t->ndim; d++) s *= t->shape[d];
    return e / s % t->shape[1];
}

static bool run_group_norm(accel_tensor *x, int groups, accel_tensor *w, accel_tensor *b, float eps) {
    accel_tensor *t = node(ACCEL_OP_GROUP_NORM, x->dtype, x->ndim, x->shape, x, w, b);
    t->params[0] = groups;
    accel_param_set_f32(t, 1, eps);
    if (!compute(t)) return false;
    int64_t n = accel_nelements(t), per = n / t->shape[0] / groups; /* elements per group */
    double *ref = malloc((size_t)n * sizeof(double));
    for (int64_t g0 = 0; g0 < n; g0 += per) { /* groups are contiguous runs of the (contiguous) output */
        double mean = 0, var = 0;
        for (int64_t e = g0; e < g0 + per; e++) mean += at(x, t, e);
        mean /= (double)per;
        for (int64_t e = g0; e < g0 + per; e++) var += (at(x, t, e) - mean) * (at(x, t, e) - mean);
        var /= (double)per;
        for (int64_t e = g0; e < g0 + per; e++) {
            int64_t c = channel_of(t, e);
            double y = (at(x, t, e) - mean) / sqrt(var + eps);
            if (w) y *= accel_load_f64((char *)w->data + c * w->stride[0], w->dtype);
            if (b) y += accel_load_f64((char *)b->data + c * b->stride[0], b->dtype);
            ref[e] = y;
        }
    }
    bool ok = check_nmse("group_norm", t, ref, 1e-12);
    free(ref);
    return ok;
}

static bool run_batch_norm(accel_tensor *x, accel_tensor *mean, accel_tensor *var, accel_tensor *w, accel_tensor *b,
                           float eps) {
    accel_tensor *t = node(ACCEL_OP_BATCH_NORM, x->dtype, x->ndim, x->shape, x, mean, var);
    t->src[3] = w;
    t->src[4] = b;
    accel_param_set_f32(t, 0, eps);
    if (!compute(t)) return false;
    int64_t n = accel_nelements(t);
    double *ref = malloc((size_t)n * sizeof(double));
#define PARAM(p, c) accel_load_f64((char *)(p)->data + (c) * (p)->stride[0], (p)->dtype)
    for (int64_t e = 0; e < n; e++) {
        int64_t c = channel_of(t, e);
        double y = (at(x, t, e) - PARAM(mean, c)) / sqrt(PARAM(var, c) + eps);
        if (w) y *= PARAM(w, c);
        if (b) y += PARAM(b, c);
        ref[e] = y;
    }
#undef PARAM
    bool ok = check_nmse("batch_norm", t, ref, 1e-12);
    free(ref);
    return ok;
}

static void chan_norm_cases(void) {
    for (int di = 0; di < 3; di++) {
        accel_dtype dt = k_floats[di], pt = k_floats[(di + 1) % 3];
        int64_t x4[4] = {2, 6, 5, 7}, x3[3] = {1, 4, 33}, x2[2] = {3, 8}, c6[1] = {6}, c4[1] = {4}, c8[1] = {8};
        CHECK(run_group_norm(rand_tensor(dt, 4, x4), 3, rand_tensor(pt, 1, c6), rand_tensor(pt, 1, c6), 1e-5f));
        CHECK(run_group_norm(rand_tensor(dt, 4, x4), 1, NULL, NULL, 1e-5f));
        CHECK(run_group_norm(rand_tensor(dt, 3, x3), 4, rand_tensor(pt, 1, c4), NULL, 1e-5f));
        CHECK(run_group_norm(rand_tensor(dt, 2, x2), 2, NULL, rand_tensor(pt, 1, c8), 1e-5f));
        CHECK(run_group_norm(rand_transposed(dt, 4, x4), 2, rand_sliced(pt, 1, c6), NULL, 1e-5f));
        int64_t wav[3] = {1, 8, 9000}; /* long channels cross chunk boundaries */
        CHECK(run_group_norm(rand_tensor(dt, 3, wav), 8, rand_tensor(pt, 1, c8), rand_tensor(pt, 1, c8), 1e-5f));

        accel_tensor *var6 = rand_tensor(pt, 1, c6), *var8 = rand_tensor(pt, 1, c8);
        int64_t pes = (int64_t)accel_dtype_size(pt); /* variances must be positive */
        for (int c = 0; c < 6; c++) accel_store_f64((char *)var6->data + c * pes, pt, 0.5 + c);
        for (int c = 0; c < 8; c++) accel_store_f64((char *)var8->data + c * pes, pt, 0.25 + c);
        CHECK(run_batch_norm(rand_tensor(dt, 4, x4), rand_tensor(pt, 1, c6), var6, rand_tensor(pt, 1, c6),
                             rand_tensor(pt, 1, c6), 1e-5f));
        CHECK(run_batch_norm(rand_tensor(dt, 2, x2), rand_tensor(pt, 1, c8), var8, NULL, NULL, 1e-5f));
        CHECK(run_batch_norm(rand_transposed(dt, 4, x4), rand_tensor(pt, 1, c6), var6, NULL, rand_tensor(pt, 1, c6),
                             1e-3f));
    }
}

static void test_group_batch_norm(void) { for_each_config(chan_norm_cases); }

/* ---- supports: honest refusals ----------------------------------------------------------------------------------- */

static void test_supports(void) {
    int64_t s[2] = {4, 8}, bad[2] = {4, 3}, c8[1] = {8};
    accel_tensor *f = rand_tensor(ACCEL_F32, 2, s), *i32 = rand_tensor(ACCEL_I32, 2, s);
    accel_tensor *t = node(ACCEL_OP_ADD, ACCEL_F32, 2, s, f, i32, NULL);
    CHECK(!g_table[ACCEL_OP_ADD].supports(t)); /* integer operand */
    t = node(ACCEL_OP_ADD, ACCEL_F32, 2, s, f, rand_tensor(ACCEL_F32, 2, bad), NULL);
    CHECK(!g_table[ACCEL_OP_ADD].supports(t)); /* not broadcastable */
    t = node(ACCEL_OP_GELU, ACCEL_F16, 2, s, f, NULL, NULL);
    CHECK(!g_table[ACCEL_OP_GELU].supports(t)); /* output dtype differs */
    t = node(ACCEL_OP_CPY, ACCEL_Q8_0, 2, s, f, NULL, NULL);
    CHECK(!g_table[ACCEL_OP_CPY].supports(t)); /* block types */
    t = node(ACCEL_OP_CPY, ACCEL_I64, 2, s, i32, NULL, NULL);
    CHECK(g_table[ACCEL_OP_CPY].supports(t));
    t = node(ACCEL_OP_GROUP_NORM, ACCEL_F32, 2, s, f, NULL, NULL);
    t->params[0] = 3; /* 8 channels do not split in 3 groups */
    CHECK(!g_table[ACCEL_OP_GROUP_NORM].supports(t));
    t = node(ACCEL_OP_LAYER_NORM, ACCEL_F32, 2, s, f, rand_tensor(ACCEL_F32, 1, c8), i32);
    CHECK(!g_table[ACCEL_OP_LAYER_NORM].supports(t)); /* integer bias */
    t = node(ACCEL_OP_BATCH_NORM, ACCEL_F32, 2, s, f, NULL, rand_tensor(ACCEL_F32, 1, c8));
    CHECK(!g_table[ACCEL_OP_BATCH_NORM].supports(t)); /* mean is required */
    t = node(ACCEL_OP_SOFTMAX, ACCEL_F32, 2, s, f, i32, NULL);
    CHECK(!g_table[ACCEL_OP_SOFTMAX].supports(t)); /* integer mask */
    kt_free_all();
}

/* ---- ISA selection and the device -------------------------------------------------------------------------------- */

static void test_isa_override(void) {
    cpu_isa best = cpu_detect_isa();
    CHECK(best == g_best);
    setenv("ACCEL_CPU_ISA", "portable", 1);
    CHECK(cpu_detect_isa() == CPU_ISA_PORTABLE);
    setenv("ACCEL_CPU_ISA", "avx2", 1);
    CHECK(cpu_detect_isa() == (best >= CPU_ISA_AVX2 && best <= CPU_ISA_AVX512 ? CPU_ISA_AVX2 : best));
    setenv("ACCEL_CPU_ISA", "avx512", 1); /* never above what the CPU has */
    CHECK(cpu_detect_isa() == best);
    cpu_ctx c = {0};
    setenv("ACCEL_CPU_ISA", "portable", 1);
    cpu_detect_features(&c);
    CHECK(c.isa == CPU_ISA_PORTABLE && !c.has_avx512_bf16 && !c.has_amx);
    setenv("ACCEL_CPU_ISA", "bogus", 1);
    CHECK(cpu_detect_isa() == best);
    unsetenv("ACCEL_CPU_ISA");
    printf("     detected ISA: %s\n", cpu_isa_name(best));
}

static accel_device *g_dev;
static void capture(accel_device *dev) { g_dev = dev; }

static void test_device(void) {
    CHECK(accel_cpu_backend_reg.enumerate(capture) == ACCEL_OK);
    CHECK_STR_EQ(accel_cpu_backend_reg.name, "cpu");
    if (!g_dev) return;
    CHECK_STR_EQ(g_dev->iface.name(g_dev), "cpu");
    const char *desc = g_dev->iface.description(g_dev);
    printf("     description: %s\n", desc);
    CHECK(strstr(desc, cpu_isa_name(cpu_detect_isa())) != NULL);
    CHECK(strstr(desc, "thread") != NULL);
    CHECK(g_dev->iface.type(g_dev) == ACCEL_DEVICE_CPU);
    CHECK(g_dev->priority == 10);
    CHECK(g_dev->iface.buffer_type(g_dev) == accel_host_buffer_type());
    CHECK(g_dev->iface.supports_buft(g_dev, accel_host_buffer_type()));

    /* a small graph of nodes computed through the device: gelu(x) + y, then softmax */
    int64_t s[2] = {4, 9};
    accel_tensor *x = rand_tensor(ACCEL_F32, 2, s), *y = rand_tensor(ACCEL_F16, 2, s);
    accel_tensor *g = node(ACCEL_OP_GELU, ACCEL_F32, 2, s, x, NULL, NULL);
    accel_tensor *a = node(ACCEL_OP_ADD, ACCEL_F32, 2, s, g, y, NULL);
    accel_tensor *sm = node(ACCEL_OP_SOFTMAX, ACCEL_F32, 2, s, a, NULL, NULL);
    accel_param_set_f32(sm, 0, 1.0f);
    accel_tensor *nodes[3] = {g, a, sm};
    for (int i = 0; i < 3; i++) CHECK(g_dev->iface.supports_op(g_dev, nodes[i]));
    void *state = NULL;
    CHECK(g_dev->iface.compute_init(g_dev, 2, &state) == ACCEL_OK);
    CHECK(g_dev->iface.compute(g_dev, state, nodes, 3) == ACCEL_OK);
    double *ref = malloc(36 * sizeof(double));
    for (int r = 0; r < 4; r++) {
        double v[9], mx = -INFINITY, sum = 0;
        for (int j = 0; j < 9; j++) {
            v[j] = unary_ref(ACCEL_OP_GELU, at(x, x, r * 9 + j), 0, 0) + at(y, y, r * 9 + j);
            mx = fmax(mx, v[j]);
        }
        for (int j = 0; j < 9; j++) sum += (v[j] = exp(v[j] - mx));
        for (int j = 0; j < 9; j++) ref[r * 9 + j] = v[j] / sum;
    }
    CHECK(check_nmse("device gelu+add+softmax", sm, ref, 1e-12));
    free(ref);

    /* refusals come back as errors, not crashes */
    accel_tensor *bad = node(ACCEL_OP_ADD, ACCEL_F32, 2, s, x, rand_tensor(ACCEL_I32, 2, s), NULL);
    CHECK(!g_dev->iface.supports_op(g_dev, bad));
    accel_tensor *bad_nodes[1] = {bad};
    CHECK(g_dev->iface.compute(g_dev, state, bad_nodes, 1) == ACCEL_ERR_UNSUPPORTED);
    accel_tensor *nomem = node(ACCEL_OP_RELU, ACCEL_F32, 2, s, x, NULL, NULL);
    nomem->data = NULL;
    accel_tensor *nomem_nodes[1] = {nomem};
    CHECK(g_dev->iface.compute(g_dev, state, nomem_nodes, 1) == ACCEL_ERR_INVALID_ARG);
    g_dev->iface.compute_free(g_dev, state);
    g_dev->iface.compute_free(g_dev, NULL);
    kt_free_all();
}

int main(void) {
    g_best = cpu_detect_isa();
    cpu_register_elementwise(g_table);
    cpu_register_norm(g_table);
    RUN(test_isa_override);
    RUN(test_vec_math_accuracy);
    RUN(test_supports);
    RUN(test_cpy);
    RUN(test_unary);
    RUN(test_binary);
    RUN(test_softmax);
    RUN(test_layer_rms_norm);
    RUN(test_group_batch_norm);
    RUN(test_device);
    kt_ctx_release(&g_ctx);
    return test_summary();
}
