/* Internal interfaces of the tokenizer pipeline (src/text). Mirrors the structure of Hugging Face `tokenizers`:
 *
 *   original text --normalizer--> normalized string (tk_nstr: bytes + per-byte alignment to the original)
 *     --added tokens split--> pre-tokenized string (tk_pretok: splits, each its own tk_nstr)
 *     --pre-tokenizer--> more splits --model--> tokens per split --post-processor--> encoding
 *   ids --> token strings --decoder--> text
 *
 * Every component family is "struct of function pointers + ctx", built from its tokenizer.json object by a
 * factory in its own file (normalizers.c, pre_tokenizers.c, models_*.c, post_processors.c, decoders.c). Factories
 * return ACCEL_ERR_UNSUPPORTED naming an unknown "type" and ACCEL_ERR_MODEL_FORMAT for wrong fields. */
#ifndef ACCEL_TEXT_INTERNAL_H
#define ACCEL_TEXT_INTERNAL_H

#include "core/error.h"
#include "text/tokenizer.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 helpers (text_util.c) -------------------------------------------------------------------------- */

/* Decodes the char at s[0..len) (valid UTF-8 assumed); returns its byte length (>= 1) and sets *cp. */
size_t tk_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encodes cp into buf (4 bytes), returns the byte length. */
size_t tk_utf8_encode(uint32_t cp, char *buf);
/* Returns len if s is valid UTF-8 (no surrogates, no overlongs, <= U+10FFFF), else the offset of the first bad byte. */
size_t tk_utf8_validate(const char *s, size_t len);

/* Character classes with the exact definitions of HF tokenizers (Rust). */
int tk_is_whitespace_rust(uint32_t c);  /* char::is_whitespace (Unicode White_Space) */
int tk_is_bert_whitespace(uint32_t c);  /* bert normalizer: \t \n \r or char::is_whitespace */
int tk_is_bert_control(uint32_t c);     /* not \t \n \r, and category Cc Cf Co Cs (not Cn: see text_util.c) */
int tk_is_punctuation(uint32_t c);      /* Unicode P* categories */
int tk_is_bert_punctuation(uint32_t c); /* ASCII punctuation or P* */
int tk_is_chinese_char(uint32_t c);     /* CJK ideograph ranges of the BERT normalizer */
int tk_is_word_char(uint32_t c);        /* regex \w: alphanumeric (L*, N*, Mn/Mc/Me... as in Rust regex), or '_' */

/* A growable byte buffer. */
typedef struct tk_buf {
    char *p;
    size_t len, cap;
} tk_buf;
accel_status tk_buf_reserve(tk_buf *b, size_t extra);
accel_status tk_buf_append(tk_buf *b, const char *s, size_t n);

/* Checked helpers. */
accel_status tk_grow(void **p, size_t *cap, size_t need, size_t elem); /* realloc to >= need elements */

/* ---- normalized string ------------------------------------------------------------------------------------ */

typedef struct tk_align {
    size_t start, end; /* byte span in the ORIGINAL text that this normalized byte comes from */
} tk_align;

typedef struct tk_nstr {
    char *s;         /* normalized bytes (not NUL-terminated), valid UTF-8 */
    tk_align *align; /* one per byte of s; every byte of one char has the same alignment */
    size_t len, cap;
    size_t base;     /* original offset where this string's original text starts (for inserted chars at 0) */
} tk_nstr;

/* One output char of a transformation and how it relates to the input, exactly as HF's NormalizedString::
 * transform: change 0 replaces the next input char, +1 is inserted (takes the alignment of the input char just
 * consumed), -n replaces the next input char and removes n more after it. */
typedef struct tk_change {
    uint32_t cp;
    int32_t change;
} tk_change;

accel_status tk_nstr_init(tk_nstr *ns, const char *s, size_t len, size_t orig_base); /* identity alignment */
accel_status tk_nstr_sub(const tk_nstr *src, size_t start, size_t end, tk_nstr *out); /* copy of a byte range */
void tk_nstr_free(tk_nstr *ns);
/* Applies a transformation (HF transform over the whole string); initial_removed chars are dropped first. */
accel_status tk_nstr_transform(tk_nstr *ns, const tk_change *ch, size_t n, size_t initial_removed);
/* Maps each char to 0..4 chars via fn (returns the count written into out). Output chars of one input char share
 * its alignment; 0 removes it. */
typedef size_t (*tk_char_map_fn)(uint32_t c, uint32_t out[4], const void *ctx);
accel_status tk_nstr_map(tk_nstr *ns, tk_char_map_fn fn, const void *ctx);
/* Prepends p (HF NormalizedString::prepend: no-op on an empty string; the new chars align with the first char). */
accel_status tk_nstr_prepend(tk_nstr *ns, const char *p, size_t plen);
/* Original span of normalized byte range [s, e) (HF convert_offsets); empty range -> start of the next byte. */
void tk_nstr_orig_span(const tk_nstr *ns, size_t s, size_t e, size_t *os, size_t *oe);

