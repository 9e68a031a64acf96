"""The parse-quality report of a document: what was found, and a plain warning when it looks wrong.

A user should know before asking that a document parsed badly: items without units, a table that
could not be attributed. The report travels with the document (index, API, CLI, web page).
"""

from __future__ import annotations

from corpus.model import Item, ParseReport, ParseWarning


def parse_report(items: tuple[Item, ...], warnings: tuple[ParseWarning, ...], tables: int, source: str,
                 ocr_pages: int = 0, ocr_confidence: float | None = None) -> ParseReport:
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
        ocr_pages=ocr_pages,
        ocr_confidence=ocr_confidence,
    )
