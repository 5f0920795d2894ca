/* Post-processors (HF tokenizers processors module): add the special tokens around the encoded sequence(s). */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct tpl_piece {
    int is_special;  /* 1: SpecialToken, 0: Sequence */
    int seq;         /* 0 = A, 1 = B */
    int32_t type_id;
    int32_t *ids;    /* special token ids (owned) */
    size_t nids;
} tpl_piece;

typedef struct tpl {
    tpl_piece *single, *pair;
    size_t nsingle, npair;
    int trim, add_prefix_space; /* ByteLevel / RobertaProcessing offset trimming */
    int no_template;            /* ByteLevel: no special tokens */
    tk_postproc **seq;          /* Sequence */
    size_t nseq;
} tpl;

static void free_pieces(tpl_piece *p, size_t n) {
    for (size_t i = 0; i < n; i++) free(p[i].ids);
    free(p);
}

static size_t tpl_added(const tk_postproc *self, int is_pair) {
    const tpl *t = self->ctx;
    if (t->seq) {
        size_t c = 0;
        for (size_t i = 0; i < t->nseq; i++) c += t->seq[i]->added_tokens(t->seq[i], is_pair);
        return c;
    }
    const tpl_piece *p = is_pair ? t->pair : t->single;
    size_t n = is_pair ? t->npair : t->nsingle, c = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].is_special) c += p[i].nids;
    return c;
}

static accel_status copy_enc(tk_enc *out, const tk_enc *in, int32_t type_id, int keep_type) {
    for (size_t i = 0; i < in->n; i++) {
        accel_status st = tk_enc_push(out, in->ids[i], keep_type ? in->type_ids[i] : type_id, in->special[i],
                                      in->offsets[2 * i], in->offsets[2 * i + 1]);
        if (st) return st;
        out->ws[out->n - 1] = in->ws ? in->ws[i] : 0;
        out->seq[out->n - 1] = in->seq ? in->seq[i] : 0;
    }
    out->n_overflow += in->n_overflow;
    return ACCEL_OK;
}

/* HF byte_level::process_offsets: leading/trailing spaces (the byte-level 'Ġ' or whitespace chars) of each token's
 * string are cut from its offsets, except the single prefix space that add_prefix_space added to the first token. */
static void trim_offsets(tk_enc *e, int add_prefix_space, const accel_tokenizer *tok) {
    for (size_t i = 0; i < e->n; i++) {
        size_t lead, trail;
        if (e->ws && (e->ws[i] & TK_WS_VALUE)) { /* an added token's value is the text it matched */
            lead = e->ws[i] & 0x7fff;
            trail = (e->ws[i] >> 15) & 0x7fff;
        } else {
            const char *t = accel_tokenizer_id_to_token(tok, e->ids[i]);
            if (!t) continue;
            tk_count_trim_ws(t, strlen(t), &lead, &trail);
        }
        size_t *o = &e->offsets[2 * i];
        if (lead) {
            int is_first = i == 0 || o[0] == 0;
            if (is_first && add_prefix_space && lead == 1) lead = 0;
            o[0] = o[0] + lead < o[1] ? o[0] + lead : o[1];
        }
        if (trail && o[1] >= trail) o[1] = o[1] - trail > o[0] ? o[1] - trail : o[0];
    }
}

