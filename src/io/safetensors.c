/* safetensors loading: see safetensors.h for the format, the validation rules and the API. */
#include "io/safetensors.h"

#include "core/error.h"
#include "core/tensor.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_DIMS 64
#define ST_MAX_INDEX_BYTES ACCEL_ST_MAX_HEADER
#define ST_MAX_EXACT_INT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact in a double */

/* ---- types ------------------------------------------------------------------------------------------------ */

typedef struct st_file {
    char *path;          /* label used in messages and accel_st_info.file */
    const uint8_t *base; /* whole file */
    size_t size;
    bool mapped;         /* base is our mmap (else caller memory) */
} st_file;

typedef struct st_tensor {
    char *name;
    accel_st_dtype dtype;
    int ndim;
    int64_t *shape;
    int64_t nelements;
    size_t nbytes;
    uint64_t begin, end; /* within the file's data region */
    const uint8_t *data;
    int file;
} st_tensor;

typedef struct st_meta {
    char *key, *value;
    int file, order;
} st_meta;

struct accel_st {
    st_file *files;
    int nfiles;
    st_tensor *tensors;
    int ntensors, cap_tensors;
    int *by_name; /* tensor indices sorted by name */
    st_meta *meta;
    int nmeta, cap_meta;
    pthread_mutex_t lock; /* guards owned */
    void **owned;
    int nowned, cap_owned;
};

static const struct {
    const char *name;
    size_t size;
} k_dtypes[ACCEL_ST_DTYPE_COUNT] = {
    [ACCEL_ST_F32] = {"F32", 4}, [ACCEL_ST_F16] = {"F16", 2}, [ACCEL_ST_BF16] = {"BF16", 2},
    [ACCEL_ST_I8] = {"I8", 1},   [ACCEL_ST_U8] = {"U8", 1},   [ACCEL_ST_I16] = {"I16", 2},
    [ACCEL_ST_I32] = {"I32", 4}, [ACCEL_ST_I64] = {"I64", 8}, [ACCEL_ST_BOOL] = {"BOOL", 1},
};

/* dtypes of the format that we do not read (as of safetensors 0.6) */
static const char *const k_unsupported_dtypes[] = {"F64",     "U16",    "U32",    "U64",      "C64",
                                                   "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3",
                                                   "F6_E3M2"};

const char *accel_st_dtype_name(accel_st_dtype dtype) {
    return (unsigned)dtype < ACCEL_ST_DTYPE_COUNT ? k_dtypes[dtype].name : "?";
}

size_t accel_st_dtype_size(accel_st_dtype dtype) {
    return (unsigned)dtype < ACCEL_ST_DTYPE_COUNT ? k_dtypes[dtype].size : 0;
}

accel_status accel_st_dtype_to_accel(accel_st_dtype dtype, accel_dtype *out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_dtype_to_accel: NULL argument");
    switch (dtype) {
    case ACCEL_ST_F32: *out = ACCEL_F32; return ACCEL_OK;
    case ACCEL_ST_F16: *out = ACCEL_F16; return ACCEL_OK;
    case ACCEL_ST_BF16: *out = ACCEL_BF16; return ACCEL_OK;
    case ACCEL_ST_I8: *out = ACCEL_I8; return ACCEL_OK;
    case ACCEL_ST_I32: *out = ACCEL_I32; return ACCEL_OK;
    case ACCEL_ST_I64: *out = ACCEL_I64; return ACCEL_OK;
    default: break;
    }
    return accel_set_error(ACCEL_ERR_UNSUPPORTED, "safetensors dtype %s has no accel_dtype (use accel_st_load_as)",
                           accel_st_dtype_name(dtype));
}

/* ---- small helpers ---------------------------------------------------------------------------------------- */

static char *st_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static bool grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    int nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > INT_MAX / 2) return false;
        nc *= 2;
    }
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static uint64_t read_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Returns the offset of the first byte that is not part of valid UTF-8 (or is NUL), or SIZE_MAX if all valid. */
static size_t utf8_invalid_at(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0) return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i; /* continuation byte, 0xC0/0xC1 overlong leads, 0xF5.. */
        }
        if (n - i < len) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return SIZE_MAX;
}

