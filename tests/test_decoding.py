"""Decoding on hand-made probabilities: words stay whole, links are decided between
entities, one event per encounter, one participant per side."""
import torch

from liqa.data import LABEL2ID, MAX_SHIFT, NESTED2ID
from liqa.decoding import decode_layers, decode_links, decode_spans, group_triggers
from liqa.schema import LINK_TYPES, Entity

TH = {name: 0.5 for name in LINK_TYPES}


def probs_for(labels: list[str], shifts: list[int] | None = None, nested: list[str] | None = None) -> torch.Tensor:
    """[outer IOB2 | inner IOB2 | shift] one-hot rows, as the predictor lays them out."""
    n_out, n_in = len(LABEL2ID), len(NESTED2ID)
    p = torch.zeros(len(labels), n_out + n_in + MAX_SHIFT + 1)
    for k, lab in enumerate(labels):
        p[k, LABEL2ID[lab]] = 1
        p[k, n_out + NESTED2ID[(nested or ["O"] * len(labels))[k]]] = 1
        p[k, n_out + n_in + (shifts[k] if shifts else 0)] = 1
    return p


def spans(labels, offsets, text, shifts=None):
    p = probs_for(labels, shifts)
    return decode_spans(p[:, :len(LABEL2ID)], p[:, len(LABEL2ID) + len(NESTED2ID):], offsets, text)


def ent(eid: str, typ: str, text: str, doc: str) -> Entity:
    start = doc.index(text)
    return Entity(id=eid, type=typ, start=start, end=start + len(text), text=text)


def test_a_word_is_never_split_and_its_first_piece_decides():
    text = "التقى عبداللطيف الزياني، وهنية"
    # pieces: ▁التقى | ▁عبدال لطيف | ▁الزياني | ، | ▁وه نية
    offsets = [(0, 5), (6, 11), (11, 15), (16, 23), (23, 24), (25, 27), (27, 30)]
    labels = ["B-MEETING", "B-PERSON", "B-PERSON", "I-PERSON", "O", "B-PERSON", "O"]
    ents = spans(labels, offsets, text, [0, 0, 0, 0, 0, 1, 0])
    assert [(e.type, e.text) for e in ents] == [("MEETING", "التقى"), ("PERSON", "عبداللطيف الزياني"),
                                                ("PERSON", "هنية")]
    # a piece inside a word that the first piece left out does not start a span
    assert spans(["O", "O", "B-PERSON", "O", "O", "O", "O"], offsets, text) == []


def test_punctuation_next_to_a_word_is_not_inside_it():
    text = "(Reuters) Ruto"
    offsets = [(0, 1), (1, 8), (8, 9), (10, 14)]
    assert [e.text for e in spans(["O", "B-ORG", "O", "B-PERSON"], offsets, text)] == ["Reuters", "Ruto"]


def test_a_span_never_crosses_a_line_break():
    text = "Chinedu Okafor\nAbuja - Ruto"
    offsets = [(0, 7), (8, 14), (15, 20), (21, 22), (23, 27)]
    ents = spans(["B-PERSON", "I-PERSON", "I-PERSON", "O", "B-PERSON"], offsets, text)
    assert [e.text for e in ents] == ["Chinedu Okafor", "Abuja", "Ruto"]


def test_inner_layer_gives_an_org_inside_a_role_and_nowhere_else():
    text = "الأمين العام لحركة الجهاد زار حماس"
    offsets = [(0, 6), (7, 12), (13, 18), (19, 25), (26, 29), (30, 34)]
    outer = ["B-ROLE", "I-ROLE", "I-ROLE", "I-ROLE", "O", "B-ORG"]
    nested = ["O", "O", "B-ORG", "I-ORG", "O", "B-ORG"]  # the last is outside any ROLE
    ents = decode_layers(probs_for(outer, [0, 0, 1, 0, 0, 0], nested), offsets, text)
    assert [(e.id, e.type, e.text) for e in ents] == [
        ("T1", "ROLE", "الأمين العام لحركة الجهاد"), ("T2", "ORG", "حركة الجهاد"), ("T3", "ORG", "حماس")]


def test_an_event_lists_each_participant_once_by_its_fullest_name():
    doc = "Samir Geagea met Rai. Geagea said so."
    e = [ent("p1", "PERSON", "Samir Geagea", doc), ent("m1", "MEETING", "met", doc),
         ent("p2", "PERSON", "Rai", doc), Entity(id="p3", type="PERSON", start=22, end=28, text="Geagea")]
    # the entity scores its best mention: the short mention alone is linked
    _, events = decode_links(e, {("m1", "p1"): 0.2, ("m1", "p2"): 0.8, ("m1", "p3"): 0.7}, TH)
    assert [ev.participants for ev in events] == [["p1", "p2"]]


def test_links_below_threshold_and_roles_with_named_holders():
    doc = "Minister Ali met the envoy."
    e = [ent("r1", "ROLE", "Minister", doc), ent("p1", "PERSON", "Ali", doc),
         ent("m1", "MEETING", "met", doc), ent("r2", "ROLE", "envoy", doc)]
    scores = {("p1", "r1"): 0.9, ("m1", "r1"): 0.8, ("m1", "r2"): 0.7, ("m1", "p1"): 0.3}
    rels, events = decode_links(e, scores, TH)
    assert [(r.type, r.head, r.tail) for r in rels] == [("HAS_ROLE", "p1", "r1")]
    # r1's holder p1 stands in for it; r2 has no named holder and stays a ROLE participant
    assert events[0].participants == ["p1", "r2"]
    assert decode_links(e, {k: 0.2 for k in scores}, TH)[1] == []
    # thresholds are per link type
    assert decode_links(e, scores, TH | {"PARTICIPANT": 0.75})[1][0].participants == ["p1"]


