/*
 * generate.c — seq2seq text generation (T5) with Hugging Face transformers 5.24's exact semantics: greedy search
 * (GenerationMixin._sample without sampling) and beam search (GenerationMixin._beam_search), driven through the
 * family's s2s_* hooks (model.h).
 *
 * What HF does, and so what this does:
 *  - max_length = 1 + max_new_tokens (the decoder start token counts). Without max_new_tokens, a generation
 *    config's explicit max_length, else 20 new tokens ("by default let's always generate 20 new tokens").
 *  - Logits processors: repetition_penalty (generation config), no_repeat_ngram_size (n-grams of the whole decoder
 *    sequence, start token included), min_length (generation config, unless min_new_tokens is set) and
 *    min_new_tokens (EOS is -inf until that many tokens are out). Greedy applies them to the raw logits, beam
 *    search to log_softmax(logits). Sampling settings (do_sample, temperature, top_k, top_p) are not applied.
 *  - Greedy: argmax (first of ties); a finished row gets the pad id from then on; stops when every row has hit EOS
 *    or max_length.
 *  - Beam search, in float32 as torch does it: running scores start at [0, -1e9, ...]; each step takes the top
 *    K2 = max(2, 1 + n_eos) * num_beams of (running score + log prob) over num_beams * vocab; candidates that hit
 *    EOS or max_length leave the running set (score - 1e9) and, when among the top num_beams candidates, enter the
 *    finished set with score / generated_len^length_penalty (generated_len counts the EOS); the finished set keeps
 *    the best num_beams. early_stopping true stops a batch item when its num_beams finished slots are full; false
 *    and "never" use HF's heuristic (the best running score / len^lp, len = current length - 1 or, for "never"
 *    with lp > 0, max_length - 1, against the worst finished score). sequences_scores is the best finished score.
 *    Output rows are filled after their end with `pad_token_id or eos_token_id[0]` — Python's `or`, so a pad id of
 *    0 (T5) fills with EOS; greedy fills with the pad id.
 */
#include "core/error.h"
#include "tasks/tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_NEG 1.0e9f /* HF's "very large negative" offset for scores */

accel_generate_params accel_generate_default_params(void) {
    accel_generate_params p = {.max_new_tokens = -1, .num_beams = -1, .length_penalty = NAN, .early_stopping = -1,
                               .no_repeat_ngram_size = -1, .max_input_tokens = 0, .truncate = false,
                               .min_new_tokens = -1, .do_sample = -1, .temperature = NAN, .top_k = -1, .top_p = NAN,
                               .min_p = NAN, .repetition_penalty = NAN, .presence_penalty = NAN, .seed = -1,
                               .n_ctx = 0, .n_keep = -1, .add_special_tokens = -1};
    return p;
}

accel_status generate_resolve_params(const accel_model *m, const accel_generate_params *in, accel_generate_params *out) {
    if (!m || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate_resolve_params: NULL argument");
    accel_generate_params p = in ? *in : accel_generate_default_params();
    const accel_hf_generation *gen = &m->gen;
    if (p.max_new_tokens == -1) {
        const accel_hf_json *gc = accel_hf_dir_file(m->dir, ACCEL_HF_GENERATION_CONFIG);
        if (gen->max_new_tokens > 0)
            p.max_new_tokens = (int)(gen->max_new_tokens < INT32_MAX ? gen->max_new_tokens : INT32_MAX);
        else if (gc && accel_hf_json_has(gc, "max_length"))
            p.max_new_tokens = (int)(gen->max_length - 1 < INT32_MAX ? gen->max_length - 1 : INT32_MAX);
        else
            p.max_new_tokens = 20;
    }
    if (p.num_beams == -1) p.num_beams = (int)(gen->num_beams < INT32_MAX ? gen->num_beams : INT32_MAX);
    if (isnan(p.length_penalty)) p.length_penalty = (float)gen->length_penalty;
    if (p.early_stopping == -1) p.early_stopping = gen->early_stopping;
    if (p.no_repeat_ngram_size == -1)
        p.no_repeat_ngram_size = (int)(gen->no_repeat_ngram_size < INT32_MAX ? gen->no_repeat_ngram_size : INT32_MAX);
    if (p.min_new_tokens == -1) p.min_new_tokens = gen->min_new_tokens > 0 ? (int)gen->min_new_tokens : 0;
    if (p.max_input_tokens == 0) p.max_input_tokens = accel_model_max_tokens(m);

    if (p.max_new_tokens < 1 || p.max_new_tokens > (1 << 20))
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "generate: max_new_tokens %d is out of range [1, %d] (from the call or the generation "
                               "config's max_new_tokens / max_length)",
                               p.max_new_tokens, 1 << 20);
    if (p.num_beams < 1 || p.num_beams > 4096)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: num_beams %d is out of range [1, 4096]", p.num_beams);
    if (!isfinite(p.length_penalty))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: length_penalty must be a finite number");
    if (p.early_stopping < 0 || p.early_stopping > 2)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "generate: early_stopping %d is not 0 (false), 1 (true) or 2 (\"never\")",
                               p.early_stopping);
    if (p.no_repeat_ngram_size < 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: no_repeat_ngram_size %d is negative",
                               p.no_repeat_ngram_size);
    if (p.min_new_tokens < 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: min_new_tokens %d is negative", p.min_new_tokens);
    if (p.max_input_tokens < 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: max_input_tokens %lld is negative",
                               (long long)p.max_input_tokens);
    *out = p;
    return ACCEL_OK;
}

