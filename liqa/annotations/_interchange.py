"""What the interchange formats (labelstudio, brat, doccano) share.

Every format reduces a document to spans plus typed links (relations and the
trigger-rooted event links of `schema.event_links`) on export, and rebuilds a
Document from spans plus links on import (`build_document`, which reports every
link it cannot keep instead of dropping it silently). Spans are kept as they
are, overlapping ones included: all three formats carry an ORG inside a ROLE
natively, and whether an overlap is allowed is the validator's call. Offsets counted in UTF-16
code units (the JavaScript tools) convert through `Utf16Offsets`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from liqa.annotations import Issue, Located, _pydantic_message, find_files, load
from liqa.text import guess_lang
from liqa.schema import (ENTITY_TYPES, LANGS, LINK_TYPES, RELATION_TYPES,
                         Document, Entity, Link, Relation, event_links, iter_jsonl, links_to_events)

# Span colours, shared by the Label Studio config and brat's visual.conf.
COLORS = {"PERSON": "#f4a261", "ORG": "#2a9d8f", "ROLE": "#e9c46a", "LOC": "#8ab17d",
          "DATE": "#a8dadc", "MEETING": "#e76f51"}

ScoredLink = tuple[Link, float | None]


class Message(str):
    """One warning or error line, ``where: doc-id: warning|error: text``.

    A plain str for callers that only print it; `.error` tells the two apart.
    """

    error: bool = False


def message(where: str | None, doc_id: str | None, text: str, *, error: bool = False) -> Message:
    parts = [p for p in (where, doc_id or "-") if p is not None]
    msg = Message(": ".join(parts + ["error" if error else "warning", text]))
    msg.error = error
    return msg


class Log:
    """Collects the messages of one import or export."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def warn(self, where: str | None, doc_id: str | None, text: str) -> None:
        self.messages.append(message(where, doc_id, text))

    def err(self, where: str | None, doc_id: str | None, text: str) -> None:
        self.messages.append(message(where, doc_id, text, error=True))


class Utf16Offsets:
    """Python (code point) offsets <-> JavaScript (UTF-16 code unit) offsets of one text.

    Characters outside the BMP (emoji, flags) are one Python character but two
    JavaScript ones, so every offset after them differs.
    """

    def __init__(self, text: str):
        self._js = [0]
        for ch in text:
            self._js.append(self._js[-1] + (2 if ord(ch) > 0xFFFF else 1))
        self._py = {j: i for i, j in enumerate(self._js)}

    def to_js(self, i: int) -> int:
        if not 0 <= i < len(self._js):
            raise ValueError(f"offset {i} is outside the text (length {len(self._js) - 1})")
        return self._js[i]

    def to_py(self, j: int) -> int:
        if j in self._py:
            return self._py[j]
        if 0 <= j <= self._js[-1]:
            raise ValueError(f"UTF-16 offset {j} falls inside a character outside the BMP (emoji)")
        raise ValueError(f"UTF-16 offset {j} is outside the text (length {self._js[-1]} UTF-16 units)")


def add_span(entities: list[Entity], log: Log, where: str, doc_id: str, text: str, eid: str,
             label: object, start: object, end: object, *, claimed: object = None, score: object = None,
             offsets: Utf16Offsets | None = None) -> Entity | None:
    """Append a span read from a format (offsets in UTF-16 when `offsets` is given).

    A span that cannot be kept (unknown label, offsets outside the text or not
    integers, an id used twice) is an error and is dropped. Where the format's
    copy of the span text (`claimed`) disagrees with the text at the offsets,
    the offsets win, with a warning.
    """
    problem = None
    if any(e.id == eid for e in entities):
        problem = f"span id {eid!r} is used twice"
    elif label not in ENTITY_TYPES:
        problem = f"span {eid}: unknown label {label!r} (expected one of {', '.join(ENTITY_TYPES)})"
    elif any(not isinstance(v, int) or isinstance(v, bool) for v in (start, end)):
        problem = f"span {eid}: offsets {start!r}-{end!r} are not integers"
    elif score is not None and (not isinstance(score, int | float) or isinstance(score, bool)):
        problem = f"span {eid}: score {score!r} is not a number"
    else:
        try:
            s, e = (offsets.to_py(start), offsets.to_py(end)) if offsets else (start, end)
            if not 0 <= s < e <= len(text):
                problem = f"span {eid}: offsets {start}-{end} are not a span of the text (length {len(text)})"
        except ValueError as exc:
            problem = f"span {eid}: {exc}"
    if problem:
        log.err(where, doc_id, f"{problem}: dropped")
        return None
    if isinstance(claimed, str) and claimed != text[s:e]:
        log.warn(where, doc_id, f"span {eid} {label}: the file says {claimed!r} but the text at "
                                f"{start}-{end} is {text[s:e]!r}; kept the offsets")
    entity = Entity(id=eid, type=label, start=s, end=e, text=text[s:e], score=score)
    entities.append(entity)
    return entity


