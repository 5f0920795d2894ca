/* Jinja builtins as Hugging Face's sandboxed environment exposes them: filters (Jinja's own, with HF's tojson),
 * tests, the globals (raise_exception, strftime_now, range, namespace, dict) and the Python methods templates call
 * on strings, dicts and lists (str.strip/split/startswith..., dict.get/items...). The sandbox forbids methods that
 * modify lists and dicts (list.append...): calling one fails as in HF. Jinja builtins that are not implemented
 * here are known by name and fail with ACCEL_ERR_UNSUPPORTED instead of being guessed. The string operations and
 * formatting these use (split, strip, "%" and str.format...) are in jinja_strings.c. */
#include "text/jinja_eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers ----------------------------------------------------------------------------------------- */

#define VM(ev) jj_eval_vm(ev)

accel_status jj_invalid(jj_eval *ev, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "%s", msg);
}

accel_status jj_unsupported(jj_eval *ev, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "%s", msg);
}

static bool given(const jv *v) { return v->t != JV_UNDEF; }
static bool is_intlike(const jv *v) { return v->t == JV_INT || v->t == JV_BOOL; }

/* Binds positional and keyword arguments to parameter names; unbound ones are JV_UNDEF (no hint). */
static accel_status bind(jj_eval *ev, const char *fname, const char *const *params, size_t np, const jj_args *a,
                         jv *out) {
    for (size_t i = 0; i < np; i++) out[i] = jv_undef(NULL);
    if (a->npos > np)
        return jj_invalid(ev, "%s() takes at most %zu argument%s (%zu given)", fname, np, np == 1 ? "" : "s", a->npos);
    for (size_t i = 0; i < a->npos; i++) out[i] = a->pos[i];
    for (size_t k = 0; k < a->nkw; k++) {
        size_t i = 0;
        while (i < np && !jstr_eq_c(a->kwn[k], params[i])) i++;
        if (i == np)
            return jj_invalid(ev, "%s() got an unexpected keyword argument '%.*s'", fname, (int)a->kwn[k].n,
                              a->kwn[k].p);
        if (i < a->npos) return jj_invalid(ev, "%s() got multiple values for argument '%s'", fname, params[i]);
        out[i] = a->kwv[k];
    }
    return ACCEL_OK;
}

static accel_status need_int(jj_eval *ev, const jv *v, const char *what, int64_t *out) {
    if (!is_intlike(v))
        return jj_invalid(ev, "%s: '%s' object cannot be interpreted as an integer", what, jv_type_name(v));
    *out = jj_ival(v);
    return ACCEL_OK;
}

/* str(v); charges its length as work (the filters using it scan it) */
static accel_status to_str(jj_eval *ev, const jv *v, jstr *out) {
    jv s;
    accel_status st = jv_str_value(VM(ev), v, &s);
    if (st || (st = jj_work(VM(ev), s.u.s.n))) return st;
    *out = s.u.s;
    return ACCEL_OK;
}

accel_status jj_new_str(jj_eval *ev, const jbuf *b, jv *out) {
    if (b->over) {
        if (b->oom) return jj_eval_fail(ev, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        return jj_invalid(ev, "the template built a string longer than the %zu MiB limit", b->limit >> 20);
    }
    accel_status st;
    *out = jv_strdup(VM(ev), b->p ? b->p : "", b->n, &st);
    return st;
}

static accel_status new_list(jj_eval *ev, size_t n, jv *out) { return jv_new_list(VM(ev), n, JV_LIST, out); }

static accel_status make_pair(jj_eval *ev, jv a, jv b, jv *out) {
    accel_status st = jv_new_list(VM(ev), 2, JV_TUPLE, out);
    if (st) return st;
    out->u.l->v[0] = a;
    out->u.l->v[1] = b;
    return ACCEL_OK;
}

/* ---- attribute getter of filters (attribute="a.b" or "0") ------------------------------------------------- */

static accel_status get_path(jj_eval *ev, const jv *item, jstr path, jv *out) {
    *out = *item;
    size_t i = 0;
    while (i <= path.n) {
        size_t e = i;
        while (e < path.n && path.p[e] != '.') e++;
        jstr part = {path.p + i, e - i};
        jv key = jv_str(part.p, part.n);
        bool digits = part.n > 0;
        int64_t num = 0;
        for (size_t k = 0; k < part.n; k++) {
            if (part.p[k] < '0' || part.p[k] > '9' || num > INT64_MAX / 10) {
                digits = false;
                break;
            }
            num = num * 10 + (part.p[k] - '0');
        }
        if (digits) key = jv_int(num);
        if (out->t == JV_UNDEF) return jj_eval_undefined_error(ev, out);
        accel_status st = jj_getitem(ev, out, &key, out);
        if (st) return st;
        i = e + 1;
    }
    return ACCEL_OK;
}

/* ---- sorting (stable merge sort with fallible comparisons) ------------------------------------------------- */

typedef struct sort_ctx {
    jj_eval *ev;
    bool reverse;
    bool list_keys; /* the sort filter compares one-item lists [key]: equal keys never reach `<` */
    accel_status st;
} sort_ctx;

static bool key_lt(sort_ctx *c, const jv *a, const jv *b) {
    if (c->st) return false;
    bool lt;
    if (c->list_keys) {
        bool eq;
        if ((c->st = jv_eq(VM(c->ev), a, b, &eq, 0)) || eq) return false;
    }
    c->st = jv_lt(VM(c->ev), c->reverse ? b : a, c->reverse ? a : b, &lt, "<", 0);
    return lt;
}

/* sorts idx[0..n) by keys[idx] */
static void merge_sort(sort_ctx *c, size_t *idx, size_t *tmp, size_t n, const jv *keys) {
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(c, idx, tmp, h, keys);
    merge_sort(c, idx + h, tmp, n - h, keys);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        if (key_lt(c, &keys[idx[j]], &keys[idx[i]])) tmp[o++] = idx[j++];
        else tmp[o++] = idx[i++];
    }
    while (i < h) tmp[o++] = idx[i++];
    while (j < n) tmp[o++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* Sort key of Jinja's filters: the attribute (if any), lowered when not case sensitive. */
static accel_status sort_key(jj_eval *ev, const jv *item, const jv *attribute, bool case_sensitive, jv *out) {
    accel_status st;
    *out = *item;
    if (given(attribute) && attribute->t != JV_NONE) {
        jstr path;
        if ((st = to_str(ev, attribute, &path)) || (st = get_path(ev, item, path, out))) return st;
    }
    if (!case_sensitive && out->t == JV_STR) return jj_change_case(ev, out->u.s, JJ_CASE_LOWER, out);
    return ACCEL_OK;
}

static accel_status sorted_indices(jj_eval *ev, const jv *keys, size_t n, bool reverse, bool list_keys,
                                   size_t **idx_out) {
    size_t *idx = jj_valloc(VM(ev), (n + 1) * sizeof *idx), *tmp = jj_valloc(VM(ev), (n + 1) * sizeof *tmp);
    if (!idx || !tmp) return VM(ev)->err->status;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    uint64_t lg = 1;
    while (((size_t)1 << lg) < n && lg < 63) lg++;
    accel_status st = jj_step(VM(ev), (uint64_t)n * lg);
    if (st) return st;
    sort_ctx c = {ev, reverse, list_keys, ACCEL_OK};
    merge_sort(&c, idx, tmp, n, keys);
    if (c.st) return c.st;
    *idx_out = idx;
    return ACCEL_OK;
}

/* ---- tests ------------------------------------------------------------------------------------------------- */

typedef accel_status (*test_fn)(jj_eval *ev, const jv *v, const jj_args *a, bool *out);

static accel_status one_arg(jj_eval *ev, const char *name, const jj_args *a, jv *arg) {
    static const char *const P[] = {"other"};
    accel_status st = bind(ev, name, P, 1, a, arg);
    if (!st && !given(arg) && a->npos == 0 && a->nkw == 0)
        return jj_invalid(ev, "%s() missing 1 required positional argument", name);
    return st;
}

/* A test that only looks at the value. */
#define VALUE_TEST(fname, expr)                                                                                      \
    static accel_status fname(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {                                \
        (void)ev;                                                                                                    \
        (void)a;                                                                                                     \
        *o = (expr);                                                                                                 \
        return ACCEL_OK;                                                                                             \
    }
VALUE_TEST(t_defined, v->t != JV_UNDEF)
VALUE_TEST(t_undefined, v->t == JV_UNDEF)
VALUE_TEST(t_none, v->t == JV_NONE)
VALUE_TEST(t_boolean, v->t == JV_BOOL)
VALUE_TEST(t_false, v->t == JV_BOOL && !v->u.b)
VALUE_TEST(t_true, v->t == JV_BOOL && v->u.b)
VALUE_TEST(t_integer, v->t == JV_INT)
VALUE_TEST(t_float, v->t == JV_FLOAT)
VALUE_TEST(t_number, jv_is_num(v))
VALUE_TEST(t_string, v->t == JV_STR)
VALUE_TEST(t_mapping, v->t == JV_DICT)
VALUE_TEST(t_callable, v->t == JV_FUNC)
static accel_status t_iterable(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)ev; (void)a;
    *o = v->t == JV_STR || v->t == JV_LIST || v->t == JV_TUPLE || v->t == JV_DICT || v->t == JV_UNDEF || v->t == JV_GEN;
    return ACCEL_OK;
}
static accel_status t_sequence(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)ev; (void)a; /* Jinja: has len() and __getitem__ (dict views have no __getitem__) */
    *o = v->t == JV_STR || v->t == JV_DICT || v->t == JV_TUPLE ||
         (v->t == JV_LIST && (v->u.l->view == JL_PLAIN || v->u.l->view == JL_RANGE));
    return ACCEL_OK;
}
static accel_status t_odd_even(jj_eval *ev, const jv *v, bool odd, bool *o) {
    if (!jv_is_num(v)) return jj_invalid(ev, "unsupported operand type(s) for %%: '%s' and 'int'", jv_type_name(v));
    if (v->t == JV_FLOAT) *o = fmod(fabs(v->u.f), 2.0) == (odd ? 1.0 : 0.0);
    else *o = ((jj_ival(v) % 2) != 0) == odd;
    return ACCEL_OK;
}
static accel_status t_odd(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)a;
    return t_odd_even(ev, v, true, o);
}
static accel_status t_even(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)a;
    return t_odd_even(ev, v, false, o);
}
static accel_status t_divisibleby(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    static const char *const P[] = {"num"};
    jv num, r;
    accel_status st = bind(ev, "divisibleby", P, 1, a, &num);
    if (st || (st = jj_binop(ev, OP_MOD, v, &num, &r))) return st;
    *o = !jv_truthy(&r);
    return ACCEL_OK;
}
static accel_status t_sameas(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    jv other;
    accel_status st = one_arg(ev, "sameas", a, &other);
    if (st) return st;
    /* identity: singletons and small ints are identical in CPython; containers by pointer */
    if (v->t != other.t) *o = false;
    else if (v->t == JV_NONE || v->t == JV_UNDEF) *o = true;
    else if (v->t == JV_BOOL) *o = v->u.b == other.u.b;
    else if (v->t == JV_INT) *o = v->u.i == other.u.i && v->u.i >= -5 && v->u.i <= 256;
    else if (v->t == JV_LIST || v->t == JV_TUPLE) *o = v->u.l == other.u.l;
    else if (v->t == JV_DICT || v->t == JV_NS) *o = v->u.d == other.u.d;
    else if (v->t == JV_STR) *o = v->u.s.p == other.u.s.p && v->u.s.n == other.u.s.n;
    else *o = false;
    return ACCEL_OK;
}
static accel_status t_lower(jj_eval *ev, const jv *v, const jj_args *a, bool *o);
static accel_status t_upper(jj_eval *ev, const jv *v, const jj_args *a, bool *o);
static accel_status t_case(jj_eval *ev, const jv *v, int id, bool *o);
static accel_status t_cmp(jj_eval *ev, const jv *v, const jj_args *a, bool *o, jop op, const char *name) {
    jv other;
    accel_status st = one_arg(ev, name, a, &other);
    if (st) return st;
    bool lt, eq;
    switch (op) {
    case OP_EQ: return jv_eq(VM(ev), v, &other, o, 0);
    case OP_NE: st = jv_eq(VM(ev), v, &other, &eq, 0); *o = !eq; return st;
    case OP_LT: return jv_lt(VM(ev), v, &other, o, "<", 0);
    case OP_GT: return jv_lt(VM(ev), &other, v, o, ">", 0);
    case OP_LE:
        if ((st = jv_lt(VM(ev), v, &other, &lt, "<=", 0)) || (st = jv_eq(VM(ev), v, &other, &eq, 0))) return st;
        *o = lt || eq;
        return ACCEL_OK;
    case OP_GE:
        if ((st = jv_lt(VM(ev), &other, v, &lt, ">=", 0)) || (st = jv_eq(VM(ev), v, &other, &eq, 0))) return st;
        *o = lt || eq;
        return ACCEL_OK;
    default: return jj_contains(ev, &other, v, o);
    }
}
#define CMP_TEST(fname, op, name)                                                                                    \
    static accel_status fname(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {                                \
        return t_cmp(ev, v, a, o, op, name);                                                                         \
    }
CMP_TEST(t_eq, OP_EQ, "eq")
CMP_TEST(t_ne, OP_NE, "ne")
CMP_TEST(t_lt, OP_LT, "lt")
CMP_TEST(t_le, OP_LE, "le")
CMP_TEST(t_gt, OP_GT, "gt")
CMP_TEST(t_ge, OP_GE, "ge")
CMP_TEST(t_in, OP_IN, "in")
static accel_status t_filter(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)ev; (void)a;
    *o = v->t == JV_STR && jj_filter_lookup(v->u.s) >= 0;
    return ACCEL_OK;
}
static accel_status t_test(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)ev; (void)a;
    *o = v->t == JV_STR && jj_test_lookup(v->u.s) >= 0;
    return ACCEL_OK;
}

