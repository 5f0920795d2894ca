"""Whisper (openai/whisper-tiny pipeline, tiny random weights): 16 kHz audio -> log-mel -> greedy transcript ids.

Feature extractor: transformers' WhisperFeatureExtractor with the real settings (80 mel bins, n_fft 400, hop
160, 16 kHz, Slaney mel filters, log10, clamp to max - 8, (x + 4) / 4, zero padding to the chunk) except
chunk_length 3 s instead of 30 (300 frames instead of 3000; the encoder has 150 positions to match).
Tokenizer: GPT-2-style byte-level BPE (ByteLevel pre-tokenizer with the GPT-2 regex, no prefix space; ByteLevel
decoder) trained small, followed by Whisper's special tokens in the real order: <|endoftext|>,
<|startoftranscript|>, the 100 language tokens, <|translate|>, <|transcribe|>, <|startoflm|>, <|startofprev|>,
<|nospeech|>, <|notimestamps|>, then the 1501 timestamp tokens <|0.00|> .. <|30.00|>. The post-processor is
the one WhisperTokenizer builds for language="en", task="transcribe": <|startoftranscript|> <|en|>
<|transcribe|> <|notimestamps|> $A <|endoftext|>.
Model features kept: two conv1d front end (GELU, stride 1 then 2), sinusoidal encoder positions, pre-LN
encoder/decoder, cross-attention, k_proj without bias, learned decoder positions, tied output embedding.
"""
import numpy as np
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (AutoTokenizer, GenerationConfig, GenerationMixin, WhisperConfig,
                          WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperTokenizer)
from transformers.models.whisper.tokenization_whisper import LANGUAGES

from .. import common
from ..corpus import CORPUS, TEST_TEXTS
from ._audio import save_wav, synth, to_float

NAME = "whisper"
SEED = 8008
SECONDS = 2.5
CHUNK = 3
MAX_NEW = 20
LABEL_TEXT = " The quick brown fox jumps over the lazy dog."


def specials():
    return (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{c}|>" for c in LANGUAGES]
            + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
               "<|notimestamps|>"] + [f"<|{i * 0.02:.2f}|>" for i in range(1501)])


