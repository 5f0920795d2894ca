/* Internals of the Jinja subset interpreter behind chat templates (chat_template.h is the interface).
 *
 * Pipeline: source --jinja_lexer.c--> tokens --jinja_parser.c--> syntax tree (nodes) --jinja_eval.c--> text.
 * Values (jinja_value.c) follow Python's semantics because Hugging Face renders templates with Python's Jinja2:
 * printing is Python's str(), equality/ordering/arithmetic are Python's, strings are UTF-8 but are indexed,
 * sliced and measured in code points. Filters, tests, methods and globals live in jinja_builtins.c, the string
 * operations and formatting they use in jinja_strings.c.
 *
 * Memory: everything of a parsed template (tokens, nodes, constants) lives in the template's arena; everything
 * a render creates lives in that render's arena, freed at once when the render ends. Arenas have a byte limit, so
 * an untrusted template cannot take unbounded memory.
 *
 * Errors: internal functions return accel_status and record the message in a jj_err (a fixed buffer), so nothing
 * below chat_template.c touches the per-thread error until the call that the user made returns. */
#ifndef ACCEL_TEXT_JINJA_INTERNAL_H
#define ACCEL_TEXT_JINJA_INTERNAL_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (a template is untrusted input) ------------------------------------------------------------- */
#define JJ_MAX_SOURCE ((size_t)16 << 20)       /* template source bytes */
#define JJ_MAX_NESTING 128                      /* nested blocks/brackets/operators while parsing */
#define JJ_MAX_CALL_DEPTH 100                   /* nested macro calls while rendering */
#define JJ_MAX_VALUE_DEPTH 128                  /* nesting of values printed, compared or converted to JSON */
#define JJ_MAX_ITERATIONS ((uint64_t)1000000)   /* loop iterations + macro calls + items filters walk */
#define JJ_MAX_WORK ((uint64_t)256 << 20)        /* bytes of string processing per render (scans, copies, output) */
#define JJ_MAX_OUTPUT ((size_t)32 << 20)        /* rendered bytes, and the size of any one string */
#define JJ_MAX_LIST ((size_t)1 << 20)           /* elements of any one list */
#define JJ_MAX_RENDER_MEMORY ((size_t)256 << 20) /* bytes of one render's arena */
#define JJ_MAX_TEMPLATE_MEMORY ((size_t)256 << 20)

/* ---- errors ------------------------------------------------------------------------------------------------ */
typedef struct jj_err {
    accel_status status; /* ACCEL_OK until the first error */
    char msg[900];
} jj_err;

