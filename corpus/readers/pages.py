"""What a paged document prints on every page and where its tables break: running headers and footers
dropped, a table continued on the next page joined to its start.

Both PDF (text layer or OCR) and OFD pages go through here. A running line is one that opens or
closes most pages with the same text (its digits aside: "第3页"); a table continues when the next
page opens with a table of the same width, its repeated header dropped, and a first row without a
number (序号) is the rest of the row the page break cut.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

from corpus.blocks import Block, Cell, Heading, Location, Paragraph, Row, Table
from corpus.normalize import is_page_number

_EDGE = 2  # lines at each end of a page where running headers and footers sit


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def drop_running_lines(pages: list[list[Block]]) -> list[list[Block]]:
    """Each page without the lines that open or close most pages alike."""
    if len(pages) < 2:
        return pages
    seen: Counter[str] = Counter()
    for blocks in pages:
        texts = [b for b in blocks if isinstance(b, Paragraph | Heading)]
        seen.update({_shape(b.text) for b in texts[:_EDGE] + texts[-_EDGE:]})
    need = max(2, (len(pages) + 1) // 2)
    running = {shape for shape, n in seen.items() if n >= need and shape}
    out = []
    for blocks in pages:
        texts = [b for b in blocks if isinstance(b, Paragraph | Heading)]
        edge = {id(b) for b in texts[:_EDGE] + texts[-_EDGE:]}
        out.append([b for b in blocks if not (id(b) in edge and _shape(b.text) in running)])
    return out


def _texts(row: Row) -> tuple[str, ...]:
    return tuple(re.sub(r"\s+", "", c.text) for c in row.cells)


def join_tables(pages: list[list[Block]]) -> list[Block]:
    """The pages' blocks in order, a table that opens a page joined to the table that closed the page
    before when the two are as wide."""
    out: list[Block] = []
    for blocks in pages:
        for k, block in enumerate(blocks):
            last = out[-1] if out else None
            if k == 0 and isinstance(block, Table) and isinstance(last, Table) and block.rows and last.rows \
                    and len(block.rows[0].cells) == len(last.rows[0].cells):
                out[-1] = _continued(last, block)
            else:
                out.append(block)
    return out


def _continued(first: Table, rest: Table) -> Table:
    rows = list(rest.rows)
    if rows and _texts(rows[0]) == _texts(first.rows[0]):
        rows.pop(0)  # the header printed again on the new page
    kept = list(first.rows)
    if rows and kept and not re.sub(r"\s+", "", rows[0].cells[0].text) and any(c.text for c in rows[0].cells):
        # the page break cut a row: its rest has no number; each cell's text continues the cell above
        cut = rows.pop(0)
        merged = tuple(Cell(a.text + (b.text if not b.inherited else ""), a.inherited)
                       for a, b in zip(kept[-1].cells, cut.cells, strict=False))
        kept[-1] = Row(merged, kept[-1].location, kept[-1].header, kept[-1].group)
    return Table(tuple(kept + rows), first.location, first.caption, first.flattened, first.placed)


def assemble(pages: list[list[Block]]) -> tuple[Block, ...]:
    """The pages as one run of blocks: page numbers and running lines dropped, broken tables joined,
    each block numbered in order (its page kept for citations)."""
    pages = [[b for b in blocks if not (isinstance(b, Paragraph) and is_page_number(b.text))] for blocks in pages]
    blocks = join_tables(drop_running_lines(pages))
    return tuple(dataclasses.replace(b, location=Location(line=n, page=b.location.page))
                 for n, b in enumerate(blocks, start=1))
