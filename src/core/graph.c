/* Graphs: the metadata arena, leaf tensors, views and the topological node list.
 * The op builders (accel_matmul, accel_softmax, ...) are in ops_build.c. */
#include "core/graph.h"

#include "backends/backend.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

accel_graph_params accel_graph_default_params(void) {
    accel_graph_params p = {.arena_bytes = 4u << 20};
    return p;
}

accel_status accel_graph_new(const accel_graph_params *params, accel_graph **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_graph_new: out is NULL");
    *out = NULL;
    accel_graph_params p = params ? *params : accel_graph_default_params();
    if (p.arena_bytes < 4096) p.arena_bytes = 4096;
    accel_graph *g = calloc(1, sizeof *g);
    if (!g) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_graph_new: out of memory");
    g->chunk_bytes = p.arena_bytes;
    *out = g;
    return ACCEL_OK;
}

void accel_graph_free(accel_graph *g) {
    if (!g) return;
    for (arena_chunk *c = g->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(g->nodes);
    free(g->leafs);
    free(g->all);
    free(g);
}

accel_status accel_graph_status(const accel_graph *g) {
    return g ? g->status : accel_set_error(ACCEL_ERR_INVALID_ARG, "graph is NULL");
}

accel_tensor *accel_graph_fail(accel_graph *g, accel_status status, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g && g->status == ACCEL_OK) g->status = status;
    accel_set_error(status, "%s", msg);
    return NULL;
}

void *accel_graph_arena_alloc(accel_graph *g, size_t size) {
    size = (size + 15) & ~(size_t)15;
    arena_chunk *c = g->chunks;
    if (!c || c->size - c->used < size) {
        size_t cap = size > g->chunk_bytes ? size : g->chunk_bytes;
        c = malloc(sizeof *c + cap);
        if (!c) return accel_graph_fail(g, ACCEL_ERR_OUT_OF_MEMORY, "graph arena: out of memory (%zu bytes)", cap);
        c->size = cap;
        c->used = 0;
        c->next = g->chunks;
        g->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

static bool push_ptr(accel_graph *g, accel_tensor ***arr, int *n, int *cap, accel_tensor *t) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 64;
        accel_tensor **p = realloc(*arr, (size_t)ncap * sizeof *p);
        if (!p) {
            accel_graph_fail(g, ACCEL_ERR_OUT_OF_MEMORY, "graph: out of memory");
            return false;
        }
        *arr = p;
        *cap = ncap;
    }
    (*arr)[(*n)++] = t;
    return true;
}

void accel_tensor_set_contiguous_strides(accel_tensor *t) {
    int64_t be = accel_dtype_block_elems(t->dtype);
    int64_t stride = (int64_t)accel_dtype_block_bytes(t->dtype);
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->stride[i] = stride;
        int64_t n = t->shape[i];
        if (i == t->ndim - 1 && be > 1) n = (n + be - 1) / be; /* rows of whole blocks */
        stride *= n;
    }
    for (int i = t->ndim; i < ACCEL_MAX_DIMS; i++) {
        t->shape[i] = 1;
        t->stride[i] = stride;
    }
}

static accel_tensor *tensor_alloc(accel_graph *g, accel_dtype dtype, int ndim, const int64_t *shape) {
    if (!g) return accel_graph_fail(NULL, ACCEL_ERR_INVALID_ARG, "graph is NULL");
    if (g->status != ACCEL_OK) return NULL;
    if ((unsigned)dtype >= ACCEL_DTYPE_COUNT)
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "invalid dtype %d", (int)dtype);
    if (ndim < 0 || ndim > ACCEL_MAX_DIMS || (ndim > 0 && !shape))
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "ndim must be in [0, %d], got %d", ACCEL_MAX_DIMS, ndim);
    int64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && total > INT64_MAX / 8 / shape[i]))
            return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "dimension %d has invalid size %lld", i,
                                    (long long)shape[i]);
        total *= shape[i];
    }
    accel_tensor *t = accel_graph_arena_alloc(g, sizeof *t);
    if (!t) return NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    accel_tensor_set_contiguous_strides(t);
    t->sched_device = -1;
    t->sched_index = -1;
    t->graph = g;
    if (!push_ptr(g, &g->all, &g->n_all, &g->cap_all, t)) return NULL;
    return t;
}

