/* Hugging Face model-directory configuration files.
 *
 * accel_hf_dir_open reads, from one checkpoint directory:
 *   config.json               required (ACCEL_ERR_NOT_FOUND when absent)
 *   generation_config.json    optional
 *   preprocessor_config.json  optional (image processors and audio feature extractors)
 *   tokenizer_config.json     optional
 *   special_tokens_map.json   optional
 *   chat_template.jinja       optional, raw text (newer transformers save the chat template there)
 *   chat_template.json        optional ({"chat_template": "..."}, saved by multimodal processors)
 * An optional file that is absent gives a NULL view, not an error; an optional file that is present but
 * malformed IS an error (the directory is broken, better said at open than at first use).
 *
 * Every file must be UTF-8 JSON with an object at top level and at most params.max_file_bytes bytes. Errors name
 * the file (its full path) and the key path: "/m/config.json: missing key 'text_config.hidden_size'",
 * "/m/config.json: key 'rope_scaling.factor' is a string, expected a number".
 *
 * Views (accel_hf_json) are read-only windows on one JSON object (a whole file or a nested object such as
 * text_config); they are owned by the directory handle and valid until accel_hf_dir_free. Getters take key paths
 * relative to the view ("hidden_size", "rope_scaling.factor", "architectures[0]"), see io/json_util.h for the path
 * syntax, the null-is-absent rule, and the last-duplicate-wins rule.
 *
 * Sub-configs: composite models (CLIP, CLAP, LLaVA, LLaVA-Next, X-CLIP) nest text_config / vision_config /
 * audio_config objects. NOTE: Hugging Face saves a sub-config as the DIFFERENCE from its class defaults (recent
 * transformers versions write only non-default fields, so a CLIP text_config may lack hidden_size entirely). Family
 * code must therefore supply the HF class defaults itself: the typed readers below (accel_hf_hparams_read and the
 * others) only OVERWRITE fields found in the JSON, so initialise the struct with the family's defaults first.
 *
 * Strings returned by any function here are borrowed from the directory handle (valid until accel_hf_dir_free).
 * Thread safety: after open, a handle is read-only; any number of threads may call the getters concurrently.
 * Nothing here prints, exits or aborts; errors are recorded with accel_set_error (accel_last_error()). */
#ifndef ACCEL_IO_HF_CONFIG_H
#define ACCEL_IO_HF_CONFIG_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct accel_hf_dir accel_hf_dir;
typedef struct accel_hf_json accel_hf_json;

/* ---- directory ----------------------------------------------------------------------------------------------- */

typedef struct accel_hf_dir_params {
    size_t max_file_bytes; /* cap per JSON file; default 64 MiB; 0 means the default */
} accel_hf_dir_params;

accel_hf_dir_params accel_hf_dir_default_params(void);

/* Opens the model directory dir (params may be NULL for defaults). *out is a new handle; free with
 * accel_hf_dir_free. Validates at open: config.json's "model_type" is a string if present, "architectures" is an
 * array of strings if present.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL dir/out), ACCEL_ERR_NOT_FOUND (no config.json), ACCEL_ERR_IO (unreadable
 * file), ACCEL_ERR_MODEL_FORMAT (any file over the cap, not UTF-8, malformed JSON, top level not an object, bad
 * model_type/architectures), ACCEL_ERR_OUT_OF_MEMORY. On error *out is NULL. */
accel_status accel_hf_dir_open(const char *dir, const accel_hf_dir_params *params, accel_hf_dir **out);

/* Frees the handle and every view and string it lent. NULL is a no-op. */
void accel_hf_dir_free(accel_hf_dir *d);

/* The directory path given to open. */
const char *accel_hf_dir_path(const accel_hf_dir *d);

typedef enum accel_hf_file {
    ACCEL_HF_CONFIG = 0,
    ACCEL_HF_GENERATION_CONFIG = 1,
    ACCEL_HF_PREPROCESSOR_CONFIG = 2,
    ACCEL_HF_TOKENIZER_CONFIG = 3,
    ACCEL_HF_SPECIAL_TOKENS_MAP = 4,
    ACCEL_HF_CHAT_TEMPLATE_JSON = 5,
    ACCEL_HF_FILE_COUNT
} accel_hf_file;

