/* Chat templates (src/text/chat_template.h) against Hugging Face:
 *  - every real published template in tests/fixtures/chat/<name>.json renders every conversation byte-identical
 *    to transformers' render_jinja_template (apply_chat_template's renderer), or fails where HF fails, with the
 *    template's own message (python/reference/chat_templates.py wrote the fixtures);
 *  - tests/fixtures/chat/expressions.json: one construct per template (whitespace control, literals, operators,
 *    filters, tests, methods, loops, scoping, macros...) with a JSON context, rendered by HF;
 *  - tests/fixtures/chat/malformed.json: templates that must fail, with the status each must give;
 *  - API and error-path cases written here. */
#include "test.h"

#include "text/chat_template.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_dir[2048];

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len) *len = (size_t)n;
    }
    return buf;
}

static cJSON *load_json(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    char *text = read_file(path, NULL);
    if (!text) {
        fprintf(stderr, "  cannot read %s\n", path);
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fprintf(stderr, "  %s is not JSON\n", path);
    return j;
}

static const char *jstring(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static accel_status status_of(const char *name) {
    if (!name) return ACCEL_OK;
    if (!strcmp(name, "ACCEL_ERR_INVALID_ARG")) return ACCEL_ERR_INVALID_ARG;
    if (!strcmp(name, "ACCEL_ERR_MODEL_FORMAT")) return ACCEL_ERR_MODEL_FORMAT;
    if (!strcmp(name, "ACCEL_ERR_UNSUPPORTED")) return ACCEL_ERR_UNSUPPORTED;
    return ACCEL_ERR_INTERNAL;
}

/* HF's error is "<ExceptionType>: <message>": the message must appear in ours. */
static int error_matches(const char *hf_error, const char *ours) {
    const char *msg = strstr(hf_error, ": ");
    msg = msg ? msg + 2 : hf_error;
    return strstr(ours, msg) != NULL;
}

static int g_cases;   /* conversation and context cases checked */
static int g_expr;    /* expression cases checked */
static int g_bad;     /* malformed cases checked */
static int g_files;   /* real templates */

/* Prints where two strings first differ. */
static void show_diff(const char *what, const char *want, const char *got) {
    size_t i = 0;
    while (want[i] && got[i] && want[i] == got[i]) i++;
    fprintf(stderr, "  %s: first difference at byte %zu\n    want: \"%.80s\"\n    got:  \"%.80s\"\n", what, i,
            want + (i > 20 ? i - 20 : 0), got + (i > 20 ? i - 20 : 0));
}

/* One real template fixture: every conversation through the message API, every context case through JSON. */
static void check_template_file(const char *file) {
    cJSON *doc = load_json(file);
    CHECK(doc != NULL);
    if (!doc) return;
    const char *src = jstring(doc, "template");
    CHECK(src != NULL);
    accel_chat_template *t = NULL;
    accel_status st = accel_chat_template_parse(src, strlen(src), &t);
    if (st != ACCEL_OK) fprintf(stderr, "  %s: parse failed: %s\n", file, accel_last_error());
    CHECK_INT_EQ(st, ACCEL_OK);
    if (!t) {
        cJSON_Delete(doc);
        return;
    }
    g_files++;
    accel_chat_render_params p = accel_chat_render_default_params();
    p.bos_token = jstring(doc, "bos_token");
    p.eos_token = jstring(doc, "eos_token");
    accel_chat_var vars[8];
    size_t nv = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(doc, "variables")) {
        if (nv < 8 && cJSON_IsString(v)) vars[nv++] = (accel_chat_var){v->string, v->valuestring};
    }
    p.vars = vars;
    p.n_vars = nv;

    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const char *name = jstring(c, "name");
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(c, "messages");
        int n = cJSON_GetArraySize(msgs);
        accel_chat_message *m = calloc((size_t)n + 1, sizeof *m);
        int i = 0;
        const cJSON *msg;
        cJSON_ArrayForEach(msg, msgs) {
            m[i].role = jstring(msg, "role");
            m[i].content = jstring(msg, "content");
            i++;
        }
        p.add_generation_prompt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "add_generation_prompt"));
        char *out = NULL;
        st = accel_chat_template_render(t, m, (size_t)n, &p, &out);
        const char *expected = jstring(c, "expected");
        if (expected) {
            if (st != ACCEL_OK) fprintf(stderr, "  %s/%s: %s\n", file, name, accel_last_error());
            CHECK_INT_EQ(st, ACCEL_OK);
            if (out && strcmp(out, expected) != 0) show_diff(name, expected, out);
            CHECK(out && strcmp(out, expected) == 0);
        } else {
            const char *hf = jstring(c, "error");
            CHECK_INT_EQ(st, status_of(jstring(c, "status")));
            CHECK(out == NULL);
            if (st != ACCEL_OK && hf && !error_matches(hf, accel_last_error()))
                fprintf(stderr, "  %s/%s: HF says \"%s\", we say \"%s\"\n", file, name, hf, accel_last_error());
            CHECK(st != ACCEL_OK && hf && error_matches(hf, accel_last_error()));
        }
        free(out);
        free(m);
        g_cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "context_cases")) {
        char *ctx = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "context"));
        char *out = NULL;
        st = accel_chat_template_render_json(t, ctx, strlen(ctx), &out);
        const char *expected = jstring(c, "expected");
        CHECK(expected != NULL);
        if (st != ACCEL_OK) fprintf(stderr, "  %s/%s: %s\n", file, jstring(c, "name"), accel_last_error());
        CHECK_INT_EQ(st, ACCEL_OK);
        if (out && expected && strcmp(out, expected) != 0) show_diff(jstring(c, "name"), expected, out);
        CHECK(out && expected && strcmp(out, expected) == 0);
        free(out);
        free(ctx);
        g_cases++;
    }
    accel_chat_template_free(t);
    cJSON_Delete(doc);
}

