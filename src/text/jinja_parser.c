/* Jinja parser: tokens -> syntax tree, with the grammar and precedence of Jinja2's parser (jinja2/parser.py):
 *   condexpr: or ("if" or ("else" condexpr)?)*      or: and ("or" and)*      and: not ("and" not)*
 *   not: "not" not | compare                         compare: math1 (("=="|"!="|"<"|...|"in"|"not in") math1)*
 *   math1: concat (("+"|"-") concat)*                concat: math2 ("~" math2)*
 *   math2: pow (("*"|"/"|"//"|"%") pow)*             pow: unary ("**" unary)*
 *   unary: ("-"|"+") unary-without-filters | primary, then postfix (.attr [sub] (call)), then filters/tests
 * Statements: for (with "if" filter and else), if/elif/else, set (also namespace attributes and block set),
 * macro, with, print, filter blocks, break/continue (the loopcontrols extension HF enables) and
 * {% generation %} (transformers' assistant-mask extension, rendered as its body).
 * Syntax errors are ACCEL_ERR_MODEL_FORMAT with line:column and Jinja's wording; Jinja features this interpreter
 * does not implement (include, extends, import, call blocks, recursive loops, *args...) are ACCEL_ERR_UNSUPPORTED. */
#include "text/jinja_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const jtok *t;
    size_t n, i;
    jj_arena *a;
    jj_err *err;
    const jj_source *src;
    int depth;
    int loop_depth;
    jnode *macro; /* the macro being parsed, for varargs/kwargs */
    /* statement end tags being looked for, innermost last, and the tag that opened each (for messages) */
    const char *const *ends[JJ_MAX_NESTING + 8];
    const char *opened[JJ_MAX_NESTING + 8];
    int nends;
} parser;

/* ---- helpers ----------------------------------------------------------------------------------------------- */

static const jtok *cur(const parser *p) { return &p->t[p->i]; }
static const jtok *peek(const parser *p) { return &p->t[p->i + 1 < p->n ? p->i + 1 : p->n - 1]; }
static void next(parser *p) {
    if (p->i + 1 < p->n) p->i++;
}
static bool is_op(const jtok *t, jop op) { return t->type == TK_OP && t->op == op; }
static bool is_name(const jtok *t, const char *name) { return t->type == TK_NAME && jstr_eq_c(t->s, name); }

static const char *op_text(jop op) {
    static const char *const txt[] = {"", "+", "-", "*", "/", "//", "%", "**", "~", "[", "]", "(", ")", "{", "}",
                                      "==", "!=", ">", ">=", "<", "<=", "=", ".", ":", "|", ",", ";", "in", "not in"};
    return (unsigned)op < sizeof txt / sizeof txt[0] ? txt[op] : "?";
}

/* Jinja's describe_token. */
static void describe(const jtok *t, char *out, size_t cap) {
    switch (t->type) {
    case TK_EOF: snprintf(out, cap, "end of template"); break;
    case TK_DATA: snprintf(out, cap, "template data / text"); break;
    case TK_VAR_BEGIN: snprintf(out, cap, "begin of print statement"); break;
    case TK_VAR_END: snprintf(out, cap, "end of print statement"); break;
    case TK_BLOCK_BEGIN: snprintf(out, cap, "begin of statement block"); break;
    case TK_BLOCK_END: snprintf(out, cap, "end of statement block"); break;
    case TK_NAME: snprintf(out, cap, "%.*s", (int)(t->s.n > 60 ? 60 : t->s.n), t->s.p); break;
    case TK_STRING: snprintf(out, cap, "string"); break;
    case TK_INT: snprintf(out, cap, "integer"); break;
    case TK_FLOAT: snprintf(out, cap, "float"); break;
    case TK_OP: snprintf(out, cap, "%s", op_text((jop)t->op)); break;
    }
}

static accel_status pfail(parser *p, accel_status st, size_t pos, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static accel_status pfail(parser *p, accel_status st, size_t pos, const char *fmt, ...) {
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line, col;
    jj_line_col(p->src, pos, &line, &col);
    if (st == ACCEL_ERR_UNSUPPORTED)
        return jj_fail(p->err, st, "chat template uses an unsupported construct at line %d, column %d: %s", line, col,
                       what);
    return jj_fail(p->err, st, "chat template syntax error at line %d, column %d: %s", line, col, what);
}

static accel_status unexpected(parser *p) {
    char d[80];
    describe(cur(p), d, sizeof d);
    return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos, "unexpected '%s'", d);
}

/* "expected token 'what', got '...'" (or the end-of-template form). */
static accel_status fail_expected(parser *p, const char *what) {
    char d[80];
    describe(cur(p), d, sizeof d);
    if (cur(p)->type == TK_EOF)
        return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos, "unexpected end of template, expected '%s'", what);
    return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos, "expected token '%s', got '%s'", what, d);
}

static accel_status expect_type(parser *p, jtok_type type, const char *what) {
    if (cur(p)->type != type) return fail_expected(p, what);
    next(p);
    return ACCEL_OK;
}

static accel_status expect_op(parser *p, jop op) {
    if (!is_op(cur(p), op)) return fail_expected(p, op_text(op));
    next(p);
    return ACCEL_OK;
}

static accel_status expect_name(parser *p, const char *name) {
    if (!is_name(cur(p), name)) return fail_expected(p, name);
    next(p);
    return ACCEL_OK;
}

static accel_status enter(parser *p) {
    if (++p->depth > JJ_MAX_NESTING)
        return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos,
                     "the template nests blocks or expressions deeper than %d levels",
                     JJ_MAX_NESTING);
    return ACCEL_OK;
}

static jnode *node(parser *p, jnode_kind kind, size_t pos) {
    jnode *n = jj_alloc(p->a, sizeof *n);
    if (!n) {
        jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->pos = (uint32_t)pos;
    n->fid = -1;
    return n;
}

/* A growable list of nodes (or names), moved into the arena when done. */
typedef struct nvec {
    jnode **v;
    jstr *names;
    size_t n, cap;
} nvec;

static accel_status nv_push(parser *p, nvec *v, jnode *x, jstr name) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        jnode **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        v->v = nv;
        jstr *nn = realloc(v->names, cap * sizeof *nn);
        if (!nn) return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        v->names = nn;
        v->cap = cap;
    }
    v->v[v->n] = x;
    v->names[v->n] = name;
    v->n++;
    return ACCEL_OK;
}

