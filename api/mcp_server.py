"""policyqa as an MCP server (the official `mcp` SDK's FastMCP): tools `ask`, `search`, `tasks`,
`get_item` and `list_documents` with typed inputs and outputs and Chinese descriptions, over stdio
(`policyqa mcp`) or streamable HTTP (mounted on the service at /mcp, behind its keys)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, Field

from qa.answer import cite
from qa.followup import Turn
from qa.service import PolicyQA
from qa.tasks import TaskQuery, list_tasks


class CitationOut(BaseModel):
    ref: str = Field(description="出处：〔文号 章节 › 第N项〕")
    doc_id: str
    item_id: str
    text: str


class AskOut(BaseModel):
    question: str = Field(description="问题（追问时为补全后的问题）")
    found: bool = Field(description="文件中是否有依据；没有时 answer 为“未找到”")
    answer: str
    intent: str
    lead_officials: list[str]
    lead_units: list[str]
    units: list[str]
    deadline: str | None
    targets: list[str]
    citations: list[CitationOut]
    reason: str | None = None


class SearchHitOut(BaseModel):
    item_id: str
    ref: str
    text: str
    units: list[str]
    deadline: str | None
    targets: list[str]


class SearchOut(BaseModel):
    query: str
    results: list[SearchHitOut]


class TaskOut(BaseModel):
    item_id: str
    ref: str
    text: str
    lead_officials: list[str]
    lead_units: list[str]
    units: list[str]
    deadline: str | None
    due_end: str | None = Field(description="完成时限的最后一天（YYYY-MM-DD），无法换算时为空")


class TasksOut(BaseModel):
    total: int = Field(description="符合条件的任务总数；tasks 最多列出 limit 项")
    tasks: list[TaskOut]


class ItemOut(BaseModel):
    item_id: str
    doc_id: str
    ref: str
    kind: str
    section: list[str]
    item_no: str
    text: str
    lead_officials: list[str]
    lead_units: list[str]
    units: list[str]
    deadline: str | None
    targets: list[str]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    number: str | None
    issuer: str | None
    date: str | None
    items: int


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


def _ask_out(a) -> AskOut:
    return AskOut(question=a.question, found=a.found, answer=a.answer, intent=a.intent,
                  lead_officials=list(a.fields.lead_officials), lead_units=list(a.fields.lead_units),
                  units=list(a.fields.units), deadline=a.fields.deadline, targets=[t.text for t in a.fields.targets],
                  citations=[CitationOut(ref=c.ref, doc_id=c.doc_id, item_id=c.item_id, text=c.text)
                             for c in a.citations], reason=a.reason)


def _task_out(t) -> TaskOut:
    return TaskOut(item_id=t.item.item_id, ref=t.ref, text=t.item.text, lead_officials=list(t.item.lead_officials),
                   lead_units=list(t.item.lead_units), units=list(t.item.units), deadline=t.item.deadline,
                   due_end=t.due.end.isoformat() if t.due and t.due.end else None)


def create_mcp(service: Callable[[], PolicyQA]) -> FastMCP:
    """The MCP server; `service()` gives the loaded service (it raises while there is none)."""
    mcp = FastMCP(
        "policyqa",
        instructions="政策文件问答：回答重点工作由谁牵头、谁负责、何时完成、目标多少，列出单位或领导的全部任务；"
                     "每个回答都注明文件、章节和条目编号，文件中没有依据时回答“未找到”。",
        stateless_http=True,
        json_response=True,
        streamable_http_path="/",
        # mounted behind the service's own key check, and served under whatever host name it has
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @mcp.tool(description="就政策文件提问（谁牵头、谁负责、完成时限、目标、投资、某单位或领导的全部任务），"
                          "返回由条目字段组成的回答和出处；可带上之前的对话 history 以便追问（如“那它的完成时限呢？”）。")
    def ask(question: str, history: list[HistoryTurn] | None = None) -> AskOut:
        turns = tuple(Turn(t.role, t.content) for t in history or ())
        return _ask_out(service().ask(question, 5, None, turns))

    @mcp.tool(description="按关键词检索条目（如“5G基站”“充电桩”），返回匹配的条目、责任单位和量化目标。")
    def search(query: str, unit: str | None = None, limit: int = Field(10, ge=1, le=100)) -> SearchOut:
        from index.hybrid import Filters

        filters = Filters(units=(unit,)) if unit else None
        hits = service().search(query, filters, limit)
        return SearchOut(query=query, results=[
            SearchHitOut(item_id=r.item.item_id, ref=r.ref, text=r.item.text, units=list(r.item.units),
                         deadline=r.item.deadline, targets=[t.text for t in r.targets]) for r in hits])

    @mcp.tool(description="任务台账：列出某单位（可用简称）、牵头领导、文件或完成时限范围内的全部任务，不需要关键词。"
                          "role=lead 只列该单位牵头的任务；日期格式 YYYY-MM-DD。")
    def tasks(unit: str | None = None, role: Literal["any", "lead"] = "any", official: str | None = None,
              doc: str | None = None, due_before: date | None = None, due_after: date | None = None,
              q: str | None = None, limit: int = Field(100, ge=1, le=1000)) -> TasksOut:
        page = list_tasks(service().index, TaskQuery(unit=unit, role=role, official=official, doc_id=doc,
                                                     due_before=due_before, due_after=due_after, q=q, limit=limit))
        return TasksOut(total=page.total, tasks=[_task_out(t) for t in page.tasks])

    @mcp.tool(description="按 item_id 取一个条目的全部字段和出处（item_id 来自 ask、search 或 tasks 的结果）。")
    def get_item(item_id: str) -> ItemOut:
        s = service()
        item = s.index.items.get(item_id)
        if item is None:
            raise ValueError(f"没有条目 {item_id!r}")
        return ItemOut(item_id=item.item_id, doc_id=item.doc_id, ref=cite(item, s.documents().get(item.doc_id), 1.0).ref,
                       kind=item.kind, section=list(item.section), item_no=item.item_no, text=item.text,
                       lead_officials=list(item.lead_officials), lead_units=list(item.lead_units),
                       units=list(item.units), deadline=item.deadline, targets=[t.text for t in item.targets])

    @mcp.tool(description="列出已收录的文件：编号、标题、文号、发布机关、日期和条目数。")
    def list_documents() -> list[DocumentOut]:
        s = service()
        counts = s.items_per_document()
        return [DocumentOut(doc_id=d.doc_id, title=d.title, number=d.number, issuer=d.issuer, date=d.date,
                            items=counts.get(d.doc_id, 0)) for d in s.index.documents]

    return mcp
