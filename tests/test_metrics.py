"""The metric code on small cases computed by hand."""
import pytest

from liqa.annotations import markup
from liqa.metrics import align, bootstrap, confusion, errors, evaluate, iob2_words, score
from liqa.schema import Document, Entity, Event, Relation


def doc(body: str, links: str = "", lang: str = "en", doc_id: str = "d"):
    return markup.parse(f"id: {doc_id}\nlang: {lang}\n---\n{body}\n---\n{links}\n").doc


GOLD = doc("[Fidan]{PERSON p1}, [Turkey's foreign minister]{ROLE r1}, [met]{MEETING m1} [Ali Baba]{PERSON p2} "
           "and [Omar]{PERSON p3} in [Ankara]{LOC l1}.",
           "rel HAS_ROLE p1 r1\nevent triggers=m1 participants=p1,p2,p3 venue=l1")


def test_spans_strict_and_seqeval_agree_on_a_hand_count():
    # pred: Fidan right, ROLE right, met right, "Baba" wrong boundary, Omar typed ORG, Ankara missed
    pred = doc("[Fidan]{PERSON p1}, [Turkey's foreign minister]{ROLE r1}, [met]{MEETING m1} Ali [Baba]{PERSON p2} "
               "and [Omar]{ORG p3} in Ankara.")
    s = score([(pred, GOLD)])
    # 3 of 5 predicted are right; 3 of 6 gold are found
    assert s["spans_strict"] == {"precision": 0.6, "recall": 0.5, "f1": round(2 * .6 * .5 / 1.1, 4),
                                 "support": 6, "predicted": 5, "correct": 3}
    micro = s["seqeval"]["strict"]["micro avg"]
    assert (micro["precision"], micro["recall"], micro["support"]) == (0.6, 0.5, 6)
    assert s["seqeval"]["strict"]["PERSON"]["recall"] == round(1 / 3, 4)
    assert s["seqeval"]["strict"]["LOC"]["recall"] == 0.0


def test_words_are_cut_at_span_edges_inside_words():
    text = "وهنية"
    g = doc("و[هنية]{PERSON}", lang="ar")
    words, tags = iob2_words(text, g.entities, {1, 5})
    assert words == [(0, 1), (1, 5)] and tags == ["O", "B-PERSON"]
    wrong = doc("[وهنية]{PERSON}", lang="ar")
    assert score([(wrong, g)])["seqeval"]["strict"]["micro avg"]["f1"] == 0.0
    assert score([(g, g)])["seqeval"]["strict"]["micro avg"]["f1"] == 1.0


def test_relations_boundaries_versus_strict():
    # the role is right in offsets but typed ORG: boundaries count the relation, strict does not
    pred = doc("[Fidan]{PERSON p1}, [Turkey's foreign minister]{ORG r1}, met Ali Baba and Omar in Ankara.")
    pred.relations.append(Relation(id="R1", type="HAS_ROLE", head="p1", tail="r1"))
    s = score([(pred, GOLD)])
    assert s["relations_boundaries"]["f1"] == 1.0
    assert s["relations_strict"]["f1"] == 0.0


def test_record_pairs_strict_and_lenient():
    # the same person named twice; the prediction links the other mention, spelled with Persian letters
    gold = doc("[هنية]{PERSON p1} [التقى]{MEETING m1} [النخالة]{PERSON p2}. قال هنیه ذلك.",
               "event triggers=m1 participants=p1,p2", lang="ar")
    pred = doc("هنية [التقى]{MEETING m1} [النخالة]{PERSON p2}. قال [هنیه]{PERSON p1} ذلك.",
               "event triggers=m1 participants=p1,p2", lang="ar")
    s = score([(pred, gold)])
    assert s["met_pairs_strict"]["f1"] == 0.0  # different mention: offsets differ
    assert s["met_pairs_lenient"]["f1"] == 1.0  # normalized names agree
    assert s["trigger_identification"]["f1"] == 1.0


def test_participant_pairs_and_arguments_by_hand():
    pred = doc("[Fidan]{PERSON p1}, [Turkey's foreign minister]{ROLE r1}, [met]{MEETING m1} [Ali Baba]{PERSON p2} "
               "and Omar in [Ankara]{LOC l1}.",
               "rel HAS_ROLE p1 r1\nevent triggers=m1 participants=p1,p2 venue=l1")
    s = score([(pred, GOLD)])
    # gold pairs: Fidan-Ali, Fidan-Omar, Ali-Omar; predicted: Fidan-Ali
    assert (s["met_pairs_lenient"]["precision"], s["met_pairs_lenient"]["recall"]) == (1.0, round(1 / 3, 4))
    # venue pairs: gold 3 (one per participant), predicted 2, both right
    assert (s["participant_venue_strict"]["correct"], s["participant_venue_strict"]["support"]) == (2, 3)
    assert s["participant_role_lenient"]["f1"] == 1.0
    # arguments: gold 4 (3 participants + venue), predicted 3, all right
    assert (s["argument_classification"]["correct"], s["argument_classification"]["support"]) == (3, 4)


