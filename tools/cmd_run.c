/* accel run — runs a model directory on texts: embedding models (BERT, sentence-transformers) print one vector
 * per text, seq2seq models (T5) print the generated text per input, causal LMs (LLaMA, Qwen2, Mistral) stream the
 * continuation of a prompt (or of a chat turn with --chat). A summary (device that ran, load and run time; for
 * causal LMs prefill and decode tokens per second) goes to stderr. */
#include "accel.h"
#include "cli_llm.h"
#include "cli_model.h"
#include "commands.h"
#include "hw/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREVIEW_VALUES 8  /* values shown per embedding without --json */
#define PREVIEW_BYTES 70  /* text shown per line without --json */

static void usage(FILE *f) {
    fprintf(f,
            "usage: accel run <model-dir> --text \"...\" [--text ...] [--file F] [options]\n"
            "       accel run <llm-dir> --prompt \"...\" [--chat] [--system \"...\"] [generation options]\n"
            "\n"
            "Runs a Hugging Face model directory on texts. Embedding models (BERT, sentence-transformers) print each\n"
            "text's embedding (its first values and norm; the pooling, normalization and length limit are the\n"
            "directory's sentence-transformers settings, else mean pooling); seq2seq models (T5) print the generated\n"
            "text for each input. Texts longer than the model's limit are truncated. Causal LMs (LLaMA, Qwen2,\n"
            "Mistral) stream the continuation of each prompt to stdout, then print prefill and decode speed to\n"
            "stderr; --chat renders the prompt as a user message with the model's chat template first.\n"
            "\n"
            "  --text T            a text (repeatable)\n"
            "  --file F            texts from a file, one per line (empty lines are skipped)\n"
            "  --json              print the results as JSON (full embedding vectors)\n"
            "  --device NAME       prefer this device (see `accel devices`); the CPU stays as the per-op fallback\n"
            "  --threads N         CPU threads (default: physical cores)\n"
            "  --max-new-tokens N  seq2seq: tokens to generate at most (default: the generation config)\n"
            "  --num-beams N       seq2seq: beam search width, 1 = greedy (default: the generation config)\n"
            "  --prompt T          causal LMs: a prompt (same as --text)\n"
            "  --chat              causal LMs: apply the chat template (user message, + --system)\n");
    cli_llm_usage(f);
    fprintf(f,
            "  --help              show this help\n"
            "\n"
            "A one-line summary (the devices that ran, load and run time) is printed to stderr.\n");
}

