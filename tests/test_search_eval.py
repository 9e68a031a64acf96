"""The keyword-search scorer (eval.scoring.score_search) on hand-computed examples, and the gold loader."""

import json
import math

import pytest

from eval.gold import GoldError, load_search_gold
from eval.scoring import aggregate_search, score_search


def test_metrics_on_a_hand_example():
    # relevant: a, b, c; shown: x a y b (c missed)
    s = score_search("q1", "literal", ("a", "b", "c"), ["x", "a", "y", "b"])
    assert s.returned == 4 and s.hits == 2
    assert s.recall == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(2 / 4)
    assert s.rr == pytest.approx(1 / 2)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert s.ndcg == pytest.approx(dcg / ideal)
    assert s.first_relevant is False


def test_cut_at_k_duplicates_once_and_recall_reachable_beyond_k():
    relevant = tuple(f"r{i}" for i in range(15))
    ranked = ["r0", "r0"] + [f"r{i}" for i in range(1, 12)]
    s = score_search("q", "unit", relevant, ranked, k=10)
    assert s.returned == 10 and s.hits == 10
    assert s.recall == 1.0 and s.precision == 1.0 and s.ndcg == pytest.approx(1.0) and s.rr == 1.0


def test_nothing_shown_and_no_answer_queries():
    empty = score_search("q", "paraphrase", ("a",), [])
    assert (empty.recall, empty.precision, empty.rr, empty.ndcg, empty.first_relevant) == (0.0, 0.0, 0.0, 0.0, False)
    none = score_search("n", "none", (), ["x", "y"])
    assert none.recall is None and none.returned == 2
    agg = aggregate_search([score_search("q1", "literal", ("a",), ["a"]), empty, none,
                            score_search("n2", "none", (), [])])
    assert agg["with_relevant"] == 2 and agg["none_queries"] == 2
    assert agg["recall@10"] == 0.5 and agg["mrr@10"] == 0.5 and agg["first_hit_relevant"] == 0.5
    assert agg["zero_recall"] == 0.5
    assert agg["none_mean_returned"] == 1.0 and agg["none_empty"] == 0.5


def test_search_gold_loader(tmp_path):
    good = tmp_path / "g.jsonl"
    good.write_text(json.dumps({"id": "s1", "query": "充电桩", "kind": "literal", "relevant": ["d:1"]}, ensure_ascii=False)
                    + "\n" + json.dumps({"id": "s2", "query": "火星", "kind": "none", "relevant": []}) + "\n",
                    encoding="utf-8")
    gold = load_search_gold(good)
    assert [g.relevant for g in gold] == [("d:1",), ()]
    bad = tmp_path / "b.jsonl"
    bad.write_text(json.dumps({"id": "s1", "query": "x", "kind": "none", "relevant": ["d:1"]}) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match="b.jsonl:1"):
        load_search_gold(bad)


def test_the_shipped_search_gold_loads():
    gold = load_search_gold("eval/gold/search.jsonl")
    assert len(gold) >= 60 and len({g.id for g in gold}) == len(gold)
    assert {g.kind for g in gold} >= {"literal", "paraphrase", "unit", "project", "none"}
