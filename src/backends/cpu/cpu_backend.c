/* The "cpu" backend: one device that runs every op with a kernel in the cpu_op_entry table, in host memory, on a
 * thread pool, with SIMD paths picked at run time (cpu_detect_isa). */
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "core/error.h"
#include "hw/hw_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- op table -------------------------------------------------------------------------------------------------- */

static cpu_op_entry g_ops[ACCEL_OP_COUNT];
static pthread_once_t g_ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void) {
    cpu_register_matmul(g_ops);
    cpu_register_conv(g_ops);
    cpu_register_elementwise(g_ops);
    cpu_register_norm(g_ops);
    cpu_register_attention(g_ops);
    cpu_register_data(g_ops);
}

static const cpu_op_entry *op_entry(accel_op op) {
    pthread_once(&g_ops_once, ops_init);
    if ((unsigned)op >= ACCEL_OP_COUNT || !g_ops[op].compute || !g_ops[op].supports) return NULL;
    return &g_ops[op];
}

/* ---- scratch --------------------------------------------------------------------------------------------------- */

void *cpu_scratch(cpu_ctx *ctx, size_t size) {
    if (size <= ctx->scratch_size) return ctx->scratch;
    size_t want = (size + 63) & ~(size_t)63;
    if (want < size) return NULL; /* overflow */
    void *p = aligned_alloc(64, want);
    if (!p) return NULL;
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_size = want;
    return p;
}

/* ---- device ---------------------------------------------------------------------------------------------------- */

static char g_description[256];

static const char *cpu_dev_name(accel_device *dev) { return "cpu"; }
static const char *cpu_dev_description(accel_device *dev) { return g_description; }
static accel_device_type cpu_dev_type(accel_device *dev) { return ACCEL_DEVICE_CPU; }
static accel_buffer_type *cpu_dev_buffer_type(accel_device *dev) { return accel_host_buffer_type(); }

static bool cpu_dev_supports_op(accel_device *dev, const accel_tensor *node) {
    const cpu_op_entry *e = op_entry(node->op);
    return e && e->supports(node);
}

static bool cpu_dev_supports_buft(accel_device *dev, accel_buffer_type *bt) {
    return bt && (bt == accel_host_buffer_type() || (bt->iface.is_host && bt->iface.is_host(bt)));
}

static accel_status cpu_dev_compute_init(accel_device *dev, int n_threads, void **state) {
    if (!state) return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu compute_init: NULL state");
    if (n_threads < 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu: n_threads must be >= 0, got %d", n_threads);
    cpu_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu compute_init: out of memory");
    ctx->n_threads = n_threads > 0 ? n_threads : accel_physical_cores();
    cpu_detect_features(ctx);
    accel_status st = accel_threadpool_new(ctx->n_threads, &ctx->pool);
    if (st != ACCEL_OK) {
        free(ctx);
        return st;
    }
    *state = ctx;
    return ACCEL_OK;
}

static void cpu_dev_compute_free(accel_device *dev, void *state) {
    cpu_ctx *ctx = state;
    if (!ctx) return;
    accel_threadpool_free(ctx->pool);
    gemm_pack_cache_free(ctx->pack_cache);
    free(ctx->scratch);
    free(ctx);
}

/* A node must have memory for itself and each source before a kernel touches it. */
static bool has_memory(const accel_tensor *t) { return t->data || accel_nelements(t) == 0; }

static accel_status cpu_dev_compute(accel_device *dev, void *state, accel_tensor *const *nodes, int n) {
    cpu_ctx *ctx = state;
    if (!ctx) return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu compute: no compute state (compute_init)");
    for (int i = 0; i < n; i++) {
        accel_tensor *node = nodes[i];
        const cpu_op_entry *e = op_entry(node->op);
        if (!e || !e->supports(node))
            return accel_set_error(ACCEL_ERR_UNSUPPORTED, "cpu: op %s on %s is not supported (node '%s')",
                                   accel_op_name(node->op), accel_dtype_name(node->dtype), node->name);
        bool ok = has_memory(node);
        for (int k = 0; k < ACCEL_MAX_SRC && ok; k++) ok = !node->src[k] || has_memory(node->src[k]);
        if (!ok)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "cpu: node '%s' (%s) or a source has no memory", node->name,
                                   accel_op_name(node->op));
        accel_status st = ACCEL_OK;
        const int fused = cpu_matmul_fuse(ctx, nodes, i, n, &st);
        if (fused > 0)
            i += fused - 1;
        else
            st = e->compute(ctx, node);
        if (st != ACCEL_OK) return st;
    }
    return ACCEL_OK;
}

static accel_device g_cpu_device = {
    .iface =
        {
            .name = cpu_dev_name,
            .description = cpu_dev_description,
            .type = cpu_dev_type,
            .buffer_type = cpu_dev_buffer_type,
            .supports_op = cpu_dev_supports_op,
            .supports_buft = cpu_dev_supports_buft,
            .compute_init = cpu_dev_compute_init,
            .compute_free = cpu_dev_compute_free,
            .compute = cpu_dev_compute,
        },
    .ctx = NULL,
    .priority = 10,
};

static accel_status cpu_enumerate(void (*add)(accel_device *dev)) {
    const char *brand = hw_cpu_cached()->model[0] ? hw_cpu_cached()->model : "unknown CPU";
    cpu_ctx probe = {0};
    cpu_detect_features(&probe);
    int threads = accel_physical_cores();
    snprintf(g_description, sizeof g_description, "%.160s (%s%s%s, %d thread%s)", brand, cpu_isa_name(probe.isa),
             probe.has_avx512_bf16 ? "+bf16" : "", probe.has_amx ? "+amx" : "", threads, threads == 1 ? "" : "s");
    add(&g_cpu_device);
    return ACCEL_OK;
}

const accel_backend_reg accel_cpu_backend_reg = {"cpu", cpu_enumerate};
