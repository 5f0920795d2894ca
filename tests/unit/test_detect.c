/* Tests of hardware detection against what the machine itself says.
 *
 *  - core counts and every ISA flag the detector knows agree with /proc/cpuinfo (read here independently);
 *  - accel_hw_json is valid JSON (cJSON) with the documented structure and the same values as the API;
 *  - with no /dev/nvidia0, CUDA is "not available" with a reason; with PoCL installed, an OpenCL CPU device is
 *    listed;
 *  - isolated (forked) and in-process probing agree;
 *  - the child-process runner reports a result, a timeout, a crash and an exit status correctly, using functions
 *    that really sleep, crash and exit (no test hooks in the library).
 *
 * Prints one line per check; exits non-zero on any failure. */
#include "accel.h"
#include "hw/hw_internal.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_failures = 0;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok) g_failures++;
}

static bool path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- /proc/cpuinfo, read independently of the library ------------------------------------------------------- */

typedef struct cpuinfo_facts {
    int processors;             /* "processor" lines */
    int physical_cores;         /* distinct (physical id, core id), or cpu cores x packages; 0 if neither */
    int sockets;                /* distinct physical ids; 0 if absent */
    char flags[8192];           /* first "flags" (x86) or "Features" (arm) line, space separated */
} cpuinfo_facts;

static void read_cpuinfo(cpuinfo_facts *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    long pairs[4096][2];
    long packages[256];
    int n_pairs = 0, n_packages = 0;
    long package = -1, cpu_cores = 0;
    char line[8192];
    while (fgets(line, sizeof line, fp)) {
        char key[64];
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        size_t klen = (size_t)(colon - line);
        if (klen >= sizeof key) continue;
        memcpy(key, line, klen);
        while (klen > 0 && (key[klen - 1] == ' ' || key[klen - 1] == '\t')) klen--;
        key[klen] = '\0';
        long v = strtol(colon + 1, NULL, 10);
        if (strcmp(key, "processor") == 0) {
            f->processors++;
        } else if (strcmp(key, "physical id") == 0) {
            package = v;
            bool seen = false;
            for (int i = 0; i < n_packages; i++) seen = seen || packages[i] == v;
            if (!seen && n_packages < 256) packages[n_packages++] = v;
        } else if (strcmp(key, "core id") == 0) {
            bool seen = false;
            for (int i = 0; i < n_pairs; i++) seen = seen || (pairs[i][0] == package && pairs[i][1] == v);
            if (!seen && n_pairs < 4096) {
                pairs[n_pairs][0] = package;
                pairs[n_pairs][1] = v;
                n_pairs++;
            }
        } else if (strcmp(key, "cpu cores") == 0) {
            cpu_cores = v;
        } else if ((strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0) && f->flags[0] == '\0') {
            snprintf(f->flags, sizeof f->flags, " %s", colon + 1);
            size_t n = strlen(f->flags);
            while (n > 0 && (f->flags[n - 1] == '\n' || f->flags[n - 1] == ' ')) f->flags[--n] = '\0';
            strncat(f->flags, " ", sizeof f->flags - strlen(f->flags) - 1);
        }
    }
    fclose(fp);
    f->sockets = n_packages;
    if (n_pairs > 0) f->physical_cores = n_pairs;
    else if (cpu_cores > 0) f->physical_cores = (int)cpu_cores * (n_packages > 0 ? n_packages : 1);
}

/* Whole-word membership in the " a b c " flags string. */
static bool has_flag(const cpuinfo_facts *f, const char *name) {
    char word[96];
    snprintf(word, sizeof word, " %s ", name);
    return strstr(f->flags, word) != NULL;
}

/* ---- CPU checks --------------------------------------------------------------------------------------------- */

