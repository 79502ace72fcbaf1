"""python -m liqa.annotations {validate,stats,build,split,markup,export,import,nest-orgs,serve,suggest} ..."""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from liqa.annotations import (Issue, Located, brat, doccano, find_files, labelstudio, load, markup,
                              unique_docs, validate)
from liqa.annotations._interchange import load_predictions
from liqa.annotations.nesting import nest_files, read_rulings
from liqa.annotations.stats import corpus_stats, shape_stats, shapes_to_markdown, to_markdown
from liqa.annotations.validate import consistency, read_explained
from liqa.schema import LANGS, canonical, read_jsonl, write_jsonl


def cmd_validate(args: argparse.Namespace) -> int:
    located, issues = load(args.paths)
    issues += validate(located)
    for issue in issues:
        print(issue)
    explained = read_explained(args.explained) if args.explained.exists() else {}
    findings = [] if args.no_consistency else consistency(unique_docs(located), explained)
    for f in findings:
        print(f"consistency: {f.doc_id}: {f.message}")
    n_files = len(find_files(args.paths))
    print(f"{len(located)} documents in {n_files} files: {len(issues)} errors, "
          f"{len(findings)} consistency findings", file=sys.stderr)
    return 1 if issues or (args.strict and findings) else 0


def cmd_stats(args: argparse.Namespace) -> int:
    located, issues = load(args.paths)
    for issue in issues:
        print(issue, file=sys.stderr)
    docs = unique_docs(located)
    print(shapes_to_markdown(shape_stats(docs)) if args.shapes else to_markdown(corpus_stats(docs)))
    return 1 if issues else 0


def build_targets(src: Path, out: Path) -> dict[Path, list[Path]]:
    """src/<split>/<group>/*.lqm -> out/<split>/<group>.jsonl"""
    targets: dict[Path, list[Path]] = {}
    for f in sorted(src.rglob("*.lqm")):
        rel = f.parent.relative_to(src)
        targets.setdefault(out / rel.parent / f"{rel.name}.jsonl", []).append(f)
    return targets


def cmd_build(args: argparse.Namespace) -> int:
    failed = stale = 0
    for target, sources in build_targets(args.src, args.out).items():
        located, issues = load(sources)
        issues += validate(located)
        if issues:
            for issue in issues:
                print(issue)
            print(f"{target}: not written, {len(issues)} errors in its sources", file=sys.stderr)
            failed += 1
            continue
        docs = sorted((canonical(loc.doc) for loc in located), key=lambda d: d.id)
        if args.check:
            if not target.exists() or read_jsonl(target) != docs:
                print(f"{target}: out of date with {target.stem}/*.lqm; run "
                      f"'python -m liqa.annotations build'", file=sys.stderr)
                stale += 1
            continue
        write_jsonl(docs, target)
        print(f"{target}: {len(docs)} documents", file=sys.stderr)
    return 1 if failed or stale else 0


def split_of(doc_id: str, dev: float, test: float) -> str:
    """A document's split from its id alone, so adding documents never moves old ones."""
    h = int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) / 16**8
    return "dev" if h < dev else "test" if h < dev + test else "train"


def cmd_split(args: argparse.Namespace) -> int:
    """Move markup sources from SRC/train/<group>/ to dev/ or test/ by a hash of their id."""
    moved: dict[str, int] = {}
    for f in sorted((args.src / "train").glob("*/*.lqm")):
        try:
            doc_id = markup.read(f).doc.id
        except markup.MarkupError as exc:
            print(f"{f}:{exc.line}: {exc.message}", file=sys.stderr)
            return 1
        split = split_of(doc_id, args.dev, args.test)
        if split != "train":
            target = args.src / split / f.parent.name / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            f.rename(target)
            moved[split] = moved.get(split, 0) + 1
    print(f"moved {moved.get('dev', 0)} documents to dev, {moved.get('test', 0)} to test", file=sys.stderr)
    return 0


