"""The role vocabulary: labels, phrasings and document-level rules of responsibility (data/roles.tsv)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

Role = Literal["lead", "responsible", "cooperating", "guiding", "official", "deadline"]
UNIT_ROLES: tuple[Role, ...] = ("lead", "responsible", "cooperating", "guiding")


@dataclass(frozen=True)
class RoleVocabulary:
    labels: tuple[tuple[str, Role], ...]  # longest first
    after: tuple[tuple[str, Role], ...]  # longest first
    rules: tuple[re.Pattern[str], ...]
    titles: tuple[str, ...]
    label_pattern: re.Pattern[str]

    def label_role(self, label: str) -> Role | None:
        return next((role for word, role in self.labels if word == label), None)

    def role_at_end(self, clause: str) -> tuple[str, Role] | None:
        """The phrasing a clause ends with ("…负责", "…牵头"), and its role."""
        for phrase, role in self.after:
            if clause.endswith(phrase) and len(clause) > len(phrase):
                return phrase, role
        return None

    def names_a_role(self, text: str) -> bool:
        """Whether the text states who leads or answers in words (a label, or 牵头, 负责), not only a
        unit as a sentence's subject ("财政部要加大资金支持力度": 支持 there is no role)."""
        return any(word in text for word, _ in self.labels) or any(
            p in text for p, role in self.after if role in ("lead", "responsible"))

    def states_first_leads(self, text: str) -> bool:
        return any(p.search(text) for p in self.rules)


def parse_roles(text: str) -> RoleVocabulary:
    labels: dict[str, Role] = {}
    after: dict[str, Role] = {}
    rules: list[re.Pattern[str]] = []
    titles: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, role, *phrases = [w.strip() for w in line.split("\t") if w.strip()]
        for phrase in phrases:
            if kind == "label":
                labels.setdefault(phrase, role)  # type: ignore[arg-type]
            elif kind == "after":
                after.setdefault(phrase, role)  # type: ignore[arg-type]
            elif kind == "rule":
                rules.append(re.compile(phrase[3:] if phrase.startswith("re:") else re.escape(phrase)))
            elif kind == "title":
                titles.append(phrase)
    ordered_labels = tuple(sorted(labels.items(), key=lambda kv: -len(kv[0])))
    pattern = re.compile(r"(" + "|".join(re.escape(w) for w, _ in ordered_labels) + r")\s*[：:]")
    return RoleVocabulary(ordered_labels, tuple(sorted(after.items(), key=lambda kv: -len(kv[0]))),
                          tuple(rules), tuple(sorted(titles, key=len, reverse=True)), pattern)


@lru_cache(maxsize=4)
def load_roles(path: str | None = None) -> RoleVocabulary:
    if path is None:
        text = resources.files("corpus").joinpath("data/roles.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_roles(text)
