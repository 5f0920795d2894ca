/* CPU elementwise ops: CPY (cont/cast), ADD/SUB/MUL/DIV with broadcasting, SCALE and the unary activations.
 *
 * Every op walks the destination (contiguous) together with its sources through one collapsed layout: size-1
 * dimensions are dropped and neighbouring dimensions merged wherever every operand is contiguous across them,
 * so a contiguous tensor is one long row and a bias add is rows of D against one reused row. Rows are cut into
 * chunks of EW_CHUNK elements; chunks are the unit of work split across threads. Each chunk is brought to f32
 * (in place when it already is f32 with unit stride, else converted into a per-thread buffer), computed by the
 * vector row functions of cpu_vec.h and rounded once when stored to the destination dtype.
 */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_coef.h"
#include "core/error.h"

#include <math.h>
#include <string.h>

#define EW_CHUNK 4096          /* elements per work item: 16 KiB of f32 per buffer, stays in L1/L2 */
#define EW_MIN_PARALLEL 32768  /* below this many elements one thread beats waking the pool */
#define EW_MAX_OPS 3           /* dst, src0, src1 */

/* ---- collapsed layout ---------------------------------------------------------------------------------------- */

typedef struct ew_layout {
    int nd;   /* >= 1; dimension nd-1 is the innermost */
    int nops; /* operands: 0 = dst, 1 = src0, 2 = src1 */
    int64_t shape[ACCEL_MAX_DIMS];
    int64_t stride[EW_MAX_OPS][ACCEL_MAX_DIMS]; /* bytes */
} ew_layout;

/* shape/strides are right-aligned ACCEL_MAX_DIMS arrays. */
static void ew_layout_init(ew_layout *L, const int64_t shape[ACCEL_MAX_DIMS], int64_t strides[][ACCEL_MAX_DIMS],
                           int nops) {
    int64_t rs[ACCEL_MAX_DIMS], rst[EW_MAX_OPS][ACCEL_MAX_DIMS]; /* innermost first */
    int n = 0;
    for (int d = ACCEL_MAX_DIMS - 1; d >= 0; d--) {
        if (shape[d] == 1) continue;
        bool merge = n > 0;
        for (int k = 0; k < nops && merge; k++) merge = strides[k][d] == rst[k][n - 1] * rs[n - 1];
        if (merge) {
            rs[n - 1] *= shape[d];
        } else {
            rs[n] = shape[d];
            for (int k = 0; k < nops; k++) rst[k][n] = strides[k][d];
            n++;
        }
    }
    if (n == 0) { /* a single element */
        rs[0] = 1;
        for (int k = 0; k < nops; k++) rst[k][0] = 0;
        n = 1;
    }
    L->nd = n;
    L->nops = nops;
    for (int i = 0; i < n; i++) {
        L->shape[i] = rs[n - 1 - i];
        for (int k = 0; k < nops; k++) L->stride[k][i] = rst[k][n - 1 - i];
    }
}

/* Contiguous byte strides of a right-aligned shape for elements of es bytes. */
static void contiguous_strides(const int64_t shape[ACCEL_MAX_DIMS], int64_t es, int64_t stride[ACCEL_MAX_DIMS]) {
    int64_t s = es;
    for (int d = ACCEL_MAX_DIMS - 1; d >= 0; d--) {
        stride[d] = s;
        s *= shape[d];
    }
}

/* ---- threaded chunk loop --------------------------------------------------------------------------------------- */

typedef struct ew_task ew_task;
/* Computes n elements of one chunk; ptr[k] points at the chunk's first element of operand k. */
typedef void (*ew_body_fn)(const ew_task *t, char *const ptr[EW_MAX_OPS], int64_t n, float *buf);

struct ew_task {
    cpu_isa isa;
    const accel_tensor *dst;
    ew_layout L;
    ew_body_fn body;
    int64_t nchunk; /* chunks per row */
    int64_t nitems; /* rows * nchunk */
    float *scratch;
    size_t buf_floats; /* per thread */
};

