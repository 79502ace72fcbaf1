"""Reading prediction inputs: .txt files, directories, .jsonl records, or stdin.

Bad input never stops the batch: each problem becomes an InputError naming the
file (and line), and reading goes on with the rest.
"""
from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from liqa.schema import LANGS, Document
from liqa.text import guess_lang

MAX_CHARS = 1_000_000  # about 300 news articles; anything longer is almost surely not one document


@dataclass
class InputError:
    where: str  # "file" or "file:line"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Item:
    doc: Document
    warnings: list[str]
    where: str  # "file" or "file:line", for messages about this document


def read_inputs(inputs: list[str], max_chars: int = MAX_CHARS,
                skip: Path | None = None) -> Iterator[Item | InputError]:
    """Documents in input order: files as given, directories sorted, JSONL line by line.

    `skip` (the output file) is never read, even inside an input directory.
    """
    for name in inputs:
        if name == "-":
            yield from _read_stream(sys.stdin.buffer.read(), "<stdin>", max_chars)
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl") and p.is_file()
                           and not (skip is not None and p.resolve() == skip.resolve()))
            if not files:
                yield InputError(name, "directory holds no .txt or .jsonl files")
            for f in files:
                yield from _read_file(f, f.relative_to(path).with_suffix("").as_posix(), max_chars)
        elif path.is_file():
            yield from _read_file(path, path.stem, max_chars)
        else:
            yield InputError(name, "no such file or directory")


def _read_file(path: Path, doc_id: str, max_chars: int) -> Iterator[Item | InputError]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield InputError(str(path), f"cannot read: {exc.strerror}")
        return
    if path.suffix == ".jsonl":
        yield from _read_jsonl(raw, str(path), max_chars)
    else:
        yield from _text_item(raw, str(path), doc_id, max_chars)


def _read_stream(raw: bytes, where: str, max_chars: int) -> Iterator[Item | InputError]:
    if raw.lstrip()[:1] == b"{":
        yield from _read_jsonl(raw, where, max_chars)
    else:
        yield from _text_item(raw, where, "stdin", max_chars)


# Windows tools write UTF-16 (and some UTF-32) with a byte-order mark; UTF-32 first, since
# its little-endian mark starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), None
            except UnicodeDecodeError as exc:
                return None, f"not {codec.upper()} text after its byte-order mark (bad bytes at offset {exc.start})"
    if b"\x00" in raw[:8192]:
        return None, "looks binary (NUL bytes), not a text article (UTF-16 or UTF-32 text needs a byte-order mark)"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (bad byte at offset {exc.start}); convert it with iconv first"


def _check_text(text: str, max_chars: int) -> str | None:
    if not text.strip():
        return "empty: no text to read"
    if len(text) > max_chars:
        return f"too large: {len(text):,} characters (limit {max_chars:,}; raise it with --max-chars)"
    return None


def _text_item(raw: bytes, where: str, doc_id: str, max_chars: int) -> Iterator[Item | InputError]:
    text, err = _decode(raw)
    err = err or _check_text(text, max_chars)
    if err:
        yield InputError(where, err)
        return
    lang = guess_lang(text)
    yield Item(Document(id=doc_id, lang=lang, text=text), [f"language guessed from the script: {lang}"], where)


def _read_jsonl(raw: bytes, where: str, max_chars: int) -> Iterator[Item | InputError]:
    text, err = _decode(raw)
    if err:
        yield InputError(where, err)
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        loc = f"{where}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(loc, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield record_item(rec, loc, max_chars)


def record_item(rec: object, where: str, max_chars: int = MAX_CHARS) -> Item | InputError:
    """One {"id", "text", optional "lang", "date"} record (a JSONL line, or a record given to liqa.load's
    extractor) as a document; the language is guessed from the script when "lang" is missing."""
    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not rec.get("id"):
        return InputError(where, 'expected an object with "id" and "text" (optional "lang", "date")')
    err = _check_text(rec["text"], max_chars)
    lang = rec.get("lang")
    if lang is not None and lang not in LANGS:
        err = err or f'"lang" must be one of {", ".join(LANGS)}, got {lang!r}'
    if err:
        return InputError(f"{where} (id {rec['id']})", err)
    warnings = [] if lang else [f"language guessed from the script: {guess_lang(rec['text'])}"]
    date = rec.get("date")
    return Item(Document(id=str(rec["id"]), lang=lang or guess_lang(rec["text"]), text=rec["text"],
                         date=str(date) if date else None), warnings, where)
