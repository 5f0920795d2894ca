/* accel_write: the in-place write into a slice of session-owned memory (KV caches).
 *
 * Checked here: a decode loop that writes one position per step into external f32 and f16 caches and attends over
 * the cache read through the write node (against attention computed in double from the test's own copy of the
 * keys and values); that bytes outside the written rows stay as they were; chained writes; the builder's
 * rejections; the memory plan (a write owns no memory); and, with a test device that cannot read host memory,
 * that readers on another device see the data after the write and that a write no device can perform is refused.
 */
#include "backends/backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- a device that cannot read host memory (ADD of f32 only), to force copies -------------------------------- */
static void far_free(accel_buffer *b) {
    free(b->ctx);
    free(b);
}
static void *far_base(accel_buffer *b) { return b->ctx; }
static accel_status far_set(accel_buffer *b, size_t off, const void *src, size_t n) {
    if (off > b->size || n > b->size - off) return accel_set_error(ACCEL_ERR_INVALID_ARG, "far: write outside");
    memcpy((char *)b->ctx + off, src, n);
    return ACCEL_OK;
}
static accel_status far_get(accel_buffer *b, size_t off, void *dst, size_t n) {
    if (off > b->size || n > b->size - off) return accel_set_error(ACCEL_ERR_INVALID_ARG, "far: read outside");
    memcpy(dst, (char *)b->ctx + off, n);
    return ACCEL_OK;
}
static const char *farbt_name(accel_buffer_type *bt) { return "far-mem"; }
static size_t farbt_align(accel_buffer_type *bt) { return 64; }
static bool farbt_is_host(accel_buffer_type *bt) { return false; }
static accel_status farbt_alloc(accel_buffer_type *bt, size_t size, accel_buffer **out) {
    accel_buffer *b = calloc(1, sizeof *b);
    void *mem = calloc(1, size ? size : 1);
    if (!b || !mem) {
        free(b);
        free(mem);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "far: out of memory");
    }
    b->iface = (accel_buffer_iface){far_free, far_base, far_set, far_get, NULL};
    b->type = bt;
    b->ctx = mem;
    b->size = size;
    *out = b;
    return ACCEL_OK;
}

static accel_device g_far;
static accel_buffer_type g_far_bt = {{farbt_name, farbt_alloc, farbt_align, farbt_is_host}, &g_far, NULL};

static const char *far_name(accel_device *d) { return "far"; }
static accel_device_type far_type(accel_device *d) { return ACCEL_DEVICE_ACCEL; }
static accel_buffer_type *far_buft(accel_device *d) { return &g_far_bt; }
static bool far_supports(accel_device *d, const accel_tensor *t) {
    return t->op == ACCEL_OP_ADD && t->dtype == ACCEL_F32 && t->src[0]->dtype == ACCEL_F32 &&
           t->src[1]->dtype == ACCEL_F32 && accel_same_shape(t->src[0], t->src[1]) && accel_is_contiguous(t->src[0]) &&
           accel_is_contiguous(t->src[1]);
}
static bool far_reads(accel_device *d, accel_buffer_type *bt) { return bt == &g_far_bt; }
static accel_status far_compute(accel_device *d, void *state, accel_tensor *const *nodes, int n) {
    for (int i = 0; i < n; i++) {
        const accel_tensor *t = nodes[i];
        if (t->buffer->type != &g_far_bt || t->src[0]->buffer->type != &g_far_bt ||
            t->src[1]->buffer->type != &g_far_bt)
            return accel_set_error(ACCEL_ERR_INTERNAL, "far: node %s reads memory it cannot", t->name);
        const float *a = t->src[0]->data, *b = t->src[1]->data;
        float *y = t->data;
        for (int64_t k = 0; k < accel_nelements(t); k++) y[k] = a[k] + b[k];
    }
    return ACCEL_OK;
}

