"""Calendar dates (ISO 8601) for DATE spans in ar/fa/en news.

Absolute dates come in three calendars: Gregorian, Hijri (converted with hijridate's
Umm al-Qura tables) and Solar Hijri (jdatetime). Relative days ("أمس", "دیروز",
"yesterday") and weekdays ("on Tuesday") are resolved against the document's publication
date. Nothing is guessed: what the text and the publication date do not settle is None,
and every contradiction the text carries is kept as a warning.
"""
from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field

import jdatetime
from hijridate import Gregorian, Hijri

from liqa.schema import Document
from liqa.text import normalize


@dataclass
class Resolved:
    iso: str | None  # "YYYY-MM-DD", "YYYY-MM", "YYYY", or None
    warnings: list[str] = field(default_factory=list)


_CALENDARS = {"g": "Gregorian", "j": "Solar Hijri", "h": "Hijri"}
_WEEKDAY_NAMES = list(calendar.day_name)  # Monday first, like date.weekday()
_MONTH_NAMES = {
    "g": list(calendar.month_name)[1:],
    "j": ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
          "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"],
    "h": ["Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Thani", "Jumada al-Ula", "Jumada al-Akhira",
          "Rajab", "Shaban", "Ramadan", "Shawwal", "Dhu al-Qada", "Dhu al-Hijja"],
}

