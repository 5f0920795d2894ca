/* NVIDIA GPUs through the CUDA driver API (libcuda.so.1), loaded at run time so that libaccel neither needs the
 * CUDA toolkit to build nor the driver to run. The few types and constants used are declared here, with the
 * values of cuda.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int CUresult; /* CUDA_SUCCESS == 0 */
typedef int CUdevice;

enum {
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

typedef CUresult (*cuInit_fn)(unsigned int flags);
typedef CUresult (*cuDriverGetVersion_fn)(int *version);
typedef CUresult (*cuDeviceGetCount_fn)(int *count);
typedef CUresult (*cuDeviceGet_fn)(CUdevice *device, int ordinal);
typedef CUresult (*cuDeviceGetName_fn)(char *name, int len, CUdevice device);
typedef CUresult (*cuDeviceTotalMem_fn)(size_t *bytes, CUdevice device);
typedef CUresult (*cuDeviceGetAttribute_fn)(int *value, int attribute, CUdevice device);
typedef CUresult (*cuGetErrorName_fn)(CUresult error, const char **name);
typedef CUresult (*cuGetErrorString_fn)(CUresult error, const char **text);

typedef struct cuda_api {
    cuInit_fn init;
    cuDriverGetVersion_fn driver_version;
    cuDeviceGetCount_fn device_count;
    cuDeviceGet_fn device_get;
    cuDeviceGetName_fn device_name;
    cuDeviceTotalMem_fn total_mem;
    cuDeviceGetAttribute_fn attribute;
    cuGetErrorName_fn error_name;     /* optional */
    cuGetErrorString_fn error_string; /* optional */
} cuda_api;

/* "CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected" */
static void describe(const cuda_api *api, CUresult r, char *buf, size_t cap) {
    const char *name = NULL, *text = NULL;
    if (api->error_name) api->error_name(r, &name);
    if (api->error_string) api->error_string(r, &text);
    snprintf(buf, cap, "%s (%d)%s%s", name ? name : "CUDA error", r, text ? ": " : "", text ? text : "");
}

/* The kernel module's version, e.g. "550.54.15", from /proc/driver/nvidia/version ("" if absent). */
static void kernel_module_version(char *buf, size_t cap) {
    buf[0] = '\0';
    FILE *f = fopen("/proc/driver/nvidia/version", "re");
    if (!f) return;
    char line[512];
    if (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "Kernel Module");
        if (p) {
            p += strlen("Kernel Module");
            char version[64];
            if (sscanf(p, " %63s", version) == 1) hw_copy_str(buf, cap, version);
        }
    }
    fclose(f);
}

void hw_probe_cuda(hw_probe_out *out) {
    static const char *const names[] = {"libcuda.so.1", "libcuda.so"};
    char why[400];
    void *lib = hw_dlopen_first(names, 2, why, sizeof why);
    if (!lib) {
        hw_probe_fail(out, "%s", why);
        return;
    }
    /* The library stays loaded: driver libraries start threads and register exit handlers, and unloading them
     * is a known source of crashes at exit. The CUDA backend loads it again anyway. */
    cuda_api api;
    memset(&api, 0, sizeof api);
    api.init = (cuInit_fn)dlsym(lib, "cuInit");
    api.driver_version = (cuDriverGetVersion_fn)dlsym(lib, "cuDriverGetVersion");
    api.device_count = (cuDeviceGetCount_fn)dlsym(lib, "cuDeviceGetCount");
    api.device_get = (cuDeviceGet_fn)dlsym(lib, "cuDeviceGet");
    api.device_name = (cuDeviceGetName_fn)dlsym(lib, "cuDeviceGetName");
    api.total_mem = (cuDeviceTotalMem_fn)dlsym(lib, "cuDeviceTotalMem_v2");
    api.attribute = (cuDeviceGetAttribute_fn)dlsym(lib, "cuDeviceGetAttribute");
    api.error_name = (cuGetErrorName_fn)dlsym(lib, "cuGetErrorName");
    api.error_string = (cuGetErrorString_fn)dlsym(lib, "cuGetErrorString");
    if (!api.init || !api.driver_version || !api.device_count || !api.device_get || !api.device_name ||
        !api.total_mem || !api.attribute) {
        hw_probe_fail(out, "libcuda.so.1 lacks a required function (driver too old?)");
        return;
    }

    char err[256];
    CUresult r = api.init(0);
    if (r != 0) {
        describe(&api, r, err, sizeof err);
        hw_probe_fail(out, "cuInit failed: %s", err);
        return;
    }
    int version = 0, count = 0;
    if ((r = api.driver_version(&version)) != 0) {
        describe(&api, r, err, sizeof err);
        hw_probe_fail(out, "cuDriverGetVersion failed: %s", err);
        return;
    }
    if ((r = api.device_count(&count)) != 0) {
        describe(&api, r, err, sizeof err);
        hw_probe_fail(out, "cuDeviceGetCount failed: %s", err);
        return;
    }

    char module[64], driver[160];
    kernel_module_version(module, sizeof module);
    if (module[0])
        snprintf(driver, sizeof driver, "%s (CUDA %d.%d)", module, version / 1000, (version % 1000) / 10);
    else
        snprintf(driver, sizeof driver, "CUDA %d.%d", version / 1000, (version % 1000) / 10);

    out->available = true;
    for (int i = 0; i < count; i++) {
        hw_dev_rec *d = hw_probe_add_device(out);
        if (!d) break; /* more than HW_MAX_PROBE_DEVICES */
        CUdevice dev;
        if (api.device_get(&dev, i) != 0) {
            out->device_count--; /* could not open this ordinal: do not list an empty record */
            continue;
        }
        char name[256] = "";
        api.device_name(name, (int)sizeof name, dev);
        hw_copy_str(d->name, sizeof d->name, name);
        hw_copy_str(d->vendor, sizeof d->vendor, "NVIDIA");
        hw_copy_str(d->driver, sizeof d->driver, driver);
        hw_copy_str(d->type, sizeof d->type, "gpu");
        size_t bytes = 0;
        if (api.total_mem(&bytes, dev) == 0) d->memory_bytes = bytes;
        int v = 0;
        if (api.attribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) == 0) d->compute_units = v;
        if (api.attribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) == 0) d->cc_major = v;
        if (api.attribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) == 0) d->cc_minor = v;
    }
}
