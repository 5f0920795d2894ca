/* test_t5.c — T5 parity with Hugging Face on the two tiny random-weight fixtures: t5 (t5-small-like: relu, tied
 * embeddings with d_model^-0.5 output scaling) and t5_v11 (v1.1: gated-GELU, untied lm_head, deeper decoder than
 * encoder, config keys as google/t5-v1_1 has them, sequences that end with EOS at different steps).
 *
 * For each: the encoder's last hidden state; the teacher-forced decoder logits (one multi-token decoder pass);
 * every greedy step's logits through the KV-cache decode path; then every generation case of expected.json
 * (greedy, beam search with length_penalty / early_stopping true, false, "never" / no_repeat_ngram_size /
 * min_new_tokens) through seq2seq_generate_tokens (identical token ids, beam scores within 1e-4) and through
 * accel_generate_text (identical decoded strings). Also HF's relative position buckets, bad generation
 * parameters, too-long and empty inputs, broken model directories and misuse of the session hooks.
 * Bars (issue 4): logits and hidden states max |err| / max |HF| <= 1e-4; token ids identical. */
#include "model_test_util.h"
#include "models/t5.h"
#include "tasks/tasks.h"
#include "test.h"

#include "io/json_util.h"

#include <math.h>
#include <stdlib.h>

#define REL_TOL 1e-4
#define SCORE_TOL 1e-4

typedef struct fixture {
    const char *name;
    char model[1024], expected[1024];
    accel_model *m;
    accel_session *s;
    accel_st *exp;
    cJSON *json;
    int32_t *ids, *mask;
    int64_t B, S, V;
} fixture;

static fixture g_fx[2] = {{.name = "t5"}, {.name = "t5_v11"}};

static bool fixture_open(fixture *f) {
    mt_fixture(f->model, sizeof f->model, f->name, "model");
    mt_fixture(f->expected, sizeof f->expected, f->name, "expected");
    char path[1200], st_path[1200];
    snprintf(path, sizeof path, "%s/expected.json", f->expected);
    snprintf(st_path, sizeof st_path, "%s/expected.safetensors", f->expected);
    int64_t shape[6];
    if (accel_model_load(f->model, NULL, &f->m) != ACCEL_OK || accel_session_new(f->m, NULL, &f->s) != ACCEL_OK ||
        accel_st_open(st_path, &f->exp) != ACCEL_OK || accel_json_parse_file(path, 0, &f->json) != ACCEL_OK ||
        mt_shape(f->exp, "input_ids", shape) != 2) {
        fprintf(stderr, "  cannot open the %s fixture: %s\n", f->name, accel_last_error());
        return false;
    }
    f->B = shape[0];
    f->S = shape[1];
    f->V = f->m->family->vocab_size(f->m);
    f->ids = mt_load_i32(f->exp, "input_ids", NULL);
    f->mask = mt_load_i32(f->exp, "attention_mask", NULL);
    return f->ids && f->mask;
}

static void fixture_close(fixture *f) {
    free(f->ids);
    free(f->mask);
    cJSON_Delete(f->json);
    accel_st_close(f->exp);
    accel_session_free(f->s);
    accel_model_free(f->m);
}

static accel_token_batch fixture_batch(const fixture *f) {
    accel_token_batch b = {f->B, f->S, f->ids, NULL, f->mask};
    return b;
}

static void check_rel(const char *fam, const char *what, const float *got, const float *want, size_t n) {
    const double e = mt_rel_err(got, want, n);
    printf("     %-7s %-34s rel err %.3g\n", fam, what, e);
    CHECK(e <= REL_TOL);
}

/* ---- parity --------------------------------------------------------------------------------------------------- */

static void test_encoder(void) {
    for (int i = 0; i < 2; i++) {
        fixture *f = &g_fx[i];
        size_t n = 0;
        float *want = mt_load_f32(f->exp, "encoder_last_hidden_state", &n);
        float *got = calloc(n ? n : 1, sizeof(float));
        accel_token_batch b = fixture_batch(f);
        CHECK(want && got && n == (size_t)(f->B * f->S * f->m->family->embedding_dim(f->m)));
        if (want && got) {
            CHECK(f->m->family->encode(f->s, &b, got, NULL) == ACCEL_OK);
            check_rel(f->name, "encoder_last_hidden_state", got, want, n);
        }
        free(want);
        free(got);
    }
}