static void ew_run_items(void *arg, int ith, int nth) {
    const ew_task *t = arg;
    const ew_layout *L = &t->L;
    int inner = L->nd - 1;
    int64_t row_len = L->shape[inner];
    float *buf = t->scratch + (size_t)ith * t->buf_floats;
    int64_t begin, end;
    accel_split_range(t->nitems, ith, nth, &begin, &end);
    char *base[EW_MAX_OPS];
    base[0] = t->dst->data;
    for (int k = 1; k < L->nops; k++) base[k] = t->dst->src[k - 1]->data;
    for (int64_t it = begin; it < end; it++) {
        int64_t row = it / t->nchunk;
        int64_t c0 = (it % t->nchunk) * EW_CHUNK;
        int64_t n = row_len - c0 < EW_CHUNK ? row_len - c0 : EW_CHUNK;
        char *p[EW_MAX_OPS];
        for (int k = 0; k < L->nops; k++) p[k] = base[k] + c0 * L->stride[k][inner];
        for (int d = inner - 1; d >= 0 && row; d--) {
            int64_t i = row % L->shape[d];
            row /= L->shape[d];
            for (int k = 0; k < L->nops; k++) p[k] += i * L->stride[k][d];
        }
        t->body(t, p, n, buf);
    }
}

/* Runs body over every chunk of layout L, with buf_floats of f32 scratch per thread. */
static accel_status ew_run(cpu_ctx *ctx, const accel_tensor *dst, const ew_layout *L, ew_body_fn body,
                           size_t buf_floats) {
    int64_t total = 1;
    for (int i = 0; i < L->nd; i++) total *= L->shape[i];
    if (total == 0) return ACCEL_OK;
    ew_task t = {.isa = ctx->isa, .dst = dst, .L = *L, .body = body};
    int64_t row_len = L->shape[L->nd - 1];
    t.nchunk = (row_len + EW_CHUNK - 1) / EW_CHUNK;
    t.nitems = total / row_len * t.nchunk;
    int nth = total < EW_MIN_PARALLEL ? 1 : ctx->n_threads;
    t.buf_floats = buf_floats;
    if (buf_floats) {
        t.scratch = cpu_scratch(ctx, (size_t)ctx->n_threads * buf_floats * sizeof(float));
        if (!t.scratch)
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu %s: no scratch memory", accel_op_name(dst->op));
    }
    if (nth <= 1) ew_run_items(&t, 0, 1);
    else accel_threadpool_run(ctx->pool, ew_run_items, &t);
    return ACCEL_OK;
}

/* Layout of dst and its first nsrc sources, sources broadcast to dst's shape. */
static void ew_layout_of(const accel_tensor *dst, int nsrc, ew_layout *L) {
    int64_t shape[ACCEL_MAX_DIMS], strides[EW_MAX_OPS][ACCEL_MAX_DIMS], unused[ACCEL_MAX_DIMS];
    accel_tensor_dims_aligned(dst, shape, unused);
    contiguous_strides(shape, (int64_t)accel_dtype_size(dst->dtype), strides[0]);
    for (int k = 0; k < nsrc; k++) accel_tensor_bcast_strides(dst->src[k], shape, strides[k + 1]);
    ew_layout_init(L, shape, strides, nsrc + 1);
}

/* ---- CPY ----------------------------------------------------------------------------------------------------- */

static bool dtype_is_int(accel_dtype d) { return d == ACCEL_I8 || d == ACCEL_I32 || d == ACCEL_I64; }

static int64_t load_int(accel_dtype d, const char *p) {
    switch (d) {
    case ACCEL_I8: return *(const int8_t *)p;
    case ACCEL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

/* Integer to integer, exact where the value fits, saturating where it does not. */
static void store_int(accel_dtype d, char *p, int64_t v) {
    switch (d) {
    case ACCEL_I8: *(int8_t *)p = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); break;
    case ACCEL_I32: {
        int32_t w = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
        memcpy(p, &w, 4);
        break;
    }
    default: memcpy(p, &v, 8); break;
    }
}

/* n elements of es bytes from a stride of ss bytes into contiguous dst; constant sizes so that each element is
 * one load and one store, not a memcpy call. */
static void copy_strided(char *dst, const char *src, int64_t ss, int64_t es, int64_t n) {
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++) dst[i] = src[i * ss];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 2 * i, src + i * ss, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 4 * i, src + i * ss, 4);
        break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 8 * i, src + i * ss, 8);
        break;
    }
}

static void cpy_body(const ew_task *t, char *const p[EW_MAX_OPS], int64_t n, float *buf) {
    const accel_tensor *src = t->dst->src[0];
    accel_dtype sd = src->dtype, dd = t->dst->dtype;
    int64_t ss = t->L.stride[1][t->L.nd - 1];
    int64_t es = (int64_t)accel_dtype_size(sd);
    if (sd == dd) {
        if (ss == es) {
            memcpy(p[0], p[1], (size_t)(n * es));
            return;
        }
        copy_strided(p[0], p[1], ss, es, n);
        return;
    }
    if (dtype_is_int(dd) && dtype_is_int(sd)) {
        int64_t ds = (int64_t)accel_dtype_size(dd);
        for (int64_t i = 0; i < n; i++) store_int(dd, p[0] + i * ds, load_int(sd, p[1] + i * ss));
        return;
    }
    if (dd == ACCEL_F32) { /* convert straight into the destination */
        cpu_vec_load_f32(t->isa, sd, p[1], ss, (float *)p[0], n);
        return;
    }
    /* float destination of 16 bits, or float source to an integer destination: through f32 (exact for every
     * float source; integer sources round once, as accel_load_f64 + accel_store_f64 do) */
    cpu_vec_store_f32(t->isa, dd, cpu_vec_row_f32(t->isa, sd, p[1], ss, n, buf), p[0], n);
}

