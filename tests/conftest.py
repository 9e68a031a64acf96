"""Shared fixtures: the bundled documents, parsed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import ParsedDocument, parse_file

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "corpus" / "sources"
GENRE = ROOT / "tests" / "data" / "genre"  # copies of ../shared/genre (public documents)
DOC_000 = SOURCES / "000_30a6bebbb49a94f9.txt"
DOC_004 = SOURCES / "004_da63b5862d0a4b52.txt"


@pytest.fixture(scope="session")
def doc000() -> ParsedDocument:
    return parse_file(DOC_000)


@pytest.fixture(scope="session")
def doc004() -> ParsedDocument:
    return parse_file(DOC_004)


def genre_path(name: str) -> Path:
    return GENRE / name