/* The root view of one file, NULL when that optional file is absent (or d is NULL). Never NULL for
 * ACCEL_HF_CONFIG on an open handle. */
const accel_hf_json *accel_hf_dir_file(const accel_hf_dir *d, accel_hf_file which);
/* Same as accel_hf_dir_file(d, ACCEL_HF_CONFIG). */
const accel_hf_json *accel_hf_dir_config(const accel_hf_dir *d);

/* config.json "model_type" ("llama", "clip", ...) or NULL if absent; config.json "architectures[0]"
 * ("LlamaForCausalLM") or NULL if absent or empty. */
const char *accel_hf_dir_model_type(const accel_hf_dir *d);
const char *accel_hf_dir_architecture(const accel_hf_dir *d);

/* The chat template called name (NULL means "default"). Looked up in tokenizer_config.json "chat_template" (a
 * string = the default template, or a list of {"name", "template"}), then chat_template.jinja (the default), then
 * chat_template.json. Errors: ACCEL_ERR_NOT_FOUND (no template of that name), ACCEL_ERR_MODEL_FORMAT (wrong
 * types), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_dir_chat_template(const accel_hf_dir *d, const char *name, const char **out);

/* ---- views and typed getters --------------------------------------------------------------------------------- */

/* The nested object at path below j (e.g. "text_config"): *out is NULL (and ACCEL_OK) when it is absent or null.
 * Errors: ACCEL_ERR_MODEL_FORMAT (present but not an object), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_json_sub(const accel_hf_json *j, const char *path, const accel_hf_json **out);

/* The file's full path, and the key path of this view from the file's root ("" for a root view). */
const char *accel_hf_json_file(const accel_hf_json *j);
const char *accel_hf_json_path(const accel_hf_json *j);

/* The underlying cJSON object (const cJSON *), for code that needs to iterate; read only. */
const void *accel_hf_json_raw(const accel_hf_json *j);

/* Whether path is present and not null (false also when the lookup itself fails). */
bool accel_hf_json_has(const accel_hf_json *j, const char *path);

/* Required getters: ACCEL_ERR_MODEL_FORMAT "<file>: missing key '<path>'" when absent, "... is null" when null,
 * "key '<path>' is a string, expected an integer" on a wrong type. *out unchanged on error.
 * _or getters: the default when absent or null; a wrong type is still ACCEL_ERR_MODEL_FORMAT.
 * Integers must be integral JSON numbers within int64; numbers may be written as integers; strings are borrowed. */
accel_status accel_hf_json_int(const accel_hf_json *j, const char *path, int64_t *out);
accel_status accel_hf_json_int_or(const accel_hf_json *j, const char *path, int64_t def, int64_t *out);
accel_status accel_hf_json_float(const accel_hf_json *j, const char *path, double *out);
accel_status accel_hf_json_float_or(const accel_hf_json *j, const char *path, double def, double *out);
accel_status accel_hf_json_bool(const accel_hf_json *j, const char *path, bool *out);
accel_status accel_hf_json_bool_or(const accel_hf_json *j, const char *path, bool def, bool *out);
accel_status accel_hf_json_string(const accel_hf_json *j, const char *path, const char **out);
accel_status accel_hf_json_string_or(const accel_hf_json *j, const char *path, const char *def, const char **out);

/* Numeric arrays: *out is a new malloc'd array of *n elements, caller free()s; absent and not required gives NULL
 * and 0. Errors as above; elements are named in messages ("image_mean[1]"); ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_hf_json_int_array(const accel_hf_json *j, const char *path, bool required, int64_t **out,
                                     size_t *n);
accel_status accel_hf_json_float_array(const accel_hf_json *j, const char *path, bool required, double **out,
                                       size_t *n);

/* ---- transformer hyper-parameters ----------------------------------------------------------------------------- */

/* Which key names a config uses. AUTO picks from the view's "model_type": t5/mt5/umt5/longt5 -> T5;
 * whisper/bart/mbart/marian/pegasus/m2m_100 -> WHISPER (BART-style); anything else -> STANDARD. */
