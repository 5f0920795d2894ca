/* Hugging Face model-directory configuration files (see hf_config.h). */
#include "io/hf_config.h"

#include "core/error.h"
#include "io/json_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct accel_hf_json {
    const cJSON *node;
    const char *file;                /* owned by the dir */
    char *path;                      /* owned */
    const struct accel_hf_dir *owner;
};

struct accel_hf_dir {
    char *dir;
    char *file_paths[ACCEL_HF_FILE_COUNT];
    cJSON *roots[ACCEL_HF_FILE_COUNT];
    accel_hf_json *views; /* every object node of every file, sorted by node pointer */
    size_t n_views, cap_views;
    const accel_hf_json *root_views[ACCEL_HF_FILE_COUNT];
    char *chat_template_jinja;
    char *jinja_path;
};

static const char *const k_file_names[ACCEL_HF_FILE_COUNT] = {
    "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer_config.json",
    "special_tokens_map.json", "chat_template.json",
};

accel_hf_dir_params accel_hf_dir_default_params(void) {
    accel_hf_dir_params p;
    memset(&p, 0, sizeof p);
    p.max_file_bytes = ACCEL_JSON_DEFAULT_MAX_BYTES;
    return p;
}

static char *join_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (!slash) s[k++] = '/';
    memcpy(s + k, name, b + 1);
    return s;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Adds a view for every object node below (and including) node; path is node's key path. */
static accel_status add_views(accel_hf_dir *d, const cJSON *node, const char *file, const char *path, int depth) {
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) return ACCEL_OK;
    if (cJSON_IsObject(node)) {
        if (d->n_views == d->cap_views) {
            size_t nc = d->cap_views ? d->cap_views * 2 : 32;
            accel_hf_json *nv = realloc(d->views, nc * sizeof *nv);
            if (!nv) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "hf config: out of memory");
            d->views = nv;
            d->cap_views = nc;
        }
        char *p = dup_str(path);
        if (!p) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "hf config: out of memory");
        d->views[d->n_views].node = node;
        d->views[d->n_views].file = file;
        d->views[d->n_views].path = p;
        d->views[d->n_views].owner = d;
        d->n_views++;
    }
    if (depth >= CJSON_NESTING_LIMIT + 1) return ACCEL_OK; /* cannot happen: cJSON refuses deeper documents */
    size_t idx = 0;
    for (const cJSON *ch = node->child; ch; ch = ch->next, idx++) {
        if (!cJSON_IsObject(ch) && !cJSON_IsArray(ch)) continue;
        char *sub;
        size_t plen = strlen(path);
        if (cJSON_IsObject(node)) {
            const char *key = ch->string ? ch->string : "";
            size_t klen = strlen(key);
            sub = malloc(plen + klen + 2);
            if (!sub) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "hf config: out of memory");
            if (plen)
                snprintf(sub, plen + klen + 2, "%s.%s", path, key);
            else
                memcpy(sub, key, klen + 1);
        } else {
            sub = malloc(plen + 24);
            if (!sub) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "hf config: out of memory");
            snprintf(sub, plen + 24, "%s[%zu]", path, idx);
        }
        accel_status st = add_views(d, ch, file, sub, depth + 1);
        free(sub);
        if (st != ACCEL_OK) return st;
    }
    return ACCEL_OK;
}

static int cmp_view(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const accel_hf_json *)a)->node, y = (uintptr_t)((const accel_hf_json *)b)->node;
    return x < y ? -1 : x > y;
}

static const accel_hf_json *view_of(const accel_hf_dir *d, const cJSON *node) {
    accel_hf_json key = {node, NULL, NULL, NULL};
    return bsearch(&key, d->views, d->n_views, sizeof key, cmp_view);
}

void accel_hf_dir_free(accel_hf_dir *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_views; i++) free(d->views[i].path);
    free(d->views);
    for (int i = 0; i < ACCEL_HF_FILE_COUNT; i++) {
        cJSON_Delete(d->roots[i]);
        free(d->file_paths[i]);
    }
    free(d->chat_template_jinja);
    free(d->jinja_path);
    free(d->dir);
    free(d);
}

static accel_json_ctx ctx_of(const accel_hf_json *j) {
    accel_json_ctx c = {j->node, j->file, j->path};
    return c;
}

accel_status accel_hf_dir_open(const char *dir, const accel_hf_dir_params *params, accel_hf_dir **out) {
    if (out) *out = NULL;
    if (!dir || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_dir_open: NULL argument");
    accel_hf_dir_params p = params ? *params : accel_hf_dir_default_params();
    if (p.max_file_bytes == 0) p.max_file_bytes = ACCEL_JSON_DEFAULT_MAX_BYTES;
    accel_hf_dir *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = dup_str(dir))) {
        free(d);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_hf_dir_open: out of memory");
    }
    accel_status st = ACCEL_OK;
    for (int i = 0; i < ACCEL_HF_FILE_COUNT; i++) {
        d->file_paths[i] = join_path(dir, k_file_names[i]);
        if (!d->file_paths[i]) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_hf_dir_open: out of memory");
            goto fail;
        }
        st = accel_json_parse_file(d->file_paths[i], p.max_file_bytes, &d->roots[i]);
        if (st == ACCEL_ERR_NOT_FOUND && i != ACCEL_HF_CONFIG) {
            st = ACCEL_OK;
            continue;
        }
        if (st != ACCEL_OK) goto fail;
        if ((st = add_views(d, d->roots[i], d->file_paths[i], "", 0)) != ACCEL_OK) goto fail;
    }
    /* chat_template.jinja: raw text */
    d->jinja_path = join_path(dir, "chat_template.jinja");
    if (!d->jinja_path) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_hf_dir_open: out of memory");
        goto fail;
    }
    {
        size_t len = 0, bad = 0;
        st = accel_json_read_file(d->jinja_path, p.max_file_bytes, &d->chat_template_jinja, &len);
        if (st == ACCEL_ERR_NOT_FOUND) {
            st = ACCEL_OK;
        } else if (st != ACCEL_OK) {
            goto fail;
        } else if (!accel_json_utf8_check(d->chat_template_jinja, len, &bad)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: invalid UTF-8 (or NUL) at byte %zu", d->jinja_path,
                                 bad);
            goto fail;
        }
    }
    qsort(d->views, d->n_views, sizeof *d->views, cmp_view);
    for (int i = 0; i < ACCEL_HF_FILE_COUNT; i++) d->root_views[i] = d->roots[i] ? view_of(d, d->roots[i]) : NULL;

    /* validate model_type and architectures */
    {
        accel_json_ctx c = ctx_of(d->root_views[ACCEL_HF_CONFIG]);
        if ((st = accel_json_get_string(&c, "model_type", false, NULL, NULL, NULL)) != ACCEL_OK) goto fail;
        const cJSON *arch = NULL;
        if ((st = accel_json_find(&c, "architectures", &arch)) != ACCEL_OK) goto fail;
        if (arch) {
            if (!cJSON_IsArray(arch)) {
                st = accel_json_error(&c, "architectures", ACCEL_ERR_MODEL_FORMAT, "is %s, expected an array of strings",
                                      accel_json_type_name(arch));
                goto fail;
            }
            size_t i = 0;
            for (const cJSON *el = arch->child; el; el = el->next, i++) {
                if (!cJSON_IsString(el)) {
                    char kp[64];
                    snprintf(kp, sizeof kp, "architectures[%zu]", i);
                    st = accel_json_error(&c, kp, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a string",
                                          accel_json_type_name(el));
                    goto fail;
                }
            }
        }
    }
    *out = d;
    return ACCEL_OK;
