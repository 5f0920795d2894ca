/* Tokenizer tests: exact parity with HF tokenizers on the real all-MiniLM-L6-v2 tokenizer, the BPE and T5 (Unigram)
 * fixture tokenizers (fixtures written by
 * python/reference/tokenizer_expectations.py), batch padding/truncation, invalid UTF-8, malformed tokenizer.json.
 * Benchmark mode (not a ctest): test_tokenizer --bench <tokenizer.json> <text file> [repeats]
 * prints single-thread tokens/s and MB/s (compare with python/reference/bench_tokenizers.py in the same run).
 * test_tokenizer --ids <tokenizer.json> <text file> prints the ids of each line (diff with bench_tokenizers.py --ids). */
#include "test.h"
#include "text/tokenizer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* __FILE__ is .../tests/unit/test_tokenizer.c: fixtures are .../tests/fixtures/tokenizer/<dir>/<name> */
static const char *fixd(const char *dir, const char *name) {
    static char buf[4096];
    const char *file = __FILE__;
    const char *cut = strstr(file, "unit/test_tokenizer.c");
    size_t keep = cut ? (size_t)(cut - file) : 0;
    snprintf(buf, sizeof buf, "%.*sfixtures/tokenizer/%s/%s", (int)keep, file, dir, name);
    return buf;
}
static const char *fix(const char *name) { return fixd("minilm", name); }
#define FIX_TOKENIZER fix("tokenizer.json")

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        *len = (size_t)n;
    }
    return b;
}

/* ---- expected.txt parsing ---- */

typedef struct line_rec {
    char tag;
    const char *val; /* after "T " up to newline (NUL-terminated in place) */
} line_rec;

static size_t split_lines(char *buf, line_rec **out) {
    size_t n = 0, cap = 1024;
    line_rec *v = malloc(cap * sizeof *v);
    char *p = buf;
    while (*p) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n].tag = p[0];
        v[n].val = p[0] && p[1] ? p + 2 : "";
        n++;
        if (!e) break;
        p = e + 1;
    }
    *out = v;
    return n;
}

static char *unhex(const char *h, size_t *len) {
    size_t n = strlen(h) / 2;
    char *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        b[i] = (char)v;
    }
    b[n] = 0;
    *len = n;
    return b;
}

static size_t parse_ints(const char *s, long long *v, size_t cap) {
    size_t n = 0;
    while (*s && n < cap) {
        char *e;
        long long x = strtoll(s, &e, 10);
        if (e == s) break;
        v[n++] = x;
        s = e;
        if (*s == ':') s++;
    }
    return n;
}

static accel_tokenizer *load_minilm(void) {
    accel_tokenizer *tok = NULL;
    accel_status st = accel_tokenizer_load(FIX_TOKENIZER, &tok);
    CHECK(st == ACCEL_OK);
    return tok;
}

static int cmp_i32(const int32_t *got, size_t ngot, const long long *exp, size_t nexp) {
    if (ngot != nexp) return 0;
    for (size_t i = 0; i < ngot; i++)
        if (got[i] != exp[i]) return 0;
    return 1;
}

static int cmp_off(const size_t *got, size_t ngot, const long long *exp, size_t nexp) {
    if (2 * ngot != nexp) return 0;
    for (size_t i = 0; i < nexp; i++)
        if ((long long)got[i] != exp[i]) return 0;
    return 1;
}

static void dump(const char *what, const char *text, size_t tlen) {
    fprintf(stderr, "    %s mismatch for line: \"%.*s\"\n", what, (int)(tlen > 120 ? 120 : tlen), text);
}

static accel_tokenizer *load_fixture(const char *dir) {
    accel_tokenizer *tok = NULL;
    accel_status st = accel_tokenizer_load(fixd(dir, "tokenizer.json"), &tok);
    CHECK(st == ACCEL_OK);
    return tok;
}

static size_t check_records(accel_tokenizer *tok, const line_rec *r, size_t nr, size_t i, size_t *lines_out,
                            size_t *bad_out);

/* every corpus line: ids and offsets with and without special tokens, special mask, decode both ways */
static void check_parity(const char *dir) {
    accel_tokenizer *tok = load_fixture(dir);
    size_t len;
    char *buf = read_file(fixd(dir, "expected.txt"), &len);
    CHECK(buf != NULL);
    if (!tok || !buf) {
        free(buf);
        accel_tokenizer_free(tok);
        return;
    }
    line_rec *r;
    size_t nr = split_lines(buf, &r);
    size_t lines = 0, bad = 0;
    check_records(tok, r, nr, 0, &lines, &bad);
    printf("  %s parity: %zu lines, %zu mismatched\n", dir, lines, bad);
    CHECK(lines >= 300);
    CHECK_INT_EQ(bad, 0);
    free(r);
    free(buf);
    accel_tokenizer_free(tok);
}

