"""Scores of predicted documents against gold ones. Pure functions: no model here."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from liqa.text import normalize
from liqa.schema import Document


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": n_gold, "predicted": n_pred, "correct": tp}


def _score(pred: Iterable[Counter], gold: Iterable[Counter]) -> dict[str, float]:
    tp = n_pred = n_gold = 0
    for p, g in zip(pred, gold):
        tp += sum((p & g).values())
        n_pred += sum(p.values())
        n_gold += sum(g.values())
    return prf(tp, n_pred, n_gold)


def spans(doc: Document, types: set[str] | None = None) -> Counter:
    return Counter((e.type, e.start, e.end) for e in doc.entities if types is None or e.type in types)


def relations(doc: Document) -> Counter:
    """Strict: relation type and both spans' offsets and types (Taillé et al., 2020)."""
    ents = {e.id: e for e in doc.entities}
    key = lambda i: (ents[i].type, ents[i].start, ents[i].end)  # noqa: E731
    return Counter((r.type, key(r.head), key(r.tail)) for r in doc.relations)


def met_pairs(doc: Document) -> Counter:
    """Who met whom: unordered pairs of normalized participant names in the same event."""
    ents = {e.id: e for e in doc.entities}
    pairs: set[tuple[str, str]] = set()
    for ev in doc.events:
        names = sorted({normalize(ents[p].text) for p in ev.participants})
        pairs |= {(a, b) for i, a in enumerate(names) for b in names[i + 1:]}
    return Counter(pairs)


def summary(preds: list[Document], golds: list[Document]) -> dict[str, dict[str, float]]:
    """Headline scores used to select checkpoints (the full report is evaluation's job)."""
    by_id = {g.id: g for g in golds}
    missing = [p.id for p in preds if p.id not in by_id]
    if missing or len(preds) != len(golds):
        raise ValueError(f"predictions and gold do not hold the same documents (e.g. {missing[:3]})")
    gold = [by_id[p.id] for p in preds]
    return {
        "spans": _score(map(spans, preds), map(spans, gold)),
        "relations": _score(map(relations, preds), map(relations, gold)),
        "triggers": _score((spans(p, {"MEETING"}) for p in preds), (spans(g, {"MEETING"}) for g in gold)),
        "met_pairs": _score(map(met_pairs, preds), map(met_pairs, gold)),
    }


def selection_score(scores: dict[str, dict[str, float]]) -> float:
    """One number to pick the best epoch: span, relation and who-met-whom F1 alike."""
    return round((scores["spans"]["f1"] + scores["relations"]["f1"] + scores["met_pairs"]["f1"]) / 3, 4)
