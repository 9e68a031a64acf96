"""Deadlines: the time expressions of the genre, found in running text and in 完成时限 cells.

"2019年6月底前", "到2025年", "每年2月底前", "年内完成", "三季度", "5-7月", "2019年1月1日至2020年12月31日",
"本意见印发之日起30日内", "疫情解除后三个月内", "15分钟内". A number followed by 年 is a year only in
the range 1900–2099, and an expression used attributively ("2020年2月份的纳税期限") is not a deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_NUM = "一二三四五六七八九十两〇零"
_YEAR = r"(?:19|20)\d\d\s*年(?:度)?"
_MONTH = rf"(?:\d{{1,2}}|[{_CN_NUM}]{{1,3}})\s*月(?:份)?"
_DAY = r"\d{1,2}\s*日"
_PART = r"(?:底|末|初|中旬|上旬|下旬|中(?![期心央间])|前后)"
_QUARTER = r"(?:第?[一二三四1-4]\s*季度|[上下]半年|年中(?![期心央])|年底|年末|年初|年内)"
_END = r"(?:之前|以前|前|以内|之内|内|止)"
_POINT = (
    rf"(?:{_YEAR}\s*(?:{_MONTH}\s*(?:{_DAY})?|{_QUARTER})?\s*{_PART}?"
    rf"|(?:每年|当年|次年|今年|明年)?\s*{_MONTH}\s*(?:{_DAY})?\s*{_PART}?"
    rf"|(?:每年|当年|次年|今年|明年|全年)?\s*{_QUARTER}\s*{_PART}?)"
)
_RANGE = rf"{_POINT}\s*(?:至|到|—|－|-|–|~|～)\s*{_POINT}"
_MONTH_RANGE = r"\d{1,2}\s*[-－—–~～至]\s*\d{1,2}\s*月(?:份)?"
_YEAR_RANGE = r"(?:19|20)\d\d\s*[-－—–~～至]\s*(?:19|20)?\d\d\s*年"
_RELATIVE = (
    rf"(?:(?:(?:自|从)(?:本|该)?|本|该)[\u4e00-\u9fa5]{{0,3}}?(?:印发|发布|实施|施行|出台|公布|下发|签订|批准|受理|登记)之日起|(?:疫情|活动|政策|项目)[^，。；、\s]{{0,6}}[后後]|"
    rf"(?:接到|收到|接收|发现)[^，。；\s]{{0,10}}[后後])?\s*"
    rf"(?:\d+|[{_CN_NUM}]{{1,3}})\s*(?:个)?(?:工作日|日|天|周|个月|月|年|小时|分钟)\s*{_END}?"
)
_STANDALONE = r"(?:长期坚持|持续推进|长期推进|全年推进|年内完成|常态化推进|按年度推进|与国家安排同步|按国家要求|按要求)"
_LEAD = r"(?:到|至|截至|截止到|截止)"
_QUIET_LEAD = r"(?:在|于|从|自)"  # matched, but not part of the deadline as written
_EXPRESSION = re.compile(
    rf"(?:{_QUIET_LEAD}\s*)?(?P<expr>(?P<lead>{_LEAD})?\s*(?:{_RANGE}|{_YEAR_RANGE}|{_MONTH_RANGE}|{_POINT})\s*(?P<end>{_END}|完成)?"
    rf"|{_STANDALONE}|{_RELATIVE})"
)
_RELATIVE_RE = re.compile(_RELATIVE)
_CELL = re.compile(
    rf"^\s*(?:{_LEAD})?\s*(?:{_RANGE}|{_YEAR_RANGE}|{_MONTH_RANGE}|{_POINT}|{_STANDALONE}|持续|长期|全年|年内|"
    rf"[一二三四]季度|上半年|下半年)(?:之前|以前|前|底)?(?:完成|推进|开展|启动|实施|建成|结束|左右|开始)?$"
)


@dataclass(frozen=True, slots=True)
class TimeExpression:
    text: str
    start: int
    end: int
    strength: int  # how clearly it is a deadline: 3 "…前/底/内", "到…年"; 2 a date or range; 1 a bare year

    @property
    def is_deadline(self) -> bool:
        return self.strength >= 2


def _strength(m: re.Match, text: str) -> int:
    expr = m.group("expr")
    after = text[m.end(): m.end() + 2]
    if after.startswith("的") and not m.group("end"):
        return 0  # "2020年2月份的纳税期限": attributive, not a deadline
    if m.group("end") or re.search(rf"{_PART}$|{_QUARTER}$", expr) or re.match(_STANDALONE, expr):
        return 3
    if _RELATIVE_RE.fullmatch(expr) and re.search(r"内|之日起|[后後]", expr):
        return 3
    if m.group("lead") and m.group("lead") in ("到", "至", "截至", "截止", "截止到"):
        return 3
    if re.search(r"至|—|－|-|–|~|～", expr):
        return 2  # a period: "2019年1月1日至2020年12月31日", "5-7月"
    return 1  # a bare year or date ("2020年1月1日"): a start as often as an end


def find_time_expressions(text: str) -> list[TimeExpression]:
    """Every time expression in a normalised text, in order."""
    out: list[TimeExpression] = []
    for m in _EXPRESSION.finditer(text):
        expr = m.group("expr").strip()
        if not expr or len(expr) < 2:
            continue
        if _RELATIVE_RE.fullmatch(expr) and not re.search(r"内|之日起|[后後]|以内", expr) \
                and not re.match(r"(?:19|20)\d\d\s*年", expr):
            continue  # "3年", "6个月": a duration, not a deadline ("2035年前" is a year: by 2035)
        start = m.start("expr") + (len(m.group("expr")) - len(m.group("expr").lstrip()))
        out.append(TimeExpression(expr, start, start + len(expr), _strength(m, text)))
    return out


def stated_deadline(text: str) -> str | None:
    """The deadline a clause or item states: its clearest time expression (the first among equals)."""
    found = [t for t in find_time_expressions(text) if t.is_deadline]
    if not found:
        return None
    best = max(found, key=lambda t: (t.strength, -t.start))
    return re.sub(r"\s+", "", best.text)


def is_deadline_cell(text: str) -> bool:
    """Whether a table cell reads as a 完成时限 value."""
    compact = re.sub(r"\s+", "", text)
    return bool(compact) and len(compact) <= 24 and bool(_CELL.match(compact))
