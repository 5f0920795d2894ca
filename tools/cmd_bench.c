/* accel bench — latency and throughput of a text model on random token ids (src/bench/text_bench.h does the
 * measuring; this file parses options and prints a table, or one JSON object per configuration with --json). */
#include "accel.h"
#include "bench/text_bench.h"
#include "cli_model.h"
#include "commands.h"
#include "core/threadpool.h"
#include "hw/hw_internal.h"
#include "hw/json_writer.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BATCHES 32

static void usage(FILE *f) {
    fprintf(f,
            "usage: accel bench <model-dir> [options]\n"
            "\n"
            "Measures a model on seeded random token ids (no special tokens; ids drawn from the first non-special id\n"
            "to the vocabulary size, full attention mask). Embedding models time the encoder with pooling;\n"
            "seq2seq models time greedy generation of exactly --generate new tokens per row.\n"
            "For each batch size: one cold call (\"first\"), --warmup untimed calls, then --iters timed calls\n"
            "(or until --seconds have passed).\n"
            "\n"
            "  --batch LIST     comma-separated batch sizes (default 1)\n"
            "  --tokens N       input tokens per row (default 128)\n"
            "  --generate N     new tokens per row for seq2seq models (default 32)\n"
            "  --warmup W       untimed calls after the first (default 1)\n"
            "  --iters N        timed calls (default 10; with --seconds and no --iters: no count limit)\n"
            "  --seconds S      stop timing a configuration after S seconds (at least one call)\n"
            "  --threads T      CPU threads (default: physical cores)\n"
            "  --device NAME    prefer this device (see `accel devices`); the CPU stays as the per-op fallback\n"
            "  --seed N         seed of the random ids (default 42)\n"
            "  --json           one JSON object per configuration, one line each\n"
            "  --emit-ids       with --json: include input_ids (and generated output_ids) in each object\n"
            "  --help           show this help\n");
}

typedef struct bench_opts {
    const char *dir;
    int64_t batches[MAX_BATCHES];
    int n_batches;
    int64_t tokens;
    int generate; /* 0 = not given */
    int warmup, iters;
    bool iters_given;
    double seconds;
    int threads;
    const char *device;
    uint64_t seed;
    bool json, emit_ids;
} bench_opts;

/* "1,8": positive integers separated by single commas (no empty items). */
static bool parse_batches(const char *s, bench_opts *o) {
    o->n_batches = 0;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        char item[32];
        long long v;
        if (len == 0 || len >= sizeof item || o->n_batches == MAX_BATCHES) return false;
        memcpy(item, s, len);
        item[len] = '\0';
        if (!cli_parse_int(item, 1, 1 << 20, &v)) return false;
        o->batches[o->n_batches++] = v;
        if (!comma) return true;
        s = comma + 1;
    }
}