static accel_status tpl_process(const tk_postproc *self, const tk_enc *a, const tk_enc *b, int add_special, tk_enc *out,
                                const accel_tokenizer *tok) {
    const tpl *t = self->ctx;
    accel_status st;
    if (t->seq) { /* Sequence: each processor's output feeds the next */
        /* As HF: the sequences stay separate through ByteLevel (which trims each one) until a processor with a
         * template merges them; if none does, they are concatenated at the end. */
        tk_enc cur = {0}, curb = {0};
        int has_b = b != NULL;
        if ((st = copy_enc(&cur, a, 0, 1)) || (b && (st = copy_enc(&curb, b, 0, 1)))) {
            tk_enc_free(&cur);
            tk_enc_free(&curb);
            return st;
        }
        for (size_t i = 0; i < t->nseq; i++) {
            const tpl *ct = t->seq[i]->ctx;
            int separate = has_b && ct->no_template && !ct->seq;
            tk_enc nx = {0}, nxb = {0};
            if (separate) {
                st = t->seq[i]->process(t->seq[i], &cur, NULL, add_special, &nx, tok);
                if (!st) st = t->seq[i]->process(t->seq[i], &curb, NULL, add_special, &nxb, tok);
            } else {
                st = t->seq[i]->process(t->seq[i], &cur, has_b ? &curb : NULL, add_special, &nx, tok);
            }
            tk_enc_free(&cur);
            tk_enc_free(&curb);
            if (st) {
                tk_enc_free(&nx);
                tk_enc_free(&nxb);
                return st;
            }
            cur = nx;
            curb = nxb;
            if (!separate) has_b = 0;
        }
        if (has_b && (st = copy_enc(&cur, &curb, 0, 1))) {
            tk_enc_free(&cur);
            tk_enc_free(&curb);
            return st;
        }
        tk_enc_free(&curb);
        *out = cur;
        return ACCEL_OK;
    }
    if (t->trim || t->no_template) {
        tk_enc ta = {0}, tb = {0};
        if ((st = copy_enc(&ta, a, 0, 1)) || (b && (st = copy_enc(&tb, b, 0, 1)))) {
            tk_enc_free(&ta);
            tk_enc_free(&tb);
            return st;
        }
        if (t->trim) { /* each sequence is trimmed on its own (HF process_offsets per encoding) */
            trim_offsets(&ta, t->add_prefix_space, tok);
            if (b) trim_offsets(&tb, t->add_prefix_space, tok);
        }
        if (t->no_template) {
            *out = ta;
            st = b ? copy_enc(out, &tb, 0, 1) : ACCEL_OK;
            tk_enc_free(&tb);
            return st;
        }
        tpl t2 = *t;
        t2.trim = 0;
        tk_postproc p2 = *self;
        p2.ctx = &t2;
        st = tpl_process(&p2, &ta, b ? &tb : NULL, add_special, out, tok);
        tk_enc_free(&ta);
        tk_enc_free(&tb);
        return st;
    }
    if (!add_special) {
        if ((st = copy_enc(out, a, 0, 1))) return st;
        return b ? copy_enc(out, b, 0, 1) : ACCEL_OK;
    }
    const tpl_piece *p = b ? t->pair : t->single;
    size_t n = b ? t->npair : t->nsingle;
    for (size_t i = 0; i < n; i++) {
        if (p[i].is_special) {
            for (size_t k = 0; k < p[i].nids; k++)
                if ((st = tk_enc_push(out, p[i].ids[k], p[i].type_id, 1, 0, 0))) return st;
        } else {
            const tk_enc *src = p[i].seq ? b : a;
            if (!src) return accel_set_error(ACCEL_ERR_INVALID_ARG, "tokenizer: template needs a second sequence");
            if ((st = copy_enc(out, src, p[i].type_id, 0))) return st;
        }
    }
    return ACCEL_OK;
}

static void tpl_free(tk_postproc *self) {
    if (!self) return;
    tpl *t = self->ctx;
    if (t) {
        free_pieces(t->single, t->nsingle);
        free_pieces(t->pair, t->npair);
        for (size_t i = 0; i < t->nseq; i++) t->seq[i]->free(t->seq[i]);
        free(t->seq);
        free(t);
    }
    free(self);
}

static accel_status special_ids(const cJSON *specials, const char *name, tpl_piece *p) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *ids = sp ? cJSON_GetObjectItemCaseSensitive(sp, "ids") : NULL;
    if (!cJSON_IsArray(ids))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: TemplateProcessing special token \"%s\" has no ids", name);
    size_t n = (size_t)cJSON_GetArraySize(ids);
    p->ids = calloc(n ? n : 1, sizeof *p->ids);
    if (!p->ids) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (const cJSON *e = ids->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 2147483647.0)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: special token \"%s\" has a bad id", name);
        p->ids[p->nids++] = (int32_t)e->valuedouble;
    }
    return ACCEL_OK;
}

static accel_status parse_template(const cJSON *arr, const cJSON *specials, tpl_piece **out, size_t *nout, const char *what) {
    if (!cJSON_IsArray(arr))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: TemplateProcessing.%s must be an array", what);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (const cJSON *e = arr->child; e; e = e->next) {
        tpl_piece *p = &(*out)[(*nout)++];
        const cJSON *st_ = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        const cJSON *sq = cJSON_GetObjectItemCaseSensitive(e, "Sequence");
        const cJSON *body = st_ ? st_ : sq;
        if (!cJSON_IsObject(body))
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: TemplateProcessing.%s piece is neither SpecialToken nor Sequence", what);
        const char *id = NULL;
        long long type_id = 0;
        accel_status s;
        if ((s = tk_json_str(body, "id", &id, "TemplateProcessing")) || (s = tk_json_int(body, "type_id", &type_id, "TemplateProcessing")))
            return s;
        if (!id) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: TemplateProcessing piece without id");
        p->type_id = (int32_t)type_id;
        if (st_) {
            p->is_special = 1;
            if ((s = special_ids(specials, id, p))) return s;
        } else if (!strcmp(id, "A") || !strcmp(id, "B")) {
            p->seq = id[0] == 'B';
        } else {
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: TemplateProcessing sequence id \"%s\" (A or B)", id);
        }
    }
    return ACCEL_OK;
}

