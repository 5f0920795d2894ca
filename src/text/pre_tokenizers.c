/* Pre-tokenizers (HF tokenizers pre_tokenizers module): split the normalized string into words with byte offsets. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct pre_ctx {
    tk_split_behavior behavior;
    int individual_digits;
    tk_pretokenizer **seq;
    size_t nseq;
} pre_ctx;

static int is_numeric(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

static accel_status bert_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    accel_status st = tk_pretok_split_chars(pt, tk_is_whitespace_rust, TK_SPLIT_REMOVED);
    if (st) return st;
    return tk_pretok_split_chars(pt, tk_is_bert_punctuation, TK_SPLIT_ISOLATED);
}

static accel_status wsplit_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    return tk_pretok_split_chars(pt, tk_is_whitespace_rust, TK_SPLIT_REMOVED);
}

/* runs of \w (the rest, [^\w\s]+, is what lies between them once whitespace is removed) */
static accel_status find_word_run(const char *s, size_t len, size_t from, size_t *ms, size_t *me, const void *ctx) {
    size_t i = from;
    while (i < len) {
        uint32_t cp;
        size_t k = tk_utf8_decode(s + i, len - i, &cp);
        if (tk_is_word_char(cp)) break;
        i += k;
    }
    if (i >= len) {
        *ms = *me = len;
        return ACCEL_OK;
    }
    size_t e = i;
    while (e < len) {
        uint32_t cp;
        size_t k = tk_utf8_decode(s + e, len - e, &cp);
        if (!tk_is_word_char(cp)) break;
        e += k;
    }
    *ms = i;
    *me = e;
    return ACCEL_OK;
}

static accel_status whitespace_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    accel_status st = tk_pretok_split_chars(pt, tk_is_whitespace_rust, TK_SPLIT_REMOVED);
    if (st) return st;
    return tk_pretok_split(pt, find_word_run, NULL, TK_SPLIT_ISOLATED);
}

static accel_status punct_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    return tk_pretok_split_chars(pt, tk_is_bert_punctuation, c->behavior);
}

static accel_status digits_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    return tk_pretok_split_chars(pt, is_numeric, c->individual_digits ? TK_SPLIT_ISOLATED : TK_SPLIT_CONTIGUOUS);
}

static accel_status seq_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    for (size_t i = 0; i < c->nseq; i++) {
        accel_status st = c->seq[i]->pre_tokenize(c->seq[i], pt);
        if (st) return st;
    }
    return ACCEL_OK;
}

static void pre_free(tk_pretokenizer *self) {
    if (!self) return;
    pre_ctx *c = self->ctx;
    if (c) {
        for (size_t i = 0; i < c->nseq; i++) c->seq[i]->free(c->seq[i]);
        free(c->seq);
        free(c);
    }
    free(self);
}

static accel_status parse_behavior(const cJSON *j, tk_split_behavior *b) {
    const char *s = NULL;
    accel_status st = tk_json_str(j, "behavior", &s, "pre_tokenizer");
    if (st || !s) return st;
    if (!strcmp(s, "Removed")) *b = TK_SPLIT_REMOVED;
    else if (!strcmp(s, "Isolated")) *b = TK_SPLIT_ISOLATED;
    else if (!strcmp(s, "MergedWithPrevious")) *b = TK_SPLIT_MERGED_WITH_PREVIOUS;
    else if (!strcmp(s, "MergedWithNext")) *b = TK_SPLIT_MERGED_WITH_NEXT;
    else if (!strcmp(s, "Contiguous")) *b = TK_SPLIT_CONTIGUOUS;
    else return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: unknown split behavior \"%s\"", s);
    return ACCEL_OK;
}

accel_status tk_pretokenizer_from_json(const cJSON *j, tk_pretokenizer **out) {
    const char *type = tk_json_type(j);
    if (!cJSON_IsObject(j) || !type)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: pre_tokenizer must be an object with a \"type\"");
    tk_pretokenizer *self = calloc(1, sizeof *self);
    pre_ctx *c = calloc(1, sizeof *c);
    if (!self || !c) {
        free(self);
        free(c);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    self->ctx = c;
    self->free = pre_free;
    accel_status st = ACCEL_OK;
    if (!strcmp(type, "BertPreTokenizer")) {
        self->pre_tokenize = bert_pre;
    } else if (!strcmp(type, "WhitespaceSplit")) {
        self->pre_tokenize = wsplit_pre;
    } else if (!strcmp(type, "Whitespace")) {
        self->pre_tokenize = whitespace_pre;
    } else if (!strcmp(type, "Punctuation")) {
        self->pre_tokenize = punct_pre;
        c->behavior = TK_SPLIT_ISOLATED;
        st = parse_behavior(j, &c->behavior);
    } else if (!strcmp(type, "Digits")) {
        self->pre_tokenize = digits_pre;
        st = tk_json_bool(j, "individual_digits", &c->individual_digits, "pre_tokenizer");
    } else if (!strcmp(type, "Sequence")) {
        self->pre_tokenize = seq_pre;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
        if (!cJSON_IsArray(arr)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Sequence pre_tokenizer needs a \"pretokenizers\" array");
        } else {
            size_t n = (size_t)cJSON_GetArraySize(arr);
            c->seq = calloc(n ? n : 1, sizeof *c->seq);
            if (!c->seq) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            for (const cJSON *e = arr->child; e && !st; e = e->next) {
                st = tk_pretokenizer_from_json(e, &c->seq[c->nseq]);
                if (!st) c->nseq++;
            }
        }
    } else {
        st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: pre_tokenizer type \"%s\" is not supported", type);
    }
    if (st) {
        pre_free(self);
        return st;
    }
    *out = self;
    return ACCEL_OK;
}