def train_tokenizer(n_merges=300):
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    _, merges, learned = common.train_bpe(common.pretokenized_words(t, CORPUS), n_merges)
    byte_syms = sorted(pre_tokenizers.ByteLevel.alphabet(), key=lambda c: ord(c))
    pieces = byte_syms + [p for p in learned if p not in set(byte_syms)] + specials()
    return {p: i for i, p in enumerate(pieces)}, merges


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    vocab, merges = train_tokenizer()
    # The specials sit in the vocab (ids follow the BPE pieces, as in the real vocab) and are added tokens.
    hf_tok = WhisperTokenizer(vocab=vocab, merges=merges, language="en", task="transcribe",
                              predict_timestamps=False, model_max_length=64)
    hf_tok.add_special_tokens({"additional_special_tokens": specials()[1:]})
    hf_tok.set_prefix_tokens(language="en", task="transcribe", predict_timestamps=False)
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + [LABEL_TEXT])
    ids = {s: tok.convert_tokens_to_ids(s) for s in ["<|endoftext|>", "<|startoftranscript|>", "<|en|>",
                                                      "<|transcribe|>", "<|notimestamps|>", "<|0.00|>"]}
    if ids["<|startoftranscript|>"] != ids["<|endoftext|>"] + 1 or ids["<|0.00|>"] != ids["<|notimestamps|>"] + 1:
        raise RuntimeError(f"special token layout differs from Whisper's: {ids}")

    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=CHUNK,
                                 n_fft=400, padding_value=0.0, return_attention_mask=False)
    fe.save_pretrained(model_dir)
    fe = WhisperFeatureExtractor.from_pretrained(model_dir)
    pcm = synth(SECONDS, 16000, SEED)
    save_wav(pcm, exp_dir / "audio.wav")
    audio = to_float(pcm)
    feats = fe(audio, sampling_rate=16000, return_tensors="pt")["input_features"]

    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    prefix = [sot, ids["<|en|>"], ids["<|transcribe|>"], ids["<|notimestamps|>"]]
    config = WhisperConfig(vocab_size=len(tok), num_mel_bins=80, encoder_layers=2, decoder_layers=2,
                           encoder_attention_heads=4, decoder_attention_heads=4, d_model=32, encoder_ffn_dim=64,
                           decoder_ffn_dim=64, max_source_positions=CHUNK * 50, max_target_positions=64,
                           activation_function="gelu", scale_embedding=False, tie_word_embeddings=True,
                           pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=sot,
                           suppress_tokens=None, begin_suppress_tokens=None, init_std=0.1)
    common.seed_all(SEED)
    model = WhisperForConditionalGeneration(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    model.generation_config = GenerationConfig(decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot,
                                               bos_token_id=eot, max_length=64)
    model.save_pretrained(model_dir)

    dec_prefix = torch.tensor([prefix])
    suppress = [tok.convert_tokens_to_ids(s) for s in specials()[1:]]
    labels = tok(LABEL_TEXT, return_tensors="pt")["input_ids"]  # prefix + text + <|endoftext|>
    with torch.no_grad():
        enc_out = model.model.encoder(input_features=feats)
        # Greedy search from the forced prefix through GenerationMixin (not Whisper's generate with its
        # timestamp rules) with one logits processor, SuppressTokens over every special token except
        # <|endoftext|>: random weights would otherwise emit only specials and the transcript would be empty.
        g = GenerationMixin.generate(model, input_features=feats, decoder_input_ids=dec_prefix,
                                     max_new_tokens=MAX_NEW, do_sample=False, num_beams=1,
                                     suppress_tokens=suppress,
                                     return_dict_in_generate=True, output_logits=True, eos_token_id=eot,
                                     pad_token_id=eot)
        tf = model(input_features=feats, decoder_input_ids=labels[:, :-1]).logits
    step_logits = torch.stack(g.logits, dim=1)
    # Cross-check: a full decoder pass over the generated sequence reproduces the per-step logits.
    with torch.no_grad():
        full = model(encoder_outputs=(enc_out.last_hidden_state,), decoder_input_ids=g.sequences).logits
    n_pre = len(prefix)
    if (full[:, n_pre - 1:-1] - step_logits).abs().max() > 1e-4:
        raise RuntimeError("cached and uncached decoder logits disagree")
    tensors = {"audio": torch.from_numpy(audio), "audio_pcm16": torch.from_numpy(pcm.astype(np.int64)),
               "input_features": feats, "encoder_last_hidden_state": enc_out.last_hidden_state,
               "decoder_prefix_ids": dec_prefix, "greedy_sequences": g.sequences, "greedy_logits": step_logits,
               "greedy_margins": common.greedy_margins(step_logits.index_fill(-1, torch.tensor(suppress),
                                                                              float("-inf"))),
               "suppress_tokens": torch.tensor(suppress),
               "label_ids": labels, "teacher_forced_logits": tf}
    meta = {"family": NAME, "hf_class": "WhisperForConditionalGeneration", "seed": SEED,
            "versions": common.versions(), "audio_file": "audio.wav", "sampling_rate": 16000,
            "audio_seconds": SECONDS, "chunk_length": CHUNK, "max_new_tokens": MAX_NEW,
            "special_ids": ids, "label_text": LABEL_TEXT,
            "label_tokens": tok.convert_ids_to_tokens(labels[0].tolist()),
            "greedy_text": tok.decode(g.sequences[0, n_pre:], skip_special_tokens=True),
            "greedy_tokens": tok.convert_ids_to_tokens(g.sequences[0].tolist()),
            "notes": "audio = audio_pcm16 / 32768 (audio.wav, 16-bit mono). input_features [1, 80, 300]: "
                     "WhisperFeatureExtractor (torch STFT path) on the audio zero-padded to chunk_length s. "
                     "greedy_sequences = decoder_prefix_ids + up to max_new_tokens tokens, each the argmax of the "
                     "raw logits with suppress_tokens (every special but <|endoftext|>) set to -inf, stopping "
                     "at <|endoftext|>; greedy_logits[0, s] are the raw logits that chose token s after the "
                     "prefix; margins = top1 - top2 among unsuppressed tokens. "
                     "teacher_forced_logits: decoder fed label_ids[:, :-1] (tokenizer output for label_text)."}
    common.write_expected(exp_dir, tensors, meta)