fail:
    accel_hf_dir_free(d);
    return st;
}

const char *accel_hf_dir_path(const accel_hf_dir *d) { return d ? d->dir : NULL; }

const accel_hf_json *accel_hf_dir_file(const accel_hf_dir *d, accel_hf_file which) {
    if (!d || (int)which < 0 || which >= ACCEL_HF_FILE_COUNT) return NULL;
    return d->root_views[which];
}

const accel_hf_json *accel_hf_dir_config(const accel_hf_dir *d) { return accel_hf_dir_file(d, ACCEL_HF_CONFIG); }

const char *accel_hf_dir_model_type(const accel_hf_dir *d) {
    if (!d) return NULL;
    const cJSON *v = accel_json_member(d->roots[ACCEL_HF_CONFIG], "model_type", 10);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *accel_hf_dir_architecture(const accel_hf_dir *d) {
    if (!d) return NULL;
    const cJSON *v = accel_json_member(d->roots[ACCEL_HF_CONFIG], "architectures", 13);
    if (!cJSON_IsArray(v) || !v->child || !cJSON_IsString(v->child)) return NULL;
    return v->child->valuestring;
}

/* Looks for a template called name in value v (a string or a list of {name, template}) from ctx c at path. */
static accel_status template_in(const accel_json_ctx *c, const char *path, const cJSON *v, const char *name,
                                const char **out) {
    if (cJSON_IsString(v)) {
        if (strcmp(name, "default") == 0) *out = v->valuestring;
        return ACCEL_OK;
    }
    if (!cJSON_IsArray(v))
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a string or a list of templates",
                                accel_json_type_name(v));
    size_t i = 0;
    for (const cJSON *el = v->child; el; el = el->next, i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "%s[%zu]", path, i);
        if (!cJSON_IsObject(el))
            return accel_json_error(c, kp, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an object {name, template}",
                                    accel_json_type_name(el));
        const char *n = NULL, *t = NULL;
        char np[96], tp[96];
        snprintf(np, sizeof np, "%s.name", kp);
        snprintf(tp, sizeof tp, "%s.template", kp);
        accel_status st = accel_json_get_string(c, np, true, NULL, &n, NULL);
        if (st == ACCEL_OK) st = accel_json_get_string(c, tp, true, NULL, &t, NULL);
        if (st != ACCEL_OK) return st;
        if (strcmp(n, name) == 0 && !*out) *out = t;
    }
    return ACCEL_OK;
}

