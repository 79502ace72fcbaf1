"""Broken training data, inputs users really have, kills and resumes, and no pickle on load."""
import codecs
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from liqa import training
from liqa.config import load_config
from liqa.data import DataError, check_data, load_documents
from liqa.inputs import InputError, read_inputs

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"
TINY = ROOT / "configs" / "tiny.yaml"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _fixture_docs() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def _shifted(doc: dict, new_id: str) -> dict:
    """The document with its first entity's end moved two characters on: the validator rejects it."""
    bad = json.loads(json.dumps(doc))
    bad["id"] = new_id
    bad["entities"][0]["end"] += 2
    return bad


def _write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def _run(script: str, *args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=ENV, **kw)


# --- 1. training validates its data ---------------------------------------------------------------

def test_train_refuses_invalid_data_before_any_work(tmp_path):
    data = _write_jsonl(tmp_path / "train.jsonl", _fixture_docs() + [_shifted(_fixture_docs()[0], "bad-1")])
    res = _run("train.py", "--config", TINY, f"training.output_dir={tmp_path / 'run'}",
               f"data.train=[{data}]", f"data.dev=[{FIXTURE}]")
    assert res.returncode == 2
    assert f"{data}:7: bad-1: " in res.stderr and "covers" in res.stderr
    assert "data.train: 2 problem(s) in 1 document(s)" in res.stderr and "--skip-invalid" in res.stderr
    assert not (tmp_path / "run").exists()  # nothing was built


@pytest.mark.parametrize("key", ["train", "dev"])
def test_missing_or_empty_data_path_is_one_line_naming_the_key(tmp_path, key):
    other = "dev" if key == "train" else "train"
    res = _run("train.py", "--config", TINY, f"training.output_dir={tmp_path / 'run'}",
               f"data.{key}=[{tmp_path / 'nope'}]", f"data.{other}=[{FIXTURE}]")
    assert res.returncode == 2 and res.stderr.strip() == f"error: data.{key}: {tmp_path / 'nope'} does not exist"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=f"data.{key}: no .jsonl documents in"):
        check_data([tmp_path / "empty"], f"data.{key}")


