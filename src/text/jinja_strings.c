/* String helpers of the Jinja builtins (jinja_builtins.c uses them for filters and str methods): Python's str
 * operations on code points (case changes, strip, split, replace, padding), int()/float() parsing of strings,
 * printf-style "%" formatting and str.format(). */
#include "text/jinja_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM(ev) jj_eval_vm(ev)

/* ---- string operations on code points --------------------------------------------------------------------- */

accel_status jj_change_case(jj_eval *ev, jstr s, jj_case_op op, jv *out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    size_t i = 0;
    bool prev_cased = false, first = true;
    while (i < s.n) {
        uint32_t c, r;
        size_t next = jj_utf8_next(s.p, s.n, i, &c);
        switch (op) {
        case JJ_CASE_UPPER: r = jj_py_upper(c); break;
        case JJ_CASE_LOWER: r = jj_py_lower(c); break;
        case JJ_CASE_CAPITALIZE: r = first ? jj_py_title(c) : jj_py_lower(c); break;
        case JJ_CASE_SWAP: r = jj_py_isupperc(c) ? jj_py_lower(c) : jj_py_islowerc(c) ? jj_py_upper(c) : c; break;
        default: /* str.title(): a cased character after a cased one is lowered, else title-cased */
            r = prev_cased ? jj_py_lower(c) : jj_py_title(c);
            prev_cased = jj_py_iscased(c);
            break;
        }
        first = false;
        char enc[4];
        jbuf_put(&b, enc, jj_utf8_put(enc, r));
        i = next;
    }
    accel_status st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

static bool cp_in(uint32_t c, jstr set) {
    size_t i = 0;
    while (i < set.n) {
        uint32_t d;
        i = jj_utf8_next(set.p, set.n, i, &d);
        if (c == d) return true;
    }
    return false;
}

/* str.strip/lstrip/rstrip; chars NULL = whitespace */
jstr jj_strip(jstr s, const jstr *chars, bool left, bool right) {
    size_t b = 0, e = s.n;
    if (left)
        while (b < e) {
            uint32_t c;
            size_t next = jj_utf8_next(s.p, e, b, &c);
            if (chars ? !cp_in(c, *chars) : !jj_py_isspace(c)) break;
            b = next;
        }
    if (right)
        while (e > b) {
            size_t k = e - 1;
            while (k > b && ((unsigned char)s.p[k] & 0xC0) == 0x80) k--;
            uint32_t c;
            jj_utf8_next(s.p, e, k, &c);
            if (chars ? !cp_in(c, *chars) : !jj_py_isspace(c)) break;
            e = k;
        }
    jstr r = {s.p + b, e - b};
    return r;
}

const char *jj_find_sub(jstr s, size_t from, jstr sub) {
    if (sub.n == 0) return s.p + from;
    for (size_t i = from; i + sub.n <= s.n; i++)
        if (memcmp(s.p + i, sub.p, sub.n) == 0) return s.p + i;
    return NULL;
}

const char *jj_rfind_sub(jstr s, size_t upto, jstr sub) {
    if (sub.n > upto) return NULL;
    for (size_t i = upto - sub.n + 1; i-- > 0;)
        if (memcmp(s.p + i, sub.p, sub.n) == 0) return s.p + i;
    return NULL;
}

accel_status jj_lb_push(jj_eval *ev, jj_lbuild *lb, jv x) {
    if (lb->n == lb->cap) {
        if (lb->n >= JJ_MAX_LIST)
            return jj_invalid(ev, "the template built a list longer than the limit of %zu items", JJ_MAX_LIST);
        size_t cap = lb->cap ? lb->cap * 2 : 8;
        jv *nv = jj_valloc(VM(ev), cap * sizeof(jv));
        if (!nv) return jj_eval_vm(ev)->err->status;
        if (lb->n) memcpy(nv, lb->v, lb->n * sizeof(jv));
        lb->v = nv;
        lb->cap = cap;
    }
    lb->v[lb->n++] = x;
    return ACCEL_OK;
}

accel_status jj_lb_done(jj_eval *ev, jj_lbuild *lb, jv_type t, jv *out) {
    accel_status st = jv_new_list(VM(ev), 0, t, out);
    if (st) return st;
    out->u.l->v = lb->v;
    out->u.l->n = lb->n;
    return ACCEL_OK;
}

/* str.split / str.rsplit (sep NULL: runs of whitespace) */
accel_status jj_split(jj_eval *ev, jstr s, const jstr *sep, int64_t maxsplit, bool from_right, jv *out) {
    accel_status st;
    jj_lbuild lb = {0};
    if (sep && sep->n == 0) return jj_invalid(ev, "empty separator");
    if (maxsplit < 0) maxsplit = INT64_MAX;
    if (!from_right) {
        size_t i = 0;
        int64_t done = 0;
        if (!sep) {
            for (;;) {
                while (i < s.n) { /* skip whitespace */
                    uint32_t c;
                    size_t next = jj_utf8_next(s.p, s.n, i, &c);
                    if (!jj_py_isspace(c)) break;
                    i = next;
                }
                if (i >= s.n) break;
                if (done == maxsplit) {
                    jstr rest = jj_strip((jstr){s.p + i, s.n - i}, NULL, false, true);
                    if ((st = jj_lb_push(ev, &lb, jv_str(rest.p, rest.n)))) return st;
                    break;
                }
                size_t b = i;
                while (i < s.n) {
                    uint32_t c;
                    size_t next = jj_utf8_next(s.p, s.n, i, &c);
                    if (jj_py_isspace(c)) break;
                    i = next;
                }
                if ((st = jj_lb_push(ev, &lb, jv_str(s.p + b, i - b)))) return st;
                done++;
            }
        } else {
            for (;;) {
                const char *hit = done < maxsplit ? jj_find_sub(s, i, *sep) : NULL;
                if (!hit) {
                    if ((st = jj_lb_push(ev, &lb, jv_str(s.p + i, s.n - i)))) return st;
                    break;
                }
                if ((st = jj_lb_push(ev, &lb, jv_str(s.p + i, (size_t)(hit - s.p) - i)))) return st;
                i = (size_t)(hit - s.p) + sep->n;
                done++;
            }
        }
        return jj_lb_done(ev, &lb, JV_LIST, out);
    }
    /* rsplit: collect from the right, then reverse */
    size_t e = s.n;
    int64_t done = 0;
    if (!sep) {
        for (;;) {
            while (e > 0) {
                size_t k = e - 1;
                while (k > 0 && ((unsigned char)s.p[k] & 0xC0) == 0x80) k--;
                uint32_t c;
                jj_utf8_next(s.p, e, k, &c);
                if (!jj_py_isspace(c)) break;
                e = k;
            }
            if (e == 0) break;
            if (done == maxsplit) {
                jstr rest = jj_strip((jstr){s.p, e}, NULL, true, false);
                if ((st = jj_lb_push(ev, &lb, jv_str(rest.p, rest.n)))) return st;
                break;
            }
            size_t b = e;
            while (b > 0) {
                size_t k = b - 1;
                while (k > 0 && ((unsigned char)s.p[k] & 0xC0) == 0x80) k--;
                uint32_t c;
                jj_utf8_next(s.p, b, k, &c);
                if (jj_py_isspace(c)) break;
                b = k;
            }
            if ((st = jj_lb_push(ev, &lb, jv_str(s.p + b, e - b)))) return st;
            e = b;
            done++;
        }
    } else {
        for (;;) {
            const char *hit = done < maxsplit ? jj_rfind_sub(s, e, *sep) : NULL;
            if (!hit) {
                if ((st = jj_lb_push(ev, &lb, jv_str(s.p, e)))) return st;
                break;
            }
            size_t h = (size_t)(hit - s.p);
            if ((st = jj_lb_push(ev, &lb, jv_str(s.p + h + sep->n, e - h - sep->n)))) return st;
            e = h;
            done++;
        }
    }
    for (size_t i = 0; i < lb.n / 2; i++) {
        jv t = lb.v[i];
        lb.v[i] = lb.v[lb.n - 1 - i];
        lb.v[lb.n - 1 - i] = t;
    }
    return jj_lb_done(ev, &lb, JV_LIST, out);
}

/* str.splitlines(keepends) with Python's line boundaries */
accel_status jj_splitlines(jj_eval *ev, jstr s, bool keepends, jv *out) {
    accel_status st;
    jj_lbuild lb = {0};
    size_t i = 0, b = 0;
    while (i < s.n) {
        uint32_t c;
        size_t next = jj_utf8_next(s.p, s.n, i, &c);
        bool br = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
                  c == 0x85 || c == 0x2028 || c == 0x2029;
        if (br) {
            size_t end = next;
            if (c == '\r' && next < s.n && s.p[next] == '\n') end = next + 1;
            if ((st = jj_lb_push(ev, &lb, jv_str(s.p + b, (keepends ? end : i) - b)))) return st;
            b = i = end;
        } else {
            i = next;
        }
    }
    if (b < s.n && (st = jj_lb_push(ev, &lb, jv_str(s.p + b, s.n - b)))) return st;
    return jj_lb_done(ev, &lb, JV_LIST, out);
}

accel_status jj_replace(jj_eval *ev, jstr s, jstr old, jstr rep, int64_t count, jv *out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    if (count < 0) count = INT64_MAX;
    int64_t done = 0;
    if (old.n == 0) { /* Python inserts the replacement around every character */
        size_t i = 0;
        if (done < count) {
            jbuf_put(&b, rep.p, rep.n);
            done++;
        }
        while (i < s.n) {
            uint32_t c;
            size_t next = jj_utf8_next(s.p, s.n, i, &c);
            jbuf_put(&b, s.p + i, next - i);
            if (done < count) {
                jbuf_put(&b, rep.p, rep.n);
                done++;
            }
            i = next;
        }
    } else {
        size_t i = 0;
        for (;;) {
            const char *hit = done < count ? jj_find_sub(s, i, old) : NULL;
            if (!hit) {
                jbuf_put(&b, s.p + i, s.n - i);
                break;
            }
            jbuf_put(&b, s.p + i, (size_t)(hit - s.p) - i);
            jbuf_put(&b, rep.p, rep.n);
            i = (size_t)(hit - s.p) + old.n;
            done++;
        }
    }
    accel_status st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

/* Byte offset of code point index i (clamped like a Python slice bound). */
size_t jj_cp_to_byte(jstr s, int64_t i) {
    int64_t n = (int64_t)jj_utf8_count(s.p, s.n);
    if (i < 0) i += n;
    if (i < 0) i = 0;
    if (i > n) i = n;
    size_t b = 0;
    for (int64_t k = 0; k < i; k++) {
        uint32_t c;
        b = jj_utf8_next(s.p, s.n, b, &c);
    }
    return b;
}

accel_status jj_pad(jj_eval *ev, jstr s, int64_t width, jstr fill,
                    int where /* -1 left-justify, 0 center, 1 right */,
                    jv *out) {
    if (jj_utf8_count(fill.p, fill.n) != 1)
        return jj_invalid(ev, "The fill character must be exactly one character long");
    int64_t len = (int64_t)jj_utf8_count(s.p, s.n);
    if (width <= len) {
        *out = jv_str(s.p, s.n);
        return ACCEL_OK;
    }
    if (width > (int64_t)JJ_MAX_OUTPUT) return jj_invalid(ev, "the template built a string longer than the limit");
    int64_t marg = width - len, left;
    if (where < 0) left = 0;
    else if (where > 0) left = marg;
    else left = marg / 2 + (marg & width & 1);
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    for (int64_t k = 0; k < left; k++) jbuf_put(&b, fill.p, fill.n);
    jbuf_put(&b, s.p, s.n);
    for (int64_t k = 0; k < marg - left; k++) jbuf_put(&b, fill.p, fill.n);
    accel_status st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

accel_status jj_html_escape(jj_eval *ev, jstr s, jv *out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    for (size_t i = 0; i < s.n; i++) {
        switch (s.p[i]) {
        case '&': jbuf_puts(&b, "&amp;"); break;
        case '<': jbuf_puts(&b, "&lt;"); break;
        case '>': jbuf_puts(&b, "&gt;"); break;
        case '"': jbuf_puts(&b, "&#34;"); break;
        case '\'': jbuf_puts(&b, "&#39;"); break;
        default: jbuf_putc(&b, s.p[i]);
        }
    }
    accel_status st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

/* ---- Python number parsing (int(), float()) ---------------------------------------------------------------- */

/* int(s, base): whitespace around, sign, underscores between digits, 0x/0o/0b prefixes for base 0 or matching. */
bool jj_parse_py_int(jstr s, int64_t base, int64_t *out) {
    s = jj_strip(s, NULL, true, true);
    size_t i = 0;
    bool neg = false;
    if (i < s.n && (s.p[i] == '+' || s.p[i] == '-')) neg = s.p[i++] == '-';
    if (base == 0 || base == 16 || base == 8 || base == 2) {
        if (i + 1 < s.n && s.p[i] == '0') {
            char p = (char)(s.p[i + 1] | 0x20);
            int64_t pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
            if (pb && (base == 0 || base == pb)) {
                base = pb;
                i += 2;
                if (i < s.n && s.p[i] == '_') i++;
            }
        }
        if (base == 0) {
            base = 10;
            /* base 0 forbids leading zeros on non-zero decimals */
            if (i + 1 < s.n && s.p[i] == '0') {
                for (size_t k = i; k < s.n; k++)
                    if (s.p[k] != '0' && s.p[k] != '_') return false;
            }
        }
    }
    if (base < 2 || base > 36) return false;
    if (i >= s.n) return false;
    uint64_t v = 0;
    bool prev_digit = false;
    for (; i < s.n; i++) {
        char c = s.p[i];
        if (c == '_') {
            if (!prev_digit || i + 1 >= s.n) return false;
            prev_digit = false;
            continue;
        }
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'z') ? c - 'a' + 10 : (c >= 'A' && c <= 'Z')
            ? c - 'A' + 10 : 99;
        if (d >= base) return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return false;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) return false;
        prev_digit = true;
    }
    if (!prev_digit) return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* float(s): Python accepts whitespace around, underscores between digits, inf/nan/infinity. */
bool jj_parse_py_float(jstr s, double *out) {
    s = jj_strip(s, NULL, true, true);
    if (s.n == 0 || s.n > 200) return false;
    char buf[256];
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '_') {
            bool digit_before = i > 0 && s.p[i - 1] >= '0' && s.p[i - 1] <= '9';
            bool digit_after = i + 1 < s.n && s.p[i + 1] >= '0' && s.p[i + 1] <= '9';
            if (!digit_before || !digit_after) return false;
            continue;
        }
        if ((unsigned char)s.p[i] >= 0x80) return false;
        buf[o++] = s.p[i];
    }
    buf[o] = '\0';
    /* strtod also takes hex floats and "nan(...)", which Python does not */
    for (size_t i = 0; i < o; i++)
        if (buf[i] == 'x' || buf[i] == 'X' || buf[i] == '(') return false;
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + o) return false;
    *out = d;
    return true;
}

