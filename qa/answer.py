"""Composing a cited answer from the structured fields of retrieved items. No LLM."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from corpus.aliases import names_unit
from corpus.deadlines import find_time_expressions
from corpus.model import Clause, Document, Item, Target
from corpus.normalize import normalize
from corpus.roles import load_roles
from corpus.tables import TOTAL_ROW, TOTAL_WORDS
from index.hybrid import Filters, Hit, HybridIndex
from qa.figures import PERIOD, YEAR, asked_figure, asked_object, kind_of_unit, miscut, missing_words, why_not
from qa.understand import Intent, Question

NOT_FOUND = "未找到相关条目"


@dataclass(frozen=True)
class Citation:
    doc_id: str
    doc_title: str
    doc_number: str | None
    section: str
    item_no: str
    ref: str
    text: str
    item_id: str
    score: float
    printed: str = ""  # a table row as printed, cells in order (when it differs from text)


@dataclass(frozen=True)
class AnswerFields:
    lead_officials: tuple[str, ...] = ()
    lead_units: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    deadline: str | None = None
    targets: tuple[Target, ...] = ()
    investment: dict | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    intent: Intent
    found: bool
    answer: str
    fields: AnswerFields = field(default_factory=AnswerFields)
    citations: tuple[Citation, ...] = ()
    reason: str | None = None
    terms: tuple[str, ...] = ()  # the question's topic words, for highlighting


def item_ref(item: Item, document: Document | None) -> str:
    """Human-readable citation: 〔文号 section › item number〕."""
    source = (document.number or document.title) if document else item.doc_id
    parts = list(item.section)
    if item.item_no and not (parts and parts[-1].startswith(item.item_no + "、")):
        parts.append(f"第{item.item_no}项" if item.item_no.isdigit() else item.item_no)
    return f"〔{source} {' › '.join(parts)}〕"


def cite(item: Item, document: Document | None, score: float) -> Citation:
    return Citation(
        doc_id=item.doc_id,
        doc_title=document.title if document else "",
        doc_number=document.number if document else None,
        section=item.section_path,
        item_no=item.item_no,
        ref=item_ref(item, document),
        text=item.text,
        item_id=item.item_id,
        score=round(score, 5),
        printed=item.printed,
    )


def coverage(question: Question, hit: Hit, lexicon, tokenizer, ignore: frozenset[str] = frozenset(),
             document_name: str = "") -> float:
    """IDF-weighted share of the topic's tokens found in the hit's item and section (see _weighed)."""
    weights, found = _weighed(question, hit, lexicon, tokenizer, ignore, document_name)
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total else 0.0


def unsupported_words(question: Question, hit: Hit, lexicon, tokenizer, ignore: frozenset[str] = frozenset(),
                      document_name: str = "") -> list[str]:
    """The question's words the hit does not have, the rarest (the most telling) first."""
    weights, found = _weighed(question, hit, lexicon, tokenizer, ignore, document_name)
    return sorted((t for t in weights if t not in found), key=lambda t: -weights[t])


def _weighed(question: Question, hit: Hit, lexicon, tokenizer, ignore: frozenset[str],
             document_name: str) -> tuple[dict[str, float], set[str]]:
    """The topic's tokens with their IDF weights, and those found in the hit's item and section.

    A rare word the corpus never uses ("火星") weighs most, so a question about something absent
    scores low even when its common words ("建设", "目标") match. Words of the hit's own document
    name (`document_name`: its title, 文号, issuer) are the question naming the document
    ("天津关爱一线医务人员若干措施里…"): they count where the item has them, never against it.
    """
    haystack = (hit.item.norm + hit.clause.norm + "".join(hit.item.section)).lower()
    # a column header names what is asked ("总投资（亿元）", "任务量"), not what it is asked about: its
    # words neither count for the row nor against it
    columns = "".join(normalize(h) for h, _ in hit.item.fields).lower()
    headers = columns + normalize(document_name).lower()
    # the words that named the document are not asked of the item (but count where it has them); each
    # phrase is cut on its own ("2025年 分年度" is not "年分")
    if _total_row(hit.item):
        haystack += _TOTAL_MEANS  # a table's total row is the 合计 of the whole area, whichever word it prints
    phrases = tuple(normalize(p).lower() for p in (question.phrases or (question.topic,)))
    cut = {t: phrase for phrase in phrases for t in tokenizer(phrase)}
    tokens = [t for t in cut
              if (len(t) >= 2 or t.isdigit()) and not (t in ignore and t.lower() not in haystack)
              and not (t.lower() in headers and t.lower() not in haystack)]
    weights = {t: lexicon.idf(t) for t in tokens}
    found = {t for t in weights if t in haystack or miscut(t.lower(), cut[t], haystack + columns)
             or abbreviates(t.lower(), haystack)}
    return weights, found


