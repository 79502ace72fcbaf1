"""Date resolution (liqa.dates): hand-checked dates in three languages and three calendars.

Anchors the expected values were worked out from, by hand and not with liqa.dates:
- weekdays: 2024-03-14 was a Thursday; other weekdays are counted from it (days mod 7).
- Solar Hijri: 1 Farvardin 1402 = 2023-03-21, 1 Farvardin 1403 = 2024-03-20 (1403 is a
  leap year, so 30 Esfand 1403 = 2025-03-20), 1 Farvardin 1404 = 2025-03-21; months 1-6
  have 31 days, 7-11 have 30, Esfand 29 (30 in a leap year).
- Hijri, Umm al-Qura: 1 Ramadan 1445 = 2024-03-11 (30 days that year), 1 Muharram 1446 =
  2024-07-07; Ramadan 1446 began 2025-03-01 and had 29 days (Eid al-Fitr 2025-03-30).
"""
import datetime

import jdatetime
import pytest
from hijridate import Hijri

from liqa.dates import days_after_previous, page_date, resolve_date

D = datetime.date
THU = D(2024, 3, 14)  # a Thursday, the publication date of most relative cases

CASES = [
    # --- Gregorian, Arabic: Arabic-Indic digits, four month-naming traditions, weekday, "م", time
    ("١٤ مارس ٢٠٢٤", "ar", None, "2024-03-14", None),
    ("الخميس ١٤ مارس ٢٠٢٤ م", "ar", None, "2024-03-14", None),
    ("الثلاثاء 14 مارس 2024", "ar", None, "2024-03-14", "weekday Tuesday contradicts 2024-03-14 (a Thursday)"),
    ("14 كانون الثاني 2025", "ar", None, "2025-01-14", None),
    # 2023-12-03 is 102 days before THU, 102 % 7 = 4 -> Sunday
    ("الأحد 3 كانون الأول 2023 - 17:40", "ar", None, "2023-12-03", None),
    ("الجمعة 12 يوليوز 2024", "ar", None, "2024-07-12", None),  # 120 days after THU, 120 % 7 = 1 -> Friday
    ("5 غشت 2024", "ar", None, "2024-08-05", None),
    ("20 شتنبر 2023", "ar", None, "2023-09-20", None),
    ("نونبر 2022", "ar", None, "2022-11", None),
    ("دجنبر 2023", "ar", None, "2023-12", None),
    ("10 جانفي 2024 على الساعة 09:30", "ar", None, "2024-01-10", None),
    ("17 أفريل 2024", "ar", None, "2024-04-17", None),
    ("السبت 06-09-2014", "ar", None, "2014-09-06", None),  # 2014-01-01 a Wednesday, +248 days, 248 % 7 = 3 -> Saturday
    ("٢٤/١٠/٢٠٢٤", "ar", None, "2024-10-24", None),
    ("الرابع من حزيران 1967", "ar", None, "1967-06-04", None),
    ("الخامس والعشرين من آب 2024", "ar", None, "2024-08-25", None),
    ("يوم الثلاثاء 15 تموز/يوليو 2025", "ar", None, "2025-07-15", None),  # 488 days after THU, 488 % 7 = 5 -> Tuesday
    ("عام ٢٠١٩", "ar", None, "2019", None),
    # --- Gregorian, English and Persian
    ("2024-03-14", "en", None, "2024-03-14", None),
    ("14/03/2024", "en", None, "2024-03-14", None),
    ("12/11/2024", "en", None, "2024-11-12", "read as day/month"),  # 12 Nov or Dec 11: said, not hidden
    ("March 14, 2024", "en", None, "2024-03-14", None),
    ("Thursday, Sept. 14, 2023", "en", None, "2023-09-14", None),  # 182 days = 26 weeks before THU
    ("Jan. 5, 2025, 4:10 pm", "en", None, "2025-01-05", None),
    ("the 4th of July 2023", "en", None, "2023-07-04", None),
    ("March 2024", "en", None, "2024-03", None),
    ("2023", "en", None, "2023", None),
    ("15 ژانویه ۲۰۲۵", "fa", None, "2025-01-15", None),
    ("۲ اوت ۲۰۲۳", "fa", None, "2023-08-02", None),
    ("ژوئیه ۲۰۲۴", "fa", None, "2024-07", None),
    ("مارس 2024", "ar", None, "2024-03", None),
    # --- Hijri (Umm al-Qura)
    ("1 رمضان 1445 هـ", "ar", None, "2024-03-11", None),
    ("15 رمضان 1445 هـ", "ar", None, "2024-03-25", None),  # anchor + 14 days
    ("١ محرم ١٤٤٦ هـ", "ar", None, "2024-07-07", None),
    ("۱۰ محرم ۱۴۴۶ ق", "fa", None, "2024-07-16", None),  # anchor + 9 days
    ("۲۷ رمضان ۱۴۴۵ هـ.ق", "fa", None, "2024-04-06", None),  # 2024-03-11 + 26 days
    ("Ramadan 20, 1445 AH", "en", None, "2024-03-30", None),  # 2024-03-11 + 19 days
    ("13 شعبان 1446 هـ الموافق 12 فبراير 2025", "ar", None, "2025-02-12", None),  # the two agree: Ramadan 1446 began
    # 2025-03-01 after a 29-day Sha'ban, so 1 Sha'ban = 2025-01-31 and the 13th = 2025-02-12
    ("30 رمضان 1446 هـ", "ar", None, None, "no such date"),  # Ramadan 1446 had 29 days
    ("رمضان 1445 هـ", "ar", None, "2024", "2024-03-11..2024-04-09"),  # April and March: only the year
    ("1445 هـ", "ar", None, None, "Hijri year 1445"),  # 2023-07-19..2024-07-06, two Gregorian years
    # A Hijri day one off its weekday is a local moon sighting: the weekday settles it.
    ("الاثنين 1 محرم 1446 هـ", "ar", None, "2024-07-08", "local moon sighting"),  # 2024-07-07 was a Sunday
    ("الأربعاء 1 محرم 1446 هـ", "ar", None, "2024-07-07", "weekday Wednesday contradicts"),  # three days off
    # A news page printed "10 جمادى الأولى 1446 هـ - 12 نوفمبر 2024" together; 2024-11-12 is 243 days after
    # THU, 243 % 7 = 5 -> Tuesday. Beside a Gregorian date the weekday moves nothing.
    ("الأربعاء 10 جمادى الأولى 1446 هـ - 12 نوفمبر 2024", "ar", None, "2024-11-12", "weekday Wednesday contradicts"),
    ("11 جمادى الأولى 1446 هـ الموافق 12 نوفمبر 2024", "ar", None, "2024-11-12", "the dates given disagree"),
    # --- Solar Hijri
    ("۱۴۰۳/۰۱/۱۱ - ۱۱:۰۰:۰۱", "fa", None, "2024-03-30", None),  # 2024-03-20 + 10 days
    ("1403/01/11", "fa", None, "2024-03-30", None),
    ("۱ فروردین ۱۴۰۳", "fa", None, "2024-03-20", None),
    ("۳۰ اسفند ۱۴۰۳", "fa", None, "2025-03-20", None),  # leap year
    ("۳۰ اسفند ۱۴۰۲", "fa", None, None, "no such date: 30 Esfand 1402"),  # common year
    ("۲۹ اسفند ۱۴۰۲", "fa", None, "2024-03-19", None),  # the eve of 1 Farvardin 1403
    # 2025-03-21 (a Friday, 372 days after THU) + 45 days, 45 % 7 = 3 -> Monday
    ("دوشنبه ۱۵ اردیبهشت ۱۴۰۴", "fa", None, "2025-05-05", None),
    ("۱۵ حوت ۱۴۰۳", "fa", None, "2025-03-05", None),  # Afghan name of Esfand; 1 Esfand 1403 = 2025-02-19, + 14
    ("Ordibehesht 11, 1404", "en", None, "2025-05-01", None),  # 2025-03-21 + 31 + 10 days
    ("1402/12/21", "en", None, "2024-03-11", None),  # 2024-03-20 - 9 days (Esfand 1402 has 29)
    ("۱۴۰۴/۰۱/۲۰", "ar", None, "2025-04-09", None),  # Persian digits in an Arabic page: Solar Hijri
    ("17 تير 1404 هـ.ش", "ar", None, "2025-07-08", None),  # 2025-03-21 + 93 + 16 days
    ("اردیبهشت ۱۴۰۳", "fa", None, "2024", "2024-04-20..2024-05-20"),  # never one Gregorian month
    ("دی ۱۴۰۲", "fa", None, None, "2023-12-22..2024-01-20"),  # 2023-03-21 + 276 days; across New Year
    ("۱۴۰۲", "fa", None, None, "Solar Hijri year 1402"),
    # --- relative days
    ("أمس", "ar", THU, "2024-03-13", None),
    ("بالأمس", "ar", THU, "2024-03-13", None),
    ("أمس الأربعاء", "ar", THU, "2024-03-13", None),
    ("أمس الثلاثاء", "ar", THU, "2024-03-13", "weekday Tuesday contradicts 2024-03-13"),
    ("أول أمس", "ar", THU, "2024-03-12", None),
    ("أول من أمس", "ar", THU, "2024-03-12", None),
    ("صباح اليوم", "ar", THU, "2024-03-14", None),
    ("مساء أمس الثلاثاء", "ar", D(2024, 3, 13), "2024-03-12", None),
    ("غداً الجمعة", "ar", THU, "2024-03-15", None),
    ("اليوم", "ar", None, None, "no publication date"),
    ("امروز", "fa", THU, "2024-03-14", None),
    ("ظهر امروز پنج‌شنبه", "fa", THU, "2024-03-14", None),
    ("دیروز", "fa", THU, "2024-03-13", None),
    ("روز گذشته", "fa", THU, "2024-03-13", None),  # Persian news usage: yesterday
    ("پریروز", "fa", THU, "2024-03-12", None),
    ("فردا", "fa", THU, "2024-03-15", None),
    ("دیروز- شنبه 20 اردیبهشت", "fa", D(2025, 5, 11), "2025-05-10", None),  # 2025-03-21 + 50 days, a Saturday
    ("yesterday", "en", THU, "2024-03-13", None),
    ("this morning", "en", THU, "2024-03-14", None),
    ("last night", "en", THU, "2024-03-13", None),
    ("the day before yesterday", "en", THU, "2024-03-12", None),
    ("tomorrow", "en", THU, "2024-03-15", None),
    ("yesterday", "en", None, None, "no publication date"),
    # --- weekdays alone: the last such day on or before publication
    ("on Tuesday", "en", THU, "2024-03-12", None),
    ("Thursday", "en", THU, "2024-03-14", None),  # the publication day itself
    ("Tuesday evening", "en", THU, "2024-03-12", None),
    ("يوم الثلاثاء", "ar", THU, "2024-03-12", None),
    ("الجمعة", "ar", THU, "2024-03-08", None),
    ("الثلاثاء الماضي", "ar", THU, "2024-03-12", None),
    ("روز سه‌شنبه", "fa", THU, "2024-03-12", None),
    ("سه شنبه گذشته", "fa", THU, "2024-03-12", None),
    ("روز پنجشنبه", "fa", THU, "2024-03-14", None),  # the publication day itself
    ("last Thursday", "en", THU, "2024-03-07", None),  # "last" never names the publication day
    ("الأحد المقبل", "ar", THU, "2024-03-17", None),
    ("Tuesday", "en", None, None, "no publication date"),
    ("يومي الخميس والجمعة", "ar", THU, None, "several weekdays"),
    ("Tuesday last week", "en", THU, None, "another week"),
    # --- day and month without a year: the publication year, on or before it, within ~11 months
    ("14 March", "en", THU, "2024-03-14", None),
    ("10 March", "en", THU, "2024-03-10", None),
    ("20 March", "en", THU, None, "no year"),  # after publication
    ("14 March", "en", None, None, "no year"),
    # the last such day on or before publication, across New Year: 2025-12-28 would be ahead
    ("December 28", "en", D(2025, 1, 5), "2024-12-28", None),
    ("December 28", "en", D(2025, 12, 1), None, "no year"),  # 2024-12-28 is more than 11 months back
    ("in September", "en", D(2024, 10, 15), "2024-09", None),  # a month alone: the last September
    ("في يناير", "ar", D(2025, 5, 25), "2025-01", None),
    ("in December", "en", D(2025, 5, 25), "2024-12", None),
    ("11 ديسمبر الماضي", "ar", D(2025, 1, 11), "2024-12-11", None),  # "last" names the year before
    ("15 رمضان", "ar", D(2024, 3, 30), "2024-03-25", None),
    ("15 رمضان", "ar", None, None, "no year"),
    ("۲۰ بهمن", "fa", THU, "2024-02-09", None),  # 1 Bahman 1402 = 2023-03-21 + 306 = 2024-01-21, + 19
    ("امروز ۲۴ اسفند", "fa", THU, "2024-03-14", None),  # 29 Esfand 1402 = 2024-03-19, - 5
    ("فردا ۲۵ اسفند", "fa", THU, "2024-03-15", None),  # ahead of publication, but "tomorrow" says so
    ("مارس الماضي", "ar", D(2024, 10, 22), "2024-03", None),
    ("April last year", "en", D(2024, 1, 5), "2023-04", None),
    # --- vague, anaphoric and ranges: no date
    ("last week", "en", THU, None, None),
    ("الأسبوع الماضي", "ar", THU, None, None),
    ("هفته گذشته", "fa", THU, None, None),
    ("recently", "en", THU, None, None),
    ("earlier this month", "en", THU, None, None),
    ("مطلع الشهر الجاري", "ar", THU, None, None),
    ("the past two days", "en", THU, None, None),
    ("اليومين الماضيين", "ar", THU, None, None),
    ("دو روز گذشته", "fa", THU, None, None),
    ("next spring", "en", THU, None, None),
    ("في وقت سابق", "ar", THU, None, None),
    ("اليوم التالي", "ar", THU, None, None),
    ("عصر همان روز", "fa", THU, None, None),
    ("the same day", "en", THU, None, None),
    ("25-29 December 2023", "en", None, None, "range"),
    ("17 إلى 21 يوليو", "ar", THU, None, "range"),
]