/* Tests not listed in TESTS_WITH_ARG take no argument besides the value. */
static const char *const TESTS_WITH_ARG[] = {"divisibleby", "sameas", "eq", "equalto", "==", "ne", "!=", "lt",
                                             "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=",
                                             "in", NULL};

static const struct {
    const char *name;
    test_fn fn;
} TESTS[] = {
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"boolean", t_boolean},
    {"false", t_false}, {"true", t_true}, {"integer", t_integer}, {"float", t_float}, {"number", t_number},
    {"string", t_string}, {"mapping", t_mapping}, {"iterable", t_iterable}, {"sequence", t_sequence},
    {"callable", t_callable}, {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby},
    {"sameas", t_sameas}, {"lower", t_lower}, {"upper", t_upper}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq},
    {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le}, {"<=", t_le},
    {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt}, {"ge", t_ge}, {">=", t_ge}, {"in", t_in},
    {"filter", t_filter}, {"test", t_test},
};
static const char *const UNSUPPORTED_TESTS[] = {"escaped", NULL};

int jj_test_lookup(jstr name) {
    for (size_t i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++)
        if (jstr_eq_c(name, TESTS[i].name)) return (int)i;
    for (int i = 0; UNSUPPORTED_TESTS[i]; i++)
        if (jstr_eq_c(name, UNSUPPORTED_TESTS[i])) return JJ_UNSUPPORTED_NAME;
    return -1;
}

accel_status jj_apply_test(jj_eval *ev, int tid, const jv *in, const jj_args *args, bool *out) {
    if (tid < 0 || (size_t)tid >= sizeof TESTS / sizeof TESTS[0])
        return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: bad test index");
    bool takes_arg = false;
    for (int k = 0; TESTS_WITH_ARG[k]; k++)
        if (!strcmp(TESTS[tid].name, TESTS_WITH_ARG[k])) takes_arg = true;
    if (!takes_arg && (args->npos || args->nkw))
        return jj_invalid(ev, "test_%s() takes 1 positional argument but %zu were given", TESTS[tid].name,
                          1 + args->npos + args->nkw);
    return TESTS[tid].fn(ev, in, args, out);
}

static accel_status test_by_name(jj_eval *ev, const jv *name, int *tid) {
    if (name->t != JV_STR) return jj_invalid(ev, "a test name must be a string");
    *tid = jj_test_lookup(name->u.s);
    if (*tid == JJ_UNSUPPORTED_NAME)
        return jj_unsupported(ev, "the '%.*s' test is not supported", (int)name->u.s.n, name->u.s.p);
    if (*tid < 0) return jj_invalid(ev, "No test named '%.*s'.", (int)name->u.s.n, name->u.s.p);
    return ACCEL_OK;
}

/* ---- filters ----------------------------------------------------------------------------------------------- */

typedef accel_status (*filter_fn)(jj_eval *ev, const jv *in, const jj_args *a, jv *out);

static accel_status f_abs(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    (void)a;
    if (in->t == JV_FLOAT) *out = jv_float(fabs(in->u.f));
    else if (is_intlike(in)) {
        if (jj_ival(in) == INT64_MIN)
            return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "integer result does not fit in 64 bits");
        *out = jv_int(jj_ival(in) < 0 ? -jj_ival(in) : jj_ival(in));
    } else if (in->t == JV_UNDEF) return jj_eval_undefined_error(ev, in);
    else return jj_invalid(ev, "bad operand type for abs(): '%s'", jv_type_name(in));
    return ACCEL_OK;
}

static accel_status f_attr(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"name"};
    jv name;
    accel_status st = bind(ev, "attr", P, 1, a, &name);
    if (st) return st;
    if (name.t != JV_STR) return jj_invalid(ev, "attribute name must be string");
    if (in->t == JV_UNDEF) return jj_eval_undefined_error(ev, in);
    return jj_getattr_only(ev, in, name.u.s, out);
}

static accel_status f_batch(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"linecount", "fill_with"};
    jv p[2], items;
    int64_t n = 0;
    accel_status st = bind(ev, "batch", P, 2, a, p);
    if (st || (st = need_int(ev, &p[0], "batch", &n)) || (st = jj_iterate(ev, in, &items))) return st;
    if (n <= 0) return jj_invalid(ev, "batch size must be positive");
    jj_lbuild outer = {0}, cur = {0};
    for (size_t i = 0; i < items.u.l->n; i++) {
        if ((st = jj_lb_push(ev, &cur, items.u.l->v[i]))) return st;
        if ((int64_t)cur.n == n) {
            jv row;
            if ((st = jj_lb_done(ev, &cur, JV_LIST, &row)) || (st = jj_lb_push(ev, &outer, row))) return st;
            memset(&cur, 0, sizeof cur);
        }
    }
    if (cur.n) {
        if (given(&p[1]) && p[1].t != JV_NONE)
            while ((int64_t)cur.n < n)
                if ((st = jj_lb_push(ev, &cur, p[1]))) return st;
        jv row;
        if ((st = jj_lb_done(ev, &cur, JV_LIST, &row)) || (st = jj_lb_push(ev, &outer, row))) return st;
    }
    return jj_lb_done(ev, &outer, JV_LIST, out);
}

static accel_status str_filter(jj_eval *ev, const jv *in, const jj_args *a, const char *name, jstr *s) {
    accel_status st = bind(ev, name, NULL, 0, a, NULL);
    if (st) return st;
    return to_str(ev, in, s);
}

static accel_status f_capitalize(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "capitalize", &s);
    return st ? st : jj_change_case(ev, s, JJ_CASE_CAPITALIZE, out);
}
static accel_status f_upper(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "upper", &s);
    return st ? st : jj_change_case(ev, s, JJ_CASE_UPPER, out);
}
static accel_status f_lower(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "lower", &s);
    return st ? st : jj_change_case(ev, s, JJ_CASE_LOWER, out);
}
static accel_status f_string(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "string", &s);
    if (!st) *out = jv_str(s.p, s.n);
    return st;
}
static accel_status f_safe(jj_eval *ev, const jv *in, const jj_args *a, jv *out) { return f_string(ev, in, a, out); }
static accel_status f_escape(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "escape", &s);
    return st ? st : jj_html_escape(ev, s, out);
}

/* Jinja's title filter: split on runs of "-", whitespace, "(", "{", "[", "<"; upper the first char of each piece
 * and lower the rest. */
static accel_status f_title(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "title", &s);
    if (st) return st;
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    size_t i = 0;
    bool word_start = true;
    while (i < s.n) {
        uint32_t c;
        size_t next = jj_utf8_next(s.p, s.n, i, &c);
        bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || jj_py_isspace(c);
        uint32_t r = sep ? c : word_start ? jj_py_upper(c) : jj_py_lower(c);
        word_start = sep;
        char enc[4];
        jbuf_put(&b, enc, jj_utf8_put(enc, r));
        i = next;
    }
    st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

static accel_status f_center(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"width"};
    jv w;
    jstr s;
    int64_t width = 80;
    accel_status st = bind(ev, "center", P, 1, a, &w);
    if (st || (given(&w) && (st = need_int(ev, &w, "center", &width))) || (st = to_str(ev, in, &s))) return st;
    return jj_pad(ev, s, width, jstr_c(" "), 0, out);
}

static accel_status f_length(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    accel_status st = bind(ev, "length", NULL, 0, a, NULL);
    if (st) return st;
    switch (in->t) {
    case JV_STR:
        if ((st = jj_work(VM(ev), in->u.s.n))) return st;
        *out = jv_int((int64_t)jv_str_len(in));
        break;
    case JV_LIST: case JV_TUPLE: *out = jv_int((int64_t)in->u.l->n); break;
    case JV_DICT: *out = jv_int((int64_t)in->u.d->n); break;
    case JV_UNDEF: *out = jv_int(0); break;
    case JV_LOOP: *out = jv_int((int64_t)in->u.loop->length); break;
    default: return jj_invalid(ev, "object of type '%s' has no len()", jv_type_name(in));
    }
    return ACCEL_OK;
}