/* Records (9 lines each, X I M O N Q D E S) from r[i] until a line that is not X; returns the index after them. */
static size_t check_records(accel_tokenizer *tok, const line_rec *r, size_t nr, size_t i, size_t *lines_out,
                            size_t *bad_out) {
    static long long v[1 << 16];
    size_t lines = 0, bad = 0;
    accel_encode_params with = accel_encode_default_params(), without = with;
    without.add_special_tokens = 0;
    for (; i + 8 < nr && r[i].tag == 'X'; i += 9) {
        size_t tlen;
        char *text = unhex(r[i].val, &tlen);
        accel_encoding *a = NULL, *b = NULL;
        int ok = accel_tokenizer_encode(tok, text, tlen, &with, &a) == ACCEL_OK &&
                 accel_tokenizer_encode(tok, text, tlen, &without, &b) == ACCEL_OK;
        CHECK(ok);
        if (ok) {
            size_t n;
            n = parse_ints(r[i + 1].val, v, 1 << 16);
            int good = 1;
            if (!cmp_i32(accel_encoding_ids(a), accel_encoding_len(a), v, n)) good = 0, dump("ids", text, tlen);
            n = parse_ints(r[i + 2].val, v, 1 << 16);
            if (!cmp_i32(accel_encoding_special_tokens_mask(a), accel_encoding_len(a), v, n))
                good = 0, dump("special mask", text, tlen);
            n = parse_ints(r[i + 3].val, v, 1 << 16);
            if (!cmp_off(accel_encoding_offsets(a), accel_encoding_len(a), v, n)) good = 0, dump("offsets", text, tlen);
            n = parse_ints(r[i + 4].val, v, 1 << 16);
            if (!cmp_i32(accel_encoding_ids(b), accel_encoding_len(b), v, n)) good = 0, dump("ids (no special)", text, tlen);
            n = parse_ints(r[i + 5].val, v, 1 << 16);
            if (!cmp_off(accel_encoding_offsets(b), accel_encoding_len(b), v, n))
                good = 0, dump("offsets (no special)", text, tlen);
            for (int skip = 1; skip >= 0; skip--) {
                size_t elen;
                char *exp = unhex(r[i + (skip ? 6 : 7)].val, &elen);
                char *got = NULL;
                size_t glen = 0;
                if (accel_tokenizer_decode(tok, accel_encoding_ids(a), accel_encoding_len(a), skip, &got, &glen) != ACCEL_OK ||
                    glen != elen || memcmp(got, exp, elen)) {
                    good = 0;
                    dump(skip ? "decode(skip)" : "decode", text, tlen);
                    fprintf(stderr, "      got \"%s\"\n      exp \"%s\"\n", got ? got : "(null)", exp);
                }
                free(got);
                free(exp);
            }
            /* every other id of the encoding without special tokens */
            {
                size_t elen, nb = accel_encoding_len(b), k = 0;
                int32_t *half = malloc((nb + 1) * sizeof *half);
                for (size_t q = 0; q < nb; q += 2) half[k++] = accel_encoding_ids(b)[q];
                char *exp = unhex(r[i + 8].val, &elen);
                char *got = NULL;
                size_t glen = 0;
                if (r[i + 8].tag != 'S' || accel_tokenizer_decode(tok, half, k, 0, &got, &glen) != ACCEL_OK || glen != elen ||
                    memcmp(got, exp, elen)) {
                    good = 0;
                    dump("decode(every other id)", text, tlen);
                }
                free(got);
                free(exp);
                free(half);
            }
            if (!good) bad++;
        }
        lines++;
        accel_encoding_free(a);
        accel_encoding_free(b);
        free(text);
    }
    *lines_out += lines;
    *bad_out += bad;
    return i;
}

/* tiny tokenizers for component options (Metaspace schemes, ByteLevel options, every Split behaviour and invert,
 * Replace/Strip decoders...): "K <hex json>" then records */
static void check_cases(const char *dir, size_t min_cases) {
    size_t len;
    char *buf = read_file(fixd(dir, "expected.txt"), &len);
    CHECK(buf != NULL);
    if (!buf) return;
    line_rec *r;
    size_t nr = split_lines(buf, &r), i = 0, ncases = 0, lines = 0, bad = 0;
    while (i < nr && r[i].tag == 'K') {
        size_t jl;
        char *js = unhex(r[i].val, &jl);
        accel_tokenizer *tok = NULL;
        CHECK(accel_tokenizer_load_json(js, jl, &tok) == ACCEL_OK);
        size_t b0 = bad;
        if (tok) i = check_records(tok, r, nr, i + 1, &lines, &bad);
        else i++;
        if (bad != b0) fprintf(stderr, "    case %zu: %.200s\n", ncases, js);
        ncases++;
        free(js);
        accel_tokenizer_free(tok);
    }
    printf("  %s cases: %zu tokenizers, %zu lines, %zu mismatched\n", dir, ncases, lines, bad);
    CHECK(ncases >= min_cases);
    CHECK_INT_EQ(bad, 0);
    free(r);
    free(buf);
}

/* 19 trained-vocab cases (Metaspace schemes, ByteLevel options, Split behaviours) + 22 hand-built ones: StripAccents,
 * NFD, Strip, Lowercase alone; Whitespace, Punctuation (every behaviour), Digits (both), pre-tokenizer Sequence,
 * BertProcessing */
static void test_component_cases(void) { check_cases("cases", 41); }
/* added-token flags: every lstrip/rstrip/normalized/single_word combination, special or not, on a Metaspace +
 * byte-fallback (LLaVA-style, Lowercase normalizer) and a byte-level (RoBERTa-style, trimmed offsets) tokenizer */
static void test_added_token_cases(void) { check_cases("added", 32); }

/* Decoder-only cases (CTC, BPEDecoder): "K <json>" then "Y <ids>", "D <decode skip>", "E <decode>" per sequence. */
static void test_ctc_bpe_decoders(void) {
    static long long v[4096];
    static int32_t ids[4096];
    size_t len;
    char *buf = read_file(fixd("ctc", "expected.txt"), &len);
    CHECK(buf != NULL);
    if (!buf) return;
    line_rec *r;
    size_t nr = split_lines(buf, &r), i = 0, ncases = 0, seqs = 0, bad = 0;
    while (i < nr && r[i].tag == 'K') {
        size_t jl;
        char *js = unhex(r[i].val, &jl);
        accel_tokenizer *tok = NULL;
        CHECK(accel_tokenizer_load_json(js, jl, &tok) == ACCEL_OK);
        for (i++; tok && i + 2 < nr && r[i].tag == 'Y'; i += 3) {
            size_t n = parse_ints(r[i].val, v, 4096);
            for (size_t k = 0; k < n; k++) ids[k] = (int32_t)v[k];
            for (int skip = 1; skip >= 0; skip--) {
                size_t elen, glen = 0;
                char *exp = unhex(r[i + (skip ? 1 : 2)].val, &elen), *got = NULL;
                if (accel_tokenizer_decode(tok, ids, n, skip, &got, &glen) != ACCEL_OK || glen != elen || memcmp(got, exp, elen)) {
                    bad++;
                    fprintf(stderr, "    case %zu ids %s skip %d: got \"%s\" exp \"%s\"\n", ncases, r[i].val, skip,
                            got ? got : "(null)", exp);
                }
                free(got);
                free(exp);
            }
            seqs++;
        }
        if (!tok) i++;
        ncases++;
        free(js);
        accel_tokenizer_free(tok);
    }
    printf("  decoder cases: %zu tokenizers, %zu sequences, %zu mismatched\n", ncases, seqs, bad);
    CHECK(ncases >= 6);
    CHECK(seqs >= 240);
    CHECK_INT_EQ(bad, 0);
    free(r);
    free(buf);
    /* malformed CTC / BPEDecoder options */
    static const char *const bad_dec[] = {
        "{\"type\":\"CTC\",\"pad_token\":\"\"}", "{\"type\":\"CTC\",\"word_delimiter_token\":7}",
        "{\"type\":\"CTC\",\"cleanup\":\"yes\"}", "{\"type\":\"BPEDecoder\",\"suffix\":\"\"}",
        "{\"type\":\"BPEDecoder\",\"suffix\":[]}"};
    for (size_t k = 0; k < sizeof bad_dec / sizeof *bad_dec; k++) {
        char js[512];
        snprintf(js, sizeof js,
                 "{\"added_tokens\":[],\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"decoder\":%s}",
                 bad_dec[k]);
        accel_tokenizer *tok = NULL;
        accel_status st = accel_tokenizer_load_json(js, strlen(js), &tok);
        CHECK(st == ACCEL_ERR_MODEL_FORMAT);
        CHECK(tok == NULL);
        accel_tokenizer_free(tok);
    }
}

