"""Documents of the same genre from other governments parse with the right units and leads."""

from __future__ import annotations

import pytest

from corpus import parse_file
from tests.conftest import genre_path


@pytest.fixture(scope="module")
def liaoning():
    return parse_file(genre_path("ncp_liaoning_zxqy_2020.txt"))


@pytest.fixture(scope="module")
def suining():
    return parse_file(genre_path("ncp_suining_zxwqy_2020.txt"))


@pytest.fixture(scope="module")
def xiangtan():
    return parse_file(genre_path("ncp_xiangtan_zxqy_2020.txt"))


class TestLiaoning:
    """（一）-numbered items under 一、 headings, "（责任单位：…）" at the end of each."""

    def test_items(self, liaoning):
        assert len(liaoning.items) == 26  # 25 numbered measures and the closing provision
        assert [i.item_no for i in liaoning.items[:3]] == ["(一)", "(二)", "(三)"]
        assert liaoning.items[0].section == ("一、严格开复工管理",)

    def test_units(self, liaoning):
        second = liaoning.items[1]
        assert second.units == ("各市政府", "省卫生健康委")
        # the document states no rule on who leads: two units share the task, neither is its lead
        assert second.lead_units == ()
        seventh = liaoning.items[6]
        assert seventh.units[-1] == "人民银行沈阳分行"  # a trailing 等 is not part of the name
        assert seventh.lead_units == ()
        alone = next(i for i in liaoning.items if i.units == ("省文化和旅游厅",))
        assert alone.lead_units == ("省文化和旅游厅",)  # a unit responsible alone leads its task

    def test_numbering_continues_across_headings(self, liaoning):
        assert liaoning.items[3].item_no == "(四)"
        assert liaoning.items[3].section == ("二、加大财政金融支持",)


    def test_closing_provision_is_its_own_item(self, liaoning):
        closing = liaoning.items[-1]
        assert closing.item_no == "" and closing.section == ()
        assert closing.text.startswith("本政策措施执行期暂定为自发布之日起的3个月")
        assert "执行期" not in liaoning.items[-2].text  # no longer glued to the last measure


class TestSuining:
    """1．-numbered items; the rule "列首位的为牵头单位，下同" is stated once and is not a unit."""

    def test_items_and_metadata(self, suining):
        assert len(suining.items) == 21  # 20 numbered measures and the closing provision
        assert suining.document.number == "遂府办发〔2020〕2号"
        assert suining.document.date == "2020-02-04"

    def test_closing_provision_names_who_interprets(self, suining):
        closing = suining.items[-1]
        assert closing.text.startswith("本通知自印发之日起施行")
        assert closing.units == ("遂宁市人民政府办公室",)  # "由A会同相关部门负责解释"

    def test_rule_is_not_a_unit(self, suining):
        first = suining.items[0]
        assert first.units == ("市经济和信息化局", "市发展改革委", "市财政局", "市税务局", "各县（市、区）政府", "市直园区管委会")
        assert first.lead_units == ("市经济和信息化局",)
        assert not any("下同" in u or "列首位" in u for i in suining.items for u in i.units)

    def test_target(self, suining):
        item = next(i for i in suining.items if "缓缴社会保险费" in i.text)
        assert item.units == ("市人力资源社会保障局", "市财政局", "市税务局")
        assert any(t.value == "6" and t.unit == "个月" for t in item.targets)


class TestXiangtan:
    """一、-numbered items carrying "（牵头单位：…；责任单位：…）"."""

    def test_items(self, xiangtan):
        assert len(xiangtan.items) == 12
        assert xiangtan.document.issuer == "湘潭市人民政府"

    def test_explicit_lead_units(self, xiangtan):
        first = xiangtan.items[0]
        assert first.lead_units == ("市工信局", "市交通运输局", "市商务局", "交发集团")
        assert first.units == (
            "市工信局", "市交通运输局", "市商务局", "交发集团", "各县市区人民政府", "园区和示范区管委会",
        )

    def test_deadline_in_text(self, xiangtan):
        item = next(i for i in xiangtan.items if "清偿拖欠民营企业账款" in i.text)
        assert item.deadline == "2020年6月底前"
        assert item.lead_units == ("市减负办", "市国资委")

    def test_only_responsible_unit(self, xiangtan):
        item = next(i for i in xiangtan.items if "加快兑现惠企政策资金" in i.text)
        assert item.units == item.lead_units == ("市财政局",)


