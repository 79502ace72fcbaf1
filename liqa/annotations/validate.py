"""Checks on annotated documents: offsets, types, ids, links, and consistency."""
from __future__ import annotations

import re
from pathlib import Path
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from liqa.entities import represented_participants
from liqa.text import normalize
from liqa.annotations.markup import NESTING
from liqa.schema import (DATE_TYPES, NESTABLE, PARTICIPANT_TYPES, RELATION_TYPES, TRIGGER_TYPES,
                         VENUE_TYPES, Document, is_nested, trim_span)


@dataclass(frozen=True)
class Problem:
    subject: str | None  # the entity, relation or event id the problem is about
    message: str


def check_document(doc: Document) -> list[Problem]:
    """Every rule of the guideline that a program can check, on one document."""
    problems: list[Problem] = []
    add = lambda subject, msg: problems.append(Problem(subject, msg))  # noqa: E731

    seen: dict[str, str] = {}
    for kind, items in (("entity", doc.entities), ("relation", doc.relations), ("event", doc.events)):
        for item in items:
            if item.id in seen:
                add(item.id, f"id {item.id!r} is used by a {seen[item.id]} and a {kind}")
            seen[item.id] = kind
    ents = {e.id: e for e in doc.entities}

    for e in doc.entities:
        if not 0 <= e.start < e.end <= len(doc.text):
            add(e.id, f"{e.type} {e.id} has offsets {e.start}-{e.end} outside the text (length {len(doc.text)})")
            continue
        covered = doc.text[e.start:e.end]
        if covered != e.text:
            add(e.id, f"{e.type} {e.id} at {e.start}-{e.end} covers {covered!r} but says {e.text!r}")
        if trim_span(doc.text, e.start, e.end) != (e.start, e.end):
            add(e.id, f"{e.type} {e.id} {covered!r} starts or ends with a space or punctuation")
        if "\n" in covered:
            add(e.id, f"{e.type} {e.id} {covered!r} crosses a line break")
        if e.iso is not None and (e.type != "DATE" or not _valid_iso(e.iso)):
            add(e.id, f"{e.type} {e.id} {covered!r} has iso {e.iso!r}: only a DATE has one, written "
                      "YYYY-MM-DD, YYYY-MM or YYYY")

    # Spans are flat but for one nesting (schema.NESTABLE: an ORG inside a ROLE).
    spans = sorted((e for e in doc.entities if 0 <= e.start < e.end <= len(doc.text)),
                   key=lambda e: (e.start, -e.end))
    for k, a in enumerate(spans):
        for b in spans[k + 1:]:
            if b.start >= a.end:
                break
            if (a.start, a.end) == (b.start, b.end):
                add(b.id, f"{b.id} and {a.id} are the same span {a.text!r} ({a.type}, {b.type})")
            elif b.end > a.end:
                add(b.id, f"{b.id} {b.text!r} overlaps {a.id} {a.text!r}: the spans cross; spans never "
                          f"cross, and the only nesting allowed is {NESTING}")
            elif not is_nested(b, a):
                add(b.id, f"{b.id} {b.text!r} ({b.type}) overlaps {a.id} {a.text!r} ({a.type}): it lies "
                          f"inside it, and the only nesting allowed is {NESTING}")

    rel_keys = set()
    for r in doc.relations:
        heads, tails = RELATION_TYPES[r.type]
        h, t = ents.get(r.head), ents.get(r.tail)
        if h is None or t is None:
            add(r.id, f"relation {r.id} {r.type} points to a missing entity "
                      f"{r.head if h is None else r.tail!r}")
            continue
        if h.type not in heads or t.type not in tails:
            add(r.id, f"relation {r.id} {r.type} goes {h.type} -> {t.type}; it must go "
                      f"{'/'.join(sorted(heads))} -> {'/'.join(sorted(tails))}")
        if (r.type, r.head, r.tail) in rel_keys:
            add(r.id, f"relation {r.id} {r.type} {r.head} -> {r.tail} is given twice")
        rel_keys.add((r.type, r.head, r.tail))

    trigger_event: dict[str, str] = {}
    for ev in doc.events:
        slots = [("trigger", t, TRIGGER_TYPES) for t in ev.triggers]
        slots += [("participant", p, PARTICIPANT_TYPES) for p in ev.participants]
        slots += [("venue", ev.venue, VENUE_TYPES)] if ev.venue else []
        slots += [("date", ev.date, DATE_TYPES)] if ev.date else []
        for slot, eid, allowed in slots:
            if eid not in ents:
                add(ev.id, f"event {ev.id}: {slot} {eid!r} is not an entity of this document")
            elif ents[eid].type not in allowed:
                add(ev.id, f"event {ev.id}: {slot} {eid} is {ents[eid].type}, must be {'/'.join(sorted(allowed))}")
        for name, ids in (("triggers", ev.triggers), ("participants", ev.participants)):
            if len(set(ids)) != len(ids):
                add(ev.id, f"event {ev.id} lists the same {name[:-1]} twice")
        for t in ev.triggers:
            if t in trigger_event:
                add(ev.id, f"trigger {t} belongs to both {trigger_event[t]} and {ev.id}: merge them")
            trigger_event[t] = ev.id
        # A role stands in as a participant only when its holder is not named.
        for r in doc.relations:
            if r.type == "HAS_ROLE" and r.tail in ev.participants and r.head in ev.participants:
                add(ev.id, f"event {ev.id} lists both {r.head} and its role {r.tail}; list only the person")
            elif r.type == "HAS_ROLE" and r.tail in ev.participants:
                add(ev.id, f"event {ev.id}: role {r.tail} has a named holder {r.head}; list {r.head} instead")
    for ev_id, orgs in represented_participants(doc.entities, doc.relations, doc.events).items():
        add(ev_id, f"event {ev_id}: organization {', '.join(orgs)} is represented by a participant affiliated "
                   "with it; one participant per side: leave it to the AFFILIATION (guideline §3.2)")
    return problems