/* a batch with padding to the longest and truncation */
static void check_batch(const char *dir) {
    accel_tokenizer *tok = load_fixture(dir);
    size_t len;
    char *buf = read_file(fixd(dir, "expected.txt"), &len);
    CHECK(buf != NULL);
    if (!tok || !buf) {
        free(buf);
        accel_tokenizer_free(tok);
        return;
    }
    line_rec *r;
    size_t nr = split_lines(buf, &r), i = 0;
    while (i < nr && r[i].tag != 'B') i++;
    CHECK(i < nr);
    if (i < nr) {
        long long hdr[2];
        CHECK_INT_EQ(parse_ints(r[i].val, hdr, 2), 2);
        size_t n = (size_t)hdr[0];
        char **texts = calloc(n, sizeof *texts);
        size_t *lens = calloc(n, sizeof *lens);
        accel_encoding **enc = calloc(n, sizeof *enc);
        for (size_t k = 0; k < n; k++) texts[k] = unhex(r[i + 1 + 6 * k].val, &lens[k]);
        accel_encode_params p = accel_encode_default_params();
        p.max_length = (size_t)hdr[1];
        p.padding = 1;
        CHECK(accel_tokenizer_encode_batch(tok, (const char *const *)texts, lens, n, &p, enc) == ACCEL_OK);
        static long long v[4096];
        for (size_t k = 0; k < n && enc[0]; k++) {
            const line_rec *b = &r[i + 1 + 6 * k];
            size_t m, L = accel_encoding_len(enc[k]);
            m = parse_ints(b[1].val, v, 4096);
            CHECK(cmp_i32(accel_encoding_ids(enc[k]), L, v, m));
            m = parse_ints(b[2].val, v, 4096);
            CHECK(cmp_i32(accel_encoding_type_ids(enc[k]), L, v, m));
            m = parse_ints(b[3].val, v, 4096);
            CHECK(cmp_i32(accel_encoding_attention_mask(enc[k]), L, v, m));
            m = parse_ints(b[4].val, v, 4096);
            CHECK(cmp_i32(accel_encoding_special_tokens_mask(enc[k]), L, v, m));
            m = parse_ints(b[5].val, v, 4096);
            CHECK(cmp_off(accel_encoding_offsets(enc[k]), L, v, m));
            CHECK(L <= (size_t)hdr[1]);
        }
        for (size_t k = 0; k < n; k++) {
            accel_encoding_free(enc[k]);
            free(texts[k]);
        }
        free(texts);
        free(lens);
        free(enc);
    }
    free(r);
    free(buf);
    accel_tokenizer_free(tok);
}

static void test_minilm_parity(void) { check_parity("minilm"); }
static void test_minilm_batch(void) { check_batch("minilm"); }
static void test_llama_parity(void) { check_parity("llama"); }
static void test_llama_batch(void) { check_batch("llama"); }
static void test_mistral_parity(void) { check_parity("mistral"); }
static void test_mistral_batch(void) { check_batch("mistral"); }
static void test_qwen2_parity(void) { check_parity("qwen2"); }
static void test_qwen2_batch(void) { check_batch("qwen2"); }
static void test_gpt2_parity(void) { check_parity("gpt2"); }
static void test_gpt2_batch(void) { check_batch("gpt2"); }
static void test_metaspace_parity(void) { check_parity("metaspace"); }
static void test_metaspace_batch(void) { check_batch("metaspace"); }
static void test_split_parity(void) { check_parity("split"); }
static void test_split_batch(void) { check_batch("split"); }
static void test_t5_parity(void) { check_parity("t5"); }
static void test_t5_batch(void) { check_batch("t5"); }
static void test_t5bf_parity(void) { check_parity("t5bf"); }
static void test_t5bf_batch(void) { check_batch("t5bf"); }
/* the other model fixtures' tokenizers (wav2vec2 ships vocab.json only, no tokenizer.json) */
static void test_bert_parity(void) { check_parity("bert"); }
static void test_bert_batch(void) { check_batch("bert"); }
static void test_clip_parity(void) { check_parity("clip"); }
static void test_clip_batch(void) { check_batch("clip"); }
static void test_whisper_parity(void) { check_parity("whisper"); }
static void test_whisper_batch(void) { check_batch("whisper"); }
static void test_clap_parity(void) { check_parity("clap"); }
static void test_clap_batch(void) { check_batch("clap"); }
static void test_llava_parity(void) { check_parity("llava"); }
static void test_llava_batch(void) { check_batch("llava"); }
static void test_llava_next_parity(void) { check_parity("llava_next"); }
static void test_llava_next_batch(void) { check_batch("llava_next"); }
static void test_xclip_parity(void) { check_parity("xclip"); }
static void test_xclip_batch(void) { check_batch("xclip"); }

