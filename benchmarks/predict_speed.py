"""Throughput of the whole prediction pipeline against the bare encoder, in one run.

    python benchmarks/predict_speed.py [--model models/default] [--docs annotations/dev] [--repeat 3]
                                       [--vocabulary full|arabic-latin] [--int8] [--precision fp32 bf16]

The bare-encoder figure runs the same windows, in the same batches, through the
encoder alone (no tokenizing, tagging, pair scoring or decoding): the ratio says
how much the rest of the pipeline costs. With several --precision values each is
measured in the same run, their repeats taking turns, and their speeds compared. Peak memory is the
process's maximum RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from liqa.data import load_documents, tokenize  # noqa: E402
from liqa.config import VOCABULARIES  # noqa: E402
from liqa.inference import Predictor, quantize_int8  # noqa: E402
from liqa.model import LiqaModel  # noqa: E402


def bare_batches(predictor: Predictor, docs) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The exact batches the predictor builds, for the encoder-only run."""
    tokens = [tokenize(predictor.tokenizer, d.text) for d in docs]
    return [(ids, mask) for _, ids, mask in predictor.batches(tokens)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--docs", nargs="+", default=[str(ROOT / "annotations" / "dev")])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each; the best is reported")
    parser.add_argument("--int8", action="store_true", help="quantize the encoder to int8 first (as evaluate.py --int8)")
    parser.add_argument("--vocabulary", choices=VOCABULARIES, help="override the model's vocabulary")
    parser.add_argument("--precision", nargs="+", choices=("fp32", "bf16"), default=["fp32"],
                        help="encoder arithmetic(s) to measure, in one run (default: fp32)")
    args = parser.parse_args()

    torch.manual_seed(0)
    model, tok = LiqaModel.from_pretrained(args.model, vocabulary=args.vocabulary)
    if args.int8:
        model = quantize_int8(model)
    docs = [d.unannotated() for d in load_documents(args.docs)]
    n_tokens = sum(len(tokenize(tok, d.text).ids) for d in docs)
    runs = {precision: _runners(model, tok, docs, args.batch_size, precision) for precision in args.precision}
    # repeats take turns across precisions, so a slow spell of a shared machine hits them alike
    results: dict[tuple[str, str], float] = {}
    for _ in range(args.repeat):
        for precision, fns in runs.items():
            for name, fn in fns.items():
                results[(precision, name)] = min(results.get((precision, name), float("inf")), _timed(fn))
    n_windows = sum(len(ids) for ids, _ in bare_batches(Predictor(model, tok, batch_size=args.batch_size), docs))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(docs)} documents, {n_tokens} tokens, {n_windows} windows, "
          f"batch {args.batch_size}, torch threads {torch.get_num_threads()}, "
          f"{model.config.encoder_layers} layers, vocabulary {model.config.vocabulary} ({len(tok)} pieces)")
    for (precision, name), secs in results.items():
        print(f"{precision} {name:>13}: {secs:7.2f} s  {len(docs) / secs:7.2f} docs/s  {n_tokens / secs:8.0f} tokens/s")
    for precision in args.precision:
        print(f"{precision} pipeline / bare encoder throughput: "
              f"{results[(precision, 'bare encoder')] / results[(precision, 'pipeline')]:.1%}")
    first = args.precision[0]
    for precision in args.precision[1:]:
        for name in ("pipeline", "bare encoder"):
            print(f"{name}: {precision} is {results[(first, name)] / results[(precision, name)]:.2f}x {first}")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")


def _runners(model: LiqaModel, tok, docs, batch_size: int, precision: str) -> dict:
    """The pipeline and the bare encoder (the predictor's own, bf16 weights included) at one precision, warmed up."""
    predictor = Predictor(model, tok, batch_size=batch_size, precision=precision)
    batches = bare_batches(predictor, docs)

    def pipeline() -> None:
        list(predictor.predict(docs))

    @torch.no_grad()
    def bare() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=predictor.bf16):
            for ids, mask in batches:
                predictor.model.encoder(input_ids=ids, attention_mask=mask)

    pipeline()  # warm-up: first calls allocate
    return {"pipeline": pipeline, "bare encoder": bare}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
