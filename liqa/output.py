"""The prediction output contract: one JSON object per document (liqa/prediction.schema.json).

Events are spelled out for analysts: each participant carries its text, type,
roles and organizations, so a reader needs no id lookups.
"""
from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

from liqa.dates import document_dates
from liqa.entities import participant_details
from liqa.schema import Document

SCHEMA_PATH = Path(__file__).with_name("prediction.schema.json")


def to_output(doc: Document, warnings: list[str] | None = None) -> dict:
    """A predicted document in the output contract's shape."""
    by_id = {e.id: e for e in doc.entities}
    details = participant_details(doc)
    isos, date_warnings = document_dates(doc)

    def ref(eid: str | None) -> dict | None:
        return {"entity": eid, "text": by_id[eid].text} if eid else None

    events = []
    for ev in doc.events:
        participants = []
        for p in ev.participants:
            role_ids, org_ids = details[p]
            participants.append({"entity": p, "text": by_id[p].text, "type": by_id[p].type,
                                 "roles": [ref(r) for r in role_ids], "organizations": [ref(o) for o in org_ids]})
        events.append({"id": ev.id, "type": ev.type, "triggers": ev.triggers, "score": ev.score,
                       "participants": participants, "venue": ref(ev.venue),
                       "date": dict(ref(ev.date), iso=isos[ev.date]) if ev.date else None})
    out = {"id": doc.id, "lang": doc.lang}
    if doc.date:
        out["date"] = doc.date
    out["entities"] = [{"id": e.id, "type": e.type, "start": e.start, "end": e.end, "text": e.text,
                        "score": e.score, **({"iso": isos[e.id]} if e.type == "DATE" else {})}
                       for e in doc.entities]
    out["relations"] = [{"type": r.type, "head": r.head, "tail": r.tail, "score": r.score} for r in doc.relations]
    out["events"] = events
    out["warnings"] = list(warnings or []) + date_warnings
    return out


def output_line(doc: Document, warnings: list[str] | None = None) -> str:
    return json.dumps(to_output(doc, warnings), ensure_ascii=False)


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def contract_error(record: object):
    """The most relevant way `record` breaks the contract (a jsonschema ValidationError, whose
    `json_path` and `message` say where and what), or None for a valid prediction record."""
    from jsonschema.exceptions import best_match

    return best_match(_validator().iter_errors(record))


class OutputWriter:
    """Appends one complete JSON line per document, flushed at once.

    With resume, `done` counts the lines already in the file per id (an id given twice in
    the input is written twice), and a torn last line (from a killed run) is cut off before
    anything is appended.
    """

    def __init__(self, path: Path | None, resume: bool = False):
        self.path = path
        self.done: Counter[str] = Counter()
        if path is None:
            import sys
            self._f = sys.stdout
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and path.exists():
            data = path.read_bytes()
            keep = data[:data.rfind(b"\n") + 1]  # drop a torn last line
            for line in keep.decode("utf-8").splitlines():
                self.done[json.loads(line)["id"]] += 1
            path.write_bytes(keep)
            self._f = path.open("a", encoding="utf-8")
        else:
            self._f = path.open("w", encoding="utf-8")

    def write(self, record: str) -> None:
        self._f.write(record + "\n")  # one write per line: a crash cannot split a record
        self._f.flush()

    def close(self) -> None:
        if self.path is not None:
            self._f.close()


def from_output(record: dict, text: str) -> Document:
    """A prediction record (the contract) back to a Document, given its text.

    Lets evaluation score prediction files without the model.
    """
    from liqa.schema import Entity, Event, Relation

    events = [Event(id=ev["id"], triggers=ev["triggers"], participants=[p["entity"] for p in ev["participants"]],
                    venue=(ev["venue"] or {}).get("entity"), date=(ev["date"] or {}).get("entity"),
                    score=ev.get("score")) for ev in record["events"]]
    return Document(id=record["id"], lang=record["lang"], text=text, date=record.get("date"),
                    entities=[Entity(**e) for e in record["entities"]],
                    relations=[Relation(id=f"R{i + 1}", **r) for i, r in enumerate(record["relations"])],
                    events=events)