static void nv_free(nvec *v) {
    free(v->v);
    free(v->names);
    memset(v, 0, sizeof *v);
}

/* Moves the nodes (and optionally the names) into the arena. */
static accel_status nv_done(parser *p, nvec *v, jnode ***out, uint32_t *n, jstr **names) {
    *out = NULL;
    *n = (uint32_t)v->n;
    if (names) *names = NULL;
    if (v->n) {
        *out = jj_alloc(p->a, v->n * sizeof(jnode *));
        if (!*out) {
            nv_free(v);
            return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        }
        memcpy(*out, v->v, v->n * sizeof(jnode *));
        if (names) {
            *names = jj_alloc(p->a, v->n * sizeof(jstr));
            if (!*names) {
                nv_free(v);
                return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
            }
            memcpy(*names, v->names, v->n * sizeof(jstr));
        }
    }
    nv_free(v);
    return ACCEL_OK;
}

static const jstr NO_NAME = {NULL, 0};

/* ---- expressions ------------------------------------------------------------------------------------------- */

static accel_status parse_expression(parser *p, bool with_condexpr, jnode **out);
static accel_status parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *const *extra_end,
                                bool explicit_parens, bool with_namespace, jnode **out);
static accel_status parse_unary(parser *p, bool with_filter, jnode **out);
static accel_status parse_postfix(parser *p, jnode *in, jnode **out);
static accel_status parse_filter(parser *p, jnode *in, bool start_inline, jnode **out);

/* Call arguments "(a, b, k=v)" into args (names empty) and keyword args. */
static accel_status parse_call_args(parser *p, nvec *args, nvec *kwargs) {
    accel_status st;
    size_t open = cur(p)->pos;
    if ((st = expect_op(p, OP_LPAREN))) return st;
    bool need_comma = false;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (need_comma) {
            if ((st = expect_op(p, OP_COMMA))) return st;
            if (is_op(cur(p), OP_RPAREN)) break;
        }
        if (is_op(cur(p), OP_MUL) || is_op(cur(p), OP_POW))
            return pfail(p, ACCEL_ERR_UNSUPPORTED, cur(p)->pos, "*args and **kwargs in calls are not supported");
        jnode *v = NULL;
        if (cur(p)->type == TK_NAME && is_op(peek(p), OP_ASSIGN)) {
            jstr key = cur(p)->s;
            next(p);
            next(p);
            if ((st = parse_expression(p, true, &v))) return st;
            if ((st = nv_push(p, kwargs, v, key))) return st;
        } else {
            if (kwargs->n)
                return pfail(p, ACCEL_ERR_MODEL_FORMAT, open, "invalid syntax for function call expression");
            if ((st = parse_expression(p, true, &v))) return st;
            if ((st = nv_push(p, args, v, NO_NAME))) return st;
        }
        need_comma = true;
    }
    return expect_op(p, OP_RPAREN);
}

/* Fills a call-like node: items = positional args, items2/names = keyword args. */
static accel_status fill_args(parser *p, jnode *n) {
    nvec args = {0}, kw = {0};
    accel_status st = parse_call_args(p, &args, &kw);
    if (st) {
        nv_free(&args);
        nv_free(&kw);
        return st;
    }
    if ((st = nv_done(p, &args, &n->items, &n->n, NULL))) {
        nv_free(&kw);
        return st;
    }
    uint32_t nk;
    if ((st = nv_done(p, &kw, &n->items2, &nk, &n->names))) return st;
    n->n2 = nk;
    n->nnames = nk;
    return ACCEL_OK;
}

static accel_status parse_list(parser *p, jnode **out) {
    jnode *n = node(p, N_LIST, cur(p)->pos);
    if (!n) return p->err->status;
    next(p);
    nvec items = {0};
    accel_status st = ACCEL_OK;
    while (!is_op(cur(p), OP_RBRACKET)) {
        if (items.n && (st = expect_op(p, OP_COMMA))) break;
        if (is_op(cur(p), OP_RBRACKET)) break;
        jnode *e = NULL;
        if ((st = parse_expression(p, true, &e))) break;
        if ((st = nv_push(p, &items, e, NO_NAME))) break;
    }
    if (!st) st = expect_op(p, OP_RBRACKET);
    if (st) {
        nv_free(&items);
        return st;
    }
    *out = n;
    return nv_done(p, &items, &n->items, &n->n, NULL);
}

static accel_status parse_dict(parser *p, jnode **out) {
    jnode *n = node(p, N_DICT, cur(p)->pos);
    if (!n) return p->err->status;
    next(p);
    nvec keys = {0}, vals = {0};
    accel_status st = ACCEL_OK;
    while (!is_op(cur(p), OP_RBRACE)) {
        if (keys.n && (st = expect_op(p, OP_COMMA))) break;
        if (is_op(cur(p), OP_RBRACE)) break;
        jnode *k = NULL, *v = NULL;
        if ((st = parse_expression(p, true, &k))) break;
        if ((st = expect_op(p, OP_COLON))) break;
        if ((st = parse_expression(p, true, &v))) break;
        if ((st = nv_push(p, &keys, k, NO_NAME)) || (st = nv_push(p, &vals, v, NO_NAME))) break;
    }
    if (!st) st = expect_op(p, OP_RBRACE);
    if (st) {
        nv_free(&keys);
        nv_free(&vals);
        return st;
    }
    *out = n;
    if ((st = nv_done(p, &keys, &n->items, &n->n, NULL))) {
        nv_free(&vals);
        return st;
    }
    return nv_done(p, &vals, &n->items2, &n->n2, NULL);
}

