"""HTML through lxml: paragraphs, headings and data tables in document order; <title> and meta tags
as metadata.

Government sites often wrap the whole body in one outer table cell: a table is read as a data table
only when it holds no table itself and its cells are not whole stretches of paragraphs; otherwise
its cells are read as blocks.
"""

from __future__ import annotations

import re

from corpus.blocks import (
    BlockDocument,
    DocumentMeta,
    Heading,
    Location,
    Paragraph,
    Row,
    Table,
    grid_from_spans,
)

_BLOCK_TAGS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article", "ul", "ol",
               "blockquote", "center", "tr", "td", "th", "tbody", "thead", "dl", "dt", "dd", "pre", "form"}
_SKIP = {"script", "style", "head", "noscript", "template", "iframe", "object"}
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u2002\u2003\u3000]+")
_BOGUS_ENTITY = re.compile(r"&[A-Za-z]{1,8};")
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")
META_NAMES = {
    "title": ("articletitle", "title", "dc.title", "og:title"),
    "number": ("wenhao", "文号", "docnumber"),
    "issuer": ("contentsource", "source", "author", "dc.creator", "publisher"),
    "date": ("pubdate", "firstpublishedtime", "date", "dc.date", "publishdate"),
}


def clean_inline(text: str) -> str:
    """Collapse HTML whitespace; a space next to a Chinese character is layout, not text."""
    text = _BOGUS_ENTITY.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text)


class _Walker:
    def __init__(self) -> None:
        self.blocks: list = []
        self.buffer: list[str] = []
        self.count = 0

    def flush(self, heading: int = 0) -> None:
        text = clean_inline("".join(self.buffer))
        self.buffer = []
        if text:
            self.count += 1
            loc = Location(element=self.count)
            self.blocks.append(Heading(text, heading, loc) if heading else Paragraph(text, loc))

    def walk(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower().rsplit("}", 1)[-1]
        if tag in _SKIP or not isinstance(el.tag, str):
            self.buffer.append(el.tail or "")
            return
        if tag == "br":
            self.flush()
            self.buffer.append(el.tail or "")
            return
        if tag == "table" and is_data_table(el):
            self.flush()
            self.count += 1
            self.blocks.append(read_table(el, Location(element=self.count)))
            self.buffer.append(el.tail or "")
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush()
        self.buffer.append(el.text or "")
        for child in el:
            self.walk(child)
        if block:
            self.flush(int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0)
        self.buffer.append(el.tail or "")


def _cells(row) -> list:
    return [c for c in row if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]


def _rows(table) -> list:
    out = []
    for child in table:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag == "tr":
            out.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            out.extend(r for r in child if isinstance(r.tag, str) and r.tag.lower() == "tr")
    return out


def is_data_table(table) -> bool:
    """A table of data, not a layout table around the page's text."""
    if table.xpath(".//table"):
        return False
    rows = _rows(table)
    if not rows:
        return False
    width = max(len(_cells(r)) for r in rows)
    if len(rows) == 1 or width == 1:
        # one row or one column: a data table only if no cell holds several paragraphs
        return not any(len(c.xpath(".//p|.//div|.//br")) > 3 for r in rows for c in _cells(r))
    return True


def _cell_text(cell) -> str:
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            parts.append(el.tail or "")
            return
        if tag in ("br", "p", "div", "li") and parts:
            parts.append("\n")
        parts.append(el.text or "")
        for child in el:
            walk(child)
        parts.append(el.tail or "")

    parts.append(cell.text or "")
    for child in cell:
        walk(child)
    lines = [clean_inline(line) for line in "".join(parts).split("\n")]
    return "".join(line for line in lines if line)


def _span(cell, name: str) -> int:
    try:
        return max(1, int(cell.get(name, "1") or 1))
    except ValueError:
        return 1


def read_table(table, location: Location) -> Table:
    raw_rows = _rows(table)
    spans = [[(_cell_text(c), _span(c, "rowspan"), _span(c, "colspan")) for c in _cells(r)] for r in raw_rows]
    grid = grid_from_spans(spans)
    header_flags = [bool(_cells(r)) and all(c.tag.lower() == "th" for c in _cells(r))
                    or (r.getparent() is not None and str(r.getparent().tag).lower() == "thead") for r in raw_rows]
    rows = tuple(Row(tuple(cells), Location(element=location.element), header=flag)
                 for cells, flag in zip(grid, header_flags, strict=True))
    caption = table.xpath("./caption")
    return Table(rows, location, caption=clean_inline(caption[0].text_content()) if caption else "")


def _meta(root) -> DocumentMeta:
    found: dict[str, str | None] = {k: None for k in META_NAMES}
    for el in root.iter("meta"):
        name = (el.get("name") or el.get("property") or "").lower()
        content = (el.get("content") or "").strip()
        for field, names in META_NAMES.items():
            if content and name in names and not found[field]:
                found[field] = content
    if not found["title"]:
        title = root.find(".//title")
        if title is not None and title.text_content().strip():
            found["title"] = clean_inline(title.text_content())
    return DocumentMeta(**found)


def read_html(markup: str, encoding: str | None = None) -> BlockDocument:
    import lxml.html

    # a fragment (a body cut out of a page, starting with <tbody>) parses as a document too
    root = lxml.html.document_fromstring(markup)
    walker = _Walker()
    body = root.find("body")
    walker.walk(body if body is not None else root)
    walker.flush()
    return BlockDocument(tuple(walker.blocks), "html", _meta(root), encoding)