@pytest.mark.parametrize(("text", "lang", "published", "iso", "warning"), CASES)
def test_resolve_date(text: str, lang: str, published: datetime.date | None, iso: str | None,
                      warning: str | None) -> None:
    got = resolve_date(text, lang, published)
    assert got.iso == iso
    if warning is None:
        assert got.warnings == []
    else:
        assert any(warning in w for w in got.warnings), got.warnings


PAGES = [
    # Past the first paragraph of the story, a line opening with a date is history, not a dateline.
    ("Envoys meet in Cairo\n" + "The envoys of both governments sat down in Cairo for a long round of talks on the "
     "ceasefire, the crossings and the release of detainees, their fifth meeting this year, officials said. " * 2
     + "\n7 October 2023 changed the course of the talks.", "en", None),
    ("۱۴۰۳/۰۱/۱۱ - ۱۱:۰۰:۰۱\nدیدار دو وزیر در تهران\nوزیران امروز با هم گفتگو کردند.", "fa", D(2024, 3, 30)),
    ("السبت 06-09-2014\nوزير الخارجية يستقبل نظيره\nاستقبل الوزير ضيفه صباح اليوم.", "ar", D(2014, 9, 6)),
    ("Ministers meet in Muscat\nBy a staff writer\nLast updated: 22 Nov 2025, 19:05\n"
     "The two sides last met on 5 March 2019.", "en", D(2025, 11, 22)),
    ("تاریخ انتشار: ۲۵ فروردین ۱۴۰۴ - ۱۸:۲۰\nسفر هیئت به بغداد", "fa", D(2025, 4, 14)),  # 2025-03-21 + 24 days
    ("لقاء في المنامة\nالمنامة في 13 شعبان 1446 هـ الموافق 12 فبراير 2025 (وكالة) - التقى الوزير بضيفه "
     "وبحثا سبل التعاون بين البلدين في مجالات عدة.", "ar", D(2025, 2, 12)),
    ("Talks resume in Geneva\nGeneva, 12 March 2024 (wire) - Envoys from both governments sat down again "
     "on Tuesday for a second round of talks.", "en", D(2024, 3, 12)),
    ("Mon 4 Dec 2023, 6:14 PM\nEnvoys hold talks", "en", D(2023, 12, 4)),  # THU - 101 days, 101 % 7 = 3 -> Monday
    # A date inside a long sentence of the story is no dateline, and a year alone is no date.
    ("Talks resume after the 2019 accord\nThe accord that the delegations of both countries finally "
     "signed on 4 June 2019 was the topic again.", "en", None),
    ("عنوان بلا تاريخ\nنص الخبر", "ar", None),
]