/* Records the first error (later ones are ignored: the first is the cause) and returns its status. */
accel_status jj_fail(jj_err *e, accel_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- arena ------------------------------------------------------------------------------------------------- */
typedef struct jj_chunk jj_chunk;
typedef struct jj_arena {
    jj_chunk *head;
    size_t used;  /* bytes handed out, for the limit */
    size_t limit; /* 0 = no limit */
} jj_arena;

/* Zeroed, 16-byte aligned memory; NULL when the system is out of memory or the limit is reached. */
void *jj_alloc(jj_arena *a, size_t n);
void jj_arena_free(jj_arena *a);

/* ---- strings ----------------------------------------------------------------------------------------------- */
typedef struct jstr {
    const char *p;
    size_t n;
} jstr;

static inline jstr jstr_c(const char *s);
bool jstr_eq_c(jstr s, const char *c);

/* A growable byte buffer with a size limit (output, captured macro output, building strings). */
typedef struct jbuf {
    char *p;
    size_t n, cap, limit;
    bool over; /* set when an append would pass the limit or malloc failed; later appends are dropped */
    bool oom;  /* the failure was malloc */
} jbuf;
void jbuf_init(jbuf *b, size_t limit);
void jbuf_put(jbuf *b, const char *s, size_t n);
void jbuf_puts(jbuf *b, const char *s);
void jbuf_putc(jbuf *b, char c);
void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_free(jbuf *b);

/* ---- UTF-8 and Python character classes ------------------------------------------------------------------- */
size_t jj_utf8_next(const char *s, size_t n, size_t i, uint32_t *cp); /* decodes at i, returns the next index */
size_t jj_utf8_put(char *dst, uint32_t cp);                          /* encodes, returns 1..4 */
size_t jj_utf8_count(const char *s, size_t n);                        /* code points */
bool jj_py_isspace(uint32_t c);                                      /* str.isspace / regex \s */
bool jj_py_isalpha(uint32_t c);
bool jj_py_isdigit(uint32_t c);   /* str.isdigit (Nd and No digits as Python decides; approximated by Nd/No) */
bool jj_py_isalnum(uint32_t c);
bool jj_py_isprintable(uint32_t c); /* for repr() of strings */
uint32_t jj_py_upper(uint32_t c);
uint32_t jj_py_lower(uint32_t c);
uint32_t jj_py_title(uint32_t c);
bool jj_py_iscased(uint32_t c); /* has an upper or lower case form (or is title case): str.title() word logic */
bool jj_py_islowerc(uint32_t c);
bool jj_py_isupperc(uint32_t c);

/* ---- values ------------------------------------------------------------------------------------------------ */
typedef enum jv_type {
    JV_UNDEF, /* Jinja's Undefined: prints "", falsy, iterates empty; most other uses raise its hint */
    JV_NONE,
    JV_BOOL,
    JV_INT,   /* int64; results outside it are ACCEL_ERR_UNSUPPORTED (Python would grow the integer) */
    JV_FLOAT,
    JV_STR,
    JV_LIST,
    JV_TUPLE,
    JV_DICT,  /* insertion ordered, immutable after construction */
    JV_NS,    /* namespace(): the one mutable object */
    JV_FUNC,  /* builtin global, bound method, macro, loop.cycle */
    JV_LOOP,  /* the `loop` object of a for loop */
    JV_GEN,   /* a lazy iterator: the generators of map/select/batch/items... and reverse's iterator; it is
                 consumed by iterating it (once, as in Python), always truthy, has no len() */
} jv_type;

typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
typedef struct jloop jloop;
typedef struct jgen jgen;

typedef struct jv {
    uint8_t t; /* jv_type */
    union {
        bool b;
        int64_t i;
        double f;
        jstr s;
        jlist *l;
        jdict *d;
        jfunc *fn;
        jloop *loop;
        jgen *g;
        const char *hint; /* JV_UNDEF: the message raised when it is used (NUL-terminated), or NULL */
    } u;
} jv;

/* How a list prints when it stands for a Python object other than a list (only printing and equality differ). */
typedef enum jlist_view { JL_PLAIN, JL_DICT_KEYS, JL_DICT_VALUES, JL_DICT_ITEMS, JL_RANGE } jlist_view;

struct jlist {
    size_t n;
    jv *v;
    uint8_t view;       /* jlist_view */
    int64_t range[3];   /* JL_RANGE: start, stop, step */
};
struct jdict {
    size_t n, cap;
    jv *k, *v;
};

struct jnode;
typedef enum jfunc_kind {
    JF_GLOBAL, /* id: jj_global_id */
    JF_METHOD, /* id: method index; self: receiver */
    JF_MACRO,
    JF_LOOP_CYCLE,
} jfunc_kind;
struct jfunc {
    int kind;
    int id;
    jv self;
    const struct jnode *macro;
    jloop *loop;
};

/* A generator: the filter fid applied to `in` with the stored arguments, run when first consumed. */
struct jgen {
    int fid;                  /* -1: `items` is already known (reverse) */
    jv in;
    const jv *pos, *kwv;      /* arguments (arena) */
    const jstr *kwn;
    size_t npos, nkw;
    const char *type_name;    /* "generator", "list_reverseiterator" */
    const char *func_name;    /* "select_or_reject"... for repr */
    bool filled;
    jlist *items;
    size_t next;              /* items consumed so far */
};

struct jloop {
    size_t index0, length;
    const jlist *items; /* the (filtered) items */
    int depth;          /* 1 for the outermost loop */
};

static inline jv jv_undef(const char *hint) { jv v; v.t = JV_UNDEF; v.u.hint = hint; return v; }
static inline jv jv_none(void) { jv v; v.t = JV_NONE; v.u.i = 0; return v; }
static inline jv jv_bool(bool b) { jv v; v.t = JV_BOOL; v.u.i = 0; v.u.b = b; return v; }
static inline jv jv_int(int64_t i) { jv v; v.t = JV_INT; v.u.i = i; return v; }
static inline jv jv_float(double f) { jv v; v.t = JV_FLOAT; v.u.f = f; return v; }
static inline jv jv_str(const char *p, size_t n) { jv v; v.t = JV_STR; v.u.s.p = p; v.u.s.n = n; return v; }
static inline jstr jstr_c(const char *s) { jstr r; r.p = s; r.n = 0; while (s[r.n]) r.n++; return r; }

/* What values operate in: the arena new values come from, the error sink and the limits. */
typedef struct jj_vm {
    jj_arena *arena;
    jj_err *err;
    uint64_t steps; /* iterations and calls so far (JJ_MAX_ITERATIONS) */
    uint64_t work;  /* bytes of string work so far (JJ_MAX_WORK) */
} jj_vm;

/* Count work and fail with ACCEL_ERR_INVALID_ARG past the limits: jj_step for iterations and items, jj_work for
 * bytes of string processing (so that repeating an O(n) operation on a large string cannot run for hours). */
accel_status jj_step(jj_vm *vm, uint64_t n);
accel_status jj_work(jj_vm *vm, uint64_t bytes);
/* Arena allocation that records the error: "template exceeded the N MiB memory limit" or out of memory. */
void *jj_valloc(jj_vm *vm, size_t n);

const char *jv_type_name(const jv *v);  /* Python type name: int, str, list, NoneType... */
bool jv_truthy(const jv *v);
bool jv_is_num(const jv *v);            /* bool, int or float */
double jv_as_double(const jv *v);       /* for bool/int/float */
bool jv_is_seq(const jv *v);            /* list or tuple */
const char *jv_undef_msg(const jv *v);  /* the undefined's error text ("'x' is undefined") */

jv jv_strdup(jj_vm *vm, const char *p, size_t n, accel_status *st); /* arena copy */
accel_status jv_new_list(jj_vm *vm, size_t n, jv_type t, jv *out);   /* list/tuple of n JV_UNDEF elements */
accel_status jv_new_dict(jj_vm *vm, size_t cap, jv_type t, jv *out); /* dict or namespace */
/* Inserts or replaces (keys compare like Python dict keys: 1 == 1.0 == True). Unhashable keys fail. */
accel_status jv_dict_set(jj_vm *vm, jv *d, jv key, jv val);
bool jv_dict_get(const jv *d, const jv *key, jv *out);
bool jv_dict_get_c(const jv *d, const char *key, jv *out);

/* Python str() and repr() appended to b; depth-guarded. */
accel_status jv_to_str(jj_vm *vm, const jv *v, jbuf *b);
accel_status jv_repr(jj_vm *vm, const jv *v, jbuf *b, int depth);
/* str() as a string value (no copy for strings). */
accel_status jv_str_value(jj_vm *vm, const jv *v, jv *out);
void jj_float_repr(double f, char out[40]); /* Python repr(float) */

/* Python ==, and <  (ordering fails with a TypeError-like message for mismatched types). */
accel_status jv_eq(jj_vm *vm, const jv *a, const jv *b, bool *eq, int depth);
accel_status jv_lt(jj_vm *vm, const jv *a, const jv *b, bool *lt, const char *opname, int depth);

/* HF's tojson: json.dumps(x, ensure_ascii, indent, separators, sort_keys). indent: NULL = None. */
typedef struct jj_json_opts {
    bool ensure_ascii, sort_keys;
    const char *indent; /* NULL: single line */
    size_t indent_n;
    const char *item_sep, *key_sep;
    size_t item_sep_n, key_sep_n;
} jj_json_opts;
accel_status jv_to_json(jj_vm *vm, const jv *v, const jj_json_opts *o, jbuf *b);

size_t jv_str_len(const jv *s); /* code points */

/* ---- lexer ------------------------------------------------------------------------------------------------- */
typedef enum jtok_type {
    TK_EOF,
    TK_DATA,
    TK_VAR_BEGIN,
    TK_VAR_END,
    TK_BLOCK_BEGIN,
    TK_BLOCK_END,
    TK_NAME,
    TK_STRING,
    TK_INT,
    TK_FLOAT,
    TK_OP,
} jtok_type;

typedef enum jop {
    OP_NONE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_TILDE,
    OP_LBRACKET, OP_RBRACKET, OP_LPAREN, OP_RPAREN, OP_LBRACE, OP_RBRACE,
    OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_ASSIGN, OP_DOT, OP_COLON, OP_PIPE, OP_COMMA, OP_SEMICOLON,
    /* not lexer operators: comparison kinds of the parser */
    OP_IN, OP_NOTIN,
} jop;

typedef struct jtok {
    uint8_t type; /* jtok_type */
    uint8_t op;   /* jop for TK_OP */
    uint32_t pos; /* byte offset in the (newline-normalized) source */
    jstr s;       /* TK_DATA text, TK_NAME name, TK_STRING value (unescaped) */
    int64_t i;
    double f;
} jtok;

typedef struct jj_source {
    const char *p; /* newline-normalized copy, NUL-terminated */
    size_t n;
} jj_source;

/* Line and column (1-based, column in code points) of a byte offset. */
void jj_line_col(const jj_source *src, size_t pos, int *line, int *col);

/* Validates UTF-8, normalizes newlines, drops one trailing newline (keep_trailing_newline=False) and tokenizes
 * with HF's settings (trim_blocks, lstrip_blocks). src->p lives in the arena; *toks is malloc'ed (the caller
 * frees it after parsing; token strings point into the arena). Errors: ACCEL_ERR_MODEL_FORMAT with line:column,
 * ACCEL_ERR_UNSUPPORTED (\N{...} escapes, non-ASCII identifiers), ACCEL_ERR_OUT_OF_MEMORY. */
accel_status jj_lex(jj_arena *a, const char *text, size_t len, jj_source *src, jtok **toks, size_t *ntoks,
                    jj_err *err);

/* ---- syntax tree ------------------------------------------------------------------------------------------- */
typedef enum jnode_kind {
    /* expressions */
    N_CONST, N_NAME, N_LIST, N_TUPLE, N_DICT, N_GETATTR, N_GETITEM, N_SLICE, N_CALL, N_FILTER, N_TEST, N_NOT,
    N_BINOP, N_CONCAT, N_NEG, N_POS, N_AND, N_OR, N_COMPARE, N_COND, N_NSREF,
    /* statements */
    N_DATA, N_OUTPUT, N_IF, N_FOR, N_SET, N_SET_BLOCK, N_MACRO, N_BREAK, N_CONTINUE, N_WITH, N_FILTER_BLOCK,
    N_SCOPE, /* a body rendered in a new scope ({% generation %}) */
} jnode_kind;

typedef struct jnode jnode;
struct jnode {
    uint8_t kind;
    uint8_t op;     /* N_BINOP: jop */
    uint16_t flags; /* N_MACRO: JJ_MACRO_VARARGS / JJ_MACRO_KWARGS */
    uint32_t pos;   /* source offset, for error messages */
    jnode *a, *b, *c;
    jnode **items; /* args, list items, body, compare operands, targets */
    uint32_t n;
    jnode **items2; /* keyword values, dict values, else body, macro defaults */
    uint32_t n2;
    jstr name;   /* N_NAME/N_GETATTR/N_NSREF (name . attr in `attr`), filter/test/macro name */
    jstr attr;   /* N_NSREF attribute */
    jstr *names; /* keyword names, macro parameter names */
    uint32_t nnames;
    uint8_t *cmp_ops; /* N_COMPARE: jop per operand */
    int fid;          /* filter/test table index */
    jv value;         /* N_CONST */
};
#define JJ_MACRO_VARARGS 1
#define JJ_MACRO_KWARGS 2
#define JJ_CONST_FOLDED_NEG 4 /* N_CONST made by folding -<number> (Jinja's optimizer does the same) */

/* Parses tokens into the template body. Errors: ACCEL_ERR_MODEL_FORMAT (syntax, with line:column and what was
 * expected), ACCEL_ERR_UNSUPPORTED (a Jinja construct this interpreter does not implement, named). */
accel_status jj_parse(jj_arena *a, const jj_source *src, const jtok *toks, size_t ntoks, jnode **body,
                      jj_err *err);

/* ---- builtins (jinja_builtins.c) --------------------------------------------------------------------------- */
/* Filter and test tables: index >= 0 for a known name; JJ_UNSUPPORTED_NAME for a Jinja builtin this interpreter
 * does not implement; -1 for a name Jinja does not know either. */
#define JJ_UNSUPPORTED_NAME (-2)
int jj_filter_lookup(jstr name);
int jj_test_lookup(jstr name);

typedef struct jj_eval jj_eval; /* the evaluator (jinja_eval.c) */

/* Arguments of a call: positional then keyword. */
typedef struct jj_args {
    const jv *pos;
    size_t npos;
    const jstr *kwn;
    const jv *kwv;
    size_t nkw;
} jj_args;

accel_status jj_apply_filter(jj_eval *ev, int fid, const jv *in, const jj_args *args, jv *out);
accel_status jj_apply_test(jj_eval *ev, int tid, const jv *in, const jj_args *args, bool *out);

/* Global names (raise_exception, range, namespace, ...): false if name is not a global. */
bool jj_global_get(jstr name, jv *out, jj_vm *vm);
/* Attribute access obj.name the way Jinja's sandbox does it for plain Python data: methods of str/dict/list,
 * then (dicts) items. Sets *out to an undefined with Jinja's hint when missing. */
accel_status jj_getattr(jj_eval *ev, const jv *obj, jstr name, jv *out);
/* Runs a generator's filter (once) so that g->items holds its items. */
accel_status jj_gen_fill(jj_eval *ev, jgen *g);
/* Calls a builtin function or bound method. */
accel_status jj_call_builtin(jj_eval *ev, const jv *fn, const jj_args *args, jv *out);

/* Helpers of the builtins that jinja_strings.c shares: fail at the node being evaluated with
 * ACCEL_ERR_INVALID_ARG (a Python error) or ACCEL_ERR_UNSUPPORTED (a feature not implemented here). */
accel_status jj_invalid(jj_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
accel_status jj_unsupported(jj_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A new string value copied from b; fails if b passed its limit or ran out of memory. */
accel_status jj_new_str(jj_eval *ev, const jbuf *b, jv *out);
/* The integer of a bool or int value. */
static inline int64_t jj_ival(const jv *v) { return v->t == JV_BOOL ? (int64_t)v->u.b : v->u.i; }

/* ---- string operations and formatting (jinja_strings.c) ---------------------------------------------------- */
/* Python's str methods work on code points: indexes and widths below count code points, not bytes. */
typedef enum { JJ_CASE_UPPER, JJ_CASE_LOWER, JJ_CASE_TITLE, JJ_CASE_CAPITALIZE, JJ_CASE_SWAP } jj_case_op;
/* str.upper/lower/title/capitalize/swapcase as a new string. */
accel_status jj_change_case(jj_eval *ev, jstr s, jj_case_op op, jv *out);
/* str.strip/lstrip/rstrip (left/right say which ends); chars NULL = whitespace. The result points into s. */
jstr jj_strip(jstr s, const jstr *chars, bool left, bool right);
/* First occurrence of sub at byte offset >= from / last one ending at or before byte offset upto; NULL if none. */
const char *jj_find_sub(jstr s, size_t from, jstr sub);
const char *jj_rfind_sub(jstr s, size_t upto, jstr sub);

/* A growable list under construction (items in the render arena, JJ_MAX_LIST items at most). */
typedef struct jj_lbuild {
    jv *v;
    size_t n, cap;
} jj_lbuild;
/* Appends x; fails past JJ_MAX_LIST or the memory limit. */
accel_status jj_lb_push(jj_eval *ev, jj_lbuild *lb, jv x);
/* Makes the list or tuple (t) of the items pushed so far. */
accel_status jj_lb_done(jj_eval *ev, jj_lbuild *lb, jv_type t, jv *out);

/* str.split / str.rsplit (from_right); sep NULL splits on runs of whitespace; maxsplit < 0 = no limit. */
accel_status jj_split(jj_eval *ev, jstr s, const jstr *sep, int64_t maxsplit, bool from_right, jv *out);
/* str.splitlines(keepends) with Python's line boundaries. */
accel_status jj_splitlines(jj_eval *ev, jstr s, bool keepends, jv *out);
/* str.replace(old, rep, count); count < 0 = all. */
accel_status jj_replace(jj_eval *ev, jstr s, jstr old, jstr rep, int64_t count, jv *out);
/* Byte offset of code point index i (negative from the end, clamped like a Python slice bound). */
size_t jj_cp_to_byte(jstr s, int64_t i);
/* Pads s to width code points with the one-character fill: where -1 left-justify, 0 center, 1 right-justify. */
accel_status jj_pad(jj_eval *ev, jstr s, int64_t width, jstr fill, int where, jv *out);
/* HTML escape of & < > " ' (the escape filter). */
accel_status jj_html_escape(jj_eval *ev, jstr s, jv *out);
/* Python int(s, base) and float(s) of a string; false where Python raises ValueError. */
bool jj_parse_py_int(jstr s, int64_t base, int64_t *out);
bool jj_parse_py_float(jstr s, double *out);
/* str.format with '{}', '{0}' and '{name}' fields (format specs, conversions and attributes are unsupported). */
accel_status jj_str_format(jj_eval *ev, jstr f, const jj_args *a, jv *out);
/* (jj_percent_format, Python's "fmt % args", is declared in jinja_eval.h.) */

/* ---- evaluator hooks used by the builtins ------------------------------------------------------------------ */
jj_vm *jj_eval_vm(jj_eval *ev);
/* Runtime failure at the node being evaluated (the message gets "line N: "). */
accel_status jj_eval_fail(jj_eval *ev, accel_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Calls any callable value (macro or builtin). */
accel_status jj_eval_call(jj_eval *ev, const jv *fn, const jj_args *args, jv *out);
/* The raise of using an undefined value (its hint). */
accel_status jj_eval_undefined_error(jj_eval *ev, const jv *v);
/* Iterates a value the way a for loop does (list/tuple elements, dict keys, string characters, undefined -> []).
 * Fails for non-iterables. */
accel_status jj_iterate(jj_eval *ev, const jv *v, jv *out_list);
/* item[key] with Jinja's fallback rules (undefined when missing). */
accel_status jj_getitem(jj_eval *ev, const jv *obj, const jv *key, jv *out);

#endif
