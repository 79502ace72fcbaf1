"""Analysts' tables: prediction records (liqa/prediction.schema.json) as CSV, one row per
participant per event.

    predict.py INPUT... --format csv --out meetings.csv           # straight from the model
    python -m liqa.tables predictions.jsonl --out meetings.csv     # from predict.py's JSON Lines

A document with no event gives no row; the summary on stderr counts such documents and names
them. Files are UTF-8 with a byte-order mark: Excel shows Arabic and Persian right only with
it, and pandas.read_csv (or Python's encoding="utf-8-sig") strips it.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

COLUMNS = ("document", "lang", "published", "event", "event_score", "triggers", "participant",
           "participant_type", "participant_score", "roles", "organizations", "venue", "date", "date_iso")
JOIN = " | "  # between the several roles, organizations or triggers of one cell
NAMED = 10  # documents with no event named in the summary; the rest are counted


def rows(record: dict) -> list[dict]:
    """One dict per participant per event, keyed by COLUMNS; None where the record has nothing
    (no venue, no date, a date with no ISO form, no publication date).

    The contract has no score for a participant's link to its event: participant_score is the
    participant's span score, event_score the event's.
    """
    entities = {e["id"]: e for e in record["entities"]}
    out = []
    for ev in record["events"]:
        triggers = JOIN.join(entities[t]["text"] for t in ev["triggers"])
        for p in ev["participants"]:
            out.append({
                "document": record["id"], "lang": record["lang"], "published": record.get("date"),
                "event": ev["id"], "event_score": ev["score"], "triggers": triggers,
                "participant": p["text"], "participant_type": p["type"],
                "participant_score": entities[p["entity"]]["score"],
                "roles": JOIN.join(r["text"] for r in p["roles"]) or None,
                "organizations": JOIN.join(o["text"] for o in p["organizations"]) or None,
                "venue": ev["venue"]["text"] if ev["venue"] else None,
                "date": ev["date"]["text"] if ev["date"] else None,
                "date_iso": ev["date"]["iso"] if ev["date"] else None,
            })
    return out


class CsvWriter:
    """Writes the rows of each record as it comes; a context manager.

    To a file: through FILE.tmp, renamed at the end, so a killed run leaves no table that looks
    complete. To stdout (path None): streamed, flushed after each document.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.documents = self.events = self.rows = 0
        self.without_events: list[str] = []
        if path is None:
            sys.stdout.flush()  # anything already written comes before the table
            self._f = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8-sig", newline="")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = path.with_name(path.name + ".tmp")
            self._f = self._tmp.open("w", encoding="utf-8-sig", newline="")  # csv writes its own \r\n
        self._csv = csv.DictWriter(self._f, fieldnames=COLUMNS)
        self._csv.writeheader()

    def write(self, record: dict) -> None:
        self.documents += 1
        self.events += len(record["events"])
        if not record["events"]:
            self.without_events.append(record["id"])
        table = rows(record)
        self.rows += len(table)
        self._csv.writerows(table)
        self._f.flush()

    def summary(self) -> str:
        """Rows, events and documents written, and the documents that gave no row."""
        ids = ", ".join(self.without_events[:NAMED])
        more = len(self.without_events) - NAMED
        return (f"csv: {self.rows} rows ({self.events} events) from {self.documents} documents; "
                f"{len(self.without_events)} with no meeting found (no rows)"
                + (f": {ids}" if ids else "") + (f" and {more} more" if more > 0 else ""))

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.path is None:
            self._f.flush()
            self._f.detach()  # leave sys.stdout open
            return
        self._f.close()
        if exc_type is None:
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink()


def _records(path: str):
    """(where, record or error message) for each non-blank line of a JSON Lines file or stdin."""
    from liqa.output import contract_error

    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield where, f"not JSON: {exc}"
                    continue
                error = contract_error(record)
                yield where, (record if error is None else
                              f"not a prediction record: {error.json_path}: {error.message}")
    except (OSError, UnicodeDecodeError) as exc:
        yield path, f"cannot read: {exc}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m liqa.tables",
        description="Turn predict.py's JSON Lines into a CSV table, one row per participant per event "
                    f"(columns: {', '.join(COLUMNS)}). UTF-8 with a byte-order mark, for Excel.",
        epilog="example: python -m liqa.tables out.jsonl --out meetings.csv. A bad line is reported as "
               "file:line on stderr and skipped; the exit code is then 1.")
    parser.add_argument("predictions", nargs="+", metavar="PREDICTIONS",
                        help="JSON Lines files written by predict.py, or - for stdin")
    parser.add_argument("--out", type=Path, default=None, help="CSV file (default: stdout)")
    args = parser.parse_args(argv)
    errors = 0
    with CsvWriter(args.out) as writer:
        for path in args.predictions:
            for where, record in _records(path):
                if isinstance(record, str):
                    errors += 1
                    print(f"error: {where}: {record}", file=sys.stderr)
                else:
                    writer.write(record)
    print(writer.summary(), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
