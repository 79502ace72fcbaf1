"""The markup, the validator, the consistency report, stats and the build, on small cases."""
import json
from pathlib import Path

import pytest

from liqa.annotations import __main__ as cli
from liqa.annotations import markup
from liqa.annotations.stats import corpus_stats, document_shapes, shape_stats, venue_type
from liqa.annotations.validate import check_document, consistency, read_explained
from liqa.schema import (Document, Entity, Event, Relation, canonical, event_links, links_to_events,
                         read_jsonl)

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
    ("ok\n[a [b]{PERSON}]{ORG}", 7, "PERSON 'b' inside ORG 'a b': the only nesting allowed is ORG inside ROLE"),
    ("ok\n[a\n[b]{PERSON}]{ROLE}", 8, "PERSON 'b' inside ROLE"),
    ("[a [b]{ORG}]{LOC}", 6, "ORG 'b' inside LOC 'a b'"),
    ("[a [b [c]{ORG}]{ORG}]{ROLE}", 6, "spans nest one level only"),
    ("[[b]{ORG}]{ROLE}", 6, "is the whole ROLE span"),
    ("[a [b]{ORG} c", 6, "never closed"),
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


@pytest.mark.parametrize("rel, error", [
    ("rel AFFILIATION p1 o1", True),  # the head's own affiliation
    ("rel AFFILIATION r1 o2\nrel HAS_ROLE p1 r1", True),  # through the title, to another mention of Hamas
    ("", False),  # no named representative: the organization stays a participant
])
def test_validator_one_participant_per_side(rel, error):
    doc = markup.parse("id: x\nlang: en\n---\nA [Hamas]{ORG o1} delegation led by [[Hamas]{ORG o2} chief]{ROLE r1} "
                       f"[Haniyeh]{{PERSON p1}} [met]{{MEETING m1}} [Ali]{{PERSON p2}}.\n---\n{rel}\n"
                       "event triggers=m1 participants=o1,p1,p2\n").doc
    messages = [p.message for p in check_document(doc)]
    assert any("one participant per side" in m for m in messages) == error, messages


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


# --- an ORG nested inside a ROLE ------------------------------------------------------------------

NESTED = """id: ar-nest
lang: ar
---
[التقى]{MEETING m1} [الأمين العام ل[حركة الجهاد الإسلامي]{ORG o1}]{ROLE r1} [زياد النخالة]{PERSON p1} \\[و\\] \
[[UN]{ORG} Special Envoy \\{x\\}]{ROLE r2} في [طهران]{LOC l1}.
---
rel HAS_ROLE p1 r1
rel AFFILIATION p1 o1
event triggers=m1 participants=p1 venue=l1
"""


def test_markup_nested_offsets_and_round_trip():
    doc = markup.parse(NESTED).doc
    by_text = {e.text: e for e in doc.entities}
    for e in doc.entities:
        assert doc.text[e.start:e.end] == e.text
    role, org = by_text["الأمين العام لحركة الجهاد الإسلامي"], by_text["حركة الجهاد الإسلامي"]
    assert (role.type, org.type) == ("ROLE", "ORG") and role.start < org.start and org.end == role.end
    un_role, un = by_text["UN Special Envoy {x}"], by_text["UN"]
    assert un.start == un_role.start and un.end < un_role.end
    assert "[و]" in doc.text and "{" in doc.text  # escapes give their characters
    assert [e.id for e in doc.entities][:3] == ["m1", "r1", "o1"]  # in the order '[' opens
    assert check_document(doc) == []
    text = markup.render(doc)
    assert "[الأمين العام ل[حركة الجهاد الإسلامي]{ORG o1}]{ROLE r1}" in text
    assert "[[UN]{ORG o2} Special Envoy \\{x\\}]{ROLE r2}" in text
    again = markup.parse(text).doc
    assert canonical(again) == canonical(doc)
    assert markup.render(again) == text


def test_markup_render_refuses_overlap_it_cannot_write():
    doc = _doc()
    doc.entities.append(Entity(id="x", type="LOC", start=0, end=9, text="Fidan met"))
    with pytest.raises(ValueError, match="overlap"):
        markup.render(doc)


