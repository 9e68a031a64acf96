"""Tables read from text as tab-separated rows (PDF extraction), and the rows every table yields.

Rules of the genre:
- a header (first cell 序号) repeated after a page break is not a row;
- a row whose first cell is empty continues the row above (it wrapped across lines or pages);
- a row whose first cell is "一、…" with every other cell empty opens a group;
- a merged cell left blank inherits the value above it within the same group, for grouping and
  attribution columns only (a blank 形象进度 is blank, not inherited);
- a row whose columns are visibly shifted is realigned only where the column types prove it,
  and always reported as a warning.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from corpus.model import ParseWarning

_GROUP = re.compile(r"^[一二三四五六七八九十]{1,3}[、．.]")
_DEADLINE = re.compile(
    r"^(全年|年底|年内|年中|长期|持续推进|上半年|下半年|.{0,4}季度.*|\d{1,2}\s*月.*|\d{4}\s*年.*|.*前|.*底)$"
)
_NUMBER = re.compile(r"^(\d+(\.\d+)?|待核定|/|—|-)$")
# a row that sums the others: its label often spans the 序号 and name columns
TOTAL_ROW = re.compile(r"^(?:总计|合计|小计|总量|共计|全[区市省县]合计)$")
TOTAL_WORDS = ("合计", "总计", "共计")
_BUILD_TYPE = re.compile(r"^(新建|续建|改扩建|扩建|改建|前期|预备)$")


@dataclass
class TableRow:
    cells: list[str]
    line: int
    group: str | None
    realigned: bool = False
    absent: set[int] = field(default_factory=set)  # columns missing after realignment
    inherited: dict[int, str] = field(default_factory=dict)
    merged: set[int] = field(default_factory=set)  # columns whose text is a merged cell's, printed above
    printed: str = ""  # the row as printed, with the cells of the row it shares merged cells with


@dataclass
class RowTable:
    """A table as rows of cell texts under a header: what item building reads, whatever the source."""

    title: str
    annex: str  # "附1", "附件3"
    header: list[str]
    rows: list[TableRow]
    line: int
    roles: list[str] = field(default_factory=list)  # a role per column (corpus.columns)
    structured: bool = False  # from HTML, Word, Markdown, PDF or a flattened table (merged cells resolved)
    measure: str | None = None  # the unit of measure stated above the table


_LEGACY = {"cooperating": "units", "guiding": "units"}
_STRUCTURAL = {"no", "code", "build_type", "total", "planned", "progress", "deadline", "officials", "lead_units",
               "units"}


def column_role(header: str) -> str:
    """The role of a column of a tab-separated table: the vocabulary's, with every textual role as text."""
    from corpus.columns import load_columns

    role = load_columns().role_of(header)
    role = _LEGACY.get(role, role)
    return role if role in _STRUCTURAL else "text"


_INHERITABLE = {"deadline", "officials", "lead_units", "units"}


def _valid(cells: list[str], roles: list[str], main_text: int) -> bool:
    if len(cells) > len(roles):
        return False
    if main_text < len(cells) and not cells[main_text]:
        return False
    for cell, role in zip(cells, roles, strict=False):
        if not cell:
            continue
        if role == "deadline" and not _DEADLINE.match(cell):
            return False
        if role in ("total", "planned") and not _NUMBER.match(cell.replace(" ", "")):
            return False
        if role == "build_type" and not _BUILD_TYPE.match(cell):
            return False
        if role == "no" and not cell.isdigit():
            return False
    return True


def _realign(cells: list[str], roles: list[str], main_text: int) -> list[str] | None:
    """Smallest shift (drop, insert or move one empty cell) that makes the row type-check."""
    n = len(cells)
    empties = [j for j in range(1, n) if not cells[j]]
    candidates: list[list[str]] = []
    for j in empties:
        candidates.append(cells[:j] + cells[j + 1 :])
    for i in range(1, n + 1):
        candidates.append(cells[:i] + [""] + cells[i:])
    for j, i in itertools.product(empties, range(1, n)):
        if i == j:
            continue
        moved = cells[:j] + cells[j + 1 :]
        candidates.append(moved[:i] + [""] + moved[i:])
    for cand in candidates:
        if _valid(cand, roles, main_text):
            return cand
    return None