/* ---- shared pieces ------------------------------------------------------------------------------------------------ */

typedef struct gen_ctx {
    accel_session *s;
    const accel_family *f;
    const accel_generate_params *p;
    int64_t B, V, max_length; /* max_length = 1 + max_new_tokens: positions of an output row */
    int32_t start, pad;       /* decoder start; greedy's fill */
    int32_t eos[ACCEL_HF_MAX_EOS];
    int n_eos;
    int64_t min_length;       /* generation config min_length (whole sequence, start token included) */
    float repetition_penalty;
} gen_ctx;

static bool is_eos(const gen_ctx *c, int32_t t) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos[i] == t) return true;
    return false;
}

/* HF's logits processors for one row: seq[0..len) is the decoder sequence so far, scores[V] its next-token scores. */
static void process_scores(const gen_ctx *c, const int32_t *seq, int64_t len, float *scores) {
    if (c->repetition_penalty != 1.0f) {
        /* gather all first, then scatter: a repeated id is penalized once */
        for (int64_t t = 0; t < len; t++) {
            const int32_t id = seq[t];
            bool seen = false;
            for (int64_t u = 0; u < t && !seen; u++) seen = seq[u] == id;
            if (seen) continue;
            const float x = scores[id];
            scores[id] = x < 0 ? x * c->repetition_penalty : x / c->repetition_penalty;
        }
    }
    const int64_t n = c->p->no_repeat_ngram_size;
    if (n > 0 && len + 1 >= n) {
        /* ban every token that followed an earlier occurrence of the last n-1 tokens */
        const int32_t *tail = seq + len - (n - 1);
        for (int64_t i = 0; i + n <= len; i++) {
            if (n > 1 && memcmp(seq + i, tail, sizeof(int32_t) * (size_t)(n - 1)) != 0) continue;
            scores[seq[i + n - 1]] = -INFINITY;
        }
    }
    if (len < c->min_length || len - 1 < c->p->min_new_tokens)
        for (int i = 0; i < c->n_eos; i++) scores[c->eos[i]] = -INFINITY;
}

/* torch.nn.functional.log_softmax over one row, in float32. */
static void log_softmax_row(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += exp((double)x[i] - (double)mx);
    const float lse = (float)log(sum);
    for (int64_t i = 0; i < n; i++) x[i] = (x[i] - mx) - lse;
}

/* ---- greedy ---------------------------------------------------------------------------------------------------------- */