static void test_cpu(const accel_hw *hw) {
    cpuinfo_facts facts;
    read_cpuinfo(&facts);
    const accel_cpu_info *cpu = accel_hw_cpu(hw);
    check(cpu != NULL, "accel_hw_cpu returns the CPU");
    if (!cpu) return;
    printf("     cpu: %s / %s / %s, %d physical, %d logical, %d socket(s)\n", cpu->vendor, cpu->model, cpu->arch,
           cpu->physical_cores, cpu->logical_cores, cpu->sockets);

    check(facts.processors > 0 && cpu->logical_cores == facts.processors,
          "logical cores (%d) == \"processor\" lines in /proc/cpuinfo (%d)", cpu->logical_cores, facts.processors);
    if (facts.physical_cores > 0) {
        check(cpu->physical_cores == facts.physical_cores,
              "physical cores (%d) == distinct (physical id, core id) in /proc/cpuinfo (%d)", cpu->physical_cores,
              facts.physical_cores);
    } else {
        /* aarch64 kernels print no topology in /proc/cpuinfo: the bounds still have to hold. */
        check(cpu->physical_cores >= 1 && cpu->physical_cores <= cpu->logical_cores,
              "physical cores (%d) within 1..logical (%d) (/proc/cpuinfo has no topology here)",
              cpu->physical_cores, cpu->logical_cores);
    }
    if (facts.sockets > 0)
        check(cpu->sockets == facts.sockets, "sockets (%d) == distinct physical ids in /proc/cpuinfo (%d)",
              cpu->sockets, facts.sockets);
    check(cpu->vendor[0] != '\0' && cpu->arch[0] != '\0', "vendor and arch are known");
    check(cpu->memory_total_bytes > 0 && cpu->memory_available_bytes > 0 &&
              cpu->memory_available_bytes <= cpu->memory_total_bytes,
          "memory: 0 < available (%llu) <= total (%llu)", (unsigned long long)cpu->memory_available_bytes,
          (unsigned long long)cpu->memory_total_bytes);
    if (path_exists("/sys/devices/system/cpu/cpu0/cache/index0/size"))
        check(cpu->cache_l1d_bytes > 0, "L1d size is known when sysfs lists caches (%llu bytes)",
              (unsigned long long)cpu->cache_l1d_bytes);

    const char *names[HW_MAX_CPU_FEATURES];
    int n = 0;
    while (n < HW_MAX_CPU_FEATURES && (names[n] = hw_cpu_feature_name(n)) != NULL) n++;
    check(facts.flags[0] != '\0' || n == 0, "/proc/cpuinfo has a flags/Features line to compare with");
    /* Valgrind runs the program on a synthetic CPU whose CPUID lacks what its JIT cannot execute (AVX-512, SHA,
     * ...): there the CPU this process sees has fewer features than the kernel's line, and only "reported implies
     * listed" can be checked. */
    const char *preload = getenv("LD_PRELOAD");
    bool valgrind = preload && strstr(preload, "vgpreload") != NULL;
    if (valgrind) printf("     running under valgrind: checking only that reported features are in /proc/cpuinfo\n");
    int agree = 0;
    for (int i = 0; i < n; i++) {
        bool reported = accel_hw_cpu_has(hw, names[i]);
        bool kernel = has_flag(&facts, names[i]);
        bool ok = valgrind ? (!reported || kernel) : reported == kernel;
        check(ok, "feature %-20s reported=%d /proc/cpuinfo=%d", names[i], reported, kernel);
        agree += ok;
    }
    check(n == 0 || agree == n, "all %d mapped ISA features agree with /proc/cpuinfo", n);
    for (int i = 0; i < cpu->feature_count; i++) {
        bool in_table = false;
        for (int j = 0; j < n; j++) in_table = in_table || strcmp(cpu->features[i], names[j]) == 0;
        if (!in_table) check(false, "reported feature %s is not in the table", cpu->features[i]);
    }
    if (cpu->feature_count > 0) {
        char upper[64];
        snprintf(upper, sizeof upper, "%s", cpu->features[0]);
        for (char *c = upper; *c; c++) *c = (char)toupper((unsigned char)*c);
        check(accel_hw_cpu_has(hw, upper), "accel_hw_cpu_has ignores case (%s)", upper);
    }
    check(!accel_hw_cpu_has(hw, "no_such_feature") && !accel_hw_cpu_has(hw, NULL),
          "accel_hw_cpu_has is false for unknown names and NULL");

    const accel_hw_device *d0 = accel_hw_device_get(hw, 0);
    check(d0 && d0->kind == ACCEL_HW_CPU && d0->compute_units == cpu->logical_cores && strcmp(d0->type, "cpu") == 0,
          "device 0 is the CPU");
}

/* ---- JSON checks -------------------------------------------------------------------------------------------- */

static bool json_int_is(const cJSON *obj, const char *key, double expected) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) && item->valuedouble == expected;
}

static bool json_str_is(const cJSON *obj, const char *key, const char *expected) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) && strcmp(item->valuestring, expected ? expected : "") == 0;
}

