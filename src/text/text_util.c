/* Shared pieces of the tokenizer pipeline: UTF-8, character classes (HF's exact definitions), growable arrays,
 * the normalized string with its alignment map, the pre-tokenized string and its splitting, JSON helpers. */
#include "text/text_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- UTF-8 ------------------------------------------------------------------------------------------------ */

size_t tk_utf8_decode(const char *s, size_t len, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80 || len < 2) {
        *cp = c;
        return 1;
    }
    if (c < 0xE0) {
        *cp = ((uint32_t)(c & 0x1F) << 6) | (u[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0 || len < 4) {
        if (len < 3) {
            *cp = c;
            return 1;
        }
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
        return 3;
    }
    *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) | ((uint32_t)(u[2] & 0x3F) << 6) |
          (u[3] & 0x3F);
    return 4;
}

size_t tk_utf8_encode(uint32_t cp, char *buf) {
    unsigned char *b = (unsigned char *)buf;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t tk_utf8_validate(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i < n) return i;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += n;
    }
    return len;
}

/* ---- character classes -------------------------------------------------------------------------------------- */

int tk_is_whitespace_rust(uint32_t c) {
    /* Rust char::is_whitespace: the Unicode White_Space property */
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
    if (c < 0x85) return 0;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

int tk_is_bert_whitespace(uint32_t c) { return c == '\t' || c == '\n' || c == '\r' || tk_is_whitespace_rust(c); }

/* HF's comment says Cc, Cf, Cn, Co, but measured with tokenizers 0.23.3 unassigned code points (U+0378) and
 * noncharacters (U+FDD0) are kept (the tests' corpus has both): so Cc, Cf, Co, Cs only. */
int tk_is_bert_control(uint32_t c) {
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    if (c < 0x80) return c < 0x20 || c == 0x7F;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS: return 1;
    default: return 0;
    }
}

int tk_is_punctuation(uint32_t c) {
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: return 1;
    default: return 0;
    }
}

int tk_is_bert_punctuation(uint32_t c) {
    if (c < 0x80)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    return tk_is_punctuation(c);
}

int tk_is_chinese_char(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

int tk_is_word_char(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_PC: return 1;
    default: return 0;
    }
}

/* ---- growable arrays ------------------------------------------------------------------------------------------ */

accel_status tk_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return ACCEL_OK;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: size overflow");
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: size overflow");
    void *np = realloc(*p, nc * elem);
    if (!np) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory (%zu bytes)", nc * elem);
    *p = np;
    *cap = nc;
    return ACCEL_OK;
}

accel_status tk_buf_reserve(tk_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: size overflow");
    return tk_grow((void **)&b->p, &b->cap, b->len + extra + 1, 1);
}

accel_status tk_buf_append(tk_buf *b, const char *s, size_t n) {
    accel_status st = tk_buf_reserve(b, n);
    if (st) return st;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return ACCEL_OK;
}

accel_status tk_toklist_push(tk_toklist *l, int32_t id, size_t start, size_t end) {
    accel_status st = tk_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
    if (st) return st;
    l->v[l->n++] = (tk_token){id, start, end};
    return ACCEL_OK;
}

accel_status tk_enc_push(tk_enc *e, int32_t id, int32_t type_id, int special, size_t os, size_t oe) {
    if (e->n + 1 > e->cap) {
        size_t cap = e->cap, need = e->n + 1;
        size_t c1 = cap, c2 = cap, c3 = cap, c4 = cap, c5 = cap, c6 = cap, c7 = cap;
        accel_status st = tk_grow((void **)&e->ids, &c1, need, sizeof(int32_t));
        if (!st) st = tk_grow((void **)&e->type_ids, &c2, need, sizeof(int32_t));
        if (!st) st = tk_grow((void **)&e->attn, &c3, need, sizeof(int32_t));
        if (!st) st = tk_grow((void **)&e->special, &c4, need, sizeof(int32_t));
        if (!st) st = tk_grow((void **)&e->offsets, &c5, need, 2 * sizeof(size_t));
        if (!st) st = tk_grow((void **)&e->ws, &c6, need, sizeof(uint32_t));
        if (!st) st = tk_grow((void **)&e->seq, &c7, need, sizeof(int32_t));
        if (st) return st;
        e->cap = c1;
    }
    e->ids[e->n] = id;
    e->type_ids[e->n] = type_id;
    e->attn[e->n] = 1;
    e->special[e->n] = special;
    e->offsets[2 * e->n] = os;
    e->offsets[2 * e->n + 1] = oe;
    e->ws[e->n] = 0;
    e->seq[e->n] = special ? -1 : 0;
    e->n++;
    return ACCEL_OK;
}