static accel_status parse_primary(parser *p, bool with_namespace, jnode **out) {
    const jtok *t = cur(p);
    jnode *n;
    accel_status st;
    switch (t->type) {
    case TK_NAME:
        next(p);
        if (jstr_eq_c(t->s, "true") || jstr_eq_c(t->s, "True") || jstr_eq_c(t->s, "false") ||
            jstr_eq_c(t->s, "False")) {
            if (!(n = node(p, N_CONST, t->pos))) return p->err->status;
            n->value = jv_bool(t->s.p[0] == 't' || t->s.p[0] == 'T');
        } else if (jstr_eq_c(t->s, "none") || jstr_eq_c(t->s, "None")) {
            if (!(n = node(p, N_CONST, t->pos))) return p->err->status;
            n->value = jv_none();
        } else if (with_namespace && is_op(cur(p), OP_DOT)) {
            next(p);
            if (cur(p)->type != TK_NAME) return expect_type(p, TK_NAME, "name");
            if (!(n = node(p, N_NSREF, t->pos))) return p->err->status;
            n->name = t->s;
            n->attr = cur(p)->s;
            next(p);
        } else {
            if (!(n = node(p, N_NAME, t->pos))) return p->err->status;
            n->name = t->s;
            if (p->macro && jstr_eq_c(t->s, "varargs")) p->macro->flags |= JJ_MACRO_VARARGS;
            if (p->macro && jstr_eq_c(t->s, "kwargs")) p->macro->flags |= JJ_MACRO_KWARGS;
        }
        break;
    case TK_STRING: {
        size_t total = 0, k = p->i;
        while (k < p->n && p->t[k].type == TK_STRING) total += p->t[k++].s.n;
        char *buf = jj_alloc(p->a, total + 1);
        if (!buf || !(n = node(p, N_CONST, t->pos)))
            return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        size_t o = 0;
        while (cur(p)->type == TK_STRING) { /* adjacent literals concatenate */
            memcpy(buf + o, cur(p)->s.p, cur(p)->s.n);
            o += cur(p)->s.n;
            next(p);
        }
        n->value = jv_str(buf, o);
        break;
    }
    case TK_INT:
    case TK_FLOAT:
        if (!(n = node(p, N_CONST, t->pos))) return p->err->status;
        n->value = t->type == TK_INT ? jv_int(t->i) : jv_float(t->f);
        next(p);
        break;
    case TK_OP:
        if (t->op == OP_LPAREN) {
            next(p);
            if ((st = parse_tuple(p, false, true, NULL, true, false, &n))) return st;
            if ((st = expect_op(p, OP_RPAREN))) return st;
            break;
        }
        if (t->op == OP_LBRACKET) return parse_list(p, out);
        if (t->op == OP_LBRACE) return parse_dict(p, out);
        return unexpected(p);
    default:
        if (t->type == TK_EOF) return fail_expected(p, "expression");
        return unexpected(p);
    }
    *out = n;
    return ACCEL_OK;
}

static bool tuple_end(const parser *p, const char *const *extra_end) {
    const jtok *t = cur(p);
    if (t->type == TK_VAR_END || t->type == TK_BLOCK_END || is_op(t, OP_RPAREN) || t->type == TK_EOF) return true;
    if (extra_end)
        for (int k = 0; extra_end[k]; k++)
            if (is_name(t, extra_end[k])) return true;
    return false;
}

static accel_status parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *const *extra_end,
                                bool explicit_parens, bool with_namespace, jnode **out) {
    size_t pos = cur(p)->pos;
    nvec items = {0};
    bool is_tuple = false;
    accel_status st = ACCEL_OK;
    for (;;) {
        if (items.n && (st = expect_op(p, OP_COMMA))) break;
        if (tuple_end(p, extra_end)) break;
        jnode *e = NULL;
        st = simplified ? parse_primary(p, with_namespace, &e) : parse_expression(p, with_condexpr, &e);
        if (st || (st = nv_push(p, &items, e, NO_NAME))) break;
        if (is_op(cur(p), OP_COMMA)) is_tuple = true;
        else break;
    }
    if (st) {
        nv_free(&items);
        return st;
    }
    if (!is_tuple) {
        if (items.n) {
            *out = items.v[0];
            nv_free(&items);
            return ACCEL_OK;
        }
        if (!explicit_parens) {
            nv_free(&items);
            char d[80];
            describe(cur(p), d, sizeof d);
            return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos, "Expected an expression, got '%s'", d);
        }
    }
    jnode *n = node(p, N_TUPLE, pos);
    if (!n) {
        nv_free(&items);
        return p->err->status;
    }
    *out = n;
    return nv_done(p, &items, &n->items, &n->n, NULL);
}

static accel_status parse_subscribed(parser *p, jnode **out) {
    size_t pos = cur(p)->pos;
    jnode *parts[3] = {NULL, NULL, NULL};
    accel_status st;
    if (is_op(cur(p), OP_COLON)) {
        next(p);
    } else {
        if ((st = parse_expression(p, true, &parts[0]))) return st;
        if (!is_op(cur(p), OP_COLON)) {
            *out = parts[0];
            return ACCEL_OK;
        }
        next(p);
    }
    if (!is_op(cur(p), OP_COLON) && !is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA))
        if ((st = parse_expression(p, true, &parts[1]))) return st;
    if (is_op(cur(p), OP_COLON)) {
        next(p);
        if (!is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA))
            if ((st = parse_expression(p, true, &parts[2]))) return st;
    }
    jnode *n = node(p, N_SLICE, pos);
    if (!n) return p->err->status;
    n->a = parts[0];
    n->b = parts[1];
    n->c = parts[2];
    *out = n;
    return ACCEL_OK;
}