static void init_far(void) {
    g_far.iface = (accel_device_iface){.name = far_name, .description = far_name, .type = far_type,
                                       .buffer_type = far_buft, .supports_op = far_supports,
                                       .supports_buft = far_reads, .compute = far_compute};
    g_far.priority = 100;
}

/* ---- helpers ------------------------------------------------------------------------------------------------- */
static accel_sched *sched_on(accel_device **devs, int n) {
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = devs;
    sp.n_devices = n;
    sp.n_threads = 2;
    accel_sched *s = NULL;
    CHECK(accel_sched_new(&sp, &s) == ACCEL_OK);
    return s;
}

static float round_to(accel_dtype dt, float x) {
    if (dt == ACCEL_F16) return accel_f16_to_f32(accel_f32_to_f16(x));
    if (dt == ACCEL_BF16) return accel_bf16_to_f32(accel_f32_to_bf16(x));
    return x;
}

static void store_elem(void *base, accel_dtype dt, size_t i, float x) {
    if (dt == ACCEL_F32) {
        memcpy((char *)base + 4 * i, &x, 4);
        return;
    }
    uint16_t h = dt == ACCEL_F16 ? accel_f32_to_f16(x) : accel_f32_to_bf16(x);
    memcpy((char *)base + 2 * i, &h, 2);
}

/* ---- the KV-cache decode loop -------------------------------------------------------------------------------- */
enum { KB = 1, KH = 2, KS = 8, KD = 4 };

static float val(int which, int step, int h, int d) { /* distinct, smooth values per step, head and feature */
    return (float)sin(0.7 * which + 1.3 * step + 0.5 * h + 0.9 * d + 0.1 * step * d);
}

/* Runs steps 0..KS-1 on devs: each step writes one position into the caches (of dtype cdt) and attends over
 * positions [0, step] read through the write nodes. */
