"""Run a trained model over documents: windows -> encoder -> tags + pair scores -> events."""
from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch

from liqa.data import TYPE2ID, Tokens, candidate_pairs, span_tokens, tokenize, window_bounds
from liqa.decoding import decode_layers, decode_links, merge_windows
from liqa.model import LiqaModel
from liqa.schema import Document, Entity


def quantize_int8(model: LiqaModel) -> LiqaModel:
    """Dynamic int8 quantization of the encoder's linear layers, for CPU inference.

    Weights become int8 and activations are quantized on the fly; the heads
    stay in float. torch marks this API deprecated, so its warnings are muted.
    """
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.encoder = quantize_dynamic(model.encoder, {torch.nn.Linear}, dtype=torch.qint8)
    return model


PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16(device: str | torch.device = "cpu") -> str | None:
    """Why `device` runs bfloat16 natively (e.g. "avx512_bf16"), or None if it does not."""
    device = torch.device(device)
    if device.type == "cuda":
        return "cuda bf16" if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":  # torch's own CPU probes (private; absent in some builds)
        for name, probe in (("amx", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported")):
            if getattr(torch.cpu, probe, lambda: False)():
                return name
    return None


def resolve_precision(precision: str, device: str | torch.device = "cpu") -> tuple[str, str]:
    """("fp32" or "bf16", why): `auto` is bf16 where the device has it natively, fp32 elsewhere."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision, "as asked"
    why = native_bf16(device)
    return ("bf16", f"the {torch.device(device).type} has {why}") if why else ("fp32", "no native bfloat16 here")


def with_bf16_linears(model: LiqaModel) -> LiqaModel:
    """A copy of `model` whose encoder keeps its Linear weights in bfloat16, sharing every other
    tensor with the original (which stays fp32). Under autocast the result is the same to the
    bit, but autocast casts a frozen fp32 weight again on every batch: 5-10% of the encoder's time."""
    linear = {id(p) for m in model.encoder.modules() if isinstance(m, torch.nn.Linear) for p in m.parameters()}
    memo = {id(t): t for t in (*model.parameters(), *model.buffers()) if id(t) not in linear}
    if hasattr(model, "tokenizer"):  # set by the AutoModel path; a tokenizer need not be copied
        memo[id(model.tokenizer)] = model.tokenizer
    twin = copy.deepcopy(model, memo)
    for m in twin.encoder.modules():
        if isinstance(m, torch.nn.Linear):
            m.to(torch.bfloat16)
    return twin


def load_predictor(model_dir: str | Path, precision: str = "auto", device: str | torch.device | None = None,
                   batch_size: int = 8, vocabulary: str | None = None) -> Predictor:
    """The model of a directory, ready to predict; `device` None is accelerate's choice (a GPU
    when there is one). Raises OSError or ValueError when the directory holds no usable model."""
    from accelerate import PartialState

    model, tokenizer = LiqaModel.from_pretrained(model_dir, vocabulary=vocabulary)
    return Predictor(model, tokenizer, batch_size=batch_size, precision=precision,
                     device=device or PartialState(cpu=device == "cpu").device)


class Predictor:
    """Predicts entities, relations and events for documents, in input order.

    Windows of many documents are batched together, longest first, so padding
    is small; documents come out as soon as their chunk is done.
    """

    def __init__(self, model: LiqaModel, tokenizer, batch_size: int = 8, chunk_docs: int = 32,
                 device: str | torch.device = "cpu", precision: str = "fp32"):
        self.model = model.eval().to(device)
        # bf16 runs the encoder only; its states come back as fp32 for the heads, so
        # tags and pair scores are computed (and compared) in fp32
        self.precision, self.precision_reason = resolve_precision(precision, device)
        self.bf16 = self.precision == "bf16"
        if self.bf16:
            self.model = with_bf16_linears(self.model)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.chunk_docs = chunk_docs
        self.device = torch.device(device)
        cfg = model.config
        self.size, self.overlap, self.thresholds = cfg.max_length - 2, cfg.overlap, cfg.link_thresholds

    def predict(self, docs: Iterable[Document]) -> Iterator[Document]:
        chunk: list[Document] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) == self.chunk_docs:
                yield from self._predict_chunk(chunk)
                chunk = []
        if chunk:
            yield from self._predict_chunk(chunk)

    def batches(self, tokens: list[Tokens]) -> Iterator[tuple[list[tuple[int, int, int]], torch.Tensor, torch.Tensor]]:
        """Windows of the tokenized documents as padded batches, longest first.

        Yields (jobs, input_ids, attention_mask); a job is (document index,
        first token, end token) of one window.
        """
        jobs = [(i, s, e) for i, t in enumerate(tokens)
                for s, e in (window_bounds(len(t.ids), self.size, self.overlap) if t.ids else [])]
        jobs.sort(key=lambda j: j[2] - j[1], reverse=True)
        for b in range(0, len(jobs), self.batch_size):
            batch = jobs[b:b + self.batch_size]
            width = max(e - s for _, s, e in batch) + 2
            ids = torch.full((len(batch), width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for k, (i, s, e) in enumerate(batch):
                row = [self.tokenizer.cls_token_id, *tokens[i].ids[s:e], self.tokenizer.sep_token_id]
                ids[k, :len(row)] = torch.tensor(row)
                mask[k, :len(row)] = 1
            yield batch, ids, mask

    def _predict_chunk(self, docs: list[Document]) -> list[Document]:
        return [self.decode(doc, entities, scores) for doc, entities, scores in self.score(docs)]

    def decode(self, doc: Document, entities: list[Entity], pair_scores: dict[tuple[str, str], float],
               thresholds: dict[str, float] | None = None) -> Document:
        """The document with its entities, relations and events (thresholds: the model's by default)."""
        relations, events = decode_links(entities, pair_scores, thresholds or self.thresholds)
        return doc.model_copy(update={"entities": entities, "relations": relations, "events": events})

    @torch.no_grad()
    def score(self, docs: list[Document]) -> list[tuple[Document, list[Entity], dict[tuple[str, str], float]]]:
        """(document, its entities, pair probabilities by mention ids) for each document:
        everything the model says before links are decided (calibration re-decodes these)."""
        tokens = [tokenize(self.tokenizer, d.text) for d in docs]
        states: dict[tuple[int, int], torch.Tensor] = {}
        probs: dict[int, list[tuple[int, torch.Tensor]]] = defaultdict(list)
        for batch, ids, mask in self.batches(tokens):
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                h = self.model.encode(ids.to(self.device), mask.to(self.device))  # (B, T, H)
            h = h.float()
            # both tag layers and the shift probabilities travel together through window merging
            p = torch.cat([torch.softmax(x, -1) for x in self.model.tag(h)], -1).cpu()
            for k, (i, s, e) in enumerate(batch):
                states[(i, s)] = h[k, :e - s + 2]
                probs[i].append((s, p[k, 1:e - s + 1]))
        out = []
        for i, doc in enumerate(docs):
            if not probs[i]:
                out.append((doc, [], {}))
                continue
            merged = merge_windows(len(tokens[i].ids), probs[i])
            entities = decode_layers(merged, tokens[i].offsets, doc.text)
            out.append((doc, entities, self._score_pairs(i, tokens[i].offsets, entities, probs[i], states)))
        return out

    def _score_pairs(self, doc_i: int, offsets, entities, windows, states) -> dict[tuple[str, str], float]:
        """Mean pair probability over the windows that hold both spans."""
        ranges = {e.id: span_tokens(offsets, e.start, e.end) for e in entities}
        sums: dict[tuple[str, str], list[float]] = defaultdict(list)
        for start, win_probs in windows:
            end = start + win_probs.shape[0]
            inside = [e for e in entities if ranges[e.id] and start <= ranges[e.id][0] and ranges[e.id][1] <= end]
            pairs = candidate_pairs([e.type for e in inside], [e.start for e in inside])
            if not pairs:
                continue
            long = lambda xs: torch.tensor(xs, dtype=torch.long, device=self.device)  # noqa: E731
            h = states[(doc_i, start)].unsqueeze(0)  # (1, T, H)
            logits = self.model.score_pairs(
                h, span_batch=long([0] * len(inside)),
                span_start=long([ranges[e.id][0] - start + 1 for e in inside]),
                span_end=long([ranges[e.id][1] - start + 1 for e in inside]),
                span_type=long([TYPE2ID[e.type] for e in inside]),
                pair_head=long([p[0] for p in pairs]), pair_tail=long([p[1] for p in pairs]),
                pair_type=long([p[2] for p in pairs]))
            for (hi, ti, _), pr in zip(pairs, torch.sigmoid(logits).tolist()):
                sums[(inside[hi].id, inside[ti].id)].append(pr)
        return {k: sum(v) / len(v) for k, v in sums.items()}