static accel_status parse_subscript(parser *p, jnode *in, jnode **out) {
    const jtok *t = cur(p);
    accel_status st;
    next(p);
    if (t->op == OP_DOT) {
        const jtok *a = cur(p);
        if (a->type == TK_NAME) {
            jnode *n = node(p, N_GETATTR, t->pos);
            if (!n) return p->err->status;
            n->a = in;
            n->name = a->s;
            next(p);
            *out = n;
            return ACCEL_OK;
        }
        if (a->type != TK_INT) return pfail(p, ACCEL_ERR_MODEL_FORMAT, a->pos, "expected name or number");
        jnode *k = node(p, N_CONST, a->pos), *n = node(p, N_GETITEM, t->pos);
        if (!k || !n) return p->err->status;
        k->value = jv_int(a->i);
        next(p);
        n->a = in;
        n->b = k;
        *out = n;
        return ACCEL_OK;
    }
    nvec args = {0};
    st = ACCEL_OK;
    while (!is_op(cur(p), OP_RBRACKET)) {
        if (args.n && (st = expect_op(p, OP_COMMA))) break;
        jnode *e = NULL;
        if ((st = parse_subscribed(p, &e)) || (st = nv_push(p, &args, e, NO_NAME))) break;
    }
    if (!st) st = expect_op(p, OP_RBRACKET);
    if (!st && args.n == 0) st = pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos, "expected subscript expression");
    if (st) {
        nv_free(&args);
        return st;
    }
    jnode *n = node(p, N_GETITEM, t->pos);
    if (!n) {
        nv_free(&args);
        return p->err->status;
    }
    n->a = in;
    if (args.n == 1) {
        n->b = args.v[0];
        nv_free(&args);
    } else {
        jnode *tup = node(p, N_TUPLE, t->pos);
        if (!tup) {
            nv_free(&args);
            return p->err->status;
        }
        if ((st = nv_done(p, &args, &tup->items, &tup->n, NULL))) return st;
        n->b = tup;
    }
    *out = n;
    return ACCEL_OK;
}

static accel_status parse_call(parser *p, jnode *in, jnode **out) {
    jnode *n = node(p, N_CALL, cur(p)->pos);
    if (!n) return p->err->status;
    n->a = in;
    *out = n;
    return fill_args(p, n);
}

static accel_status parse_postfix(parser *p, jnode *in, jnode **out) {
    accel_status st;
    for (;;) {
        if (is_op(cur(p), OP_DOT) || is_op(cur(p), OP_LBRACKET)) {
            if ((st = parse_subscript(p, in, &in))) return st;
        } else if (is_op(cur(p), OP_LPAREN)) {
            if ((st = parse_call(p, in, &in))) return st;
        } else {
            break;
        }
    }
    *out = in;
    return ACCEL_OK;
}

/* name[.name...] of a filter or test */
static accel_status dotted_name(parser *p, jstr *name) {
    if (cur(p)->type != TK_NAME) return expect_type(p, TK_NAME, "name");
    *name = cur(p)->s;
    next(p);
    while (is_op(cur(p), OP_DOT)) {
        next(p);
        if (cur(p)->type != TK_NAME) return expect_type(p, TK_NAME, "name");
        name->n = (size_t)(cur(p)->s.p + cur(p)->s.n - name->p); /* the text "a.b" as written */
        next(p);
    }
    return ACCEL_OK;
}

static accel_status parse_filter(parser *p, jnode *in, bool start_inline, jnode **out) {
    accel_status st;
    while (is_op(cur(p), OP_PIPE) || start_inline) {
        if (!start_inline) next(p);
        start_inline = false;
        size_t pos = cur(p)->pos;
        jnode *n = node(p, N_FILTER, pos);
        if (!n) return p->err->status;
        if ((st = dotted_name(p, &n->name))) return st;
        n->fid = jj_filter_lookup(n->name);
        if (n->fid == JJ_UNSUPPORTED_NAME)
            return pfail(p, ACCEL_ERR_UNSUPPORTED, pos, "the '%.*s' filter is not supported", (int)n->name.n,
                         n->name.p);
        if (n->fid < 0) return pfail(p, ACCEL_ERR_MODEL_FORMAT, pos, "No filter named '%.*s'.", (int)n->name.n,
                                     n->name.p);
        n->a = in;
        if (is_op(cur(p), OP_LPAREN) && (st = fill_args(p, n))) return st;
        in = n;
    }
    *out = in;
    return ACCEL_OK;
}

static accel_status parse_test(parser *p, jnode *in, jnode **out) {
    size_t pos = cur(p)->pos;
    accel_status st;
    next(p); /* is */
    bool negated = false;
    if (is_name(cur(p), "not")) {
        next(p);
        negated = true;
    }
    jnode *n = node(p, N_TEST, pos);
    if (!n) return p->err->status;
    size_t npos = cur(p)->pos;
    if ((st = dotted_name(p, &n->name))) return st;
    n->fid = jj_test_lookup(n->name);
    if (n->fid == JJ_UNSUPPORTED_NAME)
        return pfail(p, ACCEL_ERR_UNSUPPORTED, npos, "the '%.*s' test is not supported", (int)n->name.n, n->name.p);
    if (n->fid < 0) return pfail(p, ACCEL_ERR_MODEL_FORMAT, npos, "No test named '%.*s'.", (int)n->name.n, n->name.p);
    n->a = in;
    const jtok *t = cur(p);
    if (is_op(t, OP_LPAREN)) {
        if ((st = fill_args(p, n))) return st;
    } else if ((t->type == TK_NAME || t->type == TK_STRING || t->type == TK_INT || t->type == TK_FLOAT ||
                is_op(t, OP_LBRACKET) || is_op(t, OP_LBRACE)) &&
               !is_name(t, "else") && !is_name(t, "or") && !is_name(t, "and")) {
        if (is_name(t, "is")) return pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos,
                                           "You cannot chain multiple tests with is");
        jnode *arg;
        if ((st = parse_primary(p, false, &arg)) || (st = parse_postfix(p, arg, &arg))) return st;
        n->items = jj_alloc(p->a, sizeof(jnode *));
        if (!n->items) return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
        n->items[0] = arg;
        n->n = 1;
    }
    if (negated) {
        jnode *no = node(p, N_NOT, pos);
        if (!no) return p->err->status;
        no->a = n;
        n = no;
    }
    *out = n;
    return ACCEL_OK;
}

static accel_status parse_filter_expr(parser *p, jnode *in, jnode **out) {
    accel_status st;
    for (;;) {
        if (is_op(cur(p), OP_PIPE)) {
            if ((st = parse_filter(p, in, false, &in))) return st;
        } else if (is_name(cur(p), "is")) {
            if ((st = parse_test(p, in, &in))) return st;
        } else if (is_op(cur(p), OP_LPAREN)) {
            if ((st = parse_call(p, in, &in))) return st;
        } else {
            break;
        }
    }
    *out = in;
    return ACCEL_OK;
}

