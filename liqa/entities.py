"""Mentions of one entity inside a document, and what an analyst reads of a participant.

Links are learned and decoded between entities, not mentions: "هنية" three
paragraphs after "إسماعيل هنية" is the same participant, and a second "إسطنبول"
is the same venue. Grouping is by spelling (`liqa.text.normalize`, the Arabic
article folded) and by name parts: a PERSON or ORG mention whose words are all
in the mentions of exactly one other entity joins it ("هنية" -> "إسماعيل هنية",
"حماس" -> "حركة حماس"); when two entities could claim it ("محمد"), it stays
alone. Places only group on equal spelling: "لبنان" is not "جنوب لبنان".
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from liqa.schema import Document, Entity, Event, Relation
from liqa.text import normalize

GROUPED_TYPES = frozenset({"PERSON", "ORG", "LOC"})
BY_NAME_PARTS = frozenset({"PERSON", "ORG"})
_ARTICLES = ("لل", "ال")


@lru_cache(maxsize=1 << 16)  # called for every mention pair's grouping; mentions repeat
def name_words(text: str) -> tuple[str, ...]:
    """Normalized words with the Arabic article folded, so "للأمم" and "الأمم" compare equal;
    hyphens and other punctuation split words ("Al-Sistani" is "al sistani")."""
    out = []
    for w in re.findall(r"\w+", normalize(text)):
        for art in _ARTICLES:
            if w.startswith(art) and len(w) - len(art) >= 3:
                w = w[len(art):]
                break
        out.append(w)
    return tuple(out)


def entity_groups(entities: Iterable[Entity]) -> dict[str, str]:
    """Mention id -> id of its entity's representative mention (the fullest name:
    most words, then the earliest). Types other than PERSON, ORG and LOC map to themselves."""
    ents = sorted(entities, key=lambda e: (e.start, e.end))
    key_of = {e.id: (e.type, name_words(e.text)) for e in ents if e.type in GROUPED_TYPES and name_words(e.text)}
    keys = set(key_of.values())
    # Longest names first, so a name part finds the full names already joined to their own.
    root: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}
    for typ, words in sorted(keys, key=lambda k: -len(k[1])):
        owners = {root[(t2, w2)] for t2, w2 in keys
                  if typ in BY_NAME_PARTS and t2 == typ and len(w2) > len(words) and set(words) < set(w2)}
        root[(typ, words)] = owners.pop() if len(owners) == 1 else (typ, words)
    members: dict[object, list[Entity]] = {}
    for e in ents:
        members.setdefault(root[key_of[e.id]] if e.id in key_of else e.id, []).append(e)
    rep = {}
    for group in members.values():
        best = max(group, key=lambda e: (len(name_words(e.text)), len(e.text), -e.start))
        rep.update({e.id: best.id for e in group})
    return rep


def participant_details(doc: Document) -> dict[str, tuple[list[str], list[str]]]:
    """Participant id -> (its role ids, its organization ids), gathered over every mention
    of the participant's entity and over the roles it holds (a person's organization is
    often linked to the title: "الأمين العام لـ[حركة الجهاد الإسلامي]")."""
    rep = entity_groups(doc.entities)
    roles: dict[str, list[str]] = {}
    orgs: dict[str, list[str]] = {}
    for r in doc.relations:
        (roles if r.type == "HAS_ROLE" else orgs).setdefault(rep.get(r.head, r.head), []).append(r.tail)
    out = {}
    for ev in doc.events:
        for p in ev.participants:
            key = rep.get(p, p)
            own_roles = list(dict.fromkeys(roles.get(key, [])))
            org_ids = orgs.get(key, []) + [o for r in own_roles for o in orgs.get(r, [])]
            # one mention per organization: its entity's fullest name
            out[p] = (own_roles, list(dict.fromkeys(rep.get(o, o) for o in org_ids)))
    return out


def represented_participants(entities: list[Entity], relations: list[Relation],
                             events: list[Event]) -> dict[str, list[str]]:
    """Event id -> its ORG participants that a participating person represents (an
    AFFILIATION from any mention of the person, or from a title the person holds):
    one participant per side, so these belong in the person's organizations. The
    validator reports them in gold; the decoder leaves them out of predictions."""
    rep = entity_groups(entities)
    by_id = {e.id: e for e in entities}
    holder = {r.tail: rep.get(r.head, r.head) for r in relations if r.type == "HAS_ROLE"}
    orgs_of: dict[str, set[str]] = {}
    for r in relations:
        if r.type == "AFFILIATION" and r.head in by_id and r.tail in by_id:
            head = holder.get(r.head, r.head) if by_id[r.head].type == "ROLE" else rep.get(r.head, r.head)
            orgs_of.setdefault(head, set()).add(rep.get(r.tail, r.tail))
    out = {}
    for ev in events:
        people = {rep.get(p, p) for p in ev.participants if p in by_id and by_id[p].type == "PERSON"}
        represented = set().union(*(orgs_of.get(p, set()) for p in people))
        orgs = [p for p in ev.participants if p in by_id and by_id[p].type == "ORG" and rep.get(p, p) in represented]
        if orgs:
            out[ev.id] = orgs
    return out