def test_numbers_glued_to_their_task_as_ocr_reads_them():
    """OCR drops the space of "1 地区…": "1地区…" still opens item 1, in sequence and after a finished
    sentence; "2024年…", "12万亿元…" and an out-of-sequence number never do."""
    from corpus import parse_document, read_bytes

    text = ("某市人民政府办公室关于印发2024年重点工作责任分解的通知\n一、稳增长\n"
            "1全市新建充电桩3000个以上，建成\n"
            "12万个公共充电设施。\n"
            "责任单位：市能源局\n"
            "2新增城镇就业5万人以上。\n"
            "责任单位：市人力社保局\n"
            "2024年底前完成全部招聘。\n"
            "5推进老旧小区改造。\n"
            "3推进老旧小区改造100个。\n"
            "责任单位：市建设局\n")
    items = parse_document(read_bytes(text.encode("utf-8")), "glued").items
    assert [i.item_no for i in items] == ["1", "2", "3"]
    assert items[0].text.startswith("全市新建充电桩3000个以上，建成12万个") and items[0].units == ("市能源局",)
    assert "2024年底前完成全部招聘" in items[1].text and "5推进老旧小区改造" in items[1].text
    assert items[2].units == ("市建设局",)


@pytest.fixture(scope="module")
def shijingshan():
    return parse_file(genre_path("ncp_shijingshan_qiye_2020.txt", "genre3"))


class TestDamagedScrape:
    """A one-line scrape that lost item numbers and closing brackets (石景山区, genre3)."""

    def test_a_lost_number_does_not_swallow_the_rest(self, shijingshan):
        numbers = [i.item_no for i in shijingshan.items if i.item_no]
        # 3 and 10 were lost in the scrape: their text stays with 2 and 9, every other item opens
        assert numbers == ["1", "2", "4", "5", "6", "7", "8", "9", "11", "12", "13", "14", "15"]
        sixth = next(i for i in shijingshan.items if i.item_no == "6")
        assert sixth.units == ("区金融办", "区财政局")

    def test_an_unclosed_bracket_keeps_its_last_character(self, shijingshan):
        second = next(i for i in shijingshan.items if i.item_no == "2")
        assert "区政府集体资产监管办" in second.units

    def test_a_gap_needs_a_finished_item(self):
        from corpus import parse_text

        body = ("某区人民政府关于印发支持企业发展若干措施的通知\n一、措施\n1.设立专项资金。（责任单位：区财政局）\n"
                "2.搭建服务平台，内容如下：\n4.类企业优先，其余按序办理。\n5.优化审批服务。（责任单位：区政务服务局）\n")
        items = parse_text(body, "t").items
        # item 2 states no one and ends without a sentence: "4." is its text, not a new item after a gap
        assert [i.item_no for i in items] == ["1", "2"]


class TestGoalStatement:
    """The sentence before the first heading that states the plan's aim is an item of its own."""

    def test_an_aim_with_a_date_before_the_first_heading(self):
        from corpus import parse_text

        body = ("某市零碳园区建设工作方案\n为加快园区绿色低碳转型，到2030年，建成零碳园区10个，特制定方案如下。\n"
                "一、重点任务\n1.开展园区碳排放核算。（责任单位：市发展改革委）\n")
        items = parse_text(body, "t").items
        goal = items[0]
        assert (goal.item_no, goal.section, goal.deadline) == ("", (), "到2030年")
        assert goal.targets and goal.targets[0].value == "10"
        assert items[1].item_no == "1" and items[1].units == ("市发展改革委",)

    def test_a_preamble_that_states_no_aim_is_no_item(self):
        from corpus import parse_text

        body = ("某市人民政府办公室关于印发重点工作分工方案的通知\n为做好今年各项工作，现将分工方案印发给你们，请认真贯彻执行。\n"
                "一、重点任务\n1.开展园区碳排放核算。（责任单位：市发展改革委）\n")
        assert [i.item_no for i in parse_text(body, "t").items] == ["1"]


