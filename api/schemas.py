"""Pydantic models: the API edge only. Inside, the stages pass frozen dataclasses."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 500
MAX_FILTER_CHARS = 100


class AskFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="document id")
    unit: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="responsible unit (aliases accepted)")
    official: str | None = Field(None, max_length=MAX_FILTER_CHARS, description="lead official")
    deadline: str | None = Field(None, max_length=MAX_FILTER_CHARS)
    kind: str | None = Field(None, max_length=20, description="task, reform, policy, platform, project")


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the schema states what validation enforces: a question with at least one visible character, a
    # whole number (not true, not "5")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S",
                          examples=["农村公路新改建由谁牵头？"])
    top_k: int = Field(5, ge=1, le=50, strict=True)
    filters: AskFilters | None = None
    history: list[HistoryTurn] | None = Field(
        None, max_length=50, description="the turns before (oldest first): a follow-up such as "
        "“那它的完成时限呢？” or “第二项由谁牵头？” leans on the previous question")

    @field_validator("question")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class TargetOut(BaseModel):
    text: str
    value: str
    unit: str
    qualifier: str | None


class FieldsOut(BaseModel):
    lead_officials: list[str] = []
    lead_units: list[str] = []
    units: list[str] = []
    deadline: str | None = None
    targets: list[TargetOut] = []
    investment: dict | None = None


class CitationOut(BaseModel):
    doc_id: str
    doc_title: str
    doc_number: str | None
    section: str
    item_no: str
    ref: str
    text: str
    item_id: str
    score: float
    printed: str = ""  # a table row's cells as printed, when they differ from text


class AskResponse(BaseModel):
    question: str
    intent: str
    found: bool
    answer: str
    reason: str | None = None
    terms: list[str] = []
    fields: FieldsOut
    citations: list[CitationOut]


class SearchHitOut(BaseModel):
    item_id: str
    doc_id: str
    kind: str
    section: str
    item_no: str
    ref: str
    text: str
    highlights: list[str]
    targets: list[TargetOut]
    units: list[str]
    lead_officials: list[str]
    deadline: str | None
    score: float


class SearchResponse(BaseModel):
    query: str
    total: int
    results: list[SearchHitOut]


class TaskOut(BaseModel):
    item_id: str
    doc_id: str
    document: str = Field(description="the document's 文号, else its title")
    kind: str
    section: list[str]
    item_no: str
    text: str
    lead_officials: list[str]
    lead_units: list[str]
    units: list[str]
    deadline: str | None = Field(None, description="the 完成时限 as written")
    due_start: str | None = Field(None, description="ISO date: the first day of the deadline's period")
    due_end: str | None = Field(None, description="ISO date: the last day the deadline allows")
    open_ended: bool = Field(False, description="长期坚持, 持续推进: no date to miss")
    targets: list[str]
    page: int | None = Field(None, description="the PDF page the item is on")
    ref: str = Field(description="the citation: 〔文号 section › 第N项〕")


class TasksResponse(BaseModel):
    total: int = Field(description="all matching tasks; `tasks` is one page of them")
    offset: int
    limit: int
    tasks: list[TaskOut]


class ItemOut(BaseModel):
    item_id: str
    doc_id: str
    kind: str
    section: list[str]
    item_no: str
    text: str
    lead_officials: list[str]
    units: list[str]
    lead_units: list[str]
    deadline: str | None
    targets: list[TargetOut]
    fields: list[list[str]]
    project_code: str | None
    build_type: str | None
    investment: dict | None
    progress: str | None
    page: int | None = Field(None, description="the PDF page the item is on")
    ref: str


class ReportOut(BaseModel):
    """What the parse found in a document (corpus.report.ParseReport)."""

    items: int
    with_units: int
    with_lead_units: int
    with_deadline: int
    with_targets: int
    table_rows: int
    tables: int
    source: str
    warnings: int
    warning_samples: list[str]
    verdict: str | None



class DocumentDetailOut(BaseModel):
    doc_id: str
    title: str
    number: str | None = None
    issuer: str | None = None
    date: str | None = None
    report: ReportOut | None = None
    has_file: bool = Field(description="the original file can be had from /documents/{doc_id}/file")
    file_name: str | None = None
    items: list[TaskOut] = Field(description="every item in the order printed")

class DocumentOut(BaseModel):
    doc_id: str
    title: str
    number: str | None
    issuer: str | None
    date: str | None
    items: int
    report: ReportOut | None = None


class UnitOut(BaseModel):
    unit: str
    aliases: list[str]
    items: int


class PreviousVersion(BaseModel):
    """The document an upload replaced (same doc_id)."""

    title: str
    items: int
    checksum: str


class IngestResponse(BaseModel):
    doc_id: str
    title: str
    items: int
    clauses: int
    warnings: list[str]
    report: ReportOut | None = None
    replaced: bool = False
    previous: PreviousVersion | None = None
    job_id: str | None = None


class JobOut(BaseModel):
    """A write handed to the writer: poll GET /jobs/{job_id} until state is done or failed."""

    job_id: str
    kind: Literal["ingest", "delete"]
    doc_id: str
    state: Literal["queued", "parsing", "indexing", "done", "failed"]
    created: float
    finished: float | None = None
    status: int | None = Field(None, description="201/200 when done; 404, 413, 415, 422, 507 when failed")
    error: str | None = None
    result: dict | None = None


class OfficialOut(BaseModel):
    official: str
    items: int


class HealthResponse(BaseModel):
    """With a read key configured and not sent, only `status`."""

    status: str
    writes_enabled: bool | None = None
    documents: int | None = None
    items: int | None = None
    clauses: int | None = None
    model: str | None = None
    pending_writes: int | None = None


class ErrorResponse(BaseModel):
    detail: str = Field(description="what went wrong, in Chinese")
    code: str = Field(description="stable and machine-readable: not_found, invalid_request, unauthorized, …")