static void test_json(accel_hw *hw) {
    const char *text = accel_hw_json(hw);
    check(text != NULL, "accel_hw_json returns text");
    if (!text) return;
    check(accel_hw_json(hw) == text, "accel_hw_json returns the same text on a second call");
    cJSON *root = cJSON_Parse(text);
    check(root && cJSON_IsObject(root), "accel_hw_json is valid JSON (cJSON) with an object at the top");
    if (!root) return;

    const accel_cpu_info *cpu = accel_hw_cpu(hw);
    const cJSON *jcpu = cJSON_GetObjectItemCaseSensitive(root, "cpu");
    check(cJSON_IsObject(jcpu), "\"cpu\" is an object");
    check(json_str_is(jcpu, "vendor", cpu->vendor) && json_str_is(jcpu, "model", cpu->model) &&
              json_str_is(jcpu, "arch", cpu->arch),
          "cpu vendor, model, arch match the API");
    check(json_int_is(jcpu, "physical_cores", cpu->physical_cores) &&
              json_int_is(jcpu, "logical_cores", cpu->logical_cores) && json_int_is(jcpu, "sockets", cpu->sockets),
          "cpu core and socket counts match the API");
    const cJSON *caches = cJSON_GetObjectItemCaseSensitive(jcpu, "caches");
    check(cJSON_IsObject(caches) && json_int_is(caches, "l1d_bytes", (double)cpu->cache_l1d_bytes) &&
              json_int_is(caches, "l2_bytes", (double)cpu->cache_l2_bytes) &&
              json_int_is(caches, "l3_bytes", (double)cpu->cache_l3_bytes),
          "cpu caches object matches the API");
    const cJSON *memory = cJSON_GetObjectItemCaseSensitive(jcpu, "memory");
    check(cJSON_IsObject(memory) && json_int_is(memory, "total_bytes", (double)cpu->memory_total_bytes) &&
              json_int_is(memory, "available_bytes", (double)cpu->memory_available_bytes),
          "cpu memory object matches the API");
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(jcpu, "features");
    bool features_ok = cJSON_IsArray(features) && cJSON_GetArraySize(features) == cpu->feature_count;
    for (int i = 0; features_ok && i < cpu->feature_count; i++) {
        const cJSON *f = cJSON_GetArrayItem(features, i);
        features_ok = cJSON_IsString(f) && strcmp(f->valuestring, cpu->features[i]) == 0;
    }
    check(features_ok, "cpu features array lists the API's %d features in order", cpu->feature_count);

    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    int n = accel_hw_device_count(hw);
    check(cJSON_IsArray(devices) && cJSON_GetArraySize(devices) == n, "\"devices\" is an array of %d", n);
    bool devices_ok = cJSON_IsArray(devices);
    for (int i = 0; devices_ok && i < n; i++) {
        const accel_hw_device *d = accel_hw_device_get(hw, i);
        const cJSON *jd = cJSON_GetArrayItem(devices, i);
        devices_ok = cJSON_IsObject(jd) && json_str_is(jd, "kind", accel_hw_kind_name(d->kind)) &&
                     json_int_is(jd, "index", d->index) && json_str_is(jd, "name", d->name) &&
                     json_str_is(jd, "vendor", d->vendor) && json_str_is(jd, "type", d->type) &&
                     json_str_is(jd, "driver", d->driver) && json_str_is(jd, "platform", d->platform) &&
                     json_int_is(jd, "memory_bytes", (double)d->memory_bytes) &&
                     json_int_is(jd, "compute_units", d->compute_units) && json_int_is(jd, "cc_major", d->cc_major) &&
                     json_int_is(jd, "cc_minor", d->cc_minor);
    }
    check(devices_ok, "every device object has kind, index, name, vendor, type, driver, platform, memory_bytes, "
                      "compute_units, cc_major, cc_minor matching the API");

    const cJSON *probes = cJSON_GetObjectItemCaseSensitive(root, "probes");
    check(cJSON_IsObject(probes) && cJSON_GetArraySize(probes) == ACCEL_HW_KIND_COUNT,
          "\"probes\" is an object with one entry per kind (%d)", ACCEL_HW_KIND_COUNT);
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        const accel_hw_probe *p = accel_hw_probe_get(hw, (accel_hw_kind)k);
        const char *name = accel_hw_kind_name((accel_hw_kind)k);
        const cJSON *jp = cJSON_GetObjectItemCaseSensitive(probes, name);
        const cJSON *avail = cJSON_GetObjectItemCaseSensitive(jp, "available");
        int listed = 0;
        for (int i = 0; i < n; i++) listed += accel_hw_device_get(hw, i)->kind == (accel_hw_kind)k;
        check(p && cJSON_IsObject(jp) && cJSON_IsBool(avail) && cJSON_IsTrue(avail) == p->available &&
                  json_str_is(jp, "reason", p->reason) && json_int_is(jp, "device_count", p->device_count) &&
                  p->device_count == listed,
              "probes.%s: available/reason/device_count match the API and the %d listed device(s)", name, listed);
    }
    cJSON_Delete(root);
}

