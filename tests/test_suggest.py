"""suggest: the uncertainty measure from known probabilities, the ranking, and the command on the tiny model."""
from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest

from liqa.annotations import __main__ as cli
from liqa.annotations.suggest import (Suggestion, Uncertainty, decision_entropy, document_uncertainty, rank,
                                      uncertainty)
from liqa.schema import Document, Entity, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"


def H(q: float) -> float:
    return -(q * math.log2(q) + (1 - q) * math.log2(1 - q))


def test_decision_entropy_is_centred_on_the_threshold():
    assert decision_entropy(0.5) == pytest.approx(1.0)
    assert decision_entropy(0.3, threshold=0.3) == pytest.approx(1.0)
    assert decision_entropy(0.0, 0.3) == decision_entropy(1.0, 0.3) == 0.0
    assert decision_entropy(0.9) == pytest.approx(H(0.9))
    # rescaled: 0.15 under a 0.3 threshold is as doubtful as 0.25 under 0.5 (both a quarter of the way)
    assert decision_entropy(0.15, 0.3) == pytest.approx(H(0.25))
    assert decision_entropy(0.65, 0.3) == pytest.approx(H(0.75))  # 0.5 + 0.35 / 1.4
    assert decision_entropy(0.2, 0.3) > decision_entropy(0.2, 0.5)  # nearer its own threshold


def test_uncertainty_from_known_probabilities():
    spans = [0.9, 0.4]  # 0.4: kept with less than even confidence, a coin flip
    links = [(0.5, 0.5), (0.01, 0.5), (0.2, 0.8)]
    bits = H(0.9) + 1.0 + 1.0 + H(0.01) + H(0.125)
    short = uncertainty(spans, links, n_chars=500)
    assert short == Uncertainty(score=pytest.approx(bits), uncertain=3, decisions=5)  # H(0.125) = 0.54
    assert uncertainty(spans, links, n_chars=4000).score == pytest.approx(bits / 4)  # per 1,000 characters
    assert uncertainty([], [], n_chars=10) == Uncertainty(0.0, 0, 0)


def test_document_uncertainty_uses_each_link_types_threshold():
    text = "Ruto met Guterres as president"
    ents = [Entity(id="T1", type="PERSON", start=0, end=4, text="Ruto", score=1.0),
            Entity(id="T2", type="MEETING", start=5, end=8, text="met", score=1.0),
            Entity(id="T3", type="ROLE", start=21, end=30, text="president", score=1.0)]
    doc = Document(id="d", lang="en", text=text, entities=ents)
    u = document_uncertainty(doc, ents, {("T2", "T1"): 0.8, ("T1", "T3"): 0.2},
                             {"PARTICIPANT": 0.8, "HAS_ROLE": 0.4, "VENUE": 0.5})
    assert u.score == pytest.approx(1.0 + H(0.25)) and u.uncertain == 2 and u.decisions == 5


def test_rank_orders_by_score_keeps_input_order_on_ties_and_cuts_at_n():
    s = [Suggestion(i, "en", Uncertainty(score, 0, 0)) for i, score in
         [("a", 1.0), ("b", 3.0), ("c", 1.00001), ("d", 2.0)]]
    assert [x.id for x in rank(s)] == ["b", "d", "a", "c"]  # a and c print as 1.0: input order
    assert [x.id for x in rank(s, 2)] == ["b", "d"]


# --- the command on the tiny model ------------------------------------------------------------------

@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Path:
    """The fixture articles (learnt by heart), each also with its words shuffled (the same words,
    no sentence the model has seen), one with nothing to decide, and a bad line."""
    path = tmp_path_factory.mktemp("suggest") / "articles.jsonl"
    recs = []
    for d in read_jsonl(FIXTURE):
        words = d.text.split()
        random.Random(0).shuffle(words)
        recs += [{"id": d.id, "lang": d.lang, "text": d.text},
                 {"id": f"shuffled-{d.id}", "lang": d.lang, "text": " ".join(words)}]
    recs.append({"id": "nothing", "lang": "en", "text": "12345"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs) + '{"id": "broken"\n',
                    encoding="utf-8")
    return path


def run(model: Path, articles: Path, out: Path, *extra: str) -> int:
    return cli.main(["suggest", str(articles), str(articles.parent / "missing"), "--model", str(model),
                     "--out", str(out), "--precision", "fp32", *extra])


def test_suggest_ranks_deterministically_reports_bad_input_and_respects_n(tiny_run, articles, tmp_path, capsys):
    model = tiny_run / "best"
    assert run(model, articles, tmp_path / "all.tsv") == 1
    err = capsys.readouterr().err
    assert f"{articles}:14: not valid JSON" in err and "missing: no such file or directory" in err
    with open(tmp_path / "all.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, dialect="excel-tab"))
    assert list(rows[0]) == ["rank", "id", "score", "uncertain", "lang"]
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, 14)]  # 6 + 6 shuffled + nothing
    scores = {r["id"]: float(r["score"]) for r in rows}
    assert [float(r["score"]) for r in rows] == sorted(scores.values(), reverse=True)
    # nothing to decide: no uncertainty, last
    assert rows[-1] | {"rank": None} == {"rank": None, "id": "nothing", "score": "0.0", "uncertain": "0", "lang": "en"}
    # the same words out of order leave the model less sure than the articles it learnt
    for d in read_jsonl(FIXTURE):
        assert scores[f"shuffled-{d.id}"] > scores[d.id], d.id
    assert all(int(r["uncertain"]) >= 1 for r in rows if r["id"].startswith("shuffled-"))
    # deterministic, and -n keeps the head of the same ranking
    assert run(model, articles, tmp_path / "top.jsonl", "-n", "3", "--format", "jsonl") == 1
    top = [json.loads(x) for x in (tmp_path / "top.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(t["rank"], t["id"], str(t["score"]), str(t["uncertain"]), t["lang"]) for t in top] == [
        (int(r["rank"]), r["id"], r["score"], r["uncertain"], r["lang"]) for r in rows[:3]]


def test_suggest_refuses_n_below_one(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["suggest", str(tmp_path), "--model", str(tmp_path), "-n", "0"])
