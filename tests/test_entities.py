"""Mentions of one entity: grouping, entity-level training labels, participants' details."""
from liqa.data import coreferent_links, gold_links
from liqa.entities import entity_groups, participant_details
from liqa.schema import Document, Entity, Event, Relation


def mentions(text: str, spans: list[tuple[str, str, int]]) -> list[Entity]:
    """(id, type, occurrence of the id's text) -> entities; text given as 'id=surface' pairs below."""
    out, pos = [], {}
    for eid, typ, surface in spans:
        start = text.index(surface, pos.get(surface, 0))
        pos[surface] = start + 1
        out.append(Entity(id=eid, type=typ, start=start, end=start + len(surface), text=surface))
    return out


def test_names_and_their_parts_group_and_ambiguous_parts_stay_alone():
    text = "إسماعيل هنية التقى محمد شياع ومحمد الحلبوسي. وقال هنية إن محمد ... اسماعیل هنیه"
    ents = mentions(text, [("p1", "PERSON", "إسماعيل هنية"), ("p2", "PERSON", "محمد شياع"),
                           ("p3", "PERSON", "محمد الحلبوسي"), ("p4", "PERSON", "هنية"),
                           ("p5", "PERSON", "محمد"), ("p6", "PERSON", "اسماعیل هنیه")])
    rep = entity_groups(ents)
    assert rep["p4"] == rep["p6"] == rep["p1"] == "p1"  # a part, and a Persian spelling
    assert rep["p5"] == "p5"  # "محمد" could be either of two people
    assert rep["p2"] == "p2" and rep["p3"] == "p3"
    ents = mentions("Ali al-Sistani ... Al-Sistani", [("a", "PERSON", "Ali al-Sistani"), ("b", "PERSON", "Al-Sistani")])
    assert entity_groups(ents)["b"] == "a"


def test_places_group_only_on_equal_spelling_and_the_article_folds():
    text = "لبنان ... جنوب لبنان ... لبنان. الأمم المتحدة وللأمم المتحدة"
    ents = mentions(text, [("l1", "LOC", "لبنان"), ("l2", "LOC", "جنوب لبنان"), ("l3", "LOC", "لبنان"),
                           ("o1", "ORG", "الأمم المتحدة"), ("o2", "ORG", "للأمم المتحدة")])
    rep = entity_groups(ents)
    assert rep["l3"] == "l1" and rep["l2"] == "l2"
    assert rep["o2"] == rep["o1"]


def test_second_mentions_of_linked_entities_are_coreferent_links_not_negatives():
    text = "Fidan met Haniyeh in Istanbul. The meeting in Istanbul ... Haniyeh said."
    ents = mentions(text, [("p1", "PERSON", "Fidan"), ("m1", "MEETING", "met"), ("p2", "PERSON", "Haniyeh"),
                           ("l1", "LOC", "Istanbul"), ("m2", "MEETING", "meeting"), ("l2", "LOC", "Istanbul"),
                           ("p3", "PERSON", "Haniyeh")])
    doc = Document(id="x", lang="en", text=text, entities=ents,
                   events=[Event(id="E1", triggers=["m1", "m2"], participants=["p1", "p2"], venue="l1")])
    gold = gold_links(doc)
    coref = coreferent_links(doc, gold)
    assert ("m1", "l2") in coref and ("m2", "p3") in coref and ("m2", "l2") in coref
    assert not coref & gold and ("m1", "p1") in gold
    assert ("p1", "p3") not in coref  # only pairs that some gold link joins


def test_participant_details_gather_roles_and_orgs_over_mentions_and_titles():
    text = "الأمين العام لحركة الجهاد زياد النخالة ... النخالة، حماس"
    ents = mentions(text, [("r1", "ROLE", "الأمين العام لحركة الجهاد"), ("o1", "ORG", "حركة الجهاد"),
                           ("p1", "PERSON", "زياد النخالة"), ("p2", "PERSON", "النخالة"), ("o2", "ORG", "حماس")])
    doc = Document(id="x", lang="ar", text=text, entities=ents + mentions(text, [("m", "MEETING", "...")]),
                   relations=[Relation(id="R1", type="HAS_ROLE", head="p2", tail="r1"),
                              Relation(id="R2", type="AFFILIATION", head="r1", tail="o1")],
                   events=[Event(id="E1", triggers=["m"], participants=["p1", "o2"])])
    assert participant_details(doc) == {"p1": (["r1"], ["o1"]), "o2": ([], [])}
