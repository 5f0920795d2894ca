/* CPU data movement: GET_ROWS (embedding gather), CONCAT and PAD, for every plain dtype and any source strides,
 * and the in-place WRITE (KV caches). Elements are copied bit for bit (WRITE converts floats to the destination's
 * dtype); rows whose source is contiguous are copied with memcpy. This file also registers the pooling, reduction
 * and interpolation kernels of cpu_pool.c, cpu_reduce.c and cpu_interp.c. */
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

/* Copies n elements of es bytes from s (element stride sl bytes) to d (element stride dl bytes). */
static void copy_elems(char *d, int64_t dl, const char *s, int64_t sl, int64_t n, size_t es) {
    if (dl == (int64_t)es && sl == (int64_t)es) {
        memcpy(d, s, (size_t)n * es);
        return;
    }
    /* constant-size memcpy compiles to one load and one store */
    switch (es) {
    case 1:
        for (int64_t j = 0; j < n; j++) d[j * dl] = s[j * sl];
        break;
    case 2:
        for (int64_t j = 0; j < n; j++) memcpy(d + j * dl, s + j * sl, 2);
        break;
    case 4:
        for (int64_t j = 0; j < n; j++) memcpy(d + j * dl, s + j * sl, 4);
        break;
    default:
        for (int64_t j = 0; j < n; j++) memcpy(d + j * dl, s + j * sl, 8);
        break;
    }
}

/* Writes n copies of the es-byte pattern pat at d (contiguous). */
static void fill_elems(char *d, const char *pat, int64_t n, size_t es) {
    bool uniform = true; /* every byte equal (zero, most often): memset */
    for (size_t b = 1; b < es; b++) uniform = uniform && pat[b] == pat[0];
    if (uniform) {
        memset(d, (unsigned char)pat[0], (size_t)n * es);
        return;
    }
    for (int64_t j = 0; j < n; j++) memcpy(d + (size_t)j * es, pat, es);
}

/* Rows (product of every dim but the last) and row length of a tensor; a 0-d tensor is one row of one. */
static int64_t rows_of(const accel_tensor *t) {
    int64_t r = 1;
    for (int d = 0; d < t->ndim - 1; d++) r *= t->shape[d];
    return r;
}
static int64_t row_len(const accel_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
static int64_t last_stride(const accel_tensor *t) {
    return t->ndim ? t->stride[t->ndim - 1] : (int64_t)accel_dtype_size(t->dtype);
}

/* ---- GET_ROWS ------------------------------------------------------------------------------------------------- */
typedef struct get_rows_job {
    const accel_tensor *table, *ids;
    char *out;
    int64_t n_ids, D;
    size_t es;
} get_rows_job;

static int64_t load_id(const accel_tensor *ids, int64_t flat) {
    return cpu_data_load_int(accel_tensor_ptr(ids) + cpu_data_elem_offset(flat, ids), ids->dtype);
}

static void get_rows_task(void *arg, int ith, int nth) {
    const get_rows_job *j = arg;
    int64_t i0, i1;
    accel_split_range(j->n_ids, ith, nth, &i0, &i1);
    const int64_t ts0 = j->table->stride[0], ts1 = j->table->stride[1];
    for (int64_t i = i0; i < i1; i++) {
        const int64_t id = load_id(j->ids, i); /* validated before the run */
        copy_elems(j->out + (size_t)(i * j->D) * j->es, (int64_t)j->es, accel_tensor_ptr(j->table) + id * ts0, ts1,
                   j->D, j->es);
    }
}

static accel_status get_rows_compute(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *table = dst->src[0], *ids = dst->src[1];
    const int64_t V = table->shape[0], n = accel_nelements(ids);
    /* Check every id first, so a bad one is reported (naming it) before anything is written. */
    for (int64_t i = 0; i < n; i++) {
        const int64_t id = load_id(ids, i);
        if (id < 0 || id >= V)
            return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                   "get_rows: id %lld (at flat position %lld of ids) is out of range for a table of "
                                   "%lld rows",
                                   (long long)id, (long long)i, (long long)V);
    }
    get_rows_job job = {table, ids, accel_tensor_ptr(dst), n, table->shape[1], accel_dtype_size(table->dtype)};
    if (n > 0 && job.D > 0) cpu_data_run(ctx, get_rows_task, &job);
    return ACCEL_OK;
}

