/* Normalizers (HF tokenizers normalizers module): each rewrites the normalized string char by char, keeping the
 * alignment to the original text exactly as HF's NormalizedString does. */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct norm_ctx {
    int clean_text, chinese, strip_accents, lowercase; /* BertNormalizer */
    int compat;                                        /* NFKD */
    int strip_left, strip_right;                       /* Strip */
    char *str;                                         /* Prepend, Replace content */
    tk_pattern *pat;                                   /* Replace */
    int compose;                                       /* NFC / NFKC */
    tk_normalizer **seq;                               /* Sequence */
    size_t nseq;
} norm_ctx;

/* ---- char maps ---- */

static size_t map_lower(uint32_t c, uint32_t out[4], const void *ctx) {
    (void)ctx;
    if (c < 0x80) {
        out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        return 1;
    }
    if (c == 0x130) { /* the one unconditional multi-char lowercase mapping (SpecialCasing) */
        out[0] = 'i';
        out[1] = 0x307;
        return 2;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
    return 1;
}

static size_t map_strip_accents(uint32_t c, uint32_t out[4], const void *ctx) {
    (void)ctx;
    if (c >= 0x300 && utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_MN) return 0;
    out[0] = c;
    return 1;
}

/* The StripAccents normalizer (unlike BertNormalizer's strip_accents, which drops only Mn) removes every
 * combining mark: HF filters with unicode_normalization's is_combining_mark, General_Category M (Mn, Mc, Me),
 * so e.g. Devanagari vowel signs (Mc) go too. */
static size_t map_strip_marks(uint32_t c, uint32_t out[4], const void *ctx) {
    (void)ctx;
    if (c >= 0x300) {
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME) return 0;
    }
    out[0] = c;
    return 1;
}

static size_t map_clean_text(uint32_t c, uint32_t out[4], const void *ctx) {
    (void)ctx;
    if (c == 0 || c == 0xFFFD || tk_is_bert_control(c)) return 0;
    out[0] = tk_is_bert_whitespace(c) ? ' ' : c;
    return 1;
}

static size_t map_chinese(uint32_t c, uint32_t out[4], const void *ctx) {
    (void)ctx;
    if (c < 0x3400 || !tk_is_chinese_char(c)) {
        out[0] = c;
        return 1;
    }
    out[0] = ' ';
    out[1] = c;
    out[2] = ' ';
    return 3;
}

/* ---- NFD / NFKD with HF's alignment: every char of a decomposition takes the source char's alignment;
 * canonical reordering moves (char, change) pairs together ---- */

typedef struct dch {
    uint32_t cp;
    int32_t change;
    int ccc;
} dch;

/* The (compatibility) decomposition of ns as a stream of (char, change, combining class), canonically ordered:
 * the first half of NFD/NFKD/NFC/NFKC. *changed tells whether anything decomposed or has a combining class.
 * Nothing below U+00A0 decomposes in either form, so those chars skip the lookup. */
static accel_status decompose_stream(const tk_nstr *ns, int compat, dch **out, size_t *out_n, int *changed) {
    size_t cap = ns->len + 8, n = 0;
    dch *d = malloc(cap * sizeof *d);
    if (!d) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    int any = 0;
    for (size_t i = 0; i < ns->len;) {
        uint32_t cp;
        i += tk_utf8_decode(ns->s + i, ns->len - i, &cp);
        utf8proc_int32_t buf[32];
        utf8proc_ssize_t m = 1;
        buf[0] = (utf8proc_int32_t)cp;
        if (cp >= 0xA0) {
            int bc = 0;
            m = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 32,
                                        (utf8proc_option_t)(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0)), &bc);
            if (m < 1 || m > 32) {
                buf[0] = (utf8proc_int32_t)cp;
                m = 1;
            }
            if (m > 1 || (uint32_t)buf[0] != cp) any = 1;
        }
        if (n + (size_t)m > cap) {
            cap = (n + (size_t)m) * 2;
            dch *nd = realloc(d, cap * sizeof *d);
            if (!nd) {
                free(d);
                return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            }
            d = nd;
        }
        for (utf8proc_ssize_t j = 0; j < m; j++) {
            d[n].cp = (uint32_t)buf[j];
            d[n].change = j > 0;
            d[n].ccc = buf[j] < 0x300 ? 0 : utf8proc_get_property(buf[j])->combining_class;
            if (d[n].ccc) any = 1;
            n++;
        }
    }
    /* canonical ordering: stable insertion sort of each run of non-starters by combining class */
    for (size_t i = 0; i < n; i++) {
        if (!d[i].ccc) continue;
        size_t j = i;
        while (j < n && d[j].ccc) j++;
        for (size_t a = i + 1; a < j; a++) {
            dch x = d[a];
            size_t b = a;
            while (b > i && d[b - 1].ccc > x.ccc) {
                d[b] = d[b - 1];
                b--;
            }
            d[b] = x;
        }
        i = j;
    }
    *out = d;
    *out_n = n;
    *changed = any;
    return ACCEL_OK;
}

