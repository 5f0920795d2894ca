/*
 * bert.c — BERT (BertModel): word + position + token-type embeddings, LayerNorm, N post-norm encoder layers,
 * optional pooler (tanh(dense(h[CLS]))).
 *
 * Per layer:  qkv = x Wqkv^T + bqkv  (query/key/value weights concatenated once at load)
 *             a   = LayerNorm(x + attention(q, k, v, padding mask) Wo^T + bo)
 *             y   = LayerNorm(a + act(a Wi^T + bi) Wout^T + bout)
 * Heads are strided views of qkv (no copy); the only layout copy is merging the heads back (blocks.c).
 */
#include "models/bert.h"

#include "core/error.h"
#include "models/blocks.h"
#include "models/st_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bert_layer {
    int qkv_w, qkv_b;   /* fused query/key/value */
    int ao_w, ao_b;     /* attention.output.dense */
    int aln_w, aln_b;   /* attention.output.LayerNorm */
    int in_w, in_b;     /* intermediate.dense */
    int out_w, out_b;   /* output.dense */
    int oln_w, oln_b;   /* output.LayerNorm */
} bert_layer;

typedef struct bert_data {
    int64_t hidden, n_layers, n_heads, head_dim, inter, vocab, max_pos, type_vocab;
    float eps;
    blk_act act;
    int word, pos, type, eln_w, eln_b; /* embeddings */
    int pool_w, pool_b;                /* MW_ABSENT without a pooler */
    bert_layer *layers;
} bert_data;

static const char *const bert_types[] = {"bert", NULL};
static const char *const bert_prefixes[] = {"bert.", NULL};

/* ---- load ------------------------------------------------------------------------------------------------------ */

static void bert_free_data(accel_model *m) {
    bert_data *d = m->family_data;
    if (d) free(d->layers);
    free(d);
    m->family_data = NULL;
}

/* LayerNorm weight and bias of `base`: "weight"/"bias", or "gamma"/"beta" as old TF-converted checkpoints name them. */
static accel_status add_norm(accel_model *m, int64_t dim, const char *base, int *w, int *b) {
    const bool old = !model_has_tensor(m, "%s.weight", base) && model_has_tensor(m, "%s.gamma", base);
    *w = model_weight_add(m, MW_F32, 1, &dim, "%s.%s", base, old ? "gamma" : "weight");
    if (*w < 0) return model_weight_status();
    *b = model_weight_add(m, MW_F32, 1, &dim, "%s.%s", base, old ? "beta" : "bias");
    return *b < 0 ? model_weight_status() : ACCEL_OK;
}

/* A Linear layer: weight [out, in] (kept in its stored dtype) and bias [out] (f32). */
static accel_status add_linear(accel_model *m, int64_t out, int64_t in, const char *base, int *w, int *b) {
    const int64_t ws[2] = {out, in};
    *w = model_weight_add(m, 0, 2, ws, "%s.weight", base);
    if (*w < 0) return model_weight_status();
    *b = model_weight_add(m, MW_F32, 1, &out, "%s.bias", base);
    return *b < 0 ? model_weight_status() : ACCEL_OK;
}

static accel_status load_layer(accel_model *m, bert_data *d, int i) {
    bert_layer *L = &d->layers[i];
    const int64_t H = d->hidden;
    char base[160];
    int q_w = -1, q_b = -1, k_w = -1, k_b = -1, v_w = -1, v_b = -1;
    accel_status st;
#define LIN(out, in, name, w, b)                                                                                     \
    do {                                                                                                             \
        snprintf(base, sizeof base, "encoder.layer.%d.%s", i, name);                                                 \
        if ((st = add_linear(m, out, in, base, w, b)) != ACCEL_OK) return st;                                        \
    } while (0)
#define NORM(name, w, b)                                                                                             \
    do {                                                                                                             \
        snprintf(base, sizeof base, "encoder.layer.%d.%s", i, name);                                                 \
        if ((st = add_norm(m, H, base, w, b)) != ACCEL_OK) return st;                                                \
    } while (0)
    LIN(H, H, "attention.self.query", &q_w, &q_b);
    LIN(H, H, "attention.self.key", &k_w, &k_b);
    LIN(H, H, "attention.self.value", &v_w, &v_b);
    LIN(H, H, "attention.output.dense", &L->ao_w, &L->ao_b);
    NORM("attention.output.LayerNorm", &L->aln_w, &L->aln_b);
    LIN(d->inter, H, "intermediate.dense", &L->in_w, &L->in_b);
    LIN(H, d->inter, "output.dense", &L->out_w, &L->out_b);
    NORM("output.LayerNorm", &L->oln_w, &L->oln_b);
#undef LIN
#undef NORM
    /* one [3H, H] projection instead of three: one GEMM reads x once */
    const int ws[3] = {q_w, k_w, v_w}, bs[3] = {q_b, k_b, v_b};
    snprintf(base, sizeof base, "encoder.layer.%d.attention.self.qkv.weight", i);
    if ((L->qkv_w = model_weight_concat(m, ws, 3, base)) < 0) return model_weight_status();
    snprintf(base, sizeof base, "encoder.layer.%d.attention.self.qkv.bias", i);
    if ((L->qkv_b = model_weight_concat(m, bs, 3, base)) < 0) return model_weight_status();
    return ACCEL_OK;
}

