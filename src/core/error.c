#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char g_last_error[1024];

accel_status accel_set_error(accel_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last_error, sizeof g_last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *accel_last_error(void) { return g_last_error; }

void accel_clear_error(void) { g_last_error[0] = '\0'; }

const char *accel_status_name(accel_status status) {
    switch (status) {
    case ACCEL_OK: return "ACCEL_OK";
    case ACCEL_ERR_INVALID_ARG: return "ACCEL_ERR_INVALID_ARG";
    case ACCEL_ERR_MODEL_FORMAT: return "ACCEL_ERR_MODEL_FORMAT";
    case ACCEL_ERR_UNSUPPORTED: return "ACCEL_ERR_UNSUPPORTED";
    case ACCEL_ERR_OUT_OF_MEMORY: return "ACCEL_ERR_OUT_OF_MEMORY";
    case ACCEL_ERR_DEVICE: return "ACCEL_ERR_DEVICE";
    case ACCEL_ERR_IO: return "ACCEL_ERR_IO";
    case ACCEL_ERR_INTERNAL: return "ACCEL_ERR_INTERNAL";
    case ACCEL_ERR_NOT_FOUND: return "ACCEL_ERR_NOT_FOUND";
    }
    return "ACCEL_ERR_UNKNOWN";
}