def abbreviates(token: str, text: str) -> bool:
    """A two-character abbreviation the text spells out: 信保 for 信用保险, 保费 for 保险费用 (each
    character opens a word, the second within two characters of the first)."""
    if len(token) != 2 or not all("\u4e00" <= c <= "\u9fff" for c in token):
        return False
    return re.search(re.escape(token[0]) + r"[\u4e00-\u9fff]{1,2}" + re.escape(token[1]), text) is not None


_TOTAL_MEANS = "|" + "|".join(TOTAL_WORDS) + "|全区|全市|全省|全县"


def _total_row(item: Item) -> bool:
    return bool(TOTAL_ROW.match(item.item_no) or TOTAL_ROW.match(re.split(r"[：:]", item.norm, maxsplit=1)[0]))




_NAME_GENERIC = frozenset("项目 工程 建设 投资 总投资 计划 计划投资 年度 今年 全年 亿元 万元 多少 是否 新建 续建 进度 形象进度 "
                          "一期 二期 情况 目前".split())


def unnamed_words(question: Question, hit: Hit, tokenizer) -> list[str]:
    """The words of the project the question names that the hit's row lacks: a project is asked by its
    name ("丽水机场", "宁波机场四期扩建工程"), and a row that shares only part of the name (机场, 扩建工程)
    is another project."""
    # the row's units count: "宁波…项目" may be the row of 宁波市政府 whose name leaves the city out
    haystack = (hit.item.norm + "".join(hit.item.section) + "".join(hit.item.units)).lower()
    headers = "".join(normalize(h) for h, _ in hit.item.fields).lower()
    cut = getattr(tokenizer, "words", tokenizer)
    return [t for t in dict.fromkeys(cut(question.topic))
            if len(t) >= 2 and t not in _NAME_GENERIC and not re.fullmatch(r"[\d.]+|(?:19|20)\d\d年?", t)
            and t.lower() not in haystack and t.lower() not in headers and not _abbreviates(t.lower(), haystack)]


def _abbreviates(word: str, text: str) -> bool:
    """"苏湖" for 苏州至湖州: the word's characters in order, close together, in the text."""
    return bool(re.search(".{0,4}".join(map(re.escape, word)), text))


def _join(names: tuple[str, ...]) -> str:
    return "、".join(names)


_ASKED_UNIT = re.compile(r"(?:多少|几)(万|亿|千|百)?([\u4e00-\u9fa5]{1,3}?)(?=[？?，。、的]|$|要|是|以|左右)")


def _bigrams(text: str) -> set[str]:
    return {text[i: i + 2] for i in range(len(text) - 1)}




