/* Tokenizers from Hugging Face tokenizer.json files: encode text to token ids and decode ids back to text, with
 * results identical to the Hugging Face `tokenizers` library (pinned version: python/reference/requirements.txt).
 *
 * Public-style header (the lead will move it into include/accel.h). Conventions (DESIGN §4):
 *  - Opaque handles. accel_tokenizer is immutable after load and may be used from many threads at once;
 *    accel_encoding is plain result data owned by the caller (free with accel_encoding_free).
 *  - Every fallible call returns accel_status; the calling thread's message is in accel_last_error().
 *  - Text is UTF-8 bytes with an explicit length (may contain NUL). Invalid UTF-8 is rejected with
 *    ACCEL_ERR_INVALID_ARG and a message naming the byte offset of the first bad byte (the Python `tokenizers`
 *    binding also rejects it at its boundary; the Rust API cannot receive it).
 *  - Offsets are BYTE offsets into the caller's original text ([start, end), end exclusive); Python's
 *    `tokenizers` reports the same spans in characters. Special tokens added by the post-processor and padding
 *    have offsets (0, 0), as in HF.
 *
 * Supported today (parity-tested against HF, ids + offsets + decode, on the real all-MiniLM-L6-v2, LLaMA, Mistral
 * Qwen2 and T5 fixture tokenizers and on small tokenizers trained by python/reference/tokenizer_expectations.py):
 * models WordPiece, BPE (merges as "a b" or ["a", "b"], byte-level, byte_fallback, unk and fuse_unk,
 * ignore_merges, continuing_subword_prefix, end_of_word_suffix; dropout must be null/0, else UNSUPPORTED),
 * Unigram (Viterbi, unknown runs fused into one unk, unk_id or null, byte_fallback);
 * normalizers Precompiled (SentencePiece precompiled_charsmap, e.g. nmt_nfkc), BertNormalizer, Lowercase, StripAccents, NFD, NFKD, NFC, NFKC, Strip, Prepend, Replace (string or
 * regex), Sequence; pre-tokenizers BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, ByteLevel
 * (add_prefix_space, use_regex with GPT-2's regex), Split (string or regex, every behaviour, invert), Metaspace
 * (prepend_scheme first/always/never, split), Sequence; post-processors TemplateProcessing, BertProcessing,
 * RobertaProcessing, ByteLevel (trim_offsets), Sequence; decoders WordPiece, ByteLevel, Metaspace, ByteFallback,
 * Fuse, Strip, Replace, Sequence; added tokens (lstrip, rstrip, single_word; normalized added tokens are matched
 * as written, without normalizing their content first). Regexes run on PCRE2 (UTF + UCP) where HF uses
 * Oniguruma: the GPT-2 and Qwen2 patterns are parity-tested, other patterns may differ in corner cases.
 * Offsets trimmed by ByteLevel/RoBERTa trim_offsets that would end inside a multi-byte char are floored to that
 * char's start, as HF's Python binding reports them. Pairs of texts (accel_tokenizer_encode_pair). Anything else in a
 * tokenizer.json makes accel_tokenizer_load fail
 * with ACCEL_ERR_UNSUPPORTED naming the component. */
#ifndef ACCEL_TEXT_TOKENIZER_H
#define ACCEL_TEXT_TOKENIZER_H

#include "accel.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct accel_tokenizer accel_tokenizer;
typedef struct accel_encoding accel_encoding;

/* ---- loading ---------------------------------------------------------------------------------------------- */

/* Loads a tokenizer.json file. *out is set only on success; free with accel_tokenizer_free.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL path/out), ACCEL_ERR_IO / ACCEL_ERR_NOT_FOUND (file cannot be read),
 * ACCEL_ERR_MODEL_FORMAT (not JSON, missing "model", wrong field types, inconsistent vocab),
 * ACCEL_ERR_UNSUPPORTED (a component type this build does not implement; the message names it),
 * ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_tokenizer_load(const char *path, accel_tokenizer **out);

/* Same as accel_tokenizer_load from an in-memory JSON document of len bytes (need not be NUL-terminated). */
accel_status accel_tokenizer_load_json(const char *json, size_t len, accel_tokenizer **out);

/* Frees the tokenizer; NULL is a no-op. Encodings made from it stay valid (they own their data). */
void accel_tokenizer_free(accel_tokenizer *tok);

/* ---- vocabulary ------------------------------------------------------------------------------------------- */

/* Number of ids: the model's vocabulary plus added tokens whose ids lie outside it (HF get_vocab_size(True)). */
size_t accel_tokenizer_vocab_size(const accel_tokenizer *tok);

/* Id of a token string (added tokens first, then the model), or -1 if it has none. */
int32_t accel_tokenizer_token_to_id(const accel_tokenizer *tok, const char *token, size_t len);

/* The token string of an id (NUL-terminated, owned by tok, valid until it is freed), or NULL if unknown. */
const char *accel_tokenizer_id_to_token(const accel_tokenizer *tok, int32_t id);

/* ---- encoding --------------------------------------------------------------------------------------------- */

typedef enum accel_trunc_strategy {
    ACCEL_TRUNC_LONGEST_FIRST = 0, /* HF "LongestFirst" (single sequences: same as the others) */
    ACCEL_TRUNC_ONLY_FIRST = 1,
    ACCEL_TRUNC_ONLY_SECOND = 2,
} accel_trunc_strategy;

