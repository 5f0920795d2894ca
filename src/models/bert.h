/* bert.h — the BERT family (BertModel and BertFor* checkpoints, sentence-transformers models built on BERT).
 * The family table is accel_family_bert (model.c lists it); this header adds the lower-level entry the tests use
 * to compare intermediate hidden states with Hugging Face's. */
#ifndef ACCEL_MODELS_BERT_H
#define ACCEL_MODELS_BERT_H

#include "models/model.h"

extern const accel_family accel_family_bert;

/* Runs the embeddings and the first n_layers encoder layers on b (n_layers = -1: all of them; 0: the embedding
 * output, HF hidden_states[0]). hidden_out receives [batch, seq, hidden]; pooler_out (only with every layer) the
 * pooler output [batch, hidden]; either may be NULL, not both. b->type_ids NULL means all 0, b->mask NULL no
 * padding (position ids are always 0..seq-1, as BertModel's).
 * Errors: ACCEL_ERR_INVALID_ARG (NULL, empty batch, a sequence longer than max_position_embeddings, n_layers out of
 * range, pooler_out with fewer layers, token or type ids out of range), ACCEL_ERR_UNSUPPORTED (pooler_out and the
 * checkpoint has no pooler), ACCEL_ERR_DEVICE, ACCEL_ERR_OUT_OF_MEMORY. */
accel_status bert_encode_layers(accel_session *s, const accel_token_batch *b, int n_layers, float *hidden_out,
                                float *pooler_out);

#endif
