/* model_test_util.c — see model_test_util.h. */
#include "model_test_util.h"

#include "io/json_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *mt_fixture(char *buf, size_t cap, const char *family, const char *sub) {
    const char *env = getenv("ACCEL_FIXTURES_DIR");
    snprintf(buf, cap, "%s/models/%s/%s", env && *env ? env : ACCEL_FIXTURES_DIR, family, sub);
    return buf;
}

const char *mt_models_dir(char *buf, size_t cap, const char *name) {
    const char *env = getenv("ACCEL_MODELS_DIR");
    if (env && *env)
        snprintf(buf, cap, "%s/%s", env, name);
    else
        snprintf(buf, cap, "%s/.cache/models/%s", ACCEL_SOURCE_DIR, name);
    return buf;
}

static void *load_as(const accel_st *st, const char *name, accel_dtype dtype, size_t esize, size_t *n) {
    int i = accel_st_find(st, name);
    accel_st_info info;
    if (i < 0 || accel_st_info_get(st, i, &info) != ACCEL_OK) {
        fprintf(stderr, "  expected tensor '%s' not found\n", name);
        return NULL;
    }
    void *p = malloc((size_t)info.nelements * esize + 1);
    if (!p || accel_st_load_as(st, name, dtype, p, (size_t)info.nelements * esize) != ACCEL_OK) {
        fprintf(stderr, "  cannot load '%s': %s\n", name, accel_last_error());
        free(p);
        return NULL;
    }
    if (n) *n = (size_t)info.nelements;
    return p;
}

float *mt_load_f32(const accel_st *st, const char *name, size_t *n) { return load_as(st, name, ACCEL_F32, 4, n); }
int32_t *mt_load_i32(const accel_st *st, const char *name, size_t *n) { return load_as(st, name, ACCEL_I32, 4, n); }

int mt_shape(const accel_st *st, const char *name, int64_t *shape) {
    int i = accel_st_find(st, name);
    accel_st_info info;
    if (i < 0 || accel_st_info_get(st, i, &info) != ACCEL_OK || info.ndim > 6) return -1;
    for (int d = 0; d < info.ndim; d++) shape[d] = info.shape[d];
    return info.ndim;
}

double mt_rel_err(const float *got, const float *want, size_t n) {
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= max_diff)) max_diff = d; /* NaN propagates */
        if (fabs((double)want[i]) > max_ref) max_ref = fabs((double)want[i]);
    }
    return max_ref > 0 ? max_diff / max_ref : max_diff;
}

double mt_cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

char *mt_tempdir(const char *tag) {
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/accel-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    char *p = mkdtemp(tmpl);
    return p ? strdup(p) : NULL;
}

bool mt_mkdir(const char *path) { return mkdir(path, 0755) == 0; }

void mt_rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            struct stat sb;
            if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
                mt_rm_rf(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static bool copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    bool ok = in && out;
    char buf[1 << 16];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = false;
    return ok;
}

static bool copy_tree(const char *src, const char *dst, int depth) {
    DIR *d = opendir(src);
    if (!d) return false;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char s[4096], t[4096];
        snprintf(s, sizeof s, "%s/%s", src, e->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name);
        struct stat sb;
        if (stat(s, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth > 0) ok = mkdir(t, 0755) == 0 && copy_tree(s, t, depth - 1);
        } else if (S_ISREG(sb.st_mode)) {
            ok = copy_file(s, t);
        }
    }
    closedir(d);
    return ok;
}

bool mt_copy_dir(const char *src, const char *dst) { return copy_tree(src, dst, 1); }

bool mt_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok;
}

bool mt_config_set(const char *dir, const char *key, const char *json) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *root = NULL;
    if (accel_json_parse_file(path, 0, &root) != ACCEL_OK) return false;
    cJSON_DeleteItemFromObjectCaseSensitive(root, key);
    bool ok = true;
    if (json) {
        cJSON *v = cJSON_Parse(json);
        ok = v && cJSON_AddItemToObject(root, key, v);
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    ok = text && mt_write_file(path, text);
    free(text);
    cJSON_Delete(root);
    return ok;
}

bool mt_write_safetensors(const char *path, const mt_tensor *t, int n) {
    cJSON *hdr = cJSON_CreateObject();
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
        cJSON_AddStringToObject(e, "dtype", accel_st_dtype_name(t[i].dtype));
        for (int d = 0; d < t[i].ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + t[i].nbytes)));
        cJSON_AddItemToObject(e, "data_offsets", offs);
        cJSON_AddItemToObject(hdr, t[i].name, e);
        off += t[i].nbytes;
    }
    char *text = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    if (!text) return false;
    size_t hlen = strlen(text), padded = (hlen + 7) / 8 * 8; /* keeps the data 8-byte aligned */
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL;
    uint64_t len64 = padded; /* little-endian hosts only (as the test machines) */
    ok = ok && fwrite(&len64, 8, 1, f) == 1 && fwrite(text, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    for (int i = 0; ok && i < n; i++) ok = fwrite(t[i].data, 1, t[i].nbytes, f) == t[i].nbytes;
    if (f && fclose(f) != 0) ok = false;
    free(text);
    return ok;
}

bool mt_rewrite_checkpoint(const char *src_dir, const char *dir, const char *drop, const char *shrink) {
    accel_st *st = NULL;
    if (accel_st_open(src_dir, &st) != ACCEL_OK) return false;
    int n = accel_st_count(st), k = 0;
    mt_tensor *t = calloc((size_t)n, sizeof *t);
    bool ok = t != NULL;
    for (int i = 0; ok && i < n; i++) {
        accel_st_info info;
        ok = accel_st_info_get(st, i, &info) == ACCEL_OK;
        if (!ok || (drop && strcmp(info.name, drop) == 0)) continue;
        mt_tensor *x = &t[k++];
        x->name = info.name;
        x->dtype = info.dtype;
        x->ndim = info.ndim;
        for (int d = 0; d < info.ndim; d++) x->shape[d] = info.shape[d];
        x->data = info.data;
        x->nbytes = info.nbytes;
        if (shrink && strcmp(info.name, shrink) == 0 && info.ndim >= 1 && info.shape[0] > 1) {
            x->nbytes /= (size_t)info.shape[0];
            x->shape[0] = 1;
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ok = ok && mt_write_safetensors(path, t, k);
    free(t);
    accel_st_close(st);
    return ok;
}
