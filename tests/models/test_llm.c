/* test_llm.c — decoder LLMs (issue 5): LLaMA, Qwen2 and Mistral parity with Hugging Face on the tiny random-weight
 * fixtures, and the generation machinery around them.
 *
 * For each fixture: prefill logits of the prompt (every position); every greedy step's logits through the KV-cache
 * decode path (HF's tokens fed back); the greedy tokens (32, Qwen2 24) through lm_generate_tokens and the decoded
 * text through accel_generate_text; the left-padded batch of three prompts (prefill logits of the real positions,
 * every decode step's logits, the token ids including HF's pad fill after EOS, the texts). Mistral's window is
 * shorter than its prompt, so its parity proves the sliding window (its full-attention logits differ).
 * Then: RoPE scaling (linear, dynamic, llama3, yarn, and the legacy rope_scaling spelling) against HF on a tiny
 * llama (inv_freq, prefill logits, greedy tokens); seeded sampling reproducible; streaming pieces concatenate to
 * the text and never split a UTF-8 character (byte-fallback tokens); stop strings; the decode step graph is built
 * and placed once; 10,000 tokens with context recycling and no resident-memory growth; bad input.
 * Bars (issue 5): logits max |err| / max |HF| <= 1e-4; token ids identical. */
#include "model_test_util.h"
#include "models/decoder_lm.h"
#include "tasks/sampling.h"
#include "tasks/tasks.h"
#include "test.h"

#include "io/json_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REL_TOL 1e-4

/* Counting allocations (the decode step must make none): this executable's malloc/calloc/realloc wrap glibc's and
 * count every call, from any thread. Not under AddressSanitizer, which owns malloc. */
#if !defined(__SANITIZE_ADDRESS__) && defined(__GLIBC__)
#include <stdatomic.h>
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static atomic_long g_allocs;
void *malloc(size_t n) {
    atomic_fetch_add(&g_allocs, 1);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    atomic_fetch_add(&g_allocs, 1);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    atomic_fetch_add(&g_allocs, 1);
    return __libc_realloc(p, n);
}
#endif

typedef struct fixture {
    const char *name;
    char model[1024], expected[1024];
    accel_model *m;
    accel_session *s;
    accel_st *exp;
    cJSON *json;
    int32_t *ids;        /* [S] */
    int64_t S, V, n_new; /* prompt length, vocabulary, greedy tokens */
    int32_t *bids, *bmask, *bpos; /* batch [B, BS] */
    int64_t B, BS;
} fixture;

static fixture g_fx[3] = {{.name = "llama"}, {.name = "qwen2"}, {.name = "mistral"}};

static bool fixture_open(fixture *f) {
    mt_fixture(f->model, sizeof f->model, f->name, "model");
    mt_fixture(f->expected, sizeof f->expected, f->name, "expected");
    char path[1200], st_path[1200];
    snprintf(path, sizeof path, "%s/expected.json", f->expected);
    snprintf(st_path, sizeof st_path, "%s/expected.safetensors", f->expected);
    int64_t shape[6];
    if (accel_model_load(f->model, NULL, &f->m) != ACCEL_OK || accel_session_new(f->m, NULL, &f->s) != ACCEL_OK ||
        accel_st_open(st_path, &f->exp) != ACCEL_OK || accel_json_parse_file(path, 0, &f->json) != ACCEL_OK ||
        mt_shape(f->exp, "input_ids", shape) != 2) {
        fprintf(stderr, "  cannot open the %s fixture: %s\n", f->name, accel_last_error());
        return false;
    }
    f->S = shape[1];
    f->V = f->m->family->vocab_size(f->m);
    mt_shape(f->exp, "greedy_logits", shape);
    f->n_new = shape[1];
    mt_shape(f->exp, "batch_input_ids", shape);
    f->B = shape[0];
    f->BS = shape[1];
    f->ids = mt_load_i32(f->exp, "input_ids", NULL);
    f->bids = mt_load_i32(f->exp, "batch_input_ids", NULL);
    f->bmask = mt_load_i32(f->exp, "batch_attention_mask", NULL);
    f->bpos = mt_load_i32(f->exp, "batch_position_ids", NULL);
    return f->ids && f->bids && f->bmask && f->bpos;
}

static void fixture_close(fixture *f) {
    free(f->ids);
    free(f->bids);
    free(f->bmask);
    free(f->bpos);
    cJSON_Delete(f->json);
    accel_st_close(f->exp);
    accel_session_free(f->s);
    accel_model_free(f->m);
}

