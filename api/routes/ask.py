"""Asking a question and searching by keyword."""

from __future__ import annotations

from dataclasses import asdict

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from api.runtime import read_access, service
from api.schemas import MAX_FILTER_CHARS, AskRequest, AskResponse, ErrorResponse, SearchResponse
from api.views import filters_of
from qa.followup import Turn
from qa.service import PolicyQA

router = APIRouter()


@router.post("/ask", response_model=AskResponse, dependencies=[Depends(read_access)],
             responses={503: {"model": ErrorResponse}})
def ask(req: AskRequest, svc: PolicyQA = Depends(service)) -> AskResponse:
    f = req.filters
    filters = filters_of(f.doc, f.unit, f.official, f.deadline, f.kind) if f else None
    history = tuple(Turn(t.role, t.content) for t in req.history or ())
    answer = svc.ask(req.question, req.top_k, filters, history)
    return AskResponse.model_validate(asdict(answer))


@router.get("/search", response_model=SearchResponse, dependencies=[Depends(read_access)],
            responses={503: {"model": ErrorResponse}})
def search(
    q: str = Query(..., min_length=1, max_length=200),
    unit: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    official: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    doc: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    deadline: str | None = Query(None, max_length=MAX_FILTER_CHARS),
    kind: str | None = Query(None, max_length=20),
    limit: int = Query(10, ge=1, le=100),
    svc: PolicyQA = Depends(service),
) -> Response:
    if not q.strip():
        raise HTTPException(422, "参数 q 不能只有空白")
    results = svc.search(q, filters_of(doc, unit, official, deadline, kind), limit)
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
