"""liqa markup: the inline authoring format, converted to offsets by program.

A markup file (``*.lqm``, UTF-8) holds one document in three parts split by
lines that are exactly ``---``::

    id: ar-0001
    lang: ar
    date: 2024-04-05
    ---
    [التقى]{MEETING m1} [إسماعيل هنية]{PERSON p1} ...
    ---
    rel HAS_ROLE p1 r1
    event triggers=m1 participants=p1,p2 venue=l1 date=d1

The header is ``key: value`` lines (id and lang required; date and source
become document fields, anything else goes to ``meta``). The text is
everything between the first and the last ``---`` line. A span is
``[surface text]{TYPE}`` or ``[surface text]{TYPE id}``; ``\\[ \\] \\{ \\} \\\\``
write those characters literally. Spans nest one level, and only as
`schema.NESTABLE` allows: an ORG inside a ROLE,
``[الأمين العام ل[حركة الجهاد الإسلامي]{ORG o2}]{ROLE r1}``; any other span
inside a span, and a third level, are errors. The link section has ``rel TYPE HEAD TAIL``
and ``event triggers=.. participants=.. [venue=..] [date=..]`` lines; ``#``
starts a comment line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from liqa.schema import ENTITY_TYPES, NESTABLE, Document, Entity, Event, Relation, split_layers

SEPARATOR = "---"
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*$")
_ESCAPABLE = "[]{}\\"
_DOC_FIELDS = ("id", "lang", "date", "source")
# The nesting schema.NESTABLE allows, for messages: "ORG inside ROLE".
NESTING = " or ".join(f"{inner} inside {outer}" for inner, outer in sorted(NESTABLE))


class MarkupError(ValueError):
    """A problem in a markup file, with the 1-based line it is on."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class Parsed:
    doc: Document
    header_line: int
    # Markup line of each author id (entities, "R<n>" relations, "E<n>" events),
    # so later checks can point at the line to fix.
    lines: dict[str, int] = field(default_factory=dict)
    # Where the text sits in the source, for tools that edit it in place: the
    # source range [start, end) of each plain-text character's markup (two
    # characters for an escape).
    chars: list[tuple[int, int]] = field(default_factory=list)


def parse(source: str) -> Parsed:
    """Parse one markup document. Raises MarkupError on the first syntax error."""
    raw = source.split("\n")
    seps = [i for i, ln in enumerate(raw) if ln.rstrip("\r") == SEPARATOR]
    if len(seps) < 2:
        raise MarkupError(len(raw), "expected a header, a '---' line, the text, and a closing '---' line")
    first, last = seps[0], seps[-1]
    fields, meta = _parse_header(raw[:first])
    text_start_line = first + 2  # 1-based line of the text's first line
    body_offset = len("\n".join(raw[:first + 1])) + 1
    text, entities, lines, chars = _parse_text("\n".join(raw[first + 1:last]), text_start_line, body_offset)
    relations, events, isos = _parse_links(raw[last + 1:], last + 2, lines)
    unknown = [eid for eid in isos if eid not in {e.id for e in entities}]
    if unknown:
        raise MarkupError(lines.get(f"iso {unknown[0]}", last + 2), f"iso line names no span {unknown[0]!r}")
    entities = [e.model_copy(update={"iso": isos[e.id]}) if e.id in isos else e for e in entities]
    try:
        doc = Document(**fields, text=text, entities=entities, relations=relations,
                       events=events, meta=meta)
    except ValueError as exc:
        raise MarkupError(1, f"header: {_first_error(exc)}") from None
    return Parsed(doc=doc, header_line=1, lines=lines, chars=chars)


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        err = errors()[0]
        return f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
    return str(exc)


def _parse_header(lines: list[str]) -> tuple[dict, dict]:
    fields: dict[str, str] = {}
    meta: dict[str, str | bool] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise MarkupError(n, f"header lines are 'key: value', got {line!r}")
        if key in fields or key in meta:
            raise MarkupError(n, f"header key {key!r} given twice")
        if key in _DOC_FIELDS:
            fields[key] = value
        else:
            meta[key] = {"true": True, "false": False}.get(value, value)
    for key in ("id", "lang"):
        if key not in fields:
            raise MarkupError(1, f"the header needs '{key}: ...'")
    return fields, meta


