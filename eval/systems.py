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

System = Callable[[str], Prediction]


def from_answer(answer: dict, latency_ms: float) -> Prediction:
    """A Prediction from an /ask response (or the asdict of a qa.answer.Answer)."""
    fields = answer.get("fields") or {}
    return Prediction(
        found=bool(answer.get("found")),
        answer=answer.get("answer", ""),
        citations=tuple(c.get("text", "") for c in answer.get("citations", [])),
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
        hits = index.search(question, top_k=30, mode=mode)
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
            self.chunks.extend(splitter.split_text(read_path(path).text))
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
