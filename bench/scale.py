"""Scale: a synthetic corpus of >= 100,000 items made from the bundled corpus, indexed and queried.

    .venv/bin/python -m bench.scale [--items 100000] [--seed 7] [--real-embed-budget-min 25] [--reuse]

1. Synthesis. Every synthetic document copies the structure of a bundled document (sections, item
   numbers, kinds, table fields, deadlines); every item is a real item whose responsible units and
   lead officials are swapped for other real ones from the corpus, whose numbers (not years) are
   rescaled and city names moved, which in about a third of cases has one clause replaced by a real
   clause from another item, and most of whose clauses have one comma-separated fragment swapped
   for (or extended by) a fragment of another real clause. Targets are re-extracted from the new text; investments are rescaled.
2. Embeddings. The real model embeds the source clauses and a sample of synthetic clauses (timed:
   that is the real passages/s). When embedding every synthetic clause would take longer than the
   budget, the index gets *perturbed* embeddings instead: the real embedding of each synthetic
   clause's source clause plus deterministic Gaussian noise, scaled so that the mean cosine to the
   source equals the one measured on the real sample (a text identical to its source keeps the
   source's vector). The tables say which was used. Query embeddings are always the real model's.
3. Build: index.hybrid.build_index with the library's size threshold (Config.ivf_threshold: IVF above it).
4. A fresh process loads the index with the real model and measures load time, RSS, /ask and
   /search latency in process (new questions and repeated ones), and the saved dense index's
   recall@10 against exact search (IndexFlatIP) on >= 200 real query embeddings. Then a real `policyqa serve` on 127.0.0.1 gives the server's
   RSS after start and after a bounded pass of requests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import (
    QUESTIONS,
    SEARCHES,
    Client,
    bench_dir,
    embed_threads,
    engine_line,
    loadavg,
    machine_line,
    model_dir,
    note_load,
    pct,
    rss_mb,
    start_server,
    table,
)

CITIES = ("杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市", "丽水市")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")
_NUM = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")
_CITY = re.compile("|".join(c[:-1] for c in CITIES))


# ----- 1. synthesis ------------------------------------------------------------------------------------
class Synth:
    """Deterministic recombination of the bundled corpus into a large synthetic one."""

    def __init__(self, parsed, seed: int) -> None:
        self.parsed = parsed
        self.seed = seed
        self.units = sorted({u for p in parsed for c in p.clauses for u in c.units} |
                            {u for p in parsed for i in p.items for u in i.units})
        self.officials = sorted({o for p in parsed for i in p.items for o in i.lead_officials} |
                                {o for p in parsed for c in p.clauses for o in c.lead_officials})
        self.clauses_by_item = {}
        self.source_row = {}  # source clause_id -> row in the source clause list
        row = 0
        for p in parsed:
            for c in p.clauses:
                self.clauses_by_item.setdefault(c.item_id, []).append(c)
                self.source_row[c.clause_id] = row
                row += 1
        # comma-separated fragments of real clauses, for recombination inside a clause
        self.fragments = sorted({f.strip("。；") for p in parsed for c in p.clauses for f in c.text.split("，")[1:]
                                 if len(f.strip("。；")) >= 4})
        self.items_by_kind: dict[str, list] = {}
        for p in parsed:
            for i in p.items:
                if self.clauses_by_item.get(i.item_id):
                    self.items_by_kind.setdefault(i.kind, []).append(i)

    # text rewriting: names swapped in one pass, numbers rescaled (years kept)
    @staticmethod
    def _rewrite(text: str, names: dict[str, str], factor: float) -> str:
        if names:
            pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
            text = pattern.sub(lambda m: names[m.group(0)], text)
        text = text.translate(_FULLWIDTH_DIGITS)

        def number(m: re.Match) -> str:
            s = m.group(0)
            if "." not in s and len(s) == 4 and 1949 <= int(s) <= 2100:
                return s  # a year
            decimals = len(s.split(".")[1]) if "." in s else 0
            v = float(s) * factor
            return f"{v:.{decimals}f}" if decimals else str(max(1, round(v)))

        return _NUM.sub(number, text)

    def _splice(self, rng: random.Random, text: str) -> str:
        """Recombine inside a clause: swap (or append) one comma-separated fragment for a real
        fragment of another clause, and move the city names to other cities of the province."""
        parts = text.split("，")
        end = "。" if text.endswith("。") else ("；" if text.endswith("；") else "")
        if len(parts) > 1 and rng.random() < 0.8:
            k = rng.randrange(1, len(parts))
            parts[k] = rng.choice(self.fragments) + (end if k == len(parts) - 1 else "")
            text = "，".join(parts)
        elif rng.random() < 0.6:
            text = text.rstrip("。；") + "，" + rng.choice(self.fragments) + end
        return _CITY.sub(lambda m: rng.choice(CITIES)[:-1], text)

    def _names(self, rng: random.Random, units, officials) -> dict[str, str]:
        names: dict[str, str] = {}
        for u in units:
            if u not in names:
                names[u] = rng.choice(self.units)
        for o in officials:
            if o not in names:
                names[o] = rng.choice(self.officials)
        return names

    def document(self, k: int):
        """Synthetic document k: a copy of bundled document k % n with every item rewritten."""
        from corpus.model import Document, Investment, ParsedDocument
        from corpus.normalize import normalize
        from corpus.targets import extract_targets

        src = self.parsed[k % len(self.parsed)]
        rng = random.Random(self.seed * 1_000_003 + k)
        city = CITIES[k % len(CITIES)]
        year = 2018 + k % 8
        doc_id = f"syn{k:05d}"
        title = src.document.title.replace("浙江省", city, 1).replace("2023", str(year))
        if title == src.document.title:
            title = city + title
        number = re.sub(r"〔\d{4}〕\d+号", f"〔{year}〕{k}号", src.document.number or f"〔{year}〕{k}号")
        items, clauses, source_rows = [], [], []
        for n, item in enumerate(src.items):
            own = self.clauses_by_item.get(item.item_id, [])
            if not own:
                continue
            parts = list(own)
            if rng.random() < 0.35:  # recombine: one clause from another item of the same kind
                donor_item = rng.choice(self.items_by_kind[item.kind])
                donor = rng.choice(self.clauses_by_item[donor_item.item_id])
                if len(parts) > 1:
                    parts[rng.randrange(1, len(parts))] = donor
                else:
                    parts.append(donor)
            names = self._names(rng, [u for c in parts for u in c.units] + list(item.units),
                                [o for c in parts for o in c.lead_officials] + list(item.lead_officials))
            factor = rng.choice((0.5, 0.6, 0.75, 0.8, 1.25, 1.5, 2.0, 2.5, 3.0))
            item_id = f"{doc_id}:{n:05d}"
            section = (city + item.section[0], *item.section[1:]) if item.section else item.section
            new_clauses = []
            for j, c in enumerate(parts):
                text = self._splice(rng, self._rewrite(c.text, names, factor))
                norm = normalize(text)
                new_clauses.append(replace(
                    c,
                    clause_id=f"{item_id}#{j}",
                    item_id=item_id,
                    doc_id=doc_id,
                    kind=item.kind,
                    section=section,
                    item_no=item.item_no,
                    text=text,
                    norm=norm,
                    units=tuple(names.get(u, u) for u in c.units),
                    lead_units=tuple(names.get(u, u) for u in c.lead_units),
                    lead_officials=tuple(names.get(o, o) for o in c.lead_officials),
                    targets=extract_targets(norm),
                ))
                source_rows.append(self.source_row[c.clause_id])
            body = "".join(c.text for c in new_clauses)
            owners = "、".join(names.get(u, u) for u in item.units)
            text = body + (f"（责任单位：{owners}）" if owners and "责任单位" in item.text else "")
            norm = normalize(body)
            inv = item.investment
            if inv is not None:
                total = round(inv.total * factor, 1) if inv.total is not None else None
                planned = round(inv.planned * factor, 1) if inv.planned is not None else None
                inv = Investment(total, planned, "" if total is None else f"{total:g}",
                                 "" if planned is None else f"{planned:g}")
            items.append(replace(
                item,
                item_id=item_id,
                doc_id=doc_id,
                section=section,
                text=text,
                norm=norm,
                units=tuple(names.get(u, u) for u in item.units),
                lead_units=tuple(names.get(u, u) for u in item.lead_units),
                lead_officials=tuple(names.get(o, o) for o in item.lead_officials),
                targets=extract_targets(norm),
                fields=tuple((h, self._rewrite(v, names, factor)) for h, v in item.fields),
                investment=inv,
            ))
            clauses.extend(new_clauses)
        checksum = hashlib.sha256("\n".join(i.text for i in items).encode()).hexdigest()
        document = Document(doc_id=doc_id, title=title, number=number, issuer=src.document.issuer,
                            date=src.document.date, source=f"synthetic:{k}", checksum=checksum)
        return ParsedDocument(document, tuple(items), tuple(clauses)), source_rows


def synthesize(parsed, n_items: int, seed: int):
    synth = Synth(parsed, seed)
    docs, rows = [], []
    total = 0
    k = 0
    while total < n_items:
        doc, source_rows = synth.document(k)
        docs.append(doc)
        rows.extend(source_rows)
        total += len(doc.items)
        k += 1
    return docs, rows


# ----- 2. embeddings ---------------------------------------------------------------------------------------
class PrecomputedEmbedder:
    """Passages from a table (text -> vector) built beforehand; queries from the real model.
    Carries the real model's name so the index loads with the real model."""

    def __init__(self, real, table: dict[str, np.ndarray]) -> None:
        self.real, self.table = real, table

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def dimension(self) -> int:
        return self.real.dimension

    def embed_passages(self, texts):
        return np.stack([self.table[t] for t in texts]).astype(np.float32)

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)


