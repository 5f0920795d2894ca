/*
 * llama.c — LlamaForCausalLM (TinyLlama-1.1B, Llama-2/3, Vicuna, ...), as transformers 5.24's LlamaConfig reads it.
 * The architecture is the shared decoder (decoder_lm.h); what is LLaMA's own:
 *  - config defaults of LlamaConfig: tie_word_embeddings false, max_position_embeddings 2048, rms_norm_eps 1e-6;
 *  - attention_bias (q, k, v and o_proj all get a bias) and mlp_bias (gate, up and down_proj);
 *  - no sliding window; every RoPE scaling type of the config (llama3 for Llama 3.1).
 * Tensor names: HF's LLaMA layout (dlm_hf_llama_names).
 */
#include "models/decoder_lm.h"

static const char *const llama_model_types[] = {"llama", NULL};

static accel_status llama_load(accel_model *m) {
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    dlm_hparams hp;
    accel_status st = dlm_hparams_read(m, false, 2048, &hp);
    bool attention_bias = false, mlp_bias = false;
    if (st == ACCEL_OK) st = accel_hf_json_bool_or(cfg, "attention_bias", false, &attention_bias);
    if (st == ACCEL_OK) st = accel_hf_json_bool_or(cfg, "mlp_bias", false, &mlp_bias);
    if (st != ACCEL_OK) return st;
    hp.qkv_bias = hp.o_bias = attention_bias;
    hp.mlp_bias = mlp_bias;
    return dlm_load(m, &hp);
}

const accel_family accel_family_llama = {
    .name = "llama",
    .model_types = llama_model_types,
    .load = llama_load,
    DLM_FAMILY_HOOKS,
};