def _main_text_column(roles: list[str]) -> int:
    texts = [i for i, r in enumerate(roles) if r == "text"]
    # the last free-text column before attribution columns holds the task itself
    return texts[-1] if texts else 1


def parse_tables(lines: list[tuple[int, str]]) -> tuple[list[RowTable], list[ParseWarning]]:
    """Parse every tab-separated table in the annex region."""
    tables: list[RowTable] = []
    warnings: list[ParseWarning] = []
    title_lines: list[str] = []
    annex = ""
    table: RowTable | None = None
    roles: list[str] = []
    main_text = 1
    group: str | None = None
    expected = 1
    for no, raw in lines:
        if "\t" not in raw:
            text = raw.strip()
            m = re.match(r"^-?\s*附(?:件|表)?\s*(\d+)\s*$", text)
            if m:
                annex = f"附{m.group(1)}"
                title_lines = []
                table = None
            elif text:
                title_lines.append(text)
                if table is not None and len(title_lines) > 2:
                    table = None
            continue
        cells = [c.strip() for c in raw.split("\t")]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        first = re.sub(r"\s+", "", cells[0])
        if first in ("序号", "编号"):
            header = [re.sub(r"\s+", "", c) for c in cells]
            if table is None or header[:2] != table.header[:2]:
                title = re.sub(r"\s+", "", title_lines[-1]) if title_lines else annex
                table = RowTable(title=title, annex=annex, header=header, rows=[], line=no)
                tables.append(table)
                roles = [column_role(h) for h in header]
                main_text = _main_text_column(roles)
                group, expected = None, 1
            title_lines = []
            continue  # a repeated header after a page break is not a row
        if table is None:
            warnings.append(ParseWarning(no, "table row outside any table (no 序号 header above it)", raw))
            continue
        if _GROUP.match(first) and all(not c for c in cells[1:]):
            group = cells[0]
            continue
        if first.isdigit() and int(first) == expected:
            row = TableRow(cells=cells, line=no, group=group)
            if not _valid(cells, roles, main_text):
                fixed = _realign(cells, roles, main_text)
                if fixed is not None:
                    warnings.append(
                        ParseWarning(no, f"{table.annex} row {first}: columns visibly shifted; realigned", raw)
                    )
                    row.cells, row.realigned = fixed, True
                    row.absent = set(range(len(fixed), len(roles)))
                else:
                    warnings.append(
                        ParseWarning(no, f"{table.annex} row {first}: columns do not match the header", raw)
                    )
            table.rows.append(row)
            expected += 1
            continue
        if TOTAL_ROW.match(first):  # the total row: a row of its own, never a wrapped part of the last
            table.rows.append(TableRow(cells=cells, line=no, group=group))
            continue
        if table.rows and (not first or not first.isdigit()):
            prev = table.rows[-1]
            for i, cell in enumerate(cells):
                if not cell:
                    continue
                while len(prev.cells) <= i:
                    prev.cells.append("")
                prev.cells[i] = prev.cells[i] + cell
            continue
        warnings.append(ParseWarning(no, f"{table.annex}: row number {first} out of sequence (expected {expected})", raw))
    for table in tables:
        _inherit_merged_cells(table, warnings)
        table.roles = [column_role(h) for h in table.header]
    return tables, warnings


def _inherit_merged_cells(table: RowTable, warnings: list[ParseWarning]) -> None:
    roles = [column_role(h) for h in table.header]
    main_text = _main_text_column(roles)
    above: dict[int, str] = {}
    group: str | None = None
    for row in table.rows:
        if row.group != group:
            above, group = {}, row.group
        while len(row.cells) < len(roles):
            row.cells.append("")
        if row.cells and TOTAL_ROW.match(re.sub(r"\s+", "", row.cells[0])):
            continue  # the total's blank name cell is the 总计 label spanning it, not a cell merged down
        for i, role in enumerate(roles):
            inheritable = role in _INHERITABLE or (role == "text" and i < main_text)
            if not row.cells[i] and inheritable and i not in row.absent and i in above:
                row.inherited[i] = above[i]
            elif row.cells[i]:
                above[i] = row.cells[i]
        if any(roles[i] in ("units", "lead_units") for i in row.absent):
            warnings.append(
                ParseWarning(row.line, f"{table.annex} row {row.cells[0]}: no responsible unit after realignment")
            )
