"""The bundled seeds as scans: each seed's text written as a .docx (its tab tables as real tables,
wrapped rows mended), printed to PDF by LibreOffice, its pages rendered to images (an image-only PDF,
as a scanner makes it), read back by OCR and parsed. Prints, per seed, the items and fields the
scan gives against the text's, and OCR's pages per second.

    python -m bench.ocr_seeds [--scale 2.78] [--pages N]

Needs LibreOffice (soffice), fonts-noto-cjk and rapidocr-onnxruntime.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter

from corpus import bundled_sources, parse_document, read_bytes
from corpus.blocks import Paragraph, Table
from corpus.readers.office import convert
from corpus.tables import parse_tables


def seed_docx(text: str) -> bytes:
    """The seed as Word would hold it: paragraphs as extracted, each tab table as a Word table."""
    import docx

    document = docx.Document()
    for block in read_bytes(text.encode("utf-8")).blocks:
        if isinstance(block, Paragraph):
            document.add_paragraph(block.text)
        elif isinstance(block, Table):
            lines = [(r.location.line, "\t".join(c.text for c in r.cells)) for r in block.rows]
            tables, _ = parse_tables(lines)
            for table in tables:
                # a cell the text left blank under a merged one carries its value (printed unmerged)
                rows = [table.header] + [[c or r.inherited.get(k, "") for k, c in enumerate(r.cells)]
                                         for r in table.rows]
                width = max(len(r) for r in rows)
                grid = document.add_table(rows=len(rows), cols=width)
                grid.style = "Table Grid"
                for r, cells in enumerate(rows):
                    for c, value in enumerate(cells):
                        grid.rows[r].cells[c].text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def scanned(pdf: bytes, scale: float, pages: int | None) -> bytes:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    count = min(len(document), pages or len(document))
    images = [document[i].render(scale=scale).to_pil().convert("L") for i in range(count)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=72 * scale)
    return buf.getvalue()


def signature(item) -> tuple:
    return (item.item_no, item.units, item.lead_units, item.deadline, tuple(t.value for t in item.targets))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200 / 72, help="render scale (200 dpi by default)")
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages of each seed")
    parser.add_argument("--read-scale", type=float, default=None,
                        help="render every scanned page at this scale for OCR (default: the reader's: the "
                        "page image's own resolution, 200–300 dpi)")
    args = parser.parse_args(argv)
    if args.read_scale is not None:
        from corpus.readers import pdf as pdf_reader

        pdf_reader.OCR_SCALE = args.read_scale
    total_pages = total_seconds = 0.0
    rows = []
    for path in bundled_sources():
        text = path.read_text(encoding="utf-8")
        reference = parse_document(read_bytes(text.encode("utf-8")), path.stem)
        word = parse_document(read_bytes(seed_docx(text)), path.stem)
        pdf = convert(seed_docx(text), ".docx", "pdf")
        scan = scanned(pdf, args.scale, args.pages)
        start = time.perf_counter()
        document = read_bytes(scan, max_bytes=len(scan) + 1)
        seconds = time.perf_counter() - start
        parsed = parse_document(document, path.stem)
        total_pages += document.ocr_pages
        total_seconds += seconds
        for name, base in (("text", reference), ("docx", word)):
            want = Counter(signature(i) for i in base.items)
            got = Counter(signature(i) for i in parsed.items)
            same = sum((want & got).values())
            rows.append((path.stem, name, len(base.items), len(parsed.items), same,
                         same / max(len(base.items), 1), document.ocr_pages, document.ocr_confidence, seconds))
    print("| seed | against | its items | scan items | same fields | share | OCR pages | confidence | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed, name, n, m, same, share, pages, conf, secs in rows:
        print(f"| {seed} | {name} | {n} | {m} | {same} | {share:.1%} | {pages} | {conf} | {secs:.0f} |")
    print(f"\nOCR: {total_pages:.0f} pages in {total_seconds:.0f} s = {total_pages / max(total_seconds, 1e-9):.2f} pages/s "
          f"(scale {args.scale:.2f}, this machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