static accel_status greedy(const gen_ctx *c, int32_t *seq, int64_t *lens) {
    const int64_t B = c->B, V = c->V, L = c->max_length;
    float *logits = malloc(sizeof(float) * (size_t)(B * V));
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)B);
    bool *done = calloc((size_t)B, sizeof(bool));
    accel_status st = ACCEL_OK;
    if (!logits || !tokens || !done) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == ACCEL_OK) st = c->f->s2s_start(c->s, (int)B, NULL, L - 1);
    for (int64_t b = 0; b < B; b++) lens[b] = 1;
    for (int64_t cur = 1; st == ACCEL_OK && cur < L; cur++) {
        for (int64_t b = 0; b < B; b++) tokens[b] = seq[b * L + cur - 1];
        if ((st = c->f->s2s_decode(c->s, tokens, cur - 1, logits)) != ACCEL_OK) break;
        bool all_done = true;
        for (int64_t b = 0; b < B; b++) {
            float *row = logits + b * V;
            process_scores(c, seq + b * L, cur, row);
            int32_t best = 0;
            for (int64_t v = 1; v < V; v++)
                if (row[v] > row[best]) best = (int32_t)v;
            if (done[b] && c->n_eos > 0) best = c->pad;
            seq[b * L + cur] = best;
            if (!done[b]) lens[b] = cur + 1;
            done[b] = done[b] || is_eos(c, best) || cur + 1 >= L;
            all_done = all_done && done[b];
        }
        if (all_done) break;
    }
    free(logits);
    free(tokens);
    free(done);
    return st;
}

/* ---- beam search ------------------------------------------------------------------------------------------------- */