static void kv_loop(accel_device **devs, int n_devs, accel_dtype cdt) {
    const size_t es = cdt == ACCEL_F32 ? 4 : 2, n_cache = (size_t)KB * KH * KS * KD;
    unsigned char *kc = malloc(n_cache * es), *vc = malloc(n_cache * es);
    unsigned char *kc_before = malloc(n_cache * es);
    float hk[KH][KS][KD], hv[KH][KS][KD]; /* what the caches should hold, as the test wrote it (rounded) */
    memset(kc, 0xA5, n_cache * es);       /* a pattern no write produces */
    memset(vc, 0x5A, n_cache * es);
    accel_sched *s = sched_on(devs, n_devs);
    double max_err = 0;
    for (int step = 0; step < KS; step++) {
        accel_graph *g;
        CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
        accel_tensor *kt = accel_tensor_new_4d(g, cdt, KB, KH, KS, KD);
        accel_tensor *vt = accel_tensor_new_4d(g, cdt, KB, KH, KS, KD);
        accel_tensor_set_name(kt, "cache.k");
        accel_tensor_set_name(vt, "cache.v");
        CHECK(accel_tensor_set_external(kt, kc, n_cache * es) == ACCEL_OK);
        CHECK(accel_tensor_set_external(vt, vc, n_cache * es) == ACCEL_OK);
        accel_tensor *q = accel_tensor_new_4d(g, ACCEL_F32, KB, KH, 1, KD);
        accel_tensor *kn = accel_tensor_new_4d(g, ACCEL_F32, KB, KH, 1, KD);
        accel_tensor *vn = accel_tensor_new_4d(g, ACCEL_F32, KB, KH, 1, KD);
        accel_tensor_set_input(q);
        accel_tensor_set_input(kn);
        accel_tensor_set_input(vn);
        accel_tensor *kw = accel_write(g, kt, kn, 2, step);
        accel_tensor *vw = accel_write(g, vt, vn, -2, step);
        accel_tensor *ks = accel_slice(g, kw, 2, 0, step + 1, 1);
        accel_tensor *vs = accel_slice(g, vw, 2, 0, step + 1, 1);
        accel_tensor *y = accel_attention(g, q, ks, vs, NULL, NULL);
        CHECK(y != NULL);
        CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
        CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
        CHECK(kw->data == (void *)kc && vw->data == (void *)vc); /* the write nodes alias the caches */

        float qh[KH * KD], knh[KH * KD], vnh[KH * KD];
        for (int h = 0; h < KH; h++)
            for (int d = 0; d < KD; d++) {
                qh[h * KD + d] = 2.0f * val(0, step, h, d);
                knh[h * KD + d] = val(1, step, h, d);
                vnh[h * KD + d] = val(2, step, h, d);
                hk[h][step][d] = round_to(cdt, knh[h * KD + d]);
                hv[h][step][d] = round_to(cdt, vnh[h * KD + d]);
            }
        CHECK(accel_tensor_set(q, qh, sizeof qh) == ACCEL_OK);
        CHECK(accel_tensor_set(kn, knh, sizeof knh) == ACCEL_OK);
        CHECK(accel_tensor_set(vn, vnh, sizeof vnh) == ACCEL_OK);
        memcpy(kc_before, kc, n_cache * es);
        CHECK(accel_sched_compute(s, g) == ACCEL_OK);
        float out[KH * KD];
        CHECK(accel_tensor_get(y, out, sizeof out) == ACCEL_OK);

        /* attention in double over the positions written so far */
        for (int h = 0; h < KH; h++) {
            double sc[KS], mx = -INFINITY, sum = 0;
            for (int j = 0; j <= step; j++) {
                double dot = 0;
                for (int d = 0; d < KD; d++) dot += (double)qh[h * KD + d] * hk[h][j][d];
                sc[j] = dot / sqrt((double)KD);
                if (sc[j] > mx) mx = sc[j];
            }
            for (int j = 0; j <= step; j++) sum += (sc[j] = exp(sc[j] - mx));
            for (int d = 0; d < KD; d++) {
                double o = 0;
                for (int j = 0; j <= step; j++) o += sc[j] / sum * hv[h][j][d];
                double e = fabs(o - out[h * KD + d]);
                if (e > max_err) max_err = e;
            }
        }
        /* cache bytes: position `step` holds the new values, earlier ones are unchanged from before this compute,
         * later ones still hold the initial pattern */
        int bad_written = 0, bad_kept = 0, bad_pattern = 0;
        for (int h = 0; h < KH; h++)
            for (int j = 0; j < KS; j++)
                for (int d = 0; d < KD; d++) {
                    size_t i = ((size_t)h * KS + j) * KD + d;
                    if (j == step) {
                        unsigned char want[4];
                        store_elem(want, cdt, 0, knh[h * KD + d]);
                        bad_written += memcmp(kc + i * es, want, es) != 0;
                        store_elem(want, cdt, 0, vnh[h * KD + d]);
                        bad_written += memcmp(vc + i * es, want, es) != 0;
                    } else if (j < step) {
                        bad_kept += memcmp(kc + i * es, kc_before + i * es, es) != 0;
                    } else {
                        for (size_t b = 0; b < es; b++) bad_pattern += kc[i * es + b] != 0xA5 || vc[i * es + b] != 0x5A;
                    }
                }
        CHECK_INT_EQ(bad_written, 0);
        CHECK_INT_EQ(bad_kept, 0);
        CHECK_INT_EQ(bad_pattern, 0);
        accel_graph_free(g);
    }
    CHECK(max_err < 2e-6);
    if (max_err >= 2e-6) fprintf(stderr, "  max attention error %g\n", max_err);
    accel_sched_free(s);
    free(kc);
    free(vc);
    free(kc_before);
}

static void test_kv_cache_loop_cpu(void) {
    accel_device *devs[1] = {accel_device_by_name("cpu")};
    CHECK(devs[0] != NULL);
    kv_loop(devs, 1, ACCEL_F32);
    kv_loop(devs, 1, ACCEL_F16);
    kv_loop(devs, 1, ACCEL_BF16);
}