accel_tensor *accel_graph_new_node(accel_graph *g, accel_op op, accel_dtype dtype, int ndim, const int64_t *shape,
                                   accel_tensor *const *srcs, int n_srcs) {
    accel_tensor *t = tensor_alloc(g, dtype, ndim, shape);
    if (!t) return NULL;
    t->op = op;
    for (int i = 0; i < n_srcs && i < ACCEL_MAX_SRC; i++) t->src[i] = srcs[i];
    return t;
}

/* ---- leaves ------------------------------------------------------------------------------------------------- */
accel_tensor *accel_tensor_new(accel_graph *g, accel_dtype dtype, int ndim, const int64_t *shape) {
    return tensor_alloc(g, dtype, ndim, shape);
}
accel_tensor *accel_tensor_new_1d(accel_graph *g, accel_dtype dtype, int64_t n0) {
    return tensor_alloc(g, dtype, 1, (int64_t[]){n0});
}
accel_tensor *accel_tensor_new_2d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1) {
    return tensor_alloc(g, dtype, 2, (int64_t[]){n0, n1});
}
accel_tensor *accel_tensor_new_3d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1, int64_t n2) {
    return tensor_alloc(g, dtype, 3, (int64_t[]){n0, n1, n2});
}
accel_tensor *accel_tensor_new_4d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1, int64_t n2,
                                  int64_t n3) {
    return tensor_alloc(g, dtype, 4, (int64_t[]){n0, n1, n2, n3});
}

accel_status accel_tensor_set_external(accel_tensor *t, void *data, size_t nbytes) {
    if (!t || !data) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tensor_set_external: NULL argument");
    if (t->op != ACCEL_OP_NONE)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "tensor '%s' is not a leaf: only leaves take external data",
                               t->name);
    size_t need = accel_tensor_bytes_contiguous(t);
    if (nbytes < need)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "tensor '%s' needs %zu bytes, external buffer has %zu",
                               t->name, need, nbytes);
    t->data = data;
    t->buffer = NULL;
    t->flags |= ACCEL_FLAG_EXTERNAL;
    return ACCEL_OK;
}

void accel_tensor_set_weight(accel_tensor *t) {
    if (t) t->flags |= ACCEL_FLAG_WEIGHT;
}
void accel_tensor_set_input(accel_tensor *t) {
    if (t) t->flags |= ACCEL_FLAG_INPUT;
}

void accel_tensor_set_name(accel_tensor *t, const char *name) {
    if (t && name) snprintf(t->name, sizeof t->name, "%s", name);
}
const char *accel_tensor_name(const accel_tensor *t) { return t ? t->name : ""; }
accel_dtype accel_tensor_dtype(const accel_tensor *t) { return t ? t->dtype : ACCEL_F32; }
int accel_tensor_ndim(const accel_tensor *t) { return t ? t->ndim : 0; }
int64_t accel_tensor_dim(const accel_tensor *t, int i) {
    if (!t) return 0;
    if (i < 0) i += t->ndim;
    return i >= 0 && i < t->ndim ? t->shape[i] : 1;
}
int64_t accel_tensor_stride(const accel_tensor *t, int i) {
    if (!t) return 0;
    if (i < 0) i += t->ndim;
    return i >= 0 && i < t->ndim ? t->stride[i] : 0;
}
int64_t accel_tensor_nelements(const accel_tensor *t) { return t ? accel_nelements(t) : 0; }
size_t accel_tensor_nbytes(const accel_tensor *t) { return t ? accel_tensor_bytes_contiguous(t) : 0; }
bool accel_tensor_is_contiguous(const accel_tensor *t) { return t && accel_is_contiguous(t); }
const char *accel_tensor_op_name(const accel_tensor *t) { return t ? accel_op_name(t->op) : "?"; }

/* ---- host <-> tensor copies ------------------------------------------------------------------------------- */
static accel_status check_copy(const accel_tensor *t, const void *data, size_t nbytes, const char *fn) {
    if (!t || !data) return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: NULL argument", fn);
    if (!accel_is_contiguous(t))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: tensor '%s' is not contiguous", fn, t->name);
    if (nbytes != accel_tensor_bytes_contiguous(t))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: tensor '%s' has %zu bytes, caller gave %zu", fn, t->name,
                               accel_tensor_bytes_contiguous(t), nbytes);
    if (!t->data && !t->buffer)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "%s: tensor '%s' has no memory yet (call accel_sched_alloc first)", fn, t->name);
    return ACCEL_OK;
}

