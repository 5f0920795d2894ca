/* Cases: CPY (accel_cont / accel_cast), ADD/SUB/MUL/DIV, SCALE and the unary activations. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* ---- cpy / cast ------------------------------------------------------------------------------------------- */
typedef struct cpy_params {
    accel_dtype src, dst;
    int nd;
    int64_t shape[ACCEL_MAX_DIMS];
    layout lay;
    fill_spec fill; /* kind FILL_UNIFORM with lo == hi == 0: the default ranges of cpy_fill() */
} cpy_params;

/* Ranges that exercise float->int truncation and saturation, and int->float values a float holds exactly
 * (f32) or rounds once (f16/bf16), so every conversion has one correctly rounded answer. */
static fill_spec cpy_fill(accel_dtype src, accel_dtype dst) {
    if (dtype_is_float(src)) {
        double r = dst == ACCEL_I8 ? 300.7 : dst == ACCEL_I32 ? 3e9 : dst == ACCEL_I64 ? 1e12 : 100.0;
        if (src == ACCEL_F16 && r > 70000) r = 70000; /* part of the values overflow to inf: they saturate */
        return FILL_U(-r, r);
    }
    if (src == ACCEL_I8) return FILL_U(-128, 127);
    if (dtype_is_float(dst)) return FILL_U(-5000, 5000);
    return src == ACCEL_I32 ? FILL_U(-2147483648.0, 2147483647.0) : FILL_U(-5e9, 5e9);
}

static int build_cpy(build_ctx *c, const void *pp, accel_tensor **out) {
    const cpy_params *p = pp;
    bool dflt = p->fill.kind == FILL_UNIFORM && p->fill.lo == 0 && p->fill.hi == 0;
    accel_tensor *x = in_tensor(c, p->src, p->nd, p->shape, dflt ? cpy_fill(p->src, p->dst) : p->fill, p->lay);
    out[0] = p->src == p->dst ? accel_cont(c->g, x) : accel_cast(c->g, x, p->dst);
    return 1;
}

static void add_cpy_fill(case_list *l, accel_dtype src, accel_dtype dst, const int64_t *shape, int nd, layout lay,
                         fill_spec fill, const char *note) {
    cpy_params p = {.src = src, .dst = dst, .nd = nd, .lay = lay, .fill = fill};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    char s[64];
    case_add(l, "cpy", build_cpy, &p, sizeof p, 0.0, "%s %s->%s %s %s%s", src == dst ? "cont" : "cast",
             accel_dtype_name(src), accel_dtype_name(dst), shape_str(s, sizeof s, nd, shape), layout_name(lay), note);
}

static void add_cpy(case_list *l, accel_dtype src, accel_dtype dst, const int64_t *shape, int nd, layout lay) {
    add_cpy_fill(l, src, dst, shape, nd, lay, FILL_U(0, 0), "");
}

