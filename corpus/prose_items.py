"""Numbered prose into items: the item level, each item's units, lead units, officials and deadline.

The level whose blocks carry most attributions is the item level; levels above it are sections,
levels below it are sub-points of their item. An item's units come, in order of preference, from its
own attributions (brackets, labels), from a heading above it that is a unit list ("（一）区绿化市容局"),
from an attribution on a section heading, or from the units its sentences name as their subjects.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from corpus.attribution import Attribution, Attributor, DocumentRules, Group
from corpus.clauses import split_clauses
from corpus.deadlines import find_time_expressions, stated_deadline
from corpus.model import Clause, Item, ParseWarning
from corpus.normalize import join_lines, normalize, to_halfwidth
from corpus.prose import Block, is_title_line, tidy
from corpus.targets import extract_targets
from corpus.units import is_unit_list, parse_units

# the document's closing provision, glued to its last item when the text has no line breaks: "以上措施在疫情
# 防控期间有效，由市农业农村局负责政策解释", "本方案自印发之日起施行"
_CLOSING = re.compile(
    r"(?:(?<=[。）)])|(?<=\s))\s*(?=(?:以上|上述|本)(?:政策)?(?:措施|政策|方案|通知|意见|办法|细则|规定|要点|清单)"
    r"[^。]{0,40}?(?:有效|施行|执行|解释|废止|起实施))")


def item_id(doc_id: str, section: tuple[str, ...], item_no: str, norm: str, seen: set[str]) -> str:
    digest = hashlib.sha1("|".join([*section, item_no, norm[:60]]).encode("utf-8")).hexdigest()[:10]
    found = f"{doc_id}:{digest}"
    k = 2
    while found in seen:
        found = f"{doc_id}:{digest}-{k}"
        k += 1
    seen.add(found)
    return found


_TASK_VERBS = ("推动", "推进", "加强", "建立", "完善", "开展", "做好", "落实", "组织", "实施", "提升", "强化")
_UNIT_TITLE = re.compile(r"^([^。；;：:，,、（(）)\s]{2,16})[。：:]")  # a unit's name as the paragraph's title


def heading_title(block: Block) -> str:
    return tidy(block.marker + block.head)


def section_path(block: Block) -> tuple[str, ...]:
    path: list[str] = []
    node = block.parent
    while node is not None and node.level > 0:
        path.append(heading_title(node))
        node = node.parent
    if block.part:
        path.append(block.part)
    return tuple(reversed(path))


def item_number(block: Block) -> str:
    return block.marker.rstrip("、．. ").replace("（", "(").replace("）", ")")


def _flatten(block: Block) -> list[str]:
    """A block's own text followed by its sub-points', with their markers."""
    parts = [block.text]
    for child in block.children:
        sub = _flatten(child)
        sub[0] = child.marker + sub[0] if not child.marker[-1:].isdigit() else child.marker + " " + sub[0]
        parts.extend(sub)
    return parts


@dataclass
class ProseItems:
    """Walks a prose tree and emits items and their clauses."""

    doc_id: str
    attributor: Attributor
    rules: DocumentRules
    seen: set[str]
    warnings: list[ParseWarning]
    official_heading: re.Pattern[str] = field(init=False)
    items: list[Item] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)

    def __post_init__(self) -> None:
        titles = "|".join(re.escape(t) for t in self.attributor.vocab.titles)
        self.official_heading = re.compile(rf"([\u4e00-\u9fa5]{{2,4}}?)(?:{titles})(?:牵头|负责|分管|联系)")

    # ----- headings --------------------------------------------------------------------------
    def _heading_officials(self, block: Block | None) -> tuple[str, ...]:
        node = block
        while node is not None and node.level > 0:
            m = self.official_heading.search(to_halfwidth(node.head))
            if m:
                return (m.group(1),)
            node = node.parent
        return ()

    def _heading_units(self, block: Block) -> tuple[tuple[str, ...], bool]:
        """Units a heading names as a whole ("（一）区绿化市容局"), from the block up; and whether they were
        the block's own heading."""
        node: Block | None = block
        while node is not None and node.level > 0:
            head = re.sub(r"[:：。；;]$", "", node.head.strip())
            if head and len(head) <= 60 and is_unit_list(head, self.attributor.lexicon):
                return parse_units(head, lexicon=self.attributor.lexicon).units, node is block
            node = node.parent
        return (), False

    def _section_attribution(self, block: Block) -> Attribution | None:
        node = block.parent
        while node is not None and node.level > 0:
            own = join_lines([node.head] + [t for _, t in node.lines], node.paragraphs)
            for g in self.attributor.split_groups(own, DocumentRules(self.rules.first_leads)):
                if g.attribution is not None and g.attribution.units is not None:
                    return g.attribution
            node = node.parent
        return None

    # ----- the item level --------------------------------------------------------------------
    def item_level(self, root: Block) -> int:
        counts: dict[int, int] = {}
        subjects: dict[int, int] = {}
        present: set[int] = set()

        def walk(block: Block) -> None:
            for child in block.children:
                present.add(child.level)
                if self.attributor.has_attribution(child.text):
                    counts[child.level] = counts.get(child.level, 0) + 1
                elif self._heading_units(child)[1] or self.attributor.subject(child.text) is not None:
                    subjects[child.level] = subjects.get(child.level, 0) + 1
                walk(child)

        walk(root)
        if not present:
            return 0
        for table in (counts, subjects):
            if table:
                best = max(table.values())
                return max(level for level, c in table.items() if c == best)
        return max(present)

    # ----- items -----------------------------------------------------------------------------
    def walk(self, root: Block) -> None:
        # each part (the notice, an annex) has its own numbering and its own item level
        parts: dict[str | None, Block] = {}
        for child in root.children:
            part = parts.setdefault(child.part, Block(level=0, number=0, marker="", head="", line=0))
            part.children.append(child)
        for part_root in parts.values():
            self._walk_part(part_root)

    def _walk_part(self, root: Block) -> None:
        level = self.item_level(root)

        def visit(block: Block) -> None:
            for child in block.children:
                if child.level == level and not (level == 1 and child.lines and is_title_line(child.head)
                                                 and not child.children):
                    self.emit(child, join_lines(_flatten(child), child.paragraphs), item_number(child),
                              section_path(child), level)
                elif child.level <= level:
                    if child.lines and not any(c.level == level for c in child.children):
                        # a heading whose body is itself the task (十方面民生实事 方面, a one-task section)
                        body = join_lines([t for _, t in child.lines], child.paragraphs)
                        self.emit(child, body, item_number(child), (*section_path(child), heading_title(child)),
                                  level, own_heading=True)
                    elif child.lines:
                        # the heading's own text before its items ("为确保行动落地见效，成立工作专班，由…牵头"):
                        # an item of its own, under the heading
                        body = join_lines([t for _, t in child.lines], child.paragraphs)
                        self.emit(child, body, item_number(child), (*section_path(child), heading_title(child)),
                                  level, own_heading=True)
                    visit(child)

        visit(root)

    def emit(self, block: Block, text: str, number: str, section: tuple[str, ...], level: int,
             own_heading: bool = False, closing: bool = False) -> None:
        end = _CLOSING.search(text) if not closing else None
        if end and end.start() > 0 and text[: end.start()].strip():
            self.emit(block, text[: end.start()], number, section, level, own_heading)
            # the closing provision is an item of its own, cited by its document alone (it has no number)
            self.emit(block, text[end.start():].strip(), "", (), level, own_heading=True, closing=True)
            return
        first_leads = self.rules.first_leads
        groups: list[Group] = self.attributor.split_groups(text, self.rules)
        body = "\n".join(g.text for g in groups) if block.paragraphs else "".join(g.text for g in groups)
        officials = list(self._heading_officials(block.parent if own_heading or block.level == level else block))
        if own_heading or block.level != level:
            m = self.official_heading.search(to_halfwidth(block.head))
            officials = [m.group(1)] if m else officials
        units: list[str] = []
        leads: list[str] = []
        roles: list[tuple[str, str]] = []
        deadline = None
        attributed = [g.attribution for g in groups if g.attribution is not None]
        for att in attributed:
            officials.extend(att.officials)
            if att.units:
                units.extend(att.units.units)
                leads.extend(att.units.lead_units)
                roles.extend(att.roles)
            deadline = deadline or att.deadline
        heading_units, _ = self._heading_units(block)
        if not units:
            units, leads, roles = self._unstated_owners(block, body, heading_units, first_leads)
        norm = normalize(body)
        if deadline is None:
            deadline = self._heading_deadline(block) or stated_deadline(norm)
        if not units and level > 0 and block.level == level and not closing:
            self.warnings.append(ParseWarning(block.line, f"item {number or '?'} has no responsible unit", body[:60]))
        item = Item(
            item_id=item_id(self.doc_id, section, number, norm, self.seen),
            doc_id=self.doc_id,
            kind="task",
            section=section,
            item_no=number,
            text=text.strip(),
            norm=norm,
            lead_officials=tuple(dict.fromkeys(officials)),
            units=tuple(dict.fromkeys(units)),
            lead_units=tuple(dict.fromkeys(leads)),
            deadline=deadline,
            targets=extract_targets(norm),
            line=block.line,
            unit_roles=tuple(dict.fromkeys(roles)),
            annex=block.annex,
        )
        self.items.append(item)
        self.clauses.extend(split_clauses(item, groups, self.attributor, heading_units, first_leads))

    def _unstated_owners(self, block: Block, body: str, heading_units: tuple[str, ...],
                         first_leads: bool) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """(units, leads, roles) of an item whose text states no owner in an attribution: the heading's
        units, else the section's attribution, else a unit titling the paragraph, else the units its
        sentences name as their actors."""
        if heading_units:
            units = list(heading_units)
            return units, list(units) if len(units) == 1 else [], [(u, "responsible") for u in units]
        section_att = self._section_attribution(block)
        if section_att is not None and section_att.units is not None:
            return list(section_att.units.units), list(section_att.units.lead_units), list(section_att.roles)
        titled = _UNIT_TITLE.match(to_halfwidth(body).strip())
        if titled and self._unit_title(titled.group(1)):
            # "1.街道消委办。牵头开展…": a duty paragraph opened by the unit it is about
            unit = titled.group(1)
            lead = re.match(r"(?:负责)?牵头", body.strip()[titled.end():].strip()) is not None
            return [unit], [unit] if lead else [], [(unit, "responsible")]
        units: list[str] = []
        leads: list[str] = []
        roles: list[tuple[str, str]] = []
        for sentence in re.split(r"(?<=[。；;\n])", body):
            subject = self.attributor.subject(sentence, heading_units, first_leads)
            if subject is not None and subject.units is not None:
                units.extend(u for u in subject.units.units if u not in units)
                leads.extend(u for u in subject.units.lead_units if u not in leads and subject.units.lead_stated)
                roles.extend(r for r in subject.roles if r[0] not in dict(roles))
        return units, leads, roles

    def _unit_title(self, title: str) -> bool:
        """"街道消委办", "派出所", "建管中心": a short name that reads as a unit, not a task ("推动纳入平台")."""
        lexicon = self.attributor.lexicon
        if not lexicon.looks_like_unit(title) or title.startswith(_TASK_VERBS):
            return False
        return lexicon.suffix_of(title) not in lexicon.weak or len(title) <= 4

    def _heading_deadline(self, block: Block) -> str | None:
        """"（一）动员部署阶段（4月底前）": a time in brackets on the item's heading line."""
        for m in re.finditer(r"[（(]([^（）()]{2,20})[）)]", to_halfwidth(block.head)):
            found = [t for t in find_time_expressions(m.group(1)) if t.is_deadline]
            if found and len(found[0].text) >= len(m.group(1)) * 0.6:
                return re.sub(r"\s+", "", found[0].text)
        return None
