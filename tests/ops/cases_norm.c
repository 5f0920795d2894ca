/* Cases: SOFTMAX (scale, masks with -inf, causal with fewer rows than columns) and the normalizations
 * LAYER_NORM, RMS_NORM, GROUP_NORM, BATCH_NORM (every float dtype of input and parameters, NULL parameters). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define NO_DTYPE ((accel_dtype)-1)

static const char *dt_or_none(accel_dtype dt) { return dt == NO_DTYPE ? "none" : accel_dtype_name(dt); }

/* ---- softmax ----------------------------------------------------------------------------------------------- */
typedef struct softmax_params {
    accel_dtype tx, tm; /* tm = NO_DTYPE: no mask */
    int nd, ndm;
    int64_t sx[ACCEL_MAX_DIMS], sm[ACCEL_MAX_DIMS];
    layout lx;
    fill_kind mask_fill;
    float scale;
    bool causal;
    double range; /* x in [-range, range) */
} softmax_params;

static int build_softmax(build_ctx *c, const void *pp, accel_tensor **out) {
    const softmax_params *p = pp;
    accel_tensor *x = in_tensor(c, p->tx, p->nd, p->sx, FILL_U(-p->range, p->range), p->lx);
    accel_tensor *m = NULL;
    if (p->tm != NO_DTYPE) m = in_tensor(c, p->tm, p->ndm, p->sm, (fill_spec){p->mask_fill, -2, 2}, LAYOUT_CONTIG);
    out[0] = accel_softmax(c->g, x, m, p->scale, p->causal);
    return 1;
}

static op_case *add_softmax_range(case_list *l, accel_dtype tx, const int64_t *sx, int nd, layout lx, accel_dtype tm,
                                  const int64_t *sm, int ndm, fill_kind mf, float scale, bool causal, double range) {
    softmax_params p = {.tx = tx, .tm = tm, .nd = nd, .ndm = ndm, .lx = lx, .mask_fill = mf, .scale = scale,
                        .causal = causal, .range = range};
    memcpy(p.sx, sx, sizeof(int64_t) * (size_t)nd);
    if (ndm) memcpy(p.sm, sm, sizeof(int64_t) * (size_t)ndm);
    char s1[64], s2[64] = "";
    if (tm != NO_DTYPE) shape_str(s2, sizeof s2, ndm, sm);
    return case_add(l, "softmax", build_softmax, &p, sizeof p, tol(NMSE_REDUCE, tx, 1),
             "x=%s%s in +-%g %s mask=%s%s%s scale=%g%s", accel_dtype_name(tx), shape_str(s1, sizeof s1, nd, sx),
             range, layout_name(lx), dt_or_none(tm), s2, mf == FILL_MASK_ROWS ? " (rows all -inf)" : "", scale,
             causal ? " causal" : "");
}

static op_case *add_softmax(case_list *l, accel_dtype tx, const int64_t *sx, int nd, layout lx, accel_dtype tm,
                            const int64_t *sm, int ndm, fill_kind mf, float scale, bool causal) {
    return add_softmax_range(l, tx, sx, nd, lx, tm, sm, ndm, mf, scale, causal, 4);
}

