/* Jinja evaluator: walks the syntax tree with Python's semantics and Jinja's scoping rules:
 *  - a template-level {% set %} (also inside if blocks) writes the template scope;
 *  - each for-loop iteration gets a fresh scope (a set inside the body is gone at the next iteration and after
 *    the loop), reading the enclosing ones;
 *  - macros see their arguments and the template scope; with/generation blocks get their own scope;
 *  - namespace() objects are the way to carry state out of a loop ({% set ns.x = ... %}).
 * Undefined values behave as jinja2.Undefined: printing gives "", they are falsy and iterate as empty, while
 * attribute access, arithmetic and calls raise (ACCEL_ERR_INVALID_ARG with Jinja's message). */
#include "text/jinja_eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JJ_MAX_EVAL_DEPTH 1000

typedef struct jframe jframe;
struct jframe {
    jframe *parent;
    size_t n, cap;
    jstr *names;
    jv *vals;
};

struct jj_eval {
    jj_vm vm;
    jj_err *err;
    const jj_source *src;
    jframe *root, *frame;
    jbuf *out;
    int ctl; /* 1 break, 2 continue */
    int depth, call_depth;
    bool err_pos_set, raised;
    size_t err_pos;
    const jnode *at;
};

jj_vm *jj_eval_vm(jj_eval *ev) { return &ev->vm; }

accel_status jj_eval_fail(jj_eval *ev, accel_status st, const char *fmt, ...) {
    if (ev->err->status != ACCEL_OK) return ev->err->status;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jj_fail(ev->err, st, "%s", msg);
}

void jj_eval_mark_raised(jj_eval *ev) { ev->raised = true; }

accel_status jj_eval_undefined_error(jj_eval *ev, const jv *v) {
    return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "%s", jv_undef_msg(v));
}

/* ---- scopes ------------------------------------------------------------------------------------------------ */

static jframe *frame_new(jj_eval *ev, jframe *parent) {
    jframe *f = jj_valloc(&ev->vm, sizeof *f);
    if (f) f->parent = parent;
    return f;
}

static accel_status frame_set(jj_eval *ev, jframe *f, jstr name, jv v) {
    for (size_t i = 0; i < f->n; i++)
        if (f->names[i].n == name.n && memcmp(f->names[i].p, name.p, name.n) == 0) {
            f->vals[i] = v;
            return ACCEL_OK;
        }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        jstr *nn = jj_valloc(&ev->vm, cap * sizeof *nn);
        jv *nv = jj_valloc(&ev->vm, cap * sizeof *nv);
        if (!nn || !nv) return ev->err->status;
        if (f->n) {
            memcpy(nn, f->names, f->n * sizeof *nn);
            memcpy(nv, f->vals, f->n * sizeof *nv);
        }
        f->names = nn;
        f->vals = nv;
        f->cap = cap;
    }
    f->names[f->n] = name;
    f->vals[f->n] = v;
    f->n++;
    return ACCEL_OK;
}

static bool frame_lookup(const jframe *f, jstr name, jv *out) {
    for (; f; f = f->parent)
        for (size_t i = f->n; i-- > 0;)
            if (f->names[i].n == name.n && memcmp(f->names[i].p, name.p, name.n) == 0) {
                *out = f->vals[i];
                return true;
            }
    return false;
}

/* An undefined with a message built now (the message is kept in the arena). */
static jv undef_fmt(jj_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static jv undef_fmt(jj_eval *ev, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
    char *p = jj_alloc(ev->vm.arena, (size_t)n + 1);
    if (p) memcpy(p, msg, (size_t)n + 1);
    return jv_undef(p);
}

/* Python repr of a short value for messages ('x', 0). */
static void short_repr(jj_eval *ev, const jv *v, char *out, size_t cap) {
    jbuf b;
    jbuf_init(&b, 200);
    jj_err e = {0};
    jj_vm vm = {ev->vm.arena, &e, 0, 0};
    jv_repr(&vm, v, &b, 0);
    snprintf(out, cap, "%s", b.p ? b.p : "");
    jbuf_free(&b);
}

/* Jinja's object_type_repr: "None", or "<type> object". */
static void type_repr(const jv *v, char *out, size_t cap) {
    if (v->t == JV_NONE) snprintf(out, cap, "None");
    else snprintf(out, cap, "%s object", jv_type_name(v));
}

jv jj_undef_attr(jj_eval *ev, const jv *obj, jstr name) {
    char t[64];
    type_repr(obj, t, sizeof t);
    return undef_fmt(ev, "'%s' has no attribute '%.*s'", t, (int)(name.n > 200 ? 200 : name.n), name.p);
}

static jv undef_item(jj_eval *ev, const jv *obj, const jv *key) {
    char t[64], k[220];
    type_repr(obj, t, sizeof t);
    short_repr(ev, key, k, sizeof k);
    if (key->t == JV_STR) return undef_fmt(ev, "'%s' has no attribute %s", t, k);
    return undef_fmt(ev, "%s has no element %s", t, k);
}

/* ---- iteration, items, slices ------------------------------------------------------------------------------ */

accel_status jj_iterate(jj_eval *ev, const jv *v, jv *out) {
    accel_status st;
    switch (v->t) {
    case JV_LIST:
    case JV_TUPLE:
        if ((st = jj_step(&ev->vm, v->u.l->n))) return st;
        *out = *v;
        out->t = JV_LIST;
        return ACCEL_OK;
    case JV_UNDEF: return jv_new_list(&ev->vm, 0, JV_LIST, out);
    case JV_GEN: { /* the items not consumed yet; afterwards the generator is exhausted */
        jgen *g = v->u.g;
        if ((st = jj_gen_fill(ev, g))) return st;
        size_t n = g->items->n - g->next;
        if ((st = jv_new_list(&ev->vm, n, JV_LIST, out))) return st;
        if (n) memcpy(out->u.l->v, g->items->v + g->next, n * sizeof(jv));
        g->next = g->items->n;
        return ACCEL_OK;
    }
    case JV_DICT:
        if ((st = jj_step(&ev->vm, v->u.d->n))) return st;
        if ((st = jv_new_list(&ev->vm, v->u.d->n, JV_LIST, out))) return st;
        for (size_t i = 0; i < v->u.d->n; i++) out->u.l->v[i] = v->u.d->k[i];
        return ACCEL_OK;
    case JV_STR: {
        size_t n = jv_str_len(v);
        if ((st = jj_step(&ev->vm, n)) || (st = jj_work(&ev->vm, v->u.s.n))) return st;
        if ((st = jv_new_list(&ev->vm, n, JV_LIST, out))) return st;
        size_t i = 0, k = 0;
        while (i < v->u.s.n) {
            uint32_t cp;
            size_t next = jj_utf8_next(v->u.s.p, v->u.s.n, i, &cp);
            out->u.l->v[k++] = jv_str(v->u.s.p + i, next - i);
            i = next;
        }
        return ACCEL_OK;
    }
    default:
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "'%s' object is not iterable", jv_type_name(v));
    }
}

