"""Numbered prose: headings and items ("一、" › "（一）" › "1." / "１ " › "（1）").

The parser builds a tree of numbered blocks. A number is accepted as a marker only when it
continues its level's sequence (or starts it at 1 under a new parent), so a wrapped line that
happens to begin with "１００ 个项目…" stays a continuation. The level whose blocks carry most
attributions is the item level; levels above it are sections, levels below it are sub-points
of their item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.metadata import signature_issuer
from corpus.normalize import to_halfwidth

CN_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_MEASURE = "[年月日号时个万亿千百元项条次家所人倍余多届期批座台辆套户名位只件株头吨米里亩度周岁分秒]"
_MARKERS = (
    # a regulation's chapters and articles (实施细则, 办法): 第一章 above the 一、 level, 第七条 between 一、 and （一）
    (0.5, re.compile(r"^第([一二三四五六七八九十百]{1,4})章\s*(.*)$")),
    (1.5, re.compile(r"^第([一二三四五六七八九十百]{1,4}|\d{1,3})条\s*(.*)$")),
    (1, re.compile(r"^([一二三四五六七八九十百]{1,4})[、．.]\s*(.*)$")),
    (2, re.compile(r"^[（(]([一二三四五六七八九十百]{1,4})[）)]\s*(.*)$")),
    # "1 地区…", and "1地区…" as OCR reads it (the space lost); never "2023年", "12万亿元", "5个"
    (3, re.compile(r"^(\d{1,3})(?:[.．、](?![\d.])|\s+(?=[^\s\d])|(?=[\u4e00-\u9fff])(?!" + _MEASURE + r"))\s*(.*)$")),
    (4, re.compile(r"^[（(](\d{1,3})[）)]\s*(.*)$")),
)
_SPACE_STYLE = re.compile(r"^\d{1,3}(?:\s|(?=[\u4e00-\u9fff]))")  # a bare number, spaced or glued
_ATTRIBUTION_LINE = re.compile(r"^\s*(责任单位|牵头单位|责任部门|牵头部门|配合单位|牵头领导|责任领导)\s*[：:]")
_TRAILER = re.compile(r"^\s*(?:[-–]\s*)?(抄送|主送|附件\s*[:：]|附\s*[:：]|联系人|[（(]此件|印发|特此通知)")
# an annex opens a new part: "附件1", "附件 2", "附件3：", "附表1", "附 1" on a line of its own
_ANNEX_MARK = re.compile(r"^\s*(?:[-–]\s*)?(?:附件|附表|附)\s*([\d一二三四五六七八九十]*(?:[-－]\d+)?)\s*[:：]?\s*(.{0,40})$")
_MIDLINE_MARKER = re.compile(
    r"\s+(?=(?:第[一二三四五六七八九十百]{1,4}[章条]\s|[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}[．.](?!\d)|[（(]\d{1,2}[）)]))"
)
# a short heading, then the two ideographic spaces that indent the paragraph after it
_HEADING_THEN_INDENT = re.compile(r"([^。；;！？]{2,30}?)[ \t]*\u3000{2,}")
_SENTENCE_END = "。！？；;!?）)」”"


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十三 → 23."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS.get(ch, 0)
    return total + current


@dataclass(eq=False)
class Block:
    level: int  # 0 = root, 1..4 numbering levels
    number: int
    marker: str  # as printed, half-width ("四、", "(一)", "3")
    head: str  # text on the marker line after the marker
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)  # continuation lines
    children: list[Block] = field(default_factory=list)
    parent: Block | None = None
    part: str | None = None  # part title in force when the block opened
    annex: str = ""  # the annex the block belongs to, as labelled ("附件1", "附表2")
    paragraphs: bool = False  # its lines are whole paragraphs (Markdown, HTML, Word), not broken lines

    @property
    def text(self) -> str:
        from corpus.normalize import join_lines

        return join_lines([self.head] + [t for _, t in self.lines], self.paragraphs)



@dataclass
class ProseTree:
    root: Block
    trailer: list[tuple[int, str]]
    preamble: list[tuple[int, str]]


def split_collapsed(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Documents whose whitespace was collapsed to one line: split before numbering markers."""
    out: list[tuple[int, str]] = []
    for no, text in lines:
        if len(text) < 200:
            out.append((no, text))
            continue
        for piece in _MIDLINE_MARKER.split(text):
            piece = piece.strip()
            heading = _HEADING_THEN_INDENT.match(piece)
            if heading and _match_marker(piece):  # "二、重点任务　　省发改…": the indent ends the heading
                out.append((no, heading.group(1)))
                piece = piece[heading.end():].strip()
            if piece:
                out.append((no, piece))
    return out


def _match_marker(text: str) -> tuple[int, int, str, str] | None:
    half = to_halfwidth(text)
    for level, pattern in _MARKERS:
        m = pattern.match(half)
        if m:
            number = cn_number(m.group(1))
            marker_len = len(half) - len(m.group(2))
            return level, number, half[:marker_len].strip(), text[marker_len:].strip()
    return None


def starts_with_marker(text: str) -> bool:
    """Whether a line opens with a numbering marker ("一、", "（二）", "3．")."""
    return _match_marker(text) is not None


