/* The tokenizer: loads tokenizer.json, runs the pipeline (added tokens, normalizer, pre-tokenizer, model,
 * truncation, post-processor, padding) and decodes. Mirrors HF tokenizers' Tokenizer::encode / decode. */
#include "text/text_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct added_tok {
    char *content;
    size_t len;
    int32_t id;
    int special, lstrip, rstrip, normalized, single_word;
} added_tok;

struct accel_tokenizer {
    tk_normalizer *norm;
    tk_pretokenizer *pre;
    tk_model *model;
    tk_postproc *post;
    tk_decoder *dec;
    added_tok *added;
    size_t nadded;
    unsigned char first_byte[2][256]; /* [normalized]: some added token starts with this byte */
    int has_added[2];
    accel_encode_params file_params;
};

struct accel_encoding {
    tk_enc e;
};

accel_encode_params accel_encode_default_params(void) {
    accel_encode_params p;
    memset(&p, 0, sizeof p);
    p.add_special_tokens = 1;
    p.truncation = ACCEL_TRUNC_LONGEST_FIRST;
    return p;
}

/* ---- loading ---------------------------------------------------------------------------------------------- */

void accel_tokenizer_free(accel_tokenizer *tok) {
    if (!tok) return;
    if (tok->norm) tok->norm->free(tok->norm);
    if (tok->pre) tok->pre->free(tok->pre);
    if (tok->model) tok->model->free(tok->model);
    if (tok->post) tok->post->free(tok->post);
    if (tok->dec) tok->dec->free(tok->dec);
    for (size_t i = 0; i < tok->nadded; i++) free(tok->added[i].content);
    free(tok->added);
    free(tok);
}

accel_status tk_model_from_json(const cJSON *j, tk_model **out) {
    if (!cJSON_IsObject(j)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: \"model\" must be an object");
    const char *type = tk_json_type(j);
    if (!type) {
        /* HF accepts an untagged model; WordPiece is recognisable by its fields */
        if (cJSON_GetObjectItemCaseSensitive(j, "continuing_subword_prefix") &&
            cJSON_GetObjectItemCaseSensitive(j, "max_input_chars_per_word"))
            return tk_model_wordpiece_from_json(j, out);
        if (cJSON_GetObjectItemCaseSensitive(j, "merges")) return tk_model_bpe_from_json(j, out);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: model has no \"type\"");
    }
    if (!strcmp(type, "WordPiece")) return tk_model_wordpiece_from_json(j, out);
    if (!strcmp(type, "BPE")) return tk_model_bpe_from_json(j, out);
    if (!strcmp(type, "Unigram")) return tk_model_unigram_from_json(j, out);
    return accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: model type \"%s\" is not supported", type);
}

