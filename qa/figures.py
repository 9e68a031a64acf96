"""What figure a question asks for, and whether a cited target is that figure.

"惠民保赔付率要达到多少" asks for a percentage; "奖励多少万元", "预算总额是多少" for money; "2030年…达到
多少" for the figure of 2030. A target of another kind (3000元 for a percentage, 2025年 for 2030年) is not
an answer: the item does not state the asked figure, and the answer says so instead of presenting
another number as if it answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.model import Target
from corpus.normalize import normalize

# measures by kind; a target's unit is matched by its last characters
_KINDS: dict[str, tuple[str, ...]] = {
    "money": ("元", "美元", "万元", "亿元", "千元"),
    "percent": ("%", "‰", "个百分点", "百分点"),
    "area": ("亩", "平方米", "平方公里", "公顷", "㎡", "万平方米"),
    "length": ("公里", "千米", "米", "km"),
    "people": ("人", "人次", "名", "户"),
    "time": ("天", "小时", "日", "个月", "年", "周", "分钟"),
    "energy": ("千瓦", "兆瓦", "千瓦时", "吨标准煤", "标准煤", "GW", "MW", "kW"),
    "weight": ("吨", "千克", "克"),
}
# words that name the kind of figure without its unit
_CONCEPTS: tuple[tuple[str, str], ...] = (
    ("percent", r"百分之|比例|比重|占比|[赔覆盖利用合格达标出租回收处理]?率(?!先)|百分比|增速|增幅|降幅|增长|涨幅|下降|提高|降低"),
    ("money", r"金额|资金|预算|经费|罚款|补贴标准|补助标准|奖励|奖补|费用|价格|投资额|收入|贷款|罚金|津贴|补贴"),
    ("area", r"面积"),
    ("length", r"长度|里程"),
    ("people", r"人数|多少人|几人"),
)
_ASKED_UNIT = re.compile(r"(?:多少|几)(个百分点|万元|亿元|千元|元|亩|平方米|平方公里|公顷|公里|千米|米|人次|人|名|户|天|小时|个月|年|千瓦|吨|%)")
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")


@dataclass(frozen=True)
class AskedFigure:
    kind: str | None  # money | percent | area | … , None when the question does not say
    year: str | None  # the year the figure is asked for, when the asking clause names one
    unit: str = ""  # the unit the question names ("亩", "万元"), when it names one


def kind_of_unit(unit: str) -> str | None:
    for kind, units in _KINDS.items():
        if any(unit.endswith(u) for u in units):
            return kind
    return None


def asked_figure(question: str) -> AskedFigure:
    q = normalize(question)
    asking = next((c for c in re.split(r"[，,；;]", q) if re.search(r"多少|几|哪|什么", c)), q)
    m = _ASKED_UNIT.search(asking)
    kind = kind_of_unit(m.group(1)) if m else None
    if kind is None:
        for name, pattern in _CONCEPTS:
            if re.search(pattern, asking):
                kind = name
                break
    year = _YEAR.search(asking)
    return AskedFigure(kind, year.group(1) if year else None, m.group(1) if m else "")


def why_not(asked: AskedFigure, target: Target | None, targets: tuple[Target, ...], text: str) -> str | None:
    """Why the target does not answer the asked figure (None: it does)."""
    if target is None:
        return "该条目未列出所问的数值"
    if asked.year:
        years = {t.year for t in targets if t.year}
        if years and asked.year not in years:
            return f"该条目未列出{asked.year}年的数值（只列有{'、'.join(sorted(years))}年）"
        if not years and f"{asked.year}年" not in normalize(text) and re.search(r"(?:19|20)\d\d年", normalize(text)):
            return f"该条目未列出{asked.year}年的数值"
    if asked.unit and target.unit and (target.unit.startswith(asked.unit) or asked.unit.endswith(target.unit)
                                       or target.unit.endswith(asked.unit)):
        return None  # "多少吨" and 吨标准煤, "多少亩" and 万亩
    if asked.kind and target.unit:
        have = kind_of_unit(target.unit)
        if have and have != asked.kind:
            return "该条目未列出所问的数值"
    return None
