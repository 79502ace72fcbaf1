"""liqa.load: the extractor gives exactly what predict.py writes for the same input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import liqa
from liqa.output import load_schema

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run / "best"


@pytest.fixture(scope="module")
def extract(model_dir):
    return liqa.load(model_dir, precision="fp32")


@pytest.fixture(scope="module")
def predicted(model_dir, tmp_path_factory) -> tuple[list[dict], str, list[dict]]:
    """(JSONL records, a text, predict.py's output for the records then the text as a .txt file),
    from one predict.py run."""
    tmp = tmp_path_factory.mktemp("predict")
    records = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    inputs = [{"id": r["id"], "text": r["text"], "lang": r["lang"]} for r in records]
    inputs[0].pop("lang")  # guessed, with a warning
    inputs[1]["date"] = "2024-03-14"  # relative dates resolved against it
    (tmp / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in inputs),
                                  encoding="utf-8")
    text = records[2]["text"]
    (tmp / "article.txt").write_text(text, encoding="utf-8")
    out = tmp / "out.jsonl"
    res = subprocess.run([sys.executable, str(ROOT / "predict.py"), str(tmp / "in.jsonl"), str(tmp / "article.txt"),
                          "--model", str(model_dir), "--precision", "fp32", "--out", str(out)],
                         capture_output=True, text=True, env=ENV, timeout=600)
    assert res.returncode == 0, res.stderr
    return inputs, text, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_extractor_equals_predict_py(extract, predicted):
    inputs, _, expected = predicted
    got = extract(inputs)
    assert got == expected[:len(inputs)]
    assert got[0]["warnings"][0].startswith("language guessed from the script")
    assert got[1]["date"] == "2024-03-14"
    assert sum(len(d["entities"]) for d in got) > 0  # the comparison is not between empty results
    for doc in got:
        jsonschema.validate(doc, load_schema())


def test_a_plain_text_as_predict_py_reads_a_text_file(extract, predicted):
    _, text, expected = predicted
    got = extract(text)  # one text: one dict, its id its position
    assert isinstance(got, dict) and got["id"] == "1"
    assert {**got, "id": "article"} == expected[-1]


def test_lang_and_date_apply_to_every_text_unless_a_record_has_its_own(extract):
    text = "Antonio Guterres met William Ruto in Nairobi on Thursday."
    a, b, c = extract([text, text, {"id": "own", "text": text, "lang": "en", "date": "2020-01-01"}],
                      lang="en", date="2024-03-14")
    assert (a["id"], b["id"], c["id"]) == ("1", "2", "own")
    assert a["lang"] == "en" and a["warnings"] == [] and a["date"] == "2024-03-14"
    assert c["date"] == "2020-01-01"


def test_bad_input_is_named_before_any_work(extract):
    with pytest.raises(ValueError) as err:
        extract(["fine text", "   ", {"id": "x", "text": "t", "lang": "de"}, {"text": "no id"}])
    msg = str(err.value)
    assert "text 2" in msg and "empty" in msg
    assert "text 3 (id x)" in msg and '"lang"' in msg
    assert "text 4" in msg and '"id"' in msg


def test_import_liqa_is_cheap_and_finds_the_shipped_model():
    code = "import sys, liqa; print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers'}))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert res.stdout.strip() == "[]", res.stderr
    assert (liqa.default_model() / "config.json").is_file()
    assert liqa.default_model().resolve() == (ROOT / "models" / "default").resolve()  # a source checkout


def test_the_readme_example_prints_what_it_says(tmp_path):
    """The README's Python API example, run as written (the shipped model), from another directory."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = readme.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    expected = code.rstrip().splitlines()[-1].removeprefix("# ")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                         env={**ENV, "PYTHONPATH": str(ROOT)})  # this checkout's liqa, installed or not
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == expected