static bool as_index(const jv *v, int64_t *i) {
    if (v->t == JV_INT) *i = v->u.i;
    else if (v->t == JV_BOOL) *i = v->u.b;
    else return false;
    return true;
}

/* Byte offsets of every code point of s (n+1 entries). */
static accel_status cp_offsets(jj_eval *ev, jstr s, size_t **offs, size_t *n) {
    accel_status st = jj_work(&ev->vm, s.n);
    if (st) return st;
    size_t count = jj_utf8_count(s.p, s.n);
    size_t *o = jj_valloc(&ev->vm, (count + 1) * sizeof *o);
    if (!o) return ev->err->status;
    size_t i = 0, k = 0;
    while (i < s.n) {
        o[k++] = i;
        uint32_t cp;
        i = jj_utf8_next(s.p, s.n, i, &cp);
    }
    o[k] = s.n;
    *offs = o;
    *n = count;
    return ACCEL_OK;
}

static accel_status slice(jj_eval *ev, const jv *obj, const jv *parts, jv *out) {
    /* Jinja compiles slices to Python's own obj[a:b:c] (not through its getitem), so errors are raised */
    if (obj->t == JV_DICT) return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "unhashable type: 'slice'");
    if (!(obj->t == JV_STR || (jv_is_seq(obj) && (obj->u.l->view == JL_PLAIN || obj->u.l->view == JL_RANGE))))
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "'%s' object is not subscriptable", jv_type_name(obj));
    int64_t idx[3] = {0, 0, 1};
    bool given[3];
    for (int k = 0; k < 3; k++) {
        given[k] = parts[k].t != JV_NONE;
        if (given[k] && !as_index(&parts[k], &idx[k]))
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG,
                                "slice indices must be integers or None or have an __index__ method");
    }
    if (given[2] && idx[2] == 0) return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "slice step cannot be zero");
    int64_t step = given[2] ? idx[2] : 1;
    size_t *offs = NULL;
    size_t len = 0;
    accel_status st;
    if (obj->t == JV_STR) {
        if ((st = cp_offsets(ev, obj->u.s, &offs, &len))) return st;
    } else {
        len = obj->u.l->n;
    }
    int64_t L = (int64_t)len, bounds[2];
    for (int k = 0; k < 2; k++) {
        int64_t v = idx[k];
        if (!given[k]) v = k == 0 ? (step > 0 ? 0 : L - 1) : (step > 0 ? L : -1);
        else {
            if (v < 0) {
                v += L;
                if (v < 0) v = step < 0 ? -1 : 0;
            } else if (v >= L) {
                v = step < 0 ? L - 1 : L;
            }
        }
        bounds[k] = v;
    }
    size_t count = 0;
    if (step > 0 && bounds[0] < bounds[1]) count = (size_t)((bounds[1] - bounds[0] - 1) / step + 1);
    if (step < 0 && bounds[0] > bounds[1]) count = (size_t)((bounds[0] - bounds[1] - 1) / (-step) + 1);
    if (obj->t == JV_STR) {
        size_t bytes = 0;
        for (size_t k = 0; k < count; k++) {
            size_t c = (size_t)(bounds[0] + (int64_t)k * step);
            bytes += offs[c + 1] - offs[c];
        }
        char *d = jj_valloc(&ev->vm, bytes + 1);
        if (!d) return ev->err->status;
        size_t o = 0;
        for (size_t k = 0; k < count; k++) {
            size_t c = (size_t)(bounds[0] + (int64_t)k * step);
            memcpy(d + o, obj->u.s.p + offs[c], offs[c + 1] - offs[c]);
            o += offs[c + 1] - offs[c];
        }
        *out = jv_str(d, o);
        return ACCEL_OK;
    }
    if ((st = jv_new_list(&ev->vm, count, (jv_type)obj->t, out))) return st;
    for (size_t k = 0; k < count; k++) out->u.l->v[k] = obj->u.l->v[bounds[0] + (int64_t)k * step];
    if (obj->u.l->view == JL_RANGE) { /* a slice of a range is a range */
        const int64_t *r = obj->u.l->range;
        out->u.l->view = JL_RANGE;
        out->u.l->range[2] = r[2] * step;
        out->u.l->range[0] = count ? out->u.l->v[0].u.i : r[0];
        out->u.l->range[1] = count ? out->u.l->v[count - 1].u.i + out->u.l->range[2] : r[0];
        if (!count) { /* Python normalizes an empty slice of a range to range(x, x) of the computed start */
            int64_t s0 = r[0] + bounds[0] * r[2];
            out->u.l->range[0] = out->u.l->range[1] = s0;
        }
    }
    return ACCEL_OK;
}

