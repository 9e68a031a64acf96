"""`policyqa eval`: the harness adds its own command to the CLI through the `policyqa.commands`
entry point (pyproject.toml), so the API layer never imports the evaluation."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def register(sub) -> Callable[[argparse.Namespace], int]:
    """Add the `eval` subcommand to the CLI's subparsers; return what runs it."""
    p = sub.add_parser("eval", help="score policyqa (and baselines) on a gold question file")
    p.add_argument("--gold", default=None, help="gold JSONL file (default: eval/gold/dev.jsonl)")
    p.add_argument("--url", help="evaluate a running server over HTTP instead of in process")
    p.add_argument("--baselines", action="store_true", help="also score BM25-only, dense-only and vanilla RAG")
    p.add_argument("--out", default=None, help="output folder for report.json, report.md, chart.png "
                   "(default: a new temporary folder, printed; the tracked eval/report* change only when named)")
    p.add_argument("--docs", nargs="+", help="evaluate over these documents (indexed into a temporary folder) "
                   "instead of the configured index, e.g. the genre documents")
    p.add_argument("--search", metavar="FILE", help="score keyword-search strategies (/search) on a search gold "
                   "file, e.g. eval/gold/search.jsonl, instead of questions")
    return run


def run(args: argparse.Namespace) -> int:
    from corpus.config import load_config
    from eval.run import main

    config = load_config().with_overrides(
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
        model_dir=Path(args.model_dir) if getattr(args, "model_dir", None) else None,
    )
    return main(args, config)
