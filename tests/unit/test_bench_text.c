/* Tests of the text benchmark engine (src/bench/text_bench.c) on the tiny BERT and T5 fixtures: the id range skips
 * special tokens (T5's sentinels included), ids are deterministic per (seed, batch, tokens), a run reports
 * consistent statistics, generation yields exactly the requested tokens, and bad configurations are refused with a
 * message. Timings themselves are not checked (they belong to benchmarks, not tests). */
#include "bench/text_bench.h"
#include "models/model.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static char g_root[1024];

static accel_model *load(const char *family) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s/model", g_root, family);
    accel_model *m = NULL;
    if (accel_model_load(dir, NULL, &m) != ACCEL_OK) fprintf(stderr, "  cannot load %s: %s\n", dir, accel_last_error());
    return m;
}

static void test_id_range_bert(void) {
    accel_model *m = load("bert");
    CHECK(m != NULL);
    if (!m) return;
    int32_t lo = -1, hi = -1;
    CHECK(bench_text_id_range(m, &lo, &hi) == ACCEL_OK);
    CHECK_INT_EQ(lo, 5); /* [PAD] [UNK] [CLS] [SEP] [MASK] are ids 0..4 */
    int64_t want_hi = m->hp.vocab_size;
    if ((int64_t)accel_tokenizer_vocab_size(m->tok) < want_hi) want_hi = (int64_t)accel_tokenizer_vocab_size(m->tok);
    CHECK_INT_EQ(hi, want_hi);
    accel_model_free(m);
}

static void test_ids_skip_t5_sentinels(void) {
    accel_model *m = load("t5");
    CHECK(m != NULL);
    if (!m) return;
    int32_t lo = -1, hi = -1;
    CHECK(bench_text_id_range(m, &lo, &hi) == ACCEL_OK);
    CHECK_INT_EQ(lo, 3); /* <pad> </s> <unk> */
    enum { B = 8, T = 64 };
    int32_t *ids = malloc(sizeof *ids * B * T);
    CHECK(ids != NULL);
    if (ids) {
        CHECK(bench_text_random_ids(m, 7, B, T, ids) == ACCEL_OK);
        int sentinels = 0, out_of_range = 0;
        for (int i = 0; i < B * T; i++) {
            if (ids[i] < lo || ids[i] >= hi) out_of_range++;
            const char *t = accel_tokenizer_id_to_token(m->tok, ids[i]);
            if (t && strncmp(t, "<extra_id_", 10) == 0) sentinels++;
        }
        CHECK_INT_EQ(out_of_range, 0);
        CHECK_INT_EQ(sentinels, 0);
    }
    free(ids);
    accel_model_free(m);
}

