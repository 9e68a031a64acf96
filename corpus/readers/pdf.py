"""PDF through pdfplumber: the text outside tables as lines, tables as tables, with page numbers."""

from __future__ import annotations

import io
import re

from corpus.blocks import BlockDocument, Cell, DocumentMeta, Location, Paragraph, Row, Table
from corpus.normalize import is_page_number, strip_garbage


def resolve_merged(raw_rows: list[list[str | None]]) -> list[tuple[Cell, ...]]:
    """pdfplumber gives None where a merged cell covers a position: copy the merged cell's text there,
    from above when the cell above was merged down, else from the left."""
    rows: list[tuple[Cell, ...]] = []
    for raw in raw_rows:
        cells: list[Cell] = []
        for j, value in enumerate(raw):
            if value is not None:
                cells.append(Cell(re.sub(r"\s*\n\s*", "", value)))
            elif rows and j < len(rows[-1]) and (rows[-1][j].text or rows[-1][j].inherited):
                cells.append(Cell(rows[-1][j].text, inherited=True))
            elif cells:
                cells.append(Cell(cells[-1].text, inherited=True))
            else:
                cells.append(Cell(""))
        rows.append(tuple(cells))
    return rows


def read_pdf(data: bytes) -> BlockDocument:
    import pdfplumber

    blocks: list = []
    line_no = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = len(pdf.pages)
        info = pdf.metadata or {}
        for page_no, page in enumerate(pdf.pages, start=1):
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]

            def outside(obj: dict, boxes: list = boxes) -> bool:
                return not any(b[0] <= obj["x0"] <= b[2] and b[1] <= obj["top"] <= b[3] for b in boxes)

            # text above each table, then the table, so that a table follows its title
            items: list[tuple[float, object]] = []
            for line in page.filter(outside).extract_text_lines() if boxes else page.extract_text_lines():
                text = strip_garbage(line["text"]).strip()
                if text and not is_page_number(text):
                    items.append((line["top"], text))
            for table, box in zip(tables, boxes, strict=True):
                items.append((box[1], resolve_merged(table.extract())))
            for _, item in sorted(items, key=lambda kv: kv[0]):
                line_no += 1
                loc = Location(line=line_no, page=page_no)
                if isinstance(item, str):
                    blocks.append(Paragraph(item, loc))
                else:
                    blocks.append(Table(tuple(Row(cells, loc) for cells in item), loc))
    meta = DocumentMeta(title=(info.get("Title") or None) if isinstance(info.get("Title"), str) else None)
    return BlockDocument(tuple(blocks), "pdf", meta, pages=pages)
