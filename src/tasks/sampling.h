/*
 * sampling.h — choosing the next token of a causal LM from one row of logits (sampling.c): Hugging Face
 * transformers 5.24's logits processors and warpers, in its order, and libaccel's own seeded PRNG.
 *
 * Order (GenerationMixin._get_logits_processor): repetition penalty, presence penalty (not in HF: OpenAI-style,
 * applied right after the repetition penalty), EOS suppression (min_new_tokens, done by the caller), then when
 * sampling: temperature, top-k, top-p, min-p, and a draw from softmax(scores). Filtered tokens get -inf (HF's
 * filter_value). Greedy is the argmax of the processed scores (first of ties, as torch.argmax).
 *
 * The PRNG (documented so seeded runs can be reproduced anywhere): xoshiro256** (Blackman & Vigna) with its state
 * filled by splitmix64 from the 64-bit seed; a uniform double in [0, 1) is the top 53 bits of the next output
 * times 2^-53. A draw takes one uniform u and returns the first token (in vocabulary order) whose running sum of
 * exp(score - max) exceeds u times the total, summed in double. Torch's multinomial cannot be reproduced outside
 * torch, so sampled tokens differ from HF's (greedy ones do not).
 */
#ifndef ACCEL_TASKS_SAMPLING_H
#define ACCEL_TASKS_SAMPLING_H

#include "accel.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct smp_rng {
    uint64_t s[4];
} smp_rng;

/* State from a seed (splitmix64 x 4). Any seed is valid. */
void smp_rng_seed(smp_rng *r, uint64_t seed);
/* Next 64-bit output (xoshiro256**). */
uint64_t smp_rng_next(smp_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double smp_rng_uniform(smp_rng *r);

typedef struct smp_params {
    bool do_sample;
    float temperature;        /* > 0 when sampling (1 = off) */
    int top_k;                /* 0 = off */
    float top_p;              /* 1 = off */
    float min_p;              /* 0 = off */
    float repetition_penalty; /* 1 = off */
    float presence_penalty;   /* 0 = off */
} smp_params;

/* Checks ranges: temperature >= 0 and finite, top_k >= 0, top_p in (0, 1], min_p in [0, 1], repetition_penalty
 * > 0 and finite, presence_penalty finite. ACCEL_ERR_INVALID_ARG naming the parameter. */
accel_status smp_check(const smp_params *p);

/* Scratch for one row of a vocabulary of V tokens (reused across steps: no allocation per token). */
typedef struct smp_pair {
    float score;
    int32_t index;
} smp_pair;

typedef struct smp_scratch {
    int64_t V;
    smp_pair *pairs; /* [V] */
    float *tmp;    /* [V] */
    uint8_t *seen; /* [V], all zero between calls */
} smp_scratch;

accel_status smp_scratch_init(smp_scratch *sc, int64_t V);
void smp_scratch_free(smp_scratch *sc);

/* HF RepetitionPenaltyLogitsProcessor over ids[0..n) (each distinct id once: a negative score is multiplied by
 * penalty, a positive one divided), then the presence penalty (subtracted once per distinct id). Ids outside
 * [0, V) are ignored. */
void smp_penalties(float *scores, int64_t V, const int32_t *ids, int64_t n, float repetition, float presence,
                   smp_scratch *sc);
/* HF TemperatureLogitsWarper: scores / t. */
void smp_temperature(float *scores, int64_t V, float t);
/* HF TopKLogitsWarper: scores below the k-th largest become -inf (ties with it stay). k >= V: no-op. */
void smp_top_k(float *scores, int64_t V, int k, smp_scratch *sc);
/* HF TopPLogitsWarper: sorted ascending, tokens whose cumulative softmax mass is <= 1 - p are removed; the most
 * likely token always stays. p >= 1: no-op. */
void smp_top_p(float *scores, int64_t V, float p, smp_scratch *sc);
/* HF MinPLogitsWarper: tokens with probability < min_p * (the top probability) are removed; the top token stays.
 * min_p <= 0: no-op. */
void smp_min_p(float *scores, int64_t V, float min_p);
/* First index of the largest score. */
int32_t smp_argmax(const float *scores, int64_t V);
/* A token drawn from softmax(scores) with one uniform of rng (see the top comment). */
int32_t smp_draw(const float *scores, int64_t V, smp_rng *rng);

/* All the steps for one row: penalties over history[0..n_history), then (do_sample) the warpers and a draw, else
 * the argmax. scores is modified. */
int32_t smp_next_token(float *scores, int64_t V, const smp_params *p, const int32_t *history, int64_t n_history,
                       smp_rng *rng, smp_scratch *sc);

#endif
