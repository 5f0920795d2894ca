/*
 * st_config.h — the sentence-transformers configuration of a model directory: which modules follow the
 * transformer (modules.json), the Pooling module's mode (<path>/config.json), whether a Normalize module is listed,
 * and sentence_bert_config.json's max_seq_length. Any encoder family (BERT, and later others) reads it at load.
 */
#ifndef ACCEL_MODELS_ST_CONFIG_H
#define ACCEL_MODELS_ST_CONFIG_H

#include "accel.h"

typedef struct st_config {
    bool has_modules;             /* modules.json was found */
    accel_pooling pooling;        /* ACCEL_POOLING_DEFAULT when no Pooling module is listed */
    int normalize;                /* 1 when a Normalize module is listed */
    int64_t max_seq_length;       /* sentence_bert_config.json max_seq_length; 0 when absent or null */
    int64_t embedding_dim;        /* the Pooling config's word_embedding_dimension; 0 when absent */
} st_config;

/* Reads the sentence-transformers files of model directory dir into *out. A directory without them gives
 * has_modules false, the rest zero/DEFAULT, and ACCEL_OK.
 * Errors (the message names the file): ACCEL_ERR_MODEL_FORMAT (malformed JSON, modules.json not an array of
 * objects with string "type" and "path", a listed Pooling module without its config.json, a pooling config with no
 * mode set or keys of the wrong type, a negative max_seq_length), ACCEL_ERR_UNSUPPORTED (a module type other than
 * Transformer / Pooling / Normalize, e.g. Dense; pooling modes mean_sqrt_len, weightedmean, lasttoken, or more
 * than one mode at once), ACCEL_ERR_INVALID_ARG, ACCEL_ERR_IO, ACCEL_ERR_OUT_OF_MEMORY. */
accel_status st_config_read(const char *dir, st_config *out);

#endif
