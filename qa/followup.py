"""Follow-up questions, without a session store: a question that leans on the previous turn ("那它的
完成时限呢？", "第二项由谁牵头？", "还有哪些？") is rewritten as one that stands alone, from the
previous question, answered again (answers are deterministic over the same index), and its cited
items.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from corpus.normalize import normalize
from qa.answer import Answer, summary_of

Role = Literal["user", "assistant"]

_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ORDINAL = re.compile(r"第\s*([一二两三四五六七八九十]{1,3}|\d{1,3})\s*(?:项|条|个|点)")
# words that point back at the previous answer's item
_POINTER = re.compile(r"(?:它|其|这项|该项|此项|这一项|这条|该条|此条|这个|那个|上述|上面|前面|刚才)(?:工作|任务|事项|条目|的)?")
_LEAD_IN = re.compile(r"^(?:那么|那|再问一下|请问|另外)[，,\s]*")
_MORE = re.compile(r"^(?:还有|其他|其余|另外还有)(?:哪些|什么|吗|呢|没有)")
# what a question asks, as opposed to what it is about: a question of nothing but these has no topic
_ASKING_WORDS = re.compile(r"请问|那么|那|由|谁|哪个|哪些|哪家|什么|时候|何时|多少|是|为|的|呢|吗|牵头|负责|完成|时限|期限|"
                           r"目标|任务量|领导|单位|部门|责任|主要|具体|要求|情况|怎么|如何|有|几|个|项|[？?。，,！!\s]")


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


def _ordinal(text: str) -> int | None:
    m = _ORDINAL.search(text)
    if not m:
        return None
    n = m.group(1)
    if n.isdigit():
        return int(n)
    if len(n) == 1:
        return _NUMERALS[n]
    if n[0] == "十":
        return 10 + _NUMERALS.get(n[1:], 0)
    return _NUMERALS[n[0]] * 10 + _NUMERALS.get(n[2:] if n[1] == "十" else "", 0)


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the previous turn."""
    q = normalize(question).strip()
    rest = _LEAD_IN.sub("", q)
    topicless = len(_ASKING_WORDS.sub("", rest)) < 2
    return bool(_ORDINAL.search(q) or _POINTER.search(rest) or _MORE.match(rest) or topicless
                or (q != rest and rest.endswith(("呢", "呢？", "呢?"))))


def standalone(question: str, history: Sequence[Turn], ask: Callable[[str], Answer],
               topic_of: Callable[[str], str]) -> str:
    """The question rewritten to stand alone, given the turns before it (oldest first); the question
    itself when it does not lean on them or they give nothing to lean on. `ask` answers a question,
    `topic_of` gives what a question is about (without what it asks)."""
    if not history or not is_follow_up(question):
        return question
    users = [i for i, t in enumerate(history) if t.role == "user"]
    if not users:
        return question
    last = users[-1]
    previous = standalone(history[last].content, history[:last], ask, topic_of)
    answer = ask(previous)
    q = _LEAD_IN.sub("", normalize(question).strip())
    if _MORE.match(q):
        # "还有哪些？" after an answer about an owner: the owner's other tasks
        f = answer.fields
        if f.lead_officials:
            return f"{f.lead_officials[0]}牵头哪些工作？"
        if f.lead_units or f.units:
            return f"{(f.lead_units or f.units)[0]}牵头哪些工作？"
        return previous
    n = _ordinal(q)
    if n is not None and 1 <= n <= len(answer.citations):
        anchor = summary_of(answer.citations[n - 1].text, 30).rstrip("…")
        rest = _ORDINAL.sub("", q)
    elif answer.citations:
        topic = topic_of(previous)
        anchor = topic if len(topic) >= 2 else summary_of(answer.citations[0].text, 30).rstrip("…")
        rest = q
    else:
        return question
    rest = _POINTER.sub("", rest).lstrip("的，, ")
    rest = re.sub(r"呢([？?]?)$", r"是什么\1", rest) if rest.endswith(("呢", "呢？", "呢?")) else rest
    return f"{anchor}{'' if rest.startswith(('由', '的')) else '的'}{rest}"