def perturbed(source_vecs: np.ndarray, rows: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = source_vecs[rows] + rng.standard_normal((len(rows), source_vecs.shape[1]), dtype=np.float32) * sigma
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


# ----- 4. measuring in a fresh process ----------------------------------------------------------------------
def recall_queries(folder: Path, n_extra: int, seed: int) -> list[str]:
    """The fixed questions and searches plus keyword-like queries cut from random clauses."""
    rng = random.Random(seed)
    lines = (folder / "clauses.jsonl").read_text(encoding="utf-8").splitlines()
    out = list(QUESTIONS) + list(SEARCHES)
    while len(out) < len(QUESTIONS) + len(SEARCHES) + n_extra:
        text = json.loads(lines[rng.randrange(len(lines))])["norm"]
        if len(text) < 8:
            continue
        start = rng.randrange(0, max(1, len(text) - 12))
        out.append(text[start : start + rng.randint(6, 16)])
    return out


def dense_recall(folder: Path, qv: np.ndarray, delta: float = 0.01) -> list[dict]:
    """recall@10 of the saved dense index against exact inner-product search (IndexFlatIP), by id
    and by score: an approximate hit counts in the second when its similarity is within `delta` of
    the exact 10th (near-duplicate clauses make exact ids arbitrary among near-equal scores)."""
    import faiss

    vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    t0 = time.perf_counter()
    exact_sims, exact = flat.search(qv, 10)
    flat_ms = (time.perf_counter() - t0) * 1000 / len(qv)
    rows = [{"index": "IndexFlatIP (exact)", "efSearch": "–", "recall": 1.0, "recall_score": 1.0, "top1_gap": 0.0,
             "ms": flat_ms}]
    dense = faiss.read_index(str(folder / "dense.faiss"))
    if isinstance(dense, faiss.IndexIVF):
        saved = dense.nprobe
        name = type(dense).__name__
        for nprobe in sorted({4, 8, saved, 32, 64}):
            dense.nprobe = nprobe
            t0 = time.perf_counter()
            sims, approx = dense.search(qv, 10)
            rows.append({
                "index": f"{name} nlist={dense.nlist}{' (as saved)' if nprobe == saved else ''}",
                "efSearch": f"nprobe {nprobe}",
                "recall": float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])),
                "recall_score": float(np.mean(((sims >= exact_sims[:, -1:] - delta) & (approx >= 0)).sum(axis=1) / 10)),
                "top1_gap": float(np.mean(exact_sims[:, 0] - sims[:, 0])),
                "ms": (time.perf_counter() - t0) * 1000 / len(qv),
            })
        return rows
    if not hasattr(faiss.downcast_index(dense), "hnsw"):
        return rows
    hnsw = faiss.downcast_index(dense)
    saved = hnsw.hnsw.efSearch
    for ef in sorted({16, 64, saved, 256, 512, 1024}):
        hnsw.hnsw.efSearch = ef
        t0 = time.perf_counter()
        sims, approx = hnsw.search(qv, 10)
        ms = (time.perf_counter() - t0) * 1000 / len(qv)
        rows.append({
            "index": f"HNSW M=32, efConstruction=80{' (as saved)' if ef == saved else ''}",
            "efSearch": ef,
            "recall": float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])),
            "recall_score": float(np.mean(((sims >= exact_sims[:, -1:] - delta) & (approx >= 0)).sum(axis=1) / 10)),
            "top1_gap": float(np.mean(exact_sims[:, 0] - sims[:, 0])),
            "ms": ms,
        })
    return rows


