"""Responsible units: recognising a unit by its form, and splitting a list of units as written.

A unit is recognised by its form, not only by a label in front of it: it ends with an organ suffix
(局, 委, 厅, 办, 中心, 集团, 政府, 管委会 …), and in running prose it also opens with a level or a
known organ (国家, 省, 市, 区, 各 …) or is a known name (the central government's departments, the
alias table, units the document itself lists). The words are data: corpus/data/organs.tsv and
corpus/data/central_units.tsv.

Rules of the genre for lists:
- units are listed with 、，, ；and, between two whole units, 和 / 及 / 与; never split inside
  brackets or quotes, and never on the 和 inside a name (国家发展和改革委员会);
- a bracketed alias stays attached (省委组织部（省委人才办）);
- a shared suffix is not expanded (杭州市、嘉兴市、绍兴市政府 is three units);
- 各市、县（市、区）政府 and 各省、自治区、直辖市人民政府 are one entry each;
- a trailing 等 and "等有关部门" are not part of a name;
- rule notes such as （除标注“分别牵头”外，列第一位者为牵头单位，下同） are rules, not units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from corpus.normalize import to_halfwidth

_OPEN = "（(〔[【“‘《"
_CLOSE = "）)〕]】”’》"
_SEPARATORS = "、，,；;"
# A rule note: mentions who leads, "下同", or says the list is not repeated.
_RULE_NOTE = re.compile(r"牵头单位|牵头部门|列第一位|列首位|列首的|排在第一位|排第一位|第一位的|下同|不再列出|不再单独列出|均涉及")
_BARE_LEVEL = re.compile(r"^各?(省|市|县|区|州|盟|旗|乡|镇|自治区|直辖市|自治州|地|市州|县市|县区|市县|计划单列市)$")
_EMPTY = re.compile(r"^[—\-－–/／、无\s]*$")
_JOINERS = ("以及", "和", "及", "与", "同")
_PLACE_PREFIX = re.compile(r"^[\u4e00-\u9fa5]{2,3}(?:省|市|自治区|自治州|区|县|新区)(?=[\u4e00-\u9fa5]{2})")
# "X、Y等和各省级人民政府", "X等部门及各区政府": 等 closes the first list, the joiner adds more units
_ETC_JOINED = re.compile(r"等(?:有关|相关|其他)?(?:部门|单位|机构)?(?:以及|和|及|与)(?=[\u4e00-\u9fa5]{2})")
_SECTOR_DEPARTMENT = re.compile(r"(?:各级|各地)?[\u4e00-\u9fa5]{2,8}?(?:行政)?(?:主管)?部门")
_TRAILING_ETC = re.compile(r"等(?:有关|相关|其他)?(?:[\u4e00-\u9fa5]{0,8}(?:部门|单位|机构))?$")


@dataclass(frozen=True)
class ResponsibleUnits:
    units: tuple[str, ...]
    lead_units: tuple[str, ...]
    notes: tuple[str, ...] = ()
    lead_stated: bool = False  # the list itself says who leads (分别牵头, a 牵头单位 field)


@dataclass(frozen=True)
class UnitLexicon:
    """The words units are recognised by, plus names known to be units (gazetteer, aliases, document)."""

    suffixes: tuple[str, ...]
    prefixes: tuple[str, ...]
    generic: frozenset[str]
    not_units: frozenset[str]
    weak: frozenset[str] = frozenset()
    known: frozenset[str] = field(default_factory=frozenset)
    prepositions: tuple[str, ...] = ()  # what an actor goes by ("根据区网格中心要求"): never the start of a unit

    def with_known(self, names) -> UnitLexicon:
        extra = frozenset(n for n in names if 2 <= len(n) <= 40)
        return replace(self, known=self.known | extra) if extra - self.known else self

    def suffix_of(self, text: str) -> str | None:
        for suffix in self.suffixes:
            if text.endswith(suffix):
                return suffix
        return None

    def looks_like_unit(self, text: str) -> bool:
        """A list entry that reads as a unit: known, generic, or a name ending with an organ suffix."""
        text = strip_alias(text)
        if not text or len(text) > 40:
            return False
        if text in self.known or text in self.generic:
            return True
        if text in self.not_units or any(text.endswith(w) for w in self.not_units if len(w) >= 2):
            return False
        suffix = self.suffix_of(text)
        if suffix is None or len(text) < len(suffix) or len(text) == len(suffix) < 3:
            return False
        return not re.search(r"[，。；：:！？\d]", text) or bool(re.search(r"第\d+", text))

    def is_prose_unit(self, text: str) -> bool:
        """A unit as the subject of a sentence: known, or a level/organ prefix + name + organ suffix."""
        bare = strip_alias(text)
        if bare in self.generic:
            return False
        if bare in self.known:
            return True
        if re.search(r"[由对将把在为的是]", _outside_brackets(bare)[1:]):
            return False  # "各项条款由责任部门": a clause, not a name
        if bare.startswith(self.prepositions):
            return False  # "根据区网格中心要求": what the actor goes by, not the actor
        if is_sector_department(bare):
            return True  # "自然资源部门要…", "住房城乡建设部门": a sector's departments, at every level
        if not self.looks_like_unit(bare) or len(bare) > 24 or self.suffix_of(bare) in self.weak:
            return False
        return (any(bare.startswith(p) and len(bare) > len(p) + 1 for p in self.prefixes)
                or _PLACE_PREFIX.match(bare) is not None)

    def unit_ends(self, text: str, start: int = 0, max_len: int = 26) -> list[int]:
        """Every end position e (shortest first) such that text[start:e] reads as a unit in prose; a
        bracketed alias right after a unit ("区公安分局（交管）") is taken with it."""
        ends: list[int] = []
        limit = min(len(text), start + max_len)
        for e in range(start + 2, limit + 1):
            candidate = text[start:e]
            if "、" in _outside_brackets(candidate) or not _balanced(candidate):
                continue
            if self.is_prose_unit(candidate):
                if e < len(text) and text[e] in "（(":
                    close = _close_of(text, e)
                    inner = text[e + 1: close]
                    if close > e and close - e <= 12 and not re.search(r"[，。；：:]", inner):
                        ends.append(close + 1)
                ends.append(e)
        return ends


def is_sector_department(name: str) -> bool:
    """"自然资源部门", "各地教育部门": a sector's departments named by the sector, not one body."""
    return (_SECTOR_DEPARTMENT.fullmatch(name) is not None and not name.startswith(_not_a_sector())
            and not re.search(r"[跨多诸各]部门$", name))


