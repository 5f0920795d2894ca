/* Token string <-> id maps: an array by id plus an open-addressing hash table (FNV-1a), shared by every model. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

uint64_t tk_hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

int32_t tk_vocab_get(const tk_vocab *v, const char *s, size_t len) {
    if (!v->n_slots) return -1;
    size_t mask = v->n_slots - 1;
    for (size_t i = (size_t)tk_hash(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t slot = v->slots[i];
        if (!slot) return -1;
        const char *t = v->tokens[slot - 1];
        if (strncmp(t, s, len) == 0 && t[len] == 0) return (int32_t)(slot - 1);
    }
}

void tk_vocab_free(tk_vocab *v) {
    if (v->tokens)
        for (size_t i = 0; i < v->n_ids; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

accel_status tk_vocab_from_json(const cJSON *obj, tk_vocab *v, const char *what) {
    memset(v, 0, sizeof *v);
    if (!cJSON_IsObject(obj)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s must be an object", what);
    size_t count = 0;
    long long max_id = -1;
    for (const cJSON *e = obj->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 2147483646.0 ||
            e->valuedouble != (double)(long long)e->valuedouble)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s[\"%s\"] must be a non-negative integer id",
                                   what, e->string ? e->string : "");
        if ((long long)e->valuedouble > max_id) max_id = (long long)e->valuedouble;
        count++;
    }
    if (max_id >= (long long)count * 4 + 1024)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s has id %lld for only %zu tokens", what,
                               max_id, count);
    v->n_ids = (size_t)(max_id + 1);
    v->n_slots = 16;
    while (v->n_slots < count * 2) v->n_slots *= 2;
    v->tokens = calloc(v->n_ids ? v->n_ids : 1, sizeof *v->tokens);
    v->slots = calloc(v->n_slots, sizeof *v->slots);
    if (!v->tokens || !v->slots) {
        tk_vocab_free(v);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory for %s", what);
    }
    size_t mask = v->n_slots - 1;
    for (const cJSON *e = obj->child; e; e = e->next) {
        size_t id = (size_t)e->valuedouble;
        const char *s = e->string ? e->string : "";
        size_t len = strlen(s);
        if (v->tokens[id]) {
            accel_status st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s: id %zu is used by \"%s\" and \"%s\"",
                                              what, id, v->tokens[id], s);
            tk_vocab_free(v);
            return st;
        }
        if (tk_vocab_get(v, s, len) >= 0) continue; /* duplicate key: cJSON keeps both, serde keeps the last */
        v->tokens[id] = strdup(s);
        if (!v->tokens[id]) {
            tk_vocab_free(v);
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory for %s", what);
        }
        size_t i = (size_t)tk_hash(s, len) & mask;
        while (v->slots[i]) i = (i + 1) & mask;
        v->slots[i] = (uint32_t)(id + 1);
        v->count++;
    }
    return ACCEL_OK;
}
