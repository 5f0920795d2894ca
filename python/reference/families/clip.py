"""CLIP (openai/clip-vit-base-patch32 pipeline, tiny random weights): texts + images -> embeddings, similarities.

Tokenizer: transformers' CLIPTokenizer pipeline given a small trained vocabulary: normalizer Sequence[NFC,
Replace(\\s+ -> " "), Lowercase], pre-tokenizer Sequence[Split(CLIP regex, removed, invert), ByteLevel(no prefix
space)], byte-level BPE with end_of_word_suffix "</w>" (vocab: 256 byte symbols, the same 256 with "</w>",
learned merges, then <|startoftext|> <|endoftext|> last, as in the real vocab), RobertaProcessing
(<|startoftext|> $A <|endoftext|>), ByteLevel decoder (+ "</w>" -> " "). Pad = <|endoftext|>.
Image processor: the real preprocessor_config settings (resize shortest edge, bicubic (resample=3), center crop,
rescale 1/255, OpenAI CLIP mean/std, convert RGB) at 32 instead of 224, PIL backend.
Model features kept: causal text transformer with padding mask, pooled text output at the first <|endoftext|>
(eos_token_id set, not the legacy argmax), vision pre-LayerNorm, quick_gelu, projections without bias, logit
scale.
"""
import numpy as np
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoTokenizer, CLIPConfig, CLIPModel, CLIPTokenizer
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from .. import common
from ..corpus import CORPUS, TEST_TEXTS
from ._images import pattern, save_png

NAME = "clip"
SEED = 7007
TEXTS = ["a photo of a cat", "A photo of a DOG.", "a diagram of a neural network with   many layers",
         "Caf\u00e9 na\u00efve \u4eca\u65e5\u306f \U0001F600 zygomorphic"]
SIZES = [(40, 56), (64, 36)]  # (height, width): landscape and portrait, so shortest-edge resize + crop both act


def train_tokenizer(n_merges=300):
    base = CLIPTokenizer()  # the pipeline (normalizer, pre-tokenizer) with an empty vocabulary
    t = Tokenizer(models.BPE())
    t.normalizer = base.backend_tokenizer.normalizer
    t.pre_tokenizer = base.backend_tokenizer.pre_tokenizer
    _, merges, learned = common.train_bpe(common.pretokenized_words(t, CORPUS), n_merges, suffix="</w>")
    byte_syms = sorted(pre_tokenizers.ByteLevel.alphabet(), key=lambda c: ord(c))
    pieces = byte_syms + [c + "</w>" for c in byte_syms]
    seen = set(pieces)
    pieces += [p for p in learned if p not in seen]
    vocab = {p: i for i, p in enumerate(pieces)}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab, merges


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    vocab, merges = train_tokenizer()
    hf_tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=32)
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + TEXTS)
    proc = CLIPImageProcessorPil(do_resize=True, size={"shortest_edge": 32}, resample=3, do_center_crop=True,
                                 crop_size={"height": 32, "width": 32}, do_rescale=True, rescale_factor=1 / 255,
                                 do_normalize=True, image_mean=[0.48145466, 0.4578275, 0.40821073],
                                 image_std=[0.26862954, 0.26130258, 0.27577711], do_convert_rgb=True)
    proc.save_pretrained(model_dir)
    proc = CLIPImageProcessorPil.from_pretrained(model_dir)

    arrays = [pattern(h, w, i) for i, (h, w) in enumerate(SIZES)]
    images = [save_png(a, exp_dir / f"image{i}.png") for i, a in enumerate(arrays)]
    pixel_values = proc(images=images, return_tensors="pt")["pixel_values"]
    enc = tok(TEXTS, padding=True, return_tensors="pt")

    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    bos = tok.convert_tokens_to_ids("<|startoftext|>")
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=32, hidden_act="quick_gelu",
                         layer_norm_eps=1e-5, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos,
                         projection_dim=24, initializer_range=0.1),
        vision_config=dict(image_size=32, patch_size=8, num_channels=3, hidden_size=32, intermediate_size=64,
                           num_hidden_layers=2, num_attention_heads=4, hidden_act="quick_gelu",
                           layer_norm_eps=1e-5, projection_dim=24, initializer_range=0.1),
        projection_dim=24, logit_scale_init_value=2.6592)
    common.seed_all(SEED)
    model = CLIPModel(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    model.save_pretrained(model_dir)

    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], pixel_values=pixel_values,
                    output_hidden_states=True)
        # transformers 5 overwrites *_model_output.pooler_output with the projection: run the towers directly.
        t_out = model.text_model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        v_out = model.vision_model(pixel_values=pixel_values, output_hidden_states=True)
    eos_pos = (enc["input_ids"] == eos).int().argmax(-1)
    tensors = {
        "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "eos_positions": eos_pos,
        "pixel_values": pixel_values,
        "text_last_hidden_state": t_out.last_hidden_state, "text_pooler_output": t_out.pooler_output,
        "vision_last_hidden_state": v_out.last_hidden_state, "vision_pooler_output": v_out.pooler_output,
        "vision_embeddings": v_out.hidden_states[0],
        "text_embeds": out.text_embeds, "image_embeds": out.image_embeds,
        "text_embeds_unnormalized": model.text_projection(t_out.pooler_output),
        "image_embeds_unnormalized": model.visual_projection(v_out.pooler_output),
        "logits_per_image": out.logits_per_image, "logits_per_text": out.logits_per_text,
        "probs_per_image": out.logits_per_image.softmax(-1), "logit_scale": model.logit_scale.detach().exp(),
    }
    for i, a in enumerate(arrays):
        tensors[f"image{i}"] = torch.from_numpy(np.ascontiguousarray(a))
    meta = {"family": NAME, "hf_class": "CLIPModel", "seed": SEED, "versions": common.versions(),
            "texts": TEXTS, "tokens": [tok.convert_ids_to_tokens(r) for r in enc["input_ids"].tolist()],
            "decoded": tok.batch_decode(enc["input_ids"], skip_special_tokens=True),
            "images": [f"image{i}.png" for i in range(len(arrays))], "image_sizes_hw": [list(s) for s in SIZES],
            "notes": "Texts right-padded with <|endoftext|> (attention_mask 0); text pooled output = final-LN "
                     "hidden state at eos_positions (first <|endoftext|>). text_embeds / image_embeds = projection, "
                     "L2-normalised; logits_per_image = logit_scale * image_embeds @ text_embeds.T "
                     "(logit_scale = exp of the stored parameter). imageN equals imageN.png (uint8 HxWx3)."}
    common.write_expected(exp_dir, tensors, meta)