def pick_target(targets: tuple[Target, ...], question: str, preferred: tuple[Target, ...] = (),
                kind: str | None = None) -> Target | None:
    """The target the question asks for: the one of the year it names, in the unit it asks, whose words
    (its phrase, and most the few characters before its number) share most with the question."""
    if not targets:
        return None
    q = normalize(question)
    grams = _bigrams(q)
    # the year of the asked figure is in the clause that asks ("…表里，安亭镇2025年的任务量是多少"),
    # not in the words that name the table ("按1996年招生计划表，广东的扩招任务是多少")
    asking = next((c for c in re.split(r"[，,；;]", q) if re.search(r"多少|几|哪|什么", c)), q)
    # a period asked ("2024-2026年总任务量") is the period's column, not its last year's
    periods = {f"{a}-{b[-2:]}" for a, b in PERIOD.findall(asking)}
    years = set(YEAR.findall(PERIOD.sub(" ", asking)))
    asked_grams = {g for g in _bigrams(asking) if not g.isdigit()}
    asked = _ASKED_UNIT.search(q)
    asked_unit = (asked.group(1) or "") + asked.group(2) if asked else ""

    def score(t: Target) -> tuple[float, int]:
        pos = t.text.find(t.value)
        # the words around the figure say what it counts: "完成不少于100万条模型微调语料"
        end = pos + len(t.value) + len(t.unit)
        window = t.text[max(0, pos - 8): pos] + t.unit + t.text[end: end + 8]
        s = 2.0 * sum(1 for g in asked_grams if g in window) + 0.5 * sum(1 for g in grams if g in t.text)
        if "·" in t.text[:pos]:
            # a table cell's column ("广东·扩招：30") says what it counts more than a note in a cell
            column = t.text[:pos].split("·")[-1]
            s += 2.0 * sum(1 for g in asked_grams if g in column)
        if periods:
            s += 12 if any(f"{a}-{b[-2:]}" in periods for a, b in PERIOD.findall(t.text[: max(pos, 0)])) else -6
        elif years:
            # "2024-2026年任务量" is the whole period's figure, not 2026's
            label = re.sub(r"(?:19|20)\d\d\s*[-—－至~]\s*(?:19|20)?\d\d年?", "", t.text[: max(pos, 0)])
            single = t.year if t.year and not re.search(rf"{t.year}\s*[-—－至~]", t.text) else None
            if single in years or any(f"{y}年" in label for y in years):
                s += 12
            elif t.year:
                s -= 6
        if asked_unit and t.unit and (t.unit.endswith(asked_unit) or asked_unit.endswith(t.unit)):
            s += 3
        if t in preferred:
            s += 1
        return s, -targets.index(t)

    # a figure of another kind is no answer (why_not refuses it), so one of the asked kind wins
    of_kind = tuple(t for t in targets if kind and kind_of_unit(t.unit) == kind)
    return max(of_kind or targets, key=score)


def pick_deadline(question: str, clause: Clause, item: Item) -> str | None:
    """The deadline the question asks about: a table row's 完成时限; else, of the clause's time
    expressions, the one whose surroundings share most with the question."""
    if item.fields and item.deadline:
        return item.deadline
    text = normalize(clause.text)
    found = [t for t in find_time_expressions(text) if t.is_deadline]
    if not found:
        return clause.deadline or item.deadline
    grams = _bigrams(normalize(question))
    years = set(YEAR.findall(normalize(question)))

    def score(t) -> tuple[float, int]:
        around = text[max(0, t.start - 14): t.end + 14]
        s = sum(1 for g in grams if g in around) + t.strength
        if years and any(y in around for y in years):
            s += 4
        return s, -t.start

    return re.sub(r"\s+", "", max(found, key=score).text)


def _owner_sentence(subject: str, clause: Clause, item: Item, officials: tuple[str, ...] = ()) -> str:
    officials = officials or clause.lead_officials or item.lead_officials
    units = clause.units or item.units
    leads = clause.lead_units or item.lead_units
    parts = []
    if officials:
        parts.append(f"{subject}由{_join(officials)}牵头")
    if units:
        if leads and len(units) > len(leads):
            parts.append(f"牵头单位为{_join(leads)}，责任单位为{_join(units)}")
        else:
            parts.append(f"责任单位为{_join(units)}")
    if not parts:
        return f"{subject}在文件中未列明责任单位"
    return "，".join(parts)


_PHRASE_ENDS = "，、：,:"
_OPENS, _CLOSES = "（(“《【", "）)”》】"


