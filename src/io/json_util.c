/* JSON helpers over cJSON: file reading with a cap, UTF-8 validation, path lookup, typed getters. */
#include "io/json_util.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------------------------------------------- */

accel_status accel_json_read_file(const char *path, size_t max_bytes, char **out_text, size_t *out_len) {
    if (out_text) *out_text = NULL;
    if (out_len) *out_len = 0;
    if (!path || !out_text || !out_len) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_json_read_file: NULL argument");
    if (max_bytes == 0) max_bytes = ACCEL_JSON_DEFAULT_MAX_BYTES;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: file not found", path);
        return accel_set_error(ACCEL_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return accel_set_error(ACCEL_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return accel_set_error(ACCEL_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > (unsigned long long)max_bytes) {
        close(fd);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: file is %lld bytes, over the limit of %zu bytes", path,
                               (long long)st.st_size, max_bytes);
    }
    /* The size may change while we read: read up to max_bytes + 1 and check again. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, cap + 1);
    }
    for (;;) {
        if (len == cap) {
            if (cap > max_bytes) break; /* read max_bytes + 1 bytes: too big */
            size_t ncap = cap > max_bytes / 2 ? max_bytes + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, ncap + 1);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return accel_set_error(ACCEL_ERR_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max_bytes) {
        free(buf);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: file is over the limit of %zu bytes", path, max_bytes);
    }
    buf[len] = '\0';
    *out_text = buf;
    *out_len = len;
    return ACCEL_OK;
}

bool accel_json_utf8_check(const char *s, size_t n, size_t *bad_offset) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto bad; /* NUL, continuation byte, C0/C1 overlong leads, F5..FF */
        }
        if (n - i - 1 < need) goto bad;
        for (size_t k = 1; k <= need; k++) {
            unsigned cc = p[i + k];
            if ((cc & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_offset) *bad_offset = i;
    return false;
}

/* 1-based line and column (in bytes) of offset off in text. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col) {
    size_t l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

accel_status accel_json_parse_text(const char *label, const char *text, size_t len, cJSON **out) {
    if (out) *out = NULL;
    if (!text || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_json_parse_text: NULL argument");
    if (!label) label = "(json)";
    size_t bad = 0;
    if (!accel_json_utf8_check(text, len, &bad)) {
        size_t line, col;
        line_col(text, bad, &line, &col);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: invalid UTF-8 (or NUL) at byte %zu (line %zu, column %zu): byte 0x%02X", label,
                               bad, line, col, (unsigned)(unsigned char)text[bad]);
    }
    size_t start = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) start = 3; /* byte order mark */
    const char *end = NULL;
    /* require_null_terminated is not used: cJSON 1.7.15 then demands a NUL inside the given length. Trailing
     * content is checked here instead. */
    cJSON *root = cJSON_ParseWithLengthOpts(text + start, len - start, &end, 0);
    if (root) {
        size_t off = (end && end >= text && end <= text + len) ? (size_t)(end - text) : len;
        while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r')) off++;
        if (off < len) {
            cJSON_Delete(root);
            size_t line, col;
            line_col(text, off, &line, &col);
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s: malformed JSON: unexpected content after the value at line %zu, column %zu",
                                   label, line, col);
        }
    }
    if (!root) {
        size_t off = (end && end >= text && end <= text + len) ? (size_t)(end - text) : len;
        size_t line, col;
        line_col(text, off, &line, &col);
        if (off >= len)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: malformed JSON: unexpected end of file (line %zu)",
                                   label, line);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: malformed JSON (or nesting deeper than %d) at line %zu, column %zu", label,
                               CJSON_NESTING_LIMIT, line, col);
    }
    if (!cJSON_IsObject(root)) {
        const char *t = accel_json_type_name(root);
        cJSON_Delete(root);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: top-level value is %s, expected an object", label, t);
    }
    *out = root;
    return ACCEL_OK;
}

accel_status accel_json_parse_file(const char *path, size_t max_bytes, cJSON **out) {
    if (out) *out = NULL;
    char *text = NULL;
    size_t len = 0;
    accel_status st = accel_json_read_file(path, max_bytes, &text, &len);
    if (st != ACCEL_OK) return st;
    st = accel_json_parse_text(path, text, len, out);
    free(text);
    return st;
}

/* ---- lookup ------------------------------------------------------------------------------------------------ */

const char *accel_json_type_name(const cJSON *v) {
    if (!v) return "absent";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "invalid";
}

const cJSON *accel_json_member(const cJSON *obj, const char *key, size_t key_len) {
    if (!cJSON_IsObject(obj) || !key) return NULL;
    const cJSON *found = NULL;
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (it->string && strlen(it->string) == key_len && memcmp(it->string, key, key_len) == 0) found = it;
    }
    return found;
}

