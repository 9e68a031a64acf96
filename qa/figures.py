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
from corpus.targets import MEASURES

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
    "count": ("个", "项", "家", "所", "座", "处", "条", "件", "批", "场", "次", "套", "台", "辆", "栋", "列"),
}
# words that name the kind of figure without its unit
_CONCEPTS: tuple[tuple[str, str], ...] = (
    ("percent", r"百分之|比例|比重|占比|[赔覆盖利用合格达标出租回收处理]?率(?!先)|百分比|增速|增幅|降幅|涨幅"),
    ("money", r"金额|资金|预算|经费|罚款|费用|价格|投资额?|收入|罚金|津贴|奖金|工资"),
    ("area", r"面积"),
    ("length", r"长度|里程"),
    ("people", r"人数"),
)
_ASKED_UNIT = re.compile(rf"(?:多少|几)([万亿千百]?(?:{'|'.join(map(re.escape, MEASURES))}|日|%))")
# a change asked without its unit ("增长多少"): a percentage or an amount, the question does not say
_CHANGE = re.compile(r"(?:增长|下降|提高|降低|增加|减少|提升|上涨|下调|上调)(?:了)?(?:多少|几)(?![个万亿千百元亩米人户天日年吨%])")
YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
PERIOD = re.compile(r"((?:19|20)\d\d)\s*[-—－至~]\s*((?:19|20)?\d\d)\s*年")  # 2024-2026年


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
    if kind is None and not _CHANGE.search(asking):
        # the kind of figure is named right next to the asking word: "赔付率要达到多少", "多少资金"
        q_at = re.search(r"多少|几|多大|多长|多高|百分之", asking)
        near = asking[max(0, q_at.start() - 8): q_at.end() + 6] if q_at else asking
        for name, pattern in _CONCEPTS:
            if re.search(pattern, near):
                kind = name
                break
    year = YEAR.search(PERIOD.sub(" ", asking))  # a year, not a period
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
    "多少 今年 全年 年度 目标 要求 门槛 上限 下限 幅度 水平 用于 力争 计划 达到 突破 超过 提高 增加 增长 下降 完成 新增 新建 建成 规模 数量 总量 标准 "
    "累计 其中 一共 总共 分别 实现 主要 重点 任务 工作 要 共 个 年 项 的 是 多大 多长 多高 最高 最多 最少 至少 以上 以下 "
    "原则上 原则 一般 应当 应 可以 可 能 需要 需 将 已 建设 开展 推进 加快 个人 人员 企业 单位 群众 职工 对象 大概 大约 "
    "大致 约 左右 一共 总体 整体 今后 五年 三年 十年 明年 近期 目前 当前 本年 年内 期间 届时 确保 争取 推动 实施 "
    "落实 做好 组织 举办".split())


def asked_object(question: str) -> str:
    """What the figure is of: the words right before the asking word ("农村居民人均可支配收入要达到多少")
    and right after it ("多少创业担保贷款", "多少万个5G基站"), as "before after"."""
    q = normalize(question)
    m = _QUANTITY.search(q)
    if not m:
        return ""
    before = q[: m.start()]
    b = _BOUNDARY.match(before)
    before = before[b.end():] if b else before
    after = re.match(r"(?:[万亿千百]?[个项家所座条名人次台辆处件亩元吨]?)([\u4e00-\u9fa5A-Za-z0-9]{2,10}?)(?:[？?，,。]|$)",
                     q[m.end():])
    tail = after.group(1) if after and not _is_measure(after.group(1)) else ""
    return before[-16:] + " " + tail


def _is_measure(text: str) -> bool:
    return bool(re.fullmatch(r"[万亿千百]*", text)) or re.sub(r"^[万亿千百]+", "", text) in MEASURES


# qualifiers that make another figure of the same thing: 总投资 is not 计划投资, 人均 is not the total
_QUALIFIED = ("总投资", "总规模", "总量", "总额", "人均", "年均", "户均", "累计")
# a level before a kind of thing makes another thing: 全国重点实验室 is not 省部级重点实验室
_LEVEL = r"全国|国家级|国家|省部级|省级|市级|区级|县级|国际|世界级|全球"