/* Sentence-transformers settings of the directory, if any, into the model's embedding defaults. */
static accel_status load_st_config(accel_model *m, const bert_data *d) {
    st_config sc;
    accel_status st = st_config_read(accel_hf_dir_path(m->dir), &sc);
    if (st != ACCEL_OK) return st;
    if (sc.embedding_dim > 0 && sc.embedding_dim != d->hidden)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: the Pooling module's word_embedding_dimension %lld is not hidden_size %lld",
                               accel_hf_dir_path(m->dir), (long long)sc.embedding_dim, (long long)d->hidden);
    m->embed_pooling = sc.pooling;
    m->embed_normalize = sc.normalize;
    /* sentence-transformers never feeds more than the positions: min(max_seq_length, positions) */
    m->embed_max_tokens = sc.max_seq_length > 0 && sc.max_seq_length < d->max_pos ? sc.max_seq_length : 0;
    return ACCEL_OK;
}

static accel_status bert_load(accel_model *m) {
    const accel_hf_hparams *hp = &m->hp;
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    const char *dir = accel_hf_dir_path(m->dir);
    accel_status st;
    if ((st = model_require_positive(m, hp->intermediate_size, "intermediate_size")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->vocab_size, "vocab_size")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->max_position_embeddings, "max_position_embeddings")) != ACCEL_OK)
        return st;
    const char *pet = NULL;
    if ((st = accel_hf_json_string_or(cfg, "position_embedding_type", "absolute", &pet)) != ACCEL_OK) return st;
    if (strcmp(pet, "absolute") != 0)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED,
                               "%s/config.json: position_embedding_type '%s' is not implemented (absolute is)", dir,
                               pet);
    bool is_decoder = false;
    if ((st = accel_hf_json_bool_or(cfg, "is_decoder", false, &is_decoder)) != ACCEL_OK) return st;
    if (is_decoder)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED,
                               "%s/config.json: BERT as a decoder (is_decoder) is not implemented", dir);
    const char *act_name = hp->hidden_act ? hp->hidden_act : "gelu"; /* BertConfig default */
    blk_act act;
    if (!blk_act_parse(act_name, &act))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s/config.json: hidden_act '%s' is not implemented", dir,
                               act_name);

    bert_data *d = calloc(1, sizeof *d);
    if (!d) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    m->family_data = d;
    d->hidden = hp->hidden_size;
    d->n_layers = hp->num_hidden_layers;
    d->n_heads = hp->num_attention_heads;
    d->head_dim = hp->hidden_size / hp->num_attention_heads;
    d->inter = hp->intermediate_size;
    d->vocab = hp->vocab_size;
    d->max_pos = hp->max_position_embeddings;
    d->type_vocab = hp->type_vocab_size > 0 ? hp->type_vocab_size : 2; /* BertConfig default */
    d->eps = hp->norm_eps > 0 ? (float)hp->norm_eps : 1e-12f;          /* BertConfig default */
    d->act = act;
    if (d->head_dim * d->n_heads != d->hidden)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s/config.json: hidden_size %lld is not a multiple of num_attention_heads %lld", dir,
                               (long long)d->hidden, (long long)d->n_heads);
    if (d->n_layers > 4096)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: num_hidden_layers %lld is implausible", dir,
                               (long long)d->n_layers);
    m->name_prefixes = bert_prefixes;

    const int64_t H = d->hidden;
    const int64_t word[2] = {d->vocab, H}, pos[2] = {d->max_pos, H}, type[2] = {d->type_vocab, H};
    if ((d->word = model_weight_add(m, MW_F32, 2, word, "embeddings.word_embeddings.weight")) < 0 ||
        (d->pos = model_weight_add(m, MW_F32, 2, pos, "embeddings.position_embeddings.weight")) < 0 ||
        (d->type = model_weight_add(m, MW_F32, 2, type, "embeddings.token_type_embeddings.weight")) < 0)
        return model_weight_status();
    if ((st = add_norm(m, H, "embeddings.LayerNorm", &d->eln_w, &d->eln_b)) != ACCEL_OK) return st;

    d->layers = calloc((size_t)d->n_layers, sizeof *d->layers);
    if (!d->layers) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < (int)d->n_layers; i++)
        if ((st = load_layer(m, d, i)) != ACCEL_OK) return st;

    d->pool_w = d->pool_b = MW_ABSENT;
    if (model_has_tensor(m, "pooler.dense.weight") &&
        (st = add_linear(m, H, H, "pooler.dense", &d->pool_w, &d->pool_b)) != ACCEL_OK)
        return st;
    return load_st_config(m, d);
}

