/* Chat templates: parse once (lexer + parser into the template's arena), render many times (each render has its
 * own arena with a memory limit, so a render never leaks and many threads can share one template). */
#include "text/chat_template.h"

#include "core/error.h"
#include "text/jinja_eval.h"
#include "text/text_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct accel_chat_template {
    jj_arena arena;
    jj_source src;
    jnode *root;
};

accel_chat_render_params accel_chat_render_default_params(void) {
    accel_chat_render_params p;
    memset(&p, 0, sizeof p);
    return p;
}

accel_status accel_chat_template_parse(const char *source, size_t len, accel_chat_template **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_parse: out is NULL");
    *out = NULL;
    if (!source && len) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_parse: source is NULL");
    accel_chat_template *t = calloc(1, sizeof *t);
    if (!t) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
    t->arena.limit = JJ_MAX_TEMPLATE_MEMORY;
    jj_err err = {0};
    jtok *toks = NULL;
    size_t ntoks = 0;
    accel_status st = jj_lex(&t->arena, source ? source : "", len, &t->src, &toks, &ntoks, &err);
    if (st == ACCEL_OK) st = jj_parse(&t->arena, &t->src, toks, ntoks, &t->root, &err);
    free(toks);
    if (st != ACCEL_OK) {
        accel_chat_template_free(t);
        return accel_set_error(st, "%s", err.msg);
    }
    *out = t;
    return ACCEL_OK;
}

void accel_chat_template_free(accel_chat_template *t) {
    if (!t) return;
    jj_arena_free(&t->arena);
    free(t);
}

/* ---- building the context ---------------------------------------------------------------------------------- */

static accel_status utf8_checked(jj_vm *vm, const char *s, const char *what, size_t index, jv *out) {
    size_t n = strlen(s);
    size_t bad = tk_utf8_validate(s, n);
    if (bad != n)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "chat template: %s %zu is not valid UTF-8 (byte %zu)", what,
                       index, bad);
    accel_status st;
    *out = jv_strdup(vm, s, n, &st);
    return st;
}

static accel_status from_json(jj_vm *vm, const cJSON *j, int depth, jv *out) {
    accel_status st;
    if (depth > JJ_MAX_VALUE_DEPTH)
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "chat template context: JSON nested deeper than %d levels",
                       JJ_MAX_VALUE_DEPTH);
    if (cJSON_IsNull(j)) {
        *out = jv_none();
    } else if (cJSON_IsBool(j)) {
        *out = jv_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        /* JSON text does not survive cJSON: a number without a fraction is taken as Python's json takes "1" */
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0) *out = jv_int((int64_t)d);
        else *out = jv_float(d);
    } else if (cJSON_IsString(j)) {
        const char *s = j->valuestring ? j->valuestring : "";
        size_t n = strlen(s);
        if (tk_utf8_validate(s, n) != n)
            return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "chat template context: a string is not valid UTF-8");
        *out = jv_strdup(vm, s, n, &st);
        return st;
    } else if (cJSON_IsArray(j)) {
        size_t n = (size_t)cJSON_GetArraySize(j), i = 0;
        if ((st = jv_new_list(vm, n, JV_LIST, out))) return st;
        for (const cJSON *c = j->child; c; c = c->next, i++)
            if ((st = from_json(vm, c, depth + 1, &out->u.l->v[i]))) return st;
    } else if (cJSON_IsObject(j)) {
        if ((st = jv_new_dict(vm, (size_t)cJSON_GetArraySize(j), JV_DICT, out))) return st;
        for (const cJSON *c = j->child; c; c = c->next) {
            jv k, v;
            if ((st = utf8_checked(vm, c->string ? c->string : "", "context key", 0, &k))) return st;
            if ((st = from_json(vm, c, depth + 1, &v)) || (st = jv_dict_set(vm, out, k, v))) return st;
        }
    } else {
        return jj_fail(vm->err, ACCEL_ERR_INVALID_ARG, "chat template context: unsupported JSON value");
    }
    return ACCEL_OK;
}

/* Renders root with vars; on success *out is the malloc'ed text. */
static accel_status finish(const accel_chat_template *t, jj_var *vars, size_t nvars, jj_arena *arena, jj_err *err,
                           char **out) {
    jbuf b;
    jbuf_init(&b, JJ_MAX_OUTPUT);
    accel_status st = jj_render(t->root, &t->src, vars, nvars, arena, err, &b);
    if (st == ACCEL_OK) {
        if (!b.p) {
            b.p = malloc(1);
            if (!b.p) st = jj_fail(err, ACCEL_ERR_OUT_OF_MEMORY, "chat template: out of memory");
            else b.p[0] = '\0';
        }
    }
    if (st == ACCEL_OK) {
        *out = b.p;
        return ACCEL_OK;
    }
    jbuf_free(&b);
    return st;
}

static const char *const RESERVED[] = {"messages", "tools", "documents", "add_generation_prompt", NULL};