def _nested_doc(outer: str, inner: str, inner_span: tuple[int, int] = (0, 2)) -> Document:
    text = "UN Special Envoy Hans Berg met Ali."
    s, e = inner_span
    return Document(id="n", lang="en", text=text, entities=[
        Entity(id="r1", type=outer, start=0, end=16, text=text[:16]),
        Entity(id="o1", type=inner, start=s, end=e, text=text[s:e])])


def test_validator_allows_an_org_inside_a_role():
    assert check_document(_nested_doc("ROLE", "ORG")) == []
    assert check_document(_nested_doc("ROLE", "ORG", (3, 16))) == []  # ends with the role
    assert check_document(markup.parse(NESTED).doc) == []


@pytest.mark.parametrize("outer, inner, span, fragment", [
    ("ROLE", "PERSON", (0, 2), "o1 'UN' (PERSON) overlaps r1 'UN Special Envoy' (ROLE): it lies inside it"),
    ("LOC", "ORG", (0, 2), "(ORG) overlaps r1 'UN Special Envoy' (LOC)"),
    ("ORG", "ROLE", (0, 2), "(ROLE) overlaps r1 'UN Special Envoy' (ORG)"),
    ("ROLE", "ORG", (3, 21), "the spans cross"),
    ("ROLE", "ORG", (0, 16), "are the same span"),
])
def test_validator_rejects_other_overlaps(outer, inner, span, fragment):
    messages = [p.message for p in check_document(_nested_doc(outer, inner, span))]
    assert any(fragment in m for m in messages), messages
    assert any("only nesting allowed is ORG inside ROLE" in m for m in messages) or "same span" in fragment


def test_validator_rejects_two_orgs_crossing_inside_a_role():
    doc = _nested_doc("ROLE", "ORG", (0, 10))
    doc.entities.append(Entity(id="o2", type="ORG", start=3, end=16, text=doc.text[3:16]))
    messages = [p.message for p in check_document(doc)]
    assert any("o2 'Special Envoy' overlaps o1 'UN Special': the spans cross" in m for m in messages), messages


def test_consistency_reports_an_org_left_unmarked_inside_a_role():
    flat = markup.parse("id: a\nlang: en\n---\n[Hamas]{ORG o1} said. [Hamas political chief]{ROLE r1} "
                        "[Ali]{PERSON p1} and [Gaza]{LOC} envoy [Gaza envoy]{ROLE}.\n---\n").doc
    msgs = [f.message for f in consistency([flat])]
    assert any("'Hamas' is labeled ORG but not at text line 1" in m and
               "inside ROLE 'Hamas political chief'" in m for m in msgs), msgs
    assert not any("Gaza" in m for m in msgs), msgs  # a LOC cannot nest: the ROLE covers it
    nested = markup.parse("id: a\nlang: en\n---\n[Hamas]{ORG o1} said. [[Hamas]{ORG o2} political chief]{ROLE r1} "
                          "[Ali]{PERSON p1}.\n---\nrel HAS_ROLE p1 r1\nrel AFFILIATION p1 o2\n").doc
    assert consistency([nested]) == []
    f = Path(__file__).resolve().parents[1] / "annotations" / "consistency_explained.tsv"
    assert consistency([flat], {**read_explained(f), "Hamas": "test"}) == []


def test_stats_count_nested_orgs():
    t = corpus_stats([markup.parse(NESTED).doc, markup.parse(AR).doc])
    assert t["nested ORG in ROLE"] == {"ar": 2, "all": 2}
    assert t["spans ORG"]["ar"] == 3 and t["spans ROLE"]["ar"] == 3
    assert list(t).index("nested ORG in ROLE") == list(t).index("spans MEETING") + 1


# --- nest-orgs ------------------------------------------------------------------------------------

RULINGS = "lang\trole\torg\tnote\n" \
          "ar\tرئيس المكتب السياسي لحركة حماس\tحركة حماس\tmovement\n" \
          "ar\tالمبعوث الخاص للأمم المتحدة\tللأمم المتحدة\tfused l+al stays in\n" \
          "# a comment\n" \
          "en\tUN Special Envoy [North]\tUN\tbracket in the role text\n" \
          "en\tHead of the Workers Union\tWorkers Union\tunion\n" \
          "fa\tدبیرکل جنبش جهاد اسلامی\tجنبش جهاد اسلامی\tmovement\n" \
          "en\tNo Such Title\tSuch\tnever matches\n"