# Spellings per month, 1 to 12. Arabic has four Gregorian naming traditions (Egypt and
# the Gulf, the Levant, Morocco, Algeria and Tunisia); Afghan Dari names the Solar Hijri
# months after the zodiac. English forms are written as _prep leaves them (no
# apostrophes, hyphens between letters as spaces).
_MONTH_SPELLINGS = {
    "g": [
        ["يناير", "كانون الثاني", "جانفي", "ژانویه", "january", "jan"],
        ["فبراير", "شباط", "فيفري", "فوریه", "february", "feb"],
        ["مارس", "آذار", "march", "mar"],
        ["أبريل", "إبريل", "نيسان", "أفريل", "آوریل", "april", "apr"],
        ["مايو", "ماي", "أيار", "مه", "می", "may"],
        ["يونيو", "يونيه", "حزيران", "جوان", "ژوئن", "june", "jun"],
        ["يوليو", "يوليه", "يوليوز", "تموز", "جويلية", "ژوئیه", "جولای", "july", "jul"],
        ["أغسطس", "آب", "غشت", "أوت", "آگوست", "اگست", "august", "aug"],
        ["سبتمبر", "أيلول", "شتنبر", "سپتامبر", "september", "sept", "sep"],
        ["أكتوبر", "تشرين الأول", "اکتبر", "october", "oct"],
        ["نوفمبر", "تشرين الثاني", "نونبر", "نوامبر", "november", "nov"],
        ["ديسمبر", "كانون الأول", "دجنبر", "دسامبر", "december", "dec"],
    ],
    "j": [
        ["فروردین", "حمل", "farvardin"],
        ["اردیبهشت", "ثور", "ordibehesht"],
        ["خرداد", "جوزا", "جوزاء", "khordad"],
        ["تیر", "سرطان", "tir"],
        ["مرداد", "امرداد", "اسد", "mordad", "amordad"],
        ["شهریور", "سنبله", "shahrivar"],
        ["مهر", "میزان", "mehr"],
        ["آبان", "عقرب", "aban"],
        ["آذر", "قوس", "azar"],
        ["دی", "جدی", "dey", "dei"],
        ["بهمن", "دلو", "bahman"],
        ["اسفند", "حوت", "esfand"],
    ],
    "h": [
        ["محرم", "muharram", "muharam"],
        ["صفر", "safar"],
        ["ربيع الأول", "ربيع أول", "rabi al awwal", "rabi ul awwal", "rabi i"],
        ["ربيع الآخر", "ربيع الثاني", "ربيع آخر", "ربيع ثاني", "rabi al thani", "rabi al akhir",
         "rabi ul thani", "rabi ul akhir", "rabi ii"],
        ["جمادى الأولى", "جمادى الأول", "جمادى أولى", "jumada al ula", "jumada al awwal", "jumada ul ula",
         "jumada ul awwal", "jumada i"],
        ["جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "جمادى الثاني", "jumada al akhira", "jumada al akhirah",
         "jumada al akhir", "jumada al thani", "jumada ul akhira", "jumada ii"],
        ["رجب", "rajab"],
        ["شعبان", "shaban"],
        ["رمضان", "ramadan", "ramadhan", "ramazan"],
        ["شوال", "shawwal", "shawal"],
        ["ذو القعدة", "ذي القعدة", "ذیقعده", "dhu al qada", "dhu al qadah", "dhul qadah", "dhu al qidah"],
        ["ذو الحجة", "ذي الحجة", "ذیحجه", "dhu al hijja", "dhu al hijjah", "dhul hijjah"],
    ],
}
_WEEKDAY_SPELLINGS = [
    ["الاثنين", "دو شنبه", "monday", "mon"],  # the space is optional: دوشنبه, دو‌شنبه
    ["الثلاثاء", "سه شنبه", "tuesday", "tues", "tue"],
    ["الأربعاء", "چهار شنبه", "wednesday", "wed"],
    ["الخميس", "پنج شنبه", "thursday", "thurs", "thur", "thu"],
    ["الجمعة", "جمعه", "آدینه", "friday", "fri"],
    ["السبت", "شنبه", "saturday", "sat"],
    ["الأحد", "یک شنبه", "sunday", "sun"],
]
# Day offsets from the publication date. "أمس الأول" is the day before yesterday, and in
# Persian news "روز گذشته" is yesterday.
_RELATIVE_SPELLINGS = {
    -2: ["أول أمس", "أول من أمس", "أمس الأول", "پریروز", "the day before yesterday"],
    -1: ["أمس", "بالأمس", "البارحة", "الليلة الماضية", "دیروز", "دیشب", "شب گذشته", "روز گذشته", "yesterday",
         "last night"],
    0: ["اليوم", "الليلة", "هذا الصباح", "هذا المساء", "امروز", "امشب", "today", "tonight", "this morning",
        "this afternoon", "this evening"],
    1: ["غدا", "غد", "فردا", "tomorrow"],
    2: ["بعد غد", "پس فردا", "پسفردا", "the day after tomorrow"],
}
_YEAR_OFFSET_SPELLINGS = {
    -1: ["العام الماضي", "السنة الماضية", "العام المنصرم", "العام الفائت", "سال گذشته", "سال قبل", "سال پیش",
         "پارسال", "last year"],
    0: ["العام الجاري", "العام الحالي", "هذا العام", "السنة الجارية", "السنة الحالية", "امسال", "سال جاری",
        "this year"],
    1: ["العام المقبل", "العام القادم", "السنة المقبلة", "السنة القادمة", "سال آینده", "next year"],
}
_PAST = ["الماضي", "الماضية", "الفائت", "المنصرم", "المنقضي", "گذشته", "پیش", "last", "past", "previous"]
_FUTURE = ["المقبل", "المقبلة", "القادم", "القادمة", "آینده", "آتی", "next", "coming", "upcoming"]
_WEEK = ["الأسبوع", "هفته", "week"]
# Days told relative to another event ("the same day", "اليوم التالي") or counts of days:
# the publication date does not fix them.
_ANAPHORIC = ["اليوم التالي", "اليوم الموالي", "اليوم ذاته", "اليوم نفسه", "اليوم السابق", "نفس اليوم",
              "ذات اليوم", "همان روز", "همان شب", "همین روز", "روز بعد", "روز قبل", "فردای", "same day",
              "that day", "next day", "following day", "previous day", "day later", "day earlier", "in the day"]
_ERA_SPELLINGS = {
    "j": ["هـ.ش", "هـ ش", "هجري شمسي", "شمسی", "ش", "sh", "hs"],
    "h": ["هـ.ق", "هـ ق", "هجري قمري", "قمری", "هجرية", "هجري", "ق", "هـ", "ah", "a.h"],
    "g": ["م", "ميلادي", "ميلادية", "میلادی", "ce", "ad", "a.d"],
}


