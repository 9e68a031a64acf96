"""Read a document's bytes into blocks (corpus.blocks): text, Markdown, HTML, .docx or .pdf.

The type is detected from the content, never from the name; each format has its reader in
corpus/readers/.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from corpus.blocks import BlockDocument

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class DocumentError(ValueError):
    """A document that cannot be read; the message says why, in words a user can act on."""


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


def read_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> BlockDocument:
    """Read a document from its bytes, or raise DocumentError saying what is wrong."""
    if len(data) == 0:
        raise DocumentError("the file is empty")
    if len(data) > max_bytes:
        raise DocumentError(
            f"the file is too large: {len(data) / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.0f} MB"
        )
    kind = detect_kind(data)
    if kind == "pdf":
        from corpus.readers.pdf import read_pdf

        try:
            return read_pdf(data)
        except Exception as exc:  # pdfplumber raises many types on a broken PDF
            raise DocumentError(f"cannot read this PDF: {exc.__class__.__name__}") from exc
    if kind == "docx":
        from corpus.readers.docx import read_docx

        try:
            return read_docx(data)
        except Exception as exc:
            raise DocumentError(f"cannot read this .docx: {exc.__class__.__name__}") from exc
    if kind == "zip":
        raise DocumentError("unsupported type: a ZIP archive that is not a .docx document")
    if kind == "binary":
        raise DocumentError("unsupported type: binary data, not a text, HTML, .docx or PDF document")
    text, encoding = decode_text(data)
    return read_string(text, encoding, kind)


def read_string(text: str, encoding: str | None = None, kind: str | None = None) -> BlockDocument:
    """Read decoded text: HTML, Markdown or plain text, by its content."""
    from corpus.readers.markdown import looks_like_markdown, read_markdown
    from corpus.readers.text import read_text

    if not text.strip():
        raise DocumentError("the file holds no text")
    if kind == "html" or re.search(r"<(p|div|br|td|tr|span|table)[\s>/]", text[:4096], re.I):
        from corpus.readers.html import read_html

        return read_html(text, encoding)
    if looks_like_markdown(text):
        return read_markdown(text, encoding)
    return read_text(text, encoding)


def read_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> BlockDocument:
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"the file is too large: {size / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.0f} MB")
    return read_bytes(path.read_bytes(), max_bytes)