/* ---- pre-tokenized string ---------------------------------------------------------------------------------- */

typedef struct tk_token {
    int32_t id;
    size_t start, end; /* byte offsets within the split's normalized string */
} tk_token;

typedef struct tk_split {
    tk_nstr n;
    tk_token *toks; /* set by the model (or by the added-tokens pass), NULL until then */
    size_t ntoks;
    int is_added;   /* already an added token: pre-tokenizers and the model leave it alone */
} tk_split;

typedef struct tk_pretok {
    tk_split *v;
    size_t n, cap;
} tk_pretok;

void tk_pretok_free(tk_pretok *pt);
accel_status tk_pretok_push(tk_pretok *pt, tk_split *s); /* takes ownership of s's contents */

/* How a delimiter is treated when splitting (HF SplitDelimiterBehavior). */
typedef enum tk_split_behavior {
    TK_SPLIT_REMOVED,
    TK_SPLIT_ISOLATED,
    TK_SPLIT_MERGED_WITH_PREVIOUS,
    TK_SPLIT_MERGED_WITH_NEXT,
    TK_SPLIT_CONTIGUOUS,
} tk_split_behavior;

/* Finds matches in a split's normalized text: returns ACCEL_OK and sets *ms,*me to the next match at or after
 * `from`, or *ms = *me = len when there is none. */
typedef accel_status (*tk_find_fn)(const char *s, size_t len, size_t from, size_t *ms, size_t *me, const void *ctx);
/* Splits every not-yet-tokenized split with fn/behavior (HF PreTokenizedString::split + NormalizedString::split). */
accel_status tk_pretok_split(tk_pretok *pt, tk_find_fn fn, const void *ctx, tk_split_behavior behavior);
/* Char-predicate splitting (is_whitespace, is_punctuation...). */
typedef int (*tk_char_pred)(uint32_t c);
accel_status tk_pretok_split_chars(tk_pretok *pt, tk_char_pred pred, tk_split_behavior behavior);

/* ---- components ------------------------------------------------------------------------------------------- */

typedef struct tk_normalizer tk_normalizer;
struct tk_normalizer {
    accel_status (*normalize)(const tk_normalizer *self, tk_nstr *ns);
    void (*free)(tk_normalizer *self);
    void *ctx;
};

typedef struct tk_pretokenizer tk_pretokenizer;
struct tk_pretokenizer {
    accel_status (*pre_tokenize)(const tk_pretokenizer *self, tk_pretok *pt);
    void (*free)(tk_pretokenizer *self);
    void *ctx;
};

/* Token list appended by models. */
typedef struct tk_toklist {
    tk_token *v;
    size_t n, cap;
} tk_toklist;
accel_status tk_toklist_push(tk_toklist *l, int32_t id, size_t start, size_t end);

typedef struct tk_model tk_model;
struct tk_model {
    /* Tokenizes one split (s, len bytes, valid UTF-8), appending tokens with offsets relative to s. */
    accel_status (*tokenize)(const tk_model *self, const char *s, size_t len, tk_toklist *out);
    int32_t (*token_to_id)(const tk_model *self, const char *tok, size_t len); /* -1: none */
    const char *(*id_to_token)(const tk_model *self, int32_t id);              /* NULL: none */
    size_t (*vocab_size)(const tk_model *self);
    void (*free)(tk_model *self);
    void *ctx;
};

/* An encoding under construction (also the final one: accel_encoding wraps it). */
typedef struct tk_enc {
    int32_t *ids, *type_ids, *attn, *special;
    size_t *offsets; /* 2 per token */
    /* per token: 0, or for an added token whose matched text (HF's token value: content plus the whitespace that
     * lstrip/rstrip took) is not its content, TK_WS_VALUE | leading | trailing << 15: the bytes of the leading and
     * trailing whitespace/'Ġ' chars of that text that byte-level offset trimming cuts (capped at 0x7fff) */
    uint32_t *ws;
    int32_t *seq; /* per token: -1 special token (post-processor or padding), else 0 / 1 = sequence A / B */
    size_t n, cap;
    size_t n_overflow;
} tk_enc;
accel_status tk_enc_push(tk_enc *e, int32_t id, int32_t type_id, int special, size_t os, size_t oe);
#define TK_WS_VALUE 0x80000000u
/* Leading and trailing chars of s that are whitespace or U+0120 ('Ġ'), as HF byte_level::process_offsets counts
 * them (an all-space string counts fully both ways). */
void tk_count_trim_ws(const char *s, size_t len, size_t *lead, size_t *trail);
void tk_enc_free(tk_enc *e);

/* Ids can come from either the model or added tokens: lookup through the tokenizer. */
typedef struct tk_vocab_view {
    int32_t (*token_to_id)(const void *tok, const char *s, size_t len);
    const void *tok;
} tk_vocab_view;

