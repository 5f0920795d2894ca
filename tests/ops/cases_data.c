/* Cases: GET_ROWS, CONCAT, PAD, WRITE (in place), the window partition/merge composites, SUM/MEAN/MAX/ARGMAX,
 * TOP_K (values and indices), CUMSUM and INTERPOLATE. Data movement, max, argmax and top-k must match ref
 * exactly. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* Values for plain data movement: any dtype, integers spanning a good part of their range. */
static fill_spec data_fill(accel_dtype dt) {
    switch (dt) {
    case ACCEL_I8: return FILL_U(-128, 127);
    case ACCEL_I32: return FILL_U(-2000000000.0, 2000000000.0);
    case ACCEL_I64: return FILL_U(-1e15, 1e15);
    default: return FILL_U(-2, 2);
    }
}

/* ---- get_rows ---------------------------------------------------------------------------------------------- */
typedef struct get_rows_params {
    accel_dtype tt, ti;
    int64_t V, D;
    int ndi;
    int64_t si[ACCEL_MAX_DIMS];
    layout lt;
    int bad; /* 0: ids in range; 1: ids >= V; 2: negative ids */
} get_rows_params;

static int build_get_rows(build_ctx *c, const void *pp, accel_tensor **out) {
    const get_rows_params *p = pp;
    accel_tensor *table = in_tensor(c, p->tt, 2, (const int64_t[]){p->V, p->D}, data_fill(p->tt), p->lt);
    fill_spec fi = p->bad == 1 ? FILL_U((double)p->V, (double)p->V + 3) : p->bad == 2 ? FILL_U(-4, -1)
                                                                                      : FILL_U(0, (double)p->V - 1);
    accel_tensor *ids = in_tensor(c, p->ti, p->ndi, p->si, fi, LAYOUT_CONTIG);
    out[0] = accel_get_rows(c->g, table, ids);
    return 1;
}

static void add_get_rows(case_list *l, accel_dtype tt, accel_dtype ti, int64_t V, int64_t D, const int64_t *si,
                         int ndi, layout lt, int bad) {
    get_rows_params p = {.tt = tt, .ti = ti, .V = V, .D = D, .ndi = ndi, .lt = lt, .bad = bad};
    memcpy(p.si, si, sizeof(int64_t) * (size_t)ndi);
    char s[64];
    op_case *c = case_add(l, "get_rows", build_get_rows, &p, sizeof p, 0.0, "table=%s[%lld,%lld] %s ids=%s%s%s",
                          accel_dtype_name(tt), (long long)V, (long long)D, layout_name(lt), accel_dtype_name(ti),
                          shape_str(s, sizeof s, ndi, si),
                          bad == 1 ? " (ids >= V: must fail)" : bad == 2 ? " (negative ids: must fail)" : "");
    c->expect_error = bad != 0;
}

static void get_rows_cases(case_list *l) {
    if (l->perf) {
        add_get_rows(l, ACCEL_F32, ACCEL_I32, 32000, 2048, SH(512), LAYOUT_CONTIG, 0);
        add_get_rows(l, ACCEL_F16, ACCEL_I64, 32000, 2048, SH(512), LAYOUT_CONTIG, 0);
        return;
    }
    for (int i = 0; i < 6; i++) {
        add_get_rows(l, k_all_types[i], ACCEL_I32, 50, 17, SH(3, 4), LAYOUT_CONTIG, 0);
        add_get_rows(l, k_all_types[i], ACCEL_I64, 50, 17, SH(3, 4), LAYOUT_CONTIG, 0);
    }
    add_get_rows(l, ACCEL_F32, ACCEL_I32, 10, 8, SH(7), LAYOUT_CONTIG, 0);
    add_get_rows(l, ACCEL_F32, ACCEL_I64, 1, 5, SH(1), LAYOUT_CONTIG, 0);
    add_get_rows(l, ACCEL_F32, ACCEL_I32, 20, 6, SH(2, 2, 3), LAYOUT_SLICED, 0);
    add_get_rows(l, ACCEL_F16, ACCEL_I32, 20, 6, SH(9), LAYOUT_TRANSPOSED, 0);
    add_get_rows(l, ACCEL_F32, ACCEL_I32, 4000, 512, SH(64), LAYOUT_CONTIG, 0);
    add_get_rows(l, ACCEL_BF16, ACCEL_I64, 32000, 64, SH(2, 33), LAYOUT_CONTIG, 0);
    add_get_rows(l, ACCEL_F32, ACCEL_I32, 10, 8, SH(7), LAYOUT_CONTIG, 1);
    add_get_rows(l, ACCEL_F32, ACCEL_I64, 10, 8, SH(7), LAYOUT_CONTIG, 1);
    add_get_rows(l, ACCEL_F16, ACCEL_I32, 10, 8, SH(3), LAYOUT_CONTIG, 2);
}