accel_status accel_hf_dir_chat_template(const accel_hf_dir *d, const char *name, const char **out) {
    if (out) *out = NULL;
    if (!d || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_dir_chat_template: NULL argument");
    if (!name) name = "default";
    const char *found = NULL;
    accel_status st;
    const accel_hf_json *tc = d->root_views[ACCEL_HF_TOKENIZER_CONFIG];
    if (tc) {
        accel_json_ctx c = ctx_of(tc);
        const cJSON *v = NULL;
        if ((st = accel_json_find(&c, "chat_template", &v)) != ACCEL_OK) return st;
        if (v && (st = template_in(&c, "chat_template", v, name, &found)) != ACCEL_OK) return st;
    }
    if (!found && d->chat_template_jinja && strcmp(name, "default") == 0) found = d->chat_template_jinja;
    const accel_hf_json *cj = d->root_views[ACCEL_HF_CHAT_TEMPLATE_JSON];
    if (!found && cj) {
        accel_json_ctx c = ctx_of(cj);
        const cJSON *v = NULL;
        if ((st = accel_json_find(&c, "chat_template", &v)) != ACCEL_OK) return st;
        if (v && (st = template_in(&c, "chat_template", v, name, &found)) != ACCEL_OK) return st;
    }
    if (!found) return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: no chat template named '%s'", d->dir, name);
    *out = found;
    return ACCEL_OK;
}

/* ---- views ---------------------------------------------------------------------------------------------------- */



const char *accel_hf_json_file(const accel_hf_json *j) { return j ? j->file : NULL; }
const char *accel_hf_json_path(const accel_hf_json *j) { return j ? j->path : NULL; }
const void *accel_hf_json_raw(const accel_hf_json *j) { return j ? j->node : NULL; }

accel_status accel_hf_json_sub(const accel_hf_json *j, const char *path, const accel_hf_json **out) {
    if (out) *out = NULL;
    if (!j || !path || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_json_sub: NULL argument");
    accel_json_ctx c = ctx_of(j);
    const cJSON *v = NULL;
    accel_status st = accel_json_find(&c, path, &v);
    if (st != ACCEL_OK || !v) return st;
    if (!cJSON_IsObject(v))
        return accel_json_error(&c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an object", accel_json_type_name(v));
    const accel_hf_json *sv = view_of(j->owner, v);
    if (!sv) return accel_set_error(ACCEL_ERR_INTERNAL, "accel_hf_json_sub: no view for '%s'", path);
    *out = sv;
    return ACCEL_OK;
}

bool accel_hf_json_has(const accel_hf_json *j, const char *path) {
    if (!j || !path) return false;
    accel_json_ctx c = ctx_of(j);
    const cJSON *v = NULL;
    return accel_json_find(&c, path, &v) == ACCEL_OK && v != NULL;
}

#define CHECK_VIEW(j, fn)                                                                                             \
    do {                                                                                                             \
        if (!(j)) return accel_set_error(ACCEL_ERR_INVALID_ARG, fn ": NULL view");                                   \
    } while (0)

accel_status accel_hf_json_int(const accel_hf_json *j, const char *path, int64_t *out) {
    CHECK_VIEW(j, "accel_hf_json_int");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_int(&c, path, true, 0, out, NULL);
}
accel_status accel_hf_json_int_or(const accel_hf_json *j, const char *path, int64_t def, int64_t *out) {
    CHECK_VIEW(j, "accel_hf_json_int_or");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_int(&c, path, false, def, out, NULL);
}
accel_status accel_hf_json_float(const accel_hf_json *j, const char *path, double *out) {
    CHECK_VIEW(j, "accel_hf_json_float");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_double(&c, path, true, 0, out, NULL);
}
accel_status accel_hf_json_float_or(const accel_hf_json *j, const char *path, double def, double *out) {
    CHECK_VIEW(j, "accel_hf_json_float_or");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_double(&c, path, false, def, out, NULL);
}
accel_status accel_hf_json_bool(const accel_hf_json *j, const char *path, bool *out) {
    CHECK_VIEW(j, "accel_hf_json_bool");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_bool(&c, path, true, false, out, NULL);
}
accel_status accel_hf_json_bool_or(const accel_hf_json *j, const char *path, bool def, bool *out) {
    CHECK_VIEW(j, "accel_hf_json_bool_or");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_bool(&c, path, false, def, out, NULL);
}
accel_status accel_hf_json_string(const accel_hf_json *j, const char *path, const char **out) {
    CHECK_VIEW(j, "accel_hf_json_string");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_string(&c, path, true, NULL, out, NULL);
}
accel_status accel_hf_json_string_or(const accel_hf_json *j, const char *path, const char *def, const char **out) {
    CHECK_VIEW(j, "accel_hf_json_string_or");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_string(&c, path, false, def, out, NULL);
}
accel_status accel_hf_json_int_array(const accel_hf_json *j, const char *path, bool required, int64_t **out,
                                     size_t *n) {
    CHECK_VIEW(j, "accel_hf_json_int_array");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_int_array(&c, path, required, out, n);
}
accel_status accel_hf_json_float_array(const accel_hf_json *j, const char *path, bool required, double **out,
                                       size_t *n) {
    CHECK_VIEW(j, "accel_hf_json_float_array");
    accel_json_ctx c = ctx_of(j);
    return accel_json_get_double_array(&c, path, required, out, n);
}

/* ---- hyper-parameters ----------------------------------------------------------------------------------------- */

/* Reads an id that may be absent/null (keeps *out), an int, or (eos) a list of ints. */
static accel_status read_id(const accel_json_ctx *c, const char *key, int64_t *out) {
    return accel_json_get_int(c, key, false, *out, out, NULL);
}

static accel_status read_id_list(const accel_json_ctx *c, const char *key, int64_t *ids, size_t *n) {
    const cJSON *v = NULL;
    accel_status st = accel_json_find(c, key, &v);
    if (st != ACCEL_OK || !v) return st;
    if (cJSON_IsArray(v)) {
        size_t i = 0;
        int64_t tmp[ACCEL_HF_MAX_EOS];
        for (const cJSON *el = v->child; el; el = el->next, i++) {
            char kp[96];
            snprintf(kp, sizeof kp, "%s[%zu]", key, i);
            if (i >= ACCEL_HF_MAX_EOS)
                return accel_json_error(c, key, ACCEL_ERR_MODEL_FORMAT, "has more than %d token ids", ACCEL_HF_MAX_EOS);
            if ((st = accel_json_to_int(c, kp, el, &tmp[i])) != ACCEL_OK) return st;
        }
        memcpy(ids, tmp, i * sizeof *ids);
        *n = i;
        return ACCEL_OK;
    }
    int64_t x;
    if ((st = accel_json_to_int(c, key, v, &x)) != ACCEL_OK) return st;
    ids[0] = x;
    *n = 1;
    return ACCEL_OK;
}

typedef struct alias {
    const char *key;
    size_t off;
    char kind; /* 'i' int64, 'd' double, 's' string, 'b' bool */
} alias;

#define HP(f) offsetof(accel_hf_hparams, f)

/* Earlier entries for the same field win (a field read from JSON is not overwritten by a later alias). */
static const alias k_common[] = {
    {"model_type", HP(model_type), 's'},
    {"vocab_size", HP(vocab_size), 'i'},
    {"type_vocab_size", HP(type_vocab_size), 'i'},
    {"torch_dtype", HP(torch_dtype), 's'},
    {"dtype", HP(torch_dtype), 's'},
    {"tie_word_embeddings", HP(tie_word_embeddings), 'b'},
    {"is_encoder_decoder", HP(is_encoder_decoder), 'b'},
    {"rope_theta", HP(rope_theta), 'd'},
    {"rope_parameters.rope_theta", HP(rope_theta), 'd'},
    {"rotary_emb_base", HP(rope_theta), 'd'},
    {"image_size", HP(image_size), 'i'},
    {"patch_size", HP(patch_size), 'i'},
    {"num_channels", HP(num_channels), 'i'},
    {"projection_dim", HP(projection_dim), 'i'},
    {"head_dim", HP(head_dim), 'i'},
    {NULL, 0, 0},
};

static const alias k_standard[] = {
    {"hidden_size", HP(hidden_size), 'i'},
    {"n_embd", HP(hidden_size), 'i'},
    {"num_hidden_layers", HP(num_hidden_layers), 'i'},
    {"n_layer", HP(num_hidden_layers), 'i'},
    {"num_attention_heads", HP(num_attention_heads), 'i'},
    {"n_head", HP(num_attention_heads), 'i'},
    {"num_key_value_heads", HP(num_key_value_heads), 'i'},
    {"intermediate_size", HP(intermediate_size), 'i'},
    {"n_inner", HP(intermediate_size), 'i'},
    {"max_position_embeddings", HP(max_position_embeddings), 'i'},
    {"n_positions", HP(max_position_embeddings), 'i'},
    {"rms_norm_eps", HP(norm_eps), 'd'},
    {"layer_norm_eps", HP(norm_eps), 'd'},
    {"layer_norm_epsilon", HP(norm_eps), 'd'},
    {"norm_eps", HP(norm_eps), 'd'},
    {"hidden_act", HP(hidden_act), 's'},
    {"activation_function", HP(hidden_act), 's'},
    {NULL, 0, 0},
};

static const alias k_t5[] = {
    {"d_model", HP(hidden_size), 'i'},
    {"num_layers", HP(num_hidden_layers), 'i'},
    {"num_decoder_layers", HP(num_decoder_layers), 'i'},
    {"num_heads", HP(num_attention_heads), 'i'},
    {"d_ff", HP(intermediate_size), 'i'},
    {"d_kv", HP(head_dim), 'i'},
    {"relative_attention_num_buckets", HP(relative_attention_num_buckets), 'i'},
    {"relative_attention_max_distance", HP(relative_attention_max_distance), 'i'},
    {"layer_norm_epsilon", HP(norm_eps), 'd'},
    {"feed_forward_proj", HP(hidden_act), 's'},
    {"dense_act_fn", HP(hidden_act), 's'},
    {"n_positions", HP(max_position_embeddings), 'i'},
    {NULL, 0, 0},
};

static const alias k_whisper[] = {
    {"d_model", HP(hidden_size), 'i'},
    {"encoder_layers", HP(num_hidden_layers), 'i'},
    {"decoder_layers", HP(num_decoder_layers), 'i'},
    {"encoder_attention_heads", HP(num_attention_heads), 'i'},
    {"decoder_attention_heads", HP(num_decoder_attention_heads), 'i'},
    {"encoder_ffn_dim", HP(intermediate_size), 'i'},
    {"decoder_ffn_dim", HP(decoder_intermediate_size), 'i'},
    {"activation_function", HP(hidden_act), 's'},
    {"num_mel_bins", HP(num_mel_bins), 'i'},
    {"max_source_positions", HP(max_source_positions), 'i'},
    {"max_target_positions", HP(max_target_positions), 'i'},
    {"max_position_embeddings", HP(max_position_embeddings), 'i'},
    {"layer_norm_eps", HP(norm_eps), 'd'},
    {NULL, 0, 0},
};

/* Applies a table; seen[] marks fields already read from JSON (indexed by byte offset). */
static accel_status apply_aliases(const accel_json_ctx *c, const alias *tab, accel_hf_hparams *hp, bool *seen,
                                  size_t nseen) {
    for (const alias *a = tab; a->key; a++) {
        size_t slot = a->off;
        if (slot < nseen && seen[slot]) continue;
        char *base = (char *)hp + a->off;
        bool f = false;
        accel_status st = ACCEL_OK;
        switch (a->kind) {
        case 'i': st = accel_json_get_int(c, a->key, false, *(int64_t *)(void *)base, (int64_t *)(void *)base, &f); break;
        case 'd': st = accel_json_get_double(c, a->key, false, *(double *)(void *)base, (double *)(void *)base, &f); break;
        case 'b': st = accel_json_get_bool(c, a->key, false, *(bool *)(void *)base, (bool *)(void *)base, &f); break;
        case 's': st = accel_json_get_string(c, a->key, false, *(const char **)(void *)base,
                                             (const char **)(void *)base, &f); break;
        default: return accel_set_error(ACCEL_ERR_INTERNAL, "hf hparams: bad alias kind");
        }
        if (st != ACCEL_OK) return st;
        if (f) {
            if (slot < nseen) seen[slot] = true;
            if (a->off == HP(norm_eps)) hp->norm_eps_key = a->key;
        }
    }
    return ACCEL_OK;
}

void accel_hf_hparams_init(accel_hf_hparams *hp) {
    if (!hp) return;
    memset(hp, 0, sizeof *hp);
    hp->tie_word_embeddings = true;
    hp->bos_token_id = hp->pad_token_id = hp->decoder_start_token_id = -1;
    hp->rope_scaling.factor = 1.0;
}

static bool in_list(const char *s, const char *const *list) {
    if (!s) return false;
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

static accel_status read_rope_scaling(const accel_json_ctx *c, accel_hf_rope_scaling *rs) {
    const cJSON *v = NULL;
    accel_status st = accel_json_find(c, "rope_scaling", &v);
    if (st != ACCEL_OK || !v) return st;
    if (!cJSON_IsObject(v))
        return accel_json_error(c, "rope_scaling", ACCEL_ERR_MODEL_FORMAT, "is %s, expected an object or null",
                                accel_json_type_name(v));
    rs->present = true;
    bool f = false;
    if ((st = accel_json_get_string(c, "rope_scaling.rope_type", false, rs->type, &rs->type, &f)) != ACCEL_OK) return st;
    if (!f && (st = accel_json_get_string(c, "rope_scaling.type", false, rs->type, &rs->type, NULL)) != ACCEL_OK)
        return st;
    if ((st = accel_json_get_double(c, "rope_scaling.factor", false, rs->factor, &rs->factor, NULL)) != ACCEL_OK ||
        (st = accel_json_get_int(c, "rope_scaling.original_max_position_embeddings", false,
                                 rs->original_max_position_embeddings, &rs->original_max_position_embeddings,
                                 NULL)) != ACCEL_OK ||
        (st = accel_json_get_double(c, "rope_scaling.low_freq_factor", false, rs->low_freq_factor,
                                    &rs->low_freq_factor, NULL)) != ACCEL_OK ||
        (st = accel_json_get_double(c, "rope_scaling.high_freq_factor", false, rs->high_freq_factor,
                                    &rs->high_freq_factor, NULL)) != ACCEL_OK ||
        (st = accel_json_get_double(c, "rope_scaling.beta_fast", false, rs->beta_fast, &rs->beta_fast, NULL)) !=
            ACCEL_OK ||
        (st = accel_json_get_double(c, "rope_scaling.beta_slow", false, rs->beta_slow, &rs->beta_slow, NULL)) !=
            ACCEL_OK ||
        (st = accel_json_get_double(c, "rope_scaling.attention_factor", false, rs->attention_factor,
                                    &rs->attention_factor, NULL)) != ACCEL_OK)
        return st;
    if (rs->factor <= 0) return accel_json_error(c, "rope_scaling.factor", ACCEL_ERR_MODEL_FORMAT, "must be positive");
    return ACCEL_OK;
}

accel_status accel_hf_hparams_read(const accel_hf_json *j, accel_hf_naming naming, accel_hf_hparams *hp) {
    if (!j || !hp) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_hparams_read: NULL argument");
    accel_json_ctx c = ctx_of(j);
    accel_status st;
    if (naming == ACCEL_HF_NAMING_AUTO) {
        const char *mt = NULL;
        if ((st = accel_json_get_string(&c, "model_type", false, NULL, &mt, NULL)) != ACCEL_OK) return st;
        static const char *const t5[] = {"t5", "mt5", "umt5", "longt5", NULL};
        /* BART-style names (d_model, encoder_layers, ...): Whisper, the BART family and DETR */
        static const char *const wh[] = {"whisper", "bart", "mbart", "marian", "pegasus", "m2m_100",
                                         "detr", "conditional_detr", "table-transformer", NULL};
        naming = in_list(mt, t5) ? ACCEL_HF_NAMING_T5 : in_list(mt, wh) ? ACCEL_HF_NAMING_WHISPER
                                                                          : ACCEL_HF_NAMING_STANDARD;
    }
    const alias *tab = naming == ACCEL_HF_NAMING_T5        ? k_t5
                       : naming == ACCEL_HF_NAMING_WHISPER ? k_whisper
                       : naming == ACCEL_HF_NAMING_STANDARD ? k_standard
                                                            : NULL;
    if (!tab) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_hparams_read: bad naming %d", (int)naming);
    bool seen[sizeof(accel_hf_hparams)];
    memset(seen, 0, sizeof seen);
    const size_t nseen = sizeof seen / sizeof seen[0];
    if ((st = apply_aliases(&c, tab, hp, seen, nseen)) != ACCEL_OK) return st;
    if ((st = apply_aliases(&c, k_common, hp, seen, nseen)) != ACCEL_OK) return st;
    if ((st = read_rope_scaling(&c, &hp->rope_scaling)) != ACCEL_OK) return st;

    /* sliding window: null or use_sliding_window=false mean none */
    bool use_sw = true, f = false;
    if ((st = accel_json_get_bool(&c, "use_sliding_window", false, true, &use_sw, NULL)) != ACCEL_OK) return st;
    if ((st = accel_json_get_int(&c, "sliding_window", false, hp->sliding_window, &hp->sliding_window, &f)) != ACCEL_OK)
        return st;
    if (!use_sw) hp->sliding_window = 0;
    if (hp->sliding_window < 0)
        return accel_json_error(&c, "sliding_window", ACCEL_ERR_MODEL_FORMAT, "is negative");

    if ((st = read_id(&c, "bos_token_id", &hp->bos_token_id)) != ACCEL_OK ||
        (st = read_id(&c, "pad_token_id", &hp->pad_token_id)) != ACCEL_OK ||
        (st = read_id(&c, "decoder_start_token_id", &hp->decoder_start_token_id)) != ACCEL_OK ||
        (st = read_id_list(&c, "eos_token_id", hp->eos_token_ids, &hp->n_eos)) != ACCEL_OK)
        return st;

    /* required core fields, named with this scheme's main key */
    const char *k_hidden = naming == ACCEL_HF_NAMING_STANDARD ? "hidden_size" : "d_model";
    const char *k_layers = naming == ACCEL_HF_NAMING_STANDARD ? "num_hidden_layers"
                           : naming == ACCEL_HF_NAMING_T5     ? "num_layers"
                                                              : "encoder_layers";
    const char *k_heads = naming == ACCEL_HF_NAMING_STANDARD ? "num_attention_heads"
                          : naming == ACCEL_HF_NAMING_T5     ? "num_heads"
                                                             : "encoder_attention_heads";
    struct {
        const char *key;
        int64_t v;
    } req[] = {{k_hidden, hp->hidden_size}, {k_layers, hp->num_hidden_layers}, {k_heads, hp->num_attention_heads}};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        if (req[i].v == 0) {
            char fp[512];
            snprintf(fp, sizeof fp, "%s%s%s", j->path, j->path[0] ? "." : "", req[i].key);
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: missing key '%s'", j->file, fp);
        }
    }
    /* sizes must not be negative */
    const struct {
        const char *name;
        int64_t v;
    } sizes[] = {
        {"hidden_size", hp->hidden_size}, {"num_hidden_layers", hp->num_hidden_layers},
        {"num_attention_heads", hp->num_attention_heads}, {"num_key_value_heads", hp->num_key_value_heads},
        {"intermediate_size", hp->intermediate_size}, {"head_dim", hp->head_dim}, {"vocab_size", hp->vocab_size},
        {"max_position_embeddings", hp->max_position_embeddings}, {"num_decoder_layers", hp->num_decoder_layers},
        {"num_decoder_attention_heads", hp->num_decoder_attention_heads},
        {"relative_attention_num_buckets", hp->relative_attention_num_buckets},
        {"image_size", hp->image_size}, {"patch_size", hp->patch_size}, {"num_mel_bins", hp->num_mel_bins},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].v < 0)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: %s%s%s is negative (%lld)", j->file, j->path,
                                   j->path[0] ? ": " : "", sizes[i].name, (long long)sizes[i].v);
    if (hp->norm_eps < 0 || hp->rope_theta < 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: %s: negative norm epsilon or rope_theta", j->file,
                               j->path[0] ? j->path : "(root)");

    if (hp->num_key_value_heads == 0) hp->num_key_value_heads = hp->num_attention_heads;
    if (hp->num_attention_heads % hp->num_key_value_heads != 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: num_attention_heads %lld is not a multiple of num_key_value_heads %lld", j->file,
                               (long long)hp->num_attention_heads, (long long)hp->num_key_value_heads);
    if (hp->head_dim == 0) {
        if (hp->hidden_size % hp->num_attention_heads != 0)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s: %s %lld is not a multiple of %s %lld and no head_dim is given", j->file,
                                   k_hidden, (long long)hp->hidden_size, k_heads, (long long)hp->num_attention_heads);
        hp->head_dim = hp->hidden_size / hp->num_attention_heads;
    }
    if (naming != ACCEL_HF_NAMING_STANDARD) {
        if (hp->num_decoder_layers == 0) hp->num_decoder_layers = hp->num_hidden_layers;
        if (naming == ACCEL_HF_NAMING_WHISPER) {
            if (hp->num_decoder_attention_heads == 0) hp->num_decoder_attention_heads = hp->num_attention_heads;
            if (hp->decoder_intermediate_size == 0) hp->decoder_intermediate_size = hp->intermediate_size;
        }
    }
    return ACCEL_OK;
}