static void test_real_templates(void) {
    DIR *d = opendir(g_dir);
    CHECK(d != NULL);
    if (!d) return;
    struct dirent *e;
    char names[64][256];
    int n = 0;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
        if (!strcmp(e->d_name, "expressions.json") || !strcmp(e->d_name, "malformed.json")) continue;
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++) check_template_file(names[i]);
    /* Qwen2, Qwen2.5, TinyLlama/Zephyr, LLaMA-2, Mistral v0.1/v0.2/v0.3, Vicuna, ChatML and the edge templates */
    CHECK(g_files >= 13);
    CHECK(g_cases >= 13 * 14);
    printf("     %d real templates, %d conversations\n", g_files, g_cases);
}

static void test_expressions(void) {
    cJSON *doc = load_json("expressions.json");
    CHECK(doc != NULL);
    if (!doc) return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const char *src = jstring(c, "template");
        accel_chat_template *t = NULL;
        accel_status st = accel_chat_template_parse(src, strlen(src), &t);
        if (st != ACCEL_OK) fprintf(stderr, "  parse failed for %s: %s\n", src, accel_last_error());
        CHECK_INT_EQ(st, ACCEL_OK);
        if (!t) continue;
        char *ctx = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "context"));
        char *out = NULL;
        st = accel_chat_template_render_json(t, ctx, strlen(ctx), &out);
        const char *expected = jstring(c, "expected");
        if (expected) {
            if (st != ACCEL_OK) fprintf(stderr, "  %s: %s\n", src, accel_last_error());
            else if (strcmp(out, expected) != 0)
                fprintf(stderr, "  %s:\n    want \"%s\"\n    got  \"%s\"\n", src, expected, out);
            CHECK_INT_EQ(st, ACCEL_OK);
            CHECK(out && strcmp(out, expected) == 0);
        } else {
            const char *hf = jstring(c, "error");
            if (st == ACCEL_OK) fprintf(stderr, "  %s: rendered \"%s\", HF fails: %s\n", src, out, hf);
            else if (!error_matches(hf, accel_last_error()))
                fprintf(stderr, "  %s: HF says \"%s\", we say \"%s\"\n", src, hf, accel_last_error());
            CHECK_INT_EQ(st, status_of(jstring(c, "status")));
            CHECK(st != ACCEL_OK && error_matches(hf, accel_last_error()));
        }
        free(out);
        free(ctx);
        accel_chat_template_free(t);
        g_expr++;
    }
    cJSON_Delete(doc);
    CHECK(g_expr >= 150);
    printf("     %d expression cases\n", g_expr);
}

