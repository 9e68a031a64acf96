"""Responsible units: split an attribution into units and lead units, as written.

Rules of the genre:
- units are listed with 、，, ；and 及, never split inside brackets or quotes;
- a bracketed alias stays attached (省委组织部（省委人才办）);
- a shared suffix is not expanded (杭州市、嘉兴市、绍兴市政府 is three units);
- 各市、县（市、区）政府 is one group entry;
- the first listed unit leads, unless "A、B分别牵头" names several, or a 牵头单位 field names them;
- rule notes such as （除标注“分别牵头”外，列第一位者为牵头单位，下同） are rules, not units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.normalize import to_halfwidth

_OPEN = "（(〔[【“‘《"
_CLOSE = "）)〕]】”’》"
_SEPARATORS = "、，,；;"
# A rule note: mentions who leads, "下同", or says the list is not repeated.
_RULE_NOTE = re.compile(r"牵头单位|列第一位|列首位|下同|不再单独列出|均涉及")
_COUNTY_GROUP = re.compile(r"^县[（(]市、区[）)]")
_PLACE_END = re.compile(r"[市县区省州盟旗]$")


@dataclass(frozen=True)
class ResponsibleUnits:
    units: tuple[str, ...]
    lead_units: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _split_top_level(text: str, separators: str) -> list[str]:
    """Split on separators that are not inside any bracket or quote."""
    parts, depth, buf = [], 0, []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in separators and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _strip_rule_notes(text: str) -> tuple[str, list[str]]:
    """Remove bracketed rule notes and trailing rule sentences; return them as notes."""
    notes: list[str] = []
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "（(〔":
            depth, j = 0, i
            while j < len(text):
                if text[j] in _OPEN:
                    depth += 1
                elif text[j] in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = text[i + 1 : j]
            if _RULE_NOTE.search(inner):
                notes.append(inner)
                i = j + 1
                continue
        out.append(ch)
        i += 1
    text = "".join(out)
    # "…；列首位的为牵头单位，下同。以下各项工作任务均涉及…" : everything from the rule on is a note
    kept = []
    for clause in _split_top_level(text, "；;。"):
        if _RULE_NOTE.search(clause) and not kept_is_unit_list(clause):
            notes.append(clause)
        else:
            kept.append(clause)
    return "；".join(k for k in kept if k), notes


def kept_is_unit_list(clause: str) -> bool:
    """A clause like "省发展改革委、省生态环境厅分别牵头" is units, even though it says 牵头."""
    return "分别牵头" in clause and not re.search(r"列第一位|列首位|下同", clause)


def _clean_unit(unit: str) -> str:
    unit = unit.strip(" \t:：.。")
    if unit.endswith("等") and len(unit) > 2:
        unit = unit[:-1]
    return unit


def _split_ji(unit: str) -> list[str]:
    """"丽水市及义乌市政府" → 丽水市, 义乌市政府 (及 joins two places, not inside a name)."""
    if "及" not in unit:
        return [unit]
    left, _, right = unit.rpartition("及")
    if left and right and _PLACE_END.search(left) and not any(c in left for c in _OPEN):
        return [*_split_ji(left), right]
    return [unit]


def parse_units(raw: str, lead_raw: str | None = None) -> ResponsibleUnits:
    """Split an attribution's unit list. `lead_raw` is an explicit 牵头单位 field, if any."""
    text = re.sub(r"\s+", "", to_halfwidth(raw))
    text, notes = _strip_rule_notes(text)
    units: list[str] = []
    leads: list[str] = []
    pieces = _split_top_level(text, _SEPARATORS)
    merged: list[str] = []
    for piece in pieces:
        if merged and _COUNTY_GROUP.match(piece) and merged[-1].startswith("各"):
            merged[-1] = merged[-1] + "、" + piece
        else:
            merged.append(piece)
    for piece in merged:
        together = piece.endswith("分别牵头")
        if together:
            piece = piece[: -len("分别牵头")]
        for unit in _split_ji(_clean_unit(piece)):
            if unit:
                units.append(unit)
        if together:
            # every unit listed so far, up to 分别牵头, leads
            leads = list(units)
    if lead_raw:
        explicit = parse_units(lead_raw).units
        for unit in reversed(explicit):
            if unit not in units:
                units.insert(0, unit)
        leads = list(explicit)
    if not leads and units:
        leads = [units[0]]
    return ResponsibleUnits(tuple(dict.fromkeys(units)), tuple(dict.fromkeys(leads)), tuple(notes))
