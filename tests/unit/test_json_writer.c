/* Tests of the JSON writer (src/hw/json_writer.c): exact output for compact and indented documents, escaping of
 * quotes, backslashes and control characters, UTF-8 passthrough, replacement of invalid UTF-8, number
 * formatting, misuse detection, and round trips through cJSON. Prints one line per check; exits non-zero on
 * any failure. */
#include "accel.h"
#include "hw/json_writer.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;

static void check(bool ok, const char *what) {
    printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) g_failures++;
}

/* Finishes w and compares the text with expected; prints both on mismatch. */
static void check_text(accel_json_writer *w, const char *expected, const char *what) {
    char *text = NULL;
    accel_status st = accel_json_finish(w, &text);
    bool ok = st == ACCEL_OK && text && strcmp(text, expected) == 0;
    check(ok, what);
    if (!ok) printf("     got:      %s\n     expected: %s\n", text ? text : "(null)", expected);
    free(text);
}

/* Writes one string value as a whole document and returns the text (caller frees). */
static char *string_doc(const char *s, size_t n) {
    accel_json_writer w;
    accel_json_init(&w, 0);
    accel_json_string_n(&w, s, n);
    char *text = NULL;
    if (accel_json_finish(&w, &text) != ACCEL_OK) return NULL;
    return text;
}

static void test_compact(void) {
    accel_json_writer w;
    accel_json_init(&w, 0);
    accel_json_object_begin(&w);
    accel_json_key(&w, "a");
    accel_json_int(&w, 1);
    accel_json_key(&w, "b");
    accel_json_array_begin(&w);
    accel_json_bool(&w, true);
    accel_json_bool(&w, false);
    accel_json_null(&w);
    accel_json_array_end(&w);
    accel_json_key(&w, "c");
    accel_json_object_begin(&w);
    accel_json_key(&w, "d");
    accel_json_string(&w, "x");
    accel_json_object_end(&w);
    accel_json_key(&w, "e");
    accel_json_int(&w, -5);
    accel_json_key(&w, "f");
    accel_json_double(&w, 1.5);
    accel_json_key(&w, "g");
    accel_json_string(&w, NULL);
    accel_json_object_end(&w);
    check_text(&w, "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x\"},\"e\":-5,\"f\":1.5,\"g\":null}",
               "compact document");
}

static void test_indented(void) {
    accel_json_writer w;
    accel_json_init(&w, 2);
    accel_json_object_begin(&w);
    accel_json_key(&w, "list");
    accel_json_array_begin(&w);
    accel_json_int(&w, 1);
    accel_json_int(&w, 2);
    accel_json_array_end(&w);
    accel_json_key(&w, "empty_object");
    accel_json_object_begin(&w);
    accel_json_object_end(&w);
    accel_json_key(&w, "empty_array");
    accel_json_array_begin(&w);
    accel_json_array_end(&w);
    accel_json_object_end(&w);
    check_text(&w,
               "{\n"
               "  \"list\": [\n"
               "    1,\n"
               "    2\n"
               "  ],\n"
               "  \"empty_object\": {},\n"
               "  \"empty_array\": []\n"
               "}",
               "indented document with empty containers");
}

static void test_escaping(void) {
    const char in[] = "q\"b\\n\nt\tr\rb\bf\fc\x01\x1f\x7f/";
    char *text = string_doc(in, strlen(in));
    const char *expected = "\"q\\\"b\\\\n\\nt\\tr\\rb\\bf\\fc\\u0001\\u001f\x7f/\"";
    check(text && strcmp(text, expected) == 0, "quotes, backslashes and control characters are escaped");
    if (text && strcmp(text, expected) != 0) printf("     got: %s\n", text);
    cJSON *parsed = text ? cJSON_Parse(text) : NULL;
    check(parsed && cJSON_IsString(parsed) && strcmp(parsed->valuestring, in) == 0,
          "escaped string parses back (cJSON) to the original bytes");
    cJSON_Delete(parsed);
    free(text);

    const char nul[] = {'a', '\0', 'b'};
    text = string_doc(nul, sizeof nul);
    check(text && strcmp(text, "\"a\\u0000b\"") == 0, "an embedded NUL is written as \\u0000");
    free(text);
}

static void test_utf8(void) {
    /* é (2 bytes), € (3 bytes), 𝄞 (4 bytes), and U+FFFF / U+10FFFF at the edges of the valid range. */
    const char valid[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xef\xbf\xbf \xf4\x8f\xbf\xbf";
    char *text = string_doc(valid, strlen(valid));
    char expected[64];
    snprintf(expected, sizeof expected, "\"%s\"", valid);
    check(text && strcmp(text, expected) == 0, "valid UTF-8 passes through unchanged");
    cJSON *parsed = text ? cJSON_Parse(text) : NULL;
    check(parsed && cJSON_IsString(parsed) && strcmp(parsed->valuestring, valid) == 0,
          "UTF-8 string parses back to the same bytes");
    cJSON_Delete(parsed);
    free(text);

    static const struct {
        const char *in, *out, *what;
    } bad[] = {
        {"a\xff" "b", "\"a\\ufffdb\"", "a byte that never starts UTF-8 becomes U+FFFD"},
        {"\xc0\xaf", "\"\\ufffd\\ufffd\"", "an overlong encoding is replaced"},
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "an encoded surrogate is replaced"},
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "a code point past U+10FFFF is replaced"},
        {"x\xe2\x82", "\"x\\ufffd\\ufffd\"", "a truncated sequence at the end is replaced"},
        {"\x80", "\"\\ufffd\"", "a lone continuation byte is replaced"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        text = string_doc(bad[i].in, strlen(bad[i].in));
        bool ok = text && strcmp(text, bad[i].out) == 0;
        check(ok, bad[i].what);
        if (!ok) printf("     got: %s expected: %s\n", text ? text : "(null)", bad[i].out);
        free(text);
    }
}