accel_status jj_getitem(jj_eval *ev, const jv *obj, const jv *key, jv *out) {
    if (obj->t == JV_UNDEF) return jj_eval_undefined_error(ev, obj);
    int64_t i;
    if (jv_is_seq(obj) && (obj->u.l->view == JL_PLAIN || obj->u.l->view == JL_RANGE) && as_index(key, &i)) {
        int64_t n = (int64_t)obj->u.l->n;
        int64_t j = i < 0 ? i + n : i;
        if (j >= 0 && j < n) {
            *out = obj->u.l->v[j];
            return ACCEL_OK;
        }
        *out = undef_item(ev, obj, key);
        return ACCEL_OK;
    }
    if (obj->t == JV_STR && as_index(key, &i)) {
        size_t *offs = NULL, n = 0;
        accel_status st = cp_offsets(ev, obj->u.s, &offs, &n);
        if (st) return st;
        int64_t j = i < 0 ? i + (int64_t)n : i;
        if (j >= 0 && j < (int64_t)n) {
            *out = jv_str(obj->u.s.p + offs[j], offs[j + 1] - offs[j]);
            return ACCEL_OK;
        }
        *out = undef_item(ev, obj, key);
        return ACCEL_OK;
    }
    if (obj->t == JV_DICT) {
        if (jv_dict_get(obj, key, out)) return ACCEL_OK;
    }
    if (key->t == JV_STR) {
        if (obj->t == JV_DICT) {
            /* a missing key falls back to the dict's methods (d['items'] is the method), else undefined */
            accel_status st = jj_getattr_only(ev, obj, key->u.s, out);
            if (st || out->t != JV_UNDEF) return st;
            *out = undef_item(ev, obj, key);
            return ACCEL_OK;
        }
        return jj_getattr_only(ev, obj, key->u.s, out);
    }
    *out = undef_item(ev, obj, key);
    return ACCEL_OK;
}

/* ---- expressions ------------------------------------------------------------------------------------------- */

static accel_status eval(jj_eval *ev, const jnode *n, jv *out);

static accel_status overflow(jj_eval *ev) {
    return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "integer result does not fit in 64 bits");
}

static int64_t ival(const jv *v) { return v->t == JV_BOOL ? (int64_t)v->u.b : v->u.i; }
static bool is_intlike(const jv *v) { return v->t == JV_INT || v->t == JV_BOOL; }

static accel_status concat_seq(jj_eval *ev, const jv *a, const jv *b, jv *out) {
    accel_status st;
    if (a->t == JV_STR) {
        size_t n = a->u.s.n + b->u.s.n;
        if ((st = jj_work(&ev->vm, n))) return st;
        if (n > JJ_MAX_OUTPUT)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "the template built a string longer than the %zu MiB limit",
                                JJ_MAX_OUTPUT >> 20);
        char *d = jj_valloc(&ev->vm, n + 1);
        if (!d) return ev->err->status;
        if (a->u.s.n) memcpy(d, a->u.s.p, a->u.s.n);
        if (b->u.s.n) memcpy(d + a->u.s.n, b->u.s.p, b->u.s.n);
        *out = jv_str(d, n);
        return ACCEL_OK;
    }
    size_t na = a->u.l->n, nb = b->u.l->n;
    if ((st = jj_step(&ev->vm, na + nb))) return st;
    if ((st = jv_new_list(&ev->vm, na + nb, (jv_type)a->t, out))) return st;
    if (na) memcpy(out->u.l->v, a->u.l->v, na * sizeof(jv));
    if (nb) memcpy(out->u.l->v + na, b->u.l->v, nb * sizeof(jv));
    return ACCEL_OK;
}

static accel_status repeat_seq(jj_eval *ev, const jv *seq, int64_t count, jv *out) {
    accel_status st;
    if (count < 0) count = 0;
    if (seq->t == JV_STR) {
        if (seq->u.s.n && (uint64_t)count > JJ_MAX_OUTPUT / seq->u.s.n)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "the template built a string longer than the %zu MiB limit",
                                JJ_MAX_OUTPUT >> 20);
        size_t n = seq->u.s.n * (size_t)count;
        if ((st = jj_work(&ev->vm, n))) return st;
        char *d = jj_valloc(&ev->vm, n + 1);
        if (!d) return ev->err->status;
        if (seq->u.s.n)
            for (int64_t k = 0; k < count; k++) memcpy(d + (size_t)k * seq->u.s.n, seq->u.s.p, seq->u.s.n);
        *out = jv_str(d, n);
        return ACCEL_OK;
    }
    size_t m = seq->u.l->n;
    if (m && (uint64_t)count > JJ_MAX_LIST / m)
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "the template built a list longer than the limit of %zu items",
                            JJ_MAX_LIST);
    if ((st = jj_step(&ev->vm, m * (size_t)count))) return st;
    if ((st = jv_new_list(&ev->vm, m * (size_t)count, (jv_type)seq->t, out))) return st;
    if (m)
        for (int64_t k = 0; k < count; k++) memcpy(out->u.l->v + (size_t)k * m, seq->u.l->v, m * sizeof(jv));
    return ACCEL_OK;
}

static double py_fmod(double x, double y) {
    double m = fmod(x, y);
    if (m != 0.0) {
        if ((y < 0) != (m < 0)) m += y;
    } else {
        m = copysign(0.0, y);
    }
    return m;
}

static double py_floordiv(double x, double y) {
    double m = fmod(x, y);
    double div = (x - m) / y;
    if (m != 0.0 && ((y < 0) != (m < 0))) div -= 1.0;
    if (div != 0.0) {
        double fl = floor(div);
        if (div - fl > 0.5) fl += 1.0;
        return fl;
    }
    return copysign(0.0, x / y);
}

static const char *binop_sym(jop op) {
    switch (op) {
    case OP_ADD: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_FLOORDIV: return "//";
    case OP_MOD: return "%";
    case OP_POW: return "** or pow()";
    default: return "?";
    }
}

static accel_status unsupported_operands(jj_eval *ev, jop op, const jv *a, const jv *b) {
    return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "unsupported operand type(s) for %s: '%s' and '%s'", binop_sym(op),
                        jv_type_name(a), jv_type_name(b));
}

