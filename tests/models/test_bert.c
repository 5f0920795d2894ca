/* test_bert.c — BERT parity with Hugging Face on the tiny random-weight fixture (tests/fixtures/models/bert):
 * every hidden state, the pooler, mean pooling (plain and L2), pair inputs with token type ids, the public
 * accel_embed on the fixture texts, the other poolings against values computed from HF's hidden states, and the
 * same graph on the scalar reference backend. Bars (issue 4): hidden states max |err| / max |HF| <= 1e-4,
 * pooled embeddings cosine >= 0.99999. */
#include "model_test_util.h"
#include "models/bert.h"
#include "tasks/tasks.h"
#include "test.h"

#include "io/json_util.h"

#include <math.h>
#include <stdlib.h>

#define REL_TOL 1e-4
#define COS_TOL 0.99999

static char g_model[1024], g_expected[1024];
static accel_st *g_exp;
static accel_model *g_m;
static accel_session *g_s;

/* The fixture's batch: [4, 31] ids, type ids, mask. */
static int32_t *g_ids, *g_types, *g_mask;
static int64_t g_B, g_S, g_H;

static accel_token_batch fixture_batch(void) {
    accel_token_batch b = {g_B, g_S, g_ids, g_types, g_mask};
    return b;
}

static void check_rel(const char *what, const float *got, const float *want, size_t n) {
    double e = mt_rel_err(got, want, n);
    printf("     %-28s rel err %.3g\n", what, e);
    CHECK(e <= REL_TOL);
}

static void check_rows_cos(const char *what, const float *got, const float *want, int64_t rows, int64_t dim) {
    double worst = 1;
    for (int64_t r = 0; r < rows; r++) {
        double c = mt_cosine(got + r * dim, want + r * dim, (size_t)dim);
        worst = c < worst ? c : worst;
    }
    printf("     %-28s worst cosine %.9f, rel err %.3g\n", what, worst,
           mt_rel_err(got, want, (size_t)(rows * dim)));
    CHECK(worst >= COS_TOL);
    CHECK(mt_rel_err(got, want, (size_t)(rows * dim)) <= REL_TOL);
}

static void test_hidden_states(void) {
    const accel_token_batch b = fixture_batch();
    const size_t n = (size_t)(g_B * g_S * g_H);
    float *got = malloc(n * sizeof *got);
    for (int layer = 0; layer <= 2; layer++) {
        char name[64];
        snprintf(name, sizeof name, "hidden_states.%d", layer);
        float *want = mt_load_f32(g_exp, name, NULL);
        CHECK(want != NULL);
        CHECK(bert_encode_layers(g_s, &b, layer, got, NULL) == ACCEL_OK);
        if (want) check_rel(name, got, want, n);
        free(want);
    }
    float *want = mt_load_f32(g_exp, "last_hidden_state", NULL);
    CHECK(want && bert_encode_layers(g_s, &b, -1, got, NULL) == ACCEL_OK);
    if (want) check_rel("last_hidden_state", got, want, n);
    /* through the family table too (what the embedding task calls) */
    CHECK(want && g_m->family->encode(g_s, &b, got, NULL) == ACCEL_OK);
    if (want) check_rel("encode hook", got, want, n);
    free(want);
    free(got);
}

static void test_pooler(void) {
    const accel_token_batch b = fixture_batch();
    float *got = malloc((size_t)(g_B * g_H) * sizeof *got), *want = mt_load_f32(g_exp, "pooler_output", NULL);
    CHECK(want && bert_encode_layers(g_s, &b, -1, NULL, got) == ACCEL_OK);
    if (want) check_rel("pooler_output", got, want, (size_t)(g_B * g_H));
    /* the POOLER pooling of the embedding task gives the same */
    CHECK(want && embed_tokens(g_s, &b, ACCEL_POOLING_POOLER, false, NULL, got) == ACCEL_OK);
    if (want) check_rel("embed POOLER", got, want, (size_t)(g_B * g_H));
    /* the pooler needs every layer */
    CHECK(bert_encode_layers(g_s, &b, 1, NULL, got) == ACCEL_ERR_INVALID_ARG);
    free(got);
    free(want);
}

static void test_mean_pooling(void) {
    const accel_token_batch b = fixture_batch();
    float *got = malloc((size_t)(g_B * g_H) * sizeof *got);
    float *mean = mt_load_f32(g_exp, "embedding_mean", NULL), *l2 = mt_load_f32(g_exp, "embedding_mean_l2", NULL);
    CHECK(mean && l2);
    CHECK(embed_tokens(g_s, &b, ACCEL_POOLING_MEAN, false, NULL, got) == ACCEL_OK);
    if (mean) check_rows_cos("embedding_mean", got, mean, g_B, g_H);
    CHECK(embed_tokens(g_s, &b, ACCEL_POOLING_MEAN, true, NULL, got) == ACCEL_OK);
    if (l2) check_rows_cos("embedding_mean_l2", got, l2, g_B, g_H);
    /* DEFAULT = MEAN for a directory without sentence-transformers files */
    CHECK(embed_tokens(g_s, &b, ACCEL_POOLING_DEFAULT, true, NULL, got) == ACCEL_OK);
    if (l2) check_rows_cos("DEFAULT pooling", got, l2, g_B, g_H);
    free(got);
    free(mean);
    free(l2);
}

