/* CPU detection: vendor, model, topology, caches, memory and ISA features.
 *
 * ISA features come from the CPU itself (CPUID on x86, the kernel's HWCAP auxiliary vector on aarch64), and an
 * x86 feature that needs extended register state (AVX's YMM, AVX-512's ZMM and mask registers, AMX tiles) is only
 * reported when the OS saves that state (XCR0 via XGETBV): otherwise using it would fault. Feature names use the
 * Linux kernel's spelling so they can be compared with /proc/cpuinfo directly.
 *
 * Topology, caches and memory come from /sys/devices/system/cpu, /proc/cpuinfo and /proc/meminfo.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, strsignal, strdup, getauxval; CMake also defines it */
#endif
#include "hw/hw_internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define HW_X86 1
#include <cpuid.h>
#endif

#if defined(__aarch64__) && defined(__linux__)
#define HW_AARCH64 1
#include <sys/auxv.h>
#endif

/* ---- Small file helpers ------------------------------------------------------------------------------------- */

/* Reads the first line of a small file (sysfs attribute) into buf, without the trailing newline/space. */
static bool read_line(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "re");
    if (!f) return false;
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (!ok) return false;
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1])) buf[--n] = '\0';
    return true;
}

static bool read_long(const char *path, long *out) {
    char buf[64], *end;
    if (!read_line(path, buf, sizeof buf)) return false;
    long v = strtol(buf, &end, 10);
    if (end == buf) return false;
    *out = v;
    return true;
}

/* "48K", "2048K", "1M", "32768" -> bytes; 0 if unparsable. */
static uint64_t parse_cache_size(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': return (uint64_t)v << 10;
    case 'M': return (uint64_t)v << 20;
    case 'G': return (uint64_t)v << 30;
    default: return (uint64_t)v;
    }
}

/* Value of the first "key : value" line of /proc/cpuinfo whose key is exactly `key`. */
static bool cpuinfo_value(const char *key, char *val, size_t cap) {
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f) return false;
    char line[4096];
    size_t klen = strlen(key);
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0) continue;
        const char *p = line + klen;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != ':') continue;
        hw_copy_str(val, cap, p + 1);
        found = true;
    }
    fclose(f);
    return found;
}

/* ---- CPU lists ("0-3,8,10-11") ------------------------------------------------------------------------------ */

/* Parses a kernel cpulist into a malloc'ed array; returns the count (0 on error or empty). */
static int parse_cpulist(const char *s, int **out) {
    int n = 0, cap = 0;
    int *cpus = NULL;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10);
        if (end == p || a < 0) break;
        long b = a;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a) break;
            p = end;
        }
        for (long c = a; c <= b && c < INT_MAX; c++) {
            if (n == cap) {
                int ncap = cap ? cap * 2 : 64;
                int *grown = realloc(cpus, (size_t)ncap * sizeof *cpus);
                if (!grown) {
                    free(cpus);
                    *out = NULL;
                    return 0;
                }
                cpus = grown;
                cap = ncap;
            }
            cpus[n++] = (int)c;
        }
        if (*p == ',') p++;
        else break;
    }
    *out = cpus;
    return n;
}

/* ---- Topology ----------------------------------------------------------------------------------------------- */

/* A small set of (a, b) pairs: distinct (package, core) pairs, or packages with b = 0. */
typedef struct pair_set {
    long (*items)[2];
    int n, cap;
    bool oom;
} pair_set;

static void pair_set_add(pair_set *s, long a, long b) {
    for (int i = 0; i < s->n; i++)
        if (s->items[i][0] == a && s->items[i][1] == b) return;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        long(*grown)[2] = realloc(s->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            s->oom = true;
            return;
        }
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->n][0] = a;
    s->items[s->n][1] = b;
    s->n++;
}

/* Counts distinct (package, core) pairs and distinct packages among the given CPUs from sysfs. Returns false if
 * sysfs has no topology for them. */
