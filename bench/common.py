"""Shared pieces of the benchmarks: the fixed question list, timing statistics, tables, RSS,
the cached bundled-corpus index, a real `policyqa serve` subprocess on 127.0.0.1, and a bounded
keep-alive load generator."""

from __future__ import annotations

import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.servers import free_port  # one definition for tests and benchmarks

ROOT = Path(__file__).resolve().parent.parent

# ~40 realistic questions over the bundled corpus, every intent the service knows (owner, lead
# official, target, deadline, investment, list) plus a few it must refuse. Fixed: results are comparable.
QUESTIONS: tuple[str, ...] = (
    # owner
    "农村公路新改建由谁牵头？",
    "湖州南太湖新区由哪个单位负责？",
    "哪些单位负责高标准创建高能级战略平台？",
    "大湾区改革攻坚由哪些部门负责？",
    "杭甬人才集聚平台政策由哪个单位负责出台？",
    "推动10家省实验室高质量建设由哪些单位负责？",
    "深入推进依法行政由哪些单位负责？",
    "企业年报“多报合一”和降本减负由哪些单位负责？",
    "宁波舟山港六横公路大桥由哪些单位负责？",
    "土地要素保障机制改革由哪个部门负责？",
    # lead official
    "公证“最多跑一次”由哪位领导牵头？",
    "创建城乡放心农贸市场由哪位副省长牵头？",
    "实施蓝色海湾整治行动由哪位副省长牵头？",
    "世界一流强港和交通强省建设工程由哪位副省长牵头？",
    "居民消费价格指数涨幅控制目标由谁牵头？",
    # target
    "5G基站建设目标是多少？",
    "居民人均可支配收入目标是多少？",
    "今年全省要新建多少个未来社区？",
    "未来社区创建总数要突破多少个？",
    "今后五年全社会研发投入强度要超过多少？",
    "今年新建筹集保障性租赁住房多少万套（间）？",
    "今年沿海要建成万吨级以上泊位多少个？",
    "绍兴滨海新区全年力争实现进出口总额多少亿元？",
    # deadline
    "《金衢丽产业带高质量发展规划》什么时候印发实施？",
    "第二届全球数字贸易博览会的完成时限是？",
    "国家骨干冷链物流基地申报工作什么时候完成？",
    "金丽温开放大通道建设规划的编制什么时候完成？",
    # investment
    "杭衢铁路建德至衢州段今年计划投资多少？",
    "温州市域铁路S3线一期今年计划投资多少亿元？",
    "铁路杭州萧山机场站枢纽及接线工程总投资多少？",
    "全省5G网络建设项目总投资多少亿元？",
    "杭州大会展中心一期总投资是多少？",
    # list
    "王文序副省长牵头哪些重点工作？",
    "省药监局参与了哪些任务？",
    "省统计局负责哪些任务？",
    "张家胜副省长牵头的十方面民生实事有哪些？",
    # not in the documents: must be refused
    "火星基地建设目标是多少？",
    "城中村改造今年要完成多少个？",
    "丽水机场建设项目总投资多少亿元？",
    "新能源汽车购置补贴标准是多少？",
)

# Keyword searches, as staff type them into /search.
SEARCHES: tuple[str, ...] = (
    "5G基站", "未来社区", "农村公路", "保障性租赁住房", "研发投入", "养老服务", "数字经济",
    "海塘", "杭衢铁路", "城西科创大走廊", "自贸试验区", "省交通运输厅", "高速公路", "减负",
    "公证", "人才", "未来工厂", "山区26县", "新能源", "碳达峰",
)