static accel_status f_default(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"default_value", "boolean"};
    jv p[2];
    accel_status st = bind(ev, "default", P, 2, a, p);
    if (st) return st;
    jv dflt = given(&p[0]) ? p[0] : jv_str("", 0);
    bool boolean = given(&p[1]) && jv_truthy(&p[1]);
    *out = (in->t == JV_UNDEF || (boolean && !jv_truthy(in))) ? dflt : *in;
    return ACCEL_OK;
}

static accel_status f_dictsort(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"case_sensitive", "by", "reverse"};
    jv p[3];
    accel_status st = bind(ev, "dictsort", P, 3, a, p);
    if (st) return st;
    if (in->t != JV_DICT) return jj_invalid(ev, "dictsort: '%s' object has no attribute 'items'", jv_type_name(in));
    int pos = 0;
    if (given(&p[1])) {
        if (p[1].t == JV_STR && jstr_eq_c(p[1].u.s, "key")) pos = 0;
        else if (p[1].t == JV_STR && jstr_eq_c(p[1].u.s, "value")) pos = 1;
        else return jj_invalid(ev, "You can only sort by either \"key\" or \"value\"");
    }
    size_t n = in->u.d->n;
    jv *keys = jj_valloc(VM(ev), (n + 1) * sizeof(jv));
    if (!keys) return VM(ev)->err->status;
    bool cs = given(&p[0]) && jv_truthy(&p[0]);
    for (size_t i = 0; i < n; i++)
        if ((st = sort_key(ev, pos ? &in->u.d->v[i] : &in->u.d->k[i], &(jv){0}, cs, &keys[i]))) return st;
    size_t *idx;
    if ((st = sorted_indices(ev, keys, n, given(&p[2]) && jv_truthy(&p[2]), false, &idx))) return st;
    if ((st = new_list(ev, n, out))) return st;
    for (size_t i = 0; i < n; i++)
        if ((st = make_pair(ev, in->u.d->k[idx[i]], in->u.d->v[idx[i]], &out->u.l->v[i]))) return st;
    return ACCEL_OK;
}

static accel_status f_first(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jv items;
    accel_status st = bind(ev, "first", NULL, 0, a, NULL);
    if (st) return st;
    if (in->t == JV_GEN) { /* takes one item */
        jgen *g = in->u.g;
        if ((st = jj_gen_fill(ev, g))) return st;
        *out = g->next < g->items->n ? g->items->v[g->next++] : jv_undef("No first item, sequence was empty.");
        return ACCEL_OK;
    }
    if ((st = jj_iterate(ev, in, &items))) return st;
    *out = items.u.l->n ? items.u.l->v[0] : jv_undef("No first item, sequence was empty.");
    return ACCEL_OK;
}

static accel_status f_last(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jv items;
    accel_status st = bind(ev, "last", NULL, 0, a, NULL);
    if (st) return st;
    if (in->t == JV_GEN) return jj_invalid(ev, "'%s' object is not reversible", jv_type_name(in));
    if ((st = jj_iterate(ev, in, &items))) return st;
    *out = items.u.l->n ? items.u.l->v[items.u.l->n - 1] : jv_undef("No last item, sequence was empty.");
    return ACCEL_OK;
}

static accel_status f_float(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"default"};
    jv d;
    accel_status st = bind(ev, "float", P, 1, a, &d);
    if (st) return st;
    double f;
    if (in->t == JV_UNDEF) return jj_eval_undefined_error(ev, in); /* float(Undefined) raises */
    if (jv_is_num(in)) *out = jv_float(jv_as_double(in));
    else if (in->t == JV_STR && jj_parse_py_float(in->u.s, &f)) *out = jv_float(f);
    else *out = given(&d) ? d : jv_float(0.0);
    return ACCEL_OK;
}

static accel_status f_int(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"default", "base"};
    jv p[2];
    accel_status st = bind(ev, "int", P, 2, a, p);
    if (st) return st;
    jv dflt = given(&p[0]) ? p[0] : jv_int(0);
    int64_t base = 10;
    if (given(&p[1]) && (st = need_int(ev, &p[1], "int", &base))) return st;
    int64_t i;
    double f;
    if (in->t == JV_UNDEF) return jj_eval_undefined_error(ev, in); /* int(Undefined) raises */
    if (is_intlike(in)) {
        *out = jv_int(jj_ival(in));
    } else if (in->t == JV_FLOAT) {
        if (!isfinite(in->u.f))
            return jj_invalid(ev, "cannot convert float %s to integer", isnan(in->u.f) ? "NaN" : "infinity");
        if (fabs(in->u.f) >= 9.2233720368547758e18)
            return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "integer result does not fit in 64 bits");
        *out = jv_int((int64_t)in->u.f);
    } else if (in->t == JV_STR && jj_parse_py_int(in->u.s, base, &i)) {
        *out = jv_int(i);
    } else if (in->t == JV_STR && jj_parse_py_float(in->u.s, &f)) {
        if (!isfinite(f)) {
            if (isnan(f)) *out = dflt; /* ValueError is caught */
            else return jj_invalid(ev, "cannot convert float infinity to integer");
        } else if (fabs(f) >= 9.2233720368547758e18) {
            return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "integer result does not fit in 64 bits");
        } else {
            *out = jv_int((int64_t)f);
        }
    } else {
        *out = dflt;
    }
    return ACCEL_OK;
}

static accel_status f_format(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    jv args, sv;
    accel_status st = to_str(ev, in, &s);
    if (st) return st;
    if (a->nkw && a->npos) return jj_invalid(ev, "can't handle positional and keyword arguments at the same time");
    if (a->nkw) {
        if ((st = jv_new_dict(VM(ev), a->nkw, JV_DICT, &args))) return st;
        for (size_t k = 0; k < a->nkw; k++)
            if ((st = jv_dict_set(VM(ev), &args, jv_str(a->kwn[k].p, a->kwn[k].n), a->kwv[k]))) return st;
    } else {
        if ((st = jv_new_list(VM(ev), a->npos, JV_TUPLE, &args))) return st;
        for (size_t k = 0; k < a->npos; k++) args.u.l->v[k] = a->pos[k];
    }
    sv = jv_str(s.p, s.n);
    return jj_percent_format(ev, &sv, &args, out);
}

static accel_status f_indent(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"width", "first", "blank"};
    jv p[3];
    jstr s;
    accel_status st = bind(ev, "indent", P, 3, a, p);
    if (st) return st;
    if (in->t == JV_UNDEF) return jj_eval_undefined_error(ev, in);
    if (in->t != JV_STR) /* Jinja appends "\n" to the value itself: only strings work */
        return jj_invalid(ev, in->t == JV_LIST ? "'list' object has no attribute 'splitlines'"
                                               : "unsupported operand type(s) for +=: '%s' and 'str'",
                          jv_type_name(in));
    s = in->u.s;
    jbuf ind;
    jbuf_init(&ind, JJ_MAX_OUTPUT);
    if (!given(&p[0])) jbuf_puts(&ind, "    ");
    else if (p[0].t == JV_STR) jbuf_put(&ind, p[0].u.s.p, p[0].u.s.n);
    else {
        int64_t w = 0;
        if ((st = need_int(ev, &p[0], "indent", &w))) {
            jbuf_free(&ind);
            return st;
        }
        for (int64_t k = 0; k < w && k < 100000; k++) jbuf_putc(&ind, ' ');
    }
    jstr indent = {ind.p ? ind.p : "", ind.n};
    bool first = given(&p[1]) && jv_truthy(&p[1]), blank = given(&p[2]) && jv_truthy(&p[2]);
    /* s += "\n"; lines = s.splitlines() */
    jbuf sn;
    jbuf_init(&sn, JJ_MAX_OUTPUT);
    jbuf_put(&sn, s.p, s.n);
    jbuf_putc(&sn, '\n');
    jv lines;
    st = jj_splitlines(ev, (jstr){sn.p, sn.n}, false, &lines);
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    if (!st) {
        if (first) jbuf_put(&b, indent.p, indent.n);
        for (size_t i = 0; i < lines.u.l->n; i++) {
            jstr line = lines.u.l->v[i].u.s;
            if (i > 0) {
                jbuf_putc(&b, '\n');
                if (blank || line.n) jbuf_put(&b, indent.p, indent.n);
            }
            jbuf_put(&b, line.p, line.n);
        }
        st = jj_new_str(ev, &b, out);
    }
    jbuf_free(&b);
    jbuf_free(&sn);
    jbuf_free(&ind);
    return st;
}

static accel_status f_items(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    accel_status st = bind(ev, "items", NULL, 0, a, NULL);
    if (st) return st;
    if (in->t == JV_UNDEF) return new_list(ev, 0, out);
    if (in->t != JV_DICT) return jj_invalid(ev, "Can only get item pairs from a mapping.");
    if ((st = new_list(ev, in->u.d->n, out))) return st;
    for (size_t i = 0; i < in->u.d->n; i++)
        if ((st = make_pair(ev, in->u.d->k[i], in->u.d->v[i], &out->u.l->v[i]))) return st;
    return ACCEL_OK;
}

static accel_status join_values(jj_eval *ev, const jv *items, jstr sep, jv *out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < items->u.l->n && !st; i++) {
        if (i) jbuf_put(&b, sep.p, sep.n);
        st = jv_to_str(VM(ev), &items->u.l->v[i], &b);
    }
    if (!st) st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

static accel_status f_join(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"d", "attribute"};
    jv p[2], items;
    accel_status st = bind(ev, "join", P, 2, a, p);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    jstr sep = {"", 0};
    if (given(&p[0]) && (st = to_str(ev, &p[0], &sep))) return st;
    if (given(&p[1]) && p[1].t != JV_NONE) {
        jstr path;
        jv mapped;
        if ((st = to_str(ev, &p[1], &path)) || (st = new_list(ev, items.u.l->n, &mapped))) return st;
        for (size_t i = 0; i < items.u.l->n; i++)
            if ((st = get_path(ev, &items.u.l->v[i], path, &mapped.u.l->v[i]))) return st;
        items = mapped;
    }
    return join_values(ev, &items, sep, out);
}

static accel_status f_list(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jv items;
    accel_status st = bind(ev, "list", NULL, 0, a, NULL);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    /* a fresh list (so a tuple becomes a list) */
    if ((st = new_list(ev, items.u.l->n, out))) return st;
    if (items.u.l->n) memcpy(out->u.l->v, items.u.l->v, items.u.l->n * sizeof(jv));
    return ACCEL_OK;
}

