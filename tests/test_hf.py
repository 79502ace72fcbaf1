"""Hugging Face conventions: config.json's keys, AutoConfig/AutoModel once liqa.model is imported,
and a model card whose metadata says how the model really loads."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import liqa.model  # noqa: F401  registers the "liqa" model type
from liqa import model_card
from liqa.model import LiqaConfig, LiqaModel
from liqa.schema import BIO_LABELS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"


def _front_matter(card: Path) -> dict:
    return yaml.safe_load(card.read_text(encoding="utf-8").split("---")[1])


@pytest.mark.parametrize("config_json", [SHIPPED / "config.json", "tiny"])
def test_config_json_names_its_architecture_and_labels(config_json, tiny_run):
    path = tiny_run / "best" / "config.json" if config_json == "tiny" else config_json
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["model_type"] == "liqa" and saved["architectures"] == ["LiqaModel"]
    assert saved["id2label"] == {str(i): label for i, label in enumerate(BIO_LABELS)}
    assert saved["label2id"] == {label: i for i, label in enumerate(BIO_LABELS)}


def test_auto_classes_load_a_liqa_model(tiny_run):
    from transformers import AutoConfig, AutoModel

    directory = tiny_run / "best"
    config = AutoConfig.from_pretrained(directory)
    assert isinstance(config, LiqaConfig) and config.id2label[1] == "B-PERSON" and config.label2id["O"] == 0
    config.link_thresholds["VENUE"] = 0.99  # AutoModel passes on the config AutoConfig read
    model = AutoModel.from_pretrained(directory, config=config)
    assert type(model) is LiqaModel and not model.training and model.config.link_thresholds["VENUE"] == 0.99
    ref, tokenizer = LiqaModel.from_pretrained(directory)
    assert len(model.tokenizer) == len(tokenizer)
    for (name, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(a, b), name


def test_the_shipped_model_loads_with_the_auto_classes():
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(SHIPPED)
    assert isinstance(config, LiqaConfig) and config.vocabulary == "arabic-latin"
    model = AutoModel.from_pretrained(SHIPPED)
    assert isinstance(model, LiqaModel) and model.config.architectures == ["LiqaModel"]
    ids = model.tokenizer("Guterres met Ruto.", return_tensors="pt")
    with torch.no_grad():
        states = model.encode(ids["input_ids"], ids["attention_mask"])
    assert model.tag(states)[0].shape[-1] == len(config.id2label)


def test_registration_waits_for_liqa_model():
    """`import liqa` stays fast; `import liqa.model` (which liqa.load does) registers."""
    code = ("import sys, liqa; assert 'transformers' not in sys.modules; import liqa.model; "
            "from transformers import AutoConfig; print(type(AutoConfig.from_pretrained(sys.argv[1])).__name__)")
    res = subprocess.run([sys.executable, "-c", code, str(SHIPPED)], capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert res.stdout.strip() == "LiqaConfig", res.stderr


def test_the_card_says_how_the_model_loads():
    front = _front_matter(SHIPPED / "README.md")
    assert front["library_name"] == "liqa"  # not transformers: AutoModel needs `import liqa.model` first
    assert front["pipeline_tag"] == "token-classification"
    config = json.loads((SHIPPED / "config.json").read_text(encoding="utf-8"))
    assert front["base_model"] == model_card.BASE_MODELS[config["encoder"]]
    assert yaml.safe_load(model_card.card_yaml("x", "y", {}))["library_name"] == front["library_name"]
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "liqa.load(" in card and "AutoModel.from_pretrained(" in card
    assert (ROOT / "model_cards" / "default.md").read_text(encoding="utf-8") == card
