/* The scheduler: places each node on a device, inserts copies where a device cannot read a tensor where it
 * lives, plans activation memory by liveness and runs the graph split by split.
 *
 * Placement rules, in order:
 *   1. an op that reads a weight living in a device's own buffer runs on that device if it supports the op
 *      (weights are never moved);
 *   2. otherwise the first device, in the scheduler's priority order, whose supports_op() says yes;
 *   3. no device supports it: ACCEL_ERR_UNSUPPORTED naming the node.
 * The CPU backend supports every op, so an op another device lacks falls back to the CPU alone ("per op").
 *
 * Memory: every tensor that needs memory (compute outputs, input leaves without external data, copies) gets
 * an interval [defined, last used] over the execution order; a first-fit allocator over one buffer per device
 * reuses the memory of tensors whose interval has ended. Outputs and inputs live for the whole graph.
 *
 * In-place writes (ACCEL_OP_WRITE, KV caches) compute but own no memory: like views they point into their base
 * leaf. They run on a device that can write the base where it lives (never on a copy, which would lose the
 * write); readers of the written data elsewhere get a copy made after the write.
 */
#include "backends/backend.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/log.h"
#include "core/threadpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHED_MAX_DEVICES 16
#define HOST_DEVICE (-1) /* "device" index of caller-owned host memory */

typedef struct sched_split {
    int device;
    int first, n; /* range in exec[] */
} sched_split;

typedef struct sched_copy {
    accel_tensor *base;    /* source tensor (never a view) */
    accel_tensor *replica; /* same shape and dtype, in the destination device's memory */
    int device;
    int split;             /* transferred before this split runs */
    int version;           /* WRITE nodes into base executed before it: a copy only serves readers of its version */
} sched_copy;

typedef struct sched_override {
    int exec_index, slot;
    accel_tensor *replacement; /* replica (or a view of one) used instead of node->src[slot] */
} sched_override;

typedef struct alloc_entry {
    accel_tensor *t;
    bool whole;    /* inputs and outputs: alive for the whole graph */
    int device;
    int def, last; /* exec steps; last = n_exec means "to the end" */
    size_t size, offset;
} alloc_entry;

typedef struct placement_entry {
    const accel_tensor *node;
    int device; /* -1 for views */
    bool is_copy;
} placement_entry;

struct accel_sched {
    accel_device *devs[SCHED_MAX_DEVICES];
    void *states[SCHED_MAX_DEVICES];
    accel_buffer *bufs[SCHED_MAX_DEVICES];
    int n_devs;
    int n_threads;
    bool log_placement;

    /* results of the last accel_sched_alloc */
    accel_graph *graph;
    accel_tensor **exec;
    int n_exec;
    int *exec_dev;
    sched_split *splits;
    int n_splits;
    sched_copy *copies;
    int n_copies;
    sched_override *overrides;
    int n_overrides;
    accel_tensor **owned; /* replica tensors and replica views, calloc'd */
    int n_owned;
    placement_entry *placement;
    int n_placement;
    accel_sched_memory mem;
    char *text;
};

/* ---- growable arrays ----------------------------------------------------------------------------------------- */
static bool grow(void **arr, int n, int *cap, size_t elem) {
    if (n < *cap) return true;
    int ncap = *cap ? *cap * 2 : 32;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return false;
    *arr = p;
    *cap = ncap;
    return true;
}
#define PUSH(arr, n, cap, val)                                                                                       \
    (grow((void **)&(arr), (n), &(cap), sizeof *(arr)) ? ((arr)[(n)++] = (val), true) : false)

/* ---- creation ------------------------------------------------------------------------------------------------ */
accel_sched_params accel_sched_default_params(void) {
    accel_sched_params p = {.devices = NULL, .n_devices = 0, .n_threads = 0, .log_placement = false};
    return p;
}

static int cmp_priority(const void *a, const void *b) {
    const accel_device *da = *(accel_device *const *)a, *db = *(accel_device *const *)b;
    return (db->priority > da->priority) - (db->priority < da->priority);
}

