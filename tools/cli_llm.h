/* cli_llm.h — what `accel run` (on a causal LM) and `accel chat` share: the generation options, streaming the
 * answer to stdout, and the speed summary on stderr. */
#ifndef ACCEL_TOOLS_CLI_LLM_H
#define ACCEL_TOOLS_CLI_LLM_H

#include "accel.h"

#include <stdbool.h>
#include <stdio.h>

#define CLI_LLM_MAX_STOPS 16

typedef struct cli_llm_opts {
    accel_generate_params gp; /* sampling fields, max_new_tokens, n_ctx, stop strings */
    const char *system;       /* --system: a system message for chat prompts (NULL: the template's default) */
    const char *stops[CLI_LLM_MAX_STOPS];
} cli_llm_opts;

void cli_llm_init(cli_llm_opts *o);

/* Parses the generation option at argv[*i] (advancing *i past its value). Returns 1 when it was one, 0 when it is
 * not a generation option, -1 for a bad or missing value (the message is printed). */
int cli_llm_parse(const char *cmd, int argc, char **argv, int *i, cli_llm_opts *o);

/* The help lines of those options. */
void cli_llm_usage(FILE *f);

/* Generates the continuation of one prompt, streaming it to stdout as it comes; chat_rendered: the prompt was
 * rendered by accel_chat_apply (no BOS added again). *answer (may be NULL) gets the text (accel_free). Prints the
 * speed line to stderr. Returns the exit status (0, or 1 with the library's message printed). */
int cli_llm_generate(const char *cmd, accel_session *s, const char *prompt, const cli_llm_opts *o, bool chat_rendered,
                     char **answer);

#endif
