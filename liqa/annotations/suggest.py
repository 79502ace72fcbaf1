"""Which articles to annotate next: the model's uncertainty over the decisions behind its events.

Active learning by uncertainty sampling. For each article the model makes yes/no
decisions: each span it tags (kept or not) and each candidate pair of mentions it
scores (linked or not: the event's participants, venue, date and triggers, and
the participants' roles and organizations). A decision's uncertainty is its binary
entropy in bits, taken around the threshold the decision uses (a link exactly at
its type's threshold is a coin flip, 1 bit). An article's score is the sum over its
decisions per 1,000 characters of text (articles shorter than that count as 1,000),
so long articles are not first merely for being long: what is ranked is how much
the model is unsure of per stretch an annotator reads. The measure and its reasons:
annotations/README.md, "Which articles to annotate next".
"""
from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from liqa.schema import LINK_FOR_TYPES, Document, Entity

UNCERTAIN_BITS = 0.5  # a decision whose other outcome the model gives 11% or more (threshold-rescaled)
PER_CHARS = 1000  # the score is bits per this many characters; shorter articles count as this long
FORMATS = ("tsv", "jsonl")
COLUMNS = ("rank", "id", "score", "uncertain", "lang")


def decision_entropy(p: float, threshold: float = 0.5) -> float:
    """Binary entropy (bits) of the yes/no decision `p >= threshold`.

    p is first rescaled piecewise linearly so that the threshold sits at 1/2: a
    probability at the threshold is 1 bit, 0 and 1 are 0 bits, and a link type
    decided at 0.3 is as uncertain at 0.15 as one decided at 0.5 is at 0.25.
    """
    q = p / (2 * threshold) if p < threshold else 0.5 + (p - threshold) / (2 * (1 - threshold))
    q = min(max(q, 0.0), 1.0)
    return 0.0 if q in (0.0, 1.0) else -(q * math.log2(q) + (1 - q) * math.log2(1 - q))


@dataclass(frozen=True)
class Uncertainty:
    score: float  # bits per PER_CHARS characters
    uncertain: int  # decisions of UNCERTAIN_BITS or more
    decisions: int


def uncertainty(span_scores: Iterable[float], link_probs: Iterable[tuple[float, float]],
                n_chars: int) -> Uncertainty:
    """The measure from known probabilities.

    `span_scores`: each tagged span's confidence (the mean probability of its tags);
    a span kept with less than even confidence is a coin flip, 1 bit. `link_probs`:
    (probability, threshold of its link type) for each candidate pair.
    """
    bits = [decision_entropy(max(s, 0.5)) for s in span_scores]
    bits += [decision_entropy(p, t) for p, t in link_probs]
    return Uncertainty(score=sum(bits) * PER_CHARS / max(n_chars, PER_CHARS),
                       uncertain=sum(b >= UNCERTAIN_BITS for b in bits), decisions=len(bits))


def document_uncertainty(doc: Document, entities: list[Entity], pair_scores: dict[tuple[str, str], float],
                         thresholds: dict[str, float]) -> Uncertainty:
    """The measure of one article from what `Predictor.score` gives for it."""
    types = {e.id: e.type for e in entities}
    links = [(p, thresholds[LINK_FOR_TYPES[types[h], types[t]]]) for (h, t), p in pair_scores.items()]
    return uncertainty([e.score for e in entities if e.score is not None], links, len(doc.text))


@dataclass(frozen=True)
class Suggestion:
    id: str
    lang: str
    uncertainty: Uncertainty


def score_documents(predictor, docs: list[Document], chunk: int = 32) -> Iterator[Suggestion]:
    """Each document's uncertainty under a `liqa.inference.Predictor`, in input order,
    `chunk` documents per call (the predictor batches their windows together)."""
    for i in range(0, len(docs), chunk):
        for d, entities, pairs in predictor.score(docs[i:i + chunk]):
            yield Suggestion(d.id, d.lang, document_uncertainty(d, entities, pairs, predictor.thresholds))


def rank(suggestions: Iterable[Suggestion], n: int | None = None) -> list[Suggestion]:
    """Most uncertain first; ties (as printed, 4 decimals) keep the input order."""
    ranked = sorted(enumerate(suggestions), key=lambda x: (-round(x[1].uncertainty.score, 4), x[0]))
    return [s for _, s in ranked][:n]


def rows(ranked: list[Suggestion]) -> list[dict]:
    return [{"rank": i, "id": s.id, "score": round(s.uncertainty.score, 4), "uncertain": s.uncertainty.uncertain,
             "lang": s.lang} for i, s in enumerate(ranked, 1)]


def write(ranked: list[Suggestion], out, fmt: str) -> None:
    """The ranking as TSV (with a header) or JSON Lines, to an open text file."""
    if fmt == "jsonl":
        for row in rows(ranked):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, COLUMNS, dialect="excel-tab", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(ranked))


def suggest(inputs: list[str], model_dir: Path, n: int | None = None, out: Path | None = None,
            fmt: str = "tsv", batch_size: int = 8, precision: str = "auto", device: str | None = None,
            max_chars: int | None = None) -> int:
    """The command: read articles as predict.py does, rank them, write the first `n`.

    An input that cannot be read is reported (file[:line]: message) and the others
    are ranked; the exit status is then 1 (2 if the model cannot be loaded).
    """
    from tqdm.auto import tqdm

    from liqa.inference import load_predictor
    from liqa.inputs import MAX_CHARS, InputError, read_inputs

    try:
        predictor = load_predictor(model_dir, precision, device, batch_size)
    except (OSError, ValueError) as exc:
        print(f"error: cannot load model: {exc}", file=sys.stderr)
        return 2
    docs, errors = [], 0
    for item in read_inputs(inputs, max_chars or MAX_CHARS, skip=out):
        if isinstance(item, InputError):
            print(f"error: {item}", file=sys.stderr)
            errors += 1
        else:
            docs.append(item.doc)
    with tqdm(total=len(docs), unit="doc", disable=not docs) as bar:
        scored = []
        for s in score_documents(predictor, docs):
            scored.append(s)
            bar.update()
    ranked = rank(scored, n)
    if out is None:
        write(ranked, sys.stdout, fmt)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as f:
            write(ranked, f, fmt)
        tmp.replace(out)
    print(f"ranked {len(scored)} documents, wrote the first {len(ranked)}"
          + (f"; {errors} input(s) could not be read (see above)" if errors else ""), file=sys.stderr)
    return 1 if errors else 0