static const char *json_str(const fixture *f, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check_rel(const char *fam, const char *what, const float *got, const float *want, size_t n) {
    const double e = mt_rel_err(got, want, n);
    printf("     %-8s %-40s rel err %.3g\n", fam, what, e);
    CHECK(e <= REL_TOL);
}

/* Greedy parameters resolved for f: n new tokens, nothing else. */
static accel_generate_params greedy_params(const fixture *f, int n) {
    accel_generate_params in = accel_generate_default_params(), p;
    in.max_new_tokens = n;
    in.do_sample = 0;
    CHECK(lm_resolve_params(f->m, &in, f->S, &p) == ACCEL_OK);
    return p;
}

/* ---- parity ----------------------------------------------------------------------------------------------------- */

static void test_prefill_logits(void) {
    for (int k = 0; k < 3; k++) {
        fixture *f = &g_fx[k];
        float *want = mt_load_f32(f->exp, "prefill_logits", NULL);
        float *got = malloc(sizeof(float) * (size_t)(f->S * f->V));
        CHECK(want && got);
        if (!want || !got) goto next;
        const accel_lm_step step = {.tokens = f->ids, .n_tokens = f->S, .pos = 0, .all_logits = true};
        CHECK(f->m->family->lm_start(f->s, 1, f->S) == ACCEL_OK);
        CHECK(f->m->family->lm_forward(f->s, &step, got) == ACCEL_OK);
        check_rel(f->name, "prefill logits", got, want, (size_t)(f->S * f->V));
        if (strcmp(f->name, "mistral") == 0) {
            /* the window matters: full attention differs after the first `window` positions */
            float *full = mt_load_f32(f->exp, "prefill_logits_full_attention", NULL);
            CHECK(full != NULL);
            if (full) {
                const size_t skip = (size_t)8 * (size_t)f->V;
                const double e = mt_rel_err(got + skip, full + skip, (size_t)(f->S * f->V) - skip);
                printf("     %-8s %-40s rel diff %.3g (must be large)\n", f->name, "vs full attention", e);
                CHECK(e > 1e-2);
            }
            free(full);
        }
    next:
        free(want);
        free(got);
    }
}

/* Prefill, then the greedy tokens of HF fed one at a time: each step's logits against greedy_logits. */
static void test_greedy_step_logits(void) {
    for (int k = 0; k < 3; k++) {
        fixture *f = &g_fx[k];
        size_t n_seq = 0;
        float *want = mt_load_f32(f->exp, "greedy_logits", NULL);
        int32_t *seq = mt_load_i32(f->exp, "greedy_sequences", &n_seq);
        float *got = malloc(sizeof(float) * (size_t)(f->n_new * f->V));
        CHECK(want && seq && got && (int64_t)n_seq == f->S + f->n_new);
        if (want && seq && got) {
            const accel_lm_step pre = {.tokens = f->ids, .n_tokens = f->S, .pos = 0};
            CHECK(f->m->family->lm_start(f->s, 1, f->S + f->n_new) == ACCEL_OK);
            CHECK(f->m->family->lm_forward(f->s, &pre, got) == ACCEL_OK);
            for (int64_t t = 1; t < f->n_new; t++) {
                const accel_lm_step one = {.tokens = seq + f->S + t - 1, .n_tokens = 1, .pos = f->S + t - 1};
                CHECK(f->m->family->lm_forward(f->s, &one, got + t * f->V) == ACCEL_OK);
            }
            check_rel(f->name, "greedy step logits (KV cache)", got, want, (size_t)(f->n_new * f->V));
            /* rewinding the cache (pos < filled) forgets the later rows: the same step gives the same logits */
            const int64_t t = f->n_new / 2;
            const accel_lm_step again = {.tokens = seq + f->S + t - 1, .n_tokens = 1, .pos = f->S + t - 1};
            CHECK(f->m->family->lm_forward(f->s, &again, got) == ACCEL_OK);
            check_rel(f->name, "step after rewinding the cache", got, want + t * f->V, (size_t)f->V);
            /* a prompt prefilled in two chunks (the second attends to the cached first) = one prefill */
            float *full = mt_load_f32(f->exp, "prefill_logits", NULL);
            float *chunked = malloc(sizeof(float) * (size_t)(f->S * f->V));
            const int64_t h = f->S / 2;
            const accel_lm_step c1 = {.tokens = f->ids, .n_tokens = h, .pos = 0, .all_logits = true};
            const accel_lm_step c2 = {.tokens = f->ids + h, .n_tokens = f->S - h, .pos = h, .all_logits = true};
            CHECK(full && chunked && f->m->family->lm_start(f->s, 1, f->S) == ACCEL_OK);
            CHECK(chunked && f->m->family->lm_forward(f->s, &c1, chunked) == ACCEL_OK);
            CHECK(chunked && f->m->family->lm_forward(f->s, &c2, chunked + h * f->V) == ACCEL_OK);
            if (full && chunked) check_rel(f->name, "prefill in two chunks", chunked, full, (size_t)(f->S * f->V));
            free(full);
            free(chunked);
        }
        free(want);
        free(seq);
        free(got);
    }
}

static void test_greedy_tokens(void) {
    for (int k = 0; k < 3; k++) {
        fixture *f = &g_fx[k];
        size_t n_seq = 0;
        int32_t *seq = mt_load_i32(f->exp, "greedy_sequences", &n_seq);
        const accel_generate_params p = greedy_params(f, (int)f->n_new);
        int32_t *out = malloc(sizeof(int32_t) * (size_t)f->n_new);
        int64_t n_out = 0;
        const int32_t *prompts[1] = {f->ids};
        const int64_t lens[1] = {f->S};
        char *text = NULL;
        CHECK(seq && out);
        if (seq && out) {
            CHECK(lm_generate_tokens(f->s, prompts, lens, 1, &p, out, &n_out, &text) == ACCEL_OK);
            int same = 0;
            for (int64_t t = 0; t < f->n_new && t < (int64_t)n_seq - f->S; t++) same += out[t] == seq[f->S + t];
            printf("     %-8s %lld greedy tokens, %d identical to HF\n", f->name, (long long)f->n_new, same);
            CHECK_INT_EQ(same, f->n_new);
            CHECK_STR_EQ(text, json_str(f, "greedy_text"));
        }
        free(text);
        free(seq);
        free(out);
        /* the public call on the prompt text */
        const char *prompt = json_str(f, "prompt");
        char *outs[1] = {NULL};
        accel_generate_params gp = accel_generate_default_params();
        gp.max_new_tokens = (int)f->n_new;
        CHECK(accel_generate_text(f->s, &prompt, 1, &gp, outs) == ACCEL_OK);
        CHECK_STR_EQ(outs[0], json_str(f, "greedy_text"));
        accel_free(outs[0]);
    }
}

/* The unpadded rows of the fixture's left-padded batch. */
static void batch_rows(const fixture *f, const int32_t **rows, int64_t *lens) {
    for (int64_t b = 0; b < f->B; b++) {
        int64_t pad = 0;
        while (pad < f->BS && f->bmask[b * f->BS + pad] == 0) pad++;
        rows[b] = f->bids + b * f->BS + pad;
        lens[b] = f->BS - pad;
    }
}

static void test_batch(void) {
    for (int k = 0; k < 3; k++) {
        fixture *f = &g_fx[k];
        const int64_t B = f->B, BS = f->BS, V = f->V, N = f->n_new;
        size_t n_seq = 0;
        float *want_pre = mt_load_f32(f->exp, "batch_prefill_logits", NULL);
        float *want_steps = mt_load_f32(f->exp, "batch_greedy_logits", NULL);
        int32_t *seq = mt_load_i32(f->exp, "batch_greedy_sequences", &n_seq);
        float *got = malloc(sizeof(float) * (size_t)(B * BS * V));
        float *got_steps = malloc(sizeof(float) * (size_t)(B * N * V)), *step_logits = malloc(sizeof(float) * (size_t)(B * V));
        int32_t *tok = malloc(sizeof(int32_t) * (size_t)B), *pos = malloc(sizeof(int32_t) * (size_t)B);
        CHECK(want_pre && want_steps && seq && got && got_steps && step_logits && tok && pos &&
              (int64_t)n_seq == B * (BS + N));
        if (!(want_pre && want_steps && seq && got && got_steps && step_logits && tok && pos)) goto done;
        /* prefill logits at the real positions (padding rows are don't-care) */
        const accel_lm_step pre = {.tokens = f->bids, .n_tokens = BS, .pos = 0, .positions = f->bpos,
                                   .mask = f->bmask, .all_logits = true};
        CHECK(f->m->family->lm_start(f->s, (int)B, BS + N) == ACCEL_OK);
        CHECK(f->m->family->lm_forward(f->s, &pre, got) == ACCEL_OK);
        double worst = 0;
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < BS; j++)
                if (f->bmask[b * BS + j]) {
                    const double e = mt_rel_err(got + (b * BS + j) * V, want_pre + (b * BS + j) * V, (size_t)V);
                    worst = e > worst ? e : worst;
                }
        printf("     %-8s %-40s rel err %.3g\n", f->name, "batch prefill logits (real positions)", worst);
        CHECK(worst <= REL_TOL);
        /* decode steps fed HF's batch tokens: positions continue from each row's count, as HF's */
        for (int64_t b = 0; b < B; b++) memcpy(got_steps + (b * N) * V, got + (b * BS + BS - 1) * V, sizeof(float) * (size_t)V);
        for (int64_t t = 1; t < N; t++) {
            for (int64_t b = 0; b < B; b++) {
                tok[b] = seq[b * (BS + N) + BS + t - 1];
                pos[b] = f->bpos[b * BS + BS - 1] + (int32_t)t;
            }
            const accel_lm_step one = {.tokens = tok, .n_tokens = 1, .pos = BS + t - 1, .positions = pos};
            CHECK(f->m->family->lm_forward(f->s, &one, step_logits) == ACCEL_OK);
            for (int64_t b = 0; b < B; b++)
                memcpy(got_steps + (b * N + t) * V, step_logits + b * V, sizeof(float) * (size_t)V);
        }
        check_rel(f->name, "batch greedy step logits", got_steps, want_steps, (size_t)(B * N * V));
        /* generation from the unpadded prompts: HF's ids, pad fill after EOS included */
        const int32_t *rows[8];
        int64_t lens[8], out_lens[8];
        char *texts[8] = {NULL};
        batch_rows(f, rows, lens);
        const accel_generate_params p = greedy_params(f, (int)N);
        int32_t *out = malloc(sizeof(int32_t) * (size_t)(B * N));
        CHECK(out && lm_generate_tokens(f->s, rows, lens, (int)B, &p, out, out_lens, texts) == ACCEL_OK);
        int same = 0;
        for (int64_t b = 0; out && b < B; b++)
            for (int64_t t = 0; t < N; t++) same += out[b * N + t] == seq[b * (BS + N) + BS + t];
        printf("     %-8s batch of %lld: %d of %lld tokens identical to HF\n", f->name, (long long)B, same,
               (long long)(B * N));
        CHECK_INT_EQ(same, B * N);
        const cJSON *bt = cJSON_GetObjectItemCaseSensitive(f->json, "batch_greedy_text");
        for (int64_t b = 0; b < B; b++) {
            const cJSON *w = cJSON_GetArrayItem(bt, (int)b);
            CHECK_STR_EQ(texts[b], cJSON_IsString(w) ? w->valuestring : NULL);
            free(texts[b]);
        }
        free(out);
    done:
        free(want_pre);
        free(want_steps);
        free(seq);
        free(got);
        free(got_steps);
        free(step_logits);
        free(tok);
        free(pos);
    }
}

