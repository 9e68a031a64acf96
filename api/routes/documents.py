"""Documents and their items: read them, upload (a job for the single writer), delete, follow a job."""

from __future__ import annotations

import asyncio
import json
import logging

import orjson
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as Path_
from fastapi.responses import FileResponse, JSONResponse, Response

from api.runtime import Runtime, read_access, runtime, service, write_access
from api.schemas import (
    DocumentDetailOut,
    DocumentOut,
    ErrorResponse,
    IngestResponse,
    ItemOut,
    JobOut,
    OfficialOut,
    UnitOut,
)
from api.views import attachment, job_out, report_out, size_words, task_json
from corpus import DocumentError
from qa.answer import cite
from qa.service import PolicyQA, validate_doc_id
from qa.tasks import TaskQuery, list_tasks
from qa.writes import JobStatus

log = logging.getLogger("policyqa.api")

router = APIRouter()


@router.get("/items/{item_id}", response_model=ItemOut, dependencies=[Depends(read_access)],
            responses={404: {"model": ErrorResponse}})
def get_item(item_id: str, svc: PolicyQA = Depends(service)) -> ItemOut:
    item = svc.index.items.get(item_id)
    if item is None:
        raise HTTPException(404, f"没有条目 {item_id!r}")
    d = item.to_dict()
    d["ref"] = cite(item, svc.documents().get(item.doc_id), 1.0).ref
    return ItemOut.model_validate(d)


@router.get("/documents", response_model=list[DocumentOut], dependencies=[Depends(read_access)])
def documents(svc: PolicyQA = Depends(service)) -> list[DocumentOut]:
    counts = svc.items_per_document()
    return [DocumentOut(doc_id=d.doc_id, title=d.title, number=d.number, issuer=d.issuer, date=d.date,
                        items=counts.get(d.doc_id, 0), report=report_out(d.report)) for d in svc.index.documents]


@router.get("/documents/{doc_id}", response_model=DocumentDetailOut, dependencies=[Depends(read_access)],
            responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
def document(doc_id: str = Path_(..., max_length=200), svc: PolicyQA = Depends(service)) -> Response:
    """A document with its items in the order printed, each with its fields and citation."""
    d = svc.documents().get(doc_id)
    if d is None:
        raise HTTPException(404, f"没有文档 {doc_id!r}")
    page = list_tasks(svc.index, TaskQuery(doc_id=doc_id, limit=None))
    original = svc.originals.get(d.checksum)
    body = {"doc_id": d.doc_id, "title": d.title, "number": d.number, "issuer": d.issuer, "date": d.date,
            "report": report_out(d.report).model_dump() if d.report else None,
            "has_file": original is not None, "file_name": original.name if original else None,
            "items": [task_json(t) for t in page.tasks]}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/documents/{doc_id}/file", dependencies=[Depends(read_access)],
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file as uploaded"},
                       404: {"model": ErrorResponse}})
def document_file(doc_id: str = Path_(..., max_length=200), svc: PolicyQA = Depends(service)) -> Response:
    """The original file the document was read from."""
    d = svc.documents().get(doc_id)
    if d is None:
        raise HTTPException(404, f"没有文档 {doc_id!r}")
    original = svc.originals.get(d.checksum)
    if original is None:
        raise HTTPException(404, f"文档 {doc_id!r} 没有保存原文件（收录于保存原文件之前）：请重新上传")
    return FileResponse(original.path, media_type=original.media_type,
                        headers={"Content-Disposition": attachment(original.name or doc_id)})


@router.get("/units", response_model=list[UnitOut], dependencies=[Depends(read_access)])
def units(svc: PolicyQA = Depends(service)) -> list[UnitOut]:
    return [UnitOut(**u) for u in svc.units()]


@router.get("/officials", response_model=list[OfficialOut], dependencies=[Depends(read_access)])
def officials(svc: PolicyQA = Depends(service)) -> list[OfficialOut]:
    return [OfficialOut(**o) for o in svc.officials()]


async def _finished(rt: Runtime, job: JobStatus) -> JobStatus:
    # awaited on the event loop: a waiting write holds no thread that reads need
    done = await asyncio.wrap_future(rt.writes().future(job.job_id))
    if done.state == "failed":
        if (done.status or 500) >= 500 and done.status not in (503, 507):
            # logged by the writer with its traceback; RequestLog answers 500 with the request id
            raise RuntimeError(f"{done.kind} failed: {done.doc_id}")
        log.warning(json.dumps({"event": "write_refused", "kind": done.kind, "doc_id": done.doc_id,
                                "status": done.status, "error": done.error}, ensure_ascii=False))
        raise HTTPException(done.status, done.error or "写入失败")
    return done


@router.post("/documents", response_model=IngestResponse, status_code=201, dependencies=[Depends(write_access)],
             responses={202: {"model": JobOut, "description": "accepted (wait=false): poll GET /jobs/{job_id}"},
                        401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                        413: {"model": ErrorResponse}, 415: {"model": ErrorResponse},
                        507: {"model": ErrorResponse, "description": "the disk is full"}})
async def upload(request: Request, file: UploadFile = File(...), doc_id: str | None = Form(None),
                 wait: bool = Query(True, description="false: answer 202 with a job at once")) -> Response:
    rt = runtime(request)
    rt.ready_service()
    form = await request.form()
    if len(form.getlist("file")) > 1:
        raise HTTPException(422, "file: 一次只能上传一个文件")
    limit = rt.config.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"文件大小超过上限 {size_words(limit)}")
    from corpus import doc_id_from_path

    chosen = doc_id or doc_id_from_path(file.filename or "upload")
    try:
        validate_doc_id(chosen)
    except DocumentError as exc:
        raise HTTPException(422, str(exc)) from exc
    job = rt.writes().submit_ingest(data, chosen, file.filename or "", getattr(request.state, "request_id", None))
    if not wait:
        return JSONResponse(job_out(job).model_dump(), status_code=202)
    done = await _finished(rt, job)
    body = IngestResponse(**{**done.result, "report": report_out(done.result["report"]), "job_id": done.job_id})
    return JSONResponse(body.model_dump(), status_code=201)


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(read_access)],
            responses={404: {"model": ErrorResponse}})
def get_job(request: Request, job_id: str = Path_(..., pattern=r"^[0-9a-f]{16}$")) -> JobOut:
    writer = runtime(request).writer
    job = writer.get(job_id) if writer is not None else None
    if job is None:
        raise HTTPException(404, f"没有任务 {job_id!r}")
    return job_out(job)


@router.delete("/documents/{doc_id}", dependencies=[Depends(write_access)],
               responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
                          507: {"model": ErrorResponse}})
async def delete(request: Request, doc_id: str) -> dict:
    rt = runtime(request)
    rt.ready_service()
    try:
        validate_doc_id(doc_id)
    except DocumentError as exc:
        raise HTTPException(422, str(exc)) from exc
    await _finished(rt, rt.writes().submit_delete(doc_id, getattr(request.state, "request_id", None)))
    return {"deleted": doc_id}
