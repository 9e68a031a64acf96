"""A task list as a file to send on: .xlsx (a row a task, frozen header, widths, wrapped text) and .csv
(UTF-8 with a BOM, so that Excel opens it as UTF-8)."""

from __future__ import annotations

import csv
import io

from qa.tasks import Task

COLUMNS = ("文件", "章节", "序号", "任务", "牵头领导", "牵头单位", "责任单位", "完成时限", "截止日期", "目标")
_WIDTHS = (28, 30, 6, 60, 12, 22, 36, 14, 12, 30)


def task_row(task: Task) -> list[str]:
    item, doc = task.item, task.document
    end = task.due.end.isoformat() if task.due and task.due.end and not task.due.open_ended else ""
    return [
        (doc.number or doc.title) if doc else item.doc_id,
        " › ".join(item.section),
        item.item_no,
        item.text,
        "、".join(item.lead_officials),
        "、".join(item.lead_units),
        "、".join(item.units),
        item.deadline or "",
        end,
        "；".join(t.text for t in item.targets),
    ]


def tasks_csv(tasks: tuple[Task, ...] | list[Task]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    writer.writerows(task_row(t) for t in tasks)
    return buf.getvalue().encode("utf-8-sig")


def tasks_xlsx(tasks: tuple[Task, ...] | list[Task], title: str = "台账") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(COLUMNS)
    for task in tasks:
        sheet.append(task_row(task))
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for k, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()