/* Prints at most max bytes of s, cut at a character boundary, on one line (newlines shown as spaces). */
static void print_preview(const char *s, size_t max) {
    size_t n = strlen(s);
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    for (size_t i = 0; i < n; i++) putchar(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    if (cut) fputs("...", stdout);
}

static int run_embed(accel_session *s, const accel_model *m, char **texts, int n, bool json, const char *dir,
                     double load_ms) {
    const int64_t dim = accel_model_embedding_dim(m);
    float *out = malloc(sizeof(float) * (size_t)n * (size_t)dim);
    if (!out) {
        fprintf(stderr, "accel run: out of memory\n");
        return 1;
    }
    const double t0 = cli_now_ms();
    accel_status st = accel_embed(s, (const char *const *)texts, n, NULL, out, (size_t)n * (size_t)dim);
    const double run_ms = cli_now_ms() - t0;
    if (st != ACCEL_OK) {
        free(out);
        return cli_fail("run", "embedding failed", st);
    }
    if (json) {
        accel_json_writer w;
        cli_json_begin_run(&w, dir, m, "embed", s, load_ms, run_ms);
        accel_json_key(&w, "dim");
        accel_json_int(&w, dim);
        accel_json_key(&w, "results");
        accel_json_array_begin(&w);
        for (int i = 0; i < n; i++) {
            accel_json_object_begin(&w);
            accel_json_key(&w, "text");
            accel_json_string(&w, texts[i]);
            accel_json_key(&w, "embedding");
            accel_json_array_begin(&w);
            for (int64_t j = 0; j < dim; j++) accel_json_double(&w, out[(size_t)i * (size_t)dim + (size_t)j]);
            accel_json_array_end(&w);
            accel_json_object_end(&w);
        }
        accel_json_array_end(&w);
        accel_json_object_end(&w);
        char *text = NULL;
        if (accel_json_finish(&w, &text) != ACCEL_OK) {
            free(out);
            return cli_fail("run", "writing JSON", ACCEL_ERR_OUT_OF_MEMORY);
        }
        printf("%s\n", text);
        free(text);
    } else {
        for (int i = 0; i < n; i++) {
            const float *v = out + (size_t)i * (size_t)dim;
            double ss = 0;
            for (int64_t j = 0; j < dim; j++) ss += (double)v[j] * v[j];
            printf("[%d] ", i);
            print_preview(texts[i], PREVIEW_BYTES);
            printf("\n    dim %lld, norm %.4f:", (long long)dim, sqrt(ss));
            for (int64_t j = 0; j < dim && j < PREVIEW_VALUES; j++) printf(" %8.5f", v[j]);
            printf("%s\n", dim > PREVIEW_VALUES ? " ..." : "");
        }
    }
    fflush(stdout); /* results first, then the summary, also when both go to one pipe */
    fprintf(stderr, "accel run: %d text%s embedded on %s; load %.1f ms, run %.1f ms\n", n, n == 1 ? "" : "s",
            accel_session_devices_used(s), load_ms, run_ms);
    free(out);
    return 0;
}

static int run_generate(accel_session *s, const accel_model *m, char **texts, int n, const accel_generate_params *gp,
                        bool json, const char *dir, double load_ms) {
    char **outs = calloc((size_t)n, sizeof *outs);
    if (!outs) {
        fprintf(stderr, "accel run: out of memory\n");
        return 1;
    }
    const double t0 = cli_now_ms();
    accel_status st = accel_generate_text(s, (const char *const *)texts, n, gp, outs);
    const double run_ms = cli_now_ms() - t0;
    if (st != ACCEL_OK) {
        free(outs);
        return cli_fail("run", "generation failed", st);
    }
    if (json) {
        accel_json_writer w;
        cli_json_begin_run(&w, dir, m, accel_model_supports(m, ACCEL_TASK_SEQ2SEQ) ? "seq2seq" : "text-generation", s, load_ms, run_ms);
        accel_json_key(&w, "results");
        accel_json_array_begin(&w);
        for (int i = 0; i < n; i++) {
            accel_json_object_begin(&w);
            accel_json_key(&w, "text");
            accel_json_string(&w, texts[i]);
            accel_json_key(&w, "output");
            accel_json_string(&w, outs[i]);
            accel_json_object_end(&w);
        }
        accel_json_array_end(&w);
        accel_json_object_end(&w);
        char *text = NULL;
        if (accel_json_finish(&w, &text) == ACCEL_OK) {
            printf("%s\n", text);
            free(text);
        } else {
            st = ACCEL_ERR_OUT_OF_MEMORY;
        }
    } else {
        for (int i = 0; i < n; i++) {
            printf("[%d] ", i);
            print_preview(texts[i], PREVIEW_BYTES);
            printf("\n    -> %s\n", outs[i]);
        }
    }
    for (int i = 0; i < n; i++) accel_free(outs[i]);
    free(outs);
    if (st != ACCEL_OK) return cli_fail("run", "writing JSON", st);
    fflush(stdout); /* results first, then the summary, also when both go to one pipe */
    fprintf(stderr, "accel run: %d text%s generated on %s; load %.1f ms, run %.1f ms\n", n, n == 1 ? "" : "s",
            accel_session_devices_used(s), load_ms, run_ms);
    return 0;
}

/* Causal LMs: each prompt (chat-rendered with --chat) streamed to stdout; with --json, all at once as JSON. */
static int run_llm(accel_session *s, const accel_model *m, char **texts, int n, const cli_llm_opts *lo, bool chat,
                   bool json, const char *dir, double load_ms) {
    char **prompts = calloc((size_t)n, sizeof *prompts);
    int rc = prompts ? 0 : 1;
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!chat) {
            prompts[i] = texts[i];
            continue;
        }
        accel_chat_message msg[2];
        int k = 0;
        if (lo->system) msg[k++] = (accel_chat_message){"system", lo->system};
        msg[k++] = (accel_chat_message){"user", texts[i]};
        accel_status st = accel_chat_apply(m, msg, k, true, &prompts[i]);
        if (st != ACCEL_OK) rc = cli_fail("run", "chat template", st);
    }
    if (rc == 0 && json) {
        accel_generate_params gp = lo->gp;
        if (chat) gp.add_special_tokens = 0;
        rc = run_generate(s, m, prompts, n, &gp, true, dir, load_ms);
    } else {
        for (int i = 0; rc == 0 && i < n; i++) rc = cli_llm_generate("run", s, prompts[i], lo, chat, NULL);
    }
    for (int i = 0; chat && prompts && i < n; i++) accel_free(prompts[i]);
    free(prompts);
    return rc;
}