accel_status accel_sched_new(const accel_sched_params *params, accel_sched **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_new: out is NULL");
    *out = NULL;
    accel_sched_params p = params ? *params : accel_sched_default_params();
    if (p.n_threads < 0 || p.n_threads > 1024)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_new: n_threads %d out of range", p.n_threads);
    accel_sched *s = calloc(1, sizeof *s);
    if (!s) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_sched_new: out of memory");
    s->n_threads = p.n_threads > 0 ? p.n_threads : accel_physical_cores();
    const char *env = getenv("ACCEL_LOG_SCHED");
    s->log_placement = p.log_placement || (env && env[0] && strcmp(env, "0") != 0);
    if (p.devices && p.n_devices > 0) {
        if (p.n_devices > SCHED_MAX_DEVICES) {
            free(s);
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_new: at most %d devices", SCHED_MAX_DEVICES);
        }
        for (int i = 0; i < p.n_devices; i++) {
            if (!p.devices[i]) {
                free(s);
                return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_new: device %d is NULL", i);
            }
            s->devs[s->n_devs++] = p.devices[i];
        }
    } else {
        int n = accel_device_count();
        for (int i = 0; i < n && s->n_devs < SCHED_MAX_DEVICES; i++) {
            accel_device *d = accel_device_get(i);
            if (d->priority >= 0) s->devs[s->n_devs++] = d; /* ref (-1) only when named */
        }
        qsort(s->devs, (size_t)s->n_devs, sizeof s->devs[0], cmp_priority);
    }
    if (s->n_devs == 0) {
        free(s);
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "accel_sched_new: no compute device available");
    }
    for (int i = 0; i < s->n_devs; i++) {
        accel_device *d = s->devs[i];
        if (d->iface.compute_init) {
            accel_status st = d->iface.compute_init(d, s->n_threads, &s->states[i]);
            if (st != ACCEL_OK) {
                accel_sched_free(s);
                return st;
            }
        }
    }
    *out = s;
    return ACCEL_OK;
}

static void reset_plan(accel_sched *s) {
    for (int i = 0; i < s->n_owned; i++) free(s->owned[i]);
    free(s->owned);
    free(s->exec);
    free(s->exec_dev);
    free(s->splits);
    free(s->copies);
    free(s->overrides);
    free(s->placement);
    free(s->text);
    s->owned = NULL;
    s->exec = NULL;
    s->exec_dev = NULL;
    s->splits = NULL;
    s->copies = NULL;
    s->overrides = NULL;
    s->placement = NULL;
    s->text = NULL;
    s->n_owned = s->n_exec = s->n_splits = s->n_copies = s->n_overrides = s->n_placement = 0;
    s->graph = NULL;
    memset(&s->mem, 0, sizeof s->mem);
}

void accel_sched_free(accel_sched *s) {
    if (!s) return;
    reset_plan(s);
    for (int i = 0; i < s->n_devs; i++) {
        if (s->bufs[i]) s->bufs[i]->iface.free_buffer(s->bufs[i]);
        if (s->states[i] && s->devs[i]->iface.compute_free) s->devs[i]->iface.compute_free(s->devs[i], s->states[i]);
    }
    free(s);
}

/* ---- placement --------------------------------------------------------------------------------------------- */
static accel_tensor *base_of(accel_tensor *t) { return t->view_src ? t->view_src : t; }

static int device_index(const accel_sched *s, const accel_device *d) {
    for (int i = 0; i < s->n_devs; i++)
        if (s->devs[i] == d) return i;
    return -1;
}

static int choose_device(const accel_sched *s, const accel_tensor *node) {
    for (int i = 0; i < ACCEL_MAX_SRC; i++) {
        if (!node->src[i]) continue;
        accel_tensor *b = base_of(node->src[i]);
        if ((b->flags & ACCEL_FLAG_WEIGHT) && b->buffer && b->buffer->type->device) {
            int d = device_index(s, b->buffer->type->device);
            if (d >= 0 && s->devs[d]->iface.supports_op(s->devs[d], node)) return d;
        }
    }
    for (int d = 0; d < s->n_devs; d++)
        if (s->devs[d]->iface.supports_op(s->devs[d], node)) return d;
    return -1;
}

