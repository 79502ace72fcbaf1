"""Scores of predicted documents against gold ones. Pure functions: no model here.

- spans: seqeval on IOB2 word tags, strict mode and default mode side by side;
- relations: Boundaries and Strict (Taillé et al., 2020);
- events: trigger identification and classification, argument identification
  and classification (ACE style, an event matched through a shared trigger);
- records, what analysts read: who met whom (unordered participant pairs of one
  event), participant-venue, participant-role and participant-date pairs, each
  strict (exact offsets) and lenient (normalized text: letter variants,
  diacritics, tatweel, ZWNJ, digits);
- 95% bootstrap intervals over documents for the headline F1s.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from liqa.dates import document_dates
from liqa.entities import entity_groups, participant_details
from liqa.schema import ENTITY_TYPES, LANGS, RELATION_TYPES, Document
from liqa.text import normalize

_WORD = re.compile(r"\w+|[^\w\s]")
HEADLINE = ("spans_strict", "relations_strict", "met_pairs_strict", "met_pairs_lenient")


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": n_gold, "predicted": n_pred, "correct": tp}


def _counts(pred: Counter, gold: Counter) -> tuple[int, int, int]:
    return sum((pred & gold).values()), sum(pred.values()), sum(gold.values())


# ---- what is compared, per document -------------------------------------------------------

def spans(doc: Document, types: Iterable[str] | None = None) -> Counter:
    keep = set(types) if types is not None else None
    return Counter((e.type, e.start, e.end) for e in doc.entities if keep is None or e.type in keep)


def relations(doc: Document, strict: bool = True) -> Counter:
    """Strict: relation type, both spans' offsets and types. Boundaries: without the entity types."""
    ents = {e.id: e for e in doc.entities}
    key = (lambda i: (ents[i].type, ents[i].start, ents[i].end)) if strict else \
        (lambda i: (ents[i].start, ents[i].end))
    return Counter((r.type, key(r.head), key(r.tail)) for r in doc.relations)


def event_triggers(doc: Document) -> Counter:
    """Trigger identification: MEETING mentions that belong to an event (offsets)."""
    ents = {e.id: e for e in doc.entities}
    return Counter((ents[t].start, ents[t].end) for ev in doc.events for t in ev.triggers)


def event_arguments(doc: Document, with_role: bool) -> Counter:
    """(trigger offsets, [role], argument offsets), one per trigger of the event,
    so an argument counts as found when it hangs off any trigger the gold event shares."""
    ents = {e.id: e for e in doc.entities}
    out: Counter = Counter()
    for ev in doc.events:
        args = [("participant", p) for p in ev.participants]
        args += [(role, a) for role, a in (("venue", ev.venue), ("date", ev.date)) if a]
        first = min((ents[t] for t in ev.triggers), key=lambda e: e.start)
        for role, a in args:
            out[((first.start, first.end), role if with_role else "", ents[a].start, ents[a].end)] += 1
    return out


def _namer(doc: Document, lenient: bool) -> Callable[[str], object]:
    """Strict: a mention's offsets. Lenient: its entity's fullest name, normalized, so
    "Ruto" and "William Ruto" of one document are one participant (liqa.entities)."""
    by_id = {e.id: e for e in doc.entities}
    if not lenient:
        return lambda eid: (by_id[eid].start, by_id[eid].end)
    rep = entity_groups(doc.entities)
    return lambda eid: normalize(by_id[rep.get(eid, eid)].text)


def met_pairs(doc: Document, lenient: bool = True) -> Counter:
    """Who met whom: unordered pairs of participants of the same event."""
    name = _namer(doc, lenient)
    pairs: set = set()
    for ev in doc.events:
        names = sorted({name(p) for p in ev.participants}, key=str)
        pairs |= {(a, b) for i, a in enumerate(names) for b in names[i + 1:]}
    return Counter(pairs)


def participant_pairs(doc: Document, slot: str, lenient: bool = True) -> Counter:
    """(participant, venue|date|role|org) pairs; roles and organizations as the output
    gives them (liqa.entities.participant_details: over every mention of the participant)."""
    details = participant_details(doc) if slot in ("role", "org") else {}
    name = _namer(doc, lenient)
    out: set = set()
    for ev in doc.events:
        for p in ev.participants:
            if slot in ("venue", "date"):
                target = getattr(ev, slot)
                targets = [target] if target else []
            else:
                targets = details[p][0 if slot == "role" else 1]
            out |= {(name(p), name(t)) for t in targets}
    return Counter(out)