static int hexval(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

static void test_malformed(void) {
    cJSON *doc = load_json("malformed.json");
    CHECK(doc != NULL);
    if (!doc) return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const char *name = jstring(c, "name");
        const char *src = jstring(c, "template");
        char bytes[256];
        size_t len = src ? strlen(src) : 0;
        const char *hex = jstring(c, "template_bytes_hex");
        if (!src && hex) {
            len = strlen(hex) / 2;
            for (size_t i = 0; i < len
                 && i < sizeof bytes; i++) bytes[i] = (char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
            src = bytes;
        }
        CHECK(src != NULL);
        if (!src) continue;
        accel_status want = status_of(jstring(c, "status"));
        int at_parse = !strcmp(jstring(c, "phase"), "parse");
        accel_chat_template *t = NULL;
        accel_status st = accel_chat_template_parse(src, len, &t);
        if (!at_parse && st == ACCEL_OK) {
            accel_chat_message m = {"user", "hi"};
            char *out = NULL;
            st = accel_chat_template_render(t, &m, 1, NULL, &out);
            CHECK(out == NULL);
            free(out);
        }
        if (st != want) fprintf(stderr, "  %s: got %s (%s)\n", name, accel_status_name(st), accel_last_error());
        CHECK_INT_EQ(st, want);
        CHECK(strlen(accel_last_error()) > 10);
        if (at_parse) {
            CHECK(t == NULL);
            /* syntax errors say where */
            if (want == ACCEL_ERR_MODEL_FORMAT && strstr(accel_last_error(), "UTF-8") == NULL)
                CHECK(strstr(accel_last_error(), "line ") && strstr(accel_last_error(), "column "));
        }
        accel_chat_template_free(t);
        g_bad++;
    }
    cJSON_Delete(doc);
    CHECK(g_bad >= 40);
    printf("     %d malformed templates\n", g_bad);
}

/* ---- cases written here ------------------------------------------------------------------------------------ */

static char *render1(const char *src, const char *ctx, accel_status *st) {
    accel_chat_template *t = NULL;
    char *out = NULL;
    *st = accel_chat_template_parse(src, strlen(src), &t);
    if (*st == ACCEL_OK) *st = accel_chat_template_render_json(t, ctx, strlen(ctx), &out);
    accel_chat_template_free(t);
    return out;
}

static void expect(const char *src, const char *ctx, const char *want) {
    accel_status st;
    char *out = render1(src, ctx, &st);
    if (st != ACCEL_OK || strcmp(out, want) != 0)
        fprintf(stderr, "  %s -> %s (%s)\n", src, out ? out : "(error)", st ? accel_last_error() : "");
    CHECK_INT_EQ(st, ACCEL_OK);
    CHECK_STR_EQ(out, want);
    free(out);
}

static void test_api_errors(void) {
    accel_chat_template *t = NULL;
    char *out = (char *)"x";
    CHECK_INT_EQ(accel_chat_template_parse("x", 1, NULL), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_parse(NULL, 3, &t), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_parse(NULL, 0, &t), ACCEL_OK); /* the empty template */
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 0, NULL, &out), ACCEL_OK);
    CHECK_STR_EQ(out, "");
    free(out);
    CHECK_INT_EQ(accel_chat_template_render(NULL, NULL, 0, NULL, &out), ACCEL_ERR_INVALID_ARG);
    CHECK(out == NULL);
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 1, NULL, &out), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 0, NULL, NULL), ACCEL_ERR_INVALID_ARG);
    accel_chat_message no_role = {NULL, "x"};
    CHECK_INT_EQ(accel_chat_template_render(t, &no_role, 1, NULL, &out), ACCEL_ERR_INVALID_ARG);
    accel_chat_message bad_utf8 = {"user", "a\xff"};
    CHECK_INT_EQ(accel_chat_template_render(t, &bad_utf8, 1, NULL, &out), ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "UTF-8") != NULL);
    accel_chat_render_params p = accel_chat_render_default_params();
    accel_chat_var reserved = {"messages", "x"};
    p.vars = &reserved;
    p.n_vars = 1;
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 0, &p, &out), ACCEL_ERR_INVALID_ARG);
    p = accel_chat_render_default_params();
    p.tools_json = "{\"not\": \"an array\"}";
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 0, &p, &out), ACCEL_ERR_INVALID_ARG);
    p.tools_json = "[1, 2";
    CHECK_INT_EQ(accel_chat_template_render(t, NULL, 0, &p, &out), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_render_json(t, "[]", 2, &out), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_render_json(t, "{", 1, &out), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_chat_template_render_json(t, "{\"a\": \"\\ud800\"}", 14, &out), ACCEL_ERR_INVALID_ARG);
    CHECK(out == NULL);
    accel_chat_template_free(t);
    accel_chat_template_free(NULL);
}

