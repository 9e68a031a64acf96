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


class DocumentTooLarge(DocumentError):
    """A document over a size limit: its bytes, what it unpacks to, or what parsing it takes."""


MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


def check_archive(data: bytes, max_unpacked: int = MAX_UNPACKED_BYTES, max_ratio: int = MAX_COMPRESSION_RATIO) -> None:
    """Refuse a zip container (.docx and its kin) that would unpack beyond the limits: a zip bomb costs
    its reader the unpacked size, so it is measured from the archive's directory before anything is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, ValueError):
        return  # not readable as a zip: the reader says what it is
    total = sum(m.file_size for m in members)
    if total > max_unpacked:
        raise DocumentTooLarge(f"文件解压后过大：{total / 1048576:.0f} MB，上限为 {max_unpacked / 1048576:.0f} MB"
                               "（可能是压缩炸弹）")
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > max_ratio * max(m.compress_size, 1):
            raise DocumentTooLarge(f"文件解压比异常：{m.filename} 压缩了 {m.file_size // max(m.compress_size, 1)} 倍，"
                                   f"上限为 {max_ratio} 倍（可能是压缩炸弹）")


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


def read_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_unpacked: int = MAX_UNPACKED_BYTES,
               max_ratio: int = MAX_COMPRESSION_RATIO) -> BlockDocument:
    """Read a document from its bytes, or raise DocumentError saying what is wrong."""
    if len(data) == 0:
        raise DocumentError("the file is empty")
    if len(data) > max_bytes:
        raise DocumentTooLarge(
            f"the file is too large: {len(data) / 1048576:.1f} MB, the limit is {max_bytes / 1048576:.0f} MB"
        )
    if data.startswith(b"PK\x03\x04"):
        check_archive(data, max_unpacked, max_ratio)
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