static bool topology_from_sysfs(const int *cpus, int n, int *cores, int *sockets) {
    pair_set core_set = {0}, pkg_set = {0};
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        char path[128];
        long pkg, core;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpus[i]);
        ok = read_long(path, &pkg);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpus[i]);
        ok = ok && read_long(path, &core);
        if (ok) {
            pair_set_add(&core_set, pkg, core);
            pair_set_add(&pkg_set, pkg, 0);
        }
    }
    ok = ok && !core_set.oom && !pkg_set.oom && core_set.n > 0;
    if (ok) {
        *cores = core_set.n;
        *sockets = pkg_set.n;
    }
    free(core_set.items);
    free(pkg_set.items);
    return ok;
}

/* Same from /proc/cpuinfo's "physical id" / "core id" lines, or "cpu cores" per socket when those are absent. */
static bool topology_from_cpuinfo(int *cores, int *sockets) {
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f) return false;
    pair_set core_set = {0}, pkg_set = {0};
    long pkg = -1, cpu_cores = 0, v;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "physical id : %ld", &v) == 1) {
            pkg = v;
            pair_set_add(&pkg_set, v, 0);
        } else if (sscanf(line, "core id : %ld", &v) == 1 && pkg >= 0) {
            pair_set_add(&core_set, pkg, v);
        } else if (sscanf(line, "cpu cores : %ld", &v) == 1) {
            cpu_cores = v;
        }
    }
    fclose(f);
    bool ok = !core_set.oom && !pkg_set.oom;
    if (ok && core_set.n > 0) {
        *cores = core_set.n;
        *sockets = pkg_set.n;
    } else if (ok && cpu_cores > 0) {
        *sockets = pkg_set.n > 0 ? pkg_set.n : 1;
        *cores = (int)cpu_cores * *sockets;
    } else {
        ok = false;
    }
    free(core_set.items);
    free(pkg_set.items);
    return ok;
}

static void detect_topology(hw_cpu *cpu) {
    char online[1024];
    int *cpus = NULL, n = 0;
    if (read_line("/sys/devices/system/cpu/online", online, sizeof online)) n = parse_cpulist(online, &cpus);
    if (n > 0) cpu->logical_cores = n;
    else {
        long v = sysconf(_SC_NPROCESSORS_ONLN);
        cpu->logical_cores = v > 0 ? (int)v : 1;
    }
    int cores = 0, sockets = 0;
    if ((n > 0 && topology_from_sysfs(cpus, n, &cores, &sockets)) || topology_from_cpuinfo(&cores, &sockets)) {
        cpu->physical_cores = cores;
        cpu->sockets = sockets;
    } else {
        /* Nothing says how logical CPUs pair up: count each as a core rather than guess an SMT width. */
        cpu->physical_cores = cpu->logical_cores;
        cpu->sockets = 1;
    }
    free(cpus);
}

/* ---- Caches ------------------------------------------------------------------------------------------------- */

/* L1d and L2 of cpu0 (per core / per cluster), and the total of all distinct L3 instances over the online CPUs
 * (an instance is identified by the CPUs that share it). */
