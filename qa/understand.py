"""Understanding a question: its intent, the entities it names, and the topic left to retrieve."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal, get_args

from corpus.aliases import AliasTable, same_level_variants
from corpus.normalize import normalize

Intent = Literal["list", "lead_official", "deadline", "investment", "target", "owner", "general"]
INTENTS: tuple[Intent, ...] = get_args(Intent)

_LIST = re.compile(
    r"(牵头|负责|承担|涉及|分管|参与|包括|包含|有|列|指导|配合)了?的?(哪些|几项|多少项|哪几项|哪几条|哪几部分|哪几个方面|哪些条|哪几|哪项|哪一项)(?!单位|部门|机构)|"
    r"(哪些|所有|全部)(重点)?(工作|任务|事项|项目|改革|政策|平台|实事|措施|指标|场景|条款)|"
    r"(工作|任务|事项|措施|指标|条款|部分|项目|场景)(有|是)哪些|列出|哪几项|哪几条"
)
# a question that asks for a unit (not for the tasks of one)
_ASKS_UNIT = re.compile(
    r"哪(个|些|家|几个)[^，。？?,]{0,4}?(单位|部门|机构)|什么(单位|部门|机构)|由谁|谁(负责|牵头|来|指导|落实|推动|承担|主管|抓|组织)|"
    r"是谁|归哪|由哪|哪个部门的职责|(责任|牵头|配合|参与|主要|负责|指导|支撑|协办|主责|实施)(单位|部门)(都|还|又|分别)?(是|有|为|分别)|"
    r"(单位|部门)分别是|联合推进|谁分管"
)
_OWNER_WORDS = _ASKS_UNIT
_LEAD_OFFICIAL = re.compile(r"(哪位|哪个|什么|哪几位|哪些)(副?省长|副?市长|副?区长|副?县长|领导|省领导|市领导)|牵头领导|分管领导|责任领导|谁分管|领导是谁")
_DEADLINE = re.compile(
    r"什么时候|何时|完成时限|时限|几月|哪个月|截止|截至|期限|完成时间|哪一年|哪年|什么时间|时间节点|时间进度|时间安排|"
    r"多长时间内|多久内|多少天内|几天内|哪天|哪一天|执行期|有效期|实施期|什么年份|目标年份|年限|进度安排|安排在几月|在几月"
)
_PERIOD_LENGTH = re.compile(r"(?:有效期|执行期|实施期|期限|周期)[^，,到至]{0,4}(?:多长|多久|几个月|几年|多少天|多少个月|多少年)(?!内|以内|之内)")
_INVESTMENT = re.compile(r"总投资|计划投资|投资多少|投资额|投资规模|年度投资|投资是多少|投资了多少")
_TARGET = re.compile(
    r"目标|多少|达到|几个|几家|多大|多长|多高|规模|指标|比例|比重|增长|增速|数量|几条|几公里|几万|多少个|几项|几座|几所|"
    r"百分之|多少倍|占比|不低于|不少于|不超过|标准是|额度|几|多远"
)
_PREMISE = re.compile(r"(负责|牵头|承担|落实|主管|指导|配合|参与)(的)?(吗|么)[？?]?$")
_OWNER = re.compile(
    r"谁负责|哪个单位|哪些单位|什么单位|责任单位|牵头单位|归哪|由谁|谁牵头|哪个部门|哪些部门|谁来|负责单位|主管|谁抓|哪家单位|"
    r"负责部门|谁承担|责任部门|牵头部门|配合单位|配合部门|参与单位|参与部门|主要部门|指导部门|由哪|是谁|职责|谁指导|谁落实|"
    r"谁推动|联合推进|负责吗|牵头吗|负责的吗|牵头的吗|指导的吗|配合的吗|(?:报送|报|提交|交)给谁|向谁(?:报送|报告|提交)"
)
# Words that carry the intent, not the topic: removed before retrieval.
_QUESTION_WORDS = re.compile(
    r"请问|请告诉我|我想知道|一下|是什么|是多少|有哪些|有多少|由谁|谁来|谁|哪个|哪些|哪位|什么|多少|"
    r"几个|几项|怎么|如何|吗|呢|负责|牵头|单位|部门|领导|责任|完成时限|时限|时候|何时|几月|配合|指导|分别|"
    r"时间进度|时间节点|什么时间|哪一年|截至何时|多长时间|"
    r"目标是|目标为|计划|主要|具体|重点|工作|任务|事项|今年|年内|全年|这块|这项|这个|该项|这份|这条|该条|这一条|本条|需要|力争|争取|大概|大约|大致|约为|"
    r"达到|突破|超过|包括|包含|涉及|参与|分管|的|了|是|由|归哪|谁抓|承担|要求|情况|正文|部分|提出|提到|设定|年限|"
    # pointing at the task, not naming it: "那条措施", "这件事", "那一项"; "方案里": where, not what
    r"这件事|这件|那条|那项|那一项|这一项|哪一项|其余|支撑|(?<=计划|方案|意见|通知|清单|细则|措施|要点|文件|预案|办法)里"
)
_PUNCT = re.compile(r"[\s？?！!。，,、；;：:“”\"'（）()《》]+")


@dataclass(frozen=True)
class Question:
    text: str
    intent: Intent
    units: tuple[str, ...]  # as written in the corpus (canonical forms of any alias used)
    officials: tuple[str, ...]
    topic: str  # what is left for retrieval
    phrases: tuple[str, ...]  # topic chunks for exact-phrase boosts
    premise: tuple[str, ...] = ()  # units a yes/no question supposes ("…是省发改委负责吗？")
    also: tuple[str, ...] = ()  # further intents of a question that asks two things ("多少？由哪个部门负责？")
    scope: tuple[str, ...] = ()  # the words that named its document or part (they say nothing of the item)
    asides: tuple[str, ...] = ()  # yes/no parts asked of the same item beside the main question ("…要缴个人所得税吗")


@dataclass(frozen=True)
class Lexicon:
    """What the corpus knows: units (with aliases), lead officials, and how common each token is."""

    units: frozenset[str]
    officials: frozenset[str]
    aliases: AliasTable
    df: dict = field(default_factory=dict)  # token → number of items containing it
    n_items: int = 0
    # the places (_PLACE_NAMES) and years (2023年) found anywhere in the items, their sections and the
    # titles: a question naming another one is refused. Sets, not the joined text (~40 MB at 100k items)
    known_places: frozenset[str] = frozenset()
    known_years: frozenset[str] = frozenset()
    names_by_length: tuple[str, ...] = ()  # units and aliases, longest first (sorted once, not per question)

    @classmethod
    def from_items(
        cls,
        items: Iterable,
        aliases: AliasTable,
        tokenizer=None,
        titles: Iterable[str] = (),
        item_df: tuple[int, dict[str, int]] | None = None,
    ) -> Lexicon:
        """The lexicon of a corpus. `item_df` is (number of items, token → items containing it) as
        stored with the index; without it every item is tokenised here (slow at 100,000 items)."""
        items = list(items)
        if item_df is not None and item_df[0] != len(items):
            item_df = None  # counted over other items: do not trust it
        units: set[str] = set()
        officials: set[str] = set()
        df: dict[str, int] = item_df[1] if item_df is not None else {}
        texts: list[str] = [normalize(t) for t in titles]
        section_norm: dict[str, str] = {}  # a few hundred distinct headings, normalised once
        for item in items:
            units.update(item.units)
            officials.update(item.lead_officials)
            text = item.norm + "".join(
                section_norm.get(s) or section_norm.setdefault(s, normalize(s)) for s in item.section
            )
            texts.append(text)
            if tokenizer is not None and item_df is None:
                for token in set(tokenizer(text)):
                    df[token] = df.get(token, 0) + 1
        known = "\n".join(texts)
        places = frozenset(p for p in _PLACE_NAMES if p in known)
        years = frozenset(m.group(1) for m in _YEAR_ANYWHERE.finditer(known))
        names = tuple(sorted(units | aliases.names(), key=len, reverse=True))
        return cls(frozenset(units), frozenset(officials), aliases, df, len(items), places, years, names)

    def idf(self, token: str) -> float:
        return math.log((self.n_items + 1) / (self.df.get(token, 0) + 0.5))

    def find_units(self, text: str) -> list[str]:
        """Units named in text (longest match first), mapped to the forms the corpus uses."""
        found: list[str] = []
        names = self.names_by_length or tuple(sorted(self.units | self.aliases.names(), key=len, reverse=True))
        rest = text
        for name in names:
            if len(name) >= 3 and name in rest:
                in_corpus = [v for v in same_level_variants(self.aliases, name) if v in self.units]
                for v in in_corpus or [name]:
                    if v not in found:
                        found.append(v)
                rest = rest.replace(name, "　")
        return found

    def find_officials(self, text: str) -> list[str]:
        return [name for name in sorted(self.officials) if name in text]

    def unknown_names(self, text: str) -> list[str]:
        """Places and years the question names that appear nowhere in the corpus."""
        out = []
        for m in _PLACE.finditer(text):
            # a place is known when its bare name occurs (a text with 北京市 contains 北京)
            if m.group(1) not in self.known_places:
                out.append(m.group(0))
        for m in _YEAR.finditer(text):
            if m.group(0) not in self.known_years:
                out.append(m.group(0))
        return out


_PLACE_NAMES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 云南 "
    "陕西 甘肃 青海 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 台湾 粤港澳 京津冀 成渝 深圳 广州 南京 苏州 武汉 成都 西安"
).split()
_PLACE = re.compile(f"({'|'.join(_PLACE_NAMES)})(省|市)?")
_YEAR = re.compile(r"(19|20)\d\d年")
_YEAR_ANYWHERE = re.compile(r"(?=((?:19|20)\d\d年))")  # overlapping, like `in` over the text


def _read_provinces() -> dict[str, str]:
    """Province → the abbreviation its 文号 open with ("" where none is unambiguous): corpus/data/places.tsv."""
    text = resources.files("corpus").joinpath("data/places.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {row[0].strip(): (row[1].strip() if len(row) > 1 else "") for row in rows}


_PROVINCE_ABBREVIATIONS = _read_provinces()
_PROVINCES = re.compile("|".join(sorted(_PROVINCE_ABBREVIATIONS, key=len, reverse=True)))
_BY_ABBREVIATION = {a: p for p, a in _PROVINCE_ABBREVIATIONS.items() if a}
_LOCAL = re.compile(r"^([\u4e00-\u9fa5]{2,4}?)(市|县|区|州|盟)")


_PLACE_IN_NAME = re.compile(r"([\u4e00-\u9fa5]{2,3}?)(?:省|市|自治区|自治州|区|县|新区|州|盟)")
_NOT_PLACE = frozenset("全省 全市 全区 全县 本市 本区 各市 各区 城区 市区 地区 园区 片区 新城 中心 直辖 设区 示范 开发 自治 "
                       "人民 关于 印发 转发".split())


def document_places(title: str, issuer: str | None, number: str | None = None) -> frozenset[str]:
    """Places a document belongs to ("辽宁", "遂宁", "静安"), from its issuer, the head of its title
    ("上海市嘉定区人民政府办公室关于…" names 上海 and 嘉定) and the province its 文号 opens with
    ("京政办发〔2020〕7号" is 北京's, whatever the title says)."""
    head = re.split(r"关于|印发|转发", title)[0]
    names = set(_PROVINCES.findall(title + (issuer or "")))
    opening = re.match(r"\s*([\u4e00-\u9fa5])[\u4e00-\u9fa5]", number or "")
    if opening and opening.group(1) in _BY_ABBREVIATION:
        names.add(_BY_ABBREVIATION[opening.group(1)])
    for text in (issuer or "", head):
        for m in _PLACE_IN_NAME.finditer(text):
            name = m.group(1)
            if name not in _NOT_PLACE and not any(w in name for w in ("政府", "办公", "委员", "人民")):
                names.add(name)
    for text in (issuer or "", title):
        m = _LOCAL.match(text)
        if m and not _PROVINCES.match(m.group(1)):
            names.add(m.group(1))
    return frozenset(names)


def understand(question: str, lexicon: Lexicon) -> Question:
    """Classify the intent and pull out entities and the retrieval topic."""
    norm = normalize(question)
    units = lexicon.find_units(norm)
    officials = lexicon.find_officials(norm)
    if _LIST.search(norm) and not _ASKS_UNIT.search(norm):
        intent = "list"
    elif _LEAD_OFFICIAL.search(norm):
        intent = "lead_official"
    elif _DEADLINE.search(norm):
        intent = "target" if _PERIOD_LENGTH.search(norm) else "deadline"
    elif _INVESTMENT.search(norm):
        intent = "investment"
    elif _OWNER.search(norm):
        intent = "owner"
    elif _TARGET.search(norm):
        intent = "target"
    else:
        intent = "general"
    premise: tuple[str, ...] = ()
    if units and _PREMISE.search(norm):
        # "X这项工作是省发改委负责吗？": the task decides the answer, the unit is what is checked
        intent, premise = "owner", tuple(units)
    asked = [i for i in dict.fromkeys(_intent_of(part) for part in _parts(norm)) if i != "general"]
    if len(asked) > 1 and intent not in ("list",) and not premise:
        intent = asked[0]  # a question that asks two things is answered in the order it asks them
    also = tuple(i for i in asked if i != intent)
    parts = _parts(norm)
    asides = tuple(p.strip() for p in parts[1:] if _intent_of(p) == "general" and _YES_NO.search(p)) \
        if len(parts) > 1 and intent != "list" and not premise else ()
    topic = norm
    if intent == "list" or premise:
        named = set(units) | set(officials) if intent == "list" else set(units)
        named |= {a for a in lexicon.aliases.names() if a in topic
                  and (intent == "list" or any(a in lexicon.aliases.variants(u) for u in units))}
        for name in sorted(named, key=len, reverse=True):  # 国家发改委 before 发改委
            topic = topic.replace(name, " ")
    topic = re.sub(r"(常务)?副?(省长|市长)", " ", topic) if intent == "list" else topic
    if premise:
        topic = re.sub(r"(是|由)?\s*(负责|牵头|承担|落实|主管|指导|配合|参与)(的)?吗", " ", topic)
    stripped = _QUESTION_WORDS.sub(" ", topic)
    phrases = tuple(p for p in _PUNCT.split(stripped) if len(p) >= 2)
    topic_text = " ".join(phrases) or ("" if intent == "list" else norm)
    return Question(
        text=question,
        intent=intent,
        units=tuple(units),
        officials=tuple(officials),
        topic=topic_text,
        phrases=phrases,
        premise=premise,
        also=also,
        asides=asides,
    )


_YES_NO = re.compile(r"[吗么][?？]?$|是否|有没有|能否|可否")


def _parts(norm: str) -> list[str]:
    """The questions a question asks: "惠民保赔付率要达到多少？由哪个部门负责？" is two."""
    return [p for p in re.split(r"[？?]|[，,](?=[^，,]*(?:哪|谁|多少|何时|什么时候))", norm) if p.strip()]


def _intent_of(part: str) -> Intent:
    if _LEAD_OFFICIAL.search(part):
        return "lead_official"
    if _DEADLINE.search(part):
        # "有效期多长": the length of a period is a figure ("3个月"); "有效期到什么时候" is a date
        return "target" if _PERIOD_LENGTH.search(part) else "deadline"
    if _INVESTMENT.search(part):
        return "investment"
    if _OWNER.search(part):
        return "owner"
    if _TARGET.search(part) and re.search(r"多少|几|多大|多长|多高|百分之", part):
        return "target"
    return "general"
