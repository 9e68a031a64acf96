"""Parse a document (its blocks) into items and clause-level chunks with their metadata.

blocks → flattened tables rebuilt → prose lines and placed tables → the prose tree's items and the
tables' rows as items → clauses. Rules a document states once ("列第一位者为牵头单位，下同") hold for
the items after them, prose and tables alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from corpus.attribution import Attributor, DocumentRules
from corpus.blocks import BlockDocument
from corpus.columns import load_columns
from corpus.flattened import FlattenedTables
from corpus.layout import PlacedTable, split_layout
from corpus.metadata import document_metadata
from corpus.model import ParsedDocument, ParseWarning
from corpus.normalize import is_page_number, normalize, strip_garbage
from corpus.prose import Block, build_tree, split_collapsed
from corpus.prose_items import ProseItems
from corpus.read import DocumentError, read_path, read_string
from corpus.report import parse_report
from corpus.table_items import TableItems, structured_table
from corpus.tables import parse_tables
from corpus.targets import extract_targets


def clean_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Numbered non-empty lines, with page numbers and garbage runs removed."""
    out = []
    for no, line in lines:
        line = strip_garbage(line.replace("\ufeff", "")).strip(" \u3000\r\n")
        if not line.strip() or is_page_number(line):
            continue
        out.append((no, line))
    return out


def _text_table_lines(placed: PlacedTable) -> list[tuple[int, str]]:
    """A tab-separated table as the lines corpus.tables reads: annex marker, title, rows."""
    lines: list[tuple[int, str]] = []
    line = placed.location.line
    if placed.annex:
        lines.append((max(line - 2, 0), placed.annex))
    if placed.title:
        lines.append((max(line - 1, 0), placed.title))
    lines.extend((row.location.line, "\t".join(c.text for c in row.cells)) for row in placed.table.rows)
    return lines


def _known_units(lines: list[tuple[int, str]], attributor: Attributor) -> set[str]:
    """Units the document lists in its own attributions: known names for reading its prose."""
    units: set[str] = set()
    for _, text in lines:
        if "（" in text or "(" in text or "：" in text or ":" in text:
            for group in attributor.split_groups(text):
                if group.attribution is not None and group.attribution.units is not None:
                    units.update(group.attribution.units.units)
    return units


_GOAL_FORMULA = re.compile(r"(?:特制定|制定本|现提出|现就|现将)[^。]{0,30}(?:如下|方案|措施|意见|通知)[：:。]?\s*$")
_GOAL_DATE = re.compile(r"(?:到|至|力争)\s*(?:19|20)\d\d\s*年")


def _numbered_run(blocks: list, has_attribution) -> bool:
    """Headings 三、四、… (or （三）（四）…) in sequence that assign work: the body of a document that lost its
    start, not a few numbered lines of something else."""
    return (bool(blocks) and blocks[0].level in (1, 2)
            and all(b.level == blocks[0].level and b.number == blocks[0].number + k for k, b in enumerate(blocks))
            and any(has_attribution(b.text) for b in blocks))


def goal_statement(preamble: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The preamble's last sentence group when it states the plan's aim with a date or a figure and
    ends by announcing what follows ("为…，到2030年，…完成一批国家级零碳园区建设，特制定方案如下。")."""
    if not preamble:
        return None
    no, text = preamble[-1]
    start = max((m.start() for m in re.finditer(r"(?:^|(?<=[\s。：:]))为(?=[\u4e00-\u9fa5])", text)), default=0)
    text = text[start:].strip()
    if not _GOAL_FORMULA.search(text) or len(text) > 600:
        return None
    if not (_GOAL_DATE.search(text) or extract_targets(normalize(text))):
        return None
    return no, text


def parse_document(doc: BlockDocument, doc_id: str, source: str = "", attributor: Attributor | None = None
                   ) -> ParsedDocument:
    """Parse a read document into items, clauses and warnings."""
    attributor = attributor or Attributor()
    blocks = FlattenedTables(load_columns(), attributor.lexicon)(doc.blocks)
    prose_lines, tables = split_layout(blocks)
    lines = clean_lines(prose_lines)
    if not lines and not tables:
        raise DocumentError("文件中没有文字")
    checksum = hashlib.sha256(doc.text().encode("utf-8")).hexdigest()
    known = _known_units(lines, attributor)
    if known:
        attributor = Attributor(attributor.vocab, attributor.lexicon.with_known(known))
    tree = build_tree(split_collapsed(lines), attributor.has_attribution, paragraphs=doc.kind != "text")
    if not tree.root.children:  # no numbering from 1: a fragment of a document, numbered from where it starts
        fragment = build_tree(split_collapsed(lines), attributor.has_attribution, paragraphs=doc.kind != "text",
                              any_start=True)
        if _numbered_run(fragment.root.children, attributor.has_attribution):
            tree = fragment
    document = document_metadata(doc_id, doc.meta, [t for _, t in (tree.preamble or lines)[:80]] or
                                 [t for _, t in lines[:80]], source, checksum, [t for _, t in tree.trailer])
    warnings: list[ParseWarning] = []
    rules = DocumentRules()
    seen: set[str] = set()
    prose = ProseItems(doc_id, attributor, rules, seen, warnings)
    goal = goal_statement(tree.preamble)
    if goal is not None:
        # the sentence before the first heading that states the whole plan's aim ("到2030年，…完成一批…，
        # 特制定方案如下"): an item of its own, cited by its document alone, as the closing provision is
        no, text = goal
        prose.emit(Block(level=1, number=0, marker="", head=text, line=no, paragraphs=doc.kind != "text"),
                   text, "", (), 1, own_heading=True, closing=True)
    prose.walk(tree.root)
    rows = TableItems(doc_id, rules, seen, warnings, attributor.lexicon)
    # tab-separated rows of a text document (PDF extraction): wrapped rows and page breaks to mend
    text_tables = [t for t in tables if doc.kind == "text" and not t.table.flattened]
    if text_tables:
        parsed, table_warnings = parse_tables([line for t in text_tables for line in _text_table_lines(t)])
        warnings.extend(table_warnings)
        for table in parsed:
            rows.add(table)
    for placed in tables:
        if placed in text_tables:
            continue
        table = structured_table(placed, load_columns(), attributor.lexicon)
        if table is not None:
            rows.add(table)
    items = prose.items + rows.items
    clauses = prose.clauses + rows.clauses
    if not items:
        warnings.append(ParseWarning(0, "no numbered items found: is this a 责任分解 / 工作要点 document?"))
    report = parse_report(tuple(items), tuple(warnings), len(tables), doc.kind, doc.ocr_pages, doc.ocr_confidence)
    document = dataclasses.replace(document, report=report)
    return ParsedDocument(document=document, items=tuple(items), clauses=tuple(clauses), warnings=tuple(warnings))


def parse_text(text: str, doc_id: str, source: str = "") -> ParsedDocument:
    """Parse a document given as text (plain text, Markdown or HTML, told apart by content)."""
    return parse_document(read_string(text), doc_id, source)


def doc_id_from_path(path: str | Path) -> str:
    """A document id from a file name: its stem, restricted to safe characters."""
    stem = Path(path).stem
    safe = re.sub(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+", "_", stem).strip("_")
    return safe[:80] or "doc"


def parse_file(path: str | Path, doc_id: str | None = None) -> ParsedDocument:
    """Read and parse a file (text, Markdown, HTML, .docx or .pdf)."""
    return parse_document(read_path(path), doc_id or doc_id_from_path(path), str(path))