/* ---- concat ------------------------------------------------------------------------------------------------ */
typedef struct concat_params {
    accel_dtype dt;
    int nd, dim;
    int64_t sa[ACCEL_MAX_DIMS], sb[ACCEL_MAX_DIMS];
    layout la, lb;
} concat_params;

static int build_concat(build_ctx *c, const void *pp, accel_tensor **out) {
    const concat_params *p = pp;
    accel_tensor *a = in_tensor(c, p->dt, p->nd, p->sa, data_fill(p->dt), p->la);
    accel_tensor *b = in_tensor(c, p->dt, p->nd, p->sb, data_fill(p->dt), p->lb);
    out[0] = accel_concat(c->g, a, b, p->dim);
    return 1;
}

static void add_concat(case_list *l, accel_dtype dt, const int64_t *sa, int nd, int dim, int64_t nb, layout la,
                       layout lb) {
    concat_params p = {.dt = dt, .nd = nd, .dim = dim, .la = la, .lb = lb};
    memcpy(p.sa, sa, sizeof(int64_t) * (size_t)nd);
    memcpy(p.sb, sa, sizeof(int64_t) * (size_t)nd);
    p.sb[dim < 0 ? dim + nd : dim] = nb;
    char s1[64], s2[64];
    case_add(l, "concat", build_concat, &p, sizeof p, 0.0, "%s a=%s %s b=%s %s dim=%d", accel_dtype_name(dt),
             shape_str(s1, sizeof s1, nd, p.sa), layout_name(la), shape_str(s2, sizeof s2, nd, p.sb),
             layout_name(lb), dim);
}

static void concat_cases(case_list *l) {
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_concat(l, ACCEL_F32, SH(4096, 2048), -1, 2048, C, C);
        add_concat(l, ACCEL_F16, SH(1, 32, 1024, 128), 2, 1, C, C); /* KV cache append */
        return;
    }
    for (int i = 0; i < 6; i++) {
        add_concat(l, k_all_types[i], SH(3, 4, 5), 0, 2, C, C);
        add_concat(l, k_all_types[i], SH(3, 4, 5), 1, 3, C, C);
        add_concat(l, k_all_types[i], SH(3, 4, 5), -1, 1, C, C);
    }
    add_concat(l, ACCEL_F32, SH(3, 4, 5), 1, 6, LAYOUT_TRANSPOSED, LAYOUT_PERMUTED);
    add_concat(l, ACCEL_F16, SH(2, 3, 4, 8), 2, 5, LAYOUT_HEADS, C);
    add_concat(l, ACCEL_I32, SH(5, 6), 0, 4, LAYOUT_SLICED, LAYOUT_BCAST);
    add_concat(l, ACCEL_F32, SH(1), 0, 1, C, C);
    add_concat(l, ACCEL_F32, SH(64, 2048), -1, 2048, C, C);
    add_concat(l, ACCEL_F16, SH(1, 8, 100, 64), 2, 1, C, C);
    add_concat(l, ACCEL_BF16, SH(2, 1, 3, 1, 2, 5), 3, 2, C, C);
}