/* The k best of x[0..n) (descending; ties: lower index first) into idx[0..k). */
static void top_k(const float *x, int64_t n, int k, int64_t *idx) {
    int have = 0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (have == k && !(v > x[idx[k - 1]])) continue;
        int j = have < k ? have++ : k - 1;
        while (j > 0 && v > x[idx[j - 1]]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

typedef struct beam_state {
    int32_t *seq;   /* [B * K, L] */
    float *score;   /* [B * K] */
    bool *fin;      /* finished set only: is_sent_finished */
    int64_t *glen;  /* finished set only: generated tokens (HF's beam_indices count) */
} beam_state;

static accel_status beam_search(const gen_ctx *c, int32_t *out, int64_t *lens, float *scores_out) {
    const int64_t B = c->B, V = c->V, L = c->max_length, K = c->p->num_beams, BK = B * K;
    const int64_t K2 = (c->n_eos + 1 > 2 ? c->n_eos + 1 : 2) * K;
    const int es = c->p->early_stopping;
    const float lp = c->p->length_penalty;
    const int32_t fill = c->pad > 0 ? c->pad : (c->n_eos > 0 ? c->eos[0] : -1); /* `pad or eos[0]` */
    if (K2 > K * V)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: num_beams %lld is too large for a vocabulary of %lld",
                               (long long)K, (long long)V);
    beam_state run = {0}, nxt = {0}, fin = {0}, fnew = {0};
    float *logits = malloc(sizeof(float) * (size_t)(BK * V)), *acc = malloc(sizeof(float) * (size_t)(K * V));
    float *c_score = malloc(sizeof(float) * (size_t)K2), *t_run = malloc(sizeof(float) * (size_t)K2);
    float *all = malloc(sizeof(float) * (size_t)(K + K2));
    int64_t *c_idx = malloc(sizeof(int64_t) * (size_t)K2), *pick = malloc(sizeof(int64_t) * (size_t)(K2 + K));
    bool *c_hit = malloc(sizeof(bool) * (size_t)K2), *heur = malloc(sizeof(bool) * (size_t)B);
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)BK), *src = malloc(sizeof(int32_t) * (size_t)BK);
    beam_state *sets[4] = {&run, &nxt, &fin, &fnew};
    bool ok = logits && acc && c_score && t_run && all && c_idx && pick && c_hit && heur && tokens && src;
    for (int i = 0; i < 4 && ok; i++) {
        sets[i]->seq = malloc(sizeof(int32_t) * (size_t)(BK * L));
        sets[i]->score = malloc(sizeof(float) * (size_t)BK);
        sets[i]->fin = calloc((size_t)BK, sizeof(bool));
        sets[i]->glen = calloc((size_t)BK, sizeof(int64_t));
        ok = sets[i]->seq && sets[i]->score && sets[i]->fin && sets[i]->glen;
    }
    accel_status st = ok ? ACCEL_OK : accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory for beam search");
    if (st == ACCEL_OK) {
        for (int64_t i = 0; i < BK * L; i++) run.seq[i] = fill;
        for (int64_t i = 0; i < BK; i++) {
            run.seq[i * L] = c->start;
            run.score[i] = i % K == 0 ? 0.0f : -GEN_NEG;
            fin.score[i] = -GEN_NEG;
        }
        memcpy(fin.seq, run.seq, sizeof(int32_t) * (size_t)(BK * L));
        for (int64_t b = 0; b < B; b++) heur[b] = true;
        st = c->f->s2s_start(c->s, (int)BK, NULL, L - 1);
    }
    for (int64_t cur = 1; st == ACCEL_OK && cur < L; cur++) {
        for (int64_t i = 0; i < BK; i++) tokens[i] = run.seq[i * L + cur - 1];
        if ((st = c->f->s2s_decode(c->s, tokens, cur - 1, logits)) != ACCEL_OK) break;
        for (int64_t i = 0; i < BK; i++) {
            log_softmax_row(logits + i * V, V);
            process_scores(c, run.seq + i * L, cur, logits + i * V);
        }
        const float len_pen = (float)pow((double)cur, (double)lp); /* (cur_len + 1 - decoder_prompt_len) ** lp */
        bool all_hit = true, identity = true;
        for (int64_t b = 0; b < B; b++) {
            /* top K2 continuations over all beams of this input */
            for (int64_t k = 0; k < K; k++) {
                const float *row = logits + (b * K + k) * V;
                const float rs = run.score[b * K + k];
                for (int64_t v = 0; v < V; v++) acc[k * V + v] = row[v] + rs;
            }
            top_k(acc, K * V, (int)K2, c_idx);
            for (int64_t j = 0; j < K2; j++) {
                const int32_t tok = (int32_t)(c_idx[j] % V);
                c_score[j] = acc[c_idx[j]];
                c_hit[j] = is_eos(c, tok) || cur + 1 >= L;
                all_hit = all_hit && c_hit[j];
                t_run[j] = c_score[j] + (c_hit[j] ? -GEN_NEG : 0.0f);
            }
            /* the best K unfinished continuations run on */
            top_k(t_run, K2, (int)K, pick);
            for (int64_t j = 0; j < K; j++) {
                const int64_t cj = pick[j], from = b * K + c_idx[cj] / V, to = b * K + j;
                memcpy(nxt.seq + to * L, run.seq + from * L, sizeof(int32_t) * (size_t)L);
                nxt.seq[to * L + cur] = (int32_t)(c_idx[cj] % V);
                nxt.score[to] = t_run[cj];
                src[to] = (int32_t)from;
                identity = identity && from == to;
            }
            /* finished candidates among the top K join the finished set if they beat it */
            bool full = true;
            for (int64_t k = 0; k < K; k++) full = full && fin.fin[b * K + k];
            /* merged = [finished scores (K), candidate scores normalized and masked (K2)] */
            for (int64_t k = 0; k < K; k++) all[k] = fin.score[b * K + k];
            for (int64_t j = 0; j < K2; j++) {
                float s = c_score[j] / len_pen;
                s += (full && es == 1) ? -GEN_NEG : 0.0f;
                s += !heur[b] ? -GEN_NEG : 0.0f;
                s += !(c_hit[j] && j < K) ? -GEN_NEG : 0.0f;
                all[K + j] = s;
            }
            top_k(all, K + K2, (int)K, pick);
            for (int64_t j = 0; j < K; j++) {
                const int64_t pj = pick[j], to = b * K + j;
                fnew.score[to] = all[pj];
                if (pj < K) {
                    const int64_t from = b * K + pj;
                    memcpy(fnew.seq + to * L, fin.seq + from * L, sizeof(int32_t) * (size_t)L);
                    fnew.fin[to] = fin.fin[from];
                    fnew.glen[to] = fin.glen[from];
                } else {
                    const int64_t cj = pj - K, from = b * K + c_idx[cj] / V;
                    memcpy(fnew.seq + to * L, run.seq + from * L, sizeof(int32_t) * (size_t)L);
                    fnew.seq[to * L + cur] = (int32_t)(c_idx[cj] % V);
                    fnew.fin[to] = c_hit[cj] && cj < K;
                    fnew.glen[to] = cur;
                }
            }
        }
        beam_state t = run;
        run = nxt;
        nxt = t;
        t = fin;
        fin = fnew;
        fnew = t;
        /* stopping: HF's early-stop heuristic per input, then the loop condition */
        bool any_open = false, all_fin = true;
        const int64_t best_len = (es == 2 && lp > 0.0f) ? L - 1 : cur;
        const float best_pen = (float)pow((double)best_len, (double)lp);
        for (int64_t b = 0; b < B; b++) {
            const float best = run.score[b * K] / best_pen;
            float worst = fin.score[b * K];
            for (int64_t k = 1; k < K; k++) worst = fin.score[b * K + k] < worst ? fin.score[b * K + k] : worst;
            bool improvable = false;
            for (int64_t k = 0; k < K; k++) improvable = improvable || best > (fin.fin[b * K + k] ? worst : -GEN_NEG);
            heur[b] = heur[b] && improvable;
            any_open = any_open || heur[b];
            for (int64_t k = 0; k < K; k++) all_fin = all_fin && fin.fin[b * K + k];
        }
        if (!any_open || (all_fin && es == 1) || all_hit) break;
        if (!identity && (st = c->f->s2s_reorder(c->s, src)) != ACCEL_OK) break;
    }
    if (st == ACCEL_OK) {
        for (int64_t b = 0; b < B; b++) {
            memcpy(out + b * L, fin.seq + b * K * L, sizeof(int32_t) * (size_t)L);
            lens[b] = 1 + fin.glen[b * K];
            if (scores_out) scores_out[b] = fin.score[b * K];
        }
    }
    for (int i = 0; i < 4; i++) {
        free(sets[i]->seq);
        free(sets[i]->score);
        free(sets[i]->fin);
        free(sets[i]->glen);
    }
    free(logits);
    free(acc);
    free(c_score);
    free(t_run);
    free(all);
    free(c_idx);
    free(pick);
    free(c_hit);
    free(heur);
    free(tokens);
    free(src);
    return st;
}

