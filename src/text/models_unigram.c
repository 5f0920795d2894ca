/* Unigram (SentencePiece) model, as HF tokenizers models/unigram (encode_optimized + tokenize):
 *
 *  - Viterbi over the byte positions of the split: from each char start, every vocab piece that is a prefix of the
 *    rest (trie common-prefix search, shortest first) proposes score(piece) + best(start); a strictly better score
 *    replaces the node (ties keep the first proposal). When no piece is exactly the one char at that start, an
 *    "unk" edge over that char is proposed with score min_score - 10.
 *  - Backtracking fuses consecutive nodes whose id is unk_id into one token (HF's Unigram always fuses unk).
 *  - Each resulting string is looked up in the vocab; a string that is not there becomes, with byte_fallback, one
 *    <0xXX> token per byte (all with the whole string's offsets) if every byte token exists, else unk_id.
 * vocab in tokenizer.json: [[piece, score], ...] (the id is the index); unk_id: integer or null. */
#include "text/text_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNK_PENALTY 10.0

typedef struct ug_edge {
    uint64_t key; /* (parent node << 8 | byte) + 1; 0 = empty */
    uint32_t child;
} ug_edge;

typedef struct ug {
    char **pieces; /* by id */
    size_t *lens;
    double *scores;
    size_t n;
    int32_t *node_id; /* per trie node: id of the piece ending there (last duplicate wins), -1 none */
    size_t nnodes, cap_nodes;
    ug_edge *edges;
    size_t nedges_slots, nedges;
    int32_t unk_id; /* -1: none */
    int byte_fallback;
    int32_t byte_id[256];
    double min_score;
} ug;

static inline uint64_t edge_hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static inline int64_t ug_child(const ug *m, uint32_t node, unsigned char b) {
    uint64_t key = ((uint64_t)node << 8 | b) + 1;
    size_t mask = m->nedges_slots - 1;
    for (size_t i = (size_t)edge_hash(key) & mask;; i = (i + 1) & mask) {
        if (m->edges[i].key == key) return m->edges[i].child;
        if (!m->edges[i].key) return -1;
    }
}

static accel_status ug_insert(ug *m, const char *s, size_t len, int32_t id) {
    uint32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        int64_t c = ug_child(m, node, b);
        if (c < 0) {
            accel_status st = tk_grow((void **)&m->node_id, &m->cap_nodes, m->nnodes + 1, sizeof *m->node_id);
            if (st) return st;
            m->node_id[m->nnodes] = -1;
            c = (int64_t)m->nnodes++;
            uint64_t key = ((uint64_t)node << 8 | b) + 1;
            size_t mask = m->nedges_slots - 1, k = (size_t)edge_hash(key) & mask;
            while (m->edges[k].key) k = (k + 1) & mask;
            m->edges[k] = (ug_edge){key, (uint32_t)c};
            m->nedges++;
        }
        node = (uint32_t)c;
    }
    m->node_id[node] = id;
    return ACCEL_OK;
}

static int32_t ug_lookup(const ug *m, const char *s, size_t len) {
    uint32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        int64_t c = ug_child(m, node, (unsigned char)s[i]);
        if (c < 0) return -1;
        node = (uint32_t)c;
    }
    return m->node_id[node];
}

typedef struct ug_node {
    double score;
    size_t start; /* SIZE_MAX: not reached */
    int32_t id;
} ug_node;

static accel_status ug_emit(const ug *m, const char *s, size_t a, size_t b, int32_t id, int is_unk, tk_toklist *out) {
    if (!is_unk) return tk_toklist_push(out, id, a, b);
    int32_t vid = ug_lookup(m, s + a, b - a);
    if (vid >= 0) return tk_toklist_push(out, vid, a, b);
    if (m->byte_fallback) {
        int all = 1;
        for (size_t i = a; i < b && all; i++) all = m->byte_id[(unsigned char)s[i]] >= 0;
        if (all) {
            for (size_t i = a; i < b; i++) {
                accel_status st = tk_toklist_push(out, m->byte_id[(unsigned char)s[i]], a, b);
                if (st) return st;
            }
            return ACCEL_OK;
        }
    }
    return tk_toklist_push(out, m->unk_id, a, b);
}

