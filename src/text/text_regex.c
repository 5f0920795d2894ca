/* Patterns (HF tokenizers' Pattern: a literal string or a regex), lossy UTF-8 and the byte-level alphabet.
 * Regexes are compiled with PCRE2 (UTF + UCP so \s \w \p{L} are Unicode-aware, as with HF's Oniguruma), JIT-compiled
 * when the library supports it. Match data is allocated per call, so one compiled pattern serves many threads. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/text_internal.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct tk_pattern {
    char *lit; /* literal pattern, or NULL */
    size_t lit_len;
    pcre2_code *re;
    int jit;
};

void tk_pattern_free(tk_pattern *p) {
    if (!p) return;
    free(p->lit);
    if (p->re) pcre2_code_free(p->re);
    free(p);
}

accel_status tk_pattern_regex(const char *src, tk_pattern **out) {
    tk_pattern *p = calloc(1, sizeof *p);
    if (!p) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    int err;
    PCRE2_SIZE eoff;
    p->re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &eoff, NULL);
    if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        free(p);
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: regex \"%s\" does not compile: %s at offset %zu", src,
                               (const char *)msg, (size_t)eoff);
    }
    p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
    *out = p;
    return ACCEL_OK;
}

accel_status tk_pattern_from_json(const cJSON *j, tk_pattern **out, const char *what) {
    const cJSON *s = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "String") : NULL;
    const cJSON *r = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "Regex") : NULL;
    if (cJSON_IsString(r)) return tk_pattern_regex(r->valuestring, out);
    if (!cJSON_IsString(s))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "tokenizer.json: %s.pattern must be {\"String\": ...} or {\"Regex\": ...}", what);
    tk_pattern *p = calloc(1, sizeof *p);
    if (!p || !(p->lit = strdup(s->valuestring))) {
        free(p);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    p->lit_len = strlen(p->lit);
    *out = p;
    return ACCEL_OK;
}

accel_status tk_pattern_find(const char *s, size_t len, size_t from, size_t *ms, size_t *me, const void *ctx) {
    const tk_pattern *p = ctx;
    while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80) from++; /* next char boundary */
    *ms = *me = len;
    if (from >= len && (p->lit || from > len)) return ACCEL_OK;
    if (p->lit) {
        if (!p->lit_len) return ACCEL_OK; /* HF: an empty literal never matches */
        const char *m = memmem(s + from, len - from, p->lit, p->lit_len);
        if (m) *ms = (size_t)(m - s), *me = *ms + p->lit_len;
        return ACCEL_OK;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
    if (!md) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)s, len, from, 0, md, NULL)
                    : pcre2_match(p->re, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, md, NULL);
    accel_status st = ACCEL_OK;
    if (rc > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *ms = ov[0];
        *me = ov[1];
        if (*ms == len && *me == len) *ms = *me = len; /* an empty match at the end: no match */
    } else if (rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        st = accel_set_error(ACCEL_ERR_INTERNAL, "tokenizer: regex match failed: %s", (const char *)msg);
    }
    pcre2_match_data_free(md);
    return st;
}

/* ---- lossy UTF-8 ---- */

accel_status tk_buf_append_lossy(tk_buf *b, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0; /* valid bytes pending from run */
    accel_status st = tk_buf_reserve(b, n);
    while (i < n && !st) {
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 2;
        else if (c >= 0xE0 && c <= 0xEF) need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else need = 0;
        size_t k = 1;
        if (need) {
            if (k < need && i + k < n && u[i + k] >= lo && u[i + k] <= hi) {
                k++;
                while (k < need && i + k < n && (u[i + k] & 0xC0) == 0x80) k++;
            }
        }
        if (need && k == need) {
            i += k;
            continue;
        }
        /* invalid: flush the valid run, then one U+FFFD for the k bytes of the maximal invalid subpart */
        st = tk_buf_append(b, s + run, i - run);
        if (!st) st = tk_buf_append(b, "\xEF\xBF\xBD", 3);
        i += k;
        run = i;
    }
    if (!st) st = tk_buf_append(b, s + run, n - run);
    return st;
}

/* ---- byte-level alphabet (GPT-2 bytes_to_unicode) ---- */

/* Printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) map to themselves; the 68 others, in order, to U+0100 + n:
 * 0x00..0x20 -> 256..288, 0x7F..0xA0 -> 289..322, 0xAD -> 323. */
uint32_t tk_byte_to_char(unsigned char b) {
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 289u + (uint32_t)(b - 0x7F);
    if (b == 0xAD) return 323;
    return b;
}

int tk_char_to_byte(uint32_t c) {
    if (c < 256) return (c > 0x20 && c < 0x7F) || (c > 0xA0 && c != 0xAD) ? (int)c : -1;
    if (c <= 288) return (int)(c - 256);
    if (c <= 322) return (int)(0x7F + (c - 289));
    if (c == 323) return 0xAD;
    return -1;
}
