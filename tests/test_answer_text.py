"""How answers read: lines shortened after a phrase (never inside one or inside brackets), refusals
explained in plain words, numbers in half-width."""

from __future__ import annotations

import re

import pytest

from qa.answer import summary_of


class TestSummary:
    def test_a_first_sentence_that_fits_is_kept_whole(self):
        assert summary_of("进一步强化环杭州湾经济区引领地位。以环杭州湾经济区为核心，集约布局") == "进一步强化环杭州湾经济区引领地位"

    def test_a_long_sentence_is_cut_after_a_phrase(self):
        text = "高水平打造特色专业平台，推进万亩千亩新产业平台2.0建设，力争全省新产业平台实现工业总产值超1.1万亿元"
        assert summary_of(text) == "高水平打造特色专业平台，推进万亩千亩新产业平台2.0建设…"

    def test_never_inside_brackets(self):
        text = "推进长三角生态绿色一体化发展示范区（含嘉善片区，共同建设）嘉善片区建设，加快推进祥符荡创新中心建设和水乡客厅开发建设"
        got = summary_of(text)
        assert got.count("（") == got.count("）") and got.endswith("建设…")

    def test_one_long_phrase_runs_to_its_end_when_that_is_near(self):
        text = "全面落实国家和省关于支持中小微企业和个体工商户纾困发展的各项政策措施要求，确保应享尽享"
        assert summary_of(text, 30) == "全面落实国家和省关于支持中小微企业和个体工商户纾困发展的各项政策措施要求…"


@pytest.mark.parametrize("question", ["王文序副省长牵头哪些重点工作？", "省经信厅牵头哪些工作？"])
def test_list_lines_end_at_a_phrase(service, question):
    answer = service.ask(question)
    assert answer.found
    for line in answer.answer.splitlines()[1:]:
        summary = re.sub(r"^\d+\. ", "", line).split("〔")[0]
        assert summary.count("（") == summary.count("）"), line
        if summary.endswith("…"):
            assert len(summary) <= 61, line


def test_a_refusal_says_in_words_what_the_documents_lack(service):
    answer = service.ask("火星基地建设目标是多少？")
    assert not answer.found
    assert "火星" in answer.reason and "最接近的条目" in answer.reason
    assert not re.search(r"\d\.\d\d|阈值|重合度", answer.reason)


def test_numbers_in_answers_are_half_width(service):
    # the seeds print figures in full width ("１０００公里"); answers give them in half width
    for question in ("农村公路新改建由谁牵头？", "义新欧班列开行目标是多少？", "6月底前要完成哪些工作？"):
        answer = service.ask(question)
        assert answer.found and not re.search("[０-９]", answer.answer), answer.answer