/* pairs/expected.txt: encode(a, b) on bert, minilm, clap (RoBERTa) and t5, without truncation and with each strategy */
static void test_pairs(void) {
    size_t len;
    char *buf = read_file(fixd("pairs", "expected.txt"), &len);
    CHECK(buf != NULL);
    if (!buf) return;
    line_rec *r;
    size_t nr = split_lines(buf, &r), nrec = 0, nerr = 0, bad = 0, ntrunc = 0;
    accel_tokenizer *tok = NULL;
    static long long v[4096];
    for (size_t i = 0; i < nr; i++) {
        if (r[i].tag == 'K') {
            accel_tokenizer_free(tok);
            tok = load_fixture(r[i].val);
            continue;
        }
        if (r[i].tag != 'P' || !tok) continue;
        char strat[32], ha[4096], hb[4096];
        unsigned long ml = 0;
        CHECK_INT_EQ(sscanf(r[i].val, "%31s %lu %4095s %4095s", strat, &ml, ha, hb), 4);
        size_t la, lb;
        char *a = unhex(ha, &la), *b = unhex(hb, &lb);
        accel_encode_params p = accel_encode_default_params();
        p.max_length = ml;
        p.truncation = !strcmp(strat, "only_first")    ? ACCEL_TRUNC_ONLY_FIRST
                       : !strcmp(strat, "only_second") ? ACCEL_TRUNC_ONLY_SECOND
                                                       : ACCEL_TRUNC_LONGEST_FIRST;
        accel_encoding *e = NULL;
        accel_status st = accel_tokenizer_encode_pair(tok, a, la, b, lb, &p, &e);
        nrec++;
        if (i + 1 < nr && r[i + 1].tag == 'R') {
            nerr++;
            CHECK(st == ACCEL_ERR_INVALID_ARG);
            CHECK(e == NULL);
        } else if (st != ACCEL_OK || i + 6 >= nr) {
            CHECK(st == ACCEL_OK);
            bad++;
        } else {
            size_t L = accel_encoding_len(e), m;
            int ok = 1;
            m = parse_ints(r[i + 1].val, v, 4096);
            ok &= cmp_i32(accel_encoding_ids(e), L, v, m);
            m = parse_ints(r[i + 2].val, v, 4096);
            ok &= cmp_i32(accel_encoding_type_ids(e), L, v, m);
            m = parse_ints(r[i + 3].val, v, 4096);
            ok &= cmp_i32(accel_encoding_attention_mask(e), L, v, m);
            m = parse_ints(r[i + 4].val, v, 4096);
            ok &= cmp_i32(accel_encoding_special_tokens_mask(e), L, v, m);
            m = parse_ints(r[i + 5].val, v, 4096);
            ok &= cmp_i32(accel_encoding_sequence_ids(e), L, v, m);
            m = parse_ints(r[i + 6].val, v, 4096);
            ok &= cmp_off(accel_encoding_offsets(e), L, v, m);
            if (ml) {
                ntrunc++;
                ok &= L <= ml;
            }
            if (!ok) {
                bad++;
                fprintf(stderr, "    pair mismatch (%s %lu): \"%.60s\" / \"%.60s\"\n", strat, ml, a, b);
            }
        }
        accel_encoding_free(e);
        free(a);
        free(b);
    }
    accel_tokenizer_free(tok);
    CHECK_INT_EQ(bad, 0);
    CHECK(nrec >= 160);
    CHECK(nerr > 0 && nerr < nrec);
    CHECK(ntrunc > 0);
    free(r);
    free(buf);
}

/* pair batch = each pair encoded alone, padded to the longest; argument errors */
static void test_pair_batch_and_errors(void) {
    accel_tokenizer *tok = load_fixture("bert");
    if (!tok) return;
    const char *a[3] = {"Hello, world!", "a b c d e f g h", ""};
    const char *b[3] = {"The quick brown fox.", "x", "only b"};
    size_t la[3], lb[3];
    for (int k = 0; k < 3; k++) {
        la[k] = strlen(a[k]);
        lb[k] = strlen(b[k]);
    }
    accel_encode_params p = accel_encode_default_params();
    p.padding = 1;
    accel_encoding *enc[3] = {0};
    CHECK(accel_tokenizer_encode_pair_batch(tok, a, la, b, lb, 3, &p, enc) == ACCEL_OK);
    size_t L0 = enc[0] ? accel_encoding_len(enc[0]) : 0;
    for (int k = 0; k < 3 && enc[0]; k++) {
        accel_encoding *one = NULL;
        CHECK(accel_tokenizer_encode_pair(tok, a[k], la[k], b[k], lb[k], NULL, &one) == ACCEL_OK);
        if (!one) continue;
        size_t n = accel_encoding_len(one);
        CHECK(accel_encoding_len(enc[k]) == L0 && n <= L0);
        int same = 1;
        for (size_t t = 0; t < n && n <= L0; t++)
            same &= accel_encoding_ids(enc[k])[t] == accel_encoding_ids(one)[t] &&
                    accel_encoding_sequence_ids(enc[k])[t] == accel_encoding_sequence_ids(one)[t] &&
                    accel_encoding_type_ids(enc[k])[t] == accel_encoding_type_ids(one)[t];
        for (size_t t = n; t < L0; t++)
            same &= accel_encoding_sequence_ids(enc[k])[t] == -1 && accel_encoding_attention_mask(enc[k])[t] == 0;
        CHECK(same);
        accel_encoding_free(one);
    }
    for (int k = 0; k < 3; k++) accel_encoding_free(enc[k]);
    accel_encoding *e = NULL;
    CHECK(accel_tokenizer_encode_pair(tok, "a", 1, NULL, 3, NULL, &e) == ACCEL_ERR_INVALID_ARG && !e);
    CHECK(accel_tokenizer_encode_pair(tok, "a", 1, "\xff", 1, NULL, &e) == ACCEL_ERR_INVALID_ARG && !e);
    CHECK(strstr(accel_last_error(), "byte offset 0") != NULL);
    CHECK(accel_tokenizer_encode_pair(NULL, "a", 1, "b", 1, NULL, &e) == ACCEL_ERR_INVALID_ARG);
    p = accel_encode_default_params();
    p.max_length = 4; /* 3 specials + 1: B ("x y z") would lose every token */
    p.truncation = ACCEL_TRUNC_ONLY_SECOND;
    CHECK(accel_tokenizer_encode_pair(tok, "a", 1, "x y z", 5, &p, &e) == ACCEL_ERR_INVALID_ARG && !e);
    p.max_length = 2; /* fewer than the 3 special tokens of a pair */
    p.truncation = ACCEL_TRUNC_LONGEST_FIRST;
    CHECK(accel_tokenizer_encode_pair(tok, "a", 1, "b", 1, &p, &e) == ACCEL_ERR_INVALID_ARG && !e);
    /* single-sequence encode has no B: sequence ids are -1 / 0 only */
    CHECK(accel_tokenizer_encode(tok, "a b", 3, NULL, &e) == ACCEL_OK);
    if (e) {
        const int32_t *sq = accel_encoding_sequence_ids(e);
        size_t n = accel_encoding_len(e);
        CHECK(n == 4 && sq[0] == -1 && sq[1] == 0 && sq[2] == 0 && sq[3] == -1);
    }
    accel_encoding_free(e);
    accel_tokenizer_free(tok);
}

