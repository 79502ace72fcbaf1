"""The wheel: built from the source tree, installed in a fresh virtual environment, `liqa predict`
runs from a directory outside the repository with the shipped model it carries.

The wheel tests take about 15 s; deselect them with `pytest -m "not wheel"`.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}"
    return res


def test_the_liqa_command_dispatches_to_each_command_line():
    def liqa(*args):
        return subprocess.run([sys.executable, "-m", "liqa", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)

    assert liqa("--version").stdout.strip().startswith("liqa ")
    bad = liqa("predcit")
    assert bad.returncode == 2 and "invalid choice: 'predcit'" in bad.stderr
    for command, prog in (("predict", "liqa predict"), ("train", "liqa train"), ("evaluate", "liqa evaluate"),
                          ("annotations", "python -m liqa.annotations")):
        res = liqa(command, "--help")
        assert res.returncode == 0 and res.stdout.startswith(f"usage: {prog} "), res.stdout[:200]
    res = liqa("train", "--config", "no/such.yaml")  # the subcommand's own errors and exit codes
    assert res.returncode == 2 and "no/such.yaml" in res.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a copy of what the build reads (a build in the tree itself would write build/
    and liqa.egg-info there, where other runs may be building too)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "liqa", src / "liqa", ignore=skip)
    shutil.copytree(ROOT / "models" / "default", src / "models" / "default", ignore=skip)
    dist = tmp_path_factory.mktemp("dist")
    # the build needs only setuptools, already in this environment: no index, no isolation
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", dist, src)
    (whl,) = dist.glob("liqa-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new environment with the wheel installed; this environment's packages (torch, ...) are
    linked in rather than reinstalled, all but liqa's own editable install."""
    env = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--system-site-packages", env)
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    ours = Path(sysconfig.get_path("purelib"))
    for entry in ours.iterdir():
        if not entry.name.startswith(("liqa", "__editable__")) and not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    # dependencies are resolved against the linked packages: the ranges in pyproject.toml must
    # admit the versions this project is tested with, and nothing is downloaded
    _run(python, "-m", "pip", "install", "--no-index", "-q", wheel)
    return env


@pytest.mark.wheel
def test_the_wheel_holds_every_package_and_the_shipped_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "liqa").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names, "a package is missing from pyproject's list"
    shipped = {p.name for p in (ROOT / "models" / "default").iterdir()}
    assert {f"liqa/default_model/{n}" for n in shipped} <= names
    assert "liqa/prediction.schema.json" in names
    assert not any(n.startswith(("models/", "tests/")) for n in names)


@pytest.mark.wheel
def test_installed_liqa_predicts_with_its_own_model(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # the repository's encoder cache: rebuilding multilingual-e5-small would take minutes
    env.update(HF_HUB_OFFLINE="1", LIQA_CACHE=str(ROOT / ".cache"))
    where = _run(venv / "bin" / "python", "-c", "import liqa; print(liqa.__file__); print(liqa.default_model())",
                 cwd=tmp_path, env=env).stdout.split()
    assert all(Path(w).is_relative_to(venv) for w in where), where  # not the source tree
    assert Path(where[1]).name == "default_model"
    out = tmp_path / "out.jsonl"
    _run(venv / "bin" / "liqa", "predict", ROOT / "examples" / "en-guterres-ruto.txt", "--out", out,
         "--precision", "fp32", cwd=tmp_path, env=env)
    (doc,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert doc["id"] == "en-guterres-ruto" and doc["events"], doc
    names = {p["text"] for ev in doc["events"] for p in ev["participants"]}
    assert any("Guterres" in n for n in names) and any("Ruto" in n for n in names), names
    assert "usage: liqa" in _run(venv / "bin" / "liqa", "--help", cwd=tmp_path, env=env).stdout