static void detect_caches(hw_cpu *cpu) {
    char online[1024];
    int *cpus = NULL, n = 0;
    if (read_line("/sys/devices/system/cpu/online", online, sizeof online)) n = parse_cpulist(online, &cpus);
    char seen_l3[64][256];
    int n_l3 = 0;
    for (int i = 0; i < n; i++) {
        for (int idx = 0; idx < 16; idx++) {
            char base[128], path[192], type[32], size[32], shared[256];
            long level;
            snprintf(base, sizeof base, "/sys/devices/system/cpu/cpu%d/cache/index%d", cpus[i], idx);
            snprintf(path, sizeof path, "%s/level", base);
            if (!read_long(path, &level)) break;
            snprintf(path, sizeof path, "%s/type", base);
            if (!read_line(path, type, sizeof type)) continue;
            snprintf(path, sizeof path, "%s/size", base);
            if (!read_line(path, size, sizeof size)) continue;
            uint64_t bytes = parse_cache_size(size);
            if (i == 0 && level == 1 && strcmp(type, "Data") == 0) cpu->l1d_bytes = bytes;
            if (i == 0 && level == 2 && strcmp(type, "Instruction") != 0) cpu->l2_bytes = bytes;
            if (level == 3 && n_l3 < 64) {
                snprintf(path, sizeof path, "%s/shared_cpu_list", base);
                if (!read_line(path, shared, sizeof shared)) snprintf(shared, sizeof shared, "cpu%d", cpus[i]);
                bool seen = false;
                for (int k = 0; k < n_l3 && !seen; k++) seen = strcmp(seen_l3[k], shared) == 0;
                if (!seen) {
                    memcpy(seen_l3[n_l3++], shared, sizeof shared);
                    cpu->l3_bytes += bytes;
                }
            }
        }
    }
    free(cpus);
    /* Without sysfs, glibc knows the sizes of one instance on some architectures. */
#ifdef _SC_LEVEL1_DCACHE_SIZE
    long v;
    if (cpu->l1d_bytes == 0 && (v = sysconf(_SC_LEVEL1_DCACHE_SIZE)) > 0) cpu->l1d_bytes = (uint64_t)v;
    if (cpu->l2_bytes == 0 && (v = sysconf(_SC_LEVEL2_CACHE_SIZE)) > 0) cpu->l2_bytes = (uint64_t)v;
    if (cpu->l3_bytes == 0 && (v = sysconf(_SC_LEVEL3_CACHE_SIZE)) > 0) cpu->l3_bytes = (uint64_t)v;
#endif
}

/* ---- Memory ------------------------------------------------------------------------------------------------- */

static void detect_memory(hw_cpu *cpu) {
    struct sysinfo si;
    if (sysinfo(&si) == 0) {
        cpu->mem_total_bytes = (uint64_t)si.totalram * si.mem_unit;
        /* Fallback for kernels without MemAvailable: free plus buffers undercounts reclaimable cache. */
        cpu->mem_available_bytes = ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;
    }
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f) return;
    char line[256];
    unsigned long long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) cpu->mem_available_bytes = (uint64_t)kb * 1024;
        else if (cpu->mem_total_bytes == 0 && sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            cpu->mem_total_bytes = (uint64_t)kb * 1024;
    }
    fclose(f);
}

/* ---- ISA features: x86 -------------------------------------------------------------------------------------- */

#ifdef HW_X86

enum { EAX, EBX, ECX, EDX };
enum { OS_NONE, OS_AVX, OS_AVX512, OS_AMX }; /* register state the OS must save (XCR0 bits) */

typedef struct x86_feature {
    const char *name; /* kernel spelling */
    unsigned leaf, subleaf;
    int reg, bit;
    int os;           /* OS_* */
    const char *dep;  /* feature that must also be present (the kernel's cpuid-deps), or NULL */
} x86_feature;

