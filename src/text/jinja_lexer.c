/* Jinja lexer with the settings Hugging Face renders chat templates with (trim_blocks=True, lstrip_blocks=True,
 * keep_trailing_newline=False, default delimiters). It follows Jinja2's own lexer (jinja2/lexer.py) rule by rule:
 *  - newlines (\r\n, \r) become \n, and one trailing newline of the template is dropped;
 *  - "{%-" / "{{-" / "{#-" strip all whitespace before the tag, "-%}" / "-}}" / "-#}" all whitespace after it;
 *  - trim_blocks: the first newline after "%}" or "#}" is removed ("+%}" keeps it);
 *  - lstrip_blocks: spaces and tabs from the start of a line up to "{%" or "{#" are removed ("{%+" keeps them);
 *  - inside a tag, "}}" / "%}" only end it when no (, [ or { is open;
 *  - string literals are unescaped like Python's unicode-escape codec ("\n", "\x41", "\u00e9", octal...). */
#include "text/jinja_internal.h"
#include "text/text_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s;
    size_t n;
    jtok *toks;
    size_t ntoks, cap;
    jj_arena *a;
    jj_err *err;
    const jj_source *src;
    bool line_starting;
    char stack[JJ_MAX_NESTING]; /* expected closing brackets */
    int depth;
} lexer;

