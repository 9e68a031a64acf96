"""The parse-quality report of a document: what was found, and a plain warning when it looks wrong.

A user should know before asking that a document parsed badly: items without units, a table that
could not be attributed. The report travels with the document (index, API, CLI, web page).
"""

from __future__ import annotations

from dataclasses import dataclass

from corpus.model import Item, ParseWarning


@dataclass(frozen=True)
class ParseReport:
    items: int = 0
    with_units: int = 0
    with_lead_units: int = 0
    with_deadline: int = 0
    with_targets: int = 0
    table_rows: int = 0
    tables: int = 0
    source: str = ""  # text | markdown | html | docx | pdf
    warnings: int = 0
    warning_samples: tuple[str, ...] = ()  # the first warnings, "line 12: …"
    verdict: str | None = None  # a plain warning (Chinese) when the parse is probably wrong

    @property
    def share_with_units(self) -> float:
        return self.with_units / self.items if self.items else 0.0

    def lines(self) -> list[str]:
        """The report as a user reads it (CLI, logs)."""
        out = [f"条目 {self.items}（表格行 {self.table_rows}，表格 {self.tables}）；有责任单位 {self.with_units}，"
               f"有牵头单位 {self.with_lead_units}，有完成时限 {self.with_deadline}，有量化目标 {self.with_targets}；"
               f"警告 {self.warnings}"]
        if self.verdict:
            out.append(f"注意：{self.verdict}")
        return out


def parse_report(items: tuple[Item, ...], warnings: tuple[ParseWarning, ...], tables: int, source: str
                 ) -> ParseReport:
    n = len(items)
    with_units = sum(bool(i.units) for i in items)
    verdict = None
    if not n:
        verdict = "没有找到编号条目：这可能不是任务分解类文件，或者文件的结构没有被识别"
    elif n >= 3 and with_units / n < 0.5:
        verdict = (f"{n} 个条目中只有 {with_units} 个识别出责任单位，解析结果可能有误；"
                   "可用 policyqa parse 文件 --blocks 查看文件是怎样被读取的")
    return ParseReport(
        items=n,
        with_units=with_units,
        with_lead_units=sum(bool(i.lead_units) for i in items),
        with_deadline=sum(bool(i.deadline) for i in items),
        with_targets=sum(bool(i.targets) for i in items),
        table_rows=sum(bool(i.fields) for i in items),
        tables=tables,
        source=source,
        warnings=len(warnings),
        warning_samples=tuple(f"{w.where}: {w.message}" for w in warnings[:20]),
        verdict=verdict,
    )
