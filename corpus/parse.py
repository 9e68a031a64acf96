"""Parse a document into items and clause-level chunks with their metadata."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from corpus.attribution import Attribution, split_groups
from corpus.clauses import split_clauses
from corpus.model import Document, Investment, Item, ParsedDocument, ParseWarning
from corpus.normalize import is_page_number, join_lines, normalize, strip_garbage, to_halfwidth
from corpus.prose import Block, build_tree, split_collapsed, tidy
from corpus.read import DocumentError, SourceText, read_path
from corpus.tables import Table, column_role, parse_tables
from corpus.targets import extract_targets

_OFFICIAL_HEADING = re.compile(
    r"([\u4e00-\u9fa5]{2,4}?)(?:常务)?(?:副)?(?:省长|市长|县长|区长|州长|主席|书记|秘书长|主任)(?:牵头|负责|分管)"
)
_DOC_NUMBER = re.compile(r"([\u4e00-\u9fa5]{2,8}[〔\[［(（]\d{4}[〕\]］)）]\d{1,4}\s*号)")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_TITLE = re.compile(r"(?:(\S*(?:办公室|政府|办公厅|厅|局|委员会|委|办))\s)?(\S*?关于.+?的(?:若干)?(?:通知|意见|决定|批复|函|报告|措施|办法|方案))")
_STATED_DEADLINE = re.compile(
    r"((?:\d{4}年)?\d{1,2}月(?:底|份|中旬|上旬|下旬)?(?:前|之前)|\d{4}年(?:底|年底)?(?:前|之前)|年底前|年内)"
)
_TABLE_KINDS = (("改革", "reform"), ("政策", "policy"), ("平台", "platform"), ("项目", "project"),
                ("工程", "project"), ("任务", "task"), ("工作", "task"))
_TABLE_HEADER = re.compile(r"^\s*(序号|编号)\s*\t")


def clean_lines(text: str) -> list[tuple[int, str]]:
    """Numbered non-empty lines, with page numbers and garbage runs removed."""
    out = []
    for no, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = strip_garbage(line.replace("\ufeff", "")).strip(" \u3000\r\n")
        if not line.strip() or is_page_number(line):
            continue
        out.append((no, line))
    return out


def _split_regions(lines: list[tuple[int, str]]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Prose before the first annex table, tables after it."""
    for i, (_, text) in enumerate(lines):
        if _TABLE_HEADER.match(text):
            start = i
            # take the annex marker and title lines just above the header with the tables
            while start > 0 and i - start < 3 and "\t" not in lines[start - 1][1]:
                prev = lines[start - 1][1].strip()
                if re.match(r"^-?\s*附(件|表)?\s*\d+\s*$", prev) or len(re.sub(r"\s", "", prev)) <= 40:
                    start -= 1
                    if re.match(r"^-?\s*附", prev):
                        break
                else:
                    break
            return lines[:start], lines[start:]
    return lines, []


def _document_meta(doc_id: str, header_lines: list[tuple[int, str]], source: str, checksum: str) -> Document:
    raw = [t for _, t in header_lines[:60]]
    joined = normalize("".join(raw))
    number = _doc_number(raw)
    spaced = re.sub(r"\s+", " ", to_halfwidth(" ".join(raw)))
    title_m = _TITLE.search(spaced)
    title = tidy(title_m.group(0)) if title_m else ""
    issuer = None
    for text in raw[:5]:
        compact = re.sub(r"\s+", "", text)
        if compact.endswith("文件") and len(compact) > 4:
            issuer = compact[: -len("文件")]
            break
    if issuer is None and title_m and title_m.group(1):
        issuer = tidy(title_m.group(1))
    if issuer is None and title:
        before = title.split("关于")[0]
        if re.search(r"(政府|办公厅|办公室|厅|局|委员会|委)$", before):
            issuer = before
    if not title:
        title = next((tidy(t) for t in raw if 4 <= len(tidy(t)) <= 60 and not _DOC_NUMBER.search(tidy(t))), doc_id)
    date_m = _DATE.search(joined)
    date = f"{date_m.group(1)}-{int(date_m.group(2)):02d}-{int(date_m.group(3)):02d}" if date_m else None
    return Document(
        doc_id=doc_id,
        title=title,
        number=number,
        issuer=issuer,
        date=date,
        source=source,
        checksum=checksum,
    )


def _doc_number(raw: list[str]) -> str | None:
    """文号, e.g. 浙政办发〔2023〕6号; the line may break (or carry garbage) before 号."""
    for i, text in enumerate(raw):
        pair = to_halfwidth(text + (raw[i + 1] if i + 1 < len(raw) and raw[i + 1].strip() == "号" else ""))
        pair = re.sub(r"(?<=\d)\s+(?=[\d〕\]号])|(?<=〕)\s+", "", pair)
        m = _DOC_NUMBER.search(pair)
        if m:
            number = re.sub(r"\s+", "", m.group(1))
            return number.split("文件")[-1]
    return None


