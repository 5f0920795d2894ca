/* OpenVINO devices through its C API (libopenvino_c.so), loaded at run time. Declarations follow
 * openvino/c/ov_core.h (OpenVINO 2022.1 and later).
 *
 * Only development installs provide the unversioned libopenvino_c.so; runtime packages and the PyPI wheel ship
 * libopenvino_c.so.<version> only. The environment variable ACCEL_OPENVINO_LIB may name the library file to load
 * (e.g. .../site-packages/openvino/libs/libopenvino_c.so.2641); it is tried first. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int ov_status_e; /* OK == 0 */
typedef struct ov_core ov_core_t;

typedef struct {
    char **devices;
    size_t size;
} ov_available_devices_t;

typedef struct {
    const char *buildNumber;
    const char *description;
} ov_version_t;

typedef ov_status_e (*ov_core_create_fn)(ov_core_t **core);
typedef void (*ov_core_free_fn)(ov_core_t *core);
typedef ov_status_e (*ov_core_get_available_devices_fn)(const ov_core_t *core, ov_available_devices_t *devices);
typedef void (*ov_available_devices_free_fn)(ov_available_devices_t *devices);
typedef ov_status_e (*ov_core_get_property_fn)(const ov_core_t *core, const char *device, const char *key,
                                               char **value);
typedef void (*ov_free_fn)(const char *content);
typedef ov_status_e (*ov_get_openvino_version_fn)(ov_version_t *version);
typedef void (*ov_version_free_fn)(ov_version_t *version);
typedef const char *(*ov_get_error_info_fn)(ov_status_e status);

typedef struct ov_api {
    ov_core_get_property_fn get_property;
    ov_free_fn free_str;
} ov_api;

/* A device property as a string into dst ("" when the device does not have it). */
static void ov_string(const ov_api *api, const ov_core_t *core, const char *device, const char *key, char *dst,
                      size_t cap) {
    dst[0] = '\0';
    char *value = NULL;
    if (api->get_property(core, device, key, &value) == 0 && value) {
        hw_copy_str(dst, cap, value);
        api->free_str(value);
    }
}

void hw_probe_openvino(hw_probe_out *out) {
    const char *names[2];
    int n_names = 0;
    const char *env = getenv("ACCEL_OPENVINO_LIB");
    if (env && *env) names[n_names++] = env;
    names[n_names++] = "libopenvino_c.so";
    char why[400];
    void *lib = hw_dlopen_first(names, n_names, why, sizeof why);
    if (!lib) {
        hw_probe_fail(out, "%s%s", why, env && *env ? "" : "; ACCEL_OPENVINO_LIB may name its path");
        return;
    }
    /* Kept loaded: OpenVINO plugins start thread pools (see probe_cuda.c). */
    ov_core_create_fn core_create = (ov_core_create_fn)dlsym(lib, "ov_core_create");
    ov_core_free_fn core_free = (ov_core_free_fn)dlsym(lib, "ov_core_free");
    ov_core_get_available_devices_fn get_devices =
        (ov_core_get_available_devices_fn)dlsym(lib, "ov_core_get_available_devices");
    ov_available_devices_free_fn devices_free = (ov_available_devices_free_fn)dlsym(lib, "ov_available_devices_free");
    ov_api api;
    api.get_property = (ov_core_get_property_fn)dlsym(lib, "ov_core_get_property");
    api.free_str = (ov_free_fn)dlsym(lib, "ov_free");
    ov_get_openvino_version_fn get_version = (ov_get_openvino_version_fn)dlsym(lib, "ov_get_openvino_version");
    ov_version_free_fn version_free = (ov_version_free_fn)dlsym(lib, "ov_version_free");
    ov_get_error_info_fn error_info = (ov_get_error_info_fn)dlsym(lib, "ov_get_error_info");
    if (!core_create || !core_free || !get_devices || !devices_free || !api.get_property || !api.free_str) {
        hw_probe_fail(out, "libopenvino_c.so lacks a required function (OpenVINO older than 2022.1?)");
        return;
    }

    ov_core_t *core = NULL;
    ov_status_e st = core_create(&core);
    if (st != 0 || !core) {
        const char *info = error_info ? error_info(st) : NULL;
        hw_probe_fail(out, "ov_core_create failed with status %d%s%s", st, info ? ": " : "", info ? info : "");
        return;
    }
    ov_available_devices_t devices = {NULL, 0};
    st = get_devices(core, &devices);
    if (st != 0) {
        const char *info = error_info ? error_info(st) : NULL;
        hw_probe_fail(out, "ov_core_get_available_devices failed with status %d%s%s", st, info ? ": " : "",
                      info ? info : "");
        core_free(core);
        return;
    }

    char driver[160] = "";
    ov_version_t version = {NULL, NULL};
    if (get_version && get_version(&version) == 0) {
        if (version.buildNumber) snprintf(driver, sizeof driver, "OpenVINO %s", version.buildNumber);
        if (version_free) version_free(&version);
    }

    out->available = true;
    for (size_t i = 0; i < devices.size; i++) {
        const char *id = devices.devices[i]; /* "CPU", "GPU.0", "NPU", ... */
        if (!id) continue;
        hw_dev_rec *d = hw_probe_add_device(out);
        if (!d) break;
        ov_string(&api, core, id, "FULL_DEVICE_NAME", d->name, sizeof d->name);
        if (d->name[0] == '\0') hw_copy_str(d->name, sizeof d->name, id);
        hw_copy_str(d->driver, sizeof d->driver, driver);
        hw_copy_str(d->platform, sizeof d->platform, id);
        /* The device id's prefix is its class: "GPU.1" -> "gpu". */
        size_t n = 0;
        while (id[n] && id[n] != '.' && n + 1 < sizeof d->type) {
            d->type[n] = (char)tolower((unsigned char)id[n]);
            n++;
        }
        d->type[n] = '\0';
        if (strncmp(id, "GPU", 3) == 0) {
            char value[64];
            ov_string(&api, core, id, "GPU_DEVICE_TOTAL_MEM_SIZE", value, sizeof value);
            if (value[0]) d->memory_bytes = strtoull(value, NULL, 10);
            ov_string(&api, core, id, "GPU_EXECUTION_UNITS_COUNT", value, sizeof value);
            if (value[0]) d->compute_units = atoi(value);
        }
    }
    devices_free(&devices);
    core_free(core);
}
