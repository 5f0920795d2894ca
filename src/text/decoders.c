/* Decoders (HF tokenizers decoders module): rewrite the list of token strings (decode_chain); the tokenizer joins it. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct dec_ctx {
    char *prefix;   /* WordPiece prefix; Replace content; Metaspace replacement; Strip content; CTC pad_token;
                     * BPEDecoder suffix */
    char *delim;    /* CTC word_delimiter_token */
    int cleanup;
    tk_pattern *pat; /* Replace */
    long long start, stop; /* Strip */
    int prepend;    /* Metaspace: prepend_scheme != never */
    tk_decoder **seq;
    size_t nseq;
} dec_ctx;

/* Rust's str::replace(from, to) on b (from non-empty): every non-overlapping occurrence, left to right. */
static accel_status replace_in(tk_buf *b, const char *from, size_t fl, const char *to, size_t tl) {
    if (!fl || b->len < fl || !memmem(b->p, b->len, from, fl)) return ACCEL_OK;
    tk_buf o = {0};
    size_t i = 0;
    accel_status st = tk_buf_append(&o, "", 0);
    while (i < b->len && !st) {
        const char *m = memmem(b->p + i, b->len - i, from, fl);
        if (!m) {
            st = tk_buf_append(&o, b->p + i, b->len - i);
            break;
        }
        st = tk_buf_append(&o, b->p + i, (size_t)(m - (b->p + i)));
        if (!st) st = tk_buf_append(&o, to, tl);
        i = (size_t)(m - b->p) + fl;
    }
    if (st) {
        free(o.p);
        return st;
    }
    free(b->p);
    *b = o;
    return ACCEL_OK;
}

/* HF wordpiece::cleanup: these replacements, in order, on each token */
static accel_status cleanup(tk_buf *b) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof *from; r++) {
        accel_status st = replace_in(b, from[r], strlen(from[r]), to[r], strlen(to[r]));
        if (st) return st;
    }
    return ACCEL_OK;
}

/* HF CTC decoder: consecutive equal tokens collapse to one; each has pad_token removed, then, with cleanup, the
 * wordpiece cleanup and word_delimiter_token -> " "; tokens left empty are dropped. */
static accel_status ctc_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    size_t pl = strlen(c->prefix), dl = strlen(c->delim), w = 0;
    for (size_t i = 0; i < toks->n; i++) {
        if (w > 0 && toks->lens[i] == toks->lens[w - 1] && !memcmp(toks->v[i], toks->v[w - 1], toks->lens[i])) {
            free(toks->v[i]); /* dedup compares the original tokens: the previous kept one is still unchanged */
            toks->v[i] = NULL;
            continue;
        }
        toks->v[w] = toks->v[i];
        toks->lens[w] = toks->lens[i];
        if (w != i) toks->v[i] = NULL;
        w++;
    }
    toks->n = w;
    w = 0;
    /* second pass: rewrite each kept token (dedup is done on the originals first, as Itertools::dedup runs before
     * filter_map on the same iterator: it sees the unmodified tokens) */
    for (size_t i = 0; i < toks->n; i++) {
        tk_buf b = {0};
        accel_status st = tk_buf_append(&b, toks->v[i], toks->lens[i]);
        if (!st) st = replace_in(&b, c->prefix, pl, "", 0);
        if (!st && c->cleanup) st = cleanup(&b);
        if (!st && c->cleanup) st = replace_in(&b, c->delim, dl, " ", 1);
        if (st) {
            free(b.p);
            return st;
        }
        free(toks->v[i]);
        toks->v[i] = NULL;
        if (!b.len) {
            free(b.p);
            continue;
        }
        toks->v[w] = b.p;
        toks->lens[w] = b.len;
        w++;
    }
    toks->n = w;
    return ACCEL_OK;
}