static void cpy_cases(case_list *l) {
    if (l->perf) {
        add_cpy(l, ACCEL_F32, ACCEL_F16, SH(4096, 4096), LAYOUT_CONTIG);
        add_cpy(l, ACCEL_F32, ACCEL_F32, SH(4096, 4096), LAYOUT_TRANSPOSED);
        return;
    }
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) add_cpy(l, k_all_types[i], k_all_types[j], SH(7, 33), LAYOUT_CONTIG);
    /* non-contiguous sources, to the same dtype and across a dtype boundary */
    static const layout lays[] = {LAYOUT_TRANSPOSED, LAYOUT_PERMUTED, LAYOUT_HEADS, LAYOUT_SLICED, LAYOUT_BCAST};
    for (int i = 0; i < 6; i++) {
        accel_dtype src = k_all_types[i], other = dtype_is_float(src) ? (src == ACCEL_F16 ? ACCEL_BF16 : ACCEL_F16)
                                                                      : ACCEL_F32;
        for (size_t k = 0; k < sizeof lays / sizeof lays[0]; k++) {
            add_cpy(l, src, src, SH(3, 4, 5, 6), lays[k]);
            add_cpy(l, src, other, SH(3, 4, 5, 6), lays[k]);
        }
    }
    add_cpy(l, ACCEL_F32, ACCEL_F16, SH(1), LAYOUT_CONTIG);
    add_cpy(l, ACCEL_F32, ACCEL_F32, SH(1, 1, 1), LAYOUT_PERMUTED);
    add_cpy(l, ACCEL_F16, ACCEL_F32, SH(1, 5, 1), LAYOUT_PERMUTED);
    add_cpy(l, ACCEL_F32, ACCEL_BF16, SH(2, 1, 3, 1, 2, 5), LAYOUT_PERMUTED);
    add_cpy(l, ACCEL_I32, ACCEL_I64, SH(2, 1, 3, 1, 2, 5), LAYOUT_TRANSPOSED);
    add_cpy(l, ACCEL_F32, ACCEL_F16, SH(64, 4096), LAYOUT_CONTIG);
    add_cpy(l, ACCEL_F16, ACCEL_F32, SH(64, 4097), LAYOUT_CONTIG);
    add_cpy(l, ACCEL_BF16, ACCEL_F32, SH(64, 4096), LAYOUT_CONTIG);
    add_cpy(l, ACCEL_F32, ACCEL_BF16, SH(64, 4096), LAYOUT_CONTIG);
    add_cpy(l, ACCEL_F32, ACCEL_F32, SH(512, 513), LAYOUT_TRANSPOSED);
    add_cpy(l, ACCEL_F16, ACCEL_F16, SH(8, 64, 130), LAYOUT_HEADS);
    /* edges of the conversions: overflow to inf, f16 subnormals, NaN/inf to every dtype (NaN -> 0 in integers,
     * infinities saturate) */
    add_cpy_fill(l, ACCEL_F32, ACCEL_F16, SH(9, 65), LAYOUT_CONTIG, FILL_U(-1e5, 1e5), " (overflow)");
    add_cpy_fill(l, ACCEL_F32, ACCEL_F16, SH(9, 65), LAYOUT_CONTIG, FILL_U(-1e-4, 1e-4), " (subnormals)");
    add_cpy_fill(l, ACCEL_F32, ACCEL_BF16, SH(9, 65), LAYOUT_CONTIG, FILL_U(-1e-38, 1e-38), " (subnormals)");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 6; j++)
            add_cpy_fill(l, k_float_types[i], k_all_types[j], SH(7, 33), LAYOUT_CONTIG, (fill_spec){FILL_SPECIAL, -300, 300},
                         " (NaN, inf)");
}

/* ---- binary ----------------------------------------------------------------------------------------------- */
typedef enum binary_kind { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } binary_kind;

typedef struct binary_params {
    binary_kind op;
    accel_dtype ta, tb;
    int nda, ndb;
    int64_t sa[ACCEL_MAX_DIMS], sb[ACCEL_MAX_DIMS];
    layout la, lb;
} binary_params;

static const char *binary_name(binary_kind op) {
    return op == BIN_ADD ? "add" : op == BIN_SUB ? "sub" : op == BIN_MUL ? "mul" : "div";
}

static int build_binary(build_ctx *c, const void *pp, accel_tensor **out) {
    const binary_params *p = pp;
    accel_tensor *a = in_tensor(c, p->ta, p->nda, p->sa, FILL_U(-2, 2), p->la);
    /* divisors away from zero: the quotient stays well conditioned */
    fill_spec fb = p->op == BIN_DIV ? FILL_NZ(0.5, 2) : FILL_U(-2, 2);
    accel_tensor *b = in_tensor(c, p->tb, p->ndb, p->sb, fb, p->lb);
    switch (p->op) {
    case BIN_ADD: out[0] = accel_add(c->g, a, b); break;
    case BIN_SUB: out[0] = accel_sub(c->g, a, b); break;
    case BIN_MUL: out[0] = accel_mul(c->g, a, b); break;
    default: out[0] = accel_div(c->g, a, b); break;
    }
    return 1;
}

static void add_binary(case_list *l, binary_kind op, accel_dtype ta, accel_dtype tb, const int64_t *sa, int nda,
                       const int64_t *sb, int ndb, layout la, layout lb) {
    binary_params p = {.op = op, .ta = ta, .tb = tb, .nda = nda, .ndb = ndb, .la = la, .lb = lb};
    memcpy(p.sa, sa, sizeof(int64_t) * (size_t)nda);
    memcpy(p.sb, sb, sizeof(int64_t) * (size_t)ndb);
    char s1[64], s2[64];
    case_add(l, binary_name(op), build_binary, &p, sizeof p, tol(NMSE_ELEMENTWISE, ta, 1), "a=%s%s %s b=%s%s %s",
             accel_dtype_name(ta), shape_str(s1, sizeof s1, nda, sa), layout_name(la), accel_dtype_name(tb),
             shape_str(s2, sizeof s2, ndb, sb), layout_name(lb));
}

