"""The classes of real questions that answers must hold up under (scope, twin copies, premises, missing
figures, target preference, short names, clause-group lists, two questions in one, stability), on the
bundled documents and on small documents of the genre built in the test."""

from __future__ import annotations

import pytest

from corpus.aliases import derive_aliases, same_level_variants, unit_level
from corpus.model import Target
from qa.answer import pick_target
from qa.figures import asked_figure, missing_words


def cited_units(service, answer) -> list[tuple[str, ...]]:
    return [service.index.items[c.item_id].units for c in answer.citations]


class TestScopeNamedInTheQuestion:
    def test_list_stays_inside_the_named_part(self, service):
        answer = service.ask("今后五年目标任务里王文序副省长牵头哪些工作？")
        assert answer.found and answer.citations
        assert all("今后五年" in c.section for c in answer.citations)

    def test_same_official_in_the_other_part(self, service):
        answer = service.ask("2023年重点工作责任分解中王文序副省长牵头哪些工作？")
        assert answer.found and answer.citations
        assert not any("今后五年" in c.section for c in answer.citations)


class TestTwinCopies:
    def test_the_named_leaders_copy_is_cited(self, service):
        answer = service.ask("李岩益副省长名下的严格落实粮食安全和耕地保护责任，由哪几个单位分别牵头？")
        assert answer.found and answer.fields.lead_officials == ("李岩益",)
        assert "李岩益" in answer.citations[0].section

    def test_neither_named_gives_both(self, service):
        answer = service.ask("严格落实粮食安全和耕地保护责任由哪位副省长牵头？")
        assert answer.found
        assert "徐文光" in answer.answer and "李岩益" in answer.answer


class TestWrongPremise:
    def test_the_documents_unit_and_a_plain_no(self, service):
        answer = service.ask("惠民保赔付率达到75%是省卫健委负责吗？")
        assert answer.found and answer.answer.startswith("不是")
        assert answer.fields.units == ("省医保局",)

    def test_a_right_premise_is_confirmed(self, service):
        answer = service.ask("惠民保赔付率达到75%是省医保局负责吗？")
        assert answer.found and answer.answer.startswith("是的")


class TestMissingFigure:
    def test_total_investment_not_listed(self, service):
        answer = service.ask("之江实验室二期工程科研区总投资多少亿元？")
        assert not answer.found and answer.reason

    def test_another_level_of_the_same_thing(self, service):
        answer = service.ask("2023年实验室建设要争创几家全国重点实验室？")
        assert answer.found and "3" in answer.answer
        assert "省部级" not in answer.answer.split("〔")[0].split("同一条目")[0]

    def test_indicator_the_item_does_not_state(self, service):
        answer = service.ask("杭州、嘉兴科创金融改革试验区2023年科创贷款余额要达到多少亿元？")
        assert not answer.found and "余额" in answer.reason

    @pytest.mark.parametrize(("question", "kind", "unit"), [
        ("之江实验室二期工程2023年计划投资多少？", "money", ""),
        ("今年要新建多少个5G基站？", "count", "个"),
        ("赔付率要达到多少？", "percent", ""),
        ("提前多少日报送？", "time", "日"),
        ("地区生产总值增长多少？", None, ""),  # a change without its unit: percent or amount, not said
    ])
    def test_kind_of_the_asked_figure(self, question, kind, unit):
        asked = asked_figure(question)
        assert (asked.kind, asked.unit) == (kind, unit)

    def test_level_word_before_the_thing(self):
        class Words:
            def words(self, text):
                return [w for w in ("全国", "重点", "实验室") if w in text]

            def __call__(self, text):
                return self.words(text)

        assert missing_words("要争创 全国重点实验室", "新增省部级重点实验室5家", Words()) == ["全国"]
        assert missing_words("要争创 全国重点实验室", "争创3家全国重点实验室", Words()) == []


class TestTargetPreference:
    def test_the_task_stating_the_number_not_the_project_row(self, service):
        answer = service.ask("未来社区建设工程今年要新建多少个未来社区？")
        assert answer.found and "300" in answer.answer


class TestShortNames:
    @pytest.mark.parametrize(("question", "unit"), [
        ("十方面民生实事里省人社厅负责哪些？", "省人力社保厅"),
        ("省交通厅负责哪些民生实事？", "省交通运输厅"),
    ])
    def test_short_form_filters_the_unit(self, service, question, unit):
        answer = service.ask(question)
        assert answer.found and answer.citations
        assert all(unit in units for units in cited_units(service, answer))