static void test_teacher_forced(void) {
    for (int i = 0; i < 2; i++) {
        fixture *f = &g_fx[i];
        int64_t shape[6];
        CHECK(mt_shape(f->exp, "greedy_sequences", shape) == 2);
        const int64_t W = shape[1], T = W - 1;
        int32_t *seq = mt_load_i32(f->exp, "greedy_sequences", NULL);
        size_t n = 0;
        float *want = mt_load_f32(f->exp, "teacher_forced_logits", &n);
        float *got = calloc(n ? n : 1, sizeof(float));
        int32_t *in = malloc(sizeof(int32_t) * (size_t)(f->B * T));
        CHECK(seq && want && got && in && n == (size_t)(f->B * T * f->V));
        if (seq && want && got && in) {
            for (int64_t b = 0; b < f->B; b++) memcpy(in + b * T, seq + b * W, sizeof(int32_t) * (size_t)T);
            accel_token_batch tb = fixture_batch(f);
            CHECK(f->m->family->s2s_encode(f->s, &tb) == ACCEL_OK);
            CHECK(f->m->family->s2s_start(f->s, (int)f->B, NULL, T) == ACCEL_OK);
            CHECK(t5_decode_tokens(f->s, in, T, 0, got) == ACCEL_OK);
            check_rel(f->name, "teacher_forced_logits", got, want, n);
        }
        free(seq);
        free(want);
        free(got);
        free(in);
    }
}

/* Each step of a greedy case through s2s_decode (the KV cache), fed the expected tokens. */
static void check_steps(fixture *f, const char *cas) {
    char name[96];
    snprintf(name, sizeof name, "%s_sequences", cas);
    int64_t shape[6];
    CHECK(mt_shape(f->exp, name, shape) == 2);
    const int64_t W = shape[1], steps = W - 1, V = f->V, B = f->B;
    int32_t *seq = mt_load_i32(f->exp, name, NULL);
    snprintf(name, sizeof name, "%s_logits", cas);
    size_t n = 0;
    float *want = mt_load_f32(f->exp, name, &n), *got = malloc(sizeof(float) * (size_t)(B * V)),
          *want_step = malloc(sizeof(float) * (size_t)(B * V));
    int32_t *tok = malloc(sizeof(int32_t) * (size_t)B);
    CHECK(seq && want && got && want_step && tok && n == (size_t)(B * steps * V));
    if (seq && want && got && want_step && tok) {
        accel_token_batch tb = fixture_batch(f);
        CHECK(f->m->family->s2s_encode(f->s, &tb) == ACCEL_OK);
        CHECK(f->m->family->s2s_start(f->s, (int)B, NULL, steps) == ACCEL_OK);
        double worst = 0;
        for (int64_t t = 0; t < steps; t++) {
            for (int64_t b = 0; b < B; b++) {
                tok[b] = seq[b * W + t];
                memcpy(want_step + b * V, want + (b * steps + t) * V, sizeof(float) * (size_t)V);
            }
            CHECK(f->m->family->s2s_decode(f->s, tok, t, got) == ACCEL_OK);
            const double e = mt_rel_err(got, want_step, (size_t)(B * V));
            worst = e > worst ? e : worst;
        }
        snprintf(name, sizeof name, "%s step logits (%lld steps)", cas, (long long)steps);
        printf("     %-7s %-34s rel err %.3g (worst step)\n", f->name, name, worst);
        CHECK(worst <= REL_TOL);
    }
    free(seq);
    free(want);
    free(got);
    free(want_step);
    free(tok);
}

static void test_step_logits(void) {
    check_steps(&g_fx[0], "greedy");
    check_steps(&g_fx[1], "greedy");
    check_steps(&g_fx[1], "greedy_ngram");
}

