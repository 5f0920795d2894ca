/* Library logging: silent unless the user installs a callback or sets ACCEL_LOG. */
#ifndef ACCEL_CORE_LOG_H
#define ACCEL_CORE_LOG_H

#include "accel.h"

void accel_log(accel_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when a message at this level would be delivered (check before building expensive messages). */
bool accel_log_enabled(accel_log_level level);

#endif