static void test_file_params_and_vocab(void) {
    accel_tokenizer *tok = load_minilm();
    if (!tok) return;
    accel_encode_params p = accel_encode_default_params();
    CHECK(accel_tokenizer_file_params(tok, &p) == ACCEL_OK);
    CHECK_INT_EQ(p.max_length, 128);
    CHECK_INT_EQ(p.padding, 2);
    CHECK_INT_EQ(p.pad_length, 128);
    accel_encoding *e = NULL;
    CHECK(accel_tokenizer_encode(tok, "hello world", 11, &p, &e) == ACCEL_OK);
    CHECK_INT_EQ(accel_encoding_len(e), 128);
    if (e) {
        CHECK_INT_EQ(accel_encoding_attention_mask(e)[3], 1);
        CHECK_INT_EQ(accel_encoding_attention_mask(e)[4], 0);
        CHECK_INT_EQ(accel_encoding_ids(e)[127], 0);
    }
    accel_encoding_free(e);
    CHECK_INT_EQ(accel_tokenizer_vocab_size(tok), 30522);
    CHECK_INT_EQ(accel_tokenizer_token_to_id(tok, "[CLS]", 5), 101);
    CHECK_INT_EQ(accel_tokenizer_token_to_id(tok, "hello", 5), 7592);
    CHECK_INT_EQ(accel_tokenizer_token_to_id(tok, "no-such-token", 13), -1);
    CHECK_STR_EQ(accel_tokenizer_id_to_token(tok, 7592), "hello");
    CHECK(accel_tokenizer_id_to_token(tok, 999999) == NULL);
    /* max_length below the number of special tokens is refused */
    accel_encode_params q = accel_encode_default_params();
    q.max_length = 1;
    e = NULL;
    CHECK(accel_tokenizer_encode(tok, "hello", 5, &q, &e) == ACCEL_ERR_INVALID_ARG);
    CHECK(e == NULL);
    accel_tokenizer_free(tok);
}

static void test_invalid_utf8(void) {
    accel_tokenizer *tok = load_minilm();
    if (!tok) return;
    static const struct {
        const char *s;
        size_t len, off;
    } cases[] = {
        {"abc\xff", 4, 3},          /* invalid byte */
        {"ab\xc3", 3, 2},           /* truncated 2-byte sequence */
        {"\xc0\xaf", 2, 0},         /* overlong */
        {"ok \xed\xa0\x80", 6, 3},  /* surrogate */
        {"x\xf4\x90\x80\x80", 5, 1}, /* > U+10FFFF */
        {"caf\xc3\xa9\x80", 6, 5},  /* stray continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(tok, cases[i].s, cases[i].len, NULL, &e) == ACCEL_ERR_INVALID_ARG);
        CHECK(e == NULL);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu", cases[i].off);
        CHECK(strstr(accel_last_error(), want) != NULL);
    }
    /* a batch names the failing item and leaves nothing allocated */
    const char *texts[2] = {"fine", "bad\xfe"};
    size_t lens[2] = {4, 4};
    accel_encoding *out[2] = {(accel_encoding *)1, (accel_encoding *)1};
    CHECK(accel_tokenizer_encode_batch(tok, texts, lens, 2, NULL, out) == ACCEL_ERR_INVALID_ARG);
    CHECK(out[0] == NULL && out[1] == NULL);
    CHECK(strstr(accel_last_error(), "item 1") != NULL);
    /* embedded NUL is valid UTF-8: removed by the BERT normalizer */
    accel_encoding *e = NULL;
    CHECK(accel_tokenizer_encode(tok, "a\0b", 3, NULL, &e) == ACCEL_OK);
    CHECK_INT_EQ(accel_encoding_len(e), 3); /* [CLS] ab [SEP] */
    accel_encoding_free(e);
    accel_tokenizer_free(tok);
}

static accel_status load_str(const char *json, accel_tokenizer **t) {
    *t = NULL;
    return accel_tokenizer_load_json(json, strlen(json), t);
}

/* A hand-made Unigram: Viterbi choice, fused unknown runs, offsets (expected values from HF tokenizers 0.23.3:
 * Tokenizer.from_str of the same JSON), and malformed Unigram / Precompiled sections. */
static void test_unigram_small(void) {
    const char *voc = "\"vocab\":[[\"<unk>\",0.0],[\"a\",-1.0],[\"b\",-1.0],[\"ab\",-2.0],[\"xy\",-1.0],[\"c\",-5]]";
    char j[2048];
    accel_tokenizer *t = NULL;
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,%s,\"byte_fallback\":false}}", voc);
    CHECK(load_str(j, &t) == ACCEL_OK);
    static const struct {
        const char *text;
        int n;
        int ids[4];
        size_t off[8];
    } cases[] = {
        {"ab", 1, {3}, {0, 2}},
        {"abxyc", 3, {3, 4, 5}, {0, 2, 2, 4, 4, 5}},
        {"xxyy", 3, {0, 4, 0}, {0, 1, 1, 3, 3, 4}},
        {"qqab", 2, {0, 3}, {0, 2, 2, 4}},
        {"x", 1, {0}, {0, 1}},
    };
    for (size_t c = 0; t && c < sizeof cases / sizeof cases[0]; c++) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, cases[c].text, strlen(cases[c].text), NULL, &e) == ACCEL_OK);
        if (!e) continue;
        CHECK_INT_EQ(accel_encoding_len(e), cases[c].n);
        if ((int)accel_encoding_len(e) == cases[c].n)
            for (int k = 0; k < cases[c].n; k++) {
                CHECK_INT_EQ(accel_encoding_ids(e)[k], cases[c].ids[k]);
                CHECK_INT_EQ(accel_encoding_offsets(e)[2 * k], cases[c].off[2 * k]);
                CHECK_INT_EQ(accel_encoding_offsets(e)[2 * k + 1], cases[c].off[2 * k + 1]);
            }
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
    /* no unk_id: loads, but an unknown char is an error (HF: "unk_id is missing") */
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"Unigram\",\"unk_id\":null,%s}}", voc);
    t = NULL;
    CHECK(load_str(j, &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "ab", 2, NULL, &e) == ACCEL_OK);
        accel_encoding_free(e);
        e = NULL;
        CHECK(accel_tokenizer_encode(t, "zz", 2, NULL, &e) == ACCEL_ERR_MODEL_FORMAT && e == NULL);
        CHECK(strstr(accel_last_error(), "unk") != NULL);
    }
    accel_tokenizer_free(t);
    /* malformed Unigram sections */
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":9,\"vocab\":[[\"a\",0]]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"a\"]]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"a\",\"x\"]]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[1,0]]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":-1,\"vocab\":[[\"a\",0]]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":{\"a\":0}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"byte_fallback\":1,\"vocab\":[[\"a\",0]]}}", &t) ==
          ACCEL_ERR_MODEL_FORMAT);
    CHECK(t == NULL);
    /* malformed Precompiled normalizers: not base64, empty (HF rejects it too), trie larger than the data, missing */
    static const char *maps[] = {"\"\"", "\"!!!!\"", "\"AAAA\"", "\"QUJD\"", "\"/////w==\"", "\"CAAAAP////8=\"", "7", "null"};
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++) {
        snprintf(j, sizeof j,
                 "{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,%s},\"normalizer\":{\"type\":\"Precompiled\","
                 "\"precompiled_charsmap\":%s}}", voc, maps[m]);
        CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
        CHECK(t == NULL);
    }
    /* a corrupt trie (offsets pointing outside the array) loads and never reads out of bounds */
    snprintf(j, sizeof j,
             "{\"model\":{\"type\":\"Unigram\",\"unk_id\":0,%s},\"normalizer\":{\"type\":\"Precompiled\","
             "\"precompiled_charsmap\":\"CAAAAP//////////eAA=\"}}", voc);
    CHECK(load_str(j, &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "abxy\xc3\xa9", 6, NULL, &e) == ACCEL_OK);
        if (e) CHECK_INT_EQ(accel_encoding_len(e), 3);
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
}

