"""X-CLIP (microsoft/xclip-base-patch32 pipeline, tiny random weights): 8-frame videos + texts -> similarities.

Tokenizer: the CLIPTokenizer pipeline (normalizer Sequence[NFC, Replace(\\s+ -> " "), Lowercase], pre-tokenizer
Sequence[Split(CLIP regex), ByteLevel], byte-level BPE with end_of_word_suffix "</w>", RobertaProcessing
<|startoftext|> $A <|endoftext|>, pad <|endoftext|>) with a small vocabulary trained here (same layout as the real
vocab: 256 byte symbols, the same with "</w>", merges, then the two specials last).
Video processor: as the real checkpoint, VideoMAEImageProcessor settings (PIL backend) applied to every frame:
resize shortest edge (bicubic), center crop, rescale, OpenAI-CLIP mean/std; at 32 px instead of 224.
Model: XCLIPModel: per-frame CLIP ViT whose layers add cross-frame communication ("message") tokens (MIT
message_fc/message_ln/message_attn per layer over the frames of a video), the multi-frame integration transformer
(MIT) over the 8 frame embeddings, and the video-specific prompt generator (cross-attention from text to the mean
patch features, prompt_alpha) that makes text embeddings video-dependent.
"""
import numpy as np
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import CLIPTokenizer, XCLIPConfig, XCLIPModel, XCLIPProcessor
from transformers.models.videomae.image_processing_pil_videomae import VideoMAEImageProcessorPil

from .. import common
from ..corpus import CORPUS, TEST_TEXTS

NAME = "xclip"
SEED = 12012
NUM_FRAMES = 8
FRAME_HW = (36, 48)
TEXTS = ["a ball rolling to the right", "a flashing light", "Playing SPORTS   outside!"]


def train_tokenizer(n_merges=300):
    base = CLIPTokenizer()  # the real pipeline (normalizer, pre-tokenizer) with an empty vocabulary
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


def make_video(kind, n, h, w, seed):
    """n uint8 HxWx3 frames. kind "move": a disc moving left to right over a gradient; kind "flash": a textured
    background whose brightness and a central square's colour alternate frame to frame."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for f in range(n):
        if kind == "move":
            img = np.stack([40 + 150 * x / w, 60 + 120 * y / h, np.full_like(x, 90)], axis=-1)
            cx, cy, r = 6 + (w - 12) * f / (n - 1), h * 0.5, min(h, w) * 0.18
            img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = [240, 230, 40]
        else:
            base = 100 + 80 * np.sin(x / 3.0) * np.cos(y / 4.0) + (60 if f % 2 else -40)
            img = np.stack([base, base * 0.8, 255 - base], axis=-1)
            img[h // 3:2 * h // 3, w // 3:2 * w // 3] = [250, 20, 20] if f % 2 else [20, 20, 250]
        img = img + rng.normal(0, 5, img.shape)
        frames.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return np.stack(frames)


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    vocab, merges = train_tokenizer()
    hf_tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=32)
    image_proc = VideoMAEImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                                           resample=3, image_mean=[0.48145466, 0.4578275, 0.40821073],
                                           image_std=[0.26862954, 0.26130258, 0.27577711])
    processor = XCLIPProcessor(image_processor=image_proc, tokenizer=hf_tok)
    processor.save_pretrained(model_dir)
    processor = XCLIPProcessor.from_pretrained(model_dir)
    tok = processor.tokenizer
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + TEXTS)

    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    bos = tok.convert_tokens_to_ids("<|startoftext|>")
    if eos != max(vocab.values()):
        raise RuntimeError("X-CLIP pools text at argmax(input_ids): <|endoftext|> must be the largest id")
    config = XCLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=32, hidden_act="quick_gelu",
                         layer_norm_eps=1e-5, bos_token_id=bos, eos_token_id=eos, pad_token_id=eos,
                         initializer_range=0.1),
        vision_config=dict(image_size=32, patch_size=8, num_channels=3, hidden_size=32, intermediate_size=64,
                           num_hidden_layers=2, num_attention_heads=4, mit_hidden_size=24,
                           mit_intermediate_size=48, mit_num_hidden_layers=1, mit_num_attention_heads=4,
                           num_frames=NUM_FRAMES, hidden_act="quick_gelu", layer_norm_eps=1e-5,
                           initializer_range=0.1),
        projection_dim=24, prompt_layers=2, prompt_alpha=0.1, prompt_hidden_act="quick_gelu",
        prompt_num_attention_heads=4, logit_scale_init_value=2.6592)
    common.seed_all(SEED)
    model = XCLIPModel(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    with torch.no_grad():  # alpha is a per-channel parameter (init prompt_alpha = 0.1): seeded values ~0.5
        a = model.prompts_generator.alpha
        a.copy_(0.5 + 0.1 * torch.randn(a.shape, generator=torch.Generator().manual_seed(SEED + 2)))
    model.save_pretrained(model_dir)
    model = XCLIPModel.from_pretrained(model_dir).eval()

    videos = [make_video("move", NUM_FRAMES, *FRAME_HW, SEED + 10), make_video("flash", NUM_FRAMES, *FRAME_HW,
                                                                               SEED + 11)]
    inputs = processor(text=TEXTS, videos=[list(v) for v in videos], return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model(**inputs)
    eos_pos = inputs["input_ids"].argmax(-1)
    tensors = {
        "videos": torch.from_numpy(np.stack(videos)), "pixel_values": inputs["pixel_values"],
        "input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"], "eos_positions": eos_pos,
        "frame_pooler_output": out.vision_model_output.pooler_output,
        "vision_last_hidden_state": out.vision_model_output.last_hidden_state,
        "mit_last_hidden_state": out.mit_output.last_hidden_state,
        "text_last_hidden_state": out.text_model_output.last_hidden_state,
        "text_pooler_output": out.text_model_output.pooler_output,
        "video_embeds": out.video_embeds, "text_embeds": out.text_embeds,
        "logits_per_video": out.logits_per_video, "logits_per_text": out.logits_per_text,
        "probs_per_video": out.logits_per_video.softmax(-1), "logit_scale": model.logit_scale.detach().exp(),
    }
    meta = {
        "family": NAME, "hf_class": "XCLIPModel", "seed": SEED, "versions": common.versions(), "texts": TEXTS,
        "num_frames": NUM_FRAMES, "frame_hw": list(FRAME_HW), "videos": ["move", "flash"],
        "tokens": [tok.convert_ids_to_tokens(r) for r in inputs["input_ids"].tolist()],
        "notes": "videos = uint8 (video, frame, H, W, 3) inputs; pixel_values (video, frame, 3, 32, 32). "
                 "frame_pooler_output / vision_last_hidden_state are per frame (video * frame rows) of the vision "
                 "tower with message tokens; text pooled at argmax(input_ids) (X-CLIP's legacy rule, = first "
                 "<|endoftext|> here); video_embeds (video, dim) and text_embeds (video, text, dim) are "
                 "L2-normalised, text_embeds depend on the video via the prompt generator (per-channel "
                 "prompts_generator.alpha from the checkpoint, not config.prompt_alpha); "
                 "logits_per_video = logit_scale * per-video dot products.",
    }
    common.write_expected(exp_dir, tensors, meta)