/* ---- pad --------------------------------------------------------------------------------------------------- */
typedef struct pad_params {
    accel_dtype dt;
    int nd;
    int64_t shape[ACCEL_MAX_DIMS], pad[2 * ACCEL_MAX_DIMS];
    float value;
    layout lay;
} pad_params;

static int build_pad(build_ctx *c, const void *pp, accel_tensor **out) {
    const pad_params *p = pp;
    accel_tensor *x = in_tensor(c, p->dt, p->nd, p->shape, data_fill(p->dt), p->lay);
    out[0] = accel_pad(c->g, x, p->pad, p->value);
    return 1;
}

static void add_pad(case_list *l, accel_dtype dt, const int64_t *shape, int nd, const int64_t *pad, int npad,
                    float value, layout lay) {
    (void)npad;
    pad_params p = {.dt = dt, .nd = nd, .value = value, .lay = lay};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    memcpy(p.pad, pad, sizeof(int64_t) * 2 * (size_t)nd);
    char s[64], ps[80];
    case_add(l, "pad", build_pad, &p, sizeof p, 0.0, "%s%s %s pad=%s value=%g", accel_dtype_name(dt),
             shape_str(s, sizeof s, nd, shape), layout_name(lay), shape_str(ps, sizeof ps, 2 * nd, pad), value);
}

static void pad_cases(case_list *l) {
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_pad(l, ACCEL_F32, SH(1, 64, 256, 256), SH(0, 0, 0, 0, 1, 1, 1, 1), 0.0f, C);
        return;
    }
    for (int i = 0; i < 6; i++) {
        add_pad(l, k_all_types[i], SH(3, 4, 5), SH(1, 0, 0, 2, 3, 1), -1.5f, C);
        add_pad(l, k_all_types[i], SH(3, 4, 5), SH(0, 0, 0, 0, 0, 0), 7.0f, LAYOUT_TRANSPOSED);
    }
    add_pad(l, ACCEL_F32, SH(7), SH(2, 3), 0.0f, C);
    add_pad(l, ACCEL_F32, SH(1, 3, 7, 7), SH(0, 0, 0, 0, 2, 2, 2, 2), 0.0f, LAYOUT_PERMUTED);
    add_pad(l, ACCEL_F16, SH(2, 3, 4, 5), SH(1, 1, 0, 0, 2, 0, 0, 3), 0.25f, LAYOUT_HEADS);
    add_pad(l, ACCEL_I64, SH(4, 6), SH(0, 1, 1, 0), 3.0f, LAYOUT_SLICED);
    add_pad(l, ACCEL_F32, SH(64, 4000), SH(0, 0, 0, 96), 0.0f, C);
}

/* ---- write (in place, KV caches) -------------------------------------------------------------------------- */
typedef struct write_params {
    accel_dtype dd, sd;      /* dst (cache) and src dtypes */
    int nd, dim;
    int64_t shape[ACCEL_MAX_DIMS]; /* dst as the op sees it */
    int64_t n, offset;       /* rows [offset, offset + n) of dim are written */
    layout ld, ls;           /* how the op sees dst's leaf, and src */
    bool perf;               /* output the write node alone (nothing else to time) */
} write_params;

/* Outputs: the whole dst leaf after the write (so bytes outside the written rows are compared too) and, when the
 * op sees a view of it, the written view read through the write node. */
static int build_write(build_ctx *c, const void *pp, accel_tensor **out) {
    const write_params *p = pp;
    int64_t ss[ACCEL_MAX_DIMS];
    memcpy(ss, p->shape, sizeof ss);
    ss[p->dim] = p->n;
    accel_tensor *dst = in_tensor(c, p->dd, p->nd, p->shape, data_fill(p->dd), p->ld);
    accel_tensor *leaf = c->leaf[c->n_inputs - 1];
    accel_tensor *src = in_tensor(c, p->sd, p->nd, ss, data_fill(p->sd), p->ls);
    accel_tensor *w = accel_write(c->g, dst, src, p->dim, p->offset);
    if (p->ld == LAYOUT_CONTIG || p->perf) {
        out[0] = w; /* the leaf's memory itself (perf: not read) */
        return 1;
    }
    out[0] = leaf;
    out[1] = accel_cont(c->g, w);
    return 2;
}

