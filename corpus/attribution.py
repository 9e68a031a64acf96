"""Attributions: who is responsible for a stretch of text, in the phrasings of the genre.

- a label: "（牵头单位：A、B；责任单位：C）", "责任单位:X、Y" on its own line or after a sentence;
- a phrasing after the units, in brackets: "（A、B负责）", "（A牵头，B、C参与）", "（A指导，B负责落实）",
  "（A、B牵头，C等配合）", "（A牵头负责，B、各区政府组织落实）";
- the subject of a sentence: "市X局负责…", "市X委会同市Y局…", "市X和市Y联合推进…", "由A牵头，B为成员单位";
- a heading that is a unit list: "（一）区绿化市容局" above that unit's duties;
- a document-level rule, stated once and holding for later items: "列第一位者为牵头单位，下同".

The phrasings are data (corpus/data/roles.tsv); units are recognised by corpus.units.
An item's text may carry several bracketed attributions, each covering the text since the one before
(十方面民生实事 clause groups; State Council measures with two or three "（X负责）"): `split_groups`
returns those groups in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.deadlines import find_time_expressions
from corpus.normalize import to_halfwidth
from corpus.roles import Role, RoleVocabulary, load_roles
from corpus.units import (
    ResponsibleUnits,
    UnitLexicon,
    default_lexicon,
    is_unit_list,
    parse_units,
    split_top_level,
)

_OPENERS = {"（": "）", "(": ")", "〔": "〕", "[": "]", "【": "】"}
_NAME_SPLIT = re.compile(r"[、，,；;和]")
_NOTE = re.compile(r"下同|不再列出|不再单独列出|以下均需|除标注|均涉及|以下各项")
_CONNECTIVE = re.compile(r"^(?:同时|此外|另外|其中|对此|为此|首先|其次|再次|最后|并且|并|对于|今年|全年|年内|一是|二是|三是|四是|五是)[，,]?")
_LIST_JOINERS = ("、", "，", ",", "和", "及", "与", "以及")
_NOT_A_PREDICATE = re.compile(r"^(?:的|之|是|为|、|，|。|；|）|\)|等|和|及|与|在内|以外|以及|方面|系统|领域|所属|下属|直属|管理的|主管的|认定|确定|同意|批准|审核|审批)")
_DUTY = re.compile(r"(?:要|应|须|必须|务必|负责|牵头|会同|联合|共同|统筹|组织|指导|配合)")
# "等有关部门", "等部门", "等": the end of a list of named units
_ETC = re.compile(r"等(?:有关|相关|其他|其他有关)?(?:部门|单位|机构)?(?=[\u4e00-\u9fa5，,])")
# "（3）公安部负责…", "②市财政局…": a sentence that opens with its number inside a paragraph
_ENUMERATION = re.compile(r"^(?:[（(](?:[一二三四五六七八九十]{1,3}|\d{1,2})[）)]|\d{1,2}[.．、](?!\d)|[①-⑳])")
# "2019年3月底前，国家卫生健康委推行…": the time comes first, the actor after the comma
_TIME_OPENER = re.compile(r"^(?:\d{4}年(?:\d{1,2}月)?|\d{1,2}月)(?:底|末|中旬|上旬|下旬|\d{1,2}日)?"
                          r"(?:前|以前|之前|起|开始|内)?[，,]")
# "；适用范围：…" after a role's units: another field, not more units
_OTHER_LABEL = re.compile(r"[；;，,](?=[\u4e00-\u9fa5]{2,8}[：:])")
_LEAD_PREDICATE = re.compile(r"^(?:按职责|共同|分别)?(?:负责)?牵头|[，,](?:负责)?牵头(?!单位|部门)|负责牵头")


@dataclass(frozen=True)
class Attribution:
    officials: tuple[str, ...] = ()
    units: ResponsibleUnits | None = None
    deadline: str | None = None
    raw: str = ""
    roles: tuple[tuple[str, Role], ...] = ()  # every unit with its role, in order
    first_leads_rule: bool = False  # it states "列第一位者为牵头单位"


@dataclass(frozen=True)
class Group:
    """Clause text (display form, attribution removed) with the attribution that follows it."""

    text: str
    attribution: Attribution | None


@dataclass
class DocumentRules:
    """The document-level rules stated so far, in document order (parse state, not passed on)."""

    first_leads: bool = False

    def note(self, attribution: Attribution | None) -> None:
        if attribution is not None and attribution.first_leads_rule:
            self.first_leads = True


@dataclass(frozen=True)
class Attributor:
    """Finds attributions with a role vocabulary and a unit lexicon (both swappable in tests)."""

    vocab: RoleVocabulary = field(default_factory=load_roles)
    lexicon: UnitLexicon = field(default_factory=default_lexicon)

    # ----- one attribution ---------------------------------------------------------------------
    def parse(self, body: str, first_leads: bool = False, bare_list: bool = False) -> Attribution | None:
        """The attribution the text of a bracket (or a labelled line) states, or None if it is not one.

        `bare_list` accepts a bracket holding nothing but units ("（市发展改革委、市财政局）")."""
        body = _cut_trailing_text(to_halfwidth(body), self.lexicon)
        half = re.sub(r"\s+", "", body).strip("，,；;。")
        if not half:
            return None
        rule = self.vocab.states_first_leads(half)
        labels = list(self.vocab.label_pattern.finditer(half))
        roles: list[tuple[Role, list[str]]] = []
        officials: list[str] = []
        deadline: str | None = None
        notes: list[str] = []
        if labels:
            head = half[: labels[0].start()].strip("，,；;。 ")
            if head:
                parsed = self._clauses(head)
                if parsed is not None:
                    roles.extend(parsed[0])
            for i, m in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(half)
                value = _OTHER_LABEL.split(half[m.end(): end], maxsplit=1)[0].strip("，,；;。 ")
                role = self.vocab.label_role(m.group(1))
                if role == "official":
                    officials.extend(n for n in _NAME_SPLIT.split(value) if n)
                elif role == "deadline":
                    deadline = value or None
                elif value:
                    inner = self._clauses(value)
                    if inner is not None and inner[2]:  # "责任单位：A牵头，B配合"
                        roles.extend(inner[0])
                        deadline = deadline or inner[1]
                    else:
                        units = parse_units(value, lexicon=self.lexicon)
                        notes.extend(units.notes)
                        if units.lead_stated:
                            roles.append(("lead", list(units.lead_units)))
                        roles.append((role, [u for u in units.units if u not in units.lead_units]
                                      if units.lead_stated else list(units.units)))
        else:
            parsed = self._clauses(half)
            if parsed is not None and not parsed[2] and rule and parsed[0]:
                roles, deadline = parsed[0], parsed[1]  # "（A、B、C，列首的为牵头单位，下同）": units and the rule
            elif parsed is None or not parsed[2]:
                if not (bare_list and is_unit_list(half, self.lexicon)):
                    return None
                roles.append(("responsible", list(parse_units(half, lexicon=self.lexicon).units)))
            else:
                roles, deadline = parsed[0], parsed[1]
        if not roles and not officials and deadline is None:
            return None
        return self._build(roles, officials, deadline, body, first_leads or rule, rule)

    def _clauses(self, text: str) -> tuple[list[tuple[Role, list[str]]], str | None, bool] | None:
        """Role clauses of "A、B牵头，C等配合"; None if a clause is neither units, a role, a rule, a note
        nor a time. The bool says whether any clause named a role."""
        roles: list[tuple[Role, list[str]]] = []
        pending: list[str] = []
        deadline = None
        named = False
        for clause in split_top_level(text, "，,；;。"):
            clause = clause.strip()
            if not clause:
                continue
            if self.vocab.states_first_leads(clause) or _NOTE.search(clause):
                continue
            ending = self.vocab.role_at_end(clause)
            if ending is not None:
                phrase, role = ending
                units_text = clause[: -len(phrase)]
                subject, partners = _split_with(units_text)
                if not is_unit_list(subject, self.lexicon):
                    return None
                units = parse_units(subject, lexicon=self.lexicon)
                if units.lead_stated:  # "A、B分别牵头" inside
                    roles.append(("lead", list(units.lead_units)))
                roles.append((role, [*pending, *[u for u in units.units if u not in units.lead_units]]))
                if partners and is_unit_list(partners, self.lexicon):
                    roles.append(("responsible", list(parse_units(partners, lexicon=self.lexicon).units)))
                pending = []
                named = True
            elif is_unit_list(clause, self.lexicon):
                pending.extend(parse_units(clause, lexicon=self.lexicon).units)
            elif _is_time(clause):
                deadline = deadline or clause
            else:
                return None
        if pending:
            roles.append(("responsible", pending))
        return roles, deadline, named

    def _build(self, roles: list[tuple[Role, list[str]]], officials: list[str], deadline: str | None,
               raw: str, first_leads: bool, rule: bool, sole_leads: bool = True) -> Attribution:
        ordered: list[tuple[str, Role]] = []
        for role, units in roles:
            for unit in units:
                if unit and unit not in (u for u, _ in ordered):
                    ordered.append((unit, role))
        units = tuple(u for u, _ in ordered)
        leads = tuple(u for u, r in ordered if r == "lead")
        stated = bool(leads)
        if not leads and units:
            if first_leads:
                leads = (units[0],)
            elif len(units) == 1 and sole_leads:
                leads = units  # a unit responsible alone leads its task
        return Attribution(
            officials=tuple(dict.fromkeys(officials)),
            units=ResponsibleUnits(units, leads, lead_stated=stated) if units else None,
            deadline=re.sub(r"\s+", "", deadline) if deadline else None,
            raw=raw,
            roles=tuple(ordered),
            first_leads_rule=rule,
        )

    # ----- groups of an item -------------------------------------------------------------------
    def split_groups(self, text: str, rules: DocumentRules | None = None) -> list[Group]:
        """Split display text into clause groups, each ending with its attribution (if any)."""
        rules = rules or DocumentRules()
        half = to_halfwidth(text)
        groups: list[Group] = []
        pos = 0
        i = 0
        while i < len(half):
            ch = half[i]
            if ch in _OPENERS:
                close = _matching_close(half, i)
                before = half[pos:i].rstrip()
                at_end = close >= len(half.rstrip()) - 1 or half[close + 1: close + 2] in ("", " ", "\n")
                bare = bool(before) and (before[-1] in "。；;！？!?" or at_end)
                att = self.parse(text[i + 1: close], rules.first_leads, bare_list=bare)
                if att is not None:
                    rules.note(att)
                    groups.append(Group(text[pos:i].strip(), att))
                    pos = i = close + 1
                    continue
                i = close + 1
                continue
            m = self.vocab.label_pattern.match(half, i)
            if m and (i == 0 or half[:i].rstrip()[-1:] in ("", "。", "；", ";", "！", "？", "\n", ")", "）")
                      or half[half.rfind("\n", 0, i) + 1: i].strip() == ""):
                att = self.parse(text[i:], rules.first_leads)
                if att is not None:
                    rules.note(att)
                    groups.append(Group(text[pos:i].strip(), att))
                    pos = i = len(text)
                    break
            i += 1
        tail = text[pos:].strip()
        if tail:
            groups.append(Group(tail, None))
        return [g for g in groups if g.text or g.attribution]

    def has_attribution(self, text: str) -> bool:
        return any(g.attribution is not None for g in self.split_groups(text))

    # ----- the subject of a sentence -----------------------------------------------------------
    def subject(self, sentence: str, context: tuple[str, ...] = (), first_leads: bool = False,
                later_clauses: bool = True) -> Attribution | None:
        """Units a sentence names as its actors: "市X局负责…", "由A牵头，B为成员单位", and "牵头B、C…"
        whose subject is `context` (a heading's units). With `later_clauses`, also the actor opening a
        later clause ("为…，A应…"); a caller that has a stated attribution passes False, since such a
        clause names who acts on one step ("…，各级政府要积极筹措资金"), not who owns the task."""
        s = re.sub(r"\s+", "", to_halfwidth(sentence))
        s = _TIME_OPENER.sub("", _CONNECTIVE.sub("", _ENUMERATION.sub("", s)))
        by = self._by_lead(s)
        if by is not None:
            return by
        if context and s.startswith("牵头"):
            units, end = self._units_at(s, 2)
            if units:
                roles = [("lead", list(context)), ("cooperating", units)]
                return self._build(roles, [], None, sentence, False, False)
        units, end = self._units_at(s, 1 if s.startswith("请") else 0)  # "请财政部…": a duty handed to X
        if units:
            predicate = re.sub(r"^[：:](?=[\u4e00-\u9fa5])", "", s[end:])  # "区体育局：负责…": the unit titles its duty
            if not predicate or _NOT_A_PREDICATE.match(predicate):
                return None
        else:
            units, predicate = self._modified_subject(s)
            if not units and later_clauses:
                units, predicate = self._clause_subject(s)
            if not units:
                return None
        role: Role = "responsible"
        partners: list[str] = []
        with_partners = re.match(r"(?:要|应|须)?会同", predicate)
        if with_partners:
            partners, more = self._units_at(predicate, with_partners.end())
            predicate = predicate[more:] if partners else predicate[with_partners.end():]
        if _LEAD_PREDICATE.search(predicate[:60]):
            role = "lead"
        elif predicate.startswith(("指导", "负责指导")):
            role = "guiding"
        elif predicate.startswith(("配合", "参与", "协助", "协同")):
            role = "cooperating"
        roles: list[tuple[Role, list[str]]] = [(role, units)]
        if partners:
            roles.append(("cooperating", partners))
        # the subject of a sentence leads only where the sentence says 牵头
        return self._build(roles, [], None, sentence, first_leads, False, sole_leads=False)

    def _modified_subject(self, s: str) -> tuple[list[str], str]:
        """Units after a modifier that ends in 的, stating a duty: "承办内地西藏班的有关省（市）人民政府，要…"."""
        for m in re.finditer("的", s[:30]):
            units, end = self._units_at(s, m.end())
            duty = re.match(r"[，,]?", s[end:]).end()
            if units and _DUTY.match(s[end + duty:]):
                return units, s[end + duty:]
        return [], ""

    def _clause_subject(self, s: str) -> tuple[list[str], str]:
        """The units opening a later clause and what they do: "为做好X，各有关省人民政府应高度重视…".
        Only a clause that states a duty (要, 应, 负责, 牵头…) counts, so that a unit named after a
        comma as an object ("…，支持市X局…") is not read as an actor."""
        depth = 0
        for pos, ch in enumerate(s):
            if ch in _OPENERS:
                depth += 1
            elif ch in _OPENERS.values():
                depth = max(0, depth - 1)
            elif ch in "，," and depth == 0:
                asked = s.startswith("请", pos + 1)  # "…，请科技部等部门在2月底前完成": handed to them
                units, end = self._units_at(s, pos + 1 + asked)
                if units and (_DUTY.match(s[end:]) or (asked and not _NOT_A_PREDICATE.match(s[end:]))):
                    return units, s[end:]
        return [], ""

    def _by_lead(self, s: str) -> Attribution | None:
        """"由A牵头，B、C为成员单位", "建立由A、B牵头的…机制", "由A负责"."""
        for m in re.finditer(r"由(?=[\u4e00-\u9fa5])", s):
            units, end = self._units_at(s, m.end())
            if not units:
                continue
            rest = s[end:]
            partners: list[str] = []
            if rest.startswith("会同"):  # "由A会同B（相关部门）负责"
                partners, more = self._units_at(rest, 2)
                rest = rest[more:] if partners else re.sub(r"^会同(?:相关|有关)(?:部门|单位)", "", rest)
            verb = re.match(r"(?:共同|分别|负责)?(牵头|负责|组织|统筹)", rest)
            if not verb:
                continue
            role: Role = "lead" if "牵头" in verb.group(0) else "responsible"
            roles: list[tuple[Role, list[str]]] = [(role, units)]
            if partners:
                roles.append(("cooperating", partners))
            # "由A牵头，B、C为成员单位" / "由A牵头，B、C配合"
            members = re.match(r"[^，,。；]*[，,]([^，。；]+?)(?:(?:为|作为)成员单位|配合|参与|协助|协同)", rest)
            if members and is_unit_list(members.group(1), self.lexicon):
                roles.append(("cooperating", list(parse_units(members.group(1), lexicon=self.lexicon).units)))
            return self._build(roles, [], None, s, False, False)
        return None

    def _units_at(self, s: str, start: int) -> tuple[list[str], int]:
        """The units listed at `start` in prose ("市X局、市Y委和市Z局"), and where the list ends."""
        units: list[str] = []
        pos = start
        while pos < len(s):
            end = next((e for e in self.lexicon.unit_ends(s, pos) if _boundary(s, e)), None)
            if end is None:
                break
            units.append(s[pos:end])
            pos = end
            etc = _ETC.match(s, pos)
            if etc:  # "财政部等有关部门要…": the named units, then the rest of the predicate
                pos = etc.end()
                break
            joiner = next((j for j in _LIST_JOINERS if s.startswith(j, pos)), None)
            if joiner and self.lexicon.unit_ends(s, pos + len(joiner)):
                pos += len(joiner)
                continue
            break
        return units, pos


def _cut_trailing_text(body: str, lexicon: UnitLexicon) -> str:
    """A labelled line runs to the end of its item; in a document whose whitespace was collapsed the
    next sentence ("责任单位：各行政执法部门 本政策执行期暂定为…") follows after a space, or a 。."""
    parts = re.split(r"(?<=[。])|\s+(?=\S)", body)
    kept = [parts[0]]
    for part in parts[1:]:
        candidate = re.sub(r"^[，,、；;]", "", part.strip())
        so_far = re.sub(r"^[^：:]*[：:]", "", "".join(kept)).strip("，,；;。 ")
        sentence = len(candidate) >= 6 and not is_unit_list(candidate.rstrip("。；;"), lexicon) and not re.match(
            r"^(?:[^：:]{2,8}[：:])", candidate)
        last = re.split(r"[、，,；;]", so_far)[-1] if so_far else ""
        if sentence and so_far and is_unit_list(so_far, lexicon) and lexicon.looks_like_unit(last):
            break  # the units are complete and a sentence follows
        kept.append(part)
    return "".join(kept) if len(kept) < len(parts) else body


def _boundary(s: str, end: int) -> bool:
    """What follows a unit in prose: a list separator, 会同, or a predicate (not more of a name)."""
    if end >= len(s):
        return True
    nxt = s[end]
    return nxt in "、，,。；;（(：:" or _ETC.match(s, end) is not None or s.startswith(("和", "及", "与", "以及", "会同", "要", "应", "须", "将", "负责", "牵头",
                                                 "于", "在", "对", "按", "根据", "联合", "共同", "统筹", "组织", "指导",
                                                 "配合", "参与", "协助", "制定", "推动", "推进", "加快", "加强", "开展",
                                                 "落实", "做好", "建立", "完善", "支持", "引导", "研究", "发布", "会商",
                                                 "抓好", "督促", "定期", "每年", "积极", "进一步", "切实", "要求",
                                                 "编制", "出台", "实施", "启动", "印发", "牵头", "分别", "依法",
                                                 "推行", "提出", "明确", "健全", "监督", "督导", "协调", "探索",
                                                 "鼓励", "修订", "发挥", "主动", "尽快", "及时", "全面"), end)


def _split_with(units_text: str) -> tuple[str, str]:
    """"A会同B" → (A, B): the subject and the partners it works with."""
    for word in ("会同", "联合"):
        k = units_text.find(word)
        if k > 0:
            return units_text[:k], units_text[k + len(word):]
    return units_text, ""


def _is_time(clause: str) -> bool:
    found = find_time_expressions(clause)
    return bool(found) and sum(len(t.text) for t in found) >= len(clause) * 0.6


def _matching_close(text: str, open_pos: int) -> int:
    opener = text[open_pos]
    closer = _OPENERS[opener]
    depth = 0
    for j in range(open_pos, len(text)):
        if text[j] == opener or (text[j] in "（(" and opener in "（("):
            depth += 1
        elif text[j] == closer or (text[j] in "）)" and opener in "（("):
            depth -= 1
            if depth == 0:
                return j
    return len(text)  # never closed (a damaged text): the bracket runs to the end, its last character kept


_DEFAULT = Attributor()


def split_groups(text: str, rules: DocumentRules | None = None) -> list[Group]:
    """`Attributor.split_groups` with the bundled vocabularies."""
    return _DEFAULT.split_groups(text, rules)


def parse_attribution(body: str) -> Attribution | None:
    """`Attributor.parse` with the bundled vocabularies."""
    return _DEFAULT.parse(body)