/* ---- entry points ------------------------------------------------------------------------------------------------ */

accel_status seq2seq_generate_tokens(accel_session *s, const accel_token_batch *b, const accel_generate_params *p,
                                     int32_t *out_ids, int64_t max_out, int64_t *out_lens, float *scores_out) {
    if (!s || !b || !p || !out_ids || !out_lens)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "seq2seq_generate_tokens: NULL argument");
    const accel_model *m = s->model;
    const accel_family *f = m->family;
    if (!accel_model_supports(m, ACCEL_TASK_SEQ2SEQ) || !f->s2s_encode || !f->s2s_start || !f->s2s_decode ||
        !f->s2s_reorder || !f->vocab_size)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s models (%s) do not generate text from text", f->name,
                               m->architecture);
    if (p->max_new_tokens < 1 || p->num_beams < 1 || p->early_stopping < 0 || p->early_stopping > 2 ||
        p->no_repeat_ngram_size < 0 || p->min_new_tokens < 0 || !isfinite(p->length_penalty))
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "seq2seq_generate_tokens: parameters not resolved (generate_resolve_params)");
    if (b->batch < 1 || b->seq < 1 || !b->ids)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "seq2seq_generate_tokens: empty token batch");
    gen_ctx c = {.s = s, .f = f, .p = p, .B = b->batch, .V = f->vocab_size(m), .max_length = 1 + (int64_t)p->max_new_tokens};
    if (max_out < c.max_length)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "seq2seq_generate_tokens: rows of %lld ids cannot hold 1 + max_new_tokens = %lld",
                               (long long)max_out, (long long)c.max_length);
    const accel_hf_generation *gen = &m->gen;
    if (gen->decoder_start_token_id < 0 || gen->decoder_start_token_id >= c.V)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: no valid decoder_start_token_id", accel_hf_dir_path(m->dir));
    c.start = (int32_t)gen->decoder_start_token_id;
    c.n_eos = 0;
    for (size_t i = 0; i < gen->n_eos; i++)
        if (gen->eos_token_ids[i] >= 0 && gen->eos_token_ids[i] < c.V) c.eos[c.n_eos++] = (int32_t)gen->eos_token_ids[i];
    /* HF: no pad id but an EOS -> pad with EOS */
    c.pad = gen->pad_token_id >= 0 && gen->pad_token_id < c.V ? (int32_t)gen->pad_token_id : (c.n_eos ? c.eos[0] : 0);
    /* HF replaces min_length by 1 + min_new_tokens whenever min_new_tokens is set: the generation config's
     * min_length counts only when neither the call nor the config sets min_new_tokens */
    c.min_length = p->min_new_tokens == 0 && gen->min_new_tokens < 0 && gen->min_length > 0 ? gen->min_length : 0;
    c.repetition_penalty = (float)gen->repetition_penalty;
    if (!(c.repetition_penalty > 0)) c.repetition_penalty = 1.0f;

    accel_status st = f->s2s_encode(s, b);
    if (st != ACCEL_OK) return st;
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)(c.B * c.max_length));
    if (!seq) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    if (p->num_beams == 1) {
        for (int64_t i = 0; i < c.B * c.max_length; i++) seq[i] = i % c.max_length == 0 ? c.start : c.pad;
        st = greedy(&c, seq, out_lens);
        if (scores_out)
            for (int64_t i = 0; i < c.B; i++) scores_out[i] = 0.0f;
    } else {
        st = beam_search(&c, seq, out_lens, scores_out);
    }
    if (st == ACCEL_OK) {
        const int32_t fill = p->num_beams == 1 ? c.pad : (c.pad > 0 ? c.pad : (c.n_eos ? c.eos[0] : -1));
        for (int64_t r = 0; r < c.B; r++) {
            memcpy(out_ids + r * max_out, seq + r * c.max_length, sizeof(int32_t) * (size_t)c.max_length);
            for (int64_t j = c.max_length; j < max_out; j++) out_ids[r * max_out + j] = fill;
        }
    }
    free(seq);
    return st;
}