NEST_AR = """id: ar-n1
lang: ar
author: t
---
[التقى]{MEETING m1} [رئيس المكتب السياسي لحركة حماس]{ROLE r1} [إسماعيل هنية]{PERSON p1} \
و[المبعوث الخاص للأمم المتحدة]{ROLE r2} في [الدوحة]{LOC l1}.
وقال [رئيس المكتب السياسي لحركة حماس]{ROLE} في بيان لاحق إن المحادثات مستمرة.
---
rel HAS_ROLE p1 r1
event triggers=m1 participants=p1,r2 venue=l1
"""

NEST_EN = """id: en-n1
lang: en
---
The [UN Special Envoy \\[North\\]]{ROLE on1} [Ana Ruiz]{PERSON p1} [met]{MEETING m1} the \
[Head of the Workers Union]{ROLE r2} and [Head of the Workers Union]{ROLE r3} [Bo Li]{PERSON p2} in [Oslo]{LOC l1}.
---
rel HAS_ROLE p1 on1
rel HAS_ROLE p2 r3
rel HAS_ROLE p1 r3
event triggers=m1 participants=p1,r2 venue=l1
"""

NEST_FA = "id: fa-n1\r\nlang: fa\r\n---\r\n[دبیرکل [جنبش جهاد اسلامی]{ORG o1}]{ROLE r1} [زیاد نخاله]{PERSON p1} " \
          "[دیدار]{MEETING m1} کرد.\r\n---\r\nrel HAS_ROLE p1 r1\r\nrel AFFILIATION p1 o1\r\n" \
          "event triggers=m1 participants=p1"  # already nested; CRLF and no final newline


def _nest_tree(root: Path) -> dict[str, Path]:
    files = {}
    for split, lang, name, text in (("train", "ar", "ar-n1", NEST_AR), ("dev", "en", "en-n1", NEST_EN),
                                    ("train", "fa", "fa-n1", NEST_FA)):
        f = root / "src" / split / lang / f"{name}.lqm"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(text.encode("utf-8"))
        files[lang] = f
    (root / "rulings.tsv").write_text(RULINGS, encoding="utf-8")
    return files


