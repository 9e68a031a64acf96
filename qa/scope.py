"""Which documents a question names: by its 文号, its place, or a distinctive run of its title.

"国发〔2018〕39号中…", "青浦建筑垃圾分工表里…", "嘉定海绵方案…": the question is about that document, and
its answer and list must stay inside it. A run of the title counts when it is at least three characters
long, not made of words every title of the genre uses (关于, 印发, 工作方案 …), and not shared by more than
half of the documents' titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.model import Document
from corpus.normalize import normalize
from qa.understand import document_places

_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,10}[〔\[［(（]\s*(?:19|20)\d\d\s*[〕\]］)）]\s*\d{1,4}\s*号")
_GENERIC = re.compile(
    r"关于|印发|转发|通知|实施意见|指导意见|意见|工作方案|实施方案|行动方案|方案|工作要点|要点|若干|措施|政策|"
    r"重点工作|工作|任务|分工|责任|分解|清单|安排|计划|人民政府|政府|办公室|办公厅|进一步|全面|加快|推进|加强|"
    r"建设|发展|的|和|与|及|年度|\d{4}年|\d{4}|（|）|《|》|“|”|、|，"
)


def _canonical_number(text: str) -> str:
    return re.sub(r"[〔\[［(（]", "〔", re.sub(r"[〕\]］)）]", "〕", re.sub(r"\s+", "", text)))


_ANNEX_REF = re.compile(r"附(件|表)?\s*(\d+|[一二三四五六七八九十]+(?=[中里内的、，,\s]))?")
# where a part is named as a place to look: right after its words ("分工表中", "民生实事方面"), or after a
# word for a table or a list ("…分工表里"); not two arbitrary characters later ("大湾区工作|要点中")
_LOCATIVE = re.compile(r"(?:的)?(?:表|单|清单|任务表|分工表|一览表)?(?:中|里|内|上|所列|列出|列明|部分|方面)")
_KIND = r"(?:指导|实施|工作|行动)?(?:通知|意见|方案|要点|措施|清单|计划|办法|规划)"
_NAMED_AFTER = re.compile(rf"(?:的?(?:{_KIND}|分工表?))?[中里内]|的?{_KIND}")
_LOCATIVE_BEFORE = re.compile(r"(?:在|按照|根据|据|按)$")
_LIGHT = re.compile(r"关于|印发|通知|的|和|与|及|[^\u4e00-\u9fff]")


@dataclass(frozen=True)
class DocumentScope:
    """The documents (and the parts or annexes of them) a question names, and the words that named them."""

    doc_ids: tuple[str, ...] = ()
    spans: tuple[str, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()  # (doc id, first section title)


def _runs_at(question: str, title: str) -> list[tuple[int, str]]:
    """Maximal runs (3+ characters) of the question that occur in the title, left to right, with where
    each starts in the question."""
    runs: list[tuple[int, str]] = []
    i = 0
    while i < len(question):
        best = 0
        for j in range(len(question), i + 2, -1):
            if question[i:j] in title:
                best = j - i
                break
        if best >= 3:
            runs.append((i, question[i: i + best]))
            i += best
        else:
            i += 1
    return runs


def document_year(document: Document) -> str | None:
    """The year a document was issued: its date's, else its 文号's ("国发〔2018〕39号")."""
    if document.date:
        return document.date[:4]
    found = re.search(r"[〔\[［(（]((?:19|20)\d\d)[〕\]］)）]", document.number or "")
    return found.group(1) if found else None


def _runs(question: str, title: str) -> list[str]:
    return [run for _, run in _runs_at(question, title)]


class DocumentNames:
    """How each loaded document can be named in a question."""

    def __init__(self, documents: list[Document], parts: dict[str, set[str]] | None = None,
                 annexes: dict[tuple[str, str], str] | None = None, texts: dict[str, str] | None = None) -> None:
        self.numbers = {d.doc_id: _canonical_number(normalize(d.number)) for d in documents if d.number}
        self.places = {d.doc_id: document_places(normalize(d.title), d.issuer, d.number) for d in documents}
        self.titles = {d.doc_id: normalize(d.title) for d in documents}
        # everything a question may call the document by: title, 文号, issuer
        self.spoken = {d.doc_id: normalize(f"{d.title}{d.number or ''}{d.issuer or ''}") for d in documents}
        self.count = len(documents)
        self.years = {d.doc_id: year for d in documents if (year := document_year(d))}
        # a chapter's title without its number: "(三)“十四五”重点安排" is named as "“十四五”重点安排"
        self.parts = {(doc, part): re.sub(r"^[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]\s*", "", normalize(part))
                      for doc, names in (parts or {}).items() for part in names if part}
        self.annexes = annexes or {}  # (doc, part) → its annex label ("附件3", "附4", "附表")
        self.texts = texts or {}  # doc id → its items' normalised text

    def _named_as_document(self, question: str, run: str, doc_id: str) -> bool:
        """Whether a run of a title names the document rather than a topic: a run that other documents
        also talk about ("疫情防控", "生产经营") names this one only when the question uses it as a name
        ("…疫情防控方案中", "按照疫情防控措施")."""
        if not any(run in text for d, text in self.texts.items() if d != doc_id):
            return True
        at = question.find(run)
        # the name may go on in further runs of the title, a year between them ("国务院2018年促进就业
        # 若干意见里"): the word that makes it a name may come after any of them
        ends = [at + len(run)]
        title = self.titles.get(doc_id, "")
        while True:
            gap = re.match(r"(?:(?:19|20)\d\d年?|的)?", question[ends[-1]:]).end()
            nxt = next((r for s, r in _runs_at(question[ends[-1] + gap:], title) if s == 0), None)
            if nxt is None:
                break
            ends.append(ends[-1] + gap + len(nxt))
        return any(_NAMED_AFTER.match(question, end) for end in ends) or bool(_LOCATIVE_BEFORE.search(question[:at]))

    def _distinctive_runs(self, question: str, doc_id: str) -> list[str]:
        """Maximal runs of the title (3+ characters, not generic) that the question contains."""
        title = self.titles.get(doc_id, "")
        runs = []
        for run in _runs(question, title):
            core = re.sub(r"[^\u4e00-\u9fff]", "", _GENERIC.sub("", run))
            shared = sum(run in t for t in self.titles.values())
            if (len(core) >= 2 and (self.count <= 2 or shared <= max(1, self.count // 2))
                    and self._named_as_document(question, run, doc_id)):
                runs.append(run)
        return runs

    def _parts_named(self, question: str, doc_ids: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """The parts (annexes, tables, the notice) of those documents whose titles the question names by a
        run that not every part of the document shares ("分工表", "今后五年", "十方面民生实事")."""
        candidates = {k: v for k, v in self.parts.items() if not doc_ids or k[0] in doc_ids}
        self._part_runs: dict[tuple[str, str], list[str]] = {}
        if len(candidates) < 2:
            return ()
        scores: dict[tuple[str, str], int] = {}
        for key, title in candidates.items():
            siblings = [t for k, t in candidates.items() if k[0] == key[0]]
            doc_runs = _runs_at(question, self.titles.get(key[0], ""))
            total = 0
            kept: list[str] = []
            for start, run in _runs_at(question, title):
                shared_in_doc = sum(run in t for t in siblings)
                shared = sum(run in t for t in candidates.values())
                if shared_in_doc >= len(siblings) or shared > max(2, len(candidates) // 3):
                    continue
                # the run must say more than a run of the document's title over the same words: "公园城市指"
                # adds one character to 公园城市; "2023年重点工作责任分解" is a part, more than 重点工作责任分解
                overlap = max((min(start + len(run), s + len(r)) - max(start, s) for s, r in doc_runs), default=0)
                core = _LIGHT.sub("", run)
                if len(core) >= 2 and len(run) - max(overlap, 0) >= 2:
                    total += len(core) + (1 if title.startswith(run) else 0)
                    kept.append(run)
            # a part is named as a place to look in: "分工表中", "今后五年目标任务里", "在附件3"
            located = any(_LOCATIVE.match(question, question.find(run) + len(run)) or
                          _LOCATIVE_BEFORE.search(question[: question.find(run)]) for run in kept)
            if total >= 3 and located:
                scores[key] = total
                self._part_runs[key] = kept
        if not scores:
            return ()
        best = max(scores.values())
        return tuple(sorted(k for k, v in scores.items() if v >= best))

    def _annexes_named(self, question: str, doc_ids: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """Parts named by their annex label: "附件3…", "附表中…", "附4"."""
        out: list[tuple[str, str]] = []
        for m in _ANNEX_REF.finditer(question):
            number = m.group(2)
            if not number and not (m.group(1) == "表" and re.match(r"[中里内的]", question[m.end(): m.end() + 1])):
                continue
            for key, label in self.annexes.items():
                if doc_ids and key[0] not in doc_ids:
                    continue
                found = re.match(r"(附件|附表|附)(.*)$", label)
                if not found:
                    continue
                if number and found.group(2) == number:
                    out.append(key)
                elif not number and m.group(1) == "表" and (found.group(1) == "附表" or key[1].endswith("表")):
                    out.append(key)
        return tuple(dict.fromkeys(out))

    def named(self, question: str) -> DocumentScope:
        """The documents and parts the (normalised) question names, when they narrow the corpus."""
        scope = self._documents(question)
        annexed = self._annexes_named(question, scope.doc_ids)
        if annexed and (scope.doc_ids or len({d for d, _ in annexed}) == 1):
            doc_ids = scope.doc_ids or (annexed[0][0],)
            spans = [m.group(0) for m in _ANNEX_REF.finditer(question) if m.group(1) or m.group(2)]
            return DocumentScope(doc_ids, tuple(dict.fromkeys([*scope.spans, *spans])), annexed)
        parts = self._parts_named(question, scope.doc_ids)
        if not parts:
            return scope
        doc_ids = scope.doc_ids or tuple(sorted({d for d, _ in parts}))
        if len(doc_ids) >= self.count and not scope.doc_ids and self.count > 1:
            doc_ids = ()
        runs = [r for p in parts for r in self._part_runs.get(p, [])]
        return DocumentScope(doc_ids, tuple(dict.fromkeys([*scope.spans, *runs])), parts)

    def _documents(self, question: str) -> DocumentScope:
        if self.count < 2:
            return DocumentScope()
        numbers = [_canonical_number(m.group(0)) for m in _NUMBER.finditer(question)]
        by_number = tuple(d for d, n in self.numbers.items() if any(q.endswith(n) or n.endswith(q) for q in numbers))
        if by_number:
            runs = [r for d in by_number for r in _runs(question, self.titles.get(d, ""))]
            return DocumentScope(by_number, tuple(dict.fromkeys(
                [m.group(0) for m in _NUMBER.finditer(question)] + runs)))
        scores: dict[str, float] = {}
        spans: dict[str, list[str]] = {}
        # a place the question names picks its documents first ("广东稳就业措施…")
        placed = [d for d in self.titles if any(p in question for p in self.places.get(d, ()))]
        for doc_id in placed or self.titles:
            runs = self._distinctive_runs(question, doc_id)
            places = [p for p in self.places.get(doc_id, ()) if p in question]
            score = sum(len(re.sub(r"[^\u4e00-\u9fff]", "", _GENERIC.sub("", r))) for r in runs) + 2.0 * len(places)
            if runs and self.years.get(doc_id) and f"{self.years[doc_id]}年" in question:
                score += 2.0  # the document's year beside a run of its title; a year alone names nothing
            if score:
                scores[doc_id] = score
                spans[doc_id] = runs + places
        if not scores:
            return DocumentScope()
        best = max(scores.values())
        if best < 2:
            return DocumentScope()
        chosen = tuple(sorted(d for d, s in scores.items() if s >= 0.7 * best))
        if len(chosen) >= self.count:
            return DocumentScope()
        return DocumentScope(chosen, tuple(dict.fromkeys(s for d in chosen for s in spans[d])))


_SCOPE_LEAD = re.compile(r"^(?:在)?([^，,。？?]{2,30}?)(?:里|中|内)[，,]")
_NAME_BEFORE_NUMBER = re.compile(r"([\u4e00-\u9fa5“”]{2,20})[（(][^（()）]*?[〔\[［]\s*(?:19|20)\d\d\s*[〕\]］]\s*\d{1,4}\s*号[)）]")


def described_scope(question: str) -> tuple[str, ...]:
    """Phrases by which a question describes where to look, whether or not they named a document:
    a leading "…措施里，" and a name before a bracketed 文号 ("国办督查激励措施（国办发〔2018〕117号）").
    They say where the answer is, not what it is, so an item that lacks their words is not the worse."""
    out = [m.group(1) for m in (_SCOPE_LEAD.match(question),) if m]
    out += [m.group(1) for m in _NAME_BEFORE_NUMBER.finditer(question)]
    return tuple(out)