static void test_malformed(void) {
    accel_tokenizer *t;
    const char *wp = "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
                     "\"max_input_chars_per_word\":100,\"vocab\":{\"[UNK]\":0,\"a\":1,\"##b\":2}}";
    char j[1024];
    /* a minimal valid file works */
    snprintf(j, sizeof j, "{%s}", wp);
    CHECK(load_str(j, &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "ab c", 4, NULL, &e) == ACCEL_OK);
        CHECK_INT_EQ(accel_encoding_len(e), 1); /* no pre-tokenizer: one word "ab c" -> [UNK]; no post-processor */
        if (e) CHECK_INT_EQ(accel_encoding_ids(e)[0], 0);
        accel_encoding_free(e);
        e = NULL;
        CHECK(accel_tokenizer_encode(t, "ab", 2, NULL, &e) == ACCEL_OK); /* a ##b */
        CHECK_INT_EQ(accel_encoding_len(e), 2);
        if (e && accel_encoding_len(e) == 2) {
            CHECK_INT_EQ(accel_encoding_ids(e)[0], 1);
            CHECK_INT_EQ(accel_encoding_ids(e)[1], 2);
            CHECK_INT_EQ(accel_encoding_offsets(e)[2], 1);
        }
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
    CHECK(load_str("{}", &t) == ACCEL_ERR_MODEL_FORMAT && t == NULL);
    CHECK(strstr(accel_last_error(), "model") != NULL);
    CHECK(load_str("[1,2]", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("", &t) == ACCEL_ERR_MODEL_FORMAT);
    /* truncated JSON */
    snprintf(j, sizeof j, "{%s}", wp);
    for (size_t cut = 1; cut < strlen(j); cut += 7) {
        CHECK(accel_tokenizer_load_json(j, cut, &t) == ACCEL_ERR_MODEL_FORMAT);
        CHECK(t == NULL);
    }
    /* unknown component types name themselves */
    CHECK(load_str("{\"model\":{\"type\":\"Quantum\",\"vocab\":{}}}", &t) == ACCEL_ERR_UNSUPPORTED);
    CHECK(strstr(accel_last_error(), "Quantum") != NULL);
    snprintf(j, sizeof j, "{%s,\"normalizer\":{\"type\":\"Frobnicate\"}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "Frobnicate"));
    snprintf(j, sizeof j, "{%s,\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Zap\"}]}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "Zap"));
    snprintf(j, sizeof j, "{%s,\"decoder\":{\"type\":\"Blorp\"}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "Blorp"));
    snprintf(j, sizeof j, "{%s,\"post_processor\":{\"type\":\"Glue\"}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "Glue"));
    /* wrong types */
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"vocab\":[1,2]}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":\"x\"}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":-1}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0,\"b\":0}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":4000000000}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"unk_token\":5,\"vocab\":{}}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\"}}", &t) == ACCEL_ERR_MODEL_FORMAT);
    CHECK(load_str("{\"model\":7}", &t) == ACCEL_ERR_MODEL_FORMAT);
    snprintf(j, sizeof j, "{%s,\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":\"yes\"}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT && strstr(accel_last_error(), "lowercase"));
    snprintf(j, sizeof j, "{%s,\"normalizer\":\"BertNormalizer\"}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    snprintf(j, sizeof j, "{%s,\"added_tokens\":{}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    snprintf(j, sizeof j, "{%s,\"added_tokens\":[{\"id\":3}]}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    snprintf(j, sizeof j, "{%s,\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[X]\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{}}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT && strstr(accel_last_error(), "[X]"));
    snprintf(j, sizeof j, "{%s,\"truncation\":{\"max_length\":-3}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    snprintf(j, sizeof j, "{%s,\"padding\":{\"strategy\":\"Sideways\"}}", wp);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    /* unk token missing from the vocab: loads (as HF does) but encoding an unknown word fails cleanly */
    CHECK(load_str("{\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[NOPE]\",\"vocab\":{\"a\":0}}}", &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "zz", 2, NULL, &e) == ACCEL_ERR_MODEL_FORMAT && e == NULL);
        CHECK(accel_tokenizer_encode(t, "a", 1, NULL, &e) == ACCEL_OK);
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
    CHECK(accel_tokenizer_load("/nonexistent/tokenizer.json", &t) == ACCEL_ERR_NOT_FOUND);
    CHECK(accel_tokenizer_load(NULL, &t) == ACCEL_ERR_INVALID_ARG);
    accel_tokenizer_free(NULL);
    accel_encoding_free(NULL);
}

static void test_bpe_malformed(void) {
    accel_tokenizer *t;
    char j[2048];
    const char *vocab = "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"c\":3,\"<unk>\":4}";
    /* a minimal BPE: "a b" merges, c stays, d is unknown (unk, fused) */
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":[\"a b\"],\"unk_token\":\"<unk>\",\"fuse_unk\":true}}", vocab);
    CHECK(load_str(j, &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "abcddab", 7, NULL, &e) == ACCEL_OK);
        CHECK_INT_EQ(accel_encoding_len(e), 4); /* ab c <unk>(dd) ab */
        if (e && accel_encoding_len(e) == 4) {
            CHECK_INT_EQ(accel_encoding_ids(e)[0], 2);
            CHECK_INT_EQ(accel_encoding_ids(e)[2], 4);
            CHECK_INT_EQ(accel_encoding_offsets(e)[4], 3);
            CHECK_INT_EQ(accel_encoding_offsets(e)[5], 5);
        }
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
    /* the pair form of merges works the same */
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":[[\"a\",\"b\"]]}}", vocab);
    CHECK(load_str(j, &t) == ACCEL_OK);
    accel_tokenizer_free(t);
    static const char *const bad_merges[] = {"[\"a\"]", "[\"a b c\"]", "[\"a x\"]", "[\"c a\"]", "[[\"a\"]]", "[7]", "{}"};
    for (size_t k = 0; k < sizeof bad_merges / sizeof *bad_merges; k++) {
        snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":%s}}", vocab, bad_merges[k]);
        CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT && t == NULL);
    }
    /* dropout: 0/null fine, > 0 unsupported, wrong type malformed */
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":[],\"dropout\":0.0}}", vocab);
    CHECK(load_str(j, &t) == ACCEL_OK);
    accel_tokenizer_free(t);
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":[],\"dropout\":0.1}}", vocab);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "dropout"));
    snprintf(j, sizeof j, "{\"model\":{\"type\":\"BPE\",%s,\"merges\":[],\"dropout\":\"x\"}}", vocab);
    CHECK(load_str(j, &t) == ACCEL_ERR_MODEL_FORMAT);
    /* unk token not in the vocab: loads, an unknown char fails cleanly */
    CHECK(load_str("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":\"<nope>\"}}", &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "az", 2, NULL, &e) == ACCEL_ERR_MODEL_FORMAT && e == NULL);
    }
    accel_tokenizer_free(t);
    /* no unk token: unknown chars are dropped (HF) */
    CHECK(load_str("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", &t) == ACCEL_OK);
    if (t) {
        accel_encoding *e = NULL;
        CHECK(accel_tokenizer_encode(t, "zaz", 3, NULL, &e) == ACCEL_OK);
        CHECK_INT_EQ(accel_encoding_len(e), 1);
        accel_encoding_free(e);
    }
    accel_tokenizer_free(t);
    /* components */
    const char *m = "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}";
    static const char *const bad_parts[] = {
        "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}",
        "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"}}",
        "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":\"a\",\"behavior\":\"Isolated\"}",
        "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}",
        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"ab\"}",
        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"prepend_scheme\":\"sometimes\"}",
        "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":1}",
        "\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\"a\"}}",
        "\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"[\"},\"content\":\"b\"}",
        "\"decoder\":{\"type\":\"Strip\",\"start\":1}",
        "\"decoder\":{\"type\":\"Replace\",\"pattern\":{},\"content\":\"b\"}",
        "\"post_processor\":{\"type\":\"Sequence\",\"processors\":{}}",
        "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\"],\"cls\":[\"<s>\",0]}",
    };
    for (size_t k = 0; k < sizeof bad_parts / sizeof *bad_parts; k++) {
        snprintf(j, sizeof j, "{%s,%s}", m, bad_parts[k]);
        accel_status st = load_str(j, &t);
        if (st != ACCEL_ERR_MODEL_FORMAT) fprintf(stderr, "    accepted: %s\n", bad_parts[k]);
        CHECK(st == ACCEL_ERR_MODEL_FORMAT && t == NULL);
    }
    snprintf(j, sizeof j, "{%s,\"post_processor\":{\"type\":\"Sequence\",\"processors\":[{\"type\":\"Nope\"}]}}", m);
    CHECK(load_str(j, &t) == ACCEL_ERR_UNSUPPORTED && strstr(accel_last_error(), "Nope"));
}

