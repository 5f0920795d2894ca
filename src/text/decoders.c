/* Decoders (HF tokenizers decoders module): rewrite the list of token strings (decode_chain); the tokenizer joins it. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct dec_ctx {
    char *prefix;
    int cleanup;
    tk_decoder **seq;
    size_t nseq;
} dec_ctx;

/* HF wordpiece::cleanup: these replacements, in order, on each token */
static accel_status cleanup(tk_buf *b) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof *from; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]);
        if (b->len < fl || !memmem(b->p, b->len, from[r], fl)) continue;
        tk_buf o = {0};
        size_t i = 0;
        accel_status st = ACCEL_OK;
        while (i < b->len && !st) {
            const char *m = memmem(b->p + i, b->len - i, from[r], fl);
            if (!m) {
                st = tk_buf_append(&o, b->p + i, b->len - i);
                break;
            }
            st = tk_buf_append(&o, b->p + i, (size_t)(m - (b->p + i)));
            if (!st) st = tk_buf_append(&o, to[r], tl);
            i = (size_t)(m - b->p) + fl;
        }
        if (!st && !o.p) st = tk_buf_append(&o, "", 0);
        if (st) {
            free(o.p);
            return st;
        }
        free(b->p);
        *b = o;
    }
    return ACCEL_OK;
}

static accel_status wordpiece_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    size_t pl = strlen(c->prefix);
    for (size_t i = 0; i < toks->n; i++) {
        tk_buf b = {0};
        const char *t = toks->v[i];
        size_t tl = toks->lens[i];
        accel_status st;
        if (i > 0 && tl >= pl && !memcmp(t, c->prefix, pl)) {
            st = tk_buf_append(&b, t + pl, tl - pl);
        } else {
            st = i > 0 ? tk_buf_append(&b, " ", 1) : ACCEL_OK;
            if (!st) st = tk_buf_append(&b, t, tl);
        }
        if (!st && c->cleanup) st = cleanup(&b);
        if (st) {
            free(b.p);
            return st;
        }
        tk_strs_set(toks, i, b.p, b.len);
    }
    return ACCEL_OK;
}

static accel_status fuse_decode(const tk_decoder *self, tk_strs *toks) {
    if (toks->n <= 1) return ACCEL_OK;
    tk_buf b = {0};
    accel_status st = tk_buf_append(&b, "", 0);
    for (size_t i = 0; i < toks->n && !st; i++) st = tk_buf_append(&b, toks->v[i], toks->lens[i]);
    if (st) {
        free(b.p);
        return st;
    }
    for (size_t i = 1; i < toks->n; i++) free(toks->v[i]);
    toks->n = 1;
    return tk_strs_set(toks, 0, b.p, b.len);
}

static accel_status seq_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    for (size_t i = 0; i < c->nseq; i++) {
        accel_status st = c->seq[i]->decode_chain(c->seq[i], toks);
        if (st) return st;
    }
    return ACCEL_OK;
}

static void dec_free(tk_decoder *self) {
    if (!self) return;
    dec_ctx *c = self->ctx;
    if (c) {
        for (size_t i = 0; i < c->nseq; i++) c->seq[i]->free(c->seq[i]);
        free(c->seq);
        free(c->prefix);
        free(c);
    }
    free(self);
}

accel_status tk_decoder_from_json(const cJSON *j, tk_decoder **out) {
    const char *type = tk_json_type(j);
    if (!cJSON_IsObject(j) || !type)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: decoder must be an object with a \"type\"");
    tk_decoder *self = calloc(1, sizeof *self);
    dec_ctx *c = calloc(1, sizeof *c);
    if (!self || !c) {
        free(self);
        free(c);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    self->ctx = c;
    self->free = dec_free;
    accel_status st = ACCEL_OK;
    if (!strcmp(type, "WordPiece")) {
        self->decode_chain = wordpiece_decode;
        const char *prefix = "##";
        c->cleanup = 1;
        if (!(st = tk_json_str(j, "prefix", &prefix, "decoder")) && !(st = tk_json_bool(j, "cleanup", &c->cleanup, "decoder")))
            if (!(c->prefix = strdup(prefix))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    } else if (!strcmp(type, "Fuse")) {
        self->decode_chain = fuse_decode;
    } else if (!strcmp(type, "Sequence")) {
        self->decode_chain = seq_decode;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "decoders");
        if (!cJSON_IsArray(arr)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Sequence decoder needs a \"decoders\" array");
        } else {
            size_t n = (size_t)cJSON_GetArraySize(arr);
            c->seq = calloc(n ? n : 1, sizeof *c->seq);
            if (!c->seq) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            for (const cJSON *e = arr->child; e && !st; e = e->next) {
                st = tk_decoder_from_json(e, &c->seq[c->nseq]);
                if (!st) c->nseq++;
            }
        }
    } else {
        st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: decoder type \"%s\" is not supported", type);
    }
    if (st) {
        dec_free(self);
        return st;
    }
    *out = self;
    return ACCEL_OK;
}
