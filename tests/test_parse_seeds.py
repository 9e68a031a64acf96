"""The bundled documents parse into every item, with fields checked by hand against the text."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from corpus import Item, ParsedDocument
from corpus.normalize import compact


def find(doc: ParsedDocument, needle: str, section: str | None = None, kind: str | None = None) -> Item:
    """The one item whose text holds `needle` (whitespace and width ignored)."""
    key = compact(needle)
    hits = [
        i
        for i in doc.items
        if key in compact(i.text)
        and (section is None or section in i.section_path)
        and (kind is None or i.kind == kind)
    ]
    assert len(hits) == 1, f"{needle!r} matched {len(hits)} items"
    return hits[0]


def clause_with(doc: ParsedDocument, needle: str):
    key = compact(needle)
    hits = [c for c in doc.clauses if key in compact(c.text)]
    assert len(hits) == 1, f"{needle!r} matched {len(hits)} clauses"
    return hits[0]


def targets(item) -> set[tuple[str, str, str | None]]:
    return {(t.value, t.unit, t.qualifier) for t in item.targets}


class TestCounts:
    def test_doc000_items(self, doc000):
        prose = [i for i in doc000.items if not i.fields]
        table = Counter(i.kind for i in doc000.items if i.fields)
        assert len(prose) == 17
        assert table == {"reform": 8, "policy": 8, "platform": 14, "project": 294, "task": 154}

    def test_doc000_item_numbers_are_complete_sequences(self, doc000):
        for annex, n in (("改革", 8), ("政策", 8), ("平台", 14), ("项目", 294), ("任务", 154)):
            numbers = [int(i.item_no) for i in doc000.items if i.fields and annex in i.section[0]]
            assert numbers == list(range(1, n + 1))

    def test_doc004_every_item_of_three_parts(self, doc004):
        parts = Counter(i.section[0] for i in doc004.items)
        assert parts == {
            "今后五年发展的目标任务责任分解": 89,
            "2023年重点工作责任分解": 56,
            "十方面民生实事责任分解": 10,
        }

    def test_doc004_sections_per_official(self, doc004):
        per = Counter((i.section[0][:4], i.section[1]) for i in doc004.items if "牵头" in i.section[1])
        assert per[("今后五年", "二、徐文光常务副省长牵头重点工作")] == 30
        assert per[("今后五年", "四、卢山副省长牵头重点工作")] == 19
        assert per[("2023", "二、徐文光常务副省长牵头重点工作")] == 20
        assert per[("2023", "四、卢山副省长牵头重点工作")] == 15

    def test_document_metadata(self, doc000, doc004):
        assert doc004.document.number == "浙政办发〔2023〕6号"
        assert doc004.document.issuer == "浙江省人民政府办公厅"
        assert doc004.document.date == "2023-01-20"
        assert "重点工作责任分解的通知" in doc004.document.title
        assert doc000.document.number == "浙四大建设办〔2023〕1号"
        assert doc000.document.date == "2023-05-19"

    def test_no_page_numbers_or_garbage_in_text(self, doc004):
        for item in doc004.items:
            assert not re.search(r"—[０-９0-9]+—", item.text) and "欗" not in item.text, item.text


class TestDoc004Items:
    def test_total_responsibility(self, doc004):
        item = find(doc004, "总负责")
        assert item.lead_officials == ("王浩",)
        assert item.units == ()

    def test_first_item_targets(self, doc004):
        item = find(doc004, "地区生产总值达到１２万亿元")
        assert item.item_no == "1"
        assert item.lead_officials == ("徐文光",)
        assert item.units == ("省发展改革委",)
        assert ("12", "万亿元", "达到") in targets(item)

    def test_rule_note_is_not_a_unit_and_decimals_repaired(self, doc004):
        item = find(doc004, "居民人均可支配收入达到")
        assert item.units == ("省发展改革委", "省农业农村厅")
        assert item.lead_units == ("省发展改革委",)
        assert {("8.5", "万元", "达到"), ("1.9", "", "以内")} <= targets(item)

    def test_separately_lead_split_across_a_page_break(self, doc004):
        item = find(doc004, "严格落实粮食安全和耕地保护责任", section="徐文光")
        assert item.units == ("省自然资源厅", "省农业农村厅", "省粮食物资局", "省商务厅", "省林业局")
        assert item.lead_units == ("省自然资源厅", "省农业农村厅", "省粮食物资局")

    def test_separately_lead_with_group_unit(self, doc004):
        item = find(doc004, "深入践行绿水青山就是金山银山理念", section="徐文光")
        assert item.lead_units == ("省发展改革委", "省生态环境厅")
        assert item.units == ("省发展改革委", "省生态环境厅", "省美丽浙江建设领导小组其他成员单位")

    def test_separately_lead_only(self, doc004):
        item = find(doc004, "健全粮食安全和应急物资保障机制", section="徐文光")
        assert item.lead_units == item.units == ("省发展改革委", "省粮食物资局")

    def test_ji_splits_places_and_suffix_not_expanded(self, doc004):
        item = find(doc004, "全方位参与共建“一带一路”")
        assert item.units[-3:] == ("舟山市", "丽水市", "义乌市政府")
        assert "省推进“一带一路”建设工作领导小组其他成员单位" in item.units
        assert len(item.units) == 11

    def test_bracketed_alias_stays_attached(self, doc004):
        item = find(doc004, "实施营商环境“一号改革工程”")
        assert item.units[0] == "省委改革办（省放管服办）"
        assert item.units[-1] == "各设区市政府"

    def test_percent_target(self, doc004):
        item = find(doc004, "全社会研发投入强度超过")
        assert item.lead_officials == ("卢山",)
        assert item.units == ("省科技厅",)
        assert ("3.4", "%", "超过") in targets(item)

    def test_trillion_target(self, doc004):
        item = find(doc004, "数字经济核心产业增加值超过")
        assert ("1.6", "万亿元", "超过") in targets(item)

    def test_unnumbered_task_of_a_section(self, doc004):
        item = find(doc004, "强化社会治安整体防控，完善基层矛盾")
        assert item.item_no == "五"
        assert item.lead_officials == ("王成国",)
        assert item.units == ("省委政法委", "省信访局", "省公安厅")

    def test_county_group_unit_not_split(self, doc004):
        item = find(doc004, "深入推进依法行政")
        assert item.units == (
            "省司法厅",
            "省委编办",
            "省建设法治政府（依法行政）工作联席会议其他成员单位",
            "各市、县（市、区）政府",
        )

    def test_shared_section_has_no_official(self, doc004):
        item = find(doc004, "建设旗帜鲜明讲政治的政府")
        assert item.lead_officials == ()
        assert item.units == ("各市、县（市、区）政府", "省政府直属各单位")
        assert item.section[1] == "十、各市、县（市、区）政府、省政府直属各单位共同落实工作"

    def test_part_two_first_item(self, doc004):
        item = find(doc004, "一般公共预算收入与经济增长基本同步")
        assert item.section == ("2023年重点工作责任分解", "一、王浩省长牵头重点工作")
        assert item.units == ("省财政厅",)

    def test_within_qualifier(self, doc004):
        item = find(doc004, "居民消费价格指数涨幅控制在")
        assert ("3", "%", "以内") in targets(item)

    def test_item_across_page_number(self, doc004):
        item = find(doc004, "加强绿色电源项目建设")
        assert "62" not in item.norm.replace("2023", "")
        assert ("400", "万千瓦", None) in targets(item)
        assert item.units[-1] == "省能源集团"

    def test_yixinou_trains(self, doc004):
        item = find(doc004, "提升重大开放平台能级")
        assert ("2200", "列", "以上") in targets(item)
        assert ("12.6", "亿吨", None) in targets(item)
        assert item.units[-2:] == ("舟山市", "义乌市政府")

    def test_group_unit_with_lead_official(self, doc004):
        item = find(doc004, "力争全年为市场主体减负")
        assert item.lead_officials == ("卢山",)
        assert item.lead_units == ("省经信厅",)
        assert "省减轻企业负担领导小组其他成员单位" in item.units
        assert ("2500", "亿元", "以上") in targets(item)

    def test_growth_decimal(self, doc004):
        item = find(doc004, "全力稳住工业经济基本盘")
        assert ("5.5", "%", None) in targets(item)

    def test_asian_games_units(self, doc004):
        item = find(doc004, "举全省之力办好杭州亚运", section="张家胜")
        assert item.units[:6] == ("杭州市", "宁波市", "温州市", "湖州市", "绍兴市", "金华市政府")
        assert item.units[-1] == "省第19届亚运会和第4届亚残运会工作领导小组其他成员单位"

    def test_grain_area(self, doc004):
        item = find(doc004, "确保粮食播种面积")
        assert item.lead_officials == ("李岩益",)
        assert ("1520", "万亩", "以上") in targets(item)
        assert item.units[-1] == "省气象局"


class TestTenLivelihoodClauseGroups:
    def test_education_aspect(self, doc004):
        item = find(doc004, "新改扩建公办中小学校")
        assert item.item_no == "一"
        assert item.section == ("十方面民生实事责任分解", "一、教育助学方面")
        assert item.lead_officials == ("卢山",)
        assert item.units == ("省教育厅",)

    def test_rural_roads_belong_to_their_own_group(self, doc004):
        clause = clause_with(doc004, "农村公路新改建")
        assert clause.lead_officials == ("张家胜",)
        assert clause.units == ("省交通运输厅",)
        metro = clause_with(doc004, "开工建设杭州地铁四期")
        assert metro.lead_officials == ("徐文光",)
        assert metro.units == ("省发展改革委",)

    def test_item_carries_every_group(self, doc004):
        item = find(doc004, "农村公路新改建")
        assert item.lead_officials == ("徐文光", "张家胜")
        assert item.units == ("省发展改革委", "省交通运输厅")

    def test_group_after_first_in_medical(self, doc004):
        clause = clause_with(doc004, "惠民保赔付率")
        assert clause.lead_officials == ("张雁云",)
        assert clause.units == ("省医保局",)

    def test_unit_broken_across_lines(self, doc004):
        clause = clause_with(doc004, "地质灾害监测预警实验点")
        assert clause.lead_officials == ("徐文光",)
        assert clause.units == ("省自然资源厅",)
        kitchen = clause_with(doc004, "阳光厨房")
        assert kitchen.units == ("省市场监管局",)
        assert kitchen.lead_officials == ("王文序",)


class TestDoc000Items:
    def test_main_item(self, doc000):
        item = find(doc000, "进一步强化环杭州湾经济区引领地位")
        assert item.section == ("浙江省大湾区建设2023年工作要点", "一、着力塑造大湾区空间发展格局")
        assert item.item_no == "1"
        assert item.units == ("省发展改革委", "省“四大建设”工作联席会议成员单位", "各相关市")
        assert ("70", "%", "超过") in targets(item)

    def test_main_item_targets(self, doc000):
        item = find(doc000, "推进中欧“义新欧”班列高质量发展，力争全年开行2200列")
        assert {("2200", "列", None), ("800", "亿元", "以上")} <= targets(item)

    def test_main_item_units(self, doc000):
        item = find(doc000, "强力推进大湾区创新深化")
        assert item.units == ("省科技厅", "省委人才办", "省发展改革委", "省经信厅", "省教育厅", "各相关市")

    def test_reform_row(self, doc000):
        item = find(doc000, "深化十大标志性工程推进机制改革创新")
        assert item.kind == "reform"
        assert item.units == ("省发展改革委",)

    def test_policy_row_split_across_pages(self, doc000):
        item = find(doc000, "制定支持开展关键核心技术攻关政策")
        assert item.units == ("省科技厅", "省经信厅", "省教育厅", "省财政厅", "各地市")
        assert "高校院所支撑" in item.text
        assert ("3000", "万元", None) in targets(item)

    def test_policy_row_units(self, doc000):
        item = find(doc000, "加强大湾区区域金融改革试点评估")
        assert item.units == ("省地方金融监管局", "人行杭州中心支行", "浙江银保监局", "浙江证监局")

    def test_platform_row_wrapped(self, doc000):
        item = find(doc000, "湖州南太湖新区")
        assert item.kind == "platform"
        assert "北高端产业集聚地" in item.text
        assert item.units == ("湖州市",)

    def test_project_row(self, doc000):
        item = find(doc000, "铁路杭州萧山机场站枢纽及接线工程")
        assert item.project_code == "2018-330000-53-01-029162-000"
        assert item.build_type == "续建"
        assert item.investment.total == 382.5
        assert item.investment.planned == 50
        assert item.units == ("杭州市", "嘉兴市", "绍兴市政府", "省交通集团")
        assert item.section[1] == "一、以融入长三角一体化为重点的基础设施互联互通工程"

    def test_project_name_split_across_pages(self, doc000):
        item = find(doc000, "字节跳动杭州基地项目")
        assert item.item_no == "127"
        assert "〔2021〕20号地块项目" in item.text
        assert item.investment.planned == 3

    def test_project_to_be_determined(self, doc000):
        item = find(doc000, "之江实验室二期工程科研区")
        assert item.investment.total is None and item.investment.total_text == "待核定"
        assert item.units == ("省科技厅", "杭州市政府")

    def test_project_5g(self, doc000):
        item = find(doc000, "全省5G网络建设项目")
        assert (item.investment.total, item.investment.planned) == (516, 50)
        assert item.units == ("省经信厅",)
        assert item.section[1].startswith("七、以城市大脑为重点")

    def test_blank_progress_is_not_inherited(self, doc000):
        item = find(doc000, "全省高速公路互通项目")
        assert item.progress is None
        assert item.units == ("省交通运输厅",)

    def test_merged_cells_inherit_within_group(self, doc000):
        item = find(doc000, "印发年度工作要点和重大改革")
        assert item.text.startswith("加强大湾区建设统筹协调")
        assert item.units == ("省发展改革委",)
        assert item.deadline == "5月"
        assert find(doc000, "适时组织召开湾区例会").deadline == "全年"
        assert find(doc000, "开展大湾区建设督查激励工作").deadline == "3月"

    def test_continuation_and_inherited_unit(self, doc000):
        row59 = find(doc000, "围绕“315”科技创新体系", kind="task")
        assert "取得重大科研成果100项以上" in row59.norm
        row60 = find(doc000, "推进国家科技成果评价改革综合试点")
        assert row60.units == ("省科技厅",)

    def test_unit_split_inside_a_name_across_pages(self, doc000):
        item = find(doc000, "进一步支持浙江大学实施新一轮省部共建")
        assert item.units[-1] == "浙江中医药大学"

    def test_task_target(self, doc000):
        item = find(doc000, "累计建成 5G 基站")
        assert ("20", "万个", "以上") in targets(item)
        assert item.units == ("省经信厅",)

    def test_shifted_row_is_warned_not_guessed(self, doc000):
        item = find(doc000, "进一步加强与大湾区顾问团院士专家的紧密联系")
        assert item.units == ()
        assert item.deadline == "全年"
        assert any("row 10" in w.message and w.line == 532 for w in doc000.warnings)

    def test_shifted_row_realigned_and_inherits_group_name(self, doc000):
        item = find(doc000, "聚焦“2+4+X”主导产业")
        assert item.text.startswith("推进金衢丽产业带建设")
        assert item.units == ("金华市",)


@pytest.mark.parametrize("kind", ["reform", "policy", "platform", "project", "task"])
def test_every_table_row_has_units_or_a_warning(doc000, kind):
    warned = {w.line for w in doc000.warnings}
    for item in doc000.items:
        if item.kind == kind and item.fields:
            assert item.units or item.line in warned, item.item_no
