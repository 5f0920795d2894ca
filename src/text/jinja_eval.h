/* The Jinja evaluator's entry point and the helpers it shares with the builtins (jinja_builtins.c). */
#ifndef ACCEL_TEXT_JINJA_EVAL_H
#define ACCEL_TEXT_JINJA_EVAL_H

#include "text/jinja_internal.h"

/* A variable of the render context. */
typedef struct jj_var {
    jstr name;
    jv value;
} jj_var;

/* Renders the parsed template (jj_parse's root) with the given variables into out. Values created during the
 * render live in arena. Errors: ACCEL_ERR_INVALID_ARG (a runtime error, raise_exception, a resource limit; the
 * message starts with "chat template error at line N:" or "chat template raised an exception at line N:"),
 * ACCEL_ERR_UNSUPPORTED (a construct met at run time that is not implemented), ACCEL_ERR_OUT_OF_MEMORY. */
accel_status jj_render(const jnode *root, const jj_source *src, const jj_var *vars, size_t nvars, jj_arena *arena,
                       jj_err *err, jbuf *out);

/* Python binary arithmetic (+ - * / // % **) and `item in container`. */
accel_status jj_binop(jj_eval *ev, jop op, const jv *a, const jv *b, jv *out);
accel_status jj_contains(jj_eval *ev, const jv *container, const jv *item, bool *out);
/* Python's printf-style "fmt % args" (also the `format` filter); in jinja_strings.c. */
accel_status jj_percent_format(jj_eval *ev, const jv *fmt, const jv *args, jv *out);
/* getattr(obj, name) without the item fallback: methods, namespace attributes, loop attributes. */
accel_status jj_getattr_only(jj_eval *ev, const jv *obj, jstr name, jv *out);
/* An undefined whose message is "'<type> object' has no attribute 'name'". */
jv jj_undef_attr(jj_eval *ev, const jv *obj, jstr name);
/* Marks the current error as raised by the template itself (raise_exception). */
void jj_eval_mark_raised(jj_eval *ev);

#endif
