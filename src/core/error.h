/* Per-thread last error: every fallible internal function reports through accel_set_error. */
#ifndef ACCEL_CORE_ERROR_H
#define ACCEL_CORE_ERROR_H

#include "accel.h"

/* Records a message for the calling thread and returns status (so callers can `return accel_set_error(...)`). */
accel_status accel_set_error(accel_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