static void test_kv_cache_loop_ref(void) {
    accel_device *devs[1] = {accel_device_by_name("ref")};
    CHECK(devs[0] != NULL);
    kv_loop(devs, 1, ACCEL_F32);
    kv_loop(devs, 1, ACCEL_F16);
}

/* ---- chained writes, a strided cache view, and the memory plan ----------------------------------------------- */
static void test_chained_and_memory(void) {
    enum { S = 6, D = 3 };
    float cache[S * D];
    for (int i = 0; i < S * D; i++) cache[i] = -1.0f - (float)i;
    const float a[D] = {1, 2, 3}, b[2 * D] = {4, 5, 6, 7, 8, 9};
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *c = accel_tensor_new_2d(g, ACCEL_F32, S, D);
    CHECK(accel_tensor_set_external(c, cache, sizeof cache) == ACCEL_OK);
    accel_tensor *ta = accel_tensor_new_2d(g, ACCEL_F32, 1, D), *tb = accel_tensor_new_2d(g, ACCEL_F32, 2, D);
    CHECK(accel_tensor_set_external(ta, (void *)a, sizeof a) == ACCEL_OK);
    CHECK(accel_tensor_set_external(tb, (void *)b, sizeof b) == ACCEL_OK);
    accel_tensor *w1 = accel_write(g, c, ta, 0, 1);
    accel_tensor *w2 = accel_write(g, w1, tb, 0, 3); /* chained: runs after w1 */
    accel_tensor *y = accel_scale(g, accel_slice(g, w2, 0, 0, 5, 1), 2.0f, 0.0f);
    CHECK(w1 && w2 && y);
    CHECK_STR_EQ(accel_tensor_op_name(w2), "write");
    CHECK(accel_graph_add_output(g, y) == ACCEL_OK);
    accel_device *devs[1] = {accel_device_by_name("cpu")};
    accel_sched *s = sched_on(devs, 1);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    accel_sched_memory mem;
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    CHECK(mem.activation_naive_bytes == 5 * D * sizeof(float)); /* only the scale output: the writes own nothing */
    CHECK_INT_EQ(mem.n_copies, 0);
    CHECK(strstr(accel_sched_placement_text(s), "write") != NULL);
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    float out[5 * D];
    CHECK(accel_tensor_get(y, out, sizeof out) == ACCEL_OK);
    const float want[S * D] = {-1, -2, -3, 1, 2, 3, -7, -8, -9, 4, 5, 6, 7, 8, 9, -16, -17, -18};
    CHECK(memcmp(cache, want, sizeof want) == 0);
    int bad = 0;
    for (int i = 0; i < 5 * D; i++) bad += out[i] != 2 * want[i];
    CHECK_INT_EQ(bad, 0);
    accel_sched_free(s);
    accel_graph_free(g);

    /* a write whose result is the only output: no activation memory at all */
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    c = accel_tensor_new_2d(g, ACCEL_F32, S, D);
    CHECK(accel_tensor_set_external(c, cache, sizeof cache) == ACCEL_OK);
    ta = accel_tensor_new_2d(g, ACCEL_F32, 1, D);
    CHECK(accel_tensor_set_external(ta, (void *)a, sizeof a) == ACCEL_OK);
    accel_tensor *w = accel_write(g, c, ta, 0, 5);
    CHECK(accel_graph_add_output(g, w) == ACCEL_OK);
    s = sched_on(devs, 1);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    CHECK(mem.activation_naive_bytes == 0 && mem.activation_peak_bytes == 0);
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    CHECK(cache[15] == 1 && cache[16] == 2 && cache[17] == 3 && cache[14] == 9);
    float all[S * D];
    CHECK(accel_tensor_get(w, all, sizeof all) == ACCEL_OK); /* readable through the write node */
    CHECK(memcmp(all, cache, sizeof all) == 0);
    accel_sched_free(s);
    accel_graph_free(g);
}