class TestClauseGroupLists:
    def test_each_line_is_the_matching_clause_group(self, service):
        answer = service.ask("省医保局负责哪些民生实事？")
        assert answer.found
        assert any("惠民保" in c.text for c in answer.citations)
        assert all("省医保局" in units for units in cited_units(service, answer))


class TestTwoQuestionsInOne:
    def test_figure_and_owner(self, service):
        answer = service.ask("惠民保赔付率目标是多少，责任单位是哪个？")
        assert answer.found and "75%" in answer.answer and "省医保局" in answer.answer

    def test_deadline_and_recipient(self, service):
        answer = service.ask("开展省级新区、高能级战略平台考核评价工作什么时候完成？由哪些单位负责？")
        assert answer.found and "5月" in answer.answer and "省发展改革委" in answer.answer


GENRE_DOC = """某市人民政府办公室关于印发2024年民生实事项目任务分工的通知
一、教育方面
1.新建改扩建中小学校10所。（牵头单位：市教育局；配合单位：市住建局、市自然资源局）
2.新增公办幼儿园学位3000个。（责任单位：市教育局）
二、交通方面
3.新改建农村公路200公里。（牵头单位：市交通运输局；配合单位：市财政局）
"""

UNRELATED_DOC = """某县人民政府关于印发2024年安全生产工作要点的通知
一、强化责任落实
1.开展安全生产大检查，排查整治隐患500处以上。（责任单位：县应急管理局）
2.完成农村公路安全生命防护工程50公里。（牵头单位：县交通运输局）
"""


class TestStableAnswers:
    def test_an_unrelated_document_does_not_move_an_answer(self, make_writable_service):
        svc = make_writable_service("k")
        svc.ingest_bytes(GENRE_DOC.encode(), "city_minsheng", "city.txt")
        question = "某市今年新改建农村公路多少公里？由哪个单位牵头？"
        before = svc.ask(question)
        svc.ingest_bytes(UNRELATED_DOC.encode(), "county_safety", "county.txt")
        after = svc.ask(question)
        assert before.found and "200" in before.answer and "市交通运输局" in before.answer
        assert (after.answer, [c.item_id for c in after.citations][:1]) == (
            before.answer, [c.item_id for c in before.citations][:1])


class TestTableCellTargets:
    ROW = (
        Target("江桥镇·件数：319件", "319", "件"),
        Target("江桥镇·2024-2026年任务量：950亩", "950", "亩"),
        Target("江桥镇·2025年约2200亩：360.43亩", "360.43", "亩", year="2025"),
        Target("江桥镇·2026年约1700亩：278.54亩", "278.54", "亩", year="2026"),
    )

    def test_a_period_asked_is_the_period_column(self):
        assert pick_target(self.ROW, "江桥镇2024-2026年总任务量是多少亩？").value == "950"

    def test_a_year_asked_is_that_years_column(self):
        assert pick_target(self.ROW, "江桥镇2026年要完成多少亩？").value == "278.54"

    def test_the_column_label_outweighs_a_note_in_a_cell(self):
        row = (Target("广东·1995年招生人数：120（扩招）人", "120", "人", year="1995"),
               Target("广东·扩招：30人", "30", "人"))
        assert pick_target(row, "按1996年内地西藏班扩招计划表，广东的扩招任务是多少人？").value == "30"


class TestUnitLevels:
    def test_a_leveled_name_keeps_its_level(self):
        table = derive_aliases({None: {"发展改革委"}, "区": {"发展改革委"}})
        assert "区发改委" in table.variants("国家发展改革委")  # the table links them through the bare name
        assert "区发改委" not in same_level_variants(table, "国家发展改革委")
        assert "国家发改委" in same_level_variants(table, "国家发展改革委")
        assert "发展改革委" in same_level_variants(table, "区发展改革委")

    def test_market_regulation_is_not_a_city(self):
        assert unit_level("市场监管局") is None and unit_level("市市场监管局") == "市"


FIRE_DOC = """某区消防救援支队关于印发2024年消防救援工作方案的通知
一、强化火灾防控
1.开展高层建筑消防安全专项整治。（责任单位：区消防救援支队）
2.推进消防救援站建设。（责任单位：区消防救援支队、区住房城乡建设委）
"""


