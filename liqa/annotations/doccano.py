"""doccano JSONL for sequence labeling with relations.

One document a line::

    {"id": 1, "text": ..., "entities": [{"id": 1, "label": "PERSON", "start_offset": 0, "end_offset": 11}],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "HAS_ROLE"}],
     "doc_id": ..., "lang": ..., "source": ..., "date": ..., "meta": {...}}

doccano keeps the extra top-level keys (doc_id, lang, source, date, meta) as
the example's metadata. Events travel as PARTICIPANT/VENUE/WHEN/SAME_EVENT
relations from a trigger. doccano computes offsets in its browser front end,
as JavaScript string indices (UTF-16 code units; doccano/doccano#2290), so
they are converted here; the project's "Count grapheme clusters as one
character" option must stay off. An ORG inside a ROLE is two entities whose
offsets overlap: create the sequence-labeling project with overlapping spans
allowed (its ``allow_overlapping`` setting, off by default) to keep them.
doccano has no place for scores or model predictions.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from liqa.annotations._interchange import (Log, Utf16Offsets, add_span, build_document, no_predictions,
                                           no_scores, resolve_lang, scored_links, utf8_error)
from liqa.schema import Document, Link, iter_jsonl

_META_KEYS = ("doc_id", "lang", "source", "date", "meta")
# Keys doccano itself writes on export; not ours to keep, not worth a warning.
_DOCCANO_KEYS = {"id", "text", "entities", "relations", "label", "Comments", "comments",
                 "annotation_approver", "user"}


def export(docs: Iterable[Document], out: str | Path, predictions: Iterable[Document] | None = None
           ) -> list[str]:
    """Write `out` as doccano JSONL. Returns warnings (dropped scores, predictions)."""
    out, log = Path(out), Log()
    no_predictions("doccano", predictions, log)
    lines = []
    for n, doc in enumerate(docs, 1):
        no_scores("doccano", doc, log)
        js = Utf16Offsets(doc.text)
        num = {e.id: i for i, e in enumerate(doc.entities, 1)}
        rec = {"id": n, "text": doc.text,
               "entities": [{"id": num[e.id], "label": e.type, "start_offset": js.to_js(e.start),
                             "end_offset": js.to_js(e.end)} for e in doc.entities],
               "relations": [{"id": i, "from_id": num[ln.head], "to_id": num[ln.tail], "type": ln.type}
                             for i, (ln, _) in enumerate(scored_links(doc), 1)],
               "doc_id": doc.id, "lang": doc.lang}
        rec.update({k: getattr(doc, k) for k in ("source", "date", "meta") if getattr(doc, k)})
        lines.append(json.dumps(rec, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return log.messages


def import_(path: str | Path, lang: str | None = None) -> tuple[list[Document], list[str]]:
    """Read doccano JSONL (relation projects, or the older ``"label": [[start, end, TYPE]]``
    lines). Returns (documents, messages); a bad line is reported and skipped.

    `lang` is used for lines without a lang key; without either the language is
    guessed from the script, with a warning.
    """
    path, log, docs = Path(path), Log(), []
    if not path.is_file():
        log.err(str(path), None, "no such file")
        return [], log.messages
    try:
        for lineno, rec, err in iter_jsonl(path):
            where = f"{path}:{lineno}"
            if err is not None:
                log.err(where, None, err)
                continue
            doc = _record_document(rec, lineno, where, lang, log)
            if doc is not None:
                docs.append(doc)
    except UnicodeDecodeError as exc:
        log.err(str(path), None, utf8_error(exc))
    return docs, log.messages


def _record_document(rec: dict, lineno: int, where: str, lang: str | None, log: Log) -> Document | None:
    text = rec.get("text")
    doc_id = rec.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        doc_id = f"doccano-{rec.get('id', lineno)}"
        log.warn(where, doc_id, f"no doc_id: named the document {doc_id!r}")
    if not isinstance(text, str):
        log.err(where, doc_id, "no text")
        return None
    for key in rec.keys() - _DOCCANO_KEYS - set(_META_KEYS):
        log.warn(where, doc_id, f"key {key!r} is not part of a liqa document: dropped")

    js = Utf16Offsets(text)
    raw = rec.get("entities", [])
    if "label" in rec and not raw:  # sequence labeling without relations
        raw = [{"id": i, "start_offset": x[0], "end_offset": x[1], "label": x[2]}
               if isinstance(x, list) and len(x) == 3 else x for i, x in enumerate(rec["label"], 1)]
    entities = []
    for k, ent in enumerate(raw if isinstance(raw, list) else [None], 1):
        if not isinstance(ent, dict):
            log.err(where, doc_id, f"entity {k} is not an object with id, label, start_offset, end_offset")
            continue
        add_span(entities, log, where, doc_id, text, str(ent.get("id", f"_{k}")), ent.get("label"),
                 ent.get("start_offset"), ent.get("end_offset"), offsets=js)
    links = []
    rels = rec.get("relations", [])
    for k, rel in enumerate(rels if isinstance(rels, list) else [None], 1):
        if not isinstance(rel, dict) or not {"from_id", "to_id"} <= rel.keys():
            log.err(where, doc_id, f"relation {k} is not an object with from_id, to_id, type")
            continue
        links.append((Link(type=str(rel.get("type", rel.get("label"))), head=str(rel["from_id"]),
                           tail=str(rel["to_id"])), None))

    fields = {"id": doc_id, "text": text, "source": rec.get("source"), "date": rec.get("date"),
              "meta": rec.get("meta") or {},
              "lang": resolve_lang(rec.get("lang"), lang, text, log, where, doc_id)}
    return build_document(fields, entities, links, log, where)