/* Writes "<prefix>.<path>" (or the one that is non-empty) into buf. */
static void full_path(const accel_json_ctx *c, const char *path, char *buf, size_t cap) {
    const char *pre = (c && c->prefix) ? c->prefix : "";
    if (!path) path = "";
    if (pre[0] && path[0])
        snprintf(buf, cap, "%s%s%s", pre, path[0] == '[' ? "" : ".", path);
    else
        snprintf(buf, cap, "%s%s", pre, path);
}

accel_status accel_json_error(const accel_json_ctx *c, const char *path, accel_status status, const char *fmt, ...) {
    char fp[512], what[512];
    full_path(c, path, fp, sizeof fp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return accel_set_error(status, "%s: key '%s' %s", (c && c->file) ? c->file : "(json)", fp, what);
}

/* Whether path follows the syntax key(.key|[n])* with non-empty keys. */
static bool path_ok(const char *p) {
    if (!*p || *p == '.' || *p == '[') return false;
    while (*p) {
        size_t klen = strcspn(p, ".[]");
        if (p[klen] == ']') return false;
        p += klen;
        while (*p == '[') {
            p++;
            if (*p < '0' || *p > '9') return false;
            while (*p >= '0' && *p <= '9') p++;
            if (*p++ != ']') return false;
        }
        if (*p == '.') {
            p++;
            if (!*p || *p == '.' || *p == '[') return false;
        } else if (*p) {
            return false;
        }
    }
    return true;
}

/* accel_json_find; with keep_null an explicit final null is returned as the null node. */
static accel_status find_impl(const accel_json_ctx *c, const char *path, bool keep_null, const cJSON **out) {
    if (out) *out = NULL;
    if (!c || !c->obj || !path || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_json_find: NULL argument");
    const cJSON *cur = c->obj;
    const char *p = path;
    if (!path_ok(p)) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bad key path '%s'", path);
    while (*p) {
        /* one key */
        size_t klen = strcspn(p, ".[");
        if (klen == 0 && *p != '[') return accel_set_error(ACCEL_ERR_INVALID_ARG, "bad key path '%s'", path);
        if (klen > 0) {
            if (!cJSON_IsObject(cur)) {
                char sub[512];
                snprintf(sub, sizeof sub, "%.*s", (int)(p - path > 0 ? p - path - 1 : 0), path);
                return accel_json_error(c, sub, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an object",
                                        accel_json_type_name(cur));
            }
            cur = accel_json_member(cur, p, klen);
            p += klen;
            if (!cur) return ACCEL_OK; /* absent */
            if (cJSON_IsNull(cur)) {
                if (keep_null && !*p) *out = cur;
                return ACCEL_OK;
            }
        }
        /* indexes */
        while (*p == '[') {
            char *endp = NULL;
            errno = 0;
            unsigned long long idx = strtoull(p + 1, &endp, 10);
            if (endp == p + 1 || *endp != ']' || errno != 0 || p[1] == '-' || p[1] == '+')
                return accel_set_error(ACCEL_ERR_INVALID_ARG, "bad key path '%s'", path);
            if (!cJSON_IsArray(cur)) {
                char sub[512];
                snprintf(sub, sizeof sub, "%.*s", (int)(p - path), path);
                return accel_json_error(c, sub, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an array",
                                        accel_json_type_name(cur));
            }
            const cJSON *el = cur->child;
            for (unsigned long long k = 0; el && k < idx; k++) el = el->next;
            cur = el;
            p = endp + 1;
            if (!cur) return ACCEL_OK;
            if (cJSON_IsNull(cur)) {
                if (keep_null && !*p) *out = cur;
                return ACCEL_OK;
            }
        }
        if (*p == '.') {
            p++;
            if (!*p || *p == '.' || *p == '[') return accel_set_error(ACCEL_ERR_INVALID_ARG, "bad key path '%s'", path);
        } else if (*p) {
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "bad key path '%s'", path);
        }
    }
    *out = cur;
    return ACCEL_OK;
}

accel_status accel_json_find(const accel_json_ctx *c, const char *path, const cJSON **out) {
    return find_impl(c, path, false, out);
}

/* ---- conversions ------------------------------------------------------------------------------------------- */

accel_status accel_json_to_int(const accel_json_ctx *c, const char *path, const cJSON *v, int64_t *out) {
    if (!cJSON_IsNumber(v))
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an integer", accel_json_type_name(v));
    double d = v->valuedouble;
    /* 9223372036854775808.0 == 2^63 is the first double out of range. */
    if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %.17g, expected an integer", d);
    *out = (int64_t)d;
    return ACCEL_OK;
}

accel_status accel_json_to_double(const accel_json_ctx *c, const char *path, const cJSON *v, double *out) {
    if (!cJSON_IsNumber(v))
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a number", accel_json_type_name(v));
    if (!isfinite(v->valuedouble))
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is not a finite number");
    *out = v->valuedouble;
    return ACCEL_OK;
}

/* Common start of the getters: finds the value; returns ACCEL_OK with *v NULL when absent and not required. */
static accel_status find_value(const accel_json_ctx *c, const char *path, bool required, const cJSON **v,
                               bool *found) {
    if (found) *found = false;
    accel_status st = find_impl(c, path, true, v);
    if (st != ACCEL_OK) return st;
    if (!*v || cJSON_IsNull(*v)) {
        bool is_null = *v != NULL;
        *v = NULL;
        if (!required) return ACCEL_OK;
        if (is_null) return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is null, expected a value");
        char fp[512];
        full_path(c, path, fp, sizeof fp);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: missing key '%s'", (c && c->file) ? c->file : "(json)", fp);
    }
    if (found) *found = true;
    return ACCEL_OK;
}

accel_status accel_json_get_int(const accel_json_ctx *c, const char *path, bool required, int64_t def, int64_t *out,
                                bool *found) {
    const cJSON *v = NULL;
    bool f = false;
    accel_status st = find_value(c, path, required, &v, &f);
    if (st != ACCEL_OK) return st;
    int64_t x = def;
    if (v && (st = accel_json_to_int(c, path, v, &x)) != ACCEL_OK) return st;
    if (out) *out = x;
    if (found) *found = f;
    return ACCEL_OK;
}

accel_status accel_json_get_double(const accel_json_ctx *c, const char *path, bool required, double def, double *out,
                                   bool *found) {
    const cJSON *v = NULL;
    bool f = false;
    accel_status st = find_value(c, path, required, &v, &f);
    if (st != ACCEL_OK) return st;
    double x = def;
    if (v && (st = accel_json_to_double(c, path, v, &x)) != ACCEL_OK) return st;
    if (out) *out = x;
    if (found) *found = f;
    return ACCEL_OK;
}

accel_status accel_json_get_bool(const accel_json_ctx *c, const char *path, bool required, bool def, bool *out,
                                 bool *found) {
    const cJSON *v = NULL;
    bool f = false;
    accel_status st = find_value(c, path, required, &v, &f);
    if (st != ACCEL_OK) return st;
    bool x = def;
    if (v) {
        if (!cJSON_IsBool(v))
            return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a boolean",
                                    accel_json_type_name(v));
        x = cJSON_IsTrue(v);
    }
    if (out) *out = x;
    if (found) *found = f;
    return ACCEL_OK;
}