static void binary_cases(case_list *l) {
    static const binary_kind ops[] = {BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV};
    const layout C = LAYOUT_CONTIG;
    for (size_t o = 0; o < 4; o++) {
        binary_kind op = ops[o];
        if (l->perf) {
            add_binary(l, op, ACCEL_F32, ACCEL_F32, SH(4096, 4096), SH(4096, 4096), C, C);
            if (op == BIN_ADD) add_binary(l, op, ACCEL_F32, ACCEL_F32, SH(4096, 4096), SH(4096), C, C);
            continue;
        }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                accel_dtype ta = k_float_types[i], tb = k_float_types[j];
                add_binary(l, op, ta, tb, SH(3, 5, 17), SH(3, 5, 17), C, C);
                add_binary(l, op, ta, tb, SH(3, 5, 17), SH(5, 1), C, C);
            }
        const accel_dtype F = ACCEL_F32;
        add_binary(l, op, F, F, SH(3, 5, 17), SH(17), C, C);
        add_binary(l, op, F, F, SH(3, 5, 17), SH(1), C, C);
        add_binary(l, op, F, F, SH(3, 5, 17), SH(3, 1, 17), C, C);
        add_binary(l, op, F, F, SH(2, 1, 3, 1, 2, 5), SH(1, 3, 1, 1, 5), C, C);
        add_binary(l, op, F, F, SH(1, 1), SH(1, 1), C, C);
        add_binary(l, op, F, F, SH(1, 4097), SH(1, 4097), C, C);
        add_binary(l, op, F, F, SH(6, 9, 10), SH(6, 9, 10), LAYOUT_TRANSPOSED, LAYOUT_PERMUTED);
        add_binary(l, op, F, F, SH(6, 9, 10), SH(6, 9, 10), LAYOUT_SLICED, LAYOUT_HEADS);
        add_binary(l, op, F, F, SH(6, 9, 10), SH(6, 9, 10), C, LAYOUT_BCAST);
        add_binary(l, op, ACCEL_F16, ACCEL_BF16, SH(6, 9, 10), SH(9, 10), LAYOUT_PERMUTED, LAYOUT_TRANSPOSED);
        add_binary(l, op, F, F, SH(64, 4096), SH(4096), C, C);
        add_binary(l, op, ACCEL_F16, F, SH(64, 4096), SH(64, 4096), C, C);
    }
}

/* ---- scale ------------------------------------------------------------------------------------------------- */
typedef struct scale_params {
    accel_dtype dt;
    int nd;
    int64_t shape[ACCEL_MAX_DIMS];
    layout lay;
    float scale, bias;
} scale_params;

static int build_scale(build_ctx *c, const void *pp, accel_tensor **out) {
    const scale_params *p = pp;
    accel_tensor *x = in_tensor(c, p->dt, p->nd, p->shape, FILL_U(-3, 3), p->lay);
    out[0] = accel_scale(c->g, x, p->scale, p->bias);
    return 1;
}

static void add_scale(case_list *l, accel_dtype dt, const int64_t *shape, int nd, layout lay, float s, float b) {
    scale_params p = {.dt = dt, .nd = nd, .lay = lay, .scale = s, .bias = b};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    char sh[64];
    case_add(l, "scale", build_scale, &p, sizeof p, tol(NMSE_ELEMENTWISE, dt, 1), "%s%s %s scale=%g bias=%g",
             accel_dtype_name(dt), shape_str(sh, sizeof sh, nd, shape), layout_name(lay), s, b);
}

static void scale_cases(case_list *l) {
    if (l->perf) {
        add_scale(l, ACCEL_F32, SH(4096, 4096), LAYOUT_CONTIG, 0.125f, 1.0f);
        return;
    }
    for (int i = 0; i < 3; i++) {
        add_scale(l, k_float_types[i], SH(7, 33), LAYOUT_CONTIG, 0.125f, 0.5f);
        add_scale(l, k_float_types[i], SH(4, 6, 9), LAYOUT_TRANSPOSED, -1.5f, 0.0f);
        add_scale(l, k_float_types[i], SH(5, 9), LAYOUT_SLICED, 3.0f, -2.0f);
    }
    add_scale(l, ACCEL_F32, SH(1), LAYOUT_CONTIG, 2.0f, 1.0f);
    add_scale(l, ACCEL_F32, SH(3, 5, 7), LAYOUT_BCAST, 0.5f, 0.25f);
    add_scale(l, ACCEL_F32, SH(64, 4096), LAYOUT_CONTIG, 1.0f / 64, 0.0f);
}

