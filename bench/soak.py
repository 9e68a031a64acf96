"""Soak test: a real `policyqa serve` on 127.0.0.1 under a long, bounded, mixed load.

    .venv/bin/python -m bench.soak                       # 10,000 requests at concurrency 16
    .venv/bin/python -m bench.soak --requests 2000 --json soak.json
    .venv/bin/python -m bench.soak --write-every 3          # and an upload every 3 s meanwhile

It builds the bundled corpus with the configured real model (`load_embedder(load_config())`) into a
temporary data folder (in a separate process, so the server's memory is only the server's), starts
`python -m api.cli serve` on a free loopback port, warms up, then sends the requests (a fixed-seed
mix of /ask, /search and /health) from `--concurrency` keep-alive connections. It reports errors,
latency percentiles (overall and per endpoint), throughput, the server's RSS after warm-up and after
the run (and its peak), and checks that every request produced one JSON log line with a latency.

Targets: 0 errors and RSS growth below 10 %. The exit status is 1 when a target is missed.
Self-contained: it does not depend on the other benchmarks in bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.servers import free_port  # one definition for tests and benchmarks

ROOT = Path(__file__).resolve().parent.parent

FALLBACK_QUESTIONS = [
    "农村公路新改建由谁牵头？",
    "杭衢铁路建德至衢州段今年计划投资多少？",
    "居民人均可支配收入目标是多少？",
    "王文序副省长牵头哪些重点工作？",
    "5G基站建设目标是多少？",
    "火星基地建设目标是多少？",
    "高能级战略平台由哪个单位负责？",
    "养老服务照料中心由谁牵头？",
]
SEARCHES = [
    ("5G基站", {}), ("农村公路", {}), ("充电桩", {}), ("人才", {"unit": "省委组织部"}), ("铁路", {"limit": "5"}),
    ("养老", {}), ("数字经济", {"unit": "省经信厅"}), ("投资", {"kind": "project"}), ("就业", {}), ("港口", {}),
    ("碳达峰", {}), ("医疗", {"limit": "20"}), ("教育", {}), ("科技创新", {}), ("营商环境", {}),
]


def gold_questions() -> list[str]:
    path = ROOT / "eval" / "gold" / "dev.jsonl"
    if not path.exists():
        return FALLBACK_QUESTIONS
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line).get("question")
            if q:
                out.append(q)
    return out or FALLBACK_QUESTIONS


def rss_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def percentile(values: list[float], p: float) -> float:
    """numpy's (linear) percentile, as bench.common.pct computes it; NaN for no values."""
    import numpy as np

    return float(np.percentile(values, p)) if values else float("nan")


def make_requests(n: int, seed: int, mix: tuple[float, float, float]) -> list[tuple[str, str, dict]]:
    """(endpoint, method, kwargs) for n requests: /ask, /search, /health in proportions `mix`."""
    rng = random.Random(seed)
    questions = gold_questions()
    out = []
    for _ in range(n):
        r = rng.random()
        if r < mix[0]:
            out.append(("/ask", "POST", {"json": {"question": rng.choice(questions), "top_k": rng.choice([1, 5, 10])}}))
        elif r < mix[0] + mix[1]:
            q, extra = rng.choice(SEARCHES)
            out.append(("/search", "GET", {"params": {"q": q, **extra}}))
        else:
            out.append(("/health", "GET", {}))
    return out


def write_document(n: int) -> bytes:
    """A small document of the genre for the writes of the soak (three ids, replaced in turn)."""
    return (f"某{n % 3}号市人民政府办公室关于印发2024年重点工作责任分解的通知\n一、稳增长\n"
            f"1．全市新建充电桩{1000 + n}个以上。（责任单位：市能源局、市建设局）\n").encode()


