/* Op conformance harness: input generation, input layouts, the case list and tolerances. */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const accel_dtype k_float_types[3] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};
const accel_dtype k_all_types[6] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16, ACCEL_I8, ACCEL_I32, ACCEL_I64};

/* ---- random numbers --------------------------------------------------------------------------------------- */
void rng_seed(rng *r, uint64_t seed) {
    r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 4; i++) rng_next(r); /* decorrelate nearby seeds */
}

uint64_t rng_next(rng *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t hash_str(const char *s, uint64_t h) {
    if (!h) h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ---- dtypes ----------------------------------------------------------------------------------------------- */
bool dtype_is_float(accel_dtype dt) { return dt == ACCEL_F32 || dt == ACCEL_F16 || dt == ACCEL_BF16; }

size_t dtype_bytes(accel_dtype dt) {
    switch (dt) {
    case ACCEL_F32: case ACCEL_I32: return 4;
    case ACCEL_F16: case ACCEL_BF16: return 2;
    case ACCEL_I8: return 1;
    case ACCEL_I64: return 8;
    default: return 0;
    }
}

double load_value(const void *p, accel_dtype dt) {
    switch (dt) {
    case ACCEL_F32: { float v; memcpy(&v, p, 4); return v; }
    case ACCEL_F16: { uint16_t v; memcpy(&v, p, 2); return accel_f16_to_f32(v); }
    case ACCEL_BF16: { uint16_t v; memcpy(&v, p, 2); return accel_bf16_to_f32(v); }
    case ACCEL_I8: return *(const int8_t *)p;
    case ACCEL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case ACCEL_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    default: return NAN;
    }
}

/* The generator gives integer dtypes integral values in range; clamping keeps a mistake from being a C UB cast. */
static double clamp(double v, double lo, double hi) { return v != v ? 0 : v < lo ? lo : v > hi ? hi : v; }

void store_value(void *p, accel_dtype dt, double v) {
    switch (dt) {
    case ACCEL_F32: { float f = (float)v; memcpy(p, &f, 4); break; }
    case ACCEL_F16: { uint16_t h = accel_f32_to_f16((float)v); memcpy(p, &h, 2); break; }
    case ACCEL_BF16: { uint16_t h = accel_f32_to_bf16((float)v); memcpy(p, &h, 2); break; }
    case ACCEL_I8: *(int8_t *)p = (int8_t)clamp(v, -128, 127); break;
    case ACCEL_I32: { int32_t i = (int32_t)clamp(v, -2147483648.0, 2147483647.0); memcpy(p, &i, 4); break; }
    case ACCEL_I64: { int64_t i = (int64_t)clamp(v, -9.2e18, 9.2e18); memcpy(p, &i, 8); break; }
    default: break;
    }
}

const char *shape_str(char *buf, size_t n, int nd, const int64_t *shape) {
    size_t off = 0;
    off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < nd && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, i ? ",%lld" : "%lld", (long long)shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

int64_t shape_nelements(int nd, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    return n;
}

double dtype_eps(accel_dtype dt) {
    switch (dt) {
    case ACCEL_F32: return ldexp(1.0, -23);
    case ACCEL_F16: return ldexp(1.0, -10);
    case ACCEL_BF16: return ldexp(1.0, -7);
    default: return 0;
    }
}

double tol(double op_limit, accel_dtype out, int roundings) {
    double e = roundings * dtype_eps(out);
    return op_limit + e * e;
}

/* ---- distinct values --------------------------------------------------------------------------------------- */
/* Number of distinct values distinct_value() can make for dt, centred on magnitude 1. */
static int64_t distinct_capacity(accel_dtype dt) {
    switch (dt) {
    case ACCEL_F16: return 2 * (0x3C00 - 0x0400);   /* normal halves below 1.0 and as many above */
    case ACCEL_BF16: return 2 * (0x3F80 - 0x0080);
    case ACCEL_I8: return 256;
    case ACCEL_F32: return 500000; /* 0x3F800000 +- k * 4099 stays finite and positive */
    default: return INT64_C(1) << 30;
    }
}

/* The idx-th of n distinct values (idx < n <= capacity): consecutive bit patterns around 1.0 (floats, so every
 * value is exactly representable and no two round together) or consecutive integers around 0. */
static double distinct_value(accel_dtype dt, int64_t idx, int64_t n) {
    int64_t k = idx - n / 2;
    switch (dt) {
    case ACCEL_F16: return accel_f16_to_f32((uint16_t)(0x3C00 + k));
    case ACCEL_BF16: return accel_bf16_to_f32((uint16_t)(0x3F80 + k));
    case ACCEL_F32: {
        uint32_t bits = (uint32_t)(0x3F800000 + k * 4099); /* spread over a few binades */
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    default: return (double)k;
    }
}

static void shuffle(int64_t *v, int64_t n, rng *r) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_next(r) % (uint64_t)(i + 1));
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static void fill_distinct(void *dst, accel_dtype dt, int64_t n, int64_t row, rng *r) {
    size_t es = dtype_bytes(dt);
    /* one permutation over the whole tensor when the dtype has enough values (distinct along every dim), else
     * one per row (distinct along the last dim: enough for top-k) */
    int64_t span = n <= distinct_capacity(dt) ? n : row;
    int64_t *perm = malloc(sizeof *perm * (size_t)span);
    if (!perm) return;
    for (int64_t base = 0; base < n; base += span) {
        for (int64_t i = 0; i < span; i++) perm[i] = i;
        shuffle(perm, span, r);
        for (int64_t i = 0; i < span; i++) {
            double v = distinct_value(dt, perm[i], span);
            /* floats: random signs keep the magnitudes (hence values) distinct */
            if (dtype_is_float(dt) && (rng_next(r) & 1)) v = -v;
            store_value((char *)dst + (size_t)(base + i) * es, dt, v);
        }
    }
    free(perm);
}

void fill_bytes(void *dst, accel_dtype dt, int nd, const int64_t *shape, fill_spec f, uint64_t seed) {
    rng r;
    rng_seed(&r, seed);
    int64_t n = shape_nelements(nd, shape);
    int64_t row = nd ? shape[nd - 1] : 1;
    size_t es = dtype_bytes(dt);
    if (f.kind == FILL_DISTINCT) {
        fill_distinct(dst, dt, n, row ? row : 1, &r);
        return;
    }
    bool is_int = !dtype_is_float(dt);
    for (int64_t i = 0; i < n; i++) {
        double u = rng_uniform(&r), v;
        switch (f.kind) {
        case FILL_NONZERO:
            v = f.lo + (f.hi - f.lo) * u;
            if (rng_next(&r) & 1) v = -v;
            break;
        case FILL_SPECIAL: {
            double k = rng_uniform(&r);
            v = k < 0.1 ? NAN : k < 0.2 ? INFINITY : k < 0.3 ? -INFINITY : f.lo + (f.hi - f.lo) * u;
            break;
        }
        case FILL_MASK:
        case FILL_MASK_ROWS: {
            int64_t col = row ? i % row : 0, r_idx = row ? i / row : 0;
            bool hide = (f.kind == FILL_MASK_ROWS && r_idx % 3 == 1) || (col != 0 && rng_uniform(&r) < 0.2);
            v = hide ? -INFINITY : f.lo + (f.hi - f.lo) * u;
            break;
        }
        default:
            v = is_int ? floor(f.lo + (f.hi - f.lo + 1) * u) : f.lo + (f.hi - f.lo) * u;
            if (is_int && v > f.hi) v = f.hi;
            break;
        }
        store_value((char *)dst + (size_t)i * es, dt, v);
    }
}

/* ---- inputs and layouts ------------------------------------------------------------------------------------ */
const char *layout_name(layout l) {
    static const char *const names[LAYOUT_COUNT] = {"contig", "transposed", "permuted", "heads", "sliced", "bcast"};
    return (unsigned)l < LAYOUT_COUNT ? names[l] : "?";
}

accel_tensor *in_tensor(build_ctx *c, accel_dtype dt, int nd, const int64_t *shape, fill_spec f, layout l) {
    if (accel_graph_status(c->g) != ACCEL_OK) return NULL;
    if (c->n_inputs >= MAX_INPUTS || nd < 1 || nd > ACCEL_MAX_DIMS) {
        fprintf(stderr, "test-ops: bad input spec (%d inputs, %d dims)\n", c->n_inputs, nd);
        return NULL;
    }
    int64_t ls[ACCEL_MAX_DIMS]; /* the leaf's shape */
    memcpy(ls, shape, sizeof(int64_t) * (size_t)nd);
    int perm[ACCEL_MAX_DIMS];
    for (int i = 0; i < nd; i++) perm[i] = i;
    if ((l == LAYOUT_TRANSPOSED || l == LAYOUT_PERMUTED) && nd < 2) l = LAYOUT_CONTIG;
    if (l == LAYOUT_HEADS && nd < 3) l = LAYOUT_CONTIG;
    switch (l) {
    case LAYOUT_TRANSPOSED:
        perm[nd - 1] = nd - 2;
        perm[nd - 2] = nd - 1;
        break;
    case LAYOUT_PERMUTED:
        for (int i = 0; i < nd; i++) perm[i] = nd - 1 - i;
        break;
    case LAYOUT_HEADS:
        perm[nd - 3] = nd - 2;
        perm[nd - 2] = nd - 3;
        break;
    case LAYOUT_SLICED:
        ls[nd - 1] = 2 * shape[nd - 1] + 1;
        if (nd > 1) ls[0] = shape[0] + 1;
        break;
    case LAYOUT_BCAST:
        ls[0] = 1;
        break;
    default: break;
    }
    if (l == LAYOUT_TRANSPOSED || l == LAYOUT_PERMUTED || l == LAYOUT_HEADS) /* view dim i = leaf dim perm[i] */
        for (int i = 0; i < nd; i++) ls[perm[i]] = shape[i];

    accel_tensor *leaf = accel_tensor_new(c->g, dt, nd, ls);
    if (!leaf) return NULL;
    char name[16];
    snprintf(name, sizeof name, "in%d", c->n_inputs);
    accel_tensor_set_name(leaf, name);
    accel_tensor_set_input(leaf);
    c->leaf[c->n_inputs] = leaf;
    c->fill[c->n_inputs] = f;
    c->n_inputs++;

    switch (l) {
    case LAYOUT_TRANSPOSED:
    case LAYOUT_PERMUTED:
    case LAYOUT_HEADS:
        return accel_permute(c->g, leaf, perm);
    case LAYOUT_SLICED: {
        accel_tensor *t = leaf;
        if (nd > 1) t = accel_slice(c->g, t, 0, 1, ls[0], 1);
        return accel_slice(c->g, t, nd - 1, 1, ls[nd - 1], 2);
    }
    case LAYOUT_BCAST: {
        int64_t st[ACCEL_MAX_DIMS];
        for (int i = 0; i < nd; i++) st[i] = accel_tensor_stride(leaf, i);
        st[0] = 0;
        return accel_view(c->g, leaf, nd, shape, st, 0);
    }
    default: return leaf;
    }
}

/* ---- case list --------------------------------------------------------------------------------------------- */
op_case *case_add(case_list *l, const char *op, case_build_fn build, const void *params, size_t params_size,
                  double max_nmse, const char *fmt, ...) {
    if (params_size > CASE_PARAMS_MAX) {
        fprintf(stderr, "test-ops: params of a %s case too large (%zu bytes)\n", op, params_size);
        exit(2);
    }
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        op_case *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) {
            fprintf(stderr, "test-ops: out of memory\n");
            exit(2);
        }
        l->v = v;
        l->cap = cap;
    }
    op_case *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->op, sizeof c->op, "%s", op);
    c->build = build;
    if (params_size) memcpy(c->params.bytes, params, params_size);
    c->max_nmse = max_nmse;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->desc, sizeof c->desc, fmt, ap);
    va_end(ap);
    return c;
}

void case_mark_bar(op_case *c, const char *bar) { snprintf(c->bar, sizeof c->bar, "%s", bar); }

void case_list_free(case_list *l) {
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