/* ---- Probe checks ------------------------------------------------------------------------------------------- */

static void test_probes(const accel_hw *hw) {
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        const accel_hw_probe *p = accel_hw_probe_get(hw, (accel_hw_kind)k);
        check(p && p->kind == (accel_hw_kind)k && (p->available ? p->reason[0] == '\0' : p->reason[0] != '\0'),
              "probe %-8s %s%s", accel_hw_kind_name((accel_hw_kind)k),
              p && p->available ? "available" : "not available: ", p && !p->available ? p->reason : "");
    }

    const accel_hw_probe *cuda = accel_hw_probe_get(hw, ACCEL_HW_CUDA);
    if (!path_exists("/dev/nvidia0")) {
        check(!cuda->available && strlen(cuda->reason) > 0,
              "no /dev/nvidia0: CUDA is not available, with a reason (%s)", cuda->reason);
    } else {
        void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (lib) {
            check(cuda->available && cuda->device_count > 0,
                  "/dev/nvidia0 and libcuda.so.1 present: CUDA is available with >= 1 device (%s)", cuda->reason);
            for (int i = 0; i < accel_hw_device_count(hw); i++) {
                const accel_hw_device *d = accel_hw_device_get(hw, i);
                if (d->kind != ACCEL_HW_CUDA) continue;
                check(d->name[0] && d->memory_bytes > 0 && d->compute_units > 0 && d->cc_major > 0,
                      "cuda:%d %s: memory %llu, %d SMs, cc %d.%d", d->index, d->name,
                      (unsigned long long)d->memory_bytes, d->compute_units, d->cc_major, d->cc_minor);
            }
        } else {
            printf("     /dev/nvidia0 exists but libcuda.so.1 does not load: CUDA reason: %s\n", cuda->reason);
            check(!cuda->available && strstr(cuda->reason, "libcuda.so.1") != NULL,
                  "CUDA not available and the reason names libcuda.so.1");
        }
    }

    const accel_hw_probe *cl = accel_hw_probe_get(hw, ACCEL_HW_OPENCL);
    void *ocl = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (ocl && path_exists("/etc/OpenCL/vendors/pocl.icd")) {
        int cpu_devices = 0;
        for (int i = 0; i < accel_hw_device_count(hw); i++) {
            const accel_hw_device *d = accel_hw_device_get(hw, i);
            if (d->kind == ACCEL_HW_OPENCL && strcmp(d->type, "cpu") == 0) {
                cpu_devices++;
                printf("     opencl:%d %s (%s, %s)\n", d->index, d->name, d->platform, d->driver);
            }
        }
        check(cl->available && cl->device_count >= 1 && cpu_devices >= 1,
              "PoCL installed: OpenCL is available and lists a CPU device (%d)", cpu_devices);
    } else {
        printf("     (libOpenCL.so.1 or PoCL not installed: OpenCL says: %s)\n",
               cl->available ? "available" : cl->reason);
        if (!ocl) check(!cl->available && strstr(cl->reason, "libOpenCL.so.1") != NULL,
                        "no libOpenCL.so.1: OpenCL not available and the reason names the library");
    }
    /* The libraries stay loaded on purpose (see probe_cuda.c); dlclose would only drop our reference. */
    if (ocl) dlclose(ocl);

    const accel_hw_probe *webgpu = accel_hw_probe_get(hw, ACCEL_HW_WEBGPU);
#ifndef ACCEL_WEBGPU
    check(!webgpu->available && strstr(webgpu->reason, "not built") != NULL, "webgpu: backend not built");
#else
    (void)webgpu;
#endif
#ifndef __APPLE__
    const accel_hw_probe *metal = accel_hw_probe_get(hw, ACCEL_HW_METAL);
    check(!metal->available && strstr(metal->reason, "macOS") != NULL, "metal: only on macOS");
