"""Annotation tools: the markup, the validator, corpus stats and interchange formats.

Run ``python -m liqa.annotations --help`` for the command line.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from liqa.annotations import markup
from liqa.annotations.validate import check_document
from liqa.schema import Document, canonical, iter_jsonl

SUFFIXES = (".jsonl", ".lqm")


@dataclass
class Located:
    """A document with where it came from, so every message can name file and line."""

    doc: Document
    path: Path
    line: int  # the JSONL line, or the markup header line
    lines: dict[str, int]  # markup line per author id (empty for JSONL)

    def where(self, subject: str | None = None) -> str:
        return f"{self.path}:{self.lines.get(subject, self.line) if subject else self.line}"


@dataclass
class Issue:
    where: str  # "file:line"
    doc_id: str  # "-" when the document could not be read
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.doc_id}: {self.message}"


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to the .jsonl and .lqm files below them, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
        else:
            files.append(p)
    return files


def load(paths: Iterable[str | Path]) -> tuple[list[Located], list[Issue]]:
    """Read every document under `paths`; what cannot be read becomes an Issue, never a crash."""
    docs: list[Located] = []
    issues: list[Issue] = []
    for path in find_files(paths):
        for item in _read_file(path):
            (docs if isinstance(item, Located) else issues).append(item)
    return docs, issues


def _read_file(path: Path) -> Iterator[Located | Issue]:
    if not path.exists():
        yield Issue(f"{path}:0", "-", "no such file")
        return
    if path.suffix not in SUFFIXES:
        yield Issue(f"{path}:0", "-", f"not an annotation file (expected {' or '.join(SUFFIXES)})")
        return
    try:
        if path.suffix == ".lqm":
            try:
                parsed = markup.read(path)
            except markup.MarkupError as exc:
                yield Issue(f"{path}:{exc.line}", path.stem, exc.message)
                return
            yield Located(parsed.doc, path, parsed.header_line, parsed.lines)
            return
        for lineno, obj, err in iter_jsonl(path):
            doc_id = str(obj.get("id", "-")) if obj else "-"
            if err is None:
                try:
                    yield Located(Document.model_validate(obj), path, lineno, {})
                    continue
                except ValueError as exc:
                    err = _pydantic_message(exc)
            yield Issue(f"{path}:{lineno}", doc_id, err)
    except UnicodeDecodeError as exc:
        yield Issue(f"{path}:0", "-", f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _pydantic_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not errors:
        return str(exc)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in errors()[:5])


def validate(located: list[Located]) -> list[Issue]:
    """Per-document checks, plus document ids unique across the corpus (markup and
    its built JSONL may share an id, but must then say the same)."""
    issues = [Issue(loc.where(p.subject), loc.doc.id, p.message)
              for loc in located for p in check_document(loc.doc)]
    first: dict[str, Located] = {}
    for loc in located:
        other = first.setdefault(loc.doc.id, loc)
        if other is loc:
            continue
        pair = {other.path.suffix, loc.path.suffix}
        if pair == {".lqm", ".jsonl"}:
            if canonical(other.doc) != canonical(loc.doc):
                issues.append(Issue(loc.where(), loc.doc.id, f"differs from its markup source "
                                    f"{other.where()}: run 'python -m liqa.annotations build'"))
        else:
            issues.append(Issue(loc.where(), loc.doc.id, f"document id also used at {other.where()}"))
    return issues


def unique_docs(located: list[Located]) -> list[Document]:
    """One document per id, preferring the built JSONL over its markup source."""
    best: dict[str, Located] = {}
    for loc in located:
        if loc.doc.id not in best or loc.path.suffix == ".jsonl":
            best[loc.doc.id] = loc
    return [loc.doc for loc in best.values()]
