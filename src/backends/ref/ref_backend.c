/* The "ref" device: a scalar, double-accumulating oracle that runs in host memory. It is never picked for real
 * work (priority -1); the conformance harness and unit tests compare every other backend against it. */
#include "backends/ref/ref_ops.h"

#include <pthread.h>
#include <stdint.h>

/* ---- shared helpers (declared in ref_ops.h) ----------------------------------------------------------------- */
int64_t ref_load_i64(const void *p, accel_dtype d) {
    switch (d) {
    case ACCEL_I8: return *(const int8_t *)p;
    case ACCEL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case ACCEL_I64: { int64_t v; memcpy(&v, p, 8); return v; }
    default: return (int64_t)accel_load_f64(p, d);
    }
}

void ref_store_i64(void *p, accel_dtype d, int64_t v) {
    switch (d) {
    case ACCEL_I8: *(int8_t *)p = (int8_t)(v < INT8_MIN ? INT8_MIN : v > INT8_MAX ? INT8_MAX : v); break;
    case ACCEL_I32: {
        int32_t w = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
        memcpy(p, &w, 4);
        break;
    }
    case ACCEL_I64: memcpy(p, &v, 8); break;
    case ACCEL_F32: { float f = (float)v; memcpy(p, &f, 4); break; } /* one rounding, not via double */
    default: accel_store_f64(p, d, (double)(float)v); break;
    }
}

bool ref_tensor_ok(const accel_tensor *t) {
    if (!t || !ref_is_plain(t->dtype) || t->ndim < 0 || t->ndim > ACCEL_MAX_DIMS) return false;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] < 0) return false;
    return true;
}

bool ref_is_float_vec(const accel_tensor *t, int64_t n) {
    return ref_tensor_ok(t) && ref_is_float(t->dtype) && t->ndim == 1 && t->shape[0] == n;
}

bool ref_same_shape_dtype(const accel_tensor *dst, const accel_tensor *src, accel_dtype dtype) {
    return dst->dtype == dtype && accel_same_shape(dst, src);
}

/* ---- op table ------------------------------------------------------------------------------------------------ */
static ref_op_entry g_ops[ACCEL_OP_COUNT];

static void ref_fill_table(void) {
    ref_register_elementwise(g_ops);
    ref_register_matmul(g_ops);
    ref_register_norm(g_ops);
    ref_register_attention(g_ops);
    ref_register_conv_pool(g_ops);
    ref_register_data(g_ops);
}

/* supports_op may be called from several threads before enumerate: fill the table exactly once. */
static void ref_build_table(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ref_fill_table);
}

bool ref_supports_node(const accel_tensor *node) {
    ref_build_table();
    if (!ref_tensor_ok(node) || (unsigned)node->op >= ACCEL_OP_COUNT) return false;
    const ref_op_entry *e = &g_ops[node->op];
    if (!e->compute || !e->supports) return false;
    /* Every source that is present must be a plain tensor; each op checks which ones are required. */
    for (int i = 0; i < ACCEL_MAX_SRC; i++)
        if (node->src[i] && !ref_tensor_ok(node->src[i])) return false;
    return e->supports(node);
}

accel_status ref_compute_node(accel_tensor *node) {
    if (!node) return accel_set_error(ACCEL_ERR_INVALID_ARG, "ref: NULL node");
    if (!ref_supports_node(node))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "ref: node '%s' (%s, %s) is not supported by the ref device",
                               node->name, accel_op_name(node->op), accel_dtype_name(node->dtype));
    if (accel_nelements(node) > 0 && !node->data)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "ref: node '%s' (%s) has no memory", node->name,
                               accel_op_name(node->op));
    return g_ops[node->op].compute(node);
}

/* ---- device ---------------------------------------------------------------------------------------------------- */
static const char *ref_dev_name(accel_device *dev) { return "ref"; }
static const char *ref_dev_description(accel_device *dev) { return "scalar reference (double accumulation)"; }
static accel_device_type ref_dev_type(accel_device *dev) { return ACCEL_DEVICE_CPU; }
static accel_buffer_type *ref_dev_buffer_type(accel_device *dev) { return accel_host_buffer_type(); }
static bool ref_dev_supports_op(accel_device *dev, const accel_tensor *node) { return ref_supports_node(node); }

static bool ref_dev_supports_buft(accel_device *dev, accel_buffer_type *bt) {
    return bt && bt->iface.is_host && bt->iface.is_host(bt);
}

static accel_status ref_dev_compute_init(accel_device *dev, int n_threads, void **state) {
    if (state) *state = NULL; /* single-threaded, stateless */
    return ACCEL_OK;
}

static void ref_dev_compute_free(accel_device *dev, void *state) {}

static accel_status ref_dev_compute(accel_device *dev, void *state, accel_tensor *const *nodes, int n) {
    for (int i = 0; i < n; i++) {
        accel_status st = ref_compute_node(nodes[i]);
        if (st != ACCEL_OK) return st;
    }
    return ACCEL_OK;
}

static accel_device g_ref_device = {
    .iface =
        {
            .name = ref_dev_name,
            .description = ref_dev_description,
            .type = ref_dev_type,
            .buffer_type = ref_dev_buffer_type,
            .supports_op = ref_dev_supports_op,
            .supports_buft = ref_dev_supports_buft,
            .compute_init = ref_dev_compute_init,
            .compute_free = ref_dev_compute_free,
            .compute = ref_dev_compute,
        },
    .ctx = NULL,
    .priority = -1,
};

static accel_status ref_enumerate(void (*add)(accel_device *dev)) {
    ref_build_table();
    add(&g_ref_device);
    return ACCEL_OK;
}

const accel_backend_reg accel_ref_backend_reg = {"ref", ref_enumerate};
