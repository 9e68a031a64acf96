"""The HTTP service (FastAPI). OpenAPI docs at /docs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import orjson
from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi import Path as Path_
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import chinese_detail, error_body, validation_message
from api.export import tasks_csv, tasks_xlsx
from api.guard import RequestGuard
from api.mcp_server import create_mcp
from api.openai_api import OpenAIError, create_openai_router, openai_error_body
from api.schemas import (
    MAX_FILTER_CHARS,
    AskRequest,
    AskResponse,
    DocumentDetailOut,
    DocumentOut,
    ErrorResponse,
    HealthResponse,
    IngestResponse,
    ItemOut,
    JobOut,
    OfficialOut,
    ReportOut,
    SearchResponse,
    TasksResponse,
    UnitOut,
)
from corpus import DocumentError
from corpus.config import Config
from corpus.isolated import ParseLimits
from index.hybrid import Filters
from index.store import IndexError_
from qa.answer import cite
from qa.followup import Turn
from qa.service import PolicyQA, validate_doc_id
from qa.tasks import Task, TaskQuery, list_tasks
from qa.writes import JobStatus, WriteQueue

log = logging.getLogger("policyqa.api")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATIC = Path(__file__).parent / "static"
DOCS_ASSETS = "/docs/assets"  # Swagger UI's script and style, from the fastapi-offline package


class RequestLog:
    """One JSON log line per request (request id, method, path, status, ms) and the X-Request-Id
    header; an unhandled error becomes a 500 naming the request id. A plain ASGI middleware: no
    extra task, stream or copy per request, which Starlette's BaseHTTPMiddleware costs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = os.urandom(6).hex()  # 12 hex digits, as uuid4().hex[:12] gave, without the UUID object
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(json.dumps({"request_id": request_id, "path": scope["path"]}))
            if response_started:
                raise
            status = 500
            await JSONResponse(error_body(500, f"服务器内部错误（请求编号 {request_id}）", request_id=request_id), status_code=500,
                               headers={"X-Request-Id": request_id})(scope, receive, send)
        if log.isEnabledFor(logging.INFO):
            log.info(orjson.dumps({"request_id": request_id, "method": scope["method"], "path": scope["path"],
                                   "status": status, "ms": round((time.perf_counter() - started) * 1000, 2)}
                                  ).decode())


def _filters(doc=None, unit=None, official=None, deadline=None, kind=None) -> Filters | None:
    f = Filters(
        doc_ids=(doc,) if doc else (),
        units=(unit,) if unit else (),
        officials=(official,) if official else (),
        deadline=deadline or None,
        kinds=(kind,) if kind else (),
    )
    return f if f.active() else None


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def _report(report) -> ReportOut | None:
    from dataclasses import asdict

    return None if report is None else ReportOut(**{**asdict(report), "warning_samples": list(report.warning_samples)})


def _task_json(t: Task) -> dict:
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


