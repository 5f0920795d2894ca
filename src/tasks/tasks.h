/*
 * tasks.h — token-level entry points of the tasks (embed.c, generate.c). The public text-level calls
 * (accel_embed, accel_generate_text) tokenize and call these; tests and the benchmark call them directly.
 */
#ifndef ACCEL_TASKS_TASKS_H
#define ACCEL_TASKS_TASKS_H

#include "models/model.h"

/* Runs the encoder on b and pools: pooled_out[batch * accel_model_embedding_dim] (may be NULL), L2-normalized
 * when normalize; hidden_out [batch, seq, hidden] (may be NULL) gets the last hidden state. */
accel_status embed_tokens(accel_session *s, const accel_token_batch *b, accel_pooling pooling, bool normalize,
                          float *hidden_out, float *pooled_out);

/* HF generation parameters with every "-1 / NAN = model default" resolved from the model's generation config. */
accel_status generate_resolve_params(const accel_model *m, const accel_generate_params *in, accel_generate_params *out);

/* Seq2seq generation on ids (params resolved). out_ids[batch * max_out], max_out >= 1 + max_new_tokens: each row
 * starts with the decoder start token, as HF's sequences, and is filled after its end as HF fills it (greedy: the
 * pad id; beam search: `pad_token_id or eos_token_id[0]`, i.e. EOS when the pad id is 0, as for T5);
 * out_lens[batch] the length of each row up to and including its EOS (start token included): HF's sequences are
 * the rows cut to the longest. scores_out[batch] (may be NULL): beam search's sequences_scores (0 for greedy). */
accel_status seq2seq_generate_tokens(accel_session *s, const accel_token_batch *b, const accel_generate_params *p,
                                     int32_t *out_ids, int64_t max_out, int64_t *out_lens, float *scores_out);

/* ---- causal LMs (generate_lm.c) ------------------------------------------------------------------------------ */

/* accel_generate_params for a causal LM with every "model default" resolved (generation config, then HF's
 * defaults) and checked, for prompts of at most longest_prompt tokens (max_new_tokens from an explicit
 * generation-config max_length counts the prompt, as HF does). Errors: ACCEL_ERR_INVALID_ARG naming the parameter,
 * ACCEL_ERR_UNSUPPORTED (num_beams > 1). */
accel_status lm_resolve_params(const accel_model *m, const accel_generate_params *in, int64_t longest_prompt,
                               accel_generate_params *out);

/* Causal-LM generation on token ids (params resolved by lm_resolve_params): prompts[i] holds lens[i] >= 1 ids
 * (no padding; the batch is left-padded here). out_ids[n * p->max_new_tokens] receives each sequence's new tokens,
 * filled after its end with the pad id as HF's sequences are; out_lens[n] the number of new tokens up to and
 * including EOS (or up to the token that completed a stop string, or that the stream stopped at). texts (may be
 * NULL) receives each sequence's text (malloc'ed; special tokens skipped; cut before a stop string), and needs
 * the tokenizer, as stop strings and streaming do. The session's stats (accel_generate_last_stats) are updated. */
accel_status lm_generate_tokens(accel_session *s, const int32_t *const *prompts, const int64_t *lens, int n,
                                const accel_generate_params *p, int32_t *out_ids, int64_t *out_lens, char **texts);

/* accel_generate_text for causal LMs (generate.c dispatches here). */
accel_status lm_generate_text(accel_session *s, const char *const *texts, int n_texts,
                              const accel_generate_params *params, char **outputs);

/* Incremental detokenization of one sequence (streaming): tokens go in one at a time; text comes out only when it
 * is final — never an incomplete UTF-8 character (a decode ending in U+FFFD is held back until a later token
 * completes it, and so is an open run of byte-fallback tokens <0xNN>, which HF renders as a whole), never text
 * that could begin a stop string. The pieces concatenate to the decoded text of all tokens (HF's decode with
 * skip_special_tokens), cut before the first stop string. Uses Hugging Face text-generation-inference's two-offset method:
 * the text of tokens [prefix, n) minus that of [prefix, read), so decoders that look at neighbours (a leading
 * space stripped at the start, byte-fallback runs) see their context. */
typedef struct lm_detok {
    const accel_tokenizer *tok;
    int32_t *ids;
    int64_t n, cap, prefix, read;
    char *text;            /* decoded so far (complete characters) */
    size_t len, cap_text;
    size_t emitted;        /* bytes of text handed out */
    const char *const *stop;
    int n_stop;
    bool stopped;          /* a stop string was found: text is cut before it */
    bool keep_text;        /* false: text handed out is dropped (a long stream keeps constant memory) */
} lm_detok;

/* keep_text: keep the whole text in d->text (for the caller's output), else only what is not handed out yet. */
void lm_detok_init(lm_detok *d, const accel_tokenizer *tok, const char *const *stop, int n_stop, bool keep_text);
void lm_detok_free(lm_detok *d);
/* Adds a token; *piece / *piece_len get the text that became final (owned by d, valid until the next call). */
accel_status lm_detok_push(lm_detok *d, int32_t token, const char **piece, size_t *piece_len);
/* Ends the sequence: releases what was held back (an incomplete character as U+FFFD, a stop-string prefix). */
accel_status lm_detok_finish(lm_detok *d, const char **piece, size_t *piece_len);

#endif
