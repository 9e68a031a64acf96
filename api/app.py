"""The HTTP service (FastAPI). OpenAPI docs at /docs."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import chinese_detail, error_body, validation_message
from api.guard import RequestGuard
from api.mcp_server import create_mcp
from api.openai_api import OpenAIError, create_openai_router, openai_error_body
from api.routes import ask as ask_routes
from api.routes import documents as documents_routes
from api.routes import service as service_routes
from api.routes import tasks as tasks_routes
from api.routes.service import DOCS_ASSETS, STATIC
from api.runtime import Runtime
from api.schemas import ErrorResponse
from corpus.config import Config
from index.errors import Unavailable
from qa.service import PolicyQA

log = logging.getLogger("policyqa.api")
__all__ = ["DOCS_ASSETS", "STATIC", "create_app"]


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


def _watch(service: PolicyQA, every: float, stop: threading.Event) -> None:
    """Switch to an index version another process made current (see PolicyQA.refresh)."""
    while not stop.wait(every):
        try:
            if service.refresh():
                log.info(json.dumps({"event": "index_reloaded", "folder": service.index.folder.name}))
        except Exception:  # a version being pruned as we look: look again next time
            log.exception("index refresh failed")


_RESPONSES = {
    401: {"model": ErrorResponse, "description": "missing or wrong X-API-Key"},
    403: {"model": ErrorResponse, "description": "writes disabled (no key configured)"},
    413: {"model": ErrorResponse, "description": "request body over its limit"},
    415: {"model": ErrorResponse, "description": "wrong content type"},
    422: {"model": ErrorResponse, "description": "bad input"},
    503: {"model": ErrorResponse, "description": "index not loaded yet"},
}


def create_app(config: Config, service: PolicyQA | None = None, load: bool = True,
               start_in_background: bool = False) -> FastAPI:
    """The app; `service` is loaded at startup unless one is passed in already loaded.

    `start_in_background`: the server listens at once while the model is loaded (built on first use)
    and the index loaded, or built from the bundled corpus in an empty home; until then every route
    answers 503 saying what is under way."""
    rt = Runtime(config, service)
    stop_watch = threading.Event()

    def watch(s: PolicyQA) -> None:
        threading.Thread(target=_watch, args=(s, config.watch_seconds, stop_watch), daemon=True,
                         name="policyqa-index-watch").start()

    mcp = create_mcp(rt.ready_service)

    @asynccontextmanager
    async def lifespan(app_: FastAPI):
        async with mcp.session_manager.run():  # the MCP endpoint's sessions live as long as the app
            async with serving(app_):
                yield

    @asynccontextmanager
    async def serving(_app: FastAPI):
        if start_in_background:
            threading.Thread(target=_start_in_background, args=(rt, config, watch), daemon=True,
                             name="policyqa-start").start()
        else:
            _start_now(rt, config, load, watch)
        yield
        stop_watch.set()
        if rt.writer is not None:
            await asyncio.to_thread(rt.writer.close)

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.service from the fastapi-offline package's assets: works offline
        redoc_url=None,
        title="policyqa",
        version="0.1.0",
        description="Cited answers over Chinese government policy documents (责任分解、工作要点).",
        responses=_RESPONSES,
    )
    app.state.runtime = rt
    app.add_middleware(RequestLog)

    app.add_middleware(RequestGuard, config=config, methods_of=functools.partial(_methods_of, app))
    _add_error_handlers(app)
    app.mount("/mcp", mcp.streamable_http_app())  # MCP over streamable HTTP, behind the same keys
    app.include_router(create_openai_router(
        ask=lambda question, history: rt.ready_service().ask(question, 5, None, history),
        count=lambda text: len(rt.ready_service().index.tokenizer(text))))
    for router in (service_routes.router, ask_routes.router, tasks_routes.router, documents_routes.router):
        app.include_router(router)

    _mount_docs(app)
    app.include_router(service_routes.pages)
    return app


def _methods_of(app: FastAPI, path: str) -> set[str]:
    """The methods the app's routes answer at `path` (for 405 and OPTIONS)."""
    from starlette.routing import Match

    scope = {"type": "http", "path": path, "method": "GET"}
    return {m for r in _leaf_routes(app.routes) if r.matches(scope)[0] != Match.NONE
            for m in (getattr(r, "methods", None) or ())}


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI 5 (it renders OpenAPI 3.1, which FastAPI writes), as the fastapi-offline wheel carries it."""
    import fastapi_offline
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")


def _start_now(rt: Runtime, config: Config, load: bool, watch) -> None:
    """Before the server listens: the service (made here unless one was passed in) loaded and warmed."""
    if rt.service is None:
        from qa.service import load_embedder

        rt.service = PolicyQA(config, load_embedder(config))
    s = rt.service
    if load and not s.ready:
        try:
            s.load()
        except Unavailable as exc:
            log.error("index not loaded: %s", exc)
    if s.ready:
        s.ask("预热")  # load the model and the tokenizer's dictionary now, not on the first question
    watch(s)


def _start_in_background(rt: Runtime, config: Config, watch) -> None:
    """While the server listens: the model loaded (built on first use), the index loaded or built from the
    bundled corpus in an empty home; `rt.starting` says which, for the 503s meanwhile."""
    try:
        rt.starting = "正在加载模型（首次启动时先生成模型，需要几分钟）"
        from qa.service import load_embedder

        s = rt.service or PolicyQA(config, load_embedder(config))
        rt.service = s
        if not s.ready:
            if s.has_index():
                rt.starting = "正在加载索引"
                s.load()
            else:
                rt.starting = "正在为内置文档建立索引（首次启动）"
                s.build(progress=False)
        s.ask("预热")
        rt.starting = None
        log.info(json.dumps({"event": "ready", "documents": s.index.manifest.counts["documents"]}))
        watch(s)
    except Exception as exc:  # the server stays up and says why it cannot answer
        log.exception("start failed")
        rt.starting = f"启动失败：{exc}"


def _leaf_routes(routes):
    """The routes themselves, inside the routers included (FastAPI keeps an included router whole)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as {detail (Chinese), code}; under /v1/ in OpenAI's shape."""

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