static int64_t bert_embedding_dim(const accel_model *m) { return ((const bert_data *)m->family_data)->hidden; }
static int64_t bert_max_tokens(const accel_model *m) { return ((const bert_data *)m->family_data)->max_pos; }

/* ---- graph ----------------------------------------------------------------------------------------------------- */

static accel_tensor *W(accel_graph *g, const accel_model *m, int i) { return model_weight(g, m, i); }

static accel_tensor *bert_layer_graph(accel_graph *g, const accel_model *m, const bert_data *d, const bert_layer *L,
                                      accel_tensor *x, accel_tensor *mask) {
    accel_tensor *ctx = blk_self_attention_qkv(g, x, W(g, m, L->qkv_w), W(g, m, L->qkv_b), d->n_heads, d->head_dim,
                                               mask, NULL);
    accel_tensor *a = accel_add(g, accel_linear(g, ctx, W(g, m, L->ao_w), W(g, m, L->ao_b)), x);
    a = accel_layer_norm(g, a, W(g, m, L->aln_w), W(g, m, L->aln_b), d->eps);
    accel_tensor *h = blk_act_apply(g, accel_linear(g, a, W(g, m, L->in_w), W(g, m, L->in_b)), d->act);
    accel_tensor *y = accel_add(g, accel_linear(g, h, W(g, m, L->out_w), W(g, m, L->out_b)), a);
    return accel_layer_norm(g, y, W(g, m, L->oln_w), W(g, m, L->oln_b), d->eps);
}

/* Validates the batch against the model; returns whether any token type id is non-zero. */
static accel_status check_batch(const bert_data *d, const accel_token_batch *b, bool *any_type) {
    if (b->batch < 1 || b->seq < 1 || !b->ids)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert: empty token batch");
    if (b->seq > d->max_pos)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "bert: a sequence of %lld tokens is longer than the model's %lld positions",
                               (long long)b->seq, (long long)d->max_pos);
    *any_type = false;
    for (int64_t i = 0; i < b->batch * b->seq; i++) {
        if (b->ids[i] < 0 || b->ids[i] >= d->vocab)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert: token id %d at %lld is outside the vocabulary (%lld)",
                                   (int)b->ids[i], (long long)i, (long long)d->vocab);
        if (b->type_ids && (b->type_ids[i] < 0 || b->type_ids[i] >= d->type_vocab))
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert: token type id %d at %lld is outside [0, %lld)",
                                   (int)b->type_ids[i], (long long)i, (long long)d->type_vocab);
        *any_type = *any_type || (b->type_ids && b->type_ids[i] != 0);
    }
    return ACCEL_OK;
}