/* ---- builder rejections ------------------------------------------------------------------------------------ */
typedef enum bad_kind {
    BAD_DIM_HIGH, BAD_DIM_LOW, BAD_OFFSET_NEG, BAD_OFFSET_END, BAD_SRC_TOO_BIG, BAD_OTHER_DIM, BAD_NDIM,
    BAD_COMPUTED, BAD_VIEW_OF_COMPUTED, BAD_DTYPE, BAD_INT_MIX, BAD_SHARED, BAD_BCAST, BAD_NULL_DST, BAD_NULL_SRC,
    BAD_COUNT
} bad_kind;

static void test_builder_rejects(void) {
    static const char *const names[BAD_COUNT] = {"dim 4", "dim -5", "offset -1", "offset past end", "src too big",
                                                 "other dim", "ndim", "computed dst", "view of computed dst",
                                                 "i32 into f32", "i32 into i64", "src shares dst", "broadcast dst",
                                                 "NULL dst", "NULL src"};
    for (int k = 0; k < BAD_COUNT; k++) {
        accel_graph *g;
        CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
        accel_tensor *c = accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 8, 4);
        accel_tensor *r = accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 1, 4);
        accel_tensor *dst = c, *src = r;
        int dim = 2;
        int64_t off = 3;
        switch ((bad_kind)k) {
        case BAD_DIM_HIGH: dim = 4; break;
        case BAD_DIM_LOW: dim = -5; break;
        case BAD_OFFSET_NEG: off = -1; break;
        case BAD_OFFSET_END: off = 8; break;
        case BAD_SRC_TOO_BIG: src = accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 9, 4), off = 0; break;
        case BAD_OTHER_DIM: src = accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 1, 3); break;
        case BAD_NDIM: src = accel_tensor_new_3d(g, ACCEL_F32, 2, 1, 4); break;
        case BAD_COMPUTED: dst = accel_scale(g, c, 1.0f, 0.0f); break;
        case BAD_VIEW_OF_COMPUTED: dst = accel_slice(g, accel_scale(g, c, 1.0f, 0.0f), 2, 0, 8, 1); break;
        case BAD_DTYPE: src = accel_tensor_new_4d(g, ACCEL_I32, 1, 2, 1, 4); break;
        case BAD_INT_MIX:
            dst = accel_tensor_new_4d(g, ACCEL_I64, 1, 2, 8, 4);
            src = accel_tensor_new_4d(g, ACCEL_I32, 1, 2, 1, 4);
            break;
        case BAD_SHARED: src = accel_slice(g, c, 2, 0, 1, 1); break;
        case BAD_BCAST: {
            accel_tensor *one = accel_tensor_new_4d(g, ACCEL_F32, 1, 1, 8, 4);
            dst = accel_view(g, one, 4, (const int64_t[]){1, 2, 8, 4}, (const int64_t[]){128, 0, 16, 4}, 0);
            break;
        }
        case BAD_NULL_DST: dst = NULL; break;
        case BAD_NULL_SRC: src = NULL; break;
        default: break;
        }
        CHECK(accel_graph_status(g) == ACCEL_OK); /* the setup itself is valid */
        accel_tensor *w = accel_write(g, dst, src, dim, off);
        if (w != NULL || accel_graph_status(g) != ACCEL_ERR_INVALID_ARG) {
            fprintf(stderr, "  case '%s' was not rejected\n", names[k]);
            CHECK(w == NULL);
            CHECK(accel_graph_status(g) == ACCEL_ERR_INVALID_ARG);
        }
        CHECK(strstr(accel_last_error(), "accel_write") != NULL);
        CHECK(accel_write(g, c, r, 2, 0) == NULL); /* sticky: later builders return NULL too */
        accel_graph_free(g);
    }
    /* the boundaries themselves are accepted: offset 0, the last row, the whole dim, negative dims, f16 <- bf16 */
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *c = accel_tensor_new_4d(g, ACCEL_F16, 1, 2, 8, 4);
    CHECK(accel_write(g, c, accel_tensor_new_4d(g, ACCEL_BF16, 1, 2, 1, 4), 2, 0) != NULL);
    CHECK(accel_write(g, c, accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 1, 4), -2, 7) != NULL);
    CHECK(accel_write(g, c, accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 8, 4), 2, 0) != NULL);
    accel_tensor *w = accel_write(g, c, accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 8, 1), -1, 3);
    CHECK(w != NULL);
    if (w) CHECK(w->params[0] == 3 && accel_param_i64(w, 1) == 3 && w->view_src == c);
    CHECK(accel_graph_status(g) == ACCEL_OK);
    accel_graph_free(g);
}