static accel_buffer_type *device_buft(const accel_sched *s, int d) {
    return d == HOST_DEVICE ? accel_host_buffer_type() : s->devs[d]->iface.buffer_type(s->devs[d]);
}

static bool device_reads(const accel_sched *s, int d, accel_buffer_type *bt) {
    accel_device *dev = s->devs[d];
    if (dev->iface.supports_buft) return dev->iface.supports_buft(dev, bt);
    return bt == dev->iface.buffer_type(dev);
}

/* Memory the scheduler allocates itself (input leaves without external data): its home is decided at alloc. */
static bool sched_owned_leaf(const accel_tensor *b) {
    return b->op == ACCEL_OP_NONE && !(b->flags & (ACCEL_FLAG_EXTERNAL | ACCEL_FLAG_WEIGHT));
}

/* Device for an in-place WRITE node: one that supports it and can write its base where the base lives: a device
 * buffer's own device; host memory: any device that reads host memory; memory the scheduler allocates: where an
 * earlier WRITE into the same base runs (prev >= 0), else any. -1 if none. */
static int choose_write_device(const accel_sched *s, const accel_tensor *node, int prev) {
    const accel_tensor *b = node->view_src;
    accel_buffer_type *bt = NULL; /* NULL: no constraint */
    if (sched_owned_leaf(b)) {
        if (prev >= 0) bt = device_buft(s, prev);
    } else if (b->buffer && !b->buffer->type->iface.is_host(b->buffer->type)) {
        int d = b->buffer->type->device ? device_index(s, b->buffer->type->device) : -1;
        return d >= 0 && s->devs[d]->iface.supports_op(s->devs[d], node) ? d : -1;
    } else {
        bt = b->buffer ? b->buffer->type : accel_host_buffer_type();
    }
    for (int d = 0; d < s->n_devs; d++)
        if ((!bt || device_reads(s, d, bt)) && s->devs[d]->iface.supports_op(s->devs[d], node)) return d;
    return -1;
}

/* WRITE nodes into base b among exec[0, e): which version of b's data a reader at step e sees. */
static int write_version(const accel_sched *s, const accel_tensor *b, int e) {
    int v = 0;
    for (int i = 0; i < e; i++)
        if (s->exec[i]->op == ACCEL_OP_WRITE && s->exec[i]->view_src == b) v++;
    return v;
}

/* ---- liveness allocator (first fit over a free list, per device) -------------------------------------------- */
typedef struct free_block {
    size_t offset, size;
} free_block;

typedef struct dev_arena {
    free_block *blocks;
    int n, cap;
    size_t end, align;
    size_t peak; /* highest end ever reached: the buffer size needed */
} dev_arena;

/* Best fit among the free blocks (keeps large holes for large tensors), else grow the end. */
static void arena_alloc(dev_arena *a, size_t size, size_t *offset) {
    size = (size + a->align - 1) / a->align * a->align;
    if (size == 0) size = a->align;
    int best = -1;
    for (int i = 0; i < a->n; i++)
        if (a->blocks[i].size >= size && (best < 0 || a->blocks[i].size < a->blocks[best].size)) best = i;
    if (best >= 0) {
        *offset = a->blocks[best].offset;
        a->blocks[best].offset += size;
        a->blocks[best].size -= size;
        if (a->blocks[best].size == 0) a->blocks[best] = a->blocks[--a->n];
        return;
    }
    *offset = a->end;
    a->end += size;
    if (a->end > a->peak) a->peak = a->end;
}

static bool arena_free(dev_arena *a, size_t offset, size_t size) {
    size = (size + a->align - 1) / a->align * a->align;
    if (size == 0) size = a->align;
    /* merge with neighbours */
    for (int i = 0; i < a->n; i++) {
        if (a->blocks[i].offset + a->blocks[i].size == offset) {
            offset = a->blocks[i].offset;
            size += a->blocks[i].size;
            a->blocks[i--] = a->blocks[--a->n];
        } else if (offset + size == a->blocks[i].offset) {
            size += a->blocks[i].size;
            a->blocks[i--] = a->blocks[--a->n];
        }
    }
    if (offset + size == a->end) { /* give the tail back */
        a->end = offset;
        return true;
    }
    if (!grow((void **)&a->blocks, a->n, &a->cap, sizeof *a->blocks)) return false;
    a->blocks[a->n++] = (free_block){offset, size};
    return true;
}