/* A JSON number that is a non-negative integer exactly representable in a double. */
static bool json_u64(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return false;
    double d = item->valuedouble;
    if (!(d >= 0.0) || d >= ST_MAX_EXACT_INT || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

/* ---- parsing one file ------------------------------------------------------------------------------------- */

static void tensor_free(st_tensor *t) {
    free(t->name);
    free(t->shape);
}

static accel_status parse_tensor(accel_st *st, int file, const char *label, const cJSON *entry,
                                 const uint8_t *data_region, uint64_t data_size) {
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': entry is not a JSON object", label, name);
    const cJSON *jdtype = NULL, *jshape = NULL, *joff = NULL;
    for (const cJSON *f = entry->child; f; f = f->next) {
        const cJSON **slot = NULL;
        if (strcmp(f->string, "dtype") == 0) slot = &jdtype;
        else if (strcmp(f->string, "shape") == 0) slot = &jshape;
        else if (strcmp(f->string, "data_offsets") == 0) slot = &joff;
        if (!slot) continue; /* unknown fields are ignored, as serde does */
        if (*slot)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': duplicate field \"%s\"", label, name,
                                   f->string);
        *slot = f;
    }
    if (!jdtype || !jshape || !joff)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': missing field \"%s\"", label, name,
                               !jdtype ? "dtype" : !jshape ? "shape" : "data_offsets");
    if (!cJSON_IsString(jdtype))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': dtype is not a string", label, name);
    int dtype = -1;
    for (int d = 0; d < ACCEL_ST_DTYPE_COUNT; d++)
        if (strcmp(jdtype->valuestring, k_dtypes[d].name) == 0) dtype = d;
    if (dtype < 0) {
        for (size_t k = 0; k < sizeof k_unsupported_dtypes / sizeof k_unsupported_dtypes[0]; k++)
            if (strcmp(jdtype->valuestring, k_unsupported_dtypes[k]) == 0)
                return accel_set_error(ACCEL_ERR_UNSUPPORTED,
                                       "%s: tensor '%s': dtype %s is not supported (supported: F32 F16 BF16 I8 U8 "
                                       "I16 I32 I64 BOOL)",
                                       label, name, jdtype->valuestring);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': unknown dtype \"%.32s\"", label, name,
                               jdtype->valuestring);
    }
    if (!cJSON_IsArray(jshape))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': shape is not an array", label, name);
    int ndim = 0;
    for (const cJSON *d = jshape->child; d; d = d->next) {
        if (++ndim > ST_MAX_DIMS)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': shape has more than %d dimensions",
                                   label, name, ST_MAX_DIMS);
    }
    int64_t shape[ST_MAX_DIMS];
    uint64_t nel = 1;
    bool overflow = false;
    int i = 0;
    for (const cJSON *d = jshape->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_u64(d, &v))
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s: tensor '%s': shape[%d] is not a non-negative integer below 2^53", label, name,
                                   i);
        shape[i] = (int64_t)v;
        if (__builtin_mul_overflow(nel, v, &nel)) overflow = true;
    }
    /* a 0 dimension makes the product 0 whatever overflowed before it */
    for (i = 0; i < ndim; i++)
        if (shape[i] == 0) overflow = false, nel = 0;
    size_t esize = k_dtypes[dtype].size;
    uint64_t nbytes = 0;
    if (overflow || nel > (uint64_t)INT64_MAX || __builtin_mul_overflow(nel, (uint64_t)esize, &nbytes) ||
        nbytes > (uint64_t)SIZE_MAX)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': shape size overflows 64 bits", label, name);
    if (!cJSON_IsArray(joff) || cJSON_GetArraySize(joff) != 2)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': data_offsets is not an array of 2 integers",
                               label, name);
    uint64_t begin, end;
    if (!json_u64(joff->child, &begin) || !json_u64(joff->child->next, &end))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: tensor '%s': data_offsets are not non-negative integers below 2^53", label, name);
    if (end < begin)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", label, name,
                               (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: tensor '%s': data_offsets [%llu, %llu] out of range: the data region has %llu "
                               "bytes",
                               label, name, (unsigned long long)begin, (unsigned long long)end,
                               (unsigned long long)data_size);
    if (end - begin != nbytes)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: tensor '%s': shape x dtype %s = %llu bytes but data_offsets [%llu, %llu] span "
                               "%llu bytes",
                               label, name, k_dtypes[dtype].name, (unsigned long long)nbytes,
                               (unsigned long long)begin, (unsigned long long)end, (unsigned long long)(end - begin));

    if (!grow((void **)&st->tensors, &st->cap_tensors, st->ntensors + 1, sizeof(st_tensor)))
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: out of memory", label);
    st_tensor *t = &st->tensors[st->ntensors];
    memset(t, 0, sizeof *t);
    t->name = st_strdup(name);
    t->shape = ndim ? malloc((size_t)ndim * sizeof(int64_t)) : NULL;
    if (!t->name || (ndim && !t->shape)) {
        tensor_free(t);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: out of memory", label);
    }
    if (ndim) memcpy(t->shape, shape, (size_t)ndim * sizeof(int64_t));
    t->dtype = (accel_st_dtype)dtype;
    t->ndim = ndim;
    t->nelements = (int64_t)nel;
    t->nbytes = (size_t)nbytes;
    t->begin = begin;
    t->end = end;
    t->data = data_region + begin;
    t->file = file;
    st->ntensors++;
    return ACCEL_OK;
}