typedef struct tk_postproc tk_postproc;
struct tk_postproc {
    size_t (*added_tokens)(const tk_postproc *self, int is_pair);
    /* Builds *out from a (and b, NULL for single input). add_special: 0 = concatenate only. tok resolves ids to
     * token strings (ByteLevel offset trimming). */
    accel_status (*process)(const tk_postproc *self, const tk_enc *a, const tk_enc *b, int add_special, tk_enc *out,
                            const accel_tokenizer *tok);
    void (*free)(tk_postproc *self);
    void *ctx;
};

/* A list of owned strings (tokens during decoding). */
typedef struct tk_strs {
    char **v;
    size_t *lens;
    size_t n, cap;
} tk_strs;
accel_status tk_strs_push(tk_strs *l, const char *s, size_t len);
accel_status tk_strs_set(tk_strs *l, size_t i, char *s, size_t len); /* takes ownership of s, frees the old one */
void tk_strs_free(tk_strs *l);

typedef struct tk_decoder tk_decoder;
struct tk_decoder {
    /* Rewrites the token list in place (HF decode_chain); the tokenizer joins the result. */
    accel_status (*decode_chain)(const tk_decoder *self, tk_strs *toks);
    void (*free)(tk_decoder *self);
    void *ctx;
};

/* Factories: j is the component's JSON object. vocab is used by post-processors to resolve token strings. */
accel_status tk_normalizer_from_json(const cJSON *j, tk_normalizer **out);
accel_status tk_pretokenizer_from_json(const cJSON *j, tk_pretokenizer **out);
accel_status tk_model_from_json(const cJSON *j, tk_model **out);
accel_status tk_model_wordpiece_from_json(const cJSON *j, tk_model **out);
accel_status tk_model_bpe_from_json(const cJSON *j, tk_model **out);
accel_status tk_model_unigram_from_json(const cJSON *j, tk_model **out);
/* SentencePiece precompiled_charsmap normalizer (normalizer_precompiled.c). */
accel_status tk_normalizer_precompiled_from_json(const cJSON *j, tk_normalizer **out);

/* ---- patterns (text_regex.c): HF's Pattern = a literal string or a regex (PCRE2, UTF + UCP, JIT if available) --- */

typedef struct tk_pattern tk_pattern;
/* Builds from a JSON {"String": "..."} or {"Regex": "..."} object. Errors: MODEL_FORMAT (shape, bad regex: the
 * message has PCRE2's reason and offset). */
accel_status tk_pattern_from_json(const cJSON *j, tk_pattern **out, const char *what);
/* A regex pattern from source text (used for built-in regexes such as GPT-2's). */
accel_status tk_pattern_regex(const char *src, tk_pattern **out);
void tk_pattern_free(tk_pattern *p);
/* tk_find_fn over a tk_pattern (ctx = the pattern). Empty matches are reported; the caller advances past them. */
accel_status tk_pattern_find(const char *s, size_t len, size_t from, size_t *ms, size_t *me, const void *ctx);

/* Like tk_pretok_split; invert swaps matches and the text between them (HF Split "invert"). */
accel_status tk_pretok_split_ex(tk_pretok *pt, tk_find_fn fn, const void *ctx, tk_split_behavior behavior, int invert);

/* Appends bytes to b converting invalid UTF-8 as Rust's String::from_utf8_lossy does (one U+FFFD per maximal
 * invalid subpart). */
accel_status tk_buf_append_lossy(tk_buf *b, const char *s, size_t n);

/* The GPT-2 byte-level alphabet: byte -> char, and char -> byte (-1 if the char is not in it). */
uint32_t tk_byte_to_char(unsigned char b);
int tk_char_to_byte(uint32_t c);
accel_status tk_postproc_from_json(const cJSON *j, tk_postproc **out);
accel_status tk_decoder_from_json(const cJSON *j, tk_decoder **out);

/* ---- string -> id hash map (vocab.c) ---------------------------------------------------------------------- */

typedef struct tk_vocab {
    char **tokens;   /* by id; NULL for holes */
    size_t n_ids;    /* max id + 1 */
    uint32_t *slots; /* open addressing: id + 1, 0 empty */
    size_t n_slots;  /* power of two */
    size_t count;
} tk_vocab;
/* Builds from a JSON object {"token": id, ...}. Errors: MODEL_FORMAT (non-integer/negative/duplicate ids). */
accel_status tk_vocab_from_json(const cJSON *obj, tk_vocab *v, const char *what);
int32_t tk_vocab_get(const tk_vocab *v, const char *s, size_t len);
void tk_vocab_free(tk_vocab *v);
uint64_t tk_hash(const char *s, size_t len);

/* JSON field helpers: return MODEL_FORMAT naming `what.key` on a wrong type; absent keys keep *out. */
accel_status tk_json_bool(const cJSON *o, const char *key, int *out, const char *what);
accel_status tk_json_int(const cJSON *o, const char *key, long long *out, const char *what);
accel_status tk_json_str(const cJSON *o, const char *key, const char **out, const char *what); /* NULL = keep */
const char *tk_json_type(const cJSON *o); /* the "type" string or NULL */

#endif