/* CLS and MAX pooling against values computed here from HF's last_hidden_state. */
static void test_other_poolings(void) {
    const accel_token_batch b = fixture_batch();
    float *hidden = mt_load_f32(g_exp, "last_hidden_state", NULL);
    CHECK(hidden != NULL);
    if (!hidden) return;
    float *want_cls = malloc((size_t)(g_B * g_H) * sizeof(float));
    float *want_max = malloc((size_t)(g_B * g_H) * sizeof(float));
    for (int64_t r = 0; r < g_B; r++)
        for (int64_t j = 0; j < g_H; j++) {
            want_cls[r * g_H + j] = hidden[(r * g_S) * g_H + j];
            float mx = -INFINITY;
            for (int64_t t = 0; t < g_S; t++)
                if (g_mask[r * g_S + t] && hidden[(r * g_S + t) * g_H + j] > mx) mx = hidden[(r * g_S + t) * g_H + j];
            want_max[r * g_H + j] = mx;
        }
    float *got = malloc((size_t)(g_B * g_H) * sizeof *got);
    CHECK(embed_tokens(g_s, &b, ACCEL_POOLING_CLS, false, NULL, got) == ACCEL_OK);
    check_rows_cos("CLS pooling", got, want_cls, g_B, g_H);
    CHECK(embed_tokens(g_s, &b, ACCEL_POOLING_MAX, false, NULL, got) == ACCEL_OK);
    check_rows_cos("MAX pooling", got, want_max, g_B, g_H);
    free(got);
    free(want_cls);
    free(want_max);
    free(hidden);
}

static void test_pair(void) {
    int64_t shape[6];
    CHECK(mt_shape(g_exp, "pair_input_ids", shape) == 2);
    int32_t *ids = mt_load_i32(g_exp, "pair_input_ids", NULL), *types = mt_load_i32(g_exp, "pair_token_type_ids", NULL);
    int32_t *mask = mt_load_i32(g_exp, "pair_attention_mask", NULL);
    float *want = mt_load_f32(g_exp, "pair_last_hidden_state", NULL);
    CHECK(ids && types && mask && want);
    bool has_b = false;
    for (int64_t i = 0; types && i < shape[0] * shape[1]; i++) has_b = has_b || types[i] == 1;
    CHECK(has_b); /* the pair really uses token type 1 */
    if (ids && types && mask && want) {
        const accel_token_batch b = {shape[0], shape[1], ids, types, mask};
        const size_t n = (size_t)(shape[0] * shape[1] * g_H);
        float *got = malloc(n * sizeof *got);
        CHECK(bert_encode_layers(g_s, &b, -1, got, NULL) == ACCEL_OK);
        check_rel("pair_last_hidden_state", got, want, n);
        /* without the type ids the result differs: the token-type table is really used */
        const accel_token_batch b0 = {shape[0], shape[1], ids, NULL, mask};
        CHECK(bert_encode_layers(g_s, &b0, -1, got, NULL) == ACCEL_OK);
        CHECK(mt_rel_err(got, want, n) > 1e-3);
        free(got);
    }
    free(ids);
    free(types);
    free(mask);
    free(want);
}