/* Order: roughly by generation, so the list reads naturally. A dependency always precedes its dependents. */
static const x86_feature x86_features[] = {
    {"sse", 1, 0, EDX, 25, OS_NONE, NULL},
    {"sse2", 1, 0, EDX, 26, OS_NONE, NULL},
    {"ssse3", 1, 0, ECX, 9, OS_NONE, NULL},
    {"sse4_1", 1, 0, ECX, 19, OS_NONE, NULL},
    {"sse4_2", 1, 0, ECX, 20, OS_NONE, NULL},
    {"popcnt", 1, 0, ECX, 23, OS_NONE, NULL},
    {"aes", 1, 0, ECX, 25, OS_NONE, NULL},
    {"pclmulqdq", 1, 0, ECX, 1, OS_NONE, NULL},
    {"avx", 1, 0, ECX, 28, OS_AVX, NULL},
    {"f16c", 1, 0, ECX, 29, OS_AVX, "avx"},
    {"fma", 1, 0, ECX, 12, OS_AVX, "avx"},
    {"bmi1", 7, 0, EBX, 3, OS_NONE, NULL},
    {"bmi2", 7, 0, EBX, 8, OS_NONE, NULL},
    {"avx2", 7, 0, EBX, 5, OS_AVX, "avx"},
    {"sha_ni", 7, 0, EBX, 29, OS_NONE, NULL},
    {"gfni", 7, 0, ECX, 8, OS_NONE, NULL},
    {"vaes", 7, 0, ECX, 9, OS_AVX, "avx"},
    {"vpclmulqdq", 7, 0, ECX, 10, OS_AVX, "avx"},
    {"avx_vnni", 7, 1, EAX, 4, OS_AVX, "avx2"},
    {"avx_ifma", 7, 1, EAX, 23, OS_AVX, "avx2"},
    {"avx512f", 7, 0, EBX, 16, OS_AVX512, "avx"},
    {"avx512dq", 7, 0, EBX, 17, OS_AVX512, "avx512f"},
    {"avx512cd", 7, 0, EBX, 28, OS_AVX512, "avx512f"},
    {"avx512bw", 7, 0, EBX, 30, OS_AVX512, "avx512f"},
    {"avx512vl", 7, 0, EBX, 31, OS_AVX512, "avx512f"},
    {"avx512ifma", 7, 0, EBX, 21, OS_AVX512, "avx512f"},
    {"avx512vbmi", 7, 0, ECX, 1, OS_AVX512, "avx512f"},
    {"avx512_vbmi2", 7, 0, ECX, 6, OS_AVX512, "avx512vl"},
    {"avx512_vnni", 7, 0, ECX, 11, OS_AVX512, "avx512vl"},
    {"avx512_bitalg", 7, 0, ECX, 12, OS_AVX512, "avx512vl"},
    {"avx512_vpopcntdq", 7, 0, ECX, 14, OS_AVX512, "avx512f"},
    {"avx512_vp2intersect", 7, 0, EDX, 8, OS_AVX512, "avx512vl"},
    {"avx512_bf16", 7, 1, EAX, 5, OS_AVX512, "avx512vl"},
    {"avx512_fp16", 7, 0, EDX, 23, OS_AVX512, "avx512bw"},
    {"amx_tile", 7, 0, EDX, 24, OS_AMX, NULL},
    {"amx_bf16", 7, 0, EDX, 22, OS_AMX, "amx_tile"},
    {"amx_int8", 7, 0, EDX, 25, OS_AMX, "amx_tile"},
    {"amx_fp16", 7, 1, EAX, 21, OS_AMX, "amx_tile"},
};
#define N_X86_FEATURES (int)(sizeof x86_features / sizeof x86_features[0])
_Static_assert(sizeof x86_features / sizeof x86_features[0] <= HW_MAX_CPU_FEATURES, "raise HW_MAX_CPU_FEATURES");