def _ordinals() -> dict[str, int]:
    """Ordinal day numbers: Arabic "الرابع من", "السادس والعشرين من", Persian "اول"."""
    units = ["الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]
    # "و" is written apart because _prep parts it from a following article ("والجمعة").
    out = {"العاشر": 10, "العشرين": 20, "الثلاثين": 30, "الحادي و الثلاثين": 31, "اول": 1, "یکم": 1}
    for i, unit in enumerate(units, 1):
        stem = "الحادي" if i == 1 else unit
        out |= {unit: i, f"{stem} عشر": 10 + i, f"{stem} و العشرين": 20 + i}
    return out


def _key(phrase: str) -> str:
    """A phrase as the tables look it up: normalized, spaces dropped."""
    return normalize(phrase).replace(" ", "")


def _body(phrases: list[str]) -> str:
    """A regex alternation of normalized phrases, longest first, each space optional
    (ذو القعده / ذوالقعده)."""
    forms = sorted({normalize(p) for p in phrases}, key=len, reverse=True)
    return "|".join(re.escape(f).replace(r"\ ", r"\s?") for f in forms)


def _alt(phrases: list[str]) -> str:
    """_body bounded by non-letters, so "الیوم" does not match inside "الیومین"."""
    return rf"(?<![^\W\d_])(?:{_body(phrases)})(?![^\W\d_])"


_MONTH_OF = {_key(p): (cal, m) for cal, months in _MONTH_SPELLINGS.items()
             for m, spellings in enumerate(months, 1) for p in spellings}
_WEEKDAY_OF = {_key(p): w for w, spellings in enumerate(_WEEKDAY_SPELLINGS) for p in spellings}
_RELATIVE_OF = {_key(p): off for off, spellings in _RELATIVE_SPELLINGS.items() for p in spellings}
_YEAR_OFFSET_OF = {_key(p): off for off, spellings in _YEAR_OFFSET_SPELLINGS.items() for p in spellings}
_ERA_OF = {_key(p): cal for cal, spellings in _ERA_SPELLINGS.items() for p in spellings}
_ORDINAL_OF = {_key(p): n for p, n in _ordinals().items()}

# "آذرماه", "اردیبهشت ماه": Persian writes "month" after the name.
_MON = (rf"(?P<mon>(?<![^\W\d_])(?:{_body([p for ms in _MONTH_SPELLINGS.values() for s in ms for p in s])})"
        r"\.?(?:\s?ماه)?(?![^\W\d_]))")
_MON2 = _MON.replace("(?P<mon>", "(?:")
_DAY = r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?(?!\d)"
_ERA = rf"(?:\s*(?P<era>{_alt([p for s in _ERA_SPELLINGS.values() for p in s])}))?"
_YEAR = rf"(?P<y>(?<!\d)\d{{4}}(?!\d)){_ERA}"
_ORD = rf"(?P<ord>{_alt(list(_ordinals()))})"

_PATTERNS = [  # in order of preference; a later match may not overlap an earlier one
    ("num", re.compile(rf"(?<![\d/.])(?:(?P<a>\d{{4}})\s?(?P<s1>[/.-])\s?(?P<b>\d{{1,2}})\s?(?P=s1)\s?(?P<c>\d{{1,2}})"
                       rf"|(?P<e>\d{{1,2}})\s?(?P<s2>[/.-])\s?(?P<f>\d{{1,2}})\s?(?P=s2)\s?(?P<g>\d{{4}}))"
                       rf"(?![\d/])(?!\.\d){_ERA}")),
    ("dmy", re.compile(rf"{_DAY}\s?(?:(?:من|of)\s)?{_MON}(?:\s?/\s?{_MON2})?(?:\s?[/.]?\s?(?:سال\s)?{_YEAR})?")),
    ("ord", re.compile(rf"{_ORD}\s(?:من\s)?{_MON}(?:\s?/\s?{_MON2})?(?:\s(?:سال\s)?{_YEAR})?")),
    ("mdy", re.compile(rf"{_MON}\s?{_DAY}(?:\s?/?\s?{_YEAR})?")),
    ("my", re.compile(rf"{_MON}(?:\s?/\s?{_MON2})?\s(?:(?:سال|عام|سنه|of)\s)?{_YEAR}")),
    ("y", re.compile(_YEAR)),
    ("m", re.compile(_MON)),
]
_TIME = re.compile(r"(?<!\d)\d{1,2}\s?:\s?\d{2}(?:\s?:\s?\d{2})?"
                   r"(?:\s?(?:[ap]\.?m\.?|ص|م|صباحا|مساء|مساءا|ظهرا|عصرا|عصر|صبح|شب)(?![^\W\d_]))?"
                   r"|(?<!\d)\d{1,2}h\d{2}(?!\d)|(?<!\d)\d{1,2}\s?[ap]\.?m\.?(?![a-z])")
_PUNCT = re.compile(r"[,،؛;|()\[\]«»\"!?؟]")
_LINK = r"(?:-|–|—|الی|حتی|تا|to|until|till|through|and|و)"
_RANGES = [
    re.compile(rf"(?<!\d)\d{{1,2}}(?:st|nd|rd|th)?\s?{_LINK}\s?\d{{1,2}}(?:st|nd|rd|th)?\s?{_MON2}"),
    re.compile(rf"{_MON2}\s?\d{{1,2}}(?:st|nd|rd|th)?\s?{_LINK}\s?\d{{1,2}}(?!\d)"),
    re.compile(rf"(?<!\d)\d{{4}}\s?{_LINK}\s?\d{{4}}(?!\d)"),
]
_RELATIVE = re.compile(_alt([p for s in _RELATIVE_SPELLINGS.values() for p in s]))
_WEEKDAY = re.compile(_alt([p for s in _WEEKDAY_SPELLINGS for p in s]) + r"\.?")
_YEAR_OFFSET = re.compile(_alt([p for s in _YEAR_OFFSET_SPELLINGS.values() for p in s]))
_PAST_RE = re.compile(_alt(_PAST))
_FUTURE_RE = re.compile(_alt(_FUTURE))
_WEEK_RE = re.compile(_alt(_WEEK))
_ANAPHORIC_RE = re.compile(_alt(_ANAPHORIC) + r"|(?<![^\W\d_])the day (?:before|after)(?! yesterday| tomorrow)"
                           r"|(?:\d+|دو|سه|چهار|پنج|چند)\sروز")
_HEADER_WORDS = re.compile(_alt(["updated", "published", "posted", "تاريخ", "تاریخ", "انتشار", "نشر",
                                 "بتاريخ", "تحديث", "الموافق", "کد خبر", "date"]))
_ONE_DAY = datetime.timedelta(days=1)
_WINDOW = datetime.timedelta(days=335)  # "within the last ~11 months" for a day and month without a year


@dataclass
class _Found:
    cal: str  # "g", "j" or "h"
    year: int | None
    month: int | None
    day: int | None
    start: int
    end: int
    note: str | None = None  # a reading the text leaves open, said as a warning

    def label(self) -> str:
        parts = [str(self.day) if self.day else "", _MONTH_NAMES[self.cal][self.month - 1] if self.month else "",
                 str(self.year) if self.year else ""]
        return f"{' '.join(p for p in parts if p)} ({_CALENDARS[self.cal]})"


def _prep(text: str) -> str:
    """Normalized text without times of day and commas; English apostrophes and
    letter-joining hyphens ("Rabi' al-Awwal") dropped so month names compare, and the
    Arabic "و" parted from the next word's article."""
    t = normalize(text)
    t = re.sub(r"['’ʿʻ`]", "", t)
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"(?<![^\W\d_])و(?=ال)", "و ", t)  # "والجمعه": "and" + "Friday"
    t = _TIME.sub(" ", t)
    return " ".join(_PUNCT.sub(" ", t).split())