accel_status accel_chat_template_render(const accel_chat_template *t, const accel_chat_message *msgs, size_t n,
                                        const accel_chat_render_params *p, char **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render: out is NULL");
    *out = NULL;
    if (!t) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render: template is NULL");
    if (!msgs && n) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render: messages is NULL");
    accel_chat_render_params defaults = accel_chat_render_default_params();
    if (!p) p = &defaults;
    if (p->n_vars && !p->vars)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render: vars is NULL");
    for (size_t i = 0; i < p->n_vars; i++) {
        if (!p->vars[i].name || !p->vars[i].value)
            return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                   "accel_chat_template_render: variable %zu has a NULL name or value", i);
        for (int k = 0; RESERVED[k]; k++)
            if (strcmp(p->vars[i].name, RESERVED[k]) == 0)
                return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                       "accel_chat_template_render: the variable '%s' is set by the renderer itself",
                                       RESERVED[k]);
    }
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render: message %zu has no role", i);

    jj_arena arena = {0};
    arena.limit = JJ_MAX_RENDER_MEMORY;
    jj_err err = {0};
    jj_vm vm = {&arena, &err, 0, 0};
    accel_status st;
    size_t nvars = 0, cap = 6 + p->n_vars;
    jj_var *vars = jj_valloc(&vm, cap * sizeof *vars);
    jv messages, tools = jv_none();
    if (!vars) goto done;
    if ((st = jv_new_list(&vm, n, JV_LIST, &messages))) goto done;
    for (size_t i = 0; i < n; i++) {
        jv *m = &messages.u.l->v[i], v;
        if ((st = jv_new_dict(&vm, 2, JV_DICT, m))) goto done;
        if ((st = utf8_checked(&vm, msgs[i].role, "the role of message", i, &v))) goto done;
        if ((st = jv_dict_set(&vm, m, jv_str("role", 4), v))) goto done;
        if (msgs[i].content) {
            if ((st = utf8_checked(&vm, msgs[i].content, "the content of message", i, &v))) goto done;
            if ((st = jv_dict_set(&vm, m, jv_str("content", 7), v))) goto done;
        }
    }
    if (p->tools_json) {
        cJSON *j = cJSON_Parse(p->tools_json);
        if (!j || !cJSON_IsArray(j)) {
            cJSON_Delete(j);
            jj_fail(&err, ACCEL_ERR_INVALID_ARG, "chat template: tools_json is not a JSON array");
            goto done;
        }
        st = from_json(&vm, j, 0, &tools);
        cJSON_Delete(j);
        if (st) goto done;
    }
    vars[nvars++] = (jj_var){jstr_c("messages"), messages};
    vars[nvars++] = (jj_var){jstr_c("tools"), tools};
    vars[nvars++] = (jj_var){jstr_c("documents"), jv_none()};
    vars[nvars++] = (jj_var){jstr_c("add_generation_prompt"), jv_bool(p->add_generation_prompt)};
    if (p->bos_token) {
        jv v;
        if ((st = utf8_checked(&vm, p->bos_token, "bos_token", 0, &v))) goto done;
        vars[nvars++] = (jj_var){jstr_c("bos_token"), v};
    }
    if (p->eos_token) {
        jv v;
        if ((st = utf8_checked(&vm, p->eos_token, "eos_token", 0, &v))) goto done;
        vars[nvars++] = (jj_var){jstr_c("eos_token"), v};
    }
    for (size_t i = 0; i < p->n_vars; i++) {
        jv v;
        if ((st = utf8_checked(&vm, p->vars[i].value, "variable", i, &v))) goto done;
        vars[nvars++] = (jj_var){jstr_c(p->vars[i].name), v};
    }
    finish(t, vars, nvars, &arena, &err, out);
done:
    jj_arena_free(&arena);
    if (err.status != ACCEL_OK) return accel_set_error(err.status, "%s", err.msg);
    return ACCEL_OK;
}

accel_status accel_chat_template_render_json(const accel_chat_template *t, const char *context_json, size_t len,
                                             char **out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render_json: out is NULL");
    *out = NULL;
    if (!t || !context_json)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_template_render_json: NULL argument");
    cJSON *j = cJSON_ParseWithLength(context_json, len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "chat template context: not a JSON object");
    }
    jj_arena arena = {0};
    arena.limit = JJ_MAX_RENDER_MEMORY;
    jj_err err = {0};
    jj_vm vm = {&arena, &err, 0, 0};
    size_t n = (size_t)cJSON_GetArraySize(j), nvars = 0;
    jj_var *vars = jj_valloc(&vm, (n + 1) * sizeof *vars);
    if (vars) {
        for (const cJSON *c = j->child; c; c = c->next) {
            jv k, v;
            if (utf8_checked(&vm, c->string ? c->string : "", "context key", nvars, &k)
                || from_json(&vm, c, 1, &v)) break;
            vars[nvars++] = (jj_var){k.u.s, v};
        }
        if (err.status == ACCEL_OK) finish(t, vars, nvars, &arena, &err, out);
    }
    cJSON_Delete(j);
    jj_arena_free(&arena);
    if (err.status != ACCEL_OK) return accel_set_error(err.status, "%s", err.msg);
    return ACCEL_OK;
}