accel_status accel_json_get_string(const accel_json_ctx *c, const char *path, bool required, const char *def,
                                   const char **out, bool *found) {
    const cJSON *v = NULL;
    bool f = false;
    accel_status st = find_value(c, path, required, &v, &f);
    if (st != ACCEL_OK) return st;
    const char *x = def;
    if (v) {
        if (!cJSON_IsString(v) || !v->valuestring)
            return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected a string",
                                    accel_json_type_name(v));
        x = v->valuestring;
    }
    if (out) *out = x;
    if (found) *found = f;
    return ACCEL_OK;
}

static accel_status get_array(const accel_json_ctx *c, const char *path, bool required, bool ints, void **out,
                              size_t *n) {
    if (!out || !n) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_json_get_*_array: NULL argument");
    *out = NULL;
    *n = 0;
    const cJSON *v = NULL;
    accel_status st = find_value(c, path, required, &v, NULL);
    if (st != ACCEL_OK || !v) return st;
    if (!cJSON_IsArray(v))
        return accel_json_error(c, path, ACCEL_ERR_MODEL_FORMAT, "is %s, expected an array of %s",
                                accel_json_type_name(v), ints ? "integers" : "numbers");
    size_t count = 0;
    for (const cJSON *el = v->child; el; el = el->next) count++;
    if (count == 0) return ACCEL_OK;
    size_t esz = ints ? sizeof(int64_t) : sizeof(double);
    if (count > SIZE_MAX / esz) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "array too large");
    void *arr = malloc(count * esz);
    if (!arr) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cannot allocate an array of %zu elements", count);
    size_t i = 0;
    for (const cJSON *el = v->child; el; el = el->next, i++) {
        char ep[512];
        snprintf(ep, sizeof ep, "%s[%zu]", path, i);
        st = ints ? accel_json_to_int(c, ep, el, (int64_t *)arr + i) : accel_json_to_double(c, ep, el, (double *)arr + i);
        if (st != ACCEL_OK) {
            free(arr);
            return st;
        }
    }
    *out = arr;
    *n = count;
    return ACCEL_OK;
}

accel_status accel_json_get_int_array(const accel_json_ctx *c, const char *path, bool required, int64_t **out,
                                      size_t *n) {
    return get_array(c, path, required, true, (void **)out, n);
}

accel_status accel_json_get_double_array(const accel_json_ctx *c, const char *path, bool required, double **out,
                                         size_t *n) {
    return get_array(c, path, required, false, (void **)out, n);
}
