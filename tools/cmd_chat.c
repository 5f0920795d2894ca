/* accel chat — an interactive chat with a causal LM in the terminal: reads one user message per line from stdin,
 * keeps the conversation, renders it with the model's chat template, streams the answer to stdout. /reset forgets
 * the conversation, /quit (or end of input) leaves. Works the same when stdin is a pipe (no prompt is printed
 * then), so it can be scripted and tested. Each turn prefills the whole conversation again; when it no longer
 * fits the context the turn fails with the library's message and /reset starts over. */
#include "accel.h"
#include "cli_llm.h"
#include "cli_model.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f, "usage: accel chat <llm-dir> [options]\n"
               "\n"
               "Chats with a causal LM (LLaMA, Qwen2, Mistral) that has a chat template: each line of input is a user\n"
               "message; the answer streams to stdout, its speed goes to stderr. Commands: /reset (forget the\n"
               "conversation), /quit. End of input also quits.\n"
               "\n"
               "  --device NAME       prefer this device (see `accel devices`); the CPU stays as the per-op fallback\n"
               "  --threads N         CPU threads (default: physical cores)\n");
    cli_llm_usage(f);
    fprintf(f, "  --help              show this help\n");
}

typedef struct conversation {
    accel_chat_message *msg;
    int n, cap;
} conversation;

/* Appends a message; the conversation owns a copy of content. */
static bool conv_push(conversation *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        accel_chat_message *m = realloc(c->msg, sizeof *m * (size_t)cap);
        if (!m) return false;
        c->msg = m;
        c->cap = cap;
    }
    char *copy = strdup(content);
    if (!copy) return false;
    c->msg[c->n++] = (accel_chat_message){role, copy};
    return true;
}

/* Drops every message from index `keep` on. */
static void conv_truncate(conversation *c, int keep) {
    for (int i = keep; i < c->n; i++) free((char *)c->msg[i].content);
    c->n = keep < c->n ? keep : c->n;
}

static int chat_loop(accel_session *s, const accel_model *m, const cli_llm_opts *lo) {
    const bool tty = isatty(STDIN_FILENO);
    conversation c = {0};
    const int base = lo->system ? 1 : 0; /* messages that /reset keeps */
    if (lo->system && !conv_push(&c, "system", lo->system)) return 1;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        if (tty) {
            fputs("> ", stdout);
            fflush(stdout);
        }
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) break;
        if (strcmp(line, "/reset") == 0) {
            conv_truncate(&c, base);
            fprintf(stderr, "accel chat: conversation cleared\n");
            continue;
        }
        if (!conv_push(&c, "user", line)) {
            rc = 1;
            break;
        }
        char *prompt = NULL, *answer = NULL;
        accel_status st = accel_chat_apply(m, c.msg, c.n, true, &prompt);
        if (st != ACCEL_OK) {
            rc = cli_fail("chat", "chat template", st);
            break; /* the template cannot render this model's conversations */
        }
        if (cli_llm_generate("chat", s, prompt, lo, true, &answer) != 0) {
            conv_truncate(&c, c.n - 1); /* the turn did not happen; e.g. the context is full: /reset */
        } else if (!conv_push(&c, "assistant", answer)) {
            rc = 1;
        }
        accel_free(prompt);
        accel_free(answer);
        if (rc) break;
    }
    free(line);
    conv_truncate(&c, 0);
    free(c.msg);
    return rc;
}

int accel_cmd_chat(int argc, char **argv) {
    cli_model_opts o = {0};
    cli_llm_opts lo;
    cli_llm_init(&lo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const bool has_value = i + 1 < argc;
        long long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--device") == 0 && has_value) {
            o.device = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has_value && cli_parse_int(argv[i + 1], 1, 4096, &v)) {
            o.threads = (int)v;
            i++;
        } else if (a[0] != '-' && !o.dir) {
            o.dir = a;
        } else {
            const int r = cli_llm_parse("chat", argc, argv, &i, &lo);
            if (r > 0) continue;
            if (r == 0) fprintf(stderr, "accel chat: bad option or missing value: '%s' (see accel chat --help)\n", a);
            return 2;
        }
    }
    if (!o.dir) {
        fprintf(stderr, "accel chat: needs a model directory (see --help)\n");
        return 2;
    }
    accel_model *m = NULL;
    accel_session *s = NULL;
    double load_ms = 0;
    if (!cli_model_open("chat", &o, &m, &s, &load_ms)) return 1;
    int rc = 1;
    if (!accel_model_supports(m, ACCEL_TASK_TEXT_GENERATION))
        fprintf(stderr, "accel chat: %s (%s) is not a causal language model\n", o.dir, accel_model_architecture(m));
    else
        rc = chat_loop(s, m, &lo);
    accel_session_free(s);
    accel_model_free(m);
    return rc;
}
