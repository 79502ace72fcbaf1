"""Per-link-type thresholds, chosen on dev data and written into the model's config.

The pair scorer's probabilities are not equally sharp for every link type (a
venue is rarer than a participant), so one threshold for all is a compromise.
The model scores the dev documents once; the decoder then re-runs over those
scores for each candidate threshold, one link type at a time (coordinate
ascent, two rounds), keeping the value that maximizes the analyst's view: the
mean F1 of who-met-whom, participant-venue, -role, -date and -organization
pairs and of the relations. Ties keep the value nearest 0.5.

    python -m liqa.calibration --model runs/default/best annotations/dev/ar.jsonl ...
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from liqa.inference import Predictor
from liqa.metrics import record_score
from liqa.schema import LINK_TYPES, Document

OBJECTIVE = ("met_pairs_lenient", "participant_venue_lenient", "participant_role_lenient",
             "participant_date_lenient", "participant_org_lenient", "relations_strict")
GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(17))  # 0.10 .. 0.90


def objective(preds: list[Document], golds: list[Document]) -> float:
    """Mean micro F1 of the OBJECTIVE records over the documents."""
    pairs = list(zip(preds, golds))
    return sum(record_score(pairs, name)["f1"] for name in OBJECTIVE) / len(OBJECTIVE)


def calibrate(predictor: Predictor, docs: list[Document], rounds: int = 2) -> tuple[dict[str, float], dict]:
    """(thresholds, a record of the search) for the predictor's model on gold `docs`."""
    scored = predictor.score([d.unannotated() for d in docs])
    thresholds = dict(predictor.thresholds)

    def value(th: dict[str, float]) -> float:
        return objective([predictor.decode(d, ents, pairs, th) for d, ents, pairs in scored], docs)

    start = value(thresholds)
    for _ in range(rounds):
        for kind in LINK_TYPES:
            results = {t: value(thresholds | {kind: t}) for t in GRID}
            top = max(results.values())
            thresholds[kind] = min((t for t, v in results.items() if v == top), key=lambda t: abs(t - 0.5))
    return thresholds, {"objective": OBJECTIVE, "before": round(start, 4), "after": round(value(thresholds), 4),
                        "documents": len(docs), "thresholds": thresholds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose per-link-type thresholds on annotated dev data "
                                                 "and write them into the model's config.json.")
    parser.add_argument("data", nargs="+", help="gold JSONL files or directories (never the test split)")
    parser.add_argument("--model", type=Path, required=True, help="model directory (save_pretrained)")
    parser.add_argument("--dry-run", action="store_true", help="print the thresholds, change nothing")
    args = parser.parse_args(argv)
    from liqa.data import load_documents
    from liqa.model import LiqaModel

    model, tokenizer = LiqaModel.from_pretrained(args.model)
    thresholds, record = calibrate(Predictor(model, tokenizer), load_documents(args.data))
    print(json.dumps(record, indent=1))
    if not args.dry_run:
        model.config.link_thresholds = thresholds
        model.config.to_json_file(args.model / "config.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
