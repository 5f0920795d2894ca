/* ref: rotary position embedding and scaled-dot-product attention (GQA, causal with KV-cache offset, sliding
 * window, additive broadcast mask), exactly as specified in core/tensor.h. */
#include "backends/ref/ref_ops.h"

#include <math.h>
#include <stdlib.h>

/* ---- rope: x [B, S, H, D], pos [S] i32, inv_freq [n_rot/2] f32 or NULL ------------------------------------------ */
static accel_status ref_rope(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *pos = dst->src[1], *inv_freq = dst->src[2];
    const bool interleaved = dst->params[0] == ACCEL_ROPE_INTERLEAVED;
    const int64_t n_rot = dst->params[1], half = n_rot / 2;
    const double theta = accel_param_f32(dst, 2), freq_scale = accel_param_f32(dst, 3),
                 attn_factor = accel_param_f32(dst, 4);
    const int64_t B = x->shape[0], S = x->shape[1], H = x->shape[2], D = x->shape[3];
    const int64_t sxd = x->stride[3], sdd = dst->stride[3];

    for (int64_t b = 0; b < B; b++) {
        for (int64_t s = 0; s < S; s++) {
            const double p = (double)ref_load_i64(accel_tensor_ptr(pos) + s * pos->stride[0], pos->dtype);
            for (int64_t h = 0; h < H; h++) {
                const int64_t idx[4] = {b, s, h, 0};
                const int64_t xo = ref_offset(x, idx), dof = ref_offset(dst, idx);
                for (int64_t i = 0; i < half; i++) {
                    const double f = inv_freq ? ref_load_1d(inv_freq, i) : pow(theta, -2.0 * (double)i / (double)n_rot);
                    const double angle = p * freq_scale * f;
                    const double c = cos(angle) * attn_factor, sn = sin(angle) * attn_factor;
                    const int64_t i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
                    const double x0 = ref_load(x, xo + i0 * sxd), x1 = ref_load(x, xo + i1 * sxd);
                    ref_store(dst, dof + i0 * sdd, x0 * c - x1 * sn);
                    ref_store(dst, dof + i1 * sdd, x1 * c + x0 * sn);
                }
                for (int64_t j = n_rot; j < D; j++) ref_store(dst, dof + j * sdd, ref_load(x, xo + j * sxd));
            }
        }
    }
    return ACCEL_OK;
}

static bool ref_rope_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *pos = dst->src[1], *inv_freq = dst->src[2];
    if (!x || !pos || !ref_is_float(x->dtype) || x->ndim != 4 || !ref_same_shape_dtype(dst, x, x->dtype))
        return false;
    if (pos->dtype != ACCEL_I32 || pos->ndim != 1 || pos->shape[0] != x->shape[1]) return false;
    const int32_t mode = dst->params[0], n_rot = dst->params[1];
    if (mode != ACCEL_ROPE_HALF && mode != ACCEL_ROPE_INTERLEAVED) return false;
    if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > x->shape[3]) return false;
    if (inv_freq && (inv_freq->dtype != ACCEL_F32 || inv_freq->ndim != 1 || inv_freq->shape[0] != n_rot / 2))
        return false;
    return true;
}

/* ---- attention: q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv], mask bcast to [B, Hq, Sq, Skv] ------
 * A query that sees no key at all (everything hidden or -inf) gives zeros, like softmax's fully masked rows. */
static accel_status ref_attention(accel_tensor *dst) {
    const accel_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    const double scale = accel_param_f32(dst, 0);
    const bool causal = dst->params[1] != 0;
    const int64_t window = dst->params[2];
    const int64_t B = q->shape[0], Hq = q->shape[1], Sq = q->shape[2], D = q->shape[3];
    const int64_t Hkv = k->shape[1], Skv = k->shape[2], Dv = v->shape[3];
    const int64_t group = Hq / Hkv;
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    double *p = malloc((size_t)(Skv > 0 ? Skv : 1) * sizeof *p);
    if (!p) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "ref attention: out of memory (Skv = %lld)",
                                   (long long)Skv);

    for (int64_t b = 0; b < B; b++) {
        for (int64_t h = 0; h < Hq; h++) {
            const int64_t hk = h / group;
            for (int64_t i = 0; i < Sq; i++) {
                const int64_t qpos = i + Skv - Sq;
                const int64_t qi[4] = {b, h, i, 0};
                const int64_t qo = ref_offset(q, qi);
                double mx = -INFINITY;
                bool has_nan = false;
                for (int64_t j = 0; j < Skv; j++) {
                    const bool visible = (!causal || j <= qpos) && (window == 0 || qpos - j < window);
                    double s = -INFINITY;
                    if (visible) {
                        const int64_t ki[4] = {b, hk, j, 0};
                        const int64_t ko = ref_offset(k, ki);
                        double dot = 0.0;
                        for (int64_t d = 0; d < D; d++)
                            dot += ref_load(q, qo + d * q->stride[3]) * ref_load(k, ko + d * k->stride[3]);
                        s = dot * scale;
                        if (mask) {
                            const int64_t mi[4] = {b, h, i, j};
                            s += ref_load(mask, ref_offset_bcast(mask, mi, 4));
                        }
                    }
                    p[j] = s;
                    if (isnan(s)) has_nan = true;
                    else if (s > mx) mx = s;
                }
                double sum = 0.0;
                for (int64_t j = 0; j < Skv; j++) {
                    p[j] = has_nan ? NAN : mx == -INFINITY ? 0.0 : exp(p[j] - mx);
                    sum += p[j];
                }
                const double norm = sum > 0 || has_nan ? 1.0 / sum : 0.0;
                for (int64_t e = 0; e < Dv; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j < Skv; j++) {
                        if (p[j] == 0.0) continue; /* hidden keys contribute nothing (even if v holds inf/nan) */
                        const int64_t vi[4] = {b, hk, j, e};
                        acc += p[j] * ref_load(v, ref_offset(v, vi));
                    }
                    const int64_t di[4] = {b, h, i, e};
                    ref_store(dst, ref_offset(dst, di), acc * norm);
                }
            }
        }
    }
    free(p);
    return ACCEL_OK;
}

static bool ref_attention_supports(const accel_tensor *dst) {
    const accel_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    if (!q || !k || !v || !ref_is_float(q->dtype) || !ref_is_float(k->dtype) || k->dtype != v->dtype) return false;
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || dst->ndim != 4 || dst->dtype != q->dtype) return false;
    const int64_t B = q->shape[0], Hq = q->shape[1], Sq = q->shape[2], D = q->shape[3];
    const int64_t Hkv = k->shape[1], Skv = k->shape[2];
    if (k->shape[0] != B || v->shape[0] != B || v->shape[1] != Hkv || v->shape[2] != Skv || k->shape[3] != D)
        return false;
    if (Hkv <= 0 || Hq % Hkv != 0) return false;
    if (dst->shape[0] != B || dst->shape[1] != Hq || dst->shape[2] != Sq || dst->shape[3] != v->shape[3])
        return false;
    if (mask) {
        const accel_tensor full = {.ndim = 4, .shape = {B, Hq, Sq, Skv}};
        if (!ref_is_float(mask->dtype) || !accel_can_broadcast(mask, &full)) return false;
    }
    return ref_is_bool_param(dst->params[1]) && dst->params[2] >= 0;
}

void ref_register_attention(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_ROPE] = (ref_op_entry){ref_rope, ref_rope_supports};
    table[ACCEL_OP_ATTENTION] = (ref_op_entry){ref_attention, ref_attention_supports};
}
