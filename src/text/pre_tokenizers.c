/* Pre-tokenizers (HF tokenizers pre_tokenizers module): split the normalized string into words with byte offsets. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

typedef struct pre_ctx {
    tk_split_behavior behavior;
    int individual_digits;
    tk_pattern *pat;                  /* Split; ByteLevel with use_regex (GPT-2's regex) */
    int invert;                       /* Split */
    int add_prefix_space;             /* ByteLevel */
    char rep[8];                      /* Metaspace replacement (UTF-8) */
    size_t rep_len;
    int prepend;                      /* Metaspace: 0 never, 1 first, 2 always */
    int split;                        /* Metaspace */
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

static accel_status split_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    return tk_pretok_split_ex(pt, tk_pattern_find, c->pat, c->behavior, c->invert);
}

/* Byte-level: every byte of the normalized text becomes the char that GPT-2's alphabet maps it to; all the bytes of
 * one char keep that char's alignment (HF transform with (c, 0), (c, 1)...). */
static accel_status bytelevel_map(tk_nstr *ns) {
    size_t extra = 0;
    for (size_t i = 0; i < ns->len; i++) extra += (unsigned char)ns->s[i] >= 0x80 || (unsigned char)ns->s[i] <= 0x20 ||
                                                  (unsigned char)ns->s[i] == 0x7F;
    if (!extra) return ACCEL_OK; /* printable ASCII maps to itself */
    tk_nstr out = {0};
    out.base = ns->base;
    size_t need = ns->len + extra + 1;
    out.s = malloc(need);
    out.align = malloc(need * sizeof *out.align);
    if (!out.s || !out.align) {
        tk_nstr_free(&out);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    out.cap = need;
    for (size_t i = 0; i < ns->len; i++) {
        size_t k = tk_utf8_encode(tk_byte_to_char((unsigned char)ns->s[i]), out.s + out.len);
        for (size_t q = 0; q < k; q++) out.align[out.len + q] = ns->align[i];
        out.len += k;
    }
    tk_nstr_free(ns);
    *ns = out;
    return ACCEL_OK;
}

static accel_status bytelevel_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    accel_status st = ACCEL_OK;
    if (c->add_prefix_space)
        for (size_t i = 0; i < pt->n && !st; i++)
            if (!pt->v[i].toks && !pt->v[i].is_added && pt->v[i].n.len && pt->v[i].n.s[0] != ' ')
                st = tk_nstr_prepend(&pt->v[i].n, " ", 1);
    if (!st && c->pat) st = tk_pretok_split(pt, tk_pattern_find, c->pat, TK_SPLIT_ISOLATED);
    for (size_t i = 0; i < pt->n && !st; i++)
        if (!pt->v[i].toks && !pt->v[i].is_added) st = bytelevel_map(&pt->v[i].n);
    return st;
}

static size_t map_space_to_rep(uint32_t c, uint32_t out[4], const void *ctx) {
    out[0] = c == ' ' ? *(const uint32_t *)ctx : c;
    return 1;
}

static accel_status find_rep(const char *s, size_t len, size_t from, size_t *ms, size_t *me, const void *ctx) {
    const pre_ctx *c = ctx;
    const char *m = from < len ? memmem(s + from, len - from, c->rep, c->rep_len) : NULL;
    *ms = m ? (size_t)(m - s) : len;
    *me = m ? *ms + c->rep_len : len;
    return ACCEL_OK;
}

static accel_status metaspace_pre(const tk_pretokenizer *self, tk_pretok *pt) {
    const pre_ctx *c = self->ctx;
    uint32_t rep;
    tk_utf8_decode(c->rep, c->rep_len, &rep);
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < pt->n && !st; i++) {
        tk_split *sp = &pt->v[i];
        if (sp->toks || sp->is_added) continue;
        st = tk_nstr_map(&sp->n, map_space_to_rep, &rep);
        if (st) break;
        int starts = sp->n.len >= c->rep_len && !memcmp(sp->n.s, c->rep, c->rep_len);
        size_t orig_start = sp->n.len ? sp->n.align[0].start : sp->n.base;
        if (!starts && (c->prepend == 2 || (c->prepend == 1 && orig_start == 0)))
            st = tk_nstr_prepend(&sp->n, c->rep, c->rep_len);
    }
    if (!st && c->split) st = tk_pretok_split(pt, find_rep, c, TK_SPLIT_MERGED_WITH_NEXT);
    return st;
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
        tk_pattern_free(c->pat);
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
    } else if (!strcmp(type, "Split")) {
        self->pre_tokenize = split_pre;
        c->behavior = TK_SPLIT_REMOVED;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "behavior");
        if (!cJSON_IsString(b))
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Split pre_tokenizer needs a \"behavior\" string");
        if (!st) st = parse_behavior(j, &c->behavior);
        if (!st) st = tk_json_bool(j, "invert", &c->invert, "pre_tokenizer");
        if (!st) st = tk_pattern_from_json(cJSON_GetObjectItemCaseSensitive(j, "pattern"), &c->pat, "pre_tokenizer");
    } else if (!strcmp(type, "ByteLevel")) {
        self->pre_tokenize = bytelevel_pre;
        int use_regex = 1;
        c->add_prefix_space = 1;
        if (!(st = tk_json_bool(j, "add_prefix_space", &c->add_prefix_space, "pre_tokenizer")) &&
            !(st = tk_json_bool(j, "use_regex", &use_regex, "pre_tokenizer")) && use_regex)
            st = tk_pattern_regex(GPT2_REGEX, &c->pat);
    } else if (!strcmp(type, "Metaspace")) {
        self->pre_tokenize = metaspace_pre;
        const char *rep = "\xE2\x96\x81", *scheme = NULL;
        c->split = 1;
        c->prepend = 2;
        int legacy_add = -1;
        if (!(st = tk_json_str(j, "replacement", &rep, "pre_tokenizer")) && !(st = tk_json_str(j, "prepend_scheme", &scheme, "pre_tokenizer")) &&
            !(st = tk_json_bool(j, "split", &c->split, "pre_tokenizer")) &&
            !(st = tk_json_bool(j, "add_prefix_space", &legacy_add, "pre_tokenizer"))) {
            uint32_t cp;
            size_t rl = strlen(rep);
            if (!rl || tk_utf8_validate(rep, rl) != rl || tk_utf8_decode(rep, rl, &cp) != rl)
                st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Metaspace replacement must be one char");
            else {
                memcpy(c->rep, rep, rl);
                c->rep_len = rl;
            }
            if (!st && scheme) {
                if (!strcmp(scheme, "always")) c->prepend = 2;
                else if (!strcmp(scheme, "first")) c->prepend = 1;
                else if (!strcmp(scheme, "never")) c->prepend = 0;
                else st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Metaspace prepend_scheme \"%s\"", scheme);
            } else if (!st && legacy_add == 0) {
                c->prepend = 0;
            }
        }
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
