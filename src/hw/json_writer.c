/* Streaming JSON writer: see json_writer.h. */
#include "hw/json_writer.h"

#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void accel_json_init(accel_json_writer *w, int indent) {
    memset(w, 0, sizeof *w);
    w->indent = indent > 0 ? indent : 0;
    w->status = ACCEL_OK;
}

void accel_json_free(accel_json_writer *w) {
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* Remembers the first error only: later ones are usually consequences of it. */
static void jw_fail(accel_json_writer *w, accel_status status) {
    if (w->status == ACCEL_OK) w->status = status;
}

/* Makes room for n more bytes plus the terminating NUL. */
static bool jw_reserve(accel_json_writer *w, size_t n) {
    if (w->status == ACCEL_ERR_OUT_OF_MEMORY) return false;
    if (n > SIZE_MAX - w->len - 1) {
        jw_fail(w, ACCEL_ERR_OUT_OF_MEMORY);
        return false;
    }
    size_t need = w->len + n + 1;
    if (need <= w->cap) return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *buf = realloc(w->buf, cap);
    if (!buf) {
        jw_fail(w, ACCEL_ERR_OUT_OF_MEMORY);
        return false;
    }
    w->buf = buf;
    w->cap = cap;
    return true;
}

static void jw_append(accel_json_writer *w, const char *s, size_t n) {
    if (!jw_reserve(w, n)) return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void jw_putc(accel_json_writer *w, char c) { jw_append(w, &c, 1); }

static void jw_newline_indent(accel_json_writer *w, int depth) {
    if (w->indent == 0) return;
    jw_putc(w, '\n');
    for (int i = 0; i < depth * w->indent; i++) jw_putc(w, ' ');
}

/* Writes what must come before a value (or a key): a comma and indentation inside containers. Returns false when
 * a value is not allowed here. */
static bool jw_before_item(accel_json_writer *w, bool is_key) {
    if (w->depth == 0) {
        if (w->done || is_key) {
            jw_fail(w, ACCEL_ERR_INVALID_ARG);
            return false;
        }
        return true;
    }
    int top = w->depth - 1;
    if (w->is_object[top]) {
        if (is_key == w->after_key) { /* a key after a key, or a value without a key */
            jw_fail(w, ACCEL_ERR_INVALID_ARG);
            return false;
        }
        if (!is_key) { /* the value follows its key on the same line */
            w->after_key = false;
            return true;
        }
    } else if (is_key) {
        jw_fail(w, ACCEL_ERR_INVALID_ARG);
        return false;
    }
    if (w->has_items[top]) jw_putc(w, ',');
    w->has_items[top] = true;
    jw_newline_indent(w, w->depth);
    return true;
}

/* Bookkeeping after a complete value (scalar or closed container). */
static void jw_after_value(accel_json_writer *w) {
    if (w->depth == 0) w->done = true;
}

static void jw_begin(accel_json_writer *w, bool object) {
    if (!jw_before_item(w, false)) return;
    if (w->depth >= ACCEL_JSON_MAX_DEPTH) {
        jw_fail(w, ACCEL_ERR_INVALID_ARG);
        return;
    }
    jw_putc(w, object ? '{' : '[');
    w->is_object[w->depth] = object;
    w->has_items[w->depth] = false;
    w->depth++;
}

static void jw_end(accel_json_writer *w, bool object) {
    if (w->depth == 0 || w->is_object[w->depth - 1] != object || w->after_key) {
        jw_fail(w, ACCEL_ERR_INVALID_ARG);
        return;
    }
    w->depth--;
    if (w->has_items[w->depth]) jw_newline_indent(w, w->depth);
    jw_putc(w, object ? '}' : ']');
    jw_after_value(w);
}

void accel_json_object_begin(accel_json_writer *w) { jw_begin(w, true); }
void accel_json_object_end(accel_json_writer *w) { jw_end(w, true); }
void accel_json_array_begin(accel_json_writer *w) { jw_begin(w, false); }
void accel_json_array_end(accel_json_writer *w) { jw_end(w, false); }

/* Length of the valid UTF-8 sequence starting at s (at most n bytes available), or 0 if it is not valid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid, as RFC 3629 says). */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

/* Appends s as a quoted, escaped JSON string. */
static void jw_quoted(accel_json_writer *w, const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    jw_putc(w, '"');
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\') run++;
        if (run > i) {
            jw_append(w, str + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_valid_len(s + i, n - i);
            if (len) {
                jw_append(w, str + i, len);
                i += len;
            } else {
                jw_append(w, "\\ufffd", 6);
                i++;
            }
            continue;
        }
        char esc[8];
        switch (c) {
        case '"': jw_append(w, "\\\"", 2); break;
        case '\\': jw_append(w, "\\\\", 2); break;
        case '\b': jw_append(w, "\\b", 2); break;
        case '\f': jw_append(w, "\\f", 2); break;
        case '\n': jw_append(w, "\\n", 2); break;
        case '\r': jw_append(w, "\\r", 2); break;
        case '\t': jw_append(w, "\\t", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            jw_append(w, esc, 6);
            break;
        }
        i++;
    }
    jw_putc(w, '"');
}

void accel_json_key(accel_json_writer *w, const char *key) {
    if (!key) {
        jw_fail(w, ACCEL_ERR_INVALID_ARG);
        return;
    }
    if (!jw_before_item(w, true)) return;
    jw_quoted(w, key, strlen(key));
    jw_putc(w, ':');
    if (w->indent) jw_putc(w, ' ');
    w->after_key = true;
}

/* Writes a value whose text needs no escaping (numbers, literals). */
static void jw_raw_value(accel_json_writer *w, const char *text) {
    if (!jw_before_item(w, false)) return;
    jw_append(w, text, strlen(text));
    jw_after_value(w);
}

void accel_json_string_n(accel_json_writer *w, const char *s, size_t n) {
    if (!s) {
        accel_json_null(w);
        return;
    }
    if (!jw_before_item(w, false)) return;
    jw_quoted(w, s, n);
    jw_after_value(w);
}

void accel_json_string(accel_json_writer *w, const char *s) { accel_json_string_n(w, s, s ? strlen(s) : 0); }

void accel_json_int(accel_json_writer *w, int64_t v) {
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v);
    jw_raw_value(w, text);
}

void accel_json_uint(accel_json_writer *w, uint64_t v) {
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    jw_raw_value(w, text);
}

void accel_json_double(accel_json_writer *w, double v) {
    if (!isfinite(v)) {
        jw_raw_value(w, "null");
        return;
    }
    char text[40];
    snprintf(text, sizeof text, "%.17g", v);
    /* printf follows LC_NUMERIC; JSON always uses '.' whatever locale the application set. */
    for (char *p = text; *p; p++)
        if (*p == ',') *p = '.';
    jw_raw_value(w, text);
}

void accel_json_bool(accel_json_writer *w, bool v) { jw_raw_value(w, v ? "true" : "false"); }

void accel_json_null(accel_json_writer *w) { jw_raw_value(w, "null"); }

accel_status accel_json_finish(accel_json_writer *w, char **out) {
    if (!out) {
        accel_json_free(w);
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_json_finish: out is NULL");
    }
    *out = NULL;
    if (w->status == ACCEL_OK && (w->depth != 0 || !w->done)) w->status = ACCEL_ERR_INVALID_ARG;
    if (w->status != ACCEL_OK) {
        accel_status st = w->status;
        accel_json_free(w);
        if (st == ACCEL_ERR_OUT_OF_MEMORY) return accel_set_error(st, "JSON writer: out of memory");
        return accel_set_error(st, "JSON writer: malformed sequence of calls (unbalanced containers, a key "
                                   "outside an object, a value without a key, or nesting deeper than %d)",
                               ACCEL_JSON_MAX_DEPTH);
    }
    *out = w->buf;
    w->buf = NULL;
    w->len = w->cap = 0;
    w->done = false;
    return ACCEL_OK;
}
