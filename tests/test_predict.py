"""predict.py: the output contract, bad input, resume, and two-process sharding."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from liqa.output import OutputWriter, load_schema, to_output
from liqa.render import article
from liqa.schema import Document, Entity, Event, Relation

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"


@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run / "best"


def run_predict(*args, stdin=None, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "predict.py"), *map(str, args)], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_output_contract_by_hand():
    text = "Kuwait's Prime Minister met Hamas envoy Ali in Doha today."
    ents = [Entity(id="T1", type="ROLE", start=0, end=22, text=text[0:22], score=0.9),
            Entity(id="T2", type="MEETING", start=23, end=26, text="met", score=0.9),
            Entity(id="T3", type="ORG", start=27, end=32, text="Hamas", score=0.9),
            Entity(id="T4", type="ROLE", start=33, end=38, text="envoy", score=0.9),
            Entity(id="T5", type="PERSON", start=39, end=42, text="Ali", score=0.9),
            Entity(id="T6", type="LOC", start=46, end=50, text="Doha", score=0.9)]
    doc = Document(id="d", lang="en", text=text, entities=ents,
                   relations=[Relation(id="R1", type="HAS_ROLE", head="T5", tail="T4", score=0.9),
                              Relation(id="R2", type="AFFILIATION", head="T4", tail="T3", score=0.8)],
                   events=[Event(id="E1", triggers=["T2"], participants=["T1", "T5"], venue="T6", score=0.7)])
    out = to_output(doc)
    jsonschema.validate(out, load_schema())
    ali = out["events"][0]["participants"][1]
    assert ali["roles"] == [{"entity": "T4", "text": "envoy"}]
    assert ali["organizations"] == [{"entity": "T3", "text": "Hamas"}]  # through the role
    assert out["events"][0]["venue"] == {"entity": "T6", "text": "Doha"} and out["events"][0]["date"] is None


def _dated(text: str, date_text: str, date: str | None = None) -> Document:
    start = text.index(date_text)
    ents = [Entity(id="T1", type="PERSON", start=0, end=4, text=text[:4], score=0.9),
            Entity(id="T2", type="MEETING", start=5, end=8, text=text[5:8], score=0.9),
            Entity(id="T3", type="PERSON", start=9, end=13, text=text[9:13], score=0.9),
            Entity(id="T4", type="DATE", start=start, end=start + len(date_text), text=date_text, score=0.9)]
    return Document(id="d", lang="en", text=text, date=date, entities=ents,
                    events=[Event(id="E1", triggers=["T2"], participants=["T1", "T3"], date="T4", score=0.7)])


def test_dates_carry_iso_in_the_contract_and_the_html():
    out = to_output(_dated("Ruto met Ali on Tuesday in Nairobi.", "Tuesday", date="2024-03-14"))
    jsonschema.validate(out, load_schema())
    assert out["events"][0]["date"] == {"entity": "T4", "text": "Tuesday", "iso": "2024-03-12"}
    assert [e.get("iso") for e in out["entities"]] == [None, None, None, "2024-03-12"]
    assert "iso" not in out["entities"][0]  # DATE entities only
    assert out["warnings"] == []
    assert "2024-03-12" in article(out, "Ruto met Ali on Tuesday in Nairobi.")
    # no input date: the page's own dateline is used, and said
    text = "Ruto met Ali yesterday.\nNAIROBI, 14 March 2024"
    out = to_output(_dated(text, "yesterday"))
    assert out["events"][0]["date"]["iso"] == "2024-03-13"
    assert out["warnings"] == ["publication date 2024-03-14 taken from the page itself"]
    # a weekday that contradicts the explicit date is a warning, never a silent guess
    out = to_output(_dated("Ruto met Ali on Tuesday 14 March 2024.", "Tuesday 14 March 2024"))
    assert out["events"][0]["date"]["iso"] == "2024-03-14"
    assert any("Tuesday" in w for w in out["warnings"])
    # nothing to resolve against: null, not a guess
    out = to_output(_dated("Ruto met Ali on Tuesday.", "Tuesday"))
    assert out["events"][0]["date"]["iso"] is None


def test_same_day_and_next_day_count_from_the_date_before():
    text = "Ruto met Ali on 2 March 2024. The next day he met Omar; the same day Omar left."
    doc = _dated(text, "The next day", date="2024-03-05")
    first = text.index("2 March 2024")
    same = text.index("the same day")
    doc.entities += [Entity(id="T5", type="DATE", start=first, end=first + 12, text="2 March 2024", score=0.9),
                     Entity(id="T6", type="DATE", start=same, end=same + 12, text="the same day", score=0.9)]
    isos = {e["text"]: e["iso"] for e in to_output(doc)["entities"] if e["type"] == "DATE"}
    assert isos == {"2 March 2024": "2024-03-02", "The next day": "2024-03-03", "the same day": "2024-03-03"}


def test_nested_org_in_the_output_and_the_html_view():
    text = "UN Secretary-General Guterres met Ruto."
    ents = [Entity(id="T1", type="ROLE", start=0, end=20, text=text[0:20], score=0.9),
            Entity(id="T2", type="ORG", start=0, end=2, text="UN", score=0.8),
            Entity(id="T3", type="PERSON", start=21, end=29, text="Guterres", score=0.9),
            Entity(id="T4", type="MEETING", start=30, end=33, text="met", score=0.9),
            Entity(id="T5", type="PERSON", start=34, end=38, text="Ruto", score=0.9)]
    doc = Document(id="d", lang="en", text=text, entities=ents,
                   relations=[Relation(id="R1", type="HAS_ROLE", head="T3", tail="T1", score=0.9),
                              Relation(id="R2", type="AFFILIATION", head="T3", tail="T2", score=0.7)],
                   events=[Event(id="E1", triggers=["T4"], participants=["T3", "T5"], score=0.9)])
    out = to_output(doc)
    jsonschema.validate(out, load_schema())
    assert out["events"][0]["participants"][0]["organizations"] == [{"entity": "T2", "text": "UN"}]
    from liqa.render import highlight
    html = highlight(text, out["entities"])
    assert html.startswith('<mark class="ROLE"') and '<mark class="ORG" title="ORG 0.8">UN<sub>ORG</sub></mark>' in html
    assert html.count("<mark") == 5


def test_predictions_follow_the_schema_and_input_order(model_dir, tmp_path):
    out = tmp_path / "out.jsonl"
    res = run_predict(FIXTURE, ROOT / "examples", "--model", model_dir, "--out", out)
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    gold = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.txt"))
    assert [r["id"] for r in records] == [g["id"] for g in gold] + examples
    schema = load_schema()
    texts = {g["id"]: g["text"] for g in gold}
    for r in records:
        jsonschema.validate(r, schema)
        for e in r["entities"]:
            if r["id"] in texts:
                assert texts[r["id"]][e["start"]:e["end"]] == e["text"]
    assert any(r["events"] for r in records)


def test_bad_inputs_are_reported_and_the_rest_comes_out(model_dir, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("Antonio Guterres met William Ruto in Nairobi.", encoding="utf-8")
    (d / "empty.txt").write_text("  \n", encoding="utf-8")
    (d / "bin.txt").write_bytes(b"\x00\x01\x02 binary")
    (d / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (d / "big.txt").write_text("word " * 3000, encoding="utf-8")
    (d / "b.jsonl").write_text('{"id": "j1", "text": "Ruto met Guterres."}\n{oops\n'
                               '{"id": "j3"}\n{"id": "j4", "text": "Ruto met Guterres.", "lang": "de"}\n',
                               encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = run_predict(d, "missing.txt", "--model", model_dir, "--out", out, "--max-chars", "10000")
    assert res.returncode == 1
    err = res.stderr
    assert f"{d / 'empty.txt'}: empty" in err
    assert f"{d / 'bin.txt'}: looks binary" in err
    assert f"{d / 'latin1.txt'}: not UTF-8" in err
    assert f"{d / 'big.txt'}: too large: 15,000 characters" in err
    assert f"{d / 'b.jsonl'}:2: not valid JSON" in err
    assert f"{d / 'b.jsonl'}:3: expected an object" in err
    assert f"{d / 'b.jsonl'}:4 (id j4): \"lang\" must be one of" in err
    assert "missing.txt: no such file" in err
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "j1"]


def test_stdin_and_resume(model_dir, tmp_path):
    docs = "".join(json.dumps({"id": f"d{i}", "text": f"Ruto met Guterres in Nairobi {i}."}) + "\n" for i in range(5))
    res = run_predict("-", "--model", model_dir, stdin=docs)
    assert res.returncode == 0 and [json.loads(x)["id"] for x in res.stdout.splitlines()] == [f"d{i}" for i in range(5)]
    # a killed run left two complete lines and a torn third
    out = tmp_path / "out.jsonl"
    full = res.stdout.splitlines()
    out.write_text(full[0] + "\n" + full[1] + "\n" + full[2][:25], encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(docs, encoding="utf-8")
    res = run_predict(src, "--model", model_dir, "--out", out, "--resume")
    assert res.returncode == 0, res.stderr
    assert out.read_text(encoding="utf-8").splitlines() == full


def test_writer_resume_cuts_a_torn_line(tmp_path):
    p = tmp_path / "o.jsonl"
    p.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c', encoding="utf-8")
    w = OutputWriter(p, resume=True)
    assert w.done == {"a": 1, "b": 1}  # lines per id
    w.write('{"id": "c"}')
    w.close()
    assert p.read_text() == '{"id": "a"}\n{"id": "b"}\n{"id": "c"}\n'


@pytest.mark.skipif(os.environ.get("LIQA_SKIP_SLOW") == "1", reason="slow")
def test_two_processes_write_the_same_output(model_dir, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run_predict(FIXTURE, ROOT / "examples", "--model", model_dir, "--out", one).returncode == 0
    res = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--cpu",
                          str(ROOT / "predict.py"), str(FIXTURE), str(ROOT / "examples"), "--model", str(model_dir),
                          "--out", str(two)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert two.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("two.jsonl.part*"))


def test_output_inside_an_input_directory_is_not_read_back(model_dir, tmp_path):
    (tmp_path / "a.txt").write_text("Antonio Guterres met William Ruto in Nairobi.", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    for _ in range(2):
        res = run_predict(tmp_path, "--model", model_dir, "--out", out)
        assert res.returncode == 0, res.stderr
        assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a"]
