"""Tables into items: one item per row, every field kept, columns read by their meaning.

Tables from HTML, Word, Markdown, PDF and flattened text arrive with merged cells resolved; their
header (one row or two, a colspan group over year columns) is found by its role words. Tables read
from tab-separated text go through corpus.tables first (wrapped rows, page breaks, shifted columns).
Unit columns give roles: a 牵头单位 column leads (an empty one — "——" — leads nobody), 责任单位
is responsible, 配合/参与/支撑单位 cooperate, 指导部门 guides. A column per year gives targets with
their year. An unknown column is kept as a named field of the item.
"""

from __future__ import annotations

import re

from corpus.attribution import DocumentRules
from corpus.blocks import Row
from corpus.clauses import split_clauses
from corpus.columns import ColumnVocabulary, load_columns, year_of
from corpus.layout import PlacedTable
from corpus.model import Clause, Investment, Item, ParseWarning, Target
from corpus.normalize import normalize
from corpus.prose import tidy
from corpus.prose_items import item_id
from corpus.tables import TOTAL_ROW, RowTable, TableRow
from corpus.targets import extract_targets
from corpus.units import UnitLexicon, default_lexicon, parse_units

_TABLE_KINDS = (("改革", "reform"), ("政策", "policy"), ("平台", "platform"), ("项目", "project"),
                ("工程", "project"), ("任务", "task"), ("工作", "task"))
_NUMBERED_TASK = re.compile(r"^([（(]\d{1,3}[）)])\S")  # a task cell that prints its row's number
_MERGED_DOWN = {"lead_units", "units", "cooperating", "officials", "deadline"}
_TEXTUAL = {"text", "task", "content", "name", "other", "target", "year", "measure", "note"}
_LABELLED = {"name", "other", "target", "year", "measure"}  # values that mean little without their header
_GROUP_ROW = re.compile(r"^[一二三四五六七八九十]{1,3}[、．.]|^[（(][一二三四五六七八九十]{1,3}[）)]")
_NUMBER = re.compile(r"^[约近]?(\d+(?:\.\d+)?)\s*([%％‰]|[万亿千百]?[\u4e00-\u9fa5]{0,3})?")


