/* Values of the Jinja interpreter with Python's semantics: printing (str/repr, float repr), equality and
 * ordering, dict keys, HF's tojson; plus the arena, byte buffers, UTF-8 and Python character classes. */
#include "text/jinja_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- errors ------------------------------------------------------------------------------------------------ */

accel_status jj_fail(jj_err *e, accel_status st, const char *fmt, ...) {
    if (e->status != ACCEL_OK) return e->status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->status = st;
    return st;
}

/* ---- arena ------------------------------------------------------------------------------------------------- */

struct jj_chunk {
    jj_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *jj_alloc(jj_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) return NULL;
    jj_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ((size_t)64 << 10) ? n : ((size_t)64 << 10);
        c = malloc(sizeof(jj_chunk) + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void jj_arena_free(jj_arena *a) {
    jj_chunk *c = a->head;
    while (c) {
        jj_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

bool jstr_eq_c(jstr s, const char *c) {
    size_t n = strlen(c);
    return s.n == n && memcmp(s.p, c, n) == 0;
}

/* ---- buffers ----------------------------------------------------------------------------------------------- */

void jbuf_init(jbuf *b, size_t limit) {
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void jbuf_put(jbuf *b, const char *s, size_t n) {
    if (b->over || n == 0) return;
    if (n > b->limit || b->n > b->limit - n) {
        b->over = true;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->over = b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void jbuf_puts(jbuf *b, const char *s) { jbuf_put(b, s, strlen(s)); }
void jbuf_putc(jbuf *b, char c) { jbuf_put(b, &c, 1); }

void jbuf_printf(jbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    jbuf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void jbuf_free(jbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- UTF-8 ------------------------------------------------------------------------------------------------- */

size_t jj_utf8_next(const char *s, size_t n, size_t i, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) { /* never for validated text; keeps a bad byte from stalling a loop */
        *cp = 0xFFFD;
        return i + 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; k++) v = (v << 6) | (u[i + k] & 0x3F);
    *cp = v;
    return i + len;
}

size_t jj_utf8_put(char *dst, uint32_t cp) {
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t jj_utf8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* Python's str.isspace(): bidirectional class WS/B/S or category Zs. */
bool jj_py_isspace(uint32_t c) {
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static int cat(uint32_t c) { return c > 0x10FFFF ? UTF8PROC_CATEGORY_CN : (int)utf8proc_category((utf8proc_int32_t)c); }

bool jj_py_isalpha(uint32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    int k = cat(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool jj_py_isdigit(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return cat(c) == UTF8PROC_CATEGORY_ND;
}

bool jj_py_isalnum(uint32_t c) {
    if (c < 0x80) return jj_py_isalpha(c) || (c >= '0' && c <= '9');
    int k = cat(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

bool jj_py_isprintable(uint32_t c) {
    if (c < 0x80) return c >= 0x20 && c < 0x7F;
    switch (cat(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
        return false;
    default:
        return true;
    }
}

uint32_t jj_py_upper(uint32_t c) { return c > 0x10FFFF ? c : (uint32_t)utf8proc_toupper((utf8proc_int32_t)c); }
uint32_t jj_py_lower(uint32_t c) { return c > 0x10FFFF ? c : (uint32_t)utf8proc_tolower((utf8proc_int32_t)c); }
uint32_t jj_py_title(uint32_t c) { return c > 0x10FFFF ? c : (uint32_t)utf8proc_totitle((utf8proc_int32_t)c); }
bool jj_py_iscased(uint32_t c) {
    int k = cat(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}
bool jj_py_islowerc(uint32_t c) { return cat(c) == UTF8PROC_CATEGORY_LL; }
bool jj_py_isupperc(uint32_t c) { return cat(c) == UTF8PROC_CATEGORY_LU || cat(c) == UTF8PROC_CATEGORY_LT; }

/* ---- value basics ------------------------------------------------------------------------------------------ */

accel_status jj_step(jj_vm *vm, uint64_t n) {
    vm->steps += n;
    if (vm->steps > JJ_MAX_ITERATIONS)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG,
                       "the template exceeded the limit of %llu loop iterations and calls per render",
                       (unsigned long long)JJ_MAX_ITERATIONS);
    return ACCEL_OK;
}

accel_status jj_work(jj_vm *vm, uint64_t bytes) {
    vm->work += bytes;
    if (vm->work > JJ_MAX_WORK)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG,
                       "the template exceeded the work limit of a render (%llu MiB of string processing)",
                       (unsigned long long)(JJ_MAX_WORK >> 20));
    return ACCEL_OK;
}

void *jj_valloc(jj_vm *vm, size_t n) {
    void *p = jj_alloc(vm->arena, n);
    if (!p) {
        if (vm->arena->limit && vm->arena->used + n > vm->arena->limit)
            jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "the template exceeded the %zu MiB memory limit of a render",
                    vm->arena->limit >> 20);
        else
            jj_fail(vm->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    }
    return p;
}

const char *jv_type_name(const jv *v) {
    switch (v->t) {
    case JV_UNDEF: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "str";
    case JV_LIST: {
        static const char *const views[] = {"list", "dict_keys", "dict_values", "dict_items", "range"};
        return v->u.l->view < 5 ? views[v->u.l->view] : "list";
    }
    case JV_TUPLE: return "tuple";
    case JV_DICT: return "dict";
    case JV_NS: return "Namespace";
    case JV_FUNC: return v->u.fn->kind == JF_MACRO ? "Macro" : "function";
    case JV_LOOP: return "LoopContext";
    case JV_GEN: return v->u.g->type_name;
    }
    return "object";
}

bool jv_truthy(const jv *v) {
    switch (v->t) {
    case JV_UNDEF: case JV_NONE: return false;
    case JV_BOOL: return v->u.b;
    case JV_INT: return v->u.i != 0;
    case JV_FLOAT: return v->u.f != 0.0;
    case JV_STR: return v->u.s.n != 0;
    case JV_LIST: case JV_TUPLE: return v->u.l->n != 0;
    case JV_DICT: return v->u.d->n != 0;
    default: return true;
    }
}

bool jv_is_num(const jv *v) { return v->t == JV_BOOL || v->t == JV_INT || v->t == JV_FLOAT; }
double jv_as_double(const jv *v) {
    return v->t == JV_FLOAT ? v->u.f : v->t == JV_INT ? (double)v->u.i : v->t == JV_BOOL ? (double)v->u.b : 0.0;
}
bool jv_is_seq(const jv *v) { return v->t == JV_LIST || v->t == JV_TUPLE; }

const char *jv_undef_msg(const jv *v) { return v->t == JV_UNDEF && v->u.hint ? v->u.hint : "value is undefined"; }

jv jv_strdup(jj_vm *vm, const char *p, size_t n, accel_status *st) {
    if (n > JJ_MAX_OUTPUT) {
        *st = jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "the template built a string longer than the %zu MiB limit",
                      JJ_MAX_OUTPUT >> 20);
        return jv_none();
    }
    char *d = jj_valloc(vm, n + 1);
    if (!d) {
        *st = vm->err->status;
        return jv_none();
    }
    if (n) memcpy(d, p, n);
    *st = ACCEL_OK;
    return jv_str(d, n);
}

accel_status jv_new_list(jj_vm *vm, size_t n, jv_type t, jv *out) {
    if (n > JJ_MAX_LIST)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "the template built a list longer than the limit of %zu items",
                       JJ_MAX_LIST);
    jlist *l = jj_valloc(vm, sizeof *l);
    if (!l) return vm->err->status;
    l->n = n;
    if (n) {
        l->v = jj_valloc(vm, n * sizeof(jv)); /* zeroed: JV_UNDEF with no hint */
        if (!l->v) return vm->err->status;
    }
    out->t = (uint8_t)t;
    out->u.l = l;
    return ACCEL_OK;
}

accel_status jv_new_dict(jj_vm *vm, size_t cap, jv_type t, jv *out) {
    jdict *d = jj_valloc(vm, sizeof *d);
    if (!d) return vm->err->status;
    if (cap < 4) cap = 4;
    d->k = jj_valloc(vm, cap * sizeof(jv));
    d->v = jj_valloc(vm, cap * sizeof(jv));
    if (!d->k || !d->v) return vm->err->status;
    d->cap = cap;
    out->t = (uint8_t)t;
    out->u.d = d;
    return ACCEL_OK;
}

static bool hashable(const jv *k) {
    if (k->t == JV_LIST || k->t == JV_DICT || k->t == JV_NS || k->t == JV_UNDEF) return false;
    if (k->t == JV_TUPLE)
        for (size_t i = 0; i < k->u.l->n; i++)
            if (!hashable(&k->u.l->v[i])) return false;
    return true;
}

/* Key equality without errors (keys are hashable, so no depth problem beyond tuples of tuples). */
static bool key_eq(const jv *a, const jv *b) {
    bool eq = false;
    jj_err e = {0};
    jj_arena none = {0};
    jj_vm vm = {&none, &e, 0, 0};
    if (jv_eq(&vm, a, b, &eq, 0) != ACCEL_OK) return false;
    return eq;
}

bool jv_dict_get(const jv *d, const jv *key, jv *out) {
    const jdict *dd = d->u.d;
    for (size_t i = 0; i < dd->n; i++)
        if (key_eq(&dd->k[i], key)) {
            *out = dd->v[i];
            return true;
        }
    return false;
}

bool jv_dict_get_c(const jv *d, const char *key, jv *out) {
    const jdict *dd = d->u.d;
    size_t n = strlen(key);
    for (size_t i = 0; i < dd->n; i++)
        if (dd->k[i].t == JV_STR && dd->k[i].u.s.n == n && memcmp(dd->k[i].u.s.p, key, n) == 0) {
            *out = dd->v[i];
            return true;
        }
    return false;
}

accel_status jv_dict_set(jj_vm *vm, jv *d, jv key, jv val) {
    if (!hashable(&key)) return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "unhashable type: '%s'", jv_type_name(&key));
    jdict *dd = d->u.d;
    for (size_t i = 0; i < dd->n; i++)
        if (key_eq(&dd->k[i], &key)) {
            dd->v[i] = val; /* Python keeps the first key object and replaces the value */
            return ACCEL_OK;
        }
    if (dd->n == dd->cap) {
        if (dd->cap >= JJ_MAX_LIST)
            return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "the template built a dict larger than %zu items",
                           JJ_MAX_LIST);
        size_t cap = dd->cap * 2;
        jv *k = jj_valloc(vm, cap * sizeof(jv)), *v = jj_valloc(vm, cap * sizeof(jv));
        if (!k || !v) return vm->err->status;
        memcpy(k, dd->k, dd->n * sizeof(jv));
        memcpy(v, dd->v, dd->n * sizeof(jv));
        dd->k = k;
        dd->v = v;
        dd->cap = cap;
    }
    dd->k[dd->n] = key;
    dd->v[dd->n] = val;
    dd->n++;
    return ACCEL_OK;
}

size_t jv_str_len(const jv *s) { return jj_utf8_count(s->u.s.p, s->u.s.n); }

/* ---- printing ---------------------------------------------------------------------------------------------- */

/* Python's repr(float): the shortest digits that read back to the same double, in fixed notation when the
 * decimal exponent is in [-4, 16), else scientific with a sign and at least two exponent digits. */
void jj_float_repr(double f, char out[40]) {
    if (isnan(f)) {
        strcpy(out, "nan");
        return;
    }
    if (isinf(f)) {
        strcpy(out, f < 0 ? "-inf" : "inf");
        return;
    }
    if (f == 0.0) {
        strcpy(out, signbit(f) ? "-0.0" : "0.0");
        return;
    }
    char tmp[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp: [-]d[.ddd]e(+|-)xx */
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1) digits[nd++] = *p;
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    char *o = out;
    if (neg) *o++ = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++) *o++ = (size_t)i < nd ? digits[i] : '0';
            *o++ = '.';
            if ((size_t)exp10 + 1 < nd)
                for (size_t i = (size_t)exp10 + 1; i < nd; i++) *o++ = digits[i];
            else
                *o++ = '0';
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
            for (size_t i = 0; i < nd; i++) *o++ = digits[i];
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (size_t i = 1; i < nd; i++) *o++ = digits[i];
        }
        snprintf(o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', (exp10 < 0 ? -exp10 : exp10) % 1000);
    }
}

/* "\\x%02x", "\\u%04x" or "\\U%08x" (by hand: this runs per character of large strings) */
static void put_hex_escape(jbuf *b, uint32_t c) {
    static const char hex[] = "0123456789abcdef";
    char tmp[10];
    int digits = c < 0x100 ? 2 : c < 0x10000 ? 4 : 8;
    tmp[0] = '\\';
    tmp[1] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
    for (int k = 0; k < digits; k++) tmp[2 + k] = hex[(c >> (4 * (digits - 1 - k))) & 0xF];
    jbuf_put(b, tmp, (size_t)digits + 2);
}

/* "\\u%04x" */
static void put_json_u(jbuf *b, uint32_t c) {
    static const char hex[] = "0123456789abcdef";
    char tmp[6] = {'\\', 'u', hex[(c >> 12) & 0xF], hex[(c >> 8) & 0xF], hex[(c >> 4) & 0xF], hex[c & 0xF]};
    jbuf_put(b, tmp, 6);
}

static void repr_str(const jstr *s, jbuf *b) {
    bool has_sq = memchr(s->p, '\'', s->n) != NULL, has_dq = memchr(s->p, '"', s->n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    jbuf_putc(b, q);
    size_t i = 0;
    while (i < s->n) {
        size_t run = i; /* plain printable ASCII goes in one piece */
        while (run < s->n && (unsigned char)s->p[run] >= 0x20 && (unsigned char)s->p[run] < 0x7F && s->p[run] != q &&
               s->p[run] != '\\')
            run++;
        if (run > i) {
            jbuf_put(b, s->p + i, run - i);
            i = run;
            continue;
        }
        uint32_t c;
        size_t next = jj_utf8_next(s->p, s->n, i, &c);
        if (c == (uint32_t)q || c == '\\') {
            jbuf_putc(b, '\\');
            jbuf_putc(b, (char)c);
        } else if (c == '\n') {
            jbuf_puts(b, "\\n");
        } else if (c == '\r') {
            jbuf_puts(b, "\\r");
        } else if (c == '\t') {
            jbuf_puts(b, "\\t");
        } else if (!jj_py_isprintable(c)) {
            put_hex_escape(b, c);
        } else {
            jbuf_put(b, s->p + i, next - i);
        }
        i = next;
    }
    jbuf_putc(b, q);
}

static accel_status too_deep(jj_vm *vm) {
    return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "a value is nested deeper than %d levels (or contains itself)",
                   JJ_MAX_VALUE_DEPTH);
}

static accel_status put_checked(jj_vm *vm, jbuf *b) {
    if (b->over)
        return b->oom ? jj_fail(vm->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory")
                      : jj_fail(vm->err, ACCEL_ERR_INVALID_ARG,
                                "the template built a string longer than the %zu MiB limit", b->limit >> 20);
    return ACCEL_OK;
}

accel_status jv_repr(jj_vm *vm, const jv *v, jbuf *b, int depth) {
    if (depth > JJ_MAX_VALUE_DEPTH) return too_deep(vm);
    char num[40];
    switch (v->t) {
    case JV_UNDEF: jbuf_puts(b, "Undefined"); break;
    case JV_NONE: jbuf_puts(b, "None"); break;
    case JV_BOOL: jbuf_puts(b, v->u.b ? "True" : "False"); break;
    case JV_INT: jbuf_printf(b, "%lld", (long long)v->u.i); break;
    case JV_FLOAT: jj_float_repr(v->u.f, num); jbuf_puts(b, num); break;
    case JV_STR: {
        accel_status st = jj_work(vm, v->u.s.n);
        if (st) return st;
        repr_str(&v->u.s, b);
        break;
    }
    case JV_LIST:
    case JV_TUPLE: {
        const jlist *l = v->u.l;
        if (l->view == JL_RANGE) {
            if (l->range[2] == 1) jbuf_printf(b, "range(%lld, %lld)", (long long)l->range[0], (long long)l->range[1]);
            else jbuf_printf(b, "range(%lld, %lld, %lld)", (long long)l->range[0], (long long)l->range[1],
                             (long long)l->range[2]);
            break;
        }
        if (l->view != JL_PLAIN) jbuf_printf(b, "%s(", jv_type_name(v));
        jbuf_putc(b, v->t == JV_LIST ? '[' : '(');
        for (size_t i = 0; i < v->u.l->n; i++) {
            if (i) jbuf_puts(b, ", ");
            accel_status st = jv_repr(vm, &v->u.l->v[i], b, depth + 1);
            if (st) return st;
        }
        if (v->t == JV_TUPLE && v->u.l->n == 1) jbuf_putc(b, ',');
        jbuf_putc(b, v->t == JV_LIST ? ']' : ')');
        if (l->view != JL_PLAIN) jbuf_putc(b, ')');
        break;
    }
    case JV_DICT:
    case JV_NS: {
        if (v->t == JV_NS) jbuf_puts(b, "<Namespace ");
        jbuf_putc(b, '{');
        for (size_t i = 0; i < v->u.d->n; i++) {
            if (i) jbuf_puts(b, ", ");
            accel_status st = jv_repr(vm, &v->u.d->k[i], b, depth + 1);
            if (st) return st;
            jbuf_puts(b, ": ");
            st = jv_repr(vm, &v->u.d->v[i], b, depth + 1);
            if (st) return st;
        }
        jbuf_putc(b, '}');
        if (v->t == JV_NS) jbuf_putc(b, '>');
        break;
    }
    case JV_FUNC:
        if (v->u.fn->kind == JF_MACRO)
            jbuf_printf(b, "<Macro '%.*s'>", (int)v->u.fn->macro->name.n, v->u.fn->macro->name.p);
        else
            jbuf_puts(b, "<built-in function>");
        break;
    case JV_LOOP:
        jbuf_printf(b, "<LoopContext %zu/%zu>", v->u.loop->index0 + 1, v->u.loop->length);
        break;
    case JV_GEN: /* Python adds " at 0x<address>", which no two runs share */
        if (v->u.g->func_name) jbuf_printf(b, "<%s object %s>", v->u.g->type_name, v->u.g->func_name);
        else jbuf_printf(b, "<%s object>", v->u.g->type_name);
        break;
    }
    return put_checked(vm, b);
}

accel_status jv_to_str(jj_vm *vm, const jv *v, jbuf *b) {
    if (v->t == JV_UNDEF) return ACCEL_OK;
    if (v->t == JV_STR) {
        accel_status st = jj_work(vm, v->u.s.n);
        if (st) return st;
        jbuf_put(b, v->u.s.p, v->u.s.n);
        return put_checked(vm, b);
    }
    return jv_repr(vm, v, b, 0);
}

accel_status jv_str_value(jj_vm *vm, const jv *v, jv *out) {
    if (v->t == JV_STR) {
        *out = *v;
        return ACCEL_OK;
    }
    if (v->t == JV_UNDEF) {
        *out = jv_str("", 0);
        return ACCEL_OK;
    }
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    accel_status st = jv_to_str(vm, v, &b);
    if (st == ACCEL_OK) *out = jv_strdup(vm, b.p ? b.p : "", b.n, &st);
    jbuf_free(&b);
    return st;
}

/* ---- comparison -------------------------------------------------------------------------------------------- */

/* -1, 0, 1, or 2 when unordered (NaN). Exact for int64 against double. */
static int num_cmp(const jv *a, const jv *b) {
    if (a->t != JV_FLOAT && b->t != JV_FLOAT) {
        int64_t x = a->t == JV_BOOL ? a->u.b : a->u.i, y = b->t == JV_BOOL ? b->u.b : b->u.i;
        return x < y ? -1 : x > y;
    }
    if (a->t == JV_FLOAT && b->t == JV_FLOAT) {
        if (isnan(a->u.f) || isnan(b->u.f)) return 2;
        return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
    }
    bool swap = a->t == JV_FLOAT;
    const jv *iv = swap ? b : a;
    double d = swap ? a->u.f : b->u.f;
    int64_t i = iv->t == JV_BOOL ? iv->u.b : iv->u.i;
    int r;
    if (isnan(d))
        return 2;
    else if (d >= 9223372036854775808.0)
        r = -1;
    else if (d < -9223372036854775808.0)
        r = 1;
    else {
        double fl = floor(d);
        int64_t di = (int64_t)fl;
        r = i < di ? -1 : i > di ? 1 : (d > fl ? -1 : 0);
    }
    return swap ? -r : r;
}

accel_status jv_eq(jj_vm *vm, const jv *a, const jv *b, bool *eq, int depth) {
    if (depth > JJ_MAX_VALUE_DEPTH) return too_deep(vm);
    *eq = false;
    if (jv_is_num(a) && jv_is_num(b)) {
        *eq = num_cmp(a, b) == 0;
        return ACCEL_OK;
    }
    if (a->t != b->t) return ACCEL_OK;
    switch (a->t) {
    case JV_UNDEF: case JV_NONE: *eq = true; break;
    case JV_STR:
        if (a->u.s.n == b->u.s.n && a->u.s.n) {
            accel_status st = jj_work(vm, a->u.s.n);
            if (st) return st;
        }
        *eq = a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
        break;
    case JV_LIST:
    case JV_TUPLE:
        /* a dict view or range is never equal to a list (dict_values only to itself) */
        if (a->u.l->view != b->u.l->view) return ACCEL_OK;
        if (a->u.l->view == JL_DICT_VALUES) {
            *eq = a->u.l == b->u.l;
            return ACCEL_OK;
        }
        if (a->u.l->n != b->u.l->n) return ACCEL_OK;
        if (jj_step(vm, a->u.l->n)) return vm->err->status;
        for (size_t i = 0; i < a->u.l->n; i++) {
            bool e;
            accel_status st = jv_eq(vm, &a->u.l->v[i], &b->u.l->v[i], &e, depth + 1);
            if (st) return st;
            if (!e) return ACCEL_OK;
        }
        *eq = true;
        break;
    case JV_DICT:
        if (a->u.d->n != b->u.d->n) return ACCEL_OK;
        for (size_t i = 0; i < a->u.d->n; i++) {
            jv other;
            if (!jv_dict_get(b, &a->u.d->k[i], &other)) return ACCEL_OK;
            bool e;
            accel_status st = jv_eq(vm, &a->u.d->v[i], &other, &e, depth + 1);
            if (st) return st;
            if (!e) return ACCEL_OK;
        }
        *eq = true;
        break;
    case JV_NS: *eq = a->u.d == b->u.d; break;
    case JV_LOOP: *eq = a->u.loop == b->u.loop; break;
    case JV_FUNC: *eq = a->u.fn == b->u.fn; break;
    case JV_GEN: *eq = a->u.g == b->u.g; break;
    default: break;
    }
    return ACCEL_OK;
}

accel_status jv_lt(jj_vm *vm, const jv *a, const jv *b, bool *lt, const char *opname, int depth) {
    if (depth > JJ_MAX_VALUE_DEPTH) return too_deep(vm);
    *lt = false;
    if (jv_is_num(a) && jv_is_num(b)) {
        *lt = num_cmp(a, b) == -1;
        return ACCEL_OK;
    }
    if (a->t == JV_STR && b->t == JV_STR) {
        size_t n = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;
        accel_status st = jj_work(vm, n);
        if (st) return st;
        int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
        *lt = c < 0 || (c == 0 && a->u.s.n < b->u.s.n);
        return ACCEL_OK;
    }
    if (a->t == b->t && jv_is_seq(a) && a->u.l->view == JL_PLAIN && b->u.l->view == JL_PLAIN) {
        size_t n = a->u.l->n < b->u.l->n ? a->u.l->n : b->u.l->n;
        for (size_t i = 0; i < n; i++) {
            bool e;
            accel_status st = jv_eq(vm, &a->u.l->v[i], &b->u.l->v[i], &e, depth + 1);
            if (st) return st;
            if (!e) return jv_lt(vm, &a->u.l->v[i], &b->u.l->v[i], lt, opname, depth + 1);
        }
        *lt = a->u.l->n < b->u.l->n;
        return ACCEL_OK;
    }
    if (a->t == JV_UNDEF || b->t == JV_UNDEF)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "%s", jv_undef_msg(a->t == JV_UNDEF ? a : b));
    return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "'%s' not supported between instances of '%s' and '%s'", opname,
                   jv_type_name(a), jv_type_name(b));
}

/* ---- JSON (json.dumps) ------------------------------------------------------------------------------------- */

static void json_str(const char *p, size_t n, bool ascii, jbuf *b) {
    jbuf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* characters that need no escape go in one piece */
        while (run < n && (unsigned char)p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
               !(ascii && (unsigned char)p[run] >= 0x7F))
            run++;
        if (run > i) {
            jbuf_put(b, p + i, run - i);
            i = run;
            continue;
        }
        uint32_t c;
        size_t next = jj_utf8_next(p, n, i, &c);
        switch (c) {
        case '"': jbuf_puts(b, "\\\""); break;
        case '\\': jbuf_puts(b, "\\\\"); break;
        case '\n': jbuf_puts(b, "\\n"); break;
        case '\r': jbuf_puts(b, "\\r"); break;
        case '\t': jbuf_puts(b, "\\t"); break;
        case '\b': jbuf_puts(b, "\\b"); break;
        case '\f': jbuf_puts(b, "\\f"); break;
        default:
            if (c < 0x20 || (ascii && c > 0x7E && c != 0x7F)) {
                if (c >= 0x10000) {
                    uint32_t v = c - 0x10000;
                    put_json_u(b, 0xD800 + (v >> 10));
                    put_json_u(b, 0xDC00 + (v & 0x3FF));
                } else {
                    put_json_u(b, c);
                }
            } else {
                jbuf_put(b, p + i, next - i);
            }
        }
        i = next;
    }
    jbuf_putc(b, '"');
}

static void json_float(double f, jbuf *b) {
    if (isnan(f)) jbuf_puts(b, "NaN");
    else if (isinf(f)) jbuf_puts(b, f < 0 ? "-Infinity" : "Infinity");
    else {
        char num[40];
        jj_float_repr(f, num);
        jbuf_puts(b, num);
    }
}

static void json_newline(const jj_json_opts *o, int level, jbuf *b) {
    jbuf_putc(b, '\n');
    for (int i = 0; i < level; i++) jbuf_put(b, o->indent, o->indent_n);
}

/* A dict key as json.dumps converts it; false if the type cannot be a key. */
static bool json_key(const jv *k, jbuf *kb) {
    char num[40];
    switch (k->t) {
    case JV_STR: jbuf_put(kb, k->u.s.p, k->u.s.n); return true;
    case JV_INT: jbuf_printf(kb, "%lld", (long long)k->u.i); return true;
    case JV_FLOAT:
        if (isnan(k->u.f)) jbuf_puts(kb, "NaN");
        else if (isinf(k->u.f)) jbuf_puts(kb, k->u.f < 0 ? "-Infinity" : "Infinity");
        else {
            jj_float_repr(k->u.f, num);
            jbuf_puts(kb, num);
        }
        return true;
    case JV_BOOL: jbuf_puts(kb, k->u.b ? "true" : "false"); return true;
    case JV_NONE: jbuf_puts(kb, "null"); return true;
    default: return false;
    }
}

typedef struct json_item {
    char *key;
    size_t key_n;
    size_t idx;
} json_item;

static int json_item_cmp(const void *x, const void *y) {
    const json_item *a = x, *b = y;
    size_t n = a->key_n < b->key_n ? a->key_n : b->key_n;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    if (a->key_n != b->key_n) return a->key_n < b->key_n ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx; /* stable */
}

static accel_status json_value(jj_vm *vm, const jv *v, const jj_json_opts *o, jbuf *b, int level) {
    if (level > JJ_MAX_VALUE_DEPTH) return too_deep(vm);
    switch (v->t) {
    case JV_NONE: jbuf_puts(b, "null"); break;
    case JV_BOOL: jbuf_puts(b, v->u.b ? "true" : "false"); break;
    case JV_INT: jbuf_printf(b, "%lld", (long long)v->u.i); break;
    case JV_FLOAT: json_float(v->u.f, b); break;
    case JV_STR: {
        accel_status st = jj_work(vm, v->u.s.n);
        if (st) return st;
        json_str(v->u.s.p, v->u.s.n, o->ensure_ascii, b);
        break;
    }
    case JV_LIST:
    case JV_TUPLE: {
        const jlist *l = v->u.l;
        if (l->view != JL_PLAIN)
            return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "Object of type %s is not JSON serializable",
                           jv_type_name(v));
        if (l->n == 0) {
            jbuf_puts(b, "[]");
            break;
        }
        jbuf_putc(b, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i) jbuf_put(b, o->item_sep, o->item_sep_n);
            if (o->indent) json_newline(o, level + 1, b);
            accel_status st = json_value(vm, &l->v[i], o, b, level + 1);
            if (st) return st;
        }
        if (o->indent) json_newline(o, level, b);
        jbuf_putc(b, ']');
        break;
    }
    case JV_DICT: {
        const jdict *d = v->u.d;
        if (d->n == 0) {
            jbuf_puts(b, "{}");
            break;
        }
        json_item *items = malloc(d->n * sizeof *items);
        if (!items) return jj_fail(vm->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        accel_status st = ACCEL_OK;
        size_t made = 0;
        for (; made < d->n; made++) {
            jbuf kb;
            jbuf_init(&kb, JJ_MAX_OUTPUT);
            if (!json_key(&d->k[made], &kb)) {
                jbuf_free(&kb);
                st = jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "keys must be str, int, float, bool or None, not %s",
                             jv_type_name(&d->k[made]));
                break;
            }
            items[made].key = kb.p; /* NULL for "" */
            items[made].key_n = kb.n;
            items[made].idx = made;
        }
        if (st == ACCEL_OK) {
            if (o->sort_keys) qsort(items, d->n, sizeof *items, json_item_cmp);
            jbuf_putc(b, '{');
            for (size_t i = 0; i < d->n && st == ACCEL_OK; i++) {
                if (i) jbuf_put(b, o->item_sep, o->item_sep_n);
                if (o->indent) json_newline(o, level + 1, b);
                json_str(items[i].key ? items[i].key : "", items[i].key_n, o->ensure_ascii, b);
                jbuf_put(b, o->key_sep, o->key_sep_n);
                st = json_value(vm, &d->v[items[i].idx], o, b, level + 1);
            }
            if (st == ACCEL_OK) {
                if (o->indent) json_newline(o, level, b);
                jbuf_putc(b, '}');
            }
        }
        for (size_t i = 0; i < made; i++) free(items[i].key);
        free(items);
        if (st) return st;
        break;
    }
    default:
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "Object of type %s is not JSON serializable", jv_type_name(v));
    }
    return put_checked(vm, b);
}

accel_status jv_to_json(jj_vm *vm, const jv *v, const jj_json_opts *o, jbuf *b) {
    return json_value(vm, v, o, b, 0);
}