@dataclass
class _Open:
    """A span whose '[' has been read: its plain-text start, markup line and source offset."""

    start: int
    line: int
    src: int
    inner: list[Entity] = field(default_factory=list)  # spans closed inside it


def _parse_text(body: str, first_line: int, body_offset: int = 0
                ) -> tuple[str, list[Entity], dict[str, int], list[tuple[int, int]]]:
    """Plain text, entities, markup line per id, and the source range of each
    plain character's markup (`body_offset` is where the body starts in the source).

    One span may lie inside another (an ORG inside a ROLE, `schema.NESTABLE`);
    the entities come in the order their '[' opens.
    """
    out: list[str] = []  # the plain text, one item per character
    chars: list[tuple[int, int]] = []  # source range of each plain character's markup
    entities: list[Entity] = []
    lines: dict[str, int] = {}
    line = first_line
    stack: list[_Open] = []
    order: list[tuple[int, Entity]] = []  # (source offset of '[', entity): opening order
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPABLE:
            out.append(body[i + 1])
            chars.append((body_offset + i, body_offset + i + 2))
            i += 2
            continue
        if ch == "[":
            if len(stack) == 2:
                raise MarkupError(line, "'[' inside a span inside a span: spans nest one level only, "
                                        f"{NESTING} (write \\[ for a literal bracket)")
            stack.append(_Open(len(out), line, i))
        elif ch == "]":
            if not stack:
                raise MarkupError(line, "']' with no open '[' (write \\] for a literal bracket)")
            close = body.find("}", i)
            if not body.startswith("{", i + 1) or close < 0:
                raise MarkupError(line, "a span '[...]' must be followed by '{TYPE}' or '{TYPE id}'")
            label = body[i + 2:close].split()
            if not 1 <= len(label) <= 2 or label[0] not in ENTITY_TYPES:
                raise MarkupError(line, f"bad span label {{{body[i + 2:close]}}}: expected one of "
                                        f"{', '.join(ENTITY_TYPES)}, then an optional id")
            span = stack.pop()
            eid = label[1] if len(label) == 2 else f"_{len(entities) + 1}"
            if len(label) == 2:
                if not _ID.match(eid):
                    raise MarkupError(line, f"bad id {eid!r}: use letters, digits and _, starting with a letter")
                if eid in lines:
                    raise MarkupError(line, f"id {eid!r} already used on line {lines[eid]}")
            text = "".join(out[span.start:])
            entity = Entity(id=eid, type=label[0], start=span.start, end=len(out), text=text)
            for inner in span.inner:
                where = lines[inner.id]
                if (inner.type, entity.type) not in NESTABLE:
                    raise MarkupError(where, f"{inner.type} {inner.text!r} inside {entity.type} {text!r}: "
                                             f"the only nesting allowed is {NESTING}")
                if (inner.start, inner.end) == (entity.start, entity.end):
                    raise MarkupError(where, f"{inner.type} {inner.text!r} is the whole {entity.type} span: "
                                             "a span inside a span must be shorter")
            lines[eid] = span.line
            entities.append(entity)
            order.append((span.src, entity))
            if stack:
                stack[-1].inner.append(entity)
            i = close + 1
            continue
        else:
            if ch == "\n":
                line += 1
            out.append(ch)
            chars.append((body_offset + i, body_offset + i + 1))
        i += 1
    if stack:
        raise MarkupError(stack[-1].line, "span opened with '[' is never closed")
    entities = [e for _, e in sorted(order, key=lambda x: x[0])]
    return "".join(out), entities, lines, chars