#endif
}

/* Same answers from forked probes and from in-process probes. */
static void test_modes_agree(const accel_hw *isolated) {
    accel_detect_params params = accel_detect_default_params();
    params.isolate_probes = false;
    accel_hw *inproc = NULL;
    accel_status st = accel_detect(&params, &inproc);
    check(st == ACCEL_OK && inproc, "accel_detect in-process succeeds");
    if (!inproc) return;
    bool same = true;
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        const accel_hw_probe *a = accel_hw_probe_get(isolated, (accel_hw_kind)k);
        const accel_hw_probe *b = accel_hw_probe_get(inproc, (accel_hw_kind)k);
        bool eq = a->available == b->available && a->device_count == b->device_count &&
                  strcmp(a->reason, b->reason) == 0;
        if (!eq) printf("     %s: isolated '%s' vs in-process '%s'\n", accel_hw_kind_name((accel_hw_kind)k),
                        a->reason, b->reason);
        same = same && eq;
    }
    check(same, "isolated and in-process probes agree (available, reason, device count)");
    same = accel_hw_device_count(isolated) == accel_hw_device_count(inproc);
    for (int i = 0; same && i < accel_hw_device_count(isolated); i++) {
        const accel_hw_device *a = accel_hw_device_get(isolated, i), *b = accel_hw_device_get(inproc, i);
        same = a->kind == b->kind && a->index == b->index && strcmp(a->name, b->name) == 0 &&
               strcmp(a->vendor, b->vendor) == 0 && strcmp(a->driver, b->driver) == 0 &&
               strcmp(a->platform, b->platform) == 0 && strcmp(a->type, b->type) == 0 &&
               a->memory_bytes == b->memory_bytes && a->compute_units == b->compute_units &&
               a->cc_major == b->cc_major && a->cc_minor == b->cc_minor;
    }
    check(same, "isolated and in-process device lists are identical (%d devices)", accel_hw_device_count(inproc));
    const accel_cpu_info *a = accel_hw_cpu(isolated), *b = accel_hw_cpu(inproc);
    check(a->physical_cores == b->physical_cores && a->logical_cores == b->logical_cores &&
              a->feature_count == b->feature_count && strcmp(a->model, b->model) == 0,
          "CPU facts agree between the two runs");
    accel_hw_free(inproc);
}

/* ---- The child-process runner ------------------------------------------------------------------------------- */

typedef struct child_result {
    long pid;
    int value;
} child_result;

static void child_reports(void *arg, void *result) {
    child_result *r = result;
    r->pid = (long)getpid();
    r->value = *(int *)arg * 2;
}

static void child_sleeps(void *arg, void *result) {
    (void)result;
    sleep(*(unsigned *)arg);
}

static void child_crashes(void *arg, void *result) {
    (void)arg;
    (void)result;
    raise(SIGSEGV);
}

static void child_aborts(void *arg, void *result) {
    (void)arg;
    (void)result;
    abort();
}

static void child_exits(void *arg, void *result) {
    (void)result;
    _exit(*(int *)arg);
}

