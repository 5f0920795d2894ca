#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t g_log_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_log_once = PTHREAD_ONCE_INIT;
static accel_log_fn g_log_fn;
static void *g_log_user;
static accel_log_level g_log_level = ACCEL_LOG_NONE;

static void log_init_from_env(void) {
    const char *env = getenv("ACCEL_LOG");
    if (!env) return;
    static const char *names[] = {"none", "error", "warn", "info", "debug"};
    for (int i = 0; i < 5; i++)
        if (strcmp(env, names[i]) == 0) g_log_level = (accel_log_level)i;
}

void accel_log_set(accel_log_fn fn, void *user_data, accel_log_level level) {
    pthread_once(&g_log_once, log_init_from_env);
    pthread_mutex_lock(&g_log_mutex);
    g_log_fn = fn;
    g_log_user = user_data;
    g_log_level = level;
    pthread_mutex_unlock(&g_log_mutex);
}

accel_log_level accel_log_get_level(void) {
    pthread_once(&g_log_once, log_init_from_env);
    return g_log_level;
}

bool accel_log_enabled(accel_log_level level) { return level != ACCEL_LOG_NONE && level <= accel_log_get_level(); }

void accel_log(accel_log_level level, const char *fmt, ...) {
    if (!accel_log_enabled(level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&g_log_mutex);
    if (g_log_fn) {
        g_log_fn(level, msg, g_log_user);
    } else {
        static const char *tags[] = {"", "error", "warn", "info", "debug"};
        fprintf(stderr, "accel %s: %s\n", tags[level], msg);
    }
    pthread_mutex_unlock(&g_log_mutex);
}
