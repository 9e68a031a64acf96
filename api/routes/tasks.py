"""The 台账: tasks by unit, official, document and deadline, as JSON, CSV or Excel."""

from __future__ import annotations

from datetime import date
from typing import Literal

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.export import tasks_csv, tasks_xlsx
from api.runtime import read_access, service
from api.schemas import MAX_FILTER_CHARS, ErrorResponse, TasksResponse
from api.views import task_json
from qa.service import PolicyQA
from qa.tasks import TaskQuery, list_tasks

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter()


@router.get("/tasks", response_model=TasksResponse, dependencies=[Depends(read_access)],
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}, 503: {"model": ErrorResponse}})
def tasks(
    unit: str | None = Query(None, max_length=MAX_FILTER_CHARS, description="a unit, by any of its names"),
    official: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    doc: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    kind: str | None = Query(None, max_length=20),
    due_before: date | None = Query(None, description="deadline ends on or before (YYYY-MM-DD)"),
    due_after: date | None = Query(None, description="deadline ends on or after (YYYY-MM-DD)"),
    overdue_on: date | None = Query(None, description="past its deadline on this day"),
    q: str | None = Query(None, max_length=200, description="words the task must contain"),
    role: Literal["any", "lead"] = Query("any", description="lead: the tasks the unit leads"),
    sort: Literal["document", "due"] = Query("document"),
    offset: int = Query(0, ge=0, le=1_000_000_000),
    limit: int = Query(100, ge=1, le=1000),
    format: Literal["json", "csv", "xlsx"] = Query("json", description="csv and xlsx export every match"),
    svc: PolicyQA = Depends(service),
) -> Response:
    """The 台账: every task matching the filters, each with its fields, dates and citation."""
    query = TaskQuery(unit=unit or None, official=official or None, doc_id=doc or None, kind=kind or None,
                      due_before=due_before, due_after=due_after, overdue_on=overdue_on, q=q or None,
                      role=role, sort=sort, offset=0 if format != "json" else offset,
                      limit=None if format != "json" else limit)
    page = list_tasks(svc.index, query)
    if format != "json":
        data = tasks_csv(page.tasks) if format == "csv" else tasks_xlsx(page.tasks)
        media = "text/csv; charset=utf-8" if format == "csv" else XLSX
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f"attachment; filename=tasks.{format}"})
    body = {"total": page.total, "offset": offset, "limit": limit, "tasks": [task_json(t) for t in page.tasks]}
    return Response(orjson.dumps(body), media_type="application/json")