/* Returns 0 to go on, else the exit status (help: 0 via *done). */
static int parse_args(int argc, char **argv, bench_opts *o, bool *done) {
    *done = false;
    o->batches[0] = 1;
    o->n_batches = 1;
    o->tokens = 128;
    o->warmup = 1;
    o->iters = 10;
    o->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            *done = true;
            return 0;
        }
        if (strcmp(arg, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(arg, "--emit-ids") == 0) {
            o->emit_ids = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (o->dir) {
                fprintf(stderr, "accel bench: one model directory expected, got '%s' and '%s'\n", o->dir, arg);
                return 2;
            }
            o->dir = arg;
            continue;
        }
        /* options with a value: --name V or --name=V */
        static const char *const with_value[] = {"--batch", "--tokens", "--generate", "--warmup", "--iters",
                                                 "--seconds", "--threads", "--device", "--seed"};
        const char *name = NULL, *value = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
            size_t len = strlen(with_value[k]);
            if (strcmp(arg, with_value[k]) == 0) {
                name = with_value[k];
                if (i + 1 >= argc) {
                    fprintf(stderr, "accel bench: %s needs a value\n", name);
                    return 2;
                }
                value = argv[++i];
            } else if (strncmp(arg, with_value[k], len) == 0 && arg[len] == '=') {
                name = with_value[k];
                value = arg + len + 1;
            }
            if (name) break;
        }
        if (!name) {
            fprintf(stderr, "accel bench: unknown option '%s'\n\n", arg);
            usage(stderr);
            return 2;
        }
        long long v = 0;
        bool ok = true;
        if (strcmp(name, "--batch") == 0) {
            ok = parse_batches(value, o);
        } else if (strcmp(name, "--device") == 0) {
            ok = *value != '\0';
            o->device = value;
        } else if (strcmp(name, "--seconds") == 0) {
            char *end;
            errno = 0;
            o->seconds = strtod(value, &end);
            ok = errno == 0 && end != value && *end == '\0' && o->seconds > 0.0 && isfinite(o->seconds);
        } else if (strcmp(name, "--tokens") == 0) {
            if ((ok = cli_parse_int(value, 1, 1 << 20, &v))) o->tokens = v;
        } else if (strcmp(name, "--generate") == 0) {
            if ((ok = cli_parse_int(value, 1, 1 << 16, &v))) o->generate = (int)v;
        } else if (strcmp(name, "--warmup") == 0) {
            if ((ok = cli_parse_int(value, 0, 1 << 20, &v))) o->warmup = (int)v;
        } else if (strcmp(name, "--iters") == 0) {
            if ((ok = cli_parse_int(value, 1, 1 << 24, &v))) o->iters = (int)v;
            o->iters_given = true;
        } else if (strcmp(name, "--threads") == 0) {
            if ((ok = cli_parse_int(value, 1, 4096, &v))) o->threads = (int)v;
        } else if (strcmp(name, "--seed") == 0) {
            if ((ok = cli_parse_int(value, 0, LLONG_MAX, &v))) o->seed = (uint64_t)v;
        }
        if (!ok) {
            fprintf(stderr, "accel bench: invalid value '%s' for %s\n", value, name);
            return 2;
        }
    }
    if (!o->dir) {
        fprintf(stderr, "accel bench: a model directory is required\n\n");
        usage(stderr);
        return 2;
    }
    if (o->seconds > 0.0 && !o->iters_given) o->iters = 0; /* by time only */
    if (o->emit_ids && !o->json) {
        fprintf(stderr, "accel bench: --emit-ids needs --json\n");
        return 2;
    }
    return 0;
}

/* ---- output ------------------------------------------------------------------------------------------------------ */

typedef struct run_info {
    const bench_opts *o;
    accel_model *model;
    accel_task task;
    int threads;
    double load_ms; /* model load + session, as cli_model_open measures it */
    int32_t id_lo, id_hi;
} run_info;

static void json_ids(accel_json_writer *w, const char *key, const int32_t *ids, int64_t rows, int64_t cols) {
    accel_json_key(w, key);
    accel_json_array_begin(w);
    for (int64_t r = 0; r < rows; r++) {
        accel_json_array_begin(w);
        for (int64_t c = 0; c < cols; c++) accel_json_int(w, ids[r * cols + c]);
        accel_json_array_end(w);
    }
    accel_json_array_end(w);
}