static accel_status parse_added(accel_tokenizer *tok, const cJSON *arr) {
    if (!arr || cJSON_IsNull(arr)) return ACCEL_OK;
    if (!cJSON_IsArray(arr)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: \"added_tokens\" must be an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    tok->added = calloc(n ? n : 1, sizeof *tok->added);
    if (!tok->added) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (const cJSON *e = arr->child; e; e = e->next) {
        if (!cJSON_IsObject(e)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: added_tokens entries must be objects");
        const char *content = NULL;
        long long id = -1;
        added_tok a = {0};
        a.normalized = -1;
        accel_status st;
        if ((st = tk_json_str(e, "content", &content, "added_tokens[]")) || (st = tk_json_int(e, "id", &id, "added_tokens[]")) ||
            (st = tk_json_bool(e, "special", &a.special, "added_tokens[]")) || (st = tk_json_bool(e, "lstrip", &a.lstrip, "added_tokens[]")) ||
            (st = tk_json_bool(e, "rstrip", &a.rstrip, "added_tokens[]")) ||
            (st = tk_json_bool(e, "normalized", &a.normalized, "added_tokens[]")) ||
            (st = tk_json_bool(e, "single_word", &a.single_word, "added_tokens[]")))
            return st;
        if (!content || !*content || id < 0 || id > 2147483646)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: added token needs a non-empty \"content\" and an id >= 0");
        if (!(a.content = strdup(content))) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
        a.len = strlen(content);
        a.id = (int32_t)id;
        tok->added[tok->nadded++] = a;
        /* HF AddedToken: "normalized" defaults to !special. Normalized tokens are matched on the normalized text
         * (their content is compared as written: TODO normalize the content first, as HF does). */
        int norm = a.normalized < 0 ? !a.special : a.normalized;
        tok->added[tok->nadded - 1].normalized = norm;
        tok->first_byte[norm][(unsigned char)content[0]] = 1;
        tok->has_added[norm] = 1;
    }
    return ACCEL_OK;
}

static accel_status parse_file_params(accel_tokenizer *tok, const cJSON *root) {
    accel_encode_params *p = &tok->file_params;
    *p = accel_encode_default_params();
    accel_status st;
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
    if (tr && !cJSON_IsNull(tr)) {
        if (!cJSON_IsObject(tr)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: \"truncation\" must be an object");
        long long ml = 0;
        const char *strategy = NULL, *dir = NULL;
        if ((st = tk_json_int(tr, "max_length", &ml, "truncation")) || (st = tk_json_str(tr, "strategy", &strategy, "truncation")) ||
            (st = tk_json_str(tr, "direction", &dir, "truncation")))
            return st;
        if (ml <= 0) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: truncation.max_length must be > 0");
        p->max_length = (size_t)ml;
        if (strategy && !strcmp(strategy, "OnlyFirst")) p->truncation = ACCEL_TRUNC_ONLY_FIRST;
        else if (strategy && !strcmp(strategy, "OnlySecond")) p->truncation = ACCEL_TRUNC_ONLY_SECOND;
        p->truncate_left = dir && !strcmp(dir, "Left");
    }
    const cJSON *pd = cJSON_GetObjectItemCaseSensitive(root, "padding");
    if (pd && !cJSON_IsNull(pd)) {
        if (!cJSON_IsObject(pd)) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: \"padding\" must be an object");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(pd, "strategy");
        const cJSON *fixed = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, "Fixed") : NULL;
        if (cJSON_IsString(s) && !strcmp(s->valuestring, "BatchLongest")) {
            p->padding = 1;
        } else if (cJSON_IsNumber(fixed) && fixed->valuedouble >= 0 && fixed->valuedouble < 1e12) {
            p->padding = 2;
            p->pad_length = (size_t)fixed->valuedouble;
        } else {
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: padding.strategy must be \"BatchLongest\" or {\"Fixed\": n}");
        }
        long long mult = 0, pid = 0, ptid = 0;
        const char *dir = NULL;
        if ((st = tk_json_int(pd, "pad_to_multiple_of", &mult, "padding")) || (st = tk_json_int(pd, "pad_id", &pid, "padding")) ||
            (st = tk_json_int(pd, "pad_type_id", &ptid, "padding")) || (st = tk_json_str(pd, "direction", &dir, "padding")))
            return st;
        if (mult < 0 || pid < 0 || pid > 2147483647 || ptid < 0 || ptid > 2147483647)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: padding values out of range");
        p->pad_to_multiple_of = (size_t)mult;
        p->pad_id = (int32_t)pid;
        p->pad_type_id = (int32_t)ptid;
        p->pad_left = dir && !strcmp(dir, "Left");
    }
    return ACCEL_OK;
}

