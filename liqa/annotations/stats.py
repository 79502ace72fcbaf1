"""Corpus figures: documents, tokens, spans, relations, events, distinct names, per language."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from babel import Locale

from liqa.text import normalize
from liqa.schema import ENTITY_TYPES, LANGS, RELATION_TYPES, Document, split_layers

_WORD = re.compile(r"\w+")


def corpus_stats(docs: list[Document]) -> dict[str, dict[str, int]]:
    """Figures per language plus an "all" column; every value is a count."""
    cols: dict[str, Counter] = defaultdict(Counter)
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for doc in docs:
        for col in (doc.lang, "all"):
            c = cols[col]
            c["documents"] += 1
            c["generated documents"] += bool(doc.meta.get("generated"))
            c["tokens"] += len(_WORD.findall(doc.text))
            for e in doc.entities:
                c[f"spans {e.type}"] += 1
                names[col][e.type].add(normalize(e.text))
            c["nested ORG in ROLE"] += len(split_layers(doc.entities)[1])
            for r in doc.relations:
                c[f"relations {r.type}"] += 1
            c["events"] += len(doc.events)
            c["event participants"] += sum(len(ev.participants) for ev in doc.events)
            c["docs with no event"] += not doc.events
            c["docs with 2+ events"] += len(doc.events) >= 2
            c["reviewed documents"] += bool(doc.meta.get("reviewer"))
    rows = ["documents", "generated documents", "reviewed documents", "tokens"]
    rows += [f"spans {t}" for t in ENTITY_TYPES] + ["nested ORG in ROLE"]
    rows += [f"relations {t}" for t in RELATION_TYPES]
    rows += ["events", "event participants", "docs with no event", "docs with 2+ events"]
    table = {row: {col: cols[col][row] for col in cols} for row in rows}
    for t in ("PERSON", "ORG", "ROLE", "LOC"):
        table[f"distinct {t}"] = {col: len(names[col][t]) for col in cols}
    # Venues are LOC entities that some event uses as its venue.
    venues: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for ev in doc.events:
            if ev.venue:
                v = normalize(doc.entity(ev.venue).text)
                venues[doc.lang].add(v)
                venues["all"].add(v)
    table["distinct venues"] = {col: len(venues[col]) for col in cols}
    return table


def to_markdown(table: dict[str, dict[str, int]]) -> str:
    cols = [c for c in (*LANGS, "all") if any(c in row for row in table.values())]
    lines = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {row} | " + " | ".join(str(vals.get(c, 0)) for c in cols) + " |"
              for row, vals in table.items()]
    return "\n".join(lines)


# --- The shapes of meetings: what real articles have and a corpus may lack ---------

# Words that make a venue a building or room rather than a city, region or country.
_BUILDING_WORDS = {normalize(w) for w in """
قصر مقر فندق مبنى مبني وزارة ديوان قاعة مكتب سفارة مجلس دار بيت مركز جامعة مسجد كنيسة
فيلا منتجع قيادة الديوان القصر المقر الوزارة القاعة السفارة المجلس مستشفى كاتدرائية
کاخ ساختمان دفتر هتل سالن محل مقر وزارت وزارتخانه سفارت مجلس نهاد دانشگاه حرم مسجد
استانداری فرمانداری مهمانخانه ستاد سرای ارگ نمایندگی کلیسا
palace house hotel ministry office building hall centre center headquarters hq embassy
residence parliament kremlin chancellery compound villa resort room secretariat mosque
church cathedral university base guesthouse mansion lodge court quarters consulate
""".split()}

# Capitals that share their country's name are cities as venues ("here in Kuwait").
_CITY_STATES = {normalize(w) for w in """Kuwait Djibouti Singapore Luxembourg Monaco Vatican Panama Guatemala
الكويت تونس الجزائر جيبوتي سنغافورة لوكسمبورغ موناكو الفاتيكان بنما غواتيمالا
کویت تونس الجزایر جیبوتی سنگاپور لوکزامبورگ موناکو واتیکان پاناما گواتمالا""".split()}
_COUNTRIES = {
    lang: {normalize(name) for code, name in Locale(lang).territories.items() if code.isalpha()} - _CITY_STATES
    for lang in LANGS
}

# Cues that introduce people present at a meeting without taking part in it (guideline §3.2).
_ATTENDEE_CUE = re.compile(r"بحضور|في حضور|با حضور|در حضور|(?<!\w)و?(?:حضر|حضره|حضرها|حضرهم|رافق|رافقه|يرافقه|يرافقهم|ترافقه)"
                           r"(?!\w)|برفقة|همراه با|in the presence of|accompanied by|attended by|also present")
_CLAUSE_END = re.compile(r"[.\n؛;]")

SHAPE_TAGS = ("roundup", "city-venue", "title-only", "attendees", "earlier-meeting", "near-miss", "long-page")
LONG_PAGE = 2500


def venue_type(text: str, lang: str) -> str:
    """building, country or city/region, from the venue's words (a heuristic for corpus figures)."""
    norm = normalize(text)
    if any(w in _BUILDING_WORDS for w in norm.split()):
        return "building"
    bare = norm[2:] if lang == "ar" and norm.startswith("ال") else norm
    if norm in _COUNTRIES[lang] or bare in _COUNTRIES[lang] or f"ال{norm}" in _COUNTRIES[lang]:
        return "country"
    return "city or region"


