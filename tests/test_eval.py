"""The scorer itself, on a small hand-made gold file with known results."""

from __future__ import annotations

import json

import pytest

from eval.calibrate import sweep
from eval.gold import GoldError, load_gold
from eval.run import evaluate
from eval.scoring import Prediction, aggregate, score_one

GOLD = [
    {"id": "q1", "question": "农村公路新改建由谁牵头？", "type": "owner", "item": "农村公路新改建１０００公里",
     "units": ["省交通运输厅"], "lead_officials": ["张家胜"]},
    {"id": "q2", "question": "义新欧开行目标？", "type": "target", "item": "开行“义新欧”班列", "value": "2200"},
    {"id": "q3", "question": "印发工作要点什么时候？", "type": "deadline", "item": "印发年度工作要点", "deadline": "5 月"},
    {"id": "q4", "question": "火星基地谁负责？", "type": "unanswerable", "item": None},
    {"id": "q5", "question": "王成国牵头哪些？", "type": "list", "items": ["推进扫黑除恶常态化", "织密基层社会平安网"]},
]

ANSWERS = {
    # right item and fields; full-width digits and spaces in the cited text still match
    "q1": Prediction(True, "农村公路新改建由张家胜牵头", ("开工建设义龙庆高速；农村公路新改建 １０００ 公里",),
                     units=("省交通运输厅",), lead_officials=("张家胜",)),
    # right item second, wrong value ("22000" must not count as 2200)
    "q2": Prediction(True, "开行22000列", ("别的条目", "开行“义新欧”班列 ２２００ 列以上")),
    "q3": Prediction(True, "5月", ("印发年度工作要点和重大改革清单",), deadline="5月"),
    "q4": Prediction(True, "省发展改革委", ("某条目",)),  # should have refused
    "q5": Prediction(True, "两项", ("推进扫黑除恶常态化，…", "织密基层社会平安网…", "无关条目")),
}


@pytest.fixture()
def gold_file(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(g, ensure_ascii=False) for g in GOLD) + "\n", encoding="utf-8")
    return path


def test_scores_each_check(gold_file):
    gold = {g.id: g for g in load_gold(gold_file)}
    s1 = score_one(gold["q1"], ANSWERS["q1"])
    assert s1.correct and s1.rank == 1
    s2 = score_one(gold["q2"], ANSWERS["q2"])
    assert s2.rank == 2 and s2.checks == {"answered": True, "citation@1": False, "value": False}
    assert score_one(gold["q3"], ANSWERS["q3"]).correct
    assert score_one(gold["q4"], ANSWERS["q4"]).checks == {"refused": False}
    s5 = score_one(gold["q5"], ANSWERS["q5"])
    assert s5.list_recall == 1.0 and s5.list_precision == pytest.approx(2 / 3) and not s5.correct


def test_aggregate_known_results(gold_file):
    gold = load_gold(gold_file)
    scores = [score_one(g, ANSWERS[g.id]) for g in gold]
    m = aggregate(scores)
    assert m["accuracy"] == pytest.approx(2 / 5, abs=1e-4)
    assert m["citation@1"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["citation@5"] == 1.0
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4)
    assert m["refusal_recall"] == 0.0 and m["refusal_precision"] is None
    assert m["value_hit"] == 0.0 and m["deadline_em"] == 1.0 and m["units_em"] == 1.0


def test_refusal_metrics():
    gold = load_gold_from([{"id": "a", "question": "x", "type": "unanswerable"},
                           {"id": "b", "question": "y", "type": "owner", "item": "甲乙丙丁"}])
    scores = [score_one(gold[0], Prediction(False, "未找到", ())), score_one(gold[1], Prediction(False, "未找到", ()))]
    m = aggregate(scores)
    assert m["refusal_recall"] == 1.0 and m["refusal_precision"] == 0.5 and m["accuracy"] == 0.5


def load_gold_from(rows, tmp=None):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "g.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return load_gold(path)


def test_vanilla_rag_fields_come_from_the_chunk(gold_file):
    gold = {g.id: g for g in load_gold(gold_file)}
    chunk = Prediction(True, "…", ("农村公路新改建 １０００ 公里（牵头领导：张家胜，责任单位：省交通运输厅）",),
                       fields_from_text=True)
    assert score_one(gold["q1"], chunk).correct


def test_report_files(gold_file, tmp_path):
    report = evaluate(gold_file, {"policyqa": lambda q: ANSWERS[next(g["id"] for g in GOLD if g["question"] == q)]},
                      tmp_path / "out")
    assert report["results"]["policyqa"]["overall"]["questions"] == 5
    assert {f["id"] for f in report["failures"]} == {"q2", "q4", "q5"}
    for name in ("report.json", "report.md", "chart.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "q2" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_bad_gold_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "q", "type": "nonsense"}\n', encoding="utf-8")
    with pytest.raises(GoldError, match="bad.jsonl:1"):
        load_gold(path)


def test_threshold_sweep():
    pairs = [(0.9, True), (0.7, True), (0.2, False), (0.5, False)]
    best = max(sweep(pairs), key=lambda tv: tv[1])
    assert best[1] == 1.0 and 0.5 < best[0] <= 0.7


def test_dev_gold_is_valid():
    gold = load_gold("eval/gold/dev.jsonl")
    assert len(gold) >= 200
    assert sum(g.type == "unanswerable" for g in gold) >= 25
    assert {g.type for g in gold} == {"owner", "lead_official", "deadline", "target", "investment", "list", "unanswerable"}
    assert len(load_gold("eval/gold/genre.jsonl")) >= 30


def test_the_cli_writes_no_tracked_report_unless_asked(real_config, tmp_path, capsys):
    import argparse
    from pathlib import Path

    from eval.run import main

    tracked = Path(__file__).resolve().parent.parent / "eval" / "report" / "report.json"
    before = tracked.read_bytes()
    doc = Path(__file__).resolve().parent / "data" / "genre" / "ncp_xiangtan_zxqy_2020.txt"
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "u1", "question": "火星基地谁负责？", "type": "unanswerable", "item": None},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    args = argparse.Namespace(gold=str(gold), url=None, baselines=False, out=None, docs=[str(doc)], search=None)
    assert main(args, real_config) == 0
    written = Path(capsys.readouterr().out.strip().splitlines()[-1].removeprefix("report: "))
    assert written.is_file() and written.parent.name.startswith("policyqa-eval-report-")
    assert tracked.read_bytes() == before


def test_a_deadline_framed_by_zhi_and_zhi_is_its_date():
    from eval.scoring import same_deadline

    assert same_deadline("至2020年6月30日止", "2020年6月30日")
    assert same_deadline("到2029年底", "2029年底")
    assert not same_deadline("至2020年6月30日止", "2020年12月31日")
    assert not same_deadline("2020年6月底止", "2020年6月30日")