/* The int64 offset survives its two parameter slots, also beyond 32 bits. */
static void test_offset_param(void) {
    accel_tensor t;
    memset(&t, 0, sizeof t);
    const int64_t vals[] = {0, 1, 7, 0x7fffffff, 0x80000000ll, 0xffffffffll, 0x123456789abcll, INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        accel_param_set_i64(&t, 1, vals[i]);
        CHECK(accel_param_i64(&t, 1) == vals[i]);
    }
}

/* ---- placement across devices --------------------------------------------------------------------------------- */
/* A device that cannot read host memory reads the cache before and after a CPU write: each read must see its own
 * version (two copies, the second made after the write). */
static void test_readers_on_other_device(void) {
    enum { N = 8 };
    float cache[N], row[2] = {100, 200};
    for (int i = 0; i < N; i++) cache[i] = (float)i;
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *c = accel_tensor_new_1d(g, ACCEL_F32, N);
    accel_tensor *r = accel_tensor_new_1d(g, ACCEL_F32, 2);
    accel_tensor_set_name(c, "cache");
    CHECK(accel_tensor_set_external(c, cache, sizeof cache) == ACCEL_OK);
    CHECK(accel_tensor_set_external(r, row, sizeof row) == ACCEL_OK);
    accel_tensor *before = accel_add(g, c, c); /* far: the old contents */
    accel_tensor *w = accel_write(g, c, r, 0, 3);
    accel_tensor *after = accel_add(g, w, w); /* far: the new contents */
    accel_tensor_set_name(w, "kv.write");
    CHECK(accel_graph_add_output(g, before) == ACCEL_OK);
    CHECK(accel_graph_add_output(g, after) == ACCEL_OK);
    accel_device *devs[2] = {&g_far, accel_device_by_name("cpu")};
    accel_sched *s = sched_on(devs, 2);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    int n = accel_sched_placement_count(s);
    for (int i = 0; i < n; i++) {
        accel_placement p;
        CHECK(accel_sched_placement(s, i, &p) == ACCEL_OK);
        if (p.node == w) CHECK_STR_EQ(accel_device_name(p.device), "cpu");
        if (p.node == before || p.node == after) CHECK_STR_EQ(accel_device_name(p.device), "far");
    }
    accel_sched_memory mem;
    CHECK(accel_sched_get_memory(s, &mem) == ACCEL_OK);
    CHECK_INT_EQ(mem.n_copies, 2);
    for (int rep = 0; rep < 2; rep++) { /* compute twice: the second run starts from the written cache */
        float want_before[N], b[N], a[N];
        for (int i = 0; i < N; i++) want_before[i] = 2 * cache[i];
        CHECK(accel_sched_compute(s, g) == ACCEL_OK);
        CHECK(accel_tensor_get(before, b, sizeof b) == ACCEL_OK);
        CHECK(accel_tensor_get(after, a, sizeof a) == ACCEL_OK);
        CHECK(memcmp(b, want_before, sizeof b) == 0);
        int bad = 0;
        for (int i = 0; i < N; i++) bad += a[i] != 2 * (i == 3 ? 100.0f : i == 4 ? 200.0f : (float)i);
        CHECK_INT_EQ(bad, 0);
    }
    accel_sched_free(s);
    accel_graph_free(g);
}

/* The cache lives in the far device's memory: only far could write it, and it has no write kernel. With the CPU
 * alone the memory is out of reach. Either way the plan fails naming the node, and nothing is copied. */