static accel_status f_map(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jv items;
    accel_status st = jj_iterate(ev, in, &items);
    if (st || (st = jj_step(VM(ev), items.u.l->n))) return st;
    const jv *attribute = NULL, *dflt = NULL;
    for (size_t k = 0; k < a->nkw; k++) {
        if (jstr_eq_c(a->kwn[k], "attribute")) attribute = &a->kwv[k];
        else if (jstr_eq_c(a->kwn[k], "default")) dflt = &a->kwv[k];
    }
    if ((st = new_list(ev, items.u.l->n, out))) return st;
    if (attribute && a->npos == 0) {
        jstr path;
        if ((st = to_str(ev, attribute, &path))) return st;
        for (size_t i = 0; i < items.u.l->n; i++) {
            if ((st = get_path(ev, &items.u.l->v[i], path, &out->u.l->v[i]))) return st;
            if (dflt && out->u.l->v[i].t == JV_UNDEF) out->u.l->v[i] = *dflt;
        }
        return ACCEL_OK;
    }
    if (a->npos == 0) return jj_invalid(ev, "map requires a filter argument");
    if (a->pos[0].t != JV_STR) return jj_invalid(ev, "map: the filter name must be a string");
    int fid = jj_filter_lookup(a->pos[0].u.s);
    if (fid == JJ_UNSUPPORTED_NAME)
        return jj_unsupported(ev, "the '%.*s' filter is not supported", (int)a->pos[0].u.s.n, a->pos[0].u.s.p);
    if (fid < 0) return jj_invalid(ev, "No filter named '%.*s'.", (int)a->pos[0].u.s.n, a->pos[0].u.s.p);
    jj_args rest = {a->pos + 1, a->npos - 1, a->kwn, a->kwv, a->nkw};
    for (size_t i = 0; i < items.u.l->n; i++)
        if ((st = jj_apply_filter(ev, fid, &items.u.l->v[i], &rest, &out->u.l->v[i]))) return st;
    return ACCEL_OK;
}

static accel_status minmax(jj_eval *ev, const jv *in, const jj_args *a, bool want_max, jv *out) {
    static const char *const P[] = {"case_sensitive", "attribute"};
    jv p[2], items;
    accel_status st = bind(ev, want_max ? "max" : "min", P, 2, a, p);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    if (items.u.l->n == 0) {
        *out = jv_undef("No aggregated item, sequence was empty.");
        return ACCEL_OK;
    }
    bool cs = given(&p[0]) && jv_truthy(&p[0]);
    size_t best = 0;
    jv best_key;
    if ((st = sort_key(ev, &items.u.l->v[0], &p[1], cs, &best_key))) return st;
    for (size_t i = 1; i < items.u.l->n; i++) {
        jv k;
        bool better;
        if ((st = sort_key(ev, &items.u.l->v[i], &p[1], cs, &k))) return st;
        if ((st = jv_lt(VM(ev), want_max ? &best_key : &k, want_max ? &k : &best_key, &better, "<", 0))) return st;
        if (better) {
            best = i;
            best_key = k;
        }
    }
    *out = items.u.l->v[best];
    return ACCEL_OK;
}
static accel_status f_max(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return minmax(ev, in, a, true, out);
}
static accel_status f_min(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return minmax(ev, in, a, false, out);
}

/* select/reject/selectattr/rejectattr */
static accel_status select_items(jj_eval *ev, const jv *in, const jj_args *a, bool by_attr, bool keep, jv *out) {
    jv items;
    accel_status st = jj_iterate(ev, in, &items);
    if (st || (st = jj_step(VM(ev), items.u.l->n))) return st;
    size_t first = 0;
    jstr path = {NULL, 0};
    if (by_attr) {
        if (a->npos < 1) return jj_invalid(ev, "Missing parameter for attribute name");
        if ((st = to_str(ev, &a->pos[0], &path))) return st;
        first = 1;
    }
    int tid = -1;
    if (a->npos > first && (st = test_by_name(ev, &a->pos[first], &tid))) return st;
    jj_args targs = {a->npos > first + 1 ? a->pos + first + 1 : NULL, a->npos > first + 1 ? a->npos - first - 1 : 0,
                     a->kwn, a->kwv, a->nkw};
    jj_lbuild lb = {0};
    for (size_t i = 0; i < items.u.l->n; i++) {
        jv v = items.u.l->v[i];
        if (by_attr && (st = get_path(ev, &items.u.l->v[i], path, &v))) return st;
        bool r;
        if (tid >= 0) {
            if ((st = jj_apply_test(ev, tid, &v, &targs, &r))) return st;
        } else {
            r = jv_truthy(&v);
        }
        if (r == keep && (st = jj_lb_push(ev, &lb, items.u.l->v[i]))) return st;
    }
    return jj_lb_done(ev, &lb, JV_LIST, out);
}
static accel_status f_select(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return select_items(ev, in, a, false, true, out);
}
static accel_status f_reject(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return select_items(ev, in, a, false, false, out);
}
static accel_status f_selectattr(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return select_items(ev, in, a, true, true, out);
}
static accel_status f_rejectattr(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    return select_items(ev, in, a, true, false, out);
}

static accel_status f_replace(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"old", "new", "count"};
    jv p[3];
    jstr s, old, rep;
    int64_t count = -1;
    accel_status st = bind(ev, "replace", P, 3, a, p);
    if (st) return st;
    if (!given(&p[0]) || !given(&p[1]))
        return jj_invalid(ev, "replace() missing required arguments 'old' and 'new'");
    if ((st = to_str(ev, in, &s)) || (st = to_str(ev, &p[0], &old)) || (st = to_str(ev, &p[1], &rep))) return st;
    if (given(&p[2]) && p[2].t != JV_NONE && (st = need_int(ev, &p[2], "replace", &count))) return st;
    return jj_replace(ev, s, old, rep, count, out);
}

static accel_status f_reverse(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    accel_status st = bind(ev, "reverse", NULL, 0, a, NULL);
    if (st) return st;
    jv items;
    if (!(in->t == JV_STR || in->t == JV_LIST || in->t == JV_TUPLE || in->t == JV_DICT || in->t == JV_UNDEF ||
          in->t == JV_GEN))
        return jj_invalid(ev, "argument must be iterable");
    if ((st = jj_iterate(ev, in, &items))) return st;
    size_t n = items.u.l->n;
    if (in->t == JV_STR) {
        char *d = jj_valloc(VM(ev), in->u.s.n + 1);
        if (!d) return VM(ev)->err->status;
        size_t o = 0;
        for (size_t i = n; i-- > 0;) {
            memcpy(d + o, items.u.l->v[i].u.s.p, items.u.l->v[i].u.s.n);
            o += items.u.l->v[i].u.s.n;
        }
        *out = jv_str(d, o);
        return ACCEL_OK;
    }
    jv rev;
    if ((st = new_list(ev, n, &rev))) return st;
    for (size_t i = 0; i < n; i++) rev.u.l->v[i] = items.u.l->v[n - 1 - i];
    if (in->t == JV_GEN) { /* not reversible: list(value) reversed */
        *out = rev;
        return ACCEL_OK;
    }
    /* reversed(value): a one-shot iterator */
    jgen *g = jj_valloc(VM(ev), sizeof *g);
    if (!g) return VM(ev)->err->status;
    g->fid = -1;
    g->filled = true;
    g->items = rev.u.l;
    g->type_name = in->t == JV_TUPLE || in->t == JV_UNDEF ? "reversed"
                   : in->t == JV_DICT ? "dict_reversekeyiterator"
                   : in->u.l->view == JL_RANGE ? "range_iterator"
                   : in->u.l->view == JL_DICT_KEYS ? "dict_reversekeyiterator"
                   : in->u.l->view == JL_DICT_VALUES ? "dict_reversevalueiterator"
                   : in->u.l->view == JL_DICT_ITEMS ? "dict_reverseitemiterator" : "list_reverseiterator";
    out->t = JV_GEN;
    out->u.g = g;
    return ACCEL_OK;
}

static accel_status f_round(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"precision", "method"};
    jv p[2];
    int64_t prec = 0;
    accel_status st = bind(ev, "round", P, 2, a, p);
    if (st || (given(&p[0]) && (st = need_int(ev, &p[0], "round", &prec)))) return st;
    jstr method = {"common", 6};
    if (given(&p[1]) && (st = to_str(ev, &p[1], &method))) return st;
    bool common = jstr_eq_c(method, "common"), ceil_m = jstr_eq_c(method, "ceil"), floor_m = jstr_eq_c(method, "floor");
    if (!common && !ceil_m && !floor_m) return jj_invalid(ev, "method must be common, ceil or floor");
    if (!jv_is_num(in)) return jj_invalid(ev, "type %s doesn't define __round__ method", jv_type_name(in));
    if (prec < 0 || prec > 300)
        return jj_unsupported(ev, "round() with a precision of %lld is not supported", (long long)prec);
    if (common && is_intlike(in)) { /* round(int, n) stays an int */
        *out = jv_int(jj_ival(in));
        return ACCEL_OK;
    }
    double x = jv_as_double(in);
    if (common) {
        /* Python rounds the exact binary value half-to-even at the decimal digit: printf does the same */
        char buf[400];
        snprintf(buf, sizeof buf, "%.*f", (int)prec, x);
        *out = jv_float(isfinite(x) ? strtod(buf, NULL) : x);
    } else {
        double m = pow(10.0, (double)prec);
        *out = jv_float((ceil_m ? ceil(x * m) : floor(x * m)) / m);
    }
    return ACCEL_OK;
}

static accel_status f_slice(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"slices", "fill_with"};
    jv p[2], items;
    int64_t slices = 0;
    accel_status st = bind(ev, "slice", P, 2, a, p);
    if (st || (st = need_int(ev, &p[0], "slice", &slices)) || (st = jj_iterate(ev, in, &items))) return st;
    if (slices <= 0 || slices > (int64_t)JJ_MAX_LIST) return jj_invalid(ev, "slice count must be positive");
    size_t n = items.u.l->n, per = n / (size_t)slices, extra = n % (size_t)slices, offset = 0;
    bool fill = given(&p[1]) && p[1].t != JV_NONE;
    if ((st = new_list(ev, (size_t)slices, out))) return st;
    for (size_t k = 0; k < (size_t)slices; k++) {
        size_t start = offset + k * per;
        if (k < extra) offset++;
        size_t end = offset + (k + 1) * per;
        jj_lbuild lb = {0};
        for (size_t i = start; i < end; i++)
            if ((st = jj_lb_push(ev, &lb, items.u.l->v[i]))) return st;
        if (fill && k >= extra && (st = jj_lb_push(ev, &lb, p[1]))) return st;
        if ((st = jj_lb_done(ev, &lb, JV_LIST, &out->u.l->v[k]))) return st;
    }
    return ACCEL_OK;
}

static accel_status f_sort(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"reverse", "case_sensitive", "attribute"};
    jv p[3], items;
    accel_status st = bind(ev, "sort", P, 3, a, p);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    size_t n = items.u.l->n;
    if ((st = jj_step(VM(ev), n))) return st;
    jv *keys = jj_valloc(VM(ev), (n + 1) * sizeof(jv));
    if (!keys) return VM(ev)->err->status;
    bool cs = given(&p[1]) && jv_truthy(&p[1]);
    for (size_t i = 0; i < n; i++)
        if ((st = sort_key(ev, &items.u.l->v[i], &p[2], cs, &keys[i]))) return st;
    size_t *idx;
    if ((st = sorted_indices(ev, keys, n, given(&p[0]) && jv_truthy(&p[0]), true, &idx))) return st;
    if ((st = new_list(ev, n, out))) return st;
    for (size_t i = 0; i < n; i++) out->u.l->v[i] = items.u.l->v[idx[i]];
    return ACCEL_OK;
}

