/* accel detect — what hardware this machine has, as a readable table or as JSON. */
#include "accel.h"
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRAP_COLUMNS 100 /* features are wrapped to fit this width */

static void usage(FILE *f) {
    fprintf(f, "usage: accel detect [--json] [--no-isolate] [--timeout-ms N]\n"
               "\n"
               "Detects the CPU (model, cores, caches, memory, ISA features) and probes every accelerator runtime\n"
               "(CUDA, HIP, OpenCL, OpenVINO, WebGPU, Metal).\n"
               "\n"
               "  --json          print the result as JSON\n"
               "  --no-isolate    run driver probes in this process instead of a child process each\n"
               "  --timeout-ms N  give each isolated probe N milliseconds (default 10000)\n"
               "  --help          show this help\n");
}

/* Columns a UTF-8 string takes (code points; good enough for names and versions). */
static int display_width(const char *s) {
    int n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Prints s left-aligned in a field of width columns ("-" for an empty string). */
static void print_cell(const char *s, int width) {
    if (!s || !*s) s = "-";
    fputs(s, stdout);
    for (int pad = width - display_width(s); pad > 0; pad--) putchar(' ');
}

/* Prints s right-aligned in a field of width columns. */
static void print_cell_right(const char *s, int width) {
    for (int pad = width - display_width(s); pad > 0; pad--) putchar(' ');
    fputs(s, stdout);
}

/* "23.5 GiB", "48 KiB"; "" for 0 (unknown). */
static void format_bytes(uint64_t bytes, char *buf, size_t cap) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes == 0) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (v == (double)(uint64_t)v) snprintf(buf, cap, "%llu %s", (unsigned long long)v, units[u]);
    else snprintf(buf, cap, "%.1f %s", v, units[u]);
}

static void print_cpu(const accel_cpu_info *c) {
    char a[32], b[32], d[32];
    printf("CPU\n");
    printf("  %-10s %s\n", "vendor", *c->vendor ? c->vendor : "-");
    printf("  %-10s %s\n", "model", *c->model ? c->model : "-");
    printf("  %-10s %s\n", "arch", *c->arch ? c->arch : "-");
    printf("  %-10s %d physical, %d logical, %d socket%s\n", "cores", c->physical_cores, c->logical_cores,
           c->sockets, c->sockets == 1 ? "" : "s");
    format_bytes(c->cache_l1d_bytes, a, sizeof a);
    format_bytes(c->cache_l2_bytes, b, sizeof b);
    format_bytes(c->cache_l3_bytes, d, sizeof d);
    printf("  %-10s L1d %s per core, L2 %s per core, L3 %s total\n", "caches", *a ? a : "-", *b ? b : "-",
           *d ? d : "-");
    format_bytes(c->memory_total_bytes, a, sizeof a);
    format_bytes(c->memory_available_bytes, b, sizeof b);
    printf("  %-10s %s total, %s available\n", "memory", *a ? a : "-", *b ? b : "-");

    /* Features, wrapped at word boundaries under the value column. */
    const int indent = 13;
    printf("  %-10s ", "features");
    if (c->feature_count == 0) printf("-");
    int col = indent;
    for (int i = 0; i < c->feature_count; i++) {
        int w = (int)strlen(c->features[i]);
        if (i > 0 && col + 1 + w > WRAP_COLUMNS) {
            printf("\n%*s", indent, "");
            col = indent;
        } else if (i > 0) {
            putchar(' ');
            col++;
        }
        fputs(c->features[i], stdout);
        col += w;
    }
    printf("\n");
}

enum { COL_KIND, COL_INDEX, COL_TYPE, COL_NAME, COL_VENDOR, COL_MEMORY, COL_UNITS, COL_CC, COL_PLATFORM, COL_DRIVER,
       N_COLS };