static accel_status parse_metadata(accel_st *st, int file, const char *label, const cJSON *meta) {
    if (!cJSON_IsObject(meta))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: __metadata__ is not a JSON object", label);
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: __metadata__ value of '%s' is not a string", label,
                                   m->string);
        if (!grow((void **)&st->meta, &st->cap_meta, st->nmeta + 1, sizeof(st_meta)))
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: out of memory", label);
        st_meta *e = &st->meta[st->nmeta];
        e->key = st_strdup(m->string);
        e->value = st_strdup(m->valuestring);
        e->file = file;
        e->order = st->nmeta;
        if (!e->key || !e->value) {
            free(e->key);
            free(e->value);
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: out of memory", label);
        }
        st->nmeta++;
    }
    return ACCEL_OK;
}

static int cmp_offsets(const void *a, const void *b) {
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Parses the file st->files[file] (already in memory) and appends its tensors and metadata. */
static accel_status parse_file(accel_st *st, int file) {
    const st_file *f = &st->files[file];
    const char *label = f->path;
    const uint8_t *buf = f->base;
    size_t size = f->size;
    if (size < 8)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: truncated file: %zu bytes, less than the 8-byte header length", label, size);
    uint64_t n = read_le64(buf);
    if (n > ACCEL_ST_MAX_HEADER)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header length %llu exceeds the limit of %llu bytes",
                               label, (unsigned long long)n, (unsigned long long)ACCEL_ST_MAX_HEADER);
    if (n > size - 8)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: header length %llu is larger than the file (%zu bytes after the length; "
                               "truncated file?)",
                               label, (unsigned long long)n, size - 8);
    if (n < 2)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header length %llu is too small for a JSON object",
                               label, (unsigned long long)n);
    const uint8_t *hdr = buf + 8;
    size_t bad = utf8_invalid_at(hdr, (size_t)n);
    if (bad != SIZE_MAX)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header is not valid UTF-8 (byte 0x%02x at header byte %zu)",
                               label, hdr[bad], bad);
    if (hdr[0] != '{')
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header does not start with '{'", label);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)hdr, (size_t)n, &end, 0);
    if (!root) {
        size_t at = (end && end >= (const char *)hdr) ? (size_t)(end - (const char *)hdr) : 0;
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header is not valid JSON (error near header byte %zu)",
                               label, at);
    }
    accel_status s = ACCEL_OK;
    for (const char *p = end; p < (const char *)hdr + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                "%s: header has trailing data after the JSON object (header byte %zu)", label,
                                (size_t)(p - (const char *)hdr));
            goto done;
        }
    }
    if (!cJSON_IsObject(root)) {
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: header is not a JSON object", label);
        goto done;
    }
    const uint8_t *data_region = hdr + n;
    uint64_t data_size = (uint64_t)(size - 8 - (size_t)n);
    int first = st->ntensors;
    bool seen_meta = false;
    for (const cJSON *e = root->child; e && s == ACCEL_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta) {
                s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: duplicate key \"__metadata__\"", label);
                break;
            }
            seen_meta = true;
            s = parse_metadata(st, file, label, e);
        } else {
            s = parse_tensor(st, file, label, e, data_region, data_size);
        }
    }
    if (s != ACCEL_OK) goto done;

    /* layout: sorted by offsets, contiguous from 0 to the end of the file (the Rust crate's rule) */
    st_tensor *ts = st->tensors + first;
    int cnt = st->ntensors - first;
    if (cnt > 1) qsort(ts, (size_t)cnt, sizeof *ts, cmp_offsets);
    uint64_t expect = 0;
    for (int i = 0; i < cnt; i++) {
        if (ts[i].begin < expect) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' [%llu, %llu]", label,
                                ts[i].name, (unsigned long long)ts[i].begin, (unsigned long long)ts[i].end,
                                ts[i - 1].name, (unsigned long long)ts[i - 1].begin,
                                (unsigned long long)ts[i - 1].end);
            goto done;
        }
        if (ts[i].begin > expect) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                "%s: tensor '%s': hole of %llu unused bytes before data_offsets [%llu, %llu] (tensors "
                                "must be contiguous)",
                                label, ts[i].name, (unsigned long long)(ts[i].begin - expect),
                                (unsigned long long)ts[i].begin, (unsigned long long)ts[i].end);
            goto done;
        }
        expect = ts[i].end;
    }
    if (expect != data_size)
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                            "%s: the tensors cover %llu bytes of the %llu-byte data region (%llu trailing bytes)",
                            label, (unsigned long long)expect, (unsigned long long)data_size,
                            (unsigned long long)(data_size - expect));
