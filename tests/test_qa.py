"""Questions in Chinese get cited answers composed from item fields; absent topics are refused."""

from __future__ import annotations

import pytest

from corpus.aliases import load_aliases
from qa.understand import Lexicon, understand


@pytest.fixture(scope="module")
def lexicon(doc000, doc004):
    return Lexicon.from_items([*doc000.items, *doc004.items], load_aliases())


class TestUnderstand:
    @pytest.mark.parametrize(
        ("question", "intent"),
        [
            ("农村公路新改建由谁牵头？", "owner"),
            ("哪个单位负责跨乡镇土地综合整治？", "owner"),
            ("义新欧班列开行目标是多少？", "target"),
            ("印发年度工作要点什么时候完成？", "deadline"),
            ("杭衢铁路建德至衢州段总投资多少？", "investment"),
            ("农村公路新改建的牵头领导是哪位？", "lead_official"),
            ("王文序副省长牵头哪些重点工作？", "list"),
            ("省统计局负责哪些任务", "list"),
            ("介绍一下未来社区建设", "general"),
            # the length of a period is a figure; the day it ends is a date
            ("临时注册证的有效期多长？", "target"),
            ("这份措施的有效期到什么时候？", "deadline"),
        ],
    )
    def test_intent(self, lexicon, question, intent):
        assert understand(question, lexicon).intent == intent

    def test_alias_resolves_to_corpus_form(self, lexicon):
        q = understand("省发改委负责哪些工作？", lexicon)
        assert "省发展改革委" in q.units

    def test_topic_drops_question_words(self, lexicon):
        q = understand("农村公路新改建由谁牵头？", lexicon)
        assert q.topic == "农村公路新改建"

    @pytest.mark.parametrize(("question", "topic"), [
        ("城市更新计划里建晨星口袋公园这件事，谁牵头？", "城市更新建晨星口袋公园"),  # 计划 is a question word too
        ("清单中加快推进旧住房更新改造的那一项由哪些单位推进？", "清单中加快推进旧住房更新改造推进"),
    ])
    def test_topic_drops_words_that_point_at_the_task(self, lexicon, question, topic):
        assert understand(question, lexicon).topic.replace(" ", "") == topic


class TestOwnerOfAnItemWithoutOne:
    def test_the_item_is_cited_and_the_answer_is_a_refusal(self, lexicon):
        from corpus import parse_text
        from index.hybrid import Hit
        from qa.answer import NOT_FOUND, compose

        parsed = parse_text("某省关于做好物资保障工作的通知\n一、支持政策\n（一）实施采购便利化政策。"
                            "各级预算单位采购防控物资的，按有关规定执行。\n", "t")
        item, = parsed.items
        hit = Hit(parsed.clauses[0], item, 0.9)
        answer = compose(understand("实施采购便利化政策由谁负责？", lexicon), [hit], {})
        assert not answer.found
        assert answer.answer.startswith(NOT_FOUND) and "未列明责任单位" in answer.answer
        assert answer.citations and answer.citations[0].item_id == item.item_id


class TestOwnerFromTheAnnexedList:
    def test_a_body_paragraph_without_owners_gives_way_to_the_row_that_names_them(self, tmp_path):
        from corpus.config import Config
        from qa.service import PolicyQA
        from tests.support.fakes import HashEmbedder

        cells = ["附件", "某区城市更新重点任务清单（2023-2025年）", "任务类型", "序号", "工作任务", "推进单位",
                 "行动一：再造发展新极行动", "1", "重点推进东斯文里区域整体更新，打造发展新的增长引擎",
                 "区规划资源局、区建设管理委、江宁路街道", "2", "推进走马塘片区规划研究", "区规划资源局、区商务委"]
        text = ("# 某区城市更新行动方案\n\n二、重点任务\n\n（一）再造发展新极。重点推进东斯文里区域整体更新，"
                "打造发展新的增长引擎。\n\n（二）重塑美丽新居。全面完成零星旧里改造。\n\n" + "\n\n".join(cells) + "\n")
        svc = PolicyQA(Config(data_dir=tmp_path / "d", model_dir=tmp_path / "none"), HashEmbedder(32))
        doc = tmp_path / "plan.md"
        doc.write_text(text, encoding="utf-8")
        svc.build([doc], progress=False)
        answer = svc.ask("东斯文里区域整体更新由哪些单位推进？")
        assert answer.found and answer.fields.units == ("区规划资源局", "区建设管理委", "江宁路街道")
        assert "附件" in answer.citations[0].ref or "清单" in answer.citations[0].ref