static accel_tensor *new_owned(accel_sched *s, int *cap_owned, const accel_tensor *like) {
    accel_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!PUSH(s->owned, s->n_owned, *cap_owned, t)) {
        free(t);
        return NULL;
    }
    *t = *like;
    return t;
}

static accel_status plan_fail(accel_sched *s, accel_status st) {
    reset_plan(s);
    return st;
}

static const char *device_label(const accel_sched *s, int d) {
    return d == HOST_DEVICE ? "host" : accel_device_name(s->devs[d]);
}

static void build_placement_text(accel_sched *s);

accel_status accel_sched_alloc(accel_sched *s, accel_graph *g) {
    if (!s || !g) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_alloc: NULL argument");
    if (g->status != ACCEL_OK) return accel_set_error(g->status, "graph has an earlier error: %s", accel_last_error());
    if (g->n_nodes == 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_alloc: graph has no outputs");
    reset_plan(s);
    s->graph = g;
    int cap_exec = 0, cap_splits = 0, cap_copies = 0, cap_over = 0, cap_owned = 0, cap_place = 0, cap_entries = 0;
    int cap_dev = 0, n_dev = 0;
    alloc_entry *entries = NULL;
    int n_entries = 0;
    accel_status st = ACCEL_OK;
#define OOM_IF(cond)                                                                                                 \
    do {                                                                                                             \
        if (cond) {                                                                                                  \
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_sched_alloc: out of memory");                       \
            goto done;                                                                                               \
        }                                                                                                            \
    } while (0)

    /* 1. device of every compute node; views compute nothing */
    for (int i = 0; i < g->n_nodes; i++) {
        accel_tensor *t = g->nodes[i];
        t->sched_device = -1;
        if (t->op == ACCEL_OP_VIEW) continue;
        int d;
        if (t->op == ACCEL_OP_WRITE) {
            int prev = -1; /* an earlier write into the same scheduler-allocated base fixes where it lives */
            for (int e = 0; e < s->n_exec && prev < 0; e++)
                if (s->exec[e]->op == ACCEL_OP_WRITE && s->exec[e]->view_src == t->view_src) prev = s->exec_dev[e];
            d = choose_write_device(s, t, prev);
            if (d < 0) {
                st = accel_set_error(ACCEL_ERR_UNSUPPORTED,
                                     "no device can write node '%s' (op write, %s) into the memory of '%s' where it "
                                     "lives",
                                     t->name, accel_dtype_name(t->dtype), t->view_src->name);
                goto done;
            }
        } else {
            d = choose_device(s, t);
        }
        if (d < 0) {
            st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "no device supports node '%s' (op %s, %s)", t->name,
                                 accel_op_name(t->op), accel_dtype_name(t->dtype));
            goto done;
        }
        t->sched_device = d;
        OOM_IF(!PUSH(s->exec, s->n_exec, cap_exec, t));
        OOM_IF(!PUSH(s->exec_dev, n_dev, cap_dev, d));
    }
    /* 2. splits: runs of consecutive nodes on one device */
    for (int e = 0; e < s->n_exec; e++) {
        if (s->n_splits == 0 || s->splits[s->n_splits - 1].device != s->exec_dev[e]) {
            sched_split sp = {s->exec_dev[e], e, 0};
            OOM_IF(!PUSH(s->splits, s->n_splits, cap_splits, sp));
        }
        s->splits[s->n_splits - 1].n++;
    }

    /* 3. memory entries for tensors that need memory; sched_id indexes entries (-1: external or weight) */
    for (int i = 0; i < g->n_all; i++) g->all[i]->sched_id = -1;
    for (int i = 0; i < g->n_leafs; i++) {
        accel_tensor *t = g->leafs[i];
        if (t->flags & ACCEL_FLAG_EXTERNAL) continue;
        if (t->buffer && (t->flags & ACCEL_FLAG_WEIGHT)) continue; /* a weight already placed in a device buffer */
        if (t->flags & ACCEL_FLAG_WEIGHT) {
            st = accel_set_error(ACCEL_ERR_INVALID_ARG, "weight '%s' has no data (accel_tensor_set_external)", t->name);
            goto done;
        }
        alloc_entry en = {t, true, -2, 0, 0, accel_tensor_bytes_contiguous(t), 0}; /* device: first consumer's */
        t->sched_id = n_entries;
        OOM_IF(!PUSH(entries, n_entries, cap_entries, en));
    }
    for (int e = 0; e < s->n_exec; e++) {
        accel_tensor *t = s->exec[e];
        if (t->op == ACCEL_OP_WRITE) continue; /* writes into its base's memory */
        alloc_entry en = {t, (t->flags & ACCEL_FLAG_OUTPUT) != 0, s->exec_dev[e], e, e, accel_tensor_bytes_contiguous(t), 0};
        t->sched_id = n_entries;
        OOM_IF(!PUSH(entries, n_entries, cap_entries, en));
    }
    /* a scheduler-allocated base that is written in place lives where the (first) write runs */
    for (int e = 0; e < s->n_exec; e++) {
        accel_tensor *t = s->exec[e];
        if (t->op == ACCEL_OP_WRITE && t->view_src->sched_id >= 0 && entries[t->view_src->sched_id].device == -2)
            entries[t->view_src->sched_id].device = s->exec_dev[e];
    }

    /* 4. uses: extend lifetimes, decide input homes, insert copies where a device can't read the memory */
    int split_of_exec = 0;
    for (int e = 0; e < s->n_exec; e++) {
        while (s->splits[split_of_exec].first + s->splits[split_of_exec].n <= e) split_of_exec++;
        int d = s->exec_dev[e];
        int split_start = s->splits[split_of_exec].first;
        accel_tensor *node = s->exec[e];
        for (int k = 0; k < ACCEL_MAX_SRC; k++) {
            accel_tensor *src = node->src[k];
            if (!src) continue;
            accel_tensor *b = base_of(src);
            int home;
            alloc_entry *be = b->sched_id >= 0 ? &entries[b->sched_id] : NULL;
            if (be) {
                if (be->device == -2) be->device = d; /* an input lives where it is first used */
                home = be->device;
                if (e > be->last) be->last = e;
            } else {
                home = b->buffer ? device_index(s, b->buffer->type->device) : HOST_DEVICE;
            }
            accel_buffer_type *bt = b->buffer && !be ? b->buffer->type : device_buft(s, home);
            if (device_reads(s, d, bt)) continue;
            if (node->op == ACCEL_OP_WRITE && k == 0) { /* a write into a copy would be lost */
                st = accel_set_error(ACCEL_ERR_UNSUPPORTED,
                                     "node '%s' (op write) runs on %s, which cannot write '%s' where it lives (%s)",
                                     node->name, accel_device_name(s->devs[d]), b->name, bt->iface.name(bt));
                goto done;
            }
            /* a copy of the whole base tensor on device d, made once per compute before the split; after an
             * in-place write into the base, readers need a new copy */
            int version = write_version(s, b, e);
            int c = 0;
            for (; c < s->n_copies; c++)
                if (s->copies[c].base == b && s->copies[c].device == d && s->copies[c].version == version) break;
            if (c == s->n_copies) {
                accel_tensor *rep = new_owned(s, &cap_owned, b);
                OOM_IF(!rep);
                rep->op = ACCEL_OP_NONE;
                rep->view_src = NULL;
                rep->view_offset = 0;
                rep->flags = 0;
                rep->buffer = NULL;
                rep->data = NULL;
                memset(rep->src, 0, sizeof rep->src);
                snprintf(rep->name, sizeof rep->name, "%.40s#%s", b->name, accel_device_name(s->devs[d]));
                sched_copy cp = {b, rep, d, split_of_exec, version};
                OOM_IF(!PUSH(s->copies, s->n_copies, cap_copies, cp));
                alloc_entry en = {rep, false, d, split_start, e, accel_tensor_bytes_contiguous(rep), 0};
                rep->sched_id = n_entries;
                OOM_IF(!PUSH(entries, n_entries, cap_entries, en));
                if (be && split_start > be->last) be->last = split_start; /* read by the transfer */
            }
            accel_tensor *rep = s->copies[c].replica;
            if (e > entries[rep->sched_id].last) entries[rep->sched_id].last = e;
            accel_tensor *use = rep;
            if (src != b) { /* the node reads a view: make the same view over the copy */
                use = new_owned(s, &cap_owned, src);
                OOM_IF(!use);
                use->view_src = rep;
            }
            sched_override ov = {e, k, use};
            OOM_IF(!PUSH(s->overrides, s->n_overrides, cap_over, ov));
        }
    }
    /* inputs and outputs live for the whole graph; an input nobody reads still gets memory on the first device */
    for (int i = 0; i < n_entries; i++) {
        if (entries[i].device == -2) entries[i].device = s->exec_dev[0];
        if (entries[i].whole) entries[i].last = s->n_exec;
    }
    /* views (and in-place writes) of outputs keep their base alive */
    for (int i = 0; i < g->n_nodes; i++) {
        accel_tensor *t = g->nodes[i];
        if ((t->op == ACCEL_OP_VIEW || t->op == ACCEL_OP_WRITE) && (t->flags & ACCEL_FLAG_OUTPUT) &&
            t->view_src->sched_id >= 0)
            entries[t->view_src->sched_id].last = s->n_exec;
    }

    /* 5. first-fit planning in execution order: allocate what is defined at step e, then free what ended */
    {
        dev_arena arenas[SCHED_MAX_DEVICES];
        memset(arenas, 0, sizeof arenas);
        for (int d = 0; d < s->n_devs; d++) {
            accel_buffer_type *bt = device_buft(s, d);
            arenas[d].align = bt->iface.alignment ? bt->iface.alignment(bt) : 64;
            if (arenas[d].align < 16) arenas[d].align = 16;
        }
        /* order entries by definition step (stable: inputs, then nodes and copies as they come) */
        int *order = malloc(sizeof(int) * (size_t)(n_entries ? n_entries : 1));
        OOM_IF(!order);
        int n_order = 0;
        for (int step = 0; step <= s->n_exec; step++)
            for (int i = 0; i < n_entries; i++)
                if (entries[i].def == step) order[n_order++] = i;
        int next = 0;
        for (int step = 0; step < s->n_exec && st == ACCEL_OK; step++) {
            while (next < n_order && entries[order[next]].def == step) {
                alloc_entry *en = &entries[order[next++]];
                arena_alloc(&arenas[en->device], en->size, &en->offset);
                s->mem.activation_naive_bytes += en->size;
            }
            for (int i = 0; i < n_entries; i++)
                if (entries[i].last == step && !arena_free(&arenas[entries[i].device], entries[i].offset, entries[i].size))
                    st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_sched_alloc: out of memory");
        }
        free(order);
        for (int d = 0; d < s->n_devs; d++) free(arenas[d].blocks);
        if (st != ACCEL_OK) goto done;

        /* 6. one buffer per device, reused across allocs when big enough */
        for (int d = 0; d < s->n_devs; d++) {
            size_t need = arenas[d].peak;
            s->mem.activation_peak_bytes += need;
            if (need == 0) continue;
            if (s->bufs[d] && s->bufs[d]->size < need) {
                s->bufs[d]->iface.free_buffer(s->bufs[d]);
                s->bufs[d] = NULL;
            }
            if (!s->bufs[d]) {
                accel_buffer_type *bt = device_buft(s, d);
                st = bt->iface.alloc(bt, need, &s->bufs[d]);
                if (st != ACCEL_OK) goto done;
            }
        }
    }
    for (int i = 0; i < n_entries; i++) {
        alloc_entry *en = &entries[i];
        accel_buffer *buf = s->bufs[en->device];
        en->t->buffer = buf;
        en->t->data = (char *)buf->iface.get_base(buf) + en->offset;
    }
    /* views and in-place writes point into their base; so do the views made over copies */
    for (int i = 0; i < g->n_nodes; i++) {
        accel_tensor *t = g->nodes[i];
        if (t->op != ACCEL_OP_VIEW && t->op != ACCEL_OP_WRITE) continue;
        t->buffer = t->view_src->buffer;
        t->data = t->view_src->data ? (char *)t->view_src->data + t->view_offset : NULL;
    }
    for (int i = 0; i < s->n_owned; i++) {
        accel_tensor *t = s->owned[i];
        if (!t->view_src) continue;
        t->buffer = t->view_src->buffer;
        t->data = (char *)t->view_src->data + t->view_offset;
    }

    /* 7. statistics and the placement list (copies right before the node that first needs them) */
    for (int i = 0; i < g->n_leafs; i++)
        if (g->leafs[i]->flags & ACCEL_FLAG_WEIGHT) s->mem.weight_bytes += accel_tensor_bytes_contiguous(g->leafs[i]);
    s->mem.n_splits = s->n_splits;
    s->mem.n_copies = s->n_copies;
    for (int i = 0, c = 0, e = 0; i < g->n_nodes; i++) {
        accel_tensor *t = g->nodes[i];
        if (t->op != ACCEL_OP_VIEW) {
            /* copies are created in execution order; each is listed before its split's first node */
            for (; c < s->n_copies && s->splits[s->copies[c].split].first <= e; c++) {
                placement_entry pe = {s->copies[c].replica, s->copies[c].device, true};
                OOM_IF(!PUSH(s->placement, s->n_placement, cap_place, pe));
            }
            e++;
        }
        placement_entry pe = {t, t->op == ACCEL_OP_VIEW ? -1 : t->sched_device, false};
        OOM_IF(!PUSH(s->placement, s->n_placement, cap_place, pe));
    }
    /* the text costs a snprintf per node: built only when someone will read it (or lazily on request) */
    if (s->log_placement) build_placement_text(s);
    if (s->log_placement) accel_log(ACCEL_LOG_INFO, "placement:\n%s", s->text ? s->text : "");
    if (s->log_placement && accel_log_get_level() < ACCEL_LOG_INFO && s->text)
        fprintf(stderr, "accel placement:\n%s", s->text); /* the user asked for it explicitly */

done:
    free(entries);
    if (st != ACCEL_OK) return plan_fail(s, st);
    return ACCEL_OK;
#undef OOM_IF
}

/* ---- compute ------------------------------------------------------------------------------------------------- */
static accel_status transfer(const sched_copy *c) {
    accel_tensor *src = c->base, *dst = c->replica;
    size_t n = accel_tensor_bytes_contiguous(src);
    bool src_host = !src->buffer || src->buffer->type->iface.is_host(src->buffer->type);
    if (src_host) return accel_buffer_set_tensor(dst, src->data, n);
    bool dst_host = dst->buffer->type->iface.is_host(dst->buffer->type);
    if (dst_host) return accel_buffer_get_tensor(src, dst->data, n);
    void *tmp = malloc(n ? n : 1); /* device to device through the host */
    if (!tmp) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "copy of '%s': out of memory", src->name);
    accel_status st = accel_buffer_get_tensor(src, tmp, n);
    if (st == ACCEL_OK) st = accel_buffer_set_tensor(dst, tmp, n);
    free(tmp);
    return st;
}

accel_status accel_sched_compute(accel_sched *s, accel_graph *g) {
    if (!s || !g) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_compute: NULL argument");
    if (s->graph != g)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_compute: call accel_sched_alloc for this graph first");
    int ov = 0;
    for (int sp = 0; sp < s->n_splits; sp++) {
        const sched_split *split = &s->splits[sp];
        accel_device *dev = s->devs[split->device];
        for (int c = 0; c < s->n_copies; c++) {
            if (s->copies[c].split != sp) continue;
            accel_status st = transfer(&s->copies[c]);
            if (st != ACCEL_OK) return st;
        }
        /* swap in the copies for this split's nodes, run, swap back */
        int ov_begin = ov;
        accel_tensor *saved[64];
        int n_saved = 0;
        accel_status st = ACCEL_OK;
        int first = split->first, end = split->first + split->n;
        while (first < end) {
            /* run in chunks so the saved-source array stays bounded */
            int chunk_end = first;
            n_saved = 0;
            ov_begin = ov;
            while (chunk_end < end) {
                int cnt = 0;
                for (int j = ov; j < s->n_overrides && s->overrides[j].exec_index == chunk_end; j++) cnt++;
                if (n_saved + cnt > 64) break;
                for (int j = 0; j < cnt; j++, ov++) {
                    sched_override *o = &s->overrides[ov];
                    saved[n_saved++] = s->exec[o->exec_index]->src[o->slot];
                    s->exec[o->exec_index]->src[o->slot] = o->replacement;
                }
                chunk_end++;
            }
            if (chunk_end == first) { /* one node with > 64 overrides cannot happen (ACCEL_MAX_SRC) */
                return accel_set_error(ACCEL_ERR_INTERNAL, "scheduler: too many copies for one node");
            }
            st = dev->iface.compute(dev, s->states[split->device], s->exec + first, chunk_end - first);
            for (int j = ov_begin, k = 0; j < ov; j++, k++) s->exec[s->overrides[j].exec_index]->src[s->overrides[j].slot] = saved[k];
            if (st != ACCEL_OK) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", accel_last_error());
                return accel_set_error(st, "device %s failed: %s", accel_device_name(dev), msg);
            }
            first = chunk_end;
        }
        if (dev->iface.synchronize) {
            st = dev->iface.synchronize(dev, s->states[split->device]);
            if (st != ACCEL_OK) return st;
        }
    }
    return ACCEL_OK;
}

