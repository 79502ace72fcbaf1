"""Interchange with Label Studio, brat and doccano: round trips, predictions, bad input."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from liqa.annotations import __main__ as cli
from liqa.annotations import brat, doccano, labelstudio, markup
from liqa.annotations._interchange import Utf16Offsets, guess_lang
from liqa.annotations.validate import check_document
from liqa.schema import ENTITY_TYPES, LINK_TYPES, Document, canonical, read_jsonl, write_jsonl

# Arabic: a two-trigger event (التقى ... اللقاء), a ROLE-only participant
# (وزير الخارجية الإيراني), HAS_ROLE and AFFILIATION, and a near-miss meeting
# (اجتماع مؤجل: postponed) that is in no event.
AR = markup.parse("""id: ar-fmt-1
lang: ar
date: 2024-04-05
source: aljazeera.net
reviewer: sara
---
[التقى]{MEETING m1} [إسماعيل هنية]{PERSON p1}، [رئيس المكتب السياسي]{ROLE r1} ل[حركة حماس]{ORG o1}، \
[وزير الخارجية الإيراني]{ROLE r2} في [طهران]{LOC l1} [يوم الأحد]{DATE d1}. وجاء [اللقاء]{MEETING m2} \
بعد [اجتماع]{MEETING m3} مؤجل مع وفد مصري.
---
rel HAS_ROLE p1 r1
rel AFFILIATION r1 o1
event triggers=m1,m2 participants=p1,r2 venue=l1 date=d1
""").doc

# Persian with ZWNJ (U+200C) inside a trigger span and in running text, and a
# near-miss (talks planned for the future).
FA = markup.parse("""id: fa-fmt-1
lang: fa
source: irna.ir
---
[عباس عراقچی]{PERSON p1}، [وزیر امور خارجه]{ROLE r1}، با [وانگ یی]{PERSON p2} در [پکن]{LOC l1} \
[دیدار]{MEETING m1} کرد و گفت [گفت\u200cوگو]{MEETING m2}های بعدی در [وزارت خارجه]{ORG o1} انجام می\u200cشود.
---
rel HAS_ROLE p1 r1
rel AFFILIATION p1 o1
event triggers=m1 participants=p1,p2 venue=l1
""").doc

# English with emoji outside the BMP before and between spans (UTF-16 offsets differ).
EN = markup.parse("""id: en-fmt-1
lang: en
date: 2024-05-20
generated: false
---
\U0001F1FA\U0001F1F8 [Antony Blinken]{PERSON p1} [met]{MEETING m1} [Mohammed bin Salman]{PERSON p2} \
\U0001F91D in [Riyadh]{LOC l1} on [Monday]{DATE d1}. A planned [meeting]{MEETING m2} with \
[Qatari officials]{ROLE r1} was cancelled.
---
event triggers=m1 participants=p1,p2 venue=l1 date=d1
""").doc

DOCS = [AR, FA, EN]


def canon(docs: list[Document]) -> list[Document]:
    return sorted((canonical(d) for d in docs), key=lambda d: d.id)


def errors(messages: list[str]) -> list[str]:
    return [m for m in messages if getattr(m, "error", False)]


def without_metadata(doc: Document) -> Document:
    return doc.model_copy(update={"source": None, "date": None, "meta": {}})


def test_fixtures_are_valid_and_cover_the_cases():
    for doc in DOCS:
        assert check_document(doc) == [], doc.id
    assert len(AR.events[0].triggers) == 2
    assert any(e.text == "اجتماع" for e in AR.entities)  # near-miss trigger, in no event
    assert "\u200c" in FA.entities[5].text
    assert any(ord(c) > 0xFFFF for c in EN.text[:EN.entities[0].start])


@pytest.mark.parametrize("fmt, name", [(labelstudio, "tasks.json"), (doccano, "docs.jsonl")])
def test_json_formats_round_trip(tmp_path, fmt, name):
    assert fmt.export(DOCS, tmp_path / name) == []
    docs, messages = fmt.import_(tmp_path / name)
    assert messages == []
    assert canon(docs) == canon(DOCS)


def test_brat_round_trip_loses_only_metadata_and_says_so(tmp_path):
    warnings = brat.export(DOCS, tmp_path)
    for doc in DOCS:
        lost = [w for w in warnings if w.startswith(f"{doc.id}: ") and "metadata" in w]
        assert lost and f"lang={doc.lang!r}" in lost[0], doc.id
    assert "source='aljazeera.net'" in next(w for w in warnings if w.startswith("ar-fmt-1"))
    docs, messages = brat.import_(tmp_path)
    assert errors(messages) == []
    for doc in DOCS:  # the language was guessed from the script, with a warning
        assert any(m.startswith(f"{tmp_path / doc.id}.txt: {doc.id}: warning: no language given")
                   for m in messages), doc.id
    assert canon(docs) == canon([without_metadata(d) for d in DOCS])


def test_brat_ann_lines_and_conf(tmp_path):
    brat.export([AR], tmp_path)
    ann = (tmp_path / "ar-fmt-1.ann").read_text(encoding="utf-8").splitlines()
    assert "T1\tMEETING 0 5\tالتقى" in ann
    events = [ln for ln in ann if ln.startswith("E")]
    # every trigger has an E line; only the first of the event has arguments
    assert len(events) == 3
    assert events[0] == "E1\tMEETING:T1 Participant:T2 Participant2:T5 Place:T6 Time:T7"
    assert events[1:] == ["E2\tMEETING:T8", "E3\tMEETING:T9"]
    assert "R3\tSAME_EVENT Arg1:T1 Arg2:T8" in ann
    conf = (tmp_path / "annotation.conf").read_text()
    assert "MEETING\tParticipant*:ORG|PERSON|ROLE, Place?:LOC, Time?:DATE" in conf
    assert "AFFILIATION\tArg1:PERSON|ROLE, Arg2:ORG" in conf
    assert "[entities]\nPERSON\nORG\nROLE\nLOC\nDATE\n" in conf  # MEETING is an event type, not an entity
    assert "MEETING\tbgColor:" in (tmp_path / "visual.conf").read_text()


def test_brat_keeps_crlf_byte_exact_and_takes_lang(tmp_path):
    doc = markup.parse("id: en-crlf\nlang: en\n---\n[Blinken]{PERSON p1}\r\n[met]{MEETING m1} "
                       "[Wang Yi]{PERSON p2}.\r\n---\nevent triggers=m1 participants=p1,p2\n").doc
    assert "\r\n" in doc.text
    brat.export([doc], tmp_path)
    assert (tmp_path / "en-crlf.txt").read_bytes() == doc.text.encode("utf-8")
    docs, messages = brat.import_(tmp_path, lang="en")
    assert messages == []
    assert canon(docs) == canon([doc])


def test_brat_span_across_line_break_is_written_as_fragments(tmp_path):
    doc = Document(id="en-frag", lang="en", text="Antony\nBlinken spoke.",
                   entities=[{"id": "a", "type": "PERSON", "start": 0, "end": 14, "text": "Antony\nBlinken"}])
    brat.export([doc], tmp_path)
    assert (tmp_path / "en-frag.ann").read_text() == "T1\tPERSON 0 6;7 14\tAntony Blinken\n"
    docs, messages = brat.import_(tmp_path / "en-frag.ann", lang="en")
    assert messages == [] and canon(docs) == canon([doc])


def test_utf16_offsets_in_label_studio_and_doccano(tmp_path):
    labelstudio.export([EN], tmp_path / "t.json")
    doccano.export([EN], tmp_path / "d.jsonl")
    ls_spans = [r["value"] for r in json.loads((tmp_path / "t.json").read_text())[0]["annotations"][0]["result"]
                if r["type"] == "labels"]
    dc_spans = json.loads((tmp_path / "d.jsonl").read_text())["entities"]
    utf16 = EN.text.encode("utf-16-le")
    for ent, ls, dc in zip(EN.entities, ls_spans, dc_spans):
        assert utf16[2 * ls["start"]:2 * ls["end"]].decode("utf-16-le") == ent.text
        assert (dc["start_offset"], dc["end_offset"]) == (ls["start"], ls["end"])
    # the flag is 2 code points, 4 UTF-16 units: Blinken starts 2 units later in JavaScript
    assert ls_spans[0]["start"] == EN.entities[0].start + 2


def test_utf16_offset_conversion():
    js = Utf16Offsets("a\U0001F600b")
    assert [js.to_js(i) for i in range(4)] == [0, 1, 3, 4]
    assert js.to_py(3) == 2
    with pytest.raises(ValueError, match="inside a character"):
        js.to_py(2)
    with pytest.raises(ValueError, match="outside the text"):
        js.to_py(5)


def test_label_config_lists_every_label_and_link(tmp_path):
    labelstudio.export(DOCS, tmp_path / "tasks.json")
    root = ET.fromstring((tmp_path / "label_config.xml").read_text())
    labels = root.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert [x.get("value") for x in labels] == list(ENTITY_TYPES)
    assert [x.get("value") for x in root.find("Relations")] == list(LINK_TYPES)
    assert root.find("Text").get("value") == "$text"


def test_label_studio_task_shape(tmp_path):
    labelstudio.export([AR], tmp_path / "tasks.json")
    task = json.loads((tmp_path / "tasks.json").read_text())[0]
    assert task["data"] == {"text": AR.text, "doc_id": "ar-fmt-1", "lang": "ar", "source": "aljazeera.net",
                            "date": "2024-04-05", "meta": {"reviewer": "sara"}}
    rels = [r for r in task["annotations"][0]["result"] if r["type"] == "relation"]
    assert {(r["labels"][0], r["direction"]) for r in rels} == {
        ("HAS_ROLE", "right"), ("AFFILIATION", "right"), ("SAME_EVENT", "right"),
        ("PARTICIPANT", "right"), ("VENUE", "right"), ("WHEN", "right")}
    assert sum(r["labels"] == ["PARTICIPANT"] for r in rels) == 2


def predicted_en() -> Document:
    pred = EN.model_copy(deep=True, update={"meta": {"model_version": "tagger-7"}})
    for i, e in enumerate(pred.entities):
        e.score = round(0.5 + i / 20, 2)
    pred.events[0].score = 0.8
    return pred


def test_predictions_are_exported_with_scores(tmp_path):
    raw = EN.model_copy(update={"entities": [], "events": []})  # pre-annotation: text only
    pred = predicted_en()
    assert labelstudio.export([raw], tmp_path / "t.json", predictions=[pred]) == []
    task = json.loads((tmp_path / "t.json").read_text())[0]
    assert task["annotations"] == []
    (p,) = task["predictions"]
    assert p["model_version"] == "tagger-7"
    spans = [r for r in p["result"] if r["type"] == "labels"]
    assert [r["score"] for r in spans] == [e.score for e in pred.entities]
    assert {r["score"] for r in p["result"] if r["type"] == "relation"} == {0.8}
    all_scores = [e.score for e in pred.entities] + [0.8]
    assert p["score"] == pytest.approx(sum(all_scores) / len(all_scores), abs=1e-4)
    # and back: with use_predictions the scores return
    docs, messages = labelstudio.import_(tmp_path / "t.json", use_predictions=True)
    assert errors(messages) == [] and "imported the prediction of model 'tagger-7'" in messages[0]
    assert canon(docs) == canon([pred.model_copy(update={"meta": EN.meta})])  # data is the document's


def test_predictions_that_do_not_match_are_skipped_with_a_warning(tmp_path):
    other = predicted_en().model_copy(update={"id": "en-unknown"})
    changed = predicted_en().model_copy(update={"text": EN.text + " More."})
    warnings = labelstudio.export([EN], tmp_path / "t.json", predictions=[other, changed])
    assert any(w.startswith("en-unknown: ") and "no document" in w for w in warnings)
    assert any(w.startswith("en-fmt-1: ") and "text differs" in w for w in warnings)
    assert "predictions" not in json.loads((tmp_path / "t.json").read_text())[0]


@pytest.mark.parametrize("fmt, out", [(brat, "b"), (doccano, "d.jsonl")])
def test_formats_without_scores_or_predictions_warn(tmp_path, fmt, out):
    pred = predicted_en()
    warnings = fmt.export([pred], tmp_path / out, predictions=[pred])
    assert any("no place for model predictions" in w for w in warnings)
    assert any(w.startswith("en-fmt-1: ") and "cannot carry scores" in w for w in warnings)


def test_label_studio_import_of_an_analyst_export(tmp_path):
    """What Label Studio writes: ids, cancelled annotations, left arrows, no lang."""
    text = "Blinken met Wang Yi in Beijing."
    result = [
        {"id": "a1", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 7, "text": "Blinken", "labels": ["PERSON"]}},
        {"id": "a2", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 8, "end": 11, "text": "met", "labels": ["MEETING"]}},
        {"id": "a3", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 12, "end": 19, "text": "Wang Yi", "labels": ["PERSON"]}},
        {"id": "a4", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 23, "end": 30, "text": "Beijing", "labels": ["LOC"]}},
        {"from_id": "a2", "to_id": "a1", "type": "relation", "direction": "right", "labels": ["PARTICIPANT"]},
        {"from_id": "a3", "to_id": "a2", "type": "relation", "direction": "left", "labels": ["PARTICIPANT"]},
        {"from_id": "a2", "to_id": "a4", "type": "relation", "direction": "right", "labels": ["VENUE"]},
    ]
    tasks = [{"id": 41, "data": {"text": text, "doc_id": "en-ls-1"},
              "annotations": [{"id": 1, "was_cancelled": True, "result": []},
                              {"id": 2, "was_cancelled": False, "result": result}]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    docs, messages = labelstudio.import_(tmp_path / "export.json", lang="en")
    assert messages == []
    (doc,) = docs
    assert doc.lang == "en"
    (ev,) = doc.events
    assert [doc.entity(p).text for p in ev.participants] == ["Blinken", "Wang Yi"]
    assert doc.entity(ev.venue).text == "Beijing"


def test_guess_lang():
    assert guess_lang(AR.text) == "ar"
    assert guess_lang(FA.text) == "fa"
    assert guess_lang(EN.text) == "en"
    assert guess_lang("گفتگو") == "fa"  # no ی/ک, but گ


def test_dropped_event_links_are_warned(tmp_path):
    """A venue on a trigger with no participant cannot be an event: say so, don't drop silently."""
    rec = {"text": "A meeting in Doha.", "doc_id": "en-dc-1", "lang": "en",
           "entities": [{"id": 1, "label": "MEETING", "start_offset": 2, "end_offset": 9},
                        {"id": 2, "label": "LOC", "start_offset": 13, "end_offset": 17}],
           "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "VENUE"}]}
    (tmp_path / "d.jsonl").write_text(json.dumps(rec) + "\n")
    docs, messages = doccano.import_(tmp_path / "d.jsonl")
    assert docs[0].events == []
    (msg,) = messages
    assert not msg.error and "VENUE link 1 -> 2 dropped" in msg and "no PARTICIPANT link" in msg


# --- malformed input -----------------------------------------------------------------------------

def test_label_studio_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text('[{"data": {"text": "x"}},\n  oops]')
    docs, messages = labelstudio.import_(path)
    assert docs == []
    (msg,) = messages
    assert msg.error and msg.startswith(f"{path}:2: -: error: not valid JSON")


def test_label_studio_bad_tasks_are_reported_and_skipped(tmp_path):
    good = {"data": {"text": "Blinken", "doc_id": "en-ok", "lang": "en"},
            "annotations": [{"result": [{"id": "x", "type": "labels",
                                         "value": {"start": 0, "end": 7, "labels": ["PERSON"]}}]}]}
    bad_label = {"data": {"text": "Blinken", "doc_id": "en-bad", "lang": "en"},
                 "annotations": [{"result": [
                     {"id": "x", "type": "labels", "value": {"start": 0, "end": 7, "labels": ["PERSN"]}},
                     {"id": "y", "type": "labels", "value": {"start": 0, "end": 99, "labels": ["PERSON"]}},
                     {"from_id": "x", "to_id": "z", "type": "relation", "labels": ["HAS_ROLE"]}]}]}
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"data": {"txt": "no text"}}, bad_label, good]))
    docs, messages = labelstudio.import_(path)
    assert [d.id for d in docs] == ["en-bad", "en-ok"]
    assert f"{path} task 1: -: error: not a task: expected an object with data.text" in messages
    text = "\n".join(messages)
    assert f"{path} task 2: en-bad: error: span x: unknown label 'PERSN'" in text
    assert "span y: UTF-16 offset 99 is outside the text (length 7 UTF-16 units): dropped" in text
    assert "HAS_ROLE link x -> z points to a missing span 'x'" in text
    assert all(m.error for m in messages)


