"""Tag probabilities and pair scores -> entities, relations and meeting events.

Pure functions over numbers and character offsets: nothing here runs the model.
"""
from __future__ import annotations

from collections import defaultdict

import torch

from liqa.schema import BIO_LABELS, Entity, Event, Link, Relation, trigger_groups, trim_span
from liqa.text import normalize


def merge_windows(n_tokens: int, windows: list[tuple[int, torch.Tensor]]) -> torch.Tensor:
    """Per-token probabilities (n_tokens, labels) from overlapping windows.

    `windows` holds (first document token, probs of the window's own tokens).
    Each token takes the window in which it sits farthest from an edge, where
    the encoder saw the most context on both sides.
    """
    n_labels = windows[0][1].shape[-1]
    merged = torch.zeros(n_tokens, n_labels)
    best = torch.full((n_tokens,), -1)
    for start, probs in windows:
        length = probs.shape[0]
        pos = torch.arange(length)
        margin = torch.minimum(pos, length - 1 - pos)
        idx = pos + start
        better = margin > best[idx]
        merged[idx[better]] = probs[better]
        best[idx[better]] = margin[better]
    return merged


def decode_spans(probs: torch.Tensor, offsets: list[tuple[int, int]], text: str) -> list[Entity]:
    """IOB2 decoding over words; an I- that does not continue a span of its type starts one.

    `probs` holds the IOB2 label probabilities followed by the start-shift
    probabilities (characters to skip in a span's first token). A word's first
    token decides for the whole word and its other pieces follow it, so a span
    never starts or stops inside a word (no "عبدال" + "لطيف" fragments); the
    start shift still trims a proclitic off the first piece. Tokens with no
    characters (a lone '▁') are skipped. A span's score is the mean
    probability of its words' first-token labels.
    """
    tag_probs, shift_probs = probs[:, :len(BIO_LABELS)], probs[:, len(BIO_LABELS):]
    labels = tag_probs.argmax(-1).tolist()
    conf = tag_probs.max(-1).values.tolist()
    shifts = shift_probs.argmax(-1).tolist()
    spans: list[list] = []  # [type, first token, last token, scores]
    current = None
    prev_end, k_prev = None, -1  # end offset and index of the previous non-empty token
    for k, (lab, (s, e)) in enumerate(zip(labels, offsets)):
        if s == e:
            continue
        inside_word = prev_end == s and text[s - 1].isalnum() and text[s].isalnum()
        prev_end = e
        if inside_word:
            if current is not None and current[2] == k_prev:
                current[2] = k
            k_prev = k
            continue
        k_prev = k
        tag = BIO_LABELS[lab]
        if tag == "O":
            current = None
            continue
        prefix, typ = tag.split("-", 1)
        if prefix == "I" and current is not None and current[0] == typ:
            current[2] = k
            current[3].append(conf[k])
        else:
            current = [typ, k, k, [conf[k]]]
            spans.append(current)
    entities = []
    for typ, i, j, scores in spans:
        start, end = trim_span(text, min(offsets[i][0] + shifts[i], offsets[j][1] - 1), offsets[j][1])
        if start < end:
            entities.append(Entity(id=f"T{len(entities) + 1}", type=typ, start=start, end=end,
                                   text=text[start:end], score=round(sum(scores) / len(scores), 4)))
    return entities


def decode_links(entities: list[Entity], pair_scores: dict[tuple[str, str], float],
                 threshold: float) -> tuple[list[Relation], list[Event]]:
    """Relations and events from pair probabilities (keyed by head and tail entity id).

    - A ROLE belongs to at most one person: its best-scoring HAS_ROLE head.
    - Triggers joined by SAME_EVENT form one event; an argument's score is its
      best score from any trigger of the event; one venue and one date, the best.
    - A trigger group with no participant is no event (the meeting did not happen).
    - A ROLE participant whose holder is known is replaced by the holder.
    """
    by_id = {e.id: e for e in entities}
    kept = {k: v for k, v in pair_scores.items() if v >= threshold}

    relations: list[Relation] = []
    holder: dict[str, tuple[str, float]] = {}
    for (h, t), score in kept.items():
        if by_id[h].type == "PERSON" and by_id[t].type == "ROLE":
            if t not in holder or score > holder[t][1]:
                holder[t] = (h, score)
    rel_pairs = [(h, t, "HAS_ROLE", s) for t, (h, s) in holder.items()]
    rel_pairs += [(h, t, "AFFILIATION", s) for (h, t), s in kept.items() if by_id[t].type == "ORG"
                  and by_id[h].type in ("PERSON", "ROLE")]
    rel_pairs.sort(key=lambda x: (by_id[x[0]].start, by_id[x[1]].start))
    for h, t, kind, s in rel_pairs:
        relations.append(Relation(id=f"R{len(relations) + 1}", type=kind, head=h, tail=t, score=round(s, 4)))

    links = [Link(type="SAME_EVENT", head=h, tail=t) for (h, t) in kept
             if by_id[h].type == "MEETING" and by_id[t].type == "MEETING"]
    arg_score: dict[tuple[str, str], float] = {(h, t): s for (h, t), s in kept.items()
                                               if by_id[h].type == "MEETING" and by_id[t].type != "MEETING"}
    events: list[Event] = []
    for group in trigger_groups(entities, links):
        best: dict[str, float] = defaultdict(float)
        for (h, t), s in arg_score.items():
            if h in group:
                best[t] = max(best[t], s)
        participants = {}
        for t, s in best.items():
            if by_id[t].type in ("PERSON", "ORG", "ROLE"):
                if by_id[t].type == "ROLE" and t in holder:
                    t = holder[t][0]
                participants[t] = max(participants.get(t, 0.0), s)
        participants = _one_mention_each(participants, by_id)
        if not participants:
            continue
        venue = _best(best, by_id, "LOC")
        date = _best(best, by_id, "DATE")
        order = sorted(participants, key=lambda i: by_id[i].start)
        events.append(Event(id=f"E{len(events) + 1}", triggers=group, participants=order,
                            venue=venue, date=date, score=round(max(participants.values()), 4)))
    return relations, events


def _one_mention_each(participants: dict[str, float], by_id: dict[str, Entity]) -> dict[str, float]:
    """One mention per participant, by its fullest name: a mention whose words are
    all in another participant's of the same type goes ("جعجع" beside "سمير
    جعجع"), and of two mentions with the same name the better-scored stays."""
    words = {i: frozenset(normalize(by_id[i].text).split()) for i in participants}
    rank = {i: (participants[i], -by_id[i].start) for i in participants}
    keep = {}
    for i, s in participants.items():
        covered = any(j != i and by_id[j].type == by_id[i].type
                      and (words[i] < words[j] or (words[i] == words[j] and rank[j] > rank[i]))
                      for j in participants)
        if not covered:
            keep[i] = s
    return keep


def _best(scores: dict[str, float], by_id: dict[str, Entity], typ: str) -> str | None:
    cands = [(s, -by_id[i].start, i) for i, s in scores.items() if by_id[i].type == typ]
    return max(cands)[2] if cands else None