accel_status jj_binop(jj_eval *ev, jop op, const jv *a, const jv *b, jv *out) {
    /* str % x formats; an undefined x is a (subscriptable) mapping there, which need not be used */
    if (op == OP_MOD && a->t == JV_STR) return jj_percent_format(ev, a, b, out);
    if (a->t == JV_UNDEF) return jj_eval_undefined_error(ev, a);
    if (b->t == JV_UNDEF) return jj_eval_undefined_error(ev, b);
    bool nums = jv_is_num(a) && jv_is_num(b);
    bool ints = is_intlike(a) && is_intlike(b);
    switch (op) {
    case OP_ADD:
        if (ints) {
            int64_t r;
            if (__builtin_add_overflow(ival(a), ival(b), &r)) return overflow(ev);
            *out = jv_int(r);
            return ACCEL_OK;
        }
        if (nums) {
            *out = jv_float(jv_as_double(a) + jv_as_double(b));
            return ACCEL_OK;
        }
        if (a->t == b->t && (a->t == JV_STR || jv_is_seq(a))) return concat_seq(ev, a, b, out);
        if (a->t == JV_STR || jv_is_seq(a))
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "can only concatenate %s (not \"%s\") to %s",
                                jv_type_name(a),
                                jv_type_name(b), jv_type_name(a));
        return unsupported_operands(ev, op, a, b);
    case OP_SUB:
        if (ints) {
            int64_t r;
            if (__builtin_sub_overflow(ival(a), ival(b), &r)) return overflow(ev);
            *out = jv_int(r);
            return ACCEL_OK;
        }
        if (nums) {
            *out = jv_float(jv_as_double(a) - jv_as_double(b));
            return ACCEL_OK;
        }
        return unsupported_operands(ev, op, a, b);
    case OP_MUL:
        if (ints) {
            int64_t r;
            if (__builtin_mul_overflow(ival(a), ival(b), &r)) return overflow(ev);
            *out = jv_int(r);
            return ACCEL_OK;
        }
        if (nums) {
            *out = jv_float(jv_as_double(a) * jv_as_double(b));
            return ACCEL_OK;
        }
        if ((a->t == JV_STR || jv_is_seq(a)) && is_intlike(b)) return repeat_seq(ev, a, ival(b), out);
        if ((b->t == JV_STR || jv_is_seq(b)) && is_intlike(a)) return repeat_seq(ev, b, ival(a), out);
        if (a->t == JV_STR || jv_is_seq(a) || b->t == JV_STR || jv_is_seq(b))
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "can't multiply sequence by non-int of type '%s'",
                                jv_type_name(a->t == JV_STR || jv_is_seq(a) ? b : a));
        return unsupported_operands(ev, op, a, b);
    case OP_DIV:
        if (!nums) return unsupported_operands(ev, op, a, b);
        if (jv_as_double(b) == 0.0) return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "division by zero");
        if (ints) { /* exact when both fit a double; Python rounds the true quotient correctly */
            *out = jv_float((double)ival(a) / (double)ival(b));
            return ACCEL_OK;
        }
        *out = jv_float(jv_as_double(a) / jv_as_double(b));
        return ACCEL_OK;
    case OP_FLOORDIV:
    case OP_MOD:
        if (op == OP_MOD && a->t == JV_STR) return jj_percent_format(ev, a, b, out);
        if (!nums) return unsupported_operands(ev, op, a, b);
        if (ints) {
            int64_t x = ival(a), y = ival(b);
            if (y == 0)
                return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "%s",
                                    op == OP_MOD ? "integer modulo by zero" : "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == OP_MOD) {
                    *out = jv_int(0);
                    return ACCEL_OK;
                }
                return overflow(ev);
            }
            int64_t q = x / y, r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) {
                q -= 1;
                r += y;
            }
            *out = jv_int(op == OP_MOD ? r : q);
            return ACCEL_OK;
        }
        if (jv_as_double(b) == 0.0)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, op == OP_MOD ? "float modulo"
                                : "float floor division by zero");
        *out = jv_float(op == OP_MOD ? py_fmod(jv_as_double(a), jv_as_double(b))
                                     : py_floordiv(jv_as_double(a), jv_as_double(b)));
        return ACCEL_OK;
    case OP_POW:
        if (!nums) return unsupported_operands(ev, op, a, b);
        if (ints && ival(b) >= 0) {
            int64_t base = ival(a), e = ival(b), r = 1;
            while (e > 0) {
                if (e & 1) {
                    if (__builtin_mul_overflow(r, base, &r)) return overflow(ev);
                }
                e >>= 1;
                /* squaring only overflows for |base| >= 2, and then the result would too */
                if (e > 0 && __builtin_mul_overflow(base, base, &base)) return overflow(ev);
            }
            *out = jv_int(r);
            return ACCEL_OK;
        }
        {
            double x = jv_as_double(a), y = jv_as_double(b);
            if (x == 0.0 && y < 0)
                return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "0.0 cannot be raised to a negative power");
            if (x < 0 && y != floor(y))
                return jj_eval_fail(ev, ACCEL_ERR_UNSUPPORTED, "a negative number to a fractional power is complex");
            double r = pow(x, y);
            if (isinf(r) && isfinite(x) && isfinite(y)) /* Python raises where C overflows to inf */
                return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "(34, 'Numerical result out of range')");
            *out = jv_float(r);
            return ACCEL_OK;
        }
    default:
        return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: unknown operator");
    }
}

accel_status jj_contains(jj_eval *ev, const jv *container, const jv *item, bool *out) {
    accel_status st;
    *out = false;
    switch (container->t) {
    case JV_UNDEF: return ACCEL_OK;
    case JV_STR:
        if (item->t != JV_STR)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "'in <string>' requires string as left operand, not %s",
                                jv_type_name(item));
        if (item->u.s.n == 0) {
            *out = true;
            return ACCEL_OK;
        }
        if ((st = jj_work(&ev->vm, container->u.s.n))) return st;
        for (size_t i = 0; i + item->u.s.n <= container->u.s.n; i++)
            if (memcmp(container->u.s.p + i, item->u.s.p, item->u.s.n) == 0) {
                *out = true;
                break;
            }
        return ACCEL_OK;
    case JV_GEN: { /* consumes the generator up to the item found */
        jgen *g = container->u.g;
        if ((st = jj_gen_fill(ev, g))) return st;
        while (g->next < g->items->n) {
            bool eq;
            if ((st = jv_eq(&ev->vm, item, &g->items->v[g->next++], &eq, 0))) return st;
            if (eq) {
                *out = true;
                break;
            }
        }
        return ACCEL_OK;
    }
    case JV_LIST:
    case JV_TUPLE:
        if (container->u.l->view == JL_DICT_ITEMS || container->u.l->view == JL_DICT_KEYS) {
            /* dict views test membership by hash: unhashable items are errors */
            if (item->t == JV_LIST || item->t == JV_DICT || item->t == JV_NS)
                return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "unhashable type: '%s'", jv_type_name(item));
        }
        if ((st = jj_step(&ev->vm, container->u.l->n))) return st;
        for (size_t i = 0; i < container->u.l->n; i++) {
            bool eq;
            if ((st = jv_eq(&ev->vm, item, &container->u.l->v[i], &eq, 0))) return st;
            if (eq) {
                *out = true;
                break;
            }
        }
        return ACCEL_OK;
    case JV_DICT: {
        if (item->t == JV_LIST || item->t == JV_DICT || item->t == JV_NS)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "unhashable type: '%s'", jv_type_name(item));
        jv unused;
        *out = jv_dict_get(container, item, &unused);
        return ACCEL_OK;
    }
    default:
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "argument of type '%s' is not iterable",
                            jv_type_name(container));
    }
}

