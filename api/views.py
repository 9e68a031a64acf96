"""Request parameters into qa's types, and qa's records into response bodies."""

from __future__ import annotations

import re
from dataclasses import asdict
from urllib.parse import quote

from api.schemas import JobOut, ReportOut
from index.hybrid import Filters
from qa.tasks import Task
from qa.writes import JobStatus


def filters_of(doc=None, unit=None, official=None, deadline=None, kind=None) -> Filters | None:
    f = Filters(
        doc_ids=(doc,) if doc else (),
        units=(unit,) if unit else (),
        officials=(official,) if official else (),
        deadline=deadline or None,
        kinds=(kind,) if kind else (),
    )
    return f if f.active() else None


def size_words(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def report_out(report) -> ReportOut | None:
    return None if report is None else ReportOut(**{**asdict(report), "warning_samples": list(report.warning_samples)})


def task_json(t: Task) -> dict:
    """A task as /tasks and /documents/{id} give it (TaskOut's shape)."""
    item = t.item
    return {"item_id": item.item_id, "doc_id": item.doc_id,
            "document": (t.document.number or t.document.title) if t.document else item.doc_id,
            "kind": item.kind, "section": list(item.section), "item_no": item.item_no, "text": item.text,
            "lead_officials": list(item.lead_officials), "lead_units": list(item.lead_units),
            "units": list(item.units), "deadline": item.deadline,
            "due_start": t.due.start.isoformat() if t.due and t.due.start else None,
            "due_end": t.due.end.isoformat() if t.due and t.due.end else None,
            "open_ended": bool(t.due and t.due.open_ended), "targets": [x.text for x in item.targets],
            "page": item.page, "ref": t.ref}


def attachment(name: str) -> str:
    """A Content-Disposition for a file name in any script (RFC 6266: an ASCII fallback and filename*)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def job_out(job: JobStatus) -> JobOut:
    result = job.result
    if result and result.get("report") is not None and not isinstance(result["report"], dict):
        result = {**result, "report": report_out(result["report"]).model_dump()}
    return JobOut(job_id=job.job_id, kind=job.kind, doc_id=job.doc_id, state=job.state, created=job.created,
                  finished=job.finished, status=job.status, error=job.error, result=result)
