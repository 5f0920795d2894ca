"""Wav2Vec2 (facebook/wav2vec2-base-960h pipeline, tiny random weights): 16 kHz audio -> CTC logits -> text.

Feature extractor: Wav2Vec2FeatureExtractor with the real settings (raw 16 kHz samples, per-utterance
zero-mean / unit-variance normalisation (do_normalize), zero padding, no attention mask: the group-norm base
model must not be given one). Tokenizer: Wav2Vec2CTCTokenizer with the real 960h character vocabulary (32
entries: <pad> = CTC blank, <s>, </s>, <unk>, "|" word delimiter, upper-case letters and apostrophe);
decode = argmax per frame, merge repeats, drop blanks, "|" -> space.
Model features kept: the 7-layer conv feature encoder with the real kernels (10,3,3,3,3,2,2) and strides
(5,2,2,2,2,2,2) (320x downsampling), no conv bias, GroupNorm on the first conv layer only ("group" variant, as
wav2vec2-base), GELU; feature projection (LayerNorm + linear); convolutional relative position embedding
(weight-normalised grouped conv, even kernel -> one frame trimmed); post-LN transformer encoder (base layout,
do_stable_layer_norm false); CTC head.
"""
import json

import torch
from transformers import (AutoTokenizer, Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor,
                          Wav2Vec2ForCTC)

from .. import common
from ._audio import save_wav, synth, to_float

NAME = "wav2vec2"
SEED = 9009
CHARS = ["<pad>", "<s>", "</s>", "<unk>", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U", "M",
         "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z"]
CLIPS = [(2.0, 196.0), (1.3, 330.0)]  # (seconds, fundamental Hz) of the two generated utterances
LABEL_TEXT = "THE QUICK BROWN FOX DOESN'T JUMP"


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    vocab_path = exp_dir.parent / "vocab_tmp.json"
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump({c: i for i, c in enumerate(CHARS)}, f)
    hf_tok = Wav2Vec2CTCTokenizer(str(vocab_path), unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                  eos_token="</s>", word_delimiter_token="|", do_lower_case=False)
    vocab_path.unlink()
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                  return_attention_mask=False)
    fe.save_pretrained(model_dir)
    fe = Wav2Vec2FeatureExtractor.from_pretrained(model_dir)

    pcms = [synth(sec, 16000, SEED + i, f0) for i, (sec, f0) in enumerate(CLIPS)]
    for i, p in enumerate(pcms):
        save_wav(p, exp_dir / f"audio{i}.wav")
    audios = [to_float(p) for p in pcms]
    batch = fe(audios, sampling_rate=16000, padding=True, return_tensors="pt")
    single = fe(audios[0], sampling_rate=16000, return_tensors="pt")
    if "attention_mask" in batch:
        raise RuntimeError("the group-norm base variant must run without an attention mask")

    config = Wav2Vec2Config(vocab_size=len(CHARS), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, hidden_act="gelu", feat_extract_norm="group",
                            feat_extract_activation="gelu", conv_dim=(32,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2),
                            conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_bias=False, num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=4, do_stable_layer_norm=False, layer_norm_eps=1e-5,
                            pad_token_id=0, bos_token_id=1, eos_token_id=2, ctc_loss_reduction="sum",
                            ctc_zero_infinity=False, initializer_range=0.1, apply_spec_augment=True,
                            mask_time_prob=0.05)
    common.seed_all(SEED)
    model = Wav2Vec2ForCTC(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    # Random weights pick almost no blank or "|" and one letter dominates, which would leave blank removal and
    # word splitting untested: centre every token's logit over the frames, then raise the blank and "|" biases so that blank wins about half the frames and "|" about a sixth (on the single clip;
    # the offsets are medians/quantiles of the logit gaps, rounded, so deterministic).
    with torch.no_grad():
        lg = model(single["input_values"]).logits[0]
        model.lm_head.bias -= torch.round(lg.mean(0) * 100) / 100  # centre each token's logit over frames
        lg = model(single["input_values"]).logits[0]
        for tid, q in ((4, 0.25), (0, 0.50)):
            others = torch.cat([lg[:, :tid], lg[:, tid + 1:]], dim=-1).amax(-1)
            model.lm_head.bias[tid] += round(float(torch.quantile(others - lg[:, tid], q)), 2) + 0.005
            lg = model(single["input_values"]).logits[0]
    model.save_pretrained(model_dir)

    with torch.no_grad():
        base = model.wav2vec2(single["input_values"], output_hidden_states=True)
        logits = model(single["input_values"]).logits
        bbase = model.wav2vec2(batch["input_values"])
        blogits = model(batch["input_values"]).logits
    pred = logits.argmax(-1)
    bpred = blogits.argmax(-1)
    top2 = torch.topk(logits, 2, dim=-1).values
    label_ids = tok(LABEL_TEXT)["input_ids"]
    tensors = {"audio0": torch.from_numpy(audios[0]), "audio1": torch.from_numpy(audios[1]),
               "input_values": single["input_values"], "extract_features": base.extract_features,
               "last_hidden_state": base.last_hidden_state, "logits": logits, "predicted_ids": pred,
               "frame_margins": top2[..., 0] - top2[..., 1],
               "batch_input_values": batch["input_values"], "batch_last_hidden_state": bbase.last_hidden_state,
               "batch_logits": blogits, "batch_predicted_ids": bpred, "label_ids": torch.tensor(label_ids)}
    for i, h in enumerate(base.hidden_states):
        tensors[f"hidden_states.{i}"] = h
    meta = {"family": NAME, "hf_class": "Wav2Vec2ForCTC", "seed": SEED, "versions": common.versions(),
            "audio_files": [f"audio{i}.wav" for i in range(len(pcms))], "sampling_rate": 16000,
            "clips_seconds_f0": [list(c) for c in CLIPS],
            "transcription": tok.decode(pred[0].tolist()),
            "batch_transcriptions": tok.batch_decode(bpred.tolist()),
            "label_text": LABEL_TEXT, "label_decoded": tok.decode(label_ids, group_tokens=False),
            "notes": "audioN = int16 samples of audioN.wav / 32768. input_values: feature extractor output "
                     "(normalised per utterance; batch rows zero-padded after normalising, no attention mask, "
                     "so padded rows differ from unpadded runs by design). extract_features: conv encoder "
                     "output [1, frames, 32] before the feature projection. transcription = CTC greedy decode "
                     "of predicted_ids (argmax per frame): merge repeats, drop <pad>, '|' -> ' '. "
                     "frame_margins = top1 - top2 logit per frame. hidden_states.N: N = 0 is the encoder input "
                     "after positional conv + LayerNorm."}
    common.write_expected(exp_dir, tensors, meta)
