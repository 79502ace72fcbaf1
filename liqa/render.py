"""Self-contained HTML pages: articles with highlighted spans and event tables.

No scripts, fonts or links to fetch: a page opens on an air-gapped machine.
Arabic and Persian articles are laid out right to left (dir="rtl").
"""
from __future__ import annotations

from html import escape

COLORS = {"PERSON": "#ffd6a5", "ORG": "#caffbf", "ROLE": "#bdb2ff", "LOC": "#9bf6ff",
          "DATE": "#fdffb6", "MEETING": "#ffadad"}

CSS = """
body { font-family: "Noto Naskh Arabic", "Vazirmatn", Tahoma, "DejaVu Sans", sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.7; }
article { border: 1px solid #ddd; border-radius: 6px; padding: 1em 1.5em; margin-bottom: 2em; }
.text { white-space: pre-wrap; }
mark { border-radius: 3px; padding: 0 2px; }
mark sub { font-size: 0.6em; font-family: sans-serif; opacity: 0.7; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; font-size: 0.95em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: start; vertical-align: top; }
th { background: #f4f4f4; }
.legend mark { margin-inline-end: 0.5em; }
.meta { color: #666; font-size: 0.9em; }
.warn { color: #a15c00; }
""" + "".join(f"mark.{t} {{ background: {c}; }}\n" for t, c in COLORS.items())

RTL = {"ar", "fa"}


def highlight(text: str, entities: list[dict], start: int = 0, end: int | None = None) -> str:
    """text[start:end] with each entity wrapped in <mark class=TYPE>, escaped; a span nested
    in another (an ORG inside a ROLE) is marked inside its outer mark."""
    end = len(text) if end is None else end
    out, pos = [], start
    ents = sorted(entities, key=lambda e: (e["start"], -e["end"]))
    for i, e in enumerate(ents):
        if e["start"] < pos:
            continue  # inside an outer span (rendered with it), or crossing: hand-made input
        inner = [x for x in ents[i + 1:] if e["start"] <= x["start"] and x["end"] <= e["end"]]
        out.append(escape(text[pos:e["start"]]))
        out.append(f'<mark class="{e["type"]}" title="{e["type"]} {e.get("score", "")}">'
                   f'{highlight(text, inner, e["start"], e["end"])}<sub>{e["type"]}</sub></mark>')
        pos = e["end"]
    out.append(escape(text[pos:end]))
    return "".join(out)


def events_table(record: dict) -> str:
    """Who, role, organization, venue, date: one row per participant; each event's triggers
    (the words that say a meeting took place) beside its id."""
    if not record["events"]:
        # English in a right-to-left article: without dir="ltr" its full stop lands on the left
        return '<p class="meta" lang="en" dir="ltr">No meeting found.</p>'
    sep = "، " if record["lang"] in RTL else ", "
    texts = {e["id"]: e["text"] for e in record["entities"]}
    rows = []
    for ev in record["events"]:
        n = len(ev["participants"])
        venue = escape(ev["venue"]["text"]) if ev["venue"] else "—"
        date = (f'{escape(ev["date"]["text"])}<br><span class="meta" dir="ltr">{ev["date"]["iso"] or "?"}</span>'
                if ev["date"] else "—")
        triggers = sep.join(escape(texts[t]) for t in ev["triggers"])
        for k, p in enumerate(ev["participants"]):
            roles = sep.join(escape(r["text"]) for r in p["roles"]) or "—"
            orgs = sep.join(escape(o["text"]) for o in p["organizations"]) or "—"
            first = (f'<td rowspan="{n}">{ev["id"]} ({ev["score"]:.2f})</td><td rowspan="{n}">{triggers}</td>'
                     if k == 0 else "")
            tail = f'<td rowspan="{n}">{venue}</td><td rowspan="{n}">{date}</td>' if k == 0 else ""
            rows.append(f"<tr>{first}<td>{escape(p['text'])} <span class=meta>{p['type']}</span></td>"
                        f"<td>{roles}</td><td>{orgs}</td>{tail}</tr>")
    return ("<table><tr><th>event</th><th>triggers</th><th>who</th><th>role</th><th>organization</th>"
            "<th>venue</th><th>date (ISO)</th></tr>" + "".join(rows) + "</table>")


def article(record: dict, text: str) -> str:
    direction = "rtl" if record["lang"] in RTL else "ltr"
    warnings = "".join(f'<p class="warn" lang="en" dir="ltr">{escape(w)}</p>' for w in record.get("warnings", []))
    return (f'<article lang="{record["lang"]}" dir="{direction}">'
            f'<h2 dir="ltr">{escape(record["id"])} <span class="meta">({record["lang"]})</span></h2>'
            f'{warnings}<div class="text">{highlight(text, record["entities"])}</div>'
            f"{events_table(record)}</article>")


def page(title: str, body: str) -> str:
    legend = "".join(f'<mark class="{t}">{t}</mark>' for t in COLORS)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>"
            f'<p class="legend">{legend}</p>{body}</body></html>\n')