/* Transposing copies: the source's innermost stride jumps a cache line or more while another dimension p is
 * (nearly) contiguous in it. Walking the destination row by row would touch a new source line (and page) per
 * element. Instead the copy goes by tiles over (p, inner): 32-bit elements contiguous along p are transposed by
 * cpu_vec_transpose32 in CPY_TILE x CPY_TILE tiles; anything else goes row by row through tiles of CPY_TILE rows
 * of p by CPY_TILE_J columns, few enough source lines to stay in one L1 set's ways while they are reused. */
#define CPY_TILE 64
#define CPY_TILE_J 8

typedef struct cpy_tiled_task {
    ew_task base;
    int p;                    /* the dimension tiled with the innermost one */
    bool transpose32;         /* same 32-bit dtype, source contiguous along p: block transposes */
    int64_t tile_j;           /* tile width along the innermost dimension */
    int64_t tiles_p, tiles_j; /* tiles along p and along the innermost dimension */
    int64_t nouter;           /* combinations of the other dimensions */
} cpy_tiled_task;

static void cpy_tiled_items(void *arg, int ith, int nth) {
    const cpy_tiled_task *t = arg;
    const ew_layout *L = &t->base.L;
    int inner = L->nd - 1, p = t->p;
    float *buf = t->base.scratch + (size_t)ith * t->base.buf_floats;
    int64_t begin, end;
    accel_split_range(t->nouter * t->tiles_p * t->tiles_j, ith, nth, &begin, &end);
    for (int64_t it = begin; it < end; it++) {
        int64_t tj = it % t->tiles_j, rest = it / t->tiles_j, tp = rest % t->tiles_p, o = rest / t->tiles_p;
        char *d0 = t->base.dst->data, *s0 = t->base.dst->src[0]->data;
        for (int d = inner - 1; d >= 0 && o; d--) {
            if (d == p) continue;
            int64_t i = o % L->shape[d];
            o /= L->shape[d];
            d0 += i * L->stride[0][d];
            s0 += i * L->stride[1][d];
        }
        int64_t i0 = tp * CPY_TILE, i1 = i0 + CPY_TILE < L->shape[p] ? i0 + CPY_TILE : L->shape[p];
        int64_t j0 = tj * t->tile_j, j1 = j0 + t->tile_j < L->shape[inner] ? j0 + t->tile_j : L->shape[inner];
        if (t->transpose32) {
            cpu_vec_transpose32(t->base.isa, d0 + i0 * L->stride[0][p] + j0 * 4, L->stride[0][p],
                                s0 + i0 * 4 + j0 * L->stride[1][inner], L->stride[1][inner], i1 - i0, j1 - j0);
            continue;
        }
        for (int64_t i = i0; i < i1; i++) {
            char *ptr[EW_MAX_OPS] = {d0 + i * L->stride[0][p] + j0 * L->stride[0][inner],
                                     s0 + i * L->stride[1][p] + j0 * L->stride[1][inner]};
            cpy_body(&t->base, ptr, j1 - j0, buf);
        }
    }
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

static accel_status cpy_compute(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *src = dst->src[0];
    /* walk the source in its own logical order; dst is contiguous and may have another shape (same count) */
    int64_t shape[ACCEL_MAX_DIMS], strides[2][ACCEL_MAX_DIMS];
    accel_tensor_dims_aligned(src, shape, strides[1]);
    contiguous_strides(shape, (int64_t)accel_dtype_size(dst->dtype), strides[0]);
    ew_layout L;
    ew_layout_init(&L, shape, strides, 2);
    int inner = L.nd - 1, p = -1;
    for (int d = 0; d < inner; d++)
        if (L.shape[d] >= CPY_TILE / 2 && (p < 0 || abs64(L.stride[1][d]) < abs64(L.stride[1][p]))) p = d;
    bool transposing = p >= 0 && L.shape[inner] >= CPY_TILE / 2 && abs64(L.stride[1][inner]) >= 64 &&
                       abs64(L.stride[1][p]) < abs64(L.stride[1][inner]);
    if (!transposing) return ew_run(ctx, dst, &L, cpy_body, EW_CHUNK);

    cpy_tiled_task t = {.base = {.isa = ctx->isa, .dst = dst, .L = L, .body = cpy_body}, .p = p};
    t.transpose32 = src->dtype == dst->dtype && accel_dtype_size(src->dtype) == 4 && L.stride[1][p] == 4;
    t.tile_j = t.transpose32 ? CPY_TILE : CPY_TILE_J;
    t.tiles_p = (L.shape[p] + CPY_TILE - 1) / CPY_TILE;
    t.tiles_j = (L.shape[inner] + t.tile_j - 1) / t.tile_j;
    t.nouter = accel_nelements(src) / (L.shape[p] * L.shape[inner]);
    t.base.buf_floats = CPY_TILE_J;
    t.base.scratch = cpu_scratch(ctx, (size_t)ctx->n_threads * CPY_TILE_J * sizeof(float));
    if (!t.base.scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu cpy: no scratch memory");
    if (accel_nelements(src) < EW_MIN_PARALLEL) cpy_tiled_items(&t, 0, 1);
    else accel_threadpool_run(ctx->pool, cpy_tiled_items, &t);
    return ACCEL_OK;
}

void cpu_vec_transpose32(cpu_isa isa, void *dst, int64_t dst_stride, const void *src, int64_t src_stride,
                         int64_t rows, int64_t cols) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_transpose32_avx512(dst, dst_stride, src, src_stride, rows, cols); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_transpose32_avx2(dst, dst_stride, src, src_stride, rows, cols); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            memcpy((char *)dst + i * dst_stride + j * 4, (const char *)src + j * src_stride + i * 4, 4);
}

/* ---- binary -------------------------------------------------------------------------------------------------- */

static void binary_body(const ew_task *t, char *const p[EW_MAX_OPS], int64_t n, float *buf) {
    const accel_tensor *dst = t->dst, *a = dst->src[0], *b = dst->src[1];
    int inner = t->L.nd - 1;
    const float *fa = cpu_vec_row_f32(t->isa, a->dtype, p[1], t->L.stride[1][inner], n, buf);
    float *y = dst->dtype == ACCEL_F32 ? (float *)p[0] : buf; /* may overwrite fa in buf: same index, fine */
    int64_t sb = t->L.stride[2][inner];
    if (sb == 0) {
        float bv;
        cpu_vec_load_f32(t->isa, b->dtype, p[2], 0, &bv, 1);
        cpu_vec_binary_scalar_f32(t->isa, dst->op, y, fa, bv, n);
    } else {
        const float *fb = cpu_vec_row_f32(t->isa, b->dtype, p[2], sb, n, buf + EW_CHUNK);
        cpu_vec_binary_f32(t->isa, dst->op, y, fa, fb, n);
    }
    if (dst->dtype != ACCEL_F32) cpu_vec_store_f32(t->isa, dst->dtype, y, p[0], n);
}

static accel_status binary_compute(cpu_ctx *ctx, accel_tensor *dst) {
    ew_layout L;
    ew_layout_of(dst, 2, &L);
    return ew_run(ctx, dst, &L, binary_body, 2 * EW_CHUNK);
}

/* ---- unary and scale ------------------------------------------------------------------------------------------- */

static void unary_body(const ew_task *t, char *const p[EW_MAX_OPS], int64_t n, float *buf) {
    const accel_tensor *dst = t->dst;
    const float *x = cpu_vec_row_f32(t->isa, dst->src[0]->dtype, p[1], t->L.stride[1][t->L.nd - 1], n, buf);
    float *y = dst->dtype == ACCEL_F32 ? (float *)p[0] : buf;
    float p0 = dst->op == ACCEL_OP_SCALE ? accel_param_f32(dst, 0) : 0.0f;
    float p1 = dst->op == ACCEL_OP_SCALE ? accel_param_f32(dst, 1) : 0.0f;
    cpu_vec_unary_f32(t->isa, dst->op, y, x, n, p0, p1);
    if (dst->dtype != ACCEL_F32) cpu_vec_store_f32(t->isa, dst->dtype, y, p[0], n);
}

static accel_status unary_compute(cpu_ctx *ctx, accel_tensor *dst) {
    ew_layout L;
    ew_layout_of(dst, 1, &L);
    return ew_run(ctx, dst, &L, unary_body, EW_CHUNK);
}

/* ---- portable row math (the AVX paths live in cpu_elementwise_avx2.c / _avx512.c) ---------------------------- */

static float sigmoid_scalar(float x) {
    float e = expf(-fabsf(x)); /* exp of a non-positive number: no overflow; the tails keep their accuracy */
    float r = 1.0f / (1.0f + e);
    return x < 0 ? e * r : r;
}

static float unary_scalar(accel_op op, float x, float p0, float p1) {
    switch (op) {
    case ACCEL_OP_SCALE: return fmaf(x, p0, p1);
    /* in double: erfc's argument -x / sqrt 2 rounded to float would cost accuracy in the lower tail */
    case ACCEL_OP_GELU: return (float)(0.5 * x * erfc(-(double)x * 0.70710678118654752440));
    /* 0.5 (1 + tanh(z)) == sigmoid(2 z): no cancellation for negative x */
    case ACCEL_OP_GELU_TANH:
        return x * sigmoid_scalar(2.0f * CPU_GELU_TANH_K * (x + CPU_GELU_TANH_C * x * x * x));
    case ACCEL_OP_QUICK_GELU: return x * sigmoid_scalar(CPU_QUICK_GELU_K * x);
    case ACCEL_OP_SILU: return x * sigmoid_scalar(x);
    case ACCEL_OP_RELU: return x > 0 ? x : (x != x ? x : 0.0f);
    case ACCEL_OP_TANH: return tanhf(x);
    case ACCEL_OP_SIGMOID: return sigmoid_scalar(x);
    default: return NAN;
    }
}

void cpu_vec_unary_f32(cpu_isa isa, accel_op op, float *dst, const float *src, int64_t n, float p0, float p1) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_unary_f32_avx512(op, dst, src, n, p0, p1); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_unary_f32_avx2(op, dst, src, n, p0, p1); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = unary_scalar(op, src[i], p0, p1);
}