done:
    cJSON_Delete(root);
    return s;
}

/* ---- handle ----------------------------------------------------------------------------------------------- */

static accel_st *st_new(void) {
    accel_st *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void accel_st_close(accel_st *st) {
    if (!st) return;
    for (int i = 0; i < st->nfiles; i++) {
        if (st->files[i].mapped && st->files[i].size) munmap((void *)st->files[i].base, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    for (int i = 0; i < st->ntensors; i++) tensor_free(&st->tensors[i]);
    free(st->tensors);
    free(st->by_name);
    for (int i = 0; i < st->nmeta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    for (int i = 0; i < st->nowned; i++) free(st->owned[i]);
    free(st->owned);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static accel_status add_file(accel_st *st, const char *path, const void *base, size_t size, bool mapped) {
    st_file *nf = realloc(st->files, (size_t)(st->nfiles + 1) * sizeof *nf);
    if (!nf) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    st->files = nf;
    st_file *f = &st->files[st->nfiles];
    f->path = st_strdup(path);
    if (!f->path) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    f->base = base;
    f->size = size;
    f->mapped = mapped;
    st->nfiles++;
    return ACCEL_OK;
}

/* Maps path read-only and appends it to st->files. missing_status: what ENOENT becomes. */
static accel_status map_file(accel_st *st, const char *path, accel_status missing_status, const char *missing_what) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) return accel_set_error(missing_status, "%s: %s (%s)", path, missing_what, strerror(e));
        return accel_set_error(ACCEL_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return accel_set_error(ACCEL_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return accel_set_error(ACCEL_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return accel_set_error(ACCEL_ERR_IO, "%s: file too large to map", path);
    }
    size_t size = (size_t)sb.st_size;
    void *base = NULL;
    if (size > 0) {
        base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int e = errno;
            close(fd);
            return accel_set_error(ACCEL_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, size, strerror(e));
        }
    }
    close(fd);
    static const uint8_t empty[1];
    accel_status s = add_file(st, path, size ? base : empty, size, size > 0);
    if (s != ACCEL_OK && base) munmap(base, size);
    return s;
}

static int cmp_name_idx_r(const void *a, const void *b, void *ctx) {
    const accel_st *st = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    int c = strcmp(st->tensors[x].name, st->tensors[y].name);
    if (c) return c;
    return st->tensors[x].file - st->tensors[y].file;
}

static int cmp_meta(const void *a, const void *b) {
    const st_meta *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->order - y->order;
}

/* Sorts names, rejects duplicates, sorts and merges metadata. */
static accel_status finish(accel_st *st) {
    if (st->ntensors) {
        st->by_name = malloc((size_t)st->ntensors * sizeof(int));
        if (!st->by_name) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        for (int i = 0; i < st->ntensors; i++) st->by_name[i] = i;
        qsort_r(st->by_name, (size_t)st->ntensors, sizeof(int), cmp_name_idx_r, st);
        for (int i = 1; i < st->ntensors; i++) {
            const st_tensor *a = &st->tensors[st->by_name[i - 1]], *b = &st->tensors[st->by_name[i]];
            if (strcmp(a->name, b->name) == 0) {
                if (a->file == b->file)
                    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: duplicate tensor name '%s'",
                                           st->files[a->file].path, a->name);
                return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tensor '%s' is in two shards: %s and %s", a->name,
                                       st->files[a->file].path, st->files[b->file].path);
            }
        }
    }
    if (st->nmeta > 1) {
        qsort(st->meta, (size_t)st->nmeta, sizeof(st_meta), cmp_meta);
        int w = 1;
        for (int i = 1; i < st->nmeta; i++) {
            st_meta *prev = &st->meta[w - 1], *cur = &st->meta[i];
            if (strcmp(prev->key, cur->key) == 0) {
                if (prev->file == cur->file)
                    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: duplicate __metadata__ key '%s'",
                                           st->files[cur->file].path, cur->key);
                free(cur->key); /* a later shard repeating a key: the first shard's value wins */
                free(cur->value);
                continue;
            }
            st->meta[w++] = *cur;
        }
        st->nmeta = w;
    }
    return ACCEL_OK;
}

static bool is_big_endian(void) {
    const uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b == 0;
}

accel_status accel_st_open_memory(const void *data, size_t size, const char *label, accel_st **out) {
    if (out) *out = NULL;
    if (!out || (!data && size))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_open_memory: NULL argument");
    if (is_big_endian()) return accel_set_error(ACCEL_ERR_UNSUPPORTED, "safetensors: big-endian hosts are not supported");
    accel_st *st = st_new();
    if (!st) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    static const uint8_t empty[1];
    accel_status s = add_file(st, label ? label : "<memory>", size ? data : empty, size, false);
    if (s == ACCEL_OK) s = parse_file(st, 0);
    if (s == ACCEL_OK) s = finish(st);
    if (s != ACCEL_OK) {
        accel_st_close(st);
        return s;
    }
    *out = st;
    return ACCEL_OK;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str_ptr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static accel_status open_index(accel_st *st, const char *index_path) {
    accel_status s = map_file(st, index_path, ACCEL_ERR_NOT_FOUND, "no such file");
    if (s != ACCEL_OK) return s;
    /* the index is mapped as file 0 only while parsing; it is dropped from st->files afterwards */
    st_file idx = st->files[0];
    st->nfiles = 0;
    cJSON *root = NULL;
    char **shards = NULL;
    char *dir = NULL, *path = NULL;
    int nshards = 0;
    if (idx.size > ST_MAX_INDEX_BYTES) {
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: index is larger than %llu bytes", idx.path,
                            (unsigned long long)ST_MAX_INDEX_BYTES);
        goto done;
    }
    size_t bad = utf8_invalid_at(idx.base, idx.size);
    if (bad != SIZE_MAX) {
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: index is not valid UTF-8 (byte %zu)", idx.path, bad);
        goto done;
    }
    root = cJSON_ParseWithLength((const char *)idx.base, idx.size);
    if (!root || !cJSON_IsObject(root)) {
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: index is not a JSON object", idx.path);
        goto done;
    }
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) {
        s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: index has no \"weight_map\" object", idx.path);
        goto done;
    }
    int nent = cJSON_GetArraySize(wm);
    if (nent > 0) {
        shards = malloc((size_t)nent * sizeof(char *));
        if (!shards) {
            s = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: weight_map entry '%s' is not a string", idx.path,
                                e->string);
            goto done;
        }
        const char *sh = e->valuestring;
        if (!sh[0] || strchr(sh, '/') || strcmp(sh, ".") == 0 || strcmp(sh, "..") == 0) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                "%s: weight_map entry '%s' names shard '%s', which is not a plain file name",
                                idx.path, e->string, sh);
            goto done;
        }
        shards[nshards++] = e->valuestring;
    }
    /* duplicate tensor names in the weight map */
    if (nent > 1) {
        const char **names = malloc((size_t)nent * sizeof(char *));
        if (!names) {
            s = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        int k = 0;
        for (const cJSON *e = wm->child; e; e = e->next) names[k++] = e->string;
        qsort(names, (size_t)k, sizeof(char *), cmp_str_ptr);
        for (int i = 1; i < k; i++)
            if (strcmp(names[i - 1], names[i]) == 0) {
                s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: weight_map lists tensor '%s' twice", idx.path,
                                    names[i]);
                break;
            }
        free(names);
        if (s != ACCEL_OK) goto done;
    }
    /* distinct shards, in name order */
    if (nshards > 1) qsort(shards, (size_t)nshards, sizeof(char *), cmp_str_ptr);
    int w = 0;
    for (int i = 0; i < nshards; i++)
        if (w == 0 || strcmp(shards[w - 1], shards[i]) != 0) shards[w++] = shards[i];
    nshards = w;
    dir = st_strdup(idx.path);
    if (!dir) {
        s = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = '\0';
    else dir[0] = '\0';
    for (int i = 0; i < nshards; i++) {
        size_t len = strlen(dir) + strlen(shards[i]) + 1;
        free(path);
        path = malloc(len);
        if (!path) {
            s = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        snprintf(path, len, "%s%s", dir, shards[i]);
        char what[600];
        snprintf(what, sizeof what, "shard '%.256s' named by the index %.300s is missing", shards[i], idx.path);
        s = map_file(st, path, ACCEL_ERR_MODEL_FORMAT, what);
        if (s == ACCEL_OK) s = parse_file(st, st->nfiles - 1);
        if (s != ACCEL_OK) goto done;
    }
    s = finish(st);
    if (s != ACCEL_OK) goto done;
    /* every weight_map entry is in the shard it names */
    for (const cJSON *e = wm->child; e; e = e->next) {
        int ti = accel_st_find(st, e->string);
        if (ti < 0) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s' is not in shard '%s'", idx.path, e->string,
                                e->valuestring);
            goto done;
        }
        const char *fp = st->files[st->tensors[ti].file].path;
        if (!ends_with(fp, e->valuestring) || strlen(fp) != strlen(dir) + strlen(e->valuestring)) {
            s = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s' is in %s, not in shard '%s' as the index says",
                                idx.path, e->string, fp, e->valuestring);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    free(shards);
    free(dir);
    free(path);
    if (idx.mapped) munmap((void *)idx.base, idx.size);
    free(idx.path);
    return s;
}

