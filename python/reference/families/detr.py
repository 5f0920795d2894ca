"""DETR (facebook/detr-resnet-50 pipeline, tiny random weights): images -> boxes.

Processor: the real DetrImageProcessor recipe (PIL backend `DetrImageProcessorPil`, since torchvision is not a
pin): resize keeping the aspect ratio (shortest_edge/longest_edge, here 64/96 instead of 800/1333), rescale 1/255,
ImageNet mean/std normalize, pad the batch bottom/right to the largest image and return pixel_mask.
Model: DetrForObjectDetection with use_timm_backbone=False and a tiny HF ResNet backbone (bottleneck blocks,
3 stages, feature stride 16) whose BatchNorm layers DETR replaces by DetrFrozenBatchNorm2d; those frozen BN
buffers (weight, bias, running_mean, running_var) get seeded random values so a runtime that ignores the running
statistics fails. d_model 32, 2 encoder + 2 decoder layers, 4 heads, 10 object queries, sine position
embeddings, 5 labels (+ "no object"). Random DETR heads give every query the same answer, so `sharpen_heads`
removes the shared direction of the decoder output from the head inputs (weights only).
Two images of different aspect ratio make the padding/pixel_mask matter.
"""
import numpy as np
import torch
from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig
from transformers.models.detr.image_processing_pil_detr import DetrImageProcessorPil
from transformers.models.detr.modeling_detr import DetrFrozenBatchNorm2d

from .. import common

NAME = "detr"
SEED = 9009
THRESHOLD = 0.32
LABELS = ["cat", "dog", "car", "tree", "ball"]
IMAGE_SIZES = [(60, 80), (90, 56)]  # (height, width): landscape and portrait