/* A generation case of expected.json: {num_beams, max_new_tokens, length_penalty, early_stopping, ...}. */
static accel_generate_params case_params(const cJSON *c) {
    accel_generate_params p = accel_generate_default_params();
    const cJSON *v;
    p.max_new_tokens = cJSON_GetObjectItemCaseSensitive(c, "max_new_tokens")->valueint;
    p.num_beams = cJSON_GetObjectItemCaseSensitive(c, "num_beams")->valueint;
    p.length_penalty = (v = cJSON_GetObjectItemCaseSensitive(c, "length_penalty")) ? (float)v->valuedouble : 1.0f;
    v = cJSON_GetObjectItemCaseSensitive(c, "early_stopping");
    p.early_stopping = !v ? 0 : cJSON_IsString(v) ? 2 : cJSON_IsTrue(v) ? 1 : 0;
    p.no_repeat_ngram_size = (v = cJSON_GetObjectItemCaseSensitive(c, "no_repeat_ngram_size")) ? v->valueint : 0;
    p.min_new_tokens = (v = cJSON_GetObjectItemCaseSensitive(c, "min_new_tokens")) ? v->valueint : 0;
    return p;
}

/* The case on fixture f, run by model m / session s (f's own, or a copy with another generation config). */
static void check_case_on(fixture *f, accel_model *m, accel_session *s, const char *cas, const cJSON *c) {
    accel_generate_params in = case_params(c), p;
    CHECK(generate_resolve_params(m, &in, &p) == ACCEL_OK);
    char name[96];
    snprintf(name, sizeof name, "%s_sequences", cas);
    int64_t shape[6];
    CHECK(mt_shape(f->exp, name, shape) == 2);
    const int64_t W = shape[1], B = f->B, max_out = 1 + p.max_new_tokens + 3;
    int32_t *want = mt_load_i32(f->exp, name, NULL), *got = malloc(sizeof(int32_t) * (size_t)(B * max_out));
    int64_t *lens = malloc(sizeof(int64_t) * (size_t)B);
    float scores[16];
    CHECK(want && got && lens && B <= 16);
    if (!want || !got || !lens || B > 16) goto done;
    accel_token_batch tb = fixture_batch(f);
    CHECK(seq2seq_generate_tokens(s, &tb, &p, got, max_out, lens, scores) == ACCEL_OK);
    /* rows end with HF's fill up to max_out: the pad id (greedy), `pad_token_id or eos_token_id` (beam) */
    const int32_t pad = (int32_t)m->gen.pad_token_id, eos = (int32_t)m->gen.eos_token_ids[0];
    const int32_t fill = p.num_beams == 1 || pad > 0 ? pad : eos;
    int64_t longest = 0, mismatches = 0;
    for (int64_t b = 0; b < B; b++) {
        longest = lens[b] > longest ? lens[b] : longest;
        for (int64_t j = 0; j < W; j++) mismatches += got[b * max_out + j] != want[b * W + j];
        for (int64_t j = lens[b]; j < max_out; j++) mismatches += got[b * max_out + j] != fill;
    }
    printf("     %-7s %-34s ids %s, width %lld/%lld", f->name, cas, mismatches ? "DIFFER" : "identical",
           (long long)longest, (long long)W);
    CHECK(mismatches == 0);
    CHECK_INT_EQ(longest, W);
    if (p.num_beams > 1) {
        snprintf(name, sizeof name, "%s_sequences_scores", cas);
        float *ws = mt_load_f32(f->exp, name, NULL);
        double worst = 0;
        for (int64_t b = 0; ws && b < B; b++) {
            const double e = fabs((double)scores[b] - ws[b]) / fmax(1.0, fabs(ws[b]));
            worst = e > worst ? e : worst;
        }
        printf(", scores err %.3g", worst);
        CHECK(ws && worst <= SCORE_TOL);
        free(ws);
    }
    printf("\n");

    /* the same through text: tokenize, generate, decode */
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(f->json, "texts");
    const cJSON *decoded = cJSON_GetObjectItemCaseSensitive(c, "decoded");
    const char *t[16];
    char *out[16];
    const int n = cJSON_GetArraySize(texts);
    CHECK(n == B && cJSON_GetArraySize(decoded) == n);
    for (int i = 0; i < n && i < 16; i++) t[i] = cJSON_GetArrayItem(texts, i)->valuestring;
    CHECK(accel_generate_text(s, t, n, &in, out) == ACCEL_OK);
    for (int i = 0; i < n && i < 16; i++) {
        CHECK_STR_EQ(out[i], cJSON_GetArrayItem(decoded, i)->valuestring);
        accel_free(out[i]);
    }
done:
    free(want);
    free(got);
    free(lens);
}