accel_status accel_tensor_set(accel_tensor *t, const void *data, size_t nbytes) {
    accel_status st = check_copy(t, data, nbytes, "accel_tensor_set");
    if (st != ACCEL_OK) return st;
    if (!t->buffer) {
        memcpy(t->data, data, nbytes);
        return ACCEL_OK;
    }
    return accel_buffer_set_tensor(t, data, nbytes);
}

accel_status accel_tensor_get(const accel_tensor *t, void *data, size_t nbytes) {
    accel_status st = check_copy(t, data, nbytes, "accel_tensor_get");
    if (st != ACCEL_OK) return st;
    if (!t->buffer) {
        memcpy(data, t->data, nbytes);
        return ACCEL_OK;
    }
    return accel_buffer_get_tensor(t, data, nbytes);
}

/* ---- views -------------------------------------------------------------------------------------------------- */
/* Byte extent [lo, hi) that a view touches relative to its base's start. */
static bool view_extent(int ndim, const int64_t *shape, const int64_t *strides, int64_t offset, size_t es,
                        int64_t *lo, int64_t *hi) {
    *lo = offset;
    *hi = offset;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            *hi = *lo = offset;
            return true;
        }
        int64_t span = (shape[i] - 1) * strides[i];
        if (span < 0) *lo += span;
        else *hi += span;
    }
    *hi += (int64_t)es;
    return true;
}

static accel_tensor *make_view(accel_graph *g, accel_tensor *a, int ndim, const int64_t *shape,
                               const int64_t *strides, size_t offset) {
    accel_tensor *base = a->view_src ? a->view_src : a;
    size_t total_off = a->view_offset + offset;
    size_t es = accel_dtype_size(a->dtype);
    if (es == 0) return accel_graph_fail(g, ACCEL_ERR_UNSUPPORTED, "views of block-quantized tensors are not supported");
    int64_t lo, hi;
    view_extent(ndim, shape, strides, (int64_t)total_off, es, &lo, &hi);
    if (lo < 0 || (size_t)hi > accel_tensor_bytes_contiguous(base))
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "view of '%s' reaches outside its memory ([%lld, %lld) of %zu)",
                                base->name, (long long)lo, (long long)hi, accel_tensor_bytes_contiguous(base));
    accel_tensor *v = accel_graph_new_node(g, ACCEL_OP_VIEW, a->dtype, ndim, shape, &a, 1);
    if (!v) return NULL;
    for (int i = 0; i < ndim; i++) v->stride[i] = strides[i];
    v->view_src = base;
    v->view_offset = total_off;
    snprintf(v->name, sizeof v->name, "%.55s (view)", a->name);
    return v;
}

accel_tensor *accel_view(accel_graph *g, accel_tensor *a, int ndim, const int64_t *shape, const int64_t *strides,
                         size_t offset) {
    if (!g || g->status != ACCEL_OK || !a) return g ? accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_view: NULL input") : NULL;
    if (ndim < 0 || ndim > ACCEL_MAX_DIMS || (ndim && (!shape || !strides)))
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_view: bad ndim %d", ndim);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_view: negative size");
    return make_view(g, a, ndim, shape, strides, offset);
}

accel_tensor *accel_cont(accel_graph *g, accel_tensor *a); /* ops_build.c */

accel_tensor *accel_reshape(accel_graph *g, accel_tensor *a, int ndim, const int64_t *shape) {
    if (!g || g->status != ACCEL_OK) return NULL;
    if (!a || ndim < 0 || ndim > ACCEL_MAX_DIMS || (ndim && !shape))
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_reshape: bad arguments");
    int64_t ns[ACCEL_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        ns[i] = shape[i];
        if (shape[i] == -1) {
            if (infer >= 0) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_reshape: more than one -1");
            infer = i;
        } else if (shape[i] < 0) {
            return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_reshape: negative size %lld", (long long)shape[i]);
        } else {
            known *= shape[i];
        }
    }
    int64_t n = accel_nelements(a);
    if (infer >= 0) {
        if (known == 0 || n % known)
            return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_reshape: cannot infer size of %lld elements",
                                    (long long)n);
        ns[infer] = n / known;
        known *= ns[infer];
    }
    if (known != n)
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_reshape: %lld elements cannot take a shape of %lld",
                                (long long)n, (long long)known);
    /* like torch.reshape: a view when the source is contiguous, otherwise a contiguous copy first */
    if (!accel_is_contiguous(a)) {
        a = accel_cont(g, a);
        if (!a) return NULL;
    }
    accel_tensor tmp = {.dtype = a->dtype, .ndim = ndim};
    memcpy(tmp.shape, ns, sizeof(int64_t) * (size_t)ndim);
    accel_tensor_set_contiguous_strides(&tmp);
    return make_view(g, a, ndim, ns, tmp.stride, 0);
}