static void add_write(case_list *l, accel_dtype dd, accel_dtype sd, const int64_t *shape, int nd, int dim, int64_t n,
                      int64_t offset, layout ld, layout ls) {
    write_params p = {.dd = dd, .sd = sd, .nd = nd, .dim = dim, .n = n, .offset = offset, .ld = ld, .ls = ls,
                      .perf = l->perf};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    char s[64];
    case_add(l, "write", build_write, &p, sizeof p, 0.0, "%s <- %s dst=%s %s dim=%d rows [%lld, %lld) src %s",
             accel_dtype_name(dd), accel_dtype_name(sd), shape_str(s, sizeof s, nd, shape), layout_name(ld), dim,
             (long long)offset, (long long)(offset + n), layout_name(ls));
}

static void write_cases(case_list *l) {
    const layout C = LAYOUT_CONTIG;
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, B = ACCEL_BF16;
    if (l->perf) {
        add_write(l, H, F, SH(1, 32, 4096, 128), 2, 1, 4000, C, C);   /* decode step into an f16 cache */
        add_write(l, H, F, SH(1, 32, 4096, 128), 2, 512, 0, C, C);    /* prefill of 512 positions */
        add_write(l, F, F, SH(1, 32, 4096, 128), 2, 512, 0, LAYOUT_HEADS, C); /* [B,S,H,D] cache as [B,H,S,D] */
        return;
    }
    /* f32 -> f32 / f16 / bf16 (exact: one rounding of the same f32 value), every dim, start / middle / end */
    const accel_dtype into[3] = {F, H, B};
    const int64_t shape[4] = {3, 4, 6, 8};
    for (int t = 0; t < 3; t++)
        for (int dim = 0; dim < 4; dim++) {
            int64_t n = shape[dim] > 2 ? 2 : 1, size = shape[dim];
            add_write(l, into[t], F, shape, 4, dim, n, 0, C, C);
            add_write(l, into[t], F, shape, 4, dim, n, (size - n) / 2, C, C);
            add_write(l, into[t], F, shape, 4, dim, n, size - n, C, C);
        }
    /* the other float pairs and the integers (same dtype only) */
    add_write(l, F, H, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, F, B, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, H, H, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, H, B, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, B, B, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, B, H, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, ACCEL_I8, ACCEL_I8, SH(2, 3, 5, 4), 2, 2, 1, C, C);
    add_write(l, ACCEL_I32, ACCEL_I32, SH(2, 3, 5, 4), 2, 1, 3, C, C);
    add_write(l, ACCEL_I64, ACCEL_I64, SH(2, 3, 5, 4), 0, 1, 1, C, C);
    /* dst seen through a view: a [B,S,H,D] cache as [B,H,S,D] (rows contiguous), sliced (offset, inner step 2),
     * permuted (inner dim strided); src through views */
    add_write(l, F, F, SH(2, 4, 9, 16), 2, 1, 5, LAYOUT_HEADS, C);
    add_write(l, H, F, SH(2, 4, 9, 16), 2, 3, 6, LAYOUT_HEADS, C);
    add_write(l, F, F, SH(3, 5, 6), 1, 2, 2, LAYOUT_SLICED, C);
    add_write(l, B, F, SH(3, 5, 6), 2, 2, 4, LAYOUT_SLICED, C);
    add_write(l, H, H, SH(3, 5, 6), 0, 1, 2, LAYOUT_SLICED, LAYOUT_TRANSPOSED);
    add_write(l, H, F, SH(4, 5, 6), 0, 2, 1, LAYOUT_PERMUTED, C);
    add_write(l, F, F, SH(4, 5, 6), 2, 3, 3, LAYOUT_PERMUTED, LAYOUT_PERMUTED);
    add_write(l, ACCEL_I32, ACCEL_I32, SH(4, 5, 6), 1, 2, 0, LAYOUT_TRANSPOSED, LAYOUT_SLICED);
    add_write(l, F, F, SH(2, 3, 7, 8), 2, 4, 3, C, LAYOUT_HEADS);
    add_write(l, B, F, SH(2, 3, 7, 8), 3, 5, 2, C, LAYOUT_TRANSPOSED);
    /* shapes: 1-d, the whole dim, nothing, a 6-d tensor, and writes large enough to run on several threads (a
     * contiguous region that is one long row; an f16 cache prefilled from f32) */
    add_write(l, F, F, SH(10), 0, 3, 7, C, C);
    add_write(l, H, F, SH(3, 4, 5), 1, 4, 0, C, C);
    add_write(l, F, F, SH(3, 4, 5), 1, 0, 4, C, C);
    add_write(l, B, F, SH(2, 1, 3, 1, 4, 5), 4, 2, 1, C, C);
    add_write(l, F, F, SH(64, 4096), 0, 32, 16, C, C);
    add_write(l, H, F, SH(1, 16, 512, 64), 2, 128, 300, C, C);
    add_write(l, H, F, SH(1, 16, 512, 64), 2, 100, 7, LAYOUT_HEADS, C);
}