static char *g_tmp;
static int g_case;

static const char *fresh_copy(const char *family) {
    static char dir[1200];
    char src[1024];
    mt_fixture(src, sizeof src, family, "model");
    snprintf(dir, sizeof dir, "%s/case%d", g_tmp, g_case++);
    if (!mt_mkdir(dir) || !mt_copy_dir(src, dir)) fprintf(stderr, "  cannot copy the fixture to %s\n", dir);
    return dir;
}

/* Cases with settings that only a generation_config.json carries (repetition_penalty, min_length) run on a copy
 * of the model whose generation config has them; the others on the fixture's model. */
static void check_case(fixture *f, const char *cas, const cJSON *c) {
    static const char *const file_keys[] = {"repetition_penalty", "min_length"};
    cJSON *gc = NULL;
    for (size_t k = 0; k < sizeof file_keys / sizeof file_keys[0]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, file_keys[k]);
        if (!v) continue;
        if (!gc) {
            char path[1200];
            snprintf(path, sizeof path, "%s/generation_config.json", f->model);
            CHECK(accel_json_parse_file(path, 0, &gc) == ACCEL_OK);
            if (!gc) return;
        }
        cJSON_AddItemToObject(gc, file_keys[k], cJSON_Duplicate(v, 1));
    }
    if (!gc) {
        check_case_on(f, f->m, f->s, cas, c);
        return;
    }
    const char *dir = fresh_copy(f->name);
    char path[1300], *text = cJSON_Print(gc);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    CHECK(text && mt_write_file(path, text));
    free(text);
    cJSON_Delete(gc);
    accel_model *m = NULL;
    accel_session *s = NULL;
    CHECK(accel_model_load(dir, NULL, &m) == ACCEL_OK && accel_session_new(m, NULL, &s) == ACCEL_OK);
    if (s) check_case_on(f, m, s, cas, c);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_generation_cases(void) {
    /* t5: "greedy" and "beam" at the top level; t5_v11: "cases" */
    fixture *f = &g_fx[0];
    check_case(f, "greedy", cJSON_GetObjectItemCaseSensitive(f->json, "greedy"));
    check_case(f, "beam", cJSON_GetObjectItemCaseSensitive(f->json, "beam"));
    f = &g_fx[1];
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(f->json, "cases")) {
        check_case(f, c->string, c);
        n++;
    }
    CHECK(n >= 8);
    t5_timing tm;
    t5_session_timing(f->s, &tm, true);
    if (tm.calls)
        printf("     decoder calls %lld: per call build %.1f us, sched alloc %.1f us, compute %.1f us\n",
               (long long)tm.calls, 1e6 * tm.build_s / (double)tm.calls, 1e6 * tm.alloc_s / (double)tm.calls,
               1e6 * tm.compute_s / (double)tm.calls);
}

static void test_buckets(void) {
    fixture *f = &g_fx[1];
    const int range = cJSON_GetObjectItemCaseSensitive(f->json, "bucket_range")->valueint;
    const cJSON *cfg;
    int checked = 0;
    cJSON_ArrayForEach(cfg, cJSON_GetObjectItemCaseSensitive(f->json, "bucket_configs")) {
        const int nb = cJSON_GetArrayItem(cfg, 0)->valueint, md = cJSON_GetArrayItem(cfg, 1)->valueint;
        for (int bi = 0; bi < 2; bi++) {
            char name[64];
            snprintf(name, sizeof name, "buckets_%d_%d_%s", nb, md, bi ? "bi" : "causal");
            size_t n = 0;
            int32_t *want = mt_load_i32(f->exp, name, &n);
            CHECK(want && n == (size_t)(2 * range + 1));
            int bad = 0;
            for (int i = 0; want && i < 2 * range + 1; i++) bad += t5_relative_bucket(i - range, bi, nb, md) != want[i];
            printf("     %-41s %d of %zu differ\n", name, bad, n);
            CHECK(bad == 0);
            free(want);
            checked++;
        }
    }
    CHECK(checked == 4);
}

