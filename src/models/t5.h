/*
 * t5.h — entry points of the T5 family (t5.c) beyond its accel_family table: used by the parity tests and the
 * benchmark. Everything else goes through accel_family_t5 (model.h: encode, s2s_encode/start/decode/reorder).
 */
#ifndef ACCEL_MODELS_T5_H
#define ACCEL_MODELS_T5_H

#include "models/model.h"

extern const accel_family accel_family_t5;

/* The relative position bucket of Hugging Face's T5Attention._relative_position_bucket for relative_position =
 * key position - query position: bidirectional (encoder) or causal (decoder: keys after the query count as 0),
 * computed in float32 exactly as transformers does (so boundaries such as distance 16 of 128 agree). */
int32_t t5_relative_bucket(int64_t relative_position, bool bidirectional, int64_t num_buckets, int64_t max_distance);

/* Runs the decoder on n_tokens tokens per sequence at positions [pos, pos + n_tokens) of every sequence set up by
 * s2s_start (s2s_encode first): tokens[n_seqs * n_tokens] row-major, logits[n_seqs * n_tokens * vocab]. The keys
 * and values land in the session's cache, so this is also a "prefill" of a forced decoder prefix; s2s_decode is
 * this with n_tokens = 1. pos must be at most the number of positions filled so far (positions past it are
 * forgotten). Teacher forcing is t5_decode_tokens(s, ids, T, 0, logits) right after s2s_start.
 * Errors: ACCEL_ERR_INVALID_ARG (no encode/start, pos or n_tokens out of range, a token outside the vocabulary),
 * ACCEL_ERR_OUT_OF_MEMORY, and what the scheduler reports. */
accel_status t5_decode_tokens(accel_session *s, const int32_t *tokens, int64_t n_tokens, int64_t pos,
                              float *logits);

/* Where the decoder calls of a session spent their time since it was made (or since the last reset): building the
 * graph, placing + allocating it (accel_sched_alloc), computing it; and how many calls. */
typedef struct t5_timing {
    double build_s, alloc_s, compute_s;
    int64_t calls;
} t5_timing;

void t5_session_timing(accel_session *s, t5_timing *out, bool reset);

#endif