static accel_status compare(jj_eval *ev, jop op, const jv *a, const jv *b, bool *r) {
    accel_status st;
    bool lt, eq;
    switch (op) {
    case OP_EQ: return jv_eq(&ev->vm, a, b, r, 0);
    case OP_NE:
        st = jv_eq(&ev->vm, a, b, &eq, 0);
        *r = !eq;
        return st;
    case OP_LT: return jv_lt(&ev->vm, a, b, r, "<", 0);
    case OP_GT: return jv_lt(&ev->vm, b, a, r, ">", 0);
    case OP_LE:
    case OP_GE: {
        const jv *x = op == OP_LE ? a : b, *y = op == OP_LE ? b : a;
        if ((st = jv_lt(&ev->vm, x, y, &lt, op == OP_LE ? "<=" : ">=", 0))) return st;
        if (lt) {
            *r = true;
            return ACCEL_OK;
        }
        st = jv_eq(&ev->vm, x, y, &eq, 0);
        *r = eq;
        return st;
    }
    case OP_IN: return jj_contains(ev, b, a, r);
    case OP_NOTIN:
        st = jj_contains(ev, b, a, &eq);
        *r = !eq;
        return st;
    default: return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: unknown comparison");
    }
}

/* Evaluates call arguments into arena arrays. */
static accel_status eval_args(jj_eval *ev, const jnode *n, jj_args *args) {
    accel_status st;
    memset(args, 0, sizeof *args);
    jv *pos = NULL, *kwv = NULL;
    if (n->n) {
        if (!(pos = jj_valloc(&ev->vm, n->n * sizeof(jv)))) return ev->err->status;
        for (uint32_t i = 0; i < n->n; i++)
            if ((st = eval(ev, n->items[i], &pos[i]))) return st;
    }
    if (n->n2) {
        if (!(kwv = jj_valloc(&ev->vm, n->n2 * sizeof(jv)))) return ev->err->status;
        for (uint32_t i = 0; i < n->n2; i++)
            if ((st = eval(ev, n->items2[i], &kwv[i]))) return st;
    }
    args->pos = pos;
    args->npos = n->n;
    args->kwn = n->names;
    args->kwv = kwv;
    args->nkw = n->n2;
    return ACCEL_OK;
}

/* The value a filter chain starts from inside {% filter %} / {% set x | f %} (N_FILTER with a NULL operand). */
static accel_status eval_filter(jj_eval *ev, const jnode *n, const jv *base, jv *out) {
    accel_status st;
    jv in;
    if (n->a) {
        if (n->a->kind == N_FILTER) st = eval_filter(ev, n->a, base, &in);
        else st = eval(ev, n->a, &in);
        if (st) return st;
    } else {
        in = base ? *base : jv_undef(NULL);
    }
    jj_args args;
    if ((st = eval_args(ev, n, &args))) return st;
    return jj_apply_filter(ev, n->fid, &in, &args, out);
}

