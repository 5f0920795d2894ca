/* cli_model.c — shared helpers of the model subcommands (see cli_model.h). */
#include "cli_model.h"

#include "hw/json_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool cli_parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

int cli_fail(const char *cmd, const char *what, accel_status st) {
    fprintf(stderr, "accel %s: %s: %s (%s)\n", cmd, what, accel_last_error(), accel_status_name(st));
    return 1;
}

bool cli_model_open(const char *cmd, const cli_model_opts *o, accel_model **m, accel_session **s, double *load_ms) {
    accel_model_params mp = accel_model_default_params();
    accel_device *devs[2];
    if (o->device) {
        devs[0] = accel_device_by_name(o->device);
        if (!devs[0]) {
            fprintf(stderr, "accel %s: no device '%s'; this build has:", cmd, o->device);
            for (int i = 0; i < accel_device_count(); i++)
                fprintf(stderr, " %s", accel_device_name(accel_device_get(i)));
            fprintf(stderr, "\n");
            return false;
        }
        mp.devices = devs;
        mp.n_devices = 1;
        accel_device *cpu = accel_device_by_name("cpu");
        if (cpu && cpu != devs[0]) devs[mp.n_devices++] = cpu;
    }
    mp.n_threads = o->threads;
    const double t0 = cli_now_ms();
    accel_status st = accel_model_load(o->dir, &mp, m);
    if (st != ACCEL_OK) {
        cli_fail(cmd, o->dir, st);
        return false;
    }
    st = accel_session_new(*m, NULL, s);
    if (st != ACCEL_OK) {
        cli_fail(cmd, "cannot make a session", st);
        accel_model_free(*m);
        *m = NULL;
        return false;
    }
    *load_ms = cli_now_ms() - t0;
    return true;
}

bool cli_push_text(char ***texts, int *n, const char *text) {
    char **grown = realloc(*texts, sizeof *grown * (size_t)(*n + 1));
    if (!grown) return false;
    *texts = grown;
    if (!(grown[*n] = strdup(text))) return false;
    (*n)++;
    return true;
}

void cli_free_texts(char **texts, int n) {
    for (int i = 0; i < n; i++) free(texts[i]);
    free(texts);
}

bool cli_read_lines(const char *cmd, const char *path, char ***texts, int *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "accel %s: cannot open %s: %s\n", cmd, path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool ok = true;
    while (ok && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len > 0) ok = cli_push_text(texts, n, line);
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "accel %s: cannot read %s: %s\n", cmd, path, strerror(errno));
        ok = false;
    } else if (!ok) {
        fprintf(stderr, "accel %s: out of memory reading %s\n", cmd, path);
    }
    free(line);
    fclose(f);
    return ok;
}

void cli_json_begin_run(struct accel_json_writer *w, const char *dir, const accel_model *m, const char *task,
                        const accel_session *s, double load_ms, double run_ms) {
    accel_json_init(w, 0);
    accel_json_object_begin(w);
    accel_json_key(w, "model");
    accel_json_string(w, dir);
    if (m) {
        accel_json_key(w, "family");
        accel_json_string(w, accel_model_family(m));
    }
    if (task) {
        accel_json_key(w, "task");
        accel_json_string(w, task);
    }
    accel_json_key(w, "device");
    accel_json_string(w, accel_session_devices_used(s));
    accel_json_key(w, "load_ms");
    accel_json_double(w, load_ms);
    accel_json_key(w, "run_ms");
    accel_json_double(w, run_ms);
}
