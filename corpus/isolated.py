"""Parse an uploaded document in a child process with memory and time limits.

A hostile or broken file (a zip bomb, a PDF that never ends) can only exhaust the child: its memory
is capped with RLIMIT_AS, it is killed after its time, and whatever it allocated is returned to the
system when it exits. The parent receives the ParsedDocument over a pipe (in memory, never on disk).
"""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass
from functools import lru_cache

from corpus.model import ParsedDocument
from corpus.read import DocumentError, DocumentTooLarge, UnsupportedFormat


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int  # the upload's size limit
    max_unpacked: int = 200 * 1024 * 1024
    max_ratio: int = 200
    memory_bytes: int = 1536 * 1024 * 1024
    seconds: float = 120.0

    @classmethod
    def from_config(cls, config) -> ParseLimits:
        return cls(config.max_upload_bytes, config.max_unpacked_bytes, config.max_compression_ratio,
                   config.parse_memory_bytes, config.parse_seconds)


def _child(conn, data: bytes, doc_id: str, name: str, limits: ParseLimits) -> None:
    try:
        import os
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        os.nice(10)  # parsing is background work: the server's reads come first
    except (ImportError, ValueError, OSError, AttributeError):  # not POSIX, or a lower hard limit already
        pass
    try:
        _parse_and_send(conn, data, doc_id, name, limits)
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent is gone (shut down or timed out): nobody is waiting for the answer
    finally:
        conn.close()


def _parse_and_send(conn, data: bytes, doc_id: str, name: str, limits: ParseLimits) -> None:
    try:
        from corpus import parse_document, read_bytes

        parsed = parse_document(read_bytes(data, limits.max_bytes, limits.max_unpacked, limits.max_ratio), doc_id, name)
        conn.send(("ok", parsed))
    except DocumentTooLarge as exc:
        conn.send(("too_large", str(exc)))
    except UnsupportedFormat as exc:
        conn.send(("unsupported", str(exc)))
    except DocumentError as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        conn.send(("too_large", "解析该文档所需内存超过上限：文件可能是压缩炸弹或已损坏"))
    except Exception as exc:  # reported to the parent, which logs it; the child just ends
        conn.send(("crash", f"{exc.__class__.__name__}: {exc}"))


@lru_cache(maxsize=1)
def _context():
    # forkserver: children are forked from a small clean server, not from a parent holding model
    # threads and locks; spawn where fork is not available. Made once: the preload only counts before
    # the server starts
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["corpus.isolated"])  # each child starts with the parser imported
    return ctx


def parse_isolated(data: bytes, doc_id: str, name: str, limits: ParseLimits) -> ParsedDocument:
    """The parsed document, or DocumentError (DocumentTooLarge when a limit was hit)."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(sender, data, doc_id, name, limits), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(limits.seconds):
            raise DocumentTooLarge(f"解析超过 {limits.seconds:.0f} 秒仍未完成：文件过大或已损坏")
        try:
            status, payload = receiver.recv()
        except EOFError:  # killed by the kernel (the memory cap) before it could answer
            raise DocumentTooLarge("解析该文档所需内存超过上限：文件可能是压缩炸弹或已损坏") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if status == "ok":
        return payload
    if status == "too_large":
        raise DocumentTooLarge(payload)
    if status == "unsupported":
        raise UnsupportedFormat(payload)
    if status == "error":
        raise DocumentError(payload)
    raise RuntimeError(f"the parser failed: {payload}")