void tk_enc_free(tk_enc *e) {
    free(e->ids);
    free(e->type_ids);
    free(e->attn);
    free(e->special);
    free(e->offsets);
    free(e->ws);
    free(e->seq);
    memset(e, 0, sizeof *e);
}

accel_status tk_strs_push(tk_strs *l, const char *s, size_t len) {
    size_t c1 = l->cap, c2 = l->cap;
    accel_status st = tk_grow((void **)&l->v, &c1, l->n + 1, sizeof *l->v);
    if (!st) st = tk_grow((void **)&l->lens, &c2, l->n + 1, sizeof *l->lens);
    if (st) return st;
    l->cap = c1 < c2 ? c1 : c2;
    char *c = malloc(len + 1);
    if (!c) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    memcpy(c, s, len);
    c[len] = 0;
    l->v[l->n] = c;
    l->lens[l->n] = len;
    l->n++;
    return ACCEL_OK;
}

accel_status tk_strs_set(tk_strs *l, size_t i, char *s, size_t len) {
    free(l->v[i]);
    l->v[i] = s;
    l->lens[i] = len;
    return ACCEL_OK;
}

void tk_strs_free(tk_strs *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    free(l->lens);
    memset(l, 0, sizeof *l);
}

/* ---- normalized string ---------------------------------------------------------------------------------------- */

static accel_status nstr_reserve(tk_nstr *ns, size_t need) {
    if (need <= ns->cap) return ACCEL_OK;
    size_t c1 = ns->cap, c2 = ns->cap;
    accel_status st = tk_grow((void **)&ns->s, &c1, need, 1);
    if (!st) st = tk_grow((void **)&ns->align, &c2, need, sizeof *ns->align);
    if (st) return st;
    ns->cap = c1 < c2 ? c1 : c2;
    return ACCEL_OK;
}

accel_status tk_nstr_init(tk_nstr *ns, const char *s, size_t len, size_t orig_base) {
    memset(ns, 0, sizeof *ns);
    ns->base = orig_base;
    accel_status st = nstr_reserve(ns, len ? len : 1);
    if (st) return st;
    if (len) memcpy(ns->s, s, len);
    ns->len = len;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = tk_utf8_decode(s + i, len - i, &cp);
        for (size_t k = 0; k < n; k++) ns->align[i + k] = (tk_align){orig_base + i, orig_base + i + n};
        i += n;
    }
    return ACCEL_OK;
}

accel_status tk_nstr_sub(const tk_nstr *src, size_t start, size_t end, tk_nstr *out) {
    memset(out, 0, sizeof *out);
    size_t n = end - start;
    accel_status st = nstr_reserve(out, n ? n : 1);
    if (st) return st;
    memcpy(out->s, src->s + start, n);
    memcpy(out->align, src->align + start, n * sizeof *out->align);
    out->len = n;
    out->base = start < src->len ? src->align[start].start : (src->len ? src->align[src->len - 1].end : src->base);
    return ACCEL_OK;
}

void tk_nstr_free(tk_nstr *ns) {
    free(ns->s);
    free(ns->align);
    memset(ns, 0, sizeof *ns);
}

static size_t char_len_at(const tk_nstr *ns, size_t off) {
    uint32_t cp;
    return tk_utf8_decode(ns->s + off, ns->len - off, &cp);
}

