/* Tests of the text benchmark engine (src/bench/text_bench.c) on the tiny BERT and T5 fixtures: the id range skips
 * special tokens (T5's sentinels included), ids are deterministic per (seed, batch, tokens), a run reports
 * consistent statistics, generation yields exactly the requested tokens, and bad configurations are refused with a
 * message. The causal-LM engine (src/bench/llm_bench.c) on the LLaMA and Qwen2 fixtures: EOS-suppressed decoding
 * gives exactly the requested tokens (on a prompt where plain greedy decoding stops early), the weight bytes of a
 * decode step match the checkpoint's shapes (tied and untied lm_head), the bandwidth passes cover their whole
 * buffers, and bad configurations are refused. Timings themselves are not checked (they belong to benchmarks, not
 * tests). */
#include "bench/llm_bench.h"
#include "bench/membw.h"
#include "bench/membw_kernels.h"
#include "backends/cpu/cpu_kernels.h"
#include "bench/text_bench.h"
#include "models/model.h"
#include "tasks/tasks.h"
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

/* ---- causal LMs ----------------------------------------------------------------------------------------------- */

/* Weight bytes one decode step of the LLaMA fixture reads, from its config (hidden 64, 2 layers, 8 heads of 8, 2 KV
 * heads, ff 160, vocab 667, untied, f32): per layer the two norms (2 x 64), q/k/v (96 x 64), o (64 x 64), gate/up
 * (320 x 64) and down (64 x 160) = 41088 floats; the final norm 64; lm_head 667 x 64; one embedding row (64) per
 * sequence. */
static int64_t llama_fixture_step_bytes(int64_t batch) { return 4 * (2 * 41088 + 64 + 667 * 64 + batch * 64); }

static accel_session *open_session(const char *family, accel_model **m) {
    *m = load(family);
    accel_session *s = NULL;
    if (*m && accel_session_new(*m, NULL, &s) != ACCEL_OK) s = NULL;
    return s;
}

static bench_llm_config llm_config(int64_t batch, int64_t prefill, int decode) {
    bench_llm_config c = {0};
    c.batch = batch;
    c.prefill = prefill;
    c.decode = decode;
    c.iters = 2;
    c.seed = 28;
    c.threads = 2;
    c.bandwidth_bytes = (size_t)2 << 20;
    c.bandwidth_reps = 2;
    c.keep_ids = true;
    return c;
}