/* True when this process has no child left (nothing to reap, no zombie). */
static bool no_children_left(void) {
    errno = 0;
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void test_runner(void) {
    char why[256];
    child_result r;
    int input = 21;
    accel_status st = hw_run_in_child(child_reports, &input, &r, sizeof r, 5000, why, sizeof why);
    check(st == ACCEL_OK && r.value == 42 && r.pid != (long)getpid() && r.pid > 0,
          "runner: the result computed in a child process (pid %ld, ours %ld) comes back", r.pid, (long)getpid());

    unsigned seconds = 30;
    double t0 = now_s();
    st = hw_run_in_child(child_sleeps, &seconds, &r, sizeof r, 300, why, sizeof why);
    double elapsed = now_s() - t0;
    check(st == ACCEL_ERR_DEVICE && strcmp(why, "timed out after 300 ms") == 0 && elapsed < 5.0,
          "runner: a child sleeping 30 s is stopped after 300 ms ('%s', %.2f s)", why, elapsed);
    check(no_children_left(), "runner: the timed-out child was killed and reaped");

    st = hw_run_in_child(child_crashes, NULL, &r, sizeof r, 5000, why, sizeof why);
    check(st == ACCEL_ERR_DEVICE && strncmp(why, "probe crashed with signal 11", 28) == 0,
          "runner: a segfaulting child is reported as a crash ('%s')", why);
    check(r.pid == 0 && r.value == 0, "runner: a failed run leaves the result zeroed");

    st = hw_run_in_child(child_aborts, NULL, &r, sizeof r, 5000, why, sizeof why);
    check(st == ACCEL_ERR_DEVICE && strncmp(why, "probe crashed with signal 6", 27) == 0,
          "runner: an aborting child is reported as a crash ('%s')", why);

    int code = 7;
    st = hw_run_in_child(child_exits, &code, &r, sizeof r, 5000, why, sizeof why);
    check(st == ACCEL_ERR_DEVICE && strcmp(why, "probe exited with status 7") == 0,
          "runner: a child exiting with status 7 is reported ('%s')", why);

    code = 0;
    st = hw_run_in_child(child_exits, &code, &r, sizeof r, 5000, why, sizeof why);
    check(st == ACCEL_ERR_DEVICE && strncmp(why, "probe sent 0 of", 15) == 0,
          "runner: a child exiting 0 without a result is reported ('%s')", why);

    st = hw_run_in_child(child_reports, &input, &r, sizeof r, 0, why, sizeof why);
    check(st == ACCEL_ERR_INVALID_ARG, "runner: a timeout of 0 ms is rejected");
    check(no_children_left(), "runner: no child process is left behind");
}

/* ---- API edge cases ----------------------------------------------------------------------------------------- */

static void test_api_edges(const accel_hw *hw) {
    accel_hw_free(NULL);
    check(true, "accel_hw_free(NULL) is a no-op");
    accel_detect_params p = accel_detect_default_params();
    check(p.isolate_probes && p.probe_timeout_ms == 10000, "default params: isolated, 10000 ms");
    accel_clear_error();
    check(accel_detect(&p, NULL) == ACCEL_ERR_INVALID_ARG && accel_last_error()[0] != '\0',
          "accel_detect(params, NULL) is ACCEL_ERR_INVALID_ARG with a message");
    p.probe_timeout_ms = 0;
    accel_hw *bad = (accel_hw *)&p; /* must be overwritten with NULL */
    check(accel_detect(&p, &bad) == ACCEL_ERR_INVALID_ARG && bad == NULL,
          "a probe timeout of 0 is ACCEL_ERR_INVALID_ARG and *out is NULL");
    check(accel_hw_device_get(hw, -1) == NULL && accel_hw_device_get(hw, accel_hw_device_count(hw)) == NULL,
          "accel_hw_device_get out of range is NULL");
    check(accel_hw_probe_get(hw, ACCEL_HW_KIND_COUNT) == NULL && accel_hw_probe_get(NULL, ACCEL_HW_CPU) == NULL,
          "accel_hw_probe_get with a bad kind or NULL handle is NULL");
    check(accel_hw_json(NULL) == NULL && accel_hw_cpu(NULL) == NULL && accel_hw_device_count(NULL) == 0,
          "accessors accept a NULL handle");
    bool names_ok = strcmp(accel_hw_kind_name(ACCEL_HW_KIND_COUNT), "?") == 0;
    for (int a = 0; a < ACCEL_HW_KIND_COUNT; a++)
        for (int b = a + 1; b < ACCEL_HW_KIND_COUNT; b++)
            names_ok = names_ok && strcmp(accel_hw_kind_name((accel_hw_kind)a), accel_hw_kind_name((accel_hw_kind)b));
    check(names_ok, "kind names are distinct, and \"?\" for an invalid kind");

    accel_hw *again = NULL;
    check(accel_detect(NULL, &again) == ACCEL_OK && again, "accel_detect(NULL params) uses the defaults");
    accel_hw_free(again);
}

int main(void) {
    accel_hw *hw = NULL;
    double t0 = now_s();
    accel_status st = accel_detect(NULL, &hw);
    check(st == ACCEL_OK && hw, "accel_detect with default (isolated) params succeeds in %.2f s", now_s() - t0);
    if (!hw) {
        printf("accel_detect failed: %s\n", accel_last_error());
        return 1;
    }
    test_cpu(hw);
    test_json(hw);
    test_probes(hw);
    test_modes_agree(hw);
    test_runner();
    test_api_edges(hw);
    accel_hw_free(hw);
    if (g_failures) printf("%d check(s) failed\n", g_failures);
    else printf("all checks passed\n");
    return g_failures ? 1 : 0;
}