/* ---- bad input ------------------------------------------------------------------------------------------------- */

static void test_bad_params(void) {
    fixture *f = &g_fx[0];
    const char *text[1] = {"translate English to German: The house is wonderful."};
    char *out[1] = {(char *)1};
    accel_generate_params p = accel_generate_default_params(), r;
    struct {
        const char *what;
        accel_generate_params p;
    } bad[6];
    for (int i = 0; i < 6; i++) bad[i].p = p;
    bad[0].what = "max_new_tokens", bad[0].p.max_new_tokens = 0;
    bad[1].what = "num_beams", bad[1].p.num_beams = 0;
    bad[2].what = "early_stopping", bad[2].p.early_stopping = 3;
    bad[3].what = "length_penalty", bad[3].p.length_penalty = INFINITY;
    bad[4].what = "no_repeat_ngram_size", bad[4].p.no_repeat_ngram_size = -2;
    bad[5].what = "min_new_tokens", bad[5].p.min_new_tokens = -3;
    for (int i = 0; i < 6; i++) {
        CHECK(generate_resolve_params(f->m, &bad[i].p, &r) == ACCEL_ERR_INVALID_ARG);
        CHECK(strstr(accel_last_error(), bad[i].what) != NULL);
        CHECK(accel_generate_text(f->s, text, 1, &bad[i].p, out) == ACCEL_ERR_INVALID_ARG);
        CHECK(out[0] == NULL);
        out[0] = (char *)1;
    }
    /* defaults: the fixture's generation config has no max_length: HF 5.24 generates 20 new tokens */
    CHECK(generate_resolve_params(f->m, NULL, &r) == ACCEL_OK);
    CHECK_INT_EQ(r.max_new_tokens, 20);
    CHECK_INT_EQ(r.num_beams, 1);
    CHECK_INT_EQ(r.max_input_tokens, 64); /* tokenizer_config model_max_length */
    CHECK(accel_generate_text(NULL, text, 1, NULL, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(accel_generate_text(f->s, text, 0, NULL, out) == ACCEL_ERR_INVALID_ARG);
    const char *null_text[1] = {NULL};
    CHECK(accel_generate_text(f->s, null_text, 1, NULL, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(out[0] == NULL);
}

static void test_bad_texts(void) {
    fixture *f = &g_fx[0];
    char *out[2] = {NULL, NULL};
    /* empty (and whitespace-only) text: nothing to generate from */
    const char *empty[2] = {"summarize: the weather", ""};
    CHECK(accel_generate_text(f->s, empty, 2, NULL, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "texts[1] is empty") != NULL);
    CHECK(out[0] == NULL && out[1] == NULL);
    const char *blank[1] = {"   \t "};
    CHECK(accel_generate_text(f->s, blank, 1, NULL, out) == ACCEL_ERR_INVALID_ARG);
    /* invalid UTF-8 */
    const char *bad_utf8[1] = {"caf\xc3"};
    CHECK(accel_generate_text(f->s, bad_utf8, 1, NULL, out) == ACCEL_ERR_INVALID_ARG);
    /* too long: more tokens than max_input_tokens (or the tokenizer's model_max_length 64) */
    const char *text[1] = {"translate English to German: The house is wonderful."};
    accel_generate_params p = accel_generate_default_params();
    p.max_new_tokens = 3;
    p.max_input_tokens = 5;
    CHECK(accel_generate_text(f->s, text, 1, &p, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "more than the limit of 5") != NULL);
    char long_text[4096] = "summarize:";
    for (int i = 0; i < 80; i++) strcat(long_text, " the house");
    const char *longer[1] = {long_text};
    p.max_input_tokens = 0;
    CHECK(accel_generate_text(f->s, longer, 1, &p, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "more than the limit of 64") != NULL);
    /* with truncate: generation runs on the first 64 tokens, the same as on those tokens given directly */
    p.truncate = true;
    CHECK(accel_generate_text(f->s, longer, 1, &p, out) == ACCEL_OK);
    CHECK(out[0] != NULL);
    accel_free(out[0]);
    out[0] = NULL;
}

/* Hooks used out of order or with inconsistent arguments. */
static void test_session_misuse(void) {
    fixture *f = &g_fx[1];
    accel_session *s = NULL;
    CHECK(accel_session_new(f->m, NULL, &s) == ACCEL_OK);
    const accel_family *fam = f->m->family;
    int32_t tok[8] = {0}, src[8] = {0};
    float *logits = malloc(sizeof(float) * (size_t)(8 * f->V));
    CHECK(fam->s2s_start(s, 1, NULL, 4) == ACCEL_ERR_INVALID_ARG); /* nothing encoded */
    CHECK(fam->s2s_decode(s, tok, 0, logits) == ACCEL_ERR_INVALID_ARG);
    accel_token_batch b = fixture_batch(f);
    CHECK(fam->s2s_encode(s, &b) == ACCEL_OK);
    CHECK(fam->s2s_start(s, (int)f->B + 1, NULL, 4) == ACCEL_ERR_INVALID_ARG); /* not a multiple of the batch */
    const int32_t scattered[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    CHECK(fam->s2s_start(s, 8, scattered, 4) == ACCEL_ERR_INVALID_ARG);          /* rows not grouped */
    const int32_t grouped[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    CHECK(fam->s2s_start(s, 8, grouped, 2) == ACCEL_OK);
    CHECK(fam->s2s_decode(s, tok, 1, logits) == ACCEL_ERR_INVALID_ARG); /* position 0 not filled yet */
    CHECK(fam->s2s_decode(s, tok, 0, logits) == ACCEL_OK);
    CHECK(fam->s2s_decode(s, tok, 1, logits) == ACCEL_OK);
    CHECK(fam->s2s_decode(s, tok, 2, logits) == ACCEL_ERR_INVALID_ARG); /* no room */
    for (int i = 0; i < 8; i++) src[i] = i ^ 1;                         /* swap within each input's pair */
    CHECK(fam->s2s_reorder(s, src) == ACCEL_OK);
    src[0] = 2; /* another input's sequence */
    CHECK(fam->s2s_reorder(s, src) == ACCEL_ERR_INVALID_ARG);
    tok[0] = (int32_t)f->V; /* outside the vocabulary */
    CHECK(fam->s2s_decode(s, tok, 0, logits) == ACCEL_ERR_INVALID_ARG);
    int32_t bad_ids[2] = {5, (int32_t)f->V};
    accel_token_batch bb = {1, 2, bad_ids, NULL, NULL};
    CHECK(fam->s2s_encode(s, &bb) == ACCEL_ERR_INVALID_ARG);
    free(logits);
    accel_session_free(s);
}

static void expect_load_fails_(const char *dir, accel_status want, const char *needle, int line) {
    accel_model *m = (accel_model *)1;
    const accel_status st = accel_model_load(dir, NULL, &m);
    printf("     line %d: %s: %s\n", line, accel_status_name(st), accel_last_error());
    if (st != want || m != NULL || !strstr(accel_last_error(), needle)) {
        test_checks_failed_++;
        fprintf(stderr, "  FAIL line %d: wanted %s mentioning '%s'\n", line, accel_status_name(want), needle);
    }
    if (st == ACCEL_OK) accel_model_free(m);
}
#define expect_load_fails(dir, want, needle) expect_load_fails_(dir, want, needle, __LINE__)

static void test_bad_models(void) {
    CHECK(g_tmp != NULL);
    if (!g_tmp) return;
    static const char *const required[] = {"d_kv", "d_ff", "vocab_size", "d_model", "num_heads", "num_layers"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const char *dir = fresh_copy("t5");
        CHECK(mt_config_set(dir, required[i], NULL));
        expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, required[i]);
    }
    const char *dir = fresh_copy("t5");
    CHECK(mt_config_set(dir, "feed_forward_proj", "\"gated-relu-x\""));
    CHECK(mt_config_set(dir, "dense_act_fn", NULL));
    expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, "feed_forward_proj");
    dir = fresh_copy("t5_v11");
    CHECK(mt_config_set(dir, "feed_forward_proj", "\"gated-no_such_act\""));
    expect_load_fails(dir, ACCEL_ERR_UNSUPPORTED, "no_such_act");
    dir = fresh_copy("t5");
    CHECK(mt_config_set(dir, "relative_attention_num_buckets", "2"));
    expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, "relative_attention_num_buckets");
    dir = fresh_copy("t5");
    CHECK(mt_config_set(dir, "d_kv", "\"eight\""));
    expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, "d_kv");

    /* checkpoints: a missing tensor, a wrong shape (the message names the tensor) */
    char src[1024];
    mt_fixture(src, sizeof src, "t5", "model");
    static const char *const tensors[] = {"decoder.block.1.layer.1.EncDecAttention.k.weight",
                                          "decoder.block.0.layer.1.EncDecAttention.q.weight",
                                          "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                          "encoder.final_layer_norm.weight", "shared.weight"};
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++) {
        dir = fresh_copy("t5");
        CHECK(mt_rewrite_checkpoint(src, dir, tensors[i], NULL));
        expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, tensors[i]);
        dir = fresh_copy("t5");
        CHECK(mt_rewrite_checkpoint(src, dir, NULL, tensors[i]));
        expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, tensors[i]);
    }
    mt_fixture(src, sizeof src, "t5_v11", "model");
    dir = fresh_copy("t5_v11");
    CHECK(mt_rewrite_checkpoint(src, dir, "decoder.block.2.layer.2.DenseReluDense.wi_1.weight", NULL));
    expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, "wi_1");
    dir = fresh_copy("t5_v11");
    CHECK(mt_rewrite_checkpoint(src, dir, NULL, "lm_head.weight"));
    expect_load_fails(dir, ACCEL_ERR_MODEL_FORMAT, "lm_head.weight");
}

