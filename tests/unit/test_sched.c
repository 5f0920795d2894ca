/* Scheduler: per-op placement with fallback to the CPU, copies at device boundaries, liveness-based memory.
 *
 * A test-only backend "subset" supports just ADD and MUL (f32, same shapes, contiguous) and keeps its tensors in
 * a buffer type the CPU may not read, so every boundary needs a real copy. Its kernels are real computations. */
#include "backends/backend.h"
#include "core/error.h"
#include "test.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* ---- the subset backend ---------------------------------------------------------------------------------- */
static void sub_free(accel_buffer *b) {
    free(b->ctx);
    free(b);
}
static void *sub_base(accel_buffer *b) { return b->ctx; }
static accel_status sub_set(accel_buffer *b, size_t off, const void *src, size_t n) {
    if (off + n > b->size) return accel_set_error(ACCEL_ERR_INVALID_ARG, "subset: write [%zu, +%zu) outside %zu", off, n, b->size);
    memcpy((char *)b->ctx + off, src, n);
    return ACCEL_OK;
}
static accel_status sub_get(accel_buffer *b, size_t off, void *dst, size_t n) {
    if (off + n > b->size) return accel_set_error(ACCEL_ERR_INVALID_ARG, "subset: read [%zu, +%zu) outside %zu", off, n, b->size);
    memcpy(dst, (char *)b->ctx + off, n);
    return ACCEL_OK;
}
static const char *subbt_name(accel_buffer_type *bt) { return "subset-mem"; }
static size_t subbt_align(accel_buffer_type *bt) { return 64; }
static bool subbt_is_host(accel_buffer_type *bt) { return false; }
static int g_subset_allocs;
static accel_status subbt_alloc(accel_buffer_type *bt, size_t size, accel_buffer **out) {
    accel_buffer *b = calloc(1, sizeof *b);
    b->iface = (accel_buffer_iface){sub_free, sub_base, sub_set, sub_get, NULL};
    b->type = bt;
    b->ctx = calloc(1, size ? size : 1);
    b->size = size;
    g_subset_allocs++;
    *out = b;
    return ACCEL_OK;
}

static accel_device g_subset;
static accel_buffer_type g_subset_bt = {{subbt_name, subbt_alloc, subbt_align, subbt_is_host}, &g_subset, NULL};

static const char *sub_name(accel_device *d) { return "subset"; }
static accel_device_type sub_type(accel_device *d) { return ACCEL_DEVICE_ACCEL; }
static accel_buffer_type *sub_buft(accel_device *d) { return &g_subset_bt; }
static bool sub_supports(accel_device *d, const accel_tensor *t) {
    if (t->op != ACCEL_OP_ADD && t->op != ACCEL_OP_MUL) return false;
    return t->dtype == ACCEL_F32 && t->src[0]->dtype == ACCEL_F32 && t->src[1]->dtype == ACCEL_F32 &&
           accel_same_shape(t->src[0], t->src[1]) && accel_is_contiguous(t->src[0]) && accel_is_contiguous(t->src[1]);
}
static bool sub_reads(accel_device *d, accel_buffer_type *bt) { return bt == &g_subset_bt; }
static int g_subset_nodes_run;
static accel_status sub_compute(accel_device *d, void *state, accel_tensor *const *nodes, int n) {
    for (int i = 0; i < n; i++) {
        const accel_tensor *t = nodes[i];
        /* the scheduler promised every tensor lives in our memory */
        if (t->buffer->type != &g_subset_bt || t->src[0]->buffer->type != &g_subset_bt ||
            t->src[1]->buffer->type != &g_subset_bt)
            return accel_set_error(ACCEL_ERR_INTERNAL, "subset: node %s reads memory it cannot (%s %s %s)", t->name, t->buffer->type->iface.name(t->buffer->type), t->src[0]->buffer->type->iface.name(t->src[0]->buffer->type), t->src[1]->buffer->type->iface.name(t->src[1]->buffer->type));
        const float *a = t->src[0]->data, *b = t->src[1]->data;
        float *y = t->data;
        for (int64_t k = 0; k < accel_nelements(t); k++) y[k] = t->op == ACCEL_OP_ADD ? a[k] + b[k] : a[k] * b[k];
        g_subset_nodes_run++;
    }
    return ACCEL_OK;
}

static void register_subset(void) {
    g_subset.iface = (accel_device_iface){.name = sub_name, .description = sub_name, .type = sub_type,
                                          .buffer_type = sub_buft, .supports_op = sub_supports,
                                          .supports_buft = sub_reads, .compute = sub_compute};
    g_subset.priority = 100;
    CHECK(accel_device_register(&g_subset) == ACCEL_OK);
}

