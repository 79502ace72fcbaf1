"""Tag probabilities and pair scores -> entities, relations and meeting events.

Pure functions over numbers and character offsets: nothing here runs the model.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch

from liqa.entities import entity_groups, represented_participants
from liqa.schema import BIO_LABELS, NESTED_BIO_LABELS, Entity, Event, Relation, is_nested, trim_span


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


def decode_spans(tag_probs: torch.Tensor, shift_probs: torch.Tensor, offsets: list[tuple[int, int]],
                 text: str, labels: Sequence[str] = BIO_LABELS) -> list[Entity]:
    """IOB2 decoding over words; an I- that does not continue a span of its type starts one.

    `tag_probs` holds the probabilities of `labels`, `shift_probs` those of the
    start shift (characters to skip in a span's first token). A word's first
    token decides for the whole word and its other pieces follow it, so a span
    never starts or stops inside a word (no "عبدال" + "لطيف" fragments); the
    start shift still trims a proclitic off the first piece. Tokens with no
    characters (a lone '▁') are skipped. A span ends at a line break. A span's score is the mean
    probability of its words' first-token labels.
    """
    tags = tag_probs.argmax(-1).tolist()
    conf = tag_probs.max(-1).values.tolist()
    shifts = shift_probs.argmax(-1).tolist()
    spans: list[list] = []  # [type, first token, last token, scores]
    current = None
    prev_end, k_prev = None, -1  # end offset and index of the previous non-empty token
    for k, (lab, (s, e)) in enumerate(zip(tags, offsets)):
        if s == e:
            continue
        inside_word = prev_end == s and text[s - 1].isalnum() and text[s].isalnum()
        if prev_end is not None and "\n" in text[prev_end:s]:
            current = None  # a span never crosses a line break (a byline name, then the dateline)
        prev_end = e
        if inside_word:
            if current is not None and current[2] == k_prev:
                current[2] = k
            k_prev = k
            continue
        k_prev = k
        tag = labels[lab]
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


def decode_layers(probs: torch.Tensor, offsets: list[tuple[int, int]], text: str) -> list[Entity]:
    """Entities of both tagger layers from merged probabilities laid out as
    [outer IOB2 | inner IOB2 | start shift]; an inner span is kept only inside an
    outer span it may nest in (ORG inside ROLE) and never across a line break."""
    n_outer, n_inner = len(BIO_LABELS), len(NESTED_BIO_LABELS)
    shift_probs = probs[:, n_outer + n_inner:]
    outer = decode_spans(probs[:, :n_outer], shift_probs, offsets, text)
    inner = [e for e in decode_spans(probs[:, n_outer:n_outer + n_inner], shift_probs, offsets, text,
                                     NESTED_BIO_LABELS)
             if "\n" not in e.text and any(is_nested(e, o) for o in outer)]
    ents = sorted(outer + inner, key=lambda e: (e.start, -e.end))
    return [e.model_copy(update={"id": f"T{i + 1}"}) for i, e in enumerate(ents)]


def decode_links(entities: list[Entity], pair_scores: dict[tuple[str, str], float],
                 thresholds: dict[str, float]) -> tuple[list[Relation], list[Event]]:
    """Relations and events from pair probabilities (keyed by head and tail mention id),
    decided between entities: a pair of entities scores its best pair of mentions
    (liqa.entities groups the mentions), and `thresholds` is per link type.

    - A ROLE belongs to one person: the best-scoring HAS_ROLE entity.
    - Triggers form events by average linkage of their SAME_EVENT scores, so one
      weak link cannot chain two meetings into one (see group_triggers).
    - An event's participants are the entities linked to any of its triggers,
      each once, by its fullest mention; a ROLE whose holder is known gives way
      to the holder; one venue and one date, the best.
    - A trigger group with no participant is no event (the meeting did not happen).
    - One participant per side: an organization whose representative (a person
      affiliated with it, directly or through the title) takes part is that
      person's organization, not a participant of its own.
    """
    by_id = {e.id: e for e in entities}
    rep = entity_groups(entities)
    link = {h_t: s for h_t, s in pair_scores.items() if h_t[0] in by_id and h_t[1] in by_id}

    def passes(kind: str, score: float) -> bool:
        return score >= thresholds[kind]

    # ---- relations, between entities ----
    # A relation joins entities; it is written between their closest linked mentions, as
    # annotators link the name beside the title.
    role_scores: dict[str, dict[str, list]] = defaultdict(dict)  # role -> person entity -> [best, mentions]
    affiliation: dict[tuple[str, str], list] = {}  # (head entity, org entity) -> [best, mentions]
    for (h, t), s in link.items():
        ht, tt = by_id[h].type, by_id[t].type
        if ht == "PERSON" and tt == "ROLE" and passes("HAS_ROLE", s):
            slot = role_scores[t].setdefault(rep[h], [0.0, []])
        elif tt == "ORG" and ht in ("PERSON", "ROLE") and passes("AFFILIATION", s):
            slot = affiliation.setdefault((rep[h], rep[t]), [0.0, []])
        else:
            continue
        slot[0] = max(slot[0], s)
        slot[1].append((h, t))
    gap = lambda ht: abs(by_id[ht[0]].start - by_id[ht[1]].start)  # noqa: E731
    holder: dict[str, tuple[str, str, float]] = {}  # role -> (person entity, mention, score)
    for role, people in role_scores.items():
        person, (s, pairs) = max(people.items(), key=lambda kv: kv[1][0])
        holder[role] = (person, min(pairs, key=gap)[0], s)
    rel_pairs = [(h, t, "HAS_ROLE", s) for t, (_, h, s) in holder.items()]
    rel_pairs += [(*min(pairs, key=gap), "AFFILIATION", s) for s, pairs in affiliation.values()]
    rel_pairs.sort(key=lambda x: (by_id[x[0]].start, by_id[x[1]].start))
    relations = [Relation(id=f"R{i + 1}", type=kind, head=h, tail=t, score=round(s, 4))
                 for i, (h, t, kind, s) in enumerate(rel_pairs)]

    # ---- events ----
    triggers = sorted((e for e in entities if e.type == "MEETING"), key=lambda e: e.start)
    same = {(h, t): s for (h, t), s in link.items() if by_id[h].type == "MEETING" and by_id[t].type == "MEETING"}
    events: list[Event] = []
    for group in group_triggers([t.id for t in triggers], same, thresholds["SAME_EVENT"]):
        best: dict[str, float] = defaultdict(float)  # argument entity -> best score from the group
        for (h, t), s in link.items():
            if h in group and by_id[t].type != "MEETING":
                best[rep[t]] = max(best[rep[t]], s)
        participants: dict[str, float] = {}
        for ent, s in best.items():
            if by_id[ent].type in ("PERSON", "ORG", "ROLE") and passes("PARTICIPANT", s):
                ent = holder[ent][0] if by_id[ent].type == "ROLE" and ent in holder else ent
                participants[ent] = max(participants.get(ent, 0.0), s)
        if not participants:
            continue
        venue = _best(best, by_id, "LOC", thresholds["VENUE"])
        date = _best(best, by_id, "DATE", thresholds["WHEN"])
        order = sorted(participants, key=lambda i: by_id[i].start)
        events.append(Event(id=f"E{len(events) + 1}", triggers=group, participants=order,
                            venue=venue, date=date, score=round(max(participants.values()), 4)))
    drop = represented_participants(entities, relations, events)  # one participant per side
    events = [ev.model_copy(update={"participants": [p for p in ev.participants if p not in drop.get(ev.id, ())]})
              for ev in events]
    return relations, events


def group_triggers(triggers: list[str], same: dict[tuple[str, str], float], threshold: float) -> list[list[str]]:
    """Trigger ids (in text order) grouped into meetings by average linkage.

    The two groups whose scored trigger pairs have the highest mean SAME_EVENT
    probability merge while that mean is at least `threshold`; pairs never seen
    in one window have no score and do not count. Unlike the transitive closure
    of single links, a round-up's "استقبل ... ثم استقبل ..." stays apart unless
    its triggers agree as a whole. Groups come out in text order.
    """
    groups = [[t] for t in triggers]
    score = lambda a, b: same.get((a, b), same.get((b, a)))  # noqa: E731
    while len(groups) > 1:
        best, pair = threshold, None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                scores = [s for a in groups[i] for b in groups[j] if (s := score(a, b)) is not None]
                if scores and sum(scores) / len(scores) >= best:
                    best, pair = sum(scores) / len(scores), (i, j)
        if pair is None:
            break
        i, j = pair
        groups[i] = sorted(groups[i] + groups[j], key=triggers.index)
        del groups[j]
    return sorted(groups, key=lambda g: triggers.index(g[0]))


def _best(scores: dict[str, float], by_id: dict[str, Entity], typ: str, threshold: float) -> str | None:
    cands = [(s, -by_id[i].start, i) for i, s in scores.items() if by_id[i].type == typ and s >= threshold]
    return max(cands)[2] if cands else None
