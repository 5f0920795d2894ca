"""BERT (bert-base-uncased pipeline, tiny random weights): text -> last_hidden_state, pooler, mean-pooled embedding.

Tokenizer mirrors bert-base-uncased's tokenizer.json: BertNormalizer(lowercase, clean_text, handle_chinese_chars,
strip_accents=None -> follows lowercase), BertPreTokenizer, WordPiece(##, unk [UNK], 100 chars/word),
TemplateProcessing [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1, WordPiece decoder (cleanup).
"""
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoTokenizer, BertConfig, BertModel, BertTokenizer

from .. import common
from ..corpus import CORPUS, TEST_TEXTS

NAME = "bert"
SEED = 1001
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(vocab_size=400):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", continuing_subword_prefix="##", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = common.pretokenized_words(tok, CORPUS)
    alphabet, _, learned = common.train_bpe(words, vocab_size, prefix="##")
    pieces = SPECIALS + alphabet + learned
    vocab = {p: i for i, p in enumerate(pieces[:vocab_size])}
    tok.model = models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                 max_input_chars_per_word=100)
    tok.add_special_tokens(SPECIALS)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return tok


def masked_mean(h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    raw = train_tokenizer()
    hf_tok = BertTokenizer(tokenizer_object=raw, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                           cls_token="[CLS]", mask_token="[MASK]", do_lower_case=True, model_max_length=64)
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS)

    # bert-base-uncased shape ratios, tiny: 2 layers, d 32, 4 heads, ff 4*d; absolute positions, 2 token types.
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=128, hidden_act="gelu", max_position_embeddings=64, type_vocab_size=2,
                        layer_norm_eps=1e-12, pad_token_id=tok.pad_token_id, initializer_range=0.1)
    common.seed_all(SEED)
    model = BertModel(config).eval()
    common.perturb_params(model, SEED + 1)
    model.save_pretrained(model_dir)

    # A batch of single texts (right padding) and one text pair (token_type_ids 1 on the second segment).
    enc = tok(TEST_TEXTS, padding=True, return_tensors="pt")
    pair = tok(TEST_TEXTS[0], TEST_TEXTS[1], return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
        pout = model(**pair)
    mean = masked_mean(out.last_hidden_state, enc["attention_mask"])
    tensors = {
        "input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
        "token_type_ids": enc["token_type_ids"],
        "last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output,
        "embedding_mean": mean, "embedding_mean_l2": torch.nn.functional.normalize(mean, dim=-1),
        "pair_input_ids": pair["input_ids"], "pair_attention_mask": pair["attention_mask"],
        "pair_token_type_ids": pair["token_type_ids"], "pair_last_hidden_state": pout.last_hidden_state,
    }
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h
    meta = {
        "family": NAME, "hf_class": "BertModel", "seed": SEED, "versions": common.versions(),
        "texts": TEST_TEXTS, "pair": [TEST_TEXTS[0], TEST_TEXTS[1]],
        "tokens": [tok.convert_ids_to_tokens(ids) for ids in enc["input_ids"].tolist()],
        "decoded": tok.batch_decode(enc["input_ids"], skip_special_tokens=True),
        "padding_side": "right",
        "notes": "hidden_states.0 is the embedding-layer output; embedding_mean is the attention-mask-weighted "
                 "mean of last_hidden_state (sentence-transformers mean pooling), embedding_mean_l2 its L2 norm.",
    }
    common.write_expected(exp_dir, tensors, meta)