/* ---- generation ----------------------------------------------------------------------------------------------- */

void accel_hf_generation_init(accel_hf_generation *g) {
    if (!g) return;
    memset(g, 0, sizeof *g);
    g->max_new_tokens = -1;
    g->max_length = 20;
    g->min_length = 0;
    g->min_new_tokens = -1;
    g->do_sample = false;
    g->temperature = 1.0;
    g->top_k = 50;
    g->top_p = 1.0;
    g->num_beams = 1;
    g->length_penalty = 1.0;
    g->early_stopping = 0;
    g->no_repeat_ngram_size = 0;
    g->repetition_penalty = 1.0;
    g->bos_token_id = g->pad_token_id = g->decoder_start_token_id = -1;
}

static accel_status read_token_ids(const accel_json_ctx *c, int64_t *bos, int64_t *pad, int64_t *dstart,
                                   int64_t *eos, size_t *n_eos) {
    accel_status st;
    if ((st = read_id(c, "bos_token_id", bos)) != ACCEL_OK || (st = read_id(c, "pad_token_id", pad)) != ACCEL_OK ||
        (st = read_id(c, "decoder_start_token_id", dstart)) != ACCEL_OK ||
        (st = read_id_list(c, "eos_token_id", eos, n_eos)) != ACCEL_OK)
        return st;
    return ACCEL_OK;
}