accel_status accel_st_open(const char *path_or_dir, accel_st **out) {
    if (out) *out = NULL;
    if (!path_or_dir || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_open: NULL argument");
    if (is_big_endian()) return accel_set_error(ACCEL_ERR_UNSUPPORTED, "safetensors: big-endian hosts are not supported");
    struct stat sb;
    if (stat(path_or_dir, &sb) != 0) {
        int e = errno;
        return accel_set_error(e == ENOENT || e == ENOTDIR ? ACCEL_ERR_NOT_FOUND : ACCEL_ERR_IO, "%s: %s",
                               path_or_dir, strerror(e));
    }
    accel_st *st = st_new();
    if (!st) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    accel_status s;
    char *p = NULL;
    if (S_ISDIR(sb.st_mode)) {
        size_t len = strlen(path_or_dir) + 40;
        p = malloc(len);
        if (!p) {
            accel_st_close(st);
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        }
        const char *sep = ends_with(path_or_dir, "/") ? "" : "/";
        snprintf(p, len, "%s%smodel.safetensors", path_or_dir, sep);
        struct stat fb;
        if (stat(p, &fb) == 0) {
            s = map_file(st, p, ACCEL_ERR_NOT_FOUND, "no such file");
            if (s == ACCEL_OK) s = parse_file(st, 0);
            if (s == ACCEL_OK) s = finish(st);
        } else {
            snprintf(p, len, "%s%smodel.safetensors.index.json", path_or_dir, sep);
            if (stat(p, &fb) == 0) {
                s = open_index(st, p);
            } else {
                s = accel_set_error(ACCEL_ERR_NOT_FOUND,
                                    "%s: directory has neither model.safetensors nor model.safetensors.index.json",
                                    path_or_dir);
            }
        }
    } else if (ends_with(path_or_dir, ".json")) {
        s = open_index(st, path_or_dir);
    } else {
        s = map_file(st, path_or_dir, ACCEL_ERR_NOT_FOUND, "no such file");
        if (s == ACCEL_OK) s = parse_file(st, 0);
        if (s == ACCEL_OK) s = finish(st);
    }
    free(p);
    if (s != ACCEL_OK) {
        accel_st_close(st);
        return s;
    }
    *out = st;
    return ACCEL_OK;
}

/* ---- queries ---------------------------------------------------------------------------------------------- */

int accel_st_count(const accel_st *st) { return st ? st->ntensors : 0; }

accel_status accel_st_info_get(const accel_st *st, int i, accel_st_info *info) {
    if (!st || !info) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_info_get: NULL argument");
    if (i < 0 || i >= st->ntensors)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_info_get: index %d out of range [0, %d)", i,
                               st->ntensors);
    const st_tensor *t = &st->tensors[i];
    const st_file *f = &st->files[t->file];
    info->name = t->name;
    info->dtype = t->dtype;
    info->ndim = t->ndim;
    info->shape = t->shape;
    info->nelements = t->nelements;
    info->nbytes = t->nbytes;
    info->data = t->data;
    info->file = f->path;
    info->file_offset = (uint64_t)(t->data - f->base);
    return ACCEL_OK;
}

