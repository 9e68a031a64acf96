"""Attributions: "（牵头领导：卢山，责任单位：省教育厅）", "责任单位：…", "〔责任单位：…〕".

An item's text may carry one attribution at its end, or several clause groups each followed by
its own attribution (十方面民生实事). `split_groups` returns the clause groups in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.normalize import to_halfwidth
from corpus.units import ResponsibleUnits, parse_units

UNIT_KEYS = ("责任单位", "责任部门", "承办单位", "配合单位", "协办单位", "参与单位")
LEAD_UNIT_KEYS = ("牵头单位", "牵头部门")
OFFICIAL_KEYS = ("牵头领导", "责任领导", "分管领导", "牵头省领导", "责任人")
DEADLINE_KEYS = ("完成时限", "完成时间", "时间要求", "时限")
_ALL_KEYS = OFFICIAL_KEYS + LEAD_UNIT_KEYS + UNIT_KEYS + DEADLINE_KEYS
_KEY = re.compile(r"(" + "|".join(sorted(_ALL_KEYS, key=len, reverse=True)) + r")\s*[：:]")
_OPENERS = {"（": "）", "(": ")", "〔": "〕", "[": "]", "【": "】"}
_NAME_SPLIT = re.compile(r"[、，,；;和]")


@dataclass(frozen=True)
class Attribution:
    officials: tuple[str, ...] = ()
    units: ResponsibleUnits | None = None
    deadline: str | None = None
    raw: str = ""


@dataclass(frozen=True)
class Group:
    """Clause text (display form, attribution removed) with the attribution that follows it."""

    text: str
    attribution: Attribution | None


def parse_attribution(body: str) -> Attribution:
    """Parse the inside of an attribution: "牵头领导：胡伟，责任单位：省文化和旅游厅"."""
    half = to_halfwidth(body)
    fields: dict[str, str] = {}
    keys = list(_KEY.finditer(half))
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(half)
        value = half[m.end() : end].strip().rstrip("，,；;。 ")
        fields.setdefault(_canonical(m.group(1)), value)
    officials: tuple[str, ...] = ()
    if "official" in fields:
        officials = tuple(
            n.strip() for n in _NAME_SPLIT.split(re.sub(r"\s+", "", fields["official"])) if n.strip()
        )
    units = None
    if "units" in fields or "lead" in fields:
        units = parse_units(fields.get("units", ""), fields.get("lead"))
    deadline = re.sub(r"\s+", "", fields["deadline"]) if fields.get("deadline") else None
    return Attribution(officials=officials, units=units, deadline=deadline, raw=body)


def _canonical(key: str) -> str:
    if key in OFFICIAL_KEYS:
        return "official"
    if key in LEAD_UNIT_KEYS:
        return "lead"
    if key in DEADLINE_KEYS:
        return "deadline"
    return "units"


def _matching_close(text: str, open_pos: int) -> int:
    opener = text[open_pos]
    closer = _OPENERS[opener]
    depth = 0
    for j in range(open_pos, len(text)):
        if text[j] == opener or (text[j] in "（(" and opener in "（("):
            depth += 1
        elif text[j] == closer or (text[j] in "）)" and opener in "（("):
            depth -= 1
            if depth == 0:
                return j
    return len(text) - 1


def split_groups(text: str) -> list[Group]:
    """Split display text into clause groups, each ending with its attribution (if any)."""
    half = to_halfwidth(text)
    groups: list[Group] = []
    pos = 0
    search_from = 0
    while True:
        m = _KEY.search(half, search_from)
        if not m:
            break
        # bracketed attribution: the key directly follows an opening bracket
        k = m.start() - 1
        while k >= 0 and half[k] == " ":
            k -= 1
        if k >= 0 and half[k] in _OPENERS:
            close = _matching_close(half, k)
            groups.append(Group(text[pos:k].strip(), parse_attribution(text[k + 1 : close])))
            pos = search_from = close + 1
            continue
        # unbracketed "责任单位：…" runs to the end of the text
        line_start = half.rfind("\n", 0, m.start()) + 1
        if half[line_start : m.start()].strip() == "" or m.start() == 0 or _after_sentence(half, m.start()):
            groups.append(Group(text[pos : m.start()].strip(), parse_attribution(text[m.start() :])))
            pos = search_from = len(text)
            break
        search_from = m.end()
    tail = text[pos:].strip()
    if tail:
        groups.append(Group(tail, None))
    return [g for g in groups if g.text or g.attribution]


def _after_sentence(half: str, pos: int) -> bool:
    before = half[:pos].rstrip()
    return not before or before[-1] in "。；;！？!?）)"
