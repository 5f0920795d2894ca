/* BPE (HF tokenizers models/bpe): each pre-tokenized word starts as one symbol per char (with the continuing-
 * subword prefix on all but the first and the end-of-word suffix on the last), chars missing from the vocab become
 * <0xNN> byte tokens (byte_fallback) or the unk token (fused when fuse_unk), then pairs are merged by rank, the
 * lowest rank first and the leftmost first among equals (a binary heap with stale-entry checks, exactly HF's
 * Word::merge_all). ignore_merges: a word that is itself in the vocab is one token. A bounded word cache (like HF's,
 * 10000 words under 256 bytes) sits behind a mutex that is only try-locked, so concurrent encoders never wait.
 * dropout must be null or 0 (randomized merges are not reproducible): anything else is ACCEL_ERR_UNSUPPORTED. */
#include "text/text_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 16384 /* power of two; holds at most CACHE_MAX words */
#define CACHE_MAX 10000
#define CACHE_WORD_MAX 256

typedef struct merge_ent {
    uint64_t key; /* (a << 32 | b) + 1; 0 empty */
    uint32_t rank, new_id;
} merge_ent;

typedef struct cache_ent {
    char *word; /* NULL: empty */
    size_t len;
    uint32_t *syms; /* id, byte length pairs */
    size_t nsyms;
} cache_ent;

typedef struct bpe {
    tk_vocab vocab;
    merge_ent *merges;
    size_t merge_mask;
    char *prefix, *suffix, *unk;
    size_t prefix_len, suffix_len;
    int32_t unk_id;
    int byte_fallback, fuse_unk, ignore_merges;
    int32_t byte_id[256];   /* <0xNN> ids (byte_fallback) */
    int32_t ascii_id[128];  /* id of the single-char token for ASCII chars with no affixes, -1 none */
    pthread_mutex_t lock;
    int lock_init;
    cache_ent *cache;
    size_t ncache;
} bpe;

static inline size_t mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

static const merge_ent *merge_get(const bpe *m, uint32_t a, uint32_t b) {
    if (!m->merges) return NULL;
    uint64_t key = (((uint64_t)a << 32) | b) + 1;
    for (size_t i = mix64(key) & m->merge_mask;; i = (i + 1) & m->merge_mask) {
        if (m->merges[i].key == key) return &m->merges[i];
        if (!m->merges[i].key) return NULL;
    }
}

/* ---- one word ---- */

typedef struct sym {
    uint32_t id;
    int32_t prev, next;
    uint32_t len;
} sym;

typedef struct hent {
    uint32_t rank, pos, new_id;
} hent;