def test_label_studio_offset_inside_an_emoji_is_an_error(tmp_path):
    task = {"data": {"text": "\U0001F600 Blinken", "doc_id": "en-e", "lang": "en"},
            "annotations": [{"result": [{"id": "x", "type": "labels",
                                         "value": {"start": 1, "end": 10, "labels": ["PERSON"]}}]}]}
    (tmp_path / "t.json").write_text(json.dumps([task]))
    _, messages = labelstudio.import_(tmp_path / "t.json")
    (msg,) = messages
    assert msg.error and "UTF-16 offset 1 falls inside a character outside the BMP" in msg


def test_doccano_bad_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "d.jsonl"
    ok = {"text": "Blinken", "doc_id": "en-ok", "lang": "en",
          "entities": [{"id": 1, "label": "PERSON", "start_offset": 0, "end_offset": 7}], "relations": []}
    path.write_text("\n".join([json.dumps(ok), "{not json", json.dumps({"doc_id": "en-x", "lang": "xx",
                                                                        "text": "t"}),
                               json.dumps({**ok, "doc_id": "en-rel", "relations": [{"id": 1, "from_id": 1}]})])
                    + "\n")
    docs, messages = doccano.import_(path)
    assert [d.id for d in docs] == ["en-ok", "en-rel"]
    text = "\n".join(messages)
    assert f"{path}:2: -: error: not valid JSON" in text
    assert f"{path}:3: en-x: error: not a valid document: lang:" in text
    assert f"{path}:4: en-rel: error: relation 1 is not an object with from_id, to_id, type" in text


