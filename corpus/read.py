"""Read a document's bytes into plain text: UTF-8/GB18030 text, HTML, .docx or .pdf.

The type is detected from the content, never from the name. Tables become tab-separated rows,
the same shape PDF extraction gives, so one table parser serves every input type.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class DocumentError(ValueError):
    """A document that cannot be read; the message says why, in words a user can act on."""


@dataclass(frozen=True)
class SourceText:
    text: str
    kind: str  # text | html | docx | pdf
    encoding: str | None = None


def detect_kind(data: bytes) -> str:
    """Detect the document type from its first bytes."""
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" in zf.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        return "zip"
    if b"\x00" in head:
        return "binary"
    sample = head.decode("utf-8", errors="ignore").lower()
    if re.search(r"<(html|body|p|div|table|br|span|h[1-6])[\s>/]", sample):
        return "html"
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if head and controls / len(head) > 0.05:
        return "binary"
    return "text"


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM) or GB18030; refuse what is neither."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        return text, "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError("cannot detect the text encoding (expected UTF-8 or GB18030/GBK)")
    return str(best), best.encoding


class _HTMLText(HTMLParser):
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data.replace("\n", " ") if self.parts and self.parts[-1] == "\t" else data)


def html_to_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    # a row starts with a tab (from its first <td>): drop that one
    return "\n".join(line[1:] if line.startswith("\t") else line for line in text.split("\n"))


def docx_to_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            for row in table.rows:
                seen: list[object] = []
                cells: list[str] = []
                for cell in row.cells:
                    if cell._tc in seen:  # a horizontally merged cell is listed once
                        continue
                    seen.append(cell._tc)
                    cells.append(re.sub(r"\s*\n\s*", "", cell.text))
                lines.append("\t".join(cells))
    return "\n".join(lines)


def pdf_to_text(data: bytes) -> str:
    import pdfplumber

    lines: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]

            def outside(obj: dict, boxes: list = boxes) -> bool:
                return not any(b[0] <= obj["x0"] <= b[2] and b[1] <= obj["top"] <= b[3] for b in boxes)

            text = page.filter(outside).extract_text() or ""
            lines.extend(text.split("\n"))
            for table in tables:
                for row in table.extract():
                    lines.append("\t".join(re.sub(r"\s*\n\s*", "", c or "") for c in row))
    return "\n".join(lines)


def read_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceText:
    """Read a document from its bytes, or raise DocumentError saying what is wrong."""
    if len(data) == 0:
        raise DocumentError("the file is empty")
    if len(data) > max_bytes:
        raise DocumentError(
            f"the file is too large: {len(data) / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.0f} MB"
        )
    kind = detect_kind(data)
    if kind == "pdf":
        try:
            return SourceText(pdf_to_text(data), "pdf")
        except Exception as exc:  # pdfplumber raises many types on a broken PDF
            raise DocumentError(f"cannot read this PDF: {exc.__class__.__name__}") from exc
    if kind == "docx":
        try:
            return SourceText(docx_to_text(data), "docx")
        except Exception as exc:
            raise DocumentError(f"cannot read this .docx: {exc.__class__.__name__}") from exc
    if kind == "zip":
        raise DocumentError("unsupported type: a ZIP archive that is not a .docx document")
    if kind == "binary":
        raise DocumentError("unsupported type: binary data, not a text, HTML, .docx or PDF document")
    text, encoding = decode_text(data)
    if not text.strip():
        raise DocumentError("the file holds no text")
    if kind == "html" or re.search(r"<(p|div|br|td|tr|span)[\s>/]", text[:4096], re.I):
        return SourceText(html_to_text(text), "html", encoding)
    return SourceText(text, "text", encoding)


def read_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceText:
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"the file is too large: {size / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.0f} MB")
    return read_bytes(path.read_bytes(), max_bytes)
