"""Decoding on hand-made probabilities: words stay whole, events list each participant once."""
import torch

from liqa.data import LABEL2ID, MAX_SHIFT
from liqa.decoding import decode_links, decode_spans
from liqa.schema import Entity


def probs_for(labels: list[str], shifts: list[int] | None = None) -> torch.Tensor:
    p = torch.zeros(len(labels), len(LABEL2ID) + MAX_SHIFT + 1)
    for k, lab in enumerate(labels):
        p[k, LABEL2ID[lab]] = 1
        p[k, len(LABEL2ID) + (shifts[k] if shifts else 0)] = 1
    return p


def test_a_word_is_never_split_and_its_first_piece_decides():
    text = "التقى عبداللطيف الزياني، وهنية"
    # pieces: ▁التقى | ▁عبدال لطيف | ▁الزياني | ، | ▁وه نية
    offsets = [(0, 5), (6, 11), (11, 15), (16, 23), (23, 24), (25, 27), (27, 30)]
    labels = ["B-MEETING", "B-PERSON", "B-PERSON", "I-PERSON", "O", "B-PERSON", "O"]
    ents = decode_spans(probs_for(labels, [0, 0, 0, 0, 0, 1, 0]), offsets, text)
    assert [(e.type, e.text) for e in ents] == [("MEETING", "التقى"), ("PERSON", "عبداللطيف الزياني"),
                                                ("PERSON", "هنية")]
    # a piece inside a word that the first piece left out does not start a span
    ents = decode_spans(probs_for(["O", "O", "B-PERSON", "O", "O", "O", "O"]), offsets, text)
    assert ents == []


def test_punctuation_next_to_a_word_is_not_inside_it():
    text = "(Reuters) Ruto"
    offsets = [(0, 1), (1, 8), (8, 9), (10, 14)]
    ents = decode_spans(probs_for(["O", "B-ORG", "O", "B-PERSON"]), offsets, text)
    assert [e.text for e in ents] == ["Reuters", "Ruto"]


def test_an_event_lists_each_participant_once_by_its_fullest_name():
    # the text: "Samir Geagea met Rai. Geagea said so."
    e = [Entity(id="p1", type="PERSON", start=0, end=12, text="Samir Geagea"),
         Entity(id="m1", type="MEETING", start=13, end=16, text="met"),
         Entity(id="p2", type="PERSON", start=17, end=20, text="Rai"),
         Entity(id="p3", type="PERSON", start=22, end=28, text="Geagea")]
    _, events = decode_links(e, {("m1", "p1"): 0.9, ("m1", "p2"): 0.8, ("m1", "p3"): 0.7}, 0.5)
    assert [ev.participants for ev in events] == [["p1", "p2"]]


def test_links_below_threshold_and_roles_with_named_holders():
    # the text: "Minister Ali met the envoy."
    e = [Entity(id="r1", type="ROLE", start=0, end=8, text="Minister"),
         Entity(id="p1", type="PERSON", start=9, end=12, text="Ali"),
         Entity(id="m1", type="MEETING", start=13, end=16, text="met"),
         Entity(id="r2", type="ROLE", start=21, end=26, text="envoy")]
    scores = {("p1", "r1"): 0.9, ("m1", "r1"): 0.8, ("m1", "r2"): 0.7, ("m1", "p1"): 0.3}
    rels, events = decode_links(e, scores, 0.5)
    assert [(r.type, r.head, r.tail) for r in rels] == [("HAS_ROLE", "p1", "r1")]
    # r1's holder p1 stands in for it; r2 has no named holder and stays a ROLE participant
    assert events[0].participants == ["p1", "r2"]
    _, none = decode_links(e, {k: 0.2 for k in scores}, 0.5)
    assert none == []
