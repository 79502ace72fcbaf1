"""Does `annotations suggest` rank first the documents the model gets wrong?

    python benchmarks/suggest_ranking.py [--model models/default] [--docs annotations/test]

Scores annotated documents with suggest's uncertainty, predicts them, and prints the
Spearman correlation of the score with each document's errors (false positives plus
misses) and the F1 of the more and the less uncertain half. Results: annotations/README.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scipy.stats import spearmanr  # scipy comes with seqeval's scikit-learn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from liqa import metrics  # noqa: E402
from liqa.annotations.suggest import score_documents  # noqa: E402
from liqa.data import load_documents  # noqa: E402
from liqa.inference import Predictor  # noqa: E402
from liqa.model import LiqaModel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--docs", nargs="+", default=[str(ROOT / "annotations" / "test")])
    args = parser.parse_args()

    model, tok = LiqaModel.from_pretrained(args.model)
    gold = load_documents(args.docs)
    predictor = Predictor(model, tok, precision="fp32")
    blank = [g.unannotated() for g in gold]
    score = {s.id: s.uncertainty.score for s in score_documents(predictor, blank)}
    pred = {p.id: p for p in predictor.predict(blank)}
    kinds = {"relations": metrics.relations, "who-met-whom": metrics.met_pairs}
    rows = [(score[g.id], len(g.text), {k: metrics._counts(f(pred[g.id]), f(g)) for k, f in kinds.items()})
            for g in gold]
    errors = lambda c: (c[1] - c[0]) + (c[2] - c[0])  # noqa: E731  false positives + misses
    print(f"{len(rows)} documents")
    for kind in kinds:
        rho, p = spearmanr([r[0] for r in rows], [errors(r[2][kind]) for r in rows])
        rate, p_rate = spearmanr([r[0] for r in rows], [errors(r[2][kind]) * 1000 / max(r[1], 1000) for r in rows])
        print(f"Spearman(score, {kind} errors) = {rho:.3f} (p={p:.2g}); per 1,000 chars {rate:.3f} (p={p_rate:.2g})")
    rows.sort(key=lambda r: -r[0])
    half = len(rows) // 2
    for name, part in (("more uncertain half", rows[:half]), ("less uncertain half", rows[half:])):
        for kind in kinds:
            tp, n_pred, n_gold = (sum(r[2][kind][i] for r in part) for i in range(3))
            print(f"{name}: {kind} F1 {metrics.prf(tp, n_pred, n_gold)['f1']:.3f} ({tp}/{n_pred}/{n_gold})")


if __name__ == "__main__":
    main()
