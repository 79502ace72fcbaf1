"""The annotation schema: label inventories and the JSON Lines document model.

This module is the single source of truth for every label string in liqa.
A document is one JSON object per line (see annotations/README.md): the text,
entities as character offsets into it (Python string indices, end exclusive),
binary relations between entities, and meeting events that reference entities.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LANGS = ("ar", "fa", "en")

# Span types, in the order the tagger's label list uses.
ENTITY_TYPES = ("PERSON", "ORG", "ROLE", "LOC", "DATE", "MEETING")

# Annotated relations: type -> (allowed head types, allowed tail types).
RELATION_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "HAS_ROLE": (frozenset({"PERSON"}), frozenset({"ROLE"})),
    "AFFILIATION": (frozenset({"PERSON", "ROLE"}), frozenset({"ORG"})),
}

# Characters a span never starts or ends with (the guideline's tight boundaries).
EDGE_PUNCT = ",،؛:;!?()«»\"'"


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past white space, edge punctuation and a sentence
    period (a final '.' stays when the span has another one: "U.S.")."""
    while True:
        s, e = start, end
        while start < end and (text[start].isspace() or text[start] in EDGE_PUNCT + "."):
            start += 1
        while start < end and (text[end - 1].isspace() or text[end - 1] in EDGE_PUNCT):
            end -= 1
        if start < end and text[end - 1] == "." and "." not in text[start:end - 1]:
            end -= 1
        if (s, e) == (start, end):
            return start, end

# The one nesting allowed: (inner, outer) span types. An organization written inside a
# title ("الأمين العام لحركة الجهاد الإسلامي") is an ORG inside the ROLE.
NESTABLE = frozenset({("ORG", "ROLE")})


def is_nested(inner: Entity, outer: Entity) -> bool:
    """True when `inner` lies inside `outer` (not the same span) and their types may nest (NESTABLE)."""
    return ((inner.type, outer.type) in NESTABLE and outer.start <= inner.start and inner.end <= outer.end
            and (outer.start, outer.end) != (inner.start, inner.end))


def split_layers(entities: Iterable[Entity]) -> tuple[list[Entity], list[Entity]]:
    """(outer layer, inner layer): inner spans are those lying inside a span they may nest in."""
    entities = list(entities)
    inner = [e for e in entities if any(is_nested(e, o) for o in entities)]
    inner_ids = {e.id for e in inner}
    return [e for e in entities if e.id not in inner_ids], inner


EVENT_TYPES = ("MEETING",)
PARTICIPANT_TYPES = frozenset({"PERSON", "ORG", "ROLE"})
VENUE_TYPES = frozenset({"LOC"})
DATE_TYPES = frozenset({"DATE"})
TRIGGER_TYPES = frozenset({"MEETING"})

# Event arguments as trigger-rooted links. This is how formats without n-ary
# events (Label Studio, doccano) carry them, and what the relation heads score.
EVENT_LINK_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "PARTICIPANT": (TRIGGER_TYPES, PARTICIPANT_TYPES),
    "VENUE": (TRIGGER_TYPES, VENUE_TYPES),
    "WHEN": (TRIGGER_TYPES, DATE_TYPES),
    "SAME_EVENT": (TRIGGER_TYPES, TRIGGER_TYPES),
}
LINK_TYPES = {**RELATION_TYPES, **EVENT_LINK_TYPES}

