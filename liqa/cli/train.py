"""Train a liqa model: `liqa train --config configs/default.yaml [section.key=value ...]` (or python train.py)."""
from __future__ import annotations

import argparse
import logging
import sys

from liqa.config import ConfigError, load_config
from liqa.data import DataError


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train the span tagger and relation heads on annotated JSONL documents. "
                    "Every config key is documented in configs/README.md.",
        epilog="example: %(prog)s --config configs/default.yaml training.epochs=3 "
               "training.output_dir=runs/try   |   several processes: accelerate launch train.py ...")
    parser.add_argument("--config", required=True, help="YAML config (configs/default.yaml, configs/tiny.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="section.key=value",
                        help="override config keys; values are read as YAML")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUTPUT_DIR/last after an interruption (loses at most one epoch)")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="train without the documents the annotation validator rejects (one warning each, "
                             "listed in OUTPUT_DIR/data.json); by default any invalid document stops training")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("accelerate").setLevel(logging.WARNING)  # one line per saved file otherwise
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from liqa.training import train  # torch, accelerate, transformers: not for --help or a bad config

    try:
        train(cfg, resume=args.resume, skip_invalid=args.skip_invalid)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
