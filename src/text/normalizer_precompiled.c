/* The Precompiled normalizer (SentencePiece's precompiled_charsmap, e.g. nmt_nfkc), exactly as HF tokenizers
 * (normalizers/precompiled.rs + the spm_precompiled crate) applies it:
 *
 *   charsmap = u32 LE trie_size (bytes) | trie_size/4 u32 LE darts-clone double-array units | normalized blob
 *   (NUL-separated UTF-8 replacement strings, addressed by the values stored in the trie).
 *
 * The text is cut into extended grapheme clusters; a cluster shorter than 6 bytes is looked up whole, otherwise (or
 * when it has no entry) each of its chars is looked up alone. A lookup takes the FIRST (shortest) prefix match of
 * the trie's common-prefix search, as spm_precompiled's `transform` does. Alignments follow HF's `replace`: the
 * replacement chars replace the old ones one for one, extra new chars are insertions, and fewer new chars remove
 * the difference through the last pushed change (possibly one of an earlier cluster: HF does the same). */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct pc_ctx {
    uint32_t *units;
    size_t nunits;
    char *norm; /* normalized blob (NUL-terminated copy) */
    size_t norm_len;
} pc_ctx;

static int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with padding; returns MODEL_FORMAT on bad characters or length. */
static accel_status b64_decode(const char *s, unsigned char **out, size_t *olen) {
    size_t n = strlen(s);
    if (n % 4) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: precompiled_charsmap is not base64 (length %zu)", n);
    unsigned char *b = malloc(n / 4 * 3 + 1);
    if (!b) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int q = 0; q < 4; q++) {
            if (s[i + q] == '=' && i + 4 == n && q >= 2) {
                v[q] = 0;
                pad++;
            } else {
                v[q] = b64v((unsigned char)s[i + q]);
                if (v[q] < 0 || pad) {
                    free(b);
                    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: precompiled_charsmap is not base64 (byte %zu)",
                                           i + q);
                }
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        b[k++] = (unsigned char)(x >> 16);
        if (pad < 2) b[k++] = (unsigned char)(x >> 8);
        if (pad < 1) b[k++] = (unsigned char)x;
    }
    *out = b;
    *olen = k;
    return ACCEL_OK;
}

/* darts-clone unit accessors (spm_precompiled DoubleArray) */
static inline uint32_t u_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
static inline uint32_t u_label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
static inline int u_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static inline uint32_t u_value(uint32_t u) { return u & ((1u << 31) - 1); }

/* First (shortest) common-prefix match of key in the trie: returns its value or -1. Out-of-range positions are
 * treated as a miss (HF would panic on such a malformed map). */
static long pc_first_match(const pc_ctx *c, const unsigned char *key, size_t len) {
    if (!c->nunits) return -1;
    size_t pos = 0;
    uint32_t unit = c->units[0];
    pos ^= u_offset(unit);
    for (size_t i = 0; i < len; i++) {
        if (key[i] == 0) break;
        pos ^= key[i];
        if (pos >= c->nunits) return -1;
        unit = c->units[pos];
        if (u_label(unit) != key[i]) return -1;
        pos ^= u_offset(unit);
        if (pos >= c->nunits) return -1;
        if (u_has_leaf(unit)) return (long)u_value(c->units[pos]);
    }
    return -1;
}

/* The replacement of key, or NULL; *rlen its byte length. */
static const char *pc_transform(const pc_ctx *c, const char *key, size_t len, size_t *rlen) {
    long v = pc_first_match(c, (const unsigned char *)key, len);
    if (v < 0 || (size_t)v > c->norm_len || ((unsigned char)c->norm[v] & 0xC0) == 0x80) return NULL;
    *rlen = strlen(c->norm + v);
    return c->norm + v;
}

typedef struct chv {
    tk_change *v;
    size_t n, cap;
} chv;

static accel_status chv_push(chv *c, uint32_t cp, int32_t change) {
    accel_status st = tk_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v);
    if (st) return st;
    c->v[c->n++] = (tk_change){cp, change};
    return ACCEL_OK;
}

