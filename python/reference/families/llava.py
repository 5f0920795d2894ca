"""LLaVA (llava-hf/llava-1.5-7b-hf pipeline, tiny random weights): image + prompt -> text.

Processor: LlavaProcessor = CLIP image processor (PIL backend: resize shortest edge, center crop, rescale,
OpenAI-CLIP mean/std) + the Llama-2 tokenizer pipeline of families/llama.py with the added special tokens
<image> and <pad> (as in llava-1.5-hf); the processor expands the one <image> of the prompt to
(image_size / patch_size)^2 image tokens (CLS dropped: vision_feature_select_strategy "default").
Model: LlavaForConditionalGeneration = CLIP vision tower (3 layers, features from layer -2, pre-LayerNorm,
quick_gelu) -> 2-layer MLP projector (linear, gelu, linear) -> tiny LLaMA (GQA 4:2, untied head).
"""
import numpy as np
import torch
from tokenizers import AddedToken, pre_tokenizers
from transformers import (CLIPVisionConfig, LlamaConfig, LlamaTokenizer, LlavaConfig,
                          LlavaForConditionalGeneration, LlavaProcessor)
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from .. import common
from ..corpus import TEST_TEXTS
from . import llama as llama_family

NAME = "llava"
SEED = 10010
PROMPT = "USER: <image>\nWhat is shown in this picture? ASSISTANT:"
IMAGE_HW = (40, 52)
MAX_NEW = 16


def make_image(h, w, seed):
    """Deterministic synthetic RGB picture: diagonal stripes, a bright square and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([128 + 100 * np.sin((x + y) / 5.0), 60 + 150 * (y / h), 200 - 150 * (x / w)], axis=-1)
    img[h // 4:h // 4 + h // 3, w // 2:w // 2 + w // 4] = [250, 250, 40]
    img += rng.normal(0, 8, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def build_tokenizer(model_dir, extra_specials=("<image>", "<pad>")):
    raw = llama_family.train_spm_bpe(400)
    raw.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in extra_specials])
    # legacy=False Llama tokenizers (llava-1.5-hf's tokenizer_config says legacy false): no "▁" is prepended to
    # the text that follows a special token. In tokenizer.json that is Metaspace(prepend_scheme "first") instead
    # of the Prepend normalizer, which is what transformers uses at run time either way.
    raw.normalizer = None
    raw.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=False)
    hf_tok = LlamaTokenizer(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                            pad_token="<pad>", padding_side="left", model_max_length=512,
                            clean_up_tokenization_spaces=False, legacy=False,
                            extra_special_tokens={"image_token": "<image>"})
    return hf_tok


@torch.no_grad()
def run_vlm(model, processor, image, prompt, max_new):
    inputs = processor(images=image, text=prompt, return_tensors="pt")
    out = model(**inputs)
    gen = model.generate(**inputs, max_new_tokens=max_new, do_sample=False, num_beams=1,
                         return_dict_in_generate=True, output_logits=True,
                         pad_token_id=processor.tokenizer.pad_token_id)
    steps = torch.stack(gen.logits, dim=1)
    ihs = out.image_hidden_states
    if isinstance(ihs, (list, tuple)):
        ihs = torch.cat([x.reshape(-1, x.shape[-1]) for x in ihs])
    n = inputs["input_ids"].shape[1]
    tensors = {k: v for k, v in inputs.items()}
    tensors.update({"image": torch.from_numpy(image), "prefill_logits": out.logits,
                    "image_hidden_states": ihs.reshape(-1, ihs.shape[-1]), "greedy_sequences": gen.sequences,
                    "greedy_logits": steps, "greedy_margins": common.greedy_margins(steps)})
    tok = processor.tokenizer
    meta = {"prompt": prompt, "max_new_tokens": max_new,
            "prompt_tokens": tok.convert_ids_to_tokens(inputs["input_ids"][0].tolist()),
            "greedy_text": tok.decode(gen.sequences[0, n:], skip_special_tokens=True),
            "image_token_id": tok.convert_tokens_to_ids("<image>"),
            "num_image_tokens": int((inputs["input_ids"] == tok.convert_tokens_to_ids("<image>")).sum())}
    return tensors, meta


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    hf_tok = build_tokenizer(model_dir)
    image_proc = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(image_processor=image_proc, tokenizer=hf_tok, patch_size=8,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1)
    processor.save_pretrained(model_dir)
    processor = LlavaProcessor.from_pretrained(model_dir)
    tok = processor.tokenizer
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + [PROMPT])

    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=32, hidden_act="quick_gelu",
                              layer_norm_eps=1e-5)
    text = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                       rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1,
                       eos_token_id=2, pad_token_id=tok.pad_token_id, initializer_range=0.1)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=tok.convert_tokens_to_ids("<image>"),
                         projector_hidden_act="gelu", vision_feature_select_strategy="default",
                         vision_feature_layer=-2, tie_word_embeddings=False)
    common.seed_all(SEED)
    model = LlavaForConditionalGeneration(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    model.save_pretrained(model_dir)
    model = LlavaForConditionalGeneration.from_pretrained(model_dir).eval()

    image = make_image(*IMAGE_HW, SEED + 10)
    tensors, meta = run_vlm(model, processor, image, PROMPT, MAX_NEW)
    meta.update({"family": NAME, "hf_class": "LlavaForConditionalGeneration", "seed": SEED,
                 "versions": common.versions(), "image_hw": list(IMAGE_HW), "vision_feature_layer": -2,
                 "notes": "image is the uint8 HWC input; prefill_logits = logits of the expanded prompt with the "
                          "image; image_hidden_states = projector output (one row per <image> token); "
                          "greedy_logits[0, s] chose greedy token s; greedy_margins = top1 - top2."})
    common.write_expected(exp_dir, tensors, meta)
