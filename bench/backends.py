"""The local backend against Milvus (milvus-lite here): build, one-document updates, question latency.

    python -m bench.backends [--real] [--uri http://host:19530]

Both services index the bundled corpus with the same embedder (the hash fake, or the real model with
--real); the figures are wall-clock seconds and per-question milliseconds over bench.common.QUESTIONS.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from bench.common import QUESTIONS, machine_line, pct, table


def _measure(config, embedder) -> dict[str, object]:
    from corpus import parse_text
    from qa.service import PolicyQA

    svc = PolicyQA(config, embedder)
    t0 = time.perf_counter()
    svc.build(progress=False)
    out: dict[str, object] = {"build_s": time.perf_counter() - t0, "clauses": len(svc.index.clauses)}
    doc = ("某市人民政府办公室关于印发2024年重点工作任务分工方案的通知\n一、重点任务\n"
           + "".join(f"{n}.建设城市书房{n * 10}家，推进全民阅读。（责任单位：市文化广电旅游局、市财政局）\n" for n in range(1, 21)))
    t0 = time.perf_counter()
    svc.ingest_bytes(doc.encode(), "bench-doc", "bench-doc.txt")
    out["add_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    svc.apply([parse_text(doc.replace("市财政局", "市教育局"), "bench-doc")], [])
    out["replace_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    svc.delete("bench-doc")
    out["delete_s"] = time.perf_counter() - t0
    svc.ask(QUESTIONS[0])  # warm
    times = []
    for question in QUESTIONS * 2:
        t0 = time.perf_counter()
        svc.ask(question)
        times.append((time.perf_counter() - t0) * 1000)
    out["ask"] = pct(times)
    out["answers"] = [svc.ask(q).answer for q in QUESTIONS]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="the real embedding model (default: the hash fake)")
    parser.add_argument("--uri", help="a Milvus server instead of a milvus-lite file")
    args = parser.parse_args(argv)
    from corpus.config import Config, load_config
    from tests.support.fakes import HashEmbedder

    root = Path(tempfile.mkdtemp(prefix="policyqa-backends-"))
    base = load_config()
    if args.real:
        from qa.service import load_embedder

        embedder = load_embedder(base)
    else:
        embedder = HashEmbedder(384)
    local = Config(data_dir=root / "local", model_dir=base.model_dir)
    milvus = dataclasses.replace(local, data_dir=root / "milvus", backend="milvus", milvus_uri=args.uri)
    results = {"local": _measure(local, embedder), "milvus": _measure(milvus, embedder)}
    same = sum(a == b for a, b in zip(results["local"]["answers"], results["milvus"]["answers"], strict=True))
    print(machine_line())
    table(f"bundled corpus ({results['local']['clauses']} clauses), embedder {embedder.name}",
                ["backend", "build s", "add 20-item doc s", "replace s", "delete s", "/ask p50 ms", "/ask p95 ms"],
                [[name, f"{r['build_s']:.1f}", f"{r['add_s']:.1f}", f"{r['replace_s']:.1f}", f"{r['delete_s']:.1f}",
                  f"{r['ask']['p50']:.1f}", f"{r['ask']['p95']:.1f}"] for name, r in results.items()])
    print(f"identical answers: {same} of {len(QUESTIONS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