static accel_status parse_unary(parser *p, bool with_filter, jnode **out) {
    const jtok *t = cur(p);
    jnode *n;
    accel_status st;
    if (is_op(t, OP_SUB) || is_op(t, OP_ADD)) {
        if ((st = enter(p))) return st;
        next(p);
        jnode *operand;
        if ((st = parse_unary(p, false, &operand))) return st;
        p->depth--;
        bool number = operand->kind == N_CONST && (operand->value.t == JV_INT || operand->value.t == JV_FLOAT);
        if (t->op == OP_SUB && number && !(operand->value.t == JV_INT && operand->value.u.i == INT64_MIN)) {
            /* Jinja's optimizer folds -<number> into a negative constant (this matters for "**", see eval) */
            n = operand;
            if (n->value.t == JV_INT) n->value.u.i = -n->value.u.i;
            else n->value.u.f = -n->value.u.f;
            bool negative = n->value.t == JV_INT ? n->value.u.i < 0 : signbit(n->value.u.f) != 0;
            n->flags = (uint16_t)(negative ? (n->flags | JJ_CONST_FOLDED_NEG) : (n->flags & ~JJ_CONST_FOLDED_NEG));
            n->pos = t->pos;
        } else {
            if (!(n = node(p, t->op == OP_SUB ? N_NEG : N_POS, t->pos))) return p->err->status;
            n->a = operand;
        }
    } else if ((st = parse_primary(p, false, &n))) {
        return st;
    }
    if ((st = parse_postfix(p, n, &n))) return st;
    if (with_filter && (st = parse_filter_expr(p, n, &n))) return st;
    *out = n;
    return ACCEL_OK;
}

static accel_status binop(parser *p, jnode_kind kind, jop op, size_t pos, jnode *a, jnode *b, jnode **out) {
    jnode *n = node(p, kind, pos);
    if (!n) return p->err->status;
    n->op = (uint8_t)op;
    n->a = a;
    n->b = b;
    *out = n;
    return ACCEL_OK;
}

static accel_status parse_pow(parser *p, jnode **out) {
    jnode *left = NULL, *right = NULL;
    accel_status st;
    if ((st = parse_unary(p, true, &left))) return st;
    while (is_op(cur(p), OP_POW)) {
        size_t pos = cur(p)->pos;
        next(p);
        if ((st = parse_unary(p, true, &right)) || (st = binop(p, N_BINOP, OP_POW, pos, left, right, &left))) return st;
    }
    *out = left;
    return ACCEL_OK;
}

static accel_status parse_math2(parser *p, jnode **out) {
    jnode *left = NULL, *right = NULL;
    accel_status st;
    if ((st = parse_pow(p, &left))) return st;
    while (is_op(cur(p), OP_MUL) || is_op(cur(p), OP_DIV) || is_op(cur(p), OP_FLOORDIV) || is_op(cur(p), OP_MOD)) {
        jop op = (jop)cur(p)->op;
        size_t pos = cur(p)->pos;
        next(p);
        if ((st = parse_pow(p, &right)) || (st = binop(p, N_BINOP, op, pos, left, right, &left))) return st;
    }
    *out = left;
    return ACCEL_OK;
}

static accel_status parse_concat(parser *p, jnode **out) {
    size_t pos = cur(p)->pos;
    jnode *first = NULL;
    accel_status st;
    if ((st = parse_math2(p, &first))) return st;
    if (!is_op(cur(p), OP_TILDE)) {
        *out = first;
        return ACCEL_OK;
    }
    nvec items = {0};
    if ((st = nv_push(p, &items, first, NO_NAME))) return st;
    while (is_op(cur(p), OP_TILDE)) {
        next(p);
        jnode *e = NULL;
        if ((st = parse_math2(p, &e)) || (st = nv_push(p, &items, e, NO_NAME))) {
            nv_free(&items);
            return st;
        }
    }
    jnode *n = node(p, N_CONCAT, pos);
    if (!n) {
        nv_free(&items);
        return p->err->status;
    }
    *out = n;
    return nv_done(p, &items, &n->items, &n->n, NULL);
}

static accel_status parse_math1(parser *p, jnode **out) {
    jnode *left = NULL, *right = NULL;
    accel_status st;
    if ((st = parse_concat(p, &left))) return st;
    while (is_op(cur(p), OP_ADD) || is_op(cur(p), OP_SUB)) {
        jop op = (jop)cur(p)->op;
        size_t pos = cur(p)->pos;
        next(p);
        if ((st = parse_concat(p, &right)) || (st = binop(p, N_BINOP, op, pos, left, right, &left))) return st;
    }
    *out = left;
    return ACCEL_OK;
}

static accel_status parse_compare(parser *p, jnode **out) {
    size_t pos = cur(p)->pos;
    jnode *first = NULL;
    accel_status st;
    if ((st = parse_math1(p, &first))) return st;
    nvec operands = {0};
    uint8_t ops[64];
    for (;;) {
        const jtok *t = cur(p);
        jop op = OP_NONE;
        if (t->type == TK_OP && (t->op == OP_EQ || t->op == OP_NE || t->op == OP_LT || t->op == OP_LE ||
                                 t->op == OP_GT || t->op == OP_GE)) {
            op = (jop)t->op;
            next(p);
        } else if (is_name(t, "in")) {
            op = OP_IN;
            next(p);
        } else if (is_name(t, "not") && is_name(peek(p), "in")) {
            op = OP_NOTIN;
            next(p);
            next(p);
        } else {
            break;
        }
        if (operands.n >= sizeof ops) {
            nv_free(&operands);
            return pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos, "more than %zu chained comparisons", sizeof ops);
        }
        ops[operands.n] = (uint8_t)op;
        jnode *e = NULL;
        if ((st = parse_math1(p, &e)) || (st = nv_push(p, &operands, e, NO_NAME))) {
            nv_free(&operands);
            return st;
        }
    }
    if (!operands.n) {
        *out = first;
        return ACCEL_OK;
    }
    jnode *n = node(p, N_COMPARE, pos);
    if (!n) {
        nv_free(&operands);
        return p->err->status;
    }
    n->a = first;
    n->cmp_ops = jj_alloc(p->a, operands.n);
    if (!n->cmp_ops) {
        nv_free(&operands);
        return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    }
    memcpy(n->cmp_ops, ops, operands.n);
    *out = n;
    return nv_done(p, &operands, &n->items, &n->n, NULL);
}