def test_brat_bad_lines_are_reported_and_skipped(tmp_path):
    (tmp_path / "d1.txt").write_text("Blinken met Wang Yi.", encoding="utf-8")
    (tmp_path / "d1.ann").write_text("T1\tPERSON 0 7\tBlinken\nT2\tPERSON 0 x\tBlinken\n"
                                     "T3\tPERSON 12 99\tWang Yi\nT4\tMEETING 8 11\tmet\n"
                                     "E1\tMEETING:T4 Participant:T1 Guest:T1\nX1\twhat\n"
                                     "#1\tAnnotatorNotes T1\tcheck\n", encoding="utf-8")
    (tmp_path / "orphan.ann").write_text("", encoding="utf-8")
    docs, messages = brat.import_(tmp_path, lang="en")
    (doc,) = docs
    assert len(doc.events) == 1 and len(doc.entities) == 2
    ann = tmp_path / "d1.ann"
    text = "\n".join(messages)
    assert f"{tmp_path / 'orphan.ann'}: orphan: error: no text file orphan.txt beside it" in text
    assert f"{ann}:2: d1: error: bad span line" in text
    assert f"{ann}:3: d1: error: span T3: offsets 12-99 are not a span of the text" in text
    assert f"{ann}:5: d1: error: event argument 'Guest:T1'" in text
    assert f"{ann}:6: d1: error: unrecognised line 'X1\\twhat'" in text
    assert f"{ann}:7: d1: warning: liqa has no annotator notes: #1 dropped" in text


