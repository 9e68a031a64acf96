"""Blocks into the two streams the parser reads: prose lines, and tables with their titles.

A table's title is the short paragraph just above it (and an annex marker such as "附件3" or "附 1"
above that); those paragraphs belong to the table, not to the prose. A note line between title and
table ("制表日期：2024.4.16 单位：亩") gives the table's unit of measure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.blocks import Block, Heading, Location, Table

_ANNEX = re.compile(r"^-?\s*(?:附件|附表|附)\s*([\d一二三四五六七八九十]*(?:[-－]\d+)?)\s*[:：]?\s*$")
_MEASURE_NOTE = re.compile(r"单位\s*[:：]\s*([^\s，,；;。]{1,8})")
_NOTE_LINE = re.compile(r"^(?:制表|填报|统计)(?:日期|单位|时间)|^单位\s*[:：]|^\(?（?单位")


@dataclass(frozen=True)
class PlacedTable:
    table: Table
    title: str
    annex: str  # "附1", "附件3", "" when none
    measure: str | None  # a unit of measure stated above the table ("亩", "人")
    location: Location


_TITLE_PERIOD = re.compile(r"[（(][^（）()]*(?:19|20)\d\d[^（）()]*[）)]$")


def _title_like(text: str) -> bool:
    """A table's title: short, not a sentence, not a numbered item."""
    from corpus.prose import starts_with_marker

    compact = re.sub(r"\s+", "", text)
    period = _TITLE_PERIOD.search(compact)  # "…重点任务清单（2023-2025年）": the period closes the title
    body = compact[: period.start()] if period else compact
    return (2 <= len(body) <= 50 and body[-1] not in "。；;，,：:）)" and "。" not in compact
            and not compact.startswith(("（", "(")) and not starts_with_marker(compact))


def split_layout(blocks: tuple[Block, ...]) -> tuple[list[tuple[int, str]], list[PlacedTable]]:
    """(prose lines as (location order, text), tables with their titles), in document order."""
    prose: list[tuple[int, str, Block]] = []
    tables: list[PlacedTable] = []
    for block in blocks:
        if not isinstance(block, Table):
            prose.append((block.location.order, block.text, block))
            continue
        title, annex, measure = block.caption, "", None
        taken = 0
        # walk back over at most three paragraphs right above the table: notes, the title, the annex marker
        while prose and taken < 3:
            text = prose[-1][1].strip()
            m = _ANNEX.match(text)
            if m:
                word = re.match(r"-?\s*(附件|附表|附)", text).group(1)
                annex = f"{word}{m.group(1)}" if word != "附" else f"附{m.group(1)}"
                prose.pop()
                break
            if _NOTE_LINE.search(text) or (re.search(r"(?:^|\s)单位\s*[:：]", text) and len(text) <= 80
                                           and not re.search(r"责任|牵头|配合|主办", text)):
                unit = _MEASURE_NOTE.search(text)
                measure = measure or (unit.group(1) if unit else None)
                prose.pop()
                taken += 1
                continue
            if not title and _title_like(text) and not isinstance(prose[-1][2], Table):
                title = re.sub(r"\s+", "", text)
                prose.pop()
                taken += 1
                continue
            break
        tables.append(PlacedTable(block, title, annex, measure, block.location))
    lines = [(order, text) for order, text, block in prose if text.strip() and not _is_heading_noise(block)]
    return lines, tables


def _is_heading_noise(block: Block) -> bool:
    return isinstance(block, Heading) and not block.text.strip()


