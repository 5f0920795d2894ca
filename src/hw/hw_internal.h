/* Internals shared by the hardware detection files (src/hw). Not part of the public API.
 *
 * Detection has two halves:
 *  - the CPU (cpu_info.c), read in-process from CPUID / auxv and /proc, /sys: no driver code runs;
 *  - one probe per accelerator runtime (probe_*.c). A probe loads a vendor library at run time and asks it for
 *    devices. Vendor libraries can crash or hang, so detect.c can run each probe in a forked child
 *    (hw_run_in_child) and receive its result over a pipe. To make that trivial, a probe result is one
 *    fixed-size plain struct (hw_probe_out) with no pointers.
 */
#ifndef ACCEL_HW_INTERNAL_H
#define ACCEL_HW_INTERNAL_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Probe results ------------------------------------------------------------------------------------------ */

#define HW_MAX_PROBE_DEVICES 64 /* per runtime; a probe lists at most this many devices */

/* One device as a probe reports it. Strings are NUL-terminated and truncated to fit. */
typedef struct hw_dev_rec {
    char name[256];
    char vendor[128];
    char driver[160];
    char platform[128];
    char type[32];          /* "gpu", "cpu", "accelerator", "npu", ... ("" if unknown) */
    uint64_t memory_bytes;
    int compute_units;
    int cc_major, cc_minor;
} hw_dev_rec;

/* What a probe found. Plain data: it is copied byte for byte through a pipe from a child process. */
typedef struct hw_probe_out {
    bool available;
    char reason[512];       /* why not available ("" when available) */
    int device_count;       /* entries used in devices[] */
    hw_dev_rec devices[HW_MAX_PROBE_DEVICES];
} hw_probe_out;

/* A probe fills *out (zeroed by the caller). It must not exit, abort or print, and returns nothing: every
 * outcome, including "library not found", is described in *out. */
typedef void (*hw_probe_fn)(hw_probe_out *out);

void hw_probe_cuda(hw_probe_out *out);
void hw_probe_hip(hw_probe_out *out);
void hw_probe_opencl(hw_probe_out *out);
void hw_probe_openvino(hw_probe_out *out);
void hw_probe_webgpu(hw_probe_out *out);
void hw_probe_metal(hw_probe_out *out);

#ifdef ACCEL_WEBGPU
/* Provided by the WebGPU backend when it is built: lists its adapters into *out. */
void accel_webgpu_probe_adapters(hw_probe_out *out);
#endif

/* Marks the probe not available with a printf-style reason. */
void hw_probe_fail(hw_probe_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Next free device record (zeroed), or NULL when HW_MAX_PROBE_DEVICES are already listed. */
hw_dev_rec *hw_probe_add_device(hw_probe_out *out);
/* Copies src into dst[cap] with surrounding whitespace removed, truncating; src NULL gives "". */
void hw_copy_str(char *dst, size_t cap, const char *src);

/* dlopen()s the first of names[0..n) that loads (RTLD_NOW | RTLD_LOCAL). On failure returns NULL and writes
 * "<names[0]> not found (<dlerror of the first attempt>)" to why. */
void *hw_dlopen_first(const char *const *names, int n, char *why, size_t why_cap);

/* ---- Isolation ---------------------------------------------------------------------------------------------- */

/* Work to run in a child: fills result (result_size bytes, zeroed beforehand). */
typedef void (*hw_child_fn)(void *arg, void *result);

/* Runs fn(arg, result) in a forked child process and copies the child's result back into result.
 *
 * Returns ACCEL_OK when the child delivered all result_size bytes and exited normally with status 0. Otherwise
 * result is zeroed, why receives a short reason and the return is:
 *   ACCEL_ERR_DEVICE  the child was killed by a signal ("probe crashed with signal 11 (Segmentation fault)"),
 *                     exited with another status, sent a short result, or ran past timeout_ms ("timed out
 *                     after 10000 ms"; the child is then killed with SIGKILL and reaped);
 *   ACCEL_ERR_INTERNAL the pipe or the fork could not be created;
 *   ACCEL_ERR_INVALID_ARG for a NULL fn/result or timeout_ms <= 0.
 * No error is recorded for the thread: the caller decides what a failure means. The child never returns into the
 * caller: it leaves with _exit (no atexit handlers, no stdio flush). Its stdout goes to /dev/null so a chatty
 * driver cannot corrupt the parent's output, and crash signals get their default action back so a crash is seen
 * as a crash even under sanitizers. Forking a multi-threaded process is safe enough here because the child only
 * runs the probe and exits; a child stuck on a lock copied from another thread is caught by the timeout. */
accel_status hw_run_in_child(hw_child_fn fn, void *arg, void *result, size_t result_size, int timeout_ms,
                             char *why, size_t why_cap);

/* ---- CPU ---------------------------------------------------------------------------------------------------- */

#define HW_MAX_CPU_FEATURES 64

typedef struct hw_cpu {
    char vendor[64];
    char model[256];
    char arch[32];
    int physical_cores, logical_cores, sockets;
    uint64_t l1d_bytes, l2_bytes, l3_bytes;
    uint64_t mem_total_bytes, mem_available_bytes;
    const char *features[HW_MAX_CPU_FEATURES]; /* static strings, kernel spelling */
    int feature_count;
} hw_cpu;

/* Fills *cpu from CPUID (x86, with OS support for the register state checked through XGETBV) or getauxval
 * (aarch64), and /proc/cpuinfo, /sys/devices/system/cpu, /proc/meminfo. Values it cannot find stay 0 / "".
 * Never fails. */
void hw_cpu_detect(hw_cpu *cpu);

/* The same description, detected once per process and cached (thread-safe). Memory figures are those of the
 * first call; use hw_cpu_detect for fresh ones. Used by the thread pool default and the cpu device's name. */
const hw_cpu *hw_cpu_cached(void);

/* The i-th ISA feature name this build can report on this architecture (kernel spelling, as in /proc/cpuinfo's
 * "flags" or "Features" line), in reporting order; NULL past the end. Static storage. */
const char *hw_cpu_feature_name(int i);

#endif