typedef struct accel_encode_params {
    int add_special_tokens;          /* 1: apply the post-processor's template ([CLS] ... [SEP]); default 1 */
    /* truncation: off when max_length == 0; the length counts the special tokens that will be added */
    size_t max_length;               /* default 0 (no truncation) */
    accel_trunc_strategy truncation; /* default LONGEST_FIRST */
    int truncate_left;               /* 0: drop from the end (HF direction Right, the default); 1: from the start */
    /* padding (batch calls): 0 none, 1 to the longest encoding of the batch, 2 to pad_length */
    int padding;                     /* default 0 */
    size_t pad_length;               /* used when padding == 2 */
    size_t pad_to_multiple_of;       /* 0 or 1: off */
    int pad_left;                    /* 0: pad at the end (HF direction Right, the default) */
    int32_t pad_id;                  /* default 0 */
    int32_t pad_type_id;             /* default 0 */
} accel_encode_params;

/* Defaults as documented on each field (HF's defaults with truncation and padding off). */
accel_encode_params accel_encode_default_params(void);

/* The truncation and padding that the tokenizer.json itself asks for ("truncation", "padding" objects; HF applies
 * them in encode and encode_batch), written into *p on top of its current values; add_special_tokens stays. */
accel_status accel_tokenizer_file_params(const accel_tokenizer *tok, accel_encode_params *p);

/* Encodes one text of len bytes. params may be NULL (defaults). Padding applies too (padding == 2 pads to
 * pad_length; 1 is a no-op for a single text). *out is set on success; free with accel_encoding_free.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL tok/out, text NULL with len > 0, invalid UTF-8: message has the byte offset,
 * max_length smaller than the number of special tokens), ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_tokenizer_encode(const accel_tokenizer *tok, const char *text, size_t len,
                                    const accel_encode_params *params, accel_encoding **out);

/* Encodes n texts (texts[i] of lens[i] bytes), with truncation per text, then padding across the batch.
 * out is a caller array of n pointers, each set to an encoding (free each with accel_encoding_free). On error
 * nothing is left allocated and every out[i] is NULL; the message names the failing index. */
accel_status accel_tokenizer_encode_batch(const accel_tokenizer *tok, const char *const *texts, const size_t *lens,
                                          size_t n, const accel_encode_params *params, accel_encoding **out);

/* Encodes a pair of texts (HF encode(a, b)): sentence A (a, a_len bytes) and sentence B (b, b_len bytes), joined by
 * the post-processor's pair template (BERT: [CLS] A [SEP] B [SEP] with type ids 0 / 1; RoBERTa:
 * <s> A </s></s> B </s>, type ids 0; TemplateProcessing: its "pair" template and type ids). Offsets of each token
 * are byte offsets into the text of its own sequence (see accel_encoding_sequence_ids). With max_length set, the
 * pair is truncated as HF does: LONGEST_FIRST trims the longer sequence first (both to about half when both are
 * long), ONLY_FIRST / ONLY_SECOND remove tokens from A / B only. Errors: as accel_tokenizer_encode, plus
 * ACCEL_ERR_INVALID_ARG when ONLY_FIRST / ONLY_SECOND would have to remove all tokens of (or more than) that
 * sequence (HF SequenceTooShort). */
accel_status accel_tokenizer_encode_pair(const accel_tokenizer *tok, const char *a, size_t a_len, const char *b,
                                         size_t b_len, const accel_encode_params *params, accel_encoding **out);

/* accel_tokenizer_encode_batch for n pairs (a[i], b[i]), as accel_tokenizer_encode_pair each, then padding. */
accel_status accel_tokenizer_encode_pair_batch(const accel_tokenizer *tok, const char *const *a, const size_t *a_lens,
                                               const char *const *b, const size_t *b_lens, size_t n,
                                               const accel_encode_params *params, accel_encoding **out);

/* Frees an encoding; NULL is a no-op. */
void accel_encoding_free(accel_encoding *enc);

/* Length in tokens (including special tokens and padding). */
size_t accel_encoding_len(const accel_encoding *enc);
/* Arrays of accel_encoding_len entries, owned by enc. attention_mask: 1 real token, 0 padding;
 * special_tokens_mask: 1 for tokens added by the post-processor and for padding. */
const int32_t *accel_encoding_ids(const accel_encoding *enc);
const int32_t *accel_encoding_type_ids(const accel_encoding *enc);
const int32_t *accel_encoding_attention_mask(const accel_encoding *enc);
const int32_t *accel_encoding_special_tokens_mask(const accel_encoding *enc);
/* Byte offsets into the original text: 2 * len entries, (start, end) per token. */
const size_t *accel_encoding_offsets(const accel_encoding *enc);
/* Which input each token came from (HF sequence_ids, with None as -1): -1 special tokens and padding, 0 text
 * (or sentence A), 1 sentence B. len entries, owned by enc. */
const int32_t *accel_encoding_sequence_ids(const accel_encoding *enc);
/* Tokens cut off by truncation (HF "overflowing", stride 0, without special tokens), or 0. */
size_t accel_encoding_n_overflowing(const accel_encoding *enc);

/* ---- decoding --------------------------------------------------------------------------------------------- */

/* Decodes n ids into a new NUL-terminated UTF-8 string (*out, free with free()); *out_len (may be NULL) gets its
 * length. Unknown ids are skipped (as HF does); skip_special_tokens drops added tokens marked special.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL tok/out, ids NULL with n > 0), ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_tokenizer_decode(const accel_tokenizer *tok, const int32_t *ids, size_t n, int skip_special_tokens,
                                    char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
