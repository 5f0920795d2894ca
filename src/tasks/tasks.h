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

#endif