static accel_status parse_not(parser *p, jnode **out) {
    if (is_name(cur(p), "not")) {
        size_t pos = cur(p)->pos;
        accel_status st = enter(p);
        if (st) return st;
        next(p);
        jnode *operand;
        if ((st = parse_not(p, &operand))) return st;
        p->depth--;
        jnode *n = node(p, N_NOT, pos);
        if (!n) return p->err->status;
        n->a = operand;
        *out = n;
        return ACCEL_OK;
    }
    return parse_compare(p, out);
}

static accel_status parse_and(parser *p, jnode **out) {
    jnode *left = NULL, *right = NULL;
    accel_status st;
    if ((st = parse_not(p, &left))) return st;
    while (is_name(cur(p), "and")) {
        size_t pos = cur(p)->pos;
        next(p);
        if ((st = parse_not(p, &right)) || (st = binop(p, N_AND, OP_NONE, pos, left, right, &left))) return st;
    }
    *out = left;
    return ACCEL_OK;
}

static accel_status parse_or(parser *p, jnode **out) {
    jnode *left = NULL, *right = NULL;
    accel_status st;
    if ((st = parse_and(p, &left))) return st;
    while (is_name(cur(p), "or")) {
        size_t pos = cur(p)->pos;
        next(p);
        if ((st = parse_and(p, &right)) || (st = binop(p, N_OR, OP_NONE, pos, left, right, &left))) return st;
    }
    *out = left;
    return ACCEL_OK;
}

static accel_status parse_condexpr(parser *p, jnode **out) {
    accel_status st = enter(p);
    if (st) return st;
    jnode *expr1;
    if ((st = parse_or(p, &expr1))) return st;
    while (is_name(cur(p), "if")) {
        size_t pos = cur(p)->pos;
        next(p);
        jnode *test, *other = NULL;
        if ((st = parse_or(p, &test))) return st;
        if (is_name(cur(p), "else")) {
            next(p);
            if ((st = parse_condexpr(p, &other))) return st;
        }
        jnode *n = node(p, N_COND, pos);
        if (!n) return p->err->status;
        n->a = test;
        n->b = expr1;
        n->c = other;
        expr1 = n;
    }
    p->depth--;
    *out = expr1;
    return ACCEL_OK;
}

static accel_status parse_expression(parser *p, bool with_condexpr, jnode **out) {
    if (with_condexpr) return parse_condexpr(p, out);
    accel_status st = enter(p);
    if (st) return st;
    st = parse_or(p, out);
    p->depth--;
    return st;
}

/* ---- statements -------------------------------------------------------------------------------------------- */

static accel_status subparse(parser *p, const char *const *end_tags, const char *opened, jnode ***body, uint32_t *n);

static bool can_assign(const jnode *t) {
    if (t->kind == N_NAME || t->kind == N_NSREF) return true;
    if (t->kind == N_TUPLE) {
        for (uint32_t i = 0; i < t->n; i++)
            if (!can_assign(t->items[i])) return false;
        return true;
    }
    return false;
}

static const char *kind_word(const jnode *t) {
    switch (t->kind) {
    case N_CONST: return "const";
    case N_LIST: return "list";
    case N_DICT: return "dict";
    case N_GETATTR: return "getattr";
    case N_GETITEM: return "getitem";
    case N_CALL: return "call";
    default: return "expression";
    }
}

static accel_status parse_assign_target(parser *p, bool name_only, const char *const *extra_end, bool with_namespace,
                                        jnode **out) {
    accel_status st;
    if (name_only) {
        if (cur(p)->type != TK_NAME) return expect_type(p, TK_NAME, "name");
        jnode *n = node(p, N_NAME, cur(p)->pos);
        if (!n) return p->err->status;
        n->name = cur(p)->s;
        next(p);
        *out = n;
        return ACCEL_OK;
    }
    size_t pos = cur(p)->pos;
    if ((st = parse_tuple(p, true, true, extra_end, false, with_namespace, out))) return st;
    if (!can_assign(*out)) return pfail(p, ACCEL_ERR_MODEL_FORMAT, pos, "can't assign to '%s'", kind_word(*out));
    return ACCEL_OK;
}

/* After a tag's arguments: "%}", the body up to one of end_tags; leaves the parser on the end tag's name. */
static accel_status parse_statements(parser *p, const char *const *end_tags, const char *opened, bool drop_needle,
                                     jnode ***body, uint32_t *n) {
    accel_status st;
    if (is_op(cur(p), OP_COLON)) next(p);
    if ((st = expect_type(p, TK_BLOCK_END, "end of statement block"))) return st;
    if ((st = subparse(p, end_tags, opened, body, n))) return st;
    if (cur(p)->type == TK_EOF) {
        char want[300] = "";
        for (int k = 0; end_tags[k]; k++) {
            size_t l = strlen(want);
            snprintf(want + l, sizeof want - l, "%s'%s'", k ? " or " : "", end_tags[k]);
        }
        return pfail(p, ACCEL_ERR_MODEL_FORMAT, cur(p)->pos,
                     "Unexpected end of template. Jinja was looking for the following tags: %s. The innermost block "
                     "that needs to be closed is '%s'.",
                     want, opened);
    }
    if (drop_needle) next(p);
    return ACCEL_OK;
}

static const char *const END_FOR[] = {"endfor", "else", NULL};
static const char *const END_FOR_ONLY[] = {"endfor", NULL};
static const char *const END_IF[] = {"elif", "else", "endif", NULL};
static const char *const END_IF_ONLY[] = {"endif", NULL};
static const char *const END_SET[] = {"endset", NULL};
static const char *const END_MACRO[] = {"endmacro", NULL};
static const char *const END_WITH[] = {"endwith", NULL};
static const char *const END_FILTER[] = {"endfilter", NULL};
static const char *const END_GENERATION[] = {"endgeneration", NULL};
static const char *const IN_END[] = {"in", NULL};
static const char *const RECURSIVE_END[] = {"recursive", NULL};