/* ---- percent formatting ------------------------------------------------------------------------------------ */

accel_status jj_percent_format(jj_eval *ev, const jv *fmtv, const jv *args, jv *out) {
    jstr f = fmtv->u.s;
    const jv *items = args;
    size_t nitems = 1, next = 0;
    /* Python takes anything subscriptable but a tuple or str (dict, list, range) as the mapping of "%(key)s":
     * it may then be left unused */
    bool mapping = args->t == JV_DICT || args->t == JV_UNDEF ||
                   (args->t == JV_LIST && args->u.l->view != JL_DICT_KEYS && args->u.l->view != JL_DICT_VALUES &&
                    args->u.l->view != JL_DICT_ITEMS);
    if (args->t == JV_TUPLE) {
        items = args->u.l->v;
        nitems = args->u.l->n;
    }
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    accel_status st = ACCEL_OK;
    size_t i = 0;
    while (i < f.n && !st) {
        if (f.p[i] != '%') {
            jbuf_putc(&b, f.p[i++]);
            continue;
        }
        i++;
        if (i < f.n && f.p[i] == '%') {
            jbuf_putc(&b, '%');
            i++;
            continue;
        }
        jv val;
        if (i < f.n && f.p[i] == '(') {
            size_t e = i + 1;
            while (e < f.n && f.p[e] != ')') e++;
            if (e >= f.n) {
                st = jj_invalid(ev, "incomplete format key");
                break;
            }
            if (!mapping) {
                st = jj_invalid(ev, "format requires a mapping");
                break;
            }
            if (args->t == JV_UNDEF) {
                st = jj_eval_undefined_error(ev, args);
                break;
            }
            if (args->t != JV_DICT) {
                st = jj_invalid(ev, "list indices must be integers or slices, not str");
                break;
            }
            if (!jv_dict_get(args, &(jv){.t = JV_STR, .u.s = {f.p + i + 1, e - i - 1}}, &val)) {
                st = jj_invalid(ev, "KeyError: '%.*s'", (int)(e - i - 1), f.p + i + 1);
                break;
            }
            i = e + 1;
        } else {
            if (next >= nitems) {
                st = jj_invalid(ev, "not enough arguments for format string");
                break;
            }
            val = items[next++];
        }
        char flags[8] = "";
        size_t nf = 0;
        while (i < f.n && strchr("-+ 0#", f.p[i]) && nf < sizeof flags - 1) flags[nf++] = f.p[i++];
        flags[nf] = '\0';
        int width = -1, prec = -1;
        if (i < f.n && f.p[i] >= '0' && f.p[i] <= '9') {
            width = 0;
            while (i < f.n && f.p[i] >= '0' && f.p[i] <= '9' && width < 100000) width = width * 10 + (f.p[i++] - '0');
        }
        if (i < f.n && f.p[i] == '.') {
            i++;
            prec = 0;
            while (i < f.n && f.p[i] >= '0' && f.p[i] <= '9' && prec < 1000) prec = prec * 10 + (f.p[i++] - '0');
        }
        if (i >= f.n) {
            st = jj_invalid(ev, "incomplete format");
            break;
        }
        char conv = f.p[i++];
        char spec[40];
        jbuf piece;
        jbuf_init(&piece, JJ_MAX_OUTPUT);
        if (conv == 's' || conv == 'r') {
            if (conv == 's') st = jv_to_str(VM(ev), &val, &piece);
            else st = jv_repr(VM(ev), &val, &piece, 0);
            if (!st && prec >= 0) { /* precision truncates (in code points) */
                size_t cut = jj_cp_to_byte((jstr){piece.p ? piece.p : "", piece.n}, prec);
                piece.n = cut;
            }
            if (!st) {
                size_t len = jj_utf8_count(piece.p ? piece.p : "", piece.n);
                bool left = strchr(flags, '-') != NULL;
                if (!left)
                    for (int k = (int)len; k < width; k++) jbuf_putc(&b, ' ');
                jbuf_put(&b, piece.p ? piece.p : "", piece.n);
                if (left)
                    for (int k = (int)len; k < width; k++) jbuf_putc(&b, ' ');
            }
        } else if (strchr("diuxXofFeEgG", conv)) {
            if (!jv_is_num(&val)) {
                jbuf_free(&piece);
                st = jj_invalid(ev, "%%%c format: a real number is required, not %s", conv, jv_type_name(&val));
                break;
            }
            char tmp[600];
            if (strchr("diuxXo", conv)) {
                if (val.t == JV_FLOAT && strchr("xXo", conv)) {
                    jbuf_free(&piece);
                    st = jj_invalid(ev, "%%%c format: an integer is required, not float", conv);
                    break;
                }
                double d = jv_as_double(&val);
                long long x = val.t == JV_FLOAT ? (long long)trunc(d) : (long long)jj_ival(&val);
                char c = conv == 'i' || conv == 'u' ? 'd' : conv;
                snprintf(spec, sizeof spec, "%%%s%s%sll%c", flags, width >= 0 ? "*" : "", prec >= 0 ? ".*" : "", c);
                if (width >= 0 && prec >= 0) snprintf(tmp, sizeof tmp, spec, width, prec, x);
                else if (width >= 0) snprintf(tmp, sizeof tmp, spec, width, x);
                else if (prec >= 0) snprintf(tmp, sizeof tmp, spec, prec, x);
                else snprintf(tmp, sizeof tmp, spec, x);
            } else {
                if (conv == 'g' || conv == 'G' || conv == 'e' || conv == 'E') {
                    jbuf_free(&piece);
                    st = jj_unsupported(ev, "the %%%c format is not supported", conv);
                    break;
                }
                snprintf(spec, sizeof spec, "%%%s%s.*f", flags, width >= 0 ? "*" : "");
                if (width >= 0) snprintf(tmp, sizeof tmp, spec, width, prec >= 0 ? prec : 6, jv_as_double(&val));
                else snprintf(tmp, sizeof tmp, spec, prec >= 0 ? prec : 6, jv_as_double(&val));
            }
            jbuf_puts(&b, tmp);
        } else {
            jbuf_free(&piece);
            st = jj_unsupported(ev, "the %%%c format is not supported", conv);
            break;
        }
        jbuf_free(&piece);
    }
    if (!st && !mapping && next < nitems) st = jj_invalid(ev, "not all arguments converted during string formatting");
    if (!st) st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

/* ---- str.format ('{}', '{0}', '{name}' without format specs) ----------------------------------------------- */

accel_status jj_str_format(jj_eval *ev, jstr f, const jj_args *a, jv *out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    accel_status st = ACCEL_OK;
    size_t auto_idx = 0, i = 0;
    while (i < f.n && !st) {
        char c = f.p[i];
        if (c == '{' && i + 1 < f.n && f.p[i + 1] == '{') {
            jbuf_putc(&b, '{');
            i += 2;
        } else if (c == '}' && i + 1 < f.n && f.p[i + 1] == '}') {
            jbuf_putc(&b, '}');
            i += 2;
        } else if (c == '{') {
            size_t e = i + 1;
            while (e < f.n && f.p[e] != '}') e++;
            if (e >= f.n) {
                st = jj_invalid(ev, "Single '{' encountered in format string");
                break;
            }
            jstr field = {f.p + i + 1, e - i - 1};
            for (size_t k = 0; k < field.n; k++)
                if (strchr(":!.[", field.p[k]))
                    st = jj_unsupported(ev, "str.format() with format specs, conversions or attribute access is "
                                            "not supported");
            if (st) break;
            const jv *val = NULL;
            int64_t idx;
            if (field.n == 0) {
                if (auto_idx >= a->npos) {
                    st = jj_invalid(ev, "Replacement index %zu out of range for positional args tuple", auto_idx);
                    break;
                }
                val = &a->pos[auto_idx++];
            } else if (jj_parse_py_int(field, 10, &idx) && field.p[0] >= '0' && field.p[0] <= '9') {
                if (idx < 0 || (size_t)idx >= a->npos) {
                    st = jj_invalid(ev, "Replacement index %lld out of range for positional args tuple",
                                    (long long)idx);
                    break;
                }
                val = &a->pos[idx];
            } else {
                for (size_t k = 0; k < a->nkw; k++)
                    if (a->kwn[k].n == field.n && memcmp(a->kwn[k].p, field.p, field.n) == 0) val = &a->kwv[k];
                if (!val) {
                    st = jj_invalid(ev, "KeyError: '%.*s'", (int)field.n, field.p);
                    break;
                }
            }
            st = jv_to_str(VM(ev), val, &b);
            i = e + 1;
        } else if (c == '}') {
            st = jj_invalid(ev, "Single '}' encountered in format string");
        } else {
            jbuf_putc(&b, c);
            i++;
        }
    }
    if (!st) st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}
