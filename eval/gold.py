"""Gold question files (JSON Lines): loading and validation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TYPES = ("owner", "lead_official", "deadline", "target", "investment", "list", "unanswerable")


class GoldError(ValueError):
    pass


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    type: str
    item: str | None = None
    units: tuple[str, ...] | None = None
    lead_units: tuple[str, ...] | None = None
    lead_officials: tuple[str, ...] | None = None
    deadline: str | None = None
    value: str | None = None
    items: tuple[str, ...] | None = None
    has_deadline: bool = False  # whether the deadline key was present (null is a valid gold value)
    doc: str | None = None  # the document the question is about (a file name), for per-document figures
    klass: str | None = None  # a failure class the question was written for ("class" in the file)
    answer_has: tuple[str, ...] | None = None  # substrings the answer text must contain


def _tuple(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GoldError("expected a list of strings")
    return tuple(value)


def _records(path: str | Path, text_key: str, kind_key: str, kinds: tuple[str, ...], build, what: str) -> list:
    """Each non-blank line of a gold file as a JSON object with a unique ``id``, a non-empty
    ``text_key`` and a ``kind_key`` among ``kinds``, made into a record by ``build(row)``; errors name the line."""
    records: list = []
    seen: set[str] = set()
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise GoldError("not a JSON object")
            for key in ("id", text_key, kind_key):
                if not isinstance(row.get(key), str) or not row[key]:
                    raise GoldError(f"missing {key}")
            if row[kind_key] not in kinds:
                raise GoldError(f"unknown {kind_key} {row[kind_key]!r}")
            if row["id"] in seen:
                raise GoldError(f"duplicate id {row['id']}")
            seen.add(row["id"])
            records.append(build(row))
        except (json.JSONDecodeError, GoldError) as exc:
            raise GoldError(f"{path}:{no}: {exc}") from exc
    if not records:
        raise GoldError(f"{path}: no {what}")
    return records


def _question(row: dict) -> GoldQuestion:
    return GoldQuestion(
        id=row["id"],
        question=row["question"],
        type=row["type"],
        item=row.get("item"),
        units=_tuple(row.get("units")),
        lead_units=_tuple(row.get("lead_units")),
        lead_officials=_tuple(row.get("lead_officials")),
        deadline=row.get("deadline"),
        value=None if row.get("value") is None else str(row["value"]),
        items=_tuple(row.get("items")),
        has_deadline="deadline" in row,
        doc=row.get("doc"),
        klass=None if row.get("class") is None else str(row["class"]),
        answer_has=_tuple(row.get("answer_has")),
    )


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read and validate a gold file; errors name the line."""
    return _records(path, "question", "type", TYPES, _question, "questions")


SEARCH_KINDS = ("literal", "project", "unit", "official", "paraphrase", "none")


@dataclass(frozen=True)
class SearchQuery:
    """One keyword search as staff type it, with every item a staff member would want to see."""

    id: str
    query: str
    kind: str  # literal | project | unit | official | paraphrase | none
    relevant: tuple[str, ...]  # item ids; empty for a query the documents have nothing on
    note: str = ""


def _search_query(row: dict) -> SearchQuery:
    relevant = _tuple(row.get("relevant", [])) or ()
    if (row["kind"] == "none") != (not relevant):
        raise GoldError("kind 'none' if and only if there is no relevant item")
    return SearchQuery(row["id"], row["query"], row["kind"], relevant, row.get("note", ""))


def load_search_gold(path: str | Path) -> list[SearchQuery]:
    """Read and validate a search gold file (eval/gold/search.jsonl); errors name the line."""
    return _records(path, "query", "kind", SEARCH_KINDS, _search_query, "queries")