static accel_status eval_inner(jj_eval *ev, const jnode *n, jv *out) {
    accel_status st;
    jv a, b;
    switch (n->kind) {
    case N_CONST: *out = n->value; return ACCEL_OK;
    case N_NAME:
        if (frame_lookup(ev->frame, n->name, out)) return ACCEL_OK;
        if (jj_global_get(n->name, out, &ev->vm)) return ev->err->status;
        *out = undef_fmt(ev, "'%.*s' is undefined", (int)(n->name.n > 200 ? 200 : n->name.n), n->name.p);
        return ACCEL_OK;
    case N_LIST:
    case N_TUPLE:
        if ((st = jv_new_list(&ev->vm, n->n, n->kind == N_LIST ? JV_LIST : JV_TUPLE, out))) return st;
        for (uint32_t i = 0; i < n->n; i++)
            if ((st = eval(ev, n->items[i], &out->u.l->v[i]))) return st;
        return ACCEL_OK;
    case N_DICT:
        if ((st = jv_new_dict(&ev->vm, n->n, JV_DICT, out))) return st;
        for (uint32_t i = 0; i < n->n; i++) {
            if ((st = eval(ev, n->items[i], &a)) || (st = eval(ev, n->items2[i], &b))) return st;
            if ((st = jv_dict_set(&ev->vm, out, a, b))) return st;
        }
        return ACCEL_OK;
    case N_GETATTR:
        if ((st = eval(ev, n->a, &a))) return st;
        if (a.t == JV_UNDEF) return jj_eval_undefined_error(ev, &a);
        return jj_getattr(ev, &a, n->name, out);
    case N_GETITEM:
        if ((st = eval(ev, n->a, &a))) return st;
        if (a.t == JV_UNDEF) return jj_eval_undefined_error(ev, &a);
        if (n->b->kind == N_SLICE) {
            jv parts[3] = {jv_none(), jv_none(), jv_none()};
            const jnode *pn[3] = {n->b->a, n->b->b, n->b->c};
            for (int k = 0; k < 3; k++)
                if (pn[k] && (st = eval(ev, pn[k], &parts[k]))) return st;
            return slice(ev, &a, parts, out);
        }
        if ((st = eval(ev, n->b, &b))) return st;
        return jj_getitem(ev, &a, &b, out);
    case N_SLICE: return jj_eval_fail(ev, ACCEL_ERR_MODEL_FORMAT, "a slice is only valid inside [ ]");
    case N_CALL: {
        if ((st = eval(ev, n->a, &a))) return st;
        jj_args args;
        if ((st = eval_args(ev, n, &args))) return st;
        return jj_eval_call(ev, &a, &args, out);
    }
    case N_FILTER: return eval_filter(ev, n, NULL, out);
    case N_TEST: {
        if ((st = eval(ev, n->a, &a))) return st;
        jj_args args;
        if ((st = eval_args(ev, n, &args))) return st;
        bool r;
        if ((st = jj_apply_test(ev, n->fid, &a, &args, &r))) return st;
        *out = jv_bool(r);
        return ACCEL_OK;
    }
    case N_NOT:
        if ((st = eval(ev, n->a, &a))) return st;
        *out = jv_bool(!jv_truthy(&a));
        return ACCEL_OK;
    case N_BINOP:
        if ((st = eval(ev, n->a, &a)) || (st = eval(ev, n->b, &b))) return st;
        if (n->op == OP_POW && (n->a->flags & JJ_CONST_FOLDED_NEG) && n->b->kind != N_CONST && jv_is_num(&a)) {
            /* Jinja folds -1 into the constant -1 and writes "-1 ** x" into Python code, where ** binds first:
             * the result is -(1 ** x) */
            jv pos = a.t == JV_FLOAT ? jv_float(-a.u.f) : jv_int(-ival(&a)), r;
            if ((st = jj_binop(ev, OP_POW, &pos, &b, &r))) return st;
            a = r.t == JV_FLOAT ? jv_float(-r.u.f) : r;
            if (r.t != JV_FLOAT) {
                if (ival(&r) == INT64_MIN) return overflow(ev);
                a = jv_int(-ival(&r));
            }
            *out = a;
            return ACCEL_OK;
        }
        return jj_binop(ev, (jop)n->op, &a, &b, out);
    case N_CONCAT: {
        jbuf buf;
        jbuf_init(&buf, JJ_MAX_OUTPUT);
        for (uint32_t i = 0; i < n->n; i++) {
            if ((st = eval(ev, n->items[i], &a)) || (st = jv_to_str(&ev->vm, &a, &buf))) {
                jbuf_free(&buf);
                return st;
            }
        }
        *out = jv_strdup(&ev->vm, buf.p ? buf.p : "", buf.n, &st);
        jbuf_free(&buf);
        return st;
    }
    case N_NEG:
    case N_POS:
        if ((st = eval(ev, n->a, &a))) return st;
        if (a.t == JV_UNDEF) return jj_eval_undefined_error(ev, &a);
        if (!jv_is_num(&a))
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "bad operand type for unary %c: '%s'",
                                n->kind == N_NEG ? '-' : '+', jv_type_name(&a));
        if (a.t == JV_FLOAT) *out = jv_float(n->kind == N_NEG ? -a.u.f : a.u.f);
        else if (n->kind == N_POS) *out = jv_int(ival(&a));
        else if (ival(&a) == INT64_MIN) return overflow(ev);
        else *out = jv_int(-ival(&a));
        return ACCEL_OK;
    case N_AND:
    case N_OR:
        if ((st = eval(ev, n->a, &a))) return st;
        if (jv_truthy(&a) == (n->kind == N_OR)) {
            *out = a;
            return ACCEL_OK;
        }
        return eval(ev, n->b, out);
    case N_COMPARE: {
        if ((st = eval(ev, n->a, &a))) return st;
        for (uint32_t i = 0; i < n->n; i++) {
            if ((st = eval(ev, n->items[i], &b))) return st;
            bool r;
            if ((st = compare(ev, (jop)n->cmp_ops[i], &a, &b, &r))) return st;
            if (!r) {
                *out = jv_bool(false);
                return ACCEL_OK;
            }
            a = b;
        }
        *out = jv_bool(true);
        return ACCEL_OK;
    }
    case N_COND:
        if ((st = eval(ev, n->a, &a))) return st;
        if (jv_truthy(&a)) return eval(ev, n->b, out);
        if (n->c) return eval(ev, n->c, out);
        {
            int line, col;
            jj_line_col(ev->src, n->pos, &line, &col);
            *out = undef_fmt(ev, "the inline if-expression on line %d evaluated to false and no else section was "
                                 "defined.", line);
        }
        return ACCEL_OK;
    default:
        return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: unexpected node %d in an expression", n->kind);
    }
}

static accel_status enter(jj_eval *ev, const jnode *n) {
    if (++ev->depth > JJ_MAX_EVAL_DEPTH) {
        ev->at = n;
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "the template nests calls and blocks deeper than %d levels",
                            JJ_MAX_EVAL_DEPTH);
    }
    return ACCEL_OK;
}

static void leave(jj_eval *ev, const jnode *n, accel_status st) {
    ev->depth--;
    if (st != ACCEL_OK && !ev->err_pos_set) {
        ev->err_pos_set = true;
        ev->err_pos = n->pos;
    }
}

static accel_status eval(jj_eval *ev, const jnode *n, jv *out) {
    accel_status st = enter(ev, n);
    if (st == ACCEL_OK) st = eval_inner(ev, n, out);
    leave(ev, n, st);
    return st;
}

/* ---- statements -------------------------------------------------------------------------------------------- */

static accel_status exec_body(jj_eval *ev, jnode *const *items, uint32_t n);

static accel_status check_out(jj_eval *ev, const jbuf *b) {
    if (!b->over) return ACCEL_OK;
    if (b->oom) return jj_eval_fail(ev, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "the template's output passed the %zu MiB limit", b->limit >> 20);
}

static accel_status assign(jj_eval *ev, const jnode *target, const jv *v) {
    accel_status st;
    if (target->kind == N_NAME) return frame_set(ev, ev->frame, target->name, *v);
    if (target->kind == N_NSREF) {
        jv ns;
        if (!frame_lookup(ev->frame, target->name, &ns) || ns.t != JV_NS)
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "cannot assign attribute on non-namespace object");
        if (target->attr.n && target->attr.p[0] == '_')
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG,
                                "Chat templates cannot store underscore-prefixed attributes on a namespace, but got "
                                "'%.*s'. Please rename the attribute.",
                                (int)target->attr.n, target->attr.p);
        return jv_dict_set(&ev->vm, &ns, jv_str(target->attr.p, target->attr.n), *v);
    }
    /* tuple unpacking */
    jv items;
    if (!(v->t == JV_LIST || v->t == JV_TUPLE || v->t == JV_STR || v->t == JV_DICT || v->t == JV_UNDEF))
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "cannot unpack non-iterable %s object", jv_type_name(v));
    if ((st = jj_iterate(ev, v, &items))) return st;
    if (items.u.l->n < target->n)
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "not enough values to unpack (expected %u, got %zu)", target->n,
                            items.u.l->n);
    if (items.u.l->n > target->n)
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "too many values to unpack (expected %u)", target->n);
    for (uint32_t i = 0; i < target->n; i++)
        if ((st = assign(ev, target->items[i], &items.u.l->v[i]))) return st;
    return ACCEL_OK;
}

