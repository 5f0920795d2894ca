/* test_sampling.c — the next-token selection of causal-LM generation (src/tasks/sampling.c) on known
 * distributions: HF's repetition penalty, the presence penalty, temperature, top-k (ties kept), top-p (the most
 * likely token always kept), min-p, argmax ties, parameter checks, and the documented PRNG (xoshiro256** seeded by
 * splitmix64: reference outputs, determinism, and draws that follow the softmax). */
#include "tasks/sampling.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

static bool removed(float x) { return isinf(x) && x < 0; }

static void test_prng_reference(void) {
    /* splitmix64 from seed 0 gives 0xE220A8397B1DCDAF first (the published test value); xoshiro256** from state
     * {1, 2, 3, 4} gives 11520, 0, 1509978240 (reference implementation) */
    smp_rng r;
    smp_rng_seed(&r, 0);
    CHECK(r.s[0] == 0xE220A8397B1DCDAFull);
    CHECK(r.s[1] == 0x6E789E6AA1B965F4ull);
    CHECK(smp_rng_next(&r) == 0x99EC5F36CB75F2B4ull);
    CHECK(smp_rng_next(&r) == 0xBF6E1F784956452Aull);
    smp_rng k = {{1, 2, 3, 4}};
    CHECK(smp_rng_next(&k) == 11520u);
    CHECK(smp_rng_next(&k) == 0u);
    CHECK(smp_rng_next(&k) == 1509978240u);
}

static void test_prng_determinism(void) {
    smp_rng a, b, c;
    smp_rng_seed(&a, 42);
    smp_rng_seed(&b, 42);
    smp_rng_seed(&c, 43);
    int same_ab = 0, same_ac = 0;
    double sum = 0;
    bool in_range = true;
    for (int i = 0; i < 100000; i++) {
        const double ua = smp_rng_uniform(&a), ub = smp_rng_uniform(&b), uc = smp_rng_uniform(&c);
        same_ab += ua == ub;
        same_ac += ua == uc;
        in_range = in_range && ua >= 0 && ua < 1;
        sum += ua;
    }
    CHECK_INT_EQ(same_ab, 100000);
    CHECK(same_ac < 10);
    CHECK(in_range);
    CHECK(fabs(sum / 100000 - 0.5) < 0.005);
}

static void test_penalties(void) {
    smp_scratch sc;
    CHECK(smp_scratch_init(&sc, 4) == ACCEL_OK);
    float s[4] = {2.0f, -2.0f, 1.0f, 0.5f};
    const int32_t ids[4] = {0, 1, 1, 99}; /* id 1 twice: penalized once; 99 outside the vocabulary: ignored */
    smp_penalties(s, 4, ids, 4, 2.0f, 0.0f, &sc);
    CHECK(s[0] == 1.0f && s[1] == -4.0f && s[2] == 1.0f && s[3] == 0.5f);
    float p[4] = {2.0f, -2.0f, 1.0f, 0.5f};
    smp_penalties(p, 4, ids, 4, 1.0f, 0.5f, &sc);
    CHECK(p[0] == 1.5f && p[1] == -2.5f && p[2] == 1.0f && p[3] == 0.5f);
    /* the scratch is clean afterwards: a second call penalizes again */
    smp_penalties(p, 4, ids, 1, 2.0f, 0.0f, &sc);
    CHECK(p[0] == 0.75f);
    for (int i = 0; i < 4; i++) CHECK(sc.seen[i] == 0);
    smp_scratch_free(&sc);
}

static void test_temperature_and_argmax(void) {
    float s[4] = {1.0f, 4.0f, 4.0f, -2.0f};
    smp_temperature(s, 4, 2.0f);
    CHECK(s[0] == 0.5f && s[1] == 2.0f && s[3] == -1.0f);
    CHECK_INT_EQ(smp_argmax(s, 4), 1); /* first of ties */
}

static void test_top_k(void) {
    smp_scratch sc;
    CHECK(smp_scratch_init(&sc, 5) == ACCEL_OK);
    float a[5] = {1, 5, 3, 5, 2};
    smp_top_k(a, 5, 2, &sc);
    CHECK(removed(a[0]) && a[1] == 5 && removed(a[2]) && a[3] == 5 && removed(a[4]));
    float b[5] = {1, 5, 3, 5, 2};
    smp_top_k(b, 5, 3, &sc);
    CHECK(removed(b[0]) && b[1] == 5 && b[2] == 3 && b[3] == 5 && removed(b[4]));
    float c[5] = {1, 2, 2, 2, 0}; /* ties at the k-th value stay, as HF's `scores < kth` */
    smp_top_k(c, 5, 2, &sc);
    CHECK(removed(c[0]) && c[1] == 2 && c[2] == 2 && c[3] == 2 && removed(c[4]));
    float d[5] = {1, 5, 3, 5, 2};
    smp_top_k(d, 5, 5, &sc); /* k >= V: nothing removed */
    smp_top_k(d, 5, 0, &sc); /* off */
    for (int i = 0; i < 5; i++) CHECK(!removed(d[i]));
    smp_scratch_free(&sc);
}

/* log-probabilities of {0.5, 0.3, 0.15, 0.05} in a shuffled order */
static void probs4(float *s) {
    s[0] = logf(0.15f);
    s[1] = logf(0.5f);
    s[2] = logf(0.05f);
    s[3] = logf(0.3f);
}

