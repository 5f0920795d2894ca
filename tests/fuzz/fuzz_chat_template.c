/* Fuzz target for the chat-template interpreter (src/text/chat_template.h): each input is a template; it is
 * parsed and, when it parses, rendered with a small conversation through both entry points (messages, and a
 * JSON context with tools). Any outcome is fine except a crash, a sanitizer report, a hang, or an inconsistent
 * result (an error without a message, output on failure).
 *
 * libFuzzer (clang), against a clang build of libaccel (CC=clang-15 cmake -DACCEL_SANITIZE=ON ...):
 *   clang-15 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc tests/fuzz/fuzz_chat_template.c \
 *     <build>/libaccel.a -lcjson -lutf8proc -lpcre2-8 -lopenblas -lm -ldl -lpthread -o fuzz_chat_template
 *   ./fuzz_chat_template -max_len=4096 -timeout=10 corpus_dir/
 * Without libFuzzer, -DFUZZ_STANDALONE adds a main() (this is how ctest runs it, see tests/fuzz/CMakeLists.txt):
 * each argument is a template file, or a directory: every *.json file in it contributes the "template" strings
 * it holds (tests/fixtures/chat is the seed corpus) and every other file its bytes. Each seed is run as is, then
 * 64 prefixes of it (Jinja templates fail in interesting ways when cut) and 100 deterministic
 * mutations (bytes replaced by Jinja's delimiters and operators, spans deleted or repeated). */
#include "text/chat_template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(accel_status st, char *out) {
    if (st == ACCEL_OK) {
        if (!out) abort();
    } else {
        if (out || accel_last_error()[0] == '\0') abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so ASan flags any read past the end */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    accel_chat_template *t = NULL;
    accel_status st = accel_chat_template_parse(copy, size, &t);
    if (st != ACCEL_OK) {
        if (t || accel_last_error()[0] == '\0') abort();
    } else {
        accel_chat_message msgs[4] = {{"system", "You are {{ helpful }}."},
                                      {"user", "Hi \xc3\xa9\xf0\x9f\x8e\x89 'q' \"d\""},
                                      {"assistant", "  ok  "},
                                      {"user", ""}};
        accel_chat_var vars[1] = {{"date_string", "26 Jul 2024"}};
        accel_chat_render_params p = accel_chat_render_default_params();
        p.add_generation_prompt = true;
        p.bos_token = "<s>";
        p.eos_token = "</s>";
        p.vars = vars;
        p.n_vars = 1;
        char *out = NULL;
        st = accel_chat_template_render(t, msgs, 4, &p, &out);
        check_result(st, out);
        static const char ctx[] =
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"\", "
            "\"tool_calls\": [{\"id\": \"abc123def\", \"function\": {\"name\": \"f\", \"arguments\": {\"a\": 1.5}}}]}, "
            "{\"role\": \"tool\", \"content\": \"r\"}], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": "
            "\"f\", \"parameters\": {\"type\": \"object\"}}}], \"documents\": null, \"add_generation_prompt\": false}";
        out = NULL;
        st = accel_chat_template_render_json(t, ctx, sizeof ctx - 1, &out);
        check_result(st, out);
        accel_chat_template_free(t);
    }
    free(copy);
    return 0;
}

#ifdef FUZZ_STANDALONE
#include <cjson/cJSON.h>
#include <dirent.h>
#include <sys/stat.h>

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { /* splitmix64: the same mutations every run */
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t g_runs;

static void run(const char *p, size_t n) {
    LLVMFuzzerTestOneInput((const uint8_t *)p, n);
    g_runs++;
}

static void fuzz_seed(const char *seed, size_t n) {
    static const char *const pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}",
                                         "'", "\"", "\\", "|", ".", ":", ",", "=", "~", " ", "\n", "not ", " if ",
                                         " else ", "endfor", "endif", "loop.", "ns.", "raise_exception(", "0",
                                         "99999", "**", "//", "%", "\xc3\xa9", "\xff"};
    run(seed, n);
    size_t step = n / 64 + 1;
    for (size_t k = 0; k < n; k += step) run(seed, k);
    char *buf = malloc(n * 2 + 64);
    if (!buf) return;
    for (int m = 0; m < 100; m++) {
        size_t len = n;
        memcpy(buf, seed, n);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = len ? (size_t)(rnd() % len) : 0;
            switch (rnd() % 3) {
            case 0: { /* overwrite with a piece */
                const char *pc = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
                size_t pl = strlen(pc);
                if (at + pl <= len) memcpy(buf + at, pc, pl);
                break;
            }
            case 1: { /* delete a span */
                size_t span = len ? (size_t)(rnd() % 16) : 0;
                if (at + span > len) span = len - at;
                memmove(buf + at, buf + at + span, len - at - span);
                len -= span;
                break;
            }
            default: { /* repeat a span */
                size_t span = (size_t)(rnd() % 32);
                if (at + span > len) span = len - at;
                if (len + span <= n * 2 + 32) {
                    memmove(buf + at + span, buf + at, len - at);
                    len += span;
                }
                break;
            }
            }
        }
        run(buf, len);
    }
    free(buf);
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) break;
            buf = nb;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    else buf[len] = '\0';
    *n = len;
    return buf;
}

/* Every "template" string anywhere in a JSON document. */
static void json_templates(const cJSON *j) {
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (c->string && !strcmp(c->string, "template") && cJSON_IsString(c))
            fuzz_seed(c->valuestring, strlen(c->valuestring));
        json_templates(c);
    }
}

static void run_file(const char *path) {
    size_t n;
    char *data = read_all(path, &n);
    if (!data) return;
    size_t pl = strlen(path);
    cJSON *j = pl > 5 && !strcmp(path + pl - 5, ".json") ? cJSON_Parse(data) : NULL;
    if (j) json_templates(j);
    else fuzz_seed(data, n);
    cJSON_Delete(j);
    free(data);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "fuzz_chat_template: cannot open %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(sb.st_mode)) {
            run_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            run_file(path);
        }
        if (d) closedir(d);
    }
    printf("fuzz_chat_template: %zu inputs, no crash\n", g_runs);
    return g_runs > 0 ? 0 : 1;
}
#endif
