"""A Label Studio ML backend: liqa's predictions as pre-annotations in a running Label Studio.

Label Studio (1.23) calls an ML backend over HTTP (label_studio/ml/api_connector.py):

- ``GET /health``: any 200 JSON answer means the backend is up;
- ``POST /setup`` with ``{"project", "schema": LABEL_CONFIG, ...}``: answers ``{"model_version"}``;
  Label Studio skips tasks that already hold a prediction of that version;
- ``POST /predict`` with ``{"tasks": [TASK...], "label_config", ...}``: answers
  ``{"results": [PREDICTION or [], ...]}``, one item per task in order; an empty list
  stores no prediction for its task (a task that cannot be read);
- ``POST /webhook``: the events Label Studio sends to every ML backend (annotation
  created, ...); liqa trains offline with train.py, so they are acknowledged only.

A prediction is what `labelstudio.prediction` writes for ``annotations export
--predictions``: spans with UTF-16 offsets and events as links from their trigger,
for the labeling interface of `labelstudio.label_config()`. The model is loaded
once; requests are answered one at a time.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from liqa.annotations.labelstudio import FROM_NAME, TO_NAME, prediction
from liqa.schema import ENTITY_TYPES, LANGS, Document
from liqa.text import guess_lang

log = logging.getLogger("liqa.labelstudio")


class ConfigError(ValueError):
    """The project's labeling interface cannot show liqa's spans."""


def text_key(label_config: str) -> str:
    """The task data key holding the text, read off the labeling interface.

    Raises ConfigError if the interface has no ``<Labels name="label" toName="text">``
    with every liqa span type, or no ``<Text name="text" value="$KEY">``.
    """
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError as exc:
        raise ConfigError(f"the labeling config is not XML: {exc}") from None
    labels = [e for e in root.iter("Labels") if e.get("name") == FROM_NAME and e.get("toName") == TO_NAME]
    texts = [e for e in root.iter("Text") if e.get("name") == TO_NAME]
    hint = "use liqa's labeling config (label_config.xml written by 'annotations export --to labelstudio')"
    if not labels:
        raise ConfigError(f'no <Labels name="{FROM_NAME}" toName="{TO_NAME}">: {hint}')
    missing = set(ENTITY_TYPES) - {e.get("value") for e in labels[0].iter("Label")}
    if missing:
        raise ConfigError(f"the labels lack {', '.join(sorted(missing))}: {hint}")
    if not texts or not (texts[0].get("value") or "").startswith("$"):
        raise ConfigError(f'no <Text name="{TO_NAME}" value="$..."> to label: {hint}')
    return texts[0].get("value")[1:]


def model_version(model_dir: str | Path) -> str:
    """Name and content hash of a model directory, e.g. "liqa-default-1a2b3c4d".

    A retrained or recalibrated model gets a new version, so Label Studio asks for new predictions.
    """
    model_dir = Path(model_dir)
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        with open(model_dir / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return f"liqa-{model_dir.resolve().name}-{digest.hexdigest()[:8]}"


def task_document(task: Any, key: str) -> Document:
    """The document of one Label Studio task; ValueError says why a task cannot be read."""
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get(key), str) or not data[key].strip():
        raise ValueError(f"no text in data.{key}")
    text = data[key]
    lang = data.get("lang")
    if lang not in LANGS:
        if lang is not None:
            log.warning("task %s: data.lang %r is not one of %s: guessed from the script",
                        task.get("id"), lang, ", ".join(LANGS))
        lang = guess_lang(text)
    date = data.get("date")
    return Document(id=str(data.get("doc_id") or f"task-{task.get('id', '?')}"), lang=lang, text=text,
                    date=str(date) if date else None)


class Backend:
    """liqa's side of the protocol, independent of the web framework (tested without a server)."""

    def __init__(self, predictor, version: str):
        self.predictor, self.version = predictor, version
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    def setup(self, request: dict) -> dict:
        """Raises ConfigError if the project's interface cannot show liqa's spans."""
        key = text_key(request.get("schema") or "")
        log.info("setup: project %s, text in data.%s, model %s", request.get("project"), key, self.version)
        return {"model_version": self.version}

    def predict(self, request: dict) -> dict:
        """One prediction per task, in order; [] for a task that cannot be read (logged)."""
        tasks = request.get("tasks")
        if not isinstance(tasks, list):
            raise ValueError("the request has no list of tasks")
        key = text_key(request["label_config"]) if request.get("label_config") else TO_NAME
        docs: dict[int, Document] = {}
        for i, task in enumerate(tasks):
            try:
                docs[i] = task_document(task, key)
            except ValueError as exc:
                log.warning("task %s: %s: no prediction", task.get("id") if isinstance(task, dict) else i, exc)
        start = time.perf_counter()
        with self._lock:
            preds = dict(zip(docs, self.predictor.predict(docs.values())))
        results = [prediction(preds[i], self.version) if i in preds else [] for i in range(len(tasks))]
        log.info("predict: %d tasks (ids %s) in %.2f s: %d spans, %d events", len(tasks),
                 ", ".join(str(t.get("id")) for t in tasks if isinstance(t, dict)), time.perf_counter() - start,
                 sum(len(p.entities) for p in preds.values()), sum(len(p.events) for p in preds.values()))
        return {"results": results}


def create_app(backend: Backend):
    """The FastAPI application serving `backend`."""
    from fastapi import Body, FastAPI, HTTPException

    app = FastAPI(title="liqa Label Studio ML backend", version=backend.version)

    @app.get("/")
    @app.get("/health")
    def health() -> dict:
        return {"status": "UP", "model_class": "liqa", "model_version": backend.version}

    @app.post("/setup")
    def setup(request: dict = Body(...)) -> dict:
        try:
            return backend.setup(request)
        except ConfigError as exc:
            log.error("setup refused for project %s: %s", request.get("project"), exc)
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.post("/predict")
    def predict(request: dict = Body(...)) -> dict:
        try:
            return backend.predict(request)
        except ValueError as exc:  # ConfigError too
            log.error("predict refused: %s", exc)
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.post("/webhook")
    def webhook(event: dict = Body(...)) -> dict:
        log.debug("webhook %s ignored", event.get("action"))
        return {"status": "ok"}

    return app


def serve(model_dir: Path, host: str = "127.0.0.1", port: int = 9090, precision: str = "auto",
          batch_size: int = 8) -> int:
    """Load the model once and answer Label Studio until interrupted. Returns an exit code."""
    try:
        import uvicorn
    except ImportError:
        log.error("the ML backend needs FastAPI and uvicorn: pip install 'liqa[labelstudio]'")
        return 2
    from liqa.inference import load_predictor

    try:
        predictor = load_predictor(model_dir, precision, batch_size=batch_size)
        version = model_version(model_dir)
    except (OSError, ValueError) as exc:
        log.error("cannot load model: %s", exc)
        return 2
    log.info("model %s loaded (%s, %s); listening on http://%s:%d", version, predictor.precision,
             predictor.precision_reason, host, port)
    uvicorn.run(create_app(Backend(predictor, version)), host=host, port=port, log_level="info")
    return 0
