"""Markdown (CommonMark with pipe tables, through markdown-it-py), with YAML front matter as metadata.

List items keep their printed numbers ("1." stays in the text): numbering is what the parser reads.
"""

from __future__ import annotations

import re

from corpus.blocks import BlockDocument, Cell, DocumentMeta, Heading, Location, Paragraph, Row, Table
from corpus.readers.text import text_blocks

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
# front matter keys of the genre, Chinese and English, for each metadata field
META_KEYS = {
    "title": ("标题", "title", "名称", "文件名称"),
    "number": ("文号", "发文字号", "number", "doc_number"),
    "issuer": ("发布单位", "发文机关", "发文单位", "issuer", "author", "来源"),
    "date": ("发布日期", "成文日期", "印发日期", "日期", "date", "pubdate"),
}


def front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """(fields, text after the front matter, number of lines it took)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text, 0
    fields: dict[str, str] = {}
    try:
        import yaml

        loaded = yaml.safe_load(m.group(1))
        if isinstance(loaded, dict):
            fields = {str(k).strip(): str(v).strip() for k, v in loaded.items() if v is not None}
    except Exception:  # not YAML after all: read "key: value" lines
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
    return fields, text[m.end():], m.group(0).count("\n")


def meta_from_fields(fields: dict[str, str]) -> DocumentMeta:
    lower = {k.lower(): v for k, v in fields.items()}
    found = {name: next((lower[k.lower()] for k in keys if lower.get(k.lower())), None)
             for name, keys in META_KEYS.items()}
    return DocumentMeta(**found)


def looks_like_markdown(text: str) -> bool:
    head = text[:20000]
    return bool(_FRONT_MATTER.match(text) or re.search(r"^#{1,6} \S", head, re.M)
                or re.search(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", head, re.M))


def _inline_text(token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def read_markdown(text: str, encoding: str | None = None) -> BlockDocument:
    from markdown_it import MarkdownIt

    fields, body, skipped = front_matter(text)
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(body)
    blocks: list = []
    numbers: list[str] = []  # the marker of the list item being read ("1.", "2)")
    ordered: list[tuple[int, str]] = []  # per open ordered list: next number, delimiter
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = (tok.map[0] + 1 + skipped) if tok.map else 0
        if tok.type == "heading_open":
            blocks.append(Heading(_inline_text(tokens[i + 1]).strip(), int(tok.tag[1]), Location(line=line)))
            i += 3
            continue
        if tok.type == "ordered_list_open":
            ordered.append((int(tok.attrs.get("start", 1) or 1), tok.markup or "."))
        elif tok.type == "ordered_list_close":
            ordered.pop()
        elif tok.type == "list_item_open":
            if tok.markup in (".", ")") and ordered:
                n, delim = ordered[-1]
                numbers.append(f"{tok.info or n}{delim}")
                ordered[-1] = (n + 1, delim)
            else:
                numbers.append("")
        elif tok.type == "list_item_close":
            numbers.pop()
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            content = _inline_text(tok)
            if numbers and numbers[-1]:
                content = numbers[-1] + content
                numbers[-1] = ""  # only the item's first paragraph carries the number
            for k, part in enumerate(content.split("\n")):
                if part.strip():
                    blocks.append(Paragraph(part.strip(), Location(line=line + k)))
        elif tok.type == "table_open":
            j = i
            rows: list[Row] = []
            cells: list[Cell] = []
            header = False
            while tokens[j].type != "table_close":
                t = tokens[j]
                if t.type == "thead_open":
                    header = True
                elif t.type == "tbody_open":
                    header = False
                elif t.type == "tr_open":
                    cells = []
                elif t.type == "inline":
                    cells.append(Cell(_inline_text(t).replace("\n", "").strip()))
                elif t.type == "tr_close":
                    rows.append(Row(tuple(cells), Location(line=(t.map[0] + 1 + skipped) if t.map else line),
                                    header=header))
                j += 1
            blocks.append(Table(tuple(rows), Location(line=line)))
            i = j
        elif tok.type in ("code_block", "fence"):
            blocks.extend(text_blocks(tok.content, line + (tok.type == "fence")))
        i += 1
    return BlockDocument(tuple(blocks), "markdown", meta_from_fields(fields), encoding)
