/* Small helpers over cJSON for reading model files (Hugging Face configs, tokenizer configs).
 *
 *  - accel_json_read_file: a whole file into memory, with a size cap.
 *  - accel_json_utf8_check: strict UTF-8 validation (cJSON itself does not validate).
 *  - accel_json_parse_file / accel_json_parse_text: read + validate + parse, top level must be an object.
 *  - typed getters by key path, distinguishing "missing" from "wrong type", with messages that name the file and
 *    the full key path ("/m/config.json: missing key 'text_config.hidden_size'").
 *
 * Key paths: components separated by '.', each optionally followed by array indexes, e.g. "text_config.hidden_size",
 * "architectures[0]", "chat_template[1].name". Keys that contain '.' or '[' cannot be addressed by path; use
 * accel_json_member. When an object holds the same key twice, the LAST one wins (as in Python's json module, which
 * wrote these files).
 *
 * JSON null counts as absent: HF writes `"sliding_window": null`, `"pad_token_id": null` for "not set". A getter with
 * required=false returns its default for absent and null values; with required=true it fails with
 * ACCEL_ERR_MODEL_FORMAT ("missing key" or "key ... is null").
 *
 * Errors go through accel_set_error (thread-local last error); nothing here prints, exits or aborts.
 * Thread safety: all functions are reentrant on distinct data; parsed trees are read-only here and may be shared
 * between threads. (cJSON records the position of the last parse error in a process-global variable; we do not
 * read it, but concurrent parses write it.) */
#ifndef ACCEL_IO_JSON_UTIL_H
#define ACCEL_IO_JSON_UTIL_H

#include "accel.h"

#include <cjson/cJSON.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default cap on the size of one JSON file (64 MiB: the largest tokenizer_config.json files seen are a few MiB). */
#define ACCEL_JSON_DEFAULT_MAX_BYTES ((size_t)64 << 20)

/* Reads the whole file at path into a new NUL-terminated buffer (*out_text, caller free()s; *out_len excludes the
 * NUL). max_bytes 0 means ACCEL_JSON_DEFAULT_MAX_BYTES.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL arguments), ACCEL_ERR_NOT_FOUND (no such file), ACCEL_ERR_IO (cannot open or
 * read it, or it is not a regular file), ACCEL_ERR_MODEL_FORMAT (larger than max_bytes), ACCEL_ERR_OUT_OF_MEMORY.
 * On error *out_text is NULL. */
accel_status accel_json_read_file(const char *path, size_t max_bytes, char **out_text, size_t *out_len);

/* Strict UTF-8 check of s[0..n): rejects overlong forms, surrogates (U+D800..DFFF), code points above U+10FFFF,
 * truncated sequences, and NUL bytes (a raw NUL is never valid in JSON text). Returns true if valid; otherwise
 * false and, if bad_offset is not NULL, the offset of the first bad byte. */
bool accel_json_utf8_check(const char *s, size_t n, size_t *bad_offset);

/* Validates (UTF-8, an optional leading BOM is skipped) and parses text[0..len) whose source is named by label in
 * messages; the top-level value must be an object and nothing but whitespace may follow it. *out is a new tree,
 * free with cJSON_Delete.
 * Errors: ACCEL_ERR_INVALID_ARG, ACCEL_ERR_MODEL_FORMAT (invalid UTF-8, syntax error — message gives line and
 * column —, nesting deeper than cJSON's limit of 1000, top level not an object), ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_json_parse_text(const char *label, const char *text, size_t len, cJSON **out);

/* accel_json_read_file + accel_json_parse_text, with the path as label. Errors: those two functions' errors. */
accel_status accel_json_parse_file(const char *path, size_t max_bytes, cJSON **out);

/* A place to look values up: an object node, the file it came from (for messages) and the key path of the object
 * from the file's root ("" or NULL at the root; "text_config" for a sub-config). All pointers are borrowed. */
typedef struct accel_json_ctx {
    const cJSON *obj;
    const char *file;
    const char *prefix;
} accel_json_ctx;

/* "an object", "an array", "a string", "a number", "a boolean", "null", "invalid". Never NULL. */
const char *accel_json_type_name(const cJSON *v);

/* The value of key (key_len bytes, not NUL-terminated necessarily) in object obj, the last one if repeated; NULL if
 * obj is not an object or has no such key. */
const cJSON *accel_json_member(const cJSON *obj, const char *key, size_t key_len);

/* Finds the value at path below c->obj. *out is NULL when a component is absent or the final value is null; also
 * NULL when an intermediate value is null (an absent sub-object). Errors: ACCEL_ERR_INVALID_ARG (NULL arguments, a
 * malformed path), ACCEL_ERR_MODEL_FORMAT (an intermediate value is neither absent, null nor of the kind the path
 * needs, e.g. "rope_scaling.factor" where rope_scaling is a number). */
accel_status accel_json_find(const accel_json_ctx *c, const char *path, const cJSON **out);

/* Records "<file>: key '<prefix>.<path>' <what>" as the last error and returns status. */
accel_status accel_json_error(const accel_json_ctx *c, const char *path, accel_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Converters of one found node (v not NULL); path only names it in messages. Integers: a JSON number that is
 * integral (4 or 4.0) and in int64 range; anything else is ACCEL_ERR_MODEL_FORMAT ("is a string, expected an
 * integer", "is 4.5, expected an integer"). Doubles: any finite JSON number. Booleans: true/false only. */
accel_status accel_json_to_int(const accel_json_ctx *c, const char *path, const cJSON *v, int64_t *out);
accel_status accel_json_to_double(const accel_json_ctx *c, const char *path, const cJSON *v, double *out);

/* Typed getters. When the value is absent or null: required -> ACCEL_ERR_MODEL_FORMAT "missing key"/"is null";
 * otherwise *out = def and ACCEL_OK. Present with the wrong type (or out of range) -> ACCEL_ERR_MODEL_FORMAT naming
 * the type found and the type expected. *out is left unchanged on error. If found is not NULL it is set to whether
 * the value was present (not absent, not null). */
accel_status accel_json_get_int(const accel_json_ctx *c, const char *path, bool required, int64_t def, int64_t *out,
                                bool *found);
accel_status accel_json_get_double(const accel_json_ctx *c, const char *path, bool required, double def, double *out,
                                   bool *found);
accel_status accel_json_get_bool(const accel_json_ctx *c, const char *path, bool required, bool def, bool *out,
                                 bool *found);
/* *out borrows the tree's string (valid while the tree lives). */
accel_status accel_json_get_string(const accel_json_ctx *c, const char *path, bool required, const char *def,
                                   const char **out, bool *found);

/* Arrays of numbers: *out is a new array of *n elements (caller free()s; NULL with *n = 0 for an absent value when
 * not required, or for an empty array). Each element must convert as accel_json_to_int / accel_json_to_double;
 * messages name the element ("image_mean[2]"). Extra error: ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_json_get_int_array(const accel_json_ctx *c, const char *path, bool required, int64_t **out,
                                      size_t *n);
accel_status accel_json_get_double_array(const accel_json_ctx *c, const char *path, bool required, double **out,
                                         size_t *n);

#endif
