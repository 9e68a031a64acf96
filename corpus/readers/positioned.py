"""Text placed on a page (OCR's boxes, an OFD's text objects) into paragraphs and tables.

Boxes on one baseline make a line; a wide gap inside a line separates cells. A run of lines that
share two or more column starts with a line of three or more cells is a table: its widest line gives
the columns, each box goes to the column it overlaps most, and a line that leaves the first column
(序号) empty continues the row above (a cell's text wrapped, or the rest of a row the page break cut,
printed above the page's first numbered row). Every other line is a paragraph of its own, as a PDF's
text layer gives it: the prose parser joins broken lines with what it knows of the genre (a line
ending at the margin may still end an item: "…省地方金融监管局" before "4 完善…"), which a layout rule
cannot see.
Merged cells are not drawn in placed text: such a table is marked `placed`, and a blank unit or
deadline cell is read as merged with the one above (corpus.table_items).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from corpus.blocks import Block, Cell, Location, Paragraph, Row, Table


@dataclass(frozen=True)
class TextBox:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class _Line:
    boxes: list[TextBox]  # as placed, left to right
    cells: list[TextBox]  # boxes closer than a gap merged

    @property
    def x0(self) -> float:
        return self.boxes[0].x0

    @property
    def x1(self) -> float:
        return self.boxes[-1].x1

    @property
    def top(self) -> float:
        return min(b.top for b in self.boxes)

    @property
    def bottom(self) -> float:
        return max(b.bottom for b in self.boxes)


def _merged(boxes: list[TextBox], gap: float) -> list[TextBox]:
    cells = [boxes[0]]
    for box in boxes[1:]:
        last = cells[-1]
        if box.x0 - last.x1 < gap:
            cells[-1] = TextBox(last.x0, min(last.top, box.top), box.x1, max(last.bottom, box.bottom),
                                last.text + box.text)
        else:
            cells.append(box)
    return cells


def _lines(boxes: list[TextBox], char: float) -> list[_Line]:
    """Boxes grouped by baseline, each line's boxes left to right."""
    rows: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.middle, b.x0)):
        if rows and abs(box.middle - statistics.fmean(b.middle for b in rows[-1])) < 0.5 * char:
            rows[-1].append(box)
        else:
            rows.append([box])
    out = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        out.append(_Line(row, _merged(row, 1.5 * char)))
    return out


def _column_of(box: TextBox, columns: list[tuple[float, float]]) -> int:
    """The column whose span overlaps the box most (or whose start is nearest)."""
    def overlap(col: tuple[float, float]) -> float:
        return min(col[1], box.x1) - max(col[0], box.x0)

    return max(range(len(columns)), key=lambda k: (overlap(columns[k]), -abs(columns[k][0] - box.x0)))


def _columns(lines: list[_Line], char: float) -> list[tuple[float, float]]:
    """Column spans from the line with the most cells, each widened to the next column's start."""
    widest = max(lines, key=lambda ln: len(_merged(ln.boxes, 0.6 * char)))
    cells = _merged(widest.boxes, 0.6 * char)
    spans = []
    for k, cell in enumerate(cells):
        end = cells[k + 1].x0 - 0.1 * char if k + 1 < len(cells) else max(ln.x1 for ln in lines)
        spans.append((cell.x0, max(end, cell.x1)))
    return spans


def _table(lines: list[_Line], page: int, char: float) -> Table:
    columns = _columns(lines, char)
    rows: list[list[str]] = []
    for line in lines:
        texts = [""] * len(columns)
        for box in line.boxes:
            texts[_column_of(box, columns)] += box.text
        if rows and not texts[0]:
            rows[-1] = [a + b for a, b in zip(rows[-1], texts, strict=True)]
        else:
            rows.append(texts)
    loc = Location(page=page)
    return Table(tuple(Row(tuple(Cell(t) for t in r), loc) for r in rows), loc, placed=True)


def _is_table_line(line: _Line, starts: list[float], char: float) -> bool:
    return len(line.cells) >= 2 and sum(any(abs(c.x0 - s) < 1.5 * char for s in starts) for c in line.cells) >= 2


def _inner(line: _Line, near: _Line, starts: list[float], char: float) -> bool:
    """A line right above or below `near` that keeps off the first column: part of a row."""
    close = min(abs(line.top - near.bottom), abs(near.top - line.bottom)) < 1.2 * char
    return close and len(starts) > 1 and line.x0 >= starts[1] - 0.5 * char


def _table_runs(lines: list[_Line], char: float) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if len(lines[i].cells) < 3:
            i += 1
            continue
        starts = [c.x0 for c in lines[i].cells]
        j = i + 1
        while j < len(lines) and (_is_table_line(lines[j], starts, char)
                                  or _inner(lines[j], lines[j - 1], starts, char)):
            j += 1
        if sum(_is_table_line(ln, starts, char) for ln in lines[i:j]) < 2:
            i += 1
            continue
        # the page opens with the rest of a row cut by the break: above a first row that is numbered
        floor = runs[-1][1] if runs else 0
        if lines[i].cells[0].text.strip().isdigit():
            while i > floor and _inner(lines[i - 1], lines[i], starts, char):
                i -= 1
        runs.append((i, j))
        i = j
    return runs


def page_blocks(boxes: list[TextBox], page: int) -> list[Block]:
    """One page's boxes as paragraphs and tables, top to bottom."""
    boxes = [b for b in boxes if b.text.strip()]
    if not boxes:
        return []
    char = statistics.median(b.height for b in boxes)
    lines = _lines(boxes, char)
    runs = {start: end for start, end in _table_runs(lines, char)}
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if i in runs:
            blocks.append(_table(lines[i:runs[i]], page, char))
            i = runs[i]
            continue
        blocks.append(Paragraph("　".join(c.text for c in lines[i].cells), Location(page=page)))
        i += 1
    return blocks