def date_iso(pairs: list[tuple[Document, Document]]) -> dict[str, float | int]:
    """Calendar dates of meetings, for the gold events whose date has a gold `iso`.

    Gold and predicted events are matched one to one, best first: a pair must share a
    participant (lenient names); pairs that also share a trigger (overlapping characters)
    come first, then those sharing more participants. A meeting recalled in passing often
    has the same two sides as the one reported, and only the trigger tells them apart; a
    predicted event answers for one gold event at most. `accuracy` is the share of
    matched, dated predictions whose date resolves (liqa.dates.document_dates) to the gold
    iso; `recall` the share of all those gold events that end with the right iso.
    """
    gold_n = matched = correct = 0
    for pred, gold in pairs:
        by_id, pby_id = {e.id: e for e in gold.entities}, {e.id: e for e in pred.entities}
        gname, pname = _namer(gold, True), _namer(pred, True)
        pisos = document_dates(pred)[0]
        dated = [ev for ev in gold.events if ev.date and by_id[ev.date].iso]
        gold_n += len(dated)
        ranked = []
        for g, ev in enumerate(dated):
            names = {gname(p) for p in ev.participants}
            spans = [(by_id[t].start, by_id[t].end) for t in ev.triggers]
            for k, pe in enumerate(pred.events):
                shared = len(names & {pname(p) for p in pe.participants})
                overlap = sum(pby_id[t].start < e and s < pby_id[t].end for t in pe.triggers for s, e in spans)
                if shared:
                    ranked.append(((overlap > 0, shared, overlap), g, k))
        used_gold, used_pred = set(), set()
        for _, g, k in sorted(ranked, key=lambda r: (-r[0][0], -r[0][1], -r[0][2], r[1], r[2])):
            if g in used_gold or k in used_pred:
                continue
            used_gold.add(g)
            used_pred.add(k)
            if pred.events[k].date:
                matched += 1
                correct += pisos[pred.events[k].date] == by_id[dated[g].date].iso
    return {"events": gold_n, "matched": matched, "correct": correct,
            "accuracy": round(correct / matched, 4) if matched else 0.0,
            "recall": round(correct / gold_n, 4) if gold_n else 0.0}


# Headline and record metrics as (name -> per-document extractor); micro-averaged over documents.
RECORDS: dict[str, Callable[[Document], Counter]] = {
    "spans_strict": spans,
    "relations_strict": lambda d: relations(d, strict=True),
    "relations_boundaries": lambda d: relations(d, strict=False),
    "trigger_identification": event_triggers,
    "trigger_classification": event_triggers,  # one event type: classifying is identifying
    "argument_identification": lambda d: event_arguments(d, with_role=False),
    "argument_classification": lambda d: event_arguments(d, with_role=True),
    "met_pairs_strict": lambda d: met_pairs(d, lenient=False),
    "met_pairs_lenient": lambda d: met_pairs(d, lenient=True),
    **{f"participant_{s}_{m}": (lambda d, s=s, m=m: participant_pairs(d, s, lenient=m == "lenient"))
       for s in ("venue", "role", "date", "org") for m in ("strict", "lenient")},
}


# ---- seqeval on words ------------------------------------------------------------------------

def iob2_words(text: str, entities: list, cuts: set[int]) -> tuple[list[tuple[int, int]], list[str]]:
    """Word tokens (split further at every span edge in `cuts`) and their IOB2 tags.

    Cutting at the edges of both gold and predicted spans gives both sides the
    same tokens, so strict-mode seqeval counts exactly the spans whose
    offsets match, even where a span starts inside a word (Arabic clitics).
    """
    words = []
    for m in _WORD.finditer(text):
        s, e = m.span()
        inner = sorted(c for c in cuts if s < c < e)
        for a, b in zip([s, *inner], [*inner, e]):
            words.append((a, b))
    tags = ["O"] * len(words)
    for ent in entities:
        inside = [k for k, (s, e) in enumerate(words) if ent.start <= s and e <= ent.end]
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + ent.type
    return words, tags


def seqeval_scores(preds: list[Document], golds: list[Document]) -> dict:
    y_true, y_pred = [], []
    for p, g in zip(preds, golds):
        cuts = {x for e in p.entities + g.entities for x in (e.start, e.end)}
        y_true.append(iob2_words(g.text, g.entities, cuts)[1])
        y_pred.append(iob2_words(p.text, p.entities, cuts)[1])
    out = {}
    for mode, kw in (("strict", {"mode": "strict", "scheme": IOB2}), ("default", {})):
        rep = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
        out[mode] = {k: {"precision": round(float(v["precision"]), 4), "recall": round(float(v["recall"]), 4),
                         "f1": round(float(v["f1-score"]), 4), "support": int(v["support"])}
                     for k, v in rep.items()}
    return out


# ---- putting it together -----------------------------------------------------------------------

def align(preds: list[Document], golds: list[Document]) -> list[tuple[Document, Document]]:
    """Pairs (prediction, gold) by document id; both sides must hold the same documents."""
    by_id = {g.id: g for g in golds}
    missing = [p.id for p in preds if p.id not in by_id]
    if missing or len(preds) != len(golds):
        raise ValueError(f"predictions and gold do not hold the same documents (e.g. {missing[:3]})")
    pairs = [(p, by_id[p.id]) for p in preds]
    for p, g in pairs:
        if p.text != g.text:
            raise ValueError(f"document {p.id}: the prediction's text differs from the gold text")
    return pairs


