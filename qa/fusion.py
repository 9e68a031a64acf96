"""Reciprocal rank fusion with boosts: a pure function over rankings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    k: int = 60,
    weights: Sequence[float] | None = None,
    boosts: Mapping[int, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: score(id) = Σ w / (k + rank) + boost(id).

    Ties break on the smaller id, so the result is deterministic. Inputs are not modified.
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    for doc, boost in (boosts or {}).items():
        if doc in scores:
            scores[doc] += boost
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
