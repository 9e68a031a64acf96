"""Text normalisation shared by the parser, the index and the question reader.

Two forms exist for every piece of text: the display form (as written, joined across line
breaks) and the normalised form used for matching (half-width, decimals repaired, no spaces).
"""

from __future__ import annotations

import re
import unicodedata

# A page number on its own line, as PDF extraction leaves it: "—５—", "- 62 -", "—６２—".
_PAGE_NUMBER = re.compile(r"^\s*[—－\-–~～]{1,2}\s*[0-9０-９]{1,4}\s*[—－\-–~～]{1,2}\s*$")
# Runs of one rare CJK character (e.g. "欗欗欗欗") are extraction garbage, never prose.
_GARBAGE_RUN = re.compile(r"([\u3400-\u9fff])\1{4,}")
# A number whose decimal point was lost in extraction: "８ ５ 万元" → 8.5万元, "ＰＭ２ ５" → PM2.5.
_LOST_DECIMAL = re.compile(r"(?<![\d.\-:/])(\d{1,3}) (\d)(?![\d.])(?= ?[^\d\s.\-])")
_SPACES = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width; U+3000 to a space.

    Chinese punctuation (，。、：；（）) stays as it is: NFKC would turn （ into ( and that is
    a display change the documents do not make.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        elif ch in "．％＋－／＃＆＊":
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def strip_garbage(line: str) -> str:
    return _GARBAGE_RUN.sub("", line)


def repair_decimals(text: str) -> str:
    """Restore decimal points lost in PDF extraction ("8 5 万元" → "8.5 万元"). Half-width input."""
    return _LOST_DECIMAL.sub(r"\1.\2", text)


def join_lines(parts: list[str], paragraphs: bool = False) -> str:
    """Join wrapped lines: no separator between Chinese, one space between two ASCII words.

    With `paragraphs` (the parts are whole paragraphs, not lines a PDF broke), a newline keeps them apart."""
    if paragraphs:
        return "\n".join(p.strip() for p in parts if p.strip())
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and _ASCII_WORD.match(out[-1]) and _ASCII_WORD.match(part[0]) and not (
            out[-1].isdigit() and part[0].isdigit()
        ):
            out += " "
        out += part
    return out


def normalize(text: str) -> str:
    """The matching form: half-width, decimals repaired, spaces removed except between ASCII words."""
    text = unicodedata.normalize("NFKC", text)
    text = repair_decimals(text)
    text = _SPACES.sub(" ", text).strip()
    # drop a space unless it separates two ASCII letters/words ("Babycare 母婴" → "Babycare母婴")
    return re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", text)


def compact(text: str) -> str:
    """The substring-matching form used by the evaluation: NFKC and no whitespace at all."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def display(text: str) -> str:
    """Display form: collapse whitespace runs; keep the characters as written."""
    return _SPACES.sub(" ", text).strip()
