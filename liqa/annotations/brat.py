"""brat standoff: ``<doc id>.txt`` (the text, byte for byte) and ``<doc id>.ann``.

::

    T1\tPERSON 0 11\tIsmail Haniyeh
    R1\tHAS_ROLE Arg1:T1 Arg2:T2
    E1\tMEETING:T7 Participant:T1 Participant2:T2 Place:T4 Time:T6
    E2\tMEETING:T9
    R2\tSAME_EVENT Arg1:T7 Arg2:T9

An ORG inside a ROLE (the one nesting liqa allows) is two T lines whose
offsets overlap; annotation.conf tells brat that this containment is allowed
(``<OVERLAP>``), so its editor accepts it and flags any other overlap.

Every MEETING span is an event trigger in brat, so each gets an E line (brat
flags a trigger no event refers to); a trigger with no Participant is not an
event (a planned or denied meeting). Further triggers of one event are joined
to its first with SAME_EVENT. Offsets are code points, like Python's.

brat has nowhere to put the language, source, date or meta of a document, nor
scores: export warns about each document that loses them, and import takes
the language from `lang` or guesses it from the script (with a warning).
`export` also writes the annotation.conf and visual.conf a brat server needs.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from liqa.annotations._interchange import (COLORS, Log, add_span, build_document, no_predictions,
                                           no_scores, resolve_lang, scored_links, utf8_error)
from liqa.schema import (ENTITY_TYPES, EVENT_LINK_TYPES, NESTABLE, RELATION_TYPES, TRIGGER_TYPES, Document,
                         Link)

# Event link type -> brat argument role (numbered Participant2, Participant3... when repeated).
ROLES = {"PARTICIPANT": "Participant", "VENUE": "Place", "WHEN": "Time"}
_ROLE_LINK = {v: k for k, v in ROLES.items()}
_EVENT = "MEETING"
_NEWLINES = re.compile(r"\r\n|\r|\n")


def annotation_conf() -> str:
    """brat's annotation.conf, from the schema's label inventories."""
    def types(kinds: Iterable[str]) -> str:
        return "|".join(sorted(kinds))

    _, parts = EVENT_LINK_TYPES["PARTICIPANT"]
    _, venues = EVENT_LINK_TYPES["VENUE"]
    _, dates = EVENT_LINK_TYPES["WHEN"]
    rels = [f"{t}\tArg1:{types(h)}, Arg2:{types(tl)}" for t, (h, tl) in RELATION_TYPES.items()]
    rels.append(f"SAME_EVENT\tArg1:{types(TRIGGER_TYPES)}, Arg2:{types(TRIGGER_TYPES)}")
    # brat flags overlapping spans unless told: Arg1 may lie inside Arg2 (an ORG inside a ROLE).
    rels += [f"<OVERLAP>\tArg1:{inner}, Arg2:{outer}, <OVL-TYPE>:contain" for inner, outer in sorted(NESTABLE)]
    event = (f"{_EVENT}\t{ROLES['PARTICIPANT']}*:{types(parts)}, {ROLES['VENUE']}?:{types(venues)}, "
             f"{ROLES['WHEN']}?:{types(dates)}")
    entities = [t for t in ENTITY_TYPES if t not in TRIGGER_TYPES]
    return "\n".join(["# liqa meeting events; written by python -m liqa.annotations export --to brat",
                      "[entities]", *entities, "", "[relations]", *rels, "", "[events]", event, "",
                      "[attributes]", ""])


def visual_conf() -> str:
    labels = [f"{t} | {t.title()}" for t in ENTITY_TYPES]
    drawing = [f"{t}\tbgColor:{COLORS[t]}" for t in ENTITY_TYPES] + ["SAME_EVENT\tdashArray:3-3"]
    return "\n".join(["[labels]", *labels, "", "[drawing]", *drawing, ""])


def export(docs: Iterable[Document], out: str | Path, predictions: Iterable[Document] | None = None
           ) -> list[str]:
    """Write `out/<id>.txt`, `out/<id>.ann`, annotation.conf and visual.conf. Returns warnings."""
    out, log = Path(out), Log()
    out.mkdir(parents=True, exist_ok=True)
    (out / "annotation.conf").write_text(annotation_conf(), encoding="utf-8")
    (out / "visual.conf").write_text(visual_conf(), encoding="utf-8")
    no_predictions("brat", predictions, log)
    for doc in docs:
        if not doc.id.strip(".") or any(c in doc.id for c in '/\\:*?"<>|'):
            log.warn(None, doc.id, "not exported: the id cannot be a file name")
            continue
        lost = [f"{k}={v!r}" for k, v in (("lang", doc.lang), ("source", doc.source),
                                          ("date", doc.date), ("meta", doc.meta)) if v]
        log.warn(None, doc.id, f"brat cannot carry document metadata; lost: {', '.join(lost)}")
        no_scores("brat", doc, log)
        with (out / f"{doc.id}.txt").open("w", encoding="utf-8", newline="") as f:
            f.write(doc.text)
        with (out / f"{doc.id}.ann").open("w", encoding="utf-8", newline="\n") as f:
            f.writelines(line + "\n" for line in ann_lines(doc))
    return log.messages


def ann_lines(doc: Document) -> list[str]:
    ents = sorted(doc.entities, key=lambda e: (e.start, e.end, e.type))
    tid = {e.id: f"T{i}" for i, e in enumerate(ents, 1)}
    lines = [f"{tid[e.id]}\t{e.type} {_fragments(doc.text, e.start, e.end)}\t"
             f"{_NEWLINES.sub(' ', e.text)}" for e in ents]
    args: dict[str, list[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    rels = []
    for link, _ in scored_links(doc):
        if link.type in ROLES:
            role = ROLES[link.type]
            n = seen[link.head, role] = seen.get((link.head, role), 0) + 1
            args.setdefault(link.head, []).append(f"{role}{n if n > 1 else ''}:{tid[link.tail]}")
        else:
            rels.append(f"{link.type} Arg1:{tid[link.head]} Arg2:{tid[link.tail]}")
    lines += [f"R{i}\t{r}" for i, r in enumerate(rels, 1)]
    triggers = [e for e in ents if e.type in TRIGGER_TYPES]
    lines += [f"E{i}\t{_EVENT}:{tid[t.id]}" + "".join(" " + a for a in args.get(t.id, []))
              for i, t in enumerate(triggers, 1)]
    return lines


def _fragments(text: str, start: int, end: int) -> str:
    """brat writes a span across a line break as fragments: '0 5;6 11'."""
    pieces, pos = [], start
    for m in _NEWLINES.finditer(text, start, end):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, end))
    return ";".join(f"{s} {e}" for s, e in pieces if e > s)


def import_(path: str | Path, lang: str | None = None) -> tuple[list[Document], list[str]]:
    """Read a brat directory (every ``*.txt`` below it with its ``.ann``), or one .txt/.ann
    pair. Document ids are the file names. Returns (documents, messages)."""
    path, log, docs = Path(path), Log(), []
    if path.is_dir():
        texts = sorted(path.rglob("*.txt"))
        for ann in sorted(path.rglob("*.ann")):
            if not ann.with_suffix(".txt").exists():
                log.err(str(ann), ann.stem, f"no text file {ann.with_suffix('.txt').name} beside it")
    elif path.suffix in (".txt", ".ann") and path.with_suffix(".txt").exists():
        texts = [path.with_suffix(".txt")]
    else:
        log.err(str(path), None, "expected a brat directory or a .txt/.ann file with its .txt")
        return [], log.messages
    for txt in texts:
        doc = _read_pair(txt, lang, log)
        if doc is not None:
            docs.append(doc)
    return docs, log.messages


def _read_pair(txt: Path, lang: str | None, log: Log) -> Document | None:
    doc_id, ann = txt.stem, txt.with_suffix(".ann")
    try:
        with txt.open(encoding="utf-8", newline="") as f:  # keep \r\n: offsets count it
            text = f.read()
    except UnicodeDecodeError as exc:
        log.err(str(txt), doc_id, utf8_error(exc))
        return None
    try:
        lines = ann.read_text(encoding="utf-8").splitlines() if ann.exists() else []
    except UnicodeDecodeError as exc:
        log.err(str(ann), doc_id, utf8_error(exc))
        return None
    if not ann.exists():
        log.warn(str(txt), doc_id, f"no {ann.name}: imported the text without annotations")
    entities, links, events = [], [], []
    trigger_of: dict[str, str] = {}  # E id -> its trigger's T id
    for lineno, line in enumerate(lines, 1):
        where = f"{ann}:{lineno}"
        if not line.strip():
            continue
        ident, _, rest = line.partition("\t")
        kind = ident[:1]
        if kind == "T":
            fields = rest.split("\t", 1)
            m = re.fullmatch(r"(\S+) (\d+ \d+(?:;\d+ \d+)*)", fields[0])
            if not m or len(fields) != 2:
                log.err(where, doc_id, f"bad span line {line!r}: expected 'T1<TAB>TYPE START END<TAB>text'")
                continue
            frags = [tuple(map(int, f.split())) for f in m.group(2).split(";")]
            start, end = min(s for s, _ in frags), max(e for _, e in frags)
            ent = add_span(entities, log, where, doc_id, text, ident, m.group(1), start, end)
            if ent is None:
                continue
            if _fragments(text, start, end) != m.group(2):
                log.warn(where, doc_id, f"span {ident} has fragments {m.group(2)}: joined as {start}-{end}")
            claimed = fields[1]
            if claimed != _NEWLINES.sub(" ", ent.text):
                log.warn(where, doc_id, f"span {ident}: the .ann says {claimed!r} but the text at "
                                        f"{start}-{end} is {ent.text!r}; kept the offsets")
        elif kind == "R":
            m = re.fullmatch(r"(\S+) Arg1:(\S+) Arg2:(\S+)", rest)
            if not m:
                log.err(where, doc_id, f"bad relation line {line!r}: expected 'R1<TAB>TYPE Arg1:T1 Arg2:T2'")
                continue
            links.append((m.group(1), m.group(2), m.group(3)))
        elif kind == "E":
            parts = rest.split()
            typ, _, trig = parts[0].partition(":") if parts else ("", "", "")
            if typ != _EVENT or not trig:
                log.err(where, doc_id, f"bad event line {line!r}: expected 'E1<TAB>{_EVENT}:T1 Role:T2 ...'")
                continue
            trigger_of[ident] = trig
            events.append((where, trig, parts[1:]))
        elif kind in "*AMN#":
            what = {"*": "equivalence", "A": "attribute", "M": "attribute", "N": "normalization",
                    "#": "annotator note"}[kind]
            log.warn(where, doc_id, f"liqa has no {what}s: {ident} dropped")
        else:
            log.err(where, doc_id, f"unrecognised line {line!r}")

    # A relation may name an event (E id) for its trigger.
    scored = [(Link(type=typ, head=trigger_of.get(a1, a1), tail=trigger_of.get(a2, a2)), None)
              for typ, a1, a2 in links]
    for where, trig, args in events:
        for arg in args:
            role, _, target = arg.partition(":")
            link_type = _ROLE_LINK.get(role.rstrip("0123456789"))
            if link_type is None or not target:
                log.err(where, doc_id, f"event argument {arg!r}: expected {', '.join(ROLES.values())} "
                                       "followed by :T<n>")
            elif target in trigger_of:
                log.err(where, doc_id, f"event argument {arg!r}: liqa events do not nest")
            else:
                scored.append((Link(type=link_type, head=trig, tail=target), None))
    fields = {"id": doc_id, "text": text, "lang": resolve_lang(None, lang, text, log, str(txt), doc_id)}
    return build_document(fields, entities, scored, log, str(ann))