/* BertProcessing {"sep": ["[SEP]", 102], "cls": ["[CLS]", 101]} is the template [CLS] A [SEP] / [CLS] A [SEP] B:1 [SEP]:1 */
static accel_status pair_token(const cJSON *j, const char *key, int32_t *id) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(a, 1)) ||
        cJSON_GetArrayItem(a, 1)->valuedouble < 0 || cJSON_GetArrayItem(a, 1)->valuedouble > 2147483647.0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: BertProcessing.%s must be [token, id]", key);
    *id = (int32_t)cJSON_GetArrayItem(a, 1)->valuedouble;
    return ACCEL_OK;
}

static accel_status bert_template(const cJSON *j, tpl *t, int roberta) {
    int32_t cls, sep;
    accel_status st;
    if ((st = pair_token(j, "cls", &cls)) || (st = pair_token(j, "sep", &sep))) return st;
    if (roberta) {
        t->trim = t->add_prefix_space = 1;
        if ((st = tk_json_bool(j, "trim_offsets", &t->trim, "post_processor")) ||
            (st = tk_json_bool(j, "add_prefix_space", &t->add_prefix_space, "post_processor")))
            return st;
    }
    const int32_t single[3][3] = {{1, 0, 0}, {0, 0, 0}, {2, 0, 0}}; /* kind (1 cls, 2 sep, 0 seq), seq, type */
    /* BERT pair: [CLS] A [SEP] B:1 [SEP]:1; RoBERTa pair: <s> A </s> </s> B </s>, every type id 0 */
    const int32_t bpair[5][3] = {{1, 0, 0}, {0, 0, 0}, {2, 0, 0}, {0, 1, 1}, {2, 0, 1}};
    const int32_t rpair[6][3] = {{1, 0, 0}, {0, 0, 0}, {2, 0, 0}, {2, 0, 0}, {0, 1, 0}, {2, 0, 0}};
    int npair = roberta ? 6 : 5;
    t->single = calloc(3, sizeof *t->single);
    t->pair = calloc((size_t)npair, sizeof *t->pair);
    if (!t->single || !t->pair) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (int k = 0; k < 3 + npair; k++) {
        const int32_t(*pair)[3] = roberta ? rpair : bpair;
        const int32_t *d = k < 3 ? single[k] : pair[k - 3];
        tpl_piece *p = k < 3 ? &t->single[t->nsingle++] : &t->pair[t->npair++];
        p->seq = d[1];
        p->type_id = d[2];
        if (d[0]) {
            p->is_special = 1;
            p->ids = malloc(sizeof *p->ids);
            if (!p->ids) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            p->ids[0] = d[0] == 1 ? cls : sep;
            p->nids = 1;
        }
    }
    return ACCEL_OK;
}

accel_status tk_postproc_from_json(const cJSON *j, tk_postproc **out) {
    const char *type = tk_json_type(j);
    if (!cJSON_IsObject(j) || !type)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: post_processor must be an object with a \"type\"");
    if (strcmp(type, "TemplateProcessing") && strcmp(type, "BertProcessing") && strcmp(type, "RobertaProcessing") &&
        strcmp(type, "ByteLevel") && strcmp(type, "Sequence"))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "tokenizer.json: post_processor type \"%s\" is not supported", type);
    tk_postproc *self = calloc(1, sizeof *self);
    tpl *t = calloc(1, sizeof *t);
    if (!self || !t) {
        free(self);
        free(t);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    *self = (tk_postproc){tpl_added, tpl_process, tpl_free, t};
    accel_status st;
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) {
        st = bert_template(j, t, type[0] == 'R');
    } else if (!strcmp(type, "ByteLevel")) {
        t->no_template = 1;
        t->trim = t->add_prefix_space = 1;
        if (!(st = tk_json_bool(j, "trim_offsets", &t->trim, "post_processor")))
            st = tk_json_bool(j, "add_prefix_space", &t->add_prefix_space, "post_processor");
    } else if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "processors");
        if (!cJSON_IsArray(arr)) {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: Sequence post_processor needs a \"processors\" array");
        } else {
            size_t n = (size_t)cJSON_GetArraySize(arr);
            t->seq = calloc(n ? n : 1, sizeof *t->seq);
            st = t->seq ? ACCEL_OK : accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
            for (const cJSON *e = arr->child; e && !st; e = e->next) {
                st = tk_postproc_from_json(e, &t->seq[t->nseq]);
                if (!st) t->nseq++;
            }
            if (!st && !t->nseq) t->no_template = 1;
        }
    } else {
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(j, "special_tokens");
        st = parse_template(cJSON_GetObjectItemCaseSensitive(j, "single"), specials, &t->single, &t->nsingle, "single");
        if (!st) st = parse_template(cJSON_GetObjectItemCaseSensitive(j, "pair"), specials, &t->pair, &t->npair, "pair");
    }
    if (st) {
        tpl_free(self);
        return st;
    }
    *out = self;
    return ACCEL_OK;
}
