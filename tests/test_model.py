"""The tiny model learns, saves, reloads, resumes and runs on two processes; windows keep every span."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from liqa import training
from liqa.config import ConfigError, load_config
from liqa.data import LABEL2ID, MAX_SHIFT, document_windows, tokenize, token_tags, window_bounds
from liqa.decoding import decode_spans, merge_windows
from liqa.inference import Predictor
from liqa.metrics import summary
from liqa.model import LiqaModel
from liqa.schema import Document, Entity, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "tiny.yaml"
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"


def tiny_cfg(out: Path, *extra: str):
    return load_config(TINY, [f"training.output_dir={out}", f"data.train=[{FIXTURE}]",
                              f"data.dev=[{FIXTURE}]", *extra])


@pytest.fixture(scope="module")
def trained(tiny_run):
    return tiny_run


def test_tiny_model_overfits_three_languages(trained):
    model, tok = LiqaModel.from_pretrained(trained / "best")
    gold = read_jsonl(FIXTURE)
    assert {d.lang for d in gold} == {"ar", "fa", "en"}
    preds = list(Predictor(model, tok).predict([d.unannotated() for d in gold]))
    scores = summary(preds, gold)
    assert scores["spans"]["f1"] >= 0.95, scores
    assert scores["relations"]["f1"] >= 0.95, scores
    assert scores["met_pairs"]["f1"] >= 0.95, scores
    # the near miss (a denied and a planned meeting) produce no event
    by_id = {p.id: p for p in preds}
    assert by_id["tiny-en-2"].events == []
    # training ends with the evaluation report of the best checkpoint on dev
    report = json.loads((trained / "report" / "metrics.json").read_text())
    assert report["overall"]["spans_strict"] == scores["spans"]


def test_the_nested_org_is_learned_and_thresholds_are_calibrated(trained):
    model, tok = LiqaModel.from_pretrained(trained / "best")
    gold = {d.id: d for d in read_jsonl(FIXTURE)}
    pred = next(iter(Predictor(model, tok).predict([gold["tiny-en-1"].unannotated()])))
    # "UN" inside the ROLE "UN Secretary-General" is Guterres's organization
    assert ("ORG", "UN") in {(e.type, e.text) for e in pred.entities}
    from liqa.output import to_output
    guterres = to_output(pred)["events"][0]["participants"][0]
    assert guterres["text"] == "Antonio Guterres" and [o["text"] for o in guterres["organizations"]] == ["UN"]
    # train.py chose one threshold per link type on dev and wrote them into the config
    record = json.loads((trained / "best" / "calibration.json").read_text())
    assert set(record["thresholds"]) == set(model.config.link_thresholds) == {
        "HAS_ROLE", "AFFILIATION", "PARTICIPANT", "VENUE", "WHEN", "SAME_EVENT"}
    assert record["thresholds"] == model.config.link_thresholds and record["after"] >= record["before"]


def test_coreferent_pairs_are_positive_masked_or_negative():
    from liqa.encoder import tiny_encoder
    from liqa.data import MASKED

    _, tok = tiny_encoder()
    doc = next(d for d in read_jsonl(FIXTURE) if d.id == "tiny-en-1")  # "William Ruto" ... "Ruto hosted"
    labels = {mode: [y for w in document_windows(doc, 0, tok, 254, 64, coreferent=mode) for y in w.pair_labels]
              for mode in ("positive", "masked", "negative")}
    n_pos = {mode: sum(y == 1.0 for y in ys) for mode, ys in labels.items()}
    assert n_pos["positive"] > n_pos["masked"] == n_pos["negative"]
    assert MASKED in labels["masked"] and MASKED not in labels["negative"]


def test_saved_model_is_small_and_reloads_identically(trained):
    size = (trained / "best" / "model.safetensors").stat().st_size
    assert size < 2_000_000  # the frozen random embeddings (250k x 64) are rebuilt, not saved
    cfg = json.loads((trained / "best" / "config.json").read_text())
    assert cfg["id2label"]["0"] == "O" and cfg["encoder"] == "tiny"
    a, tok = LiqaModel.from_pretrained(trained / "best")
    b, _ = LiqaModel.from_pretrained(trained / "best")
    docs = read_jsonl(FIXTURE)
    assert list(Predictor(a, tok).predict(docs)) == list(Predictor(b, tok).predict(docs))


def test_any_model_runs_with_the_pruned_vocabulary(trained):
    full, ftok = LiqaModel.from_pretrained(trained / "best")
    small, stok = LiqaModel.from_pretrained(trained / "best", vocabulary="arabic-latin")
    assert len(stok) < 0.55 * len(ftok) and small.config.vocabulary == "arabic-latin"
    docs = [d.unannotated() for d in read_jsonl(FIXTURE)]
    assert list(Predictor(small, stok).predict(docs)) == list(Predictor(full, ftok).predict(docs))


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, monkeypatch):
    extra = ["training.epochs=4", "training.patience=10"]
    training.train(tiny_cfg(tmp_path / "straight", *extra))

    calls = {"n": 0}
    real = training.selection_score

    def killed_in_epoch_3(metrics):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # a kill after epoch 3's training, before its checkpoint
        return real(metrics)

    monkeypatch.setattr(training, "selection_score", killed_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        training.train(tiny_cfg(tmp_path / "killed", *extra))
    monkeypatch.setattr(training, "selection_score", real)
    assert json.loads((tmp_path / "killed" / "last" / "trainer_state.json").read_text())["epoch"] == 2
    training.train(tiny_cfg(tmp_path / "killed", *extra), resume=True)

    a = load_file(tmp_path / "straight" / "last" / "model.safetensors")
    b = load_file(tmp_path / "killed" / "last" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)
    log = [json.loads(line) for line in (tmp_path / "killed" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]


def test_windows_keep_every_span_of_a_long_document():
    from liqa.encoder import tiny_encoder

    _, tok = tiny_encoder()
    unit = "التقى وزير الخارجية [X] نظيره في القاهرة والهند. "
    text, ents = "", []
    for i in range(450):  # about 20,000 characters
        piece = unit.replace("[X]", f"سامي{i}")
        s = len(text) + piece.index("سامي")
        ents.append(Entity(id=f"p{i}", type="PERSON", start=s, end=s + len(f"سامي{i}"), text=f"سامي{i}"))
        s = len(text) + piece.index("الهند")  # a proclitic inside the first token: "▁واله" "ند"
        ents.append(Entity(id=f"l{i}", type="LOC", start=s, end=s + 5, text="الهند"))
        text += piece
    assert len(text) >= 20_000
    doc = Document(id="long", lang="ar", text=text, entities=ents)
    tokens = tokenize(tok, text)
    tags, shifts, misaligned = token_tags(tokens, ents)
    assert misaligned == 0 and 1 in shifts
    bounds = window_bounds(len(tokens.ids), 62, 16)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(tokens.ids) and len(bounds) > 40
    # perfect per-window probabilities, merged back in character space
    onehot = torch.zeros(len(tags), len(LABEL2ID) + MAX_SHIFT + 1)
    for k, (t, sh) in enumerate(zip(tags, shifts)):
        onehot[k, t if t >= 0 else LABEL2ID["O"]] = 1
        onehot[k, len(LABEL2ID) + max(sh, 0)] = 1
    merged = merge_windows(len(tags), [(s, onehot[s:e]) for s, e in bounds])
    got = [(e.start, e.end) for e in decode_spans(merged[:, :len(LABEL2ID)], merged[:, len(LABEL2ID):],
                                                  tokens.offsets, text)]
    assert got == [(e.start, e.end) for e in ents]
    # training windows hold every span somewhere
    windows = document_windows(doc, 0, tok, 62, 16)
    assert {i for w in windows for i in w.span_ids} == {e.id for e in ents}


def test_predictor_handles_long_and_empty_documents(trained):
    model, tok = LiqaModel.from_pretrained(trained / "best")
    text = "Antonio Guterres met William Ruto at State House on Friday. " * 350
    docs = [Document(id="long", lang="en", text=text), Document(id="empty", lang="en", text="")]
    long, empty = Predictor(model, tok, batch_size=4).predict(docs)
    assert empty.entities == [] and empty.events == []
    assert long.entities and all(text[e.start:e.end] == e.text for e in long.entities)
    assert long.entities[-1].end > len(text) - 80  # the end of the text was read too


def test_config_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {encoder: tiny, max_lenght: 64}\ndata: {train: [a], dev: [b]}\n"
                   "training: {output_dir: x, epochs: zero}\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    msg = str(err.value)
    assert "model.max_lenght: Extra inputs are not permitted" in msg
    assert "training.epochs" in msg
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(TINY, ["epochs=3"])
    # an unquoted `no` is YAML's false: still accelerate's "no"
    assert load_config(TINY, ["training.mixed_precision=no"]).training.mixed_precision == "no"


@pytest.mark.skipif(os.environ.get("LIQA_SKIP_SLOW") == "1", reason="slow")
def test_two_process_training(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--cpu",
           str(ROOT / "train.py"), "--config", str(TINY), f"training.output_dir={out}",
           f"data.train=[{FIXTURE}]", f"data.dev=[{FIXTURE}]", "training.epochs=2"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "best" / "model.safetensors").exists()
    assert len((out / "log.jsonl").read_text().splitlines()) == 2


def test_length_grouped_batches_cover_every_window_once():
    from liqa.data import LengthGroupedBatches

    lengths = [(i * 37) % 300 + 2 for i in range(1001)]
    sampler = LengthGroupedBatches(lengths, batch_size=8, pool=10)
    torch.manual_seed(0)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(1001))
    # grouping keeps padding small: batches span a narrow length range, random ones do not
    def median_spread(bs):
        spread = sorted(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in bs)
        return spread[len(spread) // 2]

    perm = torch.randperm(len(lengths)).tolist()
    assert median_spread(batches) < 40 < 200 < median_spread([perm[k:k + 8] for k in range(0, 1001, 8)])
    torch.manual_seed(0)
    assert list(sampler) == batches  # same seed, same order: resume replays an epoch


def test_token_offsets_never_overlap():
    from liqa.encoder import tiny_encoder

    _, tok = tiny_encoder()
    text = "لدى سلطنة عمان، وفي ژنو دیدار کردند. Talks in Geneva."
    offsets = tokenize(tok, text).offsets
    for (s1, e1), (s2, e2) in zip(offsets, offsets[1:]):
        assert e1 <= s2 or s1 == e1, (offsets, text)
    covered = "".join(text[s:e] for s, e in offsets)
    assert covered == "".join(text.split())  # every non-space character exactly once


def test_pair_scores_equal_the_mlp_on_concatenated_pairs(trained):
    """score_pairs projects each span once; it must equal the pair MLP on [head; tail; distance]."""
    from liqa.model import _bucket

    model, _ = LiqaModel.from_pretrained(trained / "best")
    torch.manual_seed(0)
    states = torch.randn(2, 12, model.encoder.config.hidden_size)
    span_batch, span_start = torch.tensor([0, 0, 1, 1, 1]), torch.tensor([1, 4, 2, 5, 9])
    span_end, span_type = span_start + torch.tensor([2, 1, 3, 1, 2]), torch.tensor([0, 1, 2, 3, 1])
    head, tail, typ = torch.tensor([0, 1, 2, 2, 4]), torch.tensor([1, 0, 3, 4, 2]), torch.tensor([0, 1, 2, 3, 4])
    got = model.score_pairs(states, span_batch, span_start, span_end, span_type, head, tail, typ)
    spans = torch.cat([states[span_batch, span_start], states[span_batch, span_end - 1],
                       model.type_emb(span_type)], -1)
    x = torch.cat([spans[head], spans[tail], model.dist_emb(_bucket(span_start[tail] - span_start[head]))], -1)
    want = model.pair_mlp(x).gather(1, typ.unsqueeze(1)).squeeze(1)
    assert torch.allclose(got, want, atol=1e-5)