@lru_cache(maxsize=1)
def _not_a_sector() -> tuple[str, ...]:
    return tuple(_read_words("organs.tsv").get("not_sector", ()))


def strip_alias(unit: str) -> str:
    """The unit without a trailing bracketed alias: 市水务局（海洋局） → 市水务局."""
    m = re.match(r"^(.+?)[（(][^（）()]*[）)]$", unit)
    return m.group(1) if m and not _BARE_LEVEL.match(m.group(1)) else unit


def _outside_brackets(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _close_of(text: str, open_pos: int) -> int:
    depth = 0
    for j in range(open_pos, len(text)):
        if text[j] in _OPEN:
            depth += 1
        elif text[j] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _read_words(name: str) -> dict[str, list[str]]:
    text = resources.files("corpus").joinpath(f"data/{name}").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            kind, *words = [w.strip() for w in raw.split("\t") if w.strip()]
            out.setdefault(kind, []).extend(words)
    return out


def central_units() -> list[tuple[str, ...]]:
    """The gazetteer of central departments: one tuple per department, full name first."""
    text = resources.files("corpus").joinpath("data/central_units.tsv").read_text(encoding="utf-8")
    return [tuple(w.strip() for w in line.split("\t") if w.strip())
            for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def default_lexicon() -> UnitLexicon:
    words = _read_words("organs.tsv")
    known = {name for names in central_units() for name in names}
    return UnitLexicon(
        suffixes=tuple(sorted(set(words.get("suffix", ())), key=len, reverse=True)),
        prefixes=tuple(sorted(set(words.get("prefix", ())), key=len, reverse=True)),
        generic=frozenset(words.get("generic", ())),
        not_units=frozenset(words.get("not", ())),
        weak=frozenset(words.get("weak", ())),
        prepositions=tuple(words.get("preposition", ())),
        known=frozenset(known),
    )


def split_top_level(text: str, separators: str) -> list[str]:
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


def strip_rule_notes(text: str) -> tuple[str, list[str]]:
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
    for clause in split_top_level(text, "；;。"):
        if _RULE_NOTE.search(clause) and not kept_is_unit_list(clause):
            notes.append(clause)
        else:
            kept.append(clause)
    return "；".join(k for k in kept if k), notes


def kept_is_unit_list(clause: str) -> bool:
    """A clause like "省发展改革委、省生态环境厅分别牵头" is units, even though it says 牵头."""
    return bool(re.search(r"分别牵头|共同牵头", clause)) and not re.search(r"列第一位|列首位|下同", clause)


def clean_unit(unit: str) -> str:
    unit = unit.strip(" \t:：.。")
    unit = re.sub(r"^(?:由|请|和|及|以及|与)(?=[\u4e00-\u9fa5]{2})", "", unit)
    m = _TRAILING_ETC.search(unit)
    if m and m.start() >= 2:
        unit = unit[: m.start()]
    return "" if _EMPTY.match(unit) else unit


def _split_joined(unit: str, lexicon: UnitLexicon) -> list[str]:
    """"区城管执法局和属地街镇" → two units; "国家发展和改革委员会" stays one (和 inside a name)."""
    for joiner in _JOINERS:
        start = 0
        while True:
            k = unit.find(joiner, start)
            if k <= 0:
                break
            left, right = unit[:k], unit[k + len(joiner):]
            if (right and lexicon.looks_like_unit(left) and lexicon.looks_like_unit(right)
                    and not any(c in left for c in _OPEN) and _whole_unit(left, right, lexicon)):
                return [*_split_joined(left, lexicon), *_split_joined(right, lexicon)]
            start = k + 1
    return [unit]


def _whole_unit(left: str, right: str, lexicon: UnitLexicon) -> bool:
    """The left side of a joiner is a whole unit, not the first half of a name: "住房" of 住房和城乡建设厅,
    "省促进中小企业" of 省促进中小企业和民营企业发展工作领导小组. A place joins another place or its
    government (丽水市及义乌市政府)."""
    suffix = lexicon.suffix_of(left)
    if suffix is None or right.startswith("第"):
        return False
    if suffix in lexicon.weak:
        return bool(re.search(r"[市县区省州盟旗]$", left)) and bool(re.search(r"[市县区省州盟旗]$|政府$", right))
    return len(suffix) >= 2 or len(left) >= 3


def parse_units(raw: str, lead_raw: str | None = None, lexicon: UnitLexicon | None = None,
                first_leads: bool = False) -> ResponsibleUnits:
    """Split a unit list. `lead_raw` is an explicit 牵头单位 field, if any; `first_leads` applies the
    document's rule that the first listed unit leads (when the list does not say otherwise)."""
    lexicon = lexicon or default_lexicon()
    text = re.sub(r"\s+", "", to_halfwidth(raw))
    text, notes = strip_rule_notes(text)
    text = _ETC_JOINED.sub("、", text)
    units: list[str] = []
    leads: list[str] = []
    stated = False
    pieces = split_top_level(text, _SEPARATORS)
    merged: list[str] = []
    for piece in pieces:
        if merged and _BARE_LEVEL.match(merged[-1]) and piece and (
            piece[0] in "省市县区州盟旗乡镇地" or piece.startswith(("自治区", "直辖市", "自治州", "自治县", "自治旗", "特区"))
        ):
            merged[-1] = merged[-1] + "、" + piece  # 各市、县（市、区）政府
        else:
            merged.append(piece)
    for piece in merged:
        together = re.search(r"(分别|共同)牵头$", piece)
        if together:
            piece = piece[: together.start()]
        for unit in _split_joined(clean_unit(piece), lexicon):
            unit = clean_unit(unit)
            if unit:
                units.append(unit)
        if together:
            # every unit listed so far, up to 分别牵头, leads
            leads = list(units)
            stated = True
    if lead_raw is not None:
        explicit = parse_units(lead_raw, lexicon=lexicon).units
        for unit in reversed(explicit):
            if unit not in units:
                units.insert(0, unit)
        leads = list(explicit)
        stated = True
    if not stated and first_leads and units:
        leads = [units[0]]
    return ResponsibleUnits(tuple(dict.fromkeys(units)), tuple(dict.fromkeys(leads)), tuple(notes), stated)


def is_unit_list(text: str, lexicon: UnitLexicon | None = None) -> bool:
    """Whether a cell or a phrase is a list of units (every entry reads as a unit)."""
    lexicon = lexicon or default_lexicon()
    compact = re.sub(r"\s+", "", to_halfwidth(text))
    if not compact or len(compact) > 400 or re.search(r"[。：:！？]", compact):
        return False
    entries = parse_units(compact, lexicon=lexicon).units
    if not entries:
        return False
    good = sum(lexicon.looks_like_unit(u) for u in entries)
    return good == len(entries) or (len(entries) >= 3 and good / len(entries) >= 0.75)
