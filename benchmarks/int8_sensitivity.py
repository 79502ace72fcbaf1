"""Which of the encoder's linear layers survive dynamic int8 quantization? F1 per choice.

    python benchmarks/int8_sensitivity.py [--model models/default] [--docs annotations/test] [GROUP ...]

Quantizes one group of the encoder's linear layers at a time (torch dynamic int8,
per-tensor weights unless the group name ends in "_pc") and scores the whole
pipeline on gold documents. Groups: fp32 (nothing), all, qkv, attn_out, ffn_in,
ffn_out (the feed-forward down-projections), ffn_outN (that one in layer N).
"""
from __future__ import annotations

import argparse
import copy
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predict_speed import ROOT  # noqa: E402

from liqa.data import load_documents  # noqa: E402
from liqa.inference import Predictor  # noqa: E402
from liqa.metrics import summary  # noqa: E402
from liqa.model import LiqaModel  # noqa: E402

GROUPS = {
    "fp32": lambda n: False,
    "all": lambda n: True,
    "qkv": lambda n: n.endswith(("query", "key", "value")),
    "attn_out": lambda n: n.endswith("attention.output.dense"),
    "ffn_in": lambda n: n.endswith("intermediate.dense"),
    "ffn_out": lambda n: n.endswith(".output.dense") and "attention" not in n,
}


def select(group: str):
    base = group.removesuffix("_pc")
    if base.startswith("ffn_out") and base[7:].isdigit():
        return lambda n: n == f"encoder.layer.{base[7:]}.output.dense"
    return GROUPS[base]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--docs", nargs="+", default=[str(ROOT / "annotations" / "test")])
    parser.add_argument("groups", nargs="*", default=["fp32", "all", "all_pc", *list(GROUPS)[2:]])
    args = parser.parse_args()
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    base, tok = LiqaModel.from_pretrained(args.model)
    gold = load_documents(args.docs)
    blank = [d.unannotated() for d in gold]
    print(f"{len(gold)} documents; F1 of spans (strict), relations (strict), triggers, who-met-whom")
    for group in args.groups:
        model, chosen = copy.deepcopy(base), select(group)
        qconfig = per_channel_dynamic_qconfig if group.endswith("_pc") else default_dynamic_qconfig
        spec = {n: qconfig for n, m in model.encoder.named_modules()
                if isinstance(m, torch.nn.Linear) and chosen(n)}
        if spec:
            with warnings.catch_warnings():  # torch marks the eager quantization API deprecated
                warnings.simplefilter("ignore")
                model.encoder = quantize_dynamic(model.encoder, spec, dtype=torch.qint8)
        s = summary(list(Predictor(model, tok).predict(blank)), gold)
        print(f"{group:>10} ({len(spec):2d} layers): " + "  ".join(
            f"{k} {s[k]['f1']:.3f}" for k in ("spans", "relations", "triggers", "met_pairs")), flush=True)


if __name__ == "__main__":
    main()