accel_status accel_hf_generation_read(const accel_hf_json *j, accel_hf_generation *g) {
    if (!j || !g) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_generation_read: NULL argument");
    accel_json_ctx c = ctx_of(j);
    accel_status st;
    if ((st = accel_json_get_int(&c, "max_new_tokens", false, g->max_new_tokens, &g->max_new_tokens, NULL)) ||
        (st = accel_json_get_int(&c, "max_length", false, g->max_length, &g->max_length, NULL)) ||
        (st = accel_json_get_int(&c, "min_length", false, g->min_length, &g->min_length, NULL)) ||
        (st = accel_json_get_int(&c, "min_new_tokens", false, g->min_new_tokens, &g->min_new_tokens, NULL)) ||
        (st = accel_json_get_bool(&c, "do_sample", false, g->do_sample, &g->do_sample, NULL)) ||
        (st = accel_json_get_double(&c, "temperature", false, g->temperature, &g->temperature, NULL)) ||
        (st = accel_json_get_int(&c, "top_k", false, g->top_k, &g->top_k, NULL)) ||
        (st = accel_json_get_double(&c, "top_p", false, g->top_p, &g->top_p, NULL)) ||
        (st = accel_json_get_int(&c, "num_beams", false, g->num_beams, &g->num_beams, NULL)) ||
        (st = accel_json_get_double(&c, "length_penalty", false, g->length_penalty, &g->length_penalty, NULL)) ||
        (st = accel_json_get_int(&c, "no_repeat_ngram_size", false, g->no_repeat_ngram_size,
                                 &g->no_repeat_ngram_size, NULL)) ||
        (st = accel_json_get_double(&c, "repetition_penalty", false, g->repetition_penalty, &g->repetition_penalty,
                                    NULL)) ||
        (st = read_token_ids(&c, &g->bos_token_id, &g->pad_token_id, &g->decoder_start_token_id, g->eos_token_ids,
                             &g->n_eos)))
        return st;
    const cJSON *es = NULL;
    if ((st = accel_json_find(&c, "early_stopping", &es)) != ACCEL_OK) return st;
    if (es) {
        if (cJSON_IsBool(es))
            g->early_stopping = cJSON_IsTrue(es) ? 1 : 0;
        else if (cJSON_IsString(es) && strcmp(es->valuestring, "never") == 0)
            g->early_stopping = 2;
        else
            return accel_json_error(&c, "early_stopping", ACCEL_ERR_MODEL_FORMAT,
                                    "is %s, expected true, false or \"never\"", accel_json_type_name(es));
    }
    if (g->temperature < 0) return accel_json_error(&c, "temperature", ACCEL_ERR_MODEL_FORMAT, "is negative");
    if (g->top_p < 0 || g->top_p > 1) return accel_json_error(&c, "top_p", ACCEL_ERR_MODEL_FORMAT, "is not in [0, 1]");
    if (g->top_k < 0) return accel_json_error(&c, "top_k", ACCEL_ERR_MODEL_FORMAT, "is negative");
    if (g->num_beams < 1) return accel_json_error(&c, "num_beams", ACCEL_ERR_MODEL_FORMAT, "is less than 1");
    if (g->repetition_penalty <= 0)
        return accel_json_error(&c, "repetition_penalty", ACCEL_ERR_MODEL_FORMAT, "is not positive");
    if (g->no_repeat_ngram_size < 0)
        return accel_json_error(&c, "no_repeat_ngram_size", ACCEL_ERR_MODEL_FORMAT, "is negative");
    if (g->max_length < 0) return accel_json_error(&c, "max_length", ACCEL_ERR_MODEL_FORMAT, "is negative");
    return ACCEL_OK;
}