typedef enum accel_hf_naming {
    ACCEL_HF_NAMING_AUTO = 0,
    ACCEL_HF_NAMING_STANDARD = 1, /* BERT/LLaMA/Qwen2/CLIP/ViT (+ GPT-2 n_embd/n_layer/n_head/n_inner aliases) */
    ACCEL_HF_NAMING_T5 = 2,       /* d_model, num_layers, num_decoder_layers, num_heads, d_ff, d_kv, ... */
    ACCEL_HF_NAMING_WHISPER = 3,  /* d_model, encoder_layers, encoder_attention_heads, encoder_ffn_dim, ... */
} accel_hf_naming;

#define ACCEL_HF_MAX_EOS 16

typedef struct accel_hf_rope_scaling {
    bool present;                             /* rope_scaling was a non-null object */
    const char *type;                         /* "rope_type" or legacy "type": "linear", "dynamic", "yarn",
                                                 "llama3", "longrope", "default"...; NULL if absent */
    double factor;                            /* 1.0 if absent */
    int64_t original_max_position_embeddings; /* 0 if absent */
    double low_freq_factor, high_freq_factor; /* llama3; 0 if absent */
    double beta_fast, beta_slow;              /* yarn; 0 if absent (HF's defaults are 32 and 1) */
    double attention_factor;                  /* yarn/longrope; 0 if absent (computed by the family) */
    double *short_factor, *long_factor;       /* longrope per-dimension factors: NOT read here (NULL) */
} accel_hf_rope_scaling;

/* Fields: 0 (sizes), -1 (token ids), NULL (strings) mean "not set" after accel_hf_hparams_init. */
typedef struct accel_hf_hparams {
    const char *model_type;
    int64_t hidden_size;             /* hidden_size | T5/Whisper d_model | GPT-2 n_embd */
    int64_t num_hidden_layers;       /* num_hidden_layers | T5 num_layers | Whisper encoder_layers */
    int64_t num_attention_heads;     /* num_attention_heads | T5 num_heads | Whisper encoder_attention_heads */
    int64_t num_key_value_heads;     /* defaults to num_attention_heads */
    int64_t intermediate_size;       /* intermediate_size | T5 d_ff | Whisper encoder_ffn_dim */
    int64_t head_dim;                /* head_dim | T5 d_kv; else hidden_size / num_attention_heads */
    int64_t vocab_size;
    int64_t max_position_embeddings; /* max_position_embeddings | n_positions */
    int64_t type_vocab_size;         /* BERT token types */
    double norm_eps;                 /* rms_norm_eps | layer_norm_eps | layer_norm_epsilon; 0 if absent */
    const char *norm_eps_key;        /* which key gave norm_eps (NULL if none) */
    const char *hidden_act;          /* hidden_act | activation_function | T5 feed_forward_proj */
    double rope_theta;               /* rope_theta | rope_parameters.rope_theta; 0 if absent */
    accel_hf_rope_scaling rope_scaling;
    bool tie_word_embeddings;        /* HF default true */
    bool is_encoder_decoder;
    int64_t sliding_window;          /* 0 = none (absent, null, or use_sliding_window false) */
    const char *torch_dtype;         /* torch_dtype | dtype: "float32", "bfloat16"... */
    int64_t bos_token_id, pad_token_id, decoder_start_token_id; /* -1 if absent */
    int64_t eos_token_ids[ACCEL_HF_MAX_EOS];                   /* eos_token_id: an int or a list */
    size_t n_eos;
    /* encoder-decoder (T5, Whisper) */
    int64_t num_decoder_layers;          /* T5 num_decoder_layers (defaults to num_layers) | decoder_layers */
    int64_t num_decoder_attention_heads; /* Whisper decoder_attention_heads (defaults to encoder's) */
    int64_t decoder_intermediate_size;   /* Whisper decoder_ffn_dim (defaults to encoder's) */
    int64_t relative_attention_num_buckets, relative_attention_max_distance; /* T5 */
    int64_t num_mel_bins, max_source_positions, max_target_positions;        /* Whisper */
    /* vision / multimodal */
    int64_t image_size, patch_size, num_channels, projection_dim;
} accel_hf_hparams;