/* ---- RoPE scaling ------------------------------------------------------------------------------------------------ */

/* Loads a copy of the llama_rope model with config.json key `key` set to `json` (and `key2` to `json2`). */
static accel_model *load_with(const char *tag, const char *key, const char *json, const char *key2, const char *json2,
                              char **dir_out) {
    char src[1024];
    mt_fixture(src, sizeof src, "llama_rope", "model");
    char *dir = mt_tempdir(tag);
    accel_model *m = NULL;
    if (dir && mt_copy_dir(src, dir) && mt_config_set(dir, key, json) && (!key2 || mt_config_set(dir, key2, json2)) &&
        accel_model_load(dir, NULL, &m) != ACCEL_OK)
        m = NULL;
    *dir_out = dir;
    return m;
}

static double max_rel_elem(const float *got, const float *want, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - want[i]) / (fabs((double)want[i]) + 1e-30);
        worst = e > worst ? e : worst;
    }
    return worst;
}

/* Prefill logits, greedy tokens and every step's logits of one RoPE case against expected tensors "<name>.*". */
static void rope_case_parity(accel_model *m, accel_st *exp, const char *name, const int32_t *ids, int64_t S, int64_t N,
                             const char *label) {
    accel_session *s = NULL;
    CHECK(accel_session_new(m, NULL, &s) == ACCEL_OK);
    if (!s) return;
    const int64_t V = m->family->vocab_size(m);
    char key[96];
    snprintf(key, sizeof key, "%s.prefill_logits", name);
    float *want = mt_load_f32(exp, key, NULL);
    snprintf(key, sizeof key, "%s.greedy_logits", name);
    float *want_steps = mt_load_f32(exp, key, NULL);
    snprintf(key, sizeof key, "%s.greedy_sequences", name);
    int32_t *seq = mt_load_i32(exp, key, NULL);
    float *got = malloc(sizeof(float) * (size_t)(S * V)), *steps = malloc(sizeof(float) * (size_t)(N * V));
    CHECK(want && want_steps && seq && got && steps);
    if (want && want_steps && seq && got && steps) {
        const accel_lm_step pre = {.tokens = ids, .n_tokens = S, .pos = 0, .all_logits = true};
        CHECK(m->family->lm_start(s, 1, S + N) == ACCEL_OK && m->family->lm_forward(s, &pre, got) == ACCEL_OK);
        char what[96];
        snprintf(what, sizeof what, "%s prefill logits", label);
        check_rel("rope", what, got, want, (size_t)(S * V));
        /* greedy generation (EOS kept out as in the fixture), then the step logits with HF's tokens fed back */
        accel_generate_params in = accel_generate_default_params(), p;
        in.max_new_tokens = (int)N;
        in.min_new_tokens = (int)N;
        in.do_sample = 0;
        in.n_ctx = S + N; /* past max_position_embeddings (16), as the fixture runs HF */
        CHECK(lm_resolve_params(m, &in, S, &p) == ACCEL_OK);
        int32_t out[64];
        int64_t n_out = 0;
        CHECK(lm_generate_tokens(s, &ids, &S, 1, &p, out, &n_out, NULL) == ACCEL_OK);
        int same = 0;
        for (int64_t t = 0; t < N; t++) same += out[t] == seq[S + t];
        CHECK_INT_EQ(same, N);
        CHECK(m->family->lm_start(s, 1, S + N) == ACCEL_OK);
        const accel_lm_step pre_last = {.tokens = ids, .n_tokens = S, .pos = 0};
        CHECK(m->family->lm_forward(s, &pre_last, steps) == ACCEL_OK);
        for (int64_t t = 1; t < N; t++) {
            const accel_lm_step one = {.tokens = seq + S + t - 1, .n_tokens = 1, .pos = S + t - 1};
            CHECK(m->family->lm_forward(s, &one, steps + t * V) == ACCEL_OK);
        }
        snprintf(what, sizeof what, "%s %lld greedy steps (%d/%lld ids)", label, (long long)N, same, (long long)N);
        check_rel("rope", what, steps, want_steps, (size_t)(N * V));
    }
    free(want);
    free(want_steps);
    free(seq);
    free(got);
    free(steps);
    accel_session_free(s);
}