def cmd_markup(args: argparse.Namespace) -> int:
    """JSONL -> one .lqm per document, to edit by hand (e.g. model pre-annotations)."""
    texts, issues = article_texts(args.texts or [])
    located, errors, untexted = load_predictions(args.paths, texts)
    issues += errors + [Issue(u.where, u.doc_id, f"{u.message}: give the articles predict.py read "
                              "with --texts") for u in untexted]
    for issue in issues:
        print(issue, file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for loc in located:
        try:
            text = markup.render(loc.doc)
        except ValueError as exc:  # spans overlapping in a way markup cannot write
            print(f"{loc.where()}: {exc}", file=sys.stderr)
            issues.append(exc)
            continue
        target = args.out / f"{loc.doc.id}.lqm"
        target.parent.mkdir(parents=True, exist_ok=True)  # ids of articles in subdirectories hold a /
        target.write_text(text, encoding="utf-8")
        written += 1
    print(f"wrote {written} markup files to {args.out}", file=sys.stderr)
    return 1 if issues else 0


def article_texts(inputs: list[str]) -> tuple[dict[str, str], list[Issue]]:
    """Text by document id of the articles predict.py read (its INPUT arguments)."""
    from liqa.inputs import InputError, read_inputs

    texts: dict[str, str] = {}
    issues: list[Issue] = []
    for item in read_inputs(inputs):
        if isinstance(item, InputError):
            issues.append(Issue(item.where if ":" in item.where else f"{item.where}:0", "-", item.message))
        else:
            texts.setdefault(item.doc.id, item.doc.text)
    return texts, issues


def cmd_nest_orgs(args: argparse.Namespace) -> int:
    """Nest ORG spans inside ROLE spans of .lqm sources, as a rulings table says."""
    try:
        rulings = read_rulings(args.rulings)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    files = find_files(args.paths)
    for f in files:
        if f.suffix != ".lqm":
            print(f"{f}:0: -: only .lqm sources are edited; skipped (rebuild the JSONL with 'build')",
                  file=sys.stderr)
    missing = [f for f in files if not f.exists()]
    for f in missing:
        print(f"{f}:0: -: no such file", file=sys.stderr)
    outcome = nest_files([f for f in files if f.suffix == ".lqm" and f.exists()], rulings,
                         dry_run=args.dry_run)
    for path, change in outcome.changes:
        print(change.describe(path))
    for err in outcome.errors:
        print(err, file=sys.stderr)
    used = {c.ruling.line for _, c in outcome.changes}
    for r in sorted(rulings.values(), key=lambda r: r.line):
        if r.line not in used:
            print(f"{args.rulings}:{r.line}: warning: no ROLE {r.role!r} ({r.lang}) without a nested ORG "
                  "in the files", file=sys.stderr)
    n_rels = sum(len(c.relations) for _, c in outcome.changes)
    print(f"{len(outcome.changes)} ORG spans nested and {n_rels} AFFILIATION relations added in "
          f"{outcome.files} files" + (" (dry run: nothing written)" if args.dry_run else "")
          + (f"; {len(outcome.errors)} files not edited" if outcome.errors else ""), file=sys.stderr)
    return 1 if outcome.errors or missing else 0


FORMATS = {"labelstudio": labelstudio, "brat": brat, "doccano": doccano}


def cmd_export(args: argparse.Namespace) -> int:
    located, issues = load(args.paths)
    issues += validate(located)
    docs = unique_docs(located)
    predicted, pred_issues, untexted = (load_predictions([args.predictions], {d.id: d.text for d in docs})
                                        if args.predictions else ([], [], []))
    for issue in issues + pred_issues:
        print(issue, file=sys.stderr)
    for u in untexted:
        print(f"{u.where}: {u.doc_id}: warning: prediction skipped: no document with this id is exported",
              file=sys.stderr)
    if (issues or pred_issues) and not args.force:
        print(f"{args.out}: not written, {len(issues) + len(pred_issues)} errors in the input "
              "(--force writes anyway)", file=sys.stderr)
        return 1
    warnings = FORMATS[args.to].export(docs, args.out, predictions=[p.doc for p in predicted] or None)
    for w in warnings:
        print(w, file=sys.stderr)
    print(f"{args.out}: {len(docs)} documents as {args.to}, {len(warnings)} warnings", file=sys.stderr)
    return 1 if issues or pred_issues else 0


def cmd_import(args: argparse.Namespace) -> int:
    kwargs = {"use_predictions": True} if args.use_predictions else {}
    docs, messages = FORMATS[args.from_].import_(args.input, lang=args.lang, **kwargs)
    docs = [canonical(d) for d in docs]
    errors = [m for m in messages if getattr(m, "error", False)]
    for m in messages:
        print(m, file=sys.stderr)
    # Issues point at the line the document has in the output file.
    issues = validate([Located(d, args.out, i, {}) for i, d in enumerate(docs, 1)])
    for issue in issues:
        print(issue, file=sys.stderr)
    n_errors = len(errors) + len(issues)
    if n_errors and not args.force:
        print(f"{args.out}: not written, {n_errors} errors (--force writes the documents read)",
              file=sys.stderr)
        return 1
    write_jsonl(docs, args.out)
    print(f"{args.out}: {len(docs)} documents from {args.from_}, {n_errors} errors, "
          f"{len(messages) - len(errors)} warnings", file=sys.stderr)
    return 1 if n_errors else 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the model's pre-annotations to Label Studio (its ML backend protocol)."""
    import logging

    from liqa.annotations.labelstudio_backend import serve

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    return serve(args.model, args.host, args.port, args.precision, args.batch_size)


def positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value!r}")
    return int(value)


