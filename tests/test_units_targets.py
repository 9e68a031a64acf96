"""Units, targets and aliases on small synthetic attributions of the genre."""

from __future__ import annotations

import pytest

from corpus.aliases import load_aliases, parse_aliases
from corpus.normalize import normalize
from corpus.targets import extract_targets
from corpus.units import parse_units


class TestParseUnits:
    def test_shared_suffix_not_expanded(self):
        assert parse_units("杭州市、嘉兴市、绍兴市政府，省交通集团").units == ("杭州市", "嘉兴市", "绍兴市政府", "省交通集团")

    def test_alias_in_brackets_stays(self):
        assert parse_units("省委组织部（省委人才办）、省科技厅").units == ("省委组织部（省委人才办）", "省科技厅")

    def test_separately_lead(self):
        units = parse_units("省发展改革委、省生态环境厅分别牵头，省美丽浙江建设领导小组其他成员单位")
        assert units.lead_units == ("省发展改革委", "省生态环境厅")
        assert len(units.units) == 3

    def test_rule_note_removed(self):
        units = parse_units("省发展改革委、省农业农村厅（除标注“分别牵头”外，列第一位者为牵头单位，下同）")
        assert units.units == ("省发展改革委", "省农业农村厅")
        assert units.notes

    def test_line_breaks_and_full_width(self):
        assert parse_units("省第 １９ 届亚运会工作领\n导小组其他成员单位").units == ("省第19届亚运会工作领导小组其他成员单位",)

    def test_county_group(self):
        assert parse_units("省司法厅，各市、县（市、区）政府").units == ("省司法厅", "各市、县（市、区）政府")

    def test_explicit_lead(self):
        units = parse_units("市财政局", lead_raw="市工信局、市商务局")
        assert units.lead_units == ("市工信局", "市商务局")
        assert units.units == ("市工信局", "市商务局", "市财政局")


class TestTargets:
    def test_qualifier_after(self):
        (t,) = extract_targets(normalize("力争开行“义新欧”班列 ２２００ 列以上"))
        assert (t.value, t.unit, t.qualifier) == ("2200", "列", "以上")

    def test_not_years_dates_or_titles(self):
        norm = normalize("2023年3月前完成《2023—2027年规划》编制，实施“415X”工程")
        assert extract_targets(norm) == ()

    def test_lost_decimal(self):
        (t,) = extract_targets(normalize("规上工业增加值增长 ５ ５％"))
        assert t.value == "5.5" and t.unit == "%"

    def test_several_targets_in_a_list(self):
        values = [t.value for t in extract_targets(normalize("新增城市书房 ２００ 家、乡村博物馆 ２００ 家、文化驿站 １００ 家"))]
        assert values == ["200", "200", "100"]


class TestFiguresInWords:
    @pytest.mark.parametrize(("text", "expected"), [
        ("允许不超过五分之一的股东不具有资格", ("五分之一", "", "不超过")),
        ("占比达到三分之二以上", ("三分之二", "", "以上")),
        ("批准文件可一证多批使用，最多不超过六批", ("六", "批", "不超过")),
        ("可自助打印15种原产地证书", ("15", "种", None)),
    ])
    def test_shares_bounded_counts_and_kinds(self, text, expected):
        found = [(t.value, t.unit, t.qualifier) for t in extract_targets(normalize(text))]
        assert expected in found
        assert not any(unit == "分" for _, unit, _ in found)  # 五分之一 is a share, not 五 分

    def test_a_batch_in_words_is_no_count(self):
        assert extract_targets(normalize("培育一批龙头企业")) == ()


class TestAliases:
    def test_bundled_table(self):
        table = load_aliases()
        assert "省发展改革委" in table.variants("省发改委")
        assert "省经济和信息化厅" in table.variants("省经信厅")
        assert "省人力社保厅" in table.variants("省人社厅")
        assert "省住房城乡建设厅" in table.variants("省建设厅")

    def test_lines_sharing_a_name_merge(self):
        table = parse_aliases("甲\t乙\n乙\t丙\n# comment\n")
        assert table.variants("甲") == {"甲", "乙", "丙"}
        assert table.variants("丁") == {"丁"}


class TestBaselineIsNoTarget:
    @pytest.mark.parametrize("text, expected", [
        ("公园数量从438座增加到1000座以上", [("1000", "座")]),
        ("森林覆盖率从18.49%提升到19.5%", [("19.5", "%")]),
        ("由2020年的30%提高到2025年的50%", [("50", "%")]),
        ("从业人员达到500人", [("500", "人")]),  # 从 of 从业 opens no baseline
    ])
    def test_the_number_it_grows_from_is_left_out(self, text, expected):
        assert [(t.value, t.unit) for t in extract_targets(text)] == expected


class TestDeadlineExpressions:
    @pytest.mark.parametrize(("text", "deadline"), [
        ("2035年前全部完成建设任务", "2035年前"),  # a year followed by 前: by that year
        ("请服务办于7月21日前上报统计表", "7月21日前"),
        ("3年前已经建成投用", None),  # a number of years before now: no deadline
        ("6个月内完成整改", "6个月内"),
    ])
    def test_the_deadline_a_sentence_states(self, text, deadline):
        from corpus.deadlines import stated_deadline

        assert stated_deadline(normalize(text)) == deadline
