/* accel bench — latency and throughput of a text model on random token ids (src/bench/text_bench.h does the
 * measuring), and for causal LMs prefill + decode speed against the memory-bandwidth bound (src/bench/llm_bench.h).
 * This file parses options and prints a table, or one JSON object per configuration with --json. */
#include "accel.h"
#include "bench/llm_bench.h"
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
            "Causal LMs (LLaMA, Qwen2, Mistral) time a --prefill-token random prompt, then --decode greedy new\n"
            "tokens with EOS suppressed; the weight bytes one decode step reads and the memory bandwidth (a\n"
            "large copy and a large read, measured in this process right before) give the bound on decode\n"
            "tokens/s that the measured rate is reported against (docs/benchmarks.md).\n"
            "For each batch size: one cold call (\"first\"), --warmup untimed calls, then --iters timed calls\n"
            "(or until --seconds have passed).\n"
            "\n"
            "  --batch LIST     comma-separated batch sizes (default 1)\n"
            "  --tokens N       embedding and seq2seq models: input tokens per row (default 128)\n"
            "  --generate N     new tokens per row for seq2seq models (default 32)\n"
            "  --prefill N      causal LMs: prompt tokens per sequence (default 128)\n"
            "  --decode N       causal LMs: new tokens per sequence, >= 2 (default 128)\n"
            "  --bandwidth-mib M  causal LMs: size of each bandwidth buffer (default 1024; 0 = not measured)\n"
            "  --warmup W       untimed calls after the first (default 1; causal LMs 0)\n"
            "  --iters N        timed calls (default 10, causal LMs 3; with --seconds and no --iters: no count\n"
            "                   limit)\n"
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
    int64_t prefill; /* causal LMs; 0 = not given */
    int decode;      /* causal LMs; 0 = not given */
    long long bandwidth_mib; /* -1 = not given */
    bool tokens_given;
    int warmup, iters;
    bool iters_given, warmup_given;
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
    o->bandwidth_mib = -1;
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
        static const char *const with_value[] = {"--batch",   "--tokens",  "--generate", "--warmup",
                                                 "--iters",   "--seconds", "--threads",  "--device",
                                                 "--seed",    "--prefill", "--decode",   "--bandwidth-mib"};
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
            o->tokens_given = true;
        } else if (strcmp(name, "--generate") == 0) {
            if ((ok = cli_parse_int(value, 1, 1 << 16, &v))) o->generate = (int)v;
        } else if (strcmp(name, "--prefill") == 0) {
            if ((ok = cli_parse_int(value, 1, 1 << 20, &v))) o->prefill = v;
        } else if (strcmp(name, "--decode") == 0) {
            if ((ok = cli_parse_int(value, 2, 1 << 20, &v))) o->decode = (int)v;
        } else if (strcmp(name, "--bandwidth-mib") == 0) {
            /* 0 = off; else at least 1 MiB (bench_membw_measure's minimum), at most 64 GiB */
            if ((ok = cli_parse_int(value, 0, 1 << 16, &v))) o->bandwidth_mib = v;
        } else if (strcmp(name, "--warmup") == 0) {
            if ((ok = cli_parse_int(value, 0, 1 << 20, &v))) o->warmup = (int)v;
            o->warmup_given = true;
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

/* ---- causal LMs -------------------------------------------------------------------------------------------------- */

static void json_stats(accel_json_writer *w, const char *key, const accel_stats *l) {
    accel_json_key(w, key);
    accel_json_object_begin(w);
    const char *names[] = {"mean", "stddev", "p50", "p90", "p99", "min", "max"};
    const double vals[] = {l->mean, l->stddev, l->p50, l->p90, l->p99, l->min, l->max};
    for (int i = 0; i < 7; i++) {
        accel_json_key(w, names[i]);
        accel_json_double(w, vals[i]);
    }
    accel_json_object_end(w);
}

static void json_key_double(accel_json_writer *w, const char *key, double v) {
    accel_json_key(w, key);
    accel_json_double(w, v);
}

static void json_key_int(accel_json_writer *w, const char *key, int64_t v) {
    accel_json_key(w, key);
    accel_json_int(w, v);
}

static int print_llm_json(const run_info *ri, const bench_llm_result *r) {
    accel_json_writer w;
    accel_json_init(&w, 0);
    accel_json_object_begin(&w);
    const char *strings[][2] = {{"tool", "accel bench"},
                                {"accel_version", accel_version()},
                                {"build", accel_build_info()},
                                {"model_dir", ri->o->dir},
                                {"family", accel_model_family(ri->model)},
                                {"architecture", accel_model_architecture(ri->model)},
                                {"task", "text-generation"},
                                {"cpu", hw_cpu_cached()->model},
                                {"device", r->devices_used},
                                {"timing", r->streamed ? "per-token" : "per-call"}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        accel_json_key(&w, strings[i][0]);
        accel_json_string(&w, strings[i][1]);
    }
    json_key_int(&w, "threads", ri->threads);
    json_key_int(&w, "batch", r->batch);
    json_key_int(&w, "prefill_tokens", r->prefill);
    json_key_int(&w, "decode_tokens", r->decode);
    accel_json_key(&w, "seed");
    accel_json_uint(&w, ri->o->seed);
    accel_json_key(&w, "id_range");
    accel_json_array_begin(&w);
    accel_json_int(&w, ri->id_lo);
    accel_json_int(&w, ri->id_hi);
    accel_json_array_end(&w);
    json_key_int(&w, "warmup", ri->o->warmup);
    json_key_int(&w, "iters", (int64_t)r->call_ms.n);
    json_key_double(&w, "load_ms", ri->load_ms);
    json_key_double(&w, "first_ms", r->first_ms);
    json_stats(&w, "call_ms", &r->call_ms);
    json_stats(&w, "prefill_ms", &r->prefill_ms);
    json_key_double(&w, "prefill_pass_ms", r->prefill_pass_ms);
    json_key_double(&w, "prefill_tokens_per_s", r->prefill_tokens_per_s);
    json_stats(&w, "step_ms", &r->step_ms);
    json_key_double(&w, "decode_tokens_per_s", r->decode_tokens_per_s);
    json_key_double(&w, "step_compute_ms", r->step_compute_ms);
    json_key_double(&w, "step_build_ms", r->step_build_ms);
    json_key_double(&w, "step_alloc_ms", r->step_alloc_ms);
    const bench_llm_weights *wt = &r->weights;
    json_key_int(&w, "weight_bytes_per_step", wt->bytes);
    json_key_int(&w, "weight_tensors", wt->tensors);
    json_key_int(&w, "weight_tensors_in_table", wt->in_table);
    accel_json_key(&w, "weight_bytes_by_dtype");
    accel_json_object_begin(&w);
    for (int d = 0; d < ACCEL_DTYPE_COUNT; d++)
        if (wt->bytes_by_dtype[d] > 0) json_key_int(&w, accel_dtype_name((accel_dtype)d), wt->bytes_by_dtype[d]);
    accel_json_object_end(&w);
    json_key_int(&w, "model_weight_bytes", wt->model_bytes);
    json_key_int(&w, "kv_bytes_last_step", wt->kv_bytes);
    json_key_int(&w, "kv_cache_bytes", r->kv_cache_bytes);
    accel_json_key(&w, "bandwidth");
    if (r->bandwidth_measured) {
        accel_json_object_begin(&w);
        json_key_int(&w, "buffer_bytes", (int64_t)r->bw.bytes);
        json_key_int(&w, "threads", r->bw.threads);
        json_key_int(&w, "reps", r->bw.reps);
        json_key_double(&w, "copy_gbps", r->bw.copy_gbps);
        json_key_double(&w, "copy_gbps_max", r->bw.copy_gbps_max);
        json_key_double(&w, "read_gbps", r->bw.read_gbps);
        json_key_double(&w, "read_gbps_max", r->bw.read_gbps_max);
        accel_json_key(&w, "read_isa");
        accel_json_string(&w, r->bw.read_isa);
        accel_json_object_end(&w);
    } else {
        accel_json_null(&w);
    }
    accel_json_key(&w, "bound_tokens_per_s");
    if (r->bandwidth_measured) accel_json_double(&w, r->bound_tokens_per_s);
    else accel_json_null(&w);
    accel_json_key(&w, "fraction_of_bound");
    if (r->bandwidth_measured) accel_json_double(&w, r->fraction_of_bound);
    else accel_json_null(&w);
    json_key_double(&w, "timed_s", r->timed_s);
    json_key_int(&w, "peak_rss_bytes", r->peak_rss_bytes);
    if (r->input_ids) json_ids(&w, "input_ids", r->input_ids, r->batch, r->prefill);
    if (r->output_ids) json_ids(&w, "output_ids", r->output_ids, r->batch, r->decode);
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

static void print_llm_header(const run_info *ri) {
    printf("model     %s (%s, causal LM: prefill, then greedy decode with EOS suppressed)\n", ri->o->dir,
           accel_model_architecture(ri->model));
    printf("load      %.1f ms (model and session)\n", ri->load_ms);
    printf("threads   %d   cpu %s\n", ri->threads, hw_cpu_cached()->model);
    printf("inputs    random prompt ids in [%d, %d), seed %llu, warm-up %d\n", ri->id_lo, ri->id_hi,
           (unsigned long long)ri->o->seed, ri->o->warmup);
}

static void print_llm_block(const bench_llm_result *r) {
    const double GB = 1e9, MiB = 1024.0 * 1024.0;
    const bench_llm_weights *w = &r->weights;
    printf("\nbatch %lld: %zu timed calls of %lld prompt + %d new tokens per sequence (first call %.2f s)\n",
           (long long)r->batch, r->call_ms.n, (long long)r->prefill, r->decode, r->first_ms * 1e-3);
    printf("  prefill   %.2f ms to the first token (p50; pass alone %.2f ms): %.1f tokens/s\n", r->prefill_ms.p50,
           r->prefill_pass_ms, r->prefill_tokens_per_s);
    printf("  decode    %.2f tokens/s; %s p50 %.3f ms, p90 %.3f, min %.3f, max %.3f "
           "(compute %.3f, graph %.4f, placement %.4f ms)\n",
           r->decode_tokens_per_s, r->streamed ? "step" : "step (mean per call)", r->step_ms.p50, r->step_ms.p90,
           r->step_ms.min, r->step_ms.max, r->step_compute_ms, r->step_build_ms, r->step_alloc_ms);
    printf("  weights   %.4f GB read per decode step: %d tensors (%d found in the weight table;", (double)w->bytes / GB,
           w->tensors, w->in_table);
    for (int d = 0; d < ACCEL_DTYPE_COUNT; d++)
        if (w->bytes_by_dtype[d] > 0)
            printf(" %s %.4f GB", accel_dtype_name((accel_dtype)d), (double)w->bytes_by_dtype[d] / GB);
    printf("); KV cache read %.2f MiB at the last step\n", (double)w->kv_bytes / MiB);
    if (r->bandwidth_measured) {
        printf("  memory    read %.2f GB/s (best %.2f; %s loads), copy %.2f GB/s read + write (best %.2f); %zu MiB "
               "buffers, %d threads, median of %d\n",
               r->bw.read_gbps, r->bw.read_gbps_max, r->bw.read_isa, r->bw.copy_gbps, r->bw.copy_gbps_max,
               r->bw.bytes >> 20, r->bw.threads, r->bw.reps);
        printf("  bound     %.2f tokens/s = %lld x %.2f GB/s / %.4f GB; ours = %.3f of the bound\n",
               r->bound_tokens_per_s, (long long)r->batch, r->bw.read_gbps, (double)w->bytes / GB,
               r->fraction_of_bound);
    } else {
        printf("  memory    not measured (--bandwidth-mib 0): no bound\n");
    }
    printf("  process   peak RSS %.0f MiB, KV cache %.1f MiB, device %s\n", (double)r->peak_rss_bytes / MiB,
           (double)r->kv_cache_bytes / MiB, r->devices_used[0] ? r->devices_used : "-");
    fflush(stdout);
}

static void llm_progress(void *user, int done, int limit, double elapsed_s) {
    const int64_t *batch = user;
    if (limit > 0) fprintf(stderr, "\r[bench] batch %lld: %d/%d timed calls, %.1f s ", (long long)*batch, done, limit,
                           elapsed_s);
    else fprintf(stderr, "\r[bench] batch %lld: %d timed calls, %.1f s ", (long long)*batch, done, elapsed_s);
    fflush(stderr);
}

/* Every batch size of a causal LM. Returns the exit status. */
static int run_llm(run_info *ri, accel_session *s) {
    const bench_opts *o = ri->o;
    const bool show_progress = isatty(STDERR_FILENO);
    if (!o->json) print_llm_header(ri);
    for (int i = 0; i < o->n_batches; i++) {
        int64_t batch = o->batches[i];
        bench_llm_config cfg = {0};
        cfg.batch = batch;
        cfg.prefill = o->prefill > 0 ? o->prefill : 128;
        cfg.decode = o->decode > 0 ? o->decode : 128;
        cfg.warmup = o->warmup;
        cfg.iters = o->iters;
        cfg.seconds = o->seconds;
        cfg.seed = o->seed;
        cfg.threads = ri->threads;
        cfg.bandwidth_bytes = (size_t)(o->bandwidth_mib < 0 ? 1024 : o->bandwidth_mib) << 20;
        cfg.bandwidth_reps = 5;
        cfg.keep_ids = o->emit_ids;
        if (show_progress) {
            cfg.progress = llm_progress;
            cfg.progress_user = &batch;
            fprintf(stderr, "\r[bench] batch %lld: first call, warm-up, bandwidth ", (long long)batch);
            fflush(stderr);
        }
        bench_llm_result r;
        accel_status st = bench_llm_run(s, &cfg, &r);
        if (show_progress) fprintf(stderr, "\r\033[K");
        if (st != ACCEL_OK) {
            fprintf(stderr, "accel bench: batch %lld: %s (%s)\n", (long long)batch, accel_last_error(),
                    accel_status_name(st));
            return 1;
        }
        int rc = 0;
        if (o->json) rc = print_llm_json(ri, &r);
        else print_llm_block(&r);
        bench_llm_result_free(&r);
        if (rc != 0) return rc;
    }
    return 0;
}

/* ---- text models ------------------------------------------------------------------------------------------------- */

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
    accel_status st;
    if (accel_model_supports(ri.model, ACCEL_TASK_TEXT_GENERATION)) {
        const char *text_only = o.tokens_given ? "--tokens" : o.generate > 0 ? "--generate" : NULL;
        if (text_only) {
            fprintf(stderr, "accel bench: %s is for embedding and seq2seq models; %s is a causal LM: use --prefill "
                            "and --decode\n", text_only, o.dir);
            rc = 2;
            goto out;
        }
        if (!o.iters_given && o.seconds == 0.0) o.iters = 3; /* a decode run is long: fewer calls by default */
        if (!o.warmup_given) o.warmup = 0;                    /* the cold call already warms everything up */
        st = bench_text_id_range(ri.model, &ri.id_lo, &ri.id_hi);
        if (st != ACCEL_OK) {
            fprintf(stderr, "accel bench: %s (%s)\n", accel_last_error(), accel_status_name(st));
            rc = 1;
            goto out;
        }
        rc = run_llm(&ri, s);
        goto flush;
    }
    if (o.prefill > 0 || o.decode > 0 || o.bandwidth_mib >= 0) {
        fprintf(stderr, "accel bench: %s is for causal LMs; %s is not one\n",
                o.prefill > 0 ? "--prefill" : o.decode > 0 ? "--decode" : "--bandwidth-mib", o.dir);
        rc = 2;
        goto out;
    }
    st = bench_text_task(ri.model, &ri.task);
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
flush:
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "accel bench: writing the output failed: %s\n", strerror(errno));
        rc = 1;
    }
out:
    accel_session_free(s);
    accel_model_free(ri.model);
    return rc;
}
