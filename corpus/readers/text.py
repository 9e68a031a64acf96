"""Plain text: a paragraph per line; runs of tab-separated lines are tables.

PDF extractions break lines inside sentences and leave page numbers between table rows; the parser
joins the lines of a paragraph again, and a table run survives a page-number line between its rows.
"""

from __future__ import annotations

from corpus.blocks import BlockDocument, Cell, DocumentMeta, Location, Paragraph, Row, Table
from corpus.normalize import is_page_number, strip_garbage


def read_text(text: str, encoding: str | None = None, meta: DocumentMeta | None = None,
              first_line: int = 1) -> BlockDocument:
    """Blocks of a plain-text document (lines numbered from `first_line`)."""
    return BlockDocument(text_blocks(text, first_line), "text", meta or DocumentMeta(), encoding)


def text_blocks(text: str, first_line: int = 1) -> tuple:
    blocks: list = []
    rows: list[Row] = []

    def close_table() -> None:
        nonlocal rows
        if rows:
            blocks.append(Table(tuple(rows), rows[0].location))
            rows = []

    for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=first_line):
        line = strip_garbage(raw.replace("\ufeff", "")).rstrip(" \u3000\r\n")
        if "\t" in line and line.strip(" \t\u3000"):
            rows.append(Row(tuple(Cell(c.strip(" \u3000")) for c in line.split("\t")), Location(line=no)))
            continue
        stripped = line.strip(" \u3000")
        if rows and (not stripped or is_page_number(stripped)):
            continue  # a page break inside a table
        close_table()
        if stripped and not is_page_number(stripped):
            blocks.append(Paragraph(stripped, Location(line=no)))
    close_table()
    return tuple(blocks)
