"""Documents -> encoder windows with token tags and candidate span pairs.

A document is tokenized once, without special tokens; windows are overlapping
slices of that token sequence, so every token of every document is in some
window (nothing is truncated) and any window maps back to character offsets
through the token offsets.
"""
from __future__ import annotations

import bisect
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from liqa.entities import entity_groups
from liqa.schema import BIO_LABELS, LINK_FOR_TYPES, NESTABLE, NESTED_BIO_LABELS, PAIR_TYPES, Document, Entity, split_layers

logger = logging.getLogger(__name__)

LABEL2ID = {label: i for i, label in enumerate(BIO_LABELS)}
NESTED2ID = {label: i for i, label in enumerate(NESTED_BIO_LABELS)}
PAIR2ID = {name: i for i, name in enumerate(PAIR_TYPES)}
TYPE2ID = {t: i for i, t in enumerate(sorted({t for pair in LINK_FOR_TYPES for t in pair}))}
IGNORE = -100  # torch's CrossEntropyLoss ignore_index


@dataclass
class Tokens:
    ids: list[int]
    offsets: list[tuple[int, int]]  # per token, trimmed of surrounding white space; (s, s) when empty


def tokenize(tokenizer, text: str) -> Tokens:
    """Tokenize a whole document; offsets index the original text."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = []
    for s, e in enc["offset_mapping"]:
        # Metaspace pieces may include the space before a word; spans never do.
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        offsets.append((s, e))
    # A lone '▁' piece is given the first character of the word it precedes, which
    # the next piece covers too; it owns no text of its own, so make it empty.
    for k in range(len(offsets) - 1):
        s, e = offsets[k]
        if e > offsets[k + 1][0] >= s:
            offsets[k] = (s, s)
    return Tokens(ids=list(enc["input_ids"]), offsets=offsets)


def window_bounds(n_tokens: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Token ranges [start, end) of at most `size` tokens that cover 0..n_tokens.

    Consecutive windows share at least `overlap` tokens; the last window is
    aligned to the end so it is as full as the others.
    """
    if n_tokens <= size:
        return [(0, n_tokens)]
    step = max(size - overlap, 1)
    starts = list(range(0, n_tokens - size, step)) + [n_tokens - size]
    return [(s, s + size) for s in starts]