accel_status bert_encode_layers(accel_session *s, const accel_token_batch *b, int n_layers, float *hidden_out,
                                float *pooler_out) {
    if (!s || !b || (!hidden_out && !pooler_out))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert_encode_layers: NULL argument (or no output asked for)");
    const accel_model *m = s->model;
    if (m->family != &accel_family_bert)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert_encode_layers: not a BERT model");
    const bert_data *d = m->family_data;
    if (n_layers < 0) n_layers = (int)d->n_layers;
    if (n_layers > d->n_layers || (pooler_out && n_layers != d->n_layers))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bert_encode_layers: n_layers %d out of range", n_layers);
    if (pooler_out && d->pool_w < 0)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: the checkpoint has no pooler (pooler.dense)",
                               accel_hf_dir_path(m->dir));
    bool any_type = false;
    accel_status st = check_batch(d, b, &any_type);
    if (st != ACCEL_OK) return st;
    const int64_t B = b->batch, S = b->seq, H = d->hidden;
    float *mask_data = malloc(sizeof(float) * (size_t)(B * S));
    if (!mask_data) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    const bool padded = blk_padding_mask(b->mask, B, S, mask_data);

    accel_graph *g = NULL;
    st = model_graph_new((size_t)(32 * n_layers + 64), &g);
    if (st != ACCEL_OK) {
        free(mask_data);
        return st;
    }
    /* embeddings: word rows + the first S position rows + token-type rows (row 0 broadcast when all are 0) */
    const int64_t ids_shape[2] = {B, S}, mask_shape[4] = {B, 1, 1, S};
    accel_tensor *ids = model_input(g, ACCEL_I32, 2, ids_shape, "input_ids");
    accel_tensor *types = any_type ? model_input(g, ACCEL_I32, 2, ids_shape, "token_type_ids") : NULL;
    accel_tensor *mask = padded && n_layers > 0 ? model_input(g, ACCEL_F32, 4, mask_shape, "attention_mask") : NULL;
    accel_tensor *x = accel_get_rows(g, W(g, m, d->word), ids);
    accel_tensor *type_rows = types ? accel_get_rows(g, W(g, m, d->type), types)
                                    : accel_slice(g, W(g, m, d->type), 0, 0, 1, 1); /* [1, H] broadcast */
    x = accel_add(g, x, type_rows);
    x = accel_add(g, x, accel_slice(g, W(g, m, d->pos), 0, 0, S, 1));
    x = accel_layer_norm(g, x, W(g, m, d->eln_w), W(g, m, d->eln_b), d->eps);
    for (int i = 0; i < n_layers; i++) x = bert_layer_graph(g, m, d, &d->layers[i], x, mask);
    accel_tensor *pooled = NULL;
    if (pooler_out) {
        accel_tensor *cls = accel_slice(g, x, 1, 0, 1, 1); /* [B, 1, H] */
        pooled = accel_tanh(g, accel_linear(g, cls, W(g, m, d->pool_w), W(g, m, d->pool_b)));
    }
    if (hidden_out) accel_graph_add_output(g, x);
    if (pooled) accel_graph_add_output(g, pooled);
    st = accel_graph_status(g);
    if (st == ACCEL_OK) st = session_alloc(s, g);
    if (st == ACCEL_OK) st = accel_tensor_set(ids, b->ids, sizeof(int32_t) * (size_t)(B * S));
    if (st == ACCEL_OK && types) st = accel_tensor_set(types, b->type_ids, sizeof(int32_t) * (size_t)(B * S));
    if (st == ACCEL_OK && mask) st = accel_tensor_set(mask, mask_data, sizeof(float) * (size_t)(B * S));
    if (st == ACCEL_OK) st = session_compute(s, g);
    if (st == ACCEL_OK && hidden_out) st = accel_tensor_get(x, hidden_out, sizeof(float) * (size_t)(B * S * H));
    if (st == ACCEL_OK && pooled) st = accel_tensor_get(pooled, pooler_out, sizeof(float) * (size_t)(B * H));
    accel_graph_free(g);
    free(mask_data);
    return st;
}

static accel_status bert_encode(accel_session *s, const accel_token_batch *b, float *hidden_out, float *pooler_out) {
    return bert_encode_layers(s, b, -1, hidden_out, pooler_out);
}

const accel_family accel_family_bert = {
    .name = "bert",
    .model_types = bert_types,
    .naming = ACCEL_HF_NAMING_STANDARD,
    .tasks = 1u << ACCEL_TASK_EMBED,
    .load = bert_load,
    .free_data = bert_free_data,
    .embedding_dim = bert_embedding_dim,
    .max_tokens = bert_max_tokens,
    .encode = bert_encode,
};
