/* OpenCL platforms and devices through the ICD loader (libOpenCL.so.1), loaded at run time. The loader finds
 * the installed drivers (PoCL, NVIDIA, ROCm, Intel, ...) through /etc/OpenCL/vendors. Types and constants are
 * those of CL/cl.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef cl_ulong cl_device_type;
typedef struct _cl_platform_id *cl_platform_id;
typedef struct _cl_device_id *cl_device_id;

enum {
    CL_SUCCESS = 0,
    CL_DEVICE_NOT_FOUND = -1,
    CL_PLATFORM_NOT_FOUND_KHR = -1001,
};

#define CL_DEVICE_TYPE_CPU (1u << 1)
#define CL_DEVICE_TYPE_GPU (1u << 2)
#define CL_DEVICE_TYPE_ACCELERATOR (1u << 3)
#define CL_DEVICE_TYPE_CUSTOM (1u << 4)
#define CL_DEVICE_TYPE_ALL 0xFFFFFFFFu

enum {
    CL_PLATFORM_VERSION = 0x0901,
    CL_PLATFORM_NAME = 0x0902,
    CL_PLATFORM_VENDOR = 0x0903,
    CL_DEVICE_TYPE = 0x1000,
    CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002,
    CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F,
    CL_DEVICE_NAME = 0x102B,
    CL_DEVICE_VENDOR = 0x102C,
    CL_DRIVER_VERSION = 0x102D,
    CL_DEVICE_VERSION = 0x102F,
};

typedef cl_int (*clGetPlatformIDs_fn)(cl_uint n, cl_platform_id *platforms, cl_uint *count);
typedef cl_int (*clGetPlatformInfo_fn)(cl_platform_id platform, cl_uint param, size_t size, void *value,
                                       size_t *size_ret);
typedef cl_int (*clGetDeviceIDs_fn)(cl_platform_id platform, cl_device_type type, cl_uint n, cl_device_id *devices,
                                    cl_uint *count);
typedef cl_int (*clGetDeviceInfo_fn)(cl_device_id device, cl_uint param, size_t size, void *value,
                                     size_t *size_ret);

typedef struct cl_api {
    clGetPlatformIDs_fn platform_ids;
    clGetPlatformInfo_fn platform_info;
    clGetDeviceIDs_fn device_ids;
    clGetDeviceInfo_fn device_info;
} cl_api;

/* A string property of a platform (device == NULL) or a device, copied (trimmed, truncated) into dst. */
static void cl_string(const cl_api *api, cl_platform_id platform, cl_device_id device, cl_uint param, char *dst,
                      size_t cap) {
    dst[0] = '\0';
    size_t size = 0;
    cl_int r = device ? api->device_info(device, param, 0, NULL, &size)
                      : api->platform_info(platform, param, 0, NULL, &size);
    if (r != CL_SUCCESS || size == 0) return;
    char *buf = malloc(size + 1);
    if (!buf) return;
    r = device ? api->device_info(device, param, size, buf, NULL)
               : api->platform_info(platform, param, size, buf, NULL);
    if (r == CL_SUCCESS) {
        buf[size] = '\0';
        hw_copy_str(dst, cap, buf);
    }
    free(buf);
}

static const char *type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "gpu";
    if (t & CL_DEVICE_TYPE_CPU) return "cpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    if (t & CL_DEVICE_TYPE_CUSTOM) return "custom";
    return "";
}