int accel_cmd_run(int argc, char **argv) {
    cli_model_opts o = {0};
    char **texts = NULL;
    int n = 0, rc = 2;
    bool json = false, chat = false;
    cli_llm_opts lo;
    cli_llm_init(&lo);
    accel_generate_params *gp = &lo.gp;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const bool has_value = i + 1 < argc;
        long long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            cli_free_texts(texts, n);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--chat") == 0) {
            chat = true;
        } else if ((strcmp(a, "--text") == 0 || strcmp(a, "--prompt") == 0) && has_value) {
            if (!cli_push_text(&texts, &n, argv[++i])) goto oom;
        } else if (strcmp(a, "--file") == 0 && has_value) {
            if (!cli_read_lines("run", argv[++i], &texts, &n)) {
                rc = 1;
                goto done;
            }
        } else if (strcmp(a, "--device") == 0 && has_value) {
            o.device = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has_value && cli_parse_int(argv[i + 1], 1, 4096, &v)) {
            o.threads = (int)v;
            i++;
        } else if (strcmp(a, "--max-new-tokens") == 0 && has_value && cli_parse_int(argv[i + 1], 1, 1 << 20, &v)) {
            gp->max_new_tokens = (int)v;
            i++;
        } else if (strcmp(a, "--num-beams") == 0 && has_value && cli_parse_int(argv[i + 1], 1, 64, &v)) {
            gp->num_beams = (int)v;
            i++;
        } else if (a[0] != '-' && !o.dir) {
            o.dir = a;
        } else {
            const int r = cli_llm_parse("run", argc, argv, &i, &lo);
            if (r > 0) continue;
            if (r == 0) fprintf(stderr, "accel run: bad option or missing value: '%s' (see accel run --help)\n", a);
            goto done;
        }
    }
    if (!o.dir || n == 0) {
        fprintf(stderr, "accel run: needs a model directory and at least one --text, --prompt or --file (see --help)\n");
        goto done;
    }
    accel_model *m = NULL;
    accel_session *s = NULL;
    double load_ms = 0;
    rc = 1;
    if (!cli_model_open("run", &o, &m, &s, &load_ms)) goto done;
    if (accel_model_supports(m, ACCEL_TASK_EMBED))
        rc = run_embed(s, m, texts, n, json, o.dir, load_ms);
    else if (accel_model_supports(m, ACCEL_TASK_SEQ2SEQ))
        rc = run_generate(s, m, texts, n, gp, json, o.dir, load_ms);
    else if (accel_model_supports(m, ACCEL_TASK_TEXT_GENERATION))
        rc = run_llm(s, m, texts, n, &lo, chat, json, o.dir, load_ms);
    else
        fprintf(stderr, "accel run: %s (%s) has no task that `accel run` knows\n", o.dir, accel_model_architecture(m));
    accel_session_free(s);
    accel_model_free(m);
    goto done;
oom:
    fprintf(stderr, "accel run: out of memory\n");
    rc = 1;
done:
    cli_free_texts(texts, n);
    return rc;
}
