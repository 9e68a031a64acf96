"""Who is responsible, stated in the genre's many ways: small documents of the genre built in the test,
and the real documents of ../shared/genre (copies in tests/data/genre)."""

from __future__ import annotations

import pytest

from corpus import parse_text
from corpus.aliases import derive_aliases, names_unit
from corpus.units import parse_units

NOTICE = "某省人民政府办公厅关于印发2024年重点工作任务分工方案的通知\n"


def items(body: str):
    return parse_text(NOTICE + body, "t").items


class TestRolePhrasings:
    def test_supporting_units_are_units_not_leads(self):
        first, = items("一、推进产业升级\n（一）实施技术改造工程。（牵头单位：省发展改革委、省经济和信息化厅，"
                       "支撑单位：省财政厅、省科技厅）\n")
        assert first.units == ("省发展改革委", "省经济和信息化厅", "省财政厅", "省科技厅")
        assert first.lead_units == ("省发展改革委", "省经济和信息化厅")
        assert not any("支撑" in u for u in first.units)

    @pytest.mark.parametrize(("measure", "units", "leads"), [
        ("抓好秸秆综合利用。（省农业农村厅牵头负责，省生态环境厅、各市政府组织落实）",
         ("省农业农村厅", "省生态环境厅", "各市政府"), ("省农业农村厅",)),
        ("推进能耗监测。省能源局按职责牵头负责，建立全省能耗在线监测平台。", ("省能源局",), ("省能源局",)),
        ("做好统计调查。（省统计局、省农业农村厅按职责分工负责落实）", ("省统计局", "省农业农村厅"), ()),
        ("推进数字政府建设。（省大数据局、省政务服务办牵头，各市政府负责）",
         ("省大数据局", "省政务服务办", "各市政府"), ("省大数据局", "省政务服务办")),
        ("优化营商环境。由省发展改革委牵头，省市场监管局、省商务厅配合。",
         ("省发展改革委", "省市场监管局", "省商务厅"), ("省发展改革委",)),
        ("加强执法检查。（责任单位:省公安厅，省司法厅）", ("省公安厅", "省司法厅"), ()),  # ASCII colon, ，
        ("建立由省发展改革委、省交通运输厅牵头的重大项目协调推进机制，加快项目审批。",
         ("省发展改革委", "省交通运输厅"), ("省发展改革委", "省交通运输厅")),  # named inside the measure
        # the actor opens a later clause: "为…，A应…", "…，A要会同B…"
        ("为做好汛期安全工作，各有关市（州）人民政府应高度重视，切实加强领导。",
         ("各有关市（州）人民政府",), ()),
        ("围绕重点产业链，省发展改革委要会同省科技厅制定专项方案。", ("省发展改革委", "省科技厅"), ()),
        ("围绕重点产业链，省发展改革委要会同省科技厅牵头制定专项方案。",
         ("省发展改革委", "省科技厅"), ("省发展改革委",)),
        # the actor behind a modifier ending in 的, its duty after a comma
        ("承办内地西藏班的有关市（州）人民政府，要认真落实招生计划。", ("有关市（州）人民政府",), ()),
        # the named units of "X、Y等（有关）部门要…" are all actors; a joiner after 等 adds more units
        ("做好培训宣传工作。省科技厅、省财政厅等有关部门要加强宣传解读。", ("省科技厅", "省财政厅"), ()),
        ("拓展销售渠道。（省商务厅、省邮政管理局等和各市人民政府负责）", ("省商务厅", "省邮政管理局", "各市人民政府"), ()),
        # a duty handed over with 请, at the start or after a comma
        ("明确管理程序。请省财政厅提出修订建议，简化评估程序。", ("省财政厅",), ()),
        ("下放管理权限。专业机构不再承担有关事项，请省科技厅、省卫生健康委等部门在6月底前完成。",
         ("省科技厅", "省卫生健康委"), ()),
        # a time first, the actor after the comma
        ("统一编码。2024年3月底前，省卫生健康委推行统一的疾病分类编码。", ("省卫生健康委",), ()),
        # another field after the units ends the list ("；适用范围：…")
        ("放宽人才中介机构限制。（负责部门：省人力资源社会保障厅、省商务厅；适用范围：所有试验区，下同）",
         ("省人力资源社会保障厅", "省商务厅"), ()),
        # the unit titles its duty with a colon; a sector's departments act in State Council documents
        ("做好应急避难场所建设。区体育局：负责利用体育场馆建设应急避难场所。", ("区体育局",), ()),
        ("加强用地保障。自然资源部门要将配套幼儿园建设用地纳入国土空间规划。", ("自然资源部门",), ()),
        # what an actor goes by is not an actor ("根据区网格中心要求", "基于跨部门…")
        ("推动纳入平台。根据区网格中心要求，推动纳入区级平台。", (), ()),
        # a unit after a comma that is an object, not an actor, names no one
        ("加大资金投入，支持省科技厅开展关键技术攻关。", (), ()),
        ("完善工作机制，省财政厅的专项资金按季度拨付。", (), ()),
    ])
    def test_phrasing(self, measure, units, leads):
        first, = items(f"一、工作\n1.{measure}\n")
        assert (first.units, first.lead_units) == (units, leads)