/* Sets every field to "not set" (see above), tie_word_embeddings to true. */
void accel_hf_hparams_init(accel_hf_hparams *hp);

/* Reads the hyper-parameters of view j into *hp, overwriting only the fields present in j (so a family can
 * initialise *hp with its HF class defaults first, see the note at the top). Then: num_key_value_heads defaults to
 * num_attention_heads, head_dim to hidden_size / num_attention_heads, T5 num_decoder_layers to num_layers,
 * Whisper decoder heads/ffn to the encoder's.
 * Errors: ACCEL_ERR_MODEL_FORMAT for wrong types, for hidden_size / layer count / head count still not set
 * ("missing key 'text_config.hidden_size'", named with the scheme's main key), for negative sizes, for
 * num_attention_heads not a multiple of num_key_value_heads, for hidden_size not a multiple of the head count when
 * no head_dim is given, for more than ACCEL_HF_MAX_EOS eos ids; ACCEL_ERR_INVALID_ARG. *hp may be partly
 * written on error. */
accel_status accel_hf_hparams_read(const accel_hf_json *j, accel_hf_naming naming, accel_hf_hparams *hp);

/* ---- generation_config.json ----------------------------------------------------------------------------------- */

typedef struct accel_hf_generation {
    int64_t max_new_tokens;  /* -1 if not set */
    int64_t max_length;      /* HF default 20 */
    int64_t min_length, min_new_tokens; /* 0, -1 */
    bool do_sample;          /* false */
    double temperature;      /* 1.0 */
    int64_t top_k;           /* 50 */
    double top_p;            /* 1.0 */
    int64_t num_beams;       /* 1 */
    double length_penalty;   /* 1.0 */
    int early_stopping;      /* 0 false, 1 true, 2 "never" */
    int64_t no_repeat_ngram_size; /* 0 */
    double repetition_penalty;    /* 1.0 */
    int64_t bos_token_id, pad_token_id, decoder_start_token_id; /* -1 if not set */
    int64_t eos_token_ids[ACCEL_HF_MAX_EOS];
    size_t n_eos;
} accel_hf_generation;

/* HF GenerationConfig defaults (values in the comments above). */
void accel_hf_generation_init(accel_hf_generation *g);

/* Overwrites the fields of *g present in view j (generation_config.json or, for old models, config.json).
 * Errors: ACCEL_ERR_MODEL_FORMAT (wrong types, temperature/top_p/penalties negative, num_beams < 1, top_k < 0,
 * early_stopping neither boolean nor "never"), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_generation_read(const accel_hf_json *j, accel_hf_generation *g);

/* Defaults, then the token ids of config.json (bos/eos/pad/decoder_start), then generation_config.json if present. */
accel_status accel_hf_dir_generation(const accel_hf_dir *d, accel_hf_generation *g);

/* ---- preprocessor_config.json --------------------------------------------------------------------------------- */

#define ACCEL_HF_MAX_PINPOINTS 128

typedef struct accel_hf_image_proc {
    const char *processor_type; /* image_processor_type | feature_extractor_type, NULL if absent */
    bool do_resize;             /* true */
    /* size: {"shortest_edge": n} | {"height": h, "width": w} | {"longest_edge": n} | a bare integer (old files:
     * CLIP meant shortest edge, ViT meant a square; the family decides) */
    int64_t size_shortest_edge, size_longest_edge, size_height, size_width, size_scalar; /* 0 = not given */
    int64_t resample;           /* PIL filter: 0 nearest, 2 bilinear, 3 bicubic; -1 if absent */
    bool do_center_crop;        /* false */
    int64_t crop_height, crop_width; /* crop_size {height,width} or an integer (square); 0 = not given */
    bool do_rescale;            /* true */
    double rescale_factor;      /* 1/255 */
    bool do_normalize;          /* true */
    double image_mean[4], image_std[4];
    size_t n_mean;              /* 0 = not given; image_mean and image_std must have the same length (<= 4) */
    bool do_convert_rgb;        /* true */
    int64_t grid_pinpoints[ACCEL_HF_MAX_PINPOINTS][2]; /* LLaVA-Next image_grid_pinpoints [[h, w], ...] */
    size_t n_grid_pinpoints;
} accel_hf_image_proc;