static float binary_scalar(accel_op op, float a, float b) {
    switch (op) {
    case ACCEL_OP_ADD: return a + b;
    case ACCEL_OP_SUB: return a - b;
    case ACCEL_OP_MUL: return a * b;
    case ACCEL_OP_DIV: return a / b;
    default: return NAN;
    }
}

void cpu_vec_binary_f32(cpu_isa isa, accel_op op, float *dst, const float *a, const float *b, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_binary_f32_avx512(op, dst, a, b, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_binary_f32_avx2(op, dst, a, b, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = binary_scalar(op, a[i], b[i]);
}

void cpu_vec_binary_scalar_f32(cpu_isa isa, accel_op op, float *dst, const float *a, float b, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_binary_scalar_f32_avx512(op, dst, a, b, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_binary_scalar_f32_avx2(op, dst, a, b, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = binary_scalar(op, a[i], b);
}

/* ---- supports and registration ------------------------------------------------------------------------------ */

static bool dtype_is_plain(accel_dtype d) { return (unsigned)d <= ACCEL_I64; }
static bool dtype_is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

static bool dst_ok(const accel_tensor *dst) {
    return dst->ndim >= 0 && dst->ndim <= ACCEL_MAX_DIMS && accel_is_contiguous(dst);
}

static bool cpy_supports(const accel_tensor *dst) {
    const accel_tensor *src = dst->src[0];
    return src && dst_ok(dst) && dtype_is_plain(dst->dtype) && dtype_is_plain(src->dtype) &&
           accel_nelements(src) == accel_nelements(dst);
}

static bool binary_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    return a && b && dst_ok(dst) && dtype_is_float(a->dtype) && dtype_is_float(b->dtype) && dst->dtype == a->dtype &&
           accel_same_shape(dst, a) && accel_can_broadcast(b, a);
}

static bool unary_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    return a && dst_ok(dst) && dtype_is_float(a->dtype) && dst->dtype == a->dtype && accel_same_shape(dst, a);
}

void cpu_register_elementwise(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_CPY] = (cpu_op_entry){cpy_compute, cpy_supports};
    static const accel_op binary_ops[] = {ACCEL_OP_ADD, ACCEL_OP_SUB, ACCEL_OP_MUL, ACCEL_OP_DIV};
    for (size_t i = 0; i < sizeof binary_ops / sizeof binary_ops[0]; i++)
        table[binary_ops[i]] = (cpu_op_entry){binary_compute, binary_supports};
    static const accel_op unary_ops[] = {ACCEL_OP_SCALE, ACCEL_OP_GELU, ACCEL_OP_GELU_TANH, ACCEL_OP_QUICK_GELU,
                                         ACCEL_OP_SILU,  ACCEL_OP_RELU, ACCEL_OP_TANH,      ACCEL_OP_SIGMOID};
    for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
        table[unary_ops[i]] = (cpu_op_entry){unary_compute, unary_supports};
}