/* ---- tests ------------------------------------------------------------------------------------------------ */
static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

static void test_fallback_and_copies(void) {
    enum { M = 5, K = 8, N = 6 };
    float x[M * K], w[N * K];
    for (int i = 0; i < M * K; i++) x[i] = (float)sin(i * 0.37);
    for (int i = 0; i < N * K; i++) w[i] = (float)cos(i * 0.11) * 0.5f;

    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *tx = accel_tensor_new_2d(g, ACCEL_F32, M, K);
    accel_tensor *tw = accel_tensor_new_2d(g, ACCEL_F32, N, K);
    accel_tensor_set_name(tx, "x");
    accel_tensor_set_name(tw, "w");
    accel_tensor_set_input(tx);
    accel_tensor_set_weight(tw);
    CHECK(accel_tensor_set_external(tw, w, sizeof w) == ACCEL_OK);
    accel_tensor *h = accel_linear(g, tx, tw, NULL); /* matmul: cpu only */
    accel_tensor *h2 = accel_add(g, h, h);         /* subset */
    accel_tensor *h3 = accel_gelu(g, h2);          /* cpu */
    accel_tensor *y = accel_mul(g, h3, h3);        /* subset */
    accel_tensor_set_name(h, "h");
    accel_tensor_set_name(h2, "h2");
    accel_tensor_set_name(h3, "h3");
    accel_tensor_set_name(y, "y");
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);

    accel_device *devs[2] = {accel_device_by_name("subset"), accel_device_by_name("cpu")};
    CHECK(devs[0] && devs[1]);
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = devs;
    sp.n_devices = 2;
    accel_sched *s;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);

    /* per-op placement: add and mul on subset, everything else fell back to the cpu */
    int n = accel_sched_placement_count(s), copies = 0;
    for (int i = 0; i < n; i++) {
        accel_placement p;
        CHECK(accel_sched_placement(s, i, &p) == ACCEL_OK);
        if (p.is_copy) {
            copies++;
            continue;
        }
        const char *dev = p.device ? accel_device_name(p.device) : "-";
        if (p.node == h || p.node == h3) CHECK_STR_EQ(dev, "cpu");
        if (p.node == h2 || p.node == y) CHECK_STR_EQ(dev, "subset");
    }
    accel_sched_memory mem;
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    CHECK_INT_EQ(copies, 3); /* h -> subset, h2 -> cpu, h3 -> subset */
    CHECK_INT_EQ(mem.n_copies, 3);
    CHECK_INT_EQ(mem.n_splits, 4);
    CHECK(mem.weight_bytes == sizeof w);
    CHECK(strstr(accel_sched_placement_text(s), "subset") != NULL);
    CHECK(strstr(accel_sched_placement_text(s), "(copy)") != NULL);

    CHECK(accel_tensor_set(tx, x, sizeof x) == ACCEL_OK);
    g_subset_nodes_run = 0;
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    CHECK_INT_EQ(g_subset_nodes_run, 2);
    float out[M * N];
    CHECK(accel_tensor_get(y, out, sizeof out) == ACCEL_OK);
    double max_err = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) acc += (double)x[i * K + k] * w[j * K + k];
            double g3 = gelu_ref(2 * acc);
            double err = fabs(out[i * N + j] - g3 * g3);
            if (err > max_err) max_err = err;
        }
    }
    CHECK(max_err < 1e-5);
    /* compute twice: copies are redone, results identical */
    float out2[M * N];
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    CHECK(accel_tensor_get(y, out2, sizeof out2) == ACCEL_OK);
    CHECK(memcmp(out, out2, sizeof out) == 0);
    accel_sched_free(s);
    accel_graph_free(g);
}

static void test_unsupported_everywhere(void) {
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *a = accel_tensor_new_1d(g, ACCEL_F32, 16);
    accel_tensor *y = accel_silu(g, a);
    accel_tensor_set_name(y, "act");
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
    accel_device *devs[1] = {accel_device_by_name("subset")};
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = devs;
    sp.n_devices = 1;
    accel_sched *s;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_ERR_UNSUPPORTED);
    CHECK(strstr(accel_last_error(), "act") != NULL);
    CHECK(strstr(accel_last_error(), "silu") != NULL);
    CHECK(accel_sched_compute(s, g) == ACCEL_ERR_INVALID_ARG); /* nothing planned */
    accel_sched_free(s);
    accel_graph_free(g);
}