def document_shapes(doc: Document) -> set[str]:
    """The shape tags (SHAPE_TAGS) that a document's annotations show, checked by structure."""
    shapes: set[str] = set()
    participants = {p for ev in doc.events for p in ev.participants}
    if len(doc.events) >= 3:
        shapes.add("roundup")
    if any(ev.venue and venue_type(doc.entity(ev.venue).text, doc.lang) == "city or region" for ev in doc.events):
        shapes.add("city-venue")
    if any(doc.entity(p).type == "ROLE" for p in participants):
        shapes.add("title-only")
    for cue in _ATTENDEE_CUE.finditer(doc.text):
        end = _CLAUSE_END.search(doc.text, cue.end())
        stop = end.start() if end else len(doc.text)
        if any(cue.end() <= e.start < stop and e.type in ("PERSON", "ROLE") and e.id not in participants
               for e in doc.entities):
            shapes.add("attendees")
    dates = {normalize(doc.entity(ev.date).text) for ev in doc.events if ev.date}
    if len(doc.events) >= 2 and len(dates) >= 2:
        shapes.add("earlier-meeting")
    triggers = {t for ev in doc.events for t in ev.triggers}
    if any(e.type == "MEETING" and e.id not in triggers for e in doc.entities):
        shapes.add("near-miss")
    if len(doc.text) >= LONG_PAGE:
        shapes.add("long-page")
    return shapes


def shape_stats(docs: list[Document]) -> dict[str, dict[str, int | str]]:
    """Meetings per document, participants per meeting, venue types and shapes, by corpus
    round (the ``round`` header key, 1 when absent) and language."""
    groups: dict[str, list[Document]] = defaultdict(list)
    for doc in docs:
        rnd = str(doc.meta.get("round", 1))
        groups[f"round {rnd} {doc.lang}"].append(doc)
        groups[f"round {rnd}"].append(doc)
    groups["all"] = list(docs)
    table: dict[str, dict[str, int | str]] = defaultdict(dict)
    order = {lang: i for i, lang in enumerate(LANGS)}
    # round 1 ar, fa, en, round 1, round 2 ar, ..., all
    for col, group in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0].split()[:2],
                                                             order.get(kv[0].split()[-1], len(LANGS)))):
        events = [(doc, ev) for doc in group for ev in doc.events]
        t = {"documents": len(group)}
        for k, label in ((0, "0"), (1, "1"), (2, "2"), (3, "3")):
            t[f"documents with {label} meetings"] = sum(len(d.events) == k for d in group)
        t["documents with 4+ meetings"] = sum(len(d.events) >= 4 for d in group)
        t["most meetings in a document"] = max((len(d.events) for d in group), default=0)
        t["meetings"] = len(events)
        sizes = sorted(len(ev.participants) for _, ev in events)
        for k in (1, 2, 3):
            t[f"meetings with {k} participant{'s' * (k > 1)}"] = sizes.count(k)
        t["meetings with 4+ participants"] = sum(s >= 4 for s in sizes)
        t["median participants per meeting"] = sizes[len(sizes) // 2] if sizes else 0
        kinds = Counter(venue_type(d.entity(ev.venue).text, d.lang) if ev.venue else "none" for d, ev in events)
        for kind in ("building", "city or region", "country", "none"):
            t[f"venue: {kind}"] = kinds[kind]
        t["meetings without venue (%)"] = f"{100 * kinds['none'] / len(events):.0f}" if events else "-"
        shapes = [document_shapes(d) for d in group]
        for tag in SHAPE_TAGS:
            t[f"shape: {tag}"] = sum(tag in s for s in shapes)
        for tag in SHAPE_TAGS:
            declared = [tag in str(d.meta.get("phenomena", "")).split() for d in group]
            t[f"declared {tag} (shown)"] = (f"{sum(declared)} ({sum(x and tag in s for x, s in zip(declared, shapes))})")
        for row, value in t.items():
            table[row][col] = value
    return dict(table)


def shapes_to_markdown(table: dict[str, dict[str, int | str]]) -> str:
    cols = list(next(iter(table.values())))
    lines = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {row} | " + " | ".join(str(vals.get(c, "")) for c in cols) + " |" for row, vals in table.items()]
    return "\n".join(lines)