def _hijri_year_calendar(lang: str, raw: str) -> str:
    """The calendar of a 1300–1499 year with no era marker: Solar Hijri in Persian and
    English pages (Iranian outlets), lunar Hijri in Arabic ones unless written in
    Persian digits."""
    if lang == "ar" and not re.search("[\u06f0-\u06f9]", raw):
        return "h"
    return "j"


def _year_calendar(year: int, era: str | None, lang: str, raw: str, numeric: bool) -> str:
    """An era marker decides; else a 1300–1499 year is Hijri of some kind in ar/fa text,
    and in English text too when written as 1402/12/21."""
    if era:
        return _ERA_OF[_key(era)]
    if 1300 <= year <= 1499 and (lang in ("ar", "fa") or numeric):
        return _hijri_year_calendar(lang, raw)
    return "g"


def _find(t: str, lang: str, raw: str) -> list[_Found]:
    """Explicit dates and parts of dates in prepared text, in order of position."""
    found: list[_Found] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(t):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            g = m.groupdict()
            note = None
            if kind == "num":
                if g["a"]:
                    year, month, day = int(g["a"]), int(g["b"]), int(g["c"])
                else:
                    year, day, month = int(g["g"]), int(g["e"]), int(g["f"])
                    if month > 12 >= day:  # only month/day reads
                        day, month = month, day
                        note = f"{m.group(0).strip()} read as month/day"
                    elif lang == "en" and g["s2"] != "." and day <= 12 and day != month:
                        note = f"{m.group(0).strip()} read as day/month"
                cal = _year_calendar(year, g["era"], lang, raw, numeric=True)
            elif kind == "y":
                year, month, day = int(g["y"]), None, None
                cal = _year_calendar(year, g["era"], lang, raw, numeric=False)
            else:
                cal, month = _MONTH_OF[_key(re.sub(r"\.|\s?ماه$", "", g["mon"]))]
                year = int(g["y"]) if g.get("y") else None
                day = int(g["d"]) if g.get("d") else _ORDINAL_OF[_key(g["ord"])] if g.get("ord") else None
            if day is not None and not 1 <= day <= 31 or not 1 <= (month or 1) <= 12:
                continue
            found.append(_Found(cal, year, month, day, m.start(), m.end(), note))
    return sorted(found, key=lambda f: f.start)