int accel_st_find(const accel_st *st, const char *name) {
    if (!st || !name) return -1;
    int lo = 0, hi = st->ntensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[st->by_name[mid]].name, name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int accel_st_metadata_count(const accel_st *st) { return st ? st->nmeta : 0; }

accel_status accel_st_metadata_get(const accel_st *st, int i, const char **key, const char **value) {
    if (!st) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_metadata_get: NULL handle");
    if (i < 0 || i >= st->nmeta)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_metadata_get: index %d out of range [0, %d)", i,
                               st->nmeta);
    if (key) *key = st->meta[i].key;
    if (value) *value = st->meta[i].value;
    return ACCEL_OK;
}

const char *accel_st_metadata_find(const accel_st *st, const char *key) {
    if (!st || !key) return NULL;
    int lo = 0, hi = st->nmeta - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->meta[mid].key, key);
        if (c == 0) return st->meta[mid].value;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* ---- conversion ------------------------------------------------------------------------------------------- */

static int64_t load_int(const uint8_t *p, accel_st_dtype d) {
    switch (d) {
    case ACCEL_ST_I8: return (int8_t)p[0];
    case ACCEL_ST_U8:
    case ACCEL_ST_BOOL: return p[0];
    case ACCEL_ST_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case ACCEL_ST_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    case ACCEL_ST_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    default: return 0;
    }
}

