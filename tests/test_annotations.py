"""The markup, the validator, the consistency report, stats and the build, on small cases."""
import json
from pathlib import Path

import pytest

from liqa.annotations import __main__ as cli
from liqa.annotations import markup
from liqa.annotations.stats import corpus_stats
from liqa.annotations.validate import check_document, consistency, read_explained
from liqa.schema import Document, Entity, Event, Relation, canonical, event_links, links_to_events

AR = """id: ar-1
lang: ar
date: 2024-04-19
author: test
---
[التقى]{MEETING m1} [إسماعيل هنية]{PERSON p1}، [رئيس المكتب السياسي لحركة حماس]{ROLE r1}، وفدا من [الجهاد]{ORG o1} في [إسطنبول]{LOC l1} [أمس الخميس]{DATE d1}.
و[اللقاء]{MEETING m2} تناول \\[الأوضاع\\] في [غزة]{LOC}.
---
# comments are allowed
rel HAS_ROLE p1 r1
event triggers=m1,m2 participants=p1,o1 venue=l1 date=d1
"""


def test_markup_offsets_index_the_plain_text():
    doc = markup.parse(AR).doc
    assert doc.text.startswith("التقى إسماعيل هنية")
    assert "[الأوضاع]" in doc.text and "{" not in doc.text
    for e in doc.entities:
        assert doc.text[e.start:e.end] == e.text
    assert [e.text for e in doc.entities if e.type == "MEETING"] == ["التقى", "اللقاء"]
    assert doc.events[0].triggers == ["m1", "m2"] and doc.events[0].venue == "l1"
    assert doc.meta == {"author": "test"}
    assert check_document(doc) == []


def test_markup_render_round_trip():
    doc = markup.parse(AR).doc
    again = markup.parse(markup.render(doc)).doc
    assert canonical(again) == canonical(doc)


@pytest.mark.parametrize("body, line, fragment", [
    ("ok\n[a [b]{PERSON}]{ORG}", 7, "spans are flat"),
    ("ok\nx]{PERSON}", 7, "no open '['"),
    ("[a]{PEOPLE}", 6, "bad span label"),
    ("[a]PERSON", 6, "must be followed by"),
    ("ok\n\n[never closed", 8, "never closed"),
    ("[a]{PERSON p1} [b]{ORG p1}", 6, "already used on line 6"),
])
def test_markup_errors_name_the_line(body, line, fragment):
    src = f"id: x\nlang: en\nauthor: t\nnote: n\n---\n{body}\n---\n"
    with pytest.raises(markup.MarkupError) as err:
        markup.parse(src)
    assert err.value.line == line and fragment in err.value.message


def _doc(**kw) -> Document:
    text = "Fidan met Haniyeh in Ankara."
    ents = [Entity(id="p1", type="PERSON", start=0, end=5, text="Fidan"),
            Entity(id="m1", type="MEETING", start=6, end=9, text="met"),
            Entity(id="p2", type="PERSON", start=10, end=17, text="Haniyeh"),
            Entity(id="l1", type="LOC", start=21, end=27, text="Ankara")]
    base = dict(id="d", lang="en", text=text, entities=ents,
                events=[Event(id="E1", triggers=["m1"], participants=["p1", "p2"], venue="l1")])
    base.update(kw)
    return Document(**base)


def test_validator_accepts_a_good_document():
    assert check_document(_doc()) == []


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.entities[0].__setattr__("end", 6), "starts or ends with a space"),
    (lambda d: d.entities[0].__setattr__("text", "Fidam"), "covers 'Fidan' but says 'Fidam'"),
    (lambda d: d.entities[3].__setattr__("end", 99), "outside the text"),
    (lambda d: d.entities[2].__setattr__("start", 8), "overlaps"),
    (lambda d: d.relations.append(Relation(id="R1", type="HAS_ROLE", head="p1", tail="p2")),
     "HAS_ROLE goes PERSON -> PERSON"),
    (lambda d: d.relations.append(Relation(id="R1", type="AFFILIATION", head="p1", tail="zz")),
     "missing entity"),
    (lambda d: d.events[0].__setattr__("venue", "p1"), "venue p1 is PERSON, must be LOC"),
    (lambda d: d.events[0].participants.append("m1"), "participant m1 is MEETING"),
    (lambda d: d.events.append(Event(id="E2", triggers=["m1"], participants=["p1"])), "belongs to both"),
    (lambda d: d.events[0].__setattr__("id", "p1"), "is used by a entity and a event"),
])
def test_validator_catches(change, fragment):
    doc = _doc()
    change(doc)
    messages = [p.message for p in check_document(doc)]
    assert any(fragment in m for m in messages), messages


def test_validator_role_participant_only_when_unnamed():
    doc = markup.parse("id: x\nlang: en\n---\n[Minister]{ROLE r1} [Ali]{PERSON p1} [met]{MEETING m1} "
                       "[Bo]{PERSON p2}.\n---\nrel HAS_ROLE p1 r1\n"
                       "event triggers=m1 participants=r1,p2\n").doc
    assert any("named holder p1" in p.message for p in check_document(doc))