static void test_numbers(void) {
    accel_json_writer w;
    accel_json_init(&w, 0);
    accel_json_array_begin(&w);
    accel_json_int(&w, INT64_MIN);
    accel_json_int(&w, INT64_MAX);
    accel_json_uint(&w, UINT64_MAX);
    accel_json_double(&w, NAN);
    accel_json_double(&w, INFINITY);
    accel_json_array_end(&w);
    check_text(&w, "[-9223372036854775808,9223372036854775807,18446744073709551615,null,null]",
               "64-bit integer limits; non-finite doubles become null");

    accel_json_init(&w, 0);
    accel_json_double(&w, 0.1);
    char *text = NULL;
    bool ok = accel_json_finish(&w, &text) == ACCEL_OK && text && strtod(text, NULL) == 0.1;
    check(ok, "doubles round-trip exactly (0.1)");
    free(text);
}

/* A sequence of calls that must be rejected by accel_json_finish with ACCEL_ERR_INVALID_ARG. */
static void expect_misuse(accel_json_writer *w, const char *what) {
    char *text = (char *)"untouched";
    accel_status st = accel_json_finish(w, &text);
    check(st == ACCEL_ERR_INVALID_ARG && text == NULL && accel_last_error()[0] != '\0', what);
}

static void test_misuse(void) {
    accel_json_writer w;

    accel_json_init(&w, 0);
    accel_json_key(&w, "k");
    expect_misuse(&w, "a key outside an object is rejected");

    accel_json_init(&w, 0);
    accel_json_object_begin(&w);
    accel_json_int(&w, 1);
    accel_json_object_end(&w);
    expect_misuse(&w, "a value without a key inside an object is rejected");

    accel_json_init(&w, 0);
    accel_json_object_begin(&w);
    accel_json_key(&w, "a");
    accel_json_key(&w, "b");
    accel_json_int(&w, 1);
    accel_json_object_end(&w);
    expect_misuse(&w, "two keys in a row are rejected");

    accel_json_init(&w, 0);
    accel_json_array_begin(&w);
    accel_json_key(&w, "k");
    accel_json_int(&w, 1);
    accel_json_array_end(&w);
    expect_misuse(&w, "a key inside an array is rejected");

    accel_json_init(&w, 0);
    accel_json_array_begin(&w);
    expect_misuse(&w, "an unclosed container is rejected");

    accel_json_init(&w, 0);
    accel_json_array_begin(&w);
    accel_json_object_end(&w);
    expect_misuse(&w, "closing with the wrong kind of bracket is rejected");

    accel_json_init(&w, 0);
    accel_json_int(&w, 1);
    accel_json_int(&w, 2);
    expect_misuse(&w, "two top-level values are rejected");

    accel_json_init(&w, 0);
    expect_misuse(&w, "an empty document is rejected");

    accel_json_init(&w, 0);
    for (int i = 0; i < ACCEL_JSON_MAX_DEPTH + 1; i++) accel_json_array_begin(&w);
    for (int i = 0; i < ACCEL_JSON_MAX_DEPTH + 1; i++) accel_json_array_end(&w);
    expect_misuse(&w, "nesting deeper than ACCEL_JSON_MAX_DEPTH is rejected");

    accel_json_init(&w, 0);
    for (int i = 0; i < ACCEL_JSON_MAX_DEPTH; i++) accel_json_array_begin(&w);
    for (int i = 0; i < ACCEL_JSON_MAX_DEPTH; i++) accel_json_array_end(&w);
    char *text = NULL;
    check(accel_json_finish(&w, &text) == ACCEL_OK && text && strlen(text) == 2 * ACCEL_JSON_MAX_DEPTH,
          "nesting exactly ACCEL_JSON_MAX_DEPTH deep is accepted");
    free(text);
}

static void test_large(void) {
    enum { N = 100000 };
    accel_json_writer w;
    accel_json_init(&w, 1);
    accel_json_object_begin(&w);
    accel_json_key(&w, "items");
    accel_json_array_begin(&w);
    for (int i = 0; i < N; i++) {
        accel_json_object_begin(&w);
        accel_json_key(&w, "i");
        accel_json_int(&w, i);
        accel_json_key(&w, "s");
        accel_json_string(&w, "\"quoted\"\n");
        accel_json_object_end(&w);
    }
    accel_json_array_end(&w);
    accel_json_object_end(&w);
    char *text = NULL;
    bool ok = accel_json_finish(&w, &text) == ACCEL_OK && text;
    cJSON *root = ok ? cJSON_Parse(text) : NULL;
    cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    ok = ok && cJSON_IsArray(items) && cJSON_GetArraySize(items) == N;
    cJSON *last = ok ? cJSON_GetArrayItem(items, N - 1) : NULL;
    cJSON *i_last = cJSON_GetObjectItemCaseSensitive(last, "i");
    cJSON *s_last = cJSON_GetObjectItemCaseSensitive(last, "s");
    ok = ok && cJSON_IsNumber(i_last) && i_last->valueint == N - 1 && cJSON_IsString(s_last) &&
         strcmp(s_last->valuestring, "\"quoted\"\n") == 0;
    check(ok, "a 100000-element document grows the buffer and parses back (cJSON)");
    cJSON_Delete(root);
    free(text);
}

int main(void) {
    test_compact();
    test_indented();
    test_escaping();
    test_utf8();
    test_numbers();
    test_misuse();
    test_large();
    if (g_failures) printf("%d check(s) failed\n", g_failures);
    else printf("all checks passed\n");
    return g_failures ? 1 : 0;
}
