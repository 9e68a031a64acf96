"""Quantitative targets: "力争开行2200列以上" → Target(value "2200", unit "列", qualifier "以上")."""

from __future__ import annotations

import re

from corpus.model import Target

MEASURES = sorted(
    """元 美元 人民币 个 家 所 人 人次 名 项 件 列 条 座 处 张 套 台 辆 艘 栋 间 户 亩 公里 千米 米 平方米
    平方公里 立方米 吨 标箱 标准箱 方 千瓦 兆瓦 千瓦时 瓦 场次 场 次 倍 类 只 片 床 个百分点 微克 天 小时 斤 升 头
    块 篇 部 份 期 宗 批 支 位 对 单 台套 个月 平方 孔 股 根 匹 千克 克 GW GWh MW kW kV km 具 岁 周岁 毫米 厘米
    公顷 吨标准煤 标准煤 万吨 分 分钟 个工作日 工作日 周 例 盏 株 棵 公斤 户次 趟 班次 架次 所次 平方千米 种""".split(),
    key=len,
    reverse=True,
)
_MAGNITUDE = "[万亿千百十]{0,3}"
_UNIT = re.compile(rf"(?:%|‰|{_MAGNITUDE}(?:{'|'.join(map(re.escape, MEASURES))})|[万亿]+)")
_NUMBER = re.compile(r"(?<![\d.A-Za-z\-/〔第“])(\d+(?:\.\d+)?)")
_AFTER = ("及以上", "以上", "左右", "以内", "以下", "之内")
_BEFORE = {
    "突破": "突破",
    "达到": "达到",
    "达": "达到",
    "超过": "超过",
    "超": "超过",
    "不低于": "不低于",
    "不少于": "不少于",
    "不超过": "不超过",
    "高于": "高于",
    "低于": "低于",
    "控制在": "控制在",
    "保持在": "保持在",
}
_PHRASE_SPLIT = re.compile(r"[，。；;！？,、：:]")
# Not targets: years, dates, ordinals, document numbers, codes.
_NOT_AFTER = re.compile(r"^(?:年(?!度?[^\d]*?[万亿])|月|日|号|届|季度|批次|世纪|—|-|/|[A-Za-z](?![A-Za-z]))")


_BASELINE_BEFORE = re.compile(r"(?:从|由)(?:(?:19|20)\d\d年(?:底|末)?的?)?$")
_BASELINE_THEN = re.compile(r"^[^\d]{0,12}?(?:增加|提高|提升|增长|扩大|下降|降低|减少|压减|缩减|达|上升)?(?:到|至)(?:(?:19|20)\d\d年(?:底|末)?的?)?\d")
_RANGE = re.compile(r"(?<![\d.A-Za-z\-/〔第“])(\d+(?:\.\d+)?)\s*(?:—|－|-|–|~|～|至|到)\s*(\d+(?:\.\d+)?)")
_YEARS_SPAN = re.compile(r"^年(以上|以内|以下|左右|内|之内)?(?![度底末初内中]|\d)")
# "提前30日", "15日内": a count of days; "3月30日", "10日前" are dates
_DAYS_BEFORE = re.compile(r"(?:提前|满|不超过|超过|连续|逾期|延长|缩短至|压缩至|压缩到)$")
_DAYS_AFTER = re.compile(r"^日(以内|之内|内|以上)")
_CN_DIGITS = "一两二三四五六七八九十百千"
# "不超过五分之一", "三分之二以上": a share written in words
_CN_SHARE = re.compile(rf"([{_CN_DIGITS}]+分之[{_CN_DIGITS}]+)")
# "最多不超过六批", "至少三次": a count in words behind a bound is a target whatever it counts
_CN_BOUNDED = re.compile(rf"(?:不超过|不少于|不低于|超过|达到|最多|至少|最长|最短)([{_CN_DIGITS}]+)(?!分之)(?={_UNIT.pattern})")
_CN_COUNT = re.compile(r"(?<![第每逐唯统同])([一两二三四五六七八九十])(座|所|家|处|项|名|辆|栋|个)(?!性|是|体|样|般|起|道|同|致|批|些|定)")