accel_status accel_hf_dir_generation(const accel_hf_dir *d, accel_hf_generation *g) {
    if (!d || !g) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_dir_generation: NULL argument");
    accel_hf_generation_init(g);
    accel_json_ctx c = ctx_of(d->root_views[ACCEL_HF_CONFIG]);
    accel_status st =
        read_token_ids(&c, &g->bos_token_id, &g->pad_token_id, &g->decoder_start_token_id, g->eos_token_ids, &g->n_eos);
    if (st != ACCEL_OK) return st;
    const accel_hf_json *gj = d->root_views[ACCEL_HF_GENERATION_CONFIG];
    return gj ? accel_hf_generation_read(gj, g) : ACCEL_OK;
}

/* ---- preprocessors -------------------------------------------------------------------------------------------- */

void accel_hf_image_proc_init(accel_hf_image_proc *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->do_resize = true;
    p->resample = -1;
    p->do_rescale = true;
    p->rescale_factor = 1.0 / 255.0;
    p->do_normalize = true;
    p->do_convert_rgb = true;
}

/* A size that is an integer or an object with some of height/width/shortest_edge/longest_edge. */
static accel_status read_size(const accel_json_ctx *c, const char *key, int64_t *scalar, int64_t *shortest,
                              int64_t *longest, int64_t *h, int64_t *w) {
    const cJSON *v = NULL;
    accel_status st = accel_json_find(c, key, &v);
    if (st != ACCEL_OK || !v) return st;
    if (cJSON_IsNumber(v)) {
        int64_t x;
        if ((st = accel_json_to_int(c, key, v, &x)) != ACCEL_OK) return st;
        if (x <= 0) return accel_json_error(c, key, ACCEL_ERR_MODEL_FORMAT, "must be positive");
        if (scalar) {
            *scalar = x;
        } else {
            *h = *w = x;
        }
        return ACCEL_OK;
    }
    if (!cJSON_IsObject(v))
        return accel_json_error(c, key, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an integer or an object",
                                accel_json_type_name(v));
    struct {
        const char *k;
        int64_t *dst;
    } parts[] = {{"shortest_edge", shortest}, {"longest_edge", longest}, {"height", h}, {"width", w}};
    int any = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char kp[128];
        snprintf(kp, sizeof kp, "%s.%s", key, parts[i].k);
        bool f = false;
        int64_t x = 0;
        if ((st = accel_json_get_int(c, kp, false, 0, &x, &f)) != ACCEL_OK) return st;
        if (!f) continue;
        if (x <= 0) return accel_json_error(c, kp, ACCEL_ERR_MODEL_FORMAT, "must be positive");
        if (!parts[i].dst) return accel_json_error(c, kp, ACCEL_ERR_MODEL_FORMAT, "is not supported here");
        *parts[i].dst = x;
        any++;
    }
    if (!any)
        return accel_json_error(c, key, ACCEL_ERR_MODEL_FORMAT,
                                "has none of shortest_edge, longest_edge, height, width");
    return ACCEL_OK;
}