def make_image(h, w, seed):
    """A deterministic synthetic RGB scene: gradient background, a filled rectangle and a disc, mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w * 200 + 30, y / h * 180 + 40, (x + y) / (w + h) * 120 + 60], axis=-1)
    y0, x0 = h // 5, w // 6
    img[y0:y0 + h // 3, x0:x0 + w // 3] = [220, 40, 30]
    cy, cx, r = h * 0.65, w * 0.6, min(h, w) * 0.2
    img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = [30, 60, 230]
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@torch.no_grad()
def randomize_frozen_bn(model, seed):
    gen = torch.Generator().manual_seed(seed)
    n = 0
    for _, m in sorted(model.named_modules(), key=lambda kv: kv[0]):
        if isinstance(m, DetrFrozenBatchNorm2d):
            c = m.weight.shape[0]
            m.weight.copy_(1.0 + 0.2 * torch.randn(c, generator=gen))
            m.bias.copy_(0.2 * torch.randn(c, generator=gen))
            m.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
            m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
            n += 1
    if n == 0:
        raise RuntimeError("no DetrFrozenBatchNorm2d found")
    return n


@torch.no_grad()
def sharpen_heads(model, enc):
    """Random DETR decoder outputs share a large common component (biases, LayerNorm shift), so every query would
    predict the same class and box. Remove that direction from the inputs of the class head and of the first
    box-MLP layer and scale them up, so queries differ in label, score and box like a trained model's do."""
    h = model.model(pixel_values=enc["pixel_values"], pixel_mask=enc["pixel_mask"]).last_hidden_state
    m = h.reshape(-1, h.shape[-1]).mean(0)
    m = m / m.norm()
    for lin, gain in ((model.class_labels_classifier, 6.0), (model.bbox_predictor.layers[0], 4.0)):
        w = lin.weight
        w.copy_((w - (w @ m)[:, None] * m[None, :]) * gain)


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    proc = DetrImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96})
    proc.save_pretrained(model_dir)
    proc = DetrImageProcessorPil.from_pretrained(model_dir)

    backbone = ResNetConfig(num_channels=3, embedding_size=16, hidden_sizes=[32, 48, 64], depths=[1, 2, 1],
                            layer_type="bottleneck", hidden_act="relu", downsample_in_first_stage=False,
                            out_features=["stage3"])
    config = DetrConfig(use_timm_backbone=False, backbone_config=backbone, num_queries=10, d_model=32,
                        encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
                        encoder_ffn_dim=64, decoder_ffn_dim=64, dropout=0.0, attention_dropout=0.0,
                        activation_dropout=0.0, activation_function="relu", position_embedding_type="sine",
                        auxiliary_loss=False, init_std=0.3, init_xavier_std=1.0,
                        id2label={i: n for i, n in enumerate(LABELS)},
                        label2id={n: i for i, n in enumerate(LABELS)})
    images = [make_image(h, w, SEED + 10 + i) for i, (h, w) in enumerate(IMAGE_SIZES)]
    enc = proc(images=images, return_tensors="pt")
    common.seed_all(SEED)
    model = DetrForObjectDetection(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    n_bn = randomize_frozen_bn(model, SEED + 2)
    with torch.no_grad():  # peaky cross-attention so the 10 random queries look at different places
        gen = torch.Generator().manual_seed(SEED + 3)
        qpe = model.model.query_position_embeddings.weight
        qpe.copy_(3.0 * torch.randn(qpe.shape, generator=gen))
    sharpen_heads(model, enc)
    model.save_pretrained(model_dir)
    # the frozen BN statistics must be in the checkpoint, and reloading must give the same model
    import safetensors
    keys = set(safetensors.safe_open(str(model_dir / "model.safetensors"), "pt").keys())
    if not any(k.endswith("running_var") for k in keys):
        raise RuntimeError("frozen batch norm running_var not saved")
    model = DetrForObjectDetection.from_pretrained(model_dir).eval()

    with torch.no_grad():
        out = model(pixel_values=enc["pixel_values"], pixel_mask=enc["pixel_mask"])
    results = proc.post_process_object_detection(out, threshold=THRESHOLD, target_sizes=list(IMAGE_SIZES))
    prob = torch.softmax(out.logits, -1)
    scores, labels = prob[..., :-1].max(-1)
    top2 = torch.topk(prob[..., :-1], 2, dim=-1).values

    tensors = {"pixel_values": enc["pixel_values"], "pixel_mask": enc["pixel_mask"], "logits": out.logits,
               "pred_boxes": out.pred_boxes, "last_hidden_state": out.last_hidden_state,
               "encoder_last_hidden_state": out.encoder_last_hidden_state, "scores": scores, "labels": labels,
               "label_margins": top2[..., 0] - top2[..., 1]}
    for i, img in enumerate(images):
        tensors[f"image_{i}"] = torch.from_numpy(img)
        tensors[f"post_boxes_{i}"] = results[i]["boxes"]
        tensors[f"post_scores_{i}"] = results[i]["scores"]
        tensors[f"post_labels_{i}"] = results[i]["labels"]
    margin = float((scores - THRESHOLD).abs().min())
    meta = {
        "family": NAME, "hf_class": "DetrForObjectDetection", "seed": SEED, "versions": common.versions(),
        "image_sizes_hw": [list(s) for s in IMAGE_SIZES], "threshold": THRESHOLD, "labels": LABELS,
        "num_frozen_batchnorm": n_bn, "threshold_margin": margin,
        "detections": [{"count": int(r["scores"].numel()),
                        "labels": [LABELS[j] for j in r["labels"].tolist()]} for r in results],
        "notes": "image_i are the uint8 HWC inputs; pixel_values/pixel_mask are the processor output (batch "
                 "padded bottom/right). scores/labels = max over softmax(logits)[..., :-1] per query; post_* are "
                 "post_process_object_detection(threshold, target_sizes=original (h, w)): boxes xyxy in pixels, "
                 "queries with score > threshold in query order. threshold_margin = min |score - threshold|; "
                 "label_margins = top1 - top2 class probability.",
    }
    common.write_expected(exp_dir, tensors, meta)
