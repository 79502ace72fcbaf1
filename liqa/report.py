"""Evaluation reports: metrics.json, report.md, report.html and PNG plots from `metrics.evaluate` output.

The tables are built once as rows and rendered to Markdown and to HTML, so the
two reports can never disagree.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

from liqa.render import CSS
from liqa.schema import ENTITY_TYPES, LANGS

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows

RECORD_ROWS = [("spans (strict, exact offsets)", "spans_strict"),
               ("relations strict", "relations_strict"), ("relations boundaries", "relations_boundaries"),
               ("trigger identification", "trigger_identification"),
               ("trigger classification", "trigger_classification"),
               ("argument identification", "argument_identification"),
               ("argument classification", "argument_classification"),
               ("who met whom, strict", "met_pairs_strict"), ("who met whom, lenient", "met_pairs_lenient"),
               ("participant–venue, strict", "participant_venue_strict"),
               ("participant–venue, lenient", "participant_venue_lenient"),
               ("participant–role, strict", "participant_role_strict"),
               ("participant–role, lenient", "participant_role_lenient"),
               ("participant–date, strict", "participant_date_strict"),
               ("participant–date, lenient", "participant_date_lenient")]


def _f(x: float) -> str:
    return f"{x:.3f}"


def tables(result: dict) -> list[Table]:
    langs = [lang for lang in LANGS if lang in result["by_language"]]
    cols = ["overall", *langs]
    scopes = [result["overall"], *(result["by_language"][lang] for lang in langs)]
    boot = result.get("bootstrap_95", {})
    out: list[Table] = []
    rows = []
    for label, key in RECORD_ROWS:
        cells = [f"{_f(s[key]['f1'])} ({s[key]['correct']}/{s[key]['predicted']}/{s[key]['support']})" for s in scopes]
        if key in boot:
            cells[0] += f" [{_f(boot[key][0])}–{_f(boot[key][1])}]"
        rows.append([label, *cells])
    out.append(("F1 (correct/predicted/gold) [95% bootstrap interval over documents]", ["metric", *cols], rows))
    out.append(("Meeting dates as calendar dates (gold events whose date has a gold ISO value)", ["measure", *cols], [
        ["accuracy: right ISO / matched events with a predicted date",
         *(f"{_f(s['date_iso']['accuracy'])} ({s['date_iso']['correct']}/{s['date_iso']['matched']})" for s in scopes)],
        ["recall: right ISO / gold events with an ISO date",
         *(f"{_f(s['date_iso']['recall'])} ({s['date_iso']['correct']}/{s['date_iso']['events']})" for s in scopes)]]))
    for mode in ("strict", "default"):
        rows = []
        for t in (*ENTITY_TYPES, "micro avg", "macro avg"):
            cells = []
            for s in scopes:
                r = s["seqeval"].get(mode, {}).get(t)
                cells.append(f"{_f(r['precision'])} / {_f(r['recall'])} / {_f(r['f1'])} ({r['support']})" if r else "—")
            rows.append([t, *cells])
        out.append((f"Spans: seqeval {mode} mode{' (IOB2)' if mode == 'strict' else ''}, P / R / F1 (support)",
                    ["type", *cols], rows))
    rows = [[t, *(f"{_f(s['relations_strict_by_type'][t]['f1'])} ({s['relations_strict_by_type'][t]['support']})"
                  for s in scopes)] for t in result["overall"]["relations_strict_by_type"]]
    out.append(("Relations strict by type, F1 (support)", ["relation", *cols], rows))
    conf = result["confusion"]
    types = [*ENTITY_TYPES, "O"]
    out.append(("Span confusion (gold rows, predicted columns; exact offsets; O = none)", ["gold \\ pred", *types],
                [[g, *(str(conf[g].get(p, 0)) for p in types)] for g in types]))
    return out


def to_markdown(title: str, result: dict, notes: list[str]) -> str:
    parts = [f"# {title}", "", *notes, ""]
    for name, header, rows in tables(result):
        parts += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        parts += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        parts.append("")
    parts += ["## Errors (first 100: false positives and negatives, with context)", "",
              "| doc | lang | kind | what | type | text | context |", "|---|---|---|---|---|---|---|"]
    for e in result["errors"][:100]:
        parts.append("| " + " | ".join(str(e[k]).replace("|", "\\|") for k in
                                        ("doc", "lang", "kind", "what", "type", "text", "context")) + " |")
    return "\n".join(parts) + "\n"


def to_html(title: str, result: dict, notes: list[str], images: list[str]) -> str:
    parts = [f"<h1>{escape(title)}</h1>", *(f"<p>{escape(n)}</p>" for n in notes)]
    for name, header, rows in tables(result):
        parts.append(f"<h2>{escape(name)}</h2><table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    for img in images:
        parts.append(f'<h2>{escape(Path(img).stem.replace("_", " "))}</h2><img src="{escape(img)}" style="max-width:100%">')
    parts.append("<h2>Errors (first 100)</h2><table><tr><th>doc</th><th>kind</th><th>what</th><th>type</th>"
                 "<th>text</th><th>context</th></tr>")
    for e in result["errors"][:100]:
        d = "rtl" if e["lang"] in ("ar", "fa") else "ltr"
        parts.append(f"<tr><td>{escape(e['doc'])}</td><td>{e['kind']}</td><td>{e['what']}</td><td>{e['type']}</td>"
                     f'<td dir="{d}">{escape(e["text"])}</td><td dir="{d}">{escape(e["context"])}</td></tr>')
    parts.append("</table>")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


def plots(result: dict, out: Path, training_log: Path | None) -> list[str]:
    """F1 per type and language, the confusion matrix, and the training curve; returns file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    langs = [lang for lang in LANGS if lang in result["by_language"]]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(len(langs), 1)
    for k, lang in enumerate(langs):
        strict = result["by_language"][lang]["seqeval"]["strict"]
        ax.bar([i + k * width for i in range(len(ENTITY_TYPES))],
               [strict.get(t, {}).get("f1", 0) for t in ENTITY_TYPES], width, label=lang)
    ax.set_xticks([i + width * (len(langs) - 1) / 2 for i in range(len(ENTITY_TYPES))], ENTITY_TYPES)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (seqeval strict)")
    ax.set_title("Span F1 per type and language")
    ax.legend(ncol=len(langs), loc="upper center", bbox_to_anchor=(0.5, -0.08))  # below, off the bars
    fig.tight_layout()
    fig.savefig(out / "f1_by_type_language.png", dpi=110)
    plt.close(fig)
    names.append("f1_by_type_language.png")

    types = [*ENTITY_TYPES, "O"]
    conf = result["confusion"]
    matrix = [[conf[g].get(p, 0) for p in types] for g in types]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(types)), types, rotation=45)
    ax.set_yticks(range(len(types)), types)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > max(map(max, matrix)) / 2 else "black")
    ax.set_title("Span type confusion (exact offsets)")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=110)
    plt.close(fig)
    names.append("confusion.png")

    if training_log is not None and training_log.exists():
        log = [json.loads(line) for line in training_log.read_text().splitlines() if line.strip()]
        if log:
            fig, ax = plt.subplots(figsize=(7, 4))
            epochs = [r["epoch"] for r in log]
            ax.plot(epochs, [r["train_loss"] for r in log], "o-", label="train loss")
            ax.set_xlabel("epoch")
            ax.set_ylabel("loss")
            ax2 = ax.twinx()
            for key, label in (("spans", "dev span F1"), ("relations", "dev relation F1"),
                               ("met_pairs", "dev who-met-whom F1")):
                ax2.plot(epochs, [r["dev"][key]["f1"] for r in log], "s--", label=label)
            ax2.set_ylim(0, 1)
            ax2.set_ylabel("F1")
            fig.legend(loc="lower center", ncol=4, fontsize=8)
            ax.set_title("Training curve")
            fig.tight_layout(rect=(0, 0.08, 1, 1))
            fig.savefig(out / "training_curve.png", dpi=110)
            plt.close(fig)
            names.append("training_curve.png")
    return names


