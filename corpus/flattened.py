"""Tables that a converter flattened to one cell per paragraph, rebuilt as tables.

Converters from PDF or HTML often write a task table as a run of short paragraphs: the header cells
(序号 / 任务 / 责任单位 / 完成时间), then each row's cells, a row opened by its sequence number. Such a
run is recognised by a header made of column-role words (corpus/data/columns.tsv), or, with no header,
by bare sequence numbers recurring every few paragraphs. Each row's cells are aligned to the columns by
what they hold (a list of units, a deadline, a number, prose): a merged cell shows as a missing cell, a
cell split over two paragraphs is joined, and a row with more cells than columns holds sub-rows that
share the row's leading cells. A category row ("一" + title) groups the rows below it. A two-level
header whose sub-headers follow all the top headers is resolved into leaf columns.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from corpus.blocks import Block, Cell, Location, Paragraph, Row, Table
from corpus.columns import UNIT_ROLES, ColumnVocabulary, load_columns
from corpus.deadlines import is_deadline_cell
from corpus.normalize import to_halfwidth
from corpus.prose import cn_number
from corpus.tables import TOTAL_ROW
from corpus.targets import MEASURES
from corpus.units import UnitLexicon, default_lexicon, is_unit_list

_SEQ = (
    ("digit", re.compile(r"^\*?(\d{1,3})$")),
    ("sub", re.compile(r"^\*?(\d{1,2})[.．](\d{1,2})$")),
    ("paren", re.compile(r"^[（(]([一二三四五六七八九十]{1,3})[）)]$")),
    ("cn", re.compile(r"^([一二三四五六七八九十]{1,3})[、．.]?$")),
    ("dash", re.compile(r"^(—|－|-)$")),
)
_NUMBERED_CELL = re.compile(r"^[（(](\d{1,3})[）)]\s*(\S.{1,})$")  # "（1）建设精品道路300条。"
_CATEGORY_CELL = re.compile(r"^\d{1,2}、[\u4e00-\u9fa5“”、]{2,30}$")  # "1、改善城市道路环境"
_EMPTY = re.compile(r"^(?:—+|－+|-+|–+|/|／|无|空|\s*)$")
_NUMBERISH = re.compile(r"^[约近超]?[\d.,，]+\s*(?:[%％‰]|[万亿千百]?[\u4e00-\u9fa5]{0,3})?(?:[（(][^）)]{0,8}[）)])?(?:以上|以下|左右)?$")
_MEASURE = re.compile(r"^(?:[%％‰]|[a-zA-Z㎡㎞²³·\u4e00-\u9fa5]{1,4}(?:/[a-zA-Z㎡\u4e00-\u9fa5]{1,4})?)$")
_ANNEX = re.compile(r"^(?:附件|附表|附)\s*[\d一二三四五六七八九十]*\s*[:：]?$|^表\s*\d+")
_DATA_LIKE = re.compile(r"^[\d.,%％]+$|.*[、，].*")  # a number or a list: a row's cell, not a header
_GROUP_HEADER = re.compile(r"分年度|分布|情况|其中|构成|组成|分项|分解|按年度|年度任务|年度目标")


@dataclass(frozen=True)
class _Column:
    name: str
    role: str


def _seq(text: str) -> tuple[str, int] | None:
    t = to_halfwidth(text).strip()
    for style, pattern in _SEQ:
        m = pattern.match(t)
        if m:
            if style == "dash":
                return "cn", 1
            if style == "sub":
                return "sub", int(m.group(1)) * 100 + int(m.group(2))
            value = m.group(1)
            return style, int(value) if value.isdigit() else cn_number(value)
    return None


class _Typer:
    """What a cell holds, for aligning cells to columns."""

    def __init__(self, lexicon: UnitLexicon) -> None:
        self.lexicon = lexicon
        self.cache: dict[str, str] = {}

    def kind(self, text: str) -> str:
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self._kind(text)
        return found

    def _kind(self, text: str) -> str:
        t = re.sub(r"\s+", "", to_halfwidth(text))
        if _EMPTY.match(t):
            return "empty"
        if _NUMBERISH.match(t) and re.search(r"\d", t):
            return "number"
        if is_deadline_cell(t):
            return "deadline"
        if is_unit_list(t, self.lexicon):
            return "units"
        if len(t) <= 8 and (re.search(r"[%％‰㎡㎞²³/A-Za-z]", t) and _MEASURE.match(t) or t in MEASURES):
            return "measure"
        return "long" if len(t) > 30 else "text"

    def score(self, text: str, role: str) -> float:
        kind = self.kind(text)
        if role in UNIT_ROLES:
            return {"units": 3.0, "empty": 1.5, "text": -1.5, "long": -4.0, "number": -3.0, "deadline": -3.0,
                    "measure": -2.0}[kind]
        if role == "deadline":
            return {"deadline": 3.0, "empty": 1.0, "text": -1.0, "long": -3.0, "number": -1.0, "units": -3.0,
                    "measure": -2.0}[kind]
        if role in ("year", "target", "total", "planned"):
            return {"number": 3.0, "empty": 1.0, "text": 0.0, "long": -1.5, "units": -3.0, "deadline": -1.0,
                    "measure": -1.0}[kind]
        if role == "measure":
            return {"measure": 3.0, "empty": 1.0, "number": -1.0}.get(kind, -2.0)
        if role in ("task", "content"):
            return {"text": 2.0, "long": 2.5 if role != "task" else 1.5, "units": -1.5, "number": -2.0,
                    "deadline": -1.5, "empty": 0.0, "measure": -2.0}[kind]
        if role == "name":  # a row's place or body: 马陆镇, 江苏
            return {"units": 2.5, "text": 2.0, "long": -1.0, "number": -2.0, "empty": 0.0}.get(kind, -1.0)
        if role == "other":
            return {"number": 2.0, "text": 0.8, "long": 0.5, "empty": 1.0, "units": -0.5}.get(kind, 0.3)
        if role == "note":
            return {"empty": 1.0, "text": 0.8, "long": 0.5}.get(kind, 0.2)
        return 0.2


@dataclass
class _Raw:
    """A row as collected: its number cell and the cells that follow it."""

    number: str
    cells: list[Paragraph]
    location: Location


def _header_run(paras: list[Paragraph], i: int, vocab: ColumnVocabulary) -> int:
    """How many paragraphs from i form a table header (0: none)."""
    n = 0
    words = 0
    while i + n < len(paras):
        text = re.sub(r"\s+", "", paras[i + n].text)
        if not text or len(text) > 18 or _seq(text) is not None or _DATA_LIKE.match(text) or re.search(r"[：:]", text):
            break  # a colon opens a category row ("行动一：…"), never a header cell
        if vocab.is_header_word(text):
            words += 1
        elif n and vocab.role_of(text) != "other":
            pass  # a longer header that still names a role ("重点任务（2024-2026）")
        elif not (n and (_continues_header(paras[i + n - 1].text, text)
                         or _split_word(re.sub(r"\s+", "", paras[i + n - 1].text), text, vocab))) and words < 2:
            break
        n += 1
    if n < 3 or words < 2:
        return 0
    first = re.sub(r"\s+", "", paras[i].text)
    if not vocab.is_exact_word(first):
        return 0  # a header opens with a column name ("序号", "重点任务"), not a title that contains one
    roles = [vocab.role_of(p.text) for p in paras[i: i + n]]
    if vocab.role_of(first) != "no" and not any(r in UNIT_ROLES or r == "deadline" for r in roles):
        return 0
    return n if n >= 3 else 0


def _split_word(previous: str, text: str, vocab: ColumnVocabulary) -> bool:
    """"牵头" + "部门", "实施" + "主体": a header word wrapped in its cell, one half per paragraph."""
    joined = previous + text
    return len(joined) <= 6 and vocab.is_exact_word(joined) and vocab.role_of(joined) != vocab.role_of(text)


def _continues_header(previous: str, text: str) -> bool:
    """"2024-2026" + "年任务量": a header cell broken over two paragraphs."""
    return bool(re.search(r"\d$", previous.strip()) and re.match(r"^[年月]", text.strip()))


def _headers(paras: list[Paragraph], vocab: ColumnVocabulary) -> list[str]:
    out: list[str] = []
    for p in paras:
        text = re.sub(r"\s+", "", p.text)
        if out and (_continues_header(out[-1], text) or _split_word(out[-1], text, vocab)):
            out[-1] += text
        else:
            out.append(text)
    return out


def _leaf_headers(headers: list[str], width: int) -> list[str]:
    """Resolve a two-level header (sub-headers after all top headers) into `width` leaf columns."""
    if len(headers) <= width:
        return headers + [""] * (width - len(headers))
    spanning = len(headers) - width
    tops = [i for i, h in enumerate(headers) if _GROUP_HEADER.search(h)]
    if len(tops) < spanning:
        return headers[:width]
    chosen = tops[-spanning:]
    split = chosen[-1] + 1
    subs = headers[split:]
    if len(subs) < 2 * spanning:
        return headers[:width]
    # subs go to the spanning tops in order; a run of year columns stays under one top
    groups: list[list[str]] = [[] for _ in chosen]
    kinds = ["year" if re.search(r"(?:19|20)\d\d", s) else "other" for s in subs]
    g = 0
    for k, sub in enumerate(subs):
        if k and g + 1 < len(chosen) and kinds[k] != kinds[k - 1] and groups[g]:
            g += 1
        groups[g].append(sub)
    if any(len(grp) < 2 for grp in groups):
        return headers[:width]
    leaves: list[str] = []
    for i, header in enumerate(headers[:split]):
        if i in chosen:
            leaves.extend(f"{header}·{sub}" for sub in groups[chosen.index(i)])
        else:
            leaves.append(header)
    return leaves if len(leaves) == width else headers[:width]


def _continuations(texts: list[str]) -> list[tuple[str, int]]:
    """Paragraphs that plainly continue a cell: after a trailing 、/，, inside an open 《 or （, or a
    bracketed note right after (（沪府办发〔2024〕3号）). Returns (cell text, paragraphs it took)."""
    out: list[tuple[str, int]] = []
    for text in texts:
        if out:
            prev, k = out[-1]
            open_bracket = prev.count("《") > prev.count("》") or prev.count("（") > prev.count("）") or \
                prev.count("“") > prev.count("”")
            if (prev.endswith(("、", "，", ",")) or open_bracket or (text.startswith(("（", "(")) and len(text) <= 24
                                                                    and _seq(text) is None)):
                out[-1] = (prev + text, k + 1)
                continue
        out.append((text, 1))
    return out


def infer_roles(rows: list[list[str]], width: int, lexicon: UnitLexicon) -> tuple[list[str], list[str]]:
    """Column names and roles of a table with no header, from what its cells hold: the first column
    numbers the rows when it holds numbers; a column of unit lists is the responsible units; the first
    column of prose names the row."""
    typer = _Typer(lexicon)
    full = [r for r in rows if len(r) == width] or rows
    names: list[str] = []
    roles: list[str] = []
    first_text = True
    for j in range(width):
        cells = [r[j] for r in full if j < len(r) and r[j]]
        kinds = Counter(typer.kind(c) for c in cells)
        kind = kinds.most_common(1)[0][0] if kinds else "empty"
        if j == 0 and (not cells or all(_seq(c) for c in cells)):
            role = "no"
        elif kinds.get("units", 0) >= max(1, len(cells) // 2):
            role = "units"
        elif kind == "deadline":
            role = "deadline"
        elif kind == "number":
            role = "target"
        elif kind == "measure":
            role = "measure"
        elif kind in ("text", "long") and first_text:
            role, first_text = "task", False
        elif kind in ("text", "long"):
            role = "content"
        else:
            role = "note"
        roles.append(role)
        names.append({"no": "序号", "units": "责任单位", "task": "名称", "content": "内容", "deadline": "完成时限",
                      "target": "数值", "measure": "单位"}.get(role, f"列{j + 1}"))
    return names, roles


class FlattenedTables:
    """Finds and rebuilds flattened tables in a block sequence."""

    def __init__(self, vocab: ColumnVocabulary | None = None, lexicon: UnitLexicon | None = None) -> None:
        self.vocab = vocab or load_columns()
        self.typer = _Typer(lexicon or default_lexicon())

    def __call__(self, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        run: list[Paragraph] = []
        for block in blocks:
            if isinstance(block, Paragraph):
                run.append(block)
                continue
            out.extend(self._rebuild(run))
            run = []
            out.append(block)
        out.extend(self._rebuild(run))
        return tuple(out)

    # ----- a run of paragraphs ---------------------------------------------------------------
    def _rebuild(self, paras: list[Paragraph]) -> list[Block]:
        out: list[Block] = []
        i = 0
        while i < len(paras):
            n = _header_run(paras, i, self.vocab)
            if n:
                table, used = self._table(paras, i + n, _headers(paras[i: i + n], self.vocab), paras[i].location)
                if table is not None:
                    out.append(table)
                    i = i + n + used
                    continue
            if self._headerless_start(paras, i):
                table, used = self._table(paras, i, None, paras[i].location)
                if table is not None:
                    out.append(table)
                    i += used
                    continue
            out.append(paras[i])
            i += 1
        return out

    def _headerless_start(self, paras: list[Paragraph], i: int) -> bool:
        """Bare sequence numbers 1, 2, 3 (or *1 …) recurring every few short paragraphs."""
        first = _seq(paras[i].text)
        if first is None or first[0] not in ("digit", "sub") or first[1] not in (1, 101):
            return False
        expected, pos, found, gaps = first[1] + (1 if first[0] == "digit" else 1), i + 1, 1, []
        while pos < len(paras) and found < 3:
            gap = 0
            while pos < len(paras) and _seq(paras[pos].text) != (first[0], expected):
                if len(paras[pos].text) > 200 or gap > 12:
                    return False
                pos += 1
                gap += 1
            if pos >= len(paras) or gap < 2:
                return False
            gaps.append(gap)
            found += 1
            expected += 1
            pos += 1
        return found >= 3 and max(gaps) - min(gaps) <= 3

    def _table(self, paras: list[Paragraph], start: int, headers: list[str] | None,
               location: Location) -> tuple[Table | None, int]:
        """Rows from paras[start:], and how many paragraphs after `start` the table took."""
        raws: list[_Raw | tuple[str, str, Location]] = []
        row_style: str | None = None
        category_style: str | None = None
        expected = 1
        pos = start
        current: _Raw | None = None
        min_cells = max(1, (len(headers) - 1) // 2) if headers else 2
        # a column before 序号 ("任务类型 序号 工作任务 推进单位") is a category merged down its rows: its
        # values come as lone paragraphs before the rows they cover
        lead_column = bool(headers) and len(headers) > 2 and self.vocab.role_of(headers[0]) != "no" \
            and self.vocab.role_of(headers[1]) == "no"
        row_cells = len(headers) - 2 if lead_column else 0
        while pos < len(paras):
            p = paras[pos]
            text = re.sub(r"\s+", "", p.text)
            seq = _seq(text)
            numbered = _NUMBERED_CELL.match(text) if headers and row_style in (None, "cell") else None
            if numbered and (current is None or current.cells):
                row_style = "cell"  # the row's number opens its task cell: "（1）建设精品道路300条。"
                current = _Raw(f"({numbered.group(1)})", [Paragraph(text, p.location)], p.location)  # the cell as printed
                raws.append(current)
                expected = int(numbered.group(1)) + 1
                pos += 1
                continue
            soon = any(_NUMBERED_CELL.match(q.text.strip()) for q in paras[pos + 1: pos + 4])
            if headers and row_style in (None, "cell") and soon and (
                    seq is not None and seq[0] in ("paren", "cn") and pos + 1 < len(paras)
                    and _seq(paras[pos + 1].text) is None and not _NUMBERED_CELL.match(paras[pos + 1].text.strip())
                    or _CATEGORY_CELL.match(text)):
                # "（一）" + "提升交通设施环境品质", "1、改善城市道路环境": categories of numbered-cell rows
                title = text + paras[pos + 1].text.strip() if seq is not None else text
                raws.append(("group", title, p.location))
                current = None
                pos += 2 if seq is not None else 1
                continue
            if lead_column and seq is None and len(text) <= 40 and not _DATA_LIKE.match(text) and (
                    current is None or len(current.cells) >= row_cells
                    or (current.cells and not is_unit_list(text, self.typer.lexicon) and not is_deadline_cell(text))):
                raws.append(("group", text, p.location))
                current = None
                pos += 1
                continue
            if seq is not None and text in ("—", "－", "-") and not (row_style is None or category_style == "cn"):
                seq = None  # an empty cell, not the first category's number
            if current is not None and seq is not None and seq[0] == row_style and len(current.cells) < min_cells:
                seq = None  # a number inside a row that has not got its cells yet: data
            if TOTAL_ROW.match(text) and current is not None:
                current = _Raw(text, [], p.location)
                raws.append(current)
                pos += 1
                continue
            if headers and text == headers[0] and self._repeated_header(paras, pos, headers):
                pos = self._skip_header(paras, pos, headers)
                continue
            if row_style is None and seq is not None:
                nxt = _seq(paras[pos + 1].text) if pos + 1 < len(paras) else None
                after = _seq(paras[pos + 2].text) if pos + 2 < len(paras) else None
                if seq[0] == "cn" and nxt is None and after is not None and after[0] != "cn":
                    category_style, row_style = "cn", after[0]
                elif seq[0] == "cn" and nxt is None and after is None and headers:
                    category_style = "cn"
                else:
                    row_style = seq[0]
            if seq is not None and seq[0] == category_style and seq[0] != row_style and pos + 1 < len(paras) \
                    and _seq(paras[pos + 1].text) is None:
                raws.append(("group", text + paras[pos + 1].text.strip(), p.location))
                current = None
                pos += 2
                if row_style is None and pos < len(paras):
                    follow = _seq(paras[pos].text)
                    row_style = follow[0] if follow else None
                continue
            restart = seq is not None and seq[1] in (1, 101) and expected > 2
            if restart and not (raws and not isinstance(raws[-1], _Raw)):
                break  # numbering starts again without a category row: another table begins
            if seq is not None and seq[0] == row_style and (seq[1] == expected or seq[1] in (1, 101) or (
                    row_style == "sub" and seq[1] // 100 >= 1)):
                current = _Raw(text, [], p.location)
                raws.append(current)
                expected = seq[1] + 1
                pos += 1
                continue
            if isinstance(p, Paragraph) and _ANNEX.match(text) or current is None:
                break
            if len(current.cells) > 3 * max(len(headers or ()) , 4) + 4:
                break
            current.cells.append(p)
            pos += 1
        rows = [r for r in raws if isinstance(r, _Raw)]
        if len(rows) < 2:
            return None, 0
        width = self._width(rows, headers)
        if width < 2:
            return None, 0
        columns = self._columns(headers, width, rows)
        table_rows: list[Row] = []
        if headers is not None:
            table_rows.append(Row(tuple(Cell(c.name) for c in columns), location, header=True))
        leftover: list[Paragraph] = []
        last_raw = rows[-1]
        for raw in raws:
            if not isinstance(raw, _Raw):
                table_rows.append(Row((Cell(raw[1]),) + tuple(Cell("") for _ in columns[1:]), raw[2], group=True))
                continue
            aligned, rest = self._align(raw, columns, last=raw is last_raw)
            table_rows.extend(aligned)
            leftover = rest
        used = pos - start - len(leftover)
        return Table(tuple(table_rows), location, flattened=True), used

    def _repeated_header(self, paras: list[Paragraph], pos: int, headers: list[str]) -> bool:
        texts = [re.sub(r"\s+", "", p.text) for p in paras[pos: pos + 3]]
        return len(texts) >= 2 and texts[1] in headers[1:3]

    def _skip_header(self, paras: list[Paragraph], pos: int, headers: list[str]) -> int:
        end = pos
        names = set(headers)
        while end < len(paras) and (re.sub(r"\s+", "", paras[end].text) in names
                                    or self.vocab.is_header_word(paras[end].text)):
            end += 1
        return end

    def _width(self, rows: list[_Raw], headers: list[str] | None) -> int:
        counts = Counter(len(r.cells) for r in rows[:-1] or rows)
        mode = counts.most_common(1)[0][0] + 1
        if headers is None:
            return mode
        if len(headers) > mode and max(counts) + 1 == mode and _leaf_headers(headers, mode) != headers[:mode]:
            return mode  # a two-level header: fewer leaf columns than header cells
        return len(headers)

    def _columns(self, headers: list[str] | None, width: int, rows: list[_Raw]) -> list[_Column]:
        if headers is not None:
            names = _leaf_headers(headers, width)
            return [_Column(n, self.vocab.role_of(n) if n else "other") for n in names]
        names, roles = infer_roles([["", *[c.text for c in r.cells]] for r in rows], width, self.typer.lexicon)
        return [_Column(n, r) for n, r in zip(names, roles, strict=True)]

    def _align(self, raw: _Raw, columns: list[_Column], last: bool) -> tuple[list[Row], list[Paragraph]]:
        """Cells → columns by dynamic programming over what each cell holds; sub-rows share leading cells."""
        cols = columns[1:] if columns and columns[0].role == "no" else columns
        merged = _continuations([re.sub(r"\s+", "", c.text) for c in raw.cells])
        texts = [t for t, _ in merged]
        cell_paras = [k for _, k in merged]  # how many paragraphs each merged cell took
        n, width = len(texts), len(cols)
        if width == 0:
            return [], raw.cells
        neg = -1e9
        # best[i][j]: best score having consumed i cells with column j next; back-pointers in how[i][j]
        best = [[neg] * (width + 1) for _ in range(n + 1)]
        how: list[list[tuple | None]] = [[None] * (width + 1) for _ in range(n + 1)]
        best[0][0] = 0.0
        for i in range(n + 1):
            # twice: a sub-row leaves (i, width) for an earlier column at the same i
            for j in [*range(width + 1), *range(1, width + 1)]:
                score = best[i][j]
                if score == neg:
                    continue
                if j == width:
                    if i < n:  # a sub-row starts: it shares the leading columns it skips
                        for s in range(1, width):
                            self._relax(best, how, i, s, score - 2.5 - 0.1 * (width - s), (i, j, "sub"))
                    if i == n - 1 and not last and self.typer.kind(texts[i]) == "text" and len(texts[i]) <= 12:
                        # a category cell between two rows ("品质宜居"): it heads the rows below
                        self._relax(best, how, n, width, score, (i, j, "group"))
                    continue
                role = cols[j].role
                if i < n:
                    self._relax(best, how, i + 1, j + 1, score + self.typer.score(texts[i], role), (i, j, "take"))
                for extra in (1, 2):  # a cell broken over two or three paragraphs
                    if i + extra < n and all(self._joinable(texts[k], texts[k + 1]) for k in range(i, i + extra)):
                        joined = "".join(texts[i: i + extra + 1])
                        self._relax(best, how, i + extra + 1, j + 1,
                                    score + self.typer.score(joined, role) - 0.8 * extra, (i, j, f"join{extra}"))
                skip = -0.4 if role in ("task", "other", "note") else (-2.5 if role in UNIT_ROLES else -1.5)
                self._relax(best, how, i, j + 1, score + skip, (i, j, "skip"))
        end_i = n
        if last:  # the table's last row: cells after a complete row may be prose again
            end_i = max(range(n + 1), key=lambda i: (best[i][width], i))
        state = (end_i, width)
        steps: list[tuple[int, int, str]] = []
        while state != (0, 0):
            back = how[state[0]][state[1]]
            if back is None:
                break
            steps.append(back)
            state = (back[0], back[1])
        steps.reverse()
        filled: list[dict[int, str]] = [{}]
        group: str | None = None
        for i, j, op in steps:
            if op == "group":
                group = texts[i]
            elif op == "sub":
                filled.append({})
            elif op == "take":
                filled[-1][j] = texts[i]
            elif op.startswith("join"):
                filled[-1][j] = "".join(texts[i: i + int(op[4:]) + 1])
        rows: list[Row] = []
        previous: list[Cell] = [Cell("")] * width
        for k, own in enumerate(filled):
            cells = [Cell(own[j]) if j in own else Cell(previous[j].text, inherited=bool(previous[j].text))
                     if k else Cell("") for j in range(width)]
            number = Cell(raw.number, inherited=k > 0)
            rows.append(Row((number, *cells) if len(cols) < len(columns) else tuple(cells), raw.location))
            previous = cells
        if group:
            rows.append(Row((Cell(group),) + tuple(Cell("") for _ in columns[1:]), raw.location, group=True))
        return rows, raw.cells[sum(cell_paras[:end_i]):]

    def _joinable(self, first: str, second: str) -> bool:
        """Two paragraphs that may be one cell broken in two ("区土方工作" + "专班")."""
        if self.typer.kind(first) == "empty" or self.typer.kind(second) == "empty":
            return False
        return len(first) <= 12 or first.endswith(("、", "，"))

    @staticmethod
    def _relax(best, how, i: int, j: int, score: float, back: tuple) -> None:
        if score > best[i][j]:
            best[i][j] = score
            how[i][j] = back


def rebuild_flattened(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """Flattened tables in a block sequence rebuilt as Table blocks (bundled vocabularies)."""
    return FlattenedTables()(blocks)