/* The public API on the fixture texts: tokenization, batching, padding, pooling. */
static void test_accel_embed(void) {
    char path[1100];
    snprintf(path, sizeof path, "%s/expected.json", g_expected);
    cJSON *root = NULL;
    CHECK(accel_json_parse_file(path, 0, &root) == ACCEL_OK);
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(root, "texts");
    const int n = cJSON_GetArraySize(texts);
    CHECK(n == g_B);
    if (n != g_B) {
        cJSON_Delete(root);
        return;
    }
    const char **t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) t[i] = cJSON_GetArrayItem(texts, i)->valuestring;
    CHECK_INT_EQ(accel_model_embedding_dim(g_m), g_H);
    float *got = malloc((size_t)(n * g_H) * sizeof *got);
    float *mean = mt_load_f32(g_exp, "embedding_mean", NULL), *l2 = mt_load_f32(g_exp, "embedding_mean_l2", NULL);
    accel_embed_params p = accel_embed_default_params();
    p.normalize = 0;
    CHECK(accel_embed(g_s, t, n, &p, got, (size_t)(n * g_H)) == ACCEL_OK);
    if (mean) check_rows_cos("accel_embed mean", got, mean, n, g_H);
    p.normalize = 1;
    CHECK(accel_embed(g_s, t, n, &p, got, (size_t)(n * g_H)) == ACCEL_OK);
    if (l2) check_rows_cos("accel_embed mean l2", got, l2, n, g_H);
    /* one text at a time (no padding at all) gives the same vectors */
    for (int i = 0; i < n && l2; i++) {
        CHECK(accel_embed(g_s, &t[i], 1, &p, got, (size_t)g_H) == ACCEL_OK);
        CHECK(mt_cosine(got, l2 + i * g_H, (size_t)g_H) >= COS_TOL);
    }
    /* many texts: chunking and length sorting keep each text's vector in its place */
    enum { MANY = 75 };
    const char *many[MANY];
    for (int i = 0; i < MANY; i++) many[i] = t[(i * 7) % n];
    float *big = malloc((size_t)(MANY * g_H) * sizeof *big);
    CHECK(accel_embed(g_s, many, MANY, &p, big, (size_t)(MANY * g_H)) == ACCEL_OK);
    double worst = 1;
    for (int i = 0; i < MANY && l2; i++) {
        double c = mt_cosine(big + i * g_H, l2 + ((i * 7) % n) * g_H, (size_t)g_H);
        worst = c < worst ? c : worst;
    }
    printf("     %-28s worst cosine %.9f\n", "accel_embed 75 texts", worst);
    CHECK(worst >= COS_TOL);
    /* out too small */
    CHECK(accel_embed(g_s, t, n, &p, got, (size_t)(n * g_H - 1)) == ACCEL_ERR_INVALID_ARG);
    free(big);
    free(got);
    free(mean);
    free(l2);
    free(t);
    cJSON_Delete(root);
}

/* The same graph on the scalar reference backend: the family code is device-agnostic. */
static void test_ref_device(void) {
    accel_device *ref = accel_device_by_name("ref");
    CHECK(ref != NULL);
    if (!ref) return;
    accel_model_params mp = accel_model_default_params();
    mp.devices = &ref;
    mp.n_devices = 1;
    accel_model *m = NULL;
    accel_session *s = NULL;
    CHECK(accel_model_load(g_model, &mp, &m) == ACCEL_OK);
    CHECK(m && accel_session_new(m, NULL, &s) == ACCEL_OK);
    float *want = mt_load_f32(g_exp, "last_hidden_state", NULL);
    const size_t n = (size_t)(g_B * g_S * g_H);
    float *got = malloc(n * sizeof *got);
    const accel_token_batch b = fixture_batch();
    CHECK(s && want && bert_encode_layers(s, &b, -1, got, NULL) == ACCEL_OK);
    if (s && want) check_rel("last_hidden_state on ref", got, want, n);
    CHECK_STR_EQ(accel_session_devices_used(s), "ref");
    free(got);
    free(want);
    accel_session_free(s);
    accel_model_free(m);
}

static void test_model_info(void) {
    CHECK_STR_EQ(accel_model_family(g_m), "bert");
    CHECK_STR_EQ(accel_model_architecture(g_m), "BertModel");
    CHECK(accel_model_supports(g_m, ACCEL_TASK_EMBED));
    CHECK(!accel_model_supports(g_m, ACCEL_TASK_SEQ2SEQ));
    CHECK_INT_EQ(accel_model_max_tokens(g_m), 64);
    CHECK(strstr(accel_session_devices_used(g_s), "cpu") != NULL);
}

int main(void) {
    mt_fixture(g_model, sizeof g_model, "bert", "model");
    mt_fixture(g_expected, sizeof g_expected, "bert", "expected");
    char path[1100];
    snprintf(path, sizeof path, "%s/expected.safetensors", g_expected);
    if (accel_st_open(path, &g_exp) != ACCEL_OK || accel_model_load(g_model, NULL, &g_m) != ACCEL_OK ||
        accel_session_new(g_m, NULL, &g_s) != ACCEL_OK) {
        fprintf(stderr, "setup failed: %s\n", accel_last_error());
        return 1;
    }
    int64_t shape[6];
    if (mt_shape(g_exp, "last_hidden_state", shape) != 3) return 1;
    g_B = shape[0], g_S = shape[1], g_H = shape[2];
    g_ids = mt_load_i32(g_exp, "input_ids", NULL);
    g_types = mt_load_i32(g_exp, "token_type_ids", NULL);
    g_mask = mt_load_i32(g_exp, "attention_mask", NULL);
    if (!g_ids || !g_types || !g_mask) return 1;
    RUN(test_hidden_states);
    RUN(test_pooler);
    RUN(test_mean_pooling);
    RUN(test_other_poolings);
    RUN(test_pair);
    RUN(test_accel_embed);
    RUN(test_ref_device);
    RUN(test_model_info);
    free(g_ids);
    free(g_types);
    free(g_mask);
    accel_session_free(g_s);
    accel_model_free(g_m);
    accel_st_close(g_exp);
    return test_summary();
}