class TestAnswers:
    def test_rural_roads(self, service):
        answer = service.ask("农村公路新改建由谁牵头？")
        assert answer.found
        assert "张家胜" in answer.answer and "省交通运输厅" in answer.answer
        assert answer.fields.lead_officials == ("张家胜",)
        assert answer.citations[0].ref == "〔浙政办发〔2023〕6号 十方面民生实事责任分解 › 七、交通出行方面〕"

    def test_list_of_an_official_across_parts(self, service):
        answer = service.ask("王文序副省长牵头哪些重点工作？")
        assert answer.intent == "list" and answer.found
        sections = {c.section for c in answer.citations}
        assert len(answer.citations) == 8
        assert any("今后五年" in s for s in sections) and any("2023年" in s for s in sections)
        assert any("养老帮困" in s for s in sections) and any("便民服务" in s for s in sections)

    def test_list_of_a_unit(self, service):
        answer = service.ask("省统计局负责哪些任务？")
        assert answer.found and len(answer.citations) >= 8
        for citation in answer.citations:
            assert "省统计局" in service.index.items[citation.item_id].units

    def test_investment(self, service):
        answer = service.ask("杭衢铁路建德至衢州段今年计划投资多少？")
        assert answer.found and "17" in answer.answer and "236.3" in answer.answer

    def test_deadline_from_merged_cell(self, service):
        answer = service.ask("印发年度工作要点和重大改革清单什么时候完成？")
        assert answer.found and answer.fields.deadline == "5月"

    def test_target(self, service):
        answer = service.ask("5G基站建设目标是多少？")
        assert answer.found and "20万个" in answer.answer

    @pytest.mark.parametrize(
        "question",
        ["火星基地建设目标是多少？", "上海市浦东新区的垃圾分类由谁负责？", "深圳前海自贸区的扩区方案什么时候出台？"],
    )
    def test_absent_topics_are_refused(self, service, question):
        answer = service.ask(question)
        assert not answer.found
        assert answer.answer == "未找到相关条目" and answer.citations == ()

    def test_search_highlights_and_targets(self, service):
        results = service.search("5G基站")
        assert results
        top = results[0]
        assert any("【" in h for h in top.highlights)
        assert any(t.value == "20" for r in results[:3] for t in r.targets)


class TestSearchStrategy:
    """/search is lexical first: the query embedding is paid only when the words are not in an item."""

    @staticmethod
    def _search(service, query):
        service.index.query_cache.clear()
        results = service.search(query, limit=5)
        return results, len(service.index.query_cache)

    def test_a_keyword_in_the_text_needs_no_embedding(self, service):
        results, embedded = self._search(service, "5G基站")
        assert embedded == 0
        assert all("5G" in r.item.norm for r in results[:2])

    def test_a_unit_named_as_in_the_units_field_needs_no_embedding(self, service):
        results, embedded = self._search(service, "省药监局")
        assert embedded == 0 and "省药监局" in results[0].item.units

    def test_a_name_the_text_does_not_use_falls_back_to_meaning(self, service):
        # the alias table's full name: BM25 finds no item that says it, so the hybrid ranking decides
        results, embedded = self._search(service, "省药品监督管理局")
        assert embedded == 1
        assert "省药监局" in results[0].item.units