typedef struct thr_arg {
    const accel_tokenizer *tok;
    const char *text;
    size_t len;
    size_t n;
    int32_t ids[4096];
    accel_status st;
} thr_arg;

static void *thr_encode(void *p) {
    thr_arg *a = p;
    accel_encode_params q = accel_encode_default_params();
    q.add_special_tokens = 0;
    for (int rep = 0; rep < 20; rep++) {
        accel_encoding *e = NULL;
        a->st = accel_tokenizer_encode(a->tok, a->text, a->len, &q, &e);
        if (a->st) return NULL;
        a->n = accel_encoding_len(e) < 4096 ? accel_encoding_len(e) : 4096;
        memcpy(a->ids, accel_encoding_ids(e), a->n * sizeof *a->ids);
        accel_encoding_free(e);
    }
    return NULL;
}

/* one tokenizer (with its BPE word cache) shared by several threads gives the same ids as one thread */
static void test_bpe_threads(void) {
    accel_tokenizer *tok = load_fixture("qwen2");
    size_t len;
    char *text = read_file(fixd("", "corpus.txt"), &len);
    CHECK(text != NULL);
    if (!tok || !text) {
        free(text);
        accel_tokenizer_free(tok);
        return;
    }
    if (len > 6000) len = 6000;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
    static thr_arg args[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        args[k] = (thr_arg){.tok = tok, .text = text, .len = len};
        CHECK(pthread_create(&th[k], NULL, thr_encode, &args[k]) == 0);
    }
    for (int k = 0; k < 4; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++) {
        CHECK(args[k].st == ACCEL_OK);
        CHECK(args[k].n == args[0].n && args[k].n > 100);
        CHECK(!memcmp(args[k].ids, args[0].ids, args[0].n * sizeof(int32_t)));
    }
    free(text);
    accel_tokenizer_free(tok);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* one encode per line (no special tokens, no padding), like bench_tokenizers.py */
static int bench(const char *tjson, const char *textfile, int repeats) {
    accel_tokenizer *tok = NULL;
    if (accel_tokenizer_load(tjson, &tok) != ACCEL_OK) {
        fprintf(stderr, "load: %s\n", accel_last_error());
        return 1;
    }
    size_t len;
    char *buf = read_file(textfile, &len);
    if (!buf) {
        fprintf(stderr, "cannot read %s\n", textfile);
        accel_tokenizer_free(tok);
        return 1;
    }
    accel_encode_params p = accel_encode_default_params();
    p.add_special_tokens = 0;
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < repeats + 1; r++) { /* first run is warm-up */
        double t0 = now_s();
        size_t nt = 0;
        for (size_t i = 0; i < len;) {
            const char *e = memchr(buf + i, '\n', len - i);
            size_t l = e ? (size_t)(e - (buf + i)) : len - i;
            accel_encoding *enc;
            if (accel_tokenizer_encode(tok, buf + i, l, &p, &enc) != ACCEL_OK) {
                fprintf(stderr, "encode: %s\n", accel_last_error());
                free(buf);
                accel_tokenizer_free(tok);
                return 1;
            }
            nt += accel_encoding_len(enc);
            accel_encoding_free(enc);
            i += l + 1;
        }
        double dt = now_s() - t0;
        if (r > 0 && dt < best) best = dt;
        tokens = nt;
    }
    printf("accel  tokens=%zu bytes=%zu best_of_%d=%.4fs  %.0f tokens/s  %.2f MB/s\n", tokens, len, repeats, best,
           tokens / best, len / best / 1e6);
    free(buf);
    accel_tokenizer_free(tok);
    return 0;
}