void jj_line_col(const jj_source *src, size_t pos, int *line, int *col) {
    int l = 1;
    size_t start = 0;
    if (pos > src->n) pos = src->n;
    for (size_t i = 0; i < pos; i++)
        if (src->p[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (int)jj_utf8_count(src->p + start, pos - start) + 1;
}

static accel_status lex_fail(lexer *lx, accel_status st, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static accel_status lex_fail(lexer *lx, accel_status st, size_t pos, const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line, col;
    jj_line_col(lx->src, pos, &line, &col);
    return jj_fail(lx->err, st, "chat template syntax error at line %d, column %d: %s", line, col, what);
}

static accel_status push(lexer *lx, jtok t) {
    if (lx->ntoks == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 256;
        jtok *p = realloc(lx->toks, cap * sizeof *p);
        if (!p) return jj_fail(lx->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        lx->toks = p;
        lx->cap = cap;
    }
    lx->toks[lx->ntoks++] = t;
    return ACCEL_OK;
}

static accel_status push_simple(lexer *lx, jtok_type type, size_t pos) {
    jtok t = {0};
    t.type = (uint8_t)type;
    t.pos = (uint32_t)pos;
    return push(lx, t);
}

/* Python \s at byte i (a whitespace code point); returns its byte length or 0. */
static size_t space_at(const lexer *lx, size_t i) {
    if (i >= lx->n) return 0;
    unsigned char c = (unsigned char)lx->s[i];
    if (c < 0x80) return jj_py_isspace(c) ? 1 : 0;
    uint32_t cp;
    size_t next = jj_utf8_next(lx->s, lx->n, i, &cp);
    return jj_py_isspace(cp) ? next - i : 0;
}

static size_t skip_space(const lexer *lx, size_t i) {
    size_t k;
    while ((k = space_at(lx, i)) > 0) i += k;
    return i;
}

/* End of the text once trailing whitespace is stripped (str.rstrip()). */
static size_t rstrip_end(const lexer *lx, size_t start, size_t end) {
    while (end > start) {
        size_t b = end - 1;
        while (b > start && ((unsigned char)lx->s[b] & 0xC0) == 0x80) b--;
        if (space_at(lx, b) != end - b) break;
        end = b;
    }
    return end;
}

/* Emits the text [start, end) before a tag opened with sign (0, '-', '+'); lstrip applies to block, comment and
 * raw tags (not to {{). */
static accel_status emit_data(lexer *lx, size_t start, size_t end, char sign, bool lstrip) {
    if (sign == '-') {
        end = rstrip_end(lx, start, end);
    } else if (sign != '+' && lstrip) {
        size_t l_pos = start;
        bool has_nl = false;
        for (size_t i = end; i > start; i--)
            if (lx->s[i - 1] == '\n') {
                l_pos = i;
                has_nl = true;
                break;
            }
        if (has_nl || lx->line_starting) {
            size_t i = l_pos;
            while (i < end) {
                size_t k = space_at(lx, i);
                if (!k) break;
                i += k;
            }
            if (i == end && end > l_pos) end = l_pos;
        }
    }
    if (end <= start) return ACCEL_OK;
    jtok t = {0};
    t.type = TK_DATA;
    t.pos = (uint32_t)start;
    t.s.p = lx->s + start;
    t.s.n = end - start;
    return push(lx, t);
}

static bool at(const lexer *lx, size_t i, const char *lit) {
    size_t n = strlen(lit);
    return i + n <= lx->n && memcmp(lx->s + i, lit, n) == 0;
}

/* Block end at i: "+%}", "-%}" + whitespace, "%}" + one newline (trim_blocks). Returns the end or 0. */
static size_t block_end_at(const lexer *lx, size_t i) {
    if (at(lx, i, "+%}")) return i + 3;
    if (at(lx, i, "-%}")) return skip_space(lx, i + 3);
    if (at(lx, i, "%}")) return i + 2 + (i + 2 < lx->n && lx->s[i + 2] == '\n');
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Python's unicode-escape decoding of a string literal's body [b, e). */
static accel_status unescape(lexer *lx, size_t b, size_t e, jstr *out) {
    /* only a backslash before a non-ASCII character makes text longer (at most twice its source) */
    char *d = jj_alloc(lx->a, 2 * (e - b) + 1);
    if (!d) return jj_fail(lx->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    size_t o = 0, i = b;
    const char *s = lx->s;
    while (i < e) {
        if (s[i] != '\\' || i + 1 >= e) {
            d[o++] = s[i++];
            continue;
        }
        char c = s[i + 1];
        size_t esc = i;
        i += 2;
        uint32_t cp = 0;
        int need = 0;
        switch (c) {
        case '\n': continue; /* line continuation */
        case '\\': case '\'': case '"': d[o++] = c; continue;
        case 'a': d[o++] = '\a'; continue;
        case 'b': d[o++] = '\b'; continue;
        case 'f': d[o++] = '\f'; continue;
        case 'n': d[o++] = '\n'; continue;
        case 'r': d[o++] = '\r'; continue;
        case 't': d[o++] = '\t'; continue;
        case 'v': d[o++] = '\v'; continue;
        case 'x': need = 2; break;
        case 'u': need = 4; break;
        case 'U': need = 8; break;
        case 'N':
            return lex_fail(lx, ACCEL_ERR_UNSUPPORTED, esc, "\\N{...} escapes in string literals are not supported");
        default:
            if (c >= '0' && c <= '7') {
                cp = (uint32_t)(c - '0');
                for (int k = 0; k < 2 && i < e && s[i] >= '0'
                     && s[i] <= '7'; k++) cp = cp * 8 + (uint32_t)(s[i++] - '0');
                o += jj_utf8_put(d + o, cp);
            } else if ((unsigned char)c >= 0x80) {
                /* backslashreplace turned the character into \xNN / \uNNNN / \UNNNNNNNN text, whose own
                 * backslash then pairs with this one: the result is a backslash and that text */
                uint32_t u;
                size_t next = jj_utf8_next(s, e, i - 1, &u);
                char tmp[16];
                int k = u < 0x100 ? snprintf(tmp, sizeof tmp, "x%02x", u)
                        : u < 0x10000 ? snprintf(tmp, sizeof tmp, "u%04x", u)
                                      : snprintf(tmp, sizeof tmp, "U%08x", u);
                d[o++] = '\\';
                memcpy(d + o, tmp, (size_t)k);
                o += (size_t)k;
                i = next;
            } else {
                d[o++] = '\\';
                d[o++] = c;
            }
            continue;
        }
        for (int k = 0; k < need; k++) {
            int h = i < e ? hexval(s[i]) : -1;
            if (h < 0)
                return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, esc, "truncated \\%c%s escape", c,
                                need == 2 ? "XX" : need == 4 ? "XXXX" : "XXXXXXXX");
            cp = cp * 16 + (uint32_t)h;
            i++;
        }
        if (cp > 0x10FFFF) return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, esc, "illegal Unicode character in escape");
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return lex_fail(lx, ACCEL_ERR_UNSUPPORTED, esc, "surrogate code points (\\u%04x) are not supported", cp);
        o += jj_utf8_put(d + o, cp);
    }
    d[o] = '\0';
    out->p = d;
    out->n = o;
    return ACCEL_OK;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Digits with single underscores between them ((\d+_)*\d+); returns the end or start when none. */
static size_t scan_digits(const lexer *lx, size_t i) {
    if (i >= lx->n || !is_digit(lx->s[i])) return i;
    while (i < lx->n) {
        if (is_digit(lx->s[i])) i++;
        else if (lx->s[i] == '_' && i + 1 < lx->n && is_digit(lx->s[i + 1])) i++;
        else break;
    }
    return i;
}

static accel_status lex_number(lexer *lx, size_t *pi) {
    size_t i = *pi, start = i;
    const char *s = lx->s;
    /* float: D (.D)? (e[+-]?D)? with at least one of the two parts, not right after a '.' */
    if (!(start > 0 && s[start - 1] == '.')) {
        size_t d1 = scan_digits(lx, i);
        size_t j = d1;
        bool frac = false, expo = false;
        if (j < lx->n && s[j] == '.') {
            size_t d2 = scan_digits(lx, j + 1);
            if (d2 > j + 1) {
                j = d2;
                frac = true;
            }
        }
        if (j < lx->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < lx->n && (s[k] == '+' || s[k] == '-')) k++;
            size_t d3 = scan_digits(lx, k);
            if (d3 > k) {
                j = d3;
                expo = true;
            }
        }
        if (frac || expo) {
            char buf[128];
            size_t o = 0;
            for (size_t k = start; k < j && o < sizeof buf - 1; k++)
                if (s[k] != '_') buf[o++] = s[k];
            buf[o] = '\0';
            jtok t = {0};
            t.type = TK_FLOAT;
            t.pos = (uint32_t)start;
            t.f = strtod(buf, NULL);
            *pi = j;
            return push(lx, t);
        }
    }
    /* integer: 0b.. 0o.. 0x.. [1-9](_?\d)* 0(_?0)* */
    int base = 10;
    size_t j = i;
    if (s[i] == '0' && i + 1 < lx->n && s[i + 1] && strchr("bBoOxX", s[i + 1])) {
        char p = (char)(s[i + 1] | 0x20);
        base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
        size_t k = i + 2;
        size_t ndig = 0;
        while (k < lx->n) {
            size_t kk = k;
            if (s[kk] == '_') kk++;
            int h = kk < lx->n ? hexval(s[kk]) : -1;
            if (h < 0 || h >= base) break;
            k = kk + 1;
            ndig++;
        }
        if (ndig == 0) {
            base = 10;
            j = i + 1; /* just "0" */
        } else {
            j = k;
        }
    } else if (s[i] == '0') {
        j = i + 1;
        while (j < lx->n) {
            if (s[j] == '0') j++;
            else if (s[j] == '_' && j + 1 < lx->n && s[j + 1] == '0') j += 2;
            else break;
        }
    } else {
        j = scan_digits(lx, i);
    }
    uint64_t v = 0;
    size_t k = (base == 10) ? i : i + 2;
    for (; k < j; k++) {
        if (s[k] == '_') continue;
        int h = hexval(s[k]);
        if (v > (UINT64_MAX - (uint64_t)h) / (uint64_t)base || v * (uint64_t)base + (uint64_t)h > (uint64_t)INT64_MAX)
            return lex_fail(lx, ACCEL_ERR_UNSUPPORTED, start, "integer literal does not fit in 64 bits");
        v = v * (uint64_t)base + (uint64_t)h;
    }
    jtok t = {0};
    t.type = TK_INT;
    t.pos = (uint32_t)start;
    t.i = (int64_t)v;
    *pi = j;
    return push(lx, t);
}

static const struct {
    const char *text;
    jop op;
} OPS[] = {
    {"//", OP_FLOORDIV}, {"**", OP_POW}, {"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GE}, {"<=", OP_LE},
    {"+", OP_ADD}, {"-", OP_SUB}, {"/", OP_DIV}, {"*", OP_MUL}, {"%", OP_MOD}, {"~", OP_TILDE},
    {"[", OP_LBRACKET}, {"]", OP_RBRACKET}, {"(", OP_LPAREN}, {")", OP_RPAREN}, {"{", OP_LBRACE},
    {"}", OP_RBRACE}, {">", OP_GT}, {"<", OP_LT}, {"=", OP_ASSIGN}, {".", OP_DOT}, {":", OP_COLON},
    {"|", OP_PIPE}, {",", OP_COMMA}, {";", OP_SEMICOLON},
};

static void describe_char(const lexer *lx, size_t i, char *out, size_t cap) {
    uint32_t cp;
    size_t next = jj_utf8_next(lx->s, lx->n, i, &cp);
    if (cp == '\'') snprintf(out, cap, "\"'\"");
    else if (cp >= 0x20 && cp != 0x7F) snprintf(out, cap, "'%.*s'", (int)(next - i), lx->s + i);
    else snprintf(out, cap, "'\\x%02x'", cp);
}

/* Tokens of a {{ }} or {% %} tag starting at *pi; stops after its end delimiter (or at the end of the text,
 * leaving the parser to report the missing end). */
static accel_status lex_tag(lexer *lx, size_t *pi, bool is_block) {
    size_t i = *pi;
    const char *s = lx->s;
    accel_status st;
    lx->depth = 0;
    for (;;) {
        if (i >= lx->n) break;
        if (lx->depth == 0) {
            size_t end = 0;
            if (is_block) end = block_end_at(lx, i);
            else if (at(lx, i, "-}}")) end = skip_space(lx, i + 3);
            else if (at(lx, i, "}}")) end = i + 2;
            if (end) {
                if ((st = push_simple(lx, is_block ? TK_BLOCK_END : TK_VAR_END, i))) return st;
                lx->line_starting = s[end - 1] == '\n';
                *pi = end;
                return ACCEL_OK;
            }
        }
        size_t sp = space_at(lx, i);
        if (sp) {
            i += sp;
            continue;
        }
        char c = s[i];
        if (is_digit(c)) {
            if ((st = lex_number(lx, &i))) return st;
            continue;
        }
        if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t j = i + 1;
            while (j < lx->n && (s[j] == '_' || is_digit(s[j]) || ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')))
                j++;
            if (j < lx->n && ((unsigned char)s[j]) >= 0x80)
                return lex_fail(lx, ACCEL_ERR_UNSUPPORTED, i, "non-ASCII identifiers are not supported");
            jtok t = {0};
            t.type = TK_NAME;
            t.pos = (uint32_t)i;
            t.s.p = s + i;
            t.s.n = j - i;
            if ((st = push(lx, t))) return st;
            i = j;
            continue;
        }
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            while (j < lx->n && s[j] != c) j += (s[j] == '\\' && j + 1 < lx->n) ? 2 : 1;
            if (j >= lx->n) {
                char d[16];
                describe_char(lx, i, d, sizeof d);
                return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, i, "unexpected char %s (unterminated string)", d);
            }
            jtok t = {0};
            t.type = TK_STRING;
            t.pos = (uint32_t)i;
            if ((st = unescape(lx, i + 1, j, &t.s))) return st;
            if ((st = push(lx, t))) return st;
            i = j + 1;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof OPS / sizeof OPS[0]; k++)
            if (at(lx, i, OPS[k].text)) break;
        if (k == sizeof OPS / sizeof OPS[0]) {
            char d[16];
            describe_char(lx, i, d, sizeof d);
            return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, i, "unexpected char %s", d);
        }
        jop op = OPS[k].op;
        if (op == OP_LPAREN || op == OP_LBRACKET || op == OP_LBRACE) {
            if (lx->depth >= JJ_MAX_NESTING)
                return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, i, "brackets nested deeper than %d levels",
                                JJ_MAX_NESTING);
            lx->stack[lx->depth++] = op == OP_LPAREN ? ')' : op == OP_LBRACKET ? ']' : '}';
        } else if (op == OP_RPAREN || op == OP_RBRACKET || op == OP_RBRACE) {
            if (lx->depth == 0) return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, i, "unexpected '%c'", c);
            char want = lx->stack[--lx->depth];
            if (want != c) return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, i, "unexpected '%c', expected '%c'", c, want);
        }
        jtok t = {0};
        t.type = TK_OP;
        t.op = (uint8_t)op;
        t.pos = (uint32_t)i;
        if ((st = push(lx, t))) return st;
        i += strlen(OPS[k].text);
    }
    *pi = i;
    return ACCEL_OK;
}

