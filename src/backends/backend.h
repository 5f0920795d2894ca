/* Backend interface (after ggml-backend): registry -> device -> buffer type -> buffer.
 *
 * A backend registers one accel_backend_reg; the registry asks it for its devices at start-up. A device says
 * which ops it supports (supports_op is the single answer used by the scheduler, weight placement and the
 * conformance harness), hands out a buffer type for its memory, and computes runs of nodes ("splits") whose
 * tensors all live in memory it can read.
 *
 * Interfaces are structs of function pointers plus a context pointer; optional entries may be NULL.
 */
#ifndef ACCEL_BACKENDS_BACKEND_H
#define ACCEL_BACKENDS_BACKEND_H

#include "core/tensor.h"

typedef struct accel_buffer_type accel_buffer_type;

/* ---- buffers ---------------------------------------------------------------------------------------------- */
typedef struct accel_buffer_iface {
    void (*free_buffer)(accel_buffer *buf);
    /* Base address: a host pointer for host buffers; an opaque device address otherwise. */
    void *(*get_base)(accel_buffer *buf);
    /* Host <-> buffer copies at byte offset `offset` from the buffer base. */
    accel_status (*set)(accel_buffer *buf, size_t offset, const void *src, size_t size);
    accel_status (*get)(accel_buffer *buf, size_t offset, void *dst, size_t size);
    /* Optional: fill with a byte value. */
    accel_status (*clear)(accel_buffer *buf, uint8_t value);
} accel_buffer_iface;

struct accel_buffer {
    accel_buffer_iface iface;
    accel_buffer_type *type;
    void *ctx;
    size_t size;
};

/* ---- buffer types ------------------------------------------------------------------------------------------ */
typedef struct accel_buffer_type_iface {
    const char *(*name)(accel_buffer_type *bt);
    accel_status (*alloc)(accel_buffer_type *bt, size_t size, accel_buffer **out);
    size_t (*alignment)(accel_buffer_type *bt);
    /* Host buffers are addressable by the CPU through tensor->data. */
    bool (*is_host)(accel_buffer_type *bt);
} accel_buffer_type_iface;

struct accel_buffer_type {
    accel_buffer_type_iface iface;
    accel_device *device;
    void *ctx;
};

/* The plain aligned-malloc host buffer type, shared by CPU-side backends. */
accel_buffer_type *accel_host_buffer_type(void);

/* ---- devices ------------------------------------------------------------------------------------------------ */
typedef struct accel_device_iface {
    const char *(*name)(accel_device *dev);
    const char *(*description)(accel_device *dev);
    accel_device_type (*type)(accel_device *dev);
    accel_buffer_type *(*buffer_type)(accel_device *dev);
    /* Honest answer: can this device compute this node (op, dtypes, shapes, strides, params)? */
    bool (*supports_op)(accel_device *dev, const accel_tensor *node);
    /* Can this device's kernels read tensors living in buffers of type bt directly (no copy)? */
    bool (*supports_buft)(accel_device *dev, accel_buffer_type *bt);

    /* Per-use compute state (thread pool, streams). n_threads is a hint for CPU-side devices. */
    accel_status (*compute_init)(accel_device *dev, int n_threads, void **state);
    void (*compute_free)(accel_device *dev, void *state);
    /* Computes nodes[0..n) in order. Every node is a non-view compute node whose sources and output live in
     * memory this device can read. Returns a status and sets the thread's last error on failure. */
    accel_status (*compute)(accel_device *dev, void *state, accel_tensor *const *nodes, int n);
    /* Optional async copies and sync; NULL means the synchronous buffer set/get are used. */
    accel_status (*set_async)(accel_device *dev, void *state, accel_tensor *t, const void *src, size_t off,
                              size_t size);
    accel_status (*get_async)(accel_device *dev, void *state, const accel_tensor *t, void *dst, size_t off,
                              size_t size);
    accel_status (*synchronize)(accel_device *dev, void *state);
} accel_device_iface;

struct accel_device {
    accel_device_iface iface;
    void *ctx;
    int priority; /* higher is preferred; ref uses -1 */
};

/* ---- registry ----------------------------------------------------------------------------------------------- */
typedef struct accel_backend_reg {
    const char *name;
    /* Called once; appends this backend's devices (those present at run time) through add(). */
    accel_status (*enumerate)(void (*add)(accel_device *dev));
} accel_backend_reg;

/* Adds a device at run time (used by the built-in backends and by tests' own backends). Thread-safe. */
accel_status accel_device_register(accel_device *dev);

/* Whole-tensor host copies for any buffer (uses the buffer interface; tensor must be contiguous). */
accel_status accel_buffer_set_tensor(accel_tensor *t, const void *src, size_t size);
accel_status accel_buffer_get_tensor(const accel_tensor *t, void *dst, size_t size);

/* Built-in backend registrations (each in its own folder). */
extern const accel_backend_reg accel_ref_backend_reg;
extern const accel_backend_reg accel_cpu_backend_reg;

#endif