def bench_dir() -> Path:
    path = Path(os.environ.get("POLICYQA_BENCH_DIR") or Path(tempfile.gettempdir()) / "policyqa-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


# ----- statistics and tables ----------------------------------------------------------------------
def pct(values_ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values_ms, dtype=float)
    if not len(a):
        return {"n": 0, "mean": float("nan"), "p50": float("nan"), "p95": float("nan"), "p99": float("nan"),
                "max": float("nan")}
    return {
        "n": int(len(a)),
        "mean": float(a.mean()),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def fmt(x: object, digits: int = 1) -> str:
    if isinstance(x, float):
        if x != x:  # nan
            return "–"
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pastes straight into docs/performance.md), printed and returned."""
    cells = [[fmt(c) for c in row] for row in rows]
    lines = [f"\n### {title}\n", "| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine_line() -> str:
    import torch

    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} intra-op threads), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def loadavg() -> float:
    return os.getloadavg()[0]


def note_load(label: str) -> None:
    """The 1-minute load average: other processes on this 2-core machine inflate every figure."""
    print(f"[{time.strftime('%H:%M:%S')}] {label} (load average {loadavg():.2f})", file=sys.stderr, flush=True)


def rss_mb(pid: int | None = None) -> dict[str, float]:
    """VmRSS and its anonymous/file parts (MB) of a process, from /proc (Linux)."""
    out = {"rss": float("nan"), "anon": float("nan"), "file": float("nan"), "hwm": float("nan")}
    try:
        text = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return out
    keys = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "hwm"}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in keys:
            out[keys[name]] = int(value.split()[0]) / 1024
    return out


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000, result


# ----- config, model, the bundled index -------------------------------------------------------------
def model_dir() -> Path:
    from corpus.config import load_config

    return load_config().model_dir


def bundled_config(data_dir: Path | None = None):
    from corpus.config import load_config

    return load_config().with_overrides(data_dir=data_dir or bench_dir() / "bundled", model_dir=model_dir())


def embed_threads(n: int | None) -> dict[str, str]:
    """Use ``n`` embedding threads here (via POLICYQA_EMBED_THREADS) and return the env for servers.

    ONNX Runtime reads the setting when the embedder loads; torch's threads are set too when the
    torch backend is chosen (POLICYQA_EMBEDDER=torch). None keeps the library's defaults.
    """
    if not n:
        return {}
    os.environ["POLICYQA_EMBED_THREADS"] = str(n)
    return {"POLICYQA_EMBED_THREADS": str(n), "OMP_NUM_THREADS": str(n)}


def engine_line() -> str:
    """Which embedding engine and thread setting the library will use, for table titles."""
    from corpus.config import load_config

    c = load_config()
    return f"embedder {c.embedder}, threads {c.embed_threads or 'default (1 serving, all building)'}"


def bundled_checksum() -> str:
    from corpus import bundled_sources, parse_file
    from index.store import corpus_checksum

    return corpus_checksum([parse_file(p).document for p in bundled_sources()])


def ensure_bundled_index(embedder, data_dir: Path | None = None) -> Path:
    """The bundled corpus's index in the bench folder, built once and reused while the corpus and
    the model are unchanged (building it is measured by bench.build, not here)."""
    from index.store import read_manifest
    from qa.service import PolicyQA

    config = bundled_config(data_dir)
    try:
        m = read_manifest(config.index_dir)
        if m.model == embedder.name and m.corpus_checksum == bundled_checksum():
            return config.data_dir
    except Exception:  # noqa: BLE001 - missing or unreadable: rebuild
        pass
    note_load(f"building the bundled index into {config.data_dir} (once)")
    PolicyQA(config, embedder).build(progress=False)
    return config.data_dir


def load_service(data_dir: Path | None = None, embedder=None):
    """A loaded PolicyQA over the bundled index (built first if needed), model warmed up."""
    from qa.service import PolicyQA, load_embedder

    config = bundled_config(data_dir)
    embedder = embedder or load_embedder(config)
    ensure_bundled_index(embedder, config.data_dir)
    service = PolicyQA(config, embedder).load()
    embedder.embed_queries(["预热"])
    return service


# ----- a real server --------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    started_s: float
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_server(data_dir: Path, env: dict[str, str] | None = None, timeout: float = 600,
                 command: Sequence[str] | None = None) -> Server:
    """`policyqa serve` (the real command) on 127.0.0.1:<free port>; returns once /health is 200.
    `command` replaces `policyqa serve` (it gets `--port PORT` appended)."""
    port = free_port()
    log = bench_dir() / f"server-{port}.log"
    if command:
        cmd = [*command, "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), "--model-dir", str(model_dir()),
               "serve", "--host", "127.0.0.1", "--port", str(port)]
    full_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
    server = Server(proc, port, 0.0, log)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                server.started_s = time.perf_counter() - started
                return server
            conn.close()
        except OSError:
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"the server did not become healthy within {timeout:.0f} s: see {log}")


class Client:
    """One keep-alive HTTP/1.1 connection to the server (127.0.0.1 only)."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def _do(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def ask(self, question: str) -> tuple[int, bytes]:
        body = json.dumps({"question": question}, ensure_ascii=False).encode()
        return self._do("POST", "/ask", body, {"Content-Type": "application/json"})

    def search(self, query: str) -> tuple[int, bytes]:
        return self._do("GET", "/search?" + urllib.parse.urlencode({"q": query}))

    def close(self) -> None:
        self.conn.close()


# ----- a bounded load generator ----------------------------------------------------------------------
@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


def run_load(port: int, kind: str, inputs: Sequence[str], concurrency: int = 8, seconds: float = 30.0,
             max_requests: int = 20_000) -> LoadResult:
    """`concurrency` threads, each with its own keep-alive connection, cycling through `inputs`,
    until `seconds` have passed or `max_requests` were sent (whichever comes first)."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(max_requests))
    stop_at = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        client = Client(port)
        call = client.ask if kind == "ask" else client.search
        local: list[float] = []
        errors = 0
        i = offset
        while time.perf_counter() < stop_at:
            with lock:
                if next(counter, None) is None:
                    break
            t0 = time.perf_counter()
            try:
                status, _ = call(inputs[i % len(inputs)])
                if status != 200:
                    errors += 1
            except OSError:
                errors += 1
            local.append((time.perf_counter() - t0) * 1000)
            i += 1
        client.close()
        with lock:
            result.latencies_ms.extend(local)
            result.errors += errors

    threads = [threading.Thread(target=worker, args=(k * 7,), daemon=True) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    result.seconds = time.perf_counter() - t0
    result.requests = len(result.latencies_ms)
    return result