static float load_float(const uint8_t *p, accel_st_dtype d) {
    uint16_t h;
    float f;
    switch (d) {
    case ACCEL_ST_F32: memcpy(&f, p, 4); return f;
    case ACCEL_ST_F16: memcpy(&h, p, 2); return accel_f16_to_f32(h);
    case ACCEL_ST_BF16: memcpy(&h, p, 2); return accel_bf16_to_f32(h);
    default: return 0.0f;
    }
}

static bool st_is_float(accel_st_dtype d) { return d == ACCEL_ST_F32 || d == ACCEL_ST_F16 || d == ACCEL_ST_BF16; }

static accel_status convert(const accel_st *st, const st_tensor *t, accel_dtype dtype, void *dst, size_t dst_bytes) {
    const char *label = st->files[t->file].path;
    size_t osize = accel_dtype_size(dtype);
    bool src_float = st_is_float(t->dtype);
    bool ok;
    if (dtype == ACCEL_F32 || dtype == ACCEL_F16 || dtype == ACCEL_BF16) ok = src_float;
    else if (dtype == ACCEL_I32 || dtype == ACCEL_I64) ok = !src_float;
    else if (dtype == ACCEL_I8) ok = t->dtype == ACCEL_ST_I8 || t->dtype == ACCEL_ST_U8 || t->dtype == ACCEL_ST_BOOL;
    else ok = false;
    if (!ok || osize == 0)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: tensor '%s': no conversion from %s to %s", label, t->name,
                               accel_st_dtype_name(t->dtype), accel_dtype_name(dtype));
    size_t need;
    if (__builtin_mul_overflow((size_t)t->nelements, osize, &need))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: tensor '%s': size overflows", label, t->name);
    if (!dst && need) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_load_as: NULL destination");
    if (dst_bytes < need)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "%s: tensor '%s': destination has %zu bytes, %zu needed for %lld x %s", label, t->name,
                               dst_bytes, need, (long long)t->nelements, accel_dtype_name(dtype));
    accel_dtype same;
    if (accel_st_dtype_to_accel(t->dtype, &same) == ACCEL_OK && same == dtype) {
        if (need) memcpy(dst, t->data, need);
        accel_clear_error();
        return ACCEL_OK;
    }
    accel_clear_error();
    size_t isize = k_dtypes[t->dtype].size;
    uint8_t *o = dst;
    for (int64_t i = 0; i < t->nelements; i++) {
        const uint8_t *p = t->data + (size_t)i * isize;
        uint8_t *q = o + (size_t)i * osize;
        if (src_float) {
            float f = load_float(p, t->dtype);
            if (dtype == ACCEL_F32) memcpy(q, &f, 4);
            else {
                uint16_t h = dtype == ACCEL_F16 ? accel_f32_to_f16(f) : accel_f32_to_bf16(f);
                memcpy(q, &h, 2);
            }
            continue;
        }
        int64_t v = load_int(p, t->dtype);
        if (t->dtype == ACCEL_ST_BOOL && v > 1)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: tensor '%s': BOOL element %lld has byte value %lld",
                                   label, t->name, (long long)i, (long long)v);
        if (dtype == ACCEL_I64) {
            memcpy(q, &v, 8);
        } else if (dtype == ACCEL_I32) {
            if (v < INT32_MIN || v > INT32_MAX)
                return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: tensor '%s': element %lld = %lld does not fit i32",
                                       label, t->name, (long long)i, (long long)v);
            int32_t w = (int32_t)v;
            memcpy(q, &w, 4);
        } else { /* I8 */
            if (v > INT8_MAX)
                return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: tensor '%s': element %lld = %lld does not fit i8",
                                       label, t->name, (long long)i, (long long)v);
            q[0] = (uint8_t)(int8_t)v;
        }
    }
    return ACCEL_OK;
}