static void test_rope_scaling(void) {
    char exp_dir[1024], path[1200];
    mt_fixture(exp_dir, sizeof exp_dir, "llama_rope", "expected");
    cJSON *json = NULL;
    accel_st *exp = NULL;
    snprintf(path, sizeof path, "%s/expected.json", exp_dir);
    CHECK(accel_json_parse_file(path, 0, &json) == ACCEL_OK);
    snprintf(path, sizeof path, "%s/expected.safetensors", exp_dir);
    CHECK(accel_st_open(path, &exp) == ACCEL_OK);
    if (!json || !exp) goto done;
    size_t n_ids = 0;
    int32_t *ids = mt_load_i32(exp, "input_ids", &n_ids);
    const int64_t S = (int64_t)n_ids, N = (int64_t)cJSON_GetObjectItemCaseSensitive(json, "max_new_tokens")->valuedouble;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(json, "cases");
    int n_cases = 0;
    for (const cJSON *c = cases ? cases->child : NULL; c && ids; c = c->next, n_cases++) {
        char *rp = cJSON_PrintUnformatted(c), *dir = NULL;
        accel_model *m = load_with("rope", "rope_parameters", rp, NULL, NULL, &dir);
        CHECK(m != NULL);
        if (m) {
            /* inv_freq and the cos/sin scale against HF's rotary module */
            const accel_hf_hparams *hp = &m->hp;
            dlm_rope r;
            CHECK(dlm_rope_read(accel_hf_dir_config(m->dir), hp->head_dim, hp->max_position_embeddings, &r) == ACCEL_OK);
            float inv[64], scale = 0;
            char key[96];
            size_t n = 0;
            snprintf(key, sizeof key, "%s.inv_freq", c->string);
            float *want = mt_load_f32(exp, key, &n);
            snprintf(key, sizeof key, "%s.attention_scaling", c->string);
            float *want_scale = mt_load_f32(exp, key, NULL);
            dlm_rope_inv_freq(&r, hp->max_position_embeddings, inv, &scale);
            CHECK(want && want_scale && (int64_t)n == r.dim / 2);
            if (want && want_scale) {
                const double e = max_rel_elem(inv, want, n);
                printf("     rope     %-12s inv_freq max rel err %.2g, scaling %.7f (HF %.7f)\n", c->string, e, scale,
                       want_scale[0]);
                CHECK(e <= 2e-7);
                CHECK(fabs(scale - want_scale[0]) <= 1e-6);
            }
            free(want);
            free(want_scale);
            if (r.type == DLM_ROPE_DYNAMIC) { /* the prefill length rescales the base */
                snprintf(key, sizeof key, "%s.inv_freq_prefill", c->string);
                want = mt_load_f32(exp, key, &n);
                dlm_rope_inv_freq(&r, S, inv, &scale);
                CHECK(want && max_rel_elem(inv, want, n) <= 2e-7);
                free(want);
            }
            rope_case_parity(m, exp, c->string, ids, S, N, c->string);
        }
        accel_model_free(m);
        mt_rm_rf(dir);
        free(dir);
        free(rp);
    }
    CHECK_INT_EQ(n_cases, 5);
    /* the legacy spelling (rope_scaling + top-level rope_theta, as older config.json files have it) */
    char *dir = NULL;
    accel_model *m = load_with("rope", "rope_parameters", NULL, "rope_scaling", "{\"type\": \"linear\", \"factor\": 4.0}",
                               &dir);
    CHECK(m != NULL);
    if (m && ids) rope_case_parity(m, exp, "linear", ids, S, N, "legacy linear");
    accel_model_free(m);
    mt_rm_rf(dir);
    free(dir);
    /* what is not implemented, or broken, says so */
    static const struct {
        const char *json, *word;
        accel_status st;
    } bad[] = {
        {"{\"rope_type\": \"longrope\", \"short_factor\": [1], \"long_factor\": [1]}", "longrope", ACCEL_ERR_UNSUPPORTED},
        {"{\"rope_type\": \"llama3\", \"factor\": 8.0}", "low_freq_factor", ACCEL_ERR_MODEL_FORMAT},
        {"{\"rope_type\": \"linear\"}", "factor", ACCEL_ERR_MODEL_FORMAT},
        {"{\"rope_type\": \"linear\", \"factor\": -2}", "factor", ACCEL_ERR_MODEL_FORMAT},
        {"{\"rope_type\": \"default\", \"rope_theta\": \"big\"}", "rope_theta", ACCEL_ERR_MODEL_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = load_with("rope", "rope_parameters", bad[i].json, NULL, NULL, &dir);
        CHECK(m == NULL);
        accel_model *m2 = NULL;
        const accel_status st = accel_model_load(dir, NULL, &m2);
        CHECK(st == bad[i].st && strstr(accel_last_error(), bad[i].word));
        if (st != bad[i].st || !strstr(accel_last_error(), bad[i].word))
            fprintf(stderr, "  rope case %zu: %s: %s\n", i, accel_status_name(st), accel_last_error());
        accel_model_free(m);
        accel_model_free(m2);
        mt_rm_rf(dir);
        free(dir);
    }
    free(ids);
done:
    cJSON_Delete(json);
    accel_st_close(exp);
}

/* ---- sampling, streaming, stop strings ------------------------------------------------------------------------- */

static void test_seeded_sampling(void) {
    fixture *f = &g_fx[0];
    const int N = 32;
    accel_generate_params in = accel_generate_default_params(), p;
    in.max_new_tokens = N;
    in.min_new_tokens = N;
    in.do_sample = 1;
    in.temperature = 1.0f;
    in.top_k = 0;
    int32_t out[3][3 * 32];
    int64_t lens[3][3];
    const int32_t *rows[3];
    int64_t rl[3];
    batch_rows(f, rows, rl);
    const int64_t seeds[3] = {42, 42, 7};
    for (int r = 0; r < 3; r++) {
        in.seed = seeds[r];
        CHECK(lm_resolve_params(f->m, &in, f->BS, &p) == ACCEL_OK);
        CHECK(lm_generate_tokens(f->s, rows, rl, 3, &p, out[r], lens[r], NULL) == ACCEL_OK);
    }
    int same = 0, same_other = 0;
    for (int i = 0; i < 3 * N; i++) {
        same += out[0][i] == out[1][i];
        same_other += out[0][i] == out[2][i];
    }
    printf("     seed 42 twice: %d/%d ids equal; seed 7: %d/%d equal\n", same, 3 * N, same_other, 3 * N);
    CHECK_INT_EQ(same, 3 * N);
    CHECK(same_other < 3 * N / 2);
    /* sampled ids differ from greedy ones somewhere (the distribution is wide enough on a random model) */
    const accel_generate_params g = greedy_params(f, N);
    int32_t greedy[3 * 32];
    int64_t gl[3];
    CHECK(lm_generate_tokens(f->s, rows, rl, 3, &g, greedy, gl, NULL) == ACCEL_OK);
    CHECK(memcmp(greedy, out[0], sizeof greedy) != 0);
    /* a sequence's draws do not depend on its batch neighbours (one PRNG stream per sequence) */
    int32_t alone[32];
    int64_t al = 0;
    in.seed = 42;
    CHECK(lm_resolve_params(f->m, &in, f->BS, &p) == ACCEL_OK);
    CHECK(lm_generate_tokens(f->s, rows, rl, 1, &p, alone, &al, NULL) == ACCEL_OK);
    CHECK(memcmp(alone, out[0], sizeof alone) == 0);
}

/* Whether s[0..n) is a sequence of whole UTF-8 characters. */
static bool whole_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        const unsigned char c = (unsigned char)s[i];
        const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] >> 6) != 2) return false;
        i += len;
    }
    return true;
}

typedef struct stream_log {
    char text[8][4096];
    size_t len[8];
    int calls[8], finals[8], stop_at;
    bool bad_utf8, after_final;
} stream_log;