static int print_json(const run_info *ri, const bench_text_result *r) {
    const accel_stats *l = &r->latency_ms;
    accel_json_writer w;
    accel_json_init(&w, 0);
    accel_json_object_begin(&w);
    accel_json_key(&w, "tool");
    accel_json_string(&w, "accel bench");
    accel_json_key(&w, "accel_version");
    accel_json_string(&w, accel_version());
    accel_json_key(&w, "build");
    accel_json_string(&w, accel_build_info());
    accel_json_key(&w, "model_dir");
    accel_json_string(&w, ri->o->dir);
    accel_json_key(&w, "family");
    accel_json_string(&w, accel_model_family(ri->model));
    accel_json_key(&w, "architecture");
    accel_json_string(&w, accel_model_architecture(ri->model));
    accel_json_key(&w, "task");
    accel_json_string(&w, r->task == ACCEL_TASK_EMBED ? "embed" : "seq2seq");
    accel_json_key(&w, "cpu");
    accel_json_string(&w, hw_cpu_cached()->model);
    accel_json_key(&w, "device");
    accel_json_string(&w, r->devices_used);
    accel_json_key(&w, "threads");
    accel_json_int(&w, ri->threads);
    accel_json_key(&w, "batch");
    accel_json_int(&w, r->batch);
    accel_json_key(&w, "tokens");
    accel_json_int(&w, r->tokens);
    if (r->task == ACCEL_TASK_SEQ2SEQ) {
        accel_json_key(&w, "new_tokens");
        accel_json_int(&w, r->new_tokens);
    }
    accel_json_key(&w, "seed");
    accel_json_uint(&w, ri->o->seed);
    accel_json_key(&w, "id_range");
    accel_json_array_begin(&w);
    accel_json_int(&w, ri->id_lo);
    accel_json_int(&w, ri->id_hi);
    accel_json_array_end(&w);
    accel_json_key(&w, "warmup");
    accel_json_int(&w, ri->o->warmup);
    accel_json_key(&w, "iters");
    accel_json_int(&w, (int64_t)l->n);
    accel_json_key(&w, "load_ms");
    accel_json_double(&w, ri->load_ms);
    accel_json_key(&w, "first_ms");
    accel_json_double(&w, r->first_ms);
    accel_json_key(&w, "latency_ms");
    accel_json_object_begin(&w);
    const char *names[] = {"mean", "stddev", "p50", "p90", "p99", "min", "max"};
    const double vals[] = {l->mean, l->stddev, l->p50, l->p90, l->p99, l->min, l->max};
    for (int i = 0; i < 7; i++) {
        accel_json_key(&w, names[i]);
        accel_json_double(&w, vals[i]);
    }
    accel_json_object_end(&w);
    accel_json_key(&w, "timed_s");
    accel_json_double(&w, r->timed_s);
    accel_json_key(&w, "items_per_s");
    accel_json_double(&w, r->items_per_s);
    if (r->task == ACCEL_TASK_EMBED) {
        accel_json_key(&w, "tokens_per_s");
        accel_json_double(&w, r->tokens_per_s);
    } else {
        accel_json_key(&w, "new_tokens_per_s");
        accel_json_double(&w, r->new_tokens_per_s);
    }
    accel_json_key(&w, "peak_rss_bytes");
    accel_json_int(&w, r->peak_rss_bytes);
    if (r->input_ids) json_ids(&w, "input_ids", r->input_ids, r->batch, r->tokens);
    if (r->output_ids) json_ids(&w, "output_ids", r->output_ids, r->batch, (int64_t)r->new_tokens + 1);
    accel_json_object_end(&w);
    char *text = NULL;
    if (accel_json_finish(&w, &text) != ACCEL_OK) {
        fprintf(stderr, "accel bench: %s\n", accel_last_error());
        return 1;
    }
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    return 0;
}

static void print_header(const run_info *ri) {
    printf("model    %s (%s, %s)\n", ri->o->dir, accel_model_architecture(ri->model),
           ri->task == ACCEL_TASK_EMBED ? "embedding" : "seq2seq generation, greedy");
    printf("load     %.1f ms (model and session)\n", ri->load_ms);
    printf("threads  %d   cpu %s\n", ri->threads, hw_cpu_cached()->model);
    printf("inputs   random ids in [%d, %d), seed %llu, warm-up %d\n\n", ri->id_lo, ri->id_hi,
           (unsigned long long)ri->o->seed, ri->o->warmup);
    printf("%5s %6s %4s %5s %9s %9s %9s %9s %9s %9s %9s %10s %10s %9s  %s\n", "batch", "tokens", "new", "iters",
           "first ms", "mean ms", "p50 ms", "p90 ms", "p99 ms", "min ms", "max ms", "items/s",
           ri->task == ACCEL_TASK_EMBED ? "tokens/s" : "new tok/s", "peak RSS", "device");
}