accel_status accel_st_load_as(const accel_st *st, const char *name, accel_dtype dtype, void *dst, size_t dst_bytes) {
    if (!st || !name) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_load_as: NULL argument");
    int i = accel_st_find(st, name);
    if (i < 0) return accel_set_error(ACCEL_ERR_NOT_FOUND, "safetensors: no tensor named '%s'", name);
    return convert(st, &st->tensors[i], dtype, dst, dst_bytes);
}

accel_status accel_st_bind(accel_st *st, const char *name, accel_tensor *t) {
    if (!st || !name || !t) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_st_bind: NULL argument");
    int i = accel_st_find(st, name);
    if (i < 0) return accel_set_error(ACCEL_ERR_NOT_FOUND, "safetensors: no tensor named '%s'", name);
    const st_tensor *s = &st->tensors[i];
    const char *label = st->files[s->file].path;
    if (t->op != ACCEL_OP_NONE)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "tensor '%s': only graph leaves can be bound", name);
    bool same_shape = t->ndim == s->ndim;
    for (int d = 0; same_shape && d < s->ndim; d++) same_shape = t->shape[d] == s->shape[d];
    if (!same_shape) {
        char a[256] = "", b[256] = "";
        size_t la = 0, lb = 0;
        for (int d = 0; d < s->ndim && la < sizeof a - 24; d++)
            la += (size_t)snprintf(a + la, sizeof a - la, "%s%lld", d ? ", " : "", (long long)s->shape[d]);
        for (int d = 0; d < t->ndim && lb < sizeof b - 24; d++)
            lb += (size_t)snprintf(b + lb, sizeof b - lb, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "%s: tensor '%s' has shape [%s], the graph leaf has [%s]", label,
                               name, a, b);
    }
    accel_dtype same;
    bool match = accel_st_dtype_to_accel(s->dtype, &same) == ACCEL_OK && same == t->dtype;
    accel_clear_error();
    size_t esize = k_dtypes[s->dtype].size;
    if (match && ((uintptr_t)s->data % esize) == 0) {
        accel_status r = accel_tensor_set_external(t, (void *)s->data, s->nbytes);
        if (r == ACCEL_OK) accel_tensor_set_weight(t);
        return r;
    }
    size_t bytes = accel_tensor_bytes_contiguous(t);
    void *buf = NULL;
    if (posix_memalign(&buf, 64, bytes ? bytes : 1) != 0)
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: tensor '%s': cannot allocate %zu bytes", label, name,
                               bytes);
    accel_status r = convert(st, s, t->dtype, buf, bytes);
    if (r == ACCEL_OK) {
        pthread_mutex_lock(&st->lock);
        if (!grow((void **)&st->owned, &st->cap_owned, st->nowned + 1, sizeof(void *)))
            r = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        else
            st->owned[st->nowned++] = buf;
        pthread_mutex_unlock(&st->lock);
    }
    if (r != ACCEL_OK) {
        free(buf);
        return r;
    }
    r = accel_tensor_set_external(t, buf, bytes);
    if (r == ACCEL_OK) accel_tensor_set_weight(t);
    return r;
}
