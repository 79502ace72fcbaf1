"""The Python API: load a model once, then extract meeting events from texts.

    import liqa
    extract = liqa.load()  # the shipped model
    doc = extract("Antonio Guterres met William Ruto in Nairobi on Thursday.", date="2024-03-14")
    [p["text"] for p in doc["events"][0]["participants"]]

Each result is the dict predict.py writes for the same input (liqa/prediction.schema.json).
Nothing heavy is imported until `load` is called, so `import liqa` stays fast.
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def default_model() -> Path:
    """The shipped model's directory: package data in an installed wheel (see pyproject.toml),
    models/default in a source checkout or an editable install."""
    packaged = PACKAGE / "default_model"
    return packaged if packaged.is_dir() else PACKAGE.parent / "models" / "default"


class Extractor:
    """A loaded model: call it with a text, a record, or a list of them.

    Use `load` to make one.
    """

    def __init__(self, predictor, max_chars: int) -> None:
        self.predictor = predictor  # liqa.inference.Predictor: the model, tokenizer and batching
        self.max_chars = max_chars

    @property
    def precision(self) -> str:
        """"fp32" or "bf16": the encoder arithmetic `load` chose."""
        return self.predictor.precision

    def __call__(self, texts: str | dict | Sequence[str | dict], lang: str | None = None,
                 date: str | datetime.date | None = None) -> dict | list[dict]:
        """The prediction for one text (a dict), or for each of a list (a list of dicts, in order).

        A text may be a string or a record {"id", "text", optional "lang", "date"} as in predict.py's
        JSONL input. A string's id is its 1-based position in the call ("1", "2", ...). `lang`
        ("ar", "fa" or "en"; guessed from the script when None, with a warning in the result, as
        predict.py does) and `date` (the publication date, ISO 8601, against which "yesterday" or
        "on Tuesday" are resolved) apply to the strings and to records that do not carry their own.

        Every input is checked before any prediction: a ValueError names each bad one (empty
        text, unknown language, a record without "id" or "text").
        """
        from liqa.inputs import InputError, record_item
        from liqa.output import to_output

        single = isinstance(texts, (str, dict))
        if isinstance(date, datetime.date):
            date = date.isoformat()
        items, errors = [], []
        for i, t in enumerate([texts] if single else texts, 1):
            rec = {"id": str(i), "text": t} if isinstance(t, str) else t
            if isinstance(rec, dict):
                rec = {**({"lang": lang} if lang else {}), **({"date": date} if date else {}), **rec}
            item = record_item(rec, f"text {i}", self.max_chars)
            (errors if isinstance(item, InputError) else items).append(item)
        if errors:
            raise ValueError("cannot read: " + "; ".join(map(str, errors)))
        preds = self.predictor.predict(it.doc for it in items)
        results = [to_output(pred, it.warnings) for it, pred in zip(items, preds)]
        return results[0] if single else results


def load(model: str | Path | None = None, precision: str = "auto", device: str | None = None,
         batch_size: int = 8, vocabulary: str | None = None, max_chars: int | None = None) -> Extractor:
    """An Extractor for a model directory (default: the shipped model).

    `precision`, `device`, `batch_size`, `vocabulary` and `max_chars` mean what predict.py's
    options of the same names mean; `device=None` is accelerate's choice (a GPU when there is one).
    Importing liqa.model here also registers the "liqa" model type with transformers' AutoConfig
    and AutoModel.
    """
    from liqa.inference import load_predictor
    from liqa.inputs import MAX_CHARS

    predictor = load_predictor(model or default_model(), precision, device, batch_size, vocabulary)
    return Extractor(predictor, max_chars or MAX_CHARS)