/* The cells of one device row (or the header when d is NULL), written into cells[N_COLS][128]. */
static void device_cells(const accel_hw_device *d, char cells[N_COLS][128]) {
    static const char *const header[N_COLS] = {"KIND",  "#",  "TYPE",     "NAME",  "VENDOR",
                                               "MEMORY", "UNITS", "CC", "PLATFORM", "DRIVER"};
    if (!d) {
        for (int i = 0; i < N_COLS; i++) snprintf(cells[i], 128, "%s", header[i]);
        return;
    }
    snprintf(cells[COL_KIND], 128, "%s", accel_hw_kind_name(d->kind));
    snprintf(cells[COL_INDEX], 128, "%d", d->index);
    snprintf(cells[COL_TYPE], 128, "%s", d->type ? d->type : "");
    snprintf(cells[COL_NAME], 128, "%s", d->name ? d->name : "");
    snprintf(cells[COL_VENDOR], 128, "%s", d->vendor ? d->vendor : "");
    format_bytes(d->memory_bytes, cells[COL_MEMORY], 128);
    if (d->compute_units > 0) snprintf(cells[COL_UNITS], 128, "%d", d->compute_units);
    else cells[COL_UNITS][0] = '\0';
    if (d->cc_major > 0) snprintf(cells[COL_CC], 128, "%d.%d", d->cc_major, d->cc_minor);
    else cells[COL_CC][0] = '\0';
    snprintf(cells[COL_PLATFORM], 128, "%s", d->platform ? d->platform : "");
    snprintf(cells[COL_DRIVER], 128, "%s", d->driver ? d->driver : "");
}

static void print_devices(const accel_hw *hw) {
    int n = accel_hw_device_count(hw);
    int width[N_COLS] = {0};
    char cells[N_COLS][128];
    for (int r = -1; r < n; r++) {
        device_cells(r < 0 ? NULL : accel_hw_device_get(hw, r), cells);
        for (int i = 0; i < N_COLS; i++) {
            int w = display_width(cells[i][0] ? cells[i] : "-");
            if (w > width[i]) width[i] = w;
        }
    }
    printf("\nDevices\n");
    for (int r = -1; r < n; r++) {
        device_cells(r < 0 ? NULL : accel_hw_device_get(hw, r), cells);
        printf("  ");
        for (int i = 0; i < N_COLS; i++) {
            bool numeric = i == COL_INDEX || i == COL_MEMORY || i == COL_UNITS;
            const char *s = cells[i][0] ? cells[i] : "-";
            if (numeric) print_cell_right(s, width[i]);
            else if (i == N_COLS - 1) fputs(s, stdout); /* no trailing padding */
            else print_cell(s, width[i]);
            if (i < N_COLS - 1) printf("  ");
        }
        printf("\n");
    }
}

static void print_probes(const accel_hw *hw) {
    int width = 0;
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        int w = (int)strlen(accel_hw_kind_name((accel_hw_kind)k));
        if (w > width) width = w;
    }
    printf("\nProbes\n");
    for (int k = 0; k < ACCEL_HW_KIND_COUNT; k++) {
        const accel_hw_probe *p = accel_hw_probe_get(hw, (accel_hw_kind)k);
        if (!p) continue;
        printf("  %-*s  ", width, accel_hw_kind_name(p->kind));
        if (p->available)
            printf("available (%d device%s)\n", p->device_count, p->device_count == 1 ? "" : "s");
        else printf("not available: %s\n", p->reason);
    }
}

int accel_cmd_detect(int argc, char **argv) {
    bool json = false;
    accel_detect_params params = accel_detect_default_params();
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--json") == 0) {
            json = true;
        } else if (strcmp(arg, "--no-isolate") == 0) {
            params.isolate_probes = false;
        } else if (strcmp(arg, "--timeout-ms") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "accel detect: --timeout-ms needs a value\n");
                return 2;
            }
            value = argv[++i];
        } else if (strncmp(arg, "--timeout-ms=", 13) == 0) {
            value = arg + 13;
        } else {
            fprintf(stderr, "accel detect: unknown option '%s'\n\n", arg);
            usage(stderr);
            return 2;
        }
        if (value) {
            char *end;
            errno = 0;
            long ms = strtol(value, &end, 10);
            if (errno != 0 || end == value || *end != '\0' || ms <= 0 || ms > INT_MAX) {
                fprintf(stderr, "accel detect: --timeout-ms wants a positive number of milliseconds, not '%s'\n",
                        value);
                return 2;
            }
            params.probe_timeout_ms = (int)ms;
        }
    }

    accel_hw *hw = NULL;
    accel_status st = accel_detect(&params, &hw);
    if (st != ACCEL_OK) {
        fprintf(stderr, "accel detect: %s (%s)\n", accel_last_error(), accel_status_name(st));
        return 1;
    }
    if (json) {
        const char *text = accel_hw_json(hw);
        if (!text) {
            fprintf(stderr, "accel detect: %s\n", accel_last_error());
            accel_hw_free(hw);
            return 1;
        }
        printf("%s\n", text);
    } else {
        print_cpu(accel_hw_cpu(hw));
        print_devices(hw);
        print_probes(hw);
    }
    accel_hw_free(hw);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "accel detect: writing the output failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
