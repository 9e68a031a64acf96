"""Writes off the request path: one writer thread applies uploads and deletes, parsing in a child.

A request only hands its bytes over and gets a job; it never holds a thread that reads need while
it waits (the API awaits the job's future on the event loop). The writer takes every job that is
waiting, parses the uploads one at a time in a child process with memory and time limits
(corpus.isolated), and applies them to the index in one new version: a burst of uploads costs one
index write per batch, not one per file.
"""

from __future__ import annotations

import errno
import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

from corpus.isolated import ParseLimits, parse_isolated
from corpus.model import ParsedDocument
from corpus.read import DocumentError, DocumentTooLarge, UnsupportedFormat
from index.errors import StorageFull
from qa.service import NO_ITEMS

log = logging.getLogger("policyqa.writes")

JobState = Literal["queued", "parsing", "indexing", "done", "failed"]
JobKind = Literal["ingest", "delete"]


@dataclass(frozen=True)
class JobStatus:
    """What a client sees of a write: its state, and its result or why it failed (with an HTTP status)."""

    job_id: str
    kind: JobKind
    doc_id: str
    state: JobState
    created: float
    finished: float | None = None
    result: dict | None = None
    error: str | None = None
    status: int | None = None  # 201/200 when done; 404, 413, 415, 422 or 507 when failed


@dataclass
class _Job:
    status: JobStatus
    data: bytes = b""
    name: str = ""
    request_id: str | None = None  # the request that submitted it, for the logs
    future: Future = field(default_factory=Future)


def _failure_status(exc: Exception) -> int:
    if isinstance(exc, DocumentTooLarge):
        return 413
    if isinstance(exc, DocumentError):
        return 415 if isinstance(exc, UnsupportedFormat) else 422
    if isinstance(exc, StorageFull) or isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return 507
    return 500


def _log_error(event: str, jobs: list[_Job]) -> None:
    """One JSON line per failed job, with its traceback: the request and the document it names, never
    the document's text."""
    for job in jobs:
        log.exception(json.dumps({"request_id": job.request_id, "event": event, "kind": job.status.kind,
                                  "doc_id": job.status.doc_id, "bytes": len(job.data)}, ensure_ascii=False))


