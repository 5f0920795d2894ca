"""LLaMA RoPE scaling (tiny random weights, no tokenizer): one set of weights run under each RoPE type of
transformers 5.24 (`rope_parameters`: linear, dynamic NTK, llama3, yarn, and yarn with mscale / no truncation), so the
C loader's host-side inv_freq / attention scaling and the rotation itself are checked against HF.

model/ holds the weights with the default RoPE config; each case of expected.json ("cases": name -> rope_parameters)
is applied by rewriting config.json's "rope_parameters". max_position_embeddings (16) is shorter than the prompt
(24 ids), so dynamic NTK rescales at the prefill and again at every decode step, and yarn / llama3 use an original
length that puts head frequencies on both sides of their ramps (head_dim 16: 8 frequencies).

Per case: inv_freq and attention_scaling as the rotary module has them after init (and, for dynamic, the inv_freq
HF computes for the prefill length 24), prefill logits of the prompt, and 8 greedy tokens with their logits.
"""
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from .. import common

NAME = "llama_rope"
SEED = 6006
PROMPT_LEN = 24
NEW_TOKENS = 8
CASES = {
    "linear": {"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0},
    "dynamic": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0},
    "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64, "rope_theta": 10000.0},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048, "rope_theta": 10000.0},
    "yarn_mscale": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 2048, "mscale": 1.0,
                    "mscale_all_dim": 0.5, "beta_fast": 16.0, "beta_slow": 2.0, "truncate": False,
                    "rope_theta": 50000.0},
}


def base_config(rope_parameters):
    return LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=16,
                       rms_norm_eps=1e-5, rope_parameters=dict(rope_parameters), hidden_act="silu",
                       tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=None,
                       initializer_range=0.2, attention_bias=False, mlp_bias=False)


@torch.no_grad()
def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    base = LlamaForCausalLM(base_config({"rope_type": "default", "rope_theta": 10000.0})).eval()
    common.perturb_params(base, SEED + 1, 0.2)
    base.save_pretrained(model_dir)
    state = base.state_dict()
    gen = torch.Generator().manual_seed(SEED + 2)
    ids = torch.cat([torch.tensor([[1]]), torch.randint(3, 96, (1, PROMPT_LEN - 1), generator=gen)], dim=1)

    tensors = {"input_ids": ids}
    for name, rp in CASES.items():
        def fresh():  # a new model per run: dynamic RoPE keeps state in its rotary module
            m = LlamaForCausalLM(base_config(rp)).eval()
            m.load_state_dict(state)
            return m
        m = fresh()
        rot = m.model.rotary_emb
        tensors[f"{name}.inv_freq"] = rot.inv_freq.clone()
        tensors[f"{name}.attention_scaling"] = torch.tensor([float(rot.attention_scaling)])
        if rp["rope_type"] == "dynamic":
            inv, _ = ROPE_INIT_FUNCTIONS["dynamic"](m.config, None, seq_len=torch.tensor(PROMPT_LEN))
            tensors[f"{name}.inv_freq_prefill"] = inv
        tensors[f"{name}.prefill_logits"] = fresh()(input_ids=ids).logits
        g = fresh().generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS,
                             min_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1, return_dict_in_generate=True,
                             output_logits=True, pad_token_id=2)
        tensors[f"{name}.greedy_sequences"] = g.sequences
        tensors[f"{name}.greedy_logits"] = torch.stack(g.logits, dim=1)
    meta = {"family": NAME, "hf_class": "LlamaForCausalLM", "seed": SEED, "versions": common.versions(),
            "cases": CASES, "prompt_len": PROMPT_LEN, "max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS,
            "notes": "Apply a case by setting config.json 'rope_parameters' to cases[name]. greedy_logits are the "
                     "raw logits of each step (min_new_tokens keeps EOS out of the sequence; the raw logits are "
                     "what the processors saw before EOS suppression)."}
    common.write_expected(exp_dir, tensors, meta)
