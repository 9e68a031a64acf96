"""Calibrate the refusal threshold on a gold file: sweep it over the top hit's coverage score.

    python -m eval.calibrate --gold eval/gold/dev.jsonl
"""

from __future__ import annotations

import argparse

from corpus.config import load_config
from eval.gold import load_gold


def sweep(pairs: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(threshold, share of questions refused or answered rightly) for candidate thresholds.

    `pairs` are (coverage, answerable) per question; a question is handled rightly when it is
    answerable and its coverage reaches the threshold, or unanswerable and it does not.
    """
    out = []
    for step in range(0, 101, 2):
        t = step / 100
        ok = sum((c >= t) == answerable for c, answerable in pairs)
        out.append((t, ok / len(pairs)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gold", default="eval/gold/dev.jsonl")
    args = parser.parse_args()
    from qa.service import PolicyQA, load_embedder

    config = load_config()
    service = PolicyQA(config, load_embedder(config)).load()
    pairs = []
    for g in load_gold(args.gold):
        if g.type == "list":
            continue
        answer = service.ask(g.question)
        if not answer.found and answer.reason and "文件中没有关于" in answer.reason:
            score = 0.0  # refused by the place/year rule before any threshold
        else:
            score, _ = service.support(g.question)
        pairs.append((score, g.type != "unanswerable"))
    best = max(sweep(pairs), key=lambda tv: (tv[1], -abs(tv[0] - 0.5)))
    for t, v in sweep(pairs):
        if t <= 0.9:
            print(f"threshold {t:.2f}: {v:.1%}")
    print(f"best threshold {best[0]:.2f} ({best[1]:.1%} of {len(pairs)} questions handled rightly)")


if __name__ == "__main__":
    main()
