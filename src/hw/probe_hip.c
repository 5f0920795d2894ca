/* AMD GPUs through the HIP runtime (libamdhip64.so), loaded at run time.
 *
 * Device properties are read one by one with hipDeviceGetAttribute rather than hipGetDeviceProperties, whose
 * struct layout changed between ROCm releases (ROCm 6 renamed the symbol to hipGetDevicePropertiesR0600). The
 * attribute numbers below are those of hip_runtime_api.h, unchanged from ROCm 5.0 to 6.x. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int hipError_t; /* hipSuccess == 0 */

enum {
    hipDeviceAttributeComputeCapabilityMajor = 23,
    hipDeviceAttributeComputeCapabilityMinor = 61,
    hipDeviceAttributeMultiprocessorCount = 63,
};

typedef hipError_t (*hipGetDeviceCount_fn)(int *count);
typedef hipError_t (*hipDeviceGetName_fn)(char *name, int len, int device);
typedef hipError_t (*hipDeviceTotalMem_fn)(size_t *bytes, int device);
typedef hipError_t (*hipDeviceGetAttribute_fn)(int *value, int attribute, int device);
typedef hipError_t (*hipRuntimeGetVersion_fn)(int *version);
typedef const char *(*hipGetErrorName_fn)(hipError_t error);
typedef const char *(*hipGetErrorString_fn)(hipError_t error);

void hw_probe_hip(hw_probe_out *out) {
    /* ROCm installs under /opt/rocm and does not always register it with the dynamic loader. */
    static const char *const names[] = {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5",
                                        "/opt/rocm/lib/libamdhip64.so"};
    char why[400];
    void *lib = hw_dlopen_first(names, 4, why, sizeof why);
    if (!lib) {
        hw_probe_fail(out, "%s", why);
        return;
    }
    /* Kept loaded: see probe_cuda.c. */
    hipGetDeviceCount_fn get_count = (hipGetDeviceCount_fn)dlsym(lib, "hipGetDeviceCount");
    hipDeviceGetName_fn get_name = (hipDeviceGetName_fn)dlsym(lib, "hipDeviceGetName");
    hipDeviceTotalMem_fn total_mem = (hipDeviceTotalMem_fn)dlsym(lib, "hipDeviceTotalMem");
    hipDeviceGetAttribute_fn attribute = (hipDeviceGetAttribute_fn)dlsym(lib, "hipDeviceGetAttribute");
    hipRuntimeGetVersion_fn runtime_version = (hipRuntimeGetVersion_fn)dlsym(lib, "hipRuntimeGetVersion");
    hipGetErrorName_fn error_name = (hipGetErrorName_fn)dlsym(lib, "hipGetErrorName");
    hipGetErrorString_fn error_string = (hipGetErrorString_fn)dlsym(lib, "hipGetErrorString");
    if (!get_count || !get_name || !total_mem || !attribute) {
        hw_probe_fail(out, "libamdhip64.so lacks a required function (HIP runtime too old?)");
        return;
    }

    int count = 0;
    hipError_t r = get_count(&count);
    if (r != 0) {
        const char *name = error_name ? error_name(r) : NULL;
        const char *text = error_string ? error_string(r) : NULL;
        hw_probe_fail(out, "hipGetDeviceCount failed: %s (%d)%s%s", name ? name : "HIP error", r, text ? ": " : "",
                      text ? text : "");
        return;
    }

    char driver[160] = "";
    int v = 0;
    if (runtime_version && runtime_version(&v) == 0) /* major * 10^7 + minor * 10^5 + patch */
        snprintf(driver, sizeof driver, "HIP %d.%d.%d", v / 10000000, (v / 100000) % 100, v % 100000);

    out->available = true;
    for (int i = 0; i < count; i++) {
        hw_dev_rec *d = hw_probe_add_device(out);
        if (!d) break;
        char name[256] = "";
        get_name(name, (int)sizeof name, i);
        hw_copy_str(d->name, sizeof d->name, name);
        hw_copy_str(d->vendor, sizeof d->vendor, "AMD");
        hw_copy_str(d->driver, sizeof d->driver, driver);
        hw_copy_str(d->type, sizeof d->type, "gpu");
        size_t bytes = 0;
        if (total_mem(&bytes, i) == 0) d->memory_bytes = bytes;
        if (attribute(&v, hipDeviceAttributeMultiprocessorCount, i) == 0) d->compute_units = v;
        if (attribute(&v, hipDeviceAttributeComputeCapabilityMajor, i) == 0) d->cc_major = v;
        if (attribute(&v, hipDeviceAttributeComputeCapabilityMinor, i) == 0) d->cc_minor = v;
    }
}
