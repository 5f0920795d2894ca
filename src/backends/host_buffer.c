/* The host buffer type: 64-byte aligned malloc'd memory, addressable by every CPU-side backend. */
#include "backends/backend.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define HOST_ALIGN 64

static void host_free(accel_buffer *buf) {
    free(buf->ctx);
    free(buf);
}
static void *host_base(accel_buffer *buf) { return buf->ctx; }
static accel_status host_set(accel_buffer *buf, size_t off, const void *src, size_t size) {
    if (off > buf->size || size > buf->size - off)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "host buffer: write [%zu, +%zu) outside %zu bytes", off, size, buf->size);
    memcpy((char *)buf->ctx + off, src, size);
    return ACCEL_OK;
}
static accel_status host_get(accel_buffer *buf, size_t off, void *dst, size_t size) {
    if (off > buf->size || size > buf->size - off)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "host buffer: read [%zu, +%zu) outside %zu bytes", off, size, buf->size);
    memcpy(dst, (char *)buf->ctx + off, size);
    return ACCEL_OK;
}
static accel_status host_clear(accel_buffer *buf, uint8_t v) {
    memset(buf->ctx, v, buf->size);
    return ACCEL_OK;
}

static const char *host_name(accel_buffer_type *bt) { return "host"; }
static size_t host_alignment(accel_buffer_type *bt) { return HOST_ALIGN; }
static bool host_is_host(accel_buffer_type *bt) { return true; }

static accel_status host_alloc(accel_buffer_type *bt, size_t size, accel_buffer **out) {
    size_t rounded = (size + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN;
    if (rounded < size) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "host buffer: size overflow");
    void *mem = aligned_alloc(HOST_ALIGN, rounded ? rounded : HOST_ALIGN);
    accel_buffer *buf = calloc(1, sizeof *buf);
    if (!mem || !buf) {
        free(mem);
        free(buf);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "host buffer: cannot allocate %zu bytes", size);
    }
    buf->iface = (accel_buffer_iface){host_free, host_base, host_set, host_get, host_clear};
    buf->type = bt;
    buf->ctx = mem;
    buf->size = size;
    *out = buf;
    return ACCEL_OK;
}

accel_buffer_type *accel_host_buffer_type(void) {
    static accel_buffer_type bt = {
        .iface = {host_name, host_alloc, host_alignment, host_is_host},
        .device = NULL,
        .ctx = NULL,
    };
    return &bt;
}

/* Offset of t's first byte in its buffer (views add their offset to the base's). */
static size_t tensor_buffer_offset(const accel_tensor *t) {
    const accel_tensor *base = t->view_src ? t->view_src : t;
    size_t off = (size_t)((char *)base->data - (char *)base->buffer->iface.get_base(base->buffer));
    return off + (t->view_src ? t->view_offset : 0);
}

accel_status accel_buffer_set_tensor(accel_tensor *t, const void *src, size_t size) {
    if (!t->buffer) return accel_set_error(ACCEL_ERR_INVALID_ARG, "tensor '%s' has no buffer", t->name);
    return t->buffer->iface.set(t->buffer, tensor_buffer_offset(t), src, size);
}

accel_status accel_buffer_get_tensor(const accel_tensor *t, void *dst, size_t size) {
    if (!t->buffer) return accel_set_error(ACCEL_ERR_INVALID_ARG, "tensor '%s' has no buffer", t->name);
    return t->buffer->iface.get(t->buffer, tensor_buffer_offset(t), dst, size);
}
