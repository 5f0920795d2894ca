/* model_test_util.h — helpers shared by the model tests (tests/models): where fixtures are, reading expected
 * tensors, error measures, and building broken model directories (copies with a rewritten config.json or a
 * rewritten safetensors file) in a temporary directory. Test-only code: failures print and return an error
 * value, the test's CHECKs report them. */
#ifndef ACCEL_TESTS_MODEL_TEST_UTIL_H
#define ACCEL_TESTS_MODEL_TEST_UTIL_H

#include "accel.h"
#include "io/safetensors.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <fixtures>/models/<family>/<sub> ("model" or "expected") into buf; the fixtures root is $ACCEL_FIXTURES_DIR or
 * the compile-time ACCEL_FIXTURES_DIR. Returns buf. */
const char *mt_fixture(char *buf, size_t cap, const char *family, const char *sub);
/* The directory of a real model fetched by scripts/fetch-models.sh: $ACCEL_MODELS_DIR/<name> or
 * <source>/.cache/models/<name>. Returns buf. */
const char *mt_models_dir(char *buf, size_t cap, const char *name);

/* Tensor `name` of st as a new f32 / i32 array (free()); *n gets the element count when n is not NULL.
 * NULL (and a message on stderr) when absent or not convertible. */
float *mt_load_f32(const accel_st *st, const char *name, size_t *n);
int32_t *mt_load_i32(const accel_st *st, const char *name, size_t *n);
/* Shape of tensor `name` (up to 6 dims); returns ndim or -1. */
int mt_shape(const accel_st *st, const char *name, int64_t *shape);

/* max |got - want| / max |want| over n elements (the parity measure of the issue). */
double mt_rel_err(const float *got, const float *want, size_t n);
/* Cosine similarity of two vectors of n floats, in double. */
double mt_cosine(const float *a, const float *b, size_t n);

/* A new empty temporary directory (malloc'ed path) or NULL. */
char *mt_tempdir(const char *tag);
/* mkdir with mode 0755; true when it was made. */
bool mt_mkdir(const char *path);
/* Removes a directory tree made by these helpers. */
void mt_rm_rf(const char *path);
/* Copies the regular files of src (and of its subdirectories, one level) into dst (which exists). */
bool mt_copy_dir(const char *src, const char *dst);
bool mt_write_file(const char *path, const char *text);
/* Rewrites dir/config.json: sets key to the JSON value json (parsed), or removes it when json is NULL. */
bool mt_config_set(const char *dir, const char *key, const char *json);

/* One tensor for mt_write_safetensors. */
typedef struct mt_tensor {
    const char *name;
    accel_st_dtype dtype;
    int ndim;
    int64_t shape[6];
    const void *data;
    size_t nbytes;
} mt_tensor;
/* Writes a safetensors file of n tensors. */
bool mt_write_safetensors(const char *path, const mt_tensor *t, int n);
/* Rewrites dir/model.safetensors from src_dir's checkpoint without tensor `drop` (may be NULL), and with tensor
 * `shrink` (may be NULL) cut to its first row (shape [1, ...]): a checkpoint missing a tensor / with a wrong shape. */
bool mt_rewrite_checkpoint(const char *src_dir, const char *dir, const char *drop, const char *shrink);

#endif