/* --ids: one line of ids per text line (no special tokens), to diff against HF on any text */
static int dump_ids(const char *tjson, const char *textfile) {
    accel_tokenizer *tok = NULL;
    size_t len;
    char *buf = read_file(textfile, &len);
    if (accel_tokenizer_load(tjson, &tok) != ACCEL_OK || !buf) {
        fprintf(stderr, "load: %s\n", accel_last_error());
        free(buf);
        accel_tokenizer_free(tok);
        return 1;
    }
    accel_encode_params p = accel_encode_default_params();
    p.add_special_tokens = 0;
    for (size_t i = 0; i < len;) {
        const char *e = memchr(buf + i, '\n', len - i);
        size_t l = e ? (size_t)(e - (buf + i)) : len - i;
        accel_encoding *enc;
        if (accel_tokenizer_encode(tok, buf + i, l, &p, &enc) != ACCEL_OK) {
            fprintf(stderr, "encode: %s\n", accel_last_error());
            break;
        }
        for (size_t k = 0; k < accel_encoding_len(enc); k++) printf(k ? " %d" : "%d", accel_encoding_ids(enc)[k]);
        printf("\n");
        accel_encoding_free(enc);
        i += l + 1;
    }
    free(buf);
    accel_tokenizer_free(tok);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "--bench")) return bench(argv[2], argv[3], argc >= 5 ? atoi(argv[4]) : 5);
    if (argc >= 4 && !strcmp(argv[1], "--ids")) return dump_ids(argv[2], argv[3]);
    RUN(test_minilm_parity);
    RUN(test_minilm_batch);
    RUN(test_llama_parity);
    RUN(test_llama_batch);
    RUN(test_mistral_parity);
    RUN(test_mistral_batch);
    RUN(test_qwen2_parity);
    RUN(test_qwen2_batch);
    RUN(test_gpt2_parity);
    RUN(test_gpt2_batch);
    RUN(test_metaspace_parity);
    RUN(test_metaspace_batch);
    RUN(test_split_parity);
    RUN(test_split_batch);
    RUN(test_t5_parity);
    RUN(test_t5_batch);
    RUN(test_t5bf_parity);
    RUN(test_t5bf_batch);
    RUN(test_bert_parity);
    RUN(test_bert_batch);
    RUN(test_clip_parity);
    RUN(test_clip_batch);
    RUN(test_whisper_parity);
    RUN(test_whisper_batch);
    RUN(test_clap_parity);
    RUN(test_clap_batch);
    RUN(test_llava_parity);
    RUN(test_llava_batch);
    RUN(test_llava_next_parity);
    RUN(test_llava_next_batch);
    RUN(test_xclip_parity);
    RUN(test_xclip_batch);
    RUN(test_component_cases);
    RUN(test_added_token_cases);
    RUN(test_ctc_bpe_decoders);
    RUN(test_bpe_malformed);
    RUN(test_bpe_threads);
    RUN(test_file_params_and_vocab);
    RUN(test_invalid_utf8);
    RUN(test_malformed);
    RUN(test_unigram_small);
    RUN(test_pairs);
    RUN(test_pair_batch_and_errors);
    return test_summary();
}
