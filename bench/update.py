"""Updates at scale: add, replace and delete one real 20-item document in a 100,000-item index.

    .venv/bin/python -m bench.update [--items 100000] [--seed 7] [--doc tests/data/genre/…] [--reuse]

The big index is bench.scale's synthetic corpus (the bundled documents recombined), written once with
random unit vectors in place of embeddings (an update's cost does not depend on what the vectors
say; the index still has the model's name and dimension, and IVF above the size threshold, as a
real one). The document added, replaced and deleted is a real document of the genre, parsed and
embedded with the real model: that is the user's upload. Each step is `index.hybrid.update_index`,
timed, with the number of texts jieba tokenised during it (BM25 clauses and item counts).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, bench_dir, engine_line, machine_line, model_dir, note_load, rss_mb, table


def _counting_tokenizer():
    """Count the texts jieba tokenises (the cost the update is about)."""
    from index.tokenize import ChineseTokenizer

    counts = {"texts": 0}
    original = ChineseTokenizer.__call__

    def counted(self, text):
        counts["texts"] += 1
        return original(self, text)

    ChineseTokenizer.__call__ = counted
    return counts


def build_big(work: Path, items: int, seed: int, embedder) -> Path:
    from bench.scale import synthesize
    from corpus import bundled_sources, parse_file
    from index.store import parsed_records, write_index
    from index.tokenize import ChineseTokenizer, user_words_from_items

    parsed = [parse_file(p) for p in bundled_sources()]
    docs, _ = synthesize(parsed, items, seed)
    documents, all_items, clauses = parsed_records(docs)
    dim = len(embedder.embed_passages(["维度"])[0])
    vectors = np.random.default_rng(seed).standard_normal((len(clauses), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = sorted(user_words_from_items(all_items))
    from corpus.config import load_config

    t0 = time.perf_counter()
    folder = write_index(work / "index", documents, all_items, clauses, vectors, embedder.name, words,
                         load_config().ivf_threshold, ChineseTokenizer(words))
    print(f"built {len(all_items):,} items, {len(clauses):,} clauses in {time.perf_counter() - t0:.1f} s")
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--doc", type=Path, default=ROOT / "tests" / "data" / "genre" / "ncp_suining_zxwqy_2020.txt",
                    help="the real document added, replaced and deleted")
    ap.add_argument("--reuse", action="store_true", help="reuse the big index of an earlier run")
    ap.add_argument("--service", action="store_true",
                    help="write through a loaded PolicyQA (as a server does: its loaded records are reused, "
                    "and the new version is loaded after each write), not through update_index alone")
    args = ap.parse_args(argv)

    from corpus import parse_file
    from corpus.config import load_config
    from index.hybrid import update_index
    from index.store import read_manifest
    from qa.service import load_embedder

    print(machine_line())
    print(engine_line())
    config = load_config().with_overrides(model_dir=model_dir())
    embedder = load_embedder(config)
    work = bench_dir() / f"update-{args.items}"
    index_dir = work / "index"
    if not (args.reuse and (index_dir / "manifest.json").exists()):
        note_load("building the big index")
        build_big(work, args.items, args.seed, embedder)
    manifest = read_manifest(index_dir)
    print(f"index: {manifest.counts}, dense {manifest.dense}, format {manifest.format_version}")
    doc = parse_file(args.doc)
    changed = dataclasses.replace(doc.items[0], text=doc.items[0].text + "（修订）")
    replaced = dataclasses.replace(doc, items=(changed, *doc.items[1:]))
    service = None
    if args.service:
        from qa.service import PolicyQA

        t0 = time.perf_counter()
        service = PolicyQA(config.with_overrides(data_dir=work), embedder).load()
        print(f"service loaded in {time.perf_counter() - t0:.1f} s")
    counts = _counting_tokenizer()
    rows = []
    for label, add, delete in (("add", [doc], []), ("replace", [replaced], []), ("delete", [], [doc.document.doc_id])):
        note_load(label)
        counts["texts"] = 0
        t0 = time.perf_counter()
        if service is not None:
            service.apply(add, delete)
        else:
            update_index(index_dir, embedder, add=add, delete=delete, ivf_threshold=config.ivf_threshold)
        rows.append([label, f"{time.perf_counter() - t0:.1f}", f"{counts['texts']:,}"])
    how = "PolicyQA.apply, the new version loaded" if service is not None else "index.hybrid.update_index"
    table(f"update of a {len(doc.items)}-item document ({args.doc.name}), {manifest.counts['items']:,} items, "
          f"through {how}", ["step", "seconds", "texts tokenised"], rows)
    print(f"process RSS: {rss_mb()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
