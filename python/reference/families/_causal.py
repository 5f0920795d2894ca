"""Shared expected-output recipe for decoder-only LMs (LLaMA, Qwen2, Mistral): prefill logits, greedy generation
of one prompt, and a left-padded batch of prompts of different lengths."""
import torch

from .. import common


def position_ids_from_mask(mask):
    """What HF generate does for a left-padded batch: cumsum(mask) - 1, pads get 0."""
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 0)


@torch.no_grad()
def run(model, tok, single, batch, max_new_tokens):
    gen_kw = dict(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, return_dict_in_generate=True,
                  output_logits=True, pad_token_id=tok.pad_token_id)
    one = tok(single, return_tensors="pt")
    prefill = model(**one).logits
    g1 = model.generate(**one, **gen_kw)
    tok.padding_side = "left"
    enc = tok(batch, padding=True, return_tensors="pt")
    pos = position_ids_from_mask(enc["attention_mask"])
    bprefill = model(**enc, position_ids=pos).logits
    gb = model.generate(**enc, **gen_kw)
    l1 = torch.stack(g1.logits, dim=1)
    lb = torch.stack(gb.logits, dim=1)
    tensors = {
        "input_ids": one["input_ids"], "attention_mask": one["attention_mask"], "prefill_logits": prefill,
        "greedy_sequences": g1.sequences, "greedy_logits": l1, "greedy_margins": common.greedy_margins(l1),
        "batch_input_ids": enc["input_ids"], "batch_attention_mask": enc["attention_mask"],
        "batch_position_ids": pos, "batch_prefill_logits": bprefill,
        "batch_greedy_sequences": gb.sequences, "batch_greedy_logits": lb,
        "batch_greedy_margins": common.greedy_margins(lb),
    }
    n_prompt = one["input_ids"].shape[1]
    meta = {
        "prompt": single, "batch_prompts": batch, "max_new_tokens": max_new_tokens, "padding_side": "left",
        "pad_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id,
        "prompt_tokens": tok.convert_ids_to_tokens(one["input_ids"][0].tolist()),
        "greedy_text": tok.decode(g1.sequences[0, n_prompt:], skip_special_tokens=True),
        "batch_greedy_text": tok.batch_decode(gb.sequences[:, enc["input_ids"].shape[1]:], skip_special_tokens=True),
        "notes": "greedy_logits[b, s] are the raw logits (no processors) that chose token s after the prompt; "
                 "*_margins = top1 - top2 of each. Batches are left-padded with pad_token_id; positions are "
                 "batch_position_ids (cumsum(mask)-1, 0 on pads) as HF generate computes them; a finished row "
                 "(eos) continues with pad_token_id. batch_prefill_logits rows at pad positions are don't-care.",
    }
    return tensors, meta