def test_a_round_up_gives_one_event_per_audience():
    doc = "The Speaker received Ali in Baghdad, then received Omar, and later received Sara."
    e = [ent("r", "ROLE", "Speaker", doc), Entity(id="m1", type="MEETING", start=12, end=20, text="received"),
         ent("a", "PERSON", "Ali", doc), ent("l", "LOC", "Baghdad", doc),
         Entity(id="m2", type="MEETING", start=42, end=50, text="received"), ent("o", "PERSON", "Omar", doc),
         Entity(id="m3", type="MEETING", start=67, end=75, text="received"), ent("s", "PERSON", "Sara", doc)]
    scores = {("m1", "r"): 0.9, ("m2", "r"): 0.8, ("m3", "r"): 0.7,
              ("m1", "a"): 0.9, ("m2", "o"): 0.9, ("m3", "s"): 0.9, ("m1", "l"): 0.8, ("m2", "l"): 0.6,
              ("m2", "a"): 0.2, ("m3", "o"): 0.3,
              # one strong link between the first two audiences, weak ones elsewhere: no chain
              ("m1", "m2"): 0.55, ("m2", "m3"): 0.3, ("m1", "m3"): 0.2}
    _, events = decode_links(e, scores, TH)
    assert [ev.participants for ev in events] == [["r", "a", "o"], ["r", "s"]]
    _, events = decode_links(e, scores, TH | {"SAME_EVENT": 0.6})
    assert [ev.participants for ev in events] == [["r", "a"], ["r", "o"], ["r", "s"]]
    assert [ev.venue for ev in events] == ["l", "l", None]


def test_a_tour_keeps_each_stop_apart_and_a_joint_meeting_together():
    doc = "Fidan met Sisi in Cairo. He then met Tamim in Doha. The talks in Doha included Lavrov."
    e = [ent("f", "PERSON", "Fidan", doc), ent("m1", "MEETING", "met", doc), ent("s", "PERSON", "Sisi", doc),
         ent("c", "LOC", "Cairo", doc), Entity(id="m2", type="MEETING", start=33, end=36, text="met"),
         ent("t", "PERSON", "Tamim", doc), Entity(id="d", type="LOC", start=46, end=50, text="Doha"),
         ent("m3", "MEETING", "talks", doc), Entity(id="d2", type="LOC", start=65, end=69, text="Doha"),
         ent("l", "PERSON", "Lavrov", doc)]
    scores = {("m1", "f"): 0.9, ("m1", "s"): 0.9, ("m1", "c"): 0.9, ("m2", "f"): 0.8, ("m2", "t"): 0.9,
              ("m2", "d"): 0.9, ("m3", "d2"): 0.4, ("m3", "l"): 0.9, ("m3", "t"): 0.6,
              ("m1", "m2"): 0.3, ("m2", "m3"): 0.8, ("m1", "m3"): 0.45}
    _, events = decode_links(e, scores, TH)
    assert [(ev.triggers, ev.participants, ev.venue) for ev in events] == [
        (["m1"], ["f", "s"], "c"), (["m2", "m3"], ["f", "t", "l"], "d")]


def test_one_participant_per_side_for_delegations():
    doc = "A Hamas delegation led by Haniyeh met a PFLP delegation and Fatah in Cairo."
    e = [ent("o1", "ORG", "Hamas", doc), ent("p1", "PERSON", "Haniyeh", doc), ent("m", "MEETING", "met", doc),
         ent("o2", "ORG", "PFLP", doc), ent("o3", "ORG", "Fatah", doc)]
    scores = {("m", "o1"): 0.9, ("m", "p1"): 0.9, ("m", "o2"): 0.9, ("m", "o3"): 0.9, ("p1", "o1"): 0.8}
    rels, events = decode_links(e, scores, TH)
    # Hamas is Haniyeh's organization; PFLP and Fatah have no named representative
    assert events[0].participants == ["p1", "o2", "o3"]
    assert [(r.type, r.head, r.tail) for r in rels] == [("AFFILIATION", "p1", "o1")]


def test_the_org_inside_a_title_reaches_the_holder():
    doc = "Secretary-General of Islamic Jihad Ziad Nakhalah met an Islamic Jihad delegation."
    e = [ent("r", "ROLE", "Secretary-General of Islamic Jihad", doc), ent("o", "ORG", "Islamic Jihad", doc),
         ent("p", "PERSON", "Ziad Nakhalah", doc), ent("m", "MEETING", "met", doc),
         Entity(id="o2", type="ORG", start=59, end=72, text="Islamic Jihad")]
    scores = {("p", "r"): 0.9, ("r", "o"): 0.8, ("m", "p"): 0.9, ("m", "o2"): 0.9}
    _, events = decode_links(e, scores, TH)
    # the role's organization is the holder's, and the second mention of it is the same entity
    assert events[0].participants == ["p"]


def test_average_linkage_needs_the_groups_to_agree_as_a_whole():
    same = {("a", "b"): 0.9, ("b", "c"): 0.6, ("a", "c"): 0.1}
    assert group_triggers(["a", "b", "c"], same, 0.5) == [["a", "b"], ["c"]]
    assert group_triggers(["a", "b", "c"], same | {("a", "c"): 0.5}, 0.5) == [["a", "b", "c"]]
    # pairs never scored together do not count against a merge
    assert group_triggers(["a", "b", "c"], {("a", "b"): 0.9, ("b", "c"): 0.7}, 0.5) == [["a", "b", "c"]]
