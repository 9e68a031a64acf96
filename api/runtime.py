"""What the routes share: the service (while it starts, a 503 saying what is under way), the single
writer, and the key dependencies that declare the X-API-Key header in the schema."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Header, HTTPException, Request

from corpus.config import Config
from corpus.isolated import ParseLimits
from qa.service import PolicyQA
from qa.writes import WriteQueue


@dataclass
class Runtime:
    """One app's service and writer, kept on `app.state.runtime`."""

    config: Config
    service: PolicyQA | None = None
    starting: str | None = None  # what the start is doing, in words, until the service is ready
    writer: WriteQueue | None = None
    _writer_lock: threading.Lock = field(default_factory=threading.Lock)

    def ready_service(self) -> PolicyQA:
        s = self.service
        if s is None or not s.ready or self.starting:
            raise HTTPException(503, self.starting or "索引尚未加载：请先运行 `policyqa build`")
        return s

    def writes(self) -> WriteQueue:
        with self._writer_lock:  # created on first use: a TestClient without its lifespan writes too
            if self.writer is None:
                self.writer = WriteQueue(self.ready_service(), ParseLimits.from_config(self.config))
            return self.writer


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def service(request: Request) -> PolicyQA:
    """The ready service, or 503 (async: no trip through the thread pool)."""
    return runtime(request).ready_service()


# RequestGuard checks the keys before any body is read; these declare the header in the schema
async def read_access(x_api_key: str | None = Header(None)) -> None:
    return None


async def write_access(x_api_key: str | None = Header(None)) -> None:
    return None