def cmd_suggest(args: argparse.Namespace) -> int:
    """Rank articles by the model's uncertainty over their events (active learning)."""
    from liqa.annotations.suggest import suggest

    return suggest(args.inputs, args.model, n=args.n, out=args.out, fmt=args.format, batch_size=args.batch_size,
                   precision=args.precision, device=args.device, max_chars=args.max_chars)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liqa.annotations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check offsets, types, ids, links; report as file:line: doc-id: message")
    p.add_argument("paths", nargs="+", help=".jsonl or .lqm files, or directories of them")
    p.add_argument("--strict", action="store_true", help="also fail on consistency findings")
    p.add_argument("--no-consistency", action="store_true", help="skip the consistency report")
    p.add_argument("--explained", type=Path, default=Path("annotations/consistency_explained.tsv"),
                   help="type conflicts that are real differences, 'string<TAB>reason' per line "
                        "(default: %(default)s, if it exists)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("stats", help="documents, tokens, spans, relations, events per language (markdown)")
    p.add_argument("paths", nargs="+", help=".jsonl or .lqm files, or directories of them")
    p.add_argument("--shapes", action="store_true",
                   help="instead: meetings per document, participants per meeting, venue types and "
                        "document shapes (round-ups, near misses, ...) by corpus round and language")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("build", help="convert markup sources to the corpus JSONL files")
    p.add_argument("--src", type=Path, default=Path("annotations/src"),
                   help="markup root: SRC/<split>/<group>/*.lqm (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("annotations"),
                   help="writes OUT/<split>/<group>.jsonl (default: %(default)s)")
    p.add_argument("--check", action="store_true", help="write nothing; fail if any JSONL is out of date")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("split", help="move new training sources to dev/test by a hash of their id")
    p.add_argument("--src", type=Path, default=Path("annotations/src"), help="markup root (default: %(default)s)")
    p.add_argument("--dev", type=float, default=0.15, help="share of documents for dev (default: %(default)s)")
    p.add_argument("--test", type=float, default=0.15, help="share for test (default: %(default)s)")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser(
        "markup", help="write documents as .lqm markup files for hand editing",
        description="Write one .lqm file per document, to correct by hand: annotated documents, or "
                    "predict.py's output (liqa/prediction.schema.json) as pre-annotations. A prediction "
                    "record carries no text: give the articles it was predicted from with --texts.")
    p.add_argument("paths", nargs="+", help=".jsonl files or directories: documents or prediction records")
    p.add_argument("-o", "--out", type=Path, required=True, help="output directory")
    p.add_argument("--texts", nargs="+", metavar="INPUT",
                   help="the articles of prediction records, as given to predict.py: .txt files, "
                        "directories, .jsonl files with {\"id\", \"text\"} per line (matched by id)")
    p.set_defaults(func=cmd_markup)

    p = sub.add_parser(
        "export", help="write documents for an annotation tool (Label Studio, brat, doccano)",
        description="Write documents for an annotation tool. labelstudio: OUT is a tasks .json file, "
                    "with label_config.xml written beside it for the project's labeling interface (text right to "
                    "left for Arabic and Persian, each line in its own direction for a mix); "
                    "offsets become UTF-16. brat: OUT is a directory of <id>.txt/<id>.ann plus "
                    "annotation.conf and visual.conf; lang, source, date, meta and scores are lost "
                    "(warned). doccano: OUT is a .jsonl file for a sequence-labeling project with "
                    "relations; offsets become UTF-16, scores are lost (warned). Events travel as "
                    "PARTICIPANT/VENUE/WHEN/SAME_EVENT links from a MEETING trigger. The input is "
                    "validated first; nothing is written if it has errors.")
    p.add_argument("--to", required=True, choices=FORMATS, help="the tool's format")
    p.add_argument("paths", nargs="+", help=".jsonl or .lqm files, or directories of them")
    p.add_argument("-o", "--out", type=Path, required=True,
                   help="tasks .json (labelstudio), directory (brat) or .jsonl (doccano)")
    p.add_argument("--predictions", type=Path, metavar="PRED.jsonl",
                   help="model output to attach as Label Studio pre-annotations, matched by document id: "
                        "predict.py's output as it is (liqa/prediction.schema.json; the text is the "
                        "exported document's), or documents whose spans, relations and events carry scores")
    p.add_argument("--force", action="store_true", help="export even if the input has errors")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "import", help="read an annotation tool's export back into corpus JSONL",
        description="Read what analysts annotated in a tool into canonical corpus JSONL. labelstudio: "
                    "IN is the project's JSON export (the first annotation of a task that was not "
                    "cancelled). brat: IN is a directory of .txt/.ann pairs (or one pair); ids are "
                    "the file names. doccano: IN is a JSONL export. Documents are validated; "
                    "warnings and errors go to stderr as 'where: doc-id: warning|error: message', "
                    "and nothing is written if there are errors.")
    p.add_argument("--from", dest="from_", required=True, choices=FORMATS, help="the tool's format")
    p.add_argument("input", type=Path, metavar="IN", help="the tool's export: file or directory")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT.jsonl", help="corpus JSONL to write")
    p.add_argument("--lang", choices=LANGS,
                   help="language of documents the input does not give one for (always, for brat); "
                        "without it the language is guessed from the script, with a warning")
    p.add_argument("--use-predictions", action="store_true",
                   help="labelstudio: for a task with no annotation, import its first prediction (the export "
                        "must carry full predictions, not their ids: see annotations/README.md)")
    p.add_argument("--force", action="store_true",
                   help="write the documents that could be read despite errors (exit status stays 1)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "nest-orgs", help="mark the ORG inside ROLE spans of .lqm sources, from a rulings table",
        description="Edit .lqm sources in place, as text: inside every ROLE span whose text a ruling "
                    "names (in a document of the ruling's language) and that holds no ORG yet, mark the "
                    "ruled organization as a nested ORG with a fresh id (on1, on2, ...), and append "
                    "'rel AFFILIATION HOLDER ORG' for each HAS_ROLE holder of the role, or 'rel "
                    "AFFILIATION ROLE ORG' when the role is an event participant with no holder. "
                    "Prints one line per change; a file that would not parse or validate afterwards is "
                    "left unchanged. Run 'build' afterwards.")
    p.add_argument("rulings", type=Path, metavar="RULINGS.tsv",
                   help="tab-separated, header 'lang role org note': the exact ROLE text and the ORG "
                        "inside it (its first occurrence is marked)")
    p.add_argument("paths", nargs="+", help=".lqm files, or directories of them")
    p.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    p.set_defaults(func=cmd_nest_orgs)

    p = sub.add_parser(
        "serve", help="serve the model's pre-annotations to a running Label Studio (ML backend)",
        description="Run a Label Studio ML backend: load the model once, then answer Label Studio's "
                    "/health, /setup and /predict calls with liqa's spans and events as predictions "
                    "(UTF-16 offsets, events as links from their trigger), for a project using liqa's "
                    "labeling config. Connect it in the project's Settings > Model with the URL "
                    "http://HOST:PORT. Needs the labelstudio extra (FastAPI, uvicorn). Step by step: "
                    "annotations/README.md, 'Pre-annotation from a live Label Studio'.")
    p.add_argument("--model", type=Path, required=True, help="a model directory, e.g. models/default")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=9090, help="port to listen on (default: %(default)s)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="encoder arithmetic, as for predict.py (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default: %(default)s)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "suggest", help="rank articles to annotate next by the model's uncertainty over events",
        description="Active learning: run the model over articles and rank them by how unsure it is of "
                    "the decisions its events are built from (each tagged span, each candidate link), "
                    "as bits of binary entropy around each decision's threshold per 1,000 characters. "
                    "Writes rank, id, score, uncertain (decisions of 0.5 bit or more) and lang, most "
                    "uncertain first. The measure: annotations/README.md, 'Which articles to annotate next'.",
        epilog="example: python -m liqa.annotations suggest articles/ --model models/default -n 50 --out next.tsv")
    p.add_argument("inputs", nargs="+", metavar="ARTICLES",
                   help="as for predict.py: .txt files, directories of .txt/.jsonl files, .jsonl files with "
                        '{"id", "text", optional "lang", "date"} per line, or - for stdin')
    p.add_argument("--model", type=Path, required=True, help="a model directory, e.g. models/default")
    p.add_argument("-n", type=positive_int, default=None, metavar="N", help="write the first N only (default: all)")
    p.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    p.add_argument("--format", choices=("tsv", "jsonl"), default="tsv",
                   help="tsv with a header line, or one JSON object per line (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default: %(default)s)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="encoder arithmetic, as for predict.py (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: accelerate's choice)")
    p.add_argument("--max-chars", type=int, default=None,
                   help="refuse articles longer than this, as predict.py does (default: its limit)")
    p.set_defaults(func=cmd_suggest)

    args = parser.parse_args(argv)
    if getattr(args, "use_predictions", False) and args.from_ != "labelstudio":
        parser.error("--use-predictions applies to --from labelstudio only")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
