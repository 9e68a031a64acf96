"""Read a document's bytes into blocks (corpus.blocks): text, Markdown, HTML, Word, Excel, PDF (its
text layer or, for a scan, OCR), OFD, images, and through LibreOffice the older office formats.

The type is detected from the content, never from the name; each format has its reader in
corpus/readers/.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path

from corpus.blocks import BlockDocument
from corpus.errors import DocumentError, DocumentTooLarge, UnsupportedFormat

DEFAULT_MAX_BYTES = 40 * 1024 * 1024  # a 60-page scan at 200 dpi is about 25 MB


SUPPORTED = ("支持的格式：文本（.txt）、Markdown（.md）、HTML、Word（.docx）、Excel（.xlsx）、PDF（含扫描件）、"
             "OFD、图片（.png/.jpg/.tif，OCR 识别）；安装 LibreOffice 后另支持 .doc、.wps、.rtf、.odt、.xls、.et、.ods")


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


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc, .xls, .wps, .et
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
           (b"BM", "bmp"))
_OPENDOCUMENT = {"application/vnd.oasis.opendocument.text": "odt",
                 "application/vnd.oasis.opendocument.spreadsheet": "ods"}


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def detect_kind(data: bytes) -> str:
    """Detect the document type from its bytes."""
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if "word/document.xml" in names:
                    return "docx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if any(n.lower() == "ofd.xml" for n in names):
                    return "ofd"
                if "mimetype" in names:
                    return _OPENDOCUMENT.get(zf.read("mimetype")[:100].decode("ascii", "ignore").strip(), "zip")
        except (zipfile.BadZipFile, ValueError):
            pass
        return "zip"
    if head.startswith(_OLE):
        # the streams are named in UTF-16 in the compound file's directory
        if _utf16("WordDocument") in data:
            return "doc"
        if _utf16("Workbook") in data or _utf16("Book") in data:
            return "xls"
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    for magic, kind in _IMAGES:
        if head.startswith(magic) and (kind != "bmp" or b"\x00" in head):  # "BM" may open a text
            return kind
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
        raise DocumentError("无法识别文件的文字编码（应为 UTF-8 或 GB18030/GBK）")
    return str(best), best.encoding


# what LibreOffice converts each older format to, and the format's name for messages
_CONVERTED = {"doc": ("docx", ".doc"), "rtf": ("docx", ".rtf"), "odt": ("docx", ".odt"), "xls": ("xlsx", ".xls"),
              "ods": ("xlsx", ".ods")}


def read_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_unpacked: int = MAX_UNPACKED_BYTES,
               max_ratio: int = MAX_COMPRESSION_RATIO) -> BlockDocument:
    """Read a document from its bytes, or raise DocumentError saying what is wrong."""
    if len(data) == 0:
        raise DocumentError("文件是空的")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"文件过大：{len(data) / 1048576:.1f} MB，上限为 {max_bytes / 1048576:.0f} MB")
    if data.startswith(b"PK\x03\x04"):
        check_archive(data, max_unpacked, max_ratio)
    kind = detect_kind(data)
    if kind in _CONVERTED:
        from corpus.readers.office import convert

        target, suffix = _CONVERTED[kind]
        converted = convert(data, suffix, target)
        document = _read_kind(target, converted)
        return dataclasses.replace(document, kind=kind)
    if kind == "ole":
        raise UnsupportedFormat(f"不支持的文件类型：不是 Word 或 Excel 的旧格式文件。{SUPPORTED}")
    if kind == "zip":
        raise UnsupportedFormat(f"不支持的文件类型：ZIP 压缩包，但不是 Word、Excel 或 OFD 文件。{SUPPORTED}")
    if kind == "binary":
        raise UnsupportedFormat(f"不支持的文件类型：二进制数据，不是可读的文档。{SUPPORTED}")
    if kind in ("pdf", "docx", "xlsx", "ofd", "png", "jpeg", "tiff", "bmp"):
        return _read_kind(kind, data)
    text, encoding = decode_text(data)
    return read_string(text, encoding, kind)


_NAMES = {"pdf": "PDF", "docx": ".docx", "xlsx": ".xlsx", "ofd": "OFD"}


def _read_kind(kind: str, data: bytes) -> BlockDocument:
    """A binary format through its reader; the reader's own exceptions become a DocumentError."""
    if kind == "pdf":
        from corpus.readers.pdf import read_pdf as reader
    elif kind == "docx":
        from corpus.readers.docx import read_docx as reader
    elif kind == "xlsx":
        from corpus.readers.xlsx import read_xlsx as reader
    elif kind == "ofd":
        from corpus.readers.ofd import read_ofd as reader
    else:
        from corpus.readers.ocr import read_image as reader
    try:
        return reader(data)
    except DocumentError:
        raise
    except Exception as exc:  # each library raises many types on a broken file
        name = _NAMES.get(kind, "图片")
        raise DocumentError(f"无法读取这个 {name} 文件（{exc.__class__.__name__}）：文件可能已损坏或加密") from exc


def read_string(text: str, encoding: str | None = None, kind: str | None = None) -> BlockDocument:
    """Read decoded text: HTML, Markdown or plain text, by its content."""
    from corpus.readers.markdown import looks_like_markdown, read_markdown
    from corpus.readers.text import read_text

    if not text.strip():
        raise DocumentError("文件中没有文字")
    if kind == "html" or re.search(r"<(p|div|br|td|tr|span|table)[\s>/]", text[:4096], re.I):
        from corpus.readers.html import read_html

        return read_html(text, encoding)
    if looks_like_markdown(text):
        return read_markdown(text, encoding)
    return read_text(text, encoding)


def read_path(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> BlockDocument:
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"文件不存在：{path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentTooLarge(f"文件过大：{size / 1048576:.1f} MB，上限为 {max_bytes / 1048576:.0f} MB")
    return read_bytes(path.read_bytes(), max_bytes)