/* ---- window partition / merge (Swin) ---------------------------------------------------------------------- */
typedef struct window_params {
    bool merge;
    accel_dtype dt;
    int64_t B, H, W, C;
    int window;
    layout lay;
} window_params;

static int build_window(build_ctx *c, const void *pp, accel_tensor **out) {
    const window_params *p = pp;
    if (!p->merge) {
        accel_tensor *x = in_tensor(c, p->dt, 4, (const int64_t[]){p->B, p->H, p->W, p->C}, data_fill(p->dt), p->lay);
        out[0] = accel_window_partition(c->g, x, p->window);
    } else {
        int64_t nw = (p->H / p->window) * (p->W / p->window);
        accel_tensor *x = in_tensor(c, p->dt, 4, (const int64_t[]){p->B * nw, p->window, p->window, p->C},
                                    data_fill(p->dt), p->lay);
        out[0] = accel_window_merge(c->g, x, p->window, p->H, p->W);
    }
    return 1;
}

static void add_window(case_list *l, bool merge, accel_dtype dt, int64_t B, int64_t H, int64_t W, int64_t C, int w,
                       layout lay) {
    window_params p = {.merge = merge, .dt = dt, .B = B, .H = H, .W = W, .C = C, .window = w, .lay = lay};
    case_add(l, merge ? "window_merge" : "window_partition", build_window, &p, sizeof p, 0.0,
             "%s B=%lld H=%lld W=%lld C=%lld window=%d %s", accel_dtype_name(dt), (long long)B, (long long)H,
             (long long)W, (long long)C, w, layout_name(lay));
}

static void window_cases(case_list *l) {
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_window(l, false, ACCEL_F32, 1, 56, 56, 96, 7, C);
        add_window(l, true, ACCEL_F32, 1, 56, 56, 96, 7, C);
        return;
    }
    for (int m = 0; m < 2; m++) {
        add_window(l, m, ACCEL_F32, 2, 8, 12, 5, 4, C);
        add_window(l, m, ACCEL_F16, 2, 8, 12, 5, 4, C);
        add_window(l, m, ACCEL_I32, 2, 8, 12, 5, 2, C);
        add_window(l, m, ACCEL_BF16, 1, 6, 6, 3, 1, C);
        add_window(l, m, ACCEL_I64, 1, 7, 7, 3, 7, C);
        add_window(l, m, ACCEL_I8, 3, 4, 6, 2, 2, C);
        add_window(l, m, ACCEL_F32, 2, 8, 12, 5, 4, LAYOUT_PERMUTED);
        add_window(l, m, ACCEL_F32, 1, 56, 56, 96, 7, C);
    }
}