static bool get_rows_supports(const accel_tensor *dst) {
    const accel_tensor *table = dst->src[0], *ids = dst->src[1];
    if (!table || !ids || table->ndim != 2 || !cpu_data_is_plain(table->dtype) || dst->dtype != table->dtype)
        return false;
    if ((ids->dtype != ACCEL_I32 && ids->dtype != ACCEL_I64) || ids->ndim + 1 != dst->ndim) return false;
    for (int i = 0; i < ids->ndim; i++)
        if (dst->shape[i] != ids->shape[i]) return false;
    return dst->shape[ids->ndim] == table->shape[1] && accel_is_contiguous(dst);
}

/* ---- CONCAT --------------------------------------------------------------------------------------------------- */
typedef struct concat_job {
    const accel_tensor *a, *b;
    char *out_a, *out_b; /* where a's and b's element 0 land in dst */
    int64_t dstride[ACCEL_MAX_DIMS];
    int64_t rows_a, rows_b;
} concat_job;

/* Copies row `row` of src into dst memory laid out with dstride (dst's strides, src's shape). */
static void copy_row_into(char *dbase, const int64_t *dstride, const accel_tensor *src, int64_t row) {
    const int nd = src->ndim;
    const size_t es = accel_dtype_size(src->dtype);
    const char *s = accel_tensor_ptr(src) + cpu_data_row_offset(row, src->shape, src->stride, nd);
    char *d = dbase + cpu_data_row_offset(row, src->shape, dstride, nd);
    copy_elems(d, nd ? dstride[nd - 1] : (int64_t)es, s, last_stride(src), row_len(src), es);
}

static void concat_task(void *arg, int ith, int nth) {
    const concat_job *j = arg;
    int64_t r0, r1;
    accel_split_range(j->rows_a + j->rows_b, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        if (r < j->rows_a) copy_row_into(j->out_a, j->dstride, j->a, r);
        else copy_row_into(j->out_b, j->dstride, j->b, r - j->rows_a);
    }
}

static accel_status concat_compute(cpu_ctx *ctx, accel_tensor *dst) {
    concat_job job = {.a = dst->src[0], .b = dst->src[1]};
    const int dim = dst->params[0];
    cpu_data_contiguous_strides(dst, job.dstride);
    job.out_a = accel_tensor_ptr(dst);
    job.out_b = job.out_a + job.a->shape[dim] * job.dstride[dim];
    job.rows_a = accel_nelements(job.a) ? rows_of(job.a) : 0;
    job.rows_b = accel_nelements(job.b) ? rows_of(job.b) : 0;
    if (job.rows_a + job.rows_b > 0) cpu_data_run(ctx, concat_task, &job);
    return ACCEL_OK;
}

static bool concat_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int dim = dst->params[0];
    if (!a || !b || !cpu_data_is_plain(dst->dtype) || a->dtype != dst->dtype || b->dtype != dst->dtype) return false;
    if (a->ndim != dst->ndim || b->ndim != dst->ndim || dim < 0 || dim >= dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++) {
        if (i == dim) {
            if (dst->shape[i] != a->shape[i] + b->shape[i]) return false;
        } else if (a->shape[i] != dst->shape[i] || b->shape[i] != dst->shape[i]) {
            return false;
        }
    }
    return accel_is_contiguous(dst);
}

/* ---- PAD ------------------------------------------------------------------------------------------------------ */
/* Constant padding; negative amounts crop (as torch.nn.functional.pad). The fill value is stored in the dtype
 * like any float conversion (integers truncate toward zero and saturate). */
typedef struct pad_job {
    const accel_tensor *src;
    accel_tensor *dst;
    int64_t rows;
    char pattern[8]; /* the fill value as one element of dst's dtype */
} pad_job;

