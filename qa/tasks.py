"""The 台账: every task that matches a unit, an official, a document, a kind, a deadline range or a
keyword, each with its fields, its deadline as dates and its citation. No ranking and no keyword
needed: supervision wants all of a unit's tasks, in document order or by due date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from corpus.aliases import names_unit
from corpus.deadlines import find_time_expressions
from corpus.due import Due, document_year, due
from corpus.model import Document, Item
from corpus.normalize import normalize
from index.hybrid import HybridIndex
from qa.answer import NOT_FOUND, Answer, AnswerFields, cite, item_ref, summary_of

Role = Literal["any", "lead"]
Sort = Literal["document", "due"]


@dataclass(frozen=True)
class TaskQuery:
    """What to list; every field optional. `role="lead"` keeps the tasks the unit leads."""

    unit: str | None = None
    official: str | None = None
    doc_id: str | None = None
    kind: str | None = None
    due_before: date | None = None  # the deadline ends on or before this day
    due_after: date | None = None  # ... on or after this day
    overdue_on: date | None = None  # past its deadline on this day (open-ended tasks never are)
    due_by: str | None = None  # a deadline as written ("6月底前"), read in each document's own year
    q: str | None = None
    role: Role = "any"
    sort: Sort = "document"
    offset: int = 0
    limit: int | None = 100  # None: all (an export)


@dataclass(frozen=True)
class Task:
    item: Item
    document: Document | None
    due: Due | None
    ref: str  # 〔文号 section › 第N项〕


@dataclass(frozen=True)
class TaskPage:
    total: int
    tasks: tuple[Task, ...]


def _unit_matches(index: HybridIndex, unit: str, role: Role):
    variants = index.unit_variants(unit) | {unit}

    def matches(item: Item) -> bool:
        units = item.lead_units if role == "lead" else item.units
        return any(names_unit(v, u) for v in variants for u in units)

    return matches


_DONE_BY = re.compile(r"(?:之前|以前|前|底|末|内)?\s*(?:要|需要|需|应|应当|须|必须)?(?:完成|到期|办结)")
_OVERDUE = re.compile(r"过期|逾期|超期|超过(?:完成)?时限|已经?到期|未按期")


def due_question(text: str, today: date) -> TaskQuery | None:
    """A list question about deadlines ("6月底前要完成哪些工作？", "哪些任务已经过期？") as a task query;
    None for any other question."""
    norm = normalize(text)
    if _OVERDUE.search(norm):
        stated = [t for t in find_time_expressions(norm) if t.strength >= 1]
        when = due(stated[0].text, None) if stated else None
        return TaskQuery(overdue_on=when.end if when and when.end else today, sort="due", limit=None)
    for expression in find_time_expressions(norm):
        if expression.is_deadline and (expression.text.endswith("完成") or _DONE_BY.match(norm[expression.end:])):
            return TaskQuery(due_by=re.sub(r"完成$", "", expression.text), sort="due", limit=None)
    return None


def list_tasks(index: HybridIndex, query: TaskQuery) -> TaskPage:
    """The items that match every given filter, sorted and paged."""
    documents = {d.doc_id: d for d in index.documents}
    years = {d.doc_id: document_year(d.date, d.title) for d in index.documents}
    unit = _unit_matches(index, query.unit, query.role) if query.unit else None
    words = [w for w in re.split(r"\s+", normalize(query.q).lower()) if w] if query.q else []
    dated = query.due_before or query.due_after or query.overdue_on or query.due_by
    tasks: list[Task] = []
    for item in index.items.values():
        if query.doc_id and item.doc_id != query.doc_id:
            continue
        if query.kind and item.kind != query.kind:
            continue
        if query.official and not any(query.official in o or o in query.official for o in item.lead_officials):
            continue
        if unit is not None and not unit(item):
            continue
        if words:
            haystack = (item.norm + "".join(item.section) + "".join(item.units)).lower()
            if not all(w in haystack for w in words):
                continue
        when = due(item.deadline, years.get(item.doc_id))
        if dated:
            if when is None or when.end is None or when.open_ended:
                continue
            if query.due_before and when.end > query.due_before:
                continue
            if query.due_after and when.end < query.due_after:
                continue
            if query.overdue_on and not when.overdue(query.overdue_on):
                continue
            if query.due_by:
                by = due(query.due_by, years.get(item.doc_id))
                if by is None or by.end is None or when.end > by.end:
                    continue
        tasks.append(Task(item, documents.get(item.doc_id), when, item_ref(item, documents.get(item.doc_id))))
    if query.sort == "due":
        tasks.sort(key=lambda t: (t.due is None or t.due.end is None, t.due.end if t.due and t.due.end else date.max))
    end = None if query.limit is None else query.offset + query.limit
    return TaskPage(len(tasks), tuple(tasks[query.offset:end]))


SHOWN = 50  # lines of a list answer; the rest is one /tasks call away


def due_answer(question: str, query: TaskQuery, index: HybridIndex) -> Answer:
    """The tasks a deadline question asks for, as a cited list (earliest deadline first)."""
    page = list_tasks(index, query)
    if query.overdue_on:
        what = f"截至{query.overdue_on.isoformat()}已过完成时限的任务"
    else:
        what = f"完成时限在{query.due_by}的任务"
    if query.unit:
        what = f"{query.unit}{'牵头' if query.role == 'lead' else '承担'}的{what}"
    if not page.total:
        return Answer(question, "list", False, NOT_FOUND, reason=f"没有{what}")
    lines = [f"{what}共{page.total}项" + (f"（按时限先后，列出前{SHOWN}项）" if page.total > SHOWN else "") + "："]
    for n, task in enumerate(page.tasks[:SHOWN], start=1):
        owner = "、".join(task.item.lead_units or task.item.units) or "未列明单位"
        lines.append(f"{n}. {summary_of(task.item.text)}（{owner}；{task.item.deadline}）{task.ref}")
    citations = tuple(cite(t.item, t.document, 1.0) for t in page.tasks[:SHOWN])
    return Answer(question, "list", True, "\n".join(lines), AnswerFields(), citations)