/* ---- reductions -------------------------------------------------------------------------------------------- */
typedef enum reduce_kind { RED_SUM, RED_MEAN, RED_MAX, RED_ARGMAX, RED_CUMSUM } reduce_kind;

typedef struct reduce_params {
    reduce_kind op;
    accel_dtype dt;
    int nd, dim;
    int64_t shape[ACCEL_MAX_DIMS];
    layout lay;
} reduce_params;

static fill_spec reduce_fill(reduce_kind op, accel_dtype dt) {
    if (op == RED_ARGMAX) return FILL_DIST; /* one right answer */
    switch (dt) {
    case ACCEL_I32: return FILL_U(-100000, 100000); /* sums of 4096 stay inside i32 */
    case ACCEL_I64: return FILL_U(-1e12, 1e12);
    default: return FILL_U(-2, 2);
    }
}

static const char *reduce_name(reduce_kind op) {
    switch (op) {
    case RED_SUM: return "sum";
    case RED_MEAN: return "mean";
    case RED_MAX: return "max";
    case RED_ARGMAX: return "argmax";
    default: return "cumsum";
    }
}

static int build_reduce(build_ctx *c, const void *pp, accel_tensor **out) {
    const reduce_params *p = pp;
    accel_tensor *x = in_tensor(c, p->dt, p->nd, p->shape, reduce_fill(p->op, p->dt), p->lay);
    switch (p->op) {
    case RED_SUM: out[0] = accel_sum(c->g, x, p->dim); break;
    case RED_MEAN: out[0] = accel_mean(c->g, x, p->dim); break;
    case RED_MAX: out[0] = accel_max(c->g, x, p->dim); break;
    case RED_ARGMAX: out[0] = accel_argmax(c->g, x, p->dim); break;
    default: out[0] = accel_cumsum(c->g, x, p->dim); break;
    }
    return 1;
}

static void add_reduce(case_list *l, reduce_kind op, accel_dtype dt, const int64_t *shape, int nd, int dim, layout lay) {
    reduce_params p = {.op = op, .dt = dt, .nd = nd, .dim = dim, .lay = lay};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    /* sums of floats round; integer sums, max and argmax are exact */
    bool exact = op == RED_MAX || op == RED_ARGMAX || !dtype_is_float(dt);
    char s[64];
    case_add(l, reduce_name(op), build_reduce, &p, sizeof p, exact ? 0.0 : tol(NMSE_REDUCE, dt, 1), "%s%s %s dim=%d",
             accel_dtype_name(dt), shape_str(s, sizeof s, nd, shape), layout_name(lay), dim);
}

