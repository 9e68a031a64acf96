"""Excel task lists (.xlsx) through openpyxl: each sheet a table, merged cells resolved.

A 任务清单 sheet usually opens with a title row merged across the width ("2024年重点工作任务清单")
and sometimes a note row ("填报单位：…"); those become paragraphs above the table, so that the table
follows its title as in any other format. A merged cell's value is copied into every cell it covers,
the copies marked inherited, as the Word and HTML readers do.
"""

from __future__ import annotations

import datetime as dt
import io

from corpus.blocks import BlockDocument, Cell, DocumentMeta, Location, Paragraph, Row, Table


def _text(value: object) -> str:
    """A cell's value as printed: 30.0 is "30", a date is "2024年6月30日"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.10g}" if value != int(value) else str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value).strip()


def _sheet_rows(sheet) -> list[list[Cell]]:
    grid = [[Cell(_text(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= len(grid) or left >= len(grid[top]):
            continue
        value = grid[top][left].text
        for r in range(top, min(merged.max_row, len(grid))):
            for c in range(left, min(merged.max_col, len(grid[r]))):
                if (r, c) != (top, left):
                    grid[r][c] = Cell(value, inherited=True)
    # trailing empty rows and columns are the sheet's formatting, not the table
    while grid and not any(c.text for c in grid[-1]):
        grid.pop()
    width = max((max((i + 1 for i, c in enumerate(row) if c.text), default=0) for row in grid), default=0)
    return [row[:width] for row in grid]


def _is_title_row(row: list[Cell]) -> bool:
    """One value across the row (merged or alone): a title or a note, not a row of the table."""
    values = {c.text for c in row if c.text}
    return len(values) == 1 and (row[0].text or not any(c.inherited for c in row))


def read_xlsx(data: bytes) -> BlockDocument:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)  # formulas give their cached values
    blocks: list = []
    try:
        sheets = [s for s in workbook.worksheets if s.sheet_state == "visible"]
        for number, sheet in enumerate(sheets, start=1):
            rows = _sheet_rows(sheet)
            if not rows:
                continue
            titled = False
            while rows and _is_title_row(rows[0]):
                text = next(c.text for c in rows[0] if c.text)
                blocks.append(Paragraph(text, Location(line=len(blocks) + 1, element=number)))
                titled = True
                rows.pop(0)
            if not rows:
                continue
            if not titled and len(sheets) > 1:
                blocks.append(Paragraph(sheet.title, Location(line=len(blocks) + 1, element=number)))
            table_rows = tuple(Row(tuple(r), Location(line=len(blocks) + 1 + k, element=number))
                               for k, r in enumerate(rows) if any(c.text for c in r))
            blocks.append(Table(table_rows, Location(line=len(blocks) + 1, element=number), caption=sheet.title))
        title = workbook.properties.title
    finally:
        workbook.close()
    meta = DocumentMeta(title=title if title and any("\u4e00" <= ch <= "\u9fff" for ch in title) else None)
    return BlockDocument(tuple(blocks), "xlsx", meta, pages=len(sheets))