def measure(data_dir: Path, reps: int, n_recall: int, seed: int) -> dict:
    from corpus.config import load_config
    from qa.service import PolicyQA, load_embedder

    result: dict = {"rss_start": rss_mb()}
    config = load_config().with_overrides(data_dir=data_dir, model_dir=model_dir())
    t0 = time.perf_counter()
    embedder = load_embedder(config)
    embedder.embed_queries(["预热"])
    result["model_load_s"] = time.perf_counter() - t0
    result["rss_model"] = rss_mb()
    t0 = time.perf_counter()
    service = PolicyQA(config, embedder).load()
    result["index_load_s"] = time.perf_counter() - t0
    result["rss_loaded"] = rss_mb()
    index = service.index
    result["counts"] = index.manifest.counts
    result["dense"] = index.manifest.dense

    intents = {q: service.ask(q).intent for q in QUESTIONS}  # warm-up
    for q in SEARCHES:
        service.search(q)
    lat: dict[str, list[float]] = {"ask": [], "search": [], "ask_repeated": [], "search_repeated": []}
    load_before = loadavg()
    for _ in range(reps):
        # each pass: every question new to the query-embedding cache, then the same again (cache hits)
        for requests, run in ((QUESTIONS, service.ask), (SEARCHES, service.search)):
            kind = "ask" if run == service.ask else "search"
            index.query_cache.clear()
            for repeated in (False, True):
                for q in requests:
                    t0 = time.perf_counter()
                    run(q)
                    ms = (time.perf_counter() - t0) * 1000
                    lat[f"{kind}_repeated" if repeated else kind].append(ms)
                    if kind == "ask" and not repeated:
                        lat.setdefault(f"ask:{intents[q]}", []).append(ms)
    result["latency"] = {k: pct(v) for k, v in lat.items()}
    result["load"] = [load_before, loadavg()]
    result["rss_after_queries"] = rss_mb()

    # recall@10 of the saved (HNSW) dense index against exact inner-product search
    queries = recall_queries(index.folder, max(0, n_recall - len(QUESTIONS) - len(SEARCHES)), seed)
    t0 = time.perf_counter()
    qv = np.asarray(embedder.embed_queries(queries), dtype=np.float32)
    result["query_embed_ms_each"] = (time.perf_counter() - t0) * 1000 / len(queries)
    rows = dense_recall(index.folder, qv)
    result["recall"] = rows
    result["n_recall_queries"] = len(queries)
    result["rss_end"] = rss_mb()
    return result