static void pad_task(void *arg, int ith, int nth) {
    const pad_job *j = arg;
    const accel_tensor *src = j->src, *dst = j->dst;
    const int nd = dst->ndim;
    const size_t es = accel_dtype_size(dst->dtype);
    const int64_t W = row_len(dst), Win = row_len(src);
    const int64_t before = nd ? dst->params[2 * (nd - 1)] : 0;
    /* the columns of a dst row that come from the source: [c0, c1) */
    int64_t c0 = before < 0 ? 0 : before, c1 = before + Win < W ? before + Win : W;
    if (c1 < c0) c1 = c0;
    int64_t r0, r1;
    accel_split_range(j->rows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        char *d = accel_tensor_ptr(dst) + (size_t)(r * W) * es;
        /* source row of this dst row, or none when an outer index falls in the padding */
        int64_t rem = r, soff = 0;
        bool inside = c1 > c0;
        for (int k = nd - 2; k >= 0 && inside; k--) {
            const int64_t di = rem % dst->shape[k], si = di - dst->params[2 * k];
            rem /= dst->shape[k];
            if (si < 0 || si >= src->shape[k]) inside = false;
            soff += si * src->stride[k];
        }
        if (!inside) {
            fill_elems(d, j->pattern, W, es);
            continue;
        }
        fill_elems(d, j->pattern, c0, es);
        copy_elems(d + (size_t)c0 * es, (int64_t)es, accel_tensor_ptr(src) + soff + (c0 - before) * last_stride(src),
                   last_stride(src), c1 - c0, es);
        fill_elems(d + (size_t)c1 * es, j->pattern, W - c1, es);
    }
}

static accel_status pad_compute(cpu_ctx *ctx, accel_tensor *dst) {
    pad_job job = {.src = dst->src[0], .dst = dst};
    accel_store_f64(job.pattern, dst->dtype, accel_param_f32(dst, 12));
    job.rows = accel_nelements(dst) ? rows_of(dst) : 0;
    if (job.rows > 0) cpu_data_run(ctx, pad_task, &job);
    return ACCEL_OK;
}

static bool pad_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    if (!a || !cpu_data_is_plain(dst->dtype) || a->dtype != dst->dtype || a->ndim != dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++)
        if (dst->shape[i] != a->shape[i] + (int64_t)dst->params[2 * i] + (int64_t)dst->params[2 * i + 1]) return false;
    return accel_is_contiguous(dst);
}

/* ---- WRITE ---------------------------------------------------------------------------------------------------- */
/* src1 goes into the node's own memory (its base's, at the node's strides, which need not be contiguous) at
 * offset along dim. Source and destination dims are collapsed together where both are contiguous across them, so
 * a write of whole rows of a contiguous cache is one memcpy; the work is split into chunks of rows. */
#define WRITE_CHUNK 4096          /* elements per work item (and f32 scratch per thread when converting) */
#define WRITE_MIN_PARALLEL 65536  /* below this many elements one thread beats waking the pool */

typedef struct write_job {
    cpu_isa isa;
    accel_dtype sd, dd;
    const char *src;
    char *dst;                                 /* element 0 of the written region */
    int nd;                                    /* collapsed dims, innermost last, >= 1 */
    int64_t shape[ACCEL_MAX_DIMS];
    int64_t ss[ACCEL_MAX_DIMS], ds[ACCEL_MAX_DIMS]; /* byte strides of src and of the region */
    int64_t nchunk, nitems;                    /* chunks per row, rows * nchunk */
    float *scratch;                            /* WRITE_CHUNK floats per thread, when converting */
} write_job;

/* n elements from s (element stride ss) to d (element stride ds), converted from j->sd to j->dd. */
static void write_run(const write_job *j, char *d, int64_t ds, const char *s, int64_t ss, int64_t n, float *buf) {
    if (j->sd == j->dd) {
        copy_elems(d, ds, s, ss, n, accel_dtype_size(j->dd));
        return;
    }
    if (j->dd == ACCEL_F32 && ds == 4) { /* convert straight into the destination */
        cpu_vec_load_f32(j->isa, j->sd, s, ss, (float *)d, n);
        return;
    }
    const float *f = cpu_vec_row_f32(j->isa, j->sd, s, ss, n, buf);
    if (ds == (int64_t)accel_dtype_size(j->dd)) {
        cpu_vec_store_f32(j->isa, j->dd, f, d, n);
        return;
    }
    for (int64_t k = 0; k < n; k++) cpu_data_store_float(d + k * ds, j->dd, f[k]);
}