def _item_id(doc_id: str, section: tuple[str, ...], item_no: str, norm: str, seen: set[str]) -> str:
    digest = hashlib.sha1("|".join([*section, item_no, norm[:60]]).encode("utf-8")).hexdigest()[:10]
    item_id = f"{doc_id}:{digest}"
    k = 2
    while item_id in seen:
        item_id = f"{doc_id}:{digest}-{k}"
        k += 1
    seen.add(item_id)
    return item_id


def _heading_title(block: Block) -> str:
    return tidy(block.marker + block.head)


def _section_path(block: Block) -> tuple[str, ...]:
    path: list[str] = []
    node = block.parent
    while node is not None and node.level > 0:
        path.append(_heading_title(node))
        node = node.parent
    if block.part:
        path.append(block.part)
    return tuple(reversed(path))


def _heading_official(block: Block) -> tuple[str, ...]:
    node = block.parent
    while node is not None and node.level > 0:
        m = _OFFICIAL_HEADING.search(to_halfwidth(node.head))
        if m:
            return (m.group(1),)
        node = node.parent
    return ()


def _item_level(root: Block) -> int:
    counts: dict[int, int] = {}
    present: set[int] = set()

    def walk(block: Block) -> None:
        for child in block.children:
            present.add(child.level)
            if child.has_attribution():
                counts[child.level] = counts.get(child.level, 0) + 1
            walk(child)

    walk(root)
    if not present:
        return 0
    if counts:
        best = max(counts.values())
        return max(level for level, c in counts.items() if c == best)
    return max(present)


def _flatten(block: Block) -> list[str]:
    """A block's own text followed by its sub-points', with their markers."""
    parts = [block.text]
    for child in block.children:
        sub = _flatten(child)
        sub[0] = child.marker + sub[0] if not child.marker[-1:].isdigit() else child.marker + " " + sub[0]
        parts.extend(sub)
    return parts


def _prose_items(
    doc_id: str, root: Block, seen: set[str], warnings: list[ParseWarning]
) -> list[Item]:
    level = _item_level(root)
    items: list[Item] = []

    def emit(block: Block, text: str, item_no: str, section: tuple[str, ...]) -> None:
        groups = split_groups(text)
        body = "".join(g.text for g in groups)
        officials = list(_heading_official(block)) if block.level == level else list(_heading_official_self(block))
        units: list[str] = []
        leads: list[str] = []
        deadline = None
        attributed = [g for g in groups if g.attribution is not None]
        for g in attributed:
            att: Attribution = g.attribution  # type: ignore[assignment]
            officials.extend(att.officials)
            if att.units:
                units.extend(att.units.units)
                leads.extend(att.units.lead_units)
            deadline = deadline or att.deadline
        norm = normalize(body)
        if deadline is None:
            m = _STATED_DEADLINE.search(norm)
            deadline = m.group(1) if m else None
        if not attributed and level > 0 and block.level == level:
            warnings.append(ParseWarning(block.line, f"item {item_no or '?'} has no responsible unit", body[:60]))
        item = Item(
            item_id=_item_id(doc_id, section, item_no, norm, seen),
            doc_id=doc_id,
            kind="task",
            section=section,
            item_no=item_no,
            text=text.strip(),
            norm=norm,
            lead_officials=tuple(dict.fromkeys(officials)),
            units=tuple(dict.fromkeys(units)),
            lead_units=tuple(dict.fromkeys(leads)),
            deadline=deadline,
            targets=extract_targets(norm),
            line=block.line,
        )
        items.append(item)

    def walk(block: Block) -> None:
        for child in block.children:
            if child.level == level:
                text = join_lines(_flatten(child))
                emit(child, text, _item_number(child), _section_path(child))
            elif child.level < level:
                if child.lines and not any(c.level == level for c in child.children):
                    # a heading whose body is itself the task (十方面民生实事 方面, a one-task section)
                    body = join_lines([t for _, t in child.lines])
                    emit(child, body, _item_number(child), (*_section_path(child), _heading_title(child)))
                elif child.lines:
                    warnings.append(
                        ParseWarning(child.lines[0][0], "text under a heading, before its items, is not an item",
                                     child.lines[0][1][:60])
                    )
                walk(child)

    walk(root)
    return items


def _heading_official_self(block: Block) -> tuple[str, ...]:
    m = _OFFICIAL_HEADING.search(to_halfwidth(block.head))
    return (m.group(1),) if m else _heading_official(block)