def recall_table(res: dict) -> str:
    return table(
        f"Scale: dense recall@10 against exact search (IndexFlatIP), {res['n_recall_queries']} real query embeddings",
        ["index", "efSearch / nprobe", "recall@10 (ids)", "recall@10 (score within 0.01 of the exact 10th)",
         "mean top-1 similarity lost", "ms per query (batched)"],
        [[r["index"], r["efSearch"], f"{r['recall']:.3f}", f"{r['recall_score']:.3f}", f"{r['top1_gap']:.4f}",
          f"{r['ms']:.3f}"] for r in res["recall"]],
    )


def recall_only(folder: Path, n: int, seed: int) -> dict:
    from corpus.config import load_config
    from qa.service import load_embedder

    embedder = load_embedder(load_config().with_overrides(model_dir=model_dir()))
    queries = recall_queries(folder, max(0, n - len(QUESTIONS) - len(SEARCHES)), seed)
    qv = np.asarray(embedder.embed_queries(queries), dtype=np.float32)
    return {"recall": dense_recall(folder, qv), "n_recall_queries": len(queries)}


# ----- the run ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000, help="synthetic items (default 100,000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sample", type=int, default=400, help="synthetic clauses embedded with the real model")
    ap.add_argument("--real-embed-budget-min", type=float, default=25.0,
                    help="embed every clause with the real model only if that is estimated to fit (minutes)")
    ap.add_argument("--reps", type=int, default=3, help="passes over the questions when measuring latency")
    ap.add_argument("--recall-queries", type=int, default=300, help="queries for recall@10 (>= 200)")
    ap.add_argument("--http-seconds", type=float, default=30.0, help="bound of the HTTP pass (seconds)")
    ap.add_argument("--threads", type=int, help="embedding threads (POLICYQA_EMBED_THREADS) here, in the measuring "
                    "process and in the server; default: the library's (1 when serving)")
    ap.add_argument("--ivf-threshold", type=int, help="override Config.ivf_threshold (for small trial runs)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the index already built in the work folder, if it is in the current format "
                    "(skips synthesis, embeddings and build)")
    ap.add_argument("--recall-only", type=Path, metavar="DATA_DIR",
                    help="only recompute the recall table for an index already built in DATA_DIR")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: the fresh measuring process
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    # threads through POLICYQA_EMBED_THREADS (ONNX Runtime or torch), here, in the measuring process
    # and in the server; importing torch here would add ~200 MB to the measured RSS
    server_env = embed_threads(args.threads) or None
    if args.recall_only:
        recall_table(recall_only(args.recall_only / "index", args.recall_queries, args.seed))
        return 0
    if args.measure:
        res = measure(args.measure, args.reps, args.recall_queries, args.seed)
        args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str))
        return 0

    from corpus import bundled_sources, parse_file
    from corpus.config import load_config
    from index.hybrid import build_index, embed_clauses
    from index.store import dense_text
    from qa.service import load_embedder

    print(machine_line())
    print(engine_line())
    work = bench_dir() / f"scale-{args.items}"
    config = load_config().with_overrides(data_dir=work, model_dir=model_dir())
    if args.ivf_threshold is not None:
        config = config.with_overrides(ivf_threshold=args.ivf_threshold)
    report: list[str] = []

    reused = bool(args.reuse) and (config.index_dir / "item_df.json").exists()
    if args.reuse and not reused:
        note_load(f"no index in the current format under {work}: building it")
    built: dict = {}
    if reused:
        note_load(f"reusing the index built in {work}")
        manifest = json.loads((config.index_dir / "manifest.json").read_text(encoding="utf-8"))
        size_mb = sum(f.stat().st_size for f in config.index_dir.resolve().rglob("*") if f.is_file()) / 2**20
    else:
        # 1. synthesis
        note_load("synthesising the corpus")
        parsed = [parse_file(p) for p in bundled_sources()]
        source_clauses = [c for p in parsed for c in p.clauses]
        t0 = time.perf_counter()
        docs, rows = synthesize(parsed, args.items, args.seed)
        synth_s = time.perf_counter() - t0
        clauses = [c for d in docs for c in d.clauses]
        n_items = sum(len(d.items) for d in docs)
        texts = [dense_text(c) for c in clauses]
        unique: dict[str, int] = {}
        for row, t in zip(rows, texts, strict=True):
            unique.setdefault(t, row)
        print(f"synthetic corpus: {len(docs)} documents, {n_items:,} items, {len(clauses):,} clauses "
              f"({len(unique):,} distinct clause texts) from {len(source_clauses):,} real clauses in {synth_s:.1f} s")
        example = next(d for d in docs if d.document.doc_id.endswith("1")).items[3]
        print(f"example item: {example.text[:120]} | units {example.units} | targets {[t.text for t in example.targets][:3]}")

        # 2. embeddings
        real = load_embedder(config)
        real.embed_queries(["预热"])
        note_load("embedding the real source clauses")
        t0 = time.perf_counter()
        source_vecs = embed_clauses(real, source_clauses, progress=False)
        src_s = time.perf_counter() - t0
        rng = random.Random(args.seed)
        changed = [t for t in unique if t != dense_text(source_clauses[unique[t]])]
        sample = rng.sample(changed, min(args.sample, len(changed)))
        note_load(f"embedding a sample of {len(sample)} synthetic clauses with the real model")
        t0 = time.perf_counter()
        sample_vecs = np.asarray(real.embed_passages(sample), dtype=np.float32)
        sample_s = time.perf_counter() - t0
        rate = len(sample) / sample_s
        estimate_min = len(unique) / rate / 60
        sample_src = source_vecs[[unique[t] for t in sample]]
        cos_real = float(np.mean(np.sum(sample_vecs * sample_src, axis=1)))
        d = source_vecs.shape[1]
        sigma = float(np.sqrt(max(1 / cos_real**2 - 1, 1e-6) / d))
        use_real = estimate_min <= args.real_embed_budget_min
        note_load(f"real model: {rate:.1f} passages/s; all {len(unique):,} distinct texts would take {estimate_min:.0f} min")
        t0 = time.perf_counter()
        vec_rows = np.array([unique[t] for t in unique])
        if use_real:
            vecs = embed_clauses(real, clauses, progress=False)
            table_vecs = {t: v for t, v in zip(texts, vecs, strict=True)}
            method = "real model (every clause)"
        else:
            noisy = perturbed(source_vecs, vec_rows, sigma, args.seed)
            table_vecs = {}
            for (t, row), v in zip(unique.items(), noisy, strict=True):
                table_vecs[t] = source_vecs[row] if t == dense_text(source_clauses[row]) else v
            method = "PERTURBED real embeddings of the source clauses (not the model's)"
        embed_s = time.perf_counter() - t0
        check = perturbed(source_vecs, np.array([unique[t] for t in sample]), sigma, args.seed + 1)
        cos_pert_src = float(np.mean(np.sum(check * sample_src, axis=1)))
        cos_pert_real = float(np.mean(np.sum(check * sample_vecs, axis=1)))
        report.append(table(
            "Scale: embeddings",
            ["what", "figure"],
            [
                ["real model, source clauses", f"{len(source_clauses):,} in {src_s:.1f} s = {len(source_clauses) / src_s:.1f} passages/s"],
                ["real model, synthetic sample", f"{len(sample)} in {sample_s:.1f} s = {rate:.1f} passages/s"],
                ["real model, all distinct synthetic texts (estimate)", f"{len(unique):,} texts ≈ {estimate_min:.0f} min"],
                ["embeddings used for the index", method],
                ["mean cos(real synthetic, real source) on the sample", f"{cos_real:.3f} → noise σ = {sigma:.4f} per dimension"],
                ["mean cos(perturbed, source) / cos(perturbed, real synthetic)", f"{cos_pert_src:.3f} / {cos_pert_real:.3f}"],
                ["time to make the index's embeddings", f"{embed_s:.1f} s"],
            ],
        ))

        # 3. build
        note_load("building the index (build_index)")
        embedder = PrecomputedEmbedder(real, table_vecs)
        t0 = time.perf_counter()
        build_index(config.index_dir, docs, embedder, ivf_threshold=config.ivf_threshold, progress=False)
        build_s = time.perf_counter() - t0
        manifest = json.loads((config.index_dir / "manifest.json").read_text(encoding="utf-8"))
        size_mb = sum(f.stat().st_size for f in config.index_dir.resolve().rglob("*") if f.is_file()) / 2**20
        from index.tokenize import ChineseTokenizer

        tok = ChineseTokenizer()
        probe = texts[:5000]
        t0 = time.perf_counter()
        for t in probe:
            tok(t)
        tok_s = (time.perf_counter() - t0) / len(probe) * len(clauses)
        build_rss = rss_mb()
        del table_vecs, embedder, docs

        built = {"synth_s": synth_s, "build_s": build_s, "tok_s": tok_s, "estimate_min": estimate_min,
                 "build_rss": build_rss}

    # 4. measure in a fresh process, then the real server
    note_load("measuring in a fresh process (load, latency, RSS, recall@10)")
    out = work / "measure.json"
    subprocess.run([sys.executable, "-m", "bench.scale", "--measure", str(work), "--out", str(out),
                    "--reps", str(args.reps), "--recall-queries", str(args.recall_queries),
                    "--seed", str(args.seed), *(["--threads", str(args.threads)] if args.threads else [])], check=True, cwd=Path(__file__).resolve().parent.parent)
    res = json.loads(out.read_text())

    note_load("starting `policyqa serve` on the synthetic index")
    server = start_server(work, server_env, timeout=900)
    try:
        rss_start = rss_mb(server.pid)
        client = Client(server.port, timeout=120)
        http_ms: list[float] = []
        stop = time.perf_counter() + args.http_seconds
        for q in (list(QUESTIONS) + list(SEARCHES)) * 3:
            if time.perf_counter() > stop:
                break
            t0 = time.perf_counter()
            status, _ = client.ask(q) if q in QUESTIONS else client.search(q)
            http_ms.append((time.perf_counter() - t0) * 1000)
        client.close()
        rss_after = rss_mb(server.pid)
    finally:
        server.stop()
    h = pct(http_ms)

    c = manifest["counts"]
    lat = res["latency"]
    report.append(table(
        f"Scale: {c['items']:,} items, {c['clauses']:,} clauses, {c['documents']:,} documents (dense index: {manifest['dense']})",
        ["measure", "figure", "target"],
        [
            *([
                ["synthesis", f"{built['synth_s']:.1f} s", ""],
                ["build_index (embeddings precomputed: excludes the model)",
                 f"{built['build_s']:.1f} s = {c['clauses'] / built['build_s']:,.0f} clauses/s", ""],
                ["… of which BM25 tokenisation (jieba, estimated from 5,000 clauses)", f"≈ {built['tok_s']:.0f} s", ""],
                ["… plus real-model embedding of every distinct clause (estimate)", f"≈ {built['estimate_min']:.0f} min", ""],
                ["builder process RSS peak (VmHWM)", f"{built['build_rss']['hwm']:,.0f} MB", ""],
            ] if built else [["build", f"reused the index built {manifest.get('created', '?')}", ""]]),
            ["index folder size", f"{size_mb:,.0f} MB", ""],
            ["fresh process: model load / index load", f"{res['model_load_s']:.1f} s / {res['index_load_s']:.1f} s", ""],
            ["fresh process RSS: model only / + index / after queries",
             f"{res['rss_model']['rss']:,.0f} / {res['rss_loaded']['rss']:,.0f} / {res['rss_after_queries']['rss']:,.0f} MB "
             f"(anon {res['rss_after_queries']['anon']:,.0f}, file-backed {res['rss_after_queries']['file']:,.0f})", "≤ 1,200 MB"],
            ["load average during the in-process latency runs (start / end)",
             f"{res['load'][0]:.2f} / {res['load'][1]:.2f}", ""],
            ["/ask in process p50 / p95, new questions (query cache emptied)",
             f"{lat['ask']['p50']:.1f} / {lat['ask']['p95']:.1f} ms (n={lat['ask']['n']})", "p95 ≤ 100 ms"],
            ["/ask in process p50 / p95, repeated (query cache hits)",
             f"{lat['ask_repeated']['p50']:.1f} / {lat['ask_repeated']['p95']:.1f} ms (n={lat['ask_repeated']['n']})", ""],
            ["/search in process p50 / p95, new / repeated",
             f"{lat['search']['p50']:.1f} / {lat['search']['p95']:.1f} ms; {lat['search_repeated']['p50']:.1f} / "
             f"{lat['search_repeated']['p95']:.1f} ms (n={lat['search']['n']} each)", ""],
            ["server RSS after start / after requests",
             f"{rss_start['rss']:,.0f} / {rss_after['rss']:,.0f} MB (anon {rss_after['anon']:,.0f}, file-backed {rss_after['file']:,.0f})", "≤ 1,200 MB"],
            ["server start to healthy", f"{server.started_s:.1f} s", ""],
            ["HTTP /ask+/search sequential p50 / p95 (3 passes; the first new to the query cache)", f"{h['p50']:.1f} / {h['p95']:.1f} ms (n={h['n']})", ""],
        ],
    ))
    report.append(table(
        "Scale: /ask latency by intent, in process, new questions (ms)",
        ["intent", "n", "p50", "p95", "max"],
        [[k.split(":")[1], v["n"], v["p50"], v["p95"], v["max"]] for k, v in sorted(lat.items()) if k.startswith("ask:")],
    ))
    report.append(recall_table(res))
    (work / "report.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"\ntables written to {work / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