def test_events_survive_the_link_encoding():
    doc = markup.parse(AR).doc
    events = links_to_events(doc.entities, event_links(doc))
    assert [(e.triggers, e.participants, e.venue, e.date) for e in events] == \
        [(["m1", "m2"], ["p1", "o1"], "l1", "d1")]


def test_trigger_without_participant_is_no_event():
    doc = _doc()
    links = [ln for ln in event_links(doc) if ln.type != "PARTICIPANT"]
    assert links_to_events(doc.entities, links) == []


def test_consistency_finds_type_conflicts_and_missed_mentions():
    a = markup.parse("id: a\nlang: en\n---\n[Hamas]{ORG} said Hamas will [Cairo]{LOC}.\n---\n").doc
    b = markup.parse("id: b\nlang: en\n---\n[Cairo]{ORG} again.\n---\n").doc
    msgs = [f.message for f in consistency([a, b])]
    assert any("'Hamas' is labeled ORG but not at text line 1" in m for m in msgs)
    assert any("'cairo' is labeled with different types: LOC in a; ORG in b" in m for m in msgs)


def test_consistency_explained_conflicts_are_not_reported(tmp_path):
    a = markup.parse("id: a\nlang: ar\n---\n[القدس]{LOC}\n---\n").doc
    b = markup.parse("id: b\nlang: ar\n---\n[القدس]{ORG}\n---\n").doc
    assert len(consistency([a, b])) == 1
    f = tmp_path / "explained.tsv"
    f.write_text("# why\nالقدس\tcity and newspaper\n", encoding="utf-8")
    assert consistency([a, b], read_explained(f)) == []
    c = markup.parse("id: c\nlang: fa\n---\n[نشست]{MEETING} و نشست خبری\n---\n").doc
    assert len(consistency([c])) == 1
    f.write_text("نشست\ta meeting, and a press conference\n", encoding="utf-8")
    assert consistency([c], read_explained(f)) == []
    f.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="explained.tsv:1"):
        read_explained(f)


def test_stats_counts():
    t = corpus_stats([markup.parse(AR).doc, _doc(events=[])])
    assert t["documents"] == {"ar": 1, "all": 2, "en": 1}
    assert t["spans MEETING"]["all"] == 3
    assert t["events"]["all"] == 1 and t["docs with no event"]["all"] == 1
    assert t["distinct venues"]["ar"] == 1


def test_cli_validate_reports_file_line_doc(tmp_path: Path, capsys):
    good = json.loads(json.dumps(canonical(_doc()).model_dump(exclude_none=True)))
    bad = dict(good, id="bad-doc")
    bad["entities"] = [dict(bad["entities"][0], end=4)] + bad["entities"][1:]
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join([json.dumps(good), "{not json", json.dumps(bad), json.dumps({"id": "x"})]) + "\n")
    assert cli.main(["validate", str(f)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{f}:2: -: not valid JSON") for line in out)
    assert any(line.startswith(f"{f}:3: bad-doc: ") and "covers 'Fida'" in line for line in out)
    assert any(line.startswith(f"{f}:4: x: ") and "lang" in line for line in out)


def test_cli_validate_points_at_markup_line(tmp_path: Path, capsys):
    f = tmp_path / "doc.lqm"
    f.write_text("id: m\nlang: en\n---\nfirst line\n[Ali]{PERSON p1} [met]{MEETING m1}.\n---\n"
                 "event triggers=m1 participants=p1 venue=p1\n", encoding="utf-8")
    assert cli.main(["validate", str(f)]) == 1
    assert f"{f}:7: m: event E1: venue p1 is PERSON" in capsys.readouterr().out


def test_build_and_check(tmp_path: Path):
    src = tmp_path / "src" / "train" / "ar"
    src.mkdir(parents=True)
    (src / "ar-1.lqm").write_text(AR, encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["build", "--src", str(tmp_path / "src"), "--out", str(out)]) == 0
    built = (out / "train" / "ar.jsonl").read_text(encoding="utf-8")
    assert '"id": "T1"' in built and '"E1"' in built
    assert cli.main(["build", "--src", str(tmp_path / "src"), "--out", str(out), "--check"]) == 0
    (src / "ar-1.lqm").write_text(AR.replace("{LOC}", "{ORG}"), encoding="utf-8")
    assert cli.main(["build", "--src", str(tmp_path / "src"), "--out", str(out), "--check"]) == 1
    # the validator also sees markup and JSONL disagree
    assert cli.main(["validate", str(tmp_path)]) == 1


def test_repository_corpus_is_valid_and_built():
    root = Path(__file__).resolve().parents[1] / "annotations"
    assert cli.main(["validate", "--no-consistency", str(root)]) == 0
    assert cli.main(["build", "--src", str(root / "src"), "--out", str(root), "--check"]) == 0