/* Replaces ns by the stream (HF's transform keeps the alignment); frees d. */
static accel_status apply_stream(tk_nstr *ns, dch *d, size_t n) {
    tk_change *ch = malloc(n * sizeof *ch + 1);
    if (!ch) {
        free(d);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    for (size_t i = 0; i < n; i++) ch[i] = (tk_change){d[i].cp, d[i].change > 1 ? 1 : d[i].change};
    free(d);
    accel_status st = tk_nstr_transform(ns, ch, n, 0);
    free(ch);
    return st;
}

static accel_status decompose(tk_nstr *ns, int compat) {
    dch *d;
    size_t n;
    int changed;
    accel_status st = decompose_stream(ns, compat, &d, &n, &changed);
    if (st != ACCEL_OK) return st;
    if (!changed) { /* nothing decomposes and no marks to reorder: unchanged */
        free(d);
        return ACCEL_OK;
    }
    return apply_stream(ns, d, n);
}

/* ---- NFC / NFKC: the decomposition above, then canonical composition. Alignment follows HF's transform: a
 * composed char consumes the input chars of everything merged into it (each stream entry consumes 1 - change input
 * chars: 0 for an inserted char, 1 + n for a char that removes n). ---- */

static int compose_pair(uint32_t a, uint32_t b, uint32_t *out) {
    utf8proc_int32_t buf[2] = {(utf8proc_int32_t)a, (utf8proc_int32_t)b};
    utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, (utf8proc_option_t)(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
    if (n != 1) return 0;
    *out = (uint32_t)buf[0];
    return 1;
}

static accel_status compose_norm(tk_nstr *ns, int compat) {
    int ascii = 1;
    for (size_t i = 0; i < ns->len && ascii; i++) ascii = (unsigned char)ns->s[i] < 0x80;
    if (ascii) return ACCEL_OK;
    dch *d;
    size_t n;
    int changed;
    accel_status st = decompose_stream(ns, compat, &d, &n, &changed);
    if (st != ACCEL_OK) return st;
    /* canonical composition */
    size_t k = 0;
    long starter = -1;
    int last_ccc = -1;
    for (size_t i = 0; i < n; i++) {
        dch c = d[i];
        uint32_t comp;
        /* not blocked: nothing between the starter and c, or everything between has a lower class than c */
        int blocked = last_ccc != -1 && (last_ccc >= c.ccc || c.ccc == 0);
        if (starter >= 0 && !blocked && compose_pair(d[starter].cp, c.cp, &comp)) {
            long consumed = (1 - (long)d[starter].change) + (1 - (long)c.change);
            d[starter].cp = comp;
            d[starter].change = (int32_t)(1 - consumed);
            continue;
        }
        if (c.ccc == 0) {
            starter = (long)k;
            last_ccc = -1;
        } else {
            last_ccc = c.ccc;
        }
        d[k++] = c;
    }
    n = k;
    int same = 1;
    {
        size_t i = 0, q = 0;
        for (; i < ns->len && q < n && same;) {
            uint32_t cp;
            i += tk_utf8_decode(ns->s + i, ns->len - i, &cp);
            same = cp == d[q].cp && d[q].change == 0;
            q++;
        }
        same = same && i == ns->len && q == n;
    }
    if (same) {
        free(d);
        return ACCEL_OK;
    }
    return apply_stream(ns, d, n);
}

/* ---- components ---- */

static accel_status bert_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    accel_status st = ACCEL_OK;
    if (c->clean_text && (st = tk_nstr_map(ns, map_clean_text, NULL))) return st;
    if (c->chinese && (st = tk_nstr_map(ns, map_chinese, NULL))) return st;
    if (c->strip_accents) {
        if ((st = decompose(ns, 0))) return st;
        if ((st = tk_nstr_map(ns, map_strip_accents, NULL))) return st;
    }
    if (c->lowercase && (st = tk_nstr_map(ns, map_lower, NULL))) return st;
    return ACCEL_OK;
}

static accel_status lowercase_normalize(const tk_normalizer *self, tk_nstr *ns) { return tk_nstr_map(ns, map_lower, NULL); }

static accel_status strip_accents_normalize(const tk_normalizer *self, tk_nstr *ns) {
    return tk_nstr_map(ns, map_strip_marks, NULL);
}

static accel_status nfd_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    return c->compose ? compose_norm(ns, c->compat) : decompose(ns, c->compat);
}