def test_nest_orgs_edits_sources_in_place(tmp_path: Path, capsys):
    files = _nest_tree(tmp_path)
    before = {k: f.read_bytes() for k, f in files.items()}
    args = ["nest-orgs", str(tmp_path / "rulings.tsv"), str(tmp_path / "src")]
    assert cli.main(args + ["--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert {k: f.read_bytes() for k, f in files.items()} == before  # a dry run writes nothing
    assert "dry run: nothing written" in err
    lines = out.splitlines()
    assert f"{files['ar']}:5: ar-n1: ROLE 'رئيس المكتب السياسي لحركة حماس' <- ORG 'حركة حماس' " \
           "(+ rel AFFILIATION p1 on1)" in lines
    assert f"{files['ar']}:5: ar-n1: ROLE 'المبعوث الخاص للأمم المتحدة' <- ORG 'للأمم المتحدة' " \
           "(+ rel AFFILIATION r2 on2)" in lines
    assert any(ln.startswith(f"{files['ar']}:6: ar-n1: ROLE") and "no relation" in ln for ln in lines)
    # "on1" is taken in the English file: the fresh ids skip it
    assert f"{files['en']}:4: en-n1: ROLE 'UN Special Envoy [North]' <- ORG 'UN' " \
           "(+ rel AFFILIATION p1 on2)" in lines
    assert f"{files['en']}:4: en-n1: ROLE 'Head of the Workers Union' <- ORG 'Workers Union' " \
           "(+ rel AFFILIATION r2 on3)" in lines
    assert f"{files['en']}:4: en-n1: ROLE 'Head of the Workers Union' <- ORG 'Workers Union' " \
           "(+ rel AFFILIATION p2 on4, rel AFFILIATION p1 on4)" in lines
    assert len(lines) == 6
    assert "rulings.tsv:7: warning: no ROLE 'دبیرکل" in err and "rulings.tsv:8: warning" in err
    assert "6 ORG spans nested and 6 AFFILIATION relations added in 2 files" in err

    assert cli.main(args) == 0
    capsys.readouterr()
    ar = files["ar"].read_text(encoding="utf-8")
    assert ar == NEST_AR.replace("[رئيس المكتب السياسي لحركة حماس]{ROLE r1}",
                                 "[رئيس المكتب السياسي ل[حركة حماس]{ORG on1}]{ROLE r1}") \
        .replace("[المبعوث الخاص للأمم المتحدة]{ROLE r2}", "[المبعوث الخاص [للأمم المتحدة]{ORG on2}]{ROLE r2}") \
        .replace("[رئيس المكتب السياسي لحركة حماس]{ROLE}", "[رئيس المكتب السياسي ل[حركة حماس]{ORG on3}]{ROLE}") \
        + "rel AFFILIATION p1 on1\nrel AFFILIATION r2 on2\n"
    en = files["en"].read_text(encoding="utf-8")
    assert "[[UN]{ORG on2} Special Envoy \\[North\\]]{ROLE on1}" in en
    assert en.endswith("rel AFFILIATION p1 on2\nrel AFFILIATION r2 on3\nrel AFFILIATION p2 on4\n"
                       "rel AFFILIATION p1 on4\n")
    assert files["fa"].read_bytes() == before["fa"]  # its ROLE already holds an ORG
    for f in files.values():
        doc = markup.read(f).doc
        assert check_document(doc) == [], f
    assert cli.main(["validate", "--no-consistency", str(tmp_path / "src")]) == 0

    # a second run finds nothing left to do
    assert cli.main(args) == 0
    assert capsys.readouterr().out == ""
    # and the corpus builds, nested spans included
    out_dir = tmp_path / "built"
    assert cli.main(["build", "--src", str(tmp_path / "src"), "--out", str(out_dir)]) == 0
    assert cli.main(["build", "--src", str(tmp_path / "src"), "--out", str(out_dir), "--check"]) == 0
    (built,) = [d for d in read_jsonl(out_dir / "train" / "ar.jsonl") if d.id == "ar-n1"]
    orgs = [e for e in built.entities if e.type == "ORG"]
    assert [o.text for o in orgs] == ["حركة حماس", "للأمم المتحدة", "حركة حماس"]


def test_nest_orgs_leaves_broken_files_alone(tmp_path: Path, capsys):
    files = _nest_tree(tmp_path)
    rulings = str(tmp_path / "rulings.tsv")
    for text, message in ((NEST_AR.replace("[الدوحة]{LOC l1}", "[الدوحة]{LOC p1}"), ":5: ar-n1: id 'p1' already used"),
                          (NEST_AR.replace("venue=l1", "venue=p1"), "ar-n1: has 1 validation errors")):
        files["ar"].write_text(text, encoding="utf-8")
        assert cli.main(["nest-orgs", rulings, str(files["ar"]), str(files["en"])]) == 1
        out, err = capsys.readouterr()
        assert message in err and "not edited" in err, err
        assert files["ar"].read_text(encoding="utf-8") == text
        assert "ar-n1" not in out and "en-n1" in out  # the other file is still edited
        files["en"].write_text(NEST_EN, encoding="utf-8")


@pytest.mark.parametrize("row, fragment", [
    ("xx\tA B\tA\tn", "lang 'xx'"),
    ("en\tHead of X\tY\tn", "not part of the role"),
    ("en\tHead of X\tHead of X\tn", "is the whole role"),
    ("en\tHead of X\tof \tn", "starts or ends with a space"),
    ("en\tHead of X", "expected 4 tab-separated columns"),
    ("en\tHead of X\tX\tn\nen\tHead of X\tof X\tn", "was ruled on line 2"),
])
def test_nest_orgs_rulings_errors(tmp_path: Path, capsys, row, fragment):
    f = tmp_path / "r.tsv"
    f.write_text(f"lang\trole\torg\tnote\n{row}\n", encoding="utf-8")
    assert cli.main(["nest-orgs", str(f), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{f}:" in err and fragment in err, err
    f.write_text("role\torg\n", encoding="utf-8")
    assert cli.main(["nest-orgs", str(f), str(tmp_path)]) == 1
    assert "header" in capsys.readouterr().err


# --- shapes of meetings (stats --shapes) ----------------------------------------------------------

ROUNDUP = """id: en-r1
lang: en
round: 2
phenomena: roundup city-venue title-only attendees near-miss
---
AMMAN, May 3 — [Jordan's King]{ROLE r0} [Abdullah II]{PERSON p0} [received]{MEETING m1} [Ali Larijani]{PERSON p1} \
in the Jordanian capital, [Amman]{LOC l1}, in the presence of [Ayman Safadi]{PERSON p2}. He later [received]{MEETING m2} \
the [EU envoy to the region]{ROLE r1} at [Raghadan Palace]{LOC l2}, and [met]{MEETING m3} [Egypt]{LOC l3}'s \
[Badr Abdelatty]{PERSON p3} in [Egypt]{LOC l4}. A [meeting]{MEETING m4} with [Hakan Fidan]{PERSON p4} was postponed.
---
rel HAS_ROLE p0 r0
event triggers=m1 participants=p0,p1 venue=l1
event triggers=m2 participants=p0,r1 venue=l2
event triggers=m3 participants=p0,p3 venue=l4
"""


def test_venue_type_buildings_countries_cities():
    assert venue_type("Raghadan Palace", "en") == "building"
    assert venue_type("قصر الاتحادية", "ar") == "building"
    assert venue_type("کاخ سعدآباد", "fa") == "building"
    assert venue_type("Egypt", "en") == venue_type("مصر", "ar") == venue_type("ایران", "fa") == "country"
    assert venue_type("العراق", "ar") == "country"
    assert venue_type("Amman", "en") == venue_type("بغداد", "ar") == "city or region"
    assert venue_type("الكويت", "ar") == venue_type("Djibouti", "en") == "city or region"  # city-states


def test_document_shapes_from_structure():
    doc = markup.parse(ROUNDUP).doc
    assert document_shapes(doc) == {"roundup", "city-venue", "title-only", "attendees", "near-miss"}
    # Safadi listed as a participant: no attendee left outside the event.
    listed = markup.parse(ROUNDUP.replace("participants=p0,p1 ", "participants=p0,p1,p2 ")).doc
    assert "attendees" not in document_shapes(listed)
    assert document_shapes(markup.parse(AR).doc) & {"roundup", "long-page"} == set()


def test_shape_stats_by_round_and_language():
    t = shape_stats([markup.parse(ROUNDUP).doc, markup.parse(AR).doc])
    assert list(t["documents"]) == ["round 1 ar", "round 1", "round 2 en", "round 2", "all"]
    assert t["documents with 3 meetings"]["round 2"] == 1 and t["most meetings in a document"]["all"] == 3
    assert t["meetings with 2 participants"]["round 2 en"] == 3
    assert (t["venue: city or region"]["round 2"], t["venue: building"]["round 2"], t["venue: country"]["round 2"]) == (1, 1, 1)
    assert t["declared roundup (shown)"]["round 2"] == "1 (1)"
    assert t["shape: roundup"]["round 1"] == 0


# --- gold calendar dates on DATE spans ----------------------------------------------------------------

ISO_DOC = """id: en-iso
lang: en
date: 2024-03-14
---
[Ruto]{PERSON p1} [met]{MEETING m1} [Ali]{PERSON p2} on [Tuesday]{DATE d1}.
---
event triggers=m1 participants=p1,p2 date=d1
iso d1 2024-03-12
"""


def test_markup_carries_iso_on_date_spans():
    doc = markup.parse(ISO_DOC).doc
    assert [e.iso for e in doc.entities if e.type == "DATE"] == ["2024-03-12"]
    again = markup.parse(markup.render(canonical(doc))).doc
    assert [e.iso for e in again.entities] == [e.iso for e in canonical(doc).entities]
    assert check_document(doc) == []
    with pytest.raises(markup.MarkupError, match="names no span 'd9'"):
        markup.parse(ISO_DOC.replace("iso d1", "iso d9"))


@pytest.mark.parametrize("value,line", [("2024-02-30", "iso d1 2024-02-30"), ("14/03/2024", "iso d1 14/03/2024"),
                                        ("2024-03-12", "iso p1 2024-03-12")])
def test_validator_rejects_bad_iso(value, line):
    doc = markup.parse(ISO_DOC.replace("iso d1 2024-03-12", line)).doc
    (problem,) = check_document(doc)
    assert f"has iso {value!r}" in problem.message