/* "{% raw %}" at i (with optional -/+ after "{%"): returns the index after it, or 0. */
static size_t raw_begin_at(const lexer *lx, size_t i) {
    size_t j = i + 2;
    if (j < lx->n && (lx->s[j] == '-' || lx->s[j] == '+')) j++;
    j = skip_space(lx, j);
    if (!at(lx, j, "raw")) return 0;
    j = skip_space(lx, j + 3);
    if (at(lx, j, "-%}")) return skip_space(lx, j + 3);
    if (at(lx, j, "%}")) return j + 2;
    return 0;
}

static accel_status lex_raw(lexer *lx, size_t open, size_t *pi) {
    size_t i = *pi;
    for (size_t j = i; j + 1 < lx->n; j++) {
        if (lx->s[j] != '{' || lx->s[j + 1] != '%') continue;
        size_t k = j + 2;
        char sign = 0;
        if (k < lx->n && (lx->s[k] == '-' || lx->s[k] == '+')) sign = lx->s[k++];
        k = skip_space(lx, k);
        if (!at(lx, k, "endraw")) continue;
        k = skip_space(lx, k + 6);
        size_t end = block_end_at(lx, k);
        if (!end) continue;
        accel_status st = emit_data(lx, i, j, sign, true);
        if (st) return st;
        lx->line_starting = lx->s[end - 1] == '\n';
        *pi = end;
        return ACCEL_OK;
    }
    return lex_fail(lx, ACCEL_ERR_MODEL_FORMAT, open, "Missing end of raw directive");
}

