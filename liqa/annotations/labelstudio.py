"""Label Studio JSON tasks: export documents to annotate, import what analysts did.

One task per document::

    {"data": {"text": ..., "doc_id": ..., "lang": ..., "source": ..., "date": ..., "meta": {...}},
     "annotations": [{"result": [SPAN..., RELATION...]}],
     "predictions": [{"model_version": ..., "score": ..., "result": [...]}]}

A span result is ``{"id", "from_name": "label", "to_name": "text", "type": "labels",
"value": {"start", "end", "text", "labels": [TYPE]}}``; a relation result is
``{"from_id", "to_id", "type": "relation", "direction": "right", "labels": [TYPE]}``.
Events travel as PARTICIPANT/VENUE/WHEN/SAME_EVENT relations from a trigger.
Offsets are JavaScript string indices (UTF-16 code units), converted here.
An ORG inside a ROLE is two span results with overlapping offsets, which
Label Studio shows and edits as it does any overlapping regions.
`label_config()` is the labeling interface to paste into the project settings.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from liqa.annotations._interchange import (COLORS, Log, Utf16Offsets, add_span, build_document,
                                           match_predictions, resolve_lang, scored_links, scores_of, utf8_error)
from liqa.schema import ENTITY_TYPES, LINK_TYPES, Document, Link

FROM_NAME, TO_NAME = "label", "text"
CONFIG_NAME = "label_config.xml"
_DATA_KEYS = ("text", "doc_id", "lang", "source", "date", "meta")
# Label Studio's Export button and GET /api/projects/ID/export give prediction ids only (they
# expand drafts, not predictions); an export snapshot expands them when asked (1.23.2's
# data_export serialization_options).
FULL_PREDICTIONS_EXPORT = (
    "Export with full predictions: create a snapshot with POST /api/projects/ID/exports/ and body "
    '{"serialization_options": {"predictions": {"only_id": false}}}, then download it with '
    "GET /api/projects/ID/exports/EXPORT_ID/download?exportType=JSON (or, on the server: label-studio "
    "export ID JSON --export-serializer-context '{\"predictions\": {\"only_id\": false}}')")


RTL_LANGS = frozenset({"ar", "fa"})
# Label Studio's <Text> has no direction setting, but it renders its text inside the page,
# so CSS on the enclosing <View> reaches it. "rtl": the whole interface right to left
# (direction inherits). "auto": each line of the text takes the direction of its first
# letter (unicode-bidi: plaintext, which does not inherit, so it must name the line
# elements: 1.23 renders each line as an inline-block span of class lsf-richtext__line;
# under another markup the rule matches nothing and the text stays left to right).
_DIRECTION_ATTRS = {"ltr": ("", ""), "rtl": (' style="direction: rtl"', ""),
                    "auto": (' className="liqa-bidi"',
                             '  <Style>.liqa-bidi [class*="richtext__line"] { unicode-bidi: plaintext; '
                             "text-align: start; width: 100%; }</Style>\n")}
DIRECTIONS = tuple(_DIRECTION_ATTRS)


def direction_for(langs: Iterable[str]) -> str:
    """The text direction for a project of these languages: rtl when all are Arabic or
    Persian, ltr when none is, auto (per line) for a mix."""
    rtl = {lang in RTL_LANGS for lang in langs}
    return "auto" if rtl == {True, False} else "rtl" if rtl == {True} else "ltr"


def label_config(direction: str = "auto") -> str:
    """The labeling interface: the six span labels and every link type as a relation,
    the text read in `direction` (one of DIRECTIONS; see `direction_for`)."""
    attrs, style = _DIRECTION_ATTRS[direction]
    labels = "\n".join(f'    <Label value="{t}" background="{COLORS[t]}"/>' for t in ENTITY_TYPES)
    relations = "\n".join(f'    <Relation value="{t}"/>' for t in LINK_TYPES)
    return (f'<View{attrs}>\n{style}  <Header value="$doc_id"/>\n  <Relations>\n{relations}\n  </Relations>\n'
            f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n{labels}\n  </Labels>\n'
            f'  <Text name="{TO_NAME}" value="$text"/>\n</View>\n')


def export(docs: Iterable[Document], out: str | Path, predictions: Iterable[Document] | None = None
           ) -> list[str]:
    """Write a tasks JSON file `out` and `label_config.xml` beside it. Returns warnings.

    A document with no spans gets no annotation, so Label Studio shows it as to do.
    """
    docs, out, log = list(docs), Path(out), Log()
    preds = match_predictions(docs, predictions, log)
    tasks = []
    for doc in docs:
        data = {k: getattr(doc, "id" if k == "doc_id" else k) for k in _DATA_KEYS}
        task: dict = {"data": {k: v for k, v in data.items() if v not in (None, {})},
                      "annotations": [{"result": _results(doc)}] if doc.entities else []}
        if doc.id in preds:
            version = preds[doc.id].meta.get("model_version")
            task["predictions"] = [prediction(preds[doc.id], str(version) if version is not None else "liqa")]
        tasks.append(task)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out.parent / CONFIG_NAME).write_text(label_config(direction_for(d.lang for d in docs)), encoding="utf-8")
    return log.messages


def prediction(pred: Document, model_version: str) -> dict:
    """A Label Studio prediction of a predicted document: its spans and links, scored by their mean score."""
    out = {"model_version": model_version, "result": _results(pred)}
    if scores := scores_of(pred):
        out["score"] = round(sum(scores) / len(scores), 4)
    return out


def _results(doc: Document) -> list[dict]:
    js = Utf16Offsets(doc.text)
    results: list[dict] = []
    for e in doc.entities:
        value = {"start": js.to_js(e.start), "end": js.to_js(e.end), "text": e.text, "labels": [e.type]}
        results.append({"id": e.id, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                        "value": value, **({"score": e.score} if e.score is not None else {})})
    for link, score in scored_links(doc):
        results.append({"from_id": link.head, "to_id": link.tail, "type": "relation",
                        "direction": "right", "labels": [link.type],
                        **({"score": score} if score is not None else {})})
    return results


def import_(path: str | Path, lang: str | None = None, *, use_predictions: bool = False
            ) -> tuple[list[Document], list[str]]:
    """Read a tasks JSON file exported by Label Studio. Returns (documents, messages).

    Takes each task's first annotation that was not cancelled; with
    `use_predictions`, a task without one falls back to its first prediction
    (scores kept). `lang` is used for tasks whose data has no lang; without
    either the language is guessed from the script, with a warning.
    Messages are `Message` strings; those with `.error` set mean something
    in the file could not be read.
    """
    path, log = Path(path), Log()
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.err(str(path), None, "no such file")
        return [], log.messages
    except UnicodeDecodeError as exc:
        log.err(str(path), None, utf8_error(exc))
        return [], log.messages
    except json.JSONDecodeError as exc:
        log.err(f"{path}:{exc.lineno}", None, f"not valid JSON: {exc.msg} at column {exc.colno}")
        return [], log.messages
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        log.err(str(path), None, f"expected a JSON list of tasks, got {type(tasks).__name__}")
        return [], log.messages
    docs = []
    for n, task in enumerate(tasks, 1):
        where = f"{path} task {n}" + (f" (id {task['id']})" if isinstance(task, dict) and "id" in task else "")
        doc = _task_document(task, n, where, lang, use_predictions, log)
        if doc is not None:
            docs.append(doc)
    return docs, log.messages


def _task_document(task: object, n: int, where: str, lang: str | None, use_predictions: bool, log: Log
                   ) -> Document | None:
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        log.err(where, None, "not a task: expected an object with data.text")
        return None
    text = data["text"]
    doc_id = data.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        doc_id = f"task-{task.get('id', n)}"
        log.warn(where, doc_id, f"data.doc_id missing: named the document {doc_id!r}")
    for key in data.keys() - set(_DATA_KEYS):
        log.warn(where, doc_id, f"data.{key} is not part of a liqa document: dropped")

    result = _pick_result(task, where, doc_id, use_predictions, log)
    if result is None:
        return None
    js = Utf16Offsets(text)
    entities, links = [], []
    spans = [r for r in result if isinstance(r, dict) and r.get("type") == "labels"]
    rels = [r for r in result if isinstance(r, dict) and r.get("type") == "relation"]
    for k, r in enumerate(result):
        if not isinstance(r, dict):
            log.err(where, doc_id, f"result {k + 1} is not an object")
        elif r.get("type") not in ("labels", "relation"):
            log.warn(where, doc_id, f"result {k + 1} of type {r.get('type')!r} is not a span or relation: "
                                    "dropped")
    for r in spans:
        value = r.get("value") if isinstance(r.get("value"), dict) else {}
        eid = str(r.get("id") or f"_{len(entities) + 1}")
        labels = value.get("labels")
        if not isinstance(labels, list) or not labels:
            log.err(where, doc_id, f"span {eid} has no value.labels: dropped")
            continue
        if len(labels) > 1:
            log.warn(where, doc_id, f"span {eid} has labels {labels}: kept only {labels[0]}")
        add_span(entities, log, where, doc_id, text, eid, labels[0], value.get("start"), value.get("end"),
                 claimed=value.get("text"), score=r.get("score"), offsets=js)
    for r in rels:
        head, tail, labels = r.get("from_id"), r.get("to_id"), r.get("labels")
        if r.get("direction") == "left":
            head, tail = tail, head
        elif r.get("direction") not in (None, "right"):
            log.warn(where, doc_id, f"relation {head} -> {tail} is {r.get('direction')!r}: read it "
                                    "as pointing right (from_id -> to_id)")
        if not isinstance(labels, list) or not labels:
            log.err(where, doc_id, f"relation {head} -> {tail} has no label: dropped")
            continue
        links += [(Link(type=str(lab), head=str(head), tail=str(tail)), r.get("score")) for lab in labels]

    fields = {"id": doc_id, "text": text, "source": data.get("source"), "date": data.get("date"),
              "meta": data.get("meta") or {},
              "lang": resolve_lang(data.get("lang"), lang, text, log, where, doc_id)}
    return build_document(fields, entities, links, log, where)


def _pick_result(task: dict, where: str, doc_id: str, use_predictions: bool, log: Log) -> list | None:
    anns = task.get("annotations", task.get("completions", []))
    if not isinstance(anns, list):
        log.err(where, doc_id, "annotations is not a list")
        return None
    done = [a for a in anns if isinstance(a, dict) and not a.get("was_cancelled")]
    if len(done) > 1:
        log.warn(where, doc_id, f"{len(done)} annotations: took the first (id {done[0].get('id', '?')}), "
                                "left the others")
    chosen, what = (done[0], "annotation") if done else (None, "")
    if chosen is None and use_predictions:
        listed = task.get("predictions") or []
        if not isinstance(listed, list):
            log.err(where, doc_id, "predictions is not a list")
            return None
        preds = [p for p in listed if isinstance(p, dict)]
        if listed and not preds:
            said = any(FULL_PREDICTIONS_EXPORT in m for m in log.messages)  # the long hint once per file
            hint = "Export with full predictions as said above." if said else FULL_PREDICTIONS_EXPORT
            log.err(where, doc_id, f"the export lists the task's predictions by id only ({listed[:3]}), "
                                   f"without their spans: not imported. {hint}")
            return None
        if preds:
            chosen, what = preds[0], "prediction"
            log.warn(where, doc_id, f"no annotation: imported the prediction of model "
                                    f"{preds[0].get('model_version', '?')!r}")
    if chosen is None:
        skipped = f" ({len(anns)} cancelled)" if anns else ""
        log.warn(where, doc_id, f"no annotation{skipped}: imported the text without spans")
        return []
    result = chosen.get("result", [])
    if not isinstance(result, list):
        log.err(where, doc_id, f"the {what}'s result is not a list")
        return None
    return result
