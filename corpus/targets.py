"""Quantitative targets: "力争开行2200列以上" → Target(value "2200", unit "列", qualifier "以上")."""

from __future__ import annotations

import re

from corpus.model import Target

_MEASURES = sorted(
    """元 美元 人民币 个 家 所 人 人次 名 项 件 列 条 座 处 张 套 台 辆 艘 栋 间 户 亩 公里 千米 米 平方米
    平方公里 立方米 吨 标箱 标准箱 方 千瓦 兆瓦 千瓦时 瓦 场次 场 次 倍 类 只 片 床 个百分点 微克 天 小时 斤 升 头
    块 篇 部 份 期 宗 批 支 位 对 单 台套 个月 平方 孔 股 根 匹 千克 克 GW GWh MW kW kV km""".split(),
    key=len,
    reverse=True,
)
_MAGNITUDE = "[万亿千百十]{0,3}"
_UNIT = re.compile(rf"(?:%|‰|{_MAGNITUDE}(?:{'|'.join(map(re.escape, _MEASURES))})|[万亿]+)")
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


def extract_targets(norm: str) -> tuple[Target, ...]:
    """Every quantitative target in a normalised text, in order."""
    targets: list[Target] = []
    offset = 0
    for phrase in _PHRASE_SPLIT.split(norm):
        start = offset
        offset += len(phrase) + 1
        for m in _NUMBER.finditer(phrase):
            rest = phrase[m.end() :]
            value = m.group(1)
            if _NOT_AFTER.match(rest) or _inside_title(norm, start + m.start()):
                continue
            if len(value) == 4 and value.startswith(("19", "20")) and not _UNIT.match(rest):
                continue
            unit_m = _UNIT.match(rest)
            unit = unit_m.group(0) if unit_m else ""
            after = rest[len(unit) :]
            qualifier = next((q for q in _AFTER if after.startswith(q)), None)
            if not unit and qualifier is None:
                continue  # a bare number with neither unit nor qualifier is not a target
            if qualifier is None:
                before = phrase[max(0, m.start() - 4) : m.start()]
                for word, canonical in sorted(_BEFORE.items(), key=lambda kv: -len(kv[0])):
                    if before.endswith(word) or word in before:
                        qualifier = canonical
                        break
            targets.append(Target(text=phrase, value=value, unit=unit, qualifier=qualifier))
    return tuple(targets)


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