/* HF NormalizedString::replace: every match is removed and the content inserted, each inserted char aligned with
 * the last char of the match. */
static accel_status replace_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    size_t ms, me;
    accel_status st = tk_pattern_find(ns->s, ns->len, 0, &ms, &me, c->pat);
    if (st || ms >= ns->len) return st;
    size_t clen = strlen(c->str);
    tk_nstr out = {0};
    out.base = ns->base;
    size_t last = 0, from = 0;
    tk_buf b = {0};
    tk_align *al = NULL;
    size_t alcap = 0;
    if ((st = tk_buf_reserve(&b, ns->len + clen)) || (st = tk_grow((void **)&al, &alcap, ns->len + clen + 1, sizeof *al))) {
        free(b.p);
        return st;
    }
    while (!st && ms < ns->len) {
        if (me == ms) { /* empty match: nothing to replace */
            from = me + 1;
        } else {
            size_t need = b.len + (ms - last) + clen + 1;
            if ((st = tk_buf_append(&b, ns->s + last, ms - last))) break;
            if ((st = tk_grow((void **)&al, &alcap, need, sizeof *al))) break;
            memcpy(al + b.len - (ms - last), ns->align + last, (ms - last) * sizeof *al);
            tk_align a = ns->align[me - 1];
            if ((st = tk_buf_append(&b, c->str, clen))) break;
            for (size_t q = b.len - clen; q < b.len; q++) al[q] = a;
            last = from = me;
        }
        if (from > ns->len) break;
        st = tk_pattern_find(ns->s, ns->len, from, &ms, &me, c->pat);
    }
    if (!st) {
        size_t need = b.len + (ns->len - last) + 1;
        st = tk_buf_append(&b, ns->s + last, ns->len - last);
        if (!st) st = tk_grow((void **)&al, &alcap, need, sizeof *al);
        if (!st) memcpy(al + b.len - (ns->len - last), ns->align + last, (ns->len - last) * sizeof *al);
    }
    if (st) {
        free(b.p);
        free(al);
        return st;
    }
    out.s = b.p;
    out.align = al;
    out.len = b.len;
    out.cap = b.cap < alcap ? b.cap : alcap;
    tk_nstr_free(ns);
    *ns = out;
    return ACCEL_OK;
}

static accel_status strip_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    size_t s = 0, e = ns->len;
    if (c->strip_left)
        while (s < e) {
            uint32_t cp;
            size_t k = tk_utf8_decode(ns->s + s, e - s, &cp);
            if (!tk_is_whitespace_rust(cp)) break;
            s += k;
        }
    if (c->strip_right)
        while (e > s) {
            size_t b = e - 1;
            while (b > s && ((unsigned char)ns->s[b] & 0xC0) == 0x80) b--;
            uint32_t cp;
            tk_utf8_decode(ns->s + b, e - b, &cp);
            if (!tk_is_whitespace_rust(cp)) break;
            e = b;
        }
    if (s == 0 && e == ns->len) return ACCEL_OK;
    tk_nstr sub;
    accel_status st = tk_nstr_sub(ns, s, e, &sub);
    if (st) return st;
    sub.base = ns->base;
    tk_nstr_free(ns);
    *ns = sub;
    return ACCEL_OK;
}

static accel_status prepend_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    return tk_nstr_prepend(ns, c->str, strlen(c->str));
}