/* A second session on the same model and a repeated call give the same answer (state is per session). */
static void test_sessions_independent(void) {
    fixture *f = &g_fx[1];
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f->json, "cases"), "beam_es");
    accel_generate_params p = case_params(c);
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(f->json, "texts");
    const char *t[2] = {cJSON_GetArrayItem(texts, 1)->valuestring, cJSON_GetArrayItem(texts, 0)->valuestring};
    accel_session *s2 = NULL;
    CHECK(accel_session_new(f->m, NULL, &s2) == ACCEL_OK);
    char *a[2], *b[2];
    CHECK(accel_generate_text(s2, t, 2, &p, a) == ACCEL_OK);
    CHECK(accel_generate_text(s2, t + 1, 1, &p, b) == ACCEL_OK); /* a smaller batch reusing the buffers */
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(c, "decoded");
    CHECK_STR_EQ(a[0], cJSON_GetArrayItem(dec, 1)->valuestring);
    CHECK_STR_EQ(a[1], cJSON_GetArrayItem(dec, 0)->valuestring);
    CHECK_STR_EQ(b[0], a[1]);
    accel_free(a[0]);
    accel_free(a[1]);
    accel_free(b[0]);
    accel_session_free(s2);
}

/* A checkpoint stored in f16 (the v1.1 fixture with every tensor rounded to half precision): the weights stay f16
 * (matmuls widen them exactly while packing), embedding rows are widened after the gather; computing in f32, the
 * logits match HF's on the same rounded weights (teacher_forced_logits_f16_weights) at the fp32 bar. */