/* Common image-processor defaults (values in the comments above; image_mean/std unset). */
void accel_hf_image_proc_init(accel_hf_image_proc *p);

/* Overwrites fields present in j. Errors: ACCEL_ERR_MODEL_FORMAT (wrong types, a size object with none of the known
 * keys, non-positive sizes, mean/std lengths differ or exceed 4, pinpoints not pairs of positive integers, more
 * than ACCEL_HF_MAX_PINPOINTS), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_image_proc_read(const accel_hf_json *j, accel_hf_image_proc *p);

typedef struct accel_hf_audio_proc {
    const char *processor_type; /* feature_extractor_type */
    int64_t feature_size;       /* mel bins (Whisper 80, CLAP 64) or 1 (Wav2Vec2 raw audio); 0 = not given */
    int64_t sampling_rate;      /* 0 = not given */
    int64_t n_fft;              /* n_fft | fft_window_size (CLAP); 0 = not given */
    int64_t hop_length;         /* 0 = not given */
    int64_t chunk_length;       /* seconds, Whisper; 0 = not given */
    int64_t n_samples, nb_max_frames; /* Whisper; 0 = not given */
    double max_length_s;        /* CLAP; 0 = not given */
    double frequency_min, frequency_max; /* CLAP; 0 = not given */
    double padding_value;       /* 0.0 */
    const char *padding_side;   /* "right" */
    const char *truncation;     /* CLAP "fusion" / "rand_trunc"; NULL if absent */
    const char *padding;        /* CLAP "repeatpad"...; NULL if absent */
    bool return_attention_mask; /* false */
    bool do_normalize;          /* false */
} accel_hf_audio_proc;

void accel_hf_audio_proc_init(accel_hf_audio_proc *p);

/* Overwrites fields present in j. Errors: ACCEL_ERR_MODEL_FORMAT (wrong types, non-positive sampling_rate /
 * feature_size / n_fft / hop_length when given), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_audio_proc_read(const accel_hf_json *j, accel_hf_audio_proc *p);

/* ---- tokenizer_config.json + special_tokens_map.json ------------------------------------------------------------ */

typedef struct accel_hf_added_token {
    const char *content; /* NULL = not set */
    bool lstrip, rstrip, single_word, special; /* false unless given (a plain string gives all false) */
    bool normalized;                           /* true unless given */
} accel_hf_added_token;

typedef struct accel_hf_tokenizer_config {
    const char *tokenizer_class;
    accel_hf_added_token bos, eos, unk, pad, cls, sep, mask;
    int64_t model_max_length;    /* -1 if absent; INT64_MAX for HF's "very large" 1e30 */
    const char *chat_template;   /* the default chat template (accel_hf_dir_chat_template(d, NULL)), or NULL */
    int add_bos_token, add_eos_token;     /* -1 not set, 0, 1 */
    int clean_up_tokenization_spaces;     /* -1 not set, 0, 1 */
    int do_lower_case;                    /* -1 not set, 0, 1 */
    const char *padding_side;             /* NULL if absent */
} accel_hf_tokenizer_config;

/* Reads the special tokens from special_tokens_map.json, then tokenizer_config.json on top (its values win), and
 * the other fields from tokenizer_config.json. With neither file, all fields are "not set" and ACCEL_OK.
 * Tokens are strings or AddedToken objects {"content", "lstrip", "rstrip", "normalized", "single_word",
 * "special"} (an optional "__type": "AddedToken" is ignored).
 * Errors: ACCEL_ERR_MODEL_FORMAT (wrong types, an AddedToken without a string content), ACCEL_ERR_INVALID_ARG. */
accel_status accel_hf_dir_tokenizer_config(const accel_hf_dir *d, accel_hf_tokenizer_config *t);

#endif