static accel_status ug_tokenize(const tk_model *self, const char *s, size_t len, tk_toklist *out) {
    const ug *m = self->ctx;
    if (!len) return ACCEL_OK;
    ug_node stack[257];
    ug_node *best = len < 257 ? stack : malloc((len + 1) * sizeof *best);
    if (!best) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (size_t i = 0; i <= len; i++) best[i] = (ug_node){0.0, SIZE_MAX, 0};
    const double unk_score = m->min_score - UNK_PENALTY;
    accel_status st = ACCEL_OK;
    for (size_t at = 0; at < len;) {
        double here = best[at].score;
        size_t mblen = 1;
        unsigned char c0 = (unsigned char)s[at];
        if (c0 >= 0xF0) mblen = 4;
        else if (c0 >= 0xE0) mblen = 3;
        else if (c0 >= 0xC0) mblen = 2;
        if (at + mblen > len) mblen = len - at;
        int single = 0;
        uint32_t node = 0;
        for (size_t i = at; i < len; i++) {
            int64_t c = ug_child(m, node, (unsigned char)s[i]);
            if (c < 0) break;
            node = (uint32_t)c;
            int32_t id = m->node_id[node];
            if (id < 0) continue;
            size_t end = i + 1;
            double cand = m->scores[id] + here;
            ug_node *t = &best[end];
            if (t->start == SIZE_MAX || cand > t->score) *t = (ug_node){cand, at, id};
            if (end - at == mblen) single = 1;
        }
        if (!single) {
            if (m->unk_id < 0) {
                st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer: Unigram text has an unknown char and the model has no unk_id");
                goto done;
            }
            ug_node *t = &best[at + mblen];
            double cand = unk_score + here;
            if (t->start == SIZE_MAX || cand > t->score) *t = (ug_node){cand, at, m->unk_id};
        }
        at += mblen;
    }
    /* backtrack into a reversed list of (start, end, id, unk) then emit in order */
    {
        size_t first = out->n;
        size_t e = len, fuse_end = 0;
        int fusing = 0;
        while (e > 0) {
            const ug_node *nd = &best[e];
            size_t a = nd->start;
            if (a == SIZE_MAX) {
                st = accel_set_error(ACCEL_ERR_INTERNAL, "tokenizer: Unigram lattice has no path");
                goto done;
            }
            if (nd->id == m->unk_id) {
                if (!fusing) fuse_end = e, fusing = 1;
            } else {
                if (fusing) {
                    if ((st = tk_toklist_push(out, -2, e, fuse_end))) goto done;
                    fusing = 0;
                }
                if ((st = tk_toklist_push(out, nd->id, a, e))) goto done;
            }
            e = a;
        }
        if (fusing && (st = tk_toklist_push(out, -2, 0, fuse_end))) goto done;
        /* reverse the pushed range, then expand unk pieces (-2) in place via a copy */
        size_t cnt = out->n - first;
        for (size_t i = 0; i < cnt / 2; i++) {
            tk_token x = out->v[first + i];
            out->v[first + i] = out->v[first + cnt - 1 - i];
            out->v[first + cnt - 1 - i] = x;
        }
        int any_unk = 0;
        for (size_t i = first; i < out->n; i++) any_unk |= out->v[i].id == -2;
        if (any_unk) {
            tk_token *tmp = malloc(cnt * sizeof *tmp);
            if (!tmp) {
                st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
                goto done;
            }
            memcpy(tmp, out->v + first, cnt * sizeof *tmp);
            out->n = first;
            for (size_t i = 0; i < cnt && !st; i++)
                st = ug_emit(m, s, tmp[i].start, tmp[i].end, tmp[i].id, tmp[i].id == -2, out);
            free(tmp);
        }
    }
done:
    if (best != stack) free(best);
    return st;
}