class WriteQueue:
    """The single writer of one service. `submit_*` return at once; `future(job_id)` resolves to the
    final JobStatus. Finished jobs are kept (the newest `keep`) so that clients can poll them."""

    def __init__(self, service, limits: ParseLimits, keep: int = 1000) -> None:
        self.service = service
        self.limits = limits
        self.keep = keep
        self._jobs: dict[str, _Job] = {}
        self._queue: list[str] = []
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="policyqa-writer", daemon=True)
        self._thread.start()

    # ----- the client side --------------------------------------------------------------------
    def submit_ingest(self, data: bytes, doc_id: str, name: str, request_id: str | None = None) -> JobStatus:
        return self._submit(_Job(JobStatus(uuid.uuid4().hex[:16], "ingest", doc_id, "queued", time.time()),
                                 data=data, name=name, request_id=request_id))

    def submit_delete(self, doc_id: str, request_id: str | None = None) -> JobStatus:
        return self._submit(_Job(JobStatus(uuid.uuid4().hex[:16], "delete", doc_id, "queued", time.time()),
                                 request_id=request_id))

    def _submit(self, job: _Job) -> JobStatus:
        with self._lock:
            if self._closed:
                raise RuntimeError("the writer is closed")
            self._jobs[job.status.job_id] = job
            self._queue.append(job.status.job_id)
            self._forget_old()
            self._lock.notify()
        return job.status

    def get(self, job_id: str) -> JobStatus | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.status if job else None

    def future(self, job_id: str) -> Future:
        with self._lock:
            return self._jobs[job_id].future

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; the jobs still queued fail (the service is going down)."""
        with self._lock:
            self._closed = True
            waiting = [self._jobs[j] for j in self._queue]
            self._queue.clear()
            self._lock.notify_all()
        for job in waiting:
            self._finish(job, "failed", error="服务正在关闭，未处理该任务", status=503)
        self._thread.join(timeout)

    # ----- the writer -------------------------------------------------------------------------
    def _forget_old(self) -> None:
        done = [j for j, job in self._jobs.items() if job.status.state in ("done", "failed")]
        for job_id in done[: max(0, len(done) - self.keep)]:
            del self._jobs[job_id]

    def _set(self, job: _Job, **changes) -> None:
        with self._lock:
            job.status = JobStatus(**{**job.status.__dict__, **changes})

    def _finish(self, job: _Job, state: JobState, **changes) -> None:
        self._set(job, state=state, finished=time.time(), **changes)
        job.data = b""  # the bytes are not kept once the job is over
        if not job.future.done():
            job.future.set_result(job.status)

    def _take_batch(self) -> list[_Job]:
        """Every waiting job, at most one per document (a second upload of it waits for the next batch)."""
        with self._lock:
            while not self._queue and not self._closed:
                self._lock.wait()
            batch, rest, seen = [], [], set()
            for job_id in self._queue:
                job = self._jobs[job_id]
                (rest if job.status.doc_id in seen else batch).append(job)
                seen.add(job.status.doc_id)
            self._queue = [j.status.job_id for j in rest]
            return batch

    def _run(self) -> None:
        # the writer's Python work (index files, reload) shares the interpreter with the reads: hand the
        # interpreter over more often, so that a read waits milliseconds for it, not a whole write
        import sys

        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        while True:
            batch = self._take_batch()
            if not batch:
                return  # closed
            try:
                self._apply(batch)
            except Exception:  # a writer that dies would leave every later job waiting
                _log_error("batch_error", batch)
                for job in batch:
                    if not job.future.done():
                        self._finish(job, "failed", error="内部错误：写入失败", status=500)

    def _apply(self, batch: list[_Job]) -> None:
        parsed: list[tuple[_Job, ParsedDocument]] = []
        for job in batch:
            if job.status.kind != "ingest":
                continue
            self._set(job, state="parsing")
            try:
                document = parse_isolated(job.data, job.status.doc_id, job.name, self.limits)
                if not document.items:
                    raise DocumentError(NO_ITEMS)
                parsed.append((job, document))
            except Exception as exc:
                if _failure_status(exc) == 500:
                    _log_error("parse_error", [job])
                self._finish(job, "failed", error=str(exc) if _failure_status(exc) != 500 else "内部错误：解析失败",
                             status=_failure_status(exc))
        deletes = [job for job in batch if job.status.kind == "delete"]
        if not parsed and not deletes:
            return
        for job, _ in parsed:
            self._set(job, state="indexing")
        try:
            outcome = self.service.apply([p for _, p in parsed], [j.status.doc_id for j in deletes],
                                         files={j.status.doc_id: (j.data, j.name) for j, _ in parsed})
        except Exception as exc:
            status = _failure_status(exc)
            if status == 500:
                _log_error("write_error", [j for j, _ in parsed] + deletes)
            message = str(exc) if status != 500 else "内部错误：写入索引失败"
            for job in [j for j, _ in parsed] + deletes:
                self._finish(job, "failed", error=message, status=status)
            return
        for job, document in parsed:
            previous = outcome.replaced.get(document.document.doc_id)
            self._finish(job, "done", status=201, result={
                "doc_id": document.document.doc_id, "title": document.document.title,
                "items": len(document.items), "clauses": len(document.clauses),
                "warnings": [f"{w.where}: {w.message}" for w in document.warnings],
                "report": document.document.report, "replaced": previous is not None, "previous": previous})
        for job in deletes:
            if job.status.doc_id in outcome.deleted:
                self._finish(job, "done", status=200, result={"deleted": job.status.doc_id})
            else:
                self._finish(job, "failed", error=f"没有文档 {job.status.doc_id!r}", status=404)
