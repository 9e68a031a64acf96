"""The stages import one way: corpus → index → qa → api, with eval driving qa from outside.

Every import in a stage's files (at the top and inside functions) is checked against the stages it
may use; none may import tests or bench."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "corpus": set(),
    "index": {"corpus"},
    "qa": {"corpus", "index"},
    "api": {"corpus", "index", "qa"},
    "eval": {"corpus", "index", "qa"},
}
OURS = set(ALLOWED) | {"tests", "bench"}


def imports_against_flow(stage: str, source: str) -> list[str]:
    """The modules `source` (a file of `stage`) imports from a stage it may not use."""
    wrong = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in OURS and top != stage and top not in ALLOWED[stage]:
                wrong.append(name)
    return wrong


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_the_stages_before_it(stage):
    files = sorted((ROOT / stage).rglob("*.py"))
    assert files, f"no files in {stage}/"
    wrong = {str(p.relative_to(ROOT)): bad for p in files
             if (bad := imports_against_flow(stage, p.read_text(encoding="utf-8")))}
    assert wrong == {}


def test_the_check_sees_imports_inside_functions_and_from_tests():
    source = "import json\nfrom corpus import parse_text\n\ndef f():\n    from api.app import create_app\n"
    assert imports_against_flow("qa", source) == ["api.app"]
    assert imports_against_flow("api", "from eval.run import main\n") == ["eval.run"]
    assert imports_against_flow("index", "import tests.support.fakes\n") == ["tests.support.fakes"]
    assert imports_against_flow("corpus", "from corpus.units import parse_units\n") == []