static void test_message_api(void) {
    /* content NULL leaves the key out (HF drops None values); extra variables override bos/eos; tools_json */
    const char *src = "{% for m in messages %}[{{ m.role }}|{{ m.content is defined }}|{{ m.content }}]{% endfor %}"
                      "{{ bos_token }}{{ eos_token }}{{ greeting }}{{ tools | length }}{{ tools[0].name }}"
                      "{{ documents is none }}{{ add_generation_prompt }}";
    accel_chat_template *t = NULL;
    CHECK_INT_EQ(accel_chat_template_parse(src, strlen(src), &t), ACCEL_OK);
    accel_chat_message m[2] = {{"user", "h\xc3\xa9"}, {"assistant", NULL}};
    accel_chat_var vars[2] = {{"greeting", "hi"}, {"eos_token", "<E2>"}};
    accel_chat_render_params p = accel_chat_render_default_params();
    p.bos_token = "<B>";
    p.eos_token = "<E>";
    p.vars = vars;
    p.n_vars = 2;
    p.tools_json = "[{\"name\": \"f\"}, {\"name\": \"g\"}]";
    p.add_generation_prompt = true;
    char *out = NULL;
    CHECK_INT_EQ(accel_chat_template_render(t, m, 2, &p, &out), ACCEL_OK);
    CHECK_STR_EQ(out, "[user|True|h\xc3\xa9][assistant|False|]<B><E2>hi2fTrueTrue");
    free(out);
    /* without tools_json, tools is none as in HF: its length is an error */
    CHECK_INT_EQ(accel_chat_template_render(t, m, 1, NULL, &out), ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "has no len()") != NULL);
    accel_chat_template_free(t);
    /* without tokens they are undefined (print as nothing, `is defined` false) */
    src = "{{ bos_token }}|{{ bos_token is defined }}|{{ tools is none }}|{{ add_generation_prompt }}";
    CHECK_INT_EQ(accel_chat_template_parse(src, strlen(src), &t), ACCEL_OK);
    CHECK_INT_EQ(accel_chat_template_render(t, m, 1, NULL, &out), ACCEL_OK);
    CHECK_STR_EQ(out, "|False|True|False");
    free(out);
    accel_chat_template_free(t);
}