static bool on_piece(int seq, int32_t token, const char *text, size_t len, void *user) {
    stream_log *l = user;
    if (seq < 0 || seq >= 8) return false;
    if (l->finals[seq]) l->after_final = true;
    if (!whole_utf8(text, len)) l->bad_utf8 = true;
    if (l->len[seq] + len < sizeof l->text[seq]) {
        memcpy(l->text[seq] + l->len[seq], text, len);
        l->len[seq] += len;
        l->text[seq][l->len[seq]] = '\0';
    }
    if (token < 0) l->finals[seq]++;
    else l->calls[seq]++;
    return l->stop_at == 0 || l->calls[seq] < l->stop_at;
}

static void test_streaming(void) {
    for (int k = 0; k < 3; k++) {
        fixture *f = &g_fx[k];
        const cJSON *bp = cJSON_GetObjectItemCaseSensitive(f->json, "batch_prompts");
        const char *prompts[3];
        for (int i = 0; i < 3; i++) prompts[i] = cJSON_GetArrayItem(bp, i)->valuestring;
        stream_log *log = calloc(1, sizeof *log);
        accel_generate_params gp = accel_generate_default_params();
        gp.max_new_tokens = (int)f->n_new;
        gp.stream = on_piece;
        gp.stream_user_data = log;
        char *outs[3] = {NULL};
        CHECK(log && accel_generate_text(f->s, prompts, 3, &gp, outs) == ACCEL_OK);
        const cJSON *bt = cJSON_GetObjectItemCaseSensitive(f->json, "batch_greedy_text");
        for (int i = 0; log && i < 3; i++) {
            CHECK_STR_EQ(log->text[i], outs[i]);
            CHECK_STR_EQ(outs[i], cJSON_GetArrayItem(bt, i)->valuestring);
            CHECK_INT_EQ(log->finals[i], 1);
            accel_free(outs[i]);
        }
        CHECK(log && !log->bad_utf8 && !log->after_final);
        printf("     %-8s streamed 3 sequences (%d, %d, %d token calls), pieces whole UTF-8, concatenation = output\n",
               f->name, log ? log->calls[0] : 0, log ? log->calls[1] : 0, log ? log->calls[2] : 0);
        free(log);
    }
}

/* Token by token through the detokenizer: every piece whole UTF-8, their concatenation = the decode of all ids.
 * The texts need byte-fallback tokens (LLaMA / Mistral) or byte-level pieces of one character (Qwen2). */
static void test_detok_utf8(void) {
    static const char *const texts[] = {"Caf\xC3\xA9 \xE4\xBB\x8A\xE6\x97\xA5\xE3\x81\xAF \xF0\x9F\x98\x80 and",
                                        "\xF0\x9F\x98\x80\xF0\x9F\x98\x80 zygomorphic \xE2\x82\xAC 12"};
    for (int k = 0; k < 3; k++) {
        const accel_tokenizer *tok = g_fx[k].m->tok;
        int n_byte_tokens = 0;
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            accel_encoding *enc = NULL;
            CHECK(accel_tokenizer_encode(tok, texts[t], strlen(texts[t]), NULL, &enc) == ACCEL_OK);
            if (!enc) continue;
            const int32_t *ids = accel_encoding_ids(enc);
            const size_t n = accel_encoding_len(enc);
            char *want = NULL;
            CHECK(accel_tokenizer_decode(tok, ids, n, 1, &want, NULL) == ACCEL_OK);
            lm_detok d;
            lm_detok_init(&d, tok, NULL, 0, true);
            char got[512] = "";
            size_t got_len = 0;
            bool ok = true;
            int held = 0;
            for (size_t i = 0; i <= n; i++) {
                const char *piece;
                size_t len;
                accel_status st = i < n ? lm_detok_push(&d, ids[i], &piece, &len) : lm_detok_finish(&d, &piece, &len);
                ok = ok && st == ACCEL_OK && whole_utf8(piece, len) && got_len + len < sizeof got;
                if (!ok) break;
                if (i < n && len == 0) held++;
                memcpy(got + got_len, piece, len);
                got_len += len;
                const char *ts = i < n ? accel_tokenizer_id_to_token(tok, ids[i]) : NULL;
                n_byte_tokens += ts && strncmp(ts, "<0x", 3) == 0;
            }
            got[got_len] = '\0';
            CHECK(ok);
            CHECK_STR_EQ(got, want);
            CHECK_STR_EQ(d.text, want);
            CHECK(held > 0); /* some token completed no character on its own */
            lm_detok_free(&d);
            free(want);
            accel_encoding_free(enc);
        }
        printf("     %-8s detokenized token by token: whole characters only (%d byte-fallback tokens)\n",
               g_fx[k].name, n_byte_tokens);
        if (k != 1) CHECK(n_byte_tokens > 0); /* LLaMA / Mistral: the texts need byte fallback */
    }
    /* byte-fallback by hand: <0xE4> <0xBB> <0x8A> is one character; an invalid run reads as U+FFFD per byte */
    const accel_tokenizer *tok = g_fx[0].m->tok;
    const int32_t e4 = accel_tokenizer_token_to_id(tok, "<0xE4>", 6), bb = accel_tokenizer_token_to_id(tok, "<0xBB>", 6),
                  x8a = accel_tokenizer_token_to_id(tok, "<0x8A>", 6), tab = accel_tokenizer_token_to_id(tok, "<0x09>", 6);
    CHECK(e4 >= 0 && bb >= 0 && x8a >= 0 && tab >= 0);
    lm_detok d;
    lm_detok_init(&d, tok, NULL, 0, true);
    const char *piece;
    size_t len;
    CHECK(lm_detok_push(&d, e4, &piece, &len) == ACCEL_OK && len == 0);
    CHECK(lm_detok_push(&d, bb, &piece, &len) == ACCEL_OK && len == 0);
    CHECK(lm_detok_push(&d, x8a, &piece, &len) == ACCEL_OK && len == 0); /* the run may still go on */
    CHECK(lm_detok_push(&d, tab, &piece, &len) == ACCEL_OK && len == 0);
    CHECK(lm_detok_push(&d, e4, &piece, &len) == ACCEL_OK && len == 0);
    CHECK(lm_detok_finish(&d, &piece, &len) == ACCEL_OK);
    const int32_t all[5] = {e4, bb, x8a, tab, e4};
    char *want = NULL;
    CHECK(accel_tokenizer_decode(tok, all, 5, 1, &want, NULL) == ACCEL_OK);
    CHECK_STR_EQ(d.text, want); /* the whole run is invalid: five U+FFFD, as HF's ByteFallback */
    printf("     llama    byte run <0xE4><0xBB><0x8A><0x09><0xE4> -> \"%s\"\n", d.text);
    lm_detok_free(&d);
    free(want);
}

