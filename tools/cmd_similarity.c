/* accel similarity — cosine similarity matrix of texts with an embedding model: a readable table, or JSON. */
#include "accel.h"
#include "cli_model.h"
#include "commands.h"
#include "hw/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: accel similarity <model-dir> \"text a\" \"text b\" ... [options]\n"
               "\n"
               "Embeds each text with an embedding model (BERT, sentence-transformers) and prints the matrix of\n"
               "cosine similarities between them (1 = same direction).\n"
               "\n"
               "  --file F       more texts from a file, one per line (empty lines are skipped)\n"
               "  --json         print the texts and the matrix as JSON\n"
               "  --device NAME  prefer this device (see `accel devices`); the CPU stays as the per-op fallback\n"
               "  --threads N    CPU threads (default: physical cores)\n"
               "  --help         show this help\n"
               "\n"
               "A one-line summary (the devices that ran, load and run time) is printed to stderr.\n");
}

/* sim[i * n + j] = cos(e_i, e_j). */
static void cosine_matrix(const float *e, int n, int64_t dim, double *sim) {
    double *norm = calloc((size_t)n, sizeof *norm);
    for (int i = 0; i < n && norm; i++) {
        double ss = 0;
        for (int64_t k = 0; k < dim; k++) ss += (double)e[i * dim + k] * e[i * dim + k];
        norm[i] = sqrt(ss) > 1e-12 ? sqrt(ss) : 1e-12;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double dot = 0;
            for (int64_t k = 0; k < dim; k++) dot += (double)e[i * dim + k] * e[j * dim + k];
            sim[i * n + j] = norm ? dot / (norm[i] * norm[j]) : NAN;
        }
    free(norm);
}

static void print_table(char **texts, int n, const double *sim) {
    printf("texts\n");
    for (int i = 0; i < n; i++) printf("  [%d] %s\n", i, texts[i]);
    printf("\ncosine similarity\n%6s", "");
    for (int j = 0; j < n; j++) {
        char head[16];
        snprintf(head, sizeof head, "[%d]", j);
        printf(" %7s", head);
    }
    printf("\n");
    for (int i = 0; i < n; i++) {
        char head[16];
        snprintf(head, sizeof head, "[%d]", i);
        printf("%6s", head);
        for (int j = 0; j < n; j++) printf(" %7.4f", sim[i * n + j]);
        printf("\n");
    }
}

static int print_json(const char *dir, const accel_session *s, char **texts, int n, const double *sim,
                      double load_ms, double run_ms) {
    accel_json_writer w;
    cli_json_begin_run(&w, dir, NULL, NULL, s, load_ms, run_ms);
    accel_json_key(&w, "texts");
    accel_json_array_begin(&w);
    for (int i = 0; i < n; i++) accel_json_string(&w, texts[i]);
    accel_json_array_end(&w);
    accel_json_key(&w, "similarity");
    accel_json_array_begin(&w);
    for (int i = 0; i < n; i++) {
        accel_json_array_begin(&w);
        for (int j = 0; j < n; j++) accel_json_double(&w, sim[i * n + j]);
        accel_json_array_end(&w);
    }
    accel_json_array_end(&w);
    accel_json_object_end(&w);
    char *text = NULL;
    accel_status st = accel_json_finish(&w, &text);
    if (st != ACCEL_OK) return cli_fail("similarity", "writing JSON", st);
    printf("%s\n", text);
    free(text);
    return 0;
}

int accel_cmd_similarity(int argc, char **argv) {
    cli_model_opts o = {0};
    char **texts = NULL;
    int n = 0, rc = 2;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            cli_free_texts(texts, n);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--file") == 0 && i + 1 < argc) {
            if (!cli_read_lines("similarity", argv[++i], &texts, &n)) {
                rc = 1;
                goto done;
            }
        } else if (strcmp(a, "--device") == 0 && i + 1 < argc) {
            o.device = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc && cli_parse_int(argv[i + 1], 1, 4096, &v)) {
            o.threads = (int)v;
            i++;
        } else if (strncmp(a, "--", 2) == 0) {
            fprintf(stderr, "accel similarity: bad option or missing value: '%s' (see --help)\n", a);
            goto done;
        } else if (!o.dir) {
            o.dir = a;
        } else if (!cli_push_text(&texts, &n, a)) {
            fprintf(stderr, "accel similarity: out of memory\n");
            rc = 1;
            goto done;
        }
    }
    if (!o.dir || n < 2) {
        fprintf(stderr, "accel similarity: needs a model directory and at least two texts (see --help)\n");
        goto done;
    }
    rc = 1;
    accel_model *m = NULL;
    accel_session *s = NULL;
    double load_ms = 0;
    if (!cli_model_open("similarity", &o, &m, &s, &load_ms)) goto done;
    const int64_t dim = accel_model_embedding_dim(m);
    float *emb = malloc(sizeof(float) * (size_t)n * (size_t)dim);
    double *sim = malloc(sizeof(double) * (size_t)n * (size_t)n);
    if (!emb || !sim) {
        fprintf(stderr, "accel similarity: out of memory\n");
    } else if (!accel_model_supports(m, ACCEL_TASK_EMBED)) {
        fprintf(stderr, "accel similarity: %s (%s) is not an embedding model\n", o.dir, accel_model_architecture(m));
    } else {
        const double t0 = cli_now_ms();
        accel_status st = accel_embed(s, (const char *const *)texts, n, NULL, emb, (size_t)n * (size_t)dim);
        const double run_ms = cli_now_ms() - t0;
        if (st != ACCEL_OK) {
            rc = cli_fail("similarity", "embedding failed", st);
        } else {
            cosine_matrix(emb, n, dim, sim);
            if (json) {
                rc = print_json(o.dir, s, texts, n, sim, load_ms, run_ms);
            } else {
                print_table(texts, n, sim);
                rc = 0;
            }
            if (rc == 0) {
                fflush(stdout); /* results first, then the summary, also when both go to one pipe */
                fprintf(stderr, "accel similarity: %d texts embedded on %s; load %.1f ms, run %.1f ms\n", n,
                        accel_session_devices_used(s), load_ms, run_ms);
            }
        }
    }
    free(emb);
    free(sim);
    accel_session_free(s);
    accel_model_free(m);
done:
    cli_free_texts(texts, n);
    return rc;
}