@pytest.mark.parametrize(("text", "lang", "expected"), PAGES)
def test_page_date(text: str, lang: str, expected: datetime.date | None) -> None:
    assert page_date(text, lang) == expected


def test_calendar_libraries_agree_with_the_anchors() -> None:
    """The pinned libraries give the anchors the table above was worked out from."""
    assert Hijri(1445, 9, 1).to_gregorian() == D(2024, 3, 11)
    assert Hijri(1446, 1, 1).to_gregorian() == D(2024, 7, 7)
    assert Hijri(1445, 9, 1).month_length() == 30 and Hijri(1446, 9, 1).month_length() == 29
    assert jdatetime.date(1403, 1, 1).togregorian() == D(2024, 3, 20)
    assert jdatetime.date(1403, 12, 30).togregorian() == D(2025, 3, 20)
    assert D(2024, 3, 14).weekday() == 3  # Thursday


@pytest.mark.parametrize(("text", "offset"), [
    ("في اليوم التالي", 1), ("اليوم ذاته", 0), ("عصر همان روز", 0), ("روز بعد", 1), ("the next day", 1),
    ("later in the day", 0), ("a day earlier", -1), ("the day before yesterday", None), ("أمس", None),
    ("on Tuesday", None), ("امروز", None),
    # a part of the day alone continues the day before it; with a day of its own it is not one
    ("بعد الظهر", 0), ("مساء", 0), ("في المساء", 0), ("بعدازظهر", 0), ("ساعتي بعد", 0), ("عصر", 0),
    ("in the afternoon", 0), ("later that evening", 0), ("مساء الخميس", None), ("صبح فردا", None),
    ("the evening before", None), ("الشهر الماضي", None), ("6 pm", None)])
def test_days_after_previous(text: str, offset: int | None) -> None:
    assert days_after_previous(text) == offset
