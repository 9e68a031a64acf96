"""Typed, frozen records passed from the corpus stage to the index stage."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    """One quantitative target, e.g. 力争开行2200列以上 → value "2200", unit "列", qualifier "以上"."""

    text: str
    value: str
    unit: str
    qualifier: str | None = None
    year: str | None = None  # the year a table column states the target for ("2025年指标")


@dataclass(frozen=True, slots=True)
class Investment:
    """Project investment figures, in 亿元 as printed (None where the cell says 待核定 or is blank)."""

    total: float | None
    planned: float | None
    total_text: str = ""
    planned_text: str = ""


@dataclass(frozen=True)
class ParseReport:
    """What the parse of a document found (counts, warnings, a verdict); built by corpus.report."""

    items: int = 0
    with_units: int = 0
    with_lead_units: int = 0
    with_deadline: int = 0
    with_targets: int = 0
    table_rows: int = 0
    tables: int = 0
    source: str = ""  # the format read (corpus.blocks.SourceKind)
    warnings: int = 0
    warning_samples: tuple[str, ...] = ()  # the first warnings, "line 12: …"
    verdict: str | None = None  # a plain warning (Chinese) when the parse is probably wrong
    ocr_pages: int = 0  # pages whose text came from OCR
    ocr_confidence: float | None = None

    @property
    def share_with_units(self) -> float:
        return self.with_units / self.items if self.items else 0.0

    def lines(self) -> list[str]:
        """The report as a user reads it (CLI, logs)."""
        out = [f"条目 {self.items}（表格行 {self.table_rows}，表格 {self.tables}）；有责任单位 {self.with_units}，"
               f"有牵头单位 {self.with_lead_units}，有完成时限 {self.with_deadline}，有量化目标 {self.with_targets}；"
               f"警告 {self.warnings}"]
        if self.ocr_pages:
            sure = f"，平均置信度 {self.ocr_confidence:.2f}" if self.ocr_confidence is not None else ""
            out.append(f"文字由 OCR 识别（{self.ocr_pages} 页{sure}）：数字和单位名称请对照原件核实")
        if self.verdict:
            out.append(f"注意：{self.verdict}")
        return out


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    number: str | None = None  # 文号, e.g. 浙政办发〔2023〕6号
    issuer: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd where the day is known
    source: str = ""
    checksum: str = ""
    report: ParseReport | None = None  # what the parse found (corpus.report)


@dataclass(frozen=True, slots=True)  # slots: 100,000 items without a __dict__ each
class Item:
    """A numbered task or an annex table row, with the metadata a question can ask for."""

    item_id: str
    doc_id: str
    kind: str  # task | reform | policy | platform | project | row
    section: tuple[str, ...]
    item_no: str  # as printed, in ASCII ("3", "（一）" → "(一)")
    text: str  # display text, joined across line breaks
    norm: str  # normalised text for matching
    lead_officials: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    deadline: str | None = None
    targets: tuple[Target, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # table columns (header, cell) as printed
    project_code: str | None = None
    build_type: str | None = None  # 新建 / 续建
    investment: Investment | None = None
    progress: str | None = None  # 形象进度
    line: int = 0  # first source line (1-based), or element index for HTML and Word
    page: int | None = None  # PDF page
    printed: str = ""  # a table row as printed (its cells in order), when it differs from `text`
    annex: str = ""  # the annex the item is in, as labelled ("附件3", "附4", "附表"); "" in the main text
    unit_roles: tuple[tuple[str, str], ...] = ()  # (unit, lead | responsible | cooperating | guiding)

    @property
    def section_path(self) -> str:
        return " › ".join(self.section)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain values (what dataclasses.asdict gives, without its deep copy: an index
        of 100,000 items writes 300,000 of them)."""
        out = _shallow(self)
        out["targets"] = tuple(_shallow(t) for t in self.targets)
        if self.investment is not None:
            out["investment"] = _shallow(self.investment)
        return out


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause-level chunk: a sentence, or one task inside it, carrying its item's metadata.

    Where the document attaches metadata to the clause itself (十方面民生实事 clause groups),
    the clause carries that metadata instead of the item's.
    """

    clause_id: str
    item_id: str
    doc_id: str
    kind: str
    section: tuple[str, ...]
    item_no: str
    text: str
    norm: str
    lead_officials: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    deadline: str | None = None
    targets: tuple[Target, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The record as plain values (see Item.to_dict)."""
        out = _shallow(self)
        out["targets"] = tuple(_shallow(t) for t in self.targets)
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _shallow(record) -> dict[str, Any]:
    """A frozen record's fields, in order, by name; its values are immutable, so they need no copy."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(f.name for f in fields(record))
    return {name: getattr(record, name) for name in names}


@dataclass(frozen=True)
class ParseWarning:
    """Something the parser could not attribute; never silently dropped."""

    line: int
    message: str
    text: str = ""
    page: int | None = None

    @property
    def where(self) -> str:
        return f"page {self.page}, line {self.line}" if self.page else f"line {self.line}"


@dataclass(frozen=True)
class ParsedDocument:
    document: Document
    items: tuple[Item, ...]
    clauses: tuple[Clause, ...]
    warnings: tuple[ParseWarning, ...] = field(default=())