def _to_gregorian(cal: str, year: int, month: int, day: int) -> datetime.date:
    """Raises ValueError for a day the calendar does not have (30 Esfand of a common year)."""
    if cal == "g":
        return datetime.date(year, month, day)
    if cal == "j":
        return jdatetime.date(year, month, day).togregorian()
    try:
        g = Hijri(year, month, day).to_gregorian()
    except OverflowError as err:  # outside the Umm al-Qura tables (1343–1500 AH)
        raise ValueError(str(err)) from err
    return datetime.date(g.year, g.month, g.day)


def _from_gregorian(cal: str, day: datetime.date) -> tuple[int, int, int]:
    if cal == "g":
        return day.year, day.month, day.day
    if cal == "j":
        j = jdatetime.date.fromgregorian(date=day)
        return j.year, j.month, j.day
    try:
        return Gregorian(day.year, day.month, day.day).to_hijri().datetuple()
    except OverflowError as err:
        raise ValueError(str(err)) from err


def _span_iso(cal: str, year: int, month: int | None, label: str, warnings: list[str]) -> str | None:
    """The finest Gregorian unit holding a whole month or year of any calendar: a Solar
    Hijri month always straddles two Gregorian months, so it gives only the year, and
    a Solar Hijri year straddles two years, so it gives None."""
    try:
        first = _to_gregorian(cal, year, month or 1, 1)
        last = _to_gregorian(cal, *((year + 1, 1) if month in (None, 12) else (year, month + 1)), 1) - _ONE_DAY
    except ValueError as err:
        warnings.append(f"{label}: {err}")
        return None
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year:04d}-{first.month:02d}"
    if cal != "g":
        warnings.append(f"{label} is {first.isoformat()}..{last.isoformat()}"
                        + ("; only the year is certain" if first.year == last.year else ""))
    return f"{first.year:04d}" if first.year == last.year else None


def _direction(t: str) -> tuple[int | None, int]:
    """A year offset ("last year" -> -1) and a direction (-1 past, +1 future, 0 neither)."""
    offset = None
    if m := _YEAR_OFFSET.search(t):
        offset = _YEAR_OFFSET_OF[_key(m.group(0))]
        t = t[:m.start()] + " " + t[m.end():]
    return offset, -1 if _PAST_RE.search(t) else 1 if _FUTURE_RE.search(t) else 0


def _day_without_year(f: _Found, t: str, published: datetime.date, near: datetime.date | None,
                      warnings: list[str]) -> datetime.date | None:
    """A day and month take their year from the publication date: the one next to a
    relative day when they name it, else the last one on or before publication (within
    ~11 months), or the nearest past or coming one when the text says so."""
    offset, direction = _direction(t)
    try:
        if near is not None and _from_gregorian(f.cal, near)[1:] == (f.month, f.day):
            return near
        pub_year = _from_gregorian(f.cal, published)[0]
    except ValueError:  # a publication date outside the Umm al-Qura tables
        return None
    if offset is not None:
        years = [pub_year + offset]
    else:
        years = [pub_year, pub_year + direction] if direction else [pub_year, pub_year - 1]
    days = []
    for year in years:
        try:
            days.append(_to_gregorian(f.cal, year, f.month, f.day))
        except ValueError:  # 30 Esfand in a common year
            continue
    if offset is None and direction < 0:
        days = [d for d in days if d < published]
    elif offset is None and direction > 0:
        days = [d for d in days if d > published]
    elif offset is None:
        days = [d for d in days if published - _WINDOW <= d <= published]
    day = (min(days) if direction > 0 else max(days)) if days else None
    if day is None:
        warnings.append(f"{f.label()} has no year and the publication date {published.isoformat()} does not fix one")
    elif near is not None:
        warnings.append(f"{f.label()} is {day.isoformat()}, not the {near.isoformat()} the relative word gives")
    return day


