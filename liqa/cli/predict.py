"""Extract meeting events from articles: `liqa predict INPUT... [--model DIR] [--out FILE]` (or python predict.py)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from collections import Counter, defaultdict, deque
from pathlib import Path

from liqa.api import default_model
from liqa.config import VOCABULARIES
from liqa.inputs import MAX_CHARS, InputError, read_inputs


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Predict meeting events (who met whom, roles, venue, date) in Arabic, Persian and "
                    "English articles. Writes one JSON object per document, in input order "
                    "(format: liqa/prediction.schema.json).",
        epilog="examples: %(prog)s examples/ --out out.jsonl | "
               "cat docs.jsonl | %(prog)s - | "
               "accelerate launch --num_processes 2 predict.py big.jsonl --out out.jsonl")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help=".txt files, directories of .txt/.jsonl files, .jsonl files with "
                             '{"id", "text", optional "lang", "date"} per line, or - for stdin')
    parser.add_argument("--model", type=Path, default=default_model(),
                        help="a model directory from train.py (default: the shipped model, %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    parser.add_argument("--format", choices=("jsonl", "html", "csv"), default="jsonl",
                        help="jsonl: one JSON object per document (default); html: one self-contained page "
                             "with highlighted spans and an events table per article; csv: a table, one row "
                             "per participant per event, UTF-8 with a byte-order mark (liqa/tables.py)")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default: %(default)s)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: accelerate's choice)")
    parser.add_argument("--vocabulary", choices=VOCABULARIES, default=None,
                        help="override the model's vocabulary: 'full' keeps the pieces of every script, "
                             "'arabic-latin' (the shipped model's) halves the embedding table (190 MB) and gives "
                             "identical results on Arabic, Persian and English text (default: the model's)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                        help="encoder arithmetic: bf16 is about 1.5-1.7x faster on CPUs with native bfloat16 "
                             "(avx512_bf16, AMX) and GPUs that have it, with the same scores on the test split "
                             "(benchmarks/README.md); the heads always run in fp32. auto: bf16 where native, "
                             "else fp32 (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="skip documents whose id is already in --out (after a crash or kill)")
    parser.add_argument("--max-chars", type=int, default=MAX_CHARS,
                        help="refuse documents longer than this (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.resume and args.out is None:
        parser.error("--resume needs --out")
    if args.resume and args.format != "jsonl":
        parser.error("--resume works with --format jsonl only "
                     "(for a table, resume the JSON Lines and convert: python -m liqa.tables OUT.jsonl)")
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    from accelerate import PartialState
    from tqdm.auto import tqdm

    from liqa.inference import load_predictor
    from liqa.output import OutputWriter, output_line

    state = PartialState(cpu=args.device == "cpu")
    try:
        predictor = load_predictor(args.model, args.precision, args.device or state.device, args.batch_size,
                                   args.vocabulary)
    except (OSError, ValueError) as exc:
        print(f"error: cannot load model: {exc}", file=sys.stderr)
        return 2
    if state.is_main_process:
        print(f"precision: {predictor.precision} ({predictor.precision_reason})", file=sys.stderr)

    # Every process reads all inputs (cheap) and predicts every n-th document.
    items, errors = [], 0
    for item in read_inputs(args.inputs, args.max_chars, skip=args.out):
        if isinstance(item, InputError):
            errors += 1
            if state.is_main_process:
                print(f"error: {item}", file=sys.stderr)
        else:
            items.append(item)
    if state.is_main_process:
        _warn_duplicates(items)
    if args.format == "html":
        return _write_html(args, predictor, items, errors) if state.is_main_process else 0
    if args.format == "csv":
        return _write_csv(args, predictor, items, errors) if state.is_main_process else 0
    single = state.num_processes == 1
    out_path = args.out if single or args.out is None else args.out.with_name(
        f"{args.out.name}.part{state.process_index}")
    done = Counter()  # lines already written per id: the merged output of an earlier run ...
    if args.resume and not single and args.out.exists():
        done.update(json.loads(line)["id"] for line in args.out.read_text(encoding="utf-8").splitlines() if line)
    writer = OutputWriter(out_path, resume=args.resume)
    done.update(writer.done)  # ... and this process's own file
    # An id's occurrences all go to one process, in input order, so a merge can keep them apart.
    seen, shard = Counter(), []  # (item, still to write) for this process's documents
    for it in items:
        seen[it.doc.id] += 1
        if zlib.crc32(it.doc.id.encode()) % state.num_processes == state.process_index:
            shard.append((it, seen[it.doc.id] > done[it.doc.id]))
    mine = [it for it, todo in shard if todo]
    # A document's scores depend, in their last bits, on the documents batched with it. What is
    # written is a prefix of the shard, so a resumed run predicts again, without writing them,
    # the written documents of the chunk it stops in: every chunk is then the uninterrupted run's.
    written = len(shard) - len(mine)
    redo = [it for it, _ in shard[written - written % predictor.chunk_docs:written]] \
        if all(todo for _, todo in shard[written:]) else []
    bar = tqdm(total=len(mine), unit="doc", disable=not state.is_local_main_process or not mine)
    feed = redo + mine
    for k, (it, pred) in enumerate(zip(feed, predictor.predict(it.doc for it in feed))):
        if k >= len(redo):
            writer.write(output_line(pred, it.warnings))
            bar.update()
    bar.close()
    writer.close()
    if not single and args.out is not None:
        state.wait_for_everyone()
        if state.is_main_process:
            _merge_parts(args.out, state.num_processes, [it.doc.id for it in items], args.resume)
    if errors and state.is_main_process:
        print(f"{errors} input(s) could not be read (see above); {len(items)} documents predicted", file=sys.stderr)
    return 1 if errors else 0


def _records(predictor, items: list):
    """(input item, its prediction record) for each item, with a progress bar."""
    from tqdm.auto import tqdm

    from liqa.output import to_output

    preds = predictor.predict(it.doc for it in items)
    for item, pred in tqdm(zip(items, preds), total=len(items), unit="doc"):
        yield item, to_output(pred, item.warnings)


def _write_html(args: argparse.Namespace, predictor, items: list, errors: int) -> int:
    """One page for all documents, written at the end in one go."""
    from liqa.render import article, page

    parts = [article(record, item.doc.text) for item, record in _records(predictor, items)]
    html = page(f"liqa: meetings in {len(items)} documents", "".join(parts))
    if args.out is None:
        sys.stdout.write(html)
    else:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(args.out)
    return 1 if errors else 0


def _write_csv(args: argparse.Namespace, predictor, items: list, errors: int) -> int:
    """The table, written as documents are predicted (liqa/tables.py)."""
    from liqa.tables import CsvWriter

    with CsvWriter(args.out) as writer:
        for _, record in _records(predictor, items):
            writer.write(record)
    print(writer.summary(), file=sys.stderr)
    return 1 if errors else 0


def _merge_parts(out: Path, n: int, order: list[str], resume: bool) -> None:
    """Join the per-process files into --out, in input order (an id given twice, twice)."""
    lines: dict[str, deque[str]] = defaultdict(deque)
    files = ([out] if resume and out.exists() else []) + [out.with_name(f"{out.name}.part{k}") for k in range(n)]
    for f in files:  # earlier runs first: they hold the earlier occurrences of an id
        for ln in f.read_text(encoding="utf-8").splitlines():
            if ln:
                lines[json.loads(ln)["id"]].append(ln)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(lines[i].popleft() + "\n" for i in order if lines[i]), encoding="utf-8")
    tmp.replace(out)
    for f in files[-n:]:
        f.unlink()


def _warn_duplicates(items: list) -> None:
    """Two inputs with one id are both predicted; say so, naming both places."""
    first: dict[str, str] = {}
    for it in items:
        if it.doc.id in first:
            print(f"warning: document id {it.doc.id!r} at {it.where} is also used at {first[it.doc.id]}; "
                  "both are predicted, in input order", file=sys.stderr)
        else:
            first[it.doc.id] = it.where