static void softmax_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, N = NO_DTYPE;
    const layout C = LAYOUT_CONTIG;
    const int64_t *none = NULL;
    if (l->perf) {
        /* the bar: 4096x4096 f32 against memcpy of the same bytes */
        case_mark_bar(add_softmax(l, F, SH(4096, 4096), C, N, none, 0, FILL_MASK, 1.0f, false), "bandwidth");
        add_softmax(l, ACCEL_F16, SH(4096, 4096), C, N, none, 0, FILL_MASK, 1.0f, false);
        add_softmax(l, F, SH(16, 512, 512), C, F, SH(512, 512), FILL_MASK, 0.125f, true);
        return;
    }
    static const accel_dtype masks[4] = {NO_DTYPE, ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            add_softmax(l, k_float_types[i], SH(2, 3, 5, 17), C, masks[j], SH(2, 1, 5, 17), FILL_MASK, 0.7f, false);
    add_softmax(l, F, SH(2, 4, 5, 9), C, N, none, 0, FILL_MASK, 0.125f, true);
    add_softmax(l, F, SH(2, 4, 5, 9), C, F, SH(1, 1, 5, 9), FILL_MASK, 0.125f, true);
    add_softmax(l, ACCEL_F16, SH(3, 8, 8), C, N, none, 0, FILL_MASK, 1.0f, true);
    add_softmax(l, ACCEL_BF16, SH(2, 3, 7, 20), C, ACCEL_F16, SH(2, 1, 7, 20), FILL_MASK, 0.3f, true);
    add_softmax(l, F, SH(2, 3, 5, 17), C, F, SH(1, 1, 1, 17), FILL_MASK, 1.0f, false);
    add_softmax(l, F, SH(2, 3, 5, 17), C, F, SH(17), FILL_MASK, 1.0f, false);
    add_softmax(l, F, SH(4, 6, 10), C, F, SH(6, 10), FILL_MASK_ROWS, 1.0f, false);
    add_softmax(l, ACCEL_F16, SH(4, 6, 10), C, F, SH(6, 10), FILL_MASK_ROWS, 0.5f, false);
    add_softmax(l, F, SH(4, 1), C, N, none, 0, FILL_MASK, 1.0f, true); /* rows 0..2 see no column: zeros */
    add_softmax(l, F, SH(1), C, N, none, 0, FILL_MASK, 1.0f, false);
    add_softmax(l, F, SH(2, 5, 3, 17), LAYOUT_HEADS, F, SH(2, 1, 3, 17), FILL_MASK, 1.0f, false);
    add_softmax(l, F, SH(6, 9), LAYOUT_TRANSPOSED, N, none, 0, FILL_MASK, 1.0f, true);
    add_softmax(l, ACCEL_F16, SH(6, 9), LAYOUT_SLICED, N, none, 0, FILL_MASK, 2.0f, false);
    add_softmax(l, F, SH(64, 4096), C, N, none, 0, FILL_MASK, 1.0f, false);
    add_softmax(l, F, SH(3, 4097), C, F, SH(3, 4097), FILL_MASK, 1.0f, false);
    add_softmax(l, ACCEL_F16, SH(8, 4096), C, ACCEL_F16, SH(8, 4096), FILL_MASK, 1.0f, false);
    add_softmax(l, ACCEL_BF16, SH(2, 4, 128, 256), C, N, none, 0, FILL_MASK, 0.125f, true);
    /* logits far beyond exp's f32 range: only a max-subtracted softmax survives */
    add_softmax_range(l, F, SH(5, 300), C, N, none, 0, FILL_MASK, 1.0f, false, 200);
    add_softmax_range(l, ACCEL_F16, SH(5, 300), C, F, SH(5, 300), FILL_MASK, 1.0f, false, 1000);
    add_softmax_range(l, F, SH(2, 7, 40), C, F, SH(7, 40), FILL_MASK_ROWS, 3.0f, true, 100);
}

/* ---- layer norm, rms norm ---------------------------------------------------------------------------------- */
typedef enum norm_kind { NORM_LAYER, NORM_RMS, NORM_GROUP, NORM_BATCH } norm_kind;

typedef struct norm_params {
    norm_kind op;
    accel_dtype tx, tp; /* input, parameters */
    bool weight, bias;
    int nd;
    int64_t sx[ACCEL_MAX_DIMS];
    layout lx;
    int groups;
    float eps;
} norm_params;

static int build_norm(build_ctx *c, const void *pp, accel_tensor **out) {
    const norm_params *p = pp;
    /* inputs with a non-zero mean: a one-pass variance loses precision there */
    accel_tensor *x = in_tensor(c, p->tx, p->nd, p->sx, FILL_U(1, 3), p->lx);
    int64_t n = p->op == NORM_LAYER || p->op == NORM_RMS ? p->sx[p->nd - 1] : p->sx[1];
    accel_tensor *mean = NULL, *var = NULL;
    if (p->op == NORM_BATCH) {
        mean = IN(c, p->tp, FILL_U(1, 3), n);
        var = IN(c, p->tp, FILL_U(0.25, 2), n);
    }
    accel_tensor *w = p->weight ? IN(c, p->tp, FILL_U(0.5, 1.5), n) : NULL;
    accel_tensor *b = p->bias ? IN(c, p->tp, FILL_U(-1, 1), n) : NULL;
    switch (p->op) {
    case NORM_LAYER: out[0] = accel_layer_norm(c->g, x, w, b, p->eps); break;
    case NORM_RMS: out[0] = accel_rms_norm(c->g, x, w, p->eps); break;
    case NORM_GROUP: out[0] = accel_group_norm(c->g, x, p->groups, w, b, p->eps); break;
    default: out[0] = accel_batch_norm(c->g, x, mean, var, w, b, p->eps); break;
    }
    return 1;
}

static op_case *add_norm(case_list *l, norm_kind op, accel_dtype tx, accel_dtype tp, bool w, bool b, const int64_t *sx,
                     int nd, layout lx, int groups, float eps) {
    norm_params p = {.op = op, .tx = tx, .tp = tp, .weight = w, .bias = b, .nd = nd, .lx = lx, .groups = groups,
                     .eps = eps};
    memcpy(p.sx, sx, sizeof(int64_t) * (size_t)nd);
    const char *name = op == NORM_LAYER ? "layer_norm"
                       : op == NORM_RMS ? "rms_norm"
                       : op == NORM_GROUP ? "group_norm"
                                                   : "batch_norm";
    char s[64], g[24] = "";
    if (op == NORM_GROUP) snprintf(g, sizeof g, " groups=%d", groups);
    return case_add(l, name, build_norm, &p, sizeof p, tol(NMSE_REDUCE, tx, 1), "x=%s%s %s params=%s weight=%s bias=%s%s eps=%g",
             accel_dtype_name(tx), shape_str(s, sizeof s, nd, sx), layout_name(lx), accel_dtype_name(tp),
             w ? "yes" : "no", b ? "yes" : "no", g, eps);
}

