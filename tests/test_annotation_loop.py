"""The annotation loop: predict.py output into export and markup, importing Label Studio
predictions (full or ids only), and the labeling config's reading direction."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from liqa.annotations import __main__ as cli
from liqa.annotations import labelstudio, markup
from liqa.annotations._interchange import prediction_to_document
from liqa.schema import Document, read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"

EN_TEXT = "Guterres met Ruto in Nairobi on Friday."
# A contract line written by hand, as an analyst or another tool would: relations have no ids.
HAND = {"id": "en-hand", "lang": "en", "date": "2024-03-15",
        "entities": [{"id": "T1", "type": "PERSON", "start": 0, "end": 8, "text": "Guterres", "score": 0.9},
                     {"id": "T2", "type": "MEETING", "start": 9, "end": 12, "text": "met", "score": 0.8},
                     {"id": "T3", "type": "PERSON", "start": 13, "end": 17, "text": "Ruto", "score": 0.95},
                     {"id": "T4", "type": "LOC", "start": 21, "end": 28, "text": "Nairobi", "score": 0.7},
                     {"id": "T5", "type": "DATE", "start": 32, "end": 38, "text": "Friday", "score": 0.6,
                      "iso": "2024-03-15"}],
        "relations": [],
        "events": [{"id": "E1", "type": "MEETING", "triggers": ["T2"], "score": 0.75,
                    "participants": [{"entity": "T1", "text": "Guterres", "type": "PERSON", "roles": [],
                                      "organizations": []},
                                     {"entity": "T3", "text": "Ruto", "type": "PERSON", "roles": [],
                                      "organizations": []}],
                    "venue": {"entity": "T4", "text": "Nairobi"},
                    "date": {"entity": "T5", "text": "Friday", "iso": "2024-03-15"}}],
        "warnings": []}


def hand(**change) -> dict:
    return json.loads(json.dumps(HAND)) | change


def lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def fixture_articles(tmp_path: Path) -> tuple[Path, list[Document]]:
    """The fixture's texts as .txt articles (as a user has them) and as unannotated documents."""
    docs = [d.unannotated() for d in read_jsonl(FIXTURE)]
    articles = tmp_path / "articles"
    articles.mkdir()
    for d in docs:
        (articles / f"{d.id}.txt").write_text(d.text, encoding="utf-8")
    return articles, docs