class TestCollapsedParagraphs:
    """A scrape collapsed to one line keeps its paragraph indents (two ideographic spaces)."""

    BODY = ("某省人民政府办公厅关于做好防控物资扩产工作的十二条政策意见 各市人民政府： 为保障物资供应，现通知如下。"
            "　　一、工作目标　　支持企业扩大产能，尽快实现全省口罩日产量2000万个、防护服日产量10万件。"
            "　　二、重点任务　　省发展改革委、省工信厅等部门结合职能分工，做好督促落实。"
            "　　（一）开足马力扩产。实行干部驻企，促进企业释放产能。　　责任单位：省工信厅、省财政厅"
            "　　（二）简化审批程序。实施应急审批。　　责任单位：省药监局")

    def test_an_indent_ends_a_heading_and_a_section_paragraph_is_an_item(self):
        from corpus import parse_text

        parsed = parse_text(self.BODY, "t")
        sections = [i.section for i in parsed.items]
        assert ("一、工作目标",) in sections and ("二、重点任务",) in sections
        goal = next(i for i in parsed.items if i.section == ("一、工作目标",))
        assert [t.value for t in goal.targets] == ["2000", "10"]
        first = next(i for i in parsed.items if i.item_no == "(一)")
        assert first.units == ("省工信厅", "省财政厅")

    def test_a_numbered_kind_closes_the_title(self):
        from corpus import parse_text

        assert parse_text(self.BODY, "t").document.title == "某省人民政府办公厅关于做好防控物资扩产工作的十二条政策意见"


def test_a_two_character_abbreviation_is_found_spelled_out():
    from qa.answer import abbreviates

    assert abbreviates("信保", "出口信用保险")
    assert abbreviates("保费", "投保的预付款保险费用")
    assert not abbreviates("保费", "保障防疫物资进口的费用")  # too far apart: not one compound
    assert not abbreviates("5G", "5G基站")


class TestChaptersAndArticles:
    """A regulation's 第X章 / 第X条, its owners in a bracket that also states the lead rule once."""

    BODY = ("某市“菜篮子”市长负责制考核工作实施细则\n第一章 总则\n第一条 为做好考核工作，制定本细则。\n"
            "第二条 考核每两年一次。\n第二章 生产能力\n第三条 蔬菜面积（8分）。播种面积达到前3年平均值的98%得基础分6分。"
            "（市农业农村局、市发展改革委、市统计局，列首的为牵头单位，下同）\n"
            "第四条 蔬菜产量（8分）。产量达到前3年平均值的98%得基础分6分。（市农业农村局、市财政局）\n")

    def test_articles_are_items_under_their_chapters(self):
        from corpus import parse_text

        items = parse_text(self.BODY, "t").items
        assert [i.item_no for i in items] == ["第一条", "第二条", "第三条", "第四条"]
        assert items[2].section[-1] == "第二章生产能力"

    def test_the_bracket_that_states_the_rule_names_the_owners_and_the_rule_holds_after_it(self):
        from corpus import parse_text

        _, _, third, fourth = parse_text(self.BODY, "t").items
        assert third.units == ("市农业农村局", "市发展改革委", "市统计局") and third.lead_units == ("市农业农村局",)
        assert fourth.lead_units == ("市农业农村局",)