static void norm_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, B = ACCEL_BF16;
    const norm_kind LN = NORM_LAYER, RN = NORM_RMS, GN = NORM_GROUP,
                   BN = NORM_BATCH;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        case_mark_bar(add_norm(l, LN, F, F, true, true, SH(4096, 4096), C, 0, 1e-5f), "bandwidth");
        add_norm(l, RN, F, F, true, false, SH(4096, 4096), C, 0, 1e-6f);
        add_norm(l, GN, F, F, true, true, SH(1, 512, 64, 64), C, 32, 1e-5f);
        add_norm(l, BN, F, F, true, true, SH(1, 256, 56, 56), C, 0, 1e-5f);
        return;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            accel_dtype tx = k_float_types[i], tp = k_float_types[j];
            add_norm(l, LN, tx, tp, true, true, SH(3, 5, 33), C, 0, 1e-5f);
            add_norm(l, RN, tx, tp, true, false, SH(3, 5, 33), C, 0, 1e-6f);
            add_norm(l, GN, tx, tp, true, true, SH(2, 6, 5, 7), C, 3, 1e-5f);
            add_norm(l, BN, tx, tp, true, true, SH(2, 6, 5, 7), C, 0, 1e-5f);
        }
    /* layer norm */
    add_norm(l, LN, F, F, false, false, SH(3, 5, 33), C, 0, 1e-5f);
    add_norm(l, LN, F, F, true, false, SH(3, 5, 33), C, 0, 1e-12f);
    add_norm(l, LN, F, F, false, true, SH(4, 3), C, 0, 1e-5f);
    add_norm(l, LN, F, F, true, true, SH(1, 1), C, 0, 1e-5f); /* zero variance: the output is the bias */
    add_norm(l, LN, F, F, true, true, SH(7, 12), LAYOUT_TRANSPOSED, 0, 1e-5f);
    add_norm(l, LN, H, F, true, true, SH(2, 3, 4, 16), LAYOUT_HEADS, 0, 1e-5f);
    add_norm(l, LN, F, F, true, true, SH(5, 9), LAYOUT_SLICED, 0, 1e-5f);
    add_norm(l, LN, F, F, true, true, SH(16, 4096), C, 0, 1e-5f);
    add_norm(l, LN, B, F, true, true, SH(16, 4097), C, 0, 1e-5f);
    /* rms norm */
    add_norm(l, RN, F, F, false, false, SH(3, 5, 33), C, 0, 1e-6f);
    add_norm(l, RN, F, F, true, false, SH(7, 12), LAYOUT_TRANSPOSED, 0, 1e-6f);
    add_norm(l, RN, B, B, true, false, SH(2, 3, 4, 16), LAYOUT_HEADS, 0, 1e-6f);
    add_norm(l, RN, F, F, true, false, SH(1), C, 0, 1e-6f);
    add_norm(l, RN, F, F, true, false, SH(16, 4096), C, 0, 1e-6f);
    add_norm(l, RN, H, F, true, false, SH(16, 4097), C, 0, 1e-6f);
    /* group norm */
    add_norm(l, GN, F, F, true, true, SH(2, 6, 5, 7), C, 1, 1e-5f);
    add_norm(l, GN, F, F, true, true, SH(2, 6, 5, 7), C, 6, 1e-5f);
    add_norm(l, GN, F, F, false, false, SH(2, 6, 5, 7), C, 2, 1e-5f);
    add_norm(l, GN, F, F, true, true, SH(2, 8, 11), C, 4, 1e-5f);
    add_norm(l, GN, F, F, true, true, SH(2, 6, 5, 7), LAYOUT_PERMUTED, 3, 1e-5f);
    add_norm(l, GN, H, H, true, true, SH(2, 6, 5, 7), LAYOUT_SLICED, 3, 1e-5f);
    add_norm(l, GN, F, F, true, true, SH(1, 32, 64, 64), C, 32, 1e-6f);
    /* batch norm */
    add_norm(l, BN, F, F, true, true, SH(2, 6, 11), C, 0, 1e-5f);
    add_norm(l, BN, F, F, false, false, SH(2, 6, 5, 7), C, 0, 1e-5f);
    add_norm(l, BN, F, F, true, true, SH(2, 6, 5, 7), LAYOUT_PERMUTED, 0, 1e-5f);
    add_norm(l, BN, B, F, true, true, SH(2, 6, 5, 7), LAYOUT_BCAST, 0, 1e-5f);
    add_norm(l, BN, F, F, true, true, SH(1, 64, 56, 56), C, 0, 1e-5f);
}

void cases_norm(case_list *l) {
    softmax_cases(l);
    norm_cases(l);
}