async def run_load(base: str, requests: list[tuple[str, str, dict]], concurrency: int, timeout: float,
                   write_every: float = 0.0, api_key: str = "") -> list[dict]:
    import httpx

    results: list[dict] = []
    queue: asyncio.Queue = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:

        async def worker() -> None:
            while True:
                try:
                    endpoint, method, kwargs = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    response = await client.request(method, endpoint, **kwargs)
                    ok = response.status_code == 200
                    if ok and endpoint == "/ask":
                        ok = "answer" in response.json()
                    error = None if ok else f"HTTP {response.status_code}: {response.text[:120]}"
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    error = f"{exc.__class__.__name__}: {exc}"
                results.append({"endpoint": endpoint, "ms": (time.perf_counter() - started) * 1000, "error": error})

        async def writer() -> None:
            # one upload every `write_every` seconds while the reads run (a replacement of one of 3 ids)
            n = 0
            while not queue.empty():
                await asyncio.sleep(write_every)
                started = time.perf_counter()
                try:
                    response = await client.post("/documents", headers={"X-API-Key": api_key}, files={
                        "file": (f"soak{n % 3}.txt", write_document(n), "text/plain")})
                    error = None if response.status_code == 201 else f"HTTP {response.status_code}: {response.text[:120]}"
                except Exception as exc:  # noqa: BLE001
                    error = f"{exc.__class__.__name__}: {exc}"
                results.append({"endpoint": "/documents", "ms": (time.perf_counter() - started) * 1000, "error": error})
                n += 1

        tasks = [worker() for _ in range(concurrency)] + ([writer()] if write_every else [])
        await asyncio.gather(*tasks)
    return results


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.samples.append((time.time(), rss_mb(self.pid)["VmRSS"]))
            except OSError:
                return
            self.stop.wait(self.every)


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before it was healthy")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the server was not healthy after {timeout:.0f} s")


def check_logs(path: Path) -> dict:
    """Every request log line is one JSON object with a latency; count them and anything else."""
    json_lines = with_latency = other = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            other += 1
            continue
        if isinstance(record, dict):
            json_lines += 1
            with_latency += isinstance(record.get("ms"), (int, float)) and "request_id" in record
    return {"json_lines": json_lines, "with_latency": with_latency, "other_lines": other}