static void test_stop_strings(void) {
    fixture *f = &g_fx[0];
    const char *prompt = json_str(f, "prompt"), *full = json_str(f, "greedy_text");
    /* cut before the first occurrence, in the output and in the stream; generation ends there — except for the
     * U+FFFD pair: those come from a run of byte-fallback tokens that stays open (undecided) until the last token */
    static const char *const stops[][2] = {{"chuck", NULL}, {"ee w", "zzz"}, {"\xEF\xBF\xBD\xEF\xBF\xBD", NULL}};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        const char *const *stop = stops[i];
        const int n_stop = stop[1] ? 2 : 1;
        const char *at = strstr(full, stop[0]);
        CHECK(at != NULL);
        if (!at) continue;
        stream_log *log = calloc(1, sizeof *log);
        accel_generate_params gp = accel_generate_default_params();
        gp.max_new_tokens = (int)f->n_new;
        gp.stop = stop;
        gp.n_stop = n_stop;
        gp.stream = on_piece;
        gp.stream_user_data = log;
        char *out = NULL;
        CHECK(log && accel_generate_text(f->s, &prompt, 1, &gp, &out) == ACCEL_OK);
        CHECK(out && strlen(out) == (size_t)(at - full) && strncmp(out, full, (size_t)(at - full)) == 0);
        CHECK(log && out && strcmp(log->text[0], out) == 0);
        accel_generate_stats stats;
        CHECK(accel_generate_last_stats(f->s, &stats) == ACCEL_OK);
        printf("     stop \"%s\": \"%s\" after %lld of %lld tokens\n", stop[0], out ? out : "?",
               (long long)stats.generated_tokens, (long long)f->n_new);
        CHECK(i == 2 || stats.generated_tokens < f->n_new);
        accel_free(out);
        free(log);
    }
    /* a stream that returns false ends its sequence there */
    stream_log *log = calloc(1, sizeof *log);
    log->stop_at = 5;
    accel_generate_params gp = accel_generate_default_params();
    gp.max_new_tokens = (int)f->n_new;
    gp.stream = on_piece;
    gp.stream_user_data = log;
    char *out = NULL;
    CHECK(accel_generate_text(f->s, &prompt, 1, &gp, &out) == ACCEL_OK);
    CHECK_INT_EQ(log->calls[0], 5);
    CHECK_INT_EQ(log->finals[0], 0);
    CHECK_STR_EQ(out, log->text[0]);
    accel_generate_stats stats;
    CHECK(accel_generate_last_stats(f->s, &stats) == ACCEL_OK && stats.generated_tokens == 5);
    accel_free(out);
    free(log);
}

/* ---- the decode step: one graph, no growth --------------------------------------------------------------------- */

static void test_step_graph_reuse(void) {
    fixture *f = &g_fx[1];
    const accel_generate_params p = greedy_params(f, (int)f->n_new);
    int32_t out[64];
    int64_t n_out = 0;
    const int32_t *prompts[1] = {f->ids};
    const int64_t lens[1] = {f->S};
    dlm_session_timing(f->s, NULL, true);
    CHECK(lm_generate_tokens(f->s, prompts, lens, 1, &p, out, &n_out, NULL) == ACCEL_OK);
    dlm_timing t;
    dlm_session_timing(f->s, &t, false);
    accel_generate_stats st;
    CHECK(accel_generate_last_stats(f->s, &st) == ACCEL_OK);
    printf("     qwen2    %lld decode steps: %lld graph builds, %lld placements; per step build %.1f us, alloc %.1f us, "
           "compute %.1f us; prefill %.2f ms\n",
           (long long)t.steps, (long long)t.graph_builds, (long long)t.graph_allocs, 1e6 * t.build_s / (double)t.steps,
           1e6 * t.alloc_s / (double)t.steps, 1e6 * t.compute_s / (double)t.steps, 1e3 * st.prefill_s);
    CHECK_INT_EQ(t.steps, f->n_new - 1);
    CHECK(t.graph_builds <= 1);  /* 0 when an earlier call of the same shape left it */
    CHECK_INT_EQ(t.graph_allocs, 1); /* placed once after the prefill */
    CHECK_INT_EQ(st.decode_steps, f->n_new - 1);
    CHECK_INT_EQ(st.generated_tokens, f->n_new);
    CHECK_INT_EQ(st.prompt_tokens, f->S);
}

/* No allocation per decode step: lm_forward steps after the first (which builds the step graph) allocate nothing,
 * and a whole greedy generation without text output allocates the same for 8 and for 32 new tokens. */
static void test_no_allocation_per_token(void) {
#ifdef COUNT_ALLOCS
    fixture *f = &g_fx[0];
    size_t n_seq = 0;
    int32_t *seq = mt_load_i32(f->exp, "greedy_sequences", &n_seq);
    float *logits = malloc(sizeof(float) * (size_t)f->V);
    CHECK(seq && logits);
    if (!seq || !logits) goto done;
    const accel_lm_step pre = {.tokens = f->ids, .n_tokens = f->S, .pos = 0};
    CHECK(f->m->family->lm_start(f->s, 1, f->S + f->n_new) == ACCEL_OK);
    CHECK(f->m->family->lm_forward(f->s, &pre, logits) == ACCEL_OK);
    const accel_lm_step first = {.tokens = seq + f->S, .n_tokens = 1, .pos = f->S};
    CHECK(f->m->family->lm_forward(f->s, &first, logits) == ACCEL_OK);
    const long before = atomic_load(&g_allocs);
    for (int64_t t = 1; t < f->n_new - 1; t++) {
        const accel_lm_step one = {.tokens = seq + f->S + t, .n_tokens = 1, .pos = f->S + t};
        CHECK(f->m->family->lm_forward(f->s, &one, logits) == ACCEL_OK);
    }
    const long steps = atomic_load(&g_allocs) - before;
    long per_call[3];
    const int news[3] = {32, 8, 32};
    for (int r = 0; r < 3; r++) {
        const accel_generate_params p = greedy_params(f, news[r]);
        int32_t out[32];
        int64_t n_out = 0;
        const int32_t *prompts[1] = {f->ids};
        const int64_t lens[1] = {f->S};
        const long b = atomic_load(&g_allocs);
        CHECK(lm_generate_tokens(f->s, prompts, lens, 1, &p, out, &n_out, NULL) == ACCEL_OK);
        per_call[r] = atomic_load(&g_allocs) - b;
    }
    printf("     llama    %lld decode steps: %ld allocations; generate 8 tokens: %ld, 32 tokens: %ld\n",
           (long long)(f->n_new - 2), steps, per_call[1], per_call[2]);
    CHECK_INT_EQ(steps, 0);
    CHECK_INT_EQ(per_call[1], per_call[2]);
done:
    free(seq);
    free(logits);
#else
    printf("     (allocation counting needs glibc without AddressSanitizer)\n");
#endif
}

