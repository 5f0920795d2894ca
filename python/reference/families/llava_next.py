"""LLaVA-Next (llava-hf/llava-v1.6-mistral-7b-hf pipeline, tiny random weights): non-square image + prompt -> text.

Processor: LlavaNextProcessor = LlavaNext image processor (PIL backend) with anyres tiling: the image is resized
(aspect kept) into the best of image_grid_pinpoints, padded, cut into crop_size tiles, plus the whole image
resized to crop_size as the first "base" tile; the tokenizer is the Mistral/Llama-2 BPE pipeline of llava.py
(<image>, <pad> added, legacy=False). The processor expands <image> to base tokens + unpadded grid tokens + one
image_newline per grid row. Model: LlavaNextForConditionalGeneration = CLIP vision tower (feature layer -2, CLS
dropped) -> 2-layer GELU MLP projector -> per-tile features packed with `image_newline` -> tiny Mistral LM
(GQA 4:2, sliding window 32 < prompt length, so the window matters).
"""
from transformers import (CLIPVisionConfig, LlavaNextConfig, LlavaNextForConditionalGeneration,
                          LlavaNextProcessor, MistralConfig)
from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil

from .. import common
from ..corpus import TEST_TEXTS
from . import llava

NAME = "llava_next"
SEED = 11011
PROMPT = "[INST] <image>\nWhat is shown in this image? [/INST]"
IMAGE_HW = (20, 80)  # 1:4: picks the 32x64 pinpoint; grid features 4x8 are unpadded to 2x8 rows
PINPOINTS = [[32, 64], [64, 32], [64, 64]]
MAX_NEW = 16
SLIDING_WINDOW = 32


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    hf_tok = llava.build_tokenizer(model_dir)
    image_proc = LlavaNextImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                                            image_grid_pinpoints=PINPOINTS)
    processor = LlavaNextProcessor(image_processor=image_proc, tokenizer=hf_tok, patch_size=8,
                                   vision_feature_select_strategy="default", num_additional_image_tokens=1)
    processor.save_pretrained(model_dir)
    processor = LlavaNextProcessor.from_pretrained(model_dir)
    tok = processor.tokenizer
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + [PROMPT])

    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=32, hidden_act="quick_gelu",
                              layer_norm_eps=1e-5)
    text = MistralConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
                         rms_norm_eps=1e-5, rope_theta=1000000.0, sliding_window=SLIDING_WINDOW,
                         tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=tok.pad_token_id,
                         initializer_range=0.1)
    config = LlavaNextConfig(vision_config=vision, text_config=text,
                             image_token_index=tok.convert_tokens_to_ids("<image>"), projector_hidden_act="gelu",
                             vision_feature_select_strategy="default", vision_feature_layer=-2,
                             image_grid_pinpoints=PINPOINTS, tie_word_embeddings=False)
    common.seed_all(SEED)
    model = LlavaNextForConditionalGeneration(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)  # also gives image_newline seeded values
    model.save_pretrained(model_dir)
    model = LlavaNextForConditionalGeneration.from_pretrained(model_dir).eval()

    image = llava.make_image(*IMAGE_HW, SEED + 10)
    tensors, meta = llava.run_vlm(model, processor, image, PROMPT, MAX_NEW)
    n_prompt = tensors["input_ids"].shape[1]
    if n_prompt <= SLIDING_WINDOW:
        raise RuntimeError("prompt shorter than the sliding window: the window would not be exercised")
    meta.update({"family": NAME, "hf_class": "LlavaNextForConditionalGeneration", "seed": SEED,
                 "versions": common.versions(), "image_hw": list(IMAGE_HW), "image_grid_pinpoints": PINPOINTS,
                 "vision_feature_layer": -2, "sliding_window": SLIDING_WINDOW,
                 "notes": "image is the uint8 HWC input; pixel_values[0] = (base tile, grid tiles...) and "
                          "image_sizes = original (h, w); image_hidden_states = packed image features in prompt "
                          "order (base tile tokens, then unpadded grid rows each followed by image_newline); "
                          "prefill_logits = logits of the expanded prompt; greedy_logits[0, s] chose greedy token "
                          "s; greedy_margins = top1 - top2. Sliding window: query i attends keys j with "
                          "i - sliding_window < j <= i (position 32 no longer sees position 0)."})
    common.write_expected(exp_dir, tensors, meta)