def _parse_links(lines: list[str], first_line: int, ids: dict[str, int]
                 ) -> tuple[list[Relation], list[Event], dict[str, str]]:
    relations: list[Relation] = []
    events: list[Event] = []
    isos: dict[str, str] = {}
    for n, line in enumerate(lines, first_line):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "rel":
            if len(words) != 4:
                raise MarkupError(n, "a relation line is 'rel TYPE HEAD TAIL'")
            rid = f"R{len(relations) + 1}"
            try:
                relations.append(Relation(id=rid, type=words[1], head=words[2], tail=words[3]))
            except ValueError:
                raise MarkupError(n, f"unknown relation type {words[1]!r}") from None
            ids[rid] = n
        elif words[0] == "event":
            args: dict[str, list[str]] = {}
            for w in words[1:]:
                key, sep, value = w.partition("=")
                if not sep or key not in ("triggers", "participants", "venue", "date"):
                    raise MarkupError(n, f"bad event argument {w!r}: use triggers=, participants=, venue=, date=")
                args[key] = [v for v in value.split(",") if v]
            for key in ("venue", "date"):
                if len(args.get(key, [])) > 1:
                    raise MarkupError(n, f"an event has one {key}")
            eid = f"E{len(events) + 1}"
            try:
                events.append(Event(id=eid, triggers=args.get("triggers", []),
                                    participants=args.get("participants", []),
                                    venue=(args.get("venue") or [None])[0],
                                    date=(args.get("date") or [None])[0]))
            except ValueError:
                raise MarkupError(n, "an event needs triggers=... and participants=...") from None
            ids[eid] = n
        elif words[0] == "iso":
            if len(words) != 3:
                raise MarkupError(n, "an iso line is 'iso DATE-ID YYYY-MM-DD' (or YYYY-MM, YYYY)")
            isos[words[1]] = words[2]
            ids[f"iso {words[1]}"] = n
        else:
            raise MarkupError(n, f"expected 'rel ...', 'event ...' or 'iso ...', got {line.strip()!r}")
    return relations, events, isos


def read(path: str | Path) -> Parsed:
    return parse(Path(path).read_text(encoding="utf-8"))


_PREFIX = {"PERSON": "p", "ORG": "o", "ROLE": "r", "LOC": "l", "DATE": "d", "MEETING": "m"}


def render(doc: Document) -> str:
    """Write a document as markup, the inverse of `parse` (ids become p1, o1, m1, ...).

    An ORG inside a ROLE is written inside its brackets. Raises ValueError for
    spans that overlap in any other way, which markup cannot write.
    """
    order = sorted(doc.entities, key=lambda e: (e.start, -e.end))
    counts: dict[str, int] = {}
    short: dict[str, str] = {}
    for e in order:
        counts[e.type] = counts.get(e.type, 0) + 1
        short[e.id] = f"{_PREFIX[e.type]}{counts[e.type]}"
    outer, inner = split_layers(order)
    for a, b in zip(outer, outer[1:]):
        if b.start < a.end:
            raise ValueError(f"{doc.id}: {a.type} {a.text!r} and {b.type} {b.text!r} overlap: "
                             f"the only nesting allowed is {NESTING}")
    header = [f"id: {doc.id}", f"lang: {doc.lang}"]
    header += [f"{k}: {getattr(doc, k)}" for k in ("date", "source") if getattr(doc, k)]
    header += [f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in doc.meta.items()]

    def spans(items: list[Entity], pos: int, end: int, nested: list[Entity]) -> list[str]:
        out = []
        for e in items:
            out += [_escape(doc.text[pos:e.start]), "["]
            inside = [n for n in nested if e.start <= n.start and n.end <= e.end]
            if len(inside) > 1 and any(b.start < a.end for a, b in zip(inside, inside[1:])):
                raise ValueError(f"{doc.id}: spans inside {e.type} {e.text!r} overlap each other")
            out += spans(inside, e.start, e.end, []) + [f"]{{{e.type} {short[e.id]}}}"]
            pos = e.end
        return out + [_escape(doc.text[pos:end])]

    body = spans(outer, 0, len(doc.text), inner)
    links = [f"rel {r.type} {short[r.head]} {short[r.tail]}" for r in doc.relations]
    for ev in doc.events:
        parts = [f"triggers={','.join(short[t] for t in ev.triggers)}",
                 f"participants={','.join(short[p] for p in ev.participants)}"]
        parts += [f"venue={short[ev.venue]}"] if ev.venue else []
        parts += [f"date={short[ev.date]}"] if ev.date else []
        links.append("event " + " ".join(parts))
    links += [f"iso {short[e.id]} {e.iso}" for e in order if e.iso]
    return "\n".join(header + [SEPARATOR, "".join(body), SEPARATOR] + links) + "\n"


def _escape(s: str) -> str:
    return "".join("\\" + c if c in _ESCAPABLE else c for c in s)
