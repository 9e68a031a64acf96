"""The service itself: its health, the API's own docs and the web page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from api.runtime import runtime
from api.schemas import ErrorResponse, HealthResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
DOCS_ASSETS = "/docs/assets"  # Swagger UI's script and style, from the fastapi-offline package

router = APIRouter()
pages = APIRouter()


@router.get("/health", response_model=HealthResponse, response_model_exclude_none=True,
            responses={503: {"model": ErrorResponse}})
async def health(request: Request) -> HealthResponse:  # no I/O: no trip through the thread pool
    rt = runtime(request)
    s = rt.ready_service()
    if not request.state.read_access:
        return HealthResponse(status="ok")  # a probe without the read key learns nothing more
    m = s.index.manifest
    pending = rt.writer.pending() if rt.writer is not None else 0
    return HealthResponse(status="ok", writes_enabled=bool(rt.config.api_key),
                          documents=m.counts["documents"], items=m.counts["items"],
                          clauses=m.counts["clauses"], model=m.model, pending_writes=pending)


@pages.get("/docs", include_in_schema=False)
def api_docs(request: Request):
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url=request.app.openapi_url, title="policyqa · API",
                               swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                               swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                               swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")


@pages.get("/", include_in_schema=False)
def page():
    index = STATIC / "index.html"
    if index.exists():
        return FileResponse(index)
    return JSONResponse({"service": "policyqa", "docs": "/docs"})