/* HF's clean_up_tokenization (tokenizer_config clean_up_tokenization_spaces), in place. */
static void clean_up_spaces(char *t) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof from[0]; r++) {
        const size_t fl = strlen(from[r]), tl = strlen(to[r]);
        char *w = t;
        for (const char *p = t; *p;) {
            if (strncmp(p, from[r], fl) == 0) {
                memcpy(w, to[r], tl);
                w += tl;
                p += fl;
            } else {
                *w++ = *p++;
            }
        }
        *w = '\0';
    }
}

/* The id input padding gets: the tokenizer file's padding id, else the tokenizer config's pad token, else the
 * generation config's pad id, else 0 (the value is masked out anyway). */
static int32_t input_pad_id(const accel_model *m) {
    accel_encode_params fp = accel_encode_default_params();
    fp.pad_id = -1;
    if (accel_tokenizer_file_params(m->tok, &fp) == ACCEL_OK && fp.pad_id >= 0) return fp.pad_id;
    const char *pad = m->tokcfg.pad.content;
    const int32_t id = pad ? accel_tokenizer_token_to_id(m->tok, pad, strlen(pad)) : -1;
    if (id >= 0) return id;
    return m->gen.pad_token_id >= 0 && m->gen.pad_token_id <= INT32_MAX ? (int32_t)m->gen.pad_token_id : 0;
}