static void test_half_checkpoint(void) {
    fixture *f = &g_fx[1];
    accel_st *st = NULL;
    CHECK(accel_st_open(f->model, &st) == ACCEL_OK);
    if (!st) return;
    const int n = accel_st_count(st);
    mt_tensor *t = calloc((size_t)n, sizeof *t);
    uint16_t **half = calloc((size_t)n, sizeof *half);
    bool ok = t && half;
    for (int i = 0; ok && i < n; i++) {
        accel_st_info info;
        ok = accel_st_info_get(st, i, &info) == ACCEL_OK && info.dtype == ACCEL_ST_F32;
        float *x = ok ? mt_load_f32(st, info.name, NULL) : NULL;
        half[i] = ok ? malloc(sizeof(uint16_t) * (size_t)(info.nelements ? info.nelements : 1)) : NULL;
        ok = x && half[i];
        for (int64_t e = 0; ok && e < info.nelements; e++) half[i][e] = accel_f32_to_f16(x[e]);
        free(x);
        if (!ok) break;
        t[i] = (mt_tensor){.name = info.name, .dtype = ACCEL_ST_F16, .ndim = info.ndim, .data = half[i],
                           .nbytes = sizeof(uint16_t) * (size_t)info.nelements};
        for (int d = 0; d < info.ndim; d++) t[i].shape[d] = info.shape[d];
    }
    const char *dir = fresh_copy(f->name);
    char path[1300];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(ok && mt_write_safetensors(path, t, n));
    for (int i = 0; half && i < n; i++) free(half[i]);
    free(half);
    free(t);
    accel_st_close(st);

    accel_model *m = NULL;
    accel_session *s = NULL;
    CHECK(accel_model_load(dir, NULL, &m) == ACCEL_OK && accel_session_new(m, NULL, &s) == ACCEL_OK);
    int64_t shape[6];
    CHECK(mt_shape(f->exp, "greedy_sequences", shape) == 2);
    const int64_t W = shape[1], T = W - 1;
    int32_t *seq = mt_load_i32(f->exp, "greedy_sequences", NULL), *in = malloc(sizeof(int32_t) * (size_t)(f->B * T));
    size_t nl = 0;
    float *want = mt_load_f32(f->exp, "teacher_forced_logits_f16_weights", &nl),
          *got = malloc(sizeof(float) * (nl ? nl : 1));
    if (s && seq && in && want && got) {
        CHECK(m->weights[0].dtype == ACCEL_F16 || m->weights[1].dtype == ACCEL_F16);
        for (int64_t b = 0; b < f->B; b++) memcpy(in + b * T, seq + b * W, sizeof(int32_t) * (size_t)T);
        accel_token_batch tb = fixture_batch(f);
        CHECK(m->family->s2s_encode(s, &tb) == ACCEL_OK);
        CHECK(m->family->s2s_start(s, (int)f->B, NULL, T) == ACCEL_OK);
        CHECK(t5_decode_tokens(s, in, T, 0, got) == ACCEL_OK);
        const double e = mt_rel_err(got, want, nl);
        printf("     %-7s %-34s rel err %.3g\n", f->name, "f16 checkpoint teacher-forced", e);
        CHECK(e <= REL_TOL);
    }
    free(seq);
    free(in);
    free(want);
    free(got);
    accel_session_free(s);
    accel_model_free(m);
}

int main(void) {
    g_tmp = mt_tempdir("t5");
    bool ok = g_tmp && fixture_open(&g_fx[0]) && fixture_open(&g_fx[1]);
    CHECK(ok);
    if (ok) {
        RUN(test_encoder);
        RUN(test_teacher_forced);
        RUN(test_step_logits);
        RUN(test_generation_cases);
        RUN(test_buckets);
        RUN(test_bad_params);
        RUN(test_bad_texts);
        RUN(test_session_misuse);
        RUN(test_sessions_independent);
        RUN(test_half_checkpoint);
    }
    RUN(test_bad_models);
    fixture_close(&g_fx[0]);
    fixture_close(&g_fx[1]);
    if (g_tmp) mt_rm_rf(g_tmp);
    free(g_tmp);
    return test_summary();
}
