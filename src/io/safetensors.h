/*
 * safetensors.h — loading Hugging Face safetensors checkpoints (single file or sharded), memory-mapped.
 *
 * File format (https://github.com/huggingface/safetensors, the Rust crate is the reference):
 *   8 bytes   N, unsigned 64-bit little-endian: the header length
 *   N bytes   a UTF-8 JSON object: {"name": {"dtype": "F16", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 *             "__metadata__": {"key": "string value", ...}} (the metadata entry is optional); the writers pad it
 *             with trailing spaces so the data region starts 8-byte aligned
 *   the rest  the data region; offsets are relative to its start.
 *
 * Validation (any failure is ACCEL_ERR_MODEL_FORMAT with "<file>: <reason>" in accel_last_error(), unless said):
 *   - the file holds at least the 8-byte length; 2 <= N <= ACCEL_ST_MAX_HEADER (100,000,000, the Rust crate's
 *     limit); 8 + N <= file size;
 *   - the header is valid UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF), contains no NUL byte, starts
 *     with '{', is one JSON object followed only by whitespace;
 *   - tensor and metadata names are unique (cJSON keeps duplicate keys as separate items: they are rejected);
 *     "__metadata__" is an object of string values;
 *   - each tensor has "dtype" (a string), "shape" (array of at most 64 non-negative integers) and "data_offsets"
 *     (two non-negative integers begin <= end); numbers must be integral and below 2^53 (exact in a double; cJSON
 *     does not keep the number's text, so 4.0 or 4e0 are accepted as 4 where serde would refuse them); a
 *     duplicate field inside one tensor entry is an error; unknown fields are ignored (as serde does);
 *   - dtype is one of F32 F16 BF16 I8 U8 I16 I32 I64 BOOL. The other dtypes of the format (F64, U16, U32, U64,
 *     F8_*, F4, F6_*, C64) give ACCEL_ERR_UNSUPPORTED naming the tensor; an unknown dtype string is a format error;
 *   - product(shape) * element size == end - begin, computed with overflow checks;
 *   - like the Rust crate: tensors sorted by begin offset are contiguous and non-overlapping (the first begins at
 *     0, each begins where the previous ended: holes are rejected as well as overlaps) and the last one ends
 *     exactly at the end of the file (no trailing bytes). Files written by the Python and Rust writers always
 *     satisfy this; anything else is a file those readers refuse too.
 *
 * The tensor bytes are never copied on open: each file is mmapped read-only and accel_st_info().data points into
 * the mapping, valid until accel_st_close. Data is little-endian as stored; on a big-endian host accel_st_open
 * returns ACCEL_ERR_UNSUPPORTED.
 *
 * Thread safety: after open, a handle may be read (count, info, find, metadata, load_as) from several threads at
 * once; accel_st_bind is serialized internally. accel_st_close must not race with anything else on the handle.
 */
#ifndef ACCEL_IO_SAFETENSORS_H
#define ACCEL_IO_SAFETENSORS_H

#include "accel.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCEL_ST_MAX_HEADER 100000000ull

/* The element type as stored in the file (the subset of the format's dtypes that libaccel reads). U8, I16 and
 * BOOL have no accel_dtype: read them with accel_st_load_as (or accel_st_bind into an i32/i64 leaf). */
typedef enum accel_st_dtype {
    ACCEL_ST_F32 = 0,
    ACCEL_ST_F16 = 1,
    ACCEL_ST_BF16 = 2,
    ACCEL_ST_I8 = 3,
    ACCEL_ST_U8 = 4,
    ACCEL_ST_I16 = 5,
    ACCEL_ST_I32 = 6,
    ACCEL_ST_I64 = 7,
    ACCEL_ST_BOOL = 8, /* one byte per element, 0 or 1 */
    ACCEL_ST_DTYPE_COUNT
} accel_st_dtype;

/* "F32", "F16", ... as spelled in the file; "?" for an invalid value. */
ACCEL_API const char *accel_st_dtype_name(accel_st_dtype dtype);
/* Bytes per element (0 for an invalid value). */
ACCEL_API size_t accel_st_dtype_size(accel_st_dtype dtype);
/* The accel_dtype with the same bytes (F32 F16 BF16 I8 I32 I64). ACCEL_ERR_UNSUPPORTED for U8, I16, BOOL. */
ACCEL_API accel_status accel_st_dtype_to_accel(accel_st_dtype dtype, accel_dtype *out);

typedef struct accel_st accel_st;

/* One tensor. Every pointer is owned by the accel_st handle and valid until accel_st_close. */
typedef struct accel_st_info {
    const char *name;          /* as in the file (UTF-8) */
    accel_st_dtype dtype;      /* stored element type */
    int ndim;                  /* 0 for a scalar (one element) */
    const int64_t *shape;      /* [ndim], PyTorch order; NULL when ndim == 0 */
    int64_t nelements;         /* product of shape (1 for a scalar, 0 if a dimension is 0) */
    size_t nbytes;             /* nelements * accel_st_dtype_size(dtype) */
    const void *data;          /* into the read-only mapping; not necessarily aligned to the element size */
    const char *file;          /* path of the file (the shard) holding it */
    uint64_t file_offset;      /* byte offset of data within that file */
} accel_st_info;

