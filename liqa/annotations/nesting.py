"""Nest ORG spans inside ROLE spans of markup sources, from a table of rulings (``nest-orgs``).

A rulings file is tab-separated, with the header ``lang<TAB>role<TAB>org<TAB>note``:
the language, the exact text of a ROLE span, the exact text of the organization
inside it (its first occurrence in the role is marked) and a free note. Blank
lines and lines starting with ``#`` are skipped.

Sources are edited as text, never re-rendered: the brackets of the new ORG go
inside the ROLE span's markup and the AFFILIATION lines are appended, so a
diff shows only what changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from liqa.annotations import markup
from liqa.annotations.validate import check_document
from liqa.schema import LANGS, Document, Entity, is_nested, trim_span

HEADER = ["lang", "role", "org", "note"]
ID_PREFIX = "on"  # fresh ids are on1, on2, ... (ORG, nested)


@dataclass(frozen=True)
class Ruling:
    lang: str
    role: str
    org: str
    note: str
    line: int  # line in the rulings file


@dataclass
class Change:
    """One ORG nested in one ROLE span of a source file."""

    line: int  # markup line of the ROLE span
    doc_id: str
    role: str
    org: str
    org_id: str
    ruling: Ruling
    relations: list[str] = field(default_factory=list)  # the appended link lines

    def describe(self, path: Path | str) -> str:
        rels = f" (+ {', '.join(self.relations)})" if self.relations else \
            " (no relation: the role has no holder and is in no event)"
        return f"{path}:{self.line}: {self.doc_id}: ROLE {self.role!r} <- ORG {self.org!r}{rels}"


def read_rulings(path: str | Path) -> dict[tuple[str, str], Ruling]:
    """Rulings by (lang, role text). Raises ValueError naming file and line on a bad row."""
    rulings: dict[tuple[str, str], Ruling] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header_seen = False
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not header_seen:
            if [c.strip() for c in cols] != HEADER:
                raise ValueError(f"{path}:{n}: the first line must be the header "
                                 f"{'<TAB>'.join(HEADER)}, got {line!r}")
            header_seen = True
            continue
        if len(cols) not in (3, 4):
            raise ValueError(f"{path}:{n}: expected 4 tab-separated columns (lang, role, org, note), "
                             f"got {len(cols)}")
        lang, role, org, note = (cols + [""])[:4]
        problem = _ruling_problem(lang, role, org)
        if problem:
            raise ValueError(f"{path}:{n}: {problem}")
        ruling = Ruling(lang, role, org, note.strip(), n)
        old = rulings.get((lang, role))
        if old is not None and old.org != org:
            raise ValueError(f"{path}:{n}: role {role!r} ({lang}) was ruled on line {old.line} "
                             f"with ORG {old.org!r}, here with {org!r}")
        rulings.setdefault((lang, role), ruling)
    if not header_seen:
        raise ValueError(f"{path}:1: empty: expected the header {'<TAB>'.join(HEADER)}")
    return rulings


def _ruling_problem(lang: str, role: str, org: str) -> str | None:
    if lang not in LANGS:
        return f"lang {lang!r} is not one of {', '.join(LANGS)}"
    if not role or not org:
        return "role and org must not be empty"
    if org not in role:
        return f"org {org!r} is not part of the role {role!r}"
    if org == role:
        return f"org {org!r} is the whole role: a nested span must be shorter"
    if "\n" in role:
        return "a role has no line break"
    start = role.index(org)
    if trim_span(role, start, start + len(org)) != (start, start + len(org)):
        return f"org {org!r} starts or ends with a space or punctuation"
    return None


def nest_source(source: str, rulings: dict[tuple[str, str], Ruling]) -> tuple[str, list[Change]]:
    """Apply the rulings to one markup source: (the edited source, the changes).

    Every ROLE span whose text a ruling of the document's language names, and
    that holds no nested ORG yet, gets the ORG with a fresh id, linked by
    AFFILIATION from each HAS_ROLE holder of the role, or else from the role
    itself when it is an event participant. Raises markup.MarkupError if the
    source does not parse, ValueError if the edited source would not validate.
    """
    parsed = markup.parse(source)
    doc = parsed.doc
    problems = check_document(doc)
    if problems:
        raise ValueError(f"{doc.id}: has {len(problems)} validation errors, the first: "
                         f"{problems[0].message}; fix them first: not edited")
    used = set(parsed.lines) | {e.id for e in doc.entities}
    inserts: list[tuple[int, str]] = []  # (source offset, text), applied from the end
    changes: list[Change] = []
    spans: set[tuple[int, int]] = set()  # plain-text offsets of the new ORG spans
    for role in doc.entities:
        ruling = rulings.get((doc.lang, role.text)) if role.type == "ROLE" else None
        if ruling is None or any(is_nested(e, role) for e in doc.entities):
            continue
        start = role.start + role.text.index(ruling.org)
        end = start + len(ruling.org)
        org_id = _fresh_id(used)
        spans.add((start, end))
        inserts += [(parsed.chars[start][0], "["), (parsed.chars[end - 1][1], f"]{{ORG {org_id}}}")]
        changes.append(Change(parsed.lines[role.id], doc.id, role.text, ruling.org, org_id, ruling,
                              _relations(doc, role, org_id)))
    if not changes:
        return source, []
    edited = source
    for pos, text in sorted(inserts, reverse=True):
        edited = edited[:pos] + text + edited[pos:]
    newline = "\r\n" if "\r\n" in source else "\n"
    links = [r for c in changes for r in c.relations]
    if links:
        if not edited.endswith("\n"):
            edited += newline
        edited += "".join(r + newline for r in links)
    _check(doc, edited, spans)
    return edited, changes


def _fresh_id(used: set[str]) -> str:
    n = 1
    while f"{ID_PREFIX}{n}" in used:
        n += 1
    used.add(f"{ID_PREFIX}{n}")
    return f"{ID_PREFIX}{n}"


def _relations(doc: Document, role: Entity, org_id: str) -> list[str]:
    holders = [r.head for r in doc.relations if r.type == "HAS_ROLE" and r.tail == role.id]
    if holders:
        return [f"rel AFFILIATION {h} {org_id}" for h in dict.fromkeys(holders)]
    if any(role.id in ev.participants for ev in doc.events):
        return [f"rel AFFILIATION {role.id} {org_id}"]
    return []


def _check(before: Document, edited: str, spans: set[tuple[int, int]]) -> None:
    """The edited source has the same text, the old spans plus the new ORG ones, and validates."""
    try:
        after = markup.parse(edited).doc
    except markup.MarkupError as exc:
        raise ValueError(f"{before.id}: the edited file would not parse ({exc}): not edited") from None
    old = {(e.start, e.end, e.type) for e in before.entities}
    now = {(e.start, e.end, e.type) for e in after.entities}
    if after.text != before.text or now != old | {(s, e, "ORG") for s, e in spans}:
        raise ValueError(f"{before.id}: the edit did not give the expected spans: not edited")
    problems = check_document(after)
    if problems:
        raise ValueError(f"{before.id}: the edited file would not validate ({problems[0].message}): not edited")


@dataclass
class Outcome:
    changes: list[tuple[Path, Change]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0  # files edited (or that would be, on a dry run)


def nest_files(paths: list[Path], rulings: dict[tuple[str, str], Ruling], *, dry_run: bool = False) -> Outcome:
    """Apply the rulings to every .lqm file in `paths`, writing each changed file unless `dry_run`."""
    out = Outcome()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:  # keep \r\n as it is
            source = f.read()
        try:
            edited, changes = nest_source(source, rulings)
        except markup.MarkupError as exc:
            out.errors.append(f"{path}:{exc.line}: {path.stem}: {exc.message}: not edited")
            continue
        except ValueError as exc:
            out.errors.append(f"{path}:1: {exc}")
            continue
        if not changes:
            continue
        out.files += 1
        out.changes += [(path, c) for c in changes]
        if not dry_run:
            with path.open("w", encoding="utf-8", newline="") as f:
                f.write(edited)
    return out