def utf8_error(exc: UnicodeDecodeError) -> str:
    return f"not UTF-8 text ({exc.reason} at byte {exc.start})"


def scored_links(doc: Document) -> list[ScoredLink]:
    """Relations, then each event as trigger-rooted links carrying the event's score."""
    links: list[ScoredLink] = [(Link(type=r.type, head=r.head, tail=r.tail), r.score)
                               for r in doc.relations]
    for ev in doc.events:
        links += [(ln, ev.score) for ln in event_links(doc.model_copy(update={"events": [ev]}))]
    return links


def build_document(fields: dict, entities: list[Entity], links: Iterable[ScoredLink],
                   log: Log, where: str) -> Document | None:
    """Spans plus links -> a Document; None (with an error logged) if it cannot be built.

    `fields` holds id, lang, text and optionally source, date, meta. Links of an
    unknown type, to a missing span or between the wrong span types are errors;
    event links that `links_to_events` cannot represent (a venue for a trigger
    with no participant, a second venue) are warnings.
    """
    doc_id = str(fields.get("id") or "-")
    by_id = {e.id: e for e in entities}
    relations: list[Relation] = []
    ev_links: list[ScoredLink] = []
    for link, score in links:
        what = f"{link.type} link {link.head} -> {link.tail}"
        if link.type not in LINK_TYPES:
            log.err(where, doc_id, f"{what}: unknown link type (expected one of {', '.join(LINK_TYPES)})")
            continue
        missing = [x for x in (link.head, link.tail) if x not in by_id]
        if missing:
            log.err(where, doc_id, f"{what} points to a missing span {missing[0]!r}")
            continue
        heads, tails = LINK_TYPES[link.type]
        h, t = by_id[link.head].type, by_id[link.tail].type
        if h not in heads or t not in tails:
            log.err(where, doc_id, f"{what} goes {h} -> {t}; {link.type} must go "
                                   f"{'/'.join(sorted(heads))} -> {'/'.join(sorted(tails))}")
            continue
        if score is not None and (not isinstance(score, int | float) or isinstance(score, bool)):
            log.err(where, doc_id, f"{what}: score {score!r} is not a number; dropped the score")
            score = None
        if link.type in RELATION_TYPES:
            relations.append(Relation(id=f"R{len(relations) + 1}", type=link.type,
                                      head=link.head, tail=link.tail, score=score))
        else:
            ev_links.append((link, score))

    events = links_to_events(entities, [ln for ln, _ in ev_links])
    event_of = {t: ev for ev in events for t in ev.triggers}
    for link, _ in ev_links:
        ev = event_of.get(link.head)
        what = f"{link.type} link {link.head} -> {link.tail}"
        if ev is None:
            log.warn(where, doc_id, f"{what} dropped: trigger {link.head} {by_id[link.head].text!r} "
                                    "has no PARTICIPANT link, so it is not an event")
        elif link.type == "VENUE" and ev.venue != link.tail:
            log.warn(where, doc_id, f"{what} dropped: an event has one venue, kept {ev.venue}")
        elif link.type == "WHEN" and ev.date != link.tail:
            log.warn(where, doc_id, f"{what} dropped: an event has one date, kept {ev.date}")
    for i, ev in enumerate(events):
        scores = {s for ln, s in ev_links if ln.head in ev.triggers}
        if len(scores) == 1 and None not in scores:
            events[i] = ev.model_copy(update={"score": scores.pop()})

    try:
        return Document.model_validate({**fields, "entities": entities, "relations": relations,
                                        "events": events})
    except ValueError as exc:
        log.err(where, doc_id, f"not a valid document: {_pydantic_message(exc)}")
        return None


def resolve_lang(in_file: object, lang: str | None, text: str, log: Log, where: str, doc_id: str) -> object:
    """The language the file gives, else the caller's `lang`, else a guess (with a warning)."""
    if in_file is not None:
        return in_file
    if lang is not None:
        return lang
    guess = guess_lang(text)
    log.warn(where, doc_id, f"no language given: guessed {guess!r} from the script "
                            f"(set it with --lang {'|'.join(LANGS)})")
    return guess