@dataclass(frozen=True)
class Finding:
    doc_id: str
    message: str
    string: str = ""  # the labeled string the finding is about


def consistency(docs: Iterable[Document], explained: dict[str, str] | None = None) -> list[Finding]:
    """Strings labeled with different types, and labeled strings left unlabeled elsewhere in a document.

    `explained` maps strings whose conflicts are real differences (a city and a
    newspaper both called القدس; "نشست" for a meeting and for a press
    conference) to the reason; neither kind of finding is reported for them.
    """
    explained = {normalize(k): v for k, v in (explained or {}).items()}
    findings: list[Finding] = []
    types_of: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for doc in docs:
        for e in doc.entities:
            types_of[normalize(e.text)][e.type].append(doc.id)
        findings += [f for f in _unlabeled_repeats(doc) if normalize(f.string) not in explained]
    for string, by_type in sorted(types_of.items()):
        if len(by_type) > 1 and string not in explained:
            where = "; ".join(f"{t} in {', '.join(sorted(set(ids))[:3])}" for t, ids in sorted(by_type.items()))
            findings.append(Finding(sorted(set(sum(by_type.values(), [])))[0],
                                    f"{string!r} is labeled with different types: {where}"))
    return findings


def read_explained(path: str | Path) -> dict[str, str]:
    """The explained-conflicts file: `string<TAB>reason` lines, # comments."""
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            string, sep, reason = line.partition("\t")
            if not sep or not reason.strip():
                raise ValueError(f"{path}:{n}: write 'string<TAB>reason'")
            out[string.strip()] = reason.strip()
    return out


def _unlabeled_repeats(doc: Document) -> list[Finding]:
    """Labeled strings found again, at word edges, where no span covers them.

    A span that could hold the string nested (a ROLE, for an ORG string) does
    not cover it: an organization named inside a title is marked inside it.
    """
    n = len(doc.text)
    covered: dict[str, list[bool]] = {}  # entity type -> characters a span covers for it

    def coverage(typ: str) -> list[bool]:
        if typ not in covered:
            cov = [False] * n
            for e in doc.entities:
                if (typ, e.type) not in NESTABLE:
                    for i in range(max(e.start, 0), min(e.end, n)):
                        cov[i] = True
            covered[typ] = cov
        return covered[typ]

    out, done = [], set()
    for e in doc.entities:
        if (e.text, e.type) in done or len(e.text) < 3:
            continue
        done.add((e.text, e.type))
        for m in re.finditer(re.escape(e.text), doc.text):
            s, t = m.span()
            word_edge = (s == 0 or not doc.text[s - 1].isalnum()) and (t == n or not doc.text[t].isalnum())
            if word_edge and not any(coverage(e.type)[s:t]):
                line = doc.text.count("\n", 0, s) + 1
                host = next((o for o in doc.entities if (e.type, o.type) in NESTABLE
                             and o.start <= s and t <= o.end), None)
                inside = f", inside {host.type} {host.text!r}: mark it there" if host else ""
                out.append(Finding(doc.id, f"{e.text!r} is labeled {e.type} but not at text line {line} "
                                           f"(offset {s}{inside})", e.text))
    return out


def _valid_iso(value: str) -> bool:
    """A real calendar day, month or year in ISO 8601 (2024-02-30 is not)."""
    import datetime

    parts = value.split("-")
    if not 1 <= len(parts) <= 3 or len(parts[0]) != 4 or any(len(x) != 2 for x in parts[1:]) \
            or not all(x.isdigit() and x.isascii() for x in parts):
        return False
    try:
        datetime.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True

