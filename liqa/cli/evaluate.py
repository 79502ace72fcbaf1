"""Evaluate a model (or a prediction file) on annotated documents and write a report.

    liqa evaluate --model models/default annotations/test --out reports/test
    liqa evaluate --predictions out.jsonl annotations/test --out reports/test

(`python evaluate.py ...` in a source checkout is the same.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liqa.config import VOCABULARIES


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Score predictions against gold annotations: spans (seqeval strict IOB2 and default), "
                    "relations (boundaries, strict), events (triggers, arguments), who-met-whom and "
                    "participant-venue/role/date pairs (strict and lenient), per language, with 95% "
                    "bootstrap intervals, error lists and plots. Writes metrics.json, report.md, "
                    "report.html and PNG plots.")
    parser.add_argument("data", nargs="+", help="gold JSONL files or directories of them")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=Path, help="model directory: predict, then score")
    src.add_argument("--predictions", type=Path, help="a predict.py output file to score (the model is not loaded)")
    parser.add_argument("--out", type=Path, default=Path("reports/latest"), help="report directory (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default: %(default)s)")
    parser.add_argument("--vocabulary", choices=VOCABULARIES, default=None,
                        help="with --model: override the model's vocabulary (default: the model's)")
    parser.add_argument("--int8", action="store_true", help="with --model: quantize the encoder to int8 first")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="fp32",
                        help="with --model: encoder arithmetic, as predict.py --precision (default: %(default)s, "
                             "the reference the model card reports)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    from liqa.report import evaluate_and_report

    try:
        result = evaluate_and_report(args.data, args.out, model=args.model, predictions=args.predictions,
                                     batch_size=args.batch_size, n_boot=args.bootstrap, int8=args.int8, vocabulary=args.vocabulary,
                                     precision=args.precision)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    o = result["overall"]
    print(f"spans strict F1 {o['spans_strict']['f1']:.3f} | relations strict F1 {o['relations_strict']['f1']:.3f} | "
          f"who-met-whom F1 strict {o['met_pairs_strict']['f1']:.3f} lenient {o['met_pairs_lenient']['f1']:.3f} "
          f"-> {args.out}/report.md", file=sys.stderr)
    return 0