static long resident_kb(void) {
    FILE *fp = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (fp) {
        if (fscanf(fp, "%ld %ld", &size, &res) != 2) res = 0;
        fclose(fp);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct rss_log {
    long at_warm, at_end, peak_after_warm;
    int calls;
} rss_log;

static bool on_token_rss(int seq, int32_t token, const char *text, size_t len, void *user) {
    rss_log *l = user;
    (void)seq;
    (void)text;
    (void)len;
    if (token < 0) return true;
    l->calls++;
    if (l->calls == 2000) l->at_warm = resident_kb();
    if (l->calls > 2000 && l->calls % 250 == 0) {
        const long r = resident_kb();
        l->peak_after_warm = r > l->peak_after_warm ? r : l->peak_after_warm;
    }
    l->at_end = resident_kb();
    return true;
}

/* 10,000 new tokens through a 256-token context: ~85 recycles. Resident memory after the warm-up (2,000 tokens:
 * every graph shape, scratch size and malloc arena has been met) must not grow. Slack: 256 KiB, for malloc's
 * arena noise (prefill graphs of slightly different sizes are built and freed at each recycle, and the arena may
 * keep a few freed pages resident); a per-token leak of even 32 bytes would show as 250 KiB. */
static void test_long_generation_memory(void) {
    fixture *f = &g_fx[0];
    const int N = 10000;
    accel_generate_params in = accel_generate_default_params(), p;
    in.max_new_tokens = N;
    in.min_new_tokens = N; /* no EOS: all 10,000 */
    in.do_sample = 0;
    rss_log log = {0};
    in.stream = on_token_rss;
    in.stream_user_data = &log;
    CHECK(lm_resolve_params(f->m, &in, f->S, &p) == ACCEL_OK);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)N);
    int64_t n_out = 0;
    const int32_t *prompts[1] = {f->ids};
    const int64_t lens[1] = {f->S};
    CHECK(out && lm_generate_tokens(f->s, prompts, lens, 1, &p, out, &n_out, NULL) == ACCEL_OK);
    accel_generate_stats st;
    CHECK(accel_generate_last_stats(f->s, &st) == ACCEL_OK);
    const long growth = (log.peak_after_warm > log.at_end ? log.peak_after_warm : log.at_end) - log.at_warm;
    printf("     llama    %lld tokens, context %lld, %lld recycles, %.2f s decode (%.0f tokens/s); resident %ld KiB "
           "at 2000 tokens, %ld KiB at the end, growth %ld KiB\n",
           (long long)n_out, (long long)p.n_ctx, (long long)st.context_recycles, st.decode_s,
           (double)st.generated_tokens / (st.decode_s + st.prefill_s), log.at_warm, log.at_end, growth);
    CHECK_INT_EQ(n_out, N);
    CHECK_INT_EQ(log.calls, N);
    CHECK(st.context_recycles >= N / (int)p.n_ctx);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer quarantines freed memory (up to 256 MiB) instead of reusing it, so resident memory grows
     * with every freed prefill graph; LeakSanitizer checks the leaks at exit instead */
    printf("     (resident-memory bound not checked under AddressSanitizer)\n");
#else
    CHECK(growth <= 256);
#endif
    free(out);
}

/* ---- bad input --------------------------------------------------------------------------------------------------- */

static void expect_generate_fails(fixture *f, const accel_generate_params *gp, accel_status want, const char *word) {
    const char *prompt = json_str(f, "prompt");
    char *out = (char *)"untouched";
    const accel_status st = accel_generate_text(f->s, &prompt, 1, gp, &out);
    CHECK(st == want);
    CHECK(out == NULL);
    CHECK(strstr(accel_last_error(), word) != NULL);
    if (st != want || !strstr(accel_last_error(), word))
        fprintf(stderr, "  wanted %s with '%s', got %s: %s\n", accel_status_name(want), word, accel_status_name(st),
                accel_last_error());
}

static void test_bad_input(void) {
    fixture *f = &g_fx[0];
    accel_generate_params gp = accel_generate_default_params();
    gp.n_ctx = 8; /* the 22-token prompt does not fit */
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "context");
    gp = accel_generate_default_params();
    gp.temperature = -1.0f;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "temperature");
    gp = accel_generate_default_params();
    gp.do_sample = 1;
    gp.top_p = 1.5f;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "top_p");
    gp = accel_generate_default_params();
    gp.min_p = 2.0f;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "min_p");
    gp = accel_generate_default_params();
    gp.top_k = -3;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "top_k");
    gp = accel_generate_default_params();
    gp.repetition_penalty = 0.0f;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "repetition_penalty");
    gp = accel_generate_default_params();
    gp.n_stop = 1;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "stop");
    static const char *const empty_stop[1] = {""};
    gp.stop = empty_stop;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "stop string 0");
    gp = accel_generate_default_params();
    gp.num_beams = 2;
    expect_generate_fails(f, &gp, ACCEL_ERR_UNSUPPORTED, "beam");
    gp = accel_generate_default_params();
    gp.seed = -7;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "seed");
    gp = accel_generate_default_params();
    gp.max_new_tokens = 0;
    expect_generate_fails(f, &gp, ACCEL_ERR_INVALID_ARG, "max_new_tokens");
    /* an empty prompt (Qwen2 adds no BOS: no tokens at all) */
    const char *empty = "";
    char *out = NULL;
    gp = accel_generate_default_params();
    CHECK(accel_generate_text(g_fx[1].s, &empty, 1, &gp, &out) == ACCEL_ERR_INVALID_ARG && out == NULL);
    /* the token-level calls check their inputs too */
    const accel_generate_params p = greedy_params(f, 4);
    int32_t ids[4];
    int64_t n_out;
    const int32_t bad_tok[2] = {1, 100000};
    const int32_t *prompts[1] = {bad_tok};
    const int64_t lens[1] = {2};
    CHECK(lm_generate_tokens(f->s, prompts, lens, 1, &p, ids, &n_out, NULL) == ACCEL_ERR_INVALID_ARG);
    const int64_t zero[1] = {0};
    CHECK(lm_generate_tokens(f->s, prompts, zero, 1, &p, ids, &n_out, NULL) == ACCEL_ERR_INVALID_ARG);
    /* the session hooks refuse misuse */
    accel_session *s = NULL;
    CHECK(accel_session_new(f->m, NULL, &s) == ACCEL_OK);
    float *logits = malloc(sizeof(float) * (size_t)(4 * f->V));
    const accel_lm_step one = {.tokens = f->ids, .n_tokens = 1, .pos = 0};
    CHECK(f->m->family->lm_forward(s, &one, logits) == ACCEL_ERR_INVALID_ARG); /* before lm_start */
    CHECK(f->m->family->lm_start(s, 0, 16) == ACCEL_ERR_INVALID_ARG);
    CHECK(f->m->family->lm_start(s, 1, 0) == ACCEL_ERR_INVALID_ARG);
    CHECK(f->m->family->lm_start(s, 1, 4) == ACCEL_OK);
    const accel_lm_step gap = {.tokens = f->ids, .n_tokens = 1, .pos = 2};
    CHECK(f->m->family->lm_forward(s, &gap, logits) == ACCEL_ERR_INVALID_ARG); /* past the filled rows */
    const accel_lm_step too_long = {.tokens = f->ids, .n_tokens = 5, .pos = 0};
    CHECK(f->m->family->lm_forward(s, &too_long, logits) == ACCEL_ERR_INVALID_ARG);
    const accel_lm_step oov = {.tokens = bad_tok + 1, .n_tokens = 1, .pos = 0};
    CHECK(f->m->family->lm_forward(s, &oov, logits) == ACCEL_ERR_INVALID_ARG);
    CHECK(f->m->family->lm_forward(s, &one, logits) == ACCEL_OK); /* and still works */
    free(logits);
    accel_session_free(s);
    /* stats of a session that is not a causal LM's, and of NULL */
    accel_generate_stats stats;
    CHECK(accel_generate_last_stats(NULL, &stats) == ACCEL_ERR_INVALID_ARG);
}

