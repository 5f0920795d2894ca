/* cli_model.h — what the model subcommands (run, similarity) share: option values for loading, loading a model
 * and a session on the requested device, wall-clock time, reading texts from a file. */
#ifndef ACCEL_TOOLS_CLI_MODEL_H
#define ACCEL_TOOLS_CLI_MODEL_H

#include "accel.h"

#include <stdbool.h>

typedef struct cli_model_opts {
    const char *dir;
    const char *device; /* NULL = every device by priority */
    int threads;        /* 0 = physical cores */
} cli_model_opts;

/* Loads o->dir and makes a session. --device puts that device first and keeps the CPU as the per-op fallback.
 * On failure prints "accel <cmd>: <message>" to stderr and returns false. *load_ms gets the load time. */
bool cli_model_open(const char *cmd, const cli_model_opts *o, accel_model **m, accel_session **s, double *load_ms);

/* Milliseconds on a monotonic clock. */
double cli_now_ms(void);

/* A whole-string integer in [lo, hi]. */
bool cli_parse_int(const char *s, long long lo, long long hi, long long *out);

/* Appends the non-empty lines of path (without line ends) to *texts (a malloc'ed array of malloc'ed strings,
 * *n entries). Prints the error and returns false when the file cannot be read. */
bool cli_read_lines(const char *cmd, const char *path, char ***texts, int *n);
/* Appends a copy of text. */
bool cli_push_text(char ***texts, int *n, const char *text);
void cli_free_texts(char **texts, int n);

struct accel_json_writer;
/* Starts the JSON object every model subcommand prints: {"model": dir, "family" (when m is given), "task" (when
 * task is given), "device": the devices that ran, "load_ms", "run_ms", ... — the caller adds its own keys and
 * closes the object. */
void cli_json_begin_run(struct accel_json_writer *w, const char *dir, const accel_model *m, const char *task,
                        const accel_session *s, double load_ms, double run_ms);

/* Prints "accel <cmd>: <what>: <library message>" to stderr and returns 1 (the exit status). */
int cli_fail(const char *cmd, const char *what, accel_status st);

#endif