/* Renders a body into a fresh buffer (macro calls, block sets, filter blocks). */
static accel_status capture(jj_eval *ev, jnode *const *items, uint32_t n, jv *out) {
    jbuf buf, *saved = ev->out;
    jbuf_init(&buf, JJ_MAX_OUTPUT);
    ev->out = &buf;
    accel_status st = exec_body(ev, items, n);
    ev->out = saved;
    if (st == ACCEL_OK) st = check_out(ev, &buf);
    if (st == ACCEL_OK) *out = jv_strdup(&ev->vm, buf.p ? buf.p : "", buf.n, &st);
    jbuf_free(&buf);
    return st;
}

static accel_status exec_for(jj_eval *ev, const jnode *n) {
    accel_status st;
    jv iterable, items;
    if ((st = eval(ev, n->b, &iterable))) return st;
    if ((st = jj_iterate(ev, &iterable, &items))) return st;
    jframe *outer = ev->frame;
    if (n->c) { /* {% for x in xs if test %}: filter first, so loop.length/last count the kept items */
        jv kept;
        if ((st = jv_new_list(&ev->vm, items.u.l->n, JV_LIST, &kept))) return st;
        size_t k = 0;
        for (size_t i = 0; i < items.u.l->n; i++) {
            if ((st = jj_step(&ev->vm, 1))) return st;
            jframe *f = frame_new(ev, outer);
            if (!f) return ev->err->status;
            ev->frame = f;
            jv t;
            st = assign(ev, n->a, &items.u.l->v[i]);
            if (!st) st = eval(ev, n->c, &t);
            ev->frame = outer;
            if (st) return st;
            if (jv_truthy(&t)) kept.u.l->v[k++] = items.u.l->v[i];
        }
        kept.u.l->n = k;
        items = kept;
    }
    size_t count = items.u.l->n;
    if (count == 0) return exec_body(ev, n->items2, n->n2);
    jloop *loop = jj_valloc(&ev->vm, sizeof *loop);
    if (!loop) return ev->err->status;
    loop->items = items.u.l;
    loop->length = count;
    loop->depth = 1;
    jv loopv;
    loopv.t = JV_LOOP;
    loopv.u.loop = loop;
    for (size_t i = 0; i < count; i++) {
        if ((st = jj_step(&ev->vm, 1))) return st;
        loop->index0 = i;
        jframe *f = frame_new(ev, outer);
        if (!f) return ev->err->status;
        ev->frame = f;
        st = frame_set(ev, f, jstr_c("loop"), loopv);
        if (!st) st = assign(ev, n->a, &items.u.l->v[i]);
        if (!st) st = exec_body(ev, n->items, n->n);
        ev->frame = outer;
        if (st) return st;
        if (ev->ctl == 1) {
            ev->ctl = 0;
            break;
        }
        ev->ctl = 0;
    }
    return ACCEL_OK;
}

static accel_status exec_stmt(jj_eval *ev, const jnode *n) {
    accel_status st;
    jv v;
    switch (n->kind) {
    case N_DATA:
        if ((st = jj_work(&ev->vm, n->value.u.s.n))) return st;
        jbuf_put(ev->out, n->value.u.s.p, n->value.u.s.n);
        return check_out(ev, ev->out);
    case N_OUTPUT:
        for (uint32_t i = 0; i < n->n; i++) {
            if ((st = eval(ev, n->items[i], &v)) || (st = jv_to_str(&ev->vm, &v, ev->out))) return st;
            if ((st = check_out(ev, ev->out))) return st;
        }
        return ACCEL_OK;
    case N_IF:
        if ((st = eval(ev, n->a, &v))) return st;
        return jv_truthy(&v) ? exec_body(ev, n->items, n->n) : exec_body(ev, n->items2, n->n2);
    case N_FOR: return exec_for(ev, n);
    case N_SET:
        if ((st = eval(ev, n->b, &v))) return st;
        return assign(ev, n->a, &v);
    case N_SET_BLOCK:
        if ((st = capture(ev, n->items, n->n, &v))) return st;
        if (n->b && (st = eval_filter(ev, n->b, &v, &v))) return st;
        return assign(ev, n->a, &v);
    case N_MACRO: {
        jfunc *fn = jj_valloc(&ev->vm, sizeof *fn);
        if (!fn) return ev->err->status;
        fn->kind = JF_MACRO;
        fn->macro = n;
        v.t = JV_FUNC;
        v.u.fn = fn;
        return frame_set(ev, ev->frame, n->name, v);
    }
    case N_BREAK: ev->ctl = 1; return ACCEL_OK;
    case N_CONTINUE: ev->ctl = 2; return ACCEL_OK;
    case N_WITH: {
        jv *vals = n->b->n ? jj_valloc(&ev->vm, n->b->n * sizeof(jv)) : NULL;
        if (n->b->n && !vals) return ev->err->status;
        for (uint32_t i = 0; i < n->b->n; i++)
            if ((st = eval(ev, n->b->items[i], &vals[i]))) return st;
        jframe *outer = ev->frame, *f = frame_new(ev, outer);
        if (!f) return ev->err->status;
        ev->frame = f;
        st = ACCEL_OK;
        for (uint32_t i = 0; i < n->a->n && !st; i++) st = assign(ev, n->a->items[i], &vals[i]);
        if (!st) st = exec_body(ev, n->items, n->n);
        ev->frame = outer;
        return st;
    }
    case N_FILTER_BLOCK:
        if ((st = capture(ev, n->items, n->n, &v))) return st;
        if ((st = eval_filter(ev, n->b, &v, &v))) return st;
        if ((st = jv_to_str(&ev->vm, &v, ev->out))) return st;
        return check_out(ev, ev->out);
    case N_SCOPE: {
        jframe *outer = ev->frame, *f = frame_new(ev, outer);
        if (!f) return ev->err->status;
        ev->frame = f;
        st = exec_body(ev, n->items, n->n);
        ev->frame = outer;
        return st;
    }
    default:
        return jj_eval_fail(ev, ACCEL_ERR_INTERNAL, "chat template: unexpected node %d in a block", n->kind);
    }
}

