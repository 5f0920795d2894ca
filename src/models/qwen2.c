/*
 * qwen2.c — Qwen2ForCausalLM (Qwen2 / Qwen2.5, e.g. Qwen2-0.5B-Instruct), as transformers 5.24's Qwen2Config
 * reads it. The architecture is the shared decoder (decoder_lm.h); what is Qwen2's own:
 *  - q, k and v_proj have a bias, o_proj and the MLP do not;
 *  - config defaults of Qwen2Config: tie_word_embeddings false (Qwen2-0.5B's config sets it true: lm_head is then
 *    embed_tokens), max_position_embeddings 32768, rms_norm_eps 1e-6, rope_theta from the config (1e6);
 *  - sliding window only when use_sliding_window is true, on the layers that config "layer_types" marks
 *    "sliding_attention", else on layers >= max_window_layers (Qwen2Config's default rule).
 * Tensor names: HF's LLaMA layout (dlm_hf_llama_names).
 */
#include "models/decoder_lm.h"

static const char *const qwen2_model_types[] = {"qwen2", NULL};

static accel_status qwen2_load(accel_model *m) {
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    dlm_hparams hp;
    accel_status st = dlm_hparams_read(m, false, 32768, &hp);
    bool use_window = false;
    int64_t window = 4096, from_layer = 28;
    if (st == ACCEL_OK) st = accel_hf_json_bool_or(cfg, "use_sliding_window", false, &use_window);
    if (st == ACCEL_OK) st = accel_hf_json_int_or(cfg, "sliding_window", 4096, &window);
    if (st == ACCEL_OK) st = accel_hf_json_int_or(cfg, "max_window_layers", 28, &from_layer);
    if (st != ACCEL_OK) return st;
    hp.qkv_bias = true;
    hp.sliding_window = use_window ? window : 0;
    hp.window_from_layer = from_layer;
    return dlm_load(m, &hp);
}

const accel_family accel_family_qwen2 = {
    .name = "qwen2",
    .model_types = qwen2_model_types,
    .load = qwen2_load,
    DLM_FAMILY_HOOKS,
};