/* Opens a checkpoint:
 *   - a .safetensors file;
 *   - a model.safetensors.index.json file (sharded checkpoint: {"weight_map": {"tensor": "shard file name"}}; the
 *     shards are read from the index's directory, and must be plain file names, no '/' or "..");
 *   - a directory holding model.safetensors, or else model.safetensors.index.json.
 * With shards, every tensor of every shard named in the weight map is listed (shard order = first appearance in
 * the weight map); each weight_map entry must be found in the shard it names, and a name present in two shards is
 * an error. The metadata of all shards is merged (the first shard's value wins for a repeated key).
 * On success *out must be freed with accel_st_close.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL argument); ACCEL_ERR_NOT_FOUND (the path does not exist, or a directory has
 * neither file); ACCEL_ERR_IO (a file cannot be opened, read or mapped); ACCEL_ERR_MODEL_FORMAT (a malformed file,
 * a malformed index, a missing shard — the message names the shard — or an index entry not found in its shard);
 * ACCEL_ERR_UNSUPPORTED (a dtype libaccel does not read, or a big-endian host); ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_st_open(const char *path_or_dir, accel_st **out);

/* Parses a safetensors file already in memory (size bytes at data). No copy is made: data must stay valid and
 * unchanged until accel_st_close. label names the buffer in error messages (NULL: "<memory>"). Same validation and
 * errors as accel_st_open for one file. Used by the fuzz target and by callers that read files their own way. */
ACCEL_API accel_status accel_st_open_memory(const void *data, size_t size, const char *label, accel_st **out);

/* Unmaps the files and frees the handle, the infos, and the buffers accel_st_bind allocated. NULL is a no-op.
 * Tensors bound with accel_st_bind must not be computed on after this. */
ACCEL_API void accel_st_close(accel_st *st);

/* Number of tensors (0 for NULL). Tensors are listed per file in order of their data offset. */
ACCEL_API int accel_st_count(const accel_st *st);

/* Fills *info for tensor i (0 <= i < count). ACCEL_ERR_INVALID_ARG for NULL or i out of range. */
ACCEL_API accel_status accel_st_info_get(const accel_st *st, int i, accel_st_info *info);

/* Index of the tensor called name, or -1 if there is none (or an argument is NULL). O(log n). */
ACCEL_API int accel_st_find(const accel_st *st, const char *name);

/* The "__metadata__" string map. accel_st_metadata_get fills key and value (owned by st) for entry i;
 * accel_st_metadata_find returns the value of key or NULL. */
ACCEL_API int accel_st_metadata_count(const accel_st *st);
ACCEL_API accel_status accel_st_metadata_get(const accel_st *st, int i, const char **key, const char **value);
ACCEL_API const char *accel_st_metadata_find(const accel_st *st, const char *key);

/* Gives the graph leaf t the data of tensor name. t's shape must equal the stored shape (ACCEL_ERR_INVALID_ARG
 * otherwise). When t's dtype equals the stored one and the data is aligned to the element size, t points straight
 * into the read-only mapping (zero copy: t->data == info.data). Otherwise the data is converted
 * (accel_st_load_as rules) or copied into a buffer owned by st and freed by accel_st_close. t is marked a weight;
 * never write into it. Errors: ACCEL_ERR_INVALID_ARG (NULL, t not a leaf, shape mismatch), ACCEL_ERR_NOT_FOUND
 * (no such tensor), ACCEL_ERR_UNSUPPORTED (no conversion between the dtypes), ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_st_bind(accel_st *st, const char *name, accel_tensor *t);

/* Copies tensor name into dst (dst_bytes >= nelements * element size of dtype), converting:
 *   - same type: a copy (F32, F16, BF16, I8, I32, I64);
 *   - F32, F16, BF16 to each other (round to nearest even when narrowing);
 *   - I8, U8, I16, I32, I64, BOOL to I32 or I64; U8 and BOOL to I8.
 * A value that does not fit the destination (I64 -> I32, U8 > 127 -> I8) is ACCEL_ERR_UNSUPPORTED naming the
 * element; a BOOL byte other than 0 or 1 is ACCEL_ERR_MODEL_FORMAT. Float <-> integer conversions and quantized
 * destinations are ACCEL_ERR_UNSUPPORTED. Other errors: ACCEL_ERR_INVALID_ARG (NULL, dst too small),
 * ACCEL_ERR_NOT_FOUND (no such tensor). */
ACCEL_API accel_status accel_st_load_as(const accel_st *st, const char *name, accel_dtype dtype, void *dst,
                                        size_t dst_bytes);

#ifdef __cplusplus
}
#endif

#endif
