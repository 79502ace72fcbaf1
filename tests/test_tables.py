"""Analysts' tables: predict.py --format csv and python -m liqa.tables (opened with pandas), and
the events table of the HTML view."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from liqa import tables
from liqa.output import load_schema, to_output
from liqa.render import article
from liqa.schema import Document, Entity, Event, Relation

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"
TEXT = "التقى رئيس الوزراء ووزير الخارجية محمد آل ثاني بجوزيب بوريل ممثل الاتحاد الأوروبي في الدوحة يوم 14 مارس 2024."


def _span(eid: str, kind: str, text: str, score: float = 0.9) -> Entity:
    start = TEXT.index(text)
    return Entity(id=eid, type=kind, start=start, end=start + len(text), text=text, score=score)


def arabic_record() -> dict:
    """A contract record made by hand: a participant with two roles, one with an organization."""
    doc = Document(id="ar-doha", lang="ar", text=TEXT, date="2024-03-15", entities=[
        _span("T1", "MEETING", "التقى", 0.95), _span("T2", "ROLE", "رئيس الوزراء"),
        _span("T3", "ROLE", "وزير الخارجية"), _span("T4", "PERSON", "محمد آل ثاني", 0.88),
        _span("T5", "PERSON", "جوزيب بوريل", 0.91), _span("T6", "ROLE", "ممثل"),
        _span("T7", "ORG", "الاتحاد الأوروبي"), _span("T8", "LOC", "الدوحة"), _span("T9", "DATE", "14 مارس 2024")],
        relations=[Relation(id="R1", type="HAS_ROLE", head="T4", tail="T2", score=0.9),
                   Relation(id="R2", type="HAS_ROLE", head="T4", tail="T3", score=0.9),
                   Relation(id="R3", type="HAS_ROLE", head="T5", tail="T6", score=0.9),
                   Relation(id="R4", type="AFFILIATION", head="T6", tail="T7", score=0.8)],
        events=[Event(id="E1", triggers=["T1"], participants=["T4", "T5"], venue="T8", date="T9", score=0.77)])
    out = to_output(doc)
    jsonschema.validate(out, load_schema())
    return out


def empty_record(doc_id: str) -> dict:
    return to_output(Document(id=doc_id, lang="fa", text="هوا امروز آفتابی است."))


def read(path: Path) -> pd.DataFrame:
    # keep_default_na=False: an empty cell is "" here, so the test sees exactly what was written
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_hand_built_record_as_csv_opened_in_pandas(tmp_path):
    out = tmp_path / "t.csv"
    with tables.CsvWriter(out) as writer:
        writer.write(empty_record("fa-weather"))
        writer.write(arabic_record())
        writer.write(empty_record("fa-sport"))
    assert not (tmp_path / "t.csv.tmp").exists()
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdocument,")  # the BOM Excel needs for Arabic
    df = read(out)
    assert list(df.columns) == list(tables.COLUMNS)  # pandas strips the BOM
    assert len(df) == 2  # one row per participant; the documents with no event give none
    qatar, borrell = df.to_dict("records")
    assert qatar == {"document": "ar-doha", "lang": "ar", "published": "2024-03-15", "event": "E1",
                     "event_score": "0.77", "triggers": "التقى", "participant": "محمد آل ثاني",
                     "participant_type": "PERSON", "participant_score": "0.88",
                     "roles": "رئيس الوزراء | وزير الخارجية", "organizations": "", "venue": "الدوحة",
                     "date": "14 مارس 2024", "date_iso": "2024-03-14"}
    assert (borrell["participant"], borrell["roles"], borrell["organizations"]) == (
        "جوزيب بوريل", "ممثل", "الاتحاد الأوروبي")
    assert float(borrell["participant_score"]) == 0.91
    # the documents that gave no row are counted and named
    assert (writer.documents, writer.events, writer.rows) == (3, 1, 2)
    assert writer.summary() == ("csv: 2 rows (1 events) from 3 documents; 2 with no meeting found (no rows): "
                                "fa-weather, fa-sport")


def test_rows_are_none_where_the_record_has_nothing():
    rec = arabic_record()
    rec["events"][0]["venue"] = rec["events"][0]["date"] = None
    del rec["date"]
    row = tables.rows(rec)[0]
    assert row["venue"] is row["date"] is row["date_iso"] is row["published"] is None
    assert row["organizations"] is None and row["roles"] == "رئيس الوزراء | وزير الخارجية"
    assert tables.rows(empty_record("x")) == []


def test_summary_names_at_most_ten_documents_without_events(tmp_path):
    with tables.CsvWriter(tmp_path / "t.csv") as writer:
        for k in range(13):
            writer.write(empty_record(f"d{k}"))
    assert writer.summary().endswith(": d0, d1, d2, d3, d4, d5, d6, d7, d8, d9 and 3 more")
    assert read(tmp_path / "t.csv").empty


def test_a_failed_run_leaves_no_table(tmp_path):
    out = tmp_path / "t.csv"
    with pytest.raises(KeyError):
        with tables.CsvWriter(out) as writer:
            writer.write(arabic_record())
            writer.write({"id": "broken"})
    assert not out.exists() and not (tmp_path / "t.csv.tmp").exists()


def test_converter_reports_bad_lines_and_writes_the_rest(tmp_path, capsys):
    src = tmp_path / "p.jsonl"
    bad = arabic_record()
    del bad["events"][0]["participants"][0]["roles"]
    src.write_text("\n".join([json.dumps(arabic_record(), ensure_ascii=False), "{not json",
                              json.dumps(bad, ensure_ascii=False), "", json.dumps(empty_record("e"))]) + "\n",
                   encoding="utf-8")
    out = tmp_path / "t.csv"
    assert tables.main([str(src), str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{src}:2: not JSON" in err
    assert f"{src}:3: not a prediction record: $.events[0].participants[0]: 'roles' is a required property" in err
    assert "missing.jsonl: cannot read" in err
    assert "csv: 2 rows (1 events) from 2 documents; 1 with no meeting found (no rows): e" in err
    assert read(out)["participant"].tolist() == ["محمد آل ثاني", "جوزيب بوريل"]
    # stdin to stdout, as in `predict.py ... | python -m liqa.tables -`: the same bytes
    piped = subprocess.run([sys.executable, "-m", "liqa.tables", "-"], cwd=ROOT, input=src.read_bytes(),
                           capture_output=True, timeout=120)
    assert piped.returncode == 1 and piped.stdout == out.read_bytes()


@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run / "best"


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_predict_csv_on_the_tiny_model_matches_its_jsonl(model_dir, tmp_path):
    jsonl, csv_out = tmp_path / "p.jsonl", tmp_path / "p.csv"
    res = run(ROOT / "predict.py", FIXTURE, "--model", model_dir, "--precision", "fp32", "--out", jsonl)
    assert res.returncode == 0, res.stderr
    res = run(ROOT / "predict.py", FIXTURE, "--model", model_dir, "--precision", "fp32",
              "--format", "csv", "--out", csv_out)
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    expected = [row for r in records for row in tables.rows(r)]
    assert expected, "the tiny model finds no event: nothing to compare"
    df = pd.read_csv(csv_out, dtype=str, keep_default_na=False)
    assert list(df.columns) == list(tables.COLUMNS) and len(df) == len(expected)
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]
    assert df.to_dict("records") == as_text  # Arabic and Persian text come back unchanged
    assert {"ar", "fa"} & set(df["lang"])
    empty = sum(not r["events"] for r in records)
    assert (f"csv: {len(expected)} rows ({sum(len(r['events']) for r in records)} events) from "
            f"{len(records)} documents; {empty} with no meeting found") in res.stderr
    # the converter writes the same bytes from the JSON Lines
    res = run("-m", "liqa.tables", jsonl, "--out", tmp_path / "c.csv")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "c.csv").read_bytes() == csv_out.read_bytes()


def test_predict_csv_refuses_resume(tmp_path):
    res = run(ROOT / "predict.py", FIXTURE, "--format", "csv", "--resume", "--out", tmp_path / "p.csv")
    assert res.returncode == 2 and "--resume works with --format jsonl only" in res.stderr
    assert "python -m liqa.tables" in res.stderr


def test_html_events_table_has_triggers_and_reads_right_in_rtl():
    html = article(arabic_record(), TEXT)
    assert html.startswith('<article lang="ar" dir="rtl">')
    header = html[html.index("<table>"):html.index("</tr>")]
    assert header.index("<th>event</th><th>triggers</th><th>who</th>") > 0
    assert '<td rowspan="2">E1 (0.77)</td><td rowspan="2">التقى</td>' in html
    assert "<td>رئيس الوزراء، وزير الخارجية</td>" in html  # the Arabic comma in an Arabic article
    # several triggers, in order, joined with the article's comma
    rec = arabic_record()
    rec["events"][0]["triggers"] = ["T1", "T6"]
    assert '<td rowspan="2">التقى، ممثل</td>' in article(rec, TEXT)
    # no event: the English message keeps its full stop on the right even in an RTL article
    empty = article(empty_record("fa-weather"), "هوا امروز آفتابی است.")
    assert 'dir="rtl"' in empty and '<p class="meta" lang="en" dir="ltr">No meeting found.</p>' in empty
