"""`policyqa eval --search eval/gold/search.jsonl`: keyword-search quality of /search strategies.

Every strategy retrieves like PolicyQA.search (query understanding, phrase boost, items
deduplicated, 10 per page) and is scored against the same hand-judged gold: recall@10, precision@10,
MRR, nDCG@10, the share of queries whose first hit is relevant, what the no-answer queries return,
and the share of queries that had to be embedded (the cost that caps /search throughput).
Writes report.json and report.md.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from eval.gold import GoldError, SearchQuery, load_search_gold
from eval.scoring import SearchScore, score_search, summarize_search

SHOWN = ("recall@10", "precision@10", "mrr@10", "ndcg@10", "first_hit_relevant", "zero_recall",
         "none_mean_returned", "none_empty", "embedded_share", "latency_p50_ms", "latency_p95_ms")
KIND_SHOWN = ("recall@10", "ndcg@10", "first_hit_relevant")


def default_strategies(service) -> dict:
    from eval.systems import search_lexical_first, search_literal_first, search_mode, search_service

    return {
        "service": search_service(service),  # PolicyQA.search exactly as it is now
        "hybrid": search_mode(service, "hybrid"),
        "bm25": search_mode(service, "bm25"),
        "dense": search_mode(service, "dense"),
        "lexical_first_1": search_lexical_first(service, 1),
        "lexical_first_3": search_lexical_first(service, 3),
        "lexical_first_5": search_lexical_first(service, 5),
        "lexical_first_10": search_lexical_first(service, 10),
        "literal_first_1": search_literal_first(service, 1),
        "literal_first_3": search_literal_first(service, 3),
    }


def run_strategy(system, gold: list[SearchQuery]) -> tuple[list[SearchScore], list[list[str]]]:
    scores, results = [], []
    for g in gold:
        started = time.perf_counter()
        try:
            ranked, embedded = system(g.query)
        except Exception as exc:  # a failing strategy is scored (as returning nothing), not fatal
            print(f"search eval: {g.id} {g.query!r}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            ranked, embedded = [], False
        latency = (time.perf_counter() - started) * 1000
        results.append(ranked)
        scores.append(score_search(g.id, g.kind, g.relevant, ranked, 10, latency, embedded))
    return scores, results


def _cell(v, key: str = "") -> str:
    if v is None:
        return "–"
    if key.endswith("_ms") or key == "none_mean_returned":
        return f"{v:.1f}"
    return f"{v:.1%}" if isinstance(v, float) else str(v)


def write_markdown(path: Path, gold_path: str, results: dict, per_query: dict, gold: list[SearchQuery]) -> None:
    names = list(results)
    first = results[names[0]]["overall"]
    lines = [f"# Search evaluation — `{gold_path}`", "",
             f"{time.strftime('%Y-%m-%d %H:%M')} · {first['queries']} queries, {first['with_relevant']} with "
             f"relevant items, {first['none_queries']} with none", "",
             "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in SHOWN:
        lines.append(f"| {key} | " + " | ".join(_cell(results[n]["overall"].get(key), key) for n in names) + " |")
    kinds = sorted({g.kind for g in gold if g.relevant})
    for key in KIND_SHOWN:
        lines += ["", f"## {key} per kind of query", "", "| kind | n | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for kind in kinds:
            n = results[names[0]]["per_kind"][kind]["with_relevant"]
            lines.append(f"| {kind} | {n} | " + " | ".join(
                _cell(results[s]["per_kind"][kind].get(key), key) for s in names) + " |")
    lines += ["", "## Per query (hits in the top 10 / relevant, rank of the first relevant item)", "",
              "| id | query | kind | |R| | " + " | ".join(names) + " |", "|---|---|---|---|" + "---|" * len(names)]
    for i, g in enumerate(gold):
        cells = []
        for n in names:
            s = per_query[n][i]
            if not g.relevant:
                cells.append(f"{s['returned']} shown")
            else:
                rank = round(1 / s["rr"]) if s["rr"] else "–"
                cells.append(f"{s['hits']}/{min(len(g.relevant), 10)} @{rank}")
        lines.append(f"| {g.id} | {g.query} | {g.kind} | {len(g.relevant)} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluate(gold_path: str | Path, systems: dict, out: Path | None) -> dict:
    gold = load_search_gold(gold_path)
    results: dict[str, dict] = {}
    per_query: dict[str, list[dict]] = {}
    returned: dict[str, list[list[str]]] = {}
    for name, system in systems.items():
        scores, ranked = run_strategy(system, gold)
        results[name] = summarize_search(scores)
        per_query[name] = [asdict(s) for s in scores]
        returned[name] = ranked
    report = {"gold": str(gold_path), "results": results, "per_query": per_query, "returned": returned}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        write_markdown(out / "report.md", str(gold_path), results, per_query, gold)
    return report


def check_ids(gold: list[SearchQuery], items) -> list[str]:
    """Gold item ids the index does not hold (a changed parser or corpus makes the gold stale)."""
    return sorted({i for g in gold for i in g.relevant if i not in items})


def main(args, config) -> int:
    """Entry point for `policyqa eval --search FILE [--url URL] [--out DIR]`."""
    gold_path = Path(args.search)
    try:
        gold = load_search_gold(gold_path)
    except (GoldError, OSError) as exc:
        print(f"policyqa eval: {exc}", file=sys.stderr)
        return 2
    # the tracked report changes only when asked (--out eval/report-search)
    out = Path(args.out) if getattr(args, "out", None) else Path(tempfile.mkdtemp(prefix="policyqa-search-report-"))
    systems: dict = {}
    if args.url:
        from eval.systems import search_http

        systems["policyqa_http"] = search_http(args.url, config.read_key or config.api_key)
    else:
        from index.errors import Unavailable
        from qa.service import PolicyQA, load_embedder

        service = PolicyQA(config, load_embedder(config))
        try:
            service.load()
        except Unavailable:
            service.build(progress=False)
        missing = check_ids(gold, service.index.items)
        if missing:
            print(f"policyqa eval: {len(missing)} gold item ids are not in the index "
                  f"(e.g. {missing[0]}): the gold is stale for this index", file=sys.stderr)
            return 2
        service.search("预热")  # load the model before timing
        systems = default_strategies(service)
    report = evaluate(gold_path, systems, out)
    for name, res in report["results"].items():
        m = res["overall"]
        print(f"{name:24s} recall@10 {_cell(m['recall@10'])}  P@10 {_cell(m['precision@10'])}  "
              f"MRR {_cell(m['mrr@10'])}  nDCG@10 {_cell(m['ndcg@10'])}  first hit {_cell(m['first_hit_relevant'])}  "
              f"embedded {_cell(m['embedded_share'])}  p50 {m['latency_p50_ms']} ms")
    print(f"report: {out / 'report.md'}")
    return 0
