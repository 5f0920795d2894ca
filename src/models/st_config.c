/* st_config.c — sentence-transformers module configuration (see st_config.h). */
#include "models/st_config.h"

#include "core/error.h"
#include "io/json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_BYTES ((size_t)1 << 20) /* these files are a few hundred bytes */

/* Whether type names the sentence-transformers module `cls` ("sentence_transformers.models.Pooling" or
 * "Pooling"). */
static bool module_is(const char *type, const char *cls) {
    const size_t n = strlen(type), c = strlen(cls);
    return n >= c && strcmp(type + n - c, cls) == 0 && (n == c || type[n - c - 1] == '.');
}

/* Reads the Pooling module's config.json. */
static accel_status read_pooling(const char *path, st_config *out) {
    cJSON *root = NULL;
    accel_status st = accel_json_parse_file(path, ST_MAX_BYTES, &root);
    if (st == ACCEL_ERR_NOT_FOUND)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: missing (modules.json lists a Pooling module)", path);
    if (st != ACCEL_OK) return st;
    accel_json_ctx c = {root, path, NULL};
    static const struct {
        const char *key;
        accel_pooling pooling; /* DEFAULT = a mode we do not implement */
    } k_modes[] = {
        {"pooling_mode_cls_token", ACCEL_POOLING_CLS},
        {"pooling_mode_mean_tokens", ACCEL_POOLING_MEAN},
        {"pooling_mode_max_tokens", ACCEL_POOLING_MAX},
        {"pooling_mode_mean_sqrt_len_tokens", ACCEL_POOLING_DEFAULT},
        {"pooling_mode_weightedmean_tokens", ACCEL_POOLING_DEFAULT},
        {"pooling_mode_lasttoken", ACCEL_POOLING_DEFAULT},
    };
    int n_on = 0;
    for (size_t i = 0; i < sizeof k_modes / sizeof k_modes[0] && st == ACCEL_OK; i++) {
        bool on = false;
        st = accel_json_get_bool(&c, k_modes[i].key, false, false, &on, NULL);
        if (st != ACCEL_OK || !on) continue;
        if (k_modes[i].pooling == ACCEL_POOLING_DEFAULT)
            st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: %s is not implemented (cls, mean and max are)", path,
                                 k_modes[i].key);
        out->pooling = k_modes[i].pooling;
        n_on++;
    }
    if (st == ACCEL_OK && n_on == 0)
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: no pooling_mode_* is true", path);
    if (st == ACCEL_OK && n_on > 1)
        st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: %d pooling modes at once (concatenated) are not implemented",
                             path, n_on);
    if (st == ACCEL_OK) st = accel_json_get_int(&c, "word_embedding_dimension", false, 0, &out->embedding_dim, NULL);
    cJSON_Delete(root);
    return st;
}

/* Reads modules.json (a JSON array, so not through accel_json_parse_file, which wants an object). */
static accel_status read_modules(const char *dir, const char *path, st_config *out) {
    char *text = NULL;
    size_t len = 0;
    accel_status st = accel_json_read_file(path, ST_MAX_BYTES, &text, &len);
    if (st != ACCEL_OK) return st;
    size_t bad = 0;
    cJSON *root = NULL;
    if (!accel_json_utf8_check(text, len, &bad))
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: invalid UTF-8 at byte %zu", path, bad);
    else if (!(root = cJSON_ParseWithOpts(text, NULL, 1)))
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: not valid JSON", path);
    else if (!cJSON_IsArray(root))
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: expected an array of modules", path);
    free(text);
    int i = 0;
    const cJSON *mod;
    cJSON_ArrayForEach(mod, root) {
        if (st != ACCEL_OK) break;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(mod, "type");
        const cJSON *mpath = cJSON_GetObjectItemCaseSensitive(mod, "path");
        if (!cJSON_IsObject(mod) || !cJSON_IsString(type) || !cJSON_IsString(mpath)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: module [%d] needs string \"type\" and \"path\"", path, i);
        } else if (module_is(type->valuestring, "Pooling")) {
            char cfg[4096];
            if ((size_t)snprintf(cfg, sizeof cfg, "%s/%s/config.json", dir, mpath->valuestring) >= sizeof cfg)
                st = accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: module [%d] path is too long", path, i);
            else
                st = read_pooling(cfg, out);
        } else if (module_is(type->valuestring, "Normalize")) {
            out->normalize = 1;
        } else if (!module_is(type->valuestring, "Transformer")) {
            st = accel_set_error(ACCEL_ERR_UNSUPPORTED,
                                 "%s: module [%d] of type '%s' is not implemented (Transformer, Pooling and "
                                 "Normalize are)",
                                 path, i, type->valuestring);
        }
        i++;
    }
    cJSON_Delete(root);
    return st;
}

static accel_status read_sbert_config(const char *path, st_config *out) {
    cJSON *root = NULL;
    accel_status st = accel_json_parse_file(path, ST_MAX_BYTES, &root);
    if (st == ACCEL_ERR_NOT_FOUND) return ACCEL_OK; /* optional */
    if (st != ACCEL_OK) return st;
    accel_json_ctx c = {root, path, NULL};
    st = accel_json_get_int(&c, "max_seq_length", false, 0, &out->max_seq_length, NULL);
    if (st == ACCEL_OK && out->max_seq_length < 0)
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: max_seq_length is negative", path);
    cJSON_Delete(root);
    return st;
}

accel_status st_config_read(const char *dir, st_config *out) {
    if (!dir || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "st_config_read: NULL argument");
    memset(out, 0, sizeof *out);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/modules.json", dir) >= sizeof path)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: path too long", dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        out->has_modules = true;
        accel_status st = read_modules(dir, path, out);
        if (st != ACCEL_OK) return st;
    }
    snprintf(path, sizeof path, "%s/sentence_bert_config.json", dir);
    return read_sbert_config(path, out);
}
