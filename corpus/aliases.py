"""Unit aliases (省发改委 ↔ 省发展改革委): data in a TSV file that users can extend."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class AliasTable:
    """Groups of names meaning the same unit; lines sharing a name are merged into one group."""

    groups: tuple[frozenset[str], ...]

    def variants(self, name: str) -> frozenset[str]:
        """Every name of the unit `name` (itself included, even when unknown)."""
        for group in self.groups:
            if name in group:
                return group
        return frozenset({name})

    def names(self) -> frozenset[str]:
        return frozenset(n for g in self.groups for n in g)


def parse_aliases(text: str) -> AliasTable:
    groups: list[set[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        names = {n.strip() for n in line.split("\t") if n.strip()}
        overlapping = [g for g in groups if g & names]
        for g in overlapping:
            names |= g
            groups.remove(g)
        groups.append(names)
    return AliasTable(tuple(frozenset(g) for g in groups))


def load_aliases(path: str | Path | None = None) -> AliasTable:
    """The bundled alias table, or the one at `path`."""
    if path is None:
        text = resources.files("corpus").joinpath("data/aliases.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_aliases(text)


# ----- aliases derived from the units a corpus names ------------------------------------------------
_LEVELS = ("自治区", "省", "市", "区", "县", "州", "盟", "旗")
_CENTRAL = ("国家", "国务院", "中国", "中央", "全国", "中华", "最高")


_LEVEL_PREFIXES = ("国家", "国务院", "自治区", "省", "市", "区", "县", "州")


def unit_level(unit: str) -> str | None:
    """The level a unit's name starts with (省 for 省发改委), None for a bare name (发改委, 市场监管局)."""
    if unit.startswith(("市场", "区域")):
        return None
    return next((p for p in _LEVEL_PREFIXES if unit.startswith(p)), None)


def same_level_variants(table: AliasTable, unit: str) -> frozenset[str]:
    """A unit's other names at its own level: a bare name links 区发改委 and 市发改委 in the table
    (each document writes 发展改革委 for its own), but 国家发改委 is neither."""
    variants = table.variants(unit)
    level = unit_level(unit)
    if level is None:
        return variants
    return frozenset(v for v in variants if unit_level(v) in (None, level))


_ORGAN_ENDS = ("委", "局", "厅", "部", "办", "署", "院", "会", "中心", "政府", "室", "所", "队", "处")


def names_unit(name: str, unit: str) -> bool:
    """Whether a name (a unit's form, or a fragment of one) names this unit of an item: the same, or
    inside it (省发展改革委 in 省发展改革委牵头的专班), but a bare unit name not under a level (发展改革委
    is not 省发展改革委)."""
    if name == unit:
        return True
    if not name.endswith(_ORGAN_ENDS):
        return name in unit  # a fragment ("发展改革") finds every unit that has it
    at = unit.find(name)
    while at >= 0:
        if not unit[:at].endswith(_LEVELS + _CENTRAL):
            return True
        at = unit.find(name, at + 1)
    return False


def load_alias_rules(path: str | Path | None = None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """How names are shortened (corpus/data/alias_rules.tsv): (part of a full name, its short forms)."""
    if path is None:
        text = resources.files("corpus").joinpath("data/alias_rules.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rules: list[tuple[str, tuple[str, ...]]] = []
    for raw in text.splitlines():
        if raw.strip() and not raw.startswith("#"):
            full, *shorts = [w.strip() for w in raw.split("\t") if w.strip()]
            rules.append((full, tuple(shorts)))
    return tuple(sorted(rules, key=lambda r: -len(r[0])))


def document_level(issuer: str | None, title: str = "") -> str | None:
    """The government level a document speaks for ("区" for 上海市静安区发展和改革委员会), None for the
    central government or when unknown."""
    text = (issuer or "") or title
    if not text or text.startswith(_CENTRAL):
        return None
    found = [(text.rfind(level), level) for level in ("区", "县", "市", "州", "省", "自治区") if level in text]
    return max(found)[1] if found else None


def name_variants(unit: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> set[str]:
    """The short and long forms of a unit's name the rules give (省人力资源社会保障厅 → 省人社厅 …)."""
    out = {unit}
    for full, shorts in rules:
        for name in list(out):
            if full in name:
                out.update(name.replace(full, short) for short in shorts)
    return out


def derive_aliases(units: dict[str | None, set[str]], base: AliasTable | None = None,
                   rules: tuple[tuple[str, tuple[str, ...]], ...] | None = None) -> AliasTable:
    """The alias table of a corpus: the user's table, the central departments' distinctive names, and
    for every unit it names (keyed by the level of its document) the variants the rules give. A unit
    written without its level (教育厅 in a province's document) also gets its level's forms (省教育厅)."""
    from corpus.units import central_units

    rules = load_alias_rules() if rules is None else rules
    lines: list[set[str]] = [set(g) for g in (base or load_aliases()).groups]
    for names in central_units():
        # a short form such as 统计局 or 发展改革委 is also a local unit's: only distinctive names alias
        lines.append({n for n in names if n.startswith(_CENTRAL) or n.endswith(("部", "署", "总局", "总社"))})
    for level, names in units.items():
        for unit in names:
            variants = name_variants(unit, rules)
            bare = not unit.startswith(_LEVELS + _CENTRAL + ("各",)) and len(unit) >= 3
            # a bare name takes its document's level forms; used at several levels (财政局 in a city's and
            # a district's document) it links them, which a question's document scope then tells apart
            if level and bare:
                variants |= {level + v for v in variants}
            elif bare:
                # a central document's bare name is the central department's (发展改革委 of 国办发)
                variants |= next((set(c) for c in central_units() if variants & set(c)), set())
            if len(variants) > 1:
                lines.append(variants)
    return parse_aliases("\n".join("\t".join(sorted(g)) for g in lines if g))