static void test_ids_deterministic(void) {
    accel_model *m = load("bert");
    CHECK(m != NULL);
    if (!m) return;
    int32_t a[2 * 16], b[2 * 16], c[2 * 16], d[1 * 16];
    CHECK(bench_text_random_ids(m, 42, 2, 16, a) == ACCEL_OK);
    CHECK(bench_text_random_ids(m, 42, 2, 16, b) == ACCEL_OK);
    CHECK(bench_text_random_ids(m, 43, 2, 16, c) == ACCEL_OK);
    CHECK(bench_text_random_ids(m, 42, 1, 16, d) == ACCEL_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    CHECK(memcmp(a, d, sizeof d) != 0); /* each configuration has its own stream */
    int distinct = 0;
    for (int i = 1; i < 32; i++) distinct += a[i] != a[0];
    CHECK(distinct > 0);
    CHECK(bench_text_random_ids(m, 42, 0, 16, a) == ACCEL_ERR_INVALID_ARG);
    accel_model_free(m);
}

static int g_progress_calls;
static void count_progress(void *user, int done, int limit, double elapsed_s) {
    (void)user;
    (void)limit;
    (void)elapsed_s;
    g_progress_calls = done;
}

static void test_run_embed(void) {
    accel_model *m = load("bert");
    accel_session *s = NULL;
    CHECK(m && accel_session_new(m, NULL, &s) == ACCEL_OK);
    if (!s) {
        accel_model_free(m);
        return;
    }
    bench_text_config cfg = {0};
    cfg.batch = 2;
    cfg.tokens = 8;
    cfg.warmup = 1;
    cfg.iters = 3;
    cfg.seed = 5;
    cfg.keep_ids = true;
    cfg.progress = count_progress;
    g_progress_calls = 0;
    bench_text_result r;
    CHECK(bench_text_run(s, &cfg, &r) == ACCEL_OK);
    CHECK(r.task == ACCEL_TASK_EMBED);
    CHECK_INT_EQ(r.latency_ms.n, 3);
    CHECK_INT_EQ(g_progress_calls, 3);
    CHECK(r.first_ms > 0.0);
    CHECK(r.latency_ms.min > 0.0);
    CHECK(r.latency_ms.min <= r.latency_ms.p50 && r.latency_ms.p50 <= r.latency_ms.p90);
    CHECK(r.latency_ms.p90 <= r.latency_ms.p99 && r.latency_ms.p99 <= r.latency_ms.max);
    CHECK(r.items_per_s > 0.0 && r.tokens_per_s > 0.0 && r.new_tokens_per_s == 0.0);
    CHECK(r.peak_rss_bytes > 0);
    CHECK_STR_EQ(r.devices_used, "cpu");
    CHECK(r.output_ids == NULL);
    int32_t want[2 * 8];
    CHECK(bench_text_random_ids(m, 5, 2, 8, want) == ACCEL_OK);
    CHECK(r.input_ids && memcmp(r.input_ids, want, sizeof want) == 0);
    bench_text_result_free(&r);

    /* by time only: at least one call */
    cfg.iters = 0;
    cfg.seconds = 0.01;
    cfg.keep_ids = false;
    cfg.progress = NULL;
    CHECK(bench_text_run(s, &cfg, &r) == ACCEL_OK);
    CHECK(r.latency_ms.n >= 1);
    CHECK(r.input_ids == NULL);
    bench_text_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_run_generate(void) {
    accel_model *m = load("t5");
    accel_session *s = NULL;
    CHECK(m && accel_session_new(m, NULL, &s) == ACCEL_OK);
    if (!s) {
        accel_model_free(m);
        return;
    }
    bench_text_config cfg = {0};
    cfg.batch = 3;
    cfg.tokens = 10;
    cfg.new_tokens = 6;
    cfg.iters = 2;
    cfg.seed = 9;
    cfg.keep_ids = true;
    bench_text_result r;
    CHECK(bench_text_run(s, &cfg, &r) == ACCEL_OK);
    CHECK(r.task == ACCEL_TASK_SEQ2SEQ);
    CHECK_INT_EQ(r.new_tokens, 6);
    CHECK(r.new_tokens_per_s > 0.0 && r.tokens_per_s == 0.0);
    CHECK(r.output_ids != NULL);
    if (r.output_ids) {
        int eos = 0, starts = 0;
        for (int row = 0; row < 3; row++) {
            starts += r.output_ids[row * 7] == m->hp.decoder_start_token_id;
            for (int j = 1; j < 7; j++) eos += r.output_ids[row * 7 + j] == m->hp.eos_token_ids[0];
        }
        CHECK_INT_EQ(starts, 3);
        CHECK_INT_EQ(eos, 0); /* min_new_tokens = max_new_tokens: EOS is suppressed */
    }
    bench_text_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_bad_configs(void) {
    accel_model *m = load("bert");
    accel_session *s = NULL;
    CHECK(m && accel_session_new(m, NULL, &s) == ACCEL_OK);
    if (!s) {
        accel_model_free(m);
        return;
    }
    bench_text_config ok = {0};
    ok.batch = 1;
    ok.tokens = 4;
    ok.iters = 1;
    bench_text_result r;
    bench_text_config c = ok;
    c.batch = 0;
    CHECK(bench_text_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.iters = 0; /* and no time limit */
    CHECK(bench_text_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.warmup = -1;
    CHECK(bench_text_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.tokens = accel_model_max_tokens(m) + 1;
    CHECK(bench_text_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "at most") != NULL);
    CHECK(bench_text_run(NULL, &ok, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_text_run(s, NULL, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_text_run(s, &ok, &r) == ACCEL_OK);
    bench_text_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);
}

int main(void) {
    const char *env = getenv("ACCEL_FIXTURES_DIR");
    if (env && *env) {
        snprintf(g_root, sizeof g_root, "%.1000s/models", env);
    } else { /* tests/unit/test_bench_text.c -> tests/fixtures/models */
        snprintf(g_root, sizeof g_root, "%.1000s", __FILE__);
        char *cut = strstr(g_root, "unit/test_bench_text.c");
        if (cut) strcpy(cut, "fixtures/models");
    }
    RUN(test_id_range_bert);
    RUN(test_ids_skip_t5_sentinels);
    RUN(test_ids_deterministic);
    RUN(test_run_embed);
    RUN(test_run_generate);
    RUN(test_bad_configs);
    return test_summary();
}
