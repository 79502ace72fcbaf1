"""Predictions are valid annotations: every span, relation and event the decoder emits
passes the project's own validator, so accepted pre-annotations are never refused."""
from pathlib import Path

import pytest

from liqa.annotations.validate import check_document
from liqa.inference import Predictor
from liqa.model import LiqaModel
from liqa.schema import read_jsonl

ROOT = Path(__file__).resolve().parents[1]


def corpus(*splits: str) -> list:
    return [d.unannotated() for s in splits for f in sorted((ROOT / "annotations" / s).glob("*.jsonl"))
            for d in read_jsonl(f)]


def problems(model_dir: Path, docs: list) -> list[str]:
    net, tok = LiqaModel.from_pretrained(model_dir)
    return [f"{p.id}: {pb.message}" for p in Predictor(net, tok, batch_size=16).predict(docs)
            for pb in check_document(p)]


def test_the_tiny_models_noisy_predictions_on_the_whole_corpus_validate(tiny_run):
    # a barely trained model tags at random across line breaks and layers: the decoder must hold
    docs = corpus("train", "dev", "test")
    assert len(docs) > 700
    assert problems(tiny_run / "best", docs) == []


def test_the_shipped_models_predictions_on_the_test_split_validate():
    model = ROOT / "models" / "default"
    if not (model / "config.json").exists():
        pytest.skip(f"no shipped model at {model}")
    assert problems(model, corpus("test")) == []
