/* Hardware detection: the public accel_detect / accel_hw_* API (include/accel.h, "Hardware detection").
 *
 * accel_detect reads the CPU in-process (cpu_info.c) and then runs one probe per accelerator runtime
 * (probe_*.c), each in a child process when params->isolate_probes is set (isolate.c), so that a broken driver
 * becomes "not available: <reason>" instead of a crash or a hang. The results are copied into one accel_hw
 * handle that owns every string, and the JSON form is built once at the end so accel_hw_json needs no locking.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"
#include "hw/json_writer.h"

#include "core/error.h"
#include "core/log.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct accel_hw {
    accel_cpu_info cpu;
    const char **features;              /* cpu.features points here */
    accel_hw_device *devices;
    int device_count;
    accel_hw_probe probes[ACCEL_HW_KIND_COUNT];
    char **strings;                     /* every string the handle owns */
    int string_count, string_cap;
    char *json;
};

/* ---- Helpers shared with the probes (declared in hw_internal.h) --------------------------------------------- */

void hw_probe_fail(hw_probe_out *out, const char *fmt, ...) {
    out->available = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

hw_dev_rec *hw_probe_add_device(hw_probe_out *out) {
    if (out->device_count >= HW_MAX_PROBE_DEVICES) return NULL;
    hw_dev_rec *d = &out->devices[out->device_count++];
    memset(d, 0, sizeof *d);
    return d;
}

void hw_copy_str(char *dst, size_t cap, const char *src) {
    if (cap == 0) return;
    dst[0] = '\0';
    if (!src) return;
    while (isspace((unsigned char)*src)) src++;
    size_t n = strlen(src);
    while (n > 0 && isspace((unsigned char)src[n - 1])) n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void *hw_dlopen_first(const char *const *names, int n, char *why, size_t why_cap) {
    char first_error[256] = "unknown error";
    for (int i = 0; i < n; i++) {
        dlerror(); /* clear a stale message */
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
        const char *e = dlerror();
        if (i == 0 && e) hw_copy_str(first_error, sizeof first_error, e);
    }
    snprintf(why, why_cap, "%s not found (%s)", n > 0 ? names[0] : "library", first_error);
    return NULL;
}

/* ---- Ownership of strings ----------------------------------------------------------------------------------- */

/* Copies s into storage owned by hw. NULL on out-of-memory. */
static const char *hw_own(accel_hw *hw, const char *s) {
    if (hw->string_count == hw->string_cap) {
        int cap = hw->string_cap ? hw->string_cap * 2 : 64;
        char **grown = realloc(hw->strings, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        hw->strings = grown;
        hw->string_cap = cap;
    }
    char *copy = strdup(s ? s : "");
    if (!copy) return NULL;
    hw->strings[hw->string_count++] = copy;
    return copy;
}

/* ---- Probes ------------------------------------------------------------------------------------------------- */

typedef struct probe_entry {
    accel_hw_kind kind;
    hw_probe_fn fn;
} probe_entry;

static const probe_entry probe_table[] = {
    {ACCEL_HW_CUDA, hw_probe_cuda},         {ACCEL_HW_HIP, hw_probe_hip},
    {ACCEL_HW_OPENCL, hw_probe_opencl},     {ACCEL_HW_OPENVINO, hw_probe_openvino},
    {ACCEL_HW_WEBGPU, hw_probe_webgpu},     {ACCEL_HW_METAL, hw_probe_metal},
};
#define N_PROBES (int)(sizeof probe_table / sizeof probe_table[0])

/* hw_run_in_child passes one pointer: this carries the probe function to the child. */
typedef struct probe_call {
    hw_probe_fn fn;
} probe_call;

static void probe_in_child(void *arg, void *result) { ((probe_call *)arg)->fn((hw_probe_out *)result); }

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one probe as the parameters say and makes its result self-consistent. */
static void run_probe(const probe_entry *p, const accel_detect_params *params, hw_probe_out *out) {
    memset(out, 0, sizeof *out);
    int64_t t0 = now_ms();
    if (params->isolate_probes) {
        probe_call call = {p->fn};
        char why[256];
        if (hw_run_in_child(probe_in_child, &call, out, sizeof *out, params->probe_timeout_ms, why, sizeof why) !=
            ACCEL_OK) {
            memset(out, 0, sizeof *out);
            hw_probe_fail(out, "%s", why);
        }
    } else {
        p->fn(out);
    }
    /* The bytes may come from a child that misbehaved: never trust counts or terminators blindly. */
    if (out->device_count < 0 || out->device_count > HW_MAX_PROBE_DEVICES) out->device_count = 0;
    out->reason[sizeof out->reason - 1] = '\0';
    for (int i = 0; i < out->device_count; i++) {
        hw_dev_rec *d = &out->devices[i];
        d->name[sizeof d->name - 1] = d->vendor[sizeof d->vendor - 1] = d->driver[sizeof d->driver - 1] = '\0';
        d->platform[sizeof d->platform - 1] = d->type[sizeof d->type - 1] = '\0';
    }
    if (out->available) out->reason[0] = '\0';
    else {
        out->device_count = 0;
        if (out->reason[0] == '\0') hw_probe_fail(out, "probe gave no reason (a bug in libaccel)");
    }
    if (out->available)
        accel_log(ACCEL_LOG_DEBUG, "hw: %s probe: available, %d device(s) (%lld ms)", accel_hw_kind_name(p->kind),
                  out->device_count, (long long)(now_ms() - t0));
    else
        accel_log(ACCEL_LOG_DEBUG, "hw: %s probe: not available: %s (%lld ms)", accel_hw_kind_name(p->kind),
                  out->reason, (long long)(now_ms() - t0));
}

/* ---- JSON --------------------------------------------------------------------------------------------------- */

static void json_device(accel_json_writer *w, const accel_hw_device *d) {
    accel_json_object_begin(w);
    accel_json_key(w, "kind");
    accel_json_string(w, accel_hw_kind_name(d->kind));
    accel_json_key(w, "index");
    accel_json_int(w, d->index);
    accel_json_key(w, "name");
    accel_json_string(w, d->name);
    accel_json_key(w, "vendor");
    accel_json_string(w, d->vendor);
    accel_json_key(w, "type");
    accel_json_string(w, d->type);
    accel_json_key(w, "driver");
    accel_json_string(w, d->driver);
    accel_json_key(w, "platform");
    accel_json_string(w, d->platform);
    accel_json_key(w, "memory_bytes");
    accel_json_uint(w, d->memory_bytes);
    accel_json_key(w, "compute_units");
    accel_json_int(w, d->compute_units);
    accel_json_key(w, "cc_major");
    accel_json_int(w, d->cc_major);
    accel_json_key(w, "cc_minor");
    accel_json_int(w, d->cc_minor);
    accel_json_object_end(w);
}

static accel_status build_json(accel_hw *hw) {
    accel_json_writer w;
    accel_json_init(&w, 2);
    accel_json_object_begin(&w);

    const accel_cpu_info *c = &hw->cpu;
    accel_json_key(&w, "cpu");
    accel_json_object_begin(&w);
    accel_json_key(&w, "vendor");
    accel_json_string(&w, c->vendor);
    accel_json_key(&w, "model");
    accel_json_string(&w, c->model);
    accel_json_key(&w, "arch");
    accel_json_string(&w, c->arch);
    accel_json_key(&w, "physical_cores");
    accel_json_int(&w, c->physical_cores);
    accel_json_key(&w, "logical_cores");
    accel_json_int(&w, c->logical_cores);
    accel_json_key(&w, "sockets");
    accel_json_int(&w, c->sockets);
    accel_json_key(&w, "caches");
    accel_json_object_begin(&w);
    accel_json_key(&w, "l1d_bytes");
    accel_json_uint(&w, c->cache_l1d_bytes);
    accel_json_key(&w, "l2_bytes");
    accel_json_uint(&w, c->cache_l2_bytes);
    accel_json_key(&w, "l3_bytes");
    accel_json_uint(&w, c->cache_l3_bytes);
    accel_json_object_end(&w);
    accel_json_key(&w, "memory");
    accel_json_object_begin(&w);
    accel_json_key(&w, "total_bytes");
    accel_json_uint(&w, c->memory_total_bytes);
    accel_json_key(&w, "available_bytes");
    accel_json_uint(&w, c->memory_available_bytes);
    accel_json_object_end(&w);
    accel_json_key(&w, "features");
    accel_json_array_begin(&w);
    for (int i = 0; i < c->feature_count; i++) accel_json_string(&w, c->features[i]);
    accel_json_array_end(&w);
    accel_json_object_end(&w);

    accel_json_key(&w, "devices");
    accel_json_array_begin(&w);
    for (int i = 0; i < hw->device_count; i++) json_device(&w, &hw->devices[i]);
    accel_json_array_end(&w);

    accel_json_key(&w, "probes");
    accel_json_object_begin(&w);
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        const accel_hw_probe *p = &hw->probes[k];
        accel_json_key(&w, accel_hw_kind_name(p->kind));
        accel_json_object_begin(&w);
        accel_json_key(&w, "available");
        accel_json_bool(&w, p->available);
        accel_json_key(&w, "reason");
        accel_json_string(&w, p->reason);
        accel_json_key(&w, "device_count");
        accel_json_int(&w, p->device_count);
        accel_json_object_end(&w);
    }
    accel_json_object_end(&w);

    accel_json_object_end(&w);
    return accel_json_finish(&w, &hw->json);
}

/* ---- Public API --------------------------------------------------------------------------------------------- */

accel_detect_params accel_detect_default_params(void) {
    accel_detect_params p;
    memset(&p, 0, sizeof p);
    p.isolate_probes = true;
    p.probe_timeout_ms = 10000;
    return p;
}

const char *accel_hw_kind_name(accel_hw_kind kind) {
    switch (kind) {
    case ACCEL_HW_CPU: return "cpu";
    case ACCEL_HW_CUDA: return "cuda";
    case ACCEL_HW_HIP: return "hip";
    case ACCEL_HW_OPENCL: return "opencl";
    case ACCEL_HW_OPENVINO: return "openvino";
    case ACCEL_HW_WEBGPU: return "webgpu";
    case ACCEL_HW_METAL: return "metal";
    case ACCEL_HW_KIND_COUNT: break;
    }
    return "?";
}

/* Fills the CPU part of hw (and the CPU as device 0). */
static bool fill_cpu(accel_hw *hw, const hw_cpu *cpu) {
    accel_cpu_info *c = &hw->cpu;
    c->vendor = hw_own(hw, cpu->vendor);
    c->model = hw_own(hw, cpu->model);
    c->arch = hw_own(hw, cpu->arch);
    if (!c->vendor || !c->model || !c->arch) return false;
    c->physical_cores = cpu->physical_cores;
    c->logical_cores = cpu->logical_cores;
    c->sockets = cpu->sockets;
    c->cache_l1d_bytes = cpu->l1d_bytes;
    c->cache_l2_bytes = cpu->l2_bytes;
    c->cache_l3_bytes = cpu->l3_bytes;
    c->memory_total_bytes = cpu->mem_total_bytes;
    c->memory_available_bytes = cpu->mem_available_bytes;
    hw->features = calloc((size_t)(cpu->feature_count > 0 ? cpu->feature_count : 1), sizeof *hw->features);
    if (!hw->features) return false;
    for (int i = 0; i < cpu->feature_count; i++) hw->features[i] = cpu->features[i]; /* static strings */
    c->features = hw->features;
    c->feature_count = cpu->feature_count;

    accel_hw_device *d = &hw->devices[hw->device_count++];
    d->kind = ACCEL_HW_CPU;
    d->index = 0;
    d->name = c->model;
    d->vendor = c->vendor;
    d->driver = hw_own(hw, "");
    d->platform = c->arch;
    d->type = hw_own(hw, "cpu");
    d->memory_bytes = c->memory_total_bytes;
    d->compute_units = c->logical_cores;
    if (!d->driver || !d->type) return false;

    accel_hw_probe *p = &hw->probes[ACCEL_HW_CPU];
    p->kind = ACCEL_HW_CPU;
    p->available = true;
    p->reason = hw_own(hw, "");
    p->device_count = 1;
    return p->reason != NULL;
}

/* Copies one probe's result into hw. */
static bool fill_probe(accel_hw *hw, accel_hw_kind kind, const hw_probe_out *out) {
    accel_hw_probe *p = &hw->probes[kind];
    p->kind = kind;
    p->available = out->available;
    p->reason = hw_own(hw, out->reason);
    p->device_count = out->device_count;
    if (!p->reason) return false;
    for (int i = 0; i < out->device_count; i++) {
        const hw_dev_rec *r = &out->devices[i];
        accel_hw_device *d = &hw->devices[hw->device_count++];
        d->kind = kind;
        d->index = i;
        d->name = hw_own(hw, r->name);
        d->vendor = hw_own(hw, r->vendor);
        d->driver = hw_own(hw, r->driver);
        d->platform = hw_own(hw, r->platform);
        d->type = hw_own(hw, r->type);
        d->memory_bytes = r->memory_bytes;
        d->compute_units = r->compute_units;
        d->cc_major = r->cc_major;
        d->cc_minor = r->cc_minor;
        if (!d->name || !d->vendor || !d->driver || !d->platform || !d->type) return false;
    }
    return true;
}

accel_status accel_detect(const accel_detect_params *params, accel_hw **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_detect: out is NULL");
    *out = NULL;
    accel_detect_params defaults = accel_detect_default_params();
    if (!params) params = &defaults;
    if (params->probe_timeout_ms <= 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_detect: probe_timeout_ms must be > 0 (got %d)",
                               params->probe_timeout_ms);

    hw_cpu cpu;
    hw_cpu_detect(&cpu);

    /* Probe results are large fixed-size records: keep them on the heap. */
    hw_probe_out *results = calloc(N_PROBES, sizeof *results);
    accel_hw *hw = calloc(1, sizeof *hw);
    if (!results || !hw) {
        free(results);
        free(hw);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_detect: out of memory");
    }
    int total = 1; /* the CPU */
    for (int i = 0; i < N_PROBES; i++) {
        run_probe(&probe_table[i], params, &results[i]);
        total += results[i].device_count;
    }

    bool ok = (hw->devices = calloc((size_t)total, sizeof *hw->devices)) != NULL;
    ok = ok && fill_cpu(hw, &cpu);
    for (int i = 0; i < N_PROBES && ok; i++) ok = fill_probe(hw, probe_table[i].kind, &results[i]);
    free(results);
    if (!ok) {
        accel_hw_free(hw);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_detect: out of memory");
    }
    accel_status st = build_json(hw);
    if (st != ACCEL_OK) {
        accel_hw_free(hw);
        return st; /* build_json recorded the error */
    }
    *out = hw;
    return ACCEL_OK;
}

void accel_hw_free(accel_hw *hw) {
    if (!hw) return;
    for (int i = 0; i < hw->string_count; i++) free(hw->strings[i]);
    free(hw->strings);
    free(hw->features);
    free(hw->devices);
    free(hw->json);
    free(hw);
}

const accel_cpu_info *accel_hw_cpu(const accel_hw *hw) { return hw ? &hw->cpu : NULL; }

bool accel_hw_cpu_has(const accel_hw *hw, const char *feature) {
    if (!hw || !feature) return false;
    for (int i = 0; i < hw->cpu.feature_count; i++)
        if (strcasecmp(hw->cpu.features[i], feature) == 0) return true;
    return false;
}

int accel_hw_device_count(const accel_hw *hw) { return hw ? hw->device_count : 0; }

const accel_hw_device *accel_hw_device_get(const accel_hw *hw, int i) {
    if (!hw || i < 0 || i >= hw->device_count) return NULL;
    return &hw->devices[i];
}

const accel_hw_probe *accel_hw_probe_get(const accel_hw *hw, accel_hw_kind kind) {
    if (!hw || (int)kind < 0 || kind >= ACCEL_HW_KIND_COUNT) return NULL;
    return &hw->probes[kind];
}

const char *accel_hw_json(accel_hw *hw) {
    if (!hw) {
        accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hw_json: hw is NULL");
        return NULL;
    }
    return hw->json;
}