/* Adds the devices of one platform. A platform that fails to answer is skipped: the others still count. */
static void list_platform(const cl_api *api, cl_platform_id platform, hw_probe_out *out) {
    char platform_name[128];
    cl_string(api, platform, NULL, CL_PLATFORM_NAME, platform_name, sizeof platform_name);
    cl_uint n = 0;
    cl_int r = api->device_ids(platform, CL_DEVICE_TYPE_ALL, 0, NULL, &n);
    if (r != CL_SUCCESS || n == 0) return; /* CL_DEVICE_NOT_FOUND: a platform with no devices */
    cl_device_id *devices = calloc(n, sizeof *devices);
    if (!devices) return;
    if (api->device_ids(platform, CL_DEVICE_TYPE_ALL, n, devices, NULL) == CL_SUCCESS) {
        for (cl_uint i = 0; i < n; i++) {
            hw_dev_rec *d = hw_probe_add_device(out);
            if (!d) break;
            char driver[64], version[80]; /* both fit d->driver with the separators */
            cl_string(api, NULL, devices[i], CL_DEVICE_NAME, d->name, sizeof d->name);
            cl_string(api, NULL, devices[i], CL_DEVICE_VENDOR, d->vendor, sizeof d->vendor);
            cl_string(api, NULL, devices[i], CL_DRIVER_VERSION, driver, sizeof driver);
            cl_string(api, NULL, devices[i], CL_DEVICE_VERSION, version, sizeof version);
            if (version[0]) snprintf(d->driver, sizeof d->driver, "%s (%s)", driver, version);
            else hw_copy_str(d->driver, sizeof d->driver, driver);
            hw_copy_str(d->platform, sizeof d->platform, platform_name);
            cl_device_type type = 0;
            if (api->device_info(devices[i], CL_DEVICE_TYPE, sizeof type, &type, NULL) == CL_SUCCESS)
                hw_copy_str(d->type, sizeof d->type, type_name(type));
            cl_ulong mem = 0;
            if (api->device_info(devices[i], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL) == CL_SUCCESS)
                d->memory_bytes = mem;
            cl_uint units = 0;
            if (api->device_info(devices[i], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL) == CL_SUCCESS)
                d->compute_units = (int)units;
        }
    }
    free(devices);
}

void hw_probe_opencl(hw_probe_out *out) {
    static const char *const names[] = {"libOpenCL.so.1", "libOpenCL.so"};
    char why[400];
    void *lib = hw_dlopen_first(names, 2, why, sizeof why);
    if (!lib) {
        hw_probe_fail(out, "%s", why);
        return;
    }
    /* Kept loaded: ICDs such as PoCL start worker threads (see probe_cuda.c). */
    cl_api api;
    api.platform_ids = (clGetPlatformIDs_fn)dlsym(lib, "clGetPlatformIDs");
    api.platform_info = (clGetPlatformInfo_fn)dlsym(lib, "clGetPlatformInfo");
    api.device_ids = (clGetDeviceIDs_fn)dlsym(lib, "clGetDeviceIDs");
    api.device_info = (clGetDeviceInfo_fn)dlsym(lib, "clGetDeviceInfo");
    if (!api.platform_ids || !api.platform_info || !api.device_ids || !api.device_info) {
        hw_probe_fail(out, "libOpenCL.so.1 lacks a required function");
        return;
    }

    cl_uint n = 0;
    cl_int r = api.platform_ids(0, NULL, &n);
    if (r == CL_PLATFORM_NOT_FOUND_KHR || (r == CL_SUCCESS && n == 0)) {
        hw_probe_fail(out, "no OpenCL platform installed (the ICD loader found no driver in /etc/OpenCL/vendors)");
        return;
    }
    if (r != CL_SUCCESS) {
        hw_probe_fail(out, "clGetPlatformIDs failed with error %d", r);
        return;
    }
    cl_platform_id *platforms = calloc(n, sizeof *platforms);
    if (!platforms) {
        hw_probe_fail(out, "out of memory listing %u OpenCL platforms", n);
        return;
    }
    r = api.platform_ids(n, platforms, NULL);
    if (r != CL_SUCCESS) {
        free(platforms);
        hw_probe_fail(out, "clGetPlatformIDs failed with error %d", r);
        return;
    }
    out->available = true;
    for (cl_uint p = 0; p < n; p++) list_platform(&api, platforms[p], out);
    free(platforms);
}