def span_tokens(offsets: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The token range [i, j) that overlaps characters [start, end), or None."""
    # Token starts never decrease: bisect to the first token past the span and walk back
    # over the span only (a linear scan per entity cost 4% of prediction time).
    k = bisect.bisect_left(offsets, end, key=lambda o: o[0]) - 1
    first = last = None
    while k >= 0:
        s, e = offsets[k]
        if s < e:
            if e <= start:
                break
            first, last = k, last if last is not None else k
        elif s < start:
            break
        k -= 1
    return (first, last + 1) if first is not None else None


MAX_SHIFT = 3  # characters a span may start after its first token starts: Arabic و/ب/ل/ف/ك and ال


def token_tags(tokens: Tokens, entities: Iterable[Entity], label2id: dict[str, int] = LABEL2ID
               ) -> tuple[list[int], list[int], int]:
    """IOB2 label id per token, start-shift label per token, and the number of
    spans whose edges the tokens cannot give.

    Arabic proclitics are often in one token with the name ("والهند" for the
    span "الهند"), so at a span's first token the model also learns how many
    characters to skip (0..MAX_SHIFT); other tokens get IGNORE. A span whose
    edges are still off after that is counted, so the loss is never silent.
    """
    tags = [label2id["O"] if s < e else IGNORE for s, e in tokens.offsets]
    shifts = [IGNORE] * len(tags)
    misaligned = 0
    for ent in entities:
        rng = span_tokens(tokens.offsets, ent.start, ent.end)
        if rng is None:
            misaligned += 1
            continue
        i, j = rng
        shift = ent.start - tokens.offsets[i][0]
        if not 0 <= shift <= MAX_SHIFT or tokens.offsets[j - 1][1] != ent.end:
            misaligned += 1
        shifts[i] = shift if 0 <= shift <= MAX_SHIFT else IGNORE
        tags[i] = label2id[f"B-{ent.type}"]
        for k in range(i + 1, j):
            if tags[k] != IGNORE:
                tags[k] = label2id[f"I-{ent.type}"]
    return tags, shifts, misaligned


def layer_tags(tokens: Tokens, entities: Iterable[Entity]) -> tuple[list[int], list[int], list[int], int]:
    """Outer-layer tags, inner-layer tags (ORG inside ROLE), start shifts of both, misaligned spans.

    The inner layer is trained only inside the spans it may nest in (ROLE),
    where decoding reads it. The layers share the start-shift labels; where an
    inner span starts on the same token as its outer one, the outer span's
    shift is kept.
    """
    outer, inner = split_layers(entities)
    tags, shifts, bad = token_tags(tokens, outer)
    nested, inner_shifts, bad_inner = token_tags(tokens, inner, NESTED2ID)
    hosts = {o for _, o in NESTABLE}
    inside = set()
    for e in outer:
        rng = span_tokens(tokens.offsets, e.start, e.end) if e.type in hosts else None
        inside |= set(range(*rng)) if rng else set()
    nested = [t if k in inside else IGNORE for k, t in enumerate(nested)]
    shifts = [a if a != IGNORE else b for a, b in zip(shifts, inner_shifts)]
    return tags, nested, shifts, bad + bad_inner


def gold_links(doc: Document) -> set[tuple[str, str]]:
    """(head id, tail id) of every true link, with events in their dense form:
    every trigger of an event links to every argument, and each trigger to
    every later one (SAME_EVENT is headed by the earlier, as in candidate_pairs)."""
    start = {e.id: e.start for e in doc.entities}
    links = {(r.head, r.tail) for r in doc.relations}
    for ev in doc.events:
        args = ev.participants + [a for a in (ev.venue, ev.date) if a]
        links |= {(t, a) for t in ev.triggers for a in args}
        links |= {(a, b) for a in ev.triggers for b in ev.triggers if start[a] < start[b]}
    return links


def coreferent_links(doc: Document, gold: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Pairs that are not gold links but join the same two entities as one
    ("هنية" beside the role given to "إسماعيل هنية"; the second "إسطنبول" of a
    venue): trained as negatives, they contradict the gold (liqa.entities)."""
    rep = entity_groups(doc.entities)
    linked = {(rep[h], rep[t]) for h, t in gold}
    ids = [e.id for e in doc.entities]
    return {(h, t) for h in ids for t in ids
            if h != t and (h, t) not in gold and (rep[h], rep[t]) in linked}


CoreferentLinks = Literal["positive", "masked", "negative"]
MASKED = -1.0  # pair label left out of the loss


def candidate_pairs(types: list[str], starts: list[int]) -> list[tuple[int, int, int]]:
    """(head index, tail index, pair type id) for every pair that some link type allows.

    SAME_EVENT is symmetric, so only the earlier trigger heads it.
    """
    pairs = []
    for i, ht in enumerate(types):
        for j, tt in enumerate(types):
            name = LINK_FOR_TYPES.get((ht, tt))
            if i == j or name is None or (name == "SAME_EVENT" and starts[i] >= starts[j]):
                continue
            pairs.append((i, j, PAIR2ID[name]))
    return pairs


@dataclass
class Window:
    """One encoder input: a slice of a document's tokens with what it holds."""

    doc_index: int
    token_start: int  # index of the first document token in this window
    input_ids: list[int]  # with the special tokens
    labels: list[int]
    nested: list[int]  # inner-layer tags (NESTED_BIO_LABELS)
    shifts: list[int]  # characters to skip at a span's first token, IGNORE elsewhere
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (first, end) input positions, type id
    span_ids: list[str] = field(default_factory=list)  # entity id per span
    pairs: list[tuple[int, int, int]] = field(default_factory=list)  # (head span, tail span, pair type)
    pair_labels: list[float] = field(default_factory=list)


@dataclass
class Coverage:
    """What windowing could not represent, reported per split (never silent)."""

    entities: int = 0
    misaligned: int = 0
    links: int = 0
    links_in_no_window: int = 0

    def report(self, name: str) -> str:
        return (f"{name}: {self.entities} spans, {self.misaligned} whose edges tokens cannot give; "
                f"{self.links} links, {self.links_in_no_window} in no single window")


def document_windows(doc: Document, doc_index: int, tokenizer, size: int, overlap: int,
                     coverage: Coverage | None = None, coreferent: CoreferentLinks = "masked") -> list[Window]:
    """Training windows of a document: tags for all tokens, gold spans and labeled pairs.

    `coreferent` says how a pair joining the same entities as a gold link is
    labeled (see coreferent_links): 1, left out of the loss, or 0.
    """
    tokens = tokenize(tokenizer, doc.text)
    tags, nested, shifts, misaligned = layer_tags(tokens, doc.entities)
    gold = gold_links(doc)
    coref = coreferent_links(doc, gold) if coreferent != "negative" else set()
    coref_label = 1.0 if coreferent == "positive" else MASKED
    ranges = {e.id: span_tokens(tokens.offsets, e.start, e.end) for e in doc.entities}
    seen_links: Counter = Counter()
    windows = []
    for ws, we in window_bounds(len(tokens.ids), size, overlap):
        inside = [e for e in doc.entities if ranges[e.id] and ws <= ranges[e.id][0] and ranges[e.id][1] <= we]
        w = Window(doc_index=doc_index, token_start=ws,
                   input_ids=[tokenizer.cls_token_id, *tokens.ids[ws:we], tokenizer.sep_token_id],
                   labels=[IGNORE, *tags[ws:we], IGNORE], nested=[IGNORE, *nested[ws:we], IGNORE],
                   shifts=[IGNORE, *shifts[ws:we], IGNORE])
        for e in inside:
            i, j = ranges[e.id]
            w.spans.append((i - ws + 1, j - ws + 1, TYPE2ID[e.type]))  # +1 for the leading special token
            w.span_ids.append(e.id)
        for h, t, kind in candidate_pairs([e.type for e in inside], [e.start for e in inside]):
            w.pairs.append((h, t, kind))
            pair = (inside[h].id, inside[t].id)
            hit = pair in gold
            w.pair_labels.append(float(hit) if pair not in coref else coref_label)
            seen_links[(inside[h].id, inside[t].id)] += hit
        windows.append(w)
    if coverage is not None:
        coverage.entities += len(doc.entities)
        coverage.misaligned += misaligned
        coverage.links += len(gold)
        coverage.links_in_no_window += sum(1 for link in gold if not seen_links[link])
    return windows


class DataError(ValueError):
    """Training data that cannot be used as given; the message names the config key or file:line."""


@dataclass
class CheckedData:
    """What `check_data` found: the lines `load_documents` must leave out, and why."""

    drop: dict[Path, set[int]] = field(default_factory=dict)  # file -> JSONL line numbers
    skipped: list[dict] = field(default_factory=list)  # {"where", "id", "message"} per problem


def check_data(paths: Iterable[str | Path], key: str, skip_invalid: bool = False) -> CheckedData:
    """Run the annotation validator over training or dev data before anything is built.

    Raises DataError for a path that does not exist or holds no documents (naming the config
    `key`), and for any invalid document, listing every problem as ``file:line: doc-id: message``
    — unless `skip_invalid`, which leaves those documents out with one warning each.
    """
    from liqa.annotations import find_files, load, validate

    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise DataError(f"{key}: {p} does not exist")
    files = [f for f in find_files(paths) if f.suffix == ".jsonl"]
    if not files:
        raise DataError(f"{key}: no .jsonl documents in {', '.join(map(str, paths))}")
    located, issues = load(files)
    issues += validate(located)
    if not issues:
        return CheckedData()
    bad_ids = {i.doc_id for i in issues}
    if not skip_invalid:
        raise DataError("\n".join(map(str, issues)) + f"\n{key}: {len(issues)} problem(s) in "
                        f"{len(bad_ids)} document(s); fix them (python -m liqa.annotations validate) "
                        "or pass --skip-invalid to train without them")
    checked = CheckedData()
    for issue in issues:
        logger.warning("skipping invalid document: %s", issue)
        checked.skipped.append({"where": issue.where, "id": issue.doc_id, "message": issue.message})
        path, _, line = issue.where.rpartition(":")
        checked.drop.setdefault(Path(path), set()).add(int(line))
    # every line of a document with a problem, including a duplicate id's first occurrence
    for loc in located:
        if loc.doc.id in bad_ids:
            checked.drop.setdefault(loc.path, set()).add(loc.line)
    return checked


def load_documents(paths: Iterable[str | Path], drop: dict[Path, set[int]] | None = None) -> list[Document]:
    """Read corpus JSONL files with `datasets`, validating every record; `drop` leaves out
    lines (file -> line numbers) that `check_data` found invalid.

    Raises ValueError naming file and line for a record that is not a valid document.
    """
    import tempfile

    import datasets

    # Explicit features: left to inference, Arrow turns ISO dates into timestamps
    # (even when typed as strings, hence Json for the date) and merges
    # differently-keyed meta objects into one struct.
    datasets.disable_progress_bars()
    text = datasets.Value("string")
    features = datasets.Features({"id": text, "lang": text, "text": text, "source": text, "date": datasets.Json(),
                                  "entities": datasets.Json(), "relations": datasets.Json(),
                                  "events": datasets.Json(), "meta": datasets.Json()})
    drop = {f.resolve(): lines for f, lines in (drop or {}).items()}
    docs: list[Document] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in map(Path, paths):
            files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
            if not files:
                raise ValueError(f"{path}: no JSONL files found")
            for f in files:
                source = f
                if drop.get(f.resolve()):
                    # datasets cannot skip a line it cannot parse: give it the kept lines only
                    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
                    source = Path(tmp) / f"{len(docs)}-{f.name}"
                    source.write_text("".join(ln for k, ln in enumerate(lines, 1)
                                              if k not in drop[f.resolve()] and ln.strip()), encoding="utf-8")
                    if not source.read_text(encoding="utf-8"):
                        continue
                ds = datasets.load_dataset("json", data_files=str(source), split="train", features=features)
                for lineno, record in enumerate(ds, 1):
                    record = {k: v for k, v in record.items() if v is not None}
                    try:
                        docs.append(Document.model_validate(record))
                    except ValueError as exc:
                        raise ValueError(f"{f}:{lineno}: {exc}") from None
    return docs


def collate(windows: list[Window], pad_id: int) -> dict:
    """Pad windows into a batch; spans and pairs are flattened across the batch."""
    import torch

    width = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    labels = torch.full((len(windows), width), IGNORE, dtype=torch.long)
    nested = torch.full((len(windows), width), IGNORE, dtype=torch.long)
    shifts = torch.full((len(windows), width), IGNORE, dtype=torch.long)
    span_batch, span_start, span_end, span_type = [], [], [], []
    pair_head, pair_tail, pair_type, pair_labels = [], [], [], []
    for b, w in enumerate(windows):
        n = len(w.input_ids)
        ids[b, :n] = torch.tensor(w.input_ids)
        mask[b, :n] = 1
        labels[b, :n] = torch.tensor(w.labels)
        nested[b, :n] = torch.tensor(w.nested)
        shifts[b, :n] = torch.tensor(w.shifts)
        offset = len(span_batch)  # pairs index spans across the whole batch
        for s, e, t in w.spans:
            span_batch.append(b)
            span_start.append(s)
            span_end.append(e)
            span_type.append(t)
        for (h, t, k), y in zip(w.pairs, w.pair_labels):
            pair_head.append(h + offset)
            pair_tail.append(t + offset)
            pair_type.append(k)
            pair_labels.append(y)
    long = lambda xs: torch.tensor(xs, dtype=torch.long)  # noqa: E731
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "nested_labels": nested, "shift_labels": shifts,
            "span_batch": long(span_batch), "span_start": long(span_start), "span_end": long(span_end),
            "span_type": long(span_type), "pair_head": long(pair_head), "pair_tail": long(pair_tail),
            "pair_type": long(pair_type), "pair_labels": torch.tensor(pair_labels, dtype=torch.float)}


class LengthGroupedBatches:
    """Batches of windows of similar length, in random order.

    Random pools of `pool` batches are sorted by length and cut into batches,
    then all batches are shuffled: padding shrinks (windows vary from a few
    tokens to max_length) while every epoch still sees a fresh order. Uses
    torch's global RNG, which training reseeds each epoch.
    """

    def __init__(self, lengths: list[int], batch_size: int, pool: int = 50):
        self.lengths, self.batch_size, self.pool = lengths, batch_size, pool

    def __iter__(self):
        import torch

        order = torch.randperm(len(self.lengths)).tolist()
        size = self.batch_size * self.pool
        batches = []
        for p in range(0, len(order), size):
            chunk = sorted(order[p:p + size], key=self.lengths.__getitem__)
            batches += [chunk[b:b + self.batch_size] for b in range(0, len(chunk), self.batch_size)]
        yield from (batches[i] for i in torch.randperm(len(batches)).tolist())

    def __len__(self) -> int:
        size = self.batch_size * self.pool
        pools = [min(size, len(self.lengths) - p) for p in range(0, len(self.lengths), size)]
        return sum(-(-n // self.batch_size) for n in pools)
