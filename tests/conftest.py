"""Shared fixtures: everything offline, and one tiny model trained once per test session."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test may reach a model hub

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """Output directory of configs/tiny.yaml trained on the fixture documents (ar, fa, en)."""
    from liqa import training
    from liqa.config import load_config

    out = tmp_path_factory.mktemp("tiny")
    training.train(load_config(ROOT / "configs" / "tiny.yaml", [
        f"training.output_dir={out}", f"data.train=[{FIXTURE}]", f"data.dev=[{FIXTURE}]"]))
    return out