static void test_top_p(void) {
    smp_scratch sc;
    CHECK(smp_scratch_init(&sc, 4) == ACCEL_OK);
    float s[4];
    probs4(s);
    smp_top_p(s, 4, 0.75f, &sc); /* ascending cumulative 0.05, 0.2, 0.5, 1: <= 0.25 removed */
    CHECK(removed(s[0]) && !removed(s[1]) && removed(s[2]) && !removed(s[3]));
    probs4(s);
    smp_top_p(s, 4, 0.9f, &sc); /* only 0.05 (<= 0.1) goes */
    CHECK(!removed(s[0]) && !removed(s[1]) && removed(s[2]) && !removed(s[3]));
    probs4(s);
    smp_top_p(s, 4, 0.01f, &sc); /* the most likely token always stays */
    CHECK(removed(s[0]) && !removed(s[1]) && removed(s[2]) && removed(s[3]));
    probs4(s);
    smp_top_p(s, 4, 1.0f, &sc); /* off */
    for (int i = 0; i < 4; i++) CHECK(!removed(s[i]));
    smp_scratch_free(&sc);
}

static void test_min_p(void) {
    float s[4];
    probs4(s);
    smp_min_p(s, 4, 0.2f); /* threshold 0.2 * 0.5 = 0.1: only 0.05 goes */
    CHECK(!removed(s[0]) && !removed(s[1]) && removed(s[2]) && !removed(s[3]));
    probs4(s);
    smp_min_p(s, 4, 0.5f); /* threshold 0.25 */
    CHECK(removed(s[0]) && !removed(s[1]) && removed(s[2]) && !removed(s[3]));
    probs4(s);
    smp_min_p(s, 4, 1.0f); /* only the top token */
    CHECK(removed(s[0]) && !removed(s[1]) && removed(s[2]) && removed(s[3]));
}

static void test_draw_follows_softmax(void) {
    const float s[4] = {logf(0.1f), logf(0.2f), -INFINITY, logf(0.7f)};
    smp_rng r;
    smp_rng_seed(&r, 7);
    int count[4] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) count[smp_draw(s, 4, &r)]++;
    printf("     draws: %.4f %.4f %.4f %.4f (want 0.1 0.2 0 0.7)\n", count[0] / (double)n, count[1] / (double)n,
           count[2] / (double)n, count[3] / (double)n);
    CHECK(fabs(count[0] / (double)n - 0.1) < 0.005);
    CHECK(fabs(count[1] / (double)n - 0.2) < 0.005);
    CHECK_INT_EQ(count[2], 0);
    CHECK(fabs(count[3] / (double)n - 0.7) < 0.005);
}

static void test_next_token(void) {
    smp_scratch sc;
    CHECK(smp_scratch_init(&sc, 4) == ACCEL_OK);
    smp_rng r;
    smp_rng_seed(&r, 1);
    smp_params p = {.do_sample = false, .temperature = 1, .top_k = 0, .top_p = 1, .min_p = 0,
                    .repetition_penalty = 3.0f, .presence_penalty = 0};
    float s[4] = {3.0f, 2.0f, 0.5f, 1.0f};
    const int32_t hist[1] = {0};
    CHECK_INT_EQ(smp_next_token(s, 4, &p, hist, 1, &r, &sc), 1); /* 3 / 3 = 1 < 2 */
    /* sampling with top_k 1 is greedy whatever the seed */
    p = (smp_params){.do_sample = true, .temperature = 0.7f, .top_k = 1, .top_p = 1, .min_p = 0,
                     .repetition_penalty = 1, .presence_penalty = 0};
    for (int i = 0; i < 20; i++) {
        float t[4] = {0.1f, 0.3f, 2.0f, 1.9f};
        CHECK_INT_EQ(smp_next_token(t, 4, &p, NULL, 0, &r, &sc), 2);
    }
    /* temperature 0 with do_sample means greedy */
    p.top_k = 0;
    p.temperature = 0;
    float t[4] = {0.1f, 0.3f, 2.0f, 1.9f};
    CHECK_INT_EQ(smp_next_token(t, 4, &p, NULL, 0, &r, &sc), 2);
    smp_scratch_free(&sc);
}

static void test_check(void) {
    const smp_params ok = {.do_sample = true, .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                           .repetition_penalty = 1.1f, .presence_penalty = 0.5f};
    CHECK(smp_check(&ok) == ACCEL_OK);
    smp_params p = ok;
    p.temperature = -0.5f;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "temperature"));
    p = ok;
    p.temperature = INFINITY;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG);
    p = ok;
    p.top_p = 1.5f;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "top_p"));
    p.top_p = 0.0f;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG);
    p = ok;
    p.min_p = -0.1f;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "min_p"));
    p = ok;
    p.top_k = -1;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "top_k"));
    p = ok;
    p.repetition_penalty = 0;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "repetition_penalty"));
    p = ok;
    p.presence_penalty = NAN;
    CHECK(smp_check(&p) == ACCEL_ERR_INVALID_ARG && strstr(accel_last_error(), "presence_penalty"));
}

int main(void) {
    RUN(test_prng_reference);
    RUN(test_prng_determinism);
    RUN(test_penalties);
    RUN(test_temperature_and_argmax);
    RUN(test_top_k);
    RUN(test_top_p);
    RUN(test_min_p);
    RUN(test_draw_follows_softmax);
    RUN(test_next_token);
    RUN(test_check);
    return test_summary();
}