/* XCR0: which register state the OS saves on context switch. Only valid when CPUID says OSXSAVE. */
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void x86_detect(hw_cpu *cpu) {
    unsigned r[4];
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf == 0) return;

    __cpuid(0, r[EAX], r[EBX], r[ECX], r[EDX]);
    char vendor[13];
    memcpy(vendor, &r[EBX], 4);
    memcpy(vendor + 4, &r[EDX], 4);
    memcpy(vendor + 8, &r[ECX], 4);
    vendor[12] = '\0';
    hw_copy_str(cpu->vendor, sizeof cpu->vendor, vendor);

    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        char brand[49];
        for (unsigned i = 0; i < 3; i++) {
            __cpuid(0x80000002u + i, r[EAX], r[EBX], r[ECX], r[EDX]);
            memcpy(brand + 16 * i, r, 16);
        }
        brand[48] = '\0';
        hw_copy_str(cpu->model, sizeof cpu->model, brand);
    }

    /* Leaves 1, 7.0 and 7.1, read once. */
    unsigned regs[3][4] = {{0}};
    __cpuid_count(1, 0, regs[0][EAX], regs[0][EBX], regs[0][ECX], regs[0][EDX]);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, regs[1][EAX], regs[1][EBX], regs[1][ECX], regs[1][EDX]);
        if (regs[1][EAX] >= 1) __cpuid_count(7, 1, regs[2][EAX], regs[2][EBX], regs[2][ECX], regs[2][EDX]);
    }

    uint64_t xcr0 = 0;
    bool osxsave = (regs[0][ECX] >> 27) & 1;
    if (osxsave) xcr0 = read_xcr0();
    bool os_ok[4];
    os_ok[OS_NONE] = true;
    os_ok[OS_AVX] = (xcr0 & 0x6) == 0x6;                         /* XMM | YMM */
    os_ok[OS_AVX512] = os_ok[OS_AVX] && (xcr0 & 0xe0) == 0xe0;   /* opmask | ZMM_Hi256 | Hi16_ZMM */
    os_ok[OS_AMX] = (xcr0 & (3ull << 17)) == (3ull << 17);       /* XTILECFG | XTILEDATA */

    bool present[N_X86_FEATURES];
    for (int i = 0; i < N_X86_FEATURES; i++) {
        const x86_feature *f = &x86_features[i];
        const unsigned *set = f->leaf == 1 ? regs[0] : f->subleaf == 0 ? regs[1] : regs[2];
        bool has = ((set[f->reg] >> f->bit) & 1) && os_ok[f->os];
        if (has && f->dep) {
            bool dep = false;
            for (int j = 0; j < i; j++)
                if (strcmp(x86_features[j].name, f->dep) == 0) dep = present[j];
            has = dep;
        }
        present[i] = has;
        if (has && cpu->feature_count < HW_MAX_CPU_FEATURES) cpu->features[cpu->feature_count++] = f->name;
    }
}

const char *hw_cpu_feature_name(int i) { return i >= 0 && i < N_X86_FEATURES ? x86_features[i].name : NULL; }

#endif /* HW_X86 */

/* ---- ISA features: aarch64 ---------------------------------------------------------------------------------- */

#ifdef HW_AARCH64

/* Bits of AT_HWCAP / AT_HWCAP2 (arch/arm64/include/uapi/asm/hwcap.h; a stable kernel ABI). */
typedef struct arm_feature {
    const char *name; /* kernel spelling ("asimd" is NEON) */
    int word;         /* 1 = AT_HWCAP, 2 = AT_HWCAP2 */
    int bit;
} arm_feature;

static const arm_feature arm_features[] = {
    {"fp", 1, 0},        {"asimd", 1, 1},     {"aes", 1, 3},       {"pmull", 1, 4},     {"sha1", 1, 5},
    {"sha2", 1, 6},      {"crc32", 1, 7},     {"atomics", 1, 8},   {"fphp", 1, 9},      {"asimdhp", 1, 10},
    {"asimdrdm", 1, 12}, {"asimddp", 1, 20},  {"sha512", 1, 21},   {"sve", 1, 22},      {"asimdfhm", 1, 23},
    {"sve2", 2, 1},      {"svei8mm", 2, 9},   {"svebf16", 2, 12},  {"i8mm", 2, 13},     {"bf16", 2, 14},
    {"sme", 2, 23},
};
#define N_ARM_FEATURES (int)(sizeof arm_features / sizeof arm_features[0])
_Static_assert(sizeof arm_features / sizeof arm_features[0] <= HW_MAX_CPU_FEATURES, "raise HW_MAX_CPU_FEATURES");

/* CPU implementer codes of MIDR_EL1, as /proc/cpuinfo prints them. */
static const char *arm_implementer_name(long code) {
    switch (code) {
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x43: return "Cavium";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x50: return "APM";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0x69: return "Intel";
    case 0x6d: return "Microsoft";
    case 0xc0: return "Ampere";
    default: return NULL;
    }
}

