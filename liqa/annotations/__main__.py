"""python -m liqa.annotations {validate,stats,build,markup} ..."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liqa.annotations import find_files, load, markup, unique_docs, validate
from liqa.annotations.stats import corpus_stats, to_markdown
from liqa.annotations.validate import consistency
from liqa.schema import canonical, read_jsonl, write_jsonl


def cmd_validate(args: argparse.Namespace) -> int:
    located, issues = load(args.paths)
    issues += validate(located)
    for issue in issues:
        print(issue)
    findings = [] if args.no_consistency else consistency(unique_docs(located))
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
    print(to_markdown(corpus_stats(unique_docs(located))))
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


def cmd_markup(args: argparse.Namespace) -> int:
    """JSONL -> one .lqm per document, to edit by hand (e.g. model pre-annotations)."""
    located, issues = load(args.paths)
    for issue in issues:
        print(issue, file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    for loc in located:
        (args.out / f"{loc.doc.id}.lqm").write_text(markup.render(loc.doc), encoding="utf-8")
    print(f"wrote {len(located)} markup files to {args.out}", file=sys.stderr)
    return 1 if issues else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liqa.annotations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check offsets, types, ids, links; report as file:line: doc-id: message")
    p.add_argument("paths", nargs="+", help=".jsonl or .lqm files, or directories of them")
    p.add_argument("--strict", action="store_true", help="also fail on consistency findings")
    p.add_argument("--no-consistency", action="store_true", help="skip the consistency report")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("stats", help="documents, tokens, spans, relations, events per language (markdown)")
    p.add_argument("paths", nargs="+", help=".jsonl or .lqm files, or directories of them")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("build", help="convert markup sources to the corpus JSONL files")
    p.add_argument("--src", type=Path, default=Path("annotations/src"),
                   help="markup root: SRC/<split>/<group>/*.lqm (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("annotations"),
                   help="writes OUT/<split>/<group>.jsonl (default: %(default)s)")
    p.add_argument("--check", action="store_true", help="write nothing; fail if any JSONL is out of date")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("markup", help="write documents as .lqm markup files for hand editing")
    p.add_argument("paths", nargs="+", help=".jsonl files or directories")
    p.add_argument("-o", "--out", type=Path, required=True, help="output directory")
    p.set_defaults(func=cmd_markup)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