accel_status jj_lex(jj_arena *a, const char *text, size_t len, jj_source *src, jtok **toks, size_t *ntoks,
                    jj_err *err) {
    *toks = NULL;
    *ntoks = 0;
    if (len > JJ_MAX_SOURCE)
        return jj_fail(err, ACCEL_ERR_MODEL_FORMAT, "chat template is %zu bytes, more than the %zu MiB limit", len,
                       JJ_MAX_SOURCE >> 20);
    size_t bad = tk_utf8_validate(text, len);
    if (bad != len) return jj_fail(err, ACCEL_ERR_MODEL_FORMAT, "chat template is not valid UTF-8 (byte %zu)", bad);
    char *norm = jj_alloc(a, len + 1);
    if (!norm) return jj_fail(err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r') {
            norm[n++] = '\n';
            if (i + 1 < len && text[i + 1] == '\n') i++;
        } else {
            norm[n++] = text[i];
        }
    }
    if (n > 0 && norm[n - 1] == '\n') n--; /* keep_trailing_newline=False */
    norm[n] = '\0';
    src->p = norm;
    src->n = n;

    lexer lx = {0};
    lx.s = norm;
    lx.n = n;
    lx.a = a;
    lx.err = err;
    lx.src = src;
    lx.line_starting = true;
    accel_status st = ACCEL_OK;
    size_t pos = 0;
    while (pos < n && st == ACCEL_OK) {
        size_t k = pos;
        while (k + 1 < n && !(norm[k] == '{' && (norm[k + 1] == '{' || norm[k + 1] == '%' || norm[k + 1] == '#'))) k++;
        if (k + 1 >= n) {
            st = emit_data(&lx, pos, n, 0, false);
            break;
        }
        char kind = norm[k + 1];
        size_t after = k + 2;
        char sign = 0;
        if (after < n && (norm[after] == '-' || norm[after] == '+')) sign = norm[after++];
        size_t raw_end = kind == '%' ? raw_begin_at(&lx, k) : 0;
        if ((st = emit_data(&lx, pos, k, sign, kind != '{'))) break;
        lx.line_starting = false;
        if (raw_end) {
            lx.line_starting = norm[raw_end - 1] == '\n';
            pos = raw_end;
            st = lex_raw(&lx, k, &pos);
        } else if (kind == '#') {
            size_t j = after, end = 0;
            for (; j < n; j++) {
                if (norm[j] == '+' && at(&lx, j + 1, "#}")) {
                    end = j + 3;
                    break;
                }
                if (norm[j] == '-' && at(&lx, j + 1, "#}")) {
                    end = skip_space(&lx, j + 3);
                    break;
                }
                if (at(&lx, j, "#}")) {
                    end = j + 2 + (j + 2 < n && norm[j + 2] == '\n');
                    break;
                }
            }
            if (!end) {
                st = lex_fail(&lx, ACCEL_ERR_MODEL_FORMAT, k, "Missing end of comment tag");
                break;
            }
            lx.line_starting = norm[end - 1] == '\n';
            pos = end;
        } else {
            if ((st = push_simple(&lx, kind == '%' ? TK_BLOCK_BEGIN : TK_VAR_BEGIN, k))) break;
            pos = after;
            st = lex_tag(&lx, &pos, kind == '%');
        }
    }
    if (st == ACCEL_OK) st = push_simple(&lx, TK_EOF, n);
    if (st != ACCEL_OK) {
        free(lx.toks);
        return st;
    }
    *toks = lx.toks;
    *ntoks = lx.ntoks;
    return ACCEL_OK;
}