def summary_of(text: str, limit: int = 40) -> str:
    """The opening of a text for an answer line: its first sentence when that fits in `limit`
    characters, else its phrases up to the limit and "…", cut after a phrase and outside brackets,
    never inside a phrase (unless one phrase alone runs far past the limit)."""
    first = re.split(r"[。；;\n]", text.strip())[0].strip()
    if len(first) <= limit:
        return first
    depth, cuts = 0, []
    for i, ch in enumerate(first[: limit * 3 // 2]):
        depth += (ch in _OPENS) - (ch in _CLOSES)
        if ch in _PHRASE_ENDS and depth <= 0 and i >= limit // 3:
            cuts.append(i)
    before = [i for i in cuts if i <= limit]
    if before:
        return first[: before[-1]] + "…"
    if cuts:  # one long phrase: up to its end when that comes soon
        return first[: cuts[0]] + "…"
    return first[:limit] + "…"


def _subject(question: Question, hit: Hit) -> str:
    """The question's own topic when the clause states it verbatim, else the clause (shortened)."""
    topic = question.topic.replace(" ", "")
    if 2 <= len(topic) <= 30 and topic in hit.clause.norm:
        return topic
    return summary_of(hit.clause.text.strip("。；; "), 30)


_AFTER = ("以上", "及以上", "左右", "以内", "以下", "之内")


def target_text(t: Target) -> str:
    """"2200列以上", "达到8.5万元"."""
    amount = f"{t.value}{t.unit}"
    if not t.qualifier:
        return amount
    return amount + t.qualifier if t.qualifier in _AFTER else t.qualifier + amount


@dataclass(frozen=True)
class _Draft:
    """What every intent's answer is composed from: the cited item, its clause and their fields."""

    question: Question
    item: Item
    clause: Clause
    subject: str
    officials: tuple[str, ...]
    fields: AnswerFields
    citation: Citation
    variants: object = None
    tokenizer: object = None

    @property
    def ref(self) -> str:
        return self.citation.ref

    def refusal(self, reason: str, text: str | None = None) -> Answer:
        """The item found does not state what was asked: say so, cite it, and never answer with something else."""
        return Answer(self.question.text, self.question.intent, False, f"{NOT_FOUND}：{text or reason}。{self.ref}",
                      self.fields, (self.citation,), reason=reason)


def _lead_official_text(d: _Draft) -> str | Answer:
    if d.fields.lead_officials:
        return f"{d.subject}的牵头领导为{_join(d.fields.lead_officials)}。{d.ref}"
    return f"{_owner_sentence(d.subject, d.clause, d.item)}；文件未列明牵头领导。{d.ref}"


def _deadline_text(d: _Draft) -> str | Answer:
    if not d.fields.deadline:  # the deadline the question asks for, picked from the item's times
        reason = "该条目未列明完成时限"
        return d.refusal(reason, f"{reason}（{_owner_sentence(d.subject, d.clause, d.item)}）")
    return f"{d.subject}的完成时限为{d.fields.deadline}。{d.ref}"


def _figure_text(d: _Draft) -> str | Answer:
    if d.question.intent == "investment" and d.item.investment:
        text, missing = _investment_answer(d.question, d.item)
        return d.refusal(missing) if missing else text + d.ref
    target, missing = figure_for(d.question, d.clause, d.item, d.tokenizer)
    if missing:
        return d.refusal(missing)
    if not target:
        return f"{d.clause.text.strip()}{d.ref}"
    text = f"目标：{target.text}（{target_text(target)}）"
    others = [t for t in d.clause.targets if t != target and t.text != target.text
              and (t.value, t.unit) != (target.value, target.unit)]
    if others:
        text += "；同一条目还列有：" + "；".join(t.text for t in others[:6])
    return text + f"。{d.ref}"


def _owner_text(d: _Draft) -> str | Answer:
    if d.question.premise:
        return _premise_answer(d.question, d.subject, d.clause, d.item, d.officials, d.variants) + d.ref
    if not (d.fields.units or d.fields.lead_officials):
        return d.refusal("该条目未列明责任单位")
    return f"{_owner_sentence(d.subject, d.clause, d.item, d.officials)}。{d.ref}"


def _general_text(d: _Draft) -> str | Answer:
    return f"{d.clause.text.strip()}（{_owner_sentence('该项', d.clause, d.item, d.officials)}）。{d.ref}"


# How each intent is answered; any other intent is answered with the clause and its owners.
_COMPOSERS: dict[Intent, Callable[[_Draft], str | Answer]] = {
    "lead_official": _lead_official_text,
    "deadline": _deadline_text,
    "investment": _figure_text,
    "target": _figure_text,
    "owner": _owner_text,
}


def _chosen_copy(question: Question, hits: list[Hit], same_text: tuple[Item, ...]) -> tuple[Item, Clause, tuple[Item, ...]]:
    """The item and clause to answer from, and the other copies of its text to cite beside it.

    A question naming one of the leaders of a task printed under two is answered from that leader's copy."""
    top = hits[0]
    item, clause = top.item, top.clause
    twins = tuple(i for i in same_text if i.units == item.units and i.item_id != item.item_id)
    if twins and question.officials:
        named = [c for c in (item, *twins) if set(question.officials) & set(c.lead_officials)]
        if named:
            # "徐文光常务副省长牵头的X…": that leader's copy, cited first; the other copy is someone else's
            chosen = named[0]
            if chosen is not item:
                clause = next((c for c in hits if c.item.item_id == chosen.item_id), top).clause \
                    if any(h.item.item_id == chosen.item_id for h in hits) else clause
                item = chosen
            twins = ()
    return item, clause, twins


def compose(
    question: Question, hits: list[Hit], documents: dict[str, Document], same_text: tuple[Item, ...] = (),
    variants=None, tokenizer=None,
) -> Answer:
    """An answer from the top hit's fields, each claim followed by its citation.

    `same_text` are other items printed with exactly the same text (a task printed under two leaders).
    A question naming one of the leaders is answered from that leader's copy; one naming neither gets
    both leaders, each copy cited. `variants(unit)` gives a unit's aliases (for premise checks).
    """
    top = hits[0]
    item, clause, twins = _chosen_copy(question, hits, same_text)
    citation = cite(item, documents.get(item.doc_id), top.score)
    subject = _subject(question, top)
    officials = clause.lead_officials or item.lead_officials
    if item.item_id != top.item.item_id and clause.item_id != item.item_id:
        officials = item.lead_officials
    for twin in twins:
        officials = tuple(dict.fromkeys(officials + twin.lead_officials))
    fields = AnswerFields(
        lead_officials=officials,
        lead_units=clause.lead_units or item.lead_units,
        units=clause.units or item.units,
        deadline=clause.deadline or item.deadline,
        targets=clause.targets or item.targets,
        investment=(
            {"total": item.investment.total, "planned": item.investment.planned,
             "total_text": item.investment.total_text, "planned_text": item.investment.planned_text}
            if item.investment else None
        ),
    )
    if question.intent == "deadline":
        fields = replace(fields, deadline=pick_deadline(question.text, clause, item))
    draft = _Draft(question, item, clause, subject, officials, fields, citation, variants, tokenizer)
    text = _COMPOSERS.get(question.intent, _general_text)(draft)
    if isinstance(text, Answer):
        return text
    ref = citation.ref
    text = _with_also(question, text, ref, subject, clause, item, officials, fields)
    citations = [citation] + [cite(t, documents.get(t.doc_id), top.score) for t in twins]
    seen = {item.item_id} | {t.item_id for t in twins}
    for hit in hits[1:]:
        if hit.item.item_id not in seen:
            seen.add(hit.item.item_id)
            citations.append(cite(hit.item, documents.get(hit.item.doc_id), hit.score))
    return Answer(question.text, question.intent, True, text, fields, tuple(citations))


def states_figure(question: Question, hit: Hit, tokenizer=None) -> bool:
    """Whether the hit states the figure the question asks for (a project row's investment, a target)."""
    if question.intent == "investment" and hit.item.investment:
        return _investment_answer(question, hit.item)[1] is None
    return figure_for(question, hit.clause, hit.item, tokenizer)[1] is None


def figure_for(question: Question, clause: Clause, item: Item, tokenizer=None) -> tuple[Target | None, str | None]:
    """The target a figure question asks for in this clause and item, or why they do not state it: no
    figure of the asked kind or year, or a figure of something else (PM2.5 for PM10, 煤电 for 核电)."""
    candidates = tuple(dict.fromkeys(clause.targets + item.targets))
    asked = asked_figure(question.text)
    target = pick_target(candidates, question.text, clause.targets, asked.kind)
    missing = why_not(asked, target, candidates, clause.text + item.text)
    if missing is None and target is not None and tokenizer is not None:
        text = normalize(question.text)
        for span in sorted((*question.scope, *question.units, *item.units), key=len, reverse=True):
            text = text.replace(normalize(span), " ")
        sentences = [normalize(s) for s in re.split(r"[。；;\n]", item.text)]
        # the sentence of the target's own phrase: its value alone ("5") may occur earlier ("B25/26泊位")
        sentence = next((s for s in sentences if target.text in s), None) or next(
            (s for s in sentences if target.value in s), clause.text)
        # the item's lead-in ("强化大湾区水安全保障能力：…") says what its figures are of, as its section does
        lead_in = re.split(r"[。：:]", item.text, maxsplit=1)[0]
        around = lead_in + "".join(item.section) + "".join(item.units) + "".join(h for h, _ in item.fields)
        if _total_row(item):
            around += _TOTAL_MEANS
        lacking = missing_words(asked_object(text), sentence, tokenizer, around, item.text)
        if lacking:
            missing = f"该条目没有关于“{'、'.join(lacking)}”的数值"
    return target, missing


def _column_label(item: Item, role_words: tuple[str, ...], default: str) -> tuple[str, str]:
    """(label, unit) of a table column from its header as printed: ("2023年计划投资", "亿元")."""
    for header, _ in item.fields:
        h = re.sub(r"\s+", "", header)
        if any(w in h for w in role_words):
            unit = re.search(r"[（(]([^）)]+)[）)]", h)
            return re.sub(r"[（(][^）)]*[）)]", "", h), unit.group(1) if unit else ""
    return default, ""


def _investment_answer(question: Question, item: Item) -> tuple[str, str | None]:
    """A project row's investment figures, its build type and progress; or why the asked figure is absent
    ("总投资待核定", a row with no 总投资 column)."""
    inv = item.investment
    q = normalize(question.text)
    total_label, total_unit = _column_label(item, ("总投资",), "总投资")
    planned_label, planned_unit = _column_label(item, ("计划投资", "年度投资"), "计划投资")
    asks_total = "总投资" in q
    asks_planned = bool(re.search(r"计划投资|年度投资|今年.*投资|投资计划", q)) and not asks_total
    if asks_total and inv.total is None:
        return "", f"该项目{total_label}{inv.total_text or '未列明'}，文件没有列出数额"
    if asks_planned and inv.planned is None:
        return "", f"该项目{planned_label}{inv.planned_text or '未列明'}，文件没有列出数额"
    bits = []
    if inv.total_text:
        bits.append(f"{total_label}{inv.total_text}{total_unit}" if inv.total is not None else f"{total_label}{inv.total_text}")
    if inv.planned_text:
        bits.append(f"{planned_label}{inv.planned_text}{planned_unit}" if inv.planned is not None
                    else f"{planned_label}{inv.planned_text}")
    if item.build_type:
        bits.append(f"{item.build_type}项目")
    if item.progress:
        label, _ = _column_label(item, ("进度",), "形象进度")
        bits.append(f"{label}：{item.progress.rstrip('。.； ')}")
    name = item.text.split("。")[0].split("：")[0]
    return f"{name}{'，'.join(bits)}。", None


def _premise_answer(question: Question, subject: str, clause: Clause, item: Item, officials, variants) -> str:
    """"X是省发改委负责吗？": yes or no, and the document's own units either way."""
    units = clause.units or item.units
    leads = clause.lead_units or item.lead_units
    names = (lambda u: {u}) if variants is None else variants

    def among(unit: str, listed: tuple[str, ...]) -> bool:
        return any(names_unit(v, w) for v in names(unit) for w in listed)

    asked = [u for u in question.premise if not among(u, units)]
    owner = _owner_sentence(subject, clause, item, officials)
    if asked:
        return f"不是。{owner}；文件所列单位中没有{_join(tuple(asked))}。"
    # "…是X牵头吗？" asks about the lead: a unit that only shares the work is not it
    if leads and len(leads) < len(units) and re.search(r"牵头(?:的)?(?:吗|么)", normalize(question.text)):
        helpers = [u for u in question.premise if not among(u, leads)]
        if helpers:
            return f"不是。{owner}；{_join(tuple(helpers))}是责任单位之一，不是牵头单位。"
    return f"是的。{owner}。"


def _aside_sentence(aside: str, clause: Clause, item: Item) -> str:
    """What the item says on a yes/no part asked beside the main question ("这笔补助要缴个人所得税吗"):
    its sentence sharing the most two-character runs with the part, quoted as printed; or that it says
    nothing of it."""
    words = re.sub(r"[吗么呢?？,，。]|是否|有没有|能否|可否|这笔|这项|该项|需要|要", "", aside)
    grams = {words[i:i + 2] for i in range(len(words) - 1)}
    best, best_shared = "", 1
    for sentence in re.split(r"(?<=[。；;])", normalize(item.text)):
        shared = sum(g in sentence for g in grams)
        if shared > best_shared:
            best, best_shared = sentence.strip("。；; "), shared
    return f"另：{best}" if best else f"该条目未提及“{words}”"


def _with_also(question: Question, text: str, ref: str, subject: str, clause: Clause, item: Item, officials,
               fields: AnswerFields) -> str:
    """A question that asks two things ("…达到多少？由哪个部门负责？") gets both, from the same item."""
    extra: list[str] = []
    for intent in question.also:
        if intent == "owner":
            extra.append(_owner_sentence("该项", clause, item, officials))
        elif intent == "deadline":
            deadline = pick_deadline(question.text, clause, item)
            extra.append(f"完成时限为{deadline}" if deadline else "文件未列明完成时限")
        elif intent == "lead_official":
            extra.append(f"牵头领导为{_join(officials)}" if officials else "文件未列明牵头领导")
        elif intent == "target":
            target = pick_target(tuple(dict.fromkeys(clause.targets + item.targets)), question.text, clause.targets)
            if target:
                extra.append(f"目标：{target.text}（{target_text(target)}）")
    for aside in question.asides:
        extra.append(_aside_sentence(aside, clause, item))
    if not extra:
        return text
    body = text[: -len(ref)] if ref and text.endswith(ref) else text
    return body.rstrip("。") + "；" + "；".join(extra) + "。" + ref


_GENERIC = frozenset("工作 任务 事项 项目 哪些 重点 方面 内容 清单里 里面".split())


_LEAD_LIST = re.compile(r"牵头(?!领导)|列第一位|列首位|主责")


def _sections_named(question: str, items: list[Item]) -> set[str]:
    """Headings the question names as a part to look in: quoted (“主要任务”中), or followed by 部分/方面/中."""
    q = normalize(question)
    quoted = [m.group(1) for m in re.finditer(r"[“\"]([^”\"]{2,30})[”\"]", q)]
    named: set[str] = set()
    for item in items:
        for sec in item.section:
            title = normalize(re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、．.]?", "", sec))
            if len(title) < 2:
                continue
            if any(phrase == title or (len(phrase) >= 4 and phrase in title) for phrase in quoted):
                named.add(sec)
            elif len(title) >= 4 and re.search(re.escape(title) + r"(?:部分|方面|中|里|内)", q):
                named.add(sec)
    return named


def _lists_leads(question: Question) -> bool:
    """"X牵头哪些任务", "X作为牵头单位的工作": only the tasks X leads."""
    return bool(_LEAD_LIST.search(normalize(question.text))) and not re.search(r"参与|配合|涉及", question.text)


def list_answer(
    question: Question, index: HybridIndex, documents: dict[str, Document], tokenizer, lexicon,
    scope: Filters | None = None, ignore: frozenset[str] = frozenset(),
) -> Answer:
    """Every task of the named official or unit (only those it leads when the question says 牵头), or
    every item of the named section. A task whose clause groups belong to different units (十方面民生实事)
    is listed by the group that matched, with that group's text."""
    tokens = [t for t in dict.fromkeys(tokenizer(question.topic))
              if len(t) >= 2 and t not in _GENERIC and t not in ignore]

    def context(item: Item) -> str:
        doc = documents.get(item.doc_id)
        return item.norm + "".join(item.section) + (normalize(doc.title) if doc else "")

    scope = scope or Filters()
    lines_of: dict[str, tuple[Item, list[Clause]]] = {}
    asked = normalize(question.text)
    # the unit as the question names it ("国家发改委", not the 发改委 inside it)
    literal = list(dict.fromkeys(v for u in question.units for v in (u, *index.unit_variants(u)) if v in asked))
    literal = [u for u in literal if not any(u != v and u in v for v in literal)]
    who = _join(question.officials or tuple(literal) or question.units)
    if question.officials or question.units:
        lines_of = _clauses_of_whom(question, index, scope)
    items = [item for item, _ in lines_of.values()]
    sections = _sections_named(question.text, items)
    if sections:
        # "“加强区域生态环境保护修复”部分，区规划资源局…的任务": the tasks of that section only
        items = [i for i in items if any(sec in i.section for sec in sections)]
    elif items and tokens:
        narrowed = [i for i in items if all(t in context(i) for t in tokens)]
        items = narrowed or items
    if not who and scope.parts:
        # "重大改革清单有哪些改革事项": every item of the part the question names
        items = index.items_matching(scope)
        who = "、".join(dict.fromkeys(p for _, p in scope.parts))
    elif not who:
        section, items = _named_section(question.phrases, index, documents)
        who = section
    if not items:
        return Answer(question.text, "list", False, NOT_FOUND, reason=f"没有找到{who or '问题所指'}的条目")
    lines = [f"{who}共涉及{len(items)}项："]
    citations: list[Citation] = []
    for n, item in enumerate(items, start=1):
        doc = documents.get(item.doc_id)
        clauses = lines_of.get(item.item_id, (item, []))[1]
        # a clause group with units of its own is listed by itself, not by its whole item
        own = bool(clauses) and all(c.units != item.units or c.lead_officials != item.lead_officials for c in clauses)
        text = "".join(c.text for c in clauses) if own else item.text
        lines.append(f"{n}. {summary_of(text)}{item_ref(item, doc)}")
        citation = cite(item, doc, 1.0)
        citations.append(replace(citation, text=text) if own else citation)
    return Answer(question.text, "list", True, "\n".join(lines), AnswerFields(), tuple(citations))


def _clauses_of_whom(question: Question, index: HybridIndex, scope: Filters) -> dict[str, tuple[Item, list[Clause]]]:
    """The clauses of the named official's or unit's tasks, by item (only the tasks it leads when the
    question asks for those)."""
    filters = (replace(scope, officials=question.officials) if question.officials
               else replace(scope, units=question.units))
    leads_only = bool(question.units) and not question.officials and _lists_leads(question)
    variants = {v for u in question.units for v in index.unit_variants(u)}
    roles = load_roles()
    lines_of: dict[str, tuple[Item, list[Clause]]] = {}
    for clause in index.clauses_matching(filters):
        item = index.items[clause.item_id]
        # a lead is the item's, or one its clause states in words: the subject of "财政部要加大
        # 资金支持力度" answers for that sentence, it does not lead the task
        if leads_only and not (any(names_unit(v, u) for u in clause.lead_units for v in variants)
                               and (clause.lead_units == item.lead_units or roles.names_a_role(clause.text))):
            continue
        lines_of.setdefault(item.item_id, (item, []))[1].append(clause)
    return lines_of


def covered_share(phrases: tuple[str, ...], title: str) -> float:
    """Share of the phrases' characters covered by runs of two or more found in the title."""
    total = covered = 0
    for phrase in phrases:
        total += len(phrase)
        i = 0
        while i < len(phrase):
            length = 0
            while i + length + 1 <= len(phrase) and phrase[i : i + length + 1] in title:
                length += 1
            if length >= 2:
                covered += length
                i += length
            else:
                i += 1
    return covered / total if total else 0.0


def _named_section(phrases: tuple[str, ...], index: HybridIndex, documents) -> tuple[str, list[Item]]:
    """The section or annex table whose title the question names, and its items."""
    phrases = tuple(normalize(p) for p in phrases if len(p) >= 2)
    if not phrases:
        return "", []
    by_section: dict[tuple[str, tuple[str, ...]], list[Item]] = {}
    for item in index.items.values():
        for depth in range(1, len(item.section) + 1):
            by_section.setdefault((item.doc_id, item.section[:depth]), []).append(item)
    best, best_key = 0.0, None
    for key in by_section:
        doc = documents.get(key[0])
        title = normalize("".join(key[1])) + (normalize(doc.title) if doc else "")
        score = covered_share(phrases, title)
        if score > best + 1e-9 or (best_key and abs(score - best) < 1e-9 and len(key[1]) > len(best_key[1])):
            best, best_key = score, key
    if best_key is None or best < 0.8:
        return "", []
    return " › ".join(best_key[1]), by_section[best_key]
