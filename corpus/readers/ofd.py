"""OFD (GB/T 33190), the national format for electronic official documents, read from its XML.

An OFD is a zip: OFD.xml names each document's Document.xml, which lists its pages; a page's
Content.xml holds text objects (TextObject with a Boundary "x y w h" in millimetres, and TextCode
runs placed at X/Y inside it with per-glyph advances in DeltaX). The runs are placed text, so they go
through corpus.readers.positioned into paragraphs and tables like OCR's boxes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

from corpus.blocks import BlockDocument, DocumentMeta
from corpus.errors import DocumentError
from corpus.readers.pages import assemble
from corpus.readers.positioned import TextBox, page_blocks


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str):
    return [e for e in element.iter() if _local(e.tag) == name]


def _numbers(text: str | None) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text or "")]


def _advances(delta: str | None) -> list[float]:
    """DeltaX as advances, its "g N value" shorthand (N glyphs of the same advance) expanded."""
    out: list[float] = []
    tokens = (delta or "").split()
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            out.extend([float(tokens[i + 2])] * int(float(tokens[i + 1])))
            i += 3
        else:
            try:
                out.append(float(tokens[i]))
            except ValueError:
                pass
            i += 1
    return out


def _parse(zf: zipfile.ZipFile, path: str):
    from lxml import etree

    try:
        raw = zf.read(path.lstrip("/"))
    except KeyError as exc:
        raise DocumentError(f"OFD 文件不完整：缺少 {path}") from exc
    return etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))


def _page_boxes(content) -> list[TextBox]:
    boxes: list[TextBox] = []
    for obj in _children(content, "TextObject"):
        bx, by, bw, _ = (_numbers(obj.get("Boundary")) + [0, 0, 0, 0])[:4]
        size = float(obj.get("Size") or 3.5)
        for code in _children(obj, "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x = bx + float(code.get("X") or 0)
            baseline = by + float(code.get("Y") or size)
            width = sum(_advances(code.get("DeltaX"))[: max(len(text) - 1, 0)]) + size
            boxes.append(TextBox(x, baseline - size, min(x + width, bx + bw) if bw else x + width, baseline, text))
    return boxes


def read_ofd(data: bytes) -> BlockDocument:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise DocumentError("OFD 文件已损坏：不是有效的 OFD 压缩包") from exc
    with zf:
        root = _parse(zf, "OFD.xml")
        doc_roots = [e.text.strip() for e in _children(root, "DocRoot") if e.text and e.text.strip()]
        if not doc_roots:
            raise DocumentError("OFD 文件中没有找到文档（OFD.xml 缺少 DocRoot）")
        titles = [e.text.strip() for e in _children(root, "Title") if e.text and e.text.strip()]
        pages: list[list] = []
        for doc_root in doc_roots:
            document = _parse(zf, doc_root)
            base = posixpath.dirname(doc_root.lstrip("/"))
            for page in _children(document, "Page"):
                loc = page.get("BaseLoc")
                if not loc:
                    continue
                path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
                pages.append(page_blocks(_page_boxes(_parse(zf, path)), len(pages) + 1))
    blocks = assemble(pages)
    if not blocks:
        raise DocumentError("OFD 文件中没有文字（可能是扫描件：请上传 PDF 或图片以便识别文字）")
    return BlockDocument(blocks, "ofd", DocumentMeta(title=titles[0] if titles else None), pages=len(pages))
