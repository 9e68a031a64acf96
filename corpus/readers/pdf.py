"""PDF through pdfplumber: the text outside tables as lines, tables as tables, with page numbers.

A page without a text layer (a scan) is rendered and read by OCR (corpus.readers.ocr). Running headers
and footers are dropped and a table that runs over a page break is joined (corpus.readers.pages).
"""

from __future__ import annotations

import io
import re

from corpus.blocks import Block, BlockDocument, Cell, DocumentMeta, Location, Paragraph, Row, Table
from corpus.normalize import is_page_number, strip_garbage
from corpus.readers.pages import assemble

# a scan is read at its own resolution within these bounds: PP-OCR reads 10.5-point 仿宋 reliably from
# 200 dpi, and a 300-dpi scan resampled to 200 before OCR loses fields (seed 004: 58.7% of its items
# right read at 300 dpi, 48.4% at 200; docs/formats.md); above 300 costs time for nothing
OCR_DPI = (200, 300)
OCR_SCALE: float | None = None  # a fixed render scale instead (benchmarks)


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


def _text_page(page, page_no: int) -> list[Block]:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside(obj: dict, boxes: list = boxes) -> bool:
        middle = (obj.get("top", 0) + obj.get("bottom", obj.get("top", 0))) / 2
        return not any(b[0] <= obj["x0"] <= b[2] and b[1] <= middle <= b[3] for b in boxes)

    # text above each table, then the table, so that a table follows its title
    items: list[tuple[float, object]] = []
    for line in page.filter(outside).extract_text_lines() if boxes else page.extract_text_lines():
        text = strip_garbage(line["text"]).strip()
        if text and not is_page_number(text):
            items.append((line["top"], text))
    for table, box in zip(tables, boxes, strict=True):
        items.append((box[1], resolve_merged(table.extract())))
    loc = Location(page=page_no)
    return [Paragraph(item, loc) if isinstance(item, str) else Table(tuple(Row(cells, loc) for cells in item), loc)
            for _, item in sorted(items, key=lambda kv: kv[0])]


def _scanned(page) -> bool:
    """A page whose text is only in an image: no text layer to speak of, an image over most of it."""
    if len(page.chars) > 10 or not page.images:
        return False
    area = page.width * page.height
    return any((im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) > 0.3 * area for im in page.images)


def ocr_scale(page) -> float:
    """The scale to render a scanned page at for OCR: its largest image's own resolution, kept within
    OCR_DPI (a page image with no stated size is read at the lower bound)."""
    if OCR_SCALE is not None:
        return OCR_SCALE
    low, high = OCR_DPI
    image = max(page.images, key=lambda im: (im["x1"] - im["x0"]) * (im["bottom"] - im["top"]))
    width_pt = image["x1"] - image["x0"]
    pixels = (image.get("srcsize") or (0, 0))[0]
    if width_pt <= 0 or not pixels:
        return low / 72
    return min(max(pixels / (width_pt / 72), low), high) / 72


def read_pdf(data: bytes) -> BlockDocument:
    import pdfplumber

    pages: list[list[Block]] = []
    ocr = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        count = len(pdf.pages)
        info = pdf.metadata or {}
        scanned = {n for n, page in enumerate(pdf.pages, start=1) if _scanned(page)}
        rendered = None
        if scanned:
            import pypdfium2

            from corpus.readers.ocr import ocr_page, progress

            rendered = pypdfium2.PdfDocument(data)
            bar = progress(len(scanned), "OCR")
        for page_no, page in enumerate(pdf.pages, start=1):
            if page_no in scanned:
                result = ocr_page(rendered[page_no - 1].render(scale=ocr_scale(page)).to_pil(), page_no)
                ocr.append(result)
                pages.append(list(result.blocks))
                bar.update()
            else:
                pages.append(_text_page(page, page_no))
        if scanned:
            bar.close()
            rendered.close()
    blocks = assemble(pages)
    meta = DocumentMeta(title=(info.get("Title") or None) if isinstance(info.get("Title"), str) else None)
    confidence = None
    if ocr:
        from corpus.readers.ocr import mean_confidence

        confidence = mean_confidence(ocr)
    return BlockDocument(blocks, "pdf", meta, pages=count, ocr_pages=len(ocr), ocr_confidence=confidence)
