"""ViT (google/vit-base-patch16-224 pipeline, tiny random weights): image -> pixel_values -> logits, top-k.

Image processor: the real checkpoint's preprocessor_config.json settings (resize to a fixed height x width with
bilinear resampling (PIL, resample=2), rescale 1/255, normalize mean 0.5 std 0.5 per channel), at 32x32 instead
of 224x224; run through transformers' PIL backend (ViTImageProcessorPil). Inputs are two generated images of
different, non-square sizes (saved as PNG in expected/) so the resize really resamples.
Model features kept: patch embedding conv (8x8, stride 8), CLS token + learned absolute positions (16 patches
+ 1), pre-LN encoder with QKV bias, final LayerNorm, classifier on the CLS token (10 labels with id2label).
"""
import numpy as np
import torch
from transformers import ViTConfig, ViTForImageClassification
from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

from .. import common
from ._images import pattern, save_png

NAME = "vit"
SEED = 6006
SIZES = [(48, 40), (27, 61)]  # (height, width) of the generated inputs
LABELS = ["tench", "goldfish", "great white shark", "tiger shark", "hammerhead", "electric ray", "stingray",
          "cock", "hen", "ostrich"]
TOP_K = 5


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    proc = ViTImageProcessorPil(do_resize=True, size={"height": 32, "width": 32}, resample=2, do_rescale=True,
                                rescale_factor=1 / 255, do_normalize=True, image_mean=[0.5, 0.5, 0.5],
                                image_std=[0.5, 0.5, 0.5])
    proc.save_pretrained(model_dir)
    proc = ViTImageProcessorPil.from_pretrained(model_dir)

    arrays = [pattern(h, w, i) for i, (h, w) in enumerate(SIZES)]
    images = [save_png(a, exp_dir / f"image{i}.png") for i, a in enumerate(arrays)]
    pixel_values = proc(images=images, return_tensors="pt")["pixel_values"]

    config = ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=4, intermediate_size=64, hidden_act="gelu", layer_norm_eps=1e-12,
                       qkv_bias=True, initializer_range=0.1, num_labels=len(LABELS),
                       id2label={i: l for i, l in enumerate(LABELS)}, label2id={l: i for i, l in enumerate(LABELS)})
    common.seed_all(SEED)
    model = ViTForImageClassification(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    # HF initialises the CLS token to 0 and positions with truncated normal: give the CLS token values too.
    with torch.no_grad():
        g = torch.Generator().manual_seed(SEED + 2)
        model.vit.embeddings.cls_token.copy_(torch.randn(model.vit.embeddings.cls_token.shape, generator=g) * 0.5)
    model.save_pretrained(model_dir)

    with torch.no_grad():
        out = model(pixel_values=pixel_values, output_hidden_states=True)
        base = model.vit(pixel_values=pixel_values)
    logits = out.logits
    top = torch.topk(logits, TOP_K, dim=-1)
    tensors = {"pixel_values": pixel_values, "logits": logits, "probs": logits.softmax(-1),
               "topk_indices": top.indices, "topk_values": top.values,
               "top1_margin": top.values[:, 0] - top.values[:, 1],
               "last_hidden_state": base.last_hidden_state, "embeddings": out.hidden_states[0]}
    for i, a in enumerate(arrays):
        tensors[f"image{i}"] = torch.from_numpy(np.ascontiguousarray(a))
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h
    meta = {"family": NAME, "hf_class": "ViTForImageClassification", "seed": SEED, "versions": common.versions(),
            "images": [f"image{i}.png" for i in range(len(arrays))], "image_sizes_hw": [list(s) for s in SIZES],
            "top_k": TOP_K,
            "topk_labels": [[LABELS[j] for j in row] for row in top.indices.tolist()],
            "notes": "imageN (uint8 HxWx3 RGB) equals imageN.png. pixel_values come from the PIL backend "
                     "(PIL bilinear resize of the uint8 image, then (x/255 - 0.5)/0.5). hidden_states.N are the "
                     "encoder layer inputs (0 = patch + CLS + position embeddings) before the final LayerNorm; "
                     "last_hidden_state is after it; logits = classifier(last_hidden_state[:, 0]). "
                     "top1_margin = top1 - top2 logit."}
    common.write_expected(exp_dir, tensors, meta)