accel_status tk_nstr_transform(tk_nstr *ns, const tk_change *ch, size_t n, size_t initial_removed) {
    tk_nstr out = {0};
    out.base = ns->base;
    size_t need = 0;
    for (size_t i = 0; i < n; i++) need += ch[i].cp < 0x80 ? 1 : 4;
    accel_status st = nstr_reserve(&out, need ? need : 1);
    if (st) return st;
    size_t off = 0;
    for (size_t r = 0; r < initial_removed && off < ns->len; r++) off += char_len_at(ns, off);
    for (size_t i = 0; i < n; i++) {
        tk_align a;
        if (ch[i].change > 0) {
            a = off < 1 ? (tk_align){ns->base, ns->base} : ns->align[off - 1];
        } else {
            if (off >= ns->len) {
                tk_nstr_free(&out);
                return accel_set_error(ACCEL_ERR_INTERNAL, "tokenizer: normalizer transform past the end");
            }
            a = ns->align[off];
            off += char_len_at(ns, off);
            for (int32_t r = 0; r < -ch[i].change && off < ns->len; r++) off += char_len_at(ns, off);
        }
        size_t k = tk_utf8_encode(ch[i].cp, out.s + out.len);
        for (size_t b = 0; b < k; b++) out.align[out.len + b] = a;
        out.len += k;
    }
    tk_nstr_free(ns);
    *ns = out;
    return ACCEL_OK;
}

accel_status tk_nstr_map(tk_nstr *ns, tk_char_map_fn fn, const void *ctx) {
    tk_nstr out = {0};
    out.base = ns->base;
    accel_status st = nstr_reserve(&out, ns->len + 16);
    if (st) return st;
    for (size_t i = 0; i < ns->len;) {
        uint32_t cp, o[4];
        size_t n = tk_utf8_decode(ns->s + i, ns->len - i, &cp);
        size_t k = fn(cp, o, ctx);
        tk_align a = ns->align[i];
        if (k == 1 && o[0] == cp) { /* unchanged: copy bytes */
            if ((st = nstr_reserve(&out, out.len + n))) goto fail;
            memcpy(out.s + out.len, ns->s + i, n);
            for (size_t b = 0; b < n; b++) out.align[out.len + b] = a;
            out.len += n;
        } else {
            if ((st = nstr_reserve(&out, out.len + 16))) goto fail;
            for (size_t j = 0; j < k; j++) {
                size_t m = tk_utf8_encode(o[j], out.s + out.len);
                for (size_t b = 0; b < m; b++) out.align[out.len + b] = a;
                out.len += m;
            }
        }
        i += n;
    }
    tk_nstr_free(ns);
    *ns = out;
    return ACCEL_OK;
fail:
    tk_nstr_free(&out);
    return st;
}

void tk_nstr_orig_span(const tk_nstr *ns, size_t s, size_t e, size_t *os, size_t *oe) {
    if (s >= e || s >= ns->len) {
        size_t p = s < ns->len ? ns->align[s].start : (ns->len ? ns->align[ns->len - 1].end : ns->base);
        *os = *oe = p;
        return;
    }
    if (e > ns->len) e = ns->len;
    *os = ns->align[s].start;
    *oe = ns->align[e - 1].end;
}