static int32_t ug_token_to_id(const tk_model *self, const char *tok, size_t len) { return ug_lookup(self->ctx, tok, len); }

static const char *ug_id_to_token(const tk_model *self, int32_t id) {
    const ug *m = self->ctx;
    if (id < 0 || (size_t)id >= m->n) return NULL;
    return m->pieces[id];
}

static size_t ug_vocab_size(const tk_model *self) {
    const ug *m = self->ctx;
    return m->n;
}

static void ug_free(tk_model *self) {
    if (!self) return;
    ug *m = self->ctx;
    if (m) {
        if (m->pieces)
            for (size_t i = 0; i < m->n; i++) free(m->pieces[i]);
        free(m->pieces);
        free(m->lens);
        free(m->scores);
        free(m->node_id);
        free(m->edges);
        free(m);
    }
    free(self);
}

accel_status tk_model_unigram_from_json(const cJSON *j, tk_model **out) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    if (!cJSON_IsArray(vocab))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram model needs a \"vocab\" array of [piece, score]");
    int byte_fallback = 0;
    accel_status st = tk_json_bool(j, "byte_fallback", &byte_fallback, "model");
    if (st) return st;
    long long unk_id = -1;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "unk_id");
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsNumber(u) || u->valuedouble < 0 || u->valuedouble != (double)(long long)u->valuedouble)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram unk_id must be a non-negative integer or null");
        unk_id = (long long)u->valuedouble;
    }
    size_t n = (size_t)cJSON_GetArraySize(vocab);
    if (!n) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram vocab is empty");
    if (unk_id >= (long long)n)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram unk_id %lld is not in the vocab of %zu", unk_id, n);
    tk_model *self = calloc(1, sizeof *self);
    ug *m = calloc(1, sizeof *m);
    if (!self || !m) {
        free(self);
        free(m);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    *self = (tk_model){ug_tokenize, ug_token_to_id, ug_id_to_token, ug_vocab_size, ug_free, m};
    m->unk_id = (int32_t)unk_id;
    m->byte_fallback = byte_fallback;
    m->pieces = calloc(n, sizeof *m->pieces);
    m->lens = calloc(n, sizeof *m->lens);
    m->scores = calloc(n, sizeof *m->scores);
    size_t total = 0;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        const cJSON *p = cJSON_GetArrayItem(e, 0);
        if (cJSON_IsString(p)) total += strlen(p->valuestring);
    }
    m->nedges_slots = 64;
    while (m->nedges_slots < 2 * (total + 1)) m->nedges_slots *= 2;
    m->edges = calloc(m->nedges_slots, sizeof *m->edges);
    if (!m->pieces || !m->lens || !m->scores || !m->edges) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        goto fail;
    }
    if ((st = tk_grow((void **)&m->node_id, &m->cap_nodes, total + 1, sizeof *m->node_id))) goto fail;
    m->node_id[0] = -1;
    m->nnodes = 1;
    m->min_score = INFINITY;
    size_t id = 0;
    for (const cJSON *e = vocab->child; e; e = e->next, id++) {
        const cJSON *p = cJSON_GetArrayItem(e, 0), *sc = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(p) || !cJSON_IsNumber(sc)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram vocab[%zu] must be [piece, score]", id);
            goto fail;
        }
        m->lens[id] = strlen(p->valuestring);
        if (tk_utf8_validate(p->valuestring, m->lens[id]) != m->lens[id]) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Unigram vocab[%zu] is not UTF-8", id);
            goto fail;
        }
        if (!(m->pieces[id] = strdup(p->valuestring))) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            goto fail;
        }
        m->scores[id] = sc->valuedouble;
        if (sc->valuedouble < m->min_score) m->min_score = sc->valuedouble;
        if ((st = ug_insert(m, p->valuestring, m->lens[id], (int32_t)id))) goto fail;
        m->n = id + 1;
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_id[b] = byte_fallback ? ug_lookup(m, name, 6) : -1;
    }
    *out = self;
    return ACCEL_OK;
fail:
    ug_free(self);
    return st;
}