class TestScopeInsideAUnitName:
    def test_a_title_word_inside_a_unit_does_not_scope_the_question(self, make_writable_service):
        svc = make_writable_service("k")
        svc.ingest_bytes(FIRE_DOC.encode(), "district_fire", "fire.txt")
        answer = svc.ask("省消防救援总队参与哪些任务？")
        assert answer.found and answer.citations
        assert all("省消防救援总队" in svc.index.items[c.item_id].units for c in answer.citations)

    def test_the_list_names_the_unit_as_asked(self, service):
        answer = service.ask("省发改委负责哪些民生实事？")
        assert answer.answer.startswith("省发改委共涉及")


# two documents of the genre on the same subject: the question names one by its issuer, year and a
# title run split by other words; one item's sentence names a unit as its subject without a role
CENTRAL_DOC = """国务院关于做好促进就业工作的若干意见
一、支持企业稳定发展
（一）加大稳岗支持力度。对不裁员的参保企业返还失业保险费。（人力资源社会保障部、财政部负责。列第一位者为牵头单位，下同）
（二）支持小微企业融资担保。各地政府性融资担保基金优先为小微企业提供担保。（财政部、人民银行负责）
二、落实各方责任
（三）明确部门组织协调责任。人力资源社会保障部要统筹协调就业政策制定。财政部要加大资金支持力度，保障就业政策落实。（各有关部门和单位按职责分工负责）
国务院
2018年11月16日
"""
PROVINCE_DOC = """某省人民政府关于印发某省进一步稳定和促进就业若干政策措施的通知
一、减轻企业负担
1.返还失业保险费。对不裁员的企业返还失业保险费。（责任单位：省人力资源社会保障厅、省财政厅）
2.支持小微企业融资担保。鼓励融资担保机构降低担保费率。（责任单位：省财政厅）
某省人民政府
2020年2月20日
"""


@pytest.fixture(scope="module")
def jobs_service(make_writable_service):
    svc = make_writable_service("k")
    svc.ingest_bytes(CENTRAL_DOC.encode(), "central_jobs", "central.txt")
    svc.ingest_bytes(PROVINCE_DOC.encode(), "province_jobs", "province.txt")
    return svc


class TestNamedByIssuerAndYear:
    def test_signature_gives_issuer_and_date_and_is_no_part_of_the_last_item(self, jobs_service):
        doc = jobs_service.documents()["central_jobs"]
        assert (doc.issuer, doc.date) == ("国务院", "2018-11-16")
        last = [i for i in jobs_service.index.items.values() if i.doc_id == "central_jobs"][-1]
        assert "2018年11月16日" not in last.text and not last.text.rstrip().endswith("国务院")

    def test_a_title_run_split_by_the_year_names_the_document(self, jobs_service):
        answer = jobs_service.ask("国务院2018年促进就业若干意见里，人力资源社会保障部牵头的有哪些事项？")
        assert answer.found and {c.doc_id for c in answer.citations} == {"central_jobs"}

    def test_a_sentence_subject_without_a_role_leads_nothing(self, jobs_service):
        answer = jobs_service.ask("国务院2018年促进就业若干意见里，财政部牵头的有哪些事项？")
        assert answer.found
        assert [c.item_no for c in answer.citations] == ["(二)"]  # not (三), where 财政部 is only a subject


class TestDescribedScope:
    def test_a_leading_place_phrase_and_a_name_before_a_number(self):
        from qa.scope import described_scope

        assert described_scope("督查激励30项措施里,对交通建设成效好的省份由哪些部门负责?") == ("督查激励30项措施",)
        assert described_scope("国办督查激励措施(国办发〔2018〕117号)对创新驱动成效明显的省份支持几家?") == (
            "国办督查激励措施",)
        assert described_scope("省发改委负责哪些任务?") == ()


# a document of the genre with a fund, a sub-industry's total and a yes/no aside in one item
FIGURES_DOC = """某市人民政府关于印发促进体育消费和农业生产若干措施的通知
一、支持农业生产
1.加大财政支持。市财政安排500万元农业生产专项资金。（责任单位：市财政局）
2.给予临时性工作补助。对一线人员按照每人每天300元给予补助。临时性工作补助免征个人所得税。（责任单位：市人力资源社会保障局）
二、发展体育产业
3.发展目标。到2025年，体育竞赛表演产业总规模达到2万亿元。（责任单位：市体育局）
"""


@pytest.fixture(scope="module")
def figures_service(make_writable_service):
    svc = make_writable_service("k")
    svc.ingest_bytes(FIGURES_DOC.encode(), "city_figures", "figures.txt")
    return svc


