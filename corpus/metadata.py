"""Document metadata: title, 文号, issuing body and date, in any of the genre's layouts.

Sources, most trusted first: what the file says about itself (front matter, <title>, meta tags),
then the text: a "X文件" masthead, a 文号 line, a title line "…关于…的通知/意见/方案" (which may wrap
over two lines), the signature block (the issuer's name above the date) and "（此件公开发布）".
A body paragraph is never taken as the title: a title is short and does not end a sentence.
"""

from __future__ import annotations

import re

from corpus.blocks import DocumentMeta
from corpus.model import Document
from corpus.normalize import to_halfwidth

_DOC_NUMBER = re.compile(r"([\u4e00-\u9fa5]{1,10}[〔\[［(（]\s*(?:19|20)\d\d\s*[〕\]］)）]\s*\d{1,4}\s*号)")
_DATE = re.compile(r"((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CN_DATE = re.compile(r"([一二三四五六七八九〇零○]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日")
_ISO_DATE = re.compile(r"((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})")
_DOC_KIND = r"(?:通知|意见|决定|批复|函|报告|措施|办法|方案|要点|计划|规划|清单|细则|规定|安排|指引|分解|纲要|请示|公告|通告)"
# what may stand between 的 and the kind: "的若干意见", "的十二条政策意见", "的实施方案"
_KIND_MODIFIER = r"(?:若干|实施|指导|[一二三四五六七八九十\d]{1,3}[条项])?(?:政策|工作|具体)?"
_TITLE = re.compile(rf"((?<!\S)\S*?关于.+?的{_KIND_MODIFIER}{_DOC_KIND}(?:》的(?:通知|函|意见))?|\S{{2,50}}?(?:工作要点|工作方案|实施方案|行动方案|行动计划|责任分解|任务清单|若干措施|重点工作安排|指导意见))")
_ISSUER_END = re.compile(r"(?:人民政府|政府|办公厅|办公室|委员会|管委会|国务院|厅|局|委|办|部|署|总局|中心|领导小组)$")
_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_int(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT.get(tens, 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)
    return int("".join(str(_CN_DIGIT.get(c, 0)) for c in text))


def iso_date(text: str) -> str | None:
    """An ISO date from "2023年1月20日", "2023-01-20" or "一九九六年五月十三日"."""
    half = to_halfwidth(text)
    for pattern in (_DATE, _ISO_DATE):
        m = pattern.search(half)
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    m = _CN_DATE.search(half)
    if m:
        return f"{_cn_int(m.group(1))}-{_cn_int(m.group(2)):02d}-{_cn_int(m.group(3)):02d}"
    return None


def doc_number(lines: list[str]) -> str | None:
    """文号, e.g. 浙政办发〔2023〕6号; the line may break (or carry garbage) before 号."""
    for i, text in enumerate(lines):
        pair = to_halfwidth(text + (lines[i + 1] if i + 1 < len(lines) and lines[i + 1].strip() == "号" else ""))
        pair = re.sub(r"(?<=\d)\s+(?=[\d〕\]号])|(?<=〕)\s+", "", pair)
        m = _DOC_NUMBER.search(pair)
        if m:
            number = re.sub(r"\s+", "", m.group(1))
            number = number.split("文件")[-1]
            # a 文号 cited inside a sentence ("根据国发〔2018〕39号") is not this document's
            if len(re.sub(r"\s+", "", text)) <= 40 or i < 3:
                return re.sub(r"^(?:根据|按照|依据|落实|贯彻|印发)", "", number)
    return None


def _tidy(text: str) -> str:
    half = to_halfwidth(text)
    half = re.sub(r"\s+", " ", half).strip()
    return re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", half)


def _title_from(lines: list[str]) -> tuple[str, str | None]:
    """(title, issuer prefix) from the first lines: a 关于…的通知 line, joined with its wrapped half.

    The title starts after the last space before 关于 ("国家税务总局辽宁省税务局 最新文件 关于印发…"),
    and a 文号 printed before it is not part of it."""
    spaced = [re.sub(r"\s+", " ", to_halfwidth(t)).strip() for t in lines]
    for i, text in enumerate(spaced):
        text = text[:120]
        following = spaced[i + 1][:60] if i + 1 < len(spaced) else ""
        for joined in (text, text + following):
            if _DOC_NUMBER.fullmatch(text.replace(" ", "")):
                continue
            m = _TITLE.search(joined)
            if not m or (joined != text and m.end() <= len(text)) or (joined != text and len(text) > 60):
                continue
            title = _DOC_NUMBER.sub("", _tidy(m.group(1)))
            words = joined[: m.start()].split()
            if words and _ISSUER_END.search(words[-1]) and not title.startswith(words[-1]):
                title = _tidy(words[-1]) + title  # "省推进…办公室 关于印发…的通知": the issuer opens the title
            if not 4 <= len(title) <= 90 or title.endswith(("。", "：", ":")):
                continue
            before = title.split("关于")[0] if "关于" in title else ""
            before = re.sub(r"(?:印发|转发|批转|关于印发|关于转发)?《?$", "", before)
            issuer = before if before and _ISSUER_END.search(before) else None
            return title, issuer
    return "", None


def signature_issuer(above: str, text: str) -> str | None:
    """The issuer, when `text` is a bare date and the line `above` it names a unit: a signature block."""
    if not (iso_date(text) and len(_tidy(text)) <= 16):
        return None
    name = _tidy(above).strip("()（）")
    name = re.sub(r"[（(].*?[）)]$", "", name)
    return name if 3 <= len(name) <= 30 and _ISSUER_END.search(name) else None


def _signature(lines: list[str]) -> tuple[str | None, str | None]:
    """(issuer, date) from a signature block: a unit name on its own line, the date just below."""
    for i, text in enumerate(lines):
        date = iso_date(text)
        if date and len(_tidy(text)) <= 16 and i > 0:
            return signature_issuer(lines[i - 1], text), date
    return None, None


def document_metadata(doc_id: str, meta: DocumentMeta, lines: list[str], source: str = "",
                      checksum: str = "", closing: list[str] | tuple[str, ...] = ()) -> Document:
    """Title, 文号, issuer and date of a document from its own metadata, its first lines and the lines
    after its body (`closing`: where the signature block usually is)."""
    head = [t for t in lines[:80] if t.strip()]
    number = meta.number or doc_number(head[:40])
    title_text, issuer_prefix = _title_from(head[:40])
    title = _tidy(meta.title) if meta.title else title_text
    issuer = meta.issuer
    if not issuer:
        for text in head[:5]:
            compact = re.sub(r"\s+", "", text)
            if compact.endswith("文件") and 4 < len(compact) <= 30:
                issuer = compact[: -len("文件")]
                break
    sig_issuer, sig_date = _signature(head)
    if sig_issuer is None and sig_date is None:
        # the signature block closes the body: "国务院 / 2018年11月16日" after the last item
        sig_issuer, sig_date = _signature([t for t in closing if t.strip()][:20])
    issuer = issuer or issuer_prefix or sig_issuer
    if issuer is None and title and "关于" in title:
        before = title.split("关于")[0]
        if _ISSUER_END.search(before):
            issuer = before
    date = iso_date(meta.date) if meta.date else None
    date = date or sig_date or next((d for d in (iso_date(t) for t in head[:40]) if d), None)
    if not title:
        title = next((_tidy(t) for t in head if 4 <= len(_tidy(t)) <= 60 and not _DOC_NUMBER.search(_tidy(t))
                      and not _tidy(t).endswith(("。", "：", ":", "；"))), doc_id)
    return Document(doc_id=doc_id, title=title, number=number, issuer=issuer, date=date, source=source,
                    checksum=checksum)
