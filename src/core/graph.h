/* Graph internals shared by the builders (graph.c, ops_build.c) and the scheduler. */
#ifndef ACCEL_CORE_GRAPH_H
#define ACCEL_CORE_GRAPH_H

#include "core/tensor.h"

typedef struct arena_chunk arena_chunk;

struct accel_graph {
    arena_chunk *chunks;   /* metadata arena: tensors are never moved or freed one by one */
    size_t chunk_bytes;
    accel_status status;   /* first builder error, sticky */
    accel_tensor **nodes;  /* compute nodes and views, topologically ordered (sources first) */
    int n_nodes, cap_nodes;
    accel_tensor **leafs;  /* leaves reachable from the outputs */
    int n_leafs, cap_leafs;
    accel_tensor **all;    /* every tensor created, for flag resets */
    int n_all, cap_all;
};

/* Arena allocation of zeroed, 16-byte aligned memory owned by the graph. NULL (and sticky status) on failure. */
void *accel_graph_arena_alloc(accel_graph *g, size_t size);

/* Records a builder error: sets the sticky status and the thread's last error; returns NULL for convenience. */
accel_tensor *accel_graph_fail(accel_graph *g, accel_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* New contiguous tensor node with op and sources (NULL-terminated list of up to ACCEL_MAX_SRC in src[]). */
accel_tensor *accel_graph_new_node(accel_graph *g, accel_op op, accel_dtype dtype, int ndim, const int64_t *shape,
                                   accel_tensor *const *srcs, int n_srcs);

/* Sets contiguous byte strides for t's shape and dtype. */
void accel_tensor_set_contiguous_strides(accel_tensor *t);

#endif