def write_report(result: dict, out: Path, title: str, notes: list[str], training_log: Path | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    images = plots(result, out, training_log)
    (out / "report.md").write_text(to_markdown(title, result, notes), encoding="utf-8")
    (out / "report.html").write_text(to_html(title, result, notes, images), encoding="utf-8")


def evaluate_and_report(data: list[str | Path], out: Path, model: Path | None = None,
                        predictions: Path | None = None, batch_size: int = 8, n_boot: int = 1000,
                        int8: bool = False, vocabulary: str | None = None, precision: str = "fp32") -> dict:
    """Score a model (predicting first) or a prediction file on gold JSONL; write the report.

    Raises ValueError on unreadable gold data or predictions that do not match it.
    """
    from datetime import date

    from liqa.metrics import evaluate
    from liqa.schema import read_jsonl

    files = [f for p in map(Path, data) for f in (sorted(p.rglob("*.jsonl")) if p.is_dir() else [p])]
    gold = [d for f in files for d in read_jsonl(f)]
    if model is not None:
        from liqa.inference import Predictor, quantize_int8
        from liqa.model import LiqaModel

        net, tok = LiqaModel.from_pretrained(model, vocabulary=vocabulary)
        net = quantize_int8(net) if int8 else net
        predictor = Predictor(net, tok, batch_size=batch_size, precision=precision)
        preds = list(predictor.predict([d.unannotated() for d in gold]))
        source = (f"model {model} (vocabulary {net.config.vocabulary}{', int8 encoder' if int8 else ''}, "
                  f"{predictor.precision} encoder)")
    else:
        from liqa.output import from_output

        texts = {d.id: d.text for d in gold}
        records = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines() if line]
        unknown = [r["id"] for r in records if r["id"] not in texts]
        if unknown:
            raise ValueError(f"{predictions}: ids not in the gold data: {unknown[:5]}")
        preds = [from_output(r, texts[r["id"]]) for r in records]
        source = f"predictions {predictions}"
    result = evaluate(preds, gold, n_boot=n_boot)
    result["data"] = [str(f) for f in files]
    result["source"] = source
    notes = [f"Scored {source} on {len(gold)} documents ({', '.join(str(f) for f in files)}), {date.today()}.",
             "Strict: exact character offsets. Lenient: normalized text (Arabic/Persian letter variants, "
             "diacritics, tatweel, ZWNJ, digits). Intervals: 95% percentile bootstrap over documents."]
    log = model / "log.jsonl" if model is not None else None
    write_report(result, out, f"liqa evaluation: {', '.join(f.name for f in files)}", notes, log)
    return result