class TestStatedOwnersOverSentenceSubjects:
    def test_a_sentence_naming_some_of_the_stated_owners_keeps_the_whole_list(self):
        parsed = parse_text(NOTICE + "一、工作\n（一）加强组织领导。省发展改革委、省财政厅等部门要加强统筹协调。"
                            "各市人民政府要高度重视。\n（省发展改革委、省财政厅、省商务厅和各市人民政府负责）\n", "t")
        first = parsed.clauses[1]
        assert first.text.startswith("省发展改革委、省财政厅等部门")
        assert first.units == ("省发展改革委", "省财政厅", "省商务厅", "各市人民政府")

    def test_a_sector_acting_in_a_sentence_leaves_the_bracket_its_owners(self):
        parsed = parse_text(NOTICE + "一、工作\n（十四）加强政策宣传。人力资源社会保障部门要在市日报开设专门版面刊登招聘信息。"
                            "（责任单位：市委宣传部、市人力资源社会保障局）\n", "t")
        second = parsed.clauses[1]
        assert second.text.startswith("人力资源社会保障部门要")
        assert second.units == ("市委宣传部", "市人力资源社会保障局")

    def test_a_sentence_naming_its_own_closed_list_keeps_it(self):
        parsed = parse_text(NOTICE + "一、工作\n7.稳定市场价格。市发展改革委和市市场监管局负责组织企业签署承诺书。"
                            "（责任单位：市发展改革委、市市场监管局、市公安局）\n", "t")
        second = parsed.clauses[1]
        assert second.units == ("市发展改革委", "市市场监管局")


class TestDocumentRules:
    def test_first_listed_leads_for_the_rest_of_the_document(self):
        first, second = items(
            "一、稳定就业\n1.扩大就业容量。（省人力资源社会保障厅、省财政厅、省教育厅负责，排在第一位的部门为牵头部门，下同）\n"
            "2.支持返乡创业。（省农业农村厅、省人力资源社会保障厅负责）\n")
        assert first.lead_units == ("省人力资源社会保障厅",)
        assert second.lead_units == ("省农业农村厅",)  # the rule holds for a later item
        assert not any("第一位" in u for u in first.units)

    def test_an_explicit_lead_overrides_the_rule(self):
        first, second = items(
            "一、工作\n1.强化用地保障。（省自然资源厅、省发展改革委等负责。列第一位者为牵头单位，下同）\n"
            "2.加强资金支持。（省财政厅、省地方金融监管局牵头负责，省发展改革委配合）\n")
        assert first.units == ("省自然资源厅", "省发展改革委") and first.lead_units == ("省自然资源厅",)
        assert second.lead_units == ("省财政厅", "省地方金融监管局")

    def test_without_a_rule_shared_units_have_no_lead(self):
        first, = items("一、工作\n1.扩大有效投资。（省发展改革委、省财政厅负责）\n")
        assert first.lead_units == ()


class TestCollapsedDocument:
    def test_one_line_document_splits_into_items(self):
        measures = " ".join(  # line breaks collapsed to spaces
            f"（{n}）{task}。对符合条件的企业给予支持，落实国家和省出台的各项政策，简化办理流程，"
            f"做好跟踪服务保障工作。（责任单位：{unit}）"
            for n, task, unit in (("一", "实施技术改造工程", "省经济和信息化厅、省财政厅"),
                                  ("二", "培育专精特新企业", "省经济和信息化厅"),
                                  ("三", "强化资金保障", "省财政厅")))
        parsed = items("一、推进产业升级 " + measures + " 本方案自印发之日起施行。")
        assert [i.item_no for i in parsed] == ["(一)", "(二)", "(三)", ""]
        assert parsed[0].units == ("省经济和信息化厅", "省财政厅")
        assert parsed[2].units == ("省财政厅",)
        assert parsed[-1].text == "本方案自印发之日起施行。"  # the closing provision, not part of item (三)


class TestUnitRecogniser:
    def test_unit_containing_enumeration_comma_is_one_unit(self):
        first, = items("一、工作\n1.提升农村教育质量。（责任单位：省教育厅、各市、县（市、区）政府）\n")
        assert first.units == ("省教育厅", "各市、县（市、区）政府")
        second, = items("一、工作\n1.加大储备。（责任单位：省财政厅、各市、自治州人民政府、贵安新区管委会）\n")
        assert second.units == ("省财政厅", "各市、自治州人民政府", "贵安新区管委会")

    def test_bracketed_alias_stays_attached(self):
        assert parse_units("省委网信办（省互联网信息办）、省公安厅").units == ("省委网信办（省互联网信息办）", "省公安厅")

    def test_bare_name_is_not_a_leveled_unit(self):
        assert names_unit("发展改革委", "发展改革委")
        assert not names_unit("发展改革委", "省发展改革委")
        assert names_unit("省发展改革委", "省发展改革委牵头的工作专班")
        assert names_unit("发展改革", "省发展改革委")  # a fragment typed into a filter still finds it


class TestDerivedAliases:
    @pytest.mark.parametrize(("unit", "short"), [
        ("省发展和改革委员会", "省发改委"),
        ("市人力资源和社会保障局", "市人社局"),
        ("区住房和城乡建设委员会", "区住建委"),
        ("省经济和信息化厅", "省经信厅"),
        ("区市场监督管理局", "区市场监管局"),
    ])
    def test_short_forms_by_rule(self, unit, short):
        table = derive_aliases({None: {unit}})
        assert short in table.variants(unit)

    def test_elided_level_gets_its_documents_level(self):
        table = derive_aliases({"省": {"教育厅"}})
        assert "省教育厅" in table.variants("教育厅")

    def test_central_documents_bare_name_is_the_central_department(self):
        table = derive_aliases({None: {"发展改革委"}})
        assert "发展改革委" in table.variants("国家发展改革委")
        assert "国家发改委" in table.variants("发展改革委")