def _header_row(row: Row, vocab: ColumnVocabulary, previous: list[Row]) -> bool:
    own = [c.text for c in row.cells if c.text and not c.inherited]
    if row.header:
        return True
    if not own:
        return bool(previous)
    if any(re.fullmatch(r"[\d.,%％]+", t) for t in own) or any(len(t) > 20 for t in own):
        return False
    words = sum(vocab.is_header_word(t) for t in own)
    return words >= max(1, (len(own) + 1) // 2) or (bool(previous) and words >= 1)


def _combined_header(rows: list[Row]) -> list[str]:
    width = max(len(r.cells) for r in rows)
    names: list[str] = []
    for j in range(width):
        parts: list[str] = []
        for r in rows:
            text = re.sub(r"\s+", "", r.cells[j].text) if j < len(r.cells) else ""
            if text and text not in parts:
                parts.append(text)
        names.append("·".join(parts))
    return names


def structured_table(placed: PlacedTable, vocab: ColumnVocabulary, lexicon: UnitLexicon) -> RowTable | None:
    """A table read with its structure (HTML, Word, Markdown, PDF, flattened) as header and rows."""
    rows = list(placed.table.rows)
    header_rows: list[Row] = []
    while rows and len(header_rows) < 3 and _header_row(rows[0], vocab, header_rows):
        header_rows.append(rows.pop(0))
    if not rows:
        return None
    width = max(len(r.cells) for r in (header_rows + rows))
    if header_rows:
        header = _combined_header(header_rows)
        roles = [vocab.role_of(h) if h else "other" for h in header]
    else:
        from corpus.flattened import infer_roles

        header, roles = infer_roles([[c.text for c in r.cells] for r in rows if not r.group], width, lexicon)
    header += [""] * (width - len(header))
    roles += ["other"] * (width - len(roles))
    header_texts = [re.sub(r"\s+", "", h.split("·")[-1]) for h in header]
    out: list[TableRow] = []
    group: str | None = None
    owner: list[str] = []  # the printed cells of the row whose merged cells this row shares
    for row in rows:
        texts = [re.sub(r"\s+", "", c.text) for c in row.cells] + [""] * (width - len(row.cells))
        if texts[: len(header_texts)] == header_texts or (header_rows and texts == _combined_header(header_rows)):
            continue  # a header repeated after a page break
        distinct = {t for t in texts if t}
        if row.group or (len(distinct) == 1 and texts[0] and (len(row.cells) > 2 and all(texts)) ) or (
                texts[0] and not any(texts[1:]) and _GROUP_ROW.match(texts[0]) and width > 2):
            group = tidy(row.cells[0].text)
            owner = []
            continue
        own = [t for t, c in zip(texts, row.cells, strict=False) if t and not c.inherited]
        merged = {j for j, c in enumerate(row.cells) if c.inherited}
        owner = own if not merged or not owner else owner + own
        table_row = TableRow(cells=texts, line=row.location.order, group=group, merged=merged, printed=" ".join(owner))
        if out and (placed.table.placed and out[-1].group == group or placed.table.flattened):
            # placed text draws no merged cells: a blank unit, official or deadline cell is the one above;
            # a flattened table prints a cell merged down several rows (and sub-categories) once, at its top
            above = out[-1]
            for j, role in enumerate(roles):
                if role in _MERGED_DOWN and not texts[j] and j < len(above.cells):
                    value = above.cells[j] or above.inherited.get(j, "")
                    if value:
                        table_row.inherited[j] = value
        out.append(table_row)
    return RowTable(title=placed.title or placed.annex, annex=placed.annex, header=header, rows=out,
                    line=placed.location.order, roles=roles, structured=True, measure=placed.measure)


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


def _join_cells(cells: list[str]) -> str:
    out = ""
    for cell in cells:
        if out and out[-1] not in "。；;！？":
            out += "；"
        out += cell
    return out


def _column_targets(name: str, header: list[str], roles: list[str], values: dict[int, str],
                    measure: str | None) -> list[Target]:
    """A target per year or target column holding a figure ("安亭镇·2025年：720.86亩"), and the targets
    written inside the row's other cells. A header's own figures ("2025年约2200亩") are not the row's."""
    out: list[Target] = []
    for i, role in enumerate(roles):
        value = values.get(i, "")
        if not value:
            continue
        if role in ("year", "target", "other"):  # a figure in a column of figures ("扩招：30")
            m = _NUMBER.match(value) if role != "other" or re.fullmatch(r"[\d.]+\S{0,4}", value) else None
            if m:
                # a column of counts says so ("件数", "户数"): the table's measure (亩) is not its unit
                count = re.search(r"([件个项户人家所处])数$", re.sub(r"[（(].*", "", header[i].split("·")[-1]))
                unit = m.group(2) or (count.group(1) if count else measure) or ""
                label = header[i].split("·")[-1] if header[i] else ""
                text = f"{name}·{label}：{value}" + ("" if m.group(2) or not unit else unit)
                out.append(Target(text=text, value=m.group(1), unit=unit, qualifier=None, year=year_of(header[i])))
                continue
        if role in _TEXTUAL:
            out.extend(extract_targets(normalize(value)))
    return out


class TableItems:
    """Rows of RowTables into items and clauses."""

    def __init__(self, doc_id: str, rules: DocumentRules, seen: set[str], warnings: list[ParseWarning],
                 lexicon: UnitLexicon | None = None) -> None:
        self.doc_id = doc_id
        self.rules = rules
        self.seen = seen
        self.warnings = warnings
        self.lexicon = lexicon or default_lexicon()
        self.items: list[Item] = []
        self.clauses: list[Clause] = []

    def add(self, table: RowTable) -> None:
        roles = table.roles or [load_columns().role_of(h) for h in table.header]
        kind = _table_kind(table.title)
        has_unit_column = any(r in ("units", "lead_units", "cooperating", "guiding") for r in roles)
        for n, row in enumerate(table.rows, start=1):
            values = {i: (row.cells[i] if i < len(row.cells) else "") or row.inherited.get(i, "")
                      for i in range(len(roles))}
            by_role: dict[str, str] = {}
            texts: list[tuple[int, str]] = []
            for i, role in enumerate(roles):
                if role in _TEXTUAL:
                    if values[i]:
                        texts.append((i, values[i]))
                elif role != "no":
                    by_role.setdefault(role, values[i])
            no_cell = values[roles.index("no")] if "no" in roles else ""
            first = next((i for i, r in enumerate(roles) if r in _TEXTUAL), None)
            if TOTAL_ROW.match(no_cell.strip()) and first is not None and not values[first]:
                texts.insert(0, (first, no_cell.strip()))  # "总计" spans 序号 and the name: the row is the total
            name = texts[0][1] if texts else ""
            rest = texts[1:]
            if table.structured:
                parts = [f"{table.header[i].split('·')[-1]}：{v}" if roles[i] in _LABELLED and table.header[i]
                         else v for i, v in rest]
            else:
                parts = [v for _, v in rest]
            text = name + ("：" + _join_cells(parts) if parts else "")
            if by_role.get("progress"):
                label = next((re.sub(r"\s+", "", h) for h, r in zip(table.header, roles, strict=False)
                              if r == "progress"), "形象进度")
                text += f"。{label}：" + by_role["progress"]
            norm = normalize(text)
            section = tuple(s for s in (tidy(table.title), tidy(row.group) if row.group else None) if s)
            fields = tuple((h, values[i]) for i, h in enumerate(table.header) if h)
            units, leads, unit_roles = self._units(by_role, "lead_units" in roles)
            investment = None
            if "total" in by_role or "planned" in by_role:
                investment = Investment(
                    total=_number(by_role.get("total", "")),
                    planned=_number(by_role.get("planned", "")),
                    total_text=by_role.get("total", ""),
                    planned_text=by_role.get("planned", ""),
                )
            no_index = roles.index("no") if "no" in roles else None
            item_no = (row.cells[no_index] if no_index is not None and no_index < len(row.cells) else "") or (
                printed.group(1) if (printed := _NUMBERED_TASK.match(name)) else str(n))  # "（7）推进…": (7)
            item_no = item_no.replace("（", "(").replace("）", ")")
            if table.structured:
                targets = tuple(dict.fromkeys(_column_targets(name, table.header, roles, values, table.measure)))
            else:
                targets = extract_targets(norm)
            if has_unit_column and not units and table.structured:
                self.warnings.append(ParseWarning(row.line, f"{table.annex or table.title} row {item_no}: no responsible unit",
                                                  text[:60]))
            item = Item(
                item_id=item_id(self.doc_id, section, item_no, norm, self.seen),
                doc_id=self.doc_id,
                kind=kind,
                section=section,
                item_no=item_no,
                text=text,
                norm=norm,
                lead_officials=tuple(x for x in re.split(r"[、，,]", by_role.get("officials", "")) if x),
                units=units,
                lead_units=leads,
                deadline=re.sub(r"\s+", "", by_role["deadline"]) if by_role.get("deadline") else None,
                targets=targets,
                fields=fields,
                project_code=by_role.get("code") or None,
                build_type=by_role.get("build_type") or None,
                investment=investment,
                progress=by_role.get("progress") or None,
                line=row.line,
                printed=row.printed if row.printed and normalize(row.printed) != norm else "",
                unit_roles=unit_roles,
                annex=table.annex,
            )
            self.items.append(item)
            self.clauses.extend(split_clauses(item))

    def _units(self, by_role: dict[str, str], lead_column: bool) -> tuple[tuple[str, ...], tuple[str, ...],
                                                                         tuple[tuple[str, str], ...]]:
        roles: list[tuple[str, str]] = []
        for column, role in (("lead_units", "lead"), ("units", "responsible"), ("cooperating", "cooperating"),
                             ("guiding", "guiding")):
            raw = by_role.get(column, "")
            if raw:
                parsed = parse_units(raw, lexicon=self.lexicon)
                if parsed.lead_stated:
                    roles.extend((u, "lead") for u in parsed.lead_units)
                roles.extend((u, role) for u in parsed.units if u not in dict(roles))
        units = tuple(dict.fromkeys(u for u, _ in roles))
        if lead_column or any(r == "lead" for _, r in roles):
            leads = tuple(dict.fromkeys(u for u, r in roles if r == "lead"))
        elif units and self.rules.first_leads:
            leads = (units[0],)
        elif len(units) == 1:
            leads = units
        else:
            leads = ()
        return units, leads, tuple(dict.fromkeys(roles))