accel_status accel_hf_image_proc_read(const accel_hf_json *j, accel_hf_image_proc *p) {
    if (!j || !p) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_image_proc_read: NULL argument");
    accel_json_ctx c = ctx_of(j);
    accel_status st;
    bool f = false;
    if ((st = accel_json_get_string(&c, "image_processor_type", false, p->processor_type, &p->processor_type, &f)))
        return st;
    if (!f && (st = accel_json_get_string(&c, "feature_extractor_type", false, p->processor_type,
                                          &p->processor_type, NULL)))
        return st;
    if ((st = accel_json_get_bool(&c, "do_resize", false, p->do_resize, &p->do_resize, NULL)) ||
        (st = accel_json_get_int(&c, "resample", false, p->resample, &p->resample, NULL)) ||
        (st = accel_json_get_bool(&c, "do_center_crop", false, p->do_center_crop, &p->do_center_crop, NULL)) ||
        (st = accel_json_get_bool(&c, "do_rescale", false, p->do_rescale, &p->do_rescale, NULL)) ||
        (st = accel_json_get_double(&c, "rescale_factor", false, p->rescale_factor, &p->rescale_factor, NULL)) ||
        (st = accel_json_get_bool(&c, "do_normalize", false, p->do_normalize, &p->do_normalize, NULL)) ||
        (st = accel_json_get_bool(&c, "do_convert_rgb", false, p->do_convert_rgb, &p->do_convert_rgb, NULL)) ||
        (st = read_size(&c, "size", &p->size_scalar, &p->size_shortest_edge, &p->size_longest_edge, &p->size_height,
                        &p->size_width)) ||
        (st = read_size(&c, "crop_size", NULL, NULL, NULL, &p->crop_height, &p->crop_width)))
        return st;
    if (p->resample < -1 || p->resample > 5)
        return accel_json_error(&c, "resample", ACCEL_ERR_MODEL_FORMAT, "is %lld, expected a PIL filter 0..5",
                                (long long)p->resample);
    double *mean = NULL, *std = NULL;
    size_t nm = 0, ns = 0;
    if ((st = accel_json_get_double_array(&c, "image_mean", false, &mean, &nm)) != ACCEL_OK) return st;
    if ((st = accel_json_get_double_array(&c, "image_std", false, &std, &ns)) != ACCEL_OK) {
        free(mean);
        return st;
    }
    if (nm || ns) {
        if (nm != ns || nm > 4) {
            free(mean);
            free(std);
            return accel_json_error(&c, "image_std", ACCEL_ERR_MODEL_FORMAT,
                                    "has %zu values and image_mean %zu: expected the same count, at most 4", ns, nm);
        }
        for (size_t i = 0; i < nm; i++) {
            if (std[i] == 0) {
                free(mean);
                free(std);
                return accel_json_error(&c, "image_std", ACCEL_ERR_MODEL_FORMAT, "has a zero");
            }
            p->image_mean[i] = mean[i];
            p->image_std[i] = std[i];
        }
        p->n_mean = nm;
    }
    free(mean);
    free(std);

    const cJSON *pins = NULL;
    if ((st = accel_json_find(&c, "image_grid_pinpoints", &pins)) != ACCEL_OK) return st;
    if (pins) {
        if (!cJSON_IsArray(pins))
            return accel_json_error(&c, "image_grid_pinpoints", ACCEL_ERR_MODEL_FORMAT, "is %s, expected an array",
                                    accel_json_type_name(pins));
        size_t i = 0;
        for (const cJSON *el = pins->child; el; el = el->next, i++) {
            char kp[96];
            snprintf(kp, sizeof kp, "image_grid_pinpoints[%zu]", i);
            if (i >= ACCEL_HF_MAX_PINPOINTS)
                return accel_json_error(&c, "image_grid_pinpoints", ACCEL_ERR_MODEL_FORMAT, "has more than %d entries",
                                        ACCEL_HF_MAX_PINPOINTS);
            if (!cJSON_IsArray(el) || cJSON_GetArraySize(el) != 2)
                return accel_json_error(&c, kp, ACCEL_ERR_MODEL_FORMAT, "is not a pair [height, width]");
            for (int k = 0; k < 2; k++) {
                char ep[112];
                snprintf(ep, sizeof ep, "%s[%d]", kp, k);
                int64_t x;
                if ((st = accel_json_to_int(&c, ep, cJSON_GetArrayItem(el, k), &x)) != ACCEL_OK) return st;
                if (x <= 0) return accel_json_error(&c, ep, ACCEL_ERR_MODEL_FORMAT, "must be positive");
                p->grid_pinpoints[i][k] = x;
            }
        }
        p->n_grid_pinpoints = i;
    }
    return ACCEL_OK;
}

void accel_hf_audio_proc_init(accel_hf_audio_proc *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->padding_side = "right";
}