accel_status accel_tokenizer_load_json(const char *json, size_t len, accel_tokenizer **out) {
    if (!json || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_load_json: NULL argument");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: not valid JSON (near byte %zu)",
                                      (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0));
    accel_tokenizer *tok = calloc(1, sizeof *tok);
    accel_status st = ACCEL_OK;
    if (!tok) {
        cJSON_Delete(root);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    if (!cJSON_IsObject(root)) {
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: the top level must be an object");
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model) {
        st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: no \"model\"");
        goto done;
    }
    if ((st = tk_model_from_json(model, &tok->model))) goto done;
    const cJSON *c;
    if ((c = cJSON_GetObjectItemCaseSensitive(root, "normalizer")) && !cJSON_IsNull(c) && (st = tk_normalizer_from_json(c, &tok->norm))) goto done;
    if ((c = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer")) && !cJSON_IsNull(c) && (st = tk_pretokenizer_from_json(c, &tok->pre))) goto done;
    if ((c = cJSON_GetObjectItemCaseSensitive(root, "post_processor")) && !cJSON_IsNull(c) && (st = tk_postproc_from_json(c, &tok->post))) goto done;
    if ((c = cJSON_GetObjectItemCaseSensitive(root, "decoder")) && !cJSON_IsNull(c) && (st = tk_decoder_from_json(c, &tok->dec))) goto done;
    if ((st = parse_added(tok, cJSON_GetObjectItemCaseSensitive(root, "added_tokens")))) goto done;
    st = parse_file_params(tok, root);
done:
    cJSON_Delete(root);
    if (st) {
        accel_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return ACCEL_OK;
}

accel_status accel_tokenizer_load(const char *path, accel_tokenizer **out) {
    if (!path || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_load: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f)
        return accel_set_error(errno == ENOENT ? ACCEL_ERR_NOT_FOUND : ACCEL_ERR_IO, "tokenizer: cannot open %s: %s", path,
                               strerror(errno));
    tk_buf b = {0};
    char chunk[65536];
    size_t n;
    accel_status st = ACCEL_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && !st) st = tk_buf_append(&b, chunk, n);
    if (!st && ferror(f)) st = accel_set_error(ACCEL_ERR_IO, "tokenizer: error reading %s", path);
    fclose(f);
    if (!st) st = b.p ? accel_tokenizer_load_json(b.p, b.len, out)
                      : accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s is empty", path);
    free(b.p);
    return st;
}

accel_status accel_tokenizer_file_params(const accel_tokenizer *tok, accel_encode_params *p) {
    if (!tok || !p) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_file_params: NULL argument");
    int add = p->add_special_tokens;
    *p = tok->file_params;
    p->add_special_tokens = add;
    return ACCEL_OK;
}

/* ---- vocabulary ------------------------------------------------------------------------------------------- */

size_t accel_tokenizer_vocab_size(const accel_tokenizer *tok) {
    if (!tok) return 0;
    size_t n = tok->model->vocab_size(tok->model);
    for (size_t i = 0; i < tok->nadded; i++)
        if (!tok->model->id_to_token(tok->model, tok->added[i].id)) n++;
    return n;
}

int32_t accel_tokenizer_token_to_id(const accel_tokenizer *tok, const char *token, size_t len) {
    if (!tok || !token) return -1;
    for (size_t i = 0; i < tok->nadded; i++)
        if (tok->added[i].len == len && !memcmp(tok->added[i].content, token, len)) return tok->added[i].id;
    return tok->model->token_to_id(tok->model, token, len);
}

static const added_tok *added_by_id(const accel_tokenizer *tok, int32_t id) {
    for (size_t i = 0; i < tok->nadded; i++)
        if (tok->added[i].id == id) return &tok->added[i];
    return NULL;
}

const char *accel_tokenizer_id_to_token(const accel_tokenizer *tok, int32_t id) {
    if (!tok) return NULL;
    const added_tok *a = added_by_id(tok, id);
    return a ? a->content : tok->model->id_to_token(tok->model, id);
}

/* ---- encoding --------------------------------------------------------------------------------------------- */

/* Leftmost-longest match of an added token (of the given normalized class) in s from `from`; applies
 * single_word, lstrip and rstrip like HF's AddedVocabulary::find_matches. */
static int find_added(const accel_tokenizer *tok, int norm, const char *s, size_t len, size_t from, size_t *ms, size_t *me,
                      int32_t *id) {
    for (size_t i = from; i < len; i++) {
        if (!tok->first_byte[norm][(unsigned char)s[i]]) continue;
        const added_tok *best = NULL;
        for (size_t k = 0; k < tok->nadded; k++) {
            const added_tok *a = &tok->added[k];
            if (a->normalized != norm || a->len > len - i || memcmp(s + i, a->content, a->len)) continue;
            if (a->single_word) {
                uint32_t cp;
                if (i > 0) {
                    size_t b = i - 1;
                    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
                    tk_utf8_decode(s + b, len - b, &cp);
                    if (tk_is_word_char(cp)) continue;
                }
                if (i + a->len < len) {
                    tk_utf8_decode(s + i + a->len, len - i - a->len, &cp);
                    if (tk_is_word_char(cp)) continue;
                }
            }
            if (!best || a->len > best->len) best = a;
        }
        if (!best) continue;
        size_t st = i, en = i + best->len;
        if (best->lstrip)
            while (st > from) {
                size_t b = st - 1;
                while (b > from && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
                uint32_t cp;
                tk_utf8_decode(s + b, st - b, &cp);
                if (!tk_is_whitespace_rust(cp)) break;
                st = b;
            }
        if (best->rstrip)
            while (en < len) {
                uint32_t cp;
                size_t k = tk_utf8_decode(s + en, len - en, &cp);
                if (!tk_is_whitespace_rust(cp)) break;
                en += k;
            }
        *ms = st;
        *me = en;
        *id = best->id;
        return 1;
    }
    return 0;
}

/* Splits the untokenized splits of pt on added tokens of class norm; matches become tokenized splits. */
static accel_status split_added(const accel_tokenizer *tok, tk_pretok *pt, int norm) {
    tk_pretok out = {0};
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < pt->n && !st; i++) {
        tk_split *sp = &pt->v[i];
        if (sp->toks || sp->is_added) {
            st = tk_pretok_push(&out, sp);
            continue;
        }
        size_t from = 0, ms, me;
        int32_t id;
        while (!st && find_added(tok, norm, sp->n.s, sp->n.len, from, &ms, &me, &id)) {
            if (ms > from) {
                tk_split a = {0};
                st = tk_nstr_sub(&sp->n, from, ms, &a.n);
                if (!st) st = tk_pretok_push(&out, &a);
                if (st) tk_nstr_free(&a.n);
            }
            if (st) break;
            tk_split a = {0};
            a.is_added = 1;
            st = tk_nstr_sub(&sp->n, ms, me, &a.n);
            if (!st) {
                a.toks = malloc(sizeof *a.toks);
                if (!a.toks) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
                else {
                    a.toks[0] = (tk_token){id, 0, me - ms};
                    a.ntoks = 1;
                    st = tk_pretok_push(&out, &a);
                }
            }
            if (st) {
                tk_nstr_free(&a.n);
                free(a.toks);
            }
            from = me;
        }
        if (!st && from < sp->n.len) {
            if (from == 0) {
                st = tk_pretok_push(&out, sp);
            } else {
                tk_split a = {0};
                st = tk_nstr_sub(&sp->n, from, sp->n.len, &a.n);
                if (!st) st = tk_pretok_push(&out, &a);
                if (st) tk_nstr_free(&a.n);
            }
        }
        tk_nstr_free(&sp->n);
    }
    if (st) {
        tk_pretok_free(&out);
        tk_pretok_free(pt);
        return st;
    }
    free(pt->v);
    *pt = out;
    return ACCEL_OK;
}

/* text -> tokens of one sequence (no special tokens), offsets into the original text */
static accel_status encode_sequence(const accel_tokenizer *tok, const char *text, size_t len, tk_enc *enc) {
    size_t bad = tk_utf8_validate(text, len);
    if (bad != len) return accel_set_error(ACCEL_ERR_INVALID_ARG, "tokenizer: invalid UTF-8 at byte offset %zu", bad);
    tk_pretok pt = {0};
    tk_split whole = {0};
    accel_status st = tk_nstr_init(&whole.n, text, len, 0);
    if (!st) st = tk_pretok_push(&pt, &whole);
    if (st) {
        tk_nstr_free(&whole.n);
        return st;
    }
    if (tok->has_added[0] && (st = split_added(tok, &pt, 0))) return st;
    if (tok->norm)
        for (size_t i = 0; i < pt.n && !st; i++)
            if (!pt.v[i].is_added) st = tok->norm->normalize(tok->norm, &pt.v[i].n);
    if (!st && tok->has_added[1]) st = split_added(tok, &pt, 1);
    if (!st && tok->pre) st = tok->pre->pre_tokenize(tok->pre, &pt);
    if (st) {
        tk_pretok_free(&pt);
        return st;
    }
    tk_toklist tl = {0};
    for (size_t i = 0; i < pt.n && !st; i++) {
        tk_split *sp = &pt.v[i];
        const tk_token *tv = sp->toks;
        size_t nt = sp->ntoks;
        if (!tv) {
            tl.n = 0;
            st = tok->model->tokenize(tok->model, sp->n.s, sp->n.len, &tl);
            tv = tl.v;
            nt = tl.n;
        }
        for (size_t k = 0; k < nt && !st; k++) {
            size_t os, oe;
            tk_nstr_orig_span(&sp->n, tv[k].start, tv[k].end, &os, &oe);
            st = tk_enc_push(enc, tv[k].id, 0, 0, os, oe);
            if (!st && sp->is_added) { /* HF's token value is the matched text (lstrip/rstrip whitespace included) */
                size_t lead, trail;
                tk_count_trim_ws(sp->n.s, sp->n.len, &lead, &trail);
                /* as bytes: HF trims chars of the value from byte offsets, which the Python API reports as whole
                 * chars (a multi-byte space such as U+3000 is cut entirely); the reference is that char view */
                size_t lb = 0, tb = sp->n.len;
                for (size_t c = 0; c < lead && lb < sp->n.len; c++) {
                    uint32_t cp;
                    lb += tk_utf8_decode(sp->n.s + lb, sp->n.len - lb, &cp);
                }
                for (size_t c = 0; c < trail && tb > 0; c++) {
                    tb--;
                    while (tb > 0 && ((unsigned char)sp->n.s[tb] & 0xC0) == 0x80) tb--;
                }
                lead = lb;
                trail = sp->n.len - tb;
                enc->ws[enc->n - 1] = TK_WS_VALUE | (uint32_t)(lead < 0x7fff ? lead : 0x7fff) |
                                      (uint32_t)(trail < 0x7fff ? trail : 0x7fff) << 15;
            }
        }
    }
    free(tl.v);
    tk_pretok_free(&pt);
    return st;
}

static void truncate_enc(tk_enc *e, size_t keep, int left) {
    if (e->n <= keep) return;
    size_t drop = e->n - keep;
    e->n_overflow = drop;
    if (left) {
        memmove(e->ids, e->ids + drop, keep * sizeof *e->ids);
        memmove(e->type_ids, e->type_ids + drop, keep * sizeof *e->type_ids);
        memmove(e->attn, e->attn + drop, keep * sizeof *e->attn);
        memmove(e->special, e->special + drop, keep * sizeof *e->special);
        memmove(e->offsets, e->offsets + 2 * drop, 2 * keep * sizeof *e->offsets);
        memmove(e->ws, e->ws + drop, keep * sizeof *e->ws);
        memmove(e->seq, e->seq + drop, keep * sizeof *e->seq);
    }
    e->n = keep;
}

static accel_status pad_enc(tk_enc *e, size_t target, const accel_encode_params *p) {
    if (e->n >= target) return ACCEL_OK;
    size_t add = target - e->n, old = e->n;
    for (size_t i = 0; i < add; i++) {
        accel_status st = tk_enc_push(e, p->pad_id, p->pad_type_id, 1, 0, 0);
        if (st) return st;
        e->attn[e->n - 1] = 0;
    }
    if (p->pad_left) { /* rotate the padding to the front */
        for (size_t i = old; i-- > 0;) {
            e->ids[i + add] = e->ids[i];
            e->type_ids[i + add] = e->type_ids[i];
            e->attn[i + add] = e->attn[i];
            e->special[i + add] = e->special[i];
            e->ws[i + add] = e->ws[i];
            e->seq[i + add] = e->seq[i];
            e->offsets[2 * (i + add)] = e->offsets[2 * i];
            e->offsets[2 * (i + add) + 1] = e->offsets[2 * i + 1];
        }
        for (size_t i = 0; i < add; i++) {
            e->ids[i] = p->pad_id;
            e->type_ids[i] = p->pad_type_id;
            e->attn[i] = 0;
            e->special[i] = 1;
            e->ws[i] = 0;
            e->seq[i] = -1;
            e->offsets[2 * i] = e->offsets[2 * i + 1] = 0;
        }
    }
    return ACCEL_OK;
}

static size_t pad_target(size_t n, const accel_encode_params *p) {
    if (p->pad_to_multiple_of > 1 && n % p->pad_to_multiple_of) n += p->pad_to_multiple_of - n % p->pad_to_multiple_of;
    return n;
}

/* HF truncate_encodings with max_length already reduced by the special tokens (stride 0). */
static accel_status truncate_pair(tk_enc *a, tk_enc *b, size_t max, const accel_encode_params *p) {
    size_t total = a->n + (b ? b->n : 0);
    if (total <= max) return ACCEL_OK;
    size_t to_remove = total - max;
    if (p->truncation == ACCEL_TRUNC_LONGEST_FIRST) {
        if (!b) {
            truncate_enc(a, max, p->truncate_left);
            return ACCEL_OK;
        }
        size_t n1 = a->n, n2 = b->n;
        int swap = n1 > n2;
        if (swap) {
            size_t x = n1;
            n1 = n2;
            n2 = x;
        }
        n2 = n1 > max ? n1 : (n1 > max - n1 ? n1 : max - n1);
        if (n1 + n2 > max) {
            n1 = max / 2;
            n2 = n1 + max % 2;
        }
        if (swap) {
            size_t x = n1;
            n1 = n2;
            n2 = x;
        }
        truncate_enc(a, n1, p->truncate_left);
        truncate_enc(b, n2, p->truncate_left);
        return ACCEL_OK;
    }
    tk_enc *target = p->truncation == ACCEL_TRUNC_ONLY_FIRST ? a : b;
    if (!target) return accel_set_error(ACCEL_ERR_INVALID_ARG, "tokenizer: truncation OnlySecond on a single sequence");
    if (target->n <= to_remove) {
        if (!b) { /* single sequence: keep the historical behaviour (truncate to what fits) */
            truncate_enc(a, max, p->truncate_left);
            return ACCEL_OK;
        }
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "tokenizer: truncation: sequence %s has %zu tokens, too few to remove %zu (HF SequenceTooShort)",
                               target == a ? "A" : "B", target->n, to_remove);
    }
    truncate_enc(target, target->n - to_remove, p->truncate_left);
    return ACCEL_OK;
}

static accel_status encode_one(const accel_tokenizer *tok, const char *text, size_t len, const char *btext,
                               size_t blen, int has_b, const accel_encode_params *p, accel_encoding **out) {
    if (!text && len) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode: text is NULL");
    if (has_b && !btext && blen) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode_pair: text b is NULL");
    tk_enc seq = {0}, seqb = {0};
    accel_status st = encode_sequence(tok, text ? text : "", len, &seq);
    if (!st && has_b) {
        st = encode_sequence(tok, btext ? btext : "", blen, &seqb);
        for (size_t i = 0; !st && i < seqb.n; i++) seqb.seq[i] = 1;
    }
    if (!st && p->max_length) {
        size_t added = p->add_special_tokens && tok->post ? tok->post->added_tokens(tok->post, has_b) : 0;
        if (p->max_length < added)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG, "tokenizer: max_length %zu is smaller than the %zu special tokens",
                                 p->max_length, added);
        else
            st = truncate_pair(&seq, has_b ? &seqb : NULL, p->max_length - added, p);
    }
    accel_encoding *enc = NULL;
    if (!st) {
        enc = calloc(1, sizeof *enc);
        if (!enc) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    if (!st) {
        if (tok->post) {
            st = tok->post->process(tok->post, &seq, has_b ? &seqb : NULL, p->add_special_tokens, &enc->e, tok);
        } else {
            enc->e = seq;
            memset(&seq, 0, sizeof seq);
            for (size_t i = 0; has_b && !st && i < seqb.n; i++) {
                st = tk_enc_push(&enc->e, seqb.ids[i], seqb.type_ids[i], seqb.special[i], seqb.offsets[2 * i],
                                 seqb.offsets[2 * i + 1]);
                if (!st) {
                    enc->e.ws[enc->e.n - 1] = seqb.ws[i];
                    enc->e.seq[enc->e.n - 1] = 1;
                }
            }
            if (!st) enc->e.n_overflow += seqb.n_overflow;
        }
    }
    tk_enc_free(&seq);
    tk_enc_free(&seqb);
    /* Offset trimming (ByteLevel/RoBERTa trim_offsets) counts chars of byte-level tokens as bytes and can end inside
     * a multi-byte char; HF's Python binding floors such offsets to the char that holds them: do the same, in the
     * text of the token's own sequence. */
    if (!st)
        for (size_t i = 0; i < 2 * enc->e.n; i++) {
            int sq = enc->e.seq[i / 2];
            const char *tx = sq == 1 ? btext : text;
            size_t tl = sq == 1 ? blen : len;
            if (sq < 0 || !tx) continue;
            size_t o = enc->e.offsets[i];
            while (o > 0 && o < tl && ((unsigned char)tx[o] & 0xC0) == 0x80) o--;
            enc->e.offsets[i] = o;
        }
    if (!st && p->padding == 2) st = pad_enc(&enc->e, pad_target(p->pad_length, p), p);
    if (st) {
        accel_encoding_free(enc);
        return st;
    }
    *out = enc;
    return ACCEL_OK;
}

accel_status accel_tokenizer_encode(const accel_tokenizer *tok, const char *text, size_t len,
                                    const accel_encode_params *params, accel_encoding **out) {
    if (!tok || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode: NULL argument");
    accel_encode_params p = params ? *params : accel_encode_default_params();
    return encode_one(tok, text, len, NULL, 0, 0, &p, out);
}

accel_status accel_tokenizer_encode_pair(const accel_tokenizer *tok, const char *a, size_t a_len, const char *b,
                                         size_t b_len, const accel_encode_params *params, accel_encoding **out) {
    if (!tok || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode_pair: NULL argument");
    accel_encode_params p = params ? *params : accel_encode_default_params();
    return encode_one(tok, a, a_len, b, b_len, 1, &p, out);
}

static accel_status encode_batch(const accel_tokenizer *tok, const char *const *texts, const size_t *lens,
                                 const char *const *btexts, const size_t *blens, size_t n,
                                 const accel_encode_params *params, accel_encoding **out) {
    accel_encode_params p = params ? *params : accel_encode_default_params();
    for (size_t i = 0; i < n; i++) out[i] = NULL;
    accel_encode_params p1 = p;
    p1.padding = 0;
    accel_status st = ACCEL_OK;
    size_t longest = 0;
    for (size_t i = 0; i < n && !st; i++) {
        st = encode_one(tok, texts[i], lens[i], btexts ? btexts[i] : NULL, blens ? blens[i] : 0, btexts != NULL, &p1,
                        &out[i]);
        if (st) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", accel_last_error());
            accel_set_error(st, "tokenizer: batch item %zu: %s", i, msg);
        } else if (out[i]->e.n > longest) {
            longest = out[i]->e.n;
        }
    }
    if (!st && p.padding) {
        size_t target = pad_target(p.padding == 2 ? p.pad_length : longest, &p);
        for (size_t i = 0; i < n && !st; i++) st = pad_enc(&out[i]->e, target, &p);
    }
    if (st)
        for (size_t i = 0; i < n; i++) {
            accel_encoding_free(out[i]);
            out[i] = NULL;
        }
    return st;
}

accel_status accel_tokenizer_encode_batch(const accel_tokenizer *tok, const char *const *texts, const size_t *lens,
                                          size_t n, const accel_encode_params *params, accel_encoding **out) {
    if (!tok || !out || (n && (!texts || !lens)))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode_batch: NULL argument");
    return encode_batch(tok, texts, lens, NULL, NULL, n, params, out);
}

accel_status accel_tokenizer_encode_pair_batch(const accel_tokenizer *tok, const char *const *a, const size_t *a_lens,
                                               const char *const *b, const size_t *b_lens, size_t n,
                                               const accel_encode_params *params, accel_encoding **out) {
    if (!tok || !out || (n && (!a || !a_lens || !b || !b_lens)))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_encode_pair_batch: NULL argument");
    return encode_batch(tok, a, a_lens, b, b_lens, n, params, out);
}

void accel_encoding_free(accel_encoding *enc) {
    if (!enc) return;
    tk_enc_free(&enc->e);
    free(enc);
}

size_t accel_encoding_len(const accel_encoding *enc) { return enc ? enc->e.n : 0; }
const int32_t *accel_encoding_ids(const accel_encoding *enc) { return enc ? enc->e.ids : NULL; }
const int32_t *accel_encoding_type_ids(const accel_encoding *enc) { return enc ? enc->e.type_ids : NULL; }
const int32_t *accel_encoding_attention_mask(const accel_encoding *enc) { return enc ? enc->e.attn : NULL; }
const int32_t *accel_encoding_special_tokens_mask(const accel_encoding *enc) { return enc ? enc->e.special : NULL; }
const size_t *accel_encoding_offsets(const accel_encoding *enc) { return enc ? enc->e.offsets : NULL; }
const int32_t *accel_encoding_sequence_ids(const accel_encoding *enc) { return enc ? enc->e.seq : NULL; }
size_t accel_encoding_n_overflowing(const accel_encoding *enc) { return enc ? enc->e.n_overflow : 0; }

/* ---- decoding --------------------------------------------------------------------------------------------- */

accel_status accel_tokenizer_decode(const accel_tokenizer *tok, const int32_t *ids, size_t n, int skip_special_tokens,
                                    char **out, size_t *out_len) {
    if (!tok || !out || (n && !ids)) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_tokenizer_decode: NULL argument");
    tk_strs toks = {0};
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < n && !st; i++) {
        const added_tok *a = added_by_id(tok, ids[i]);
        const char *t = a ? a->content : tok->model->id_to_token(tok->model, ids[i]);
        if (!t || (skip_special_tokens && a && a->special)) continue;
        st = tk_strs_push(&toks, t, strlen(t));
    }
    if (!st && tok->dec) st = tok->dec->decode_chain(tok->dec, &toks);
    tk_buf b = {0};
    if (!st) st = tk_buf_append(&b, "", 0);
    for (size_t i = 0; i < toks.n && !st; i++) {
        if (i > 0 && !tok->dec) st = tk_buf_append(&b, " ", 1);
        if (!st) st = tk_buf_append(&b, toks.v[i], toks.lens[i]);
    }
    tk_strs_free(&toks);
    if (st) {
        free(b.p);
        return st;
    }
    *out = b.p;
    if (out_len) *out_len = b.len;
    return ACCEL_OK;
}
