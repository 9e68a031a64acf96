"""Column roles by meaning: which header names the task, the lead unit, the deadline, a year's target.

The vocabulary is data (corpus/data/columns.tsv) that users extend; unknown headers stay as named
fields of the item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

ColumnRole = Literal["no", "code", "build_type", "total", "planned", "progress", "deadline", "officials",
                     "lead_units", "units", "cooperating", "guiding", "target", "measure", "note", "task",
                     "content", "name", "year", "other"]
UNIT_ROLES = ("lead_units", "units", "cooperating", "guiding")
TEXT_ROLES = ("task", "content")
_WEAK = ("task", "content", "target", "note", "units")  # words too common to outrank a year in a header
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年?")


@dataclass(frozen=True)
class ColumnVocabulary:
    """Header words per role; `role_of` picks a header's role."""

    words: tuple[tuple[str, ColumnRole], ...]  # longest first

    def role_of(self, header: str) -> ColumnRole:
        h = re.sub(r"\s+", "", header)
        if not h:
            return "other"
        for word, role in self.words:
            if h == word:
                return role
        # a word of a structural role inside the header decides before a year does: 2023年计划投资
        for word, role in self.words:
            if role not in _WEAK and len(word) >= 2 and word in h:
                return role
        if _YEAR.search(h) and len(h) <= 16:
            return "year"
        for word, role in self.words:
            if len(word) >= 2 and word in h:
                return role
        return "other"

    def is_exact_word(self, text: str) -> bool:
        h = re.sub(r"\s+", "", text)
        return any(h == w for w, _ in self.words) or (self.role_of(h) == "year" and len(h) <= 8)

    def is_header_word(self, text: str) -> bool:
        """Whether a cell reads as a column header (a role word, whole or inside a short cell)."""
        h = re.sub(r"\s+", "", text)
        if not h or len(h) > 16:
            return False
        return any(h == w for w, _ in self.words) or (self.role_of(h) != "other" and len(h) <= 10)


def parse_columns(text: str) -> ColumnVocabulary:
    pairs: dict[str, ColumnRole] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        role, *words = [w.strip() for w in line.split("\t") if w.strip()]
        for word in words:
            pairs.setdefault(word, role)  # type: ignore[arg-type]
    return ColumnVocabulary(tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0]))))


@lru_cache(maxsize=4)
def load_columns(path: str | None = None) -> ColumnVocabulary:
    """The bundled vocabulary, or the one at `path`."""
    if path is None:
        text = resources.files("corpus").joinpath("data/columns.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_columns(text)


def year_of(header: str) -> str | None:
    m = _YEAR.search(header)
    return m.group(1) if m else None