def _month_without_year(f: _Found, t: str, published: datetime.date, warnings: list[str]) -> str | None:
    """A month alone is the last such month on or before publication, like a day without
    a year, or the one the text places: "last April", "يناير المقبل", "تیرماه سال گذشته"."""
    offset, direction = _direction(t)
    try:
        pub_year, pub_month, _ = _from_gregorian(f.cal, published)
    except ValueError:
        return None
    if offset is not None:
        year = pub_year + offset
    elif direction < 0:
        year = pub_year if f.month < pub_month else pub_year - 1
    elif direction > 0:
        year = pub_year if f.month > pub_month else pub_year + 1
    else:
        year = pub_year if f.month <= pub_month else pub_year - 1
    return _span_iso(f.cal, year, f.month, _Found(f.cal, year, f.month, None, 0, 0).label(), warnings)


def _full_date(full: list[_Found], warnings: list[str]) -> tuple[datetime.date | None, str]:
    """The day that complete dates give, and its calendar. Two calendars that disagree
    keep the Gregorian date (a Hijri day depends on the moon sighting); two different
    days of one calendar are a span, not a day."""
    days: list[tuple[_Found, datetime.date]] = []
    for f in full:
        if f.note:
            warnings.append(f.note)
        try:
            days.append((f, _to_gregorian(f.cal, f.year, f.month, f.day)))
        except ValueError:
            warnings.append(f"no such date: {f.label()}")
    distinct = sorted({d for _, d in days})
    if not days:
        return None, "g"
    if len(distinct) == 1:  # a Gregorian date beside a Hijri one fixes the day
        return distinct[0], "g" if any(f.cal == "g" for f, _ in days) else days[0][0].cal
    if len({f.cal for f, _ in days}) == 1:
        warnings.append(f"several dates ({', '.join(d.isoformat() for d in distinct)}), not one day")
        return None, "g"
    f, kept = next(((f, d) for f, d in days if f.cal == "g"), days[0])
    warnings.append(f"the dates given disagree ({', '.join(d.isoformat() for d in distinct)}); kept {kept.isoformat()}")
    return kept, f.cal


def _settle_weekday(weekdays: set[int], day: datetime.date, cal: str, warnings: list[str]) -> datetime.date:
    """Check the weekday the text names against the day. A Hijri date one day off its
    weekday follows a local moon sighting rather than Umm al-Qura: the weekday settles it."""
    if cal == "h" and len(weekdays) == 1:
        (w,) = weekdays
        for moved in (day - _ONE_DAY, day + _ONE_DAY):
            if moved.weekday() == w:
                warnings.append(f"weekday {_WEEKDAY_NAMES[w]} puts the Hijri date on {moved.isoformat()}, "
                                f"a day off Umm al-Qura's {day.isoformat()} (local moon sighting)")
                return moved
    for w in sorted(weekdays - {day.weekday()}):
        warnings.append(f"weekday {_WEEKDAY_NAMES[w]} contradicts {day.isoformat()} "
                        f"(a {_WEEKDAY_NAMES[day.weekday()]})")
    return day


def _weekdays(t: str) -> set[int]:
    return {_WEEKDAY_OF[_key(m.group(0).rstrip("."))] for m in _WEEKDAY.finditer(t)}


