/* Every reference fixture (tests/fixtures/models/<family>/, written by Hugging Face save_pretrained and the
 * python/reference script) must read cleanly with our own loaders: config.json through hf_config, the checkpoint
 * and expected.safetensors through the safetensors reader, and every tensor expected.json announces present with
 * the announced dtype and shape. This ties the loaders to files real HF code wrote, not only to files the tests
 * wrote themselves. */
#include "io/hf_config.h"
#include "io/json_util.h"
#include "io/safetensors.h"
#include "test.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char g_root[1024];
static int g_families;

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *st_name_for(const char *json_dtype) {
    static const struct {
        const char *json, *st;
    } map[] = {{"float32", "F32"}, {"float16", "F16"}, {"bfloat16", "BF16"}, {"int8", "I8"}, {"uint8", "U8"},
               {"int16", "I16"}, {"int32", "I32"},   {"int64", "I64"},    {"bool", "BOOL"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].json, json_dtype) == 0) return map[i].st;
    return NULL;
}

/* Hyper-parameters of one (sub-)config; true when it read. Multimodal configs keep sizes in their sub-configs. */
static bool read_hparams(const accel_hf_json *j, accel_hf_hparams *hp) {
    accel_hf_hparams_init(hp);
    return j && accel_hf_hparams_read(j, ACCEL_HF_NAMING_AUTO, hp) == ACCEL_OK && hp->hidden_size > 0 &&
           hp->num_hidden_layers > 0;
}

static void check_model_dir(const char *family, const char *dir) {
    accel_hf_dir *d = NULL;
    CHECK(accel_hf_dir_open(dir, NULL, &d) == ACCEL_OK);
    if (!d) return;
    CHECK(accel_hf_dir_model_type(d) != NULL);
    CHECK(accel_hf_dir_architecture(d) != NULL);
    /* the top-level config, or each of its sub-configs, must give consistent hyper-parameters */
    static const char *const subs[] = {"text_config", "vision_config", "audio_config"};
    accel_hf_hparams hp[4];
    int n_read = 0, n_tried = 0;
    int64_t vocab[4] = {0}, hidden[4] = {0};
    const accel_hf_json *cfgs[4] = {accel_hf_dir_config(d), NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        CHECK(accel_hf_json_sub(accel_hf_dir_config(d), subs[k], &cfgs[k + 1]) == ACCEL_OK);
    }
    bool has_subs = cfgs[1] || cfgs[2] || cfgs[3];
    for (int k = 0; k < 4; k++) {
        if (!cfgs[k] || (k == 0 && has_subs)) continue;
        /* staged (Swin-style) encoders have per-stage depths and heads: their family code reads them */
        if (accel_hf_json_has(cfgs[k], "depths")) continue;
        n_tried++;
        if (!read_hparams(cfgs[k], &hp[k])) {
            fprintf(stderr, "  %s: %s\n", family, accel_last_error());
            continue;
        }
        n_read++;
        vocab[k] = hp[k].vocab_size;
        hidden[k] = hp[k].hidden_size;
    }
    CHECK(n_tried > 0 && n_read == n_tried);
    accel_hf_tokenizer_config tc;
    if (accel_hf_dir_file(d, ACCEL_HF_TOKENIZER_CONFIG)) CHECK(accel_hf_dir_tokenizer_config(d, &tc) == ACCEL_OK);
    accel_hf_dir_free(d);

    accel_st *ck = NULL;
    CHECK(accel_st_open(dir, &ck) == ACCEL_OK);
    CHECK(accel_st_count(ck) > 0);
    /* a model with a vocabulary stores an embedding table [vocab, hidden] of one of its configs */
    bool want_vocab = false, found_vocab = false;
    for (int k = 0; k < 4; k++) want_vocab |= vocab[k] > 0;
    for (int i = 0; i < accel_st_count(ck); i++) {
        accel_st_info info;
        CHECK(accel_st_info_get(ck, i, &info) == ACCEL_OK);
        for (int k = 0; k < 4; k++)
            if (info.ndim == 2 && vocab[k] > 0 && info.shape[0] == vocab[k] && info.shape[1] == hidden[k]) found_vocab = true;
    }
    CHECK(!want_vocab || found_vocab);
    accel_st_close(ck);
}

static void check_expected(const char *family, const char *dir) {
    char path[1600];
    snprintf(path, sizeof path, "%.1500s/expected.json", dir);
    cJSON *doc = NULL;
    CHECK(accel_json_parse_file(path, 64u << 20, &doc) == ACCEL_OK);
    snprintf(path, sizeof path, "%.1500s/expected.safetensors", dir);
    accel_st *st = NULL;
    CHECK(accel_st_open(path, &st) == ACCEL_OK);
    const cJSON *tensors = doc ? cJSON_GetObjectItemCaseSensitive(doc, "tensors") : NULL;
    CHECK(cJSON_IsObject(tensors));
    int announced = 0;
    for (const cJSON *t = tensors ? tensors->child : NULL; t && st; t = t->next) {
        announced++;
        int i = accel_st_find(st, t->string);
        if (i < 0) {
            fprintf(stderr, "  %s: expected tensor '%s' missing\n", family, t->string);
            CHECK(i >= 0);
            continue;
        }
        accel_st_info info;
        CHECK(accel_st_info_get(st, i, &info) == ACCEL_OK);
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
        const char *want = cJSON_IsString(dt) ? st_name_for(dt->valuestring) : NULL;
        CHECK(want && strcmp(want, accel_st_dtype_name(info.dtype)) == 0);
        CHECK(cJSON_IsArray(shape) && cJSON_GetArraySize(shape) == info.ndim);
        for (int k = 0; k < info.ndim && cJSON_IsArray(shape); k++) {
            const cJSON *dim = cJSON_GetArrayItem(shape, k);
            CHECK(cJSON_IsNumber(dim) && (int64_t)dim->valuedouble == info.shape[k]);
        }
    }
    CHECK(announced > 0);
    CHECK(st && announced == accel_st_count(st));
    accel_st_close(st);
    cJSON_Delete(doc);
}

static void test_every_family(void) {
    DIR *dir = opendir(g_root);
    CHECK(dir != NULL);
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char fam[1300], sub[1400];
        snprintf(fam, sizeof fam, "%.1000s/%.255s", g_root, e->d_name);
        if (!is_dir(fam)) continue;
        g_families++;
        int before = test_checks_failed_;
        snprintf(sub, sizeof sub, "%.1300s/model", fam);
        if (is_dir(sub)) check_model_dir(e->d_name, sub);
        snprintf(sub, sizeof sub, "%.1300s/expected", fam);
        CHECK(is_dir(sub));
        check_expected(e->d_name, sub);
        printf("     %-10s %s\n", e->d_name, test_checks_failed_ == before ? "ok" : "FAILED");
    }
    closedir(dir);
    CHECK(g_families >= 5); /* bert, minilm, t5, llama, qwen2 at least */
}

int main(void) {
    const char *env = getenv("ACCEL_FIXTURES_DIR");
    if (env && *env) {
        snprintf(g_root, sizeof g_root, "%.1000s/models", env);
    } else { /* tests/unit/test_fixture_files.c -> tests/fixtures/models */
        snprintf(g_root, sizeof g_root, "%.1000s", __FILE__);
        char *cut = strstr(g_root, "unit/test_fixture_files.c");
        if (cut) strcpy(cut, "fixtures/models");
    }
    RUN(test_every_family);
    return test_summary();
}