static size_t count_chars(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* HF precompiled.rs `replace` */
static accel_status pc_replace(chv *t, const char *old, size_t olen, const char *nw, size_t nlen) {
    long oc = (long)count_chars(old, olen), nc = (long)count_chars(nw, nlen);
    long diff = nc - oc;
    for (size_t i = 0; i < nlen;) {
        uint32_t cp;
        i += tk_utf8_decode(nw + i, nlen - i, &cp);
        accel_status st = chv_push(t, cp, 0);
        if (st) return st;
    }
    if (diff > 0) {
        for (long q = 0; q < diff && (size_t)q < t->n; q++) t->v[t->n - 1 - (size_t)q].change = 1;
    } else if (diff < 0 && t->n) {
        t->v[t->n - 1].change += (int32_t)diff;
    }
    return ACCEL_OK;
}

static accel_status pc_normalize(const tk_normalizer *self, tk_nstr *ns) {
    const pc_ctx *c = self->ctx;
    chv t = {0};
    int modified = 0;
    accel_status st = ACCEL_OK;
    size_t i = 0;
    while (i < ns->len && !st) {
        /* next extended grapheme cluster [i, e) */
        utf8proc_int32_t state = 0;
        uint32_t prev;
        size_t e = i + tk_utf8_decode(ns->s + i, ns->len - i, &prev);
        while (e < ns->len) {
            uint32_t cp;
            size_t k = tk_utf8_decode(ns->s + e, ns->len - e, &cp);
            if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)cp, &state)) break;
            prev = cp;
            e += k;
        }
        const char *g = ns->s + i;
        size_t glen = e - i, rlen;
        const char *r;
        if (glen < 6 && (r = pc_transform(c, g, glen, &rlen))) {
            modified = 1;
            st = pc_replace(&t, g, glen, r, rlen);
        } else {
            for (size_t q = 0; q < glen && !st;) {
                uint32_t cp;
                size_t k = tk_utf8_decode(g + q, glen - q, &cp);
                if ((r = pc_transform(c, g + q, k, &rlen))) {
                    modified = 1;
                    st = pc_replace(&t, g + q, k, r, rlen);
                } else {
                    st = chv_push(&t, cp, 0);
                }
                q += k;
            }
        }
        i = e;
    }
    if (!st && modified) st = tk_nstr_transform(ns, t.v, t.n, 0);
    free(t.v);
    return st;
}

static void pc_free(tk_normalizer *self) {
    if (!self) return;
    pc_ctx *c = self->ctx;
    if (c) {
        free(c->units);
        free(c->norm);
        free(c);
    }
    free(self);
}

accel_status tk_normalizer_precompiled_from_json(const cJSON *j, tk_normalizer **out) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "precompiled_charsmap");
    if (!cJSON_IsString(m))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Precompiled normalizer needs a \"precompiled_charsmap\" string");
    unsigned char *b = NULL;
    size_t n = 0;
    accel_status st = b64_decode(m->valuestring, &b, &n);
    if (st) return st;
    tk_normalizer *self = calloc(1, sizeof *self);
    pc_ctx *c = calloc(1, sizeof *c);
    if (!self || !c) {
        free(self);
        free(c);
        free(b);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    *self = (tk_normalizer){pc_normalize, pc_free, c};
    uint32_t tsize = n >= 4 ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
    if (n < 4 || tsize / 4 > (n - 4) / 4) {
        free(b);
        pc_free(self);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: precompiled_charsmap trie size %u exceeds its %zu bytes",
                               (unsigned)tsize, n);
    }
    c->nunits = tsize / 4;
    size_t nb = 4 + c->nunits * 4;
    c->units = malloc(c->nunits * sizeof *c->units + 1);
    c->norm_len = n - nb;
    c->norm = malloc(c->norm_len + 1);
    if (!c->units || !c->norm) {
        free(b);
        pc_free(self);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    for (size_t i = 0; i < c->nunits; i++) {
        const unsigned char *p = b + 4 + 4 * i;
        c->units[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    }
    memcpy(c->norm, b + nb, c->norm_len);
    c->norm[c->norm_len] = 0;
    free(b);
    if (tk_utf8_validate(c->norm, c->norm_len) != c->norm_len) {
        pc_free(self);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: precompiled_charsmap normalized strings are not UTF-8");
    }
    *out = self;
    return ACCEL_OK;
}