accel_status tk_nstr_prepend(tk_nstr *ns, const char *p, size_t plen) {
    if (!ns->len || !plen) return ACCEL_OK;
    size_t n = 0;
    tk_change *ch = malloc((plen + ns->len + 1) * sizeof *ch);
    if (!ch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    /* HF prepend: the first prepended char replaces the first char (taking its alignment), the other prepended
     * chars and the first char itself are inserted after it (so they all share the first char's alignment) */
    for (size_t i = 0; i < plen;) {
        uint32_t cp;
        i += tk_utf8_decode(p + i, plen - i, &cp);
        ch[n] = (tk_change){cp, n != 0};
        n++;
    }
    for (size_t i = 0; i < ns->len;) {
        uint32_t cp;
        size_t k = tk_utf8_decode(ns->s + i, ns->len - i, &cp);
        ch[n++] = (tk_change){cp, i == 0 ? 1 : 0};
        i += k;
    }
    accel_status st = tk_nstr_transform(ns, ch, n, 0);
    free(ch);
    return st;
}

/* ---- pre-tokenized string ---------------------------------------------------------------------------------------- */

void tk_pretok_free(tk_pretok *pt) {
    for (size_t i = 0; i < pt->n; i++) {
        tk_nstr_free(&pt->v[i].n);
        free(pt->v[i].toks);
    }
    free(pt->v);
    memset(pt, 0, sizeof *pt);
}

accel_status tk_pretok_push(tk_pretok *pt, tk_split *s) {
    accel_status st = tk_grow((void **)&pt->v, &pt->cap, pt->n + 1, sizeof *pt->v);
    if (st) return st;
    pt->v[pt->n++] = *s;
    memset(s, 0, sizeof *s);
    return ACCEL_OK;
}

typedef struct piece {
    size_t s, e;
    int match;
} piece;

static accel_status push_sub(tk_pretok *out, const tk_nstr *src, size_t s, size_t e) {
    if (s >= e) return ACCEL_OK; /* HF drops empty splits */
    tk_split sp = {0};
    accel_status st = tk_nstr_sub(src, s, e, &sp.n);
    if (!st) st = tk_pretok_push(out, &sp);
    if (st) tk_nstr_free(&sp.n);
    return st;
}

/* Splits one normalized string by the matches and behaviour into out (HF NormalizedString::split). */
static accel_status split_one(const tk_nstr *ns, const piece *pc, size_t np, tk_split_behavior b, tk_pretok *out) {
    accel_status st = ACCEL_OK;
    switch (b) {
    case TK_SPLIT_REMOVED:
        for (size_t i = 0; i < np && !st; i++)
            if (!pc[i].match) st = push_sub(out, ns, pc[i].s, pc[i].e);
        return st;
    case TK_SPLIT_ISOLATED:
        for (size_t i = 0; i < np && !st; i++) st = push_sub(out, ns, pc[i].s, pc[i].e);
        return st;
    case TK_SPLIT_CONTIGUOUS: {
        size_t i = 0;
        while (i < np && !st) {
            size_t j = i + 1; /* HF merges runs of the same kind (two non-matches can touch when inverted) */
            while (j < np && pc[j].match == pc[i].match) j++;
            st = push_sub(out, ns, pc[i].s, pc[j - 1].e);
            i = j;
        }
        return st;
    }
    case TK_SPLIT_MERGED_WITH_PREVIOUS: {
        size_t start = 0, have = 0;
        for (size_t i = 0; i < np && !st; i++) {
            if (pc[i].match) {
                st = push_sub(out, ns, have ? start : pc[i].s, pc[i].e);
                have = 0;
            } else {
                if (have) st = push_sub(out, ns, start, pc[i - 1].e);
                start = pc[i].s;
                have = 1;
            }
        }
        if (have && !st) st = push_sub(out, ns, start, pc[np - 1].e);
        return st;
    }
    case TK_SPLIT_MERGED_WITH_NEXT: {
        size_t start = 0, have = 0;
        for (size_t i = 0; i < np && !st; i++) {
            if (pc[i].match) {
                if (have) st = push_sub(out, ns, start, pc[i - 1].e);
                start = pc[i].s;
                have = 1;
            } else {
                st = push_sub(out, ns, have ? start : pc[i].s, pc[i].e);
                have = 0;
            }
        }
        if (have && !st) st = push_sub(out, ns, start, pc[np - 1].e);
        return st;
    }
    }
    return accel_set_error(ACCEL_ERR_INTERNAL, "tokenizer: bad split behaviour %d", (int)b);
}

typedef struct pieces {
    piece *v;
    size_t n, cap;
} pieces;

static accel_status pieces_push(pieces *p, size_t s, size_t e, int m) {
    accel_status st = tk_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v);
    if (st) return st;
    p->v[p->n++] = (piece){s, e, m};
    return ACCEL_OK;
}

