/*
 * mistral.c — MistralForCausalLM (Mistral-7B and the Mistral language model of LLaVA-Next), as transformers 5.24's
 * MistralConfig reads it. The architecture is the shared decoder (decoder_lm.h); what is Mistral's own:
 *  - sliding-window attention on every layer: query position i sees keys j with i - window < j <= i; the config's
 *    sliding_window, MistralConfig's default 4096 when the key is absent, none when it is null (v0.2 and later);
 *  - no biases; head_dim may differ from hidden_size / num_attention_heads;
 *  - config defaults of MistralConfig: tie_word_embeddings false, max_position_embeddings 131072, rms_norm_eps 1e-6.
 * Tensor names: HF's LLaMA layout (dlm_hf_llama_names).
 */
#include "models/decoder_lm.h"

#include "io/json_util.h"

static const char *const mistral_model_types[] = {"mistral", NULL};

static accel_status mistral_load(accel_model *m) {
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    dlm_hparams hp;
    accel_status st = dlm_hparams_read(m, false, 4096 * 32, &hp);
    if (st != ACCEL_OK) return st;
    /* absent: the class default 4096; null: no window */
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive((const cJSON *)accel_hf_json_raw(cfg), "sliding_window");
    int64_t window = raw ? 0 : 4096;
    if (raw && !cJSON_IsNull(raw) && (st = accel_hf_json_int(cfg, "sliding_window", &window)) != ACCEL_OK) return st;
    hp.sliding_window = window;
    return dlm_load(m, &hp);
}

const accel_family accel_family_mistral = {
    .name = "mistral",
    .model_types = mistral_model_types,
    .load = mistral_load,
    DLM_FAMILY_HOOKS,
};