accel_tensor *accel_permute(accel_graph *g, accel_tensor *a, const int *perm) {
    if (!g || g->status != ACCEL_OK) return NULL;
    if (!a || !perm) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_permute: NULL argument");
    int64_t shape[ACCEL_MAX_DIMS], strides[ACCEL_MAX_DIMS];
    bool used[ACCEL_MAX_DIMS] = {false};
    for (int i = 0; i < a->ndim; i++) {
        int p = perm[i];
        if (p < 0 || p >= a->ndim || used[p])
            return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_permute: invalid permutation");
        used[p] = true;
        shape[i] = a->shape[p];
        strides[i] = a->stride[p];
    }
    return make_view(g, a, a->ndim, shape, strides, 0);
}

accel_tensor *accel_transpose(accel_graph *g, accel_tensor *a) {
    if (!g || g->status != ACCEL_OK) return NULL;
    if (!a || a->ndim < 2) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_transpose: needs >= 2 dims");
    int perm[ACCEL_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) perm[i] = i;
    perm[a->ndim - 1] = a->ndim - 2;
    perm[a->ndim - 2] = a->ndim - 1;
    return accel_permute(g, a, perm);
}

accel_tensor *accel_slice(accel_graph *g, accel_tensor *a, int dim, int64_t start, int64_t stop, int64_t step) {
    if (!g || g->status != ACCEL_OK) return NULL;
    if (!a) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_slice: NULL input");
    if (dim < 0) dim += a->ndim;
    if (dim < 0 || dim >= a->ndim) return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_slice: bad dim");
    int64_t n = a->shape[dim];
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (stop > n) stop = n;
    if (step < 1 || start < 0 || start > n || stop < start)
        return accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "accel_slice: range [%lld:%lld:%lld] invalid for size %lld",
                                (long long)start, (long long)stop, (long long)step, (long long)n);
    int64_t shape[ACCEL_MAX_DIMS], strides[ACCEL_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    memcpy(strides, a->stride, sizeof strides);
    shape[dim] = (stop - start + step - 1) / step;
    strides[dim] = a->stride[dim] * step;
    return make_view(g, a, a->ndim, shape, strides, (size_t)(start * a->stride[dim]));
}

/* ---- outputs and topological order ------------------------------------------------------------------------- */
static bool visit(accel_graph *g, accel_tensor *t, int depth) {
    if (t->sched_index >= 0) return true;
    if (t->graph != g) {
        accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "tensor '%s' belongs to another graph", t->name);
        return false;
    }
    if (depth > 100000) {
        accel_graph_fail(g, ACCEL_ERR_INVALID_ARG, "graph too deep");
        return false;
    }
    for (int i = 0; i < ACCEL_MAX_SRC; i++)
        if (t->src[i] && !visit(g, t->src[i], depth + 1)) return false;
    if (t->view_src && !visit(g, t->view_src, depth + 1)) return false;
    if (t->op == ACCEL_OP_NONE) {
        t->sched_index = g->n_leafs;
        return push_ptr(g, &g->leafs, &g->n_leafs, &g->cap_leafs, t);
    }
    t->sched_index = g->n_nodes;
    return push_ptr(g, &g->nodes, &g->n_nodes, &g->cap_nodes, t);
}

accel_status accel_graph_add_output(accel_graph *g, accel_tensor *t) {
    if (!g) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_graph_add_output: graph is NULL");
    if (g->status != ACCEL_OK) return accel_set_error(g->status, "graph has an earlier error: %s", accel_last_error());
    if (!t) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_graph_add_output: tensor is NULL");
    /* the traversal is iterative in practice only for shallow graphs; depth is bounded above */
    if (!visit(g, t, 0)) return g->status;
    t->flags |= ACCEL_FLAG_OUTPUT;
    return ACCEL_OK;
}

int accel_graph_node_count(const accel_graph *g) { return g ? g->n_nodes : 0; }
accel_tensor *accel_graph_node(const accel_graph *g, int i) {
    return g && i >= 0 && i < g->n_nodes ? g->nodes[i] : NULL;
}