static accel_status parse_for(parser *p, jnode *n) {
    accel_status st;
    next(p);
    if ((st = parse_assign_target(p, false, IN_END, false, &n->a))) return st;
    if ((st = expect_name(p, "in"))) return st;
    if ((st = parse_tuple(p, false, false, RECURSIVE_END, false, false, &n->b))) return st;
    if (is_name(cur(p), "if")) {
        next(p);
        if ((st = parse_expression(p, true, &n->c))) return st;
    }
    if (is_name(cur(p), "recursive"))
        return pfail(p, ACCEL_ERR_UNSUPPORTED, cur(p)->pos, "recursive for loops are not supported");
    p->loop_depth++;
    st = parse_statements(p, END_FOR, "for", false, &n->items, &n->n);
    p->loop_depth--;
    if (st) return st;
    bool is_else = is_name(cur(p), "else");
    next(p);
    if (is_else) return parse_statements(p, END_FOR_ONLY, "for", true, &n->items2, &n->n2);
    return ACCEL_OK;
}

static accel_status parse_if(parser *p, jnode *root) {
    accel_status st;
    next(p);
    jnode *n = root;
    for (;;) {
        if ((st = parse_tuple(p, false, false, NULL, false, false, &n->a))) return st;
        if ((st = parse_statements(p, END_IF, "if", false, &n->items, &n->n))) return st;
        const jtok *t = cur(p);
        next(p);
        if (is_name(t, "elif")) {
            jnode *e = node(p, N_IF, t->pos);
            if (!e) return p->err->status;
            n->items2 = jj_alloc(p->a, sizeof(jnode *));
            if (!n->items2) return jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
            n->items2[0] = e;
            n->n2 = 1;
            n = e;
            continue;
        }
        if (is_name(t, "else")) return parse_statements(p, END_IF_ONLY, "if", true, &n->items2, &n->n2);
        return ACCEL_OK;
    }
}

static accel_status parse_macro(parser *p, jnode *n) {
    accel_status st;
    next(p);
    jnode *name;
    if ((st = parse_assign_target(p, true, NULL, false, &name))) return st;
    n->name = name->name;
    if ((st = expect_op(p, OP_LPAREN))) return st;
    nvec params = {0}, defaults = {0};
    while (!is_op(cur(p), OP_RPAREN)) {
        if (params.n && (st = expect_op(p, OP_COMMA))) break;
        jnode *arg;
        if ((st = parse_assign_target(p, true, NULL, false, &arg))) break;
        if (is_op(cur(p), OP_ASSIGN)) {
            next(p);
            jnode *d;
            if ((st = parse_expression(p, true, &d)) || (st = nv_push(p, &defaults, d, NO_NAME))) break;
        } else if (defaults.n) {
            st = pfail(p, ACCEL_ERR_MODEL_FORMAT, arg->pos, "non-default argument follows default argument");
            break;
        }
        if ((st = nv_push(p, &params, arg, arg->name))) break;
    }
    if (!st) st = expect_op(p, OP_RPAREN);
    if (st) {
        nv_free(&params);
        nv_free(&defaults);
        return st;
    }
    jnode **unused;
    if ((st = nv_done(p, &params, &unused, &n->nnames, &n->names))) {
        nv_free(&defaults);
        return st;
    }
    if ((st = nv_done(p, &defaults, &n->items2, &n->n2, NULL))) return st;
    jnode *outer = p->macro;
    int loops = p->loop_depth;
    p->macro = n;
    p->loop_depth = 0; /* a macro body is a function: break/continue cannot reach an enclosing loop */
    st = parse_statements(p, END_MACRO, "macro", true, &n->items, &n->n);
    p->macro = outer;
    p->loop_depth = loops;
    return st;
}

static accel_status parse_with(parser *p, jnode *n) {
    accel_status st;
    next(p);
    nvec targets = {0}, values = {0};
    while (cur(p)->type != TK_BLOCK_END) {
        if (targets.n && (st = expect_op(p, OP_COMMA))) goto fail;
        jnode *t, *v;
        if ((st = parse_assign_target(p, false, NULL, false, &t))) goto fail;
        if ((st = expect_op(p, OP_ASSIGN))) goto fail;
        if ((st = parse_expression(p, true, &v))) goto fail;
        if ((st = nv_push(p, &targets, t, NO_NAME)) || (st = nv_push(p, &values, v, NO_NAME))) goto fail;
        if (cur(p)->type == TK_EOF) break;
    }
    {
        jnode **tv, **vv;
        uint32_t nt, nvv;
        if ((st = nv_done(p, &targets, &tv, &nt, NULL))) goto fail;
        if ((st = nv_done(p, &values, &vv, &nvv, NULL))) return st;
        /* items: body; a/b hold tuples of the targets and values */
        jnode *tt = node(p, N_TUPLE, n->pos), *vt = node(p, N_TUPLE, n->pos);
        if (!tt || !vt) return p->err->status;
        tt->items = tv;
        tt->n = nt;
        vt->items = vv;
        vt->n = nvv;
        n->a = tt;
        n->b = vt;
    }
    return parse_statements(p, END_WITH, "with", true, &n->items, &n->n);
fail:
    nv_free(&targets);
    nv_free(&values);
    return st;
}

