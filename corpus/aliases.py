"""Unit aliases (省发改委 ↔ 省发展改革委): data in a TSV file that users can extend."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class AliasTable:
    """Groups of names meaning the same unit; lines sharing a name are merged into one group."""

    groups: tuple[frozenset[str], ...]

    def variants(self, name: str) -> frozenset[str]:
        """Every name of the unit `name` (itself included, even when unknown)."""
        for group in self.groups:
            if name in group:
                return group
        return frozenset({name})

    def names(self) -> frozenset[str]:
        return frozenset(n for g in self.groups for n in g)


def parse_aliases(text: str) -> AliasTable:
    groups: list[set[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        names = {n.strip() for n in line.split("\t") if n.strip()}
        overlapping = [g for g in groups if g & names]
        for g in overlapping:
            names |= g
            groups.remove(g)
        groups.append(names)
    return AliasTable(tuple(frozenset(g) for g in groups))


def load_aliases(path: str | Path | None = None) -> AliasTable:
    """The bundled alias table, or the one at `path`."""
    if path is None:
        text = resources.files("corpus").joinpath("data/aliases.tsv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_aliases(text)