static accel_status f_sum(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"attribute", "start"};
    jv p[2], items;
    accel_status st = bind(ev, "sum", P, 2, a, p);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    jv total = given(&p[1]) ? p[1] : jv_int(0);
    jstr path = {NULL, 0};
    bool by_attr = given(&p[0]) && p[0].t != JV_NONE;
    if (by_attr && (st = to_str(ev, &p[0], &path))) return st;
    for (size_t i = 0; i < items.u.l->n; i++) {
        jv v = items.u.l->v[i];
        if (by_attr && (st = get_path(ev, &items.u.l->v[i], path, &v))) return st;
        if ((st = jj_binop(ev, OP_ADD, &total, &v, &total))) return st;
    }
    *out = total;
    return ACCEL_OK;
}

/* HF's tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) */
static accel_status f_tojson(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"ensure_ascii", "indent", "separators", "sort_keys"};
    jv p[4];
    accel_status st = bind(ev, "tojson", P, 4, a, p);
    if (st) return st;
    jj_json_opts o = {0};
    o.ensure_ascii = given(&p[0]) && jv_truthy(&p[0]);
    o.sort_keys = given(&p[3]) && jv_truthy(&p[3]);
    jbuf ind;
    jbuf_init(&ind, 1 << 20);
    if (given(&p[1]) && p[1].t != JV_NONE) {
        if (p[1].t == JV_STR) jbuf_put(&ind, p[1].u.s.p, p[1].u.s.n);
        else if (is_intlike(&p[1])) {
            for (int64_t k = 0; k < jj_ival(&p[1]) && k < 1000; k++) jbuf_putc(&ind, ' ');
        } else {
            jbuf_free(&ind);
            return jj_invalid(ev, "tojson: indent must be an integer or a string");
        }
        o.indent = ind.p ? ind.p : "";
        o.indent_n = ind.n;
    }
    o.item_sep = o.indent ? "," : ", ";
    o.key_sep = ": ";
    if (given(&p[2]) && p[2].t != JV_NONE) {
        if (!jv_is_seq(&p[2]) || p[2].u.l->n != 2 || p[2].u.l->v[0].t != JV_STR || p[2].u.l->v[1].t != JV_STR) {
            jbuf_free(&ind);
            return jj_invalid(ev, "tojson: separators must be a pair of strings");
        }
        o.item_sep = p[2].u.l->v[0].u.s.p;
        o.item_sep_n = p[2].u.l->v[0].u.s.n;
        o.key_sep = p[2].u.l->v[1].u.s.p;
        o.key_sep_n = p[2].u.l->v[1].u.s.n;
    } else {
        o.item_sep_n = strlen(o.item_sep);
        o.key_sep_n = strlen(o.key_sep);
    }
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    st = jv_to_json(VM(ev), in, &o, &b);
    if (!st) st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    jbuf_free(&ind);
    return st;
}

static accel_status f_trim(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"chars"};
    jv c;
    jstr s, chars;
    accel_status st = bind(ev, "trim", P, 1, a, &c);
    if (st || (st = to_str(ev, in, &s))) return st;
    bool have = given(&c) && c.t != JV_NONE;
    if (have && (st = to_str(ev, &c, &chars))) return st;
    jstr r = jj_strip(s, have ? &chars : NULL, true, true);
    *out = jv_str(r.p, r.n);
    return ACCEL_OK;
}

static accel_status f_truncate(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"length", "killwords", "end", "leeway"};
    jv p[4];
    jstr s, end = {"...", 3};
    int64_t length = 255, leeway = 5;
    accel_status st = bind(ev, "truncate", P, 4, a, p);
    if (st) return st;
    if (given(&p[0]) && (st = need_int(ev, &p[0], "truncate", &length))) return st;
    if (given(&p[2]) && (st = to_str(ev, &p[2], &end))) return st;
    if (given(&p[3]) && p[3].t != JV_NONE && (st = need_int(ev, &p[3], "truncate", &leeway))) return st;
    int64_t endlen = (int64_t)jj_utf8_count(end.p, end.n), len;
    if (length < endlen)
        return jj_invalid(ev, "expected length >= %lld, got %lld", (long long)endlen, (long long)length);
    if (leeway < 0) return jj_invalid(ev, "expected leeway >= 0, got %lld", (long long)leeway);
    /* Jinja measures the value itself (no str()): strings; containers are returned when short enough */
    if (in->t == JV_STR) len = (int64_t)jv_str_len(in);
    else if (in->t == JV_UNDEF) len = 0;
    else if (jv_is_seq(in)) len = (int64_t)in->u.l->n;
    else if (in->t == JV_DICT) len = (int64_t)in->u.d->n;
    else return jj_invalid(ev, "object of type '%s' has no len()", jv_type_name(in));
    if (len <= length + leeway) {
        *out = *in;
        return ACCEL_OK;
    }
    if (in->t != JV_STR) return jj_invalid(ev, "can only concatenate %s (not \"str\") to %s", jv_type_name(in),
                                           jv_type_name(in));
    s = in->u.s;
    jstr head = {s.p, jj_cp_to_byte(s, length - endlen)};
    if (!(given(&p[1]) && jv_truthy(&p[1]))) { /* drop the last (partial) word: rsplit(" ", 1)[0] */
        const char *sp = jj_rfind_sub(head, head.n, (jstr){" ", 1});
        if (sp) head.n = (size_t)(sp - head.p);
    }
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    jbuf_put(&b, head.p, head.n);
    jbuf_put(&b, end.p, end.n);
    st = jj_new_str(ev, &b, out);
    jbuf_free(&b);
    return st;
}

static accel_status f_unique(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    static const char *const P[] = {"case_sensitive", "attribute"};
    jv p[2], items;
    accel_status st = bind(ev, "unique", P, 2, a, p);
    if (st || (st = jj_iterate(ev, in, &items))) return st;
    size_t n = items.u.l->n;
    if ((st = jj_step(VM(ev), n))) return st;
    jv *keys = jj_valloc(VM(ev), (n + 1) * sizeof(jv));
    if (!keys) return VM(ev)->err->status;
    bool cs = given(&p[0]) && jv_truthy(&p[0]);
    jj_lbuild lb = {0};
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        jv k;
        if ((st = sort_key(ev, &items.u.l->v[i], &p[1], cs, &k))) return st;
        if (k.t == JV_LIST || k.t == JV_DICT || k.t == JV_NS)
            return jj_invalid(ev, "unhashable type: '%s'", jv_type_name(&k));
        bool seen = false;
        if ((st = jj_step(VM(ev), nk))) return st;
        for (size_t j = 0; j < nk && !seen; j++)
            if ((st = jv_eq(VM(ev), &keys[j], &k, &seen, 0))) return st;
        if (seen) continue;
        keys[nk++] = k;
        if ((st = jj_lb_push(ev, &lb, items.u.l->v[i]))) return st;
    }
    return jj_lb_done(ev, &lb, JV_LIST, out);
}

static accel_status f_wordcount(jj_eval *ev, const jv *in, const jj_args *a, jv *out) {
    jstr s;
    accel_status st = str_filter(ev, in, a, "wordcount", &s);
    if (st) return st;
    int64_t words = 0;
    bool in_word = false;
    size_t i = 0;
    while (i < s.n) {
        uint32_t c;
        i = jj_utf8_next(s.p, s.n, i, &c);
        bool w = c == '_' || jj_py_isalnum(c);
        if (w && !in_word) words++;
        in_word = w;
    }
    *out = jv_int(words);
    return ACCEL_OK;
}

/* gen: the filter is a Python generator in Jinja (its work, and its errors, happen when it is consumed);
 * truthy_first: the generator yields nothing when the value is falsy (select_or_reject, map). */
static const struct {
    const char *name;
    filter_fn fn;
    const char *gen;
    bool truthy_first;
} FILTERS[] = {
    {"abs", f_abs, NULL, false}, {"attr", f_attr, NULL, false}, {"batch", f_batch, "do_batch", false},
    {"capitalize", f_capitalize, NULL, false}, {"center", f_center, NULL, false}, {"count", f_length, NULL, false},
    {"d", f_default, NULL, false}, {"default", f_default, NULL, false}, {"dictsort", f_dictsort, NULL, false},
    {"e", f_escape, NULL, false}, {"escape", f_escape, NULL, false}, {"first", f_first, NULL, false},
    {"float", f_float, NULL, false}, {"format", f_format, NULL, false}, {"indent", f_indent, NULL, false},
    {"int", f_int, NULL, false}, {"items", f_items, "do_items", false}, {"join", f_join, NULL, false},
    {"last", f_last, NULL, false}, {"length", f_length, NULL, false}, {"list", f_list, NULL, false},
    {"lower", f_lower, NULL, false}, {"map", f_map, "sync_do_map", true}, {"max", f_max, NULL, false},
    {"min", f_min, NULL, false}, {"reject", f_reject, "select_or_reject", true},
    {"rejectattr", f_rejectattr, "select_or_reject", true}, {"replace", f_replace, NULL, false},
    {"reverse", f_reverse, NULL, false}, {"round", f_round, NULL, false}, {"safe", f_safe, NULL, false},
    {"select", f_select, "select_or_reject", true}, {"selectattr", f_selectattr, "select_or_reject", true},
    {"slice", f_slice, "do_slice", false}, {"sort", f_sort, NULL, false}, {"string", f_string, NULL, false},
    {"sum", f_sum, NULL, false}, {"title", f_title, NULL, false}, {"tojson", f_tojson, NULL, false},
    {"trim", f_trim, NULL, false}, {"truncate", f_truncate, NULL, false}, {"unique", f_unique, "do_unique", false},
    {"upper", f_upper, NULL, false}, {"wordcount", f_wordcount, NULL, false},
};
static const char *const UNSUPPORTED_FILTERS[] = {"filesizeformat", "forceescape", "groupby", "pprint", "random",
                                                  "striptags", "urlencode", "urlize", "wordwrap", "xmlattr", NULL};

int jj_filter_lookup(jstr name) {
    for (size_t i = 0; i < sizeof FILTERS / sizeof FILTERS[0]; i++)
        if (jstr_eq_c(name, FILTERS[i].name)) return (int)i;
    for (int i = 0; UNSUPPORTED_FILTERS[i]; i++)
        if (jstr_eq_c(name, UNSUPPORTED_FILTERS[i])) return JJ_UNSUPPORTED_NAME;
    return -1;
}

accel_status jj_apply_filter(jj_eval *ev, int fid, const jv *in, const jj_args *args, jv *out) {
    if (fid < 0 || (size_t)fid >= sizeof FILTERS / sizeof FILTERS[0])
        return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: bad filter index");
    if (!FILTERS[fid].gen) return FILTERS[fid].fn(ev, in, args, out);
    /* a generator: keep the call (the argument arrays live in the render's arena) and run it when consumed */
    jgen *g = jj_valloc(VM(ev), sizeof *g);
    if (!g) return VM(ev)->err->status;
    g->fid = fid;
    g->in = *in;
    g->pos = args->pos;
    g->npos = args->npos;
    g->kwn = args->kwn;
    g->kwv = args->kwv;
    g->nkw = args->nkw;
    g->type_name = "generator";
    g->func_name = FILTERS[fid].gen;
    out->t = JV_GEN;
    out->u.g = g;
    return ACCEL_OK;
}

