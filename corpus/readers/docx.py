"""Word (.docx) through python-docx: paragraphs and tables in body order, merged cells resolved.

A horizontally merged cell (gridSpan) and a vertically merged one (vMerge continue) are copied into
every grid position they cover, the copies marked inherited.
"""

from __future__ import annotations

import io
import re

from corpus.blocks import BlockDocument, Cell, DocumentMeta, Heading, Location, Paragraph, Row, Table

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def _text(element) -> str:
    parts: list[str] = []
    for node in element.iter():
        tag = node.tag
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag == _W + "tab":
            parts.append(" ")
        elif tag in (_W + "br", _W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _int_attr(el, name: str, default: int = 0) -> int:
    if el is None:
        return default
    try:
        return int(el.get(_W + name, default))
    except (TypeError, ValueError):
        return default


def read_table(tbl, location: Location) -> Table:
    rows: list[Row] = []
    above: dict[int, str] = {}  # grid column → text of the cell above (for vMerge continue)
    for tr in tbl.iterchildren(_W + "tr"):
        cells: list[Cell] = []
        tr_pr = tr.find(_W + "trPr")
        col = _int_attr(tr_pr.find(_W + "gridBefore") if tr_pr is not None else None, "val")
        cells.extend(Cell("") for _ in range(col))
        header = tr_pr is not None and tr_pr.find(_W + "tblHeader") is not None
        for tc in tr.iterchildren(_W + "tc"):
            pr = tc.find(_W + "tcPr")
            span = max(1, _int_attr(pr.find(_W + "gridSpan") if pr is not None else None, "val", 1))
            vmerge = pr.find(_W + "vMerge") if pr is not None else None
            continued = vmerge is not None and vmerge.get(_W + "val") in (None, "continue")
            paragraphs = ["".join(_text(p).split("\n")) for p in tc.iterchildren(_W + "p")]
            text = "".join(p.strip() for p in paragraphs)
            for k in range(span):
                if continued:
                    cells.append(Cell(above.get(col, ""), inherited=True))
                else:
                    cells.append(Cell(text, inherited=k > 0))
                    above[col] = text
                col += 1
        rows.append(Row(tuple(cells), location, header=header))
    return Table(tuple(rows), location)


def read_docx(data: bytes) -> BlockDocument:
    import docx

    document = docx.Document(io.BytesIO(data))
    styles = {s.style_id: (s.name or "") for s in document.styles}
    blocks: list = []
    for n, child in enumerate(document.element.body.iterchildren(), start=1):
        loc = Location(element=n)
        if child.tag == _W + "p":
            style_el = child.find(f"{_W}pPr/{_W}pStyle")
            style = styles.get(style_el.get(_W + "val"), "") if style_el is not None else ""
            heading = _HEADING_STYLE.match(style.strip())
            for part in _text(child).split("\n"):
                part = part.strip(" \u3000\t")
                if part:
                    blocks.append(Heading(part, int(heading.group(1)), loc) if heading else Paragraph(part, loc))
        elif child.tag == _W + "tbl":
            blocks.append(read_table(child, loc))
    props = document.core_properties
    # core properties are often a template's ("python-docx", "Administrator"): trusted only in Chinese
    cjk = re.compile(r"[\u4e00-\u9fff]")
    meta = DocumentMeta(title=props.title if props.title and cjk.search(props.title) else None,
                        issuer=props.author if props.author and cjk.search(props.author) else None)
    return BlockDocument(tuple(blocks), "docx", meta)
