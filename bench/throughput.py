"""Requests/s for /ask and /search over HTTP at concurrency 8, and the server's RSS.

    .venv/bin/python -m bench.throughput [--concurrency 8] [--seconds 30] [--max-requests 20000] [--threads N]

Starts a real `policyqa serve` on 127.0.0.1 over the bundled index (built once into the bench
folder), warms it up, then for each endpoint runs `concurrency` client threads, each with its own
keep-alive connection cycling through the fixed questions/searches, for at most --seconds or
--max-requests (whichever comes first). The load generator runs on the same 2 cores as the server.
--threads N starts the server with OMP_NUM_THREADS=N (torch's intra-op threads); default: unset.
--client: the load generator. `threads` (http.client in 8 threads: the Python client eats much of
the 2 cores it shares with the server) or `asyncio` (default: one process, raw keep-alive sockets,
pipelining off — one request in flight per connection, as the threads client). The tables name it.
--variant shows levers, served by the same app (api.app.create_app) on 127.0.0.1 with uvicorn:
  cache  the embedder behind an LRU cache of query embeddings (bench.levers.CachedQueries);
  bm25   /search and /ask without the dense channel (HybridIndex.search mode="bm25");
every request of the fixed lists repeats, so `cache` measures hits only: an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.parse
from pathlib import Path

from bench.common import (
    QUESTIONS,
    SEARCHES,
    Client,
    bundled_config,
    ensure_bundled_index,
    machine_line,
    note_load,
    pct,
    rss_mb,
    run_load,
    start_server,
    table,
)


def serve_variant(data_dir: Path, variant: str, port: int) -> int:
    """The service's own app with one lever applied, on 127.0.0.1 (uvicorn, as `policyqa serve`)."""
    import logging

    import uvicorn

    from api.app import create_app
    from bench.common import bundled_config
    from bench.levers import CachedQueries
    from qa.service import PolicyQA, load_embedder

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # as `policyqa serve`
    config = bundled_config(data_dir)
    embedder = load_embedder(config)
    service = PolicyQA(config, CachedQueries(embedder) if variant == "cache" else embedder).load()
    if variant == "bm25":
        index = service.index
        hybrid = index.search
        index.search = lambda *a, **k: hybrid(*a, **{**k, "mode": "bm25"})
    uvicorn.run(create_app(config, service), host="127.0.0.1", port=port, log_level="warning")
    return 0


async def _asyncio_load(port: int, paths: list[bytes], concurrency: int, seconds: float, max_requests: int):
    """`concurrency` keep-alive connections on one event loop, each sending its next request when
    the previous response has been read in full (Content-Length)."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    stop_at = time.perf_counter() + seconds

    async def connection(offset: int) -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        try:
            while time.perf_counter() < stop_at and sent < max_requests:
                sent += 1
                t0 = time.perf_counter()
                writer.write(b"GET " + paths[i % len(paths)] + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors += 1
                i += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection(k * 7) for k in range(concurrency)))
    return latencies, errors, time.perf_counter() - t0


def run_load_asyncio(port: int, endpoint: str, inputs, concurrency: int, seconds: float, max_requests: int):
    from bench.common import LoadResult

    if endpoint != "search":
        raise SystemExit("--client asyncio drives GET /search only; use --client threads for /ask")
    paths = [("/search?" + urllib.parse.urlencode({"q": q})).encode() for q in inputs]
    latencies, errors, elapsed = asyncio.run(_asyncio_load(port, paths, concurrency, seconds, max_requests))
    return LoadResult(requests=len(latencies), errors=errors, seconds=elapsed, latencies_ms=latencies)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8])
    ap.add_argument("--seconds", type=float, default=30.0, help="bound per measurement (default 30)")
    ap.add_argument("--max-requests", type=int, default=20_000, help="bound per measurement (default 20,000)")
    ap.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the server (default: unset)")
    ap.add_argument("--endpoints", nargs="+", default=["search", "ask"], choices=["search", "ask"])
    ap.add_argument("--variant", choices=["shipped", "cache", "bm25"], default="shipped")
    ap.add_argument("--client", choices=["asyncio", "threads"], default=None,
                    help="load generator (default: asyncio for /search alone, threads when /ask is measured)")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: serve a variant
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve_variant(args.serve, args.variant, args.port)
    client_kind = args.client or ("asyncio" if args.endpoints == ["search"] else "threads")

    from qa.service import load_embedder

    print(machine_line())
    config = bundled_config()
    ensure_bundled_index(load_embedder(config), config.data_dir)  # the model is loaded only if a build is needed
    env = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else {}
    note_load("starting `policyqa serve` on 127.0.0.1")
    command = None
    if args.variant != "shipped":
        command = [sys.executable, "-m", "bench.throughput", "--serve", str(config.data_dir), "--variant", args.variant]
    server = start_server(config.data_dir, env, command=command)
    rss_rows = [["after start (healthy, model warmed up)", *(rss_mb(server.pid)[k] for k in ("rss", "anon", "file"))]]
    rows = []
    try:
        client = Client(server.port)
        for q in QUESTIONS:
            client.ask(q)
        for q in SEARCHES:
            client.search(q)
        client.close()
        rss_rows.append(["after a warm-up pass", *(rss_mb(server.pid)[k] for k in ("rss", "anon", "file"))])
        for endpoint in args.endpoints:
            inputs = SEARCHES if endpoint == "search" else QUESTIONS
            for conc in args.concurrency:
                note_load(f"/{endpoint} at concurrency {conc} for ≤ {args.seconds:.0f} s or ≤ {args.max_requests} requests")
                load = run_load_asyncio if client_kind == "asyncio" else run_load
                res = load(server.port, endpoint, inputs, conc, args.seconds, args.max_requests)
                s = pct(res.latencies_ms)
                rows.append([f"/{endpoint}", conc, res.requests, res.seconds, res.rps, s["p50"], s["p95"], s["p99"],
                             res.errors])
                rss_rows.append([f"after /{endpoint} × {res.requests} at concurrency {conc}",
                                 *(rss_mb(server.pid)[k] for k in ("rss", "anon", "file"))])
    finally:
        server.stop()
    threads = args.threads or "unset"
    table(f"Throughput over HTTP, bundled corpus (server OMP_NUM_THREADS={threads}; variant: {args.variant}; "
          f"client: {client_kind}; load average {os.getloadavg()[0]:.2f})",
          ["endpoint", "concurrency", "requests", "seconds", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"], rows)
    table(f"Server RSS (MB), bundled corpus (server OMP_NUM_THREADS={threads}; start to healthy {server.started_s:.1f} s)",
          ["when", "RSS", "anon", "file-backed"], rss_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