static void test_no_device_can_write(void) {
    accel_buffer *buf = NULL;
    CHECK(g_far_bt.iface.alloc(&g_far_bt, 64, &buf) == ACCEL_OK);
    for (int variant = 0; variant < 2; variant++) {
        accel_graph *g;
        CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
        accel_tensor *c = accel_tensor_new_1d(g, ACCEL_F32, 16);
        accel_tensor_set_weight(c); /* lives in far's buffer already */
        c->buffer = buf;
        c->data = buf->iface.get_base(buf);
        accel_tensor *r = accel_tensor_new_1d(g, ACCEL_F32, 1);
        accel_tensor_set_input(r);
        accel_tensor *w = accel_write(g, c, r, 0, 2);
        accel_tensor_set_name(w, "kv.write");
        CHECK(accel_graph_add_output(g, w) == ACCEL_OK);
        accel_device *both[2] = {&g_far, accel_device_by_name("cpu")}, *cpu_only[1] = {accel_device_by_name("cpu")};
        accel_sched *s = variant == 0 ? sched_on(both, 2) : sched_on(cpu_only, 1);
        CHECK(accel_sched_alloc(s, g) == ACCEL_ERR_UNSUPPORTED);
        CHECK(strstr(accel_last_error(), "kv.write") != NULL);
        CHECK(accel_sched_compute(s, g) == ACCEL_ERR_INVALID_ARG); /* nothing planned */
        accel_sched_free(s);
        accel_graph_free(g);
    }
    buf->iface.free_buffer(buf);
}

/* A cache allocated by the scheduler (an input leaf) lives where the write runs; a reader of the old contents on
 * the far device gets a copy of it. */
static void test_scheduler_allocated_cache(void) {
    enum { N = 6 };
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *c = accel_tensor_new_1d(g, ACCEL_F32, N);
    accel_tensor *r = accel_tensor_new_1d(g, ACCEL_F32, 2);
    accel_tensor_set_input(c);
    accel_tensor_set_input(r);
    accel_tensor *before = accel_add(g, c, c);
    accel_tensor *w = accel_write(g, c, r, 0, 4);
    CHECK(accel_graph_add_output(g, before) == ACCEL_OK);
    CHECK(accel_graph_add_output(g, w) == ACCEL_OK);
    accel_device *devs[2] = {&g_far, accel_device_by_name("cpu")};
    accel_sched *s = sched_on(devs, 2);
    CHECK(accel_sched_alloc(s, g) == ACCEL_OK);
    CHECK(c->buffer && c->buffer->type->iface.is_host(c->buffer->type)); /* where the cpu write can reach it */
    const float init[N] = {1, 2, 3, 4, 5, 6}, row[2] = {-1, -2};
    CHECK(accel_tensor_set(c, init, sizeof init) == ACCEL_OK);
    CHECK(accel_tensor_set(r, row, sizeof row) == ACCEL_OK);
    CHECK(accel_sched_compute(s, g) == ACCEL_OK);
    float b[N], a[N];
    CHECK(accel_tensor_get(before, b, sizeof b) == ACCEL_OK);
    CHECK(accel_tensor_get(w, a, sizeof a) == ACCEL_OK);
    const float want_b[N] = {2, 4, 6, 8, 10, 12}, want_a[N] = {1, 2, 3, 4, -1, -2};
    CHECK(memcmp(b, want_b, sizeof b) == 0);
    CHECK(memcmp(a, want_a, sizeof a) == 0);
    accel_sched_free(s);
    accel_graph_free(g);
}

int main(void) {
    init_far();
    RUN(test_kv_cache_loop_cpu);
    RUN(test_kv_cache_loop_ref);
    RUN(test_chained_and_memory);
    RUN(test_builder_rejects);
    RUN(test_offset_param);
    RUN(test_readers_on_other_device);
    RUN(test_no_device_can_write);
    RUN(test_scheduler_allocated_cache);
    return test_summary();
}