class TestFigureOfSomethingElse:
    def test_a_narrower_things_total_is_not_the_total_asked(self):
        from qa.figures import _narrower_total

        said = "到2025年,体育竞赛表演产业总规模达到2万亿元"
        assert _narrower_total("到2025年体育产业总规模 ", said) == ["体育产业"]
        assert _narrower_total("到2025年体育竞赛表演产业总规模 ", said) == []

    def test_sub_industry_total_refused(self, figures_service):
        answer = figures_service.ask("某市到2025年体育产业总规模要达到多少？")
        assert not answer.found and "体育产业" in answer.reason

    def test_a_funds_figure_is_not_the_subsidys(self, figures_service):
        from index.tokenize import ChineseTokenizer

        item = "加大财政支持。市财政安排500万元农业生产专项资金。"
        sentence = "市财政安排500万元农业生产专项资金"
        tokenizer = ChineseTokenizer()
        assert missing_words("用于生猪养殖补贴的是 ", sentence, tokenizer, "", item) == ["补贴"]
        assert missing_words("用于生猪养殖补助的是 ", "给予生猪养殖补助500万元", tokenizer, "", item) == []
        assert not figures_service.ask("某市农业生产专项资金中用于生猪养殖补贴的是多少万元？").found
        right = figures_service.ask("某市农业生产专项资金安排多少万元？")
        assert right.found and "500万元" in right.answer


class TestYesNoAside:
    def test_the_item_sentence_on_the_aside_is_quoted(self, figures_service):
        answer = figures_service.ask("某市对一线人员的临时性工作补助标准是多少？这笔补助要缴个人所得税吗？")
        assert answer.found and "300元" in answer.answer and "免征个人所得税" in answer.answer

    def test_a_single_question_has_no_aside(self):
        from corpus.aliases import parse_aliases
        from qa.understand import Lexicon, understand

        lexicon = Lexicon.from_items([], parse_aliases(""), lambda t: list(t))
        assert understand("临时性工作补助标准是多少？", lexicon).asides == ()
        assert understand("补助标准是多少？要缴个人所得税吗？", lexicon).asides == ("要缴个人所得税吗",)


BODY_AND_TABLE_DOC = """某区2026年节能减排重点工作安排
一、重点工作安排
（一）加快推进能源绿色低碳转型
2026年新增光伏装机规模2590千瓦以上。推动“光伏+”工程。
（二）推动工业节能降碳
推进重点用能企业节能改造。
附件
某区能源绿色低碳转型任务分工表
序号\t工作任务\t责任单位
1\t新增光伏装机规模5500千瓦\t区发展改革委
2\t推进重点用能企业节能改造\t区科技经济委
"""


class TestBodyNamed:
    def test_the_body_not_the_annexed_table(self, make_writable_service):
        svc = make_writable_service("k")
        svc.ingest_bytes(BODY_AND_TABLE_DOC.encode(), "district_energy", "energy.txt")
        answer = svc.ask("某区2026年节能减排重点工作安排正文（能源绿色低碳转型部分）提出新增光伏装机规模多少千瓦以上？")
        assert answer.found and "2590" in answer.answer
        assert not svc.index.items[answer.citations[0].item_id].annex


class TestWhichOneList:
    def test_which_item_a_unit_answers_for_is_a_list(self):
        from corpus.aliases import parse_aliases
        from qa.understand import Lexicon, understand

        lexicon = Lexicon.from_items([], parse_aliases(""), lambda t: list(t))
        assert understand("工信部负责哪项督查激励措施？", lexicon).intent == "list"


TOTAL_ROW_DOC = """某区违法建筑整治三年行动方案
一、工作目标
三年整治违法建筑，各街镇按年度完成任务。（责任单位：区规划资源局）
附件：某区违法建筑整治任务量统计表
序号\t街镇\t件数\t2025年任务量（亩）\t2026年任务量（亩）
1\t甲镇\t12\t30.5\t20.1
2\t乙镇\t8\t14.2\t11.7
总计\t\t20\t44.7\t31.8
"""
TOTAL_ROW_MARKDOWN = """# 某区违法建筑整治三年行动方案

## 一、工作目标

三年整治违法建筑，各街镇按年度完成任务。（责任单位：区规划资源局）

附件：某区违法建筑整治任务量统计表

| 序号 | 街镇 | 件数 | 2025年任务量（亩） | 2026年任务量（亩） |
|---|---|---|---|---|
| 1 | 甲镇 | 12 | 30.5 | 20.1 |
| 2 | 乙镇 | 8 | 14.2 | 11.7 |
| 总计 | | 20 | 44.7 | 31.8 |
"""