static void reduce_cases(case_list *l) {
    static const accel_dtype five[5] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I32, ACCEL_I64};
    static const reduce_kind ops[5] = {RED_SUM, RED_MEAN, RED_MAX, RED_ARGMAX, RED_CUMSUM};
    const accel_dtype F = ACCEL_F32;
    const layout C = LAYOUT_CONTIG;
    for (int o = 0; o < 5; o++) {
        reduce_kind op = ops[o];
        int ntypes = op == RED_MEAN ? 3 : 5;
        if (l->perf) {
            add_reduce(l, op, F, SH(4096, 4096), -1, C);
            if (op == RED_SUM) add_reduce(l, op, F, SH(4096, 4096), 0, C);
            continue;
        }
        for (int i = 0; i < ntypes; i++) {
            add_reduce(l, op, five[i], SH(4, 6, 35), -1, C);
            add_reduce(l, op, five[i], SH(4, 6, 35), 0, C);
            if (op != RED_CUMSUM) add_reduce(l, op, five[i], SH(4, 6, 35), 1, C);
        }
        add_reduce(l, op, F, SH(3, 1, 4), 1, C);
        add_reduce(l, op, F, SH(1), 0, C);
        add_reduce(l, op, F, SH(6, 9, 10), -1, LAYOUT_TRANSPOSED);
        add_reduce(l, op, F, SH(6, 9, 10), 1, LAYOUT_PERMUTED);
        add_reduce(l, op, ACCEL_F16, SH(5, 4, 3, 7), 2, LAYOUT_HEADS);
        add_reduce(l, op, F, SH(5, 9), -1, LAYOUT_SLICED);
        add_reduce(l, op, F, SH(64, 4096), -1, C);
        add_reduce(l, op, F, SH(4096, 64), 0, C);
        add_reduce(l, op, ACCEL_F16, SH(4, 4096), -1, C);
        if (op != RED_MEAN) add_reduce(l, op, ACCEL_I32, SH(16, 4096), -1, C);
        if (op == RED_ARGMAX) add_reduce(l, op, F, SH(8, 32000), -1, C); /* greedy decoding over a vocab */
    }
}

/* ---- top_k ------------------------------------------------------------------------------------------------- */
typedef struct top_k_params {
    accel_dtype dt;
    int nd, k;
    int64_t shape[ACCEL_MAX_DIMS];
    layout lay;
} top_k_params;

static int build_top_k(build_ctx *c, const void *pp, accel_tensor **out) {
    const top_k_params *p = pp;
    accel_tensor *x = in_tensor(c, p->dt, p->nd, p->shape, FILL_DIST, p->lay);
    out[1] = NULL;
    out[0] = accel_top_k(c->g, x, p->k, &out[1]);
    return 2;
}

static void add_top_k(case_list *l, accel_dtype dt, const int64_t *shape, int nd, int k, layout lay) {
    top_k_params p = {.dt = dt, .nd = nd, .k = k, .lay = lay};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)nd);
    char s[64];
    case_add(l, "top_k", build_top_k, &p, sizeof p, 0.0, "%s%s %s k=%d (values and indices)", accel_dtype_name(dt),
             shape_str(s, sizeof s, nd, shape), layout_name(lay), k);
}

static void top_k_cases(case_list *l) {
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_top_k(l, ACCEL_F32, SH(32, 32000), 40, C);
        return;
    }
    for (int i = 0; i < 3; i++) {
        add_top_k(l, k_float_types[i], SH(3, 37), 5, C);
        add_top_k(l, k_float_types[i], SH(3, 37), 37, C);
    }
    add_top_k(l, ACCEL_F32, SH(3, 37), 1, C);
    add_top_k(l, ACCEL_F32, SH(1), 1, C);
    add_top_k(l, ACCEL_F32, SH(2, 3, 50), 10, C);
    add_top_k(l, ACCEL_F32, SH(6, 20), 4, LAYOUT_TRANSPOSED);
    add_top_k(l, ACCEL_F16, SH(2, 4, 20), 7, LAYOUT_HEADS);
    add_top_k(l, ACCEL_F32, SH(8, 4096), 50, C);
    add_top_k(l, ACCEL_F16, SH(4, 4096), 40, C);
    add_top_k(l, ACCEL_BF16, SH(2, 32000), 40, C);
}

/* ---- interpolate ------------------------------------------------------------------------------------------- */
typedef struct interp_params {
    accel_dtype dt;
    int64_t shape[4], oh, ow;
    accel_interp_mode mode;
    bool align;
    layout lay;
} interp_params;

static int build_interp(build_ctx *c, const void *pp, accel_tensor **out) {
    const interp_params *p = pp;
    accel_tensor *x = in_tensor(c, p->dt, 4, p->shape, FILL_U(-2, 2), p->lay);
    out[0] = accel_interpolate(c->g, x, p->oh, p->ow, p->mode, p->align);
    return 1;
}