static inline int hless(const hent *a, const hent *b) { /* a pops before b */
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void hpush(hent *h, size_t *n, hent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hless(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static hent hpop(hent *h, size_t *n) {
    hent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        const hent *best = &last;
        if (l < *n && hless(&h[l], best)) s = l, best = &h[l];
        if (r < *n && hless(&h[r], best)) s = r;
        if (s == i) break;
        h[i] = h[s];
        i = s;
    }
    if (*n) h[i] = last;
    return top;
}

typedef struct work {
    sym *s;
    size_t n, cap;
    hent *h;
    size_t hcap;
    char *buf; /* affixed char */
    size_t bcap;
} work;

static accel_status add_sym(work *w, uint32_t id, size_t len) {
    accel_status st = tk_grow((void **)&w->s, &w->cap, w->n + 1, sizeof *w->s);
    if (st) return st;
    int32_t i = (int32_t)w->n;
    w->s[w->n++] = (sym){id, i - 1, i + 1, (uint32_t)len};
    return ACCEL_OK;
}

static int32_t lookup_piece(const bpe *m, work *w, const char *s, size_t n, int first, int last, const char **ps,
                            size_t *pn) {
    if ((first || !m->prefix_len) && (!last || !m->suffix_len)) {
        *ps = s, *pn = n;
        if (n == 1 && (unsigned char)s[0] < 128) return m->ascii_id[(unsigned char)s[0]];
        return tk_vocab_get(&m->vocab, s, n);
    }
    size_t need = m->prefix_len + n + m->suffix_len + 1;
    if (tk_grow((void **)&w->buf, &w->bcap, need, 1)) return -2;
    size_t k = 0;
    if (!first && m->prefix_len) memcpy(w->buf, m->prefix, m->prefix_len), k = m->prefix_len;
    memcpy(w->buf + k, s, n), k += n;
    if (last && m->suffix_len) memcpy(w->buf + k, m->suffix, m->suffix_len), k += m->suffix_len;
    *ps = w->buf, *pn = k;
    return tk_vocab_get(&m->vocab, w->buf, k);
}

static accel_status merge_word(const bpe *m, const char *s, size_t len, work *w) {
    w->n = 0;
    int have_unk = 0;
    uint32_t unk_len = 0;
    accel_status st;
    for (size_t i = 0; i < len;) {
        size_t cl = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) cl = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (cl > len - i) cl = len - i;
        const char *ps;
        size_t pn;
        int32_t id = lookup_piece(m, w, s + i, cl, i == 0, i + cl == len, &ps, &pn);
        if (id == -2) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        if (id >= 0) {
            if (have_unk) {
                if ((st = add_sym(w, (uint32_t)m->unk_id, unk_len))) return st;
                have_unk = 0;
            }
            if ((st = add_sym(w, (uint32_t)id, cl))) return st;
        } else {
            int done = 0;
            if (m->byte_fallback) {
                size_t k = 0;
                while (k < pn && m->byte_id[(unsigned char)ps[k]] >= 0) k++;
                if (k == pn) {
                    /* HF: bytes of the (affixed) piece, each of length 1 */
                    for (k = 0; k < pn; k++)
                        if ((st = add_sym(w, (uint32_t)m->byte_id[(unsigned char)ps[k]], 1))) return st;
                    done = 1;
                }
            }
            if (!done && m->unk) {
                if (m->unk_id < 0)
                    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer: BPE unk_token \"%s\" is not in the vocab", m->unk);
                if (have_unk && m->fuse_unk) {
                    unk_len += (uint32_t)cl;
                } else {
                    if (have_unk && (st = add_sym(w, (uint32_t)m->unk_id, unk_len))) return st;
                    have_unk = 1;
                    unk_len = (uint32_t)cl;
                }
            }
        }
        i += cl;
    }
    if (have_unk && (st = add_sym(w, (uint32_t)m->unk_id, unk_len))) return st;
    if (w->n) w->s[w->n - 1].next = -1;
    if (w->n < 2 || !m->merges) return ACCEL_OK;
    /* merge_all */
    if ((st = tk_grow((void **)&w->h, &w->hcap, 2 * w->n + 4, sizeof *w->h))) return st;
    size_t hn = 0;
    for (size_t i = 0; i + 1 < w->n; i++) {
        const merge_ent *e = merge_get(m, w->s[i].id, w->s[i + 1].id);
        if (e) hpush(w->h, &hn, (hent){e->rank, (uint32_t)i, e->new_id});
    }
    while (hn) {
        hent top = hpop(w->h, &hn);
        sym *cur = &w->s[top.pos];
        if (cur->len == 0 || cur->next == -1) continue;
        size_t np = (size_t)cur->next;
        sym right = w->s[np];
        const merge_ent *e = merge_get(m, cur->id, right.id);
        if (!e || e->new_id != top.new_id) continue;
        cur->id = top.new_id;
        cur->len += right.len;
        cur->next = right.next;
        w->s[np].len = 0;
        if (right.next > -1 && (size_t)right.next < w->n) w->s[right.next].prev = (int32_t)top.pos;
        /* the heap holds at most one entry per live pair plus stale ones; make room for two more */
        if (hn + 2 > w->hcap && (st = tk_grow((void **)&w->h, &w->hcap, hn + 2, sizeof *w->h))) return st;
        if (cur->prev >= 0) {
            const merge_ent *p = merge_get(m, w->s[cur->prev].id, cur->id);
            if (p) hpush(w->h, &hn, (hent){p->rank, (uint32_t)cur->prev, p->new_id});
        }
        if (cur->next >= 0 && (size_t)cur->next < w->n) {
            const merge_ent *p = merge_get(m, cur->id, w->s[cur->next].id);
            if (p) hpush(w->h, &hn, (hent){p->rank, top.pos, p->new_id});
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->s[i].len) w->s[k++] = w->s[i];
    w->n = k;
    return ACCEL_OK;
}

/* ---- cache ---- */

static int cache_lookup(bpe *m, const char *s, size_t len, tk_toklist *out, accel_status *st) {
    if (len >= CACHE_WORD_MAX || pthread_mutex_trylock(&m->lock)) return 0;
    int hit = 0;
    size_t mask = CACHE_SLOTS - 1;
    for (size_t i = (size_t)tk_hash(s, len) & mask;; i = (i + 1) & mask) {
        const cache_ent *e = &m->cache[i];
        if (!e->word) break;
        if (e->len == len && !memcmp(e->word, s, len)) {
            size_t off = 0;
            *st = ACCEL_OK;
            for (size_t k = 0; k < e->nsyms && !*st; k++) {
                *st = tk_toklist_push(out, (int32_t)e->syms[2 * k], off, off + e->syms[2 * k + 1]);
                off += e->syms[2 * k + 1];
            }
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return hit;
}

static void cache_store(bpe *m, const char *s, size_t len, const work *w) {
    if (len >= CACHE_WORD_MAX || m->ncache >= CACHE_MAX || pthread_mutex_trylock(&m->lock)) return;
    size_t mask = CACHE_SLOTS - 1, i = (size_t)tk_hash(s, len) & mask;
    while (m->cache[i].word) {
        if (m->cache[i].len == len && !memcmp(m->cache[i].word, s, len)) goto out; /* another thread stored it */
        i = (i + 1) & mask;
    }
    if (m->ncache < CACHE_MAX) {
        char *word = malloc(len + 1);
        uint32_t *syms = malloc(2 * w->n * sizeof *syms + 1);
        if (!word || !syms) {
            free(word);
            free(syms);
            goto out;
        }
        memcpy(word, s, len);
        for (size_t k = 0; k < w->n; k++) syms[2 * k] = w->s[k].id, syms[2 * k + 1] = w->s[k].len;
        m->cache[i] = (cache_ent){word, len, syms, w->n};
        m->ncache++;
    }
out:
    pthread_mutex_unlock(&m->lock);
}

static accel_status bpe_tokenize(const tk_model *self, const char *s, size_t len, tk_toklist *out) {
    bpe *m = self->ctx;
    if (!len) return ACCEL_OK;
    if (m->ignore_merges) {
        int32_t id = tk_vocab_get(&m->vocab, s, len);
        if (id >= 0) return tk_toklist_push(out, id, 0, len);
    }
    accel_status st = ACCEL_OK;
    if (cache_lookup(m, s, len, out, &st)) return st;
    work w = {0};
    st = merge_word(m, s, len, &w);
    size_t off = 0;
    for (size_t k = 0; k < w.n && !st; k++) {
        st = tk_toklist_push(out, (int32_t)w.s[k].id, off, off + w.s[k].len);
        off += w.s[k].len;
    }
    if (!st) cache_store(m, s, len, &w);
    free(w.s);
    free(w.h);
    free(w.buf);
    return st;
}

static int32_t bpe_token_to_id(const tk_model *self, const char *tok, size_t len) {
    const bpe *m = self->ctx;
    return tk_vocab_get(&m->vocab, tok, len);
}

static const char *bpe_id_to_token(const tk_model *self, int32_t id) {
    const bpe *m = self->ctx;
    if (id < 0 || (size_t)id >= m->vocab.n_ids) return NULL;
    return m->vocab.tokens[id];
}

static size_t bpe_vocab_size(const tk_model *self) {
    const bpe *m = self->ctx;
    return m->vocab.count;
}

static void bpe_free(tk_model *self) {
    if (!self) return;
    bpe *m = self->ctx;
    if (m) {
        tk_vocab_free(&m->vocab);
        free(m->merges);
        free(m->prefix);
        free(m->suffix);
        free(m->unk);
        if (m->cache) {
            for (size_t i = 0; i < CACHE_SLOTS; i++) {
                free(m->cache[i].word);
                free(m->cache[i].syms);
            }
            free(m->cache);
        }
        if (m->lock_init) pthread_mutex_destroy(&m->lock);
        free(m);
    }
    free(self);
}

static char *dup_opt(const char *s) { return s ? strdup(s) : NULL; }

static accel_status add_merge(bpe *m, const char *a, size_t al, const char *b, size_t bl, uint32_t rank) {
    int32_t ia = tk_vocab_get(&m->vocab, a, al), ib = tk_vocab_get(&m->vocab, b, bl);
    if (ia < 0 || ib < 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE merge %u uses \"%.*s\" which is not in the vocab",
                               rank, (int)(ia < 0 ? al : bl), ia < 0 ? a : b);
    /* HF: new token = a + b[prefix_len..] (the prefix is sliced off unconditionally) */
    size_t skip = m->prefix_len;
    if (skip > bl)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE merge %u: \"%.*s\" is shorter than the prefix", rank,
                               (int)bl, b);
    char stack[512];
    size_t nl = al + bl - skip;
    char *buf = nl <= sizeof stack ? stack : malloc(nl);
    if (!buf) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    memcpy(buf, a, al);
    memcpy(buf + al, b + skip, bl - skip);
    int32_t nid = tk_vocab_get(&m->vocab, buf, nl);
    accel_status st = ACCEL_OK;
    if (nid < 0)
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE merge %u makes \"%.*s\" which is not in the vocab",
                             rank, (int)nl, buf);
    if (buf != stack) free(buf);
    if (st) return st;
    uint64_t key = (((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib) + 1;
    size_t i = mix64(key) & m->merge_mask;
    while (m->merges[i].key && m->merges[i].key != key) i = (i + 1) & m->merge_mask;
    m->merges[i] = (merge_ent){key, rank, (uint32_t)nid}; /* a repeated pair: the later one wins, as in HF's map */
    return ACCEL_OK;
}

accel_status tk_model_bpe_from_json(const cJSON *j, tk_model **out) {
    const char *unk = NULL, *prefix = NULL, *suffix = NULL;
    int byte_fallback = 0, fuse_unk = 0, ignore_merges = 0;
    accel_status st;
    if ((st = tk_json_str(j, "unk_token", &unk, "model")) || (st = tk_json_str(j, "continuing_subword_prefix", &prefix, "model")) ||
        (st = tk_json_str(j, "end_of_word_suffix", &suffix, "model")) || (st = tk_json_bool(j, "byte_fallback", &byte_fallback, "model")) ||
        (st = tk_json_bool(j, "fuse_unk", &fuse_unk, "model")) || (st = tk_json_bool(j, "ignore_merges", &ignore_merges, "model")))
        return st;
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(j, "dropout");
    if (dropout && !cJSON_IsNull(dropout)) {
        if (!cJSON_IsNumber(dropout) || dropout->valuedouble < 0 || dropout->valuedouble > 1)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: model.dropout must be null or a number in [0, 1]");
        if (dropout->valuedouble != 0)
            return accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: BPE dropout %g is not supported (randomized merges)",
                                   dropout->valuedouble);
    }
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(j, "merges");
    if (!vocab) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE model has no \"vocab\"");
    if (merges && !cJSON_IsNull(merges) && !cJSON_IsArray(merges))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE model.merges must be an array");
    tk_model *self = calloc(1, sizeof *self);
    bpe *m = calloc(1, sizeof *m);
    if (!self || !m) {
        free(self);
        free(m);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    *self = (tk_model){bpe_tokenize, bpe_token_to_id, bpe_id_to_token, bpe_vocab_size, bpe_free, m};
    if ((st = tk_vocab_from_json(vocab, &m->vocab, "model.vocab"))) goto fail;
    m->prefix = dup_opt(prefix);
    m->suffix = dup_opt(suffix);
    m->unk = dup_opt(unk);
    m->cache = calloc(CACHE_SLOTS, sizeof *m->cache);
    if ((prefix && !m->prefix) || (suffix && !m->suffix) || (unk && !m->unk) || !m->cache) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        goto fail;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->lock_init = 1;
    m->prefix_len = prefix ? strlen(prefix) : 0;
    m->suffix_len = suffix ? strlen(suffix) : 0;
    m->byte_fallback = byte_fallback;
    m->fuse_unk = fuse_unk;
    m->ignore_merges = ignore_merges;
    m->unk_id = unk ? tk_vocab_get(&m->vocab, unk, strlen(unk)) : -1;
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_id[b] = byte_fallback ? tk_vocab_get(&m->vocab, name, 6) : -1;
    }
    for (int c = 0; c < 128; c++) {
        char ch = (char)c;
        m->ascii_id[c] = tk_vocab_get(&m->vocab, &ch, 1);
    }
    size_t nm = merges && cJSON_IsArray(merges) ? (size_t)cJSON_GetArraySize(merges) : 0;
    if (nm) {
        if (nm > 0x7FFFFFFF) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: too many BPE merges");
            goto fail;
        }
        size_t slots = 16;
        while (slots < nm * 2) slots *= 2;
        m->merges = calloc(slots, sizeof *m->merges);
        if (!m->merges) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory for %zu merges", nm);
            goto fail;
        }
        m->merge_mask = slots - 1;
        uint32_t rank = 0;
        for (const cJSON *e = merges->child; e; e = e->next, rank++) {
            if (cJSON_IsString(e)) {
                const char *s = e->valuestring, *sp = strchr(s, ' ');
                if (!sp || strchr(sp + 1, ' ')) {
                    st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE merge %u \"%s\" is not \"a b\"", rank, s);
                    goto fail;
                }
                st = add_merge(m, s, (size_t)(sp - s), sp + 1, strlen(sp + 1), rank);
            } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                       cJSON_IsString(e->child->next)) {
                const char *a = e->child->valuestring, *b = e->child->next->valuestring;
                st = add_merge(m, a, strlen(a), b, strlen(b), rank);
            } else {
                st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BPE merge %u must be \"a b\" or [\"a\", \"b\"]", rank);
            }
            if (st) goto fail;
        }
    }
    *out = self;
    return ACCEL_OK;
fail:
    bpe_free(self);
    return st;
}