def test_missing_input_is_an_error_not_a_traceback(tmp_path):
    for fmt in (labelstudio, brat, doccano):
        docs, messages = fmt.import_(tmp_path / "nope.json")
        assert docs == [] and len(messages) == 1 and messages[0].error, fmt.__name__


# --- command line --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, out", [("labelstudio", "t.json"), ("doccano", "d.jsonl"), ("brat", "b")])
def test_cli_round_trip(tmp_path, capsys, fmt, out):
    write_jsonl(DOCS, tmp_path / "in.jsonl")
    assert cli.main(["export", "--to", fmt, str(tmp_path / "in.jsonl"), "-o", str(tmp_path / out)]) == 0
    args = ["import", "--from", fmt, str(tmp_path / out), "-o", str(tmp_path / "back.jsonl")]
    assert cli.main(args) == 0
    back = read_jsonl(tmp_path / "back.jsonl")
    assert back == [canonical(d) for d in back]  # written canonical
    expected = canon(DOCS) if fmt != "brat" else canon([without_metadata(d) for d in DOCS])
    assert sorted(back, key=lambda d: d.id) == expected
    assert "documents from" in capsys.readouterr().err


def test_cli_import_with_errors_writes_nothing_and_fails(tmp_path, capsys):
    (tmp_path / "d.jsonl").write_text('{"text": "x", "doc_id": "a", "lang": "en", "entities": 5}\n')
    out = tmp_path / "back.jsonl"
    assert cli.main(["import", "--from", "doccano", str(tmp_path / "d.jsonl"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'd.jsonl'}:1: a: error: entity 1 is not an object" in err and "not written" in err
    assert not out.exists()


def test_cli_import_validates(tmp_path, capsys):
    """Overlapping spans read fine from the tool but fail the liqa validator."""
    rec = {"text": "Antony Blinken", "doc_id": "en-ov", "lang": "en",
           "entities": [{"id": 1, "label": "PERSON", "start_offset": 0, "end_offset": 14},
                        {"id": 2, "label": "PERSON", "start_offset": 7, "end_offset": 14}]}
    (tmp_path / "d.jsonl").write_text(json.dumps(rec) + "\n")
    out = tmp_path / "back.jsonl"
    assert cli.main(["import", "--from", "doccano", str(tmp_path / "d.jsonl"), "-o", str(out)]) == 1
    assert "overlaps" in capsys.readouterr().err and not out.exists()
    assert cli.main(["import", "--from", "doccano", str(tmp_path / "d.jsonl"), "-o", str(out), "--force"]) == 1
    assert [d.id for d in read_jsonl(out)] == ["en-ov"]


def test_cli_export_with_predictions(tmp_path):
    write_jsonl([EN], tmp_path / "in.jsonl")
    write_jsonl([predicted_en()], tmp_path / "pred.jsonl")
    out = tmp_path / "ls" / "tasks.json"
    assert cli.main(["export", "--to", "labelstudio", str(tmp_path / "in.jsonl"), "-o", str(out),
                     "--predictions", str(tmp_path / "pred.jsonl")]) == 0
    assert json.loads(out.read_text())[0]["predictions"][0]["model_version"] == "tagger-7"
    assert (out.parent / "label_config.xml").exists()


def test_cli_use_predictions_only_for_label_studio(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["import", "--from", "brat", str(tmp_path), "-o", str(tmp_path / "x.jsonl"),
                  "--use-predictions"])



# --- an ORG nested inside a ROLE ------------------------------------------------------------------

# Each language: a named holder whose ROLE holds an ORG (AFFILIATION person -> ORG), and in ar and
# en a ROLE-only participant whose ORG is linked from the role. The Arabic fused ل+ال stays inside
# the ORG; in English the ORG starts where its ROLE starts, after an emoji (UTF-16 offsets differ).
NESTED_SOURCES = {
    "ar": """id: ar-nest-1
lang: ar
---
[استقبل]{MEETING m1} [أحمد سالم]{PERSON p1} في [الدوحة]{LOC l1} [الأمين العام ل[حركة الجهاد الإسلامي]{ORG o1}]{ROLE r1} \
[زياد النخالة]{PERSON p2} و[المبعوث الخاص [للأمم المتحدة]{ORG o2}]{ROLE r2}.
---
rel HAS_ROLE p2 r1
rel AFFILIATION p2 o1
rel AFFILIATION r2 o2
event triggers=m1 participants=p1,p2,r2 venue=l1
""",
    "fa": """id: fa-nest-1
lang: fa
---
[دبیرکل [جنبش جهاد اسلامی]{ORG o1}]{ROLE r1} [زیاد نخاله]{PERSON p1} با [علی رضایی]{PERSON p2} در [تهران]{LOC l1} \
[دیدار]{MEETING m1} کرد و [گفت\u200cوگو]{MEETING m2}ها ادامه می\u200cیابد.
---
rel HAS_ROLE p1 r1
rel AFFILIATION p1 o1
event triggers=m1 participants=p1,p2 venue=l1
""",
    "en": """id: en-nest-1
lang: en
---
\U0001F4F0 [[UN]{ORG o1} Special Envoy for Yemen]{ROLE r1} [Hans Berg]{PERSON p1} [met]{MEETING m1} the \
[Secretary-General of the [Arab League]{ORG o2}]{ROLE r2} in [Cairo]{LOC l1}.
---
rel HAS_ROLE p1 r1
rel AFFILIATION p1 o1
rel AFFILIATION r2 o2
event triggers=m1 participants=p1,r2 venue=l1
""",
}


@pytest.fixture(scope="module")
def nested() -> list[Document]:
    return [markup.parse(src).doc for src in NESTED_SOURCES.values()]


def nested_pairs(doc: Document) -> set[tuple[str, str]]:
    """(ORG text, ROLE text) of every ORG lying inside a ROLE."""
    return {(o.text, r.text) for o in doc.entities for r in doc.entities
            if o.type == "ORG" and r.type == "ROLE" and r.start <= o.start and o.end <= r.end}


def test_nested_fixtures_are_valid(nested):
    for doc in nested:
        assert check_document(doc) == [], doc.id
        assert nested_pairs(doc), doc.id
        assert any(r.type == "AFFILIATION" for r in doc.relations), doc.id
    ar, fa, en = nested
    assert nested_pairs(ar) == {("حركة الجهاد الإسلامي", "الأمين العام لحركة الجهاد الإسلامي"),
                                ("للأمم المتحدة", "المبعوث الخاص للأمم المتحدة")}
    assert nested_pairs(en) == {("UN", "UN Special Envoy for Yemen"),
                                ("Arab League", "Secretary-General of the Arab League")}


@pytest.mark.parametrize("fmt, name", [(labelstudio, "tasks.json"), (doccano, "docs.jsonl")])
def test_json_formats_round_trip_nested_spans(tmp_path, nested, fmt, name):
    assert fmt.export(nested, tmp_path / name) == []
    docs, messages = fmt.import_(tmp_path / name)
    assert messages == []
    assert canon(docs) == canon(nested)
    for doc in docs:
        assert check_document(doc) == [], doc.id


def test_brat_round_trip_nested_spans(tmp_path, nested):
    brat.export(nested, tmp_path)
    docs, messages = brat.import_(tmp_path)
    assert errors(messages) == []
    assert canon(docs) == canon([without_metadata(d) for d in nested])
    for doc in docs:
        assert check_document(doc) == [], doc.id
    # the containment is declared, so brat's editor accepts it
    conf = (tmp_path / "annotation.conf").read_text()
    assert "<OVERLAP>\tArg1:ORG, Arg2:ROLE, <OVL-TYPE>:contain" in conf
    ann = (tmp_path / "en-nest-1.ann").read_text(encoding="utf-8").splitlines()
    en = nested[2]
    assert "T1\tORG 2 4\tUN" in ann and "T2\tROLE 2 28\tUN Special Envoy for Yemen" in ann
    assert en.text[2:4] == "UN" and en.text[2:28] == "UN Special Envoy for Yemen"


def test_label_studio_nested_spans_in_utf16(tmp_path, nested):
    en = nested[2]
    labelstudio.export([en], tmp_path / "t.json")
    result = json.loads((tmp_path / "t.json").read_text())[0]["annotations"][0]["result"]
    spans = {r["value"]["text"]: r["value"] for r in result if r["type"] == "labels"}
    role, org = spans["UN Special Envoy for Yemen"], spans["UN"]
    assert org["start"] == role["start"] == 3  # the emoji is two UTF-16 units, then a space
    assert org["end"] < role["end"]
    affiliation = [r for r in result if r["type"] == "relation" and r["labels"] == ["AFFILIATION"]]
    assert len(affiliation) == 2


@pytest.mark.parametrize("fmt, out", [("labelstudio", "t.json"), ("doccano", "d.jsonl"), ("brat", "b")])
def test_cli_round_trip_nested_spans(tmp_path, capsys, nested, fmt, out):
    write_jsonl(nested, tmp_path / "in.jsonl")
    assert cli.main(["export", "--to", fmt, str(tmp_path / "in.jsonl"), "-o", str(tmp_path / out)]) == 0
    assert cli.main(["import", "--from", fmt, str(tmp_path / out), "-o", str(tmp_path / "back.jsonl")]) == 0
    back = sorted(read_jsonl(tmp_path / "back.jsonl"), key=lambda d: d.id)
    expected = canon(nested) if fmt != "brat" else canon([without_metadata(d) for d in nested])
    assert back == expected
    assert ": error:" not in capsys.readouterr().err


def test_cli_import_rejects_other_nesting(tmp_path, capsys):
    """Tools allow any overlap; only an ORG inside a ROLE passes the validator."""
    text = "UN Special Envoy Hans Berg"
    rec = {"text": text, "doc_id": "en-bad-nest", "lang": "en",
           "entities": [{"id": 1, "label": "ROLE", "start_offset": 0, "end_offset": 16},
                        {"id": 2, "label": "LOC", "start_offset": 0, "end_offset": 2}]}
    (tmp_path / "d.jsonl").write_text(json.dumps(rec) + "\n")
    out = tmp_path / "back.jsonl"
    assert cli.main(["import", "--from", "doccano", str(tmp_path / "d.jsonl"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the only nesting allowed is ORG inside ROLE" in err and not out.exists()


def test_guess_lang_persian_typed_with_arabic_letters():
    # Persian pages pasted through Arabic keyboards: ي ك throughout, few Persian-only letters.
    fa = "وزير راه و شهرسازي روز سه شنبه در باكو با وزير اقتصاد آذربايجان ديدار كرد و اين ديدار با حضور سفير برگزار شد."
    assert guess_lang(fa) == "fa"
    ar = "التقى وزير الخارجية في الرياض نظيره الإيراني، وبحث معه العلاقات التي تجمع البلدين."
    assert guess_lang(ar) == "ar"
