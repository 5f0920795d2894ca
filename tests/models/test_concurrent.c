/* One loaded model, several sessions on several threads at once (DESIGN §4: the model is immutable, the session
 * holds the per-run state). Each thread repeats its work and must get exactly the answer a lone session got. The
 * real MiniLM is used when fetched (bigger weights exercise the CPU backend's shared packing cache), else the
 * BERT fixture; T5 runs generation (KV caches per session) alongside. */
#include "model_test_util.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_THREADS 4
#define N_REPEAT 6

static const char *k_texts[] = {"The quick brown fox jumps over the lazy dog.", "A man is eating food.",
                                "Sentences of different lengths are padded in one batch, then pooled.", ""};
#define N_TEXTS ((int)(sizeof k_texts / sizeof k_texts[0]))
static const char *k_t5_texts[] = {"translate English to German: The house is wonderful.",
                                   "summarize: The weather today was sunny."};

typedef struct job {
    accel_model *bert, *t5;
    const float *want_embed; /* [N_TEXTS * dim] */
    int64_t dim;
    char *const *want_text;  /* [2] */
    int failures;
} job;

static void *worker(void *arg) {
    job *j = arg;
    accel_session *sb = NULL, *st = NULL;
    if (accel_session_new(j->bert, NULL, &sb) != ACCEL_OK || accel_session_new(j->t5, NULL, &st) != ACCEL_OK) {
        j->failures++;
        goto out;
    }
    float *got = malloc(sizeof(float) * (size_t)(N_TEXTS * j->dim));
    if (!got) {
        j->failures++;
        goto out;
    }
    accel_generate_params gp = accel_generate_default_params();
    gp.max_new_tokens = 8;
    gp.num_beams = 2;
    for (int r = 0; r < N_REPEAT; r++) {
        if (accel_embed(sb, k_texts, N_TEXTS, NULL, got, (size_t)(N_TEXTS * j->dim)) != ACCEL_OK)
            j->failures++;
        else if (memcmp(got, j->want_embed, sizeof(float) * (size_t)(N_TEXTS * j->dim)) != 0)
            j->failures++;
        char *out[2] = {NULL, NULL};
        if (accel_generate_text(st, k_t5_texts, 2, &gp, out) != ACCEL_OK) {
            j->failures++;
        } else {
            for (int i = 0; i < 2; i++)
                if (strcmp(out[i], j->want_text[i]) != 0) j->failures++;
        }
        accel_free(out[0]);
        accel_free(out[1]);
    }
    free(got);
out:
    accel_session_free(sb);
    accel_session_free(st);
    return NULL;
}

static void test_sessions_on_threads(void) {
    char dir[4096], t5dir[4096];
    mt_models_dir(dir, sizeof dir, "all-MiniLM-L6-v2");
    accel_model *bert = NULL, *t5 = NULL;
    if (accel_model_load(dir, NULL, &bert) != ACCEL_OK) {
        fprintf(stderr, "note: %s not loadable (%s); using the BERT fixture\n", dir, accel_last_error());
        mt_fixture(dir, sizeof dir, "bert", "model");
        CHECK(accel_model_load(dir, NULL, &bert) == ACCEL_OK);
    }
    mt_fixture(t5dir, sizeof t5dir, "t5", "model");
    CHECK(accel_model_load(t5dir, NULL, &t5) == ACCEL_OK);
    if (!bert || !t5) {
        accel_model_free(bert);
        accel_model_free(t5);
        return;
    }

    /* the answers of a lone session, texts embedded one by one (no padding at all) */
    int64_t dim = accel_model_embedding_dim(bert);
    float *want = malloc(sizeof(float) * (size_t)(N_TEXTS * dim));
    char *want_text[2] = {NULL, NULL};
    accel_session *s = NULL;
    CHECK(accel_session_new(bert, NULL, &s) == ACCEL_OK);
    for (int i = 0; i < N_TEXTS; i++) CHECK(accel_embed(s, k_texts + i, 1, NULL, want + i * dim, (size_t)dim) == ACCEL_OK);
    accel_session_free(s);
    CHECK(accel_session_new(t5, NULL, &s) == ACCEL_OK);
    accel_generate_params gp = accel_generate_default_params();
    gp.max_new_tokens = 8;
    gp.num_beams = 2;
    CHECK(accel_generate_text(s, k_t5_texts, 2, &gp, want_text) == ACCEL_OK);
    accel_session_free(s);

    /* padding may change the last bits relative to one-by-one: the threads compare bit for bit against the
     * batched answer of a lone session, and that is checked against the one-by-one answer at the parity bar */
    float *want_batched = malloc(sizeof(float) * (size_t)(N_TEXTS * dim));
    CHECK(accel_session_new(bert, NULL, &s) == ACCEL_OK);
    CHECK(accel_embed(s, k_texts, N_TEXTS, NULL, want_batched, (size_t)(N_TEXTS * dim)) == ACCEL_OK);
    accel_session_free(s);
    for (int i = 0; i < N_TEXTS; i++) CHECK(mt_cosine(want + i * dim, want_batched + i * dim, (size_t)dim) >= 0.99999);

    job jobs[N_THREADS];
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        jobs[t] = (job){bert, t5, want_batched, dim, want_text, 0};
        CHECK(pthread_create(&th[t], NULL, worker, &jobs[t]) == 0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].failures) fprintf(stderr, "thread %d: %d mismatching or failed calls\n", t, jobs[t].failures);
        CHECK(jobs[t].failures == 0);
    }
    free(want);
    free(want_batched);
    accel_free(want_text[0]);
    accel_free(want_text[1]);
    accel_model_free(bert);
    accel_model_free(t5);
}

int main(void) {
    RUN(test_sessions_on_threads);
    return test_summary();
}