def record_score(pairs: list[tuple[Document, Document]], name: str) -> dict[str, float]:
    """Micro-averaged precision, recall and F1 of one RECORDS metric over (prediction, gold) pairs."""
    counts = [_counts(RECORDS[name](p), RECORDS[name](g)) for p, g in pairs]
    return prf(*map(sum, zip(*counts))) if counts else prf(0, 0, 0)


def score(pairs: list[tuple[Document, Document]]) -> dict:
    """All metrics over the given (prediction, gold) pairs."""
    out = {name: record_score(pairs, name) for name in RECORDS}
    out["relations_strict_by_type"] = {
        t: prf(*map(sum, zip(*[_counts(Counter({k: v for k, v in relations(p).items() if k[0] == t}),
                                           Counter({k: v for k, v in relations(g).items() if k[0] == t}))
                                   for p, g in pairs]))) if pairs else prf(0, 0, 0)
        for t in RELATION_TYPES}
    out["date_iso"] = date_iso(pairs)
    out["seqeval"] = seqeval_scores([p for p, _ in pairs], [g for _, g in pairs]) if pairs else {}
    out["documents"] = len(pairs)
    return out


def bootstrap(pairs: list[tuple[Document, Document]], names: Iterable[str] = HEADLINE,
              n: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of micro F1, resampling documents with replacement."""
    rng = random.Random(seed)
    per_doc = {name: [_counts(RECORDS[name](p), RECORDS[name](g)) for p, g in pairs] for name in names}
    out = {}
    for name, counts in per_doc.items():
        f1s = []
        for _ in range(n):
            sample = [counts[rng.randrange(len(counts))] for _ in counts]
            f1s.append(prf(*map(sum, zip(*sample)))["f1"] if sample else 0.0)
        f1s.sort()
        out[name] = (f1s[int(0.025 * n)], f1s[min(int(0.975 * n), n - 1)])
    return out


def confusion(pairs: list[tuple[Document, Document]]) -> dict[str, dict[str, int]]:
    """Gold type -> predicted type counts over exact-offset spans; "O" for missed or spurious."""
    table = {t: Counter() for t in (*ENTITY_TYPES, "O")}
    for p, g in pairs:
        pred = {(e.start, e.end): e.type for e in p.entities}
        gold = {(e.start, e.end): e.type for e in g.entities}
        for k, t in gold.items():
            table[t][pred.get(k, "O")] += 1
        for k, t in pred.items():
            if k not in gold:
                table["O"][t] += 1
    return {g: dict(c) for g, c in table.items()}


def errors(pairs: list[tuple[Document, Document]], context: int = 40, limit: int = 200) -> list[dict]:
    """False positive and negative spans and who-met-whom pairs, with their context."""
    out = []
    for p, g in pairs:
        for kind, a, b in (("false positive", p, g), ("false negative", g, p)):
            missing = spans(a) - spans(b)
            for typ, s, e in sorted(missing.elements(), key=lambda x: x[1]):
                out.append({"doc": g.id, "lang": g.lang, "what": "span", "kind": kind, "type": typ,
                            "text": g.text[s:e], "context": _context(g.text, s, e, context)})
            for pair in sorted(met_pairs(a) - met_pairs(b)):
                out.append({"doc": g.id, "lang": g.lang, "what": "met pair", "kind": kind, "type": "MEETING",
                            "text": " — ".join(pair), "context": ""})
    return out[:limit]


def _context(text: str, s: int, e: int, width: int) -> str:
    left = text[max(0, s - width):s].replace("\n", " ")
    right = text[e:e + width].replace("\n", " ")
    return f"…{left}[{text[s:e]}]{right}…"


def evaluate(preds: list[Document], golds: list[Document], n_boot: int = 1000) -> dict:
    """The full report's numbers: overall, per language, intervals, confusion, errors."""
    pairs = align(preds, golds)
    result = {"overall": score(pairs), "by_language": {}}
    for lang in LANGS:
        sub = [(p, g) for p, g in pairs if g.lang == lang]
        if sub:
            result["by_language"][lang] = score(sub)
    result["bootstrap_95"] = {k: list(v) for k, v in bootstrap(pairs, n=n_boot).items()}
    result["confusion"] = confusion(pairs)
    result["errors"] = errors(pairs)
    return result


def summary(preds: list[Document], golds: list[Document]) -> dict[str, dict[str, float]]:
    """The few scores training logs each epoch."""
    s = score(align(preds, golds))
    return {"spans": s["spans_strict"], "relations": s["relations_strict"],
            "triggers": s["trigger_identification"], "met_pairs": s["met_pairs_lenient"]}


def selection_score(scores: dict[str, dict[str, float]]) -> float:
    """One number to pick the best epoch: span, relation and who-met-whom F1 alike."""
    return round((scores["spans"]["f1"] + scores["relations"]["f1"] + scores["met_pairs"]["f1"]) / 3, 4)
