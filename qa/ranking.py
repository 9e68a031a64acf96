"""Ranking: the index's candidates (keyword, dense) fused by reciprocal rank, with qa's boosts.

The index retrieves (`HybridIndex.candidates`); what makes a clause the better answer to a question —
a phrase of the question in it, the unit or official the question names, a target stated — is qa's,
with named weights (`RankingWeights`) that a caller can change.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpus.aliases import names_unit
from corpus.normalize import normalize
from index.hybrid import Filters, Hit, HybridIndex, SearchMode
from qa.fusion import reciprocal_rank_fusion


@dataclass(frozen=True)
class RankingWeights:
    """What each piece of evidence adds to a clause's fused score (RRF scores are about 0.016 a list)."""

    rrf_k: int = 60
    phrase_in_clause: float = 0.002  # per character of the longest run of a question phrase in the clause
    phrase_in_item: float = 0.001  # per further character of that run found in the clause's item
    phrase_in_section: float = 0.001  # per character of the run in the section path
    phrase_run_min: int = 4  # shorter runs count for nothing
    phrase_run_cap: int = 10  # longer runs count as this long
    row_named: float = 0.015  # the question names this table row exactly
    unit: float = 0.01  # the clause names a unit the question names
    official: float = 0.01  # the clause names an official the question names
    target: float = 0.008  # the clause states a target (target and investment questions)
    project: float = 0.006  # the clause is a project row (investment questions)


@dataclass(frozen=True)
class Evidence:
    """What of a question the ranking looks for in a candidate."""

    phrases: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    wants_target: bool = False
    wants_project: bool = False


def rank(index: HybridIndex, query: str, filters: Filters | None = None, top_k: int = 10, mode: SearchMode = "hybrid",
           evidence: Evidence = Evidence(), weights: RankingWeights = RankingWeights(),
           candidates: int = 100) -> list[Hit]:
    """Ranked clauses for a query: the channels `mode` names (hybrid, bm25, dense), fused, boosted."""
    found = index.candidates(query, filters, mode, candidates)
    rankings = found.rankings()
    rows = set().union(*map(set, rankings)) if rankings else set()
    boosts = _boosts(index, rows, evidence, weights)
    fused = reciprocal_rank_fusion(rankings, k=weights.rrf_k, boosts=boosts)
    keyword_rank = {row: r for r, row in enumerate(found.keyword or (), start=1)}
    dense_rank = {row: r for r, row in enumerate(found.dense or (), start=1)}
    hits = []
    for row, score in fused[:top_k]:
        clause = index.clauses[row]
        hits.append(Hit(
            clause=clause,
            item=index.items[clause.item_id],
            score=score,
            bm25_score=found.keyword_score(row),
            dense_score=(found.dense_scores or {}).get(row, 0.0),
            bm25_rank=keyword_rank.get(row) if found.keyword is not None else None,
            dense_rank=dense_rank.get(row) if found.dense is not None else None,
        ))
    return hits


def _boosts(index: HybridIndex, rows: set[int], evidence: Evidence, w: RankingWeights) -> dict[int, float]:
    """Boosts for candidates: the longest stretch of a question phrase found in the clause (or its
    item, or its section title), a table row named exactly, a named unit or official, a target."""
    boosts: dict[int, float] = {}
    phrase_norms = [normalize(p) for p in evidence.phrases if len(normalize(p)) >= 3]
    unit_variants = [index.unit_variants(u) for u in evidence.units]
    officials = set(evidence.officials)
    for row in rows:
        clause = index.clauses[row]
        item = index.items[clause.item_id]
        b = 0.0
        section_norm, name = index.row_names(item) if phrase_norms else ("", "")
        for p in phrase_norms:
            in_clause = longest_common_run(p, clause.norm)
            in_item = longest_common_run(p, item.norm) if in_clause < len(p) else in_clause
            if max(in_clause, in_item) >= w.phrase_run_min:
                b += (w.phrase_in_clause * min(in_clause, w.phrase_run_cap)
                      + w.phrase_in_item * min(max(in_item - in_clause, 0), w.phrase_run_cap))
            in_section = longest_common_run(p, section_norm)
            if in_section >= w.phrase_run_min:
                b += w.phrase_in_section * min(in_section, w.phrase_run_cap)
            if len(name) >= 4 and name in p:
                b += w.row_named
        for variants in unit_variants:
            if any(names_unit(v, u) for u in clause.units for v in variants):
                b += w.unit
        if officials and officials & set(clause.lead_officials):
            b += w.official
        if evidence.wants_target and clause.targets:
            b += w.target
        if evidence.wants_project and clause.kind == "project":
            b += w.project
        if b:
            boosts[row] = b
    return boosts


def longest_common_run(a: str, b: str) -> int:
    """Length of the longest substring of `a` (a short phrase) that occurs in `b`."""
    best = 0
    n = len(a)
    for i in range(n):
        # only try lengths that would beat the best so far
        length = best + 1
        while i + length <= n and a[i : i + length] in b:
            best = length
            length += 1
    return best
