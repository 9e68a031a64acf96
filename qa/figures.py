"""What figure a question asks for, and whether a cited target is that figure.

"惠民保赔付率要达到多少" asks for a percentage; "奖励多少万元", "预算总额是多少" for money; "2030年…达到
多少" for the figure of 2030. A target of another kind (3000元 for a percentage, 2025年 for 2030年) is not
an answer: the item does not state the asked figure, and the answer says so instead of presenting
another number as if it answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.model import Target
from corpus.normalize import normalize

# measures by kind; a target's unit is matched by its last characters
_KINDS: dict[str, tuple[str, ...]] = {
    "money": ("元", "美元", "万元", "亿元", "千元"),
    "percent": ("%", "‰", "个百分点", "百分点"),
    "area": ("亩", "平方米", "平方公里", "公顷", "㎡", "万平方米"),
    "length": ("公里", "千米", "米", "km"),
    "people": ("人", "人次", "名", "户"),
    "time": ("天", "小时", "日", "个月", "年", "周", "分钟"),
    "energy": ("千瓦", "兆瓦", "千瓦时", "吨标准煤", "标准煤", "GW", "MW", "kW"),
    "weight": ("吨", "千克", "克"),
}
# words that name the kind of figure without its unit
_CONCEPTS: tuple[tuple[str, str], ...] = (
    ("percent", r"百分之|比例|比重|占比|[赔覆盖利用合格达标出租回收处理]?率(?!先)|百分比|增速|增幅|降幅|增长|涨幅|下降|提高|降低"),
    ("money", r"金额|资金|预算|经费|罚款|补贴标准|补助标准|奖励|奖补|费用|价格|投资额|收入|贷款|罚金|津贴|补贴"),
    ("area", r"面积"),
    ("length", r"长度|里程"),
    ("people", r"人数|多少人|几人"),
)
_ASKED_UNIT = re.compile(r"(?:多少|几)(个百分点|万元|亿元|千元|元|亩|平方米|平方公里|公顷|公里|千米|米|人次|人|名|户|天|小时|个月|年|千瓦|吨|%)")
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")


@dataclass(frozen=True)
class AskedFigure:
    kind: str | None  # money | percent | area | … , None when the question does not say
    year: str | None  # the year the figure is asked for, when the asking clause names one
    unit: str = ""  # the unit the question names ("亩", "万元"), when it names one


def kind_of_unit(unit: str) -> str | None:
    for kind, units in _KINDS.items():
        if any(unit.endswith(u) for u in units):
            return kind
    return None


def asked_figure(question: str) -> AskedFigure:
    q = normalize(question)
    asking = next((c for c in re.split(r"[，,；;]", q) if re.search(r"多少|几|哪|什么", c)), q)
    m = _ASKED_UNIT.search(asking)
    kind = kind_of_unit(m.group(1)) if m else None
    if kind is None:
        for name, pattern in _CONCEPTS:
            if re.search(pattern, asking):
                kind = name
                break
    year = _YEAR.search(asking)
    return AskedFigure(kind, year.group(1) if year else None, m.group(1) if m else "")


def why_not(asked: AskedFigure, target: Target | None, targets: tuple[Target, ...], text: str) -> str | None:
    """Why the target does not answer the asked figure (None: it does)."""
    if target is None:
        return "该条目未列出所问的数值"
    if asked.year:
        years = {t.year for t in targets if t.year}
        if years and asked.year not in years:
            return f"该条目未列出{asked.year}年的数值（只列有{'、'.join(sorted(years))}年）"
        if not years and f"{asked.year}年" not in normalize(text) and re.search(r"(?:19|20)\d\d年", normalize(text)):
            return f"该条目未列出{asked.year}年的数值"
    if asked.unit and target.unit and (target.unit.startswith(asked.unit) or asked.unit.endswith(target.unit)
                                       or target.unit.endswith(asked.unit)):
        return None  # "多少吨" and 吨标准煤, "多少亩" and 万亩
    if asked.kind and target.unit:
        have = kind_of_unit(target.unit)
        if have and have != asked.kind:
            return "该条目未列出所问的数值"
    return None


# the words that ask for a figure, and the verbs that lead to them ("要达到多少", "新建多少个")
_QUANTITY = re.compile(
    r"(?:要|应|须|将|可以|可|能|力争|计划|预计|原则上)?(?:达到|突破|超过|低于|高于|不低于|不少于|不超过|不小于|控制在|提高到|"
    r"提升到|增加到|扩大到|增长|下降|减少|新增|新建|建成|完成|开行|培育|打造|实现|申请|给予|安排|补建|增建|发放)?"
    r"(?:多少|几)")
_BOUNDARY = re.compile(r".*(?:要求|提出|规定|明确|中|里|把|对|为|在|按照|根据|，|,)")
_GENERIC = frozenset(
    "多少 今年 全年 年度 目标 要求 力争 计划 达到 突破 超过 提高 增加 增长 下降 完成 新增 新建 建成 规模 数量 总量 标准 "
    "累计 其中 一共 总共 分别 实现 主要 重点 任务 工作 要 共 个 年 项 的 是 多大 多长 多高 最高 最多 最少 至少 以上 以下 "
    "原则上 原则 一般 应当 应 可以 可 能 需要 需 将 已 建设 开展 推进 加快 个人 人员 企业 单位 群众 职工 对象".split())


def asked_object(question: str) -> str:
    """What the figure is of: the words right before the asking word ("农村居民人均可支配收入要达到多少")
    and right after it ("多少创业担保贷款")."""
    q = normalize(question)
    m = _QUANTITY.search(q)
    if not m:
        return ""
    before = q[: m.start()]
    b = _BOUNDARY.match(before)
    before = before[b.end():] if b else before
    after = re.match(r"(?:[万亿千百]?[\u4e00-\u9fa5]{0,2}?)?([\u4e00-\u9fa5]{2,8}?)(?:[？?，,。]|$)", q[m.end():])
    return before[-16:] + " " + (after.group(1) if after else "")


def missing_words(obj: str, sentence: str, tokenizer) -> list[str]:
    """The object's contrasting words that the cited text lacks: a word it lacks right before words it
    has — 核电 before 装机 against "清洁煤电装机", PM10 before 平均浓度 against "PM2.5平均浓度", 农村居民 before
    人均 against "居民人均可支配收入"."""
    text = normalize(sentence).lower()
    low = obj.lower()
    out: list[str] = []
    for token in dict.fromkeys(tokenizer(obj)):
        t = token.strip().lower()
        if len(t) < 2 or t in _GENERIC or t.isdigit() or re.fullmatch(r"(?:19|20)\d\d年?", t) or t in text:
            continue
        if hasattr(tokenizer, "is_word") and not tokenizer.is_word(t):
            continue  # a fragment of the question ("差要"), not a word of it
        at = low.find(t)
        following = low[at + len(t): at + len(t) + 2]
        if len(following) == 2 and re.fullmatch(r"[\u4e00-\u9fa5a-z0-9]{2}", following) and following in text:
            out.append(obj[at: at + len(t)])
    return [w for w in out if not any(w != v and w in v for v in out)]
