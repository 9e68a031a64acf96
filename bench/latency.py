"""/ask and /search latency (p50/p95/p99) on the bundled corpus, in process and over HTTP.

    .venv/bin/python -m bench.latency [--reps 5] [--http-reps 3] [--threads N] [--no-http]

In process: PolicyQA.ask / PolicyQA.search on the loaded service. Over HTTP: one keep-alive client
against a real `policyqa serve` on 127.0.0.1 (sequential requests). Both warm up first (one pass over
every question, not counted). ``ask``/``search`` rows are questions the service has not embedded
before (query cache emptied); ``…, repeated`` rows ask them again (cache hits). --threads N sets the
embedding threads here and in the server; by default both keep the library's (1 when serving).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

from bench.common import (
    QUESTIONS,
    SEARCHES,
    Client,
    embed_threads,
    engine_line,
    load_service,
    machine_line,
    note_load,
    pct,
    start_server,
    table,
)

WARM_UP = ("预热", "重点工作有哪些？", "谁牵头？")  # not among the measured questions


def _forget_queries(service) -> None:
    """Empty the query-embedding cache, so the next pass pays for every embedding again."""
    cache = getattr(service.index, "query_cache", None)
    if cache is not None:
        cache.clear()


def in_process(service, reps: int) -> dict[str, list[float]]:
    """Each pass asks every question first with an empty query cache (``ask``), then again (``ask, repeated``)."""
    intents = {q: service.ask(q).intent for q in QUESTIONS}  # warm-up (not counted)
    for q in SEARCHES:
        service.search(q)
    out: dict[str, list[float]] = defaultdict(list)
    for _ in range(reps):
        _forget_queries(service)
        for label in ("", ", repeated"):
            for q in QUESTIONS:
                t0 = time.perf_counter()
                service.ask(q)
                ms = (time.perf_counter() - t0) * 1000
                out[f"ask{label}"].append(ms)
                if not label:
                    out[f"ask:{intents[q]}"].append(ms)
            for q in SEARCHES:
                t0 = time.perf_counter()
                service.search(q)
                out[f"search{label}"].append((time.perf_counter() - t0) * 1000)
        for q in QUESTIONS:  # the query embedding alone: the dominant share of a dense lookup
            t0 = time.perf_counter()
            service.embedder.embed_queries([q])
            out["embed_query"].append((time.perf_counter() - t0) * 1000)
    return out


def over_http(port: int, reps: int) -> dict[str, list[float]]:
    """The server's query cache cannot be emptied from outside: the first pass is the new-question
    one (the warm-up uses other questions), later passes are repeats."""
    client = Client(port)
    for q in WARM_UP:
        assert client.ask(q)[0] == 200
        assert client.search(q)[0] == 200
    out: dict[str, list[float]] = defaultdict(list)
    for rep in range(max(reps, 2)):
        label = "" if rep == 0 else ", repeated"
        for q in QUESTIONS:
            t0 = time.perf_counter()
            status, _ = client.ask(q)
            out[f"ask{label}"].append((time.perf_counter() - t0) * 1000)
            assert status == 200
        for q in SEARCHES:
            t0 = time.perf_counter()
            status, _ = client.search(q)
            out[f"search{label}"].append((time.perf_counter() - t0) * 1000)
            assert status == 200
    client.close()
    return out


def rows_for(where: str, data: dict[str, list[float]], keys) -> list[list[object]]:
    rows = []
    for key in keys:
        if key not in data:
            continue
        s = pct(data[key])
        rows.append([where, key, s["n"], s["p50"], s["p95"], s["p99"], s["mean"], s["max"]])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="passes over the questions in process (default 5)")
    ap.add_argument("--http-reps", type=int, default=3, help="passes over the questions over HTTP (default 3)")
    ap.add_argument("--threads", type=int, help="embedding threads (default: the library's, 1 when serving)")
    ap.add_argument("--no-http", action="store_true", help="skip the HTTP part")
    args = ap.parse_args(argv)

    env = embed_threads(args.threads)
    print(machine_line())
    print(f"{len(QUESTIONS)} questions, {len(SEARCHES)} searches; percentiles in ms")

    note_load("loading the service (model + bundled index)")
    service = load_service()
    m = service.index.manifest.counts
    print(f"bundled corpus: {m['documents']} documents, {m['items']} items, {m['clauses']} clauses")
    note_load("in-process latency")
    local = in_process(service, args.reps)
    intents = sorted(k for k in local if k.startswith("ask:"))
    rows = rows_for("in process", local, ["ask", "ask, repeated", "search", "search, repeated", "embed_query", *intents])

    if not args.no_http:
        data_dir = service.config.data_dir
        del service
        note_load("starting `policyqa serve` on 127.0.0.1")
        server = start_server(data_dir, env)
        try:
            note_load(f"HTTP latency against 127.0.0.1:{server.port}")
            remote = over_http(server.port, args.http_reps)
        finally:
            server.stop()
        rows += rows_for("HTTP", remote, ["ask", "ask, repeated", "search", "search, repeated"])

    table(
        f"Latency, bundled corpus ({engine_line()})",
        ["where", "request", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms", "max ms"],
        rows,
    )
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