/* HF BPEDecoder: the suffix becomes " " in every token but the last, "" in the last. */
static accel_status bpe_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    size_t sl = strlen(c->prefix);
    for (size_t i = 0; i < toks->n; i++) {
        tk_buf b = {0};
        int last = i + 1 == toks->n;
        accel_status st = tk_buf_append(&b, toks->v[i], toks->lens[i]);
        if (!st) st = replace_in(&b, c->prefix, sl, last ? "" : " ", last ? 0 : 1);
        if (st) {
            free(b.p);
            return st;
        }
        tk_strs_set(toks, i, b.p, b.len);
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

/* HF ByteLevel decoder: the tokens' chars mapped back to bytes (a token with a char outside the alphabet keeps its
 * own UTF-8 bytes), all joined, then String::from_utf8_lossy. */
static accel_status bytelevel_decode(const tk_decoder *self, tk_strs *toks) {
    (void)self;
    tk_buf raw = {0}, out = {0};
    accel_status st = tk_buf_append(&raw, "", 0);
    for (size_t i = 0; i < toks->n && !st; i++) {
        const char *t = toks->v[i];
        size_t tl = toks->lens[i], start = raw.len;
        int ok = 1;
        for (size_t k = 0; k < tl && !st;) {
            uint32_t cp;
            k += tk_utf8_decode(t + k, tl - k, &cp);
            int b = tk_char_to_byte(cp);
            if (b < 0) {
                ok = 0;
                break;
            }
            char c = (char)b;
            st = tk_buf_append(&raw, &c, 1);
        }
        if (!st && !ok) {
            raw.len = start;
            st = tk_buf_append(&raw, t, tl);
        }
    }
    if (!st) st = tk_buf_append(&out, "", 0);
    if (!st) st = tk_buf_append_lossy(&out, raw.p, raw.len);
    free(raw.p);
    if (st) {
        free(out.p);
        return st;
    }
    for (size_t i = 0; i < toks->n; i++) {
        free(toks->v[i]);
        toks->v[i] = NULL;
    }
    if (toks->n == 0) { /* keep one (empty) string, as HF returns vec![String] */
        accel_status s2 = tk_strs_push(toks, "", 0);
        if (s2) {
            free(out.p);
            return s2;
        }
    }
    toks->n = 1;
    return tk_strs_set(toks, 0, out.p, out.len);
}

static int byte_token(const char *t, size_t n, unsigned char *b) {
    if (n != 6 || memcmp(t, "<0x", 3) || t[5] != '>') return 0;
    unsigned v = 0;
    for (int k = 3; k < 5; k++) {
        char c = t[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v * 16 + (unsigned)d;
    }
    *b = (unsigned char)v;
    return 1;
}

/* HF ByteFallback: runs of <0xNN> tokens become their bytes if those are valid UTF-8, else one U+FFFD per byte. */
static accel_status bytefallback_decode(const tk_decoder *self, tk_strs *toks) {
    (void)self;
    tk_strs out = {0};
    char bytes[1024];
    size_t nb = 0;
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i <= toks->n && !st; i++) {
        unsigned char b;
        if (i < toks->n && byte_token(toks->v[i], toks->lens[i], &b) && nb < sizeof bytes) {
            bytes[nb++] = (char)b;
            continue;
        }
        if (nb) {
            if (tk_utf8_validate(bytes, nb) == nb) st = tk_strs_push(&out, bytes, nb);
            else
                for (size_t k = 0; k < nb && !st; k++) st = tk_strs_push(&out, "\xEF\xBF\xBD", 3);
            nb = 0;
        }
        if (!st && i < toks->n) {
            unsigned char b2;
            if (byte_token(toks->v[i], toks->lens[i], &b2)) bytes[nb++] = (char)b2; /* run longer than the buffer */
            else st = tk_strs_push(&out, toks->v[i], toks->lens[i]);
        }
    }
    if (st) {
        tk_strs_free(&out);
        return st;
    }
    tk_strs_free(toks);
    *toks = out;
    return ACCEL_OK;
}

/* HF Replace decoder: pattern -> content in each token. */
static accel_status replace_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    size_t cl = strlen(c->prefix);
    for (size_t i = 0; i < toks->n; i++) {
        const char *t = toks->v[i];
        size_t tl = toks->lens[i], from = 0, last = 0, ms, me;
        accel_status st = tk_pattern_find(t, tl, 0, &ms, &me, c->pat);
        if (st) return st;
        if (ms >= tl) continue;
        tk_buf b = {0};
        st = tk_buf_append(&b, "", 0);
        while (!st && ms < tl) {
            if (me > ms) {
                st = tk_buf_append(&b, t + last, ms - last);
                if (!st) st = tk_buf_append(&b, c->prefix, cl);
                last = from = me;
            } else {
                from = me + 1;
            }
            if (!st && from <= tl) st = tk_pattern_find(t, tl, from, &ms, &me, c->pat);
            else break;
        }
        if (!st) st = tk_buf_append(&b, t + last, tl - last);
        if (st) {
            free(b.p);
            return st;
        }
        tk_strs_set(toks, i, b.p, b.len);
    }
    return ACCEL_OK;
}

