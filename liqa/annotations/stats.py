"""Corpus figures: documents, tokens, spans, relations, events, distinct names, per language."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from liqa.text import normalize
from liqa.schema import ENTITY_TYPES, LANGS, RELATION_TYPES, Document, split_layers

_WORD = re.compile(r"\w+")


def corpus_stats(docs: list[Document]) -> dict[str, dict[str, int]]:
    """Figures per language plus an "all" column; every value is a count."""
    cols: dict[str, Counter] = defaultdict(Counter)
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for doc in docs:
        for col in (doc.lang, "all"):
            c = cols[col]
            c["documents"] += 1
            c["generated documents"] += bool(doc.meta.get("generated"))
            c["tokens"] += len(_WORD.findall(doc.text))
            for e in doc.entities:
                c[f"spans {e.type}"] += 1
                names[col][e.type].add(normalize(e.text))
            c["nested ORG in ROLE"] += len(split_layers(doc.entities)[1])
            for r in doc.relations:
                c[f"relations {r.type}"] += 1
            c["events"] += len(doc.events)
            c["event participants"] += sum(len(ev.participants) for ev in doc.events)
            c["docs with no event"] += not doc.events
            c["docs with 2+ events"] += len(doc.events) >= 2
            c["reviewed documents"] += bool(doc.meta.get("reviewer"))
    rows = ["documents", "generated documents", "reviewed documents", "tokens"]
    rows += [f"spans {t}" for t in ENTITY_TYPES] + ["nested ORG in ROLE"]
    rows += [f"relations {t}" for t in RELATION_TYPES]
    rows += ["events", "event participants", "docs with no event", "docs with 2+ events"]
    table = {row: {col: cols[col][row] for col in cols} for row in rows}
    for t in ("PERSON", "ORG", "ROLE", "LOC"):
        table[f"distinct {t}"] = {col: len(names[col][t]) for col in cols}
    # Venues are LOC entities that some event uses as its venue.
    venues: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for ev in doc.events:
            if ev.venue:
                v = normalize(doc.entity(ev.venue).text)
                venues[doc.lang].add(v)
                venues["all"].add(v)
    table["distinct venues"] = {col: len(venues[col]) for col in cols}
    return table


def to_markdown(table: dict[str, dict[str, int]]) -> str:
    cols = [c for c in (*LANGS, "all") if any(c in row for row in table.values())]
    lines = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {row} | " + " | ".join(str(vals.get(c, 0)) for c in cols) + " |"
              for row, vals in table.items()]
    return "\n".join(lines)