/* ---- reporting --------------------------------------------------------------------------------------------- */
int accel_sched_placement_count(const accel_sched *s) { return s ? s->n_placement : 0; }

accel_status accel_sched_placement(const accel_sched *s, int i, accel_placement *out) {
    if (!s || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_placement: NULL argument");
    if (i < 0 || i >= s->n_placement)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_placement: index %d out of range [0, %d)", i,
                               s->n_placement);
    const placement_entry *pe = &s->placement[i];
    out->node = pe->node;
    out->device = pe->device >= 0 ? s->devs[pe->device] : NULL;
    out->is_copy = pe->is_copy;
    return ACCEL_OK;
}

static void build_placement_text(accel_sched *s) {
    size_t cap = 256 + (size_t)s->n_placement * 160, len = 0;
    char *text = malloc(cap);
    if (!text) return;
    len += (size_t)snprintf(text + len, cap - len, "%-5s %-14s %-32s %-24s %s\n", "#", "op", "name", "shape", "device");
    for (int i = 0; i < s->n_placement; i++) {
        const placement_entry *pe = &s->placement[i];
        char shape[64] = "";
        size_t sl = 0;
        for (int d = 0; d < pe->node->ndim && sl < sizeof shape - 24; d++)
            sl += (size_t)snprintf(shape + sl, sizeof shape - sl, d ? "x%lld" : "%lld", (long long)pe->node->shape[d]);
        const char *op = pe->is_copy ? "(copy)" : accel_op_name(pe->node->op);
        const char *dev = pe->device >= 0 ? device_label(s, pe->device) : "-";
        len += (size_t)snprintf(text + len, cap - len, "%-5d %-14s %-32.32s %-24s %s\n", i, op,
                                pe->node->name[0] ? pe->node->name : "", shape, dev);
        if (len >= cap - 1) break;
    }
    s->text = text;
}

const char *accel_sched_placement_text(accel_sched *s) {
    if (s && !s->text && s->n_placement > 0) build_placement_text(s);
    return s && s->text ? s->text : "";
}

accel_status accel_sched_get_memory(const accel_sched *s, accel_sched_memory *out) {
    if (!s || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_sched_get_memory: NULL argument");
    *out = s->mem;
    return ACCEL_OK;
}
