"""evaluate.py and the model card: one command writes the reports and a card whose numbers are metrics.json's."""
import json
import re
from pathlib import Path

import pytest
import yaml

from liqa import model_card

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"


@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run / "best"


def test_card_numbers_equal_the_reports(model_dir, tmp_path):
    reports, cards = tmp_path / "reports", tmp_path / "cards"
    cards.mkdir()
    assert model_card.main(["--model", str(model_dir), "--train", str(FIXTURE), "--dev", str(FIXTURE),
                            "--test", str(FIXTURE), "--seeds", str(FIXTURE), "--reports", str(reports),
                            "--cards", str(cards)]) == 0
    card = (model_dir / "README.md").read_text(encoding="utf-8")
    assert (cards / f"{model_dir.parent.name}.md").read_text(encoding="utf-8") == card
    front = yaml.safe_load(card.split("---")[1])
    assert front["language"] == ["ar", "fa", "en"] and front["pipeline_tag"] == "token-classification"
    for res in front["model-index"][0]["results"]:
        metrics = json.loads((reports / res["dataset"]["split"] / "metrics.json").read_text())
        for m, (label, key) in zip(res["metrics"], model_card.CARD_METRICS):
            assert m["name"] == label and m["value"] == metrics["overall"][key]["f1"]
    test = json.loads((reports / "test" / "metrics.json").read_text())
    row = re.search(r"^\| span strict F1 \| ([0-9.]+)", card, re.M)
    assert float(row.group(1)) == test["overall"]["spans_strict"]["f1"]
    row = re.search(r"^\| meeting date, ISO accuracy \(right/matched\) \| ([0-9.]+) \((\d+)/(\d+)\)", card, re.M)
    iso = test["overall"]["date_iso"]
    assert (float(row.group(1)), int(row.group(2)), int(row.group(3))) == (round(iso["accuracy"], 3), iso["correct"], iso["matched"])
    assert "$" not in card.split("```")[0]  # every placeholder was filled
    for name in ("report.md", "report.html", "metrics.json", "f1_by_type_language.png", "confusion.png",
                 "training_curve.png"):
        assert (reports / "test" / name).exists(), name


def test_evaluate_cli_scores_a_prediction_file_without_the_model(model_dir, tmp_path):
    import evaluate
    import predict

    pred = tmp_path / "pred.jsonl"
    assert predict.main([str(FIXTURE), "--model", str(model_dir), "--out", str(pred)]) == 0
    assert evaluate.main(["--predictions", str(pred), str(FIXTURE), "--out", str(tmp_path / "r"),
                          "--bootstrap", "50"]) == 0
    by_file = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert evaluate.main(["--model", str(model_dir), str(FIXTURE), "--out", str(tmp_path / "m"),
                          "--bootstrap", "50"]) == 0
    by_model = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert by_file["overall"]["spans_strict"] == by_model["overall"]["spans_strict"]
    assert by_file["overall"]["met_pairs_lenient"] == by_model["overall"]["met_pairs_lenient"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "nope", "lang": "en", "entities": [], "relations": [], "events": [],
                               "warnings": []}) + "\n")
    assert evaluate.main(["--predictions", str(bad), str(FIXTURE), "--out", str(tmp_path / "x")]) == 2