def resolve_date(text: str, lang: str, published: datetime.date | None) -> Resolved:
    """The calendar date a DATE span's text denotes, given the document's publication date."""
    t = _prep(text)
    warnings: list[str] = []
    if any(r.search(t) for r in _RANGES):
        return Resolved(None, ["a range of dates, not one day"])
    found = _find(t, lang, text)
    weekdays = _weekdays(t)
    rel = _RELATIVE.search(t)
    near = published + datetime.timedelta(days=_RELATIVE_OF[_key(rel.group(0))]) if rel and published else None

    full = [f for f in found if f.year and f.month and f.day]
    if full:
        day, cal = _full_date(full, warnings)
        if day is not None:
            day = _settle_weekday(weekdays, day, cal, warnings)
            if near is not None and near != day:
                warnings.append(f"'{rel.group(0)}' is {near.isoformat()} but the date given is {day.isoformat()}")
        return Resolved(day.isoformat() if day else None, warnings)
    if _ANAPHORIC_RE.search(t):
        return Resolved(None, [])

    days = [f for f in found if f.month and f.day]
    if days:
        if len({(f.cal, f.month, f.day) for f in days}) > 1:
            return Resolved(None, ["several dates, not one day"])
        if published is None:
            return Resolved(None, ["no year and no publication date"])
        day = _day_without_year(days[0], t, published, near, warnings)
        if day is not None:
            day = _settle_weekday(weekdays, day, days[0].cal, warnings)
        return Resolved(day.isoformat() if day else None, warnings)

    months = [f for f in found if f.month]
    if months:
        f = months[0]
        if len({(g.cal, g.month, g.year) for g in months}) > 1:
            return Resolved(None, ["several months, not one"])
        if f.year:
            return Resolved(_span_iso(f.cal, f.year, f.month, f.label(), warnings), warnings)
        if published is None:
            return Resolved(None, [])
        return Resolved(_month_without_year(f, t, published, warnings), warnings)

    years = [f for f in found if f.year]
    if years:
        # A bare year only when no other number stands beside it ("29 Magh 1431" is no year).
        if len(years) > 1 or len(re.findall(r"\d+", t)) > 1:
            return Resolved(None, [])
        f = years[0]
        label = f"{_CALENDARS[f.cal]} year {f.year}"
        return Resolved(_span_iso(f.cal, f.year, None, label, warnings), warnings)

    if rel:
        if published is None:
            return Resolved(None, ["no publication date"])
        _settle_weekday(weekdays, near, "g", warnings)
        return Resolved(near.isoformat(), warnings)

    if weekdays:
        if len(weekdays) > 1:
            return Resolved(None, ["several weekdays, not one day"])
        if _WEEK_RE.search(t):  # "Tuesday last week": weeks start on different days in ar/fa/en
            return Resolved(None, ["a weekday of another week"])
        if published is None:
            return Resolved(None, ["no publication date"])
        (w,) = weekdays
        _, direction = _direction(t)
        if direction > 0:
            back = -((w - published.weekday()) % 7 or 7)
        else:  # on or before publication; "last Tuesday" is never the publication day itself
            back = (published.weekday() - w) % 7 or (7 if direction < 0 else 0)
        return Resolved((published - datetime.timedelta(days=back)).isoformat(), [])
    return Resolved(None, [])


# Days after the date written before it, for phrases that date by reference to it.
_BACK_REFERENCE = {
    0: ["اليوم ذاته", "اليوم نفسه", "نفس اليوم", "ذات اليوم", "همان روز", "همان شب", "همین روز", "same day",
        "that day", "in the day"],
    1: ["اليوم التالي", "اليوم الموالي", "روز بعد", "فردای", "next day", "following day", "day later"],
    -1: ["اليوم السابق", "روز قبل", "previous day", "day earlier"],
}
_BACK_REFERENCE_RE = {k: re.compile(_alt(v)) for k, v in _BACK_REFERENCE.items()}
# A part of the day said alone ("بعد الظهر", "عصر", "in the evening", "ساعتی بعد") continues the
# day of the date written before it, as agencies write a day's second meeting.
_PART_OF_DAY = ["بعد الظهر", "بعد الظهيرة", "الظهيرة", "ظهرا", "الظهر", "ظهر", "عصرا", "العصر", "عصر", "مساء",
                "مساءا", "المساء", "صباحا", "الصباح", "صباح", "ليلا", "الليل", "الفجر", "فجرا", "ضحى",
                "بعدازظهر", "بعد از ظهر", "پیش از ظهر", "قبل از ظهر", "صبح", "شب", "شامگاه", "بامداد",
                "عصرگاه", "ظهرگاه", "ساعتی بعد", "ساعاتی بعد", "چند ساعت بعد", "بعد ساعات", "بعد ساعة",
                "morning", "afternoon", "evening", "night", "noon", "midday", "hours later", "an hour later"]