static accel_status seq_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const norm_ctx *c = self->ctx;
    for (size_t i = 0; i < c->nseq; i++) {
        accel_status st = c->seq[i]->normalize(c->seq[i], ns);
        if (st) return st;
    }
    return ACCEL_OK;
}

static void norm_free(tk_normalizer *self) {
    if (!self) return;
    norm_ctx *c = self->ctx;
    if (c) {
        for (size_t i = 0; i < c->nseq; i++) c->seq[i]->free(c->seq[i]);
        free(c->seq);
        free(c->str);
        tk_pattern_free(c->pat);
        free(c);
    }
    free(self);
}

accel_status tk_normalizer_from_json(const cJSON *j, tk_normalizer **out) {
    const char *type = tk_json_type(j);
    if (!cJSON_IsObject(j) || !type)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: normalizer must be an object with a \"type\"");
    tk_normalizer *self = calloc(1, sizeof *self);
    norm_ctx *c = calloc(1, sizeof *c);
    if (!self || !c) {
        free(self);
        free(c);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    self->ctx = c;
    self->free = norm_free;
    accel_status st = ACCEL_OK;
    if (!strcmp(type, "BertNormalizer")) {
        self->normalize = bert_normalize;
        c->clean_text = c->chinese = c->lowercase = 1;
        c->strip_accents = -1;
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(j, "strip_accents");
        if (!((st = tk_json_bool(j, "clean_text", &c->clean_text, "normalizer")) ||
              (st = tk_json_bool(j, "handle_chinese_chars", &c->chinese, "normalizer")) ||
              (st = tk_json_bool(j, "lowercase", &c->lowercase, "normalizer")) ||
              (st = tk_json_bool(j, "strip_accents", &c->strip_accents, "normalizer")))) {
            if (!sa || cJSON_IsNull(sa)) c->strip_accents = c->lowercase; /* HF: None follows lowercase */
        }
    } else if (!strcmp(type, "Lowercase")) {
        self->normalize = lowercase_normalize;
    } else if (!strcmp(type, "StripAccents")) {
        self->normalize = strip_accents_normalize;
    } else if (!strcmp(type, "NFD") || !strcmp(type, "NFKD") || !strcmp(type, "NFC") || !strcmp(type, "NFKC")) {
        self->normalize = nfd_normalize;
        c->compat = type[2] == 'K' || type[1] == 'K';
        c->compose = type[strlen(type) - 1] == 'C';
    } else if (!strcmp(type, "Replace")) {
        self->normalize = replace_normalize;
        const char *content = NULL;
        if (!(st = tk_json_str(j, "content", &content, "normalizer")) &&
            !(st = tk_pattern_from_json(cJSON_GetObjectItemCaseSensitive(j, "pattern"), &c->pat, "normalizer"))) {
            if (!content) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Replace normalizer has no \"content\"");
            else if (!(c->str = strdup(content))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "Strip")) {
        self->normalize = strip_normalize;
        c->strip_left = c->strip_right = 1;
        if (!(st = tk_json_bool(j, "strip_left", &c->strip_left, "normalizer")))
            st = tk_json_bool(j, "strip_right", &c->strip_right, "normalizer");
    } else if (!strcmp(type, "Prepend")) {
        self->normalize = prepend_normalize;
        const char *p = NULL;
        if (!(st = tk_json_str(j, "prepend", &p, "normalizer"))) {
            if (!p) st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Prepend normalizer has no \"prepend\"");
            else if (!(c->str = strdup(p))) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        }
    } else if (!strcmp(type, "Precompiled")) {
        norm_free(self);
        return tk_normalizer_precompiled_from_json(j, out);
    } else if (!strcmp(type, "Sequence")) {
        self->normalize = seq_normalize;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(arr)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Sequence normalizer needs a \"normalizers\" array");
        } else {
            size_t n = (size_t)cJSON_GetArraySize(arr);
            c->seq = calloc(n ? n : 1, sizeof *c->seq);
            if (!c->seq) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            for (const cJSON *e = arr->child; e && !st; e = e->next) {
                st = tk_normalizer_from_json(e, &c->seq[c->nseq]);
                if (!st) c->nseq++;
            }
        }
    } else {
        st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: normalizer type \"%s\" is not supported", type);
    }
    if (st) {
        norm_free(self);
        return st;
    }
    *out = self;
    return ACCEL_OK;
}
