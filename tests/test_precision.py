"""bfloat16 prediction: chosen where the device has it, and the same results as fp32."""
import json
from pathlib import Path

import pytest

from liqa import inference
from liqa.inference import Predictor, native_bf16, resolve_precision
from liqa.schema import Document

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"

needs_bf16 = pytest.mark.skipif(native_bf16() is None,
                                reason="this CPU has no native bfloat16 (avx512_bf16 or AMX); bf16 would be emulated")


def test_auto_precision_follows_the_device(monkeypatch):
    monkeypatch.setattr(inference, "native_bf16", lambda device="cpu": None)
    assert resolve_precision("auto") == ("fp32", "no native bfloat16 here")
    monkeypatch.setattr(inference, "native_bf16", lambda device="cpu": "avx512_bf16")
    assert resolve_precision("auto") == ("bf16", "the cpu has avx512_bf16")
    assert resolve_precision("fp32") == ("fp32", "as asked")
    with pytest.raises(ValueError, match="choose one of auto, fp32, bf16"):
        resolve_precision("fp16")


@needs_bf16
def test_bf16_and_fp32_predictions_agree(tiny_run):
    from liqa.model import LiqaModel

    model, tok = LiqaModel.from_pretrained(tiny_run / "best")
    docs = [Document.model_validate(json.loads(line)).unannotated()
            for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    fp32, bf16 = Predictor(model, tok, precision="fp32"), Predictor(model, tok, precision="bf16")
    assert bf16.bf16 and not fp32.bf16
    for (doc, ents32, scores32), (_, ents16, scores16) in zip(fp32.score(docs), bf16.score(docs)):
        assert [(e.type, e.start, e.end) for e in ents16] == [(e.type, e.start, e.end) for e in ents32], doc.id
        assert scores16.keys() == scores32.keys()
        assert max((abs(scores16[k] - scores32[k]) for k in scores32), default=0) < 0.05, doc.id
    for a, b in zip(fp32.predict(docs), bf16.predict(docs)):
        assert [sorted(ev.participants) for ev in a.events] == [sorted(ev.participants) for ev in b.events], a.id


def test_bf16_linears_are_autocasts_arithmetic_in_a_copy(tiny_run):
    import torch

    from liqa.inference import with_bf16_linears
    from liqa.model import LiqaModel

    model, tok = LiqaModel.from_pretrained(tiny_run / "best")
    twin = with_bf16_linears(model)
    dtypes = {p.dtype for p in model.parameters()}
    assert dtypes == {torch.float32}, "the caller's model was changed"
    linears = [m for m in twin.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.weight.dtype == torch.bfloat16 for m in linears)
    assert twin.encoder.embeddings.word_embeddings.weight is model.encoder.embeddings.word_embeddings.weight
    assert twin.tagger.weight is model.tagger.weight  # heads shared, in fp32
    ids = tok(["Ruto met Guterres in Nairobi."], return_tensors="pt")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        a = model.encode(ids["input_ids"], ids["attention_mask"])
        b = twin.encode(ids["input_ids"], ids["attention_mask"])
    assert torch.equal(a, b)


def test_training_in_bf16_mixed_precision_on_cpu(tmp_path):
    import math
    import os
    import subprocess
    import sys

    # its own process: accelerate's state is a per-process singleton, set by earlier tests
    out = tmp_path / "bf16"
    res = subprocess.run([sys.executable, str(ROOT / "train.py"), "--config", str(ROOT / "configs" / "tiny.yaml"),
                          f"training.output_dir={out}", f"data.train=[{FIXTURE}]", f"data.dev=[{FIXTURE}]",
                          "training.epochs=2", "training.calibrate=false", "training.mixed_precision=bf16"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    losses = [json.loads(line)["train_loss"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses) and losses[1] < losses[0]
    assert (out / "best" / "model.safetensors").exists()