static accel_status pretok_split_generic(tk_pretok *pt, tk_find_fn fn, const void *ctx, tk_char_pred pred,
                                         tk_split_behavior behavior, int invert) {
    tk_pretok out = {0};
    pieces pc = {0};
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < pt->n && !st; i++) {
        tk_split *sp = &pt->v[i];
        if (sp->toks || sp->is_added) {
            st = tk_pretok_push(&out, sp);
            continue;
        }
        pc.n = 0;
        const tk_nstr *ns = &sp->n;
        size_t last = 0;
        if (pred) {
            for (size_t k = 0; k < ns->len && !st;) {
                uint32_t cp;
                size_t n = tk_utf8_decode(ns->s + k, ns->len - k, &cp);
                if (pred(cp)) {
                    if (k > last) st = pieces_push(&pc, last, k, 0);
                    if (!st) st = pieces_push(&pc, k, k + n, 1);
                    last = k + n;
                }
                k += n;
            }
        } else {
            size_t from = 0;
            while (!st && from <= ns->len) {
                size_t ms, me;
                st = fn(ns->s, ns->len, from, &ms, &me, ctx);
                if (st || ms >= ns->len) break;
                if (ms > last) st = pieces_push(&pc, last, ms, 0);
                if (!st) st = pieces_push(&pc, ms, me, 1);
                last = me;
                from = me > ms ? me : me + 1;
            }
        }
        if (!st && last < ns->len) st = pieces_push(&pc, last, ns->len, 0);
        if (invert)
            for (size_t k = 0; k < pc.n; k++) pc.v[k].match = !pc.v[k].match;
        if (!st && pc.n) st = split_one(ns, pc.v, pc.n, behavior, &out);
        tk_nstr_free(&sp->n);
    }
    free(pc.v);
    if (st) {
        /* the remaining input splits still own their data */
        tk_pretok_free(&out);
        tk_pretok_free(pt);
        return st;
    }
    free(pt->v);
    *pt = out;
    return ACCEL_OK;
}

accel_status tk_pretok_split(tk_pretok *pt, tk_find_fn fn, const void *ctx, tk_split_behavior behavior) {
    return pretok_split_generic(pt, fn, ctx, NULL, behavior, 0);
}

accel_status tk_pretok_split_ex(tk_pretok *pt, tk_find_fn fn, const void *ctx, tk_split_behavior behavior, int invert) {
    return pretok_split_generic(pt, fn, ctx, NULL, behavior, invert);
}

accel_status tk_pretok_split_chars(tk_pretok *pt, tk_char_pred pred, tk_split_behavior behavior) {
    return pretok_split_generic(pt, NULL, NULL, pred, behavior, 0);
}

/* ---- JSON helpers ---------------------------------------------------------------------------------------------- */

accel_status tk_json_bool(const cJSON *o, const char *key, int *out, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return ACCEL_OK;
    if (!cJSON_IsBool(v)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s.%s must be a boolean", what, key);
    *out = cJSON_IsTrue(v);
    return ACCEL_OK;
}

accel_status tk_json_int(const cJSON *o, const char *key, long long *out, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return ACCEL_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble || v->valuedouble < -9.0e15 ||
        v->valuedouble > 9.0e15)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s.%s must be an integer", what, key);
    *out = (long long)v->valuedouble;
    return ACCEL_OK;
}

accel_status tk_json_str(const cJSON *o, const char *key, const char **out, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return ACCEL_OK;
    if (!cJSON_IsString(v)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s.%s must be a string", what, key);
    *out = v->valuestring;
    return ACCEL_OK;
}

const char *tk_json_type(const cJSON *o) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

void tk_count_trim_ws(const char *s, size_t len, size_t *lead, size_t *trail) {
    size_t l = 0, t = 0;
    int all_space_prefix = 1;
    for (size_t k = 0; k < len;) {
        uint32_t cp;
        k += tk_utf8_decode(s + k, len - k, &cp);
        int sp = cp == 0x120 || tk_is_whitespace_rust(cp);
        if (all_space_prefix && sp) l++;
        else all_space_prefix = 0;
    }
    for (size_t k = len; k > 0;) {
        size_t b = k - 1;
        while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        uint32_t cp;
        tk_utf8_decode(s + b, k - b, &cp);
        if (!(cp == 0x120 || tk_is_whitespace_rust(cp))) break;
        t++;
        k = b;
    }
    *lead = l;
    *trail = t;
}
