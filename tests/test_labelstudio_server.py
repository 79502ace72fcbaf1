"""The Label Studio ML backend: its protocol with the tiny model, its HTTP server, and the whole
loop against a real Label Studio on 127.0.0.1 (skipped, with the reason, where none is installed).

The end-to-end test starts Label Studio with scripts/labelstudio.sh in a temporary data directory
(or uses the server at $LABEL_STUDIO_URL with $LABEL_STUDIO_USER_TOKEN), creates a project with
liqa's labeling config, connects `python -m liqa.annotations serve`, imports an Arabic and an
English task, has Label Studio retrieve predictions, and compares what Label Studio stored with
what liqa predicts for the same texts.
"""
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from liqa.annotations._interchange import Utf16Offsets
from liqa.annotations.labelstudio import label_config
from liqa.annotations.labelstudio_backend import Backend, ConfigError, model_version, text_key
from liqa.inference import Predictor
from liqa.model import LiqaModel
from liqa.schema import Document, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "tiny.jsonl"
LS_VENV = Path(os.environ.get("LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
TOKEN = os.environ.get("LABEL_STUDIO_USER_TOKEN", "liqa-local-labelstudio-token")  # the script's default
# A data directory whose database is already created (with the user holding TOKEN): a copy
# starts in about 11 s instead of 35 s.
TEMPLATE = ROOT / ".cache" / f"labelstudio-test-{hashlib.sha1(TOKEN.encode()).hexdigest()[:8]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 120):
    """(status, decoded JSON or text) of one request; HTTP errors are answers, not exceptions."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def wait_up(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if http("GET", url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not up after {seconds} s:\n{log.read_text()[-3000:]}")


def start(args: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """A server in its own process group that dies with this process, even a killed pytest run."""
    def die_with_parent():  # Linux prctl(PR_SET_PDEATHSIG, SIGTERM); kept across exec
        if sys.platform == "linux":
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)

    with open(log, "w") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=die_with_parent, **kwargs)


def stop(proc: subprocess.Popen) -> None:
    """End the process and its children (Django's autoreloader runs the server in a child)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def model_dir(tiny_run) -> Path:
    return tiny_run / "best"


@pytest.fixture(scope="module")
def predictor(model_dir) -> Predictor:
    return Predictor(*LiqaModel.from_pretrained(model_dir), precision="fp32")


@pytest.fixture(scope="module")
def tasks_data() -> list[dict]:
    """An Arabic and an English task; the English text starts with an emoji, two UTF-16 code
    units in JavaScript and one character in Python, so every offset after it differs."""
    docs = {d.id: d for d in read_jsonl(FIXTURE)}
    ar, en = docs["tiny-ar-1"], docs["tiny-en-1"]
    return [{"text": ar.text, "doc_id": ar.id, "lang": "ar"},
            {"text": "📰 " + en.text, "doc_id": en.id, "lang": "en"}]


def expected_spans(predictor: Predictor, data: dict) -> list[tuple[int, int, str, str]]:
    """(js start, js end, text, type) of liqa's own prediction for one task."""
    [pred] = predictor.predict([Document(id=data["doc_id"], lang=data["lang"], text=data["text"])])
    js = Utf16Offsets(data["text"])
    return sorted((js.to_js(e.start), js.to_js(e.end), e.text, e.type) for e in pred.entities)


def stored_spans(text: str, result: list[dict]) -> list[tuple[int, int, str, str]]:
    """Spans of a Label Studio result, each checked to point at its own text."""
    js, out = Utf16Offsets(text), []
    for r in result:
        if r["type"] == "labels":
            v = r["value"]
            assert text[js.to_py(v["start"]):js.to_py(v["end"])] == v["text"], r
            assert (r["from_name"], r["to_name"]) == ("label", "text")
            out.append((v["start"], v["end"], v["text"], v["labels"][0]))
    return sorted(out)


def check_prediction(pred: dict, data: dict, predictor: Predictor, version: str) -> None:
    spans = stored_spans(data["text"], pred["result"])
    assert spans, f"{data['doc_id']}: no spans predicted"
    assert spans == expected_spans(predictor, data)
    assert pred["model_version"] == version
    ids = {r["id"] for r in pred["result"] if r["type"] == "labels"}
    links = [r for r in pred["result"] if r["type"] == "relation"]
    assert all(r["from_id"] in ids and r["to_id"] in ids for r in links)


# --- the protocol, without a server ---------------------------------------------------------

def test_text_key_reads_the_labeling_config():
    assert text_key(label_config()) == "text"
    assert text_key(label_config().replace('value="$text"', 'value="$body"')) == "body"
    with pytest.raises(ConfigError, match="lack MEETING"):
        text_key(label_config().replace('value="MEETING"', 'value="EVENT"'))
    with pytest.raises(ConfigError, match='no <Labels name="label"'):
        text_key('<View><Text name="text" value="$text"/><Choices name="c" toName="text"/></View>')
    with pytest.raises(ConfigError, match="not XML"):
        text_key("<View>")


def test_backend_predicts_each_task_in_order(predictor, tasks_data, model_dir):
    version = model_version(model_dir)
    assert version.startswith("liqa-best-") and version == model_version(model_dir)
    backend = Backend(predictor, version)
    assert backend.setup({"project": "1.1", "schema": label_config()}) == {"model_version": version}
    with pytest.raises(ConfigError):
        backend.setup({"project": "1.1", "schema": "<View/>"})
    bad = [{"id": 8, "data": {"image": "x.png"}}, {"id": 9, "data": {"text": "  "}}]
    request = {"tasks": [{"id": 1, "data": tasks_data[0]}, *bad, {"id": 2, "data": tasks_data[1]}],
               "label_config": label_config()}
    results = backend.predict(request)["results"]
    assert len(results) == 4 and results[1] == [] and results[2] == []  # no prediction, the rest goes on
    for pred, data in zip((results[0], results[3]), tasks_data):
        check_prediction(pred, data, predictor, version)
        assert 0 < pred["score"] <= 1


# --- the HTTP server (the real command) -----------------------------------------------------

@pytest.fixture(scope="module")
def backend_url(model_dir, tmp_path_factory):
    port, log = free_port(), tmp_path_factory.mktemp("backend") / "backend.log"
    proc = start([sys.executable, "-m", "liqa.annotations", "serve", "--model", str(model_dir),
                  "--port", str(port), "--precision", "fp32"], log, cwd=ROOT,
                 env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{url}/health", proc, log, 120)
        yield url
    finally:
        stop(proc)


def test_server_answers_the_protocol(backend_url, tasks_data, predictor, model_dir):
    status, health = http("GET", f"{backend_url}/health")
    assert status == 200 and health["status"] == "UP" and health["model_version"] == model_version(model_dir)
    assert http("POST", f"{backend_url}/setup", {"project": "3.1", "schema": "<View/>"})[0] == 400
    assert http("POST", f"{backend_url}/webhook", {"action": "ANNOTATION_CREATED"}) == (200, {"status": "ok"})
    status, body = http("POST", f"{backend_url}/predict", {"tasks": [{"id": 5, "data": tasks_data[1]}]})
    assert status == 200
    check_prediction(body["results"][0], tasks_data[1], predictor, model_version(model_dir))


# --- the whole loop against a real Label Studio ----------------------------------------------

@pytest.fixture(scope="session")  # session: set up (or skipped) before the tiny model is trained
def label_studio(tmp_path_factory):
    """URL of a Label Studio server: $LABEL_STUDIO_URL, else one started by scripts/labelstudio.sh."""
    if os.environ.get("LABEL_STUDIO_URL"):
        yield os.environ["LABEL_STUDIO_URL"].rstrip("/")
        return
    if not (LS_VENV / "bin" / "label-studio").exists():
        pytest.skip(f"Label Studio is not installed in {LS_VENV}: run scripts/labelstudio.sh install "
                    "(or set LABEL_STUDIO_URL and LABEL_STUDIO_USER_TOKEN to a running server)")
    port, tmp = free_port(), tmp_path_factory.mktemp("labelstudio")
    data, log = tmp / "data", tmp / "labelstudio.log"
    if TEMPLATE.exists():
        shutil.copytree(TEMPLATE, data)
    env = {**os.environ, "LABEL_STUDIO_PORT": str(port), "LABEL_STUDIO_DATA_DIR": str(data),
           "LABEL_STUDIO_USER_TOKEN": TOKEN, "LABEL_STUDIO_VENV": str(LS_VENV)}
    proc = start(["bash", str(ROOT / "scripts" / "labelstudio.sh"), "start"], log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(f"{url}/health", proc, log, 300)  # the first start creates the database
        yield url
    finally:
        stop(proc)
    if not TEMPLATE.exists():
        shutil.copytree(data, TEMPLATE)


def test_label_studio_stores_liqas_predictions(label_studio, backend_url, tasks_data, predictor, model_dir):
    def api(method, path, body=None):
        status, answer = http(method, label_studio + path, body, token=TOKEN)
        assert status < 300, f"{method} {path}: {status} {answer}"
        return answer

    project = api("POST", "/api/projects", {"title": "liqa backend test", "label_config": label_config()})
    try:
        api("POST", f"/api/projects/{project['id']}/import", tasks_data)
        ml = api("POST", "/api/ml", {"project": project["id"], "url": backend_url, "title": "liqa"})
        assert ml["readable_state"] == "Connected" and ml["model_version"] == model_version(model_dir)
        done = api("POST", f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}",
                   {"selectedItems": {"all": True, "excluded": []}})
        assert done["processed_items"] == 2
        tasks = api("GET", f"/api/tasks?project={project['id']}&fields=all")["tasks"]
        by_doc = {t["data"]["doc_id"]: t for t in tasks}
        for data in tasks_data:
            task = by_doc[data["doc_id"]]
            assert task["data"]["text"] == data["text"]
            [pred] = api("GET", f"/api/predictions?task={task['id']}")
            check_prediction(pred, data, predictor, model_version(model_dir))
    finally:
        api("DELETE", f"/api/projects/{project['id']}")