# The tagger's labels: strict IOB2 over the span types.
BIO_LABELS = ("O", *(f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I")))
# A second tagger layer marks the spans nested inside others (NESTABLE's inner types).
NESTED_BIO_LABELS = ("O", *(f"{p}-{t}" for t in sorted({i for i, _ in NESTABLE}) for p in ("B", "I")))

# The pair scorer's outputs. Each (head type, tail type) admits exactly one link
# type, so a candidate pair is scored by one logit: its type's.
PAIR_TYPES = tuple(LINK_TYPES)
LINK_FOR_TYPES: dict[tuple[str, str], str] = {
    (h, t): name for name, (heads, tails) in LINK_TYPES.items() for h in heads for t in tails}

EntityType = Literal["PERSON", "ORG", "ROLE", "LOC", "DATE", "MEETING"]
RelationType = Literal["HAS_ROLE", "AFFILIATION"]
Lang = Literal["ar", "fa", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Entity(_Strict):
    id: str
    type: EntityType
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    score: float | None = None  # set on predictions only
    iso: str | None = None  # DATE only: the calendar date it denotes (YYYY-MM-DD, YYYY-MM or YYYY), when known


class Relation(_Strict):
    id: str
    type: RelationType
    head: str
    tail: str
    score: float | None = None


class Event(_Strict):
    id: str
    type: Literal["MEETING"] = "MEETING"
    triggers: list[str] = Field(min_length=1)
    participants: list[str] = Field(min_length=1)
    venue: str | None = None
    date: str | None = None
    score: float | None = None


class Document(_Strict):
    id: str = Field(min_length=1)
    lang: Lang
    text: str
    source: str | None = None
    date: str | None = None  # publication date, ISO 8601, when known
    entities: list[Entity] = []
    relations: list[Relation] = []
    events: list[Event] = []
    # Free-form provenance: author, reviewer, generated (augmentation), notes.
    meta: dict[str, str | bool | int | float | None] = {}

    def unannotated(self) -> Document:
        """The same text and metadata with no entities, relations or events (model input)."""
        return self.model_copy(update={"entities": [], "relations": [], "events": []})

    def entity(self, eid: str) -> Entity:
        for e in self.entities:
            if e.id == eid:
                return e
        raise KeyError(eid)


class Link(BaseModel):
    """A typed, directed pair of entity ids: a relation or an event link."""

    model_config = ConfigDict(frozen=True)
    type: str
    head: str
    tail: str


def event_links(doc: Document) -> list[Link]:
    """Express each event as links rooted at its first trigger.

    The first trigger carries PARTICIPANT/VENUE/WHEN links; later triggers are
    chained to it with SAME_EVENT. `links_to_events` inverts this exactly.
    """
    links: list[Link] = []
    for ev in doc.events:
        root = ev.triggers[0]
        links += [Link(type="SAME_EVENT", head=root, tail=t) for t in ev.triggers[1:]]
        links += [Link(type="PARTICIPANT", head=root, tail=p) for p in ev.participants]
        if ev.venue:
            links.append(Link(type="VENUE", head=root, tail=ev.venue))
        if ev.date:
            links.append(Link(type="WHEN", head=root, tail=ev.date))
    return links


def trigger_groups(entities: list[Entity], links: Iterable[Link]) -> list[list[str]]:
    """MEETING entity ids grouped by SAME_EVENT links, each group and the groups in text order."""
    by_id = {e.id: e for e in entities}
    triggers = sorted((e for e in entities if e.type == "MEETING"), key=lambda e: e.start)
    parent = {t.id: t.id for t in triggers}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ln in links:
        if ln.type == "SAME_EVENT" and ln.head in parent and ln.tail in parent:
            a, b = find(ln.head), find(ln.tail)
            if a != b:
                # Root at the earlier trigger so groups come out in text order.
                first, second = sorted((a, b), key=lambda i: by_id[i].start)
                parent[second] = first
    groups: dict[str, list[str]] = {}
    for t in triggers:
        groups.setdefault(find(t.id), []).append(t.id)
    return list(groups.values())


def links_to_events(entities: list[Entity], links: Iterable[Link]) -> list[Event]:
    """Group trigger-rooted links into events.

    Triggers joined by SAME_EVENT form one event; its arguments are the union of
    its triggers' links. A trigger with no participant is not an event (a
    planned or denied meeting). Where a group has several venue or date links,
    the earliest in the text wins.
    """
    by_id = {e.id: e for e in entities}
    links = [ln for ln in links if ln.head in by_id and ln.tail in by_id]
    events: list[Event] = []
    for members in trigger_groups(entities, links):
        args = [ln for ln in links if ln.head in members]
        parts = _ordered({ln.tail for ln in args if ln.type == "PARTICIPANT"}, by_id)
        if not parts:
            continue
        venues = _ordered({ln.tail for ln in args if ln.type == "VENUE"}, by_id)
        dates = _ordered({ln.tail for ln in args if ln.type == "WHEN"}, by_id)
        events.append(Event(id=f"E{len(events) + 1}", triggers=members, participants=parts,
                            venue=venues[0] if venues else None, date=dates[0] if dates else None))
    return events


def _ordered(ids: set[str], by_id: dict[str, Entity]) -> list[str]:
    return sorted(ids, key=lambda i: (by_id[i].start, by_id[i].end))


def canonical(doc: Document) -> Document:
    """Renumber ids in text order (T1.., R1.., E1..) and sort every list.

    Two annotations of a text that say the same thing are equal after this,
    whatever ids or order their source used.
    """
    ents = sorted(doc.entities, key=lambda e: (e.start, e.end, e.type))
    new_id = {e.id: f"T{i + 1}" for i, e in enumerate(ents)}
    entities = [e.model_copy(update={"id": new_id[e.id]}) for e in ents]
    order = {e.id: i for i, e in enumerate(entities)}
    rels = sorted(
        (r.model_copy(update={"head": new_id[r.head], "tail": new_id[r.tail]}) for r in doc.relations),
        key=lambda r: (order[r.head], order[r.tail], r.type),
    )
    relations = [r.model_copy(update={"id": f"R{i + 1}"}) for i, r in enumerate(rels)]
    evs = []
    for ev in doc.events:
        trig = sorted((new_id[t] for t in ev.triggers), key=order.__getitem__)
        parts = sorted((new_id[p] for p in ev.participants), key=order.__getitem__)
        evs.append(ev.model_copy(update={
            "triggers": trig, "participants": parts,
            "venue": new_id[ev.venue] if ev.venue else None,
            "date": new_id[ev.date] if ev.date else None,
        }))
    evs.sort(key=lambda ev: order[ev.triggers[0]])
    events = [ev.model_copy(update={"id": f"E{i + 1}"}) for i, ev in enumerate(evs)]
    return doc.model_copy(update={"entities": entities, "relations": relations, "events": events})


def dump_line(doc: Document) -> str:
    """One JSON line, keys in schema order, None fields and empty meta left out."""
    data = doc.model_dump(exclude_none=True)
    if not data.get("meta"):
        data.pop("meta", None)
    return json.dumps(data, ensure_ascii=False)


def write_jsonl(docs: Iterable[Document], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(dump_line(doc) + "\n")
    tmp.replace(path)  # never leave a half-written file behind


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """Yield (line number, parsed object or None, error message or None) per non-blank line."""
    with Path(path).open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, None, f"not valid JSON: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(obj, dict):
                yield lineno, None, f"expected a JSON object, got {type(obj).__name__}"
                continue
            yield lineno, obj, None


def read_jsonl(path: str | Path) -> list[Document]:
    """Read documents, raising ValueError naming file and line on the first bad one."""
    docs = []
    for lineno, obj, err in iter_jsonl(path):
        if err is None:
            try:
                docs.append(Document.model_validate(obj))
                continue
            except ValueError as exc:
                err = str(exc).replace("\n", "; ")
        raise ValueError(f"{path}:{lineno}: {err}")
    return docs