static void write_task(void *arg, int ith, int nth) {
    const write_job *j = arg;
    const int inner = j->nd - 1;
    float *buf = j->scratch ? j->scratch + (size_t)ith * WRITE_CHUNK : NULL;
    int64_t begin, end;
    accel_split_range(j->nitems, ith, nth, &begin, &end);
    for (int64_t it = begin; it < end; it++) {
        int64_t row = it / j->nchunk, c0 = (it % j->nchunk) * WRITE_CHUNK;
        int64_t n = j->shape[inner] - c0 < WRITE_CHUNK ? j->shape[inner] - c0 : WRITE_CHUNK;
        const char *s = j->src + c0 * j->ss[inner];
        char *d = j->dst + c0 * j->ds[inner];
        for (int k = inner - 1; k >= 0 && row; k--) {
            int64_t i = row % j->shape[k];
            row /= j->shape[k];
            s += i * j->ss[k];
            d += i * j->ds[k];
        }
        write_run(j, d, j->ds[inner], s, j->ss[inner], n, buf);
    }
}

static accel_status write_compute(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *src = dst->src[1];
    const int dim = dst->params[0];
    const int64_t total = accel_nelements(src);
    if (total == 0) return ACCEL_OK;
    write_job j = {.isa = ctx->isa, .sd = src->dtype, .dd = dst->dtype, .src = accel_tensor_ptr(src)};
    j.dst = accel_tensor_ptr(dst) + accel_param_i64(dst, 1) * dst->stride[dim];
    /* collapse, innermost first: drop size-1 dims, merge a dim into the previous one when both operands are
     * contiguous across the pair */
    int64_t sh[ACCEL_MAX_DIMS], ss[ACCEL_MAX_DIMS], ds[ACCEL_MAX_DIMS];
    int n = 0;
    for (int k = src->ndim - 1; k >= 0; k--) {
        if (src->shape[k] == 1) continue;
        if (n > 0 && src->stride[k] == ss[n - 1] * sh[n - 1] && dst->stride[k] == ds[n - 1] * sh[n - 1]) {
            sh[n - 1] *= src->shape[k];
            continue;
        }
        sh[n] = src->shape[k];
        ss[n] = src->stride[k];
        ds[n] = dst->stride[k];
        n++;
    }
    if (n == 0) { /* one element */
        sh[0] = 1;
        ss[0] = ds[0] = 0;
        n = 1;
    }
    j.nd = n;
    for (int k = 0; k < n; k++) {
        j.shape[k] = sh[n - 1 - k];
        j.ss[k] = ss[n - 1 - k];
        j.ds[k] = ds[n - 1 - k];
    }
    j.nchunk = (j.shape[n - 1] + WRITE_CHUNK - 1) / WRITE_CHUNK;
    j.nitems = total / j.shape[n - 1] * j.nchunk;
    const bool parallel = ctx->pool && total >= WRITE_MIN_PARALLEL;
    if (j.sd != j.dd) {
        const int nth = parallel ? cpu_data_nthreads(ctx) : 1;
        j.scratch = cpu_scratch(ctx, (size_t)nth * WRITE_CHUNK * sizeof(float));
        if (!j.scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu write: no scratch memory");
    }
    if (parallel) accel_threadpool_run(ctx->pool, write_task, &j);
    else write_task(&j, 0, 1);
    return ACCEL_OK;
}

static bool write_supports(const accel_tensor *dst) {
    const accel_tensor *into = dst->src[0], *src = dst->src[1];
    if (!into || !src || !dst->view_src || into->dtype != dst->dtype || !accel_same_shape(into, dst)) return false;
    bool floats = cpu_data_is_float(dst->dtype) && cpu_data_is_float(src->dtype);
    if (!floats && !(cpu_data_is_plain(dst->dtype) && src->dtype == dst->dtype)) return false;
    const int dim = dst->params[0];
    const int64_t off = accel_param_i64(dst, 1);
    if (src->ndim != dst->ndim || dim < 0 || dim >= dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++) {
        if (i != dim && src->shape[i] != dst->shape[i]) return false;
        if (i == dim && (off < 0 || src->shape[i] > dst->shape[i] || off > dst->shape[i] - src->shape[i])) return false;
    }
    return true;
}

void cpu_register_data(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_GET_ROWS] = (cpu_op_entry){get_rows_compute, get_rows_supports};
    table[ACCEL_OP_CONCAT] = (cpu_op_entry){concat_compute, concat_supports};
    table[ACCEL_OP_PAD] = (cpu_op_entry){pad_compute, pad_supports};
    table[ACCEL_OP_WRITE] = (cpu_op_entry){write_compute, write_supports};
    cpu_register_pool(table);
    cpu_register_reduce(table);
    cpu_register_interp(table);
}
