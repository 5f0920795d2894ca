"""T5 (t5-small pipeline, tiny random weights): text -> text, greedy and beam search, per-step logits.

Tokenizer mirrors t5-small's tokenizer.json: Precompiled normalizer (SentencePiece nmt_nfkc charsmap),
pre-tokenizer Sequence[WhitespaceSplit, Metaspace(▁, prepend always)], Unigram model (unk <unk>),
TemplateProcessing "$A </s>" / "$A </s> $B </s>", Metaspace decoder; specials <pad>=0 </s>=1 <unk>=2 and
sentinel tokens <extra_id_N> at the end of the vocabulary (<extra_id_0> last), as in T5.
Model features kept: relative position buckets (bidirectional encoder, causal decoder; only layer 0 owns the
bias table), RMS-style T5 layer norm, relu FFN, tied embeddings with the d_model^-0.5 output scaling.
"""
import base64
import json

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration, T5Tokenizer

from .. import common
from ..corpus import CORPUS

NAME = "t5"
SEED = 2002
N_EXTRA = 8
INPUTS = [
    "translate English to German: The house is wonderful.",
    "summarize: The weather today was sunny with a light breeze from the west.",
    "Caf\u00e9 \uff21\uff22\uff23 \u2460 question: what is  the capital?",
]


def train_tokenizer(vocab_size=480):
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Precompiled(common.nmt_nfkc_charsmap())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)])
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>", max_piece_length=16, show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    # Sentinels: part of the Unigram vocab (score 0) and added special tokens, <extra_id_0> with the last id.
    data = json.loads(tok.to_str())
    # The Unigram trainer's EM sums in hash-map order: scores differ in the last bits between processes. Round
    # them and order pieces canonically (specials first) so the file is byte-identical run to run.
    vocab = data["model"]["vocab"]
    specials, rest = vocab[:3], vocab[3:]
    rest = sorted(([p, round(sc, 6)] for p, sc in rest), key=lambda ps: (-ps[1], ps[0]))
    # Characters the trainer had to keep get scores just below the minimum, handed out in hash order too: give
    # the same scores to the same characters sorted by code point.
    low = min(sc for _, sc in rest)
    tail = [ps for ps in rest if len(ps[0]) == 1 and ps[1] <= low + 0.01]
    for ps, sc in zip(sorted(tail, key=lambda ps: ps[0]), sorted((sc for _, sc in tail), reverse=True)):
        ps[1] = sc
    rest = sorted(rest, key=lambda ps: (-ps[1], ps[0]))
    data["model"]["vocab"] = specials + rest
    for i in reversed(range(N_EXTRA)):
        data["model"]["vocab"].append([f"<extra_id_{i}>", 0.0])
    tok = Tokenizer.from_str(json.dumps(data))
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(f"<extra_id_{i}>", special=True, normalized=False)
                            for i in reversed(range(N_EXTRA))])
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A:0 </s>:0", pair="$A:0 </s>:0 $B:0 </s>:0", special_tokens=[("</s>", eos)])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    return tok


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

    config = T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
                      num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=16,
                      dropout_rate=0.0, layer_norm_epsilon=1e-6, feed_forward_proj="relu", tie_word_embeddings=True,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, decoder_start_token_id=0,
                      initializer_factor=5.0)  # larger than 1 so the random model is context-dependent
    common.seed_all(SEED)
    model = T5ForConditionalGeneration(config).eval()
    common.perturb_params(model, SEED + 1, 0.3)
    model.save_pretrained(model_dir)

    enc = tok(INPUTS, padding=True, return_tensors="pt")
    gen_kw = dict(max_new_tokens=12, do_sample=False, return_dict_in_generate=True, output_logits=True,
                  output_scores=True)
    with torch.no_grad():
        encoder_out = model.get_encoder()(**enc).last_hidden_state
        greedy = model.generate(**enc, num_beams=1, **gen_kw)
        beam = model.generate(**enc, num_beams=4, num_return_sequences=1, length_penalty=1.0,
                              early_stopping=False, **gen_kw)
        # Teacher-forced decoder pass over the greedy output: the full logits tensor at once.
        tf = model(**enc, decoder_input_ids=greedy.sequences[:, :-1])
    greedy_logits = torch.stack(greedy.logits, dim=1)  # [batch, steps, vocab]
    tensors = {
        "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
        "encoder_last_hidden_state": encoder_out,
        "greedy_sequences": greedy.sequences, "greedy_logits": greedy_logits,
        "greedy_margins": common.greedy_margins(greedy_logits),
        "teacher_forced_logits": tf.logits,
        "beam_sequences": beam.sequences, "beam_sequences_scores": beam.sequences_scores,
    }
    meta = {
        "family": NAME, "hf_class": "T5ForConditionalGeneration", "seed": SEED, "versions": common.versions(),
        "texts": INPUTS, "padding_side": "right",
        "tokens": [tok.convert_ids_to_tokens(ids) for ids in enc["input_ids"].tolist()],
        "greedy": {"max_new_tokens": 12, "num_beams": 1,
                   "decoded": tok.batch_decode(greedy.sequences, skip_special_tokens=True)},
        "beam": {"max_new_tokens": 12, "num_beams": 4, "length_penalty": 1.0, "early_stopping": False,
                 "decoded": tok.batch_decode(beam.sequences, skip_special_tokens=True)},
        "notes": "sequences start with decoder_start_token_id (0) and are padded with pad_token_id after </s>; "
                 "greedy_logits[b, s] are the raw logits that chose greedy_sequences[b, s+1]; greedy_margins is "
                 "top1-top2 of each; teacher_forced_logits = decoder(greedy_sequences[:, :-1]) in one pass.",
        "tokenizer_precompiled_charsmap_sha256": __import__("hashlib").sha256(
            base64.b64decode(json.load(open(model_dir / "tokenizer.json"))["normalizer"]["precompiled_charsmap"])
        ).hexdigest(),
    }
    common.write_expected(exp_dir, tensors, meta)