/* HF Strip decoder: up to `start` leading and `stop` trailing chars equal to content are removed from each token. */
static accel_status strip_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    uint32_t content;
    tk_utf8_decode(c->prefix, strlen(c->prefix), &content);
    for (size_t i = 0; i < toks->n; i++) {
        const char *t = toks->v[i];
        size_t tl = toks->lens[i], s = 0, e = tl;
        for (long long k = 0; k < c->start && s < tl; k++) {
            uint32_t cp;
            size_t n = tk_utf8_decode(t + s, tl - s, &cp);
            if (cp != content) break;
            s += n;
        }
        for (long long k = 0; k < c->stop && e > s; k++) {
            size_t b = e - 1;
            while (b > s && ((unsigned char)t[b] & 0xC0) == 0x80) b--;
            uint32_t cp;
            tk_utf8_decode(t + b, e - b, &cp);
            if (cp != content) break;
            e = b;
        }
        if (s == 0 && e == tl) continue;
        char *n = malloc(e - s + 1);
        if (!n) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        memcpy(n, t + s, e - s);
        n[e - s] = 0;
        tk_strs_set(toks, i, n, e - s);
    }
    return ACCEL_OK;
}

/* HF Metaspace decoder: the replacement char becomes a space, except in the first token when the prepend scheme is
 * not "never": there every replacement char is dropped (measured with tokenizers 0.23.3: "▁▁a" -> "a", "x▁" -> "x"). */
static accel_status metaspace_decode(const tk_decoder *self, tk_strs *toks) {
    const dec_ctx *c = self->ctx;
    size_t rl = strlen(c->prefix);
    for (size_t i = 0; i < toks->n; i++) {
        const char *t = toks->v[i];
        size_t tl = toks->lens[i];
        tk_buf b = {0};
        accel_status st = tk_buf_append(&b, "", 0);
        for (size_t k = 0; k < tl && !st;) {
            if (tl - k >= rl && !memcmp(t + k, c->prefix, rl)) {
                if (!(i == 0 && c->prepend)) st = tk_buf_append(&b, " ", 1);
                k += rl;
            } else {
                st = tk_buf_append(&b, t + k, 1);
                k++;
            }
        }
        if (st) {
            free(b.p);
            return st;
        }
        tk_strs_set(toks, i, b.p, b.len);
    }
    return ACCEL_OK;
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
        free(c->delim);
        tk_pattern_free(c->pat);
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
    } else if (!strcmp(type, "ByteLevel")) {
        self->decode_chain = bytelevel_decode;
    } else if (!strcmp(type, "ByteFallback")) {
        self->decode_chain = bytefallback_decode;
    } else if (!strcmp(type, "Replace")) {
        self->decode_chain = replace_decode;
        const char *content = NULL;
        if (!(st = tk_json_str(j, "content", &content, "decoder")) &&
            !(st = tk_pattern_from_json(cJSON_GetObjectItemCaseSensitive(j, "pattern"), &c->pat, "decoder"))) {
            if (!content) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Replace decoder has no \"content\"");
            else if (!(c->prefix = strdup(content))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "Strip")) {
        self->decode_chain = strip_decode;
        const char *content = NULL;
        if (!(st = tk_json_str(j, "content", &content, "decoder")) && !(st = tk_json_int(j, "start", &c->start, "decoder")) &&
            !(st = tk_json_int(j, "stop", &c->stop, "decoder"))) {
            if (!content || !*content) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Strip decoder needs a \"content\" char");
            else if (!(c->prefix = strdup(content))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "Metaspace")) {
        self->decode_chain = metaspace_decode;
        const char *rep = "\xE2\x96\x81", *scheme = NULL;
        int legacy_add = 1;
        c->prepend = 1;
        if (!(st = tk_json_str(j, "replacement", &rep, "decoder")) && !(st = tk_json_str(j, "prepend_scheme", &scheme, "decoder")) &&
            !(st = tk_json_bool(j, "add_prefix_space", &legacy_add, "decoder"))) {
            c->prepend = scheme ? strcmp(scheme, "never") != 0 : legacy_add;
            if (!*rep) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Metaspace replacement is empty");
            else if (!(c->prefix = strdup(rep))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "CTC")) {
        self->decode_chain = ctc_decode;
        const char *pad = "<pad>", *delim = "|";
        c->cleanup = 1;
        if (!(st = tk_json_str(j, "pad_token", &pad, "decoder")) && !(st = tk_json_str(j, "word_delimiter_token", &delim, "decoder")) &&
            !(st = tk_json_bool(j, "cleanup", &c->cleanup, "decoder"))) {
            if (!*pad || !*delim) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: CTC decoder tokens must not be empty");
            else if (!(c->prefix = strdup(pad)) || !(c->delim = strdup(delim)))
                st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "BPEDecoder")) {
        self->decode_chain = bpe_decode;
        const char *suffix = "</w>";
        if (!(st = tk_json_str(j, "suffix", &suffix, "decoder"))) {
            if (!*suffix) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPEDecoder suffix must not be empty");
            else if (!(c->prefix = strdup(suffix))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
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
