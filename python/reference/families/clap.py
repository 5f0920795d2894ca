"""CLAP (laion/clap-htsat-unfused pipeline, tiny random weights): audio + texts -> embeddings, similarities.

Feature extractor: the real ClapFeatureExtractor recipe (48 kHz, hop 480, FFT window 1024, Slaney mel 0-14 kHz in
dB, padding "repeatpad": short clips are repeated then zero-padded to max_length, truncation "rand_trunc" never
triggers because both clips are shorter than max_length) with 16 mel bins and max_length_s 1 (101 frames)
instead of 64 bins / 10 s. Audio model: HTSAT (Swin transformer on the log-mel "image"): the 101 frames are
bicubically resized to spec_size * freq_ratio = 256 and folded to a 64x64 image (freq_ratio 4 as in the real
model, which resizes 1001 -> 1024), patch 4 -> 16x16 tokens, stage 1 with 4x4 windows and shifted windows
(depth 2), patch merging to 8x8, stage 2 (windows + shift again); then the HTSAT latent pooling and the
2-layer ReLU projection. Text model: RoBERTa with a byte-level BPE trained here (ByteLevel pre-tokenizer,
RobertaProcessing <s> $A </s>, ByteLevel decoder, vocab <s> <pad> </s> <unk> ... <mask>), padding-aware
positions (pad_token_id + 1 offset), 2-layer ReLU projection.
"""
import numpy as np
import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor, RobertaTokenizer

from .. import common
from ..corpus import CORPUS, TEST_TEXTS

NAME = "clap"
SEED = 13013
RATE = 48000
TEXTS = ["a dog barking", "the sound of a piano chord", "Rain falling on a ROOF, with distant thunder."]
INIT_FACTOR = 5.0  # HF init (std 0.02 * factor) would make all embeddings nearly parallel
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def train_tokenizer(n_merges=300):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    alphabet, merges, learned = common.train_bpe(common.pretokenized_words(tok, CORPUS), n_merges)
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for p in sorted(set(pre_tokenizers.ByteLevel.alphabet()) | set(alphabet)) + learned:
        if p not in vocab:
            vocab[p] = len(vocab)
    vocab["<mask>"] = len(vocab)
    tok.model = models.BPE(vocab=vocab, merges=merges, unk_token=None, byte_fallback=False, fuse_unk=False)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    tok.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    return tok


def synth(seconds, seed, f0):
    """Deterministic float32 mono clip at 48 kHz: a harmonic tone with vibrato and an envelope, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * RATE))) / RATE
    phase = 2 * np.pi * f0 * t + 3.0 * np.sin(2 * np.pi * 5.0 * t)
    x = sum(0.5 / k * np.sin(k * phase) for k in (1, 2, 3, 5))
    env = np.minimum(1.0, t / 0.02) * np.exp(-2.0 * t)
    x = 0.6 * x * env + 0.02 * rng.standard_normal(t.shape)
    return x.astype(np.float32)


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    raw = train_tokenizer()
    hf_tok = RobertaTokenizer(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                              cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                              add_prefix_space=False, trim_offsets=True, model_max_length=64,
                              clean_up_tokenization_spaces=False)
    fe = ClapFeatureExtractor(feature_size=16, sampling_rate=RATE, hop_length=480, max_length_s=1,
                              fft_window_size=1024, padding_value=0.0, return_attention_mask=False,
                              frequency_min=0, frequency_max=14000, top_db=None, truncation="rand_trunc",
                              padding="repeatpad")
    processor = ClapProcessor(feature_extractor=fe, tokenizer=hf_tok)
    processor.save_pretrained(model_dir)
    processor = ClapProcessor.from_pretrained(model_dir)
    tok = processor.tokenizer
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + TEXTS)

    config = ClapConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, hidden_act="gelu", max_position_embeddings=66, type_vocab_size=1,
                         layer_norm_eps=1e-5, projection_dim=24, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                         projection_hidden_act="relu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                         initializer_factor=INIT_FACTOR),
        audio_config=dict(window_size=4, num_mel_bins=16, spec_size=64, hidden_act="gelu", patch_size=4,
                          patch_stride=[4, 4], num_classes=10, hidden_size=32, projection_dim=24, depths=[2, 2],
                          num_attention_heads=[2, 4], enable_fusion=False, hidden_dropout_prob=0.0,
                          patch_embed_input_channels=1, flatten_patch_embeds=True, patch_embeds_hidden_size=16,
                          enable_patch_layer_norm=True, drop_path_rate=0.0, attention_probs_dropout_prob=0.0,
                          qkv_bias=True, mlp_ratio=2.0, num_hidden_layers=2, projection_hidden_act="relu",
                          layer_norm_eps=1e-5, initializer_factor=INIT_FACTOR),
        projection_dim=24, projection_hidden_act="relu", logit_scale_init_value=1 / 0.07,
        initializer_factor=INIT_FACTOR)
    common.seed_all(SEED)
    model = ClapModel(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    with torch.no_grad():  # HF zeroes the Swin relative position bias tables: give them seeded values
        gen = torch.Generator().manual_seed(SEED + 2)
        for name, p in sorted(model.named_parameters()):
            if name.endswith("relative_position_bias_table"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
    model.save_pretrained(model_dir)
    model = ClapModel.from_pretrained(model_dir).eval()

    audios = [synth(0.4, SEED + 10, 330.0), synth(0.7, SEED + 11, 180.0)]
    feats = processor.feature_extractor(audios, sampling_rate=RATE, return_tensors="pt")
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                    input_features=feats["input_features"], is_longer=feats["is_longer"])
        a_out = model.audio_model(input_features=feats["input_features"], is_longer=feats["is_longer"])
        t_out = model.text_model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    tensors = {
        "audio_0": torch.from_numpy(audios[0]), "audio_1": torch.from_numpy(audios[1]),
        "input_features": feats["input_features"], "is_longer": feats["is_longer"],
        "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
        "audio_last_hidden_state": a_out.last_hidden_state, "audio_pooler_output": a_out.pooler_output,
        "text_last_hidden_state": t_out.last_hidden_state, "text_pooler_output": t_out.pooler_output,
        "audio_embeds": out.audio_embeds, "text_embeds": out.text_embeds,
        "logits_per_audio": out.logits_per_audio, "logits_per_text": out.logits_per_text,
        "logit_scale_a": model.logit_scale_a.detach().exp(), "logit_scale_t": model.logit_scale_t.detach().exp(),
    }
    meta = {
        "family": NAME, "hf_class": "ClapModel", "seed": SEED, "versions": common.versions(), "texts": TEXTS,
        "sampling_rate": RATE, "audio_seconds": [0.4, 0.7],
        "tokens": [tok.convert_ids_to_tokens(r) for r in enc["input_ids"].tolist()],
        "notes": "audio_i = float32 mono 48 kHz inputs; input_features (batch, 1, frames, mel) from "
                 "ClapFeatureExtractor (repeatpad, dB mel); text right-padded with <pad> (id 1), RoBERTa "
                 "positions start at pad_token_id + 1; text pooled output = RoBERTa pooler on <s>. "
                 "audio_embeds / text_embeds = projections, L2-normalised; logits_per_audio = logit_scale_a * "
                 "audio_embeds @ text_embeds.T (logit_scale_* = exp of the stored parameters).",
    }
    common.write_expected(exp_dir, tensors, meta)