accel_status jj_gen_fill(jj_eval *ev, jgen *g) {
    if (g->filled) return ACCEL_OK;
    g->filled = true; /* a generator that failed is finished, as in Python */
    jv list;
    accel_status st;
    if (FILTERS[g->fid].truthy_first && !jv_truthy(&g->in)) {
        st = new_list(ev, 0, &list);
    } else {
        jj_args a = {g->pos, g->npos, g->kwn, g->kwv, g->nkw};
        st = FILTERS[g->fid].fn(ev, &g->in, &a, &list);
    }
    if (st) {
        jv empty;
        if (new_list(ev, 0, &empty) == ACCEL_OK) g->items = empty.u.l;
        return st;
    }
    g->items = list.u.l;
    return ACCEL_OK;
}

static accel_status str_pred(jj_eval *ev, jstr s, int id, jv *out);
/* str(value).islower() / .isupper() */
static accel_status t_case(jj_eval *ev, const jv *v, int id, bool *o) {
    jstr s;
    jv r;
    accel_status st = to_str(ev, v, &s);
    if (st || (st = str_pred(ev, s, id, &r))) return st;
    *o = r.u.b;
    return ACCEL_OK;
}

/* ---- globals ----------------------------------------------------------------------------------------------- */

enum {
    G_RAISE, G_STRFTIME, G_RANGE, G_NAMESPACE, G_DICT, G_CYCLER, G_JOINER, G_LIPSUM,
};
static const char *const GLOBALS[] = {"raise_exception", "strftime_now", "range", "namespace", "dict",
                                      "cycler", "joiner", "lipsum", NULL};

bool jj_global_get(jstr name, jv *out, jj_vm *vm) {
    for (int i = 0; GLOBALS[i]; i++) {
        if (!jstr_eq_c(name, GLOBALS[i])) continue;
        jfunc *fn = jj_valloc(vm, sizeof *fn);
        if (!fn) return true; /* the caller sees the error status */
        fn->kind = JF_GLOBAL;
        fn->id = i;
        out->t = JV_FUNC;
        out->u.fn = fn;
        return true;
    }
    return false;
}

/* dict(*args, **kwargs) into d: one mapping or iterable of pairs, then keywords. */
static accel_status fill_dict(jj_eval *ev, const char *name, const jj_args *a, bool check_names, jv *d) {
    accel_status st;
    if (a->npos > 1) return jj_invalid(ev, "%s expected at most 1 argument, got %zu", name, a->npos);
    if (a->npos == 1) {
        const jv *src = &a->pos[0];
        if (src->t == JV_DICT || src->t == JV_NS) {
            for (size_t i = 0; i < src->u.d->n; i++)
                if ((st = jv_dict_set(VM(ev), d, src->u.d->k[i], src->u.d->v[i]))) return st;
        } else {
            jv items;
            if ((st = jj_iterate(ev, src, &items))) return st;
            for (size_t i = 0; i < items.u.l->n; i++) {
                const jv *pair = &items.u.l->v[i];
                if (!jv_is_seq(pair) || pair->u.l->n != 2)
                    return jj_invalid(ev, "dictionary update sequence element #%zu has the wrong length", i);
                if ((st = jv_dict_set(VM(ev), d, pair->u.l->v[0], pair->u.l->v[1]))) return st;
            }
        }
    }
    for (size_t k = 0; k < a->nkw; k++)
        if ((st = jv_dict_set(VM(ev), d, jv_str(a->kwn[k].p, a->kwn[k].n), a->kwv[k]))) return st;
    if (check_names)
        for (size_t i = 0; i < d->u.d->n; i++) {
            const jv *k = &d->u.d->k[i];
            if (k->t == JV_STR && k->u.s.n && k->u.s.p[0] == '_')
                return jj_invalid(ev, "Chat templates cannot store underscore-prefixed attributes on a namespace, "
                                      "but got '%.*s'. Please rename the attribute.",
                                  (int)k->u.s.n, k->u.s.p);
        }
    return ACCEL_OK;
}