def _attachment(name: str) -> str:
    """A Content-Disposition for a file name in any script (RFC 6266: an ASCII fallback and filename*)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _watch(service: PolicyQA, every: float, stop: threading.Event) -> None:
    """Switch to an index version another process made current (see PolicyQA.refresh)."""
    while not stop.wait(every):
        try:
            if service.refresh():
                log.info(json.dumps({"event": "index_reloaded", "folder": service.index.folder.name}))
        except Exception:  # a version being pruned as we look: look again next time
            log.exception("index refresh failed")


def create_app(config: Config, service: PolicyQA | None = None, load: bool = True,
               start_in_background: bool = False) -> FastAPI:
    """The app; `service` is loaded at startup unless one is passed in already loaded.

    `start_in_background`: the server listens at once while the model is loaded (built on first use)
    and the index loaded, or built from the bundled corpus in an empty home; until then every route
    answers 503 saying what is under way."""
    state: dict = {"service": service, "writes": None, "starting": None}
    writes_lock = threading.Lock()
    stop_watch = threading.Event()

    def watch(s: PolicyQA) -> None:
        threading.Thread(target=_watch, args=(s, config.watch_seconds, stop_watch), daemon=True,
                         name="policyqa-index-watch").start()

    def start() -> None:
        try:
            state["starting"] = "正在加载模型（首次启动时先生成模型，需要几分钟）"
            from qa.service import load_embedder

            s = state["service"] or PolicyQA(config, load_embedder(config))
            state["service"] = s
            if not s.ready:
                if s.has_index():
                    state["starting"] = "正在加载索引"
                    s.load()
                else:
                    state["starting"] = "正在为内置文档建立索引（首次启动）"
                    s.build(progress=False)
            s.ask("预热")
            state["starting"] = None
            log.info(json.dumps({"event": "ready", "documents": s.index.manifest["counts"]["documents"]}))
            watch(s)
        except Exception as exc:  # the server stays up and says why it cannot answer
            log.exception("start failed")
            state["starting"] = f"启动失败：{exc}"

    mcp = create_mcp(lambda: svc())

    @asynccontextmanager
    async def lifespan(app_: FastAPI):
        async with mcp.session_manager.run():  # the MCP endpoint's sessions live as long as the app
            async with serving(app_):
                yield

    @asynccontextmanager
    async def serving(_app: FastAPI):
        if start_in_background:
            threading.Thread(target=start, daemon=True, name="policyqa-start").start()
            yield
            stop_watch.set()
            if state["writes"] is not None:
                await asyncio.to_thread(state["writes"].close)
            return
        if state["service"] is None:
            from qa.service import load_embedder

            state["service"] = PolicyQA(config, load_embedder(config))
        s = state["service"]
        if load and not s.ready:
            try:
                s.load()
            except IndexError_ as exc:
                log.error("index not loaded: %s", exc)
        if s.ready:
            s.ask("预热")  # load the model and the tokenizer's dictionary now, not on the first question
        watch(s)
        yield
        stop_watch.set()
        if state["writes"] is not None:
            await asyncio.to_thread(state["writes"].close)

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served below from the fastapi-offline package's assets: /docs works offline
        redoc_url=None,
        title="policyqa",
        version="0.1.0",
        description="Cited answers over Chinese government policy documents (责任分解、工作要点).",
        responses={
            401: {"model": ErrorResponse, "description": "missing or wrong X-API-Key"},
            403: {"model": ErrorResponse, "description": "writes disabled (no key configured)"},
            413: {"model": ErrorResponse, "description": "request body over its limit"},
            415: {"model": ErrorResponse, "description": "wrong content type"},
            422: {"model": ErrorResponse, "description": "bad input"},
            503: {"model": ErrorResponse, "description": "index not loaded yet"},
        },
    )

    def svc() -> PolicyQA:
        s = state["service"]
        if s is None or not s.ready or state["starting"]:
            raise HTTPException(503, state["starting"] or "索引尚未加载：请先运行 `policyqa build`")
        return s

    def writes() -> WriteQueue:
        with writes_lock:  # created on first use: a TestClient without its lifespan writes too
            if state["writes"] is None:
                state["writes"] = WriteQueue(svc(), ParseLimits.from_config(config))
            return state["writes"]

    # RequestGuard checks the keys before any body is read; these declare the header in the schema
    async def read_access(x_api_key: str | None = Header(None)) -> None:
        return None

    async def write_access(x_api_key: str | None = Header(None)) -> None:
        return None

    app.add_middleware(RequestLog)

    def methods_of(path: str) -> set[str]:
        from starlette.routing import Match

        scope = {"type": "http", "path": path, "method": "GET"}
        return {m for r in app.routes if r.matches(scope)[0] != Match.NONE for m in (getattr(r, "methods", None) or ())}

    app.add_middleware(RequestGuard, config=config, methods_of=methods_of)

    def openai_path(request: Request) -> bool:
        return request.url.path.startswith("/v1/")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        if openai_path(request):  # OpenAI answers a malformed request with 400 and its own error shape
            return JSONResponse(openai_error_body(400, validation_message(exc.errors())), status_code=400)
        return JSONResponse(error_body(422, validation_message(exc.errors())), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_errors(request: Request, exc: StarletteHTTPException):
        status = 422 if exc.status_code == 400 else exc.status_code  # undecodable bodies are bad input
        detail = chinese_detail(exc.status_code, str(exc.detail))
        if openai_path(request):
            return JSONResponse(openai_error_body(exc.status_code, detail), status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return JSONResponse(error_body(status, detail), status_code=status, headers=getattr(exc, "headers", None))

    @app.exception_handler(OpenAIError)
    async def _openai_errors(request: Request, exc: OpenAIError):
        return JSONResponse(openai_error_body(exc.status, exc.message, exc.param, exc.code), status_code=exc.status)

    app.mount("/mcp", mcp.streamable_http_app())  # MCP over streamable HTTP, behind the same keys
    app.include_router(create_openai_router(
        ask=lambda question, history: svc().ask(question, 5, None, history),
        count=lambda text: len(svc().index.tokenizer(text))))

    @app.get("/health", response_model=HealthResponse, response_model_exclude_none=True,
             responses={503: {"model": ErrorResponse}})
    async def health(request: Request) -> HealthResponse:  # no I/O: no trip through the thread pool
        s = svc()
        if not request.state.read_access:
            return HealthResponse(status="ok")  # a probe without the read key learns nothing more
        m = s.index.manifest
        pending = state["writes"].pending() if state["writes"] is not None else 0
        return HealthResponse(status="ok", writes_enabled=bool(config.api_key),
                              documents=m["counts"]["documents"], items=m["counts"]["items"],
                              clauses=m["counts"]["clauses"], model=m.get("model", ""), pending_writes=pending)

    @app.post("/ask", response_model=AskResponse, dependencies=[Depends(read_access)],
              responses={503: {"model": ErrorResponse}})
    def ask(req: AskRequest) -> AskResponse:
        f = req.filters
        filters = _filters(f.doc, f.unit, f.official, f.deadline, f.kind) if f else None
        history = tuple(Turn(t.role, t.content) for t in req.history or ())
        answer = svc().ask(req.question, req.top_k, filters, history)
        return AskResponse.model_validate(asdict(answer))

    @app.get("/search", response_model=SearchResponse, dependencies=[Depends(read_access)],
             responses={503: {"model": ErrorResponse}})
    def search(
        q: str = Query(..., min_length=1, max_length=200),
        unit: str | None = Query(None, max_length=MAX_FILTER_CHARS),
        official: str | None = Query(None, max_length=MAX_FILTER_CHARS),
        doc: str | None = Query(None, max_length=MAX_FILTER_CHARS),
        deadline: str | None = Query(None, max_length=MAX_FILTER_CHARS),
        kind: str | None = Query(None, max_length=20),
        limit: int = Query(10, ge=1, le=100),
    ) -> Response:
        if not q.strip():
            raise HTTPException(422, "参数 q 不能只有空白")
        results = svc().search(q, _filters(doc, unit, official, deadline, kind), limit)
        # SearchResponse's shape, serialised once by orjson: returning a Response skips FastAPI's
        # second validation pass and jsonable_encoder (the schema stays declared for /docs)
        body = {
            "query": q,
            "total": len(results),
            "results": [
                {
                    "item_id": r.item.item_id, "doc_id": r.item.doc_id, "kind": r.item.kind,
                    "section": r.item.section_path, "item_no": r.item.item_no, "ref": r.ref,
                    "text": r.item.text, "highlights": list(r.highlights),
                    "targets": [{"text": t.text, "value": t.value, "unit": t.unit, "qualifier": t.qualifier}
                                for t in r.targets],
                    "units": list(r.item.units), "lead_officials": list(r.item.lead_officials),
                    "deadline": r.item.deadline, "score": round(float(r.score), 5),
                }
                for r in results
            ],
        }
        return Response(orjson.dumps(body), media_type="application/json")

    @app.get("/tasks", response_model=TasksResponse, dependencies=[Depends(read_access)],
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
    ) -> Response:
        """The 台账: every task matching the filters, each with its fields, dates and citation."""
        query = TaskQuery(unit=unit or None, official=official or None, doc_id=doc or None, kind=kind or None,
                          due_before=due_before, due_after=due_after, overdue_on=overdue_on, q=q or None,
                          role=role, sort=sort, offset=0 if format != "json" else offset,
                          limit=None if format != "json" else limit)
        page = list_tasks(svc().index, query)
        if format != "json":
            data = tasks_csv(page.tasks) if format == "csv" else tasks_xlsx(page.tasks)
            media = "text/csv; charset=utf-8" if format == "csv" else XLSX
            return Response(data, media_type=media,
                            headers={"Content-Disposition": f"attachment; filename=tasks.{format}"})
        body = {"total": page.total, "offset": offset, "limit": limit, "tasks": [_task_json(t) for t in page.tasks]}
        return Response(orjson.dumps(body), media_type="application/json")

    @app.get("/items/{item_id}", response_model=ItemOut, dependencies=[Depends(read_access)],
             responses={404: {"model": ErrorResponse}})
    def get_item(item_id: str) -> ItemOut:
        s = svc()
        item = s.index.items.get(item_id)
        if item is None:
            raise HTTPException(404, f"没有条目 {item_id!r}")
        d = item.to_dict()
        d["ref"] = cite(item, s.documents().get(item.doc_id), 1.0).ref
        return ItemOut.model_validate(d)

    @app.get("/documents", response_model=list[DocumentOut], dependencies=[Depends(read_access)])
    def documents() -> list[DocumentOut]:
        s = svc()
        counts = s.items_per_document()
        return [DocumentOut(doc_id=d.doc_id, title=d.title, number=d.number, issuer=d.issuer, date=d.date,
                            items=counts.get(d.doc_id, 0), report=_report(d.report)) for d in s.index.documents]

    @app.get("/documents/{doc_id}", response_model=DocumentDetailOut, dependencies=[Depends(read_access)],
             responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def document(doc_id: str = Path_(..., max_length=200)) -> Response:
        """A document with its items in the order printed, each with its fields and citation."""
        s = svc()
        d = s.documents().get(doc_id)
        if d is None:
            raise HTTPException(404, f"没有文档 {doc_id!r}")
        page = list_tasks(s.index, TaskQuery(doc_id=doc_id, limit=None))
        original = s.originals.get(d.checksum)
        body = {"doc_id": d.doc_id, "title": d.title, "number": d.number, "issuer": d.issuer, "date": d.date,
                "report": _report(d.report).model_dump() if d.report else None,
                "has_file": original is not None, "file_name": original.name if original else None,
                "items": [_task_json(t) for t in page.tasks]}
        return Response(orjson.dumps(body), media_type="application/json")

    @app.get("/documents/{doc_id}/file", dependencies=[Depends(read_access)],
             responses={200: {"content": {"application/octet-stream": {}}, "description": "the file as uploaded"},
                        404: {"model": ErrorResponse}})
    def document_file(doc_id: str = Path_(..., max_length=200)) -> Response:
        """The original file the document was read from."""
        s = svc()
        d = s.documents().get(doc_id)
        if d is None:
            raise HTTPException(404, f"没有文档 {doc_id!r}")
        original = s.originals.get(d.checksum)
        if original is None:
            raise HTTPException(404, f"文档 {doc_id!r} 没有保存原文件（收录于保存原文件之前）：请重新上传")
        return FileResponse(original.path, media_type=original.media_type,
                            headers={"Content-Disposition": _attachment(original.name or doc_id)})

    @app.get("/units", response_model=list[UnitOut], dependencies=[Depends(read_access)])
    def units() -> list[UnitOut]:
        return [UnitOut(**u) for u in svc().units()]

    @app.get("/officials", response_model=list[OfficialOut], dependencies=[Depends(read_access)])
    def officials() -> list[OfficialOut]:
        return [OfficialOut(**o) for o in svc().officials()]

    def job_out(job: JobStatus) -> JobOut:
        result = job.result
        if result and result.get("report") is not None and not isinstance(result["report"], dict):
            result = {**result, "report": _report(result["report"]).model_dump()}
        return JobOut(job_id=job.job_id, kind=job.kind, doc_id=job.doc_id, state=job.state, created=job.created,
                      finished=job.finished, status=job.status, error=job.error, result=result)

    async def finished(job: JobStatus) -> JobStatus:
        # awaited on the event loop: a waiting write holds no thread that reads need
        done = await asyncio.wrap_future(writes().future(job.job_id))
        if done.state == "failed":
            if (done.status or 500) >= 500 and done.status not in (503, 507):
                # logged by the writer with its traceback; RequestLog answers 500 with the request id
                raise RuntimeError(f"{done.kind} failed: {done.doc_id}")
            log.warning(json.dumps({"event": "write_refused", "kind": done.kind, "doc_id": done.doc_id,
                                    "status": done.status, "error": done.error}, ensure_ascii=False))
            raise HTTPException(done.status, done.error or "写入失败")
        return done

    @app.post("/documents", response_model=IngestResponse, status_code=201, dependencies=[Depends(write_access)],
              responses={202: {"model": JobOut, "description": "accepted (wait=false): poll GET /jobs/{job_id}"},
                         401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                         413: {"model": ErrorResponse}, 415: {"model": ErrorResponse},
                         507: {"model": ErrorResponse, "description": "the disk is full"}})
    async def upload(request: Request, file: UploadFile = File(...), doc_id: str | None = Form(None),
                     wait: bool = Query(True, description="false: answer 202 with a job at once")) -> Response:
        svc()
        form = await request.form()
        if len(form.getlist("file")) > 1:
            raise HTTPException(422, "file: 一次只能上传一个文件")
        data = await file.read(config.max_upload_bytes + 1)
        if len(data) > config.max_upload_bytes:
            raise HTTPException(413, f"文件大小超过上限 {_size(config.max_upload_bytes)}")
        from corpus import doc_id_from_path

        chosen = doc_id or doc_id_from_path(file.filename or "upload")
        try:
            validate_doc_id(chosen)
        except DocumentError as exc:
            raise HTTPException(422, str(exc)) from exc
        job = writes().submit_ingest(data, chosen, file.filename or "", getattr(request.state, "request_id", None))
        if not wait:
            return JSONResponse(job_out(job).model_dump(), status_code=202)
        done = await finished(job)
        body = IngestResponse(**{**done.result, "report": _report(done.result["report"]), "job_id": done.job_id})
        return JSONResponse(body.model_dump(), status_code=201)

    @app.get("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(read_access)],
             responses={404: {"model": ErrorResponse}})
    def get_job(job_id: str = Path_(..., pattern=r"^[0-9a-f]{16}$")) -> JobOut:
        job = state["writes"].get(job_id) if state["writes"] is not None else None
        if job is None:
            raise HTTPException(404, f"没有任务 {job_id!r}")
        return job_out(job)

    @app.delete("/documents/{doc_id}", dependencies=[Depends(write_access)],
                responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
                           507: {"model": ErrorResponse}})
    async def delete(request: Request, doc_id: str) -> dict:
        svc()
        try:
            validate_doc_id(doc_id)
        except DocumentError as exc:
            raise HTTPException(422, str(exc)) from exc
        await finished(writes().submit_delete(doc_id, getattr(request.state, "request_id", None)))
        return {"deleted": doc_id}

    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    # Swagger UI 5 (it renders OpenAPI 3.1, which FastAPI writes), as the fastapi-offline wheel carries it
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def api_docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="policyqa · API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    @app.get("/", include_in_schema=False)
    def page():
        index = STATIC / "index.html"
        if index.exists():
            return FileResponse(index)
        return JSONResponse({"service": "policyqa", "docs": "/docs"})

    return app
