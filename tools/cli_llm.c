/* cli_llm.c — generation options, streaming and the speed summary of `accel run` / `accel chat` (cli_llm.h). */
#include "cli_llm.h"

#include "cli_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_llm_init(cli_llm_opts *o) {
    memset(o, 0, sizeof *o);
    o->gp = accel_generate_default_params();
    o->gp.stop = o->stops;
}

static bool parse_float(const char *s, float *out) {
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) return false;
    *out = (float)v;
    return true;
}

int cli_llm_parse(const char *cmd, int argc, char **argv, int *i, cli_llm_opts *o) {
    static const char *const float_opts[] = {"--temperature", "--top-p", "--min-p", "--repetition-penalty",
                                             "--presence-penalty"};
    static const char *const int_opts[] = {"--max-new-tokens", "--top-k", "--seed", "--ctx", "--keep"};
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    float *floats[] = {&o->gp.temperature, &o->gp.top_p, &o->gp.min_p, &o->gp.repetition_penalty,
                       &o->gp.presence_penalty};
    for (size_t k = 0; k < sizeof float_opts / sizeof float_opts[0]; k++) {
        if (strcmp(a, float_opts[k]) != 0) continue;
        if (!v || !parse_float(v, floats[k])) goto bad;
        if (k == 0 && *floats[k] > 0) o->gp.do_sample = 1; /* a temperature asks for sampling */
        (*i)++;
        return 1;
    }
    for (size_t k = 0; k < sizeof int_opts / sizeof int_opts[0]; k++) {
        if (strcmp(a, int_opts[k]) != 0) continue;
        long long n;
        static const long long lo[] = {1, 0, 0, 2, 0}, hi[] = {1 << 30, 1 << 30, INT64_MAX, 1 << 24, 1 << 24};
        if (!v || !cli_parse_int(v, lo[k], hi[k], &n)) goto bad;
        if (k == 0) o->gp.max_new_tokens = (int)n;
        if (k == 1) o->gp.top_k = (int)n;
        if (k == 2) o->gp.seed = n;
        if (k == 3) o->gp.n_ctx = n;
        if (k == 4) o->gp.n_keep = n;
        (*i)++;
        return 1;
    }
    if (strcmp(a, "--greedy") == 0) {
        o->gp.do_sample = 0;
        return 1;
    }
    if (strcmp(a, "--sample") == 0) {
        o->gp.do_sample = 1;
        return 1;
    }
    if (strcmp(a, "--stop") == 0) {
        if (!v || !v[0]) goto bad;
        if (o->gp.n_stop == CLI_LLM_MAX_STOPS) {
            fprintf(stderr, "accel %s: at most %d --stop strings\n", cmd, CLI_LLM_MAX_STOPS);
            return -1;
        }
        o->stops[o->gp.n_stop++] = v;
        (*i)++;
        return 1;
    }
    if (strcmp(a, "--system") == 0) {
        if (!v) goto bad;
        o->system = v;
        (*i)++;
        return 1;
    }
    return 0;
bad:
    fprintf(stderr, "accel %s: bad option or missing value: '%s' (see accel %s --help)\n", cmd, a, cmd);
    return -1;
}

void cli_llm_usage(FILE *f) {
    fprintf(f,
            "  --max-new-tokens N  tokens to generate at most (default: the generation config, else 20)\n"
            "  --temperature T     sampling temperature (> 0 turns sampling on; 0 = greedy)\n"
            "  --top-k K           keep the K most likely tokens (0 = off; HF default 50 when sampling)\n"
            "  --top-p P           nucleus sampling: keep the most likely tokens of mass P (1 = off)\n"
            "  --min-p P           drop tokens less likely than P x the most likely one (0 = off)\n"
            "  --repetition-penalty R  HF repetition penalty (1 = off)\n"
            "  --presence-penalty R    subtract R from the logit of every token already in the text (0 = off)\n"
            "  --seed S            sampling seed (the same seed reproduces the same text; default: the clock)\n"
            "  --greedy | --sample force greedy decoding or sampling (default: the generation config)\n"
            "  --stop STR          stop when the text contains STR, which is not printed (repeatable)\n"
            "  --system TEXT       system message of chat prompts\n"
            "  --ctx N             context length in tokens (default: max_position_embeddings); past it the\n"
            "                      context is recycled (the first --keep tokens and the most recent half stay)\n"
            "  --keep N            tokens kept from the start when the context is recycled (default: the prompt)\n");
}

static bool print_piece(int seq, int32_t token, const char *text, size_t len, void *user) {
    (void)seq;
    (void)token;
    (void)user;
    if (len) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return true;
}

int cli_llm_generate(const char *cmd, accel_session *s, const char *prompt, const cli_llm_opts *o, bool chat_rendered,
                     char **answer) {
    accel_generate_params gp = o->gp;
    gp.stop = o->stops;
    gp.stream = print_piece;
    if (chat_rendered) gp.add_special_tokens = 0;
    char *out = NULL;
    accel_status st = accel_generate_text(s, &prompt, 1, &gp, &out);
    fputc('\n', stdout);
    fflush(stdout);
    if (st != ACCEL_OK) return cli_fail(cmd, "generation failed", st);
    accel_generate_stats gs;
    if (accel_generate_last_stats(s, &gs) == ACCEL_OK) {
        const double decoded = (double)(gs.decode_steps * gs.n_seqs);
        fprintf(stderr,
                "accel %s: prefill %lld tokens in %.1f ms (%.1f tokens/s); decode %lld tokens in %.1f ms (%.1f tokens/s; "
                "per step: compute %.2f ms, graph %.3f ms, placement %.3f ms)%s on %s\n",
                cmd, (long long)gs.prompt_tokens, 1e3 * gs.prefill_s,
                gs.prefill_s > 0 ? (double)gs.prompt_tokens / gs.prefill_s : 0.0, (long long)gs.decode_steps,
                1e3 * gs.decode_s, gs.decode_s > 0 ? decoded / gs.decode_s : 0.0,
                gs.decode_steps ? 1e3 * gs.step_compute_s / (double)gs.decode_steps : 0.0,
                gs.decode_steps ? 1e3 * gs.step_build_s / (double)gs.decode_steps : 0.0,
                gs.decode_steps ? 1e3 * gs.step_alloc_s / (double)gs.decode_steps : 0.0,
                gs.context_recycles ? "; context recycled" : "", accel_session_devices_used(s));
    }
    if (answer) *answer = out;
    else accel_free(out);
    return 0;
}
