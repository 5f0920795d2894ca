/* sampling.c — logits processors, warpers and the seeded PRNG of causal-LM generation (see sampling.h). */
#include "tasks/sampling.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG ------------------------------------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void smp_rng_seed(smp_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t smp_rng_next(smp_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double smp_rng_uniform(smp_rng *r) { return (double)(smp_rng_next(r) >> 11) * 0x1.0p-53; }

/* ---- parameters and scratch ---------------------------------------------------------------------------------- */

accel_status smp_check(const smp_params *p) {
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: temperature %g must be a finite number >= 0",
                               (double)p->temperature);
    if (p->top_k < 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: top_k %d is negative", p->top_k);
    if (!(p->top_p > 0 && p->top_p <= 1))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: top_p %g is not in (0, 1]", (double)p->top_p);
    if (!(p->min_p >= 0 && p->min_p <= 1))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: min_p %g is not in [0, 1]", (double)p->min_p);
    if (!(p->repetition_penalty > 0) || !isfinite(p->repetition_penalty))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: repetition_penalty %g must be a finite number > 0",
                               (double)p->repetition_penalty);
    if (!isfinite(p->presence_penalty))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: presence_penalty must be a finite number");
    return ACCEL_OK;
}

accel_status smp_scratch_init(smp_scratch *sc, int64_t V) {
    memset(sc, 0, sizeof *sc);
    if (V < 1 || V > ((int64_t)1 << 31)) return accel_set_error(ACCEL_ERR_INVALID_ARG, "sampling: vocabulary size");
    sc->V = V;
    sc->pairs = malloc(sizeof *sc->pairs * (size_t)V);
    sc->tmp = malloc(sizeof(float) * (size_t)V);
    sc->seen = calloc((size_t)V, 1);
    if (!sc->pairs || !sc->tmp || !sc->seen) {
        smp_scratch_free(sc);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    }
    return ACCEL_OK;
}

void smp_scratch_free(smp_scratch *sc) {
    free(sc->pairs);
    free(sc->tmp);
    free(sc->seen);
    memset(sc, 0, sizeof *sc);
}

/* ---- processors ------------------------------------------------------------------------------------------------ */

void smp_penalties(float *scores, int64_t V, const int32_t *ids, int64_t n, float repetition, float presence,
                   smp_scratch *sc) {
    if (repetition == 1.0f && presence == 0.0f) return;
    for (int64_t i = 0; i < n; i++) {
        const int32_t id = ids[i];
        if (id < 0 || id >= V || sc->seen[id]) continue;
        sc->seen[id] = 1;
        float x = scores[id];
        if (repetition != 1.0f) x = x < 0 ? x * repetition : x / repetition;
        scores[id] = x - presence;
    }
    for (int64_t i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < V) sc->seen[ids[i]] = 0;
}

void smp_temperature(float *scores, int64_t V, float t) {
    if (t == 1.0f) return;
    for (int64_t i = 0; i < V; i++) scores[i] /= t;
}

/* The k-th largest of a[0..n) (1-based), by quickselect on a (reordered). */
static float kth_largest(float *a, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        const float pivot = a[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] > pivot) i++;
            while (a[j] < pivot) j--;
            if (i <= j) {
                const float t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return a[want];
    }
    return a[want];
}

void smp_top_k(float *scores, int64_t V, int k, smp_scratch *sc) {
    if (k <= 0 || k >= V) return;
    memcpy(sc->tmp, scores, sizeof(float) * (size_t)V);
    const float kth = kth_largest(sc->tmp, V, k);
    for (int64_t i = 0; i < V; i++)
        if (scores[i] < kth) scores[i] = -INFINITY;
}

/* Ascending by score; ties by descending index (so the lowest index of a tie counts as the more likely). */
static int cmp_ascending(const void *a, const void *b) {
    const smp_pair *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return (x->index < y->index) - (x->index > y->index);
}

void smp_top_p(float *scores, int64_t V, float p, smp_scratch *sc) {
    if (p >= 1.0f) return;
    int64_t n = 0;
    float mx = -INFINITY;
    for (int64_t i = 0; i < V; i++)
        if (scores[i] > -INFINITY) {
            sc->pairs[n++] = (smp_pair){scores[i], (int32_t)i};
            mx = scores[i] > mx ? scores[i] : mx;
        }
    if (n <= 1) return;
    qsort(sc->pairs, (size_t)n, sizeof *sc->pairs, cmp_ascending);
    double total = 0;
    for (int64_t i = 0; i < n; i++) total += exp((double)sc->pairs[i].score - (double)mx);
    /* remove the ascending prefix whose cumulative mass is <= 1 - p; the last (most likely) token stays */
    double cum = 0;
    for (int64_t i = 0; i < n - 1; i++) {
        cum += exp((double)sc->pairs[i].score - (double)mx) / total;
        if (cum > 1.0 - (double)p) break;
        scores[sc->pairs[i].index] = -INFINITY;
    }
}

void smp_min_p(float *scores, int64_t V, float min_p) {
    if (min_p <= 0.0f) return;
    const int32_t top = smp_argmax(scores, V);
    const float mx = scores[top];
    if (!(mx > -INFINITY)) return;
    for (int64_t i = 0; i < V; i++)
        if (i != top && exp((double)scores[i] - (double)mx) < (double)min_p) scores[i] = -INFINITY;
}

int32_t smp_argmax(const float *scores, int64_t V) {
    int64_t best = 0;
    for (int64_t i = 1; i < V; i++)
        if (scores[i] > scores[best]) best = i;
    return (int32_t)best;
}

int32_t smp_draw(const float *scores, int64_t V, smp_rng *rng) {
    const int32_t top = smp_argmax(scores, V);
    const double mx = scores[top];
    if (!(mx > -INFINITY)) return top;
    double total = 0;
    for (int64_t i = 0; i < V; i++) total += exp((double)scores[i] - mx);
    const double target = smp_rng_uniform(rng) * total;
    double cum = 0;
    int32_t last = top;
    for (int64_t i = 0; i < V; i++) {
        if (!(scores[i] > -INFINITY)) continue;
        cum += exp((double)scores[i] - mx);
        last = (int32_t)i;
        if (cum > target) return (int32_t)i;
    }
    return last; /* rounding left target at the very end */
}

int32_t smp_next_token(float *scores, int64_t V, const smp_params *p, const int32_t *history, int64_t n_history,
                       smp_rng *rng, smp_scratch *sc) {
    smp_penalties(scores, V, history, n_history, p->repetition_penalty, p->presence_penalty, sc);
    if (!p->do_sample || p->temperature == 0.0f) return smp_argmax(scores, V);
    smp_temperature(scores, V, p->temperature);
    smp_top_k(scores, V, p->top_k, sc);
    smp_top_p(scores, V, p->top_p, sc);
    smp_min_p(scores, V, p->min_p);
    return smp_draw(scores, V, rng);
}
