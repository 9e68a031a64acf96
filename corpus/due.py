"""Deadlines as dates: the 完成时限 as written ("6月底前", "三季度", "2024—2026年", "长期坚持") read as
a range of dates, its text kept.

A deadline without a year takes the document's ("6月底前" in a 2023 document is 2023-06-30). The end
is what supervision counts against: "6月底前" ends on 30 June, "三季度" on 30 September, "2024—2026年"
on 31 December 2026. "长期坚持", "持续推进" and their kind are open-ended; "每年3月底前" recurs. A
deadline the forms below do not cover ("疫情解除后三个月内") has no dates, never a guessed one.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from corpus.normalize import normalize

_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
       "十一": 11, "十二": 12}
_OPEN = re.compile(r"长期|持续|常态化|按年度|逐年|分年度|与国家|按国家|按要求|按照国家")
_MONTH = r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?"


@dataclass(frozen=True, slots=True)
class Due:
    """A deadline's dates: `end` is the last day it allows; `start` the first of a period."""

    text: str
    start: date | None = None
    end: date | None = None
    open_ended: bool = False  # 长期坚持, 持续推进: no date to miss
    recurring: bool = False  # 每年3月底前: the dates are this year's

    def overdue(self, today: date) -> bool:
        return self.end is not None and not self.open_ended and self.end < today


def _month(text: str) -> int:
    return int(text) if text.isdigit() else _CN[text]


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _point(text: str, year: int | None) -> tuple[date, date] | None:
    """(first, last) day of one time point: a year, a month, a day, a quarter, a half, a part."""
    y = re.search(r"((?:19|20)\d\d)\s*年", text)
    if y:
        year = int(y.group(1))
    if year is None:
        return None
    day = re.search(_MONTH + r"\s*(\d{1,2})\s*日", text)
    if day:
        d = date(year, _month(day.group(1)), min(int(day.group(2)), calendar.monthrange(year, _month(day.group(1)))[1]))
        return d, d
    month = re.search(_MONTH, text)
    if month and 1 <= _month(month.group(1)) <= 12:
        m = _month(month.group(1))
        if re.search(r"月(?:份)?\s*(?:初|上旬)", text):
            return date(year, m, 1), date(year, m, 10)
        if re.search(r"月(?:份)?\s*中旬", text):
            return date(year, m, 11), date(year, m, 20)
        return date(year, m, 1), _last_day(year, m)
    quarter = re.search(r"([一二三四1-4])\s*季度", text)
    if quarter:
        q = int(quarter.group(1)) if quarter.group(1).isdigit() else _CN[quarter.group(1)]
        return date(year, 3 * q - 2, 1), _last_day(year, 3 * q)
    if "上半年" in text:
        return date(year, 1, 1), date(year, 6, 30)
    if "下半年" in text:
        return date(year, 7, 1), date(year, 12, 31)
    if "年中" in text:
        return date(year, 6, 1), date(year, 7, 31)
    if "年初" in text:
        return date(year, 1, 1), date(year, 3, 31)
    return date(year, 1, 1), date(year, 12, 31)  # 年底, 年末, 年内, 全年, a bare year


def due(deadline: str | None, year: int | None = None) -> Due | None:
    """The dates of a deadline as written; `year` is the document's, for a deadline that names none."""
    if not deadline:
        return None
    text = re.sub(r"[〇零一二三四五六七八九]{4}(?=\s*年)",
                  lambda m: "".join(str("〇一二三四五六七八九".find(c) if c != "零" else 0) for c in m.group()),
                  normalize(deadline))  # 二〇二五年
    if _OPEN.search(text):
        return Due(deadline, open_ended=True)
    recurring = bool(re.match(r"每年|每季度|每月", text))
    if re.search(r"\d+\s*(?:个)?(?:工作日|日|天|周|个月|小时)\s*(?:内|以内)|之日起|[后後]", text) and not re.search(
            r"(?:19|20)\d\d\s*年|月\s*(?:底|末)", text):
        return Due(deadline)  # relative to an event the document does not date
    text = re.sub(r"^(?:到|至|截至|截止到|截止|于|在)\s*", "", text)
    months = re.fullmatch(r"((?:19|20)\d\d\s*年)?\s*(\d{1,2})\s*[-－—–~～至]\s*(\d{1,2})\s*月.*", text)
    if months and (months.group(1) or year):
        y = int(months.group(1)[:4]) if months.group(1) else year
        return Due(deadline, date(y, int(months.group(2)), 1), _last_day(y, int(months.group(3))), recurring=recurring)
    years = re.fullmatch(r"\D*((?:19|20)\d\d)\s*[-－—–~～至到]\s*((?:19|20)?\d\d)\s*年.*", text)
    if years:
        first, last = int(years.group(1)), int(years.group(2))
        last = last if last >= 100 else first // 100 * 100 + last
        return Due(deadline, date(first, 1, 1), date(last, 12, 31))
    parts = re.split(r"\s*(?:至|到|[-－—–~～])\s*(?=(?:(?:19|20)\d\d\s*年|\d{1,2}\s*月|[一二三四五六七八九十]{1,2}\s*月|[一二三四]季度))", text)
    first = _point(parts[0], year)
    if first is None:
        return Due(deadline, recurring=recurring)
    if len(parts) > 1:
        start_year = first[0].year
        last = _point(parts[-1], start_year)
        if last is not None:
            return Due(deadline, first[0], last[1], recurring=recurring)
    if re.search(r"[起始]$|开始$", text):
        return Due(deadline, first[0], None, recurring=recurring)  # "2022年起": a start, no deadline
    return Due(deadline, first[0], first[1], recurring=recurring)


def document_year(date_text: str | None, title: str = "") -> int | None:
    """The year a document's undated deadlines fall in: its date's, else the first year its title names."""
    for text in (date_text or "", title):
        m = re.search(r"(?:19|20)\d\d", text)
        if m:
            return int(m.group())
    return None
