"""T5 v1.1 (google/t5-v1_1-* layout, tiny random weights): gated-GELU feed-forward, untied lm_head without output
scaling, different encoder / decoder depths; greedy and beam search with every generation option the C runtime
implements, per-step logits, and the relative position buckets HF computes.

The tokenizer is the t5 family's (v1.1 uses t5-small's SentencePiece vocabulary). The config mirrors the keys of
google/t5-v1_1-small's config.json: "tie_word_embeddings": false and no relative_attention_max_distance (default
128), no dense_act_fn / is_gated_act / scale_decoder_outputs (transformers derives them). transformers 5.24 always
ties lm_head to shared when saving, so the untied lm_head.weight is added to model.safetensors afterwards and the
expected outputs come from the model reloaded from those files (HF keeps an lm_head whose values differ).
The EOS row of lm_head is raised so that sequences end at different steps (pad after EOS, finished beams, an early
stop of beam_short). initializer_factor is 2, not the t5 fixture's 5: with gated-GELU, 5 makes the residual stream
grow ~30x and HF's own fp32 logits differ from fp64 by 2e-4 (no fp32 implementation could meet the 1e-4 bar); at
2 they differ by 6e-6.
"""
import json

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration, T5Tokenizer
from transformers.cache_utils import DynamicCache, EncoderDecoderCache
from transformers.models.t5.modeling_t5 import T5Attention

from .. import common
from .t5 import N_EXTRA, train_tokenizer

NAME = "t5_v11"
SEED = 2011
EOS_BOOST = 3.5
INIT_FACTOR = 2.0
INPUTS = [
    "translate English to German: The house is wonderful.",
    "summarize: The weather today was sunny with a light breeze from the west, and the evening was calm and warm.",
    "question: what is the capital?",
    "cola sentence: The the house walked quickly.",
]
# (name, generate kwargs): every case runs on all INPUTS as one batch
CASES = [
    ("greedy", dict(num_beams=1, max_new_tokens=20)),
    ("greedy_ngram", dict(num_beams=1, max_new_tokens=14, no_repeat_ngram_size=2, min_new_tokens=5)),
    ("beam", dict(num_beams=4, max_new_tokens=20, length_penalty=1.0, early_stopping=False)),
    ("beam_es", dict(num_beams=2, max_new_tokens=20, length_penalty=0.6, early_stopping=True,
                     no_repeat_ngram_size=2)),
    ("beam_never", dict(num_beams=2, max_new_tokens=12, length_penalty=2.0, early_stopping="never",
                        min_new_tokens=4)),
    ("beam_short", dict(num_beams=3, max_new_tokens=20, length_penalty=-2.0, early_stopping=False)),
    # settings only a generation_config.json carries (the C test writes them into a copy of the model)
    ("greedy_gencfg", dict(num_beams=1, max_new_tokens=12, repetition_penalty=1.3, min_length=6)),
    ("beam_gencfg", dict(num_beams=3, max_new_tokens=12, repetition_penalty=1.3, min_length=6, length_penalty=1.0,
                         early_stopping=False)),
]
BUCKET_CONFIGS = [(32, 128), (8, 16)]  # (num_buckets, max_distance): v1.1/t5-small defaults, the t5 fixture's
BUCKET_RANGE = 300


