/* Chat templates: the Jinja template of a model's tokenizer_config.json ("chat_template") or
 * chat_template.jinja, run by a Jinja subset interpreter so that the prompt text is byte-identical to Hugging
 * Face's tokenizer.apply_chat_template(messages, tokenize=False, ...).
 *
 * Internal header (the public wrapper comes with the LLM work). What is supported, how errors look and which
 * published templates are tested: docs/chat-templates.md. In short:
 *  - HF's environment: trim_blocks, lstrip_blocks, no trailing newline, loop controls, the sandbox's rules
 *    (immutable lists/dicts, range() up to 100000 items), HF's tojson, raise_exception, strftime_now and
 *    namespace; Python semantics for values, printing, comparison and arithmetic.
 *  - A template is untrusted input: parsing and rendering are bounded (nesting depth, loop iterations, output
 *    size, memory) and never exit, abort or overflow the stack.
 *
 * Errors (the message is in accel_last_error()):
 *  - parse: ACCEL_ERR_MODEL_FORMAT for syntax errors ("chat template syntax error at line L, column C: ..."
 *    with what Jinja expected), ACCEL_ERR_UNSUPPORTED for a Jinja feature this interpreter does not implement
 *    (include, extends, import, call blocks, recursive loops, some filters; the message names it);
 *  - render: ACCEL_ERR_INVALID_ARG for errors at run time: the template's own raise_exception ("chat template
 *    raised an exception at line L: <its message>"), using an undefined value, type errors, and the resource
 *    limits; ACCEL_ERR_UNSUPPORTED for an unimplemented feature met at run time (e.g. an integer that does not fit
 *    64 bits, str.format with format specs); ACCEL_ERR_OUT_OF_MEMORY.
 *
 * Thread safety: a parsed template is immutable; any number of threads may render it at once. */
#ifndef ACCEL_TEXT_CHAT_TEMPLATE_H
#define ACCEL_TEXT_CHAT_TEMPLATE_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct accel_chat_template accel_chat_template;

/* Messages are accel_chat_message (include/accel.h: role, content). Here role is required and content NULL leaves
 * the "content" key out of the message (as apply_chat_template drops None values). Both are NUL-terminated UTF-8. */

/* An extra string variable of the template (what **kwargs of apply_chat_template would pass). */
typedef struct accel_chat_var {
    const char *name;
    const char *value;
} accel_chat_var;

typedef struct accel_chat_render_params {
    bool add_generation_prompt; /* end the prompt with the assistant turn's header */
    const char *bos_token;      /* NULL: the variable is undefined (e.g. Qwen2 has no BOS token) */
    const char *eos_token;      /* NULL: undefined */
    const accel_chat_var *vars; /* extra string variables, n_vars of them; they override bos_token/eos_token */
    size_t n_vars;
    const char *tools_json; /* NULL: `tools` is none (as in HF); else a JSON array of tool schemas */
} accel_chat_render_params;

/* add_generation_prompt false, no tokens, no extra variables, no tools. */
accel_chat_render_params accel_chat_render_default_params(void);

/* Parses a template of len bytes (need not be NUL-terminated). *out is set only on success; free it with
 * accel_chat_template_free. Errors: ACCEL_ERR_INVALID_ARG (NULL arguments), ACCEL_ERR_MODEL_FORMAT (syntax error,
 * invalid UTF-8, larger than 16 MiB), ACCEL_ERR_UNSUPPORTED, ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_chat_template_parse(const char *source, size_t len, accel_chat_template **out);

/* Renders the conversation msgs[0..n) as apply_chat_template(msgs, tokenize=False, add_generation_prompt=...,
 * tools=..., bos_token=..., eos_token=..., **vars) would: the template sees `messages` (a list of
 * {"role", "content"} dicts), `tools` (none unless tools_json), `documents` (none), `add_generation_prompt`,
 * `bos_token`, `eos_token` and the extra variables. p NULL means accel_chat_render_default_params(). *out is a
 * malloc'ed NUL-terminated string (free with free()), set only on success. Errors: ACCEL_ERR_INVALID_ARG (NULL
 * arguments, a message without a role, invalid UTF-8, tools_json that is not a JSON array, an extra variable
 * named messages/tools/documents/add_generation_prompt, any runtime error of the template: see above),
 * ACCEL_ERR_UNSUPPORTED, ACCEL_ERR_OUT_OF_MEMORY. */
accel_status accel_chat_template_render(const accel_chat_template *t, const accel_chat_message *msgs, size_t n,
                                        const accel_chat_render_params *p, char **out);

/* Renders with a whole context given as a JSON object of len bytes: each key becomes a template variable with its
 * JSON value (objects keep their key order; numbers without a fraction become integers). Nothing is added: pass
 * "messages", "tools", "add_generation_prompt"... as needed. Errors as accel_chat_template_render, plus
 * ACCEL_ERR_INVALID_ARG for JSON that does not parse or is not an object. */
accel_status accel_chat_template_render_json(const accel_chat_template *t, const char *context_json, size_t len,
                                             char **out);

/* Frees a template; NULL is a no-op. */
void accel_chat_template_free(accel_chat_template *t);

#ifdef __cplusplus
}
#endif

#endif