def missing_words(obj: str, sentence: str, tokenizer, around: str = "", elsewhere: str = "") -> list[str]:
    """The object's words that the cited text lacks where it matters: a qualifier that makes another figure
    (总投资 against a row stating only 2023年计划投资), and a contrasting word right before words the text
    has — 核电 before 装机 against "清洁煤电装机", PM10 before 平均浓度, 人均 before 地区生产总值. A word that
    only places the figure ("复兴岛全年举办多少场") is said when the item says it `elsewhere`; a qualifier
    or a contrasting modifier must be in the figure's own sentence."""
    said = normalize(sentence).lower()
    text = said + normalize(around).lower()  # the item's section, units and headers count as said too
    before, _, after = obj.partition(" ")
    before = re.sub(r"(?:目标|指标|标准)?(?:是|为)$", "", before)
    phrase = after or before  # "多少万个5G基站": the object follows; else it precedes ("总投资多少")
    cut = getattr(tokenizer, "words", tokenizer)
    # a word the tokenizer does not know but the item prints (奖补) is a word, not a fragment of the question
    known = text + normalize(elsewhere).lower()
    words = [t for t in dict.fromkeys(cut(phrase)) if _counts(t, tokenizer, known)]
    out: list[str] = [w for w in _QUALIFIED if w in obj and w not in text]
    out += _other_level(phrase, said)
    out += _narrower_total(obj, said)
    low = phrase.lower()
    for token in words:
        t = token.lower()
        if t in text or token in out or _compound_of(t, said) or miscut(t, low, text):
            continue
        # a word of which the text has the head but not the modifier: 全国重点实验室 against 省部级重点实验室
        head = next((k for k in range(2, len(t) - 1) if t[k:] in text and t[:k] not in said), None)
        if head is not None:
            out.append(token[:head])
            continue
        at = low.find(t)
        rest = low[at + len(t): at + len(t) + 6]
        if t in normalize(elsewhere).lower():
            if token == words[-1] and len(words) > 1 and not after:
                # the thing measured, which the item names only in another sentence: "专项资金中用于生猪
                # 生产补贴的是多少" against "安排500万元专项资金" (the fund's figure, not the subsidy's)
                out.append(token)
            continue
        # a word the text lacks, right before words it has (one other missing word may come between)
        if any(len(rest) >= k + 2 and not rest[k: k + 2].isdigit() and rest[k: k + 2] in text for k in (0, 1, 2)):
            out.append(token)
        elif token == words[-1] and len(words) > 1 and re.search(r"[额量值数]$", t):
            out.append(token)  # the indicator itself, after words the item has (科创贷款余额 against 再贴现额度)
    head = words[-1].lower() if len(words) > 1 and not after else ""
    # the thing measured named nowhere in the item, not even by a word that shares a character with it
    # (补贴 for 补助): the figure is another's
    if head and head not in text and head not in normalize(elsewhere).lower() and not _compound_of(head, said) \
            and not any(ch in said for ch in head) and words[-1] not in out:
        out.append(words[-1])
    return [w for w in out if not any(w != v and w in v for v in out)]


def miscut(token: str, phrase: str, text: str) -> bool:
    """Whether the tokenizer cut the phrase across words the text has: "2025年全区分年度" cut as 年全 / 区分
    against "2025年" "全区" "分年度" in the text. Each character of the token lies in a run of two or more
    the text has that crosses the token's edge."""
    at = phrase.find(token)
    if at < 0 or len(token) < 2:
        return False
    end = at + len(token)

    def covered(pos: int) -> bool:
        return any(phrase[i:j] in text for i in range(max(0, pos - 5), pos + 1)
                   for j in range(max(pos + 1, i + 2), min(len(phrase), i + 6) + 1) if i < at or j > end)

    return all(covered(pos) for pos in range(at, end))


_TOTAL = re.compile(r"总投资|总规模|总量|总额")


def _narrower_total(obj: str, said: str) -> list[str]:
    """The thing whose total is asked when the text gives the total of a narrower thing: 体育产业总规模
    against "体育竞赛表演产业总规模" (the asked words are all there, in order, but something comes between)."""
    out = []
    for m in _TOTAL.finditer(obj):
        asked = re.sub(r"^(?:年底|年末|年)", "", re.search(r"[\u4e00-\u9fff]*$", obj[: m.start()]).group(0))[-8:]
        if len(asked) < 2:
            continue
        stated = [re.search(r"[\u4e00-\u9fff]{0,12}$", said[: t.start()]).group(0)
                  for t in re.finditer(re.escape(m.group()), said)]
        if stated and not any(s.endswith(asked) for s in stated) and any(
                re.search(".*?".join(map(re.escape, asked)), s) for s in stated):
            out.append(asked)
    return out


def _other_level(phrase: str, said: str) -> list[str]:
    """Levels the phrase puts before a thing that the text has only under another level."""
    out = []
    for m in re.finditer(_LEVEL, phrase):
        after = phrase[m.end(): m.end() + 6]
        for n in range(len(after), 2, -1):
            thing = after[:n]
            if re.search(rf"(?:{_LEVEL}){re.escape(thing)}", said):
                if m.group() + thing not in said:
                    out.append(m.group())
                break
    return out


def _compound_of(word: str, text: str) -> bool:
    """Whether a word is two words the text has ("确保重点" when the text says 确保 and 重点)."""
    return any(word[:k] in text and word[k:] in text for k in range(2, len(word) - 1))


def _counts(token: str, tokenizer, known: str = "") -> bool:
    t = token.strip().lower()
    if len(t) < 2 or t in _GENERIC or t.isdigit() or re.fullmatch(r"(?:19|20)\d\d年?|\d+[-—]\d+", t):
        return False
    if any(re.fullmatch(pattern, t) for _, pattern in _CONCEPTS):
        return False  # "比例", "金额" name the kind of figure, which the kind check has compared
    # no fragment of the question ("差要")
    return not hasattr(tokenizer, "is_word") or tokenizer.is_word(t) or t in known