_PART_OF_DAY_FILLER = ["في", "وفي", "و", "خلال", "بعد", "ساعة", "ساعات", "ساعه", "ساعتی", "ساعاتی", "چند", "در",
                       "هنگام", "in the", "in", "at", "on", "the", "that", "later", "late", "early", "hours",
                       "an hour", "a few"]
_PART_OF_DAY_RE = re.compile(_alt(_PART_OF_DAY))
_PART_OF_DAY_ALL_RE = re.compile(_alt(_PART_OF_DAY + _PART_OF_DAY_FILLER))


def days_after_previous(text: str) -> int | None:
    """For "the same day" (0), "the next day" (1), "the day before" (-1) and their Arabic and
    Persian forms, and a part of the day alone ("in the afternoon", 0): the offset from the
    date written before it in the text; None otherwise."""
    t = _prep(text)
    found = next((k for k, r in _BACK_REFERENCE_RE.items() if r.search(t)), None)
    if found is None and _PART_OF_DAY_RE.search(t) and not _PART_OF_DAY_ALL_RE.sub(" ", t).strip():
        return 0
    return found


def page_date(text: str, lang: str) -> datetime.date | None:
    """A publication date the page itself carries (dateline/header line near the top,
    e.g. "۱۴۰۳/۰۱/۱۱ - ۱۱:۰۰:۰۱", "السبت 06-09-2014", "Last updated: 22 Nov 2025, 19:05"),
    for documents whose input has no date.

    A line qualifies when it is mostly a date or says it is one ("updated", "تاريخ",
    "الموافق"); failing that, a line that opens with a date (a dateline before the story).
    """
    lines = [line for line in text[:2000].splitlines() if line.strip()][:15]
    # the header zone ends with the first paragraph of the story (a dateline may open it)
    body = next((k for k, line in enumerate(lines) if len(line) > 200), len(lines))
    lines = lines[:body + 1]
    openers: list[datetime.date] = []
    for line in lines:
        t = _prep(line)
        full = [f for f in _find(t, lang, line) if f.year and f.month and f.day]
        day, cal = _full_date(full, []) if full else (None, "g")
        if day is None:
            continue
        day = _settle_weekday(_weekdays(t), day, cal, [])
        rest = t
        for f in sorted(full, key=lambda f: -f.start):
            rest = rest[:f.start] + rest[f.end:]
        rest = _WEEKDAY.sub("", rest)
        if _HEADER_WORDS.search(t) or len(re.sub(r"[\W\d_]", "", rest)) <= 20:
            return day
        if full[0].start <= 40:
            openers.append(day)
    return openers[0] if openers else None


def document_dates(doc: Document) -> tuple[dict[str, str | None], list[str]]:
    """ISO 8601 dates of the DATE entities (liqa.dates), resolved against the publication
    date: the input's, else one the page carries (said in a warning); and the warnings
    met while resolving the events' dates."""
    published, warnings = None, []
    if doc.date:
        try:
            published = datetime.date.fromisoformat(doc.date[:10])
        except ValueError:
            warnings.append(f"input date {doc.date!r} is not ISO 8601 (YYYY-MM-DD); not used")
    dates = [e for e in doc.entities if e.type == "DATE"]
    if published is None and dates:
        published = page_date(doc.text, doc.lang)
        if published is not None:
            warnings.append(f"publication date {published.isoformat()} taken from the page itself")
    event_dates = {ev.date for ev in doc.events}
    isos, previous = {}, None  # the last full date written before, for "the same day", "the next day"
    for e in sorted(dates, key=lambda e: e.start):
        resolved = resolve_date(e.text, doc.lang, published)
        offset = days_after_previous(e.text) if resolved.iso is None else None
        if offset is not None and previous is not None:
            resolved.iso = (previous + datetime.timedelta(days=offset)).isoformat()
        isos[e.id] = resolved.iso
        if resolved.iso and len(resolved.iso) == 10:
            previous = datetime.date.fromisoformat(resolved.iso)
        if e.id in event_dates:
            warnings += [f"date {e.text!r}: {w}" for w in resolved.warnings]
    return isos, warnings