accel_status accel_hf_audio_proc_read(const accel_hf_json *j, accel_hf_audio_proc *p) {
    if (!j || !p) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_audio_proc_read: NULL argument");
    accel_json_ctx c = ctx_of(j);
    accel_status st;
    bool f = false;
    if ((st = accel_json_get_string(&c, "feature_extractor_type", false, p->processor_type, &p->processor_type,
                                    NULL)) ||
        (st = accel_json_get_int(&c, "feature_size", false, p->feature_size, &p->feature_size, NULL)) ||
        (st = accel_json_get_int(&c, "sampling_rate", false, p->sampling_rate, &p->sampling_rate, NULL)) ||
        (st = accel_json_get_int(&c, "n_fft", false, p->n_fft, &p->n_fft, &f)) ||
        (!f && (st = accel_json_get_int(&c, "fft_window_size", false, p->n_fft, &p->n_fft, NULL))) ||
        (st = accel_json_get_int(&c, "hop_length", false, p->hop_length, &p->hop_length, NULL)) ||
        (st = accel_json_get_int(&c, "chunk_length", false, p->chunk_length, &p->chunk_length, NULL)) ||
        (st = accel_json_get_int(&c, "n_samples", false, p->n_samples, &p->n_samples, NULL)) ||
        (st = accel_json_get_int(&c, "nb_max_frames", false, p->nb_max_frames, &p->nb_max_frames, NULL)) ||
        (st = accel_json_get_double(&c, "max_length_s", false, p->max_length_s, &p->max_length_s, NULL)) ||
        (st = accel_json_get_double(&c, "frequency_min", false, p->frequency_min, &p->frequency_min, NULL)) ||
        (st = accel_json_get_double(&c, "frequency_max", false, p->frequency_max, &p->frequency_max, NULL)) ||
        (st = accel_json_get_double(&c, "padding_value", false, p->padding_value, &p->padding_value, NULL)) ||
        (st = accel_json_get_string(&c, "padding_side", false, p->padding_side, &p->padding_side, NULL)) ||
        (st = accel_json_get_string(&c, "truncation", false, p->truncation, &p->truncation, NULL)) ||
        (st = accel_json_get_string(&c, "padding", false, p->padding, &p->padding, NULL)) ||
        (st = accel_json_get_bool(&c, "return_attention_mask", false, p->return_attention_mask,
                                  &p->return_attention_mask, NULL)) ||
        (st = accel_json_get_bool(&c, "do_normalize", false, p->do_normalize, &p->do_normalize, NULL)))
        return st;
    const struct {
        const char *k;
        int64_t v;
    } pos[] = {{"feature_size", p->feature_size}, {"sampling_rate", p->sampling_rate}, {"n_fft", p->n_fft},
               {"hop_length", p->hop_length},     {"chunk_length", p->chunk_length},   {"n_samples", p->n_samples}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v < 0 || (pos[i].v == 0 && accel_hf_json_has(j, pos[i].k)))
            return accel_json_error(&c, pos[i].k, ACCEL_ERR_MODEL_FORMAT, "must be positive");
    return ACCEL_OK;
}

/* ---- tokenizer config ----------------------------------------------------------------------------------------- */

static accel_status read_token(const accel_json_ctx *c, const char *key, accel_hf_added_token *t) {
    const cJSON *v = NULL;
    accel_status st = accel_json_find(c, key, &v);
    if (st != ACCEL_OK || !v) return st;
    accel_hf_added_token r;
    memset(&r, 0, sizeof r);
    r.normalized = true;
    if (cJSON_IsString(v)) {
        r.content = v->valuestring;
        *t = r;
        return ACCEL_OK;
    }
    if (!cJSON_IsObject(v))
        return accel_json_error(c, key, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a string or an AddedToken object",
                                accel_json_type_name(v));
    char kp[128];
    snprintf(kp, sizeof kp, "%s.content", key);
    if ((st = accel_json_get_string(c, kp, true, NULL, &r.content, NULL)) != ACCEL_OK) return st;
    struct {
        const char *k;
        bool *dst;
    } flags[] = {{"lstrip", &r.lstrip}, {"rstrip", &r.rstrip}, {"normalized", &r.normalized},
                 {"single_word", &r.single_word}, {"special", &r.special}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        snprintf(kp, sizeof kp, "%s.%s", key, flags[i].k);
        if ((st = accel_json_get_bool(c, kp, false, *flags[i].dst, flags[i].dst, NULL)) != ACCEL_OK) return st;
    }
    *t = r;
    return ACCEL_OK;
}

static accel_status read_tristate(const accel_json_ctx *c, const char *key, int *out) {
    bool b = false, f = false;
    accel_status st = accel_json_get_bool(c, key, false, false, &b, &f);
    if (st == ACCEL_OK && f) *out = b ? 1 : 0;
    return st;
}

accel_status accel_hf_dir_tokenizer_config(const accel_hf_dir *d, accel_hf_tokenizer_config *t) {
    if (!d || !t) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_hf_dir_tokenizer_config: NULL argument");
    memset(t, 0, sizeof *t);
    t->model_max_length = -1;
    t->add_bos_token = t->add_eos_token = t->clean_up_tokenization_spaces = t->do_lower_case = -1;
    static const char *const names[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                        "cls_token", "sep_token", "mask_token"};
    accel_hf_added_token *slots[] = {&t->bos, &t->eos, &t->unk, &t->pad, &t->cls, &t->sep, &t->mask};
    const accel_hf_file order[] = {ACCEL_HF_SPECIAL_TOKENS_MAP, ACCEL_HF_TOKENIZER_CONFIG};
    accel_status st;
    for (size_t f = 0; f < 2; f++) {
        const accel_hf_json *j = d->root_views[order[f]];
        if (!j) continue;
        accel_json_ctx c = ctx_of(j);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if ((st = read_token(&c, names[i], slots[i])) != ACCEL_OK) return st;
    }
    const accel_hf_json *j = d->root_views[ACCEL_HF_TOKENIZER_CONFIG];
    if (j) {
        accel_json_ctx c = ctx_of(j);
        if ((st = accel_json_get_string(&c, "tokenizer_class", false, NULL, &t->tokenizer_class, NULL)) ||
            (st = accel_json_get_string(&c, "padding_side", false, NULL, &t->padding_side, NULL)) ||
            (st = read_tristate(&c, "add_bos_token", &t->add_bos_token)) ||
            (st = read_tristate(&c, "add_eos_token", &t->add_eos_token)) ||
            (st = read_tristate(&c, "clean_up_tokenization_spaces", &t->clean_up_tokenization_spaces)) ||
            (st = read_tristate(&c, "do_lower_case", &t->do_lower_case)))
            return st;
        const cJSON *v = NULL;
        if ((st = accel_json_find(&c, "model_max_length", &v)) != ACCEL_OK) return st;
        if (v) {
            /* transformers writes VERY_LARGE_INTEGER = int(1e30) for "no limit" */
            if (cJSON_IsNumber(v) && v->valuedouble >= 9223372036854775808.0 && isfinite(v->valuedouble)) {
                t->model_max_length = INT64_MAX;
            } else {
                if ((st = accel_json_to_int(&c, "model_max_length", v, &t->model_max_length)) != ACCEL_OK) return st;
                if (t->model_max_length <= 0)
                    return accel_json_error(&c, "model_max_length", ACCEL_ERR_MODEL_FORMAT, "must be positive");
            }
        }
    }
    st = accel_hf_dir_chat_template(d, NULL, &t->chat_template);
    if (st == ACCEL_ERR_NOT_FOUND) {
        t->chat_template = NULL;
        st = ACCEL_OK;
    }
    return st;
}
