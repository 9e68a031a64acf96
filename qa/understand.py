"""Understanding a question: its intent, the entities it names, and the topic left to retrieve."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from corpus.aliases import AliasTable
from corpus.normalize import normalize

INTENTS = ("list", "lead_official", "deadline", "investment", "target", "owner", "general")

_LIST = re.compile(r"(哪些|几项|多少项|所有|全部|列出|清单)(?!单位|部门)")
_LEAD_OFFICIAL = re.compile(r"(哪位|哪个|什么)(副?省长|副?市长|领导|省领导)|牵头领导|分管领导|责任领导|谁分管|领导是谁")
_DEADLINE = re.compile(r"什么时候|何时|完成时限|时限|几月|哪个月|截止|期限|完成时间|哪一年|什么时间")
_INVESTMENT = re.compile(r"总投资|计划投资|投资多少|投资额|投资规模|年度投资|投资是多少|投资了多少")
_TARGET = re.compile(r"目标|多少|达到|几个|几家|多大|规模|指标|比例|比重|增长|增速|数量|几条|几公里|几万|多少个")
_OWNER = re.compile(
    r"谁负责|哪个单位|哪些单位|什么单位|责任单位|牵头单位|归哪|由谁|谁牵头|哪个部门|哪些部门|谁来|负责单位|主管|谁抓|哪家单位|负责部门|谁承担"
)
# Words that carry the intent, not the topic: removed before retrieval.
_QUESTION_WORDS = re.compile(
    r"请问|请告诉我|我想知道|一下|是什么|是多少|有哪些|有多少|由谁|谁来|谁|哪个|哪些|哪位|什么|多少|"
    r"几个|几项|怎么|如何|吗|呢|负责|牵头|单位|部门|领导|责任|完成时限|时限|时候|何时|几月|"
    r"目标|计划|主要|具体|重点|重大|工作|任务|事项|今年|2023年|的|了|是|由|归|抓|承担|要求|情况"
)
_PUNCT = re.compile(r"[\s？?！!。，,、；;：:“”\"'（）()《》]+")


@dataclass(frozen=True)
class Question:
    text: str
    intent: str
    units: tuple[str, ...]  # as written in the corpus (canonical forms of any alias used)
    officials: tuple[str, ...]
    topic: str  # what is left for retrieval
    phrases: tuple[str, ...]  # topic chunks for exact-phrase boosts


@dataclass(frozen=True)
class Lexicon:
    """Names the corpus knows: units (with aliases) and lead officials."""

    units: frozenset[str]
    officials: frozenset[str]
    aliases: AliasTable

    @classmethod
    def from_items(cls, items: Iterable, aliases: AliasTable) -> Lexicon:
        units: set[str] = set()
        officials: set[str] = set()
        for item in items:
            units.update(item.units)
            officials.update(item.lead_officials)
        return cls(frozenset(units), frozenset(officials), aliases)

    def find_units(self, text: str) -> list[str]:
        """Units named in text (longest match first), mapped to the forms the corpus uses."""
        found: list[str] = []
        names = sorted(self.units | self.aliases.names(), key=len, reverse=True)
        rest = text
        for name in names:
            if len(name) >= 3 and name in rest:
                in_corpus = [v for v in self.aliases.variants(name) if v in self.units]
                for v in in_corpus or [name]:
                    if v not in found:
                        found.append(v)
                rest = rest.replace(name, "　")
        return found

    def find_officials(self, text: str) -> list[str]:
        return [name for name in sorted(self.officials) if name in text]


def understand(question: str, lexicon: Lexicon) -> Question:
    """Classify the intent and pull out entities and the retrieval topic."""
    norm = normalize(question)
    units = lexicon.find_units(norm)
    officials = lexicon.find_officials(norm)
    if (units or officials) and _LIST.search(norm):
        intent = "list"
    elif _LEAD_OFFICIAL.search(norm):
        intent = "lead_official"
    elif _DEADLINE.search(norm):
        intent = "deadline"
    elif _INVESTMENT.search(norm):
        intent = "investment"
    elif _OWNER.search(norm):
        intent = "owner"
    elif _TARGET.search(norm):
        intent = "target"
    else:
        intent = "general"
    topic = norm
    for name in sorted(set(units) | set(officials), key=len, reverse=True):
        if intent == "list":
            topic = topic.replace(name, " ")
    for alias in lexicon.aliases.names():
        if intent == "list" and alias in topic:
            topic = topic.replace(alias, " ")
    topic = re.sub(r"(常务)?副?(省长|市长)", " ", topic) if intent == "list" else topic
    stripped = _QUESTION_WORDS.sub(" ", topic)
    phrases = tuple(p for p in _PUNCT.split(stripped) if len(p) >= 2)
    topic_text = " ".join(phrases) or norm
    return Question(
        text=question,
        intent=intent,
        units=tuple(units),
        officials=tuple(officials),
        topic=topic_text,
        phrases=phrases,
    )
