"""Scoring predictions against gold questions: pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.normalize import compact
from eval.gold import GoldQuestion


@dataclass(frozen=True)
class Prediction:
    """What a system returned for one question (the /ask response shape, flattened)."""

    found: bool
    answer: str
    citations: tuple[str, ...]  # cited texts, best first
    units: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    lead_officials: tuple[str, ...] = ()
    deadline: str | None = None
    latency_ms: float = 0.0
    # Vanilla RAG answers with a text chunk, not fields: its field checks look inside the chunk.
    fields_from_text: bool = False


@dataclass(frozen=True)
class Score:
    id: str
    type: str
    doc: str | None = None
    klass: str | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    rank: int | None = None  # rank of the first citation holding the gold item (1-based)
    list_recall: float | None = None
    list_precision: float | None = None
    latency_ms: float = 0.0

    @property
    def correct(self) -> bool:
        return all(self.checks.values())


def _has(text: str, needle: str) -> bool:
    return compact(needle) in compact(text)


def _value_in(value: str, text: str) -> bool:
    pattern = r"(?<![\d.])" + re.escape(compact(value)) + r"(?![\d]|\.\d)"
    return re.search(pattern, compact(text)) is not None


_LEADING = re.compile(r"^(?:到|至|截至|截止到|截止|于|在)")


def same_deadline(predicted: str, gold: str) -> bool:
    """The same deadline as written, a leading 到/至/于 aside ("到2029年底" is "2029年底"), and the 止 that
    closes "至…止" ("至2020年6月30日止" is "2020年6月30日")."""
    def bare(text: str) -> str:
        text = compact(text)
        framed = text.startswith("至") and text.endswith("止")
        return _LEADING.sub("", text[:-1] if framed else text)

    return bare(predicted) == bare(gold)


def _same_set(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return {compact(x) for x in a} == {compact(x) for x in b}


def score_one(gold: GoldQuestion, pred: Prediction) -> Score:
    """Every check that applies to the gold question's type."""
    checks: dict[str, bool] = {}
    rank = None
    if gold.item:
        for i, text in enumerate(pred.citations[:10], start=1):
            if _has(text, gold.item):
                rank = i
                break
    if gold.type == "unanswerable":
        checks["refused"] = not pred.found
        return Score(gold.id, gold.type, gold.doc, gold.klass, checks, rank, latency_ms=pred.latency_ms)
    checks["answered"] = pred.found
    if gold.item:
        checks["citation@1"] = rank == 1
    top = pred.citations[0] if pred.citations else ""
    if gold.units is not None:
        checks["units"] = (all(_has(top, u) for u in gold.units) if pred.fields_from_text
                           else _same_set(pred.units, gold.units))
    if gold.lead_units is not None:
        checks["lead_units"] = (all(_has(top, u) for u in gold.lead_units) if pred.fields_from_text
                                else _same_set(pred.lead_units, gold.lead_units))
    if gold.lead_officials is not None:
        checks["lead_officials"] = (all(_has(top, u) for u in gold.lead_officials) if pred.fields_from_text
                                    else _same_set(pred.lead_officials, gold.lead_officials))
    if gold.has_deadline and gold.type != "list":
        if gold.deadline is None:
            checks["deadline"] = pred.deadline is None or pred.fields_from_text
        elif pred.fields_from_text:
            checks["deadline"] = _has(top, gold.deadline)
        else:
            checks["deadline"] = pred.deadline is not None and same_deadline(pred.deadline, gold.deadline)
    if gold.value is not None:
        checks["value"] = _value_in(gold.value, pred.answer if not pred.fields_from_text else top)
    if gold.answer_has:
        checks["answer_has"] = all(_has(pred.answer, part) for part in gold.answer_has)
    recall = precision = None
    if gold.type == "list" and gold.items:
        hit = [any(_has(c, g) for c in pred.citations) for g in gold.items]
        recall = sum(hit) / len(gold.items)
        relevant = [any(_has(c, g) for g in gold.items) for c in pred.citations]
        precision = sum(relevant) / len(relevant) if relevant else 0.0
        checks["list_recall"] = recall == 1.0
        checks["list_precision"] = precision == 1.0
    return Score(gold.id, gold.type, gold.doc, gold.klass, checks, rank, recall, precision, pred.latency_ms)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    idx = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[idx]