static void add_interp(case_list *l, accel_dtype dt, const int64_t *shape, int nd, int64_t oh, int64_t ow,
                       accel_interp_mode mode, bool align, layout lay) {
    (void)nd;
    interp_params p = {.dt = dt, .oh = oh, .ow = ow, .mode = mode, .align = align, .lay = lay};
    memcpy(p.shape, shape, sizeof p.shape);
    static const char *const modes[3] = {"nearest", "bilinear", "bicubic"};
    char s[64];
    /* nearest copies one input value (its source index is never within rounding of an integer here): exact */
    double lim = mode == ACCEL_INTERP_NEAREST ? 0.0 : tol(NMSE_REDUCE, dt, 1);
    case_add(l, "interpolate", build_interp, &p, sizeof p, lim, "%s%s %s -> [%lld,%lld] %s%s", accel_dtype_name(dt),
             shape_str(s, sizeof s, 4, shape), layout_name(lay), (long long)oh, (long long)ow, modes[mode],
             align ? " align_corners" : "");
}

static void interp_cases(case_list *l) {
    const accel_interp_mode NE = ACCEL_INTERP_NEAREST, BL = ACCEL_INTERP_BILINEAR, BC = ACCEL_INTERP_BICUBIC;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_interp(l, ACCEL_F32, SH(1, 3, 224, 224), 336, 336, BC, false, C);
        add_interp(l, ACCEL_F32, SH(1, 256, 64, 64), 128, 128, BL, false, C);
        return;
    }
    for (int i = 0; i < 3; i++) {
        accel_dtype dt = k_float_types[i];
        add_interp(l, dt, SH(1, 2, 5, 7), 9, 13, NE, false, C);
        for (int a = 0; a < 2; a++) {
            add_interp(l, dt, SH(1, 2, 5, 7), 9, 13, BL, a, C);
            add_interp(l, dt, SH(1, 2, 5, 7), 9, 13, BC, a, C);
        }
    }
    add_interp(l, ACCEL_F32, SH(2, 2, 16, 12), 5, 7, NE, false, C);
    for (int a = 0; a < 2; a++) {
        add_interp(l, ACCEL_F32, SH(2, 2, 16, 12), 5, 7, BL, a, C);
        add_interp(l, ACCEL_F32, SH(2, 2, 16, 12), 5, 7, BC, a, C);
        add_interp(l, ACCEL_F32, SH(1, 2, 4, 6), 1, 1, BL, a, C);
        add_interp(l, ACCEL_F32, SH(1, 2, 4, 6), 1, 1, BC, a, C);
        add_interp(l, ACCEL_F32, SH(1, 3, 7, 5), 10, 11, BC, a, LAYOUT_PERMUTED);
        add_interp(l, ACCEL_F16, SH(1, 3, 7, 5), 10, 11, BL, a, LAYOUT_SLICED);
    }
    add_interp(l, ACCEL_F32, SH(1, 2, 6, 6), 6, 6, BC, false, C);
    add_interp(l, ACCEL_F32, SH(1, 2, 8, 8), 16, 16, NE, false, C);
    add_interp(l, ACCEL_F32, SH(1, 2, 8, 8), 16, 16, BL, false, C);
    add_interp(l, ACCEL_BF16, SH(1, 2, 8, 8), 16, 16, BC, true, C);
    add_interp(l, ACCEL_F32, SH(1, 1, 1, 1), 3, 2, BL, false, C);
    add_interp(l, ACCEL_F32, SH(1, 3, 7, 5), 10, 11, NE, false, LAYOUT_HEADS);
    add_interp(l, ACCEL_F32, SH(1, 3, 224, 224), 336, 336, BC, false, C);
}

void cases_data(case_list *l) {
    get_rows_cases(l);
    concat_cases(l);
    pad_cases(l);
    write_cases(l);
    window_cases(l);
    reduce_cases(l);
    top_k_cases(l);
    interp_cases(l);
}