def _item_number(block: Block) -> str:
    return block.marker.rstrip("、．. ").replace("（", "(").replace("）", ")")


def _join_cells(cells: list[str]) -> str:
    out = ""
    for cell in cells:
        if out and out[-1] not in "。；;！？":
            out += "；"
        out += cell
    return out


def _table_kind(title: str) -> str:
    for word, kind in _TABLE_KINDS:
        if word in title:
            return kind
    return "row"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _table_items(doc_id: str, tables: list[Table], seen: set[str]) -> list[Item]:
    from corpus.units import parse_units

    items: list[Item] = []
    for table in tables:
        roles = [column_role(h) for h in table.header]
        kind = _table_kind(table.title)
        for row in table.rows:
            values = {i: (row.cells[i] if i < len(row.cells) else "") or row.inherited.get(i, "") for i in range(len(roles))}
            by_role: dict[str, str] = {}
            texts: list[str] = []
            for i, role in enumerate(roles):
                if role == "text":
                    if values[i]:
                        texts.append(values[i])
                elif role != "no":
                    by_role.setdefault(role, values[i])
            units_raw = by_role.get("units", "")
            parsed = parse_units(units_raw, by_role.get("lead_units") or None) if (units_raw or by_role.get("lead_units")) else None
            name = texts[0] if texts else ""
            text = name + ("：" + _join_cells(texts[1:]) if len(texts) > 1 else "")
            if by_role.get("progress"):
                text += "。2023年形象进度：" + by_role["progress"] if "2023" in " ".join(table.header) else "。形象进度：" + by_role["progress"]
            norm = normalize(text)
            section = tuple(s for s in (tidy(table.title), tidy(row.group) if row.group else None) if s)
            fields = tuple((h, values[i]) for i, h in enumerate(table.header) if h)
            investment = None
            if "total" in by_role or "planned" in by_role:
                investment = Investment(
                    total=_number(by_role.get("total", "")),
                    planned=_number(by_role.get("planned", "")),
                    total_text=by_role.get("total", ""),
                    planned_text=by_role.get("planned", ""),
                )
            item_no = row.cells[0]
            items.append(
                Item(
                    item_id=_item_id(doc_id, section, item_no, norm, seen),
                    doc_id=doc_id,
                    kind=kind,
                    section=section,
                    item_no=item_no,
                    text=text,
                    norm=norm,
                    lead_officials=tuple(x for x in re.split(r"[、，,]", by_role.get("officials", "")) if x),
                    units=parsed.units if parsed else (),
                    lead_units=parsed.lead_units if parsed else (),
                    deadline=re.sub(r"\s+", "", by_role["deadline"]) if by_role.get("deadline") else None,
                    targets=extract_targets(norm),
                    fields=fields,
                    project_code=by_role.get("code") or None,
                    build_type=by_role.get("build_type") or None,
                    investment=investment,
                    progress=by_role.get("progress") or None,
                    line=row.line,
                )
            )
    return items


def parse_text(text: str, doc_id: str, source: str = "") -> ParsedDocument:
    """Parse a document's plain text (tables as tab-separated rows)."""
    checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lines = clean_lines(text)
    if not lines:
        raise DocumentError("the document holds no text")
    prose, table_lines = _split_regions(lines)
    tree = build_tree(split_collapsed(prose))
    warnings: list[ParseWarning] = []
    document = _document_meta(doc_id, tree.preamble or prose[:40], source, checksum)
    seen: set[str] = set()
    items = _prose_items(doc_id, tree.root, seen, warnings)
    tables, table_warnings = parse_tables(table_lines)
    warnings.extend(table_warnings)
    items.extend(_table_items(doc_id, tables, seen))
    if not items:
        warnings.append(ParseWarning(0, "no numbered items found: is this a 责任分解 / 工作要点 document?"))
    clauses = tuple(c for item in items for c in split_clauses(item))
    return ParsedDocument(document=document, items=tuple(items), clauses=clauses, warnings=tuple(warnings))


def parse_source(source: SourceText, doc_id: str, name: str = "") -> ParsedDocument:
    return parse_text(source.text, doc_id, name)


def doc_id_from_path(path: str | Path) -> str:
    """A document id from a file name: its stem, restricted to safe characters."""
    stem = Path(path).stem
    safe = re.sub(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+", "_", stem).strip("_")
    return safe[:80] or "doc"


def parse_file(path: str | Path, doc_id: str | None = None) -> ParsedDocument:
    """Read and parse a file (text, HTML, .docx or .pdf)."""
    source = read_path(path)
    return parse_source(source, doc_id or doc_id_from_path(path), str(path))