static void test_error_messages(void) {
    accel_status st;
    char *out = render1("line one\n{% if true %}\n  {{ raise_exception('nope: ' ~ 3) }}\n{% endif %}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_INVALID_ARG);
    CHECK(out == NULL);
    CHECK_STR_EQ(accel_last_error(), "chat template raised an exception at line 3: nope: 3");
    out = render1("a\n{{ x.y }}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_INVALID_ARG);
    CHECK_STR_EQ(accel_last_error(), "chat template error at line 2: 'x' is undefined");
    out = render1("a\nb {{ (1 + }}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_MODEL_FORMAT);
    CHECK(strstr(accel_last_error(), "line 2, column 11") != NULL);
    out = render1("{% for x in y %}\n{% endif %}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_MODEL_FORMAT);
    CHECK(strstr(accel_last_error(), "Encountered unknown tag 'endif'") != NULL);
    CHECK(strstr(accel_last_error(), "'endfor' or 'else'") != NULL);
    out = render1("{{ x | groupby('a') }}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_UNSUPPORTED);
    CHECK(strstr(accel_last_error(), "'groupby' filter") != NULL);
    out = render1("{{ 'a'.casefold() }}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_UNSUPPORTED);
    CHECK(strstr(accel_last_error(), "casefold") != NULL);
    free(out);
}

static void test_values(void) {
    /* Python float repr and int/float arithmetic corners */
    expect("{{ 5e-324 }} {{ 1.7976931348623157e308 }} {{ 0.1 * 3 }} {{ 1e22 }} {{ 123456789.123 }} {{ -1.5e-7 }}", "{}",
           "5e-324 1.7976931348623157e+308 0.30000000000000004 1e+22 123456789.123 -1.5e-07");
    expect("{{ 9223372036854775807 }} {{ -9223372036854775807 - 1 }} {{ 9007199254740993 == 9007199254740992.0 }}",
           "{}", "9223372036854775807 -9223372036854775808 False");
    expect("{{ 7 // -2 }} {{ -7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** 62 }} {{ (-2) ** 63 }}", "{}",
           "-4 -4.0 0.5 4611686018427387904 -9223372036854775808");
    /* JSON context numbers: integral -> int, else float; key order is kept */
    expect("{{ d }} {{ d | tojson }}", "{\"d\": {\"z\": 1, \"a\": 2.5, \"m\": [true, null, \"s\"]}}",
           "{'z': 1, 'a': 2.5, 'm': [True, None, 's']} {\"z\": 1, \"a\": 2.5, \"m\": [true, null, \"s\"]}");
    /* code points, not bytes */
    expect("{{ s | length }} {{ s[1] }} {{ s[-1:] }} {{ s | upper }} {{ s | reverse }}",
           "{\"s\": \"a\xc3\xa9\xe2\x82\xac\"}",
           "3 \xc3\xa9 \xe2\x82\xac A\xc3\x89\xe2\x82\xac \xe2\x82\xac\xc3\xa9" "a");
    /* a namespace that contains itself prints without recursing forever */
    accel_status st;
    char *out = render1("{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}", "{}", &st);
    CHECK_INT_EQ(st, ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "nested deeper") != NULL);
    free(out);
}

/* One template rendered from several threads at once gives the same text in each. */
typedef struct thread_arg {
    const accel_chat_template *t;
    int ok;
} thread_arg;

static void *render_thread(void *p) {
    thread_arg *a = p;
    accel_chat_message m[3] = {{"system", "s"}, {"user", "u"}, {"assistant", "a"}};
    accel_chat_render_params prm = accel_chat_render_default_params();
    prm.add_generation_prompt = true;
    a->ok = 1;
    for (int i = 0; i < 200; i++) {
        char *out = NULL;
        if (accel_chat_template_render(a->t, m, 3, &prm, &out) != ACCEL_OK ||
            strcmp(out, "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\na"
                        "<|im_end|>\n<|im_start|>assistant\n") != 0)
            a->ok = 0;
        free(out);
    }
    return NULL;
}

static void test_threads(void) {
    cJSON *doc = load_json("chatml.json");
    CHECK(doc != NULL);
    if (!doc) return;
    const char *src = jstring(doc, "template");
    accel_chat_template *t = NULL;
    CHECK_INT_EQ(accel_chat_template_parse(src, strlen(src), &t), ACCEL_OK);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].t = t;
        pthread_create(&th[i], NULL, render_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].ok);
    }
    accel_chat_template_free(t);
    cJSON_Delete(doc);
}

int main(void) {
    const char *env = getenv("ACCEL_FIXTURES_DIR");
    if (env && *env) {
        snprintf(g_dir, sizeof g_dir, "%.1000s/chat", env);
    } else { /* tests/unit/test_chat_template.c -> tests/fixtures/chat */
        snprintf(g_dir, sizeof g_dir, "%.1000s", __FILE__);
        char *cut = strstr(g_dir, "unit/test_chat_template.c");
        if (cut) strcpy(cut, "fixtures/chat");
    }
    RUN(test_real_templates);
    RUN(test_expressions);
    RUN(test_malformed);
    RUN(test_api_errors);
    RUN(test_message_api);
    RUN(test_error_messages);
    RUN(test_values);
    RUN(test_threads);
    return test_summary();
}