@pytest.fixture(scope="module")
def predicted(tiny_run, tmp_path_factory) -> tuple[Path, Path, list[Document]]:
    """(predict.py's output on the fixture articles, the articles directory, the raw documents)."""
    tmp = tmp_path_factory.mktemp("loop")
    articles, docs = fixture_articles(tmp)
    out = tmp / "pred.jsonl"
    run = subprocess.run([sys.executable, str(ROOT / "predict.py"), str(articles), "--model", str(tiny_run / "best"),
                          "--out", str(out), "--precision", "fp32"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr
    return out, articles, docs


def records(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# --- predict.py output as pre-annotations ---------------------------------------------------------

def test_export_takes_predict_output_as_it_is(predicted, tmp_path, capsys):
    pred, _, docs = predicted
    recs = records(pred)
    assert all("warnings" in r and "text" not in r for r in recs)  # the contract, not documents
    assert sum(len(r["relations"]) for r in recs) > 0  # relations without ids are the point
    write_jsonl(docs, tmp_path / "todo.jsonl")
    out = tmp_path / "ls" / "tasks.json"
    assert cli.main(["export", "--to", "labelstudio", str(tmp_path / "todo.jsonl"), "-o", str(out),
                     "--predictions", str(pred)]) == 0, capsys.readouterr().err
    tasks = {t["data"]["doc_id"]: t for t in json.loads(out.read_text(encoding="utf-8"))}
    assert set(tasks) == {r["id"] for r in recs}
    for r in recs:
        (p,) = tasks[r["id"]]["predictions"]
        spans = [x for x in p["result"] if x["type"] == "labels"]
        assert [(x["value"]["text"], x["value"]["labels"][0], x["score"]) for x in spans] == [
            (e["text"], e["type"], e["score"]) for e in r["entities"]]
        rels = [x["labels"][0] for x in p["result"] if x["type"] == "relation"]
        assert sorted(x for x in rels if x in ("HAS_ROLE", "AFFILIATION")) == sorted(x["type"] for x in r["relations"])
        assert rels.count("PARTICIPANT") == sum(len(ev["participants"]) for ev in r["events"])
    # and back: analysts accept the pre-annotations untouched
    docs_back, messages = labelstudio.import_(out, use_predictions=True)
    assert not [m for m in messages if m.error]
    assert {d.id: len(d.entities) for d in docs_back} == {r["id"]: len(r["entities"]) for r in recs}


def test_markup_takes_predict_output_with_its_articles(predicted, tmp_path, capsys):
    pred, articles, _ = predicted
    assert cli.main(["markup", str(pred), "--texts", str(articles), "-o", str(tmp_path / "lqm")]) == 0
    for r in records(pred):
        doc = markup.read(tmp_path / "lqm" / f"{r['id']}.lqm").doc
        assert [(e.start, e.end, e.type) for e in doc.entities] == [(e["start"], e["end"], e["type"])
                                                                     for e in r["entities"]]
        text = {e.id: e.text for e in doc.entities}
        by_id = {e["id"]: e["text"] for e in r["entities"]}
        assert sorted((x.type, text[x.head], text[x.tail]) for x in doc.relations) == sorted(
            (x["type"], by_id[x["head"]], by_id[x["tail"]]) for x in r["relations"])
        assert [sorted(text[p] for p in ev.participants) for ev in doc.events] == [
            sorted(p["text"] for p in ev["participants"]) for ev in r["events"]]


def test_markup_of_predictions_needs_their_articles(predicted, tmp_path, capsys):
    pred, _, _ = predicted
    assert cli.main(["markup", str(pred), "-o", str(tmp_path / "lqm")]) == 1
    err = capsys.readouterr().err
    assert f"{pred}:1: tiny-" in err and "--texts" in err
    assert not list((tmp_path / "lqm").glob("*.lqm"))


def test_hand_written_contract_line_converts_deterministically(tmp_path):
    rec = hand(relations=[{"type": "HAS_ROLE", "head": "T1", "tail": "T1", "score": 0.5}])
    a, b = prediction_to_document(rec, EN_TEXT), prediction_to_document(json.loads(json.dumps(rec)), EN_TEXT)
    assert a == b and [r.id for r in a.relations] == ["R1"]
    assert a.date == "2024-03-15" and a.entity("T5").iso == "2024-03-15"
    (ev,) = a.events
    assert (ev.triggers, ev.participants, ev.venue, ev.date, ev.score) == (["T2"], ["T1", "T3"], "T4", "T5", 0.75)
    # the same record through export, next to the document it pre-annotates
    write_jsonl([Document(id="en-hand", lang="en", text=EN_TEXT)], tmp_path / "todo.jsonl")
    lines(tmp_path / "pred.jsonl", [HAND])
    out = tmp_path / "tasks.json"
    assert cli.main(["export", "--to", "labelstudio", str(tmp_path / "todo.jsonl"), "-o", str(out),
                     "--predictions", str(tmp_path / "pred.jsonl")]) == 0
    (task,) = json.loads(out.read_text())
    labels = sorted(x["labels"][0] for x in task["predictions"][0]["result"] if x["type"] == "relation")
    assert labels == ["PARTICIPANT", "PARTICIPANT", "VENUE", "WHEN"]


@pytest.mark.parametrize("record, fragment", [
    (hand(relations=[{"type": "HAS_ROLE", "head": "T1", "tail": "T2"}]),
     "not a prediction record (liqa/prediction.schema.json): relations.0: 'score' is a required property"),
    (hand(entities=[dict(HAND["entities"][0], type="PEOPLE")] + HAND["entities"][1:]),
     "not a prediction record (liqa/prediction.schema.json): entities.0.type: 'PEOPLE' is not one of"),
    (hand(entities=[dict(HAND["entities"][0], start=1, end=9)] + HAND["entities"][1:]),
     "entity T1 'Guterres' is not the text at 1-9"),
    (hand(relations=[{"type": "HAS_ROLE", "head": "T1", "tail": "T9", "score": 0.5}]),
     "relation 1 points to entity T9, which the record does not have"),
])
def test_invalid_prediction_lines_are_refused_by_file_and_line(tmp_path, capsys, record, fragment):
    write_jsonl([Document(id="en-hand", lang="en", text=EN_TEXT)], tmp_path / "todo.jsonl")
    pred = lines(tmp_path / "pred.jsonl", [record])
    out = tmp_path / "tasks.json"
    assert cli.main(["export", "--to", "labelstudio", str(tmp_path / "todo.jsonl"), "-o", str(out),
                     "--predictions", str(pred)]) == 1
    err = capsys.readouterr().err
    assert f"{pred}:1: en-hand: {fragment}" in err, err
    assert not out.exists()


def test_markup_goes_on_past_a_bad_line(tmp_path, capsys):
    texts = lines(tmp_path / "texts.jsonl", [{"id": "en-hand", "text": EN_TEXT}, {"id": "en-2", "text": EN_TEXT}])
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps(hand(id="en-2", warnings="x")) + "\n{not json\n" + json.dumps(HAND) + "\n")
    assert cli.main(["markup", str(pred), "--texts", str(texts), "-o", str(tmp_path / "lqm")]) == 1
    err = capsys.readouterr().err
    assert f"{pred}:1: en-2: not a prediction record" in err and "warnings: 'x' is not of type 'array'" in err
    assert f"{pred}:2: -: not valid JSON" in err
    assert [f.name for f in (tmp_path / "lqm").iterdir()] == ["en-hand.lqm"]


def test_export_skips_predictions_of_documents_not_exported(tmp_path, capsys):
    write_jsonl([Document(id="en-hand", lang="en", text=EN_TEXT)], tmp_path / "todo.jsonl")
    pred = lines(tmp_path / "pred.jsonl", [HAND, hand(id="elsewhere")])
    out = tmp_path / "tasks.json"
    assert cli.main(["export", "--to", "labelstudio", str(tmp_path / "todo.jsonl"), "-o", str(out),
                     "--predictions", str(pred)]) == 0
    assert f"{pred}:2: elsewhere: warning: prediction skipped" in capsys.readouterr().err
    assert len(json.loads(out.read_text())[0]["predictions"]) == 1


# --- importing from Label Studio --------------------------------------------------------------------

def ls_tasks(tmp_path: Path) -> tuple[Path, list[dict]]:
    """Two tasks: one annotated, one only pre-annotated (full prediction), as export writes them."""
    doc = prediction_to_document(HAND, EN_TEXT)
    labelstudio.export([doc, Document(id="en-todo", lang="en", text=EN_TEXT)], tmp_path / "full.json",
                       predictions=[doc.model_copy(update={"id": "en-todo"})])
    tasks = json.loads((tmp_path / "full.json").read_text())
    for i, t in enumerate(tasks, 1):
        t["id"] = 40 + i
    return tmp_path / "full.json", tasks


def test_import_refuses_prediction_ids_naming_the_document_and_the_export(tmp_path, capsys):
    _, tasks = ls_tasks(tmp_path)
    tasks[1]["predictions"] = [123]  # what Label Studio's Export button writes
    ids_only = tmp_path / "ids.json"
    ids_only.write_text(json.dumps(tasks))
    out = tmp_path / "back.jsonl"
    assert cli.main(["import", "--from", "labelstudio", str(ids_only), "-o", str(out), "--use-predictions"]) == 1
    err = capsys.readouterr().err
    assert f"{ids_only} task 2 (id 42): en-todo: error: the export lists the task's predictions by id only" in err
    assert '"predictions": {"only_id": false}' in err and "/api/projects/ID/exports/" in err
    assert not out.exists()
    # --force writes what could be read, never the task as an empty document
    assert cli.main(["import", "--from", "labelstudio", str(ids_only), "-o", str(out), "--use-predictions",
                     "--force"]) == 1
    assert [d.id for d in read_jsonl(out)] == ["en-hand"]


def test_import_of_full_predictions_still_works(tmp_path):
    full, _ = ls_tasks(tmp_path)
    out = tmp_path / "back.jsonl"
    assert cli.main(["import", "--from", "labelstudio", str(full), "-o", str(out), "--use-predictions"]) == 0
    todo = {d.id: d for d in read_jsonl(out)}["en-todo"]
    assert [e.text for e in todo.entities] == ["Guterres", "met", "Ruto", "Nairobi", "Friday"]


# --- reading direction ------------------------------------------------------------------------------

def config_for(tmp_path: Path, langs: list[str]) -> ET.Element:
    docs = [Document(id=f"d{i}", lang=lang, text="x") for i, lang in enumerate(langs)]
    labelstudio.export(docs, tmp_path / "tasks.json")
    return ET.fromstring((tmp_path / "label_config.xml").read_text(encoding="utf-8"))


def test_label_config_is_right_to_left_for_arabic_and_persian(tmp_path):
    root = config_for(tmp_path, ["ar", "fa"])
    assert root.get("style") == "direction: rtl"
    assert root.find("Text").get("name") == "text"  # still the labeled object, at the top level


def test_label_config_reads_each_line_in_its_direction_for_a_mix(tmp_path):
    root = config_for(tmp_path, ["ar", "en"])
    (style,) = root.findall("Style")
    selector, rule = style.text.split("{")
    assert selector.split()[0] == f".{root.get('className')}" and "unicode-bidi: plaintext" in rule
    assert root.get("style") is None


def test_label_config_left_to_right_for_english(tmp_path):
    root = config_for(tmp_path, ["en"])
    assert root.get("style") is None and root.get("className") is None and root.find("Style") is None
    assert labelstudio.direction_for([]) == "ltr"