def aggregate(scores: list[Score]) -> dict[str, float | int | None]:
    """Metrics over a set of scores (one type, or all)."""

    def rate(key: str) -> float | None:
        vals = [s.checks[key] for s in scores if key in s.checks]
        return round(sum(vals) / len(vals), 4) if vals else None

    with_item = [s for s in scores if s.type not in ("unanswerable", "list") and "citation@1" in s.checks]
    at5 = [s.rank is not None and s.rank <= 5 for s in with_item]
    mrr = [1 / s.rank if s.rank else 0.0 for s in with_item]
    refused_unans = [s for s in scores if s.type == "unanswerable"]
    refusals = [s for s in scores if s.checks.get("refused") or s.checks.get("answered") is False]
    correct_refusals = [s for s in refusals if s.type == "unanswerable"]
    lists = [s for s in scores if s.list_recall is not None]
    latencies = [s.latency_ms for s in scores]
    return {
        "questions": len(scores),
        "accuracy": round(sum(s.correct for s in scores) / len(scores), 4) if scores else None,
        "citation@1": rate("citation@1"),
        "citation@5": round(sum(at5) / len(at5), 4) if at5 else None,
        "mrr@10": round(sum(mrr) / len(mrr), 4) if mrr else None,
        "units_em": rate("units"),
        "lead_units_em": rate("lead_units"),
        "lead_officials_em": rate("lead_officials"),
        "deadline_em": rate("deadline"),
        "value_hit": rate("value"),
        "list_recall": round(sum(s.list_recall for s in lists) / len(lists), 4) if lists else None,
        "list_precision": round(sum(s.list_precision for s in lists) / len(lists), 4) if lists else None,
        "refusal_precision": round(len(correct_refusals) / len(refusals), 4) if refusals else None,
        "refusal_recall": round(len(correct_refusals) / len(refused_unans), 4) if refused_unans else None,
        "latency_p50_ms": round(_pct(latencies, 50), 2),
        "latency_p95_ms": round(_pct(latencies, 95), 2),
    }


def summarize(scores: list[Score]) -> dict:
    types = sorted({s.type for s in scores})
    out = {"overall": aggregate(scores), "per_type": {t: aggregate([s for s in scores if s.type == t]) for t in types}}
    docs = sorted({s.doc for s in scores if s.doc})
    if docs:
        out["per_document"] = {d: aggregate([s for s in scores if s.doc == d]) for d in docs}
    classes = sorted({s.klass for s in scores if s.klass}, key=lambda k: (len(k), k))
    if classes:
        out["per_class"] = {c: aggregate([s for s in scores if s.klass == c]) for c in classes}
    return out


# ----- keyword search (/search) ------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchScore:
    """One search's ranked item ids scored against its relevant set (cut at k)."""

    id: str
    kind: str
    returned: int  # items shown (≤ k)
    relevant: int  # size of the gold set
    hits: int  # relevant items among those shown
    recall: float | None  # hits / min(|relevant|, k): 1.0 is reachable even when |relevant| > k
    precision: float | None  # hits / items shown (0 when nothing is shown)
    rr: float | None  # 1 / rank of the first relevant item, 0 if none in the top k
    ndcg: float | None  # binary gains, ideal = min(|relevant|, k) relevant items on top
    first_relevant: bool | None
    latency_ms: float = 0.0
    embedded: bool = False  # whether the strategy embedded this query (the dense channel ran)


def score_search(query_id: str, kind: str, relevant: tuple[str, ...] | set[str], ranked: list[str] | tuple[str, ...],
                 k: int = 10, latency_ms: float = 0.0, embedded: bool = False) -> SearchScore:
    """Recall, precision, reciprocal rank and nDCG at k for one query. Duplicate ids count once.
    A query with no relevant item gets None for those (it is scored by what it returns)."""
    import math

    shown: list[str] = []
    for item in ranked:
        if item not in shown:
            shown.append(item)
        if len(shown) == k:
            break
    rel = set(relevant)
    if not rel:
        return SearchScore(query_id, kind, len(shown), 0, 0, None, None, None, None, None, latency_ms, embedded)
    gains = [1 if item in rel else 0 for item in shown]
    hits = sum(gains)
    first = next((i for i, g in enumerate(gains, start=1) if g), None)
    dcg = sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(rel), k) + 1))
    return SearchScore(
        query_id, kind, len(shown), len(rel), hits,
        recall=hits / min(len(rel), k),
        precision=hits / len(shown) if shown else 0.0,
        rr=1 / first if first else 0.0,
        ndcg=dcg / ideal,
        first_relevant=first == 1,
        latency_ms=latency_ms,
        embedded=embedded,
    )


def aggregate_search(scores: list[SearchScore]) -> dict[str, float | int | None]:
    """Means over the queries that have relevant items; the no-answer queries are reported by how
    much they return (nothing is the right answer for them)."""

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    answerable = [s for s in scores if s.relevant]
    unanswerable = [s for s in scores if not s.relevant]
    latencies = [s.latency_ms for s in scores]
    return {
        "queries": len(scores),
        "with_relevant": len(answerable),
        "recall@10": mean([s.recall for s in answerable]),
        "precision@10": mean([s.precision for s in answerable]),
        "mrr@10": mean([s.rr for s in answerable]),
        "ndcg@10": mean([s.ndcg for s in answerable]),
        "first_hit_relevant": mean([float(s.first_relevant) for s in answerable]),
        "zero_recall": mean([float(s.hits == 0) for s in answerable]),
        "none_queries": len(unanswerable),
        "none_mean_returned": mean([float(s.returned) for s in unanswerable]),
        "none_empty": mean([float(s.returned == 0) for s in unanswerable]),
        "embedded_share": mean([float(s.embedded) for s in scores]),
        "latency_p50_ms": round(_pct(latencies, 50), 2),
        "latency_p95_ms": round(_pct(latencies, 95), 2),
    }


def summarize_search(scores: list[SearchScore]) -> dict:
    kinds = sorted({s.kind for s in scores})
    return {"overall": aggregate_search(scores),
            "per_kind": {t: aggregate_search([s for s in scores if s.kind == t]) for t in kinds}}
