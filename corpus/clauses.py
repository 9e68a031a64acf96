"""Clause-level chunks: the sentences of an item, each carrying the metadata that applies to it.

A sentence whose subject is a unit ("市发展改革委和市市场监管局负责组织…") is that unit's, even inside a
group attributed to others, unless it names some of the group's units and says there are more ("X、Y等
部门要…"): then the group's whole list is the sentence's; a clause group's own attribution (十方面民生实事, a State Council measure with
two "（X负责）") covers the sentences before it; the item's fields cover the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache

from corpus.attribution import Attribution, Attributor, Group
from corpus.deadlines import stated_deadline
from corpus.model import Clause, Item
from corpus.normalize import normalize
from corpus.targets import extract_targets
from corpus.units import is_sector_department

# Longer than this, a sentence is split again (the e5 window is 512 tokens; keep chunks well inside it).
MAX_CLAUSE_CHARS = 300
_SENTENCE = re.compile(r"(?<=[。；;！？!?\n])")


@lru_cache(maxsize=1)
def _splitter():
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=MAX_CLAUSE_CHARS,
        chunk_overlap=30,
        separators=["；", "，", "、", ""],
        keep_separator="end",
    )


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if len(sentence) > MAX_CLAUSE_CHARS:
            out.extend(s.strip() for s in _splitter().split_text(sentence) if s.strip())
        else:
            out.append(sentence)
    return out


def _clause(item: Item, n: int, text: str, officials, units, leads, deadline) -> Clause:
    norm = normalize(text)
    return Clause(
        clause_id=f"{item.item_id}#{n}",
        item_id=item.item_id,
        doc_id=item.doc_id,
        kind=item.kind,
        section=item.section,
        item_no=item.item_no,
        text=text,
        norm=norm,
        lead_officials=officials,
        units=units,
        lead_units=leads,
        deadline=deadline,
        # a table row's figures are its cells' (安亭镇·2025年：720.86), not the figures its headers carry
        # ("2025年约2200亩"): the row's own targets where the clause holds their value
        targets=tuple(t for t in item.targets if t.value in norm) if item.fields else extract_targets(norm),
    )


def split_clauses(item: Item, groups: list[Group] | None = None, attributor: Attributor | None = None,
                  context: tuple[str, ...] = (), first_leads: bool = False) -> list[Clause]:
    """Split an item into clauses. `groups` are its clause groups (prose items); `context` the units a
    heading above names, the subject of "牵头B、C…"."""
    if not groups or attributor is None:
        return [_clause(item, n, s, item.lead_officials, item.units, item.lead_units, item.deadline)
                for n, s in enumerate(sentences(item.text))]
    clauses: list[Clause] = []
    attributed = [g for g in groups if g.attribution is not None and g.attribution.units is not None]
    own_groups = len(attributed) > 1 or (attributed and item.units != attributed[0].attribution.units.units)
    for group in groups:
        if not group.text:
            continue
        att: Attribution | None = group.attribution
        base_officials = (att.officials if att and att.officials else ()) or item.lead_officials
        if own_groups and att is not None and att.units is not None:
            base_units, base_leads = att.units.units, att.units.lead_units
        else:
            base_units, base_leads = item.units, item.lead_units
        base_deadline = (att.deadline if att else None) or item.deadline
        carried: Attribution | None = None
        for sentence in sentences(group.text):
            subject = attributor.subject(sentence, context, first_leads, later_clauses=att is None)
            if subject is None and att is None and carried is not None:
                subject = carried  # "市委金融办引导…。创新绿色金融产品…": the subject holds on
            if subject is not None and subject.units is not None:
                units, leads = subject.units.units, subject.units.lead_units
                carried = subject if att is None else None
                if att is not None and att.units is not None and all(is_sector_department(u) for u in units):
                    # "…人力资源社会保障部门要…（责任单位：市委宣传部、…）": the sector acts, the bracket owns
                    units, leads = base_units, base_leads
                elif (att is not None and att.units is not None and set(units) <= set(att.units.units)
                        and units[-1] + "等" in re.sub(r"\s+", "", sentence)):
                    # "X、Y等部门要…（X、Y、Z负责）": the sentence names some owners and says there are
                    # more (等); the bracket names them all. "X和Y负责…" names its own, closed list.
                    units, leads = base_units, base_leads
            else:
                units, leads = base_units, base_leads
            deadline = stated_deadline(normalize(sentence)) or base_deadline
            clauses.append(_clause(item, len(clauses), sentence, base_officials, units, leads, deadline))
    return clauses or [_clause(item, 0, item.text, item.lead_officials, item.units, item.lead_units,
                               item.deadline)]