def match_predictions(docs: list[Document], predictions: Iterable[Document] | None, log: Log
                      ) -> dict[str, Document]:
    """Predicted documents by id; those with no document, or another text, are skipped with a warning."""
    texts = {d.id: d.text for d in docs}
    out: dict[str, Document] = {}
    for p in predictions or []:
        if p.id not in texts:
            log.warn(None, p.id, "prediction skipped: no document with this id is exported")
        elif p.text != texts[p.id]:
            log.warn(None, p.id, "prediction skipped: its text differs from the document's")
        else:
            out[p.id] = p
    return out


CONTRACT = "liqa/prediction.schema.json"


def is_prediction_record(obj: dict) -> bool:
    """True for a record of the prediction contract (predict.py's output): it carries
    `warnings`, or no text; an annotated document has a text and never warnings."""
    return "warnings" in obj or "text" not in obj


def prediction_to_document(record: dict, text: str) -> Document:
    """A record of the prediction contract as an annotation-schema Document over `text`,
    the article it was predicted from (the contract carries no text).

    The contract's relations have no ids: they become R1, R2, ... in record order, so a
    record always converts to the same document. Scores, the publication date and DATE
    `iso` values are kept; `warnings` are not part of a document. Raises ValueError, with
    a message naming what is wrong, when the record breaks the contract, points to an
    entity it does not have, or its spans are not the text at their offsets.
    """
    from liqa.output import contract_error, from_output

    record = {k: v for k, v in record.items() if k != "text"}
    error = contract_error(record)
    if error is not None:
        at = ".".join(map(str, error.absolute_path)) or "record"
        raise ValueError(f"not a prediction record ({CONTRACT}): {at}: {error.message}")
    ids = {e["id"] for e in record["entities"]}
    refs = [(f"relation {i + 1}", r[k]) for i, r in enumerate(record["relations"]) for k in ("head", "tail")]
    for ev in record["events"]:
        refs += [(f"event {ev['id']}", t) for t in ev["triggers"]]
        refs += [(f"event {ev['id']}", x["entity"]) for x in (*ev["participants"], ev["venue"], ev["date"]) if x]
    for what, eid in refs:
        if eid not in ids:
            raise ValueError(f"{what} points to entity {eid}, which the record does not have")
    for e in record["entities"]:
        if text[e["start"]:e["end"]] != e["text"]:
            raise ValueError(f"entity {e['id']} {e['text']!r} is not the text at {e['start']}-{e['end']} "
                             f"({text[e['start']:e['end']]!r}): was it predicted from another text?")
    return from_output(record, text)


def load_predictions(paths: Iterable[str | Path], texts: Mapping[str, str]
                     ) -> tuple[list[Located], list[Issue], list[Issue]]:
    """Like `annotations.load`, but a JSONL line may also be a prediction record, which
    takes its text from `texts` by document id (or from its own "text").

    Returns (documents, errors, records whose id has no text): the caller says what a
    missing text means (a document not exported; an article not given).
    """
    located: list[Located] = []
    issues: list[Issue] = []
    untexted: list[Issue] = []
    for path in find_files(paths):
        if path.suffix != ".jsonl" or not path.is_file():
            more, errs = load([path])
            located += more
            issues += errs
            continue
        try:
            for lineno, obj, err in iter_jsonl(path):
                doc_id = str(obj.get("id", "-")) if obj else "-"
                where = f"{path}:{lineno}"
                if err is None:
                    text = obj.get("text") if isinstance(obj.get("text"), str) else texts.get(doc_id)
                    try:
                        if not is_prediction_record(obj):
                            located.append(Located(Document.model_validate(obj), path, lineno, {}))
                        elif text is None:
                            untexted.append(Issue(where, doc_id, "a prediction record carries no text "
                                                                 "and no article with this id was given"))
                        else:
                            located.append(Located(prediction_to_document(obj, text), path, lineno, {}))
                        continue
                    except ValueError as exc:
                        err = _pydantic_message(exc)
                issues.append(Issue(where, doc_id, err))
        except UnicodeDecodeError as exc:
            issues.append(Issue(f"{path}:0", "-", utf8_error(exc)))
    return located, issues, untexted


def scores_of(doc: Document) -> list[float]:
    return [x.score for x in (*doc.entities, *doc.relations, *doc.events) if x.score is not None]


def no_predictions(fmt: str, predictions: Iterable[Document] | None, log: Log) -> None:
    for p in predictions or []:
        log.warn(None, p.id, f"{fmt} has no place for model predictions: prediction not exported")


def no_scores(fmt: str, doc: Document, log: Log) -> None:
    if scores_of(doc):
        log.warn(None, doc.id, f"{fmt} cannot carry scores: {len(scores_of(doc))} scores dropped")