@pytest.fixture(scope="module")
def totals(make_writable_service):
    svc = make_writable_service("k")
    svc.ingest_bytes(TOTAL_ROW_MARKDOWN.encode(), "district_totals", "totals.md")
    return svc


class TestTotalRow:
    @pytest.mark.parametrize("text", [TOTAL_ROW_DOC, TOTAL_ROW_MARKDOWN])
    def test_a_total_spanning_the_name_column_names_the_row(self, text):
        from corpus.parse import parse_text

        items = parse_text(text, "totals").items
        row = next(i for i in items if i.item_no == "总计")
        assert row.text.startswith("总计：") and "44.7" in row.text and "乙镇" not in row.text
        assert [i.item_no for i in items if i.annex or i.section[0].startswith("附件")] == ["1", "2", "总计"]

    def test_the_total_asked_by_another_word_is_the_total_row(self, totals):
        answer = totals.ask("某区违法建筑整治任务量统计表中，2025年全区任务量合计是多少亩？")
        assert answer.found and "44.7" in answer.answer
        assert totals.index.items[answer.citations[0].item_id].item_no == "总计"

    def test_a_word_cut_across_two_printed_words_is_said(self):
        from qa.figures import miscut

        text = "2025年约2200亩|全区|分年度任务量"
        assert miscut("区分", "2025年全区分年度", text) and miscut("年全", "2025年全区分年度", text)
        assert not miscut("区分", "2025年全区分年度", "2025年|分年度任务量")


class TestUnknownWordOfTheItem:
    def test_a_thing_the_item_names_only_elsewhere_has_no_figure_here(self):
        from index.tokenize import ChineseTokenizer

        item = "返乡创业人员成功创办初创企业的，给予1万元一次性创业资助。继续实施返乡创业孵化基地一次性奖补政策。"
        sentence = "返乡创业人员成功创办初创企业的，给予1万元一次性创业资助"
        assert missing_words("返乡创业孵化基地的一次性奖补 ", sentence, ChineseTokenizer(), "", item) == ["奖补"]


@pytest.fixture(scope="module")
def placed_service(make_writable_service):
    """Three real documents (genre3) whose place only their 文号 or a unit's name states: 京政办发 with a
    title naming no place, 北京市石景山区's own measures, and 黔发改服务 signed by 贵州省发展和改革委员会."""
    from tests.conftest import genre_path

    svc = make_writable_service("k")
    for name in ("ncp_beijing_zxwqy_2020.txt", "ncp_shijingshan_qiye_2020.txt", "ncp_guizhou_fuwuye_2020.txt"):
        svc.ingest_bytes(genre_path(name, "genre3").read_bytes(), name.split(".")[0], name)
    return svc


class TestPlaceOfTheDocumentNumber:
    def test_the_number_says_the_province(self):
        from qa.understand import document_places

        assert "北京" in document_places("关于促进中小微企业持续健康发展的若干措施", None, "京政办发〔2020〕7号")
        assert "贵州" in document_places("省发展改革委印发…的通知", "省发展改革委", "黔发改服务〔2020〕111号")
        # 青 opens Qingpu's and Qingdao's numbers too: no province is read from it
        assert document_places("关于全面加强建筑垃圾管理的实施意见", None, "青府办发〔2025〕20号") == frozenset()

    def test_a_place_named_only_by_the_number_scopes_the_question(self, placed_service):
        answer = placed_service.ask("北京中小微企业措施里给小微企业的研发成本补贴由哪些单位负责？")
        assert answer.found and answer.citations[0].doc_id == "ncp_beijing_zxwqy_2020"
        assert answer.fields.units == ("中关村管委会", "市财政局")

    def test_a_province_known_only_by_the_number_is_no_unknown_place(self, placed_service):
        answer = placed_service.ask("贵州支持服务业主体加大粮油盐储备的措施，责任单位是哪些？")
        assert answer.found and answer.citations[0].doc_id == "ncp_guizhou_fuwuye_2020"
        assert "各市、自治州人民政府" in answer.fields.units
        refused = placed_service.ask("河北支持服务业主体加大粮油盐储备的措施，责任单位是哪些？")
        assert not refused.found and "河北" in refused.reason
