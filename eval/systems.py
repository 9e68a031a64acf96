"""Systems under evaluation: policyqa (in process or over HTTP) and three baselines."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.scoring import Prediction
from qa.ranking import Evidence, rank

System = Callable[[str], Prediction]


def from_answer(answer: dict, latency_ms: float) -> Prediction:
    """A Prediction from an /ask response (or the asdict of a qa.answer.Answer)."""
    fields = answer.get("fields") or {}
    return Prediction(
        found=bool(answer.get("found")),
        answer=answer.get("answer", ""),
        # a table row is cited by its text and by its cells as printed (an item may cross two cells)
        citations=tuple((c.get("text", "") + "\n" + c.get("printed", "")).strip()
                        for c in answer.get("citations", [])),
        units=tuple(fields.get("units") or ()),
        lead_units=tuple(fields.get("lead_units") or ()),
        lead_officials=tuple(fields.get("lead_officials") or ()),
        deadline=fields.get("deadline"),
        latency_ms=latency_ms,
    )


def policyqa_in_process(service) -> System:
    from dataclasses import asdict

    def ask(question: str) -> Prediction:
        started = time.perf_counter()
        answer = service.ask(question, top_k=10)
        return from_answer(asdict(answer), (time.perf_counter() - started) * 1000)

    return ask


def policyqa_http(url: str, api_key: str | None = None) -> System:
    endpoint = url.rstrip("/") + "/ask"

    def ask(question: str) -> Prediction:
        body = json.dumps({"question": question, "top_k": 10}).encode()
        headers = {"content-type": "application/json"}
        if api_key:
            headers["X-API-Key"] = api_key
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(endpoint, body, headers), timeout=60) as resp:
            answer = json.loads(resp.read())
        return from_answer(answer, (time.perf_counter() - started) * 1000)

    return ask


def retrieval_only(index, mode: str) -> System:
    """BM25-only or dense-only: the raw question retrieved, the top clause's fields as the answer."""

    def ask(question: str) -> Prediction:
        started = time.perf_counter()
        hits = rank(index, question, top_k=30, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        if not hits:
            return Prediction(False, "", (), latency_ms=latency)
        texts, seen = [], set()
        for h in hits:
            if h.item.item_id not in seen:
                seen.add(h.item.item_id)
                texts.append(h.item.text)
        top = hits[0]
        c, item = top.clause, top.item
        inv = item.investment
        extra = f" 总投资{inv.total_text} 计划投资{inv.planned_text}" if inv else ""
        answer = c.text + " " + " ".join(t.value + t.unit for t in c.targets) + extra
        return Prediction(
            found=True,
            answer=answer,
            citations=tuple(texts[:10]),
            units=c.units or item.units,
            lead_units=c.lead_units or item.lead_units,
            lead_officials=c.lead_officials or item.lead_officials,
            deadline=c.deadline or item.deadline,
            latency_ms=latency,
        )

    return ask


@dataclass
class VanillaRAG:
    """What a typical user would build: 500-character chunks of the raw text, the same embedder,
    FAISS, and the top chunk as the answer."""

    embedder: object
    sources: list[Path]
    chunk_size: int = 500
    chunk_overlap: int = 50

    def __post_init__(self) -> None:
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from corpus.read import read_path

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            separators=["\n\n", "\n", "。", "；", "，", ""],
        )
        self.chunks: list[str] = []
        for path in self.sources:
            self.chunks.extend(splitter.split_text(read_path(path).text()))
        vectors = np.asarray(self.embedder.embed_passages(self.chunks), dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def __call__(self, question: str) -> Prediction:
        started = time.perf_counter()
        vector = np.asarray(self.embedder.embed_queries([question]), dtype=np.float32)
        _, ids = self.index.search(vector, 10)
        latency = (time.perf_counter() - started) * 1000
        chunks = tuple(self.chunks[i] for i in ids[0] if i >= 0)
        return Prediction(True, chunks[0] if chunks else "", chunks, latency_ms=latency, fields_from_text=True)


# ----- keyword search (/search) strategies ---------------------------------------------------------------
SearchSystem = Callable[[str], "tuple[list[str], bool]"]  # query → (ranked item ids, embedded?)


def _lexicon(service):
    # the service's own lexicon, the one PolicyQA.search reads: a search strategy sees what /search sees
    return service.snapshot.lexicon


def _item_ids(hits, limit: int) -> list[str]:
    out: list[str] = []
    for h in hits:
        if h.item.item_id not in out:
            out.append(h.item.item_id)
            if len(out) >= limit:
                break
    return out


def _forget_query_vectors(index) -> None:
    """Every query timed as new: the index's query-vector cache would make the dense channel free."""
    cache = getattr(index, "query_cache", None)
    if hasattr(cache, "clear"):
        cache.clear()


def search_mode(service, mode: str, limit: int = 10) -> SearchSystem:
    """PolicyQA.search's retrieval with one `mode` (hybrid | bm25 | dense): the same query
    understanding, the same phrase boost, `limit * 3` clauses, items deduplicated."""
    from qa.understand import understand

    def search(query: str) -> tuple[list[str], bool]:
        index = service.index
        _forget_query_vectors(index)
        q = understand(query, _lexicon(service))
        hits = rank(index, q.topic or query, top_k=limit * 3, mode=mode, evidence=Evidence(q.phrases or (query,)))
        return _item_ids(hits, limit), mode != "bm25"

    return search


def search_lexical_first(service, min_items: int, limit: int = 10, fill: bool = True) -> SearchSystem:
    """BM25 first; only when it finds fewer than `min_items` items does the query get embedded.
    fill: the lexical items stay on top and hybrid results fill the rest of the page;
    otherwise the hybrid results replace them."""
    from qa.understand import understand

    def search(query: str) -> tuple[list[str], bool]:
        index = service.index
        _forget_query_vectors(index)
        q = understand(query, _lexicon(service))
        topic, phrases = q.topic or query, q.phrases or (query,)
        lexical = _item_ids(rank(index, topic, top_k=limit * 3, mode="bm25", evidence=Evidence(phrases)), limit)
        if len(lexical) >= min_items:
            return lexical, False
        hybrid = _item_ids(rank(index, topic, top_k=limit * 3, mode="hybrid", evidence=Evidence(phrases)), limit)
        if not fill:
            return hybrid, True
        return (lexical + [i for i in hybrid if i not in lexical])[:limit], True

    return search


def search_service(service, limit: int = 10) -> SearchSystem:
    """PolicyQA.search as shipped (whatever mode it uses); `embedded`: the emptied query-vector
    cache holds a vector afterwards."""

    def search(query: str) -> tuple[list[str], bool]:
        _forget_query_vectors(service.index)
        ids = [r.item.item_id for r in service.search(query, None, limit)]
        return ids, bool(getattr(service.index, "query_cache", None))

    return search


def search_http(url: str, api_key: str | None = None, limit: int = 10) -> SearchSystem:
    """GET /search of a running server."""
    import urllib.parse

    def search(query: str) -> tuple[list[str], bool]:
        endpoint = url.rstrip("/") + "/search?" + urllib.parse.urlencode({"q": query, "limit": limit})
        headers = {"X-API-Key": api_key} if api_key else {}
        with urllib.request.urlopen(urllib.request.Request(endpoint, headers=headers), timeout=60) as resp:
            body = json.loads(resp.read())
        return [r["item_id"] for r in body.get("results", [])], False

    return search


def search_literal_first(service, min_items: int = 1, limit: int = 10) -> SearchSystem:
    """BM25 first while the query stands literally (normalised) in one of the items it found (its
    text, a responsible unit or a lead official);
    otherwise — a paraphrase, a synonym, a name spelled differently — the query is embedded and the
    hybrid ranking replaces the lexical one. With a literal match but fewer than `min_items`
    items, hybrid results fill the page below the lexical ones."""
    from qa.service import literally_in
    from qa.understand import understand

    def search(query: str) -> tuple[list[str], bool]:
        index = service.index
        _forget_query_vectors(index)
        q = understand(query, _lexicon(service))
        topic, phrases = q.topic or query, q.phrases or (query,)
        hits = rank(index, topic, top_k=limit * 3, mode="bm25", evidence=Evidence(phrases))
        lexical = _item_ids(hits, limit)
        literal = literally_in(query, hits)
        if literal and len(lexical) >= min_items:
            return lexical, False
        hybrid = _item_ids(rank(index, topic, top_k=limit * 3, mode="hybrid", evidence=Evidence(phrases)), limit)
        if not literal:
            return hybrid, True
        return (lexical + [i for i in hybrid if i not in lexical])[:limit], True

    return search