def trajectory(samples: list[tuple[float, float]]) -> dict[str, float]:
    """RSS at 0, 25, 50, 75 and 100 % of the run: does it level off or keep climbing?"""
    if not samples:
        return {}
    return {f"{p}%": round(samples[min(len(samples) - 1, len(samples) * p // 100)][1], 1) for p in (0, 25, 50, 75, 100)}


def summarise(results: list[dict]) -> dict:
    by: dict[str, list[float]] = {}
    for r in results:
        by.setdefault(r["endpoint"], []).append(r["ms"])
    by["all"] = [r["ms"] for r in results]
    return {
        name: {"n": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90), "p95": percentile(v, 95), "p99": percentile(v, 99),
               "max": max(v) if v else float("nan")}
        for name, v in by.items()
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=300, help="requests before the 'before' RSS is taken")
    ap.add_argument("--mix", default="0.6,0.3,0.1", help="shares of /ask,/search,/health")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    ap.add_argument("--data-dir", help="reuse this data folder (built if it has no index); default: a temp folder")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder and the server log")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--write-every", type=float, default=0.0,
                    help="also upload a small document every this many seconds (the server gets a write key)")
    args = ap.parse_args(argv)
    mix = tuple(float(x) for x in args.mix.split(","))
    assert len(mix) == 3 and abs(sum(mix) - 1) < 1e-6, "--mix needs three shares that sum to 1"

    work = Path(tempfile.mkdtemp(prefix="policyqa-soak-"))
    data = Path(args.data_dir) if args.data_dir else work / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYQA_DATA_DIR": str(data)}
    env.pop("POLICYQA_API_KEY", None)  # a read-only server unless the soak writes too
    env.pop("POLICYQA_READ_KEY", None)
    if args.write_every:
        env["POLICYQA_API_KEY"] = "soak-write-key"
    figures: dict = {"requests": args.requests, "concurrency": args.concurrency, "write_every_s": args.write_every,
                     "mix": dict(zip(
        ("ask", "search", "health"), mix, strict=True)), "cpus": os.cpu_count()}
    proc = None
    try:
        if not (data / "index" / "manifest.json").exists():
            print(f"building the bundled corpus with the real model into {data} …", file=sys.stderr)
            started = time.time()
            subprocess.run([sys.executable, "-m", "api.cli", "build"], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            figures["build_s"] = round(time.time() - started, 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = work / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
                                     str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        started = time.time()
        wait_healthy(base, proc, timeout=300)
        figures["startup_s"] = round(time.time() - started, 1)
        figures["rss_started_mb"] = round(rss_mb(proc.pid)["VmRSS"], 1)

        warm = asyncio.run(run_load(base, make_requests(args.warmup, args.seed + 1, mix), args.concurrency,
                                    args.timeout))
        figures["warmup_errors"] = sum(1 for r in warm if r["error"])
        before = rss_mb(proc.pid)["VmRSS"]
        sampler = RssSampler(proc.pid)
        sampler.start()
        load_avg_before = os.getloadavg()
        print(f"sending {args.requests} requests at concurrency {args.concurrency} to {base} …", file=sys.stderr)
        started = time.perf_counter()
        results = asyncio.run(run_load(base, make_requests(args.requests, args.seed, mix), args.concurrency,
                                       args.timeout, args.write_every, env.get("POLICYQA_API_KEY", "")))
        wall = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        time.sleep(1.0)  # let the server finish its last log lines
        after = rss_mb(proc.pid)
        errors: dict[str, int] = {}
        for r in results:
            if r["error"]:
                key = f"{r['endpoint']} {r['error'][:80]}"
                errors[key] = errors.get(key, 0) + 1
        figures.update(
            wall_s=round(wall, 1),
            throughput_rps=round(len(results) / wall, 1),
            errors=sum(errors.values()),
            error_kinds=errors,
            latency_ms={k: {m: round(v, 1) for m, v in s.items()} for k, s in summarise(results).items()},
            rss_before_mb=round(before, 1),
            rss_after_mb=round(after["VmRSS"], 1),
            rss_peak_mb=round(max([before, after["VmRSS"], *[s for _, s in sampler.samples]]), 1),
            rss_growth_pct=round(100 * (after["VmRSS"] - before) / before, 2),
            rss_trajectory_mb=trajectory(sampler.samples),
            load_avg_before=[round(x, 2) for x in load_avg_before],
            load_avg_after=[round(x, 2) for x in os.getloadavg()],
        )
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    figures["logs"] = check_logs(work / "server.log") if (work / "server.log").exists() else {}
    total_sent = args.requests + args.warmup + 1  # + the /health that found the server ready
    figures["logs"]["expected_at_least"] = total_sent

    print(report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.keep:
        print(f"kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    ok = figures.get("errors", 1) == 0 and figures.get("rss_growth_pct", 100) < 10
    ok = ok and figures["logs"].get("with_latency", 0) >= total_sent
    return 0 if ok else 1


def report(f: dict) -> str:
    lines = [
        f"soak: {f['requests']} requests at concurrency {f['concurrency']} "
        f"(mix ask/search/health {f['mix']['ask']:.0%}/{f['mix']['search']:.0%}/{f['mix']['health']:.0%}), "
        f"{f['cpus']} CPUs",
        f"  wall {f['wall_s']} s, {f['throughput_rps']} req/s, errors {f['errors']} "
        f"(warm-up errors {f['warmup_errors']})",
    ]
    for kind, n in f["error_kinds"].items():
        lines.append(f"    {n} × {kind}")
    lines += ["", "| endpoint | n | p50 ms | p90 ms | p95 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in f["latency_ms"].items():
        lines.append(f"| {name} | {s['n']:.0f} | {s['p50']} | {s['p90']} | {s['p95']} | {s['p99']} | {s['max']} |")
    lines += [
        "",
        f"  server RSS: {f['rss_started_mb']} MB started, {f['rss_before_mb']} MB after warm-up, "
        f"{f['rss_after_mb']} MB after the run (peak {f['rss_peak_mb']} MB): growth {f['rss_growth_pct']} %",
        f"  RSS during the run (MB): {f.get('rss_trajectory_mb')}",
        f"  request log: {f['logs'].get('with_latency')} JSON lines with request_id and ms "
        f"(expected ≥ {f['logs'].get('expected_at_least')}), {f['logs'].get('other_lines')} other lines",
        f"  load average before/after: {f['load_avg_before']} / {f['load_avg_after']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