def _range_target(phrase: str, m: re.Match) -> Target | None:
    """"16—24岁", "3至5年", "5-10个": a range with its unit."""
    rest = phrase[m.end():]
    unit_m = _UNIT.match(rest) or re.match(r"年", rest)
    if not unit_m or len(m.group(1)) == 4 and m.group(1).startswith(("19", "20")):
        return None
    value = phrase[m.start(): m.end()].replace(" ", "")
    after = rest[len(unit_m.group(0)):]
    qualifier = next((q for q in _AFTER if after.startswith(q)), None)
    return Target(text=phrase, value=value, unit=unit_m.group(0), qualifier=qualifier)


def extract_targets(norm: str) -> tuple[Target, ...]:
    """Every quantitative target in a normalised text, in order."""
    targets: list[Target] = []
    offset = 0
    for phrase in _PHRASE_SPLIT.split(norm):
        start = offset
        offset += len(phrase) + 1
        ranged: set[int] = set()
        for m in _RANGE.finditer(phrase):
            target = _range_target(phrase, m)
            if target is not None and not _inside_title(norm, start + m.start()):
                targets.append(target)
                ranged.update(range(m.start(), m.end()))
        for m in _NUMBER.finditer(phrase):
            rest = phrase[m.end() :]
            value = m.group(1)
            if m.start() in ranged:
                continue
            duration = _YEARS_SPAN.match(rest)
            if duration and len(value) <= 2 and "." not in value:  # "1年基层工作经历", "3年以上": a duration
                targets.append(Target(text=phrase, value=value, unit="年", qualifier=duration.group(1)))
                continue
            days_after = _DAYS_AFTER.match(rest)
            if rest.startswith("日") and not phrase[: m.start()].endswith("月") and (
                    days_after or _DAYS_BEFORE.search(phrase[: m.start()])):
                targets.append(Target(text=phrase, value=value, unit="日",
                                      qualifier=days_after.group(1) if days_after else None))
                continue
            if _NOT_AFTER.match(rest) or _inside_title(norm, start + m.start()):
                continue
            if _BASELINE_BEFORE.search(phrase[: m.start()]) and _BASELINE_THEN.search(rest):
                continue  # "从438座增加到1000座以上": 438 is where it starts, not the target
            if len(value) == 4 and value.startswith(("19", "20")) and not _UNIT.match(rest):
                continue
            unit_m = _UNIT.match(rest)
            unit = unit_m.group(0) if unit_m else ""
            after = rest[len(unit) :]
            qualifier = next((q for q in _AFTER if after.startswith(q)), None)
            if not unit and qualifier is None:
                continue  # a bare number with neither unit nor qualifier is not a target
            if qualifier is None:
                qualifier = _bound(phrase, m.start())
            targets.append(Target(text=phrase, value=value, unit=unit, qualifier=qualifier))
        if not any(t.text == phrase for t in targets):
            for m in _CN_COUNT.finditer(phrase):  # "建设一座小型消防站"
                targets.append(Target(text=phrase, value=m.group(1), unit=m.group(2), qualifier=None))
            for m in _CN_BOUNDED.finditer(phrase):
                if not any(t.text == phrase and t.value == m.group(1) for t in targets):
                    unit = _UNIT.match(phrase, m.end()).group(0)
                    targets.append(Target(text=phrase, value=m.group(1), unit=unit, qualifier=_bound(phrase, m.start(1))))
            for m in _CN_SHARE.finditer(phrase):
                after = phrase[m.end():]
                qualifier = next((q for q in _AFTER if after.startswith(q)), None) or _bound(phrase, m.start())
                targets.append(Target(text=phrase, value=m.group(1), unit="", qualifier=qualifier))
    return tuple(targets)


def _bound(phrase: str, start: int) -> str | None:
    """The bound word ("不超过", "达到") in the four characters before a figure, as a qualifier."""
    before = phrase[max(0, start - 4): start]
    return next((canonical for word, canonical in sorted(_BEFORE.items(), key=lambda kv: -len(kv[0]))
                 if before.endswith(word) or word in before), None)


def _inside_title(text: str, pos: int) -> bool:
    """True inside 《…》 (a document title) or a short “…” slogan like “415X”."""
    open_book = text.rfind("《", 0, pos)
    if open_book != -1 and text.find("》", open_book) > pos:
        return True
    open_q = text.rfind("“", 0, pos)
    if open_q != -1:
        close_q = text.find("”", open_q)
        if close_q > pos and close_q - open_q <= 8:
            return True
    return False