def test_bootstrap_interval_brackets_the_estimate_and_is_repeatable():
    docs = [doc(f"[A{i}]{{PERSON}} met [B{i}]{{PERSON}}.", doc_id=f"d{i}") for i in range(20)]
    preds = [doc(f"[A{i}]{{PERSON}} met B{i}.", doc_id=f"d{i}") if i % 2 else d for i, d in enumerate(docs)]
    pairs = list(zip(preds, docs))
    point = score(pairs)["spans_strict"]["f1"]
    lo, hi = bootstrap(pairs, ["spans_strict"], n=500)["spans_strict"]
    assert lo <= point <= hi and lo < hi
    assert bootstrap(pairs, ["spans_strict"], n=500) == bootstrap(pairs, ["spans_strict"], n=500)


def test_confusion_errors_and_languages():
    pred = doc("[Fidan]{ORG}, [Turkey's foreign minister]{ROLE}, [met]{MEETING} [Ali Baba]{PERSON} and [Omar]{PERSON} "
               "in [Ankara]{LOC}.")
    table = confusion([(pred, GOLD)])
    assert table["PERSON"] == {"ORG": 1, "PERSON": 2}
    errs = errors([(pred, GOLD)])
    assert {"kind": "false positive", "type": "ORG", "text": "Fidan"}.items() <= errs[0].items()
    assert errs[0]["context"].startswith("…[Fidan]")
    fa = doc("[علی]{PERSON} [دیدار]{MEETING} کرد.", lang="fa", doc_id="f")
    result = evaluate([pred, fa], [GOLD, fa], n_boot=50)
    assert set(result["by_language"]) == {"en", "fa"}
    assert result["by_language"]["fa"]["spans_strict"]["f1"] == 1.0


def test_mismatched_documents_are_refused():
    with pytest.raises(ValueError, match="same documents"):
        align([GOLD], [doc("x", doc_id="other")])


def test_date_iso_accuracy_and_recall():
    from liqa.metrics import date_iso

    text = "Ruto met Ali on Tuesday. Ruto met Omar on 2 March 2024."
    ents = [Entity(id="T1", type="PERSON", start=0, end=4, text="Ruto"),
            Entity(id="T2", type="MEETING", start=5, end=8, text="met"),
            Entity(id="T3", type="PERSON", start=9, end=12, text="Ali"),
            Entity(id="T4", type="DATE", start=16, end=23, text="Tuesday", iso="2024-03-12"),
            Entity(id="T5", type="PERSON", start=25, end=29, text="Ruto"),
            Entity(id="T6", type="MEETING", start=30, end=33, text="met"),
            Entity(id="T7", type="PERSON", start=34, end=38, text="Omar"),
            Entity(id="T8", type="DATE", start=42, end=54, text="2 March 2024", iso="2024-03-02")]
    events = [Event(id="E1", triggers=["T2"], participants=["T1", "T3"], date="T4"),
              Event(id="E2", triggers=["T6"], participants=["T5", "T7"], date="T8")]
    gold = Document(id="d", lang="en", text=text, date="2024-03-14", entities=ents, events=events)
    # the prediction dates the first meeting right and the second not at all
    pred = gold.model_copy(update={
        "entities": [e.model_copy(update={"iso": None}) for e in ents],
        "events": [events[0], events[1].model_copy(update={"date": None})]})
    assert date_iso([(pred, gold)]) == {"events": 2, "matched": 1, "correct": 1, "accuracy": 1.0, "recall": 0.5}
    # published a week later: "Tuesday" is then 2024-03-19, not the gold day
    wrong = pred.model_copy(update={"date": "2024-03-21"})
    assert date_iso([(wrong, gold)])["correct"] == 0


def test_date_iso_matches_a_recalled_meeting_by_its_trigger():
    """Two meetings of the same two sides: the trigger decides which prediction is which."""
    from liqa.metrics import date_iso

    text = "Ruto met Ali on Tuesday. They had met in May 2023."
    ents = [Entity(id="T1", type="PERSON", start=0, end=4, text="Ruto"),
            Entity(id="T2", type="MEETING", start=5, end=8, text="met"),
            Entity(id="T3", type="PERSON", start=9, end=12, text="Ali"),
            Entity(id="T4", type="DATE", start=16, end=23, text="Tuesday", iso="2024-03-12"),
            Entity(id="T5", type="MEETING", start=34, end=37, text="met"),
            Entity(id="T6", type="DATE", start=41, end=49, text="May 2023", iso="2023-05")]
    events = [Event(id="E1", triggers=["T2"], participants=["T1", "T3"], date="T4"),
              Event(id="E2", triggers=["T5"], participants=["T1", "T3"], date="T6")]
    gold = Document(id="d", lang="en", text=text, date="2024-03-14", entities=ents, events=events)
    pred = gold.model_copy(update={"entities": [e.model_copy(update={"iso": None}) for e in ents]})
    assert date_iso([(pred, gold)])["correct"] == 2
    swapped = pred.model_copy(update={"events": [events[0].model_copy(update={"date": "T6"}),
                                                 events[1].model_copy(update={"date": "T4"})]})
    assert date_iso([(swapped, gold)])["correct"] == 0
    # one prediction answers for one gold meeting: the recalled one is then missed, not misdated
    missed = pred.model_copy(update={"events": [events[0]]})
    assert date_iso([(missed, gold)]) == {"events": 2, "matched": 1, "correct": 1, "accuracy": 1.0, "recall": 0.5}
