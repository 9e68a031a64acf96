"""Every answer and every search result, written out whole, so that a refactor can show it changed none.

    python -m eval.same_answers --out /tmp/before.jsonl
    … change the code …
    python -m eval.same_answers --out /tmp/after.jsonl --compare /tmp/before.jsonl

Each line is one question of a gold file (its whole Answer: text, intent, fields, citations, reason)
or one query of eval/gold/search.jsonl (its ranked items with scores, highlights and targets), over
an index built fresh in a temporary folder from the documents the set is about: the bundled corpus
for dev.jsonl and the searches, tests/data/genre for genre.jsonl, tests/data/genre3 and tests/data/genre4 for theirs.
Latencies are left out. `--compare` prints the lines that differ and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETS: dict[str, tuple[str, str | None]] = {
    # name: (gold file, documents; None for the bundled corpus)
    "dev": ("eval/gold/dev.jsonl", None),
    "genre": ("eval/gold/genre.jsonl", "tests/data/genre"),
    "genre3": ("eval/gold/genre3.jsonl", "tests/data/genre3"),
    "genre4": ("eval/gold/genre4.jsonl", "tests/data/genre4"),
}


def _service(documents: str | None):
    from corpus import bundled_sources
    from corpus.config import load_config
    from qa.service import PolicyQA, load_embedder

    config = dataclasses.replace(load_config(), data_dir=Path(tempfile.mkdtemp(prefix="policyqa-same-")))
    service = PolicyQA(config, load_embedder(config))
    paths = bundled_sources() if documents is None else sorted(
        p for p in (ROOT / documents).iterdir() if p.suffix in (".txt", ".md", ".html") and p.name != "README.md")
    service.build(list(paths), progress=False)
    return service


def snapshot(sets: list[str]) -> list[dict]:
    """One record per question and per search, in a fixed order."""
    from eval.gold import load_gold, load_search_gold

    rows: list[dict] = []
    for name in sets:
        gold, documents = SETS[name]
        service = _service(documents)
        for q in load_gold(ROOT / gold):
            rows.append({"set": name, "id": q.id, "answer": dataclasses.asdict(service.ask(q.question))})
        if documents is None:
            for s in load_search_gold(ROOT / "eval/gold/search.jsonl"):
                results = [{"item": r.item.item_id, "score": round(r.score, 6), "ref": r.ref,
                            "highlights": list(r.highlights), "targets": [dataclasses.asdict(t) for t in r.targets]}
                           for r in service.search(s.query)]
                rows.append({"set": "search", "id": s.id, "results": results})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="write the snapshot here (JSON lines)")
    ap.add_argument("--compare", type=Path, help="an earlier snapshot: print the differences, exit 1 if any")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = ap.parse_args(argv)
    rows = snapshot(args.sets)
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} answers and searches written to {args.out}")
    if args.compare is None:
        return 0
    before = {(r["set"], r["id"]): line for line in args.compare.read_text(encoding="utf-8").splitlines()
              if line and (r := json.loads(line))}
    after = {(r["set"], r["id"]): line for r, line in zip(rows, lines, strict=True)}
    differ = [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    for key in differ[:20]:
        print(f"DIFFERS {key[0]} {key[1]}\n  before: {before.get(key, '—')[:400]}\n  after:  {after.get(key, '—')[:400]}")
    print(f"{len(differ)} of {len(after)} differ" if differ else f"all {len(after)} identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