/* Tokenizes texts into one right- (or, as the tokenizer config says, left-) padded batch. */
static accel_status tokenize_inputs(const accel_model *m, const char *const *texts, int n,
                                    const accel_generate_params *p, accel_token_batch *b, int32_t **ids_out,
                                    int32_t **mask_out) {
    size_t *lens = malloc(sizeof(size_t) * (size_t)n);
    accel_encoding **enc = calloc((size_t)n, sizeof *enc);
    accel_status st = ACCEL_OK;
    if (!lens || !enc) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; st == ACCEL_OK && i < n; i++) {
        if (!texts[i]) st = accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_text: texts[%d] is NULL", i);
        else lens[i] = strlen(texts[i]);
    }
    accel_encode_params ep = accel_encode_default_params();
    ep.padding = 1;
    ep.pad_id = input_pad_id(m);
    ep.pad_left = m->tokcfg.padding_side && strcmp(m->tokcfg.padding_side, "left") == 0;
    if (p->truncate && p->max_input_tokens > 0) ep.max_length = (size_t)p->max_input_tokens;
    if (st == ACCEL_OK) st = accel_tokenizer_encode_batch(m->tok, texts, lens, (size_t)n, &ep, enc);
    int64_t S = 0;
    for (int i = 0; st == ACCEL_OK && i < n; i++) {
        const size_t len = accel_encoding_len(enc[i]);
        const int32_t *special = accel_encoding_special_tokens_mask(enc[i]);
        size_t real = 0;
        for (size_t t = 0; t < len; t++) real += special[t] == 0;
        if (real == 0)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_text: texts[%d] is empty (no tokens to generate from)",
                                 i);
        const int32_t *am = accel_encoding_attention_mask(enc[i]);
        size_t used = 0;
        for (size_t t = 0; t < len; t++) used += am[t] != 0;
        if (st == ACCEL_OK && !p->truncate && p->max_input_tokens > 0 && (int64_t)used > p->max_input_tokens)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG,
                                 "accel_generate_text: texts[%d] has %zu tokens, more than the limit of %lld (set "
                                 "truncate, or a larger max_input_tokens)",
                                 i, used, (long long)p->max_input_tokens);
        S = (int64_t)len;
    }
    int32_t *ids = NULL, *mask = NULL;
    if (st == ACCEL_OK) {
        ids = malloc(sizeof(int32_t) * (size_t)(n * S));
        mask = malloc(sizeof(int32_t) * (size_t)(n * S));
        if (!ids || !mask) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; st == ACCEL_OK && i < n; i++) {
        memcpy(ids + (size_t)i * (size_t)S, accel_encoding_ids(enc[i]), sizeof(int32_t) * (size_t)S);
        memcpy(mask + (size_t)i * (size_t)S, accel_encoding_attention_mask(enc[i]), sizeof(int32_t) * (size_t)S);
    }
    for (int i = 0; enc && i < n; i++) accel_encoding_free(enc[i]);
    free(enc);
    free(lens);
    if (st != ACCEL_OK) {
        free(ids);
        free(mask);
        return st;
    }
    *b = (accel_token_batch){.batch = n, .seq = S, .ids = ids, .mask = mask};
    *ids_out = ids;
    *mask_out = mask;
    return ACCEL_OK;
}

accel_status accel_generate_text(accel_session *s, const char *const *texts, int n_texts,
                                 const accel_generate_params *params, char **outputs) {
    for (int i = 0; outputs && i < n_texts; i++) outputs[i] = NULL;
    if (!s || !texts || !outputs || n_texts < 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_text: NULL argument or n_texts < 1");
    const accel_model *m = s->model;
    if (accel_model_supports(m, ACCEL_TASK_TEXT_GENERATION)) return lm_generate_text(s, texts, n_texts, params, outputs);
    if (!accel_model_supports(m, ACCEL_TASK_SEQ2SEQ))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s models (%s) do not generate text from text",
                               m->family->name, m->architecture);
    if (!m->tok)
        return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: no tokenizer.json to turn text into tokens",
                               accel_hf_dir_path(m->dir));
    accel_generate_params p;
    accel_status st = generate_resolve_params(m, params, &p);
    if (st != ACCEL_OK) return st;
    accel_token_batch b;
    int32_t *ids = NULL, *mask = NULL;
    if ((st = tokenize_inputs(m, texts, n_texts, &p, &b, &ids, &mask)) != ACCEL_OK) return st;
    const int64_t width = 1 + (int64_t)p.max_new_tokens;
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(n_texts * width));
    int64_t *lens = malloc(sizeof(int64_t) * (size_t)n_texts);
    if (!out || !lens) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == ACCEL_OK) st = seq2seq_generate_tokens(s, &b, &p, out, width, lens, NULL);
    for (int i = 0; st == ACCEL_OK && i < n_texts; i++) {
        st = accel_tokenizer_decode(m->tok, out + (int64_t)i * width, (size_t)lens[i], 1, &outputs[i], NULL);
        if (st == ACCEL_OK && m->tokcfg.clean_up_tokenization_spaces == 1) clean_up_spaces(outputs[i]);
    }
    if (st != ACCEL_OK)
        for (int i = 0; i < n_texts; i++) {
            free(outputs[i]);
            outputs[i] = NULL;
        }
    free(out);
    free(lens);
    free(ids);
    free(mask);
    return st;
}