/* ---- unary activations ------------------------------------------------------------------------------------ */
typedef struct unary_params {
    size_t which; /* index in k_unary */
    double range; /* 0: the activation's usual range */
    accel_dtype dt;
    int nd;
    int64_t shape[ACCEL_MAX_DIMS];
    layout lay;
} unary_params;

static const struct {
    const char *name;
    accel_tensor *(*fn)(accel_graph *, accel_tensor *);
    double range; /* inputs in [-range, range): covers both saturated tails */
} k_unary[] = {
    {"gelu", accel_gelu, 6},       {"gelu_tanh", accel_gelu_tanh, 6},
    {"quick_gelu", accel_quick_gelu, 6}, {"silu", accel_silu, 8},
    {"relu", accel_relu, 3},       {"tanh", accel_tanh, 10},
    {"sigmoid", accel_sigmoid, 10},
};
#define N_UNARY (sizeof k_unary / sizeof k_unary[0])

static int build_unary(build_ctx *c, const void *pp, accel_tensor **out) {
    const unary_params *p = pp;
    double r = p->range > 0 ? p->range : k_unary[p->which].range;
    accel_tensor *x = in_tensor(c, p->dt, p->nd, p->shape, FILL_U(-r, r), p->lay);
    out[0] = k_unary[p->which].fn(c->g, x);
    return 1;
}

static void add_unary_range(case_list *l, size_t which, accel_dtype dt, const int64_t *shape, int nd, layout lay,
                            double range) {
    unary_params p = {.which = which, .range = range, .dt = dt, .nd = nd, .lay = lay};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    char sh[64];
    /* relu is exact: max(x, 0) rounds nothing */
    double lim = k_unary[which].fn == accel_relu ? 0.0 : tol(NMSE_ELEMENTWISE, dt, 1);
    case_add(l, k_unary[which].name, build_unary, &p, sizeof p, lim, "%s%s %s in [-%g, %g)", accel_dtype_name(dt),
             shape_str(sh, sizeof sh, nd, shape), layout_name(lay), range > 0 ? range : k_unary[which].range,
             range > 0 ? range : k_unary[which].range);
}

static void add_unary(case_list *l, size_t which, accel_dtype dt, const int64_t *shape, int nd, layout lay) {
    add_unary_range(l, which, dt, shape, nd, lay, 0);
}

static void unary_cases(case_list *l) {
    for (size_t u = 0; u < N_UNARY; u++) {
        if (l->perf) {
            add_unary(l, u, ACCEL_F32, SH(4096, 4096), LAYOUT_CONTIG);
            if (k_unary[u].fn == accel_gelu) add_unary(l, u, ACCEL_F16, SH(4096, 4096), LAYOUT_CONTIG);
            continue;
        }
        for (int i = 0; i < 3; i++) add_unary(l, u, k_float_types[i], SH(7, 33), LAYOUT_CONTIG);
        add_unary(l, u, ACCEL_F32, SH(3, 4, 5), LAYOUT_PERMUTED);
        add_unary(l, u, ACCEL_F16, SH(3, 4, 5), LAYOUT_PERMUTED);
        add_unary(l, u, ACCEL_F32, SH(5, 9), LAYOUT_SLICED);
        add_unary(l, u, ACCEL_BF16, SH(5, 9), LAYOUT_SLICED);
        add_unary(l, u, ACCEL_F32, SH(1), LAYOUT_CONTIG);
        add_unary(l, u, ACCEL_F32, SH(64, 4096), LAYOUT_CONTIG);
        add_unary(l, u, ACCEL_F16, SH(16, 4097), LAYOUT_CONTIG);
        /* far tails: exp overflows there, so tanh = (e^2x - 1)/(e^2x + 1) style formulas give NaN */
        add_unary_range(l, u, ACCEL_F32, SH(4, 257), LAYOUT_CONTIG, 100);
        add_unary_range(l, u, ACCEL_F16, SH(4, 257), LAYOUT_CONTIG, 100);
    }
}

void cases_elementwise(case_list *l) {
    cpy_cases(l);
    binary_cases(l);
    scale_cases(l);
    unary_cases(l);
}