static accel_status exec_body(jj_eval *ev, jnode *const *items, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        accel_status st = enter(ev, items[i]);
        if (st == ACCEL_OK) st = exec_stmt(ev, items[i]);
        leave(ev, items[i], st);
        if (st) return st;
        if (ev->ctl) return ACCEL_OK;
    }
    return ACCEL_OK;
}

/* ---- calls ------------------------------------------------------------------------------------------------- */

static accel_status call_macro(jj_eval *ev, const jnode *m, const jj_args *args, jv *out) {
    accel_status st;
    if (ev->call_depth >= JJ_MAX_CALL_DEPTH)
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "macro calls nested deeper than %d levels", JJ_MAX_CALL_DEPTH);
    if ((st = jj_step(&ev->vm, 1))) return st;
    char mname[120];
    snprintf(mname, sizeof mname, "%.*s", (int)(m->name.n > 100 ? 100 : m->name.n), m->name.p);
    size_t np = m->nnames;
    if (args->npos > np && !(m->flags & JJ_MACRO_VARARGS))
        return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "macro '%s' takes not more than %zu argument(s)", mname, np);
    jframe *f = frame_new(ev, ev->root);
    if (!f) return ev->err->status;
    bool *bound = np ? jj_valloc(&ev->vm, np) : NULL;
    if (np && !bound) return ev->err->status;
    for (size_t i = 0; i < args->npos && i < np; i++) {
        if ((st = frame_set(ev, f, m->names[i], args->pos[i]))) return st;
        bound[i] = true;
    }
    jv kwargs;
    if ((st = jv_new_dict(&ev->vm, 4, JV_DICT, &kwargs))) return st;
    for (size_t k = 0; k < args->nkw; k++) {
        size_t i = 0;
        while (i < np && !(m->names[i].n == args->kwn[k].n && !memcmp(m->names[i].p, args->kwn[k].p, args->kwn[k].n)))
            i++;
        if (i < np) {
            if (bound[i])
                return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "macro '%s' got multiple values for argument '%.*s'",
                                    mname, (int)args->kwn[k].n, args->kwn[k].p);
            if ((st = frame_set(ev, f, m->names[i], args->kwv[k]))) return st;
            bound[i] = true;
        } else if (m->flags & JJ_MACRO_KWARGS) {
            if ((st = jv_dict_set(&ev->vm, &kwargs, jv_str(args->kwn[k].p, args->kwn[k].n), args->kwv[k]))) return st;
        } else {
            return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "macro '%s' takes no keyword argument '%.*s'", mname,
                                (int)args->kwn[k].n, args->kwn[k].p);
        }
    }
    jframe *saved = ev->frame;
    ev->frame = f;
    ev->call_depth++;
    st = ACCEL_OK;
    /* defaults are evaluated at call time in the macro's scope (they may use earlier parameters) */
    size_t first_default = np - m->n2;
    for (size_t i = 0; i < np && !st; i++) {
        if (bound[i]) continue;
        jv dv;
        if (i >= first_default) st = eval(ev, m->items2[i - first_default], &dv);
        else dv = undef_fmt(ev, "parameter '%.*s' was not provided", (int)m->names[i].n, m->names[i].p);
        if (!st) st = frame_set(ev, f, m->names[i], dv);
    }
    if (!st && (m->flags & JJ_MACRO_VARARGS)) {
        jv va;
        size_t extra = args->npos > np ? args->npos - np : 0;
        st = jv_new_list(&ev->vm, extra, JV_TUPLE, &va);
        for (size_t i = 0; !st && i < extra; i++) va.u.l->v[i] = args->pos[np + i];
        if (!st) st = frame_set(ev, f, jstr_c("varargs"), va);
    }
    if (!st && (m->flags & JJ_MACRO_KWARGS)) st = frame_set(ev, f, jstr_c("kwargs"), kwargs);
    if (!st) st = capture(ev, m->items, m->n, out);
    ev->call_depth--;
    ev->frame = saved;
    return st;
}

accel_status jj_eval_call(jj_eval *ev, const jv *fn, const jj_args *args, jv *out) {
    if (fn->t == JV_UNDEF) return jj_eval_undefined_error(ev, fn);
    if (fn->t != JV_FUNC) return jj_eval_fail(ev, ACCEL_ERR_INVALID_ARG, "'%s' object is not callable",
                                              jv_type_name(fn));
    if (fn->u.fn->kind == JF_MACRO) return call_macro(ev, fn->u.fn->macro, args, out);
    return jj_call_builtin(ev, fn, args, out);
}

/* ---- entry ------------------------------------------------------------------------------------------------- */

accel_status jj_render(const jnode *root, const jj_source *src, const jj_var *vars, size_t nvars, jj_arena *arena,
                       jj_err *err, jbuf *out) {
    jj_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.vm.arena = arena;
    ev.vm.err = err;
    ev.err = err;
    ev.src = src;
    ev.out = out;
    ev.root = frame_new(&ev, NULL);
    if (!ev.root) return err->status;
    ev.frame = ev.root;
    accel_status st = ACCEL_OK;
    for (size_t i = 0; i < nvars && !st; i++) st = frame_set(&ev, ev.root, vars[i].name, vars[i].value);
    if (!st) st = exec_body(&ev, root->items, root->n);
    if (st) {
        /* prefix the message with where it happened */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        int line = 0, col = 0;
        if (ev.err_pos_set) jj_line_col(src, ev.err_pos, &line, &col);
        const char *what = ev.raised ? "chat template raised an exception" : "chat template error";
        if (line)
            snprintf(err->msg, sizeof err->msg, "%s at line %d: %.800s", what, line, msg);
        else
            snprintf(err->msg, sizeof err->msg, "%s: %.800s", what, msg);
    }
    return st;
}