/* A few common Arm Ltd. core designs (implementer 0x41). */
static const char *arm_part_name(long part) {
    switch (part) {
    case 0xd03: return "Cortex-A53";
    case 0xd05: return "Cortex-A55";
    case 0xd08: return "Cortex-A72";
    case 0xd0b: return "Cortex-A76";
    case 0xd0c: return "Neoverse-N1";
    case 0xd40: return "Neoverse-V1";
    case 0xd49: return "Neoverse-N2";
    case 0xd4f: return "Neoverse-V2";
    case 0xd84: return "Neoverse-V3";
    case 0xd8e: return "Neoverse-N3";
    default: return NULL;
    }
}

static void aarch64_detect(hw_cpu *cpu) {
    unsigned long caps[3] = {0, getauxval(AT_HWCAP), getauxval(AT_HWCAP2)};
    for (int i = 0; i < N_ARM_FEATURES; i++) {
        const arm_feature *f = &arm_features[i];
        if (((caps[f->word] >> f->bit) & 1) && cpu->feature_count < HW_MAX_CPU_FEATURES)
            cpu->features[cpu->feature_count++] = f->name;
    }
    char val[256];
    long impl = -1, part = -1;
    if (cpuinfo_value("CPU implementer", val, sizeof val)) impl = strtol(val, NULL, 0);
    if (cpuinfo_value("CPU part", val, sizeof val)) part = strtol(val, NULL, 0);
    const char *vendor = arm_implementer_name(impl);
    if (vendor) hw_copy_str(cpu->vendor, sizeof cpu->vendor, vendor);
    else if (impl >= 0) snprintf(cpu->vendor, sizeof cpu->vendor, "implementer 0x%02lx", impl);
    const char *part_name = impl == 0x41 ? arm_part_name(part) : NULL;
    if (part_name) hw_copy_str(cpu->model, sizeof cpu->model, part_name);
    else if (part >= 0) snprintf(cpu->model, sizeof cpu->model, "%s part 0x%03lx", vendor ? vendor : "CPU", part);
}

const char *hw_cpu_feature_name(int i) { return i >= 0 && i < N_ARM_FEATURES ? arm_features[i].name : NULL; }

#endif /* HW_AARCH64 */

#if !defined(HW_X86) && !defined(HW_AARCH64)
const char *hw_cpu_feature_name(int i) {
    (void)i;
    return NULL;
}
#endif

/* ---- Entry point -------------------------------------------------------------------------------------------- */

void hw_cpu_detect(hw_cpu *cpu) {
    memset(cpu, 0, sizeof *cpu);
    struct utsname un;
    if (uname(&un) == 0) hw_copy_str(cpu->arch, sizeof cpu->arch, un.machine);

#if defined(HW_X86)
    x86_detect(cpu);
#elif defined(HW_AARCH64)
    aarch64_detect(cpu);
#endif
    /* Other architectures (and anything CPUID did not say) from /proc/cpuinfo's own words. */
    char val[256];
    if (cpu->vendor[0] == '\0' && cpuinfo_value("vendor_id", val, sizeof val))
        hw_copy_str(cpu->vendor, sizeof cpu->vendor, val);
    static const char *const model_keys[] = {"model name", "cpu model", "uarch", "cpu", "Processor"};
    for (size_t i = 0; i < sizeof model_keys / sizeof model_keys[0] && cpu->model[0] == '\0'; i++)
        if (cpuinfo_value(model_keys[i], val, sizeof val)) hw_copy_str(cpu->model, sizeof cpu->model, val);

    detect_topology(cpu);
    detect_caches(cpu);
    detect_memory(cpu);
}

static hw_cpu g_cached_cpu;
static pthread_once_t g_cached_cpu_once = PTHREAD_ONCE_INIT;
static void detect_cached_cpu(void) { hw_cpu_detect(&g_cached_cpu); }

const hw_cpu *hw_cpu_cached(void) {
    pthread_once(&g_cached_cpu_once, detect_cached_cpu);
    return &g_cached_cpu;
}

int accel_physical_cores(void) {
    int n = hw_cpu_cached()->physical_cores;
    return n > 0 ? n : 1;
}