static accel_status parse_statement(parser *p, jnode **out) {
    const jtok *t = cur(p);
    accel_status st;
    if (t->type != TK_NAME) return pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos, "tag name expected");
    if ((st = enter(p))) return st;
    jnode *n = NULL;
    if (is_name(t, "for")) {
        if (!(n = node(p, N_FOR, t->pos))) return p->err->status;
        st = parse_for(p, n);
    } else if (is_name(t, "if")) {
        if (!(n = node(p, N_IF, t->pos))) return p->err->status;
        st = parse_if(p, n);
    } else if (is_name(t, "set")) {
        next(p);
        jnode *target;
        if ((st = parse_assign_target(p, false, NULL, true, &target))) return st;
        if (is_op(cur(p), OP_ASSIGN)) {
            next(p);
            if (!(n = node(p, N_SET, t->pos))) return p->err->status;
            n->a = target;
            st = parse_tuple(p, false, true, NULL, false, false, &n->b);
        } else {
            if (!(n = node(p, N_SET_BLOCK, t->pos))) return p->err->status;
            n->a = target;
            if ((st = parse_filter(p, NULL, false, &n->b))) return st;
            st = parse_statements(p, END_SET, "set", true, &n->items, &n->n);
        }
    } else if (is_name(t, "macro")) {
        if (!(n = node(p, N_MACRO, t->pos))) return p->err->status;
        st = parse_macro(p, n);
    } else if (is_name(t, "with")) {
        if (!(n = node(p, N_WITH, t->pos))) return p->err->status;
        st = parse_with(p, n);
    } else if (is_name(t, "print")) {
        next(p);
        if (!(n = node(p, N_OUTPUT, t->pos))) return p->err->status;
        nvec items = {0};
        while (cur(p)->type != TK_BLOCK_END && cur(p)->type != TK_EOF) {
            if (items.n && (st = expect_op(p, OP_COMMA))) break;
            jnode *e = NULL;
            if ((st = parse_expression(p, true, &e)) || (st = nv_push(p, &items, e, NO_NAME))) break;
        }
        if (st) {
            nv_free(&items);
            return st;
        }
        st = nv_done(p, &items, &n->items, &n->n, NULL);
    } else if (is_name(t, "break") || is_name(t, "continue")) {
        if (p->loop_depth == 0)
            return pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos, "'%.*s' outside loop", (int)t->s.n, t->s.p);
        if (!(n = node(p, is_name(t, "break") ? N_BREAK : N_CONTINUE, t->pos))) return p->err->status;
        next(p);
    } else if (is_name(t, "filter")) {
        next(p);
        if (!(n = node(p, N_FILTER_BLOCK, t->pos))) return p->err->status;
        if ((st = parse_filter(p, NULL, true, &n->b))) return st;
        st = parse_statements(p, END_FILTER, "filter", true, &n->items, &n->n);
    } else if (is_name(t, "generation")) {
        next(p);
        if (!(n = node(p, N_SCOPE, t->pos))) return p->err->status;
        st = parse_statements(p, END_GENERATION, "generation", true, &n->items, &n->n);
    } else if (is_name(t, "include") || is_name(t, "extends") || is_name(t, "import") || is_name(t, "from") ||
               is_name(t, "block") || is_name(t, "call") || is_name(t, "autoescape")) {
        return pfail(p, ACCEL_ERR_UNSUPPORTED, t->pos, "the '%.*s' tag is not supported", (int)t->s.n, t->s.p);
    } else {
        char extra[400] = "";
        if (p->nends > 0) {
            const char *const *want = p->ends[p->nends - 1];
            size_t l = (size_t)snprintf(extra, sizeof extra, " Jinja was looking for the following tags: ");
            for (int k = 0; want[k] && l < sizeof extra; k++)
                l += (size_t)snprintf(extra + l, sizeof extra - l, "%s'%s'", k ? " or " : "", want[k]);
            if (l < sizeof extra)
                snprintf(extra + l, sizeof extra - l, ". The innermost block that needs to be closed is '%s'.",
                         p->opened[p->nends - 1]);
        }
        return pfail(p, ACCEL_ERR_MODEL_FORMAT, t->pos, "Encountered unknown tag '%.*s'.%s", (int)t->s.n, t->s.p,
                     extra);
    }
    if (st) return st;
    p->depth--;
    *out = n;
    return ACCEL_OK;
}

static accel_status subparse(parser *p, const char *const *end_tags, const char *opened, jnode ***body, uint32_t *n) {
    nvec items = {0};
    accel_status st = ACCEL_OK;
    if (end_tags) {
        p->ends[p->nends] = end_tags;
        p->opened[p->nends] = opened;
        p->nends++;
    }
    for (;;) {
        const jtok *t = cur(p);
        if (t->type == TK_EOF) break;
        jnode *x = NULL;
        if (t->type == TK_DATA) {
            if (!(x = node(p, N_DATA, t->pos))) {
                st = p->err->status;
                break;
            }
            x->value = jv_str(t->s.p, t->s.n);
            next(p);
        } else if (t->type == TK_VAR_BEGIN) {
            next(p);
            jnode *e = NULL;
            if ((st = parse_tuple(p, false, true, NULL, false, false, &e))) break;
            if ((st = expect_type(p, TK_VAR_END, "end of print statement"))) break;
            if (!(x = node(p, N_OUTPUT, t->pos))) {
                st = p->err->status;
                break;
            }
            x->items = jj_alloc(p->a, sizeof(jnode *));
            if (!x->items) {
                st = jj_fail(p->err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
                break;
            }
            x->items[0] = e;
            x->n = 1;
        } else if (t->type == TK_BLOCK_BEGIN) {
            next(p);
            bool is_end = false;
            if (end_tags)
                for (int k = 0; end_tags[k]; k++)
                    if (is_name(cur(p), end_tags[k])) is_end = true;
            if (is_end) break;
            if ((st = parse_statement(p, &x))) break;
            if ((st = expect_type(p, TK_BLOCK_END, "end of statement block"))) break;
        } else {
            st = unexpected(p);
            break;
        }
        if ((st = nv_push(p, &items, x, NO_NAME))) break;
    }
    if (end_tags) p->nends--;
    if (st) {
        nv_free(&items);
        return st;
    }
    return nv_done(p, &items, body, n, NULL);
}

accel_status jj_parse(jj_arena *a, const jj_source *src, const jtok *toks, size_t ntoks, jnode **body, jj_err *err) {
    parser p = {0};
    p.t = toks;
    p.n = ntoks;
    p.a = a;
    p.err = err;
    p.src = src;
    jnode *root = node(&p, N_SCOPE, 0);
    if (!root) return err->status;
    accel_status st = subparse(&p, NULL, NULL, &root->items, &root->n);
    if (st) return st;
    *body = root;
    return ACCEL_OK;
}
