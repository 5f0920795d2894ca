/* Op conformance harness: building a case, placing it on one device and writing its inputs.
 *
 * The only internal interface used is the device's supports_op (backends/backend.h): it is the one honest answer
 * the harness reports as "not supported"; everything else goes through accel.h. */
#include "harness.h"

#include "backends/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t case_seed(const op_case *cs) { return hash_str(cs->desc, hash_str(cs->op, 0)); }

accel_status sched_for_device(accel_device *dev, int n_threads, accel_sched **out) {
    accel_sched_params sp = accel_sched_default_params();
    accel_device *devs[1] = {dev};
    sp.devices = devs;
    sp.n_devices = 1;
    sp.n_threads = n_threads;
    return accel_sched_new(&sp, out);
}

static bool is_compute(const accel_tensor *t) { return t->op != ACCEL_OP_NONE && t->op != ACCEL_OP_VIEW; }

/* Builds the case's graph and marks its outputs. */
static run_status build(const op_case *cs, prepared *p, char *msg, size_t n) {
    memset(p, 0, sizeof *p);
    accel_graph_params gp = accel_graph_default_params();
    if (accel_graph_new(&gp, &p->g) != ACCEL_OK) {
        snprintf(msg, n, "accel_graph_new: %s", accel_last_error());
        return RUN_FAILED;
    }
    p->c.g = p->g;
    p->n_out = cs->build(&p->c, cs->params.bytes, p->outs);
    if (accel_graph_status(p->g) != ACCEL_OK || p->n_out < 1) {
        snprintf(msg, n, "graph builder failed: %s", accel_last_error());
        return RUN_FAILED;
    }
    for (int i = 0; i < p->n_out; i++) {
        if (!p->outs[i]) {
            snprintf(msg, n, "graph builder returned no output %d: %s", i, accel_last_error());
            return RUN_FAILED;
        }
        if (accel_graph_add_output(p->g, p->outs[i]) != ACCEL_OK) {
            snprintf(msg, n, "accel_graph_add_output: %s", accel_last_error());
            return RUN_FAILED;
        }
    }
    return RUN_OK;
}

static run_status check_support(const prepared *p, accel_device *dev, char *msg, size_t n) {
    int nn = accel_graph_node_count(p->g);
    for (int i = 0; i < nn; i++) {
        const accel_tensor *t = accel_graph_node(p->g, i);
        if (!is_compute(t) || dev->iface.supports_op(dev, t)) continue;
        char sh[64];
        snprintf(msg, n, "%s refuses %s -> %s%s", accel_device_name(dev), accel_op_name(t->op),
                 accel_dtype_name(t->dtype), shape_str(sh, sizeof sh, t->ndim, t->shape));
        return RUN_UNSUPPORTED;
    }
    return RUN_OK;
}

void case_release(prepared *p) {
    accel_graph_free(p->g);
    p->g = NULL;
}

run_status case_supported(const op_case *cs, accel_device *dev, char *msg, size_t msg_size) {
    prepared p;
    run_status st = build(cs, &p, msg, msg_size);
    if (st == RUN_OK) st = check_support(&p, dev, msg, msg_size);
    case_release(&p);
    return st;
}

run_status case_prepare(const op_case *cs, accel_device *dev, accel_sched *s, uint64_t seed, prepared *p, char *msg,
                        size_t msg_size) {
    run_status st = build(cs, p, msg, msg_size);
    if (st == RUN_OK) st = check_support(p, dev, msg, msg_size);
    if (st != RUN_OK) return st;
    if (accel_sched_alloc(s, p->g) != ACCEL_OK) {
        snprintf(msg, msg_size, "accel_sched_alloc: %s", accel_last_error());
        return RUN_FAILED;
    }
    /* every compute node must run on the device under test, or the comparison would test another device */
    int np = accel_sched_placement_count(s);
    for (int i = 0; i < np; i++) {
        accel_placement pl;
        if (accel_sched_placement(s, i, &pl) != ACCEL_OK) {
            snprintf(msg, msg_size, "accel_sched_placement: %s", accel_last_error());
            return RUN_FAILED;
        }
        if (!pl.is_copy && pl.device && pl.device != dev) {
            snprintf(msg, msg_size, "node %s was placed on %s, not %s", accel_tensor_op_name(pl.node),
                     accel_device_name(pl.device), accel_device_name(dev));
            return RUN_FAILED;
        }
    }
    for (int i = 0; i < p->c.n_inputs; i++) {
        accel_tensor *leaf = p->c.leaf[i];
        int nd = accel_tensor_ndim(leaf);
        int64_t shape[ACCEL_MAX_DIMS];
        for (int d = 0; d < nd; d++) shape[d] = accel_tensor_dim(leaf, d);
        size_t nb = accel_tensor_nbytes(leaf);
        void *buf = malloc(nb ? nb : 1);
        if (!buf) {
            snprintf(msg, msg_size, "out of memory for input %d (%zu bytes)", i, nb);
            return RUN_FAILED;
        }
        fill_bytes(buf, accel_tensor_dtype(leaf), nd, shape, p->c.fill[i], seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
        accel_status ast = accel_tensor_set(leaf, buf, nb);
        free(buf);
        if (ast != ACCEL_OK) {
            snprintf(msg, msg_size, "accel_tensor_set(input %d): %s", i, accel_last_error());
            return RUN_FAILED;
        }
    }
    return RUN_OK;
}

static double tensor_bytes(const accel_tensor *t) { return (double)accel_nelements(t) * (double)dtype_bytes(t->dtype); }

double case_bytes(const prepared *p) {
    double total = 0;
    int nn = accel_graph_node_count(p->g);
    for (int i = 0; i < nn; i++) {
        const accel_tensor *t = accel_graph_node(p->g, i);
        if (!is_compute(t)) continue;
        if (t->op == ACCEL_OP_WRITE) { /* reads src1 and stores as many elements; the rest of t is untouched */
            total += tensor_bytes(t->src[1]) + (double)accel_nelements(t->src[1]) * (double)dtype_bytes(t->dtype);
            continue;
        }
        total += tensor_bytes(t);
        for (int k = 0; k < ACCEL_MAX_SRC; k++)
            if (t->src[k]) total += tensor_bytes(t->src[k]);
    }
    return total;
}