class TestFlattenedTaskLists:
    """Task tables a converter wrote one cell per paragraph, in two more layouts."""

    def test_a_category_column_before_the_number_and_a_unit_cell_merged_down(self):

        cells = ["附件", "某区城市更新重点任务清单（2023-2025年）", "任务类型", "序号", "工作任务", "推进单位",
                 "行动一：再造发展新极", "1", "推进东片区整体更新", "区规划资源局、区建设管理委",
                 "2", "推进北片区规划研究", "区规划资源局、区商务委",
                 "行动二：重塑美丽新居", "旧区改造", "3", "完成零星旧里房屋改造", "区房管局、各相关街镇",
                 "旧住房更新改造", "4", "推进老旧住房成套改造", "5", "完成既有多层住宅加装电梯700台"]
        text = "# 某区城市更新行动方案\n\n一、重点任务\n\n（一）推进整体更新。推进东片区整体更新。\n\n" + "\n\n".join(cells) + "\n"
        from corpus.parse import parse_document
        from corpus.read import read_string

        items = [i for i in parse_document(read_string(text, kind="markdown"), "t").items if i.annex]
        assert [i.item_no for i in items] == ["1", "2", "3", "4", "5"]
        assert items[0].section == ("某区城市更新重点任务清单（2023-2025年）", "行动一：再造发展新极")
        assert items[2].units == ("区房管局", "各相关街镇")
        # rows 4 and 5 print no unit cell: the one merged down from row 3 covers them
        assert items[3].units == items[4].units == ("区房管局", "各相关街镇")
        assert items[3].section[-1] == "旧住房更新改造"

    def test_numbered_task_cells_and_header_words_wrapped_in_their_cells(self):
        from corpus.parse import parse_document
        from corpus.read import read_string

        cells = ["附件：", "某市交通精细化管理任务清单（2024-2026年）", "主要方向", "重点任务（2024-2026）",
                 "2024年工作项目", "2025年计划", "牵头", "部门", "配合", "部门",
                 "（一）", "提升设施环境品质", "1、改善城市道路环境",
                 "（1）建设精品道路300条。", "建设精品道路100条。", "建设精品道路100条。", "设施养护处", "各区",
                 "2、推进城市快速路更新整治",
                 "（2）推进内环高架“年轻化”工程。", "完成三期工程。", "推进四期工程。", "设施养护处", "市道运中心"]
        text = "# 某市交通精细化管理三年行动计划\n\n一、主要任务\n\n（一）改善道路环境。\n\n" + "\n\n".join(cells) + "\n"
        items = [i for i in parse_document(read_string(text, kind="markdown"), "t").items if i.annex]
        assert [i.item_no for i in items] == ["(1)", "(2)"]
        second = items[1]
        assert second.text.startswith("（2）推进内环高架“年轻化”工程。")
        assert (second.units, second.lead_units) == (("设施养护处", "市道运中心"), ("设施养护处",))
        assert second.section[-1] == "2、推进城市快速路更新整治"


def test_a_sentence_numbered_inside_its_paragraph_names_its_own_actor():
    from corpus import parse_text

    parsed = parse_text("某市粮食应急预案\n一、组织机构和职责\n（一）成员单位职责。（1）市发展改革委负责综合协调。"
                        "（2）市公安局负责维护粮食供应场所的治安秩序。（3）市财政局负责安排所需经费。\n", "t")
    by_number = {c.text[:3]: c.units for c in parsed.clauses}
    assert by_number["（2）"] == ("市公安局",) and by_number["（3）"] == ("市财政局",)


def test_a_duty_paragraph_opened_by_its_units_name():
    from corpus import parse_text

    items = parse_text("某街道独居老人消防安全工作实施方案\n一、职责分工\n1.街道消委办。牵头开展独居老人消防安全关爱工作。\n"
                       "2.派出所。配合开展关爱工作，负责消防安全隐患的确认。\n3.加强宣传。开展消防宣传进社区活动。\n", "t").items
    assert [(i.units, i.lead_units) for i in items] == [(("街道消委办",), ("街道消委办",)), (("派出所",), ()),
                                                        ((), ())]


def test_a_fragment_numbered_from_where_it_starts():
    from corpus import parse_text

    # the scrape lost 一、 and 二、: the items from 三、 on are still the document's items
    parsed = parse_text("某市人民政府办公室关于做好疫情防控期间就业工作的通知\n三、鼓励就地就近就业。引导农民工就地就近就业"
                        "（市人社局牵头，各县〔市、区〕人民政府配合）。\n四、加强就业服务。开展线上招聘（市人社局负责）。\n", "t")
    assert [i.item_no for i in parsed.items] == ["三", "四"]
    assert parsed.items[0].lead_units == ("市人社局",)