def v11_config(path):
    """Rewrites config.json the way google/t5-v1_1 checkpoints have it."""
    cfg = json.loads(path.read_text())
    for key in ("scale_decoder_outputs", "relative_attention_max_distance", "dense_act_fn", "is_gated_act"):
        cfg.pop(key, None)
    cfg["tie_word_embeddings"] = False
    common.write_json(path, cfg)


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    raw = train_tokenizer()
    hf_tok = T5Tokenizer(tokenizer_object=raw, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                         extra_ids=0, additional_special_tokens=[f"<extra_id_{i}>" for i in range(N_EXTRA)],
                         model_max_length=64)
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", INPUTS)

    config = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=3,
                      num_heads=4, relative_attention_num_buckets=32, dropout_rate=0.0, layer_norm_epsilon=1e-6,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=tok.pad_token_id,
                      eos_token_id=tok.eos_token_id, decoder_start_token_id=0,
                      initializer_factor=INIT_FACTOR)
    common.seed_all(SEED)
    model = T5ForConditionalGeneration(config).eval()
    common.perturb_params(model, SEED + 1, 0.3)
    model.save_pretrained(model_dir)

    # the untied head: random rows like shared's, EOS raised along the mean direction of the decoder output
    gen = torch.Generator().manual_seed(SEED + 2)
    weights = load_file(str(model_dir / "model.safetensors"))
    lm_head = torch.randn(config.vocab_size, config.d_model, generator=gen) * 2.0
    lm_head[tok.eos_token_id] += EOS_BOOST * model.decoder.final_layer_norm.weight.detach()
    weights["lm_head.weight"] = lm_head.contiguous()
    save_file(dict(sorted(weights.items())), str(model_dir / "model.safetensors"), metadata={"format": "pt"})
    v11_config(model_dir / "config.json")
    model = T5ForConditionalGeneration.from_pretrained(model_dir).eval()
    assert not model.config.scale_decoder_outputs
    assert torch.equal(model.lm_head.weight, weights["lm_head.weight"])

    enc = tok(INPUTS, padding=True, return_tensors="pt")
    tensors = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    meta = {
        "family": NAME, "hf_class": "T5ForConditionalGeneration", "seed": SEED, "versions": common.versions(),
        "texts": INPUTS, "padding_side": "right",
        "tokens": [tok.convert_ids_to_tokens(ids) for ids in enc["input_ids"].tolist()],
        "cases": {},
        "bucket_range": BUCKET_RANGE, "bucket_configs": BUCKET_CONFIGS,
        "notes": "sequences start with decoder_start_token_id (0); greedy rows are padded with pad_token_id after "
                 "</s>, beam rows with eos (HF fills with `pad_token_id or eos_token_id`); <case>_logits[b, s] are "
                 "the raw logits that chose <case>_sequences[b, s+1] (greedy cases); teacher_forced_logits = "
                 "decoder(greedy_sequences[:, :-1]) in one pass (_f16_weights: with every weight rounded to f16, computed in f32); buckets_<n>_<d>_{bi,causal}[i] is the bucket of "
                 "relative position i - bucket_range.",
    }
    with torch.no_grad():
        tensors["encoder_last_hidden_state"] = model.get_encoder()(**enc).last_hidden_state
        for name, kw in CASES:
            # a config-less cache grows per layer: generate() would size it by num_layers (the encoder's depth,
            # transformers 5.24), too small for a deeper decoder
            out = model.generate(**enc, do_sample=False, return_dict_in_generate=True, output_logits=True,
                                 output_scores=True, cache=EncoderDecoderCache(DynamicCache(), DynamicCache()), **kw)
            tensors[f"{name}_sequences"] = out.sequences
            if kw["num_beams"] == 1:
                logits = torch.stack(out.logits, dim=1)
                tensors[f"{name}_logits"] = logits
                tensors[f"{name}_margins"] = common.greedy_margins(logits)
            else:
                tensors[f"{name}_sequences_scores"] = out.sequences_scores
            meta["cases"][name] = {**kw, "decoded": tok.batch_decode(out.sequences, skip_special_tokens=True)}
        tf = model(**enc, decoder_input_ids=tensors["greedy_sequences"][:, :-1])
        tensors["teacher_forced_logits"] = tf.logits
        # the same with every weight rounded to f16 (computed in f32): what a half-precision checkpoint gives
        for p in model.parameters():
            p.copy_(p.half().float())
        tf = model(**enc, decoder_input_ids=tensors["greedy_sequences"][:, :-1])
        tensors["teacher_forced_logits_f16_weights"] = tf.logits
    rel = torch.arange(-BUCKET_RANGE, BUCKET_RANGE + 1)
    for n, d in BUCKET_CONFIGS:
        for bi in (True, False):
            tensors[f"buckets_{n}_{d}_{'bi' if bi else 'causal'}"] = T5Attention._relative_position_bucket(
                rel, bidirectional=bi, num_buckets=n, max_distance=d)
    common.write_expected(exp_dir, tensors, meta)
