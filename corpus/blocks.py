"""The document model between reading and parsing: headings, paragraphs and tables, in order.

Every reader (text, Markdown, HTML, Word, PDF) returns a `BlockDocument`. Tables keep their rows
and cells; a merged cell (rowspan/colspan, Word's vMerge/gridSpan) is resolved into every cell it
covers, the covered copies marked `inherited`. Every block keeps where it came from, so warnings
and citations can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# how the text was read: its format, "image" for a photographed or scanned page, and the formats
# LibreOffice converts (doc, rtf, odt, xls, ods)
SourceKind = Literal["text", "markdown", "html", "docx", "pdf", "xlsx", "ofd", "image", "doc", "rtf", "odt", "xls",
                     "ods"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a block came from: a line (text, Markdown), a page (PDF), an element index (HTML, Word)."""

    line: int = 0
    page: int | None = None
    element: int | None = None

    def describe(self) -> str:
        if self.page is not None:
            return f"page {self.page}" + (f", line {self.line}" if self.line else "")
        if self.line:
            return f"line {self.line}"
        if self.element is not None:
            return f"block {self.element}"
        return "?"

    @property
    def order(self) -> int:
        """A number that grows through the document (for line-numbered warnings and citations)."""
        return self.line or (self.element or 0)


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    inherited: bool = False  # covered by a merged cell: the text is that merged cell's


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    location: Location = Location()
    header: bool = False  # marked as a header row by the source (<th>, <thead>, Word's header row)
    group: bool = False  # a category row ("一、推进碳达峰碳中和综合管理") over the rows below it

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(c.text for c in self.cells)


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int  # 1 = the largest
    location: Location = Location()


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    location: Location = Location()


@dataclass(frozen=True, slots=True)
class Table:
    rows: tuple[Row, ...]
    location: Location = Location()
    caption: str = ""
    flattened: bool = False  # rebuilt from one cell per paragraph (a converter flattened it)
    placed: bool = False  # rebuilt from placed text (OCR, OFD): merged cells are not drawn, a blank may be one


Block = Heading | Paragraph | Table


@dataclass(frozen=True)
class DocumentMeta:
    """What the file itself says about the document (front matter, <title>, meta tags, core properties)."""

    title: str | None = None
    number: str | None = None  # 文号
    issuer: str | None = None
    date: str | None = None  # as written, or ISO


@dataclass(frozen=True)
class BlockDocument:
    blocks: tuple[Block, ...]
    kind: SourceKind
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    encoding: str | None = None
    pages: int | None = None
    ocr_pages: int = 0  # pages whose text came from OCR
    ocr_confidence: float | None = None  # their mean recognition confidence, 0–1

    def text(self) -> str:
        """The blocks as plain text: one line per paragraph or heading, tables as tab-separated rows."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                lines.extend("\t".join(c.text for c in row.cells) for row in block.rows)
            else:
                lines.append(block.text)
        return "\n".join(lines)


def grid_from_spans(rows: list[list[tuple[str, int, int]]]) -> list[list[Cell]]:
    """Resolve (text, rowspan, colspan) cells into a full grid; covered positions are inherited copies.

    The HTML and Word readers both describe merged cells this way.
    """
    grid: dict[tuple[int, int], Cell] = {}
    for r, cells in enumerate(rows):
        col = 0
        for text, rowspan, colspan in cells:
            while (r, col) in grid:  # taken by a cell spanning down from above
                col += 1
            for dr in range(max(rowspan, 1)):
                for dc in range(max(colspan, 1)):
                    grid[(r + dr, col + dc)] = Cell(text, inherited=dr > 0 or dc > 0)
            col += max(colspan, 1)
    width = max((c for _, c in grid), default=-1) + 1
    return [[grid.get((r, c), Cell("")) for c in range(width)] for r in range(len(rows))]