static void print_row(const bench_text_result *r) {
    const accel_stats *l = &r->latency_ms;
    char newt[16];
    snprintf(newt, sizeof newt, "%d", r->new_tokens);
    printf("%5lld %6lld %4s %5zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10.2f %10.1f %6.0f MiB  %s\n",
           (long long)r->batch, (long long)r->tokens, r->task == ACCEL_TASK_SEQ2SEQ ? newt : "-", l->n, r->first_ms,
           l->mean, l->p50, l->p90, l->p99, l->min, l->max, r->items_per_s,
           r->task == ACCEL_TASK_EMBED ? r->tokens_per_s : r->new_tokens_per_s,
           (double)r->peak_rss_bytes / (1024.0 * 1024.0), r->devices_used[0] ? r->devices_used : "-");
    fflush(stdout);
}

typedef struct progress_ctx {
    int64_t batch;
} progress_ctx;

static void progress(void *user, int done, int limit, double elapsed_s) {
    const progress_ctx *p = user;
    if (limit > 0) fprintf(stderr, "\r[bench] batch %lld: %d/%d timed calls, %.1f s ", (long long)p->batch, done, limit,
                           elapsed_s);
    else fprintf(stderr, "\r[bench] batch %lld: %d timed calls, %.1f s ", (long long)p->batch, done, elapsed_s);
    fflush(stderr);
}

int accel_cmd_bench(int argc, char **argv) {
    bench_opts o = {0};
    bool done;
    int rc = parse_args(argc, argv, &o, &done);
    if (rc != 0 || done) return rc;

    run_info ri = {0};
    ri.o = &o;
    ri.threads = o.threads > 0 ? o.threads : accel_physical_cores();
    accel_session *s = NULL;
    cli_model_opts mo = {o.dir, o.device, o.threads};
    if (!cli_model_open("bench", &mo, &ri.model, &s, &ri.load_ms)) return 1;
    accel_status st = bench_text_task(ri.model, &ri.task);
    if (st == ACCEL_OK) st = bench_text_id_range(ri.model, &ri.id_lo, &ri.id_hi);
    if (st == ACCEL_OK && o.generate > 0 && ri.task != ACCEL_TASK_SEQ2SEQ) {
        fprintf(stderr, "accel bench: --generate needs a seq2seq model; %s is an embedding model\n", o.dir);
        rc = 2;
        goto out;
    }
    int64_t max_tokens = accel_model_max_tokens(ri.model);
    if (st == ACCEL_OK && max_tokens > 0 && o.tokens > max_tokens) {
        fprintf(stderr, "accel bench: --tokens %lld: %lld tokens per row, the model takes at most %lld\n",
                (long long)o.tokens, (long long)o.tokens, (long long)max_tokens);
        rc = 1;
        goto out;
    }
    if (st != ACCEL_OK) {
        fprintf(stderr, "accel bench: %s (%s)\n", accel_last_error(), accel_status_name(st));
        rc = 1;
        goto out;
    }

    bool show_progress = isatty(STDERR_FILENO);
    if (!o.json) print_header(&ri);
    for (int i = 0; i < o.n_batches; i++) {
        progress_ctx pc = {o.batches[i]};
        bench_text_config cfg = {0};
        cfg.batch = o.batches[i];
        cfg.tokens = o.tokens;
        cfg.new_tokens = o.generate > 0 ? o.generate : 32;
        cfg.warmup = o.warmup;
        cfg.iters = o.iters;
        cfg.seconds = o.seconds;
        cfg.seed = o.seed;
        cfg.keep_ids = o.emit_ids;
        if (show_progress) {
            cfg.progress = progress;
            cfg.progress_user = &pc;
            fprintf(stderr, "\r[bench] batch %lld: first call and warm-up ", (long long)cfg.batch);
            fflush(stderr);
        }
        bench_text_result r;
        st = bench_text_run(s, &cfg, &r);
        if (show_progress) fprintf(stderr, "\r\033[K");
        if (st != ACCEL_OK) {
            fprintf(stderr, "accel bench: batch %lld: %s (%s)\n", (long long)cfg.batch, accel_last_error(),
                    accel_status_name(st));
            rc = 1;
            goto out;
        }
        if (o.json) rc = print_json(&ri, &r);
        else print_row(&r);
        bench_text_result_free(&r);
        if (rc != 0) goto out;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "accel bench: writing the output failed: %s\n", strerror(errno));
        rc = 1;
    }
out:
    accel_session_free(s);
    accel_model_free(ri.model);
    return rc;
}
