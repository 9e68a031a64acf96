"""Clause-level chunks: the sentences of an item, each carrying the metadata that applies to it."""

from __future__ import annotations

import re
from functools import lru_cache

from corpus.attribution import split_groups
from corpus.model import Clause, Item
from corpus.normalize import normalize
from corpus.targets import extract_targets

# Longer than this, a sentence is split again (the e5 window is 512 tokens; keep chunks well inside it).
MAX_CLAUSE_CHARS = 300
_SENTENCE = re.compile(r"(?<=[。；;！？!?])")


@lru_cache(maxsize=1)
def _splitter():
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=MAX_CLAUSE_CHARS,
        chunk_overlap=30,
        separators=["；", "，", "、", ""],
        keep_separator="end",
    )


def _sentences(text: str) -> list[str]:
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


def split_clauses(item: Item) -> list[Clause]:
    """Split an item into clauses; a clause group's own attribution overrides the item's."""
    groups = split_groups(item.text) if item.kind == "task" and not item.fields else []
    if not groups:
        groups_meta = [(item.text, None)]
    else:
        groups_meta = [(g.text, g.attribution) for g in groups if g.text]
    clauses: list[Clause] = []
    attributed = [a for _, a in groups_meta if a is not None]
    own_metadata = len(attributed) > 1
    for text, att in groups_meta:
        officials, units, leads, deadline = item.lead_officials, item.units, item.lead_units, item.deadline
        if own_metadata and att is not None:
            officials = att.officials or item.lead_officials
            if att.units:
                units, leads = att.units.units, att.units.lead_units
            deadline = att.deadline or item.deadline
        for sentence in _sentences(text):
            norm = normalize(sentence)
            clauses.append(
                Clause(
                    clause_id=f"{item.item_id}#{len(clauses)}",
                    item_id=item.item_id,
                    doc_id=item.doc_id,
                    kind=item.kind,
                    section=item.section,
                    item_no=item.item_no,
                    text=sentence,
                    norm=norm,
                    lead_officials=officials,
                    units=units,
                    lead_units=leads,
                    deadline=deadline,
                    targets=extract_targets(norm),
                )
            )
    return clauses
