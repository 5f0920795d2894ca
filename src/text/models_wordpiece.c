/* WordPiece (BERT): greedy longest-match-first over each pre-tokenized word, continuation pieces carry a prefix
 * ("##"); a word longer than max_input_chars_per_word chars, or with any piece not in the vocab, becomes one
 * unk token covering the whole word (HF tokenizers models/wordpiece). */
#include "text/text_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct wp {
    tk_vocab vocab;
    char *prefix;
    size_t prefix_len;
    long long max_chars;
    int32_t unk_id;
    char *unk;
} wp;

static accel_status wp_tokenize(const tk_model *self, const char *s, size_t len, tk_toklist *out) {
    const wp *m = self->ctx;
    size_t nchars = 0;
    for (size_t i = 0; i < len; i++) nchars += ((unsigned char)s[i] & 0xC0) != 0x80;
    if ((long long)nchars > m->max_chars) goto unk;
    char stack[256];
    char *buf = stack;
    size_t need = m->prefix_len + len + 1;
    if (need > sizeof stack) {
        buf = malloc(need);
        if (!buf) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    memcpy(buf, m->prefix, m->prefix_len);
    size_t first = out->n;
    size_t start = 0;
    while (start < len) {
        size_t end = len;
        int32_t id = -1;
        while (start < end) {
            if (start > 0) {
                memcpy(buf + m->prefix_len, s + start, end - start);
                id = tk_vocab_get(&m->vocab, buf, m->prefix_len + end - start);
            } else {
                id = tk_vocab_get(&m->vocab, s, end);
            }
            if (id >= 0) break;
            end--; /* back up one char */
            while (end > start && ((unsigned char)s[end] & 0xC0) == 0x80) end--;
        }
        if (id < 0) {
            out->n = first; /* drop the pieces of this word */
            if (buf != stack) free(buf);
            goto unk;
        }
        accel_status st = tk_toklist_push(out, id, start, end);
        if (st) {
            if (buf != stack) free(buf);
            return st;
        }
        start = end;
    }
    if (buf != stack) free(buf);
    return ACCEL_OK;
unk:
    if (m->unk_id < 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer: WordPiece unk_token \"%s\" is not in the vocab",
                               m->unk ? m->unk : "");
    return tk_toklist_push(out, m->unk_id, 0, len);
}

static int32_t wp_token_to_id(const tk_model *self, const char *tok, size_t len) {
    const wp *m = self->ctx;
    return tk_vocab_get(&m->vocab, tok, len);
}

static const char *wp_id_to_token(const tk_model *self, int32_t id) {
    const wp *m = self->ctx;
    if (id < 0 || (size_t)id >= m->vocab.n_ids) return NULL;
    return m->vocab.tokens[id];
}

static size_t wp_vocab_size(const tk_model *self) {
    const wp *m = self->ctx;
    return m->vocab.count;
}

static void wp_free(tk_model *self) {
    if (!self) return;
    wp *m = self->ctx;
    if (m) {
        tk_vocab_free(&m->vocab);
        free(m->prefix);
        free(m->unk);
        free(m);
    }
    free(self);
}

accel_status tk_model_wordpiece_from_json(const cJSON *j, tk_model **out) {
    const char *unk = "[UNK]", *prefix = "##";
    long long max_chars = 100;
    accel_status st;
    if ((st = tk_json_str(j, "unk_token", &unk, "model")) || (st = tk_json_str(j, "continuing_subword_prefix", &prefix, "model")) ||
        (st = tk_json_int(j, "max_input_chars_per_word", &max_chars, "model")))
        return st;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    if (!vocab) return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: WordPiece model has no \"vocab\"");
    tk_model *self = calloc(1, sizeof *self);
    wp *m = calloc(1, sizeof *m);
    if (!self || !m) {
        free(self);
        free(m);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    *self = (tk_model){wp_tokenize, wp_token_to_id, wp_id_to_token, wp_vocab_size, wp_free, m};
    if ((st = tk_vocab_from_json(vocab, &m->vocab, "model.vocab"))) {
        wp_free(self);
        return st;
    }
    m->prefix = strdup(prefix);
    m->unk = strdup(unk);
    if (!m->prefix || !m->unk) {
        wp_free(self);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    m->prefix_len = strlen(prefix);
    m->max_chars = max_chars;
    m->unk_id = tk_vocab_get(&m->vocab, unk, strlen(unk));
    *out = self;
    return ACCEL_OK;
}