static void expect_load_fails(const char *family, const char *key, const char *json, const char *drop,
                              accel_status want, const char *word) {
    char src[1024];
    mt_fixture(src, sizeof src, family, "model");
    char *dir = mt_tempdir("llmbad");
    CHECK(dir && mt_copy_dir(src, dir));
    if (!dir) return;
    if (key) CHECK(mt_config_set(dir, key, json));
    if (drop) CHECK(mt_rewrite_checkpoint(src, dir, drop, NULL));
    accel_model *m = NULL;
    const accel_status st = accel_model_load(dir, NULL, &m);
    CHECK(st == want && m == NULL && strstr(accel_last_error(), word));
    if (st != want || !strstr(accel_last_error(), word))
        fprintf(stderr, "  %s %s: wanted %s with '%s', got %s: %s\n", family, key ? key : drop, accel_status_name(want),
                word, accel_status_name(st), accel_last_error());
    accel_model_free(m);
    mt_rm_rf(dir);
    free(dir);
}

static void test_broken_models(void) {
    expect_load_fails("llama", NULL, NULL, "lm_head.weight", ACCEL_ERR_MODEL_FORMAT, "lm_head.weight");
    expect_load_fails("llama", NULL, NULL, "model.layers.1.self_attn.k_proj.weight", ACCEL_ERR_MODEL_FORMAT, "k_proj");
    expect_load_fails("llama", "hidden_act", "\"swishy\"", NULL, ACCEL_ERR_UNSUPPORTED, "swishy");
    expect_load_fails("llama", "intermediate_size", NULL, NULL, ACCEL_ERR_MODEL_FORMAT, "intermediate_size");
    expect_load_fails("llama", "attention_bias", "true", NULL, ACCEL_ERR_MODEL_FORMAT, "q_proj.bias");
    expect_load_fails("qwen2", NULL, NULL, "model.layers.0.self_attn.v_proj.bias", ACCEL_ERR_MODEL_FORMAT, "v_proj.bias");
    expect_load_fails("mistral", "sliding_window", "-4", NULL, ACCEL_ERR_MODEL_FORMAT, "sliding_window");
    expect_load_fails("mistral", "head_dim", "16", NULL, ACCEL_ERR_MODEL_FORMAT, "shape");
    /* qwen2 ties lm_head to the embeddings: without tie_word_embeddings it needs lm_head.weight */
    expect_load_fails("qwen2", "tie_word_embeddings", "false", NULL, ACCEL_ERR_MODEL_FORMAT, "lm_head");
}

/* A copy of the qwen2 model whose chat_template.jinja is `tmpl`. */
static accel_model *qwen2_with_template(const char *tmpl, char **dir_out) {
    char src[1024], path[1200];
    mt_fixture(src, sizeof src, "qwen2", "model");
    char *dir = mt_tempdir("chat");
    accel_model *m = NULL;
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir ? dir : "");
    if (dir && mt_copy_dir(src, dir) && mt_write_file(path, tmpl) && accel_model_load(dir, NULL, &m) != ACCEL_OK)
        m = NULL;
    *dir_out = dir;
    return m;
}

static void test_chat_template(void) {
    /* Qwen2's ChatML template renders the fixture's conversation as HF did; the answer is HF's greedy text */
    fixture *f = &g_fx[1];
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(f->json, "chat_messages");
    accel_chat_message msg[4];
    int n = 0;
    for (const cJSON *m = msgs ? msgs->child : NULL; m && n < 4; m = m->next, n++)
        msg[n] = (accel_chat_message){cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring,
                                      cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring};
    char *prompt = NULL;
    CHECK(n == 1 && accel_chat_apply(f->m, msg, n, true, &prompt) == ACCEL_OK);
    CHECK_STR_EQ(prompt, json_str(f, "chat_prompt"));
    accel_generate_params gp = accel_generate_default_params();
    gp.max_new_tokens = (int)f->n_new;
    gp.add_special_tokens = 0;
    char *answer = NULL;
    CHECK(prompt && accel_generate_text(f->s, (const char *const *)&prompt, 1, &gp, &answer) == ACCEL_OK);
    CHECK_STR_EQ(answer, json_str(f, "greedy_text"));
    accel_free(answer);
    accel_free(prompt);
    /* without the generation prompt, with a system message of its own (the template's default is not added) */
    const accel_chat_message two[2] = {{"system", "Be brief."}, {"user", "Hi"}};
    CHECK(accel_chat_apply(f->m, two, 2, false, &prompt) == ACCEL_OK);
    CHECK_STR_EQ(prompt, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
    accel_free(prompt);
    /* the llama fixture has no chat template */
    char *out = (char *)"untouched";
    CHECK(accel_chat_apply(g_fx[0].m, two, 2, true, &out) == ACCEL_ERR_NOT_FOUND && out == NULL);
    CHECK(strstr(accel_last_error(), "chat template") != NULL);
    CHECK(accel_chat_apply(g_fx[0].m, two, 0, true, &out) == ACCEL_ERR_INVALID_ARG);
    const accel_chat_message nul[1] = {{"user", NULL}};
    CHECK(accel_chat_apply(f->m, nul, 1, true, &out) == ACCEL_ERR_INVALID_ARG);
    /* templates it cannot apply say why */
    static const struct {
        const char *tmpl, *word;
        accel_status st;
    } bad[] = {
        {"{% include 'other.jinja' %}", "include", ACCEL_ERR_UNSUPPORTED},
        {"{% for m in messages %}{{ m.content }", "syntax", ACCEL_ERR_MODEL_FORMAT},
        {"{{ raise_exception('only user turns') }}", "only user turns", ACCEL_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *dir = NULL;
        accel_model *m = qwen2_with_template(bad[i].tmpl, &dir);
        CHECK(m != NULL);
        if (m) {
            const accel_status st = accel_chat_apply(m, two, 2, true, &out);
            CHECK(st == bad[i].st && out == NULL && strstr(accel_last_error(), bad[i].word));
            if (st != bad[i].st || !strstr(accel_last_error(), bad[i].word))
                fprintf(stderr, "  template %zu: %s: %s\n", i, accel_status_name(st), accel_last_error());
        }
        accel_model_free(m);
        mt_rm_rf(dir);
        free(dir);
    }
}

int main(void) {
    bool ok = true;
    for (int k = 0; k < 3; k++) ok = fixture_open(&g_fx[k]) && ok;
    CHECK(ok);
    if (ok) {
        RUN(test_prefill_logits);
        RUN(test_greedy_step_logits);
        RUN(test_greedy_tokens);
        RUN(test_batch);
        RUN(test_rope_scaling);
        RUN(test_seeded_sampling);
        RUN(test_streaming);
        RUN(test_detok_utf8);
        RUN(test_stop_strings);
        RUN(test_step_graph_reuse);
        RUN(test_no_allocation_per_token);
        RUN(test_long_generation_memory);
        RUN(test_bad_input);
        RUN(test_broken_models);
        RUN(test_chat_template);
    }
    for (int k = 0; k < 3; k++) fixture_close(&g_fx[k]);
    return test_summary();
}