static void test_llm_run_exact_tokens(void) {
    accel_model *m = NULL;
    accel_session *s = open_session("llama", &m);
    CHECK(s != NULL);
    if (!s) {
        accel_model_free(m);
        return;
    }
    enum { T = 8, N = 12 };
    /* control: on the prompt of seed 28, plain greedy decoding (min_new_tokens 0) meets EOS before N tokens */
    int32_t ids[T];
    CHECK(bench_text_random_ids(m, 28, 1, T, ids) == ACCEL_OK);
    accel_generate_params in = accel_generate_default_params(), p;
    in.max_new_tokens = N;
    in.min_new_tokens = 0;
    in.do_sample = 0;
    CHECK(lm_resolve_params(m, &in, T, &p) == ACCEL_OK);
    const int32_t *prompts[1] = {ids};
    const int64_t lens[1] = {T};
    int32_t plain[N];
    int64_t plain_len = 0;
    CHECK(lm_generate_tokens(s, prompts, lens, 1, &p, plain, &plain_len, NULL) == ACCEL_OK);
    CHECK(plain_len < N);
    CHECK(plain_len >= 1 && plain[plain_len - 1] == m->gen.eos_token_ids[0]);

    bench_llm_config cfg = llm_config(1, T, N);
    g_progress_calls = 0;
    cfg.progress = count_progress;
    bench_llm_result r;
    CHECK(bench_llm_run(s, &cfg, &r) == ACCEL_OK);
    CHECK_INT_EQ(g_progress_calls, 2);
    CHECK(r.streamed);
    CHECK_INT_EQ(r.decode, N);
    CHECK_INT_EQ(r.call_ms.n, 2);
    CHECK_INT_EQ(r.prefill_ms.n, 2);
    CHECK_INT_EQ(r.step_ms.n, 2 * (N - 1)); /* every interval between consecutive tokens of every timed call */
    CHECK(r.input_ids && memcmp(r.input_ids, ids, sizeof ids) == 0);
    CHECK(r.output_ids != NULL);
    if (r.output_ids) {
        int eos = 0;
        for (int j = 0; j < N; j++) eos += r.output_ids[j] == m->gen.eos_token_ids[0];
        CHECK_INT_EQ(eos, 0);
        /* greedy: the tokens before the point where plain decoding stopped are the same */
        CHECK(memcmp(r.output_ids, plain, sizeof(int32_t) * (size_t)(plain_len - 1)) == 0);
    }
    CHECK(r.prefill_ms.min > 0.0 && r.step_ms.min > 0.0 && r.first_ms > 0.0);
    CHECK(r.prefill_ms.p50 <= r.call_ms.p50);
    CHECK(r.decode_tokens_per_s > 0.0 && r.prefill_tokens_per_s > 0.0);
    CHECK(r.step_compute_ms > 0.0);
    CHECK_INT_EQ(r.weights.bytes, llama_fixture_step_bytes(1));
    CHECK_INT_EQ(r.weights.tensors, 2 * 6 + 3); /* norms, qkv, o, gate_up, down per layer; norm, lm_head, embedding */
    CHECK_INT_EQ(r.weights.in_table, r.weights.tensors);
    CHECK_INT_EQ(r.weights.bytes_by_dtype[ACCEL_F32], r.weights.bytes);
    CHECK(r.weights.model_bytes > r.weights.bytes); /* the table also holds the fusion sources and the embedding */
    /* the last step attends to T + N - 1 cached rows of 2 KV heads x 8 in both layers, K and V, f32 */
    CHECK_INT_EQ(r.weights.kv_bytes, 2 * 2 * (T + N - 1) * 2 * 8 * 4);
    CHECK(r.bandwidth_measured && r.bw.read_gbps > 0.0 && r.bw.copy_gbps > 0.0);
    CHECK(r.bound_tokens_per_s > 0.0);
    double want_bound = r.bw.read_gbps * 1e9 / (double)r.weights.bytes;
    CHECK(r.bound_tokens_per_s > want_bound * 0.999999 && r.bound_tokens_per_s < want_bound * 1.000001);
    CHECK(r.fraction_of_bound > 0.0);
    CHECK(r.kv_cache_bytes > 0);
    CHECK_STR_EQ(r.devices_used, "cpu");
    int32_t first_out[N];
    if (r.output_ids) memcpy(first_out, r.output_ids, sizeof first_out);
    bench_llm_result_free(&r);

    /* batch 2, no bandwidth: one embedding row more; the same prompt ids per (seed, batch, prefill) */
    cfg = llm_config(2, T, N);
    cfg.bandwidth_bytes = 0;
    CHECK(bench_llm_run(s, &cfg, &r) == ACCEL_OK);
    CHECK_INT_EQ(r.weights.bytes, llama_fixture_step_bytes(2));
    CHECK(!r.bandwidth_measured && r.bound_tokens_per_s == 0.0 && r.fraction_of_bound == 0.0);
    CHECK_INT_EQ(r.step_ms.n, 2 * (N - 1));
    int32_t want[2 * T];
    CHECK(bench_text_random_ids(m, 28, 2, T, want) == ACCEL_OK);
    CHECK(r.input_ids && memcmp(r.input_ids, want, sizeof want) == 0);
    bench_llm_result_free(&r);

    /* by time only, and a second run gives the same greedy tokens */
    cfg = llm_config(1, T, N);
    cfg.iters = 0;
    cfg.seconds = 0.001;
    CHECK(bench_llm_run(s, &cfg, &r) == ACCEL_OK);
    CHECK(r.call_ms.n >= 1);
    CHECK(r.output_ids && memcmp(r.output_ids, first_out, sizeof first_out) == 0);
    bench_llm_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_llm_tied_weights(void) {
    accel_model *m = NULL;
    accel_session *s = open_session("qwen2", &m);
    CHECK(s != NULL);
    if (!s) {
        accel_model_free(m);
        return;
    }
    bench_llm_config cfg = llm_config(1, 5, 3);
    cfg.bandwidth_bytes = 0;
    bench_llm_result r;
    CHECK(bench_llm_run(s, &cfg, &r) == ACCEL_OK);
    /* hidden 48, 2 layers, 6 heads of 8, 2 KV heads, ff 128, vocab 538, QKV bias, tied: per layer norms 2 x 48,
     * q/k/v 80 x 48 + bias 80, o 48 x 48, gate/up 256 x 48, down 48 x 128 = 24752 floats; final norm 48; the
     * embedding once, whole, as the lm_head (its get_rows row is the same memory) */
    CHECK_INT_EQ(r.weights.bytes, 4 * (2 * 24752 + 48 + 538 * 48));
    CHECK_INT_EQ(r.weights.tensors, 2 * 7 + 2);
    CHECK_INT_EQ(r.weights.in_table, r.weights.tensors);
    bench_llm_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_llm_bad_configs(void) {
    accel_model *m = NULL;
    accel_session *s = open_session("llama", &m);
    CHECK(s != NULL);
    if (!s) {
        accel_model_free(m);
        return;
    }
    bench_llm_result r;
    bench_llm_weights w;
    CHECK(bench_llm_step_weights(s, &w) == ACCEL_ERR_INVALID_ARG); /* nothing placed yet */
    const bench_llm_config ok = llm_config(1, 4, 2);
    bench_llm_config c = ok;
    c.decode = 1; /* no decode step to time */
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.batch = 0;
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.prefill = 0;
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.iters = 0;
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.threads = 0;
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.bandwidth_bytes = 1000; /* below 1 MiB */
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    c = ok;
    c.prefill = accel_model_max_tokens(m) - 1;
    c.decode = 2;
    CHECK(bench_llm_run(s, &c, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "context") != NULL);
    CHECK(bench_llm_run(NULL, &ok, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_llm_run(s, NULL, &r) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_llm_run(s, &ok, &r) == ACCEL_OK);
    bench_llm_result_free(&r);
    accel_session_free(s);
    accel_model_free(m);

    /* an embedding model is not a causal LM */
    s = open_session("bert", &m);
    CHECK(s != NULL);
    if (s) CHECK(bench_llm_run(s, &ok, &r) == ACCEL_ERR_UNSUPPORTED);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_membw(void) {
    bench_membw bw;
    const size_t bytes = (size_t)3 << 20;
    CHECK(bench_membw_measure(bytes, 2, 3, &bw) == ACCEL_OK);
    CHECK_INT_EQ(bw.bytes, bytes);
    CHECK_INT_EQ(bw.threads, 2);
    CHECK_INT_EQ(bw.reps, 3);
    CHECK(bw.copy_gbps > 0.0 && bw.copy_gbps <= bw.copy_gbps_max);
    CHECK(bw.read_gbps > 0.0 && bw.read_gbps <= bw.read_gbps_max);
    /* the source holds bytes of 1: each timed read pass sums bytes / 8 words of 0x0101010101010101 */
    const uint64_t want = (uint64_t)3 * (bytes / 8) * 0x0101010101010101ull;
    CHECK(bw.checksum == want);
    /* sizes round down to whole cache lines per thread */
    CHECK(bench_membw_measure(((size_t)1 << 20) + 100, 3, 1, &bw) == ACCEL_OK);
    CHECK(bw.bytes % (64 * 3) == 0 && bw.bytes <= ((size_t)1 << 20) + 100 && bw.bytes > ((size_t)1 << 20) - 192);
    CHECK(bw.read_isa != NULL);
    CHECK(bench_membw_measure((size_t)1 << 19, 1, 1, &bw) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_membw_measure(bytes, 0, 1, &bw) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_membw_measure(bytes, 1, 0, &bw) == ACCEL_ERR_INVALID_ARG);
    CHECK(bench_membw_measure(bytes, 1, 1, NULL) == ACCEL_ERR_INVALID_ARG);
}

/* Every read kernel this CPU runs sums every word of its buffer (and nothing past it). */
static void test_membw_kernels(void) {
    enum { WORDS = 4096 + 8 * 3 }; /* not a multiple of the 4-line unroll: the tail is summed too */
    uint64_t *buf = NULL;
    CHECK(posix_memalign((void **)&buf, 64, sizeof *buf * (WORDS + 8)) == 0);
    if (!buf) return;
    uint64_t want = 0;
    for (int i = 0; i < WORDS + 8; i++) {
        buf[i] = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        if (i < WORDS) want += buf[i];
    }
    CHECK(membw_sum_portable(buf, sizeof *buf * WORDS) == want);
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
    const cpu_isa isa = cpu_detect_isa();
    if (isa >= CPU_ISA_AVX2) CHECK(membw_sum_avx2(buf, sizeof *buf * WORDS) == want);
    if (isa >= CPU_ISA_AVX512) CHECK(membw_sum_avx512(buf, sizeof *buf * WORDS) == want);
#endif
    free(buf);
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
    RUN(test_llm_run_exact_tokens);
    RUN(test_llm_tied_weights);
    RUN(test_llm_bad_configs);
    RUN(test_membw);
    RUN(test_membw_kernels);
    return test_summary();
}