static void test_memory_reuse(void) {
    enum { R = 256, C = 256, CHAIN = 12 };
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *x = accel_tensor_new_2d(g, ACCEL_F32, R, C);
    accel_tensor *t = x;
    for (int i = 0; i < CHAIN; i++) t = (i % 2) ? accel_tanh(g, t) : accel_scale(g, t, 0.5f, 0.25f);
    CHECK(accel_graph_add_output(g, t) == ACCEL_OK);
    accel_device *devs[1] = {accel_device_by_name("cpu")};
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = devs;
    sp.n_devices = 1;
    accel_sched *s;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    accel_sched_memory mem;
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    size_t one = (size_t)R * C * 4;
    CHECK(mem.activation_naive_bytes == one * (CHAIN + 1));
    /* the input and output live throughout; the chain needs at most two more live tensors at a time */
    CHECK(mem.activation_peak_bytes <= one * 4);
    CHECK_INT_EQ(mem.n_copies, 0);

    float *in = malloc(one), *out = malloc(one);
    for (int i = 0; i < R * C; i++) in[i] = (float)((i % 97) - 48) / 17.0f;
    CHECK(accel_tensor_set(x, in, one) == ACCEL_OK);
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    CHECK(accel_tensor_get(t, out, one) == ACCEL_OK);
    double max_err = 0;
    for (int i = 0; i < R * C; i++) {
        double v = in[i];
        for (int k = 0; k < CHAIN; k++) v = (k % 2) ? tanh(v) : v * 0.5 + 0.25;
        double e = fabs(v - out[i]);
        if (e > max_err) max_err = e;
    }
    CHECK(max_err < 1e-5);
    free(in);
    free(out);
    accel_sched_free(s);
    accel_graph_free(g);
}

static void test_bad_input(void) {
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *w = accel_tensor_new_2d(g, ACCEL_F32, 4, 4);
    accel_tensor_set_name(w, "orphan.weight");
    accel_tensor_set_weight(w);
    accel_tensor *y = accel_relu(g, w);
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
    float buf[16] = {0};
    CHECK(accel_tensor_set(w, buf, sizeof buf) == ACCEL_ERR_INVALID_ARG); /* no memory yet */
    accel_sched *s;
    CHECK(accel_sched_new(NULL, &s) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "orphan.weight") != NULL);
    accel_sched_free(s);
    accel_sched_free(NULL);
    accel_graph_free(g);

    accel_sched_params sp = accel_sched_default_params();
    sp.n_threads = -3;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_ERR_INVALID_ARG);
}

/* Weights straight from an mmapped file: no copy is made, the op reads the mapping. */
static void test_mmapped_weights(void) {
    enum { N = 1000 };
    char path[] = "/tmp/accel-test-weightsXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    float vals[N];
    for (int i = 0; i < N; i++) vals[i] = (float)i * 0.5f - 100.0f;
    CHECK(write(fd, vals, sizeof vals) == (ssize_t)sizeof vals);
    void *map = mmap(NULL, sizeof vals, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED);
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *w = accel_tensor_new_1d(g, ACCEL_F32, N);
    accel_tensor_set_weight(w);
    CHECK(accel_tensor_set_external(w, map, sizeof vals) == ACCEL_OK);
    CHECK(accel_tensor_set_external(w, map, sizeof vals - 4) == ACCEL_ERR_INVALID_ARG); /* too small */
    accel_tensor *y = accel_relu(g, w);
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
    accel_device *devs[1] = {accel_device_by_name("cpu")};
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = devs;
    sp.n_devices = 1;
    accel_sched *s;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_OK);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    CHECK(w->data == map); /* still the mapping */
    accel_sched_memory mem;
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    CHECK(mem.activation_naive_bytes == sizeof vals); /* only the output was allocated */
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    float out[N];
    CHECK(accel_tensor_get(y, out, sizeof out) == ACCEL_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += out[i] != (vals[i] > 0 ? vals[i] : 0.0f);
    CHECK_INT_EQ(bad, 0);
    accel_sched_free(s);
    accel_graph_free(g);
    munmap(map, sizeof vals);
    close(fd);
    unlink(path);
}

int main(void) {
    register_subset();
    RUN(test_fallback_and_copies);
    RUN(test_unsupported_everywhere);
    RUN(test_memory_reuse);
    RUN(test_bad_input);
    RUN(test_mmapped_weights);
    return test_summary();
}