static accel_status call_global(jj_eval *ev, int id, const jj_args *a, jv *out) {
    accel_status st;
    switch (id) {
    case G_RAISE: {
        static const char *const P[] = {"message"};
        jv msg;
        jstr s;
        if ((st = bind(ev, "raise_exception", P, 1, a, &msg))) return st;
        if (!given(&msg) && a->npos == 0)
            return jj_invalid(ev, "raise_exception() missing 1 required positional argument: 'message'");
        if ((st = to_str(ev, &msg, &s))) return st;
        jj_eval_mark_raised(ev);
        return jj_invalid(ev, "%.*s", (int)(s.n > 500 ? 500 : s.n), s.p);
    }
    case G_STRFTIME: {
        static const char *const P[] = {"format"};
        jv f;
        jstr s;
        if ((st = bind(ev, "strftime_now", P, 1, a, &f)) || (st = to_str(ev, &f, &s))) return st;
        if (s.n > 200) return jj_invalid(ev, "strftime_now: format too long");
        char fmt[256], buf[1024];
        if (s.n) memcpy(fmt, s.p, s.n);
        fmt[s.n] = '\0';
        time_t now = time(NULL);
        struct tm tmv;
        localtime_r(&now, &tmv);
        size_t n = strftime(buf, sizeof buf, fmt, &tmv);
        *out = jv_strdup(VM(ev), buf, n, &st);
        return st;
    }
    case G_RANGE: {
        int64_t r[3] = {0, 0, 1};
        if (a->nkw) return jj_invalid(ev, "range() takes no keyword arguments");
        if (a->npos < 1 || a->npos > 3) return jj_invalid(ev, "range expected 1 to 3 arguments, got %zu", a->npos);
        for (size_t i = 0; i < a->npos; i++)
            if ((st = need_int(ev, &a->pos[i], "range", &r[i]))) return st;
        if (a->npos == 1) {
            r[1] = r[0];
            r[0] = 0;
        }
        if (r[2] == 0) return jj_invalid(ev, "range() arg 3 must not be zero");
        /* the sandbox's safe_range */
        double len = r[2] > 0 ? ceil(((double)r[1] - (double)r[0]) / (double)r[2])
                              : ceil(((double)r[0] - (double)r[1]) / (double)-r[2]);
        if (len < 0) len = 0;
        if (len > 100000)
            return jj_invalid(ev, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        if ((st = new_list(ev, (size_t)len, out))) return st;
        for (size_t i = 0; i < (size_t)len; i++) out->u.l->v[i] = jv_int(r[0] + (int64_t)i * r[2]);
        out->u.l->view = JL_RANGE;
        memcpy(out->u.l->range, r, sizeof r);
        return ACCEL_OK;
    }
    case G_NAMESPACE:
    case G_DICT:
        if ((st = jv_new_dict(VM(ev), 4, id == G_NAMESPACE ? JV_NS : JV_DICT, out))) return st;
        return fill_dict(ev, id == G_NAMESPACE ? "namespace" : "dict", a, id == G_NAMESPACE, out);
    default:
        return jj_unsupported(ev, "the global '%s' is not supported", GLOBALS[id]);
    }
}

/* ---- methods ----------------------------------------------------------------------------------------------- */

enum {
    M_STRIP, M_LSTRIP, M_RSTRIP, M_SPLIT, M_RSPLIT, M_SPLITLINES, M_STARTSWITH, M_ENDSWITH, M_UPPER, M_LOWER,
    M_TITLE, M_CAPITALIZE, M_SWAPCASE, M_REPLACE, M_FIND, M_RFIND, M_INDEX_S, M_RINDEX, M_COUNT_S, M_JOIN,
    M_ISDIGIT, M_ISALPHA, M_ISALNUM, M_ISSPACE, M_ISLOWER, M_ISUPPER, M_ISTITLE, M_ISNUMERIC, M_ISDECIMAL,
    M_ISASCII, M_ZFILL, M_CENTER, M_LJUST, M_RJUST, M_FORMAT, M_REMOVEPREFIX, M_REMOVESUFFIX, M_PARTITION,
    M_RPARTITION,
    M_GET, M_ITEMS, M_KEYS, M_VALUES, M_DCOPY,
    M_INDEX_L, M_COUNT_L, M_LCOPY,
};

typedef struct method_def {
    const char *name;
    int id;
} method_def;

static const method_def STR_METHODS[] = {
    {"strip", M_STRIP}, {"lstrip", M_LSTRIP}, {"rstrip", M_RSTRIP}, {"split", M_SPLIT}, {"rsplit", M_RSPLIT},
    {"splitlines", M_SPLITLINES}, {"startswith", M_STARTSWITH}, {"endswith", M_ENDSWITH}, {"upper", M_UPPER},
    {"lower", M_LOWER}, {"title", M_TITLE}, {"capitalize", M_CAPITALIZE}, {"swapcase", M_SWAPCASE},
    {"replace", M_REPLACE}, {"find", M_FIND}, {"rfind", M_RFIND}, {"index", M_INDEX_S}, {"rindex", M_RINDEX},
    {"count", M_COUNT_S}, {"join", M_JOIN}, {"isdigit", M_ISDIGIT}, {"isalpha", M_ISALPHA}, {"isalnum", M_ISALNUM},
    {"isspace", M_ISSPACE}, {"islower", M_ISLOWER}, {"isupper", M_ISUPPER}, {"istitle", M_ISTITLE},
    {"isnumeric", M_ISNUMERIC}, {"isdecimal", M_ISDECIMAL}, {"isascii", M_ISASCII}, {"zfill", M_ZFILL},
    {"center", M_CENTER}, {"ljust", M_LJUST}, {"rjust", M_RJUST}, {"format", M_FORMAT},
    {"removeprefix", M_REMOVEPREFIX}, {"removesuffix", M_REMOVESUFFIX}, {"partition", M_PARTITION},
    {"rpartition", M_RPARTITION}, {NULL, 0},
};
/* other attributes Python's str has: known, so that using them is reported as unsupported, not undefined */
static const char *const STR_UNSUPPORTED[] = {"casefold", "encode", "expandtabs", "format_map", "isidentifier",
                                              "isprintable", "maketrans", "translate", NULL};
static const method_def DICT_METHODS[] = {
    {"get", M_GET}, {"items", M_ITEMS}, {"keys", M_KEYS}, {"values", M_VALUES}, {"copy", M_DCOPY}, {NULL, 0},
};
static const char *const DICT_UNSAFE[] = {"clear", "pop", "popitem", "setdefault", "update", NULL};
static const char *const DICT_UNSUPPORTED[] = {"fromkeys", NULL};
static const method_def LIST_METHODS[] = {{"index", M_INDEX_L}, {"count", M_COUNT_L}, {"copy", M_LCOPY}, {NULL, 0}};
static const char *const LIST_UNSAFE[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort",
                                          NULL};
static const method_def TUPLE_METHODS[] = {{"index", M_INDEX_L}, {"count", M_COUNT_L}, {NULL, 0}};

static int find_method(const method_def *defs, jstr name) {
    for (int i = 0; defs[i].name; i++)
        if (jstr_eq_c(name, defs[i].name)) return defs[i].id;
    return -1;
}

static bool in_names(const char *const *names, jstr name) {
    for (int i = 0; names[i]; i++)
        if (jstr_eq_c(name, names[i])) return true;
    return false;
}

static accel_status bound_method(jj_eval *ev, int id, const jv *self, jv *out) {
    jfunc *fn = jj_valloc(VM(ev), sizeof *fn);
    if (!fn) return VM(ev)->err->status;
    fn->kind = JF_METHOD;
    fn->id = id;
    fn->self = *self;
    out->t = JV_FUNC;
    out->u.fn = fn;
    return ACCEL_OK;
}

static jv unsafe_attr(jj_eval *ev, const jv *obj, jstr name) {
    char msg[300];
    int n = snprintf(msg, sizeof msg, "access to attribute '%.*s' of '%s' object is unsafe.",
                     (int)(name.n > 100 ? 100 : name.n),
                     name.p, jv_type_name(obj));
    char *p = jj_alloc(VM(ev)->arena, (size_t)n + 1);
    if (p) memcpy(p, msg, (size_t)n + 1);
    return jv_undef(p);
}

static accel_status loop_attr(jj_eval *ev, const jv *obj, jstr name, jv *out) {
    const jloop *l = obj->u.loop;
    if (jstr_eq_c(name, "index")) *out = jv_int((int64_t)l->index0 + 1);
    else if (jstr_eq_c(name, "index0")) *out = jv_int((int64_t)l->index0);
    else if (jstr_eq_c(name, "revindex")) *out = jv_int((int64_t)(l->length - l->index0));
    else if (jstr_eq_c(name, "revindex0")) *out = jv_int((int64_t)(l->length - l->index0 - 1));
    else if (jstr_eq_c(name, "first")) *out = jv_bool(l->index0 == 0);
    else if (jstr_eq_c(name, "last")) *out = jv_bool(l->index0 + 1 == l->length);
    else if (jstr_eq_c(name, "length")) *out = jv_int((int64_t)l->length);
    else if (jstr_eq_c(name, "depth")) *out = jv_int(l->depth);
    else if (jstr_eq_c(name, "depth0")) *out = jv_int(l->depth - 1);
    else if (jstr_eq_c(name, "previtem"))
        *out = l->index0 > 0 ? l->items->v[l->index0 - 1] : jv_undef("there is no previous item");
    else if (jstr_eq_c(name, "nextitem"))
        *out = l->index0 + 1 < l->length ? l->items->v[l->index0 + 1] : jv_undef("there is no next item");
    else if (jstr_eq_c(name, "cycle")) {
        jfunc *fn = jj_valloc(VM(ev), sizeof *fn);
        if (!fn) return VM(ev)->err->status;
        fn->kind = JF_LOOP_CYCLE;
        fn->loop = obj->u.loop;
        out->t = JV_FUNC;
        out->u.fn = fn;
    } else if (jstr_eq_c(name, "changed")) {
        return jj_unsupported(ev, "loop.changed() is not supported");
    } else {
        *out = jj_undef_attr(ev, obj, name);
    }
    return ACCEL_OK;
}

accel_status jj_getattr_only(jj_eval *ev, const jv *obj, jstr name, jv *out) {
    if (name.n >= 2 && name.p[0] == '_' && name.p[1] == '_') {
        *out = unsafe_attr(ev, obj, name);
        return ACCEL_OK;
    }
    int id = -1;
    switch (obj->t) {
    case JV_LOOP: return loop_attr(ev, obj, name, out);
    case JV_NS:
        if (jv_dict_get(obj, &(jv){.t = JV_STR, .u.s = name}, out)) return ACCEL_OK;
        *out = jj_undef_attr(ev, obj, name);
        return ACCEL_OK;
    case JV_STR:
        if ((id = find_method(STR_METHODS, name)) >= 0) return bound_method(ev, id, obj, out);
        if (in_names(STR_UNSUPPORTED, name))
            return jj_unsupported(ev, "the str.%.*s() method is not supported", (int)name.n, name.p);
        break;
    case JV_DICT:
        if ((id = find_method(DICT_METHODS, name)) >= 0) return bound_method(ev, id, obj, out);
        if (in_names(DICT_UNSAFE, name)) {
            *out = unsafe_attr(ev, obj, name);
            return ACCEL_OK;
        }
        if (in_names(DICT_UNSUPPORTED, name))
            return jj_unsupported(ev, "the dict.%.*s() method is not supported", (int)name.n, name.p);
        break;
    case JV_LIST:
        if ((id = find_method(LIST_METHODS, name)) >= 0) return bound_method(ev, id, obj, out);
        if (in_names(LIST_UNSAFE, name)) {
            *out = unsafe_attr(ev, obj, name);
            return ACCEL_OK;
        }
        break;
    case JV_TUPLE:
        if ((id = find_method(TUPLE_METHODS, name)) >= 0) return bound_method(ev, id, obj, out);
        break;
    default: break;
    }
    *out = jj_undef_attr(ev, obj, name);
    return ACCEL_OK;
}

accel_status jj_getattr(jj_eval *ev, const jv *obj, jstr name, jv *out) {
    accel_status st = jj_getattr_only(ev, obj, name, out);
    if (st || out->t != JV_UNDEF || obj->t != JV_DICT) return st;
    if (name.n >= 2 && name.p[0] == '_' && name.p[1] == '_') return ACCEL_OK;
    jv found;
    if (jv_dict_get(obj, &(jv){.t = JV_STR, .u.s = name}, &found)) *out = found;
    return ACCEL_OK;
}

/* startswith/endswith: prefix is a string or a tuple of strings; optional start/end in code points */
static accel_status affix(jj_eval *ev, jstr s, const jj_args *a, bool ends, bool *out) {
    static const char *const P[] = {"prefix", "start", "end"};
    jv p[3];
    accel_status st = bind(ev, ends ? "endswith" : "startswith", P, 3, a, p);
    if (st) return st;
    int64_t start = 0, end = INT64_MAX;
    if (given(&p[1]) && p[1].t != JV_NONE && (st = need_int(ev, &p[1], "startswith", &start))) return st;
    if (given(&p[2]) && p[2].t != JV_NONE && (st = need_int(ev, &p[2], "startswith", &end))) return st;
    size_t b = jj_cp_to_byte(s, start), e = end == INT64_MAX ? s.n : jj_cp_to_byte(s, end);
    if (e < b) {
        *out = false;
        return ACCEL_OK;
    }
    jstr sub = {s.p + b, e - b};
    const jv *cands = &p[0];
    size_t nc = 1;
    if (jv_is_seq(&p[0])) {
        cands = p[0].u.l->v;
        nc = p[0].u.l->n;
    }
    *out = false;
    for (size_t i = 0; i < nc; i++) {
        if (cands[i].t != JV_STR)
            return jj_invalid(ev, "%s first arg must be str or a tuple of str, not %s",
                              ends ? "endswith" : "startswith", jv_type_name(&cands[i]));
        jstr x = cands[i].u.s;
        if (x.n <= sub.n && memcmp(ends ? sub.p + sub.n - x.n : sub.p, x.p, x.n) == 0) *out = true;
    }
    return ACCEL_OK;
}

static accel_status str_pred(jj_eval *ev, jstr s, int id, jv *out) {
    (void)ev;
    bool any = false, all = true, has_cased = false, ok_title = true, prev_cased = false;
    size_t i = 0;
    while (i < s.n) {
        uint32_t c;
        i = jj_utf8_next(s.p, s.n, i, &c);
        any = true;
        switch (id) {
        case M_ISDIGIT: case M_ISDECIMAL: case M_ISNUMERIC: all = all && jj_py_isdigit(c); break;
        case M_ISALPHA: all = all && jj_py_isalpha(c); break;
        case M_ISALNUM: all = all && jj_py_isalnum(c); break;
        case M_ISSPACE: all = all && jj_py_isspace(c); break;
        case M_ISASCII: all = all && c < 0x80; break;
        case M_ISLOWER:
            if (jj_py_isupperc(c)) all = false;
            if (jj_py_islowerc(c)) has_cased = true;
            break;
        case M_ISUPPER:
            if (jj_py_islowerc(c)) all = false;
            if (jj_py_isupperc(c)) has_cased = true;
            break;
        case M_ISTITLE:
            if (jj_py_isupperc(c)) {
                if (prev_cased) ok_title = false;
                prev_cased = has_cased = true;
            } else if (jj_py_islowerc(c)) {
                if (!prev_cased) ok_title = false;
                prev_cased = has_cased = true;
            } else {
                prev_cased = false;
            }
            break;
        }
    }
    bool r;
    if (id == M_ISASCII) r = all;
    else if (id == M_ISLOWER || id == M_ISUPPER) r = all && has_cased;
    else if (id == M_ISTITLE) r = ok_title && has_cased;
    else r = any && all;
    *out = jv_bool(r);
    return ACCEL_OK;
}

static accel_status call_str_method(jj_eval *ev, int id, jstr s, const jj_args *a, jv *out) {
    accel_status st = jj_work(VM(ev), s.n); /* every str method scans (at most) the string once */
    jv p[3];
    if (st) return st;
    switch (id) {
    case M_STRIP: case M_LSTRIP: case M_RSTRIP: {
        static const char *const P[] = {"chars"};
        jstr chars;
        if ((st = bind(ev, "strip", P, 1, a, p))) return st;
        bool have = given(&p[0]) && p[0].t != JV_NONE;
        if (have) {
            if (p[0].t != JV_STR) return jj_invalid(ev, "strip arg must be None or str");
            chars = p[0].u.s;
        }
        jstr r = jj_strip(s, have ? &chars : NULL, id != M_RSTRIP, id != M_LSTRIP);
        *out = jv_str(r.p, r.n);
        return ACCEL_OK;
    }
    case M_SPLIT: case M_RSPLIT: {
        static const char *const P[] = {"sep", "maxsplit"};
        int64_t maxsplit = -1;
        if ((st = bind(ev, "split", P, 2, a, p))) return st;
        if (given(&p[1]) && (st = need_int(ev, &p[1], "split", &maxsplit))) return st;
        bool have = given(&p[0]) && p[0].t != JV_NONE;
        if (have && p[0].t != JV_STR) return jj_invalid(ev, "must be str or None, not %s", jv_type_name(&p[0]));
        return jj_split(ev, s, have ? &p[0].u.s : NULL, maxsplit, id == M_RSPLIT, out);
    }
    case M_SPLITLINES: {
        static const char *const P[] = {"keepends"};
        if ((st = bind(ev, "splitlines", P, 1, a, p))) return st;
        return jj_splitlines(ev, s, given(&p[0]) && jv_truthy(&p[0]), out);
    }
    case M_STARTSWITH: case M_ENDSWITH: {
        bool r;
        if ((st = affix(ev, s, a, id == M_ENDSWITH, &r))) return st;
        *out = jv_bool(r);
        return ACCEL_OK;
    }
    case M_UPPER: case M_LOWER: case M_TITLE: case M_CAPITALIZE: case M_SWAPCASE:
        if ((st = bind(ev, "str method", NULL, 0, a, NULL))) return st;
        return jj_change_case(ev, s, id == M_UPPER ? JJ_CASE_UPPER : id == M_LOWER ? JJ_CASE_LOWER
                                     : id == M_TITLE ? JJ_CASE_TITLE : id == M_CAPITALIZE ? JJ_CASE_CAPITALIZE
                                     : JJ_CASE_SWAP, out);
    case M_REPLACE: {
        static const char *const P[] = {"old", "new", "count"};
        int64_t count = -1;
        if ((st = bind(ev, "replace", P, 3, a, p))) return st;
        if (p[0].t != JV_STR || p[1].t != JV_STR) return jj_invalid(ev, "replace() arguments must be str");
        if (given(&p[2]) && (st = need_int(ev, &p[2], "replace", &count))) return st;
        return jj_replace(ev, s, p[0].u.s, p[1].u.s, count, out);
    }
    case M_FIND: case M_RFIND: case M_INDEX_S: case M_RINDEX: case M_COUNT_S: {
        static const char *const P[] = {"sub", "start", "end"};
        int64_t start = 0, end = INT64_MAX;
        if ((st = bind(ev, "find", P, 3, a, p))) return st;
        if (p[0].t != JV_STR) return jj_invalid(ev, "must be str, not %s", jv_type_name(&p[0]));
        if (given(&p[1]) && p[1].t != JV_NONE && (st = need_int(ev, &p[1], "find", &start))) return st;
        if (given(&p[2]) && p[2].t != JV_NONE && (st = need_int(ev, &p[2], "find", &end))) return st;
        size_t b = jj_cp_to_byte(s, start), e = end == INT64_MAX ? s.n : jj_cp_to_byte(s, end);
        jstr sub = p[0].u.s;
        if (id == M_COUNT_S) {
            int64_t c = 0;
            if (e >= b) {
                jstr range = {s.p, e};
                if (sub.n == 0) c = (int64_t)jj_utf8_count(s.p + b, e - b) + 1;
                else
                    for (size_t i = b; i + sub.n <= e;) {
                        const char *h = jj_find_sub(range, i, sub);
                        if (!h) break;
                        c++;
                        i = (size_t)(h - s.p) + sub.n;
                    }
            }
            *out = jv_int(c);
            return ACCEL_OK;
        }
        const char *h = NULL;
        if (e >= b) {
            jstr range = {s.p, e};
            h = (id == M_FIND || id == M_INDEX_S) ? jj_find_sub(range, b, sub) : jj_rfind_sub(range, e, sub);
            if (h && (size_t)(h - s.p) < b) h = NULL;
        }
        if (!h) {
            if (id == M_INDEX_S || id == M_RINDEX) return jj_invalid(ev, "substring not found");
            *out = jv_int(-1);
        } else {
            *out = jv_int((int64_t)jj_utf8_count(s.p, (size_t)(h - s.p)));
        }
        return ACCEL_OK;
    }
    case M_JOIN: {
        static const char *const P[] = {"iterable"};
        jv items;
        if ((st = bind(ev, "join", P, 1, a, p)) || (st = jj_iterate(ev, &p[0], &items))) return st;
        for (size_t i = 0; i < items.u.l->n; i++)
            if (items.u.l->v[i].t != JV_STR)
                return jj_invalid(ev, "sequence item %zu: expected str instance, %s found", i,
                                  jv_type_name(&items.u.l->v[i]));
        return join_values(ev, &items, s, out);
    }
    case M_ISDIGIT: case M_ISALPHA: case M_ISALNUM: case M_ISSPACE: case M_ISLOWER: case M_ISUPPER:
    case M_ISTITLE: case M_ISNUMERIC: case M_ISDECIMAL: case M_ISASCII:
        if ((st = bind(ev, "str method", NULL, 0, a, NULL))) return st;
        return str_pred(ev, s, id, out);
    case M_ZFILL: {
        static const char *const P[] = {"width"};
        int64_t w = 0;
        if ((st = bind(ev, "zfill", P, 1, a, p)) || (st = need_int(ev, &p[0], "zfill", &w))) return st;
        int64_t len = (int64_t)jj_utf8_count(s.p, s.n);
        if (w <= len) {
            *out = jv_str(s.p, s.n);
            return ACCEL_OK;
        }
        if (w > (int64_t)JJ_MAX_OUTPUT) return jj_invalid(ev, "the template built a string longer than the limit");
        jbuf b;
        jbuf_init(&b, JJ_MAX_OUTPUT);
        size_t k = 0;
        if (s.n && (s.p[0] == '+' || s.p[0] == '-')) jbuf_putc(&b, s.p[k++]);
        for (int64_t i = 0; i < w - len; i++) jbuf_putc(&b, '0');
        jbuf_put(&b, s.p + k, s.n - k);
        st = jj_new_str(ev, &b, out);
        jbuf_free(&b);
        return st;
    }
    case M_CENTER: case M_LJUST: case M_RJUST: {
        static const char *const P[] = {"width", "fillchar"};
        int64_t w = 0;
        jstr fill = {" ", 1};
        if ((st = bind(ev, "center", P, 2, a, p)) || (st = need_int(ev, &p[0], "center", &w))) return st;
        if (given(&p[1])) {
            if (p[1].t != JV_STR) return jj_invalid(ev, "The fill character must be a unicode character");
            fill = p[1].u.s;
        }
        return jj_pad(ev, s, w, fill, id == M_CENTER ? 0 : id == M_LJUST ? -1 : 1, out);
    }
    case M_FORMAT: return jj_str_format(ev, s, a, out);
    case M_REMOVEPREFIX: case M_REMOVESUFFIX: {
        static const char *const P[] = {"affix"};
        if ((st = bind(ev, "removeprefix", P, 1, a, p))) return st;
        if (p[0].t != JV_STR) return jj_invalid(ev, "must be str, not %s", jv_type_name(&p[0]));
        jstr x = p[0].u.s;
        *out = jv_str(s.p, s.n);
        if (x.n <= s.n) {
            if (id == M_REMOVEPREFIX && memcmp(s.p, x.p, x.n) == 0) *out = jv_str(s.p + x.n, s.n - x.n);
            if (id == M_REMOVESUFFIX && x.n && memcmp(s.p + s.n - x.n, x.p, x.n) == 0) *out = jv_str(s.p, s.n - x.n);
        }
        return ACCEL_OK;
    }
    case M_PARTITION: case M_RPARTITION: {
        static const char *const P[] = {"sep"};
        if ((st = bind(ev, "partition", P, 1, a, p))) return st;
        if (p[0].t != JV_STR) return jj_invalid(ev, "must be str, not %s", jv_type_name(&p[0]));
        if (p[0].u.s.n == 0) return jj_invalid(ev, "empty separator");
        const char *h = id == M_PARTITION ? jj_find_sub(s, 0, p[0].u.s) : jj_rfind_sub(s, s.n, p[0].u.s);
        if ((st = jv_new_list(VM(ev), 3, JV_TUPLE, out))) return st;
        jv *v = out->u.l->v;
        if (!h) {
            v[0] = id == M_PARTITION ? jv_str(s.p, s.n) : jv_str("", 0);
            v[1] = jv_str("", 0);
            v[2] = id == M_PARTITION ? jv_str("", 0) : jv_str(s.p, s.n);
        } else {
            size_t k = (size_t)(h - s.p);
            v[0] = jv_str(s.p, k);
            v[1] = p[0];
            v[2] = jv_str(s.p + k + p[0].u.s.n, s.n - k - p[0].u.s.n);
        }
        return ACCEL_OK;
    }
    default: return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: bad str method");
    }
}

static accel_status call_method(jj_eval *ev, const jfunc *fn, const jj_args *a, jv *out) {
    accel_status st;
    const jv *self = &fn->self;
    jv p[2];
    if (self->t == JV_STR) return call_str_method(ev, fn->id, self->u.s, a, out);
    switch (fn->id) {
    case M_GET: {
        static const char *const P[] = {"key", "default"};
        if ((st = bind(ev, "get", P, 2, a, p))) return st;
        if (!given(&p[0]) && a->npos == 0) return jj_invalid(ev, "get expected at least 1 argument, got 0");
        if (p[0].t == JV_LIST || p[0].t == JV_DICT) return jj_invalid(ev, "unhashable type: '%s'", jv_type_name(&p[0]));
        if (!jv_dict_get(self, &p[0], out)) *out = given(&p[1]) ? p[1] : jv_none();
        return ACCEL_OK;
    }
    case M_ITEMS: case M_KEYS: case M_VALUES: {
        if ((st = bind(ev, "items", NULL, 0, a, NULL))) return st;
        size_t n = self->u.d->n;
        if ((st = new_list(ev, n, out))) return st;
        out->u.l->view = fn->id == M_KEYS ? JL_DICT_KEYS : fn->id == M_VALUES ? JL_DICT_VALUES : JL_DICT_ITEMS;
        for (size_t i = 0; i < n; i++) {
            if (fn->id == M_KEYS) out->u.l->v[i] = self->u.d->k[i];
            else if (fn->id == M_VALUES) out->u.l->v[i] = self->u.d->v[i];
            else if ((st = make_pair(ev, self->u.d->k[i], self->u.d->v[i], &out->u.l->v[i]))) return st;
        }
        return ACCEL_OK;
    }
    case M_DCOPY: case M_LCOPY:
        if ((st = bind(ev, "copy", NULL, 0, a, NULL))) return st;
        *out = *self; /* containers are immutable in a render, so the copy can share */
        return ACCEL_OK;
    case M_INDEX_L: case M_COUNT_L: {
        static const char *const P[] = {"value"};
        if ((st = bind(ev, fn->id == M_INDEX_L ? "index" : "count", P, 1, a, p))) return st;
        int64_t count = 0;
        for (size_t i = 0; i < self->u.l->n; i++) {
            bool eq;
            if ((st = jv_eq(VM(ev), &self->u.l->v[i], &p[0], &eq, 0))) return st;
            if (eq) {
                if (fn->id == M_INDEX_L) {
                    *out = jv_int((int64_t)i);
                    return ACCEL_OK;
                }
                count++;
            }
        }
        if (fn->id == M_INDEX_L) return jj_invalid(ev, "value is not in list");
        *out = jv_int(count);
        return ACCEL_OK;
    }
    default: return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: bad method");
    }
}

static accel_status t_lower(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)a;
    return t_case(ev, v, M_ISLOWER, o);
}
static accel_status t_upper(jj_eval *ev, const jv *v, const jj_args *a, bool *o) {
    (void)a;
    return t_case(ev, v, M_ISUPPER, o);
}

accel_status jj_call_builtin(jj_eval *ev, const jv *fnv, const jj_args *args, jv *out) {
    const jfunc *fn = fnv->u.fn;
    switch (fn->kind) {
    case JF_GLOBAL: return call_global(ev, fn->id, args, out);
    case JF_METHOD: return call_method(ev, fn, args, out);
    case JF_LOOP_CYCLE:
        if (args->nkw) return jj_invalid(ev, "cycle() takes no keyword arguments");
        if (args->npos == 0) return jj_invalid(ev, "no items for cycling given");
        *out = args->pos[fn->loop->index0 % args->npos];
        return ACCEL_OK;
    default: return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: bad callable");
    }
}