def test_duplicate_ids_and_unreadable_lines_are_data_errors(tmp_path):
    docs = _fixture_docs()
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps(docs[0]) + "\n{not json\n" + json.dumps(docs[0]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        check_data([data], "data.train")
    assert f"{data}:2: -: not valid JSON" in str(err.value)
    assert f"{data}:3: tiny-ar-1: document id also used at {data}:1" in str(err.value)


def test_skip_invalid_drops_those_documents_and_records_them(tmp_path):
    docs = _fixture_docs()
    data = tmp_path / "t.jsonl"
    data.write_text(json.dumps(docs[0]) + "\n{not json\n" + json.dumps(_shifted(docs[1], "bad-1")) + "\n"
                    + "".join(json.dumps(d) + "\n" for d in docs[2:]), encoding="utf-8")
    checked = check_data([data], "data.train", skip_invalid=True)
    assert checked.drop == {data: {2, 3}}
    assert [(s["where"], s["id"]) for s in checked.skipped] == [(f"{data}:2", "-"), (f"{data}:3", "bad-1")]
    kept = load_documents([data], checked.drop)
    assert [d.id for d in kept] == [docs[0]["id"]] + [d["id"] for d in docs[2:]]

    out = tmp_path / "run"
    training.train(load_config(TINY, [f"training.output_dir={out}", f"data.train=[{data}]", f"data.dev=[{FIXTURE}]",
                                      "training.epochs=1", "training.calibrate=false"]), skip_invalid=True)
    record = json.loads((out / "data.json").read_text())
    assert sum(record["train"].values()) == len(docs) - 1
    assert {(s["data"], s["id"]) for s in record["skipped"]} == {("train", "-"), ("train", "bad-1")}


# --- 2. byte-order marks ----------------------------------------------------------------------------

TEXT = "استقبل الرئيس وفداً في القاهرة. Ruto met Guterres in Nairobi."


@pytest.mark.parametrize("codec,bom", [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
                                       ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE),
                                       ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_text_with_a_byte_order_mark_is_read(tmp_path, codec, bom):
    f = tmp_path / "a.txt"
    f.write_bytes(bom + TEXT.encode(codec))
    (item,) = read_inputs([str(f)])
    assert not isinstance(item, InputError), item
    assert item.doc.text == TEXT and item.where == str(f)
    j = tmp_path / "b.jsonl"
    j.write_bytes(bom + (json.dumps({"id": "x", "text": TEXT}) + "\n").encode(codec))
    (item,) = read_inputs([str(j)])
    assert item.doc.text == TEXT and item.where == f"{j}:1"


def test_other_encodings_are_still_refused_clearly(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(TEXT.encode("utf-16-le"))  # no mark: cannot be told from binary
    (err,) = read_inputs([str(f)])
    assert isinstance(err, InputError) and "byte-order mark" in err.message
    g = tmp_path / "b.txt"
    g.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # a lone surrogate after the mark
    (err,) = read_inputs([str(g)])
    assert isinstance(err, InputError) and err.message.startswith("not UTF-16 text after its byte-order mark")


# --- 3. duplicate ids ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_dir(tiny_run):
    return tiny_run / "best"


def test_duplicate_ids_warn_keep_both_and_resume_counts_them(model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{"id": "a", "text": "Ruto met Guterres in Nairobi."}, {"id": "b", "text": "Fidan met Haniyeh."},
                       {"id": "a", "text": "Albanese met Carney in Sandton."}])
    out = tmp_path / "out.jsonl"
    res = _run("predict.py", src, "--model", model_dir, "--out", out)
    assert res.returncode == 0, res.stderr
    assert f"warning: document id 'a' at {src}:3 is also used at {src}:1" in res.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a", "b", "a"]
    assert "Albanese" in lines[2] or json.loads(lines[2]) != json.loads(lines[0])
    # killed after the first two lines: resume writes the second "a", which a set of ids would skip
    out.write_text(lines[0] + "\n" + lines[1] + "\n", encoding="utf-8")
    res = _run("predict.py", src, "--model", model_dir, "--out", out, "--resume")
    assert res.returncode == 0, res.stderr
    assert out.read_text(encoding="utf-8").splitlines() == lines


@pytest.mark.skipif(os.environ.get("LIQA_SKIP_SLOW") == "1", reason="slow")
def test_duplicate_ids_with_two_processes(model_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{"id": i, "text": f"Ruto met Guterres in Nairobi {k}."} for k, i in enumerate("abacab")])
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert _run("predict.py", src, "--model", model_dir, "--out", one).returncode == 0
    res = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--cpu",
                          str(ROOT / "predict.py"), str(src), "--model", str(model_dir), "--out", str(two)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert res.returncode == 0, res.stderr[-2000:]
    assert two.read_text(encoding="utf-8") == one.read_text(encoding="utf-8")


# --- 4. fault injection: SIGKILL, then resume ---------------------------------------------------------

def _kill_when(cmd: list[str], ready, timeout: float = 300) -> bool:
    """Start cmd, SIGKILL it as soon as ready() holds; False if it finished first."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while proc.poll() is None and time.time() < deadline:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    proc.wait()
    return False


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.skipif(os.environ.get("LIQA_SKIP_SLOW") == "1", reason="slow")
def test_predict_killed_at_several_points_then_resumed(model_dir, tmp_path):
    n = 300
    src = _write_jsonl(tmp_path / "in.jsonl", [
        {"id": f"d{i:03d}", "text": f"Ruto met Guterres in Nairobi on day {i}. " * (1 + i % 4)} for i in range(n)])
    ref = tmp_path / "ref.jsonl"
    assert _run("predict.py", src, "--model", model_dir, "--out", ref, "--precision", "fp32").returncode == 0
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, str(ROOT / "predict.py"), str(src), "--model", str(model_dir), "--out", str(out),
           "--precision", "fp32"]
    kills = 0
    for at in (1, 60, 150, 240):  # kill once the output holds at least this many lines
        kills += _kill_when(cmd + (["--resume"] if out.exists() else []), lambda: _lines(out) >= at)
    assert kills >= 3  # the run was really interrupted, several times
    assert _run("predict.py", src, "--model", model_dir, "--out", out, "--resume", "--precision", "fp32").returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines]  # every line valid JSON
    assert Counter(r["id"] for r in records) == Counter(f"d{i:03d}" for i in range(n))  # each exactly once
    assert lines == ref.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_resumed_run_batches_as_the_uninterrupted_one(model_dir, tmp_path, precision):
    # A score's last bits depend on the documents batched with it. Resuming after 247, 250 or 260
    # of these 300 documents changed a rounded score of this tiny model when the resumed run
    # started its chunks at the first unwritten document.
    src = _write_jsonl(tmp_path / "in.jsonl", [
        {"id": f"d{i:03d}", "text": f"Ruto met Guterres in Nairobi on day {i}. " * (1 + i % 4)} for i in range(300)])
    ref = tmp_path / "ref.jsonl"
    assert _run("predict.py", src, "--model", model_dir, "--out", ref, "--precision", precision).returncode == 0
    lines = ref.read_text(encoding="utf-8").splitlines(keepends=True)
    for written in (247, 250, 260):
        out = tmp_path / f"out{written}.jsonl"
        out.write_text("".join(lines[:written]), encoding="utf-8")  # what a kill after `written` leaves
        assert _run("predict.py", src, "--model", model_dir, "--out", out, "--resume",
                    "--precision", precision).returncode == 0
        assert out.read_text(encoding="utf-8") == "".join(lines), f"resumed after {written}"


@pytest.mark.skipif(os.environ.get("LIQA_SKIP_SLOW") == "1", reason="slow")
def test_train_killed_mid_epoch_resumes_to_the_same_weights(tmp_path):
    # 72 documents (the fixture twelve times) make an epoch long enough to be killed inside
    docs = [dict(d, id=f"{d['id']}-{k}") for k in range(12) for d in _fixture_docs()]
    data = _write_jsonl(tmp_path / "train.jsonl", docs)
    args = ["--config", str(TINY), f"data.train=[{data}]", f"data.dev=[{FIXTURE}]", "training.epochs=4",
            "training.patience=10", "training.calibrate=false"]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert _run("train.py", *args, f"training.output_dir={straight}").returncode == 0

    cmd = [sys.executable, str(ROOT / "train.py"), *args, f"training.output_dir={killed}"]
    log = killed / "log.jsonl"
    # after epoch 2's checkpoint, a moment into epoch 3
    ready = lambda: _lines(log) >= 2 and (killed / "last" / "trainer_state.json").exists() \
        and json.loads((killed / "last" / "trainer_state.json").read_text())["epoch"] == 2  # noqa: E731
    assert _kill_when(cmd, ready)
    assert _lines(log) == 2
    res = _run("train.py", *args, f"training.output_dir={killed}", "--resume")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "resuming after epoch 2" in res.stderr
    a, b = load_file(straight / "last" / "model.safetensors"), load_file(killed / "last" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert [json.loads(x)["epoch"] for x in log.read_text().splitlines()] == [1, 2, 3, 4]


# --- 5. nothing pickled is loaded ------------------------------------------------------------------

def test_loading_a_model_executes_no_pickle(model_dir, monkeypatch):
    from liqa.inference import Predictor
    from liqa.model import LiqaModel
    from liqa.schema import Document

    def refuse(*a, **kw):
        raise AssertionError("pickle used while loading a model")

    real_torch_load = torch.load

    def weights_only_load(*a, **kw):
        assert kw.get("weights_only", True) is True, "torch.load without weights_only"
        return real_torch_load(*a, **kw)

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", weights_only_load)
    model, tokenizer = LiqaModel.from_pretrained(model_dir)
    (pred,) = Predictor(model, tokenizer).predict([Document(id="x", lang="en", text="Ruto met Guterres.")])
    assert pred.id == "x"
    kinds = {p.suffix for p in model_dir.iterdir() if p.is_file()}
    assert kinds <= {".safetensors", ".json", ".jsonl", ".yaml", ".md"}, kinds