def build_tree(lines: list[tuple[int, str]], has_attribution=None, paragraphs: bool = False,
               any_start: bool = False) -> ProseTree:
    """Build the block tree of a prose region (lines are (line number, text), blank lines removed).

    `has_attribution(text)` says whether a block's text names who is responsible; the "１ " style of
    numbering needs it to tell an item from a wrapped line."""
    has_attribution = has_attribution or (lambda text: False)
    root = Block(level=0, number=0, marker="", head="", line=0)
    last_at_level: dict[int, int] = {}
    stack: list[Block] = [root]
    preamble: list[tuple[int, str]] = []
    trailer: list[tuple[int, str]] = []
    part: str | None = None
    in_trailer = False
    part_start = False  # just after an annex marker: numbering starts again
    annex_label = ""
    prev_text = ""
    prev_raw = ""
    for no, text in lines:
        annex = _ANNEX_MARK.match(to_halfwidth(text))
        if root.children and annex and (annex.group(1) and (not annex.group(2) or is_title_line(annex.group(2)))
                                        or not annex.group(1) and not annex.group(2) and not re.search(r"[:：]", text)):
            word = re.match(r"\s*(?:[-–]\s*)?(附件|附表|附)", to_halfwidth(text)).group(1)
            annex_label = f"{word}{annex.group(1)}"
            part = tidy(annex.group(2)) if annex.group(2) else annex_label
            stack = [root]
            last_at_level = {}
            in_trailer, part_start = False, True
            prev_text, prev_raw = to_halfwidth(text).strip(), text
            continue
        if part_start and not stack[1:] and is_title_line(text) and _match_marker(text) is None:
            # the annex's title line(s): "全面加强建筑垃圾管理的实施意见任务职责分工表"
            part = tidy(text) if part and part == annex_label else (part or tidy(text))
            prev_text, prev_raw = to_halfwidth(text).strip(), text
            continue
        if root.children and _TRAILER.match(text):
            in_trailer = True
        if root.children and not in_trailer and stack[-1].lines and signature_issuer(stack[-1].lines[-1][1], text):
            # the signature block (issuer above the date) ends the body: it is no part of the last item
            trailer.append(stack[-1].lines.pop())
            in_trailer = True
        marker = _match_marker(text)
        accepted = False
        if marker:
            level, number, printed, head = marker
            parent = next(b for b in reversed(stack) if b.level < level)
            siblings = [c for c in parent.children if c.level == level]
            if part_start and not stack[1:]:
                ok = number == 1
            elif siblings:
                # numbering restarts at 1 only where a new part opens under its own title line
                ok = number == siblings[-1].number + 1 or (
                    number == 1 and parent is root and is_title_line(prev_raw)
                ) or (
                    # one number lost in extraction ("…（责任单位：X） 4.对…" after 2.): the item before is
                    # finished, since it states who is responsible
                    number == siblings[-1].number + 2 and siblings[-1] is stack[-1]
                    and has_attribution(stack[-1].text)
                )
            else:
                # `any_start`: a fragment whose numbering begins past 1 ("三、…" with 一、 and 二、 lost)
                ok = number == 1 or number == last_at_level.get(level, -99) + 1 or (any_start and not root.children)
            if ok and in_trailer and not (level == 1 and number == 1 and is_title_line(prev_raw)):
                ok = False  # "附件：1.…" lists the annexes; it does not open items
            if ok and _SPACE_STYLE.match(to_halfwidth(text)):
                # "１ 地区生产总值…": a bare number opens an item only after a finished sentence
                current = stack[-1]
                ok = (
                    not prev_text
                    or prev_text[-1] in _SENTENCE_END
                    or _ATTRIBUTION_LINE.match(prev_text) is not None
                    or has_attribution(current.text)
                    or current.level < level and not current.lines
                )
            if ok and level == 1 and number == 1 and root.children and not part_start:
                # a restart at 一、: a new part; its title is the short line just before
                part = _take_part_title(stack[-1]) or part
            if ok and not root.children and number == 1:
                part = _title_from_preamble(preamble) or part
            if ok:
                accepted = True
                in_trailer = part_start = False
                while stack[-1].level >= level:
                    stack.pop()
                parent = stack[-1]
                block = Block(level, number, printed, head, no, parent=parent, part=part, annex=annex_label,
                              paragraphs=paragraphs)
                parent.children.append(block)
                stack.append(block)
                last_at_level[level] = number
        if not accepted:
            if in_trailer:
                trailer.append((no, text))
            elif len(stack) == 1:
                preamble.append((no, text))
            else:
                stack[-1].lines.append((no, text))
        prev_text = to_halfwidth(text).strip()
        prev_raw = text
    return ProseTree(root=root, trailer=trailer, preamble=preamble)


_NOT_TITLE = re.compile(r"^[\u4e00-\u9fa5]{1,10}[〔\[［(（]\d{4}[〕\]］)）]\d{1,4}号$|^\d{4}年\d{1,2}月\d{1,2}日$")


def is_title_line(text: str) -> bool:
    """A short line that can title a part: not a sentence, not a 文号 or a date."""
    compact = re.sub(r"\s+", "", text)
    return (2 <= len(compact) <= 40 and compact[-1] not in "。，、；：,;:）)" and "：" not in compact
            and not _NOT_TITLE.match(to_halfwidth(compact)))


def _take_part_title(block: Block) -> str | None:
    if block.lines and is_title_line(block.lines[-1][1]):
        _, title = block.lines.pop()
        return tidy(title)
    return None


def _title_from_preamble(preamble: list[tuple[int, str]]) -> str | None:
    for _, text in reversed(preamble[-3:]):
        if is_title_line(text):
            return tidy(text)
    return None


def tidy(text: str) -> str:
    """Half-width, with spaces removed except between two ASCII words (section and unit names)."""
    from corpus.normalize import repair_decimals

    half = repair_decimals(to_halfwidth(text))
    half = re.sub(r"\s+", " ", half).strip()
    return re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", half)
