"""The policyqa command line: build | ask | search | tasks | serve | parse | ingest | model | mcp, and what entry points add (eval)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

_ADDED: dict[str, Callable[[argparse.Namespace], int]] = {}  # commands added by entry points


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _print_blocks(path: str) -> None:
    """The blocks a document was read into, flattened tables rebuilt: what the parser saw."""
    from corpus.blocks import Table
    from corpus.flattened import rebuild_flattened
    from corpus.read import read_path

    source = read_path(path)
    print(f"# {source.kind}  title={source.meta.title!r} number={source.meta.number!r} date={source.meta.date!r}")
    for block in rebuild_flattened(source.blocks):
        where = block.location.describe()
        if isinstance(block, Table):
            kind = "table (rebuilt from paragraphs)" if block.flattened else "table"
            print(f"[{where}] {kind}: {len(block.rows)} rows")
            for row in block.rows:
                mark = "H " if row.header else ("G " if row.group else "  ")
                cells = " | ".join(("^" if c.inherited else "") + c.text[:30] for c in row.cells)
                print(f"    {mark}{cells}")
        else:
            print(f"[{where}] {type(block).__name__.lower()}: {block.text[:100]}")


def cmd_parse(args: argparse.Namespace) -> int:
    from corpus import DocumentError, parse_file

    try:
        if args.blocks:
            _print_blocks(args.file)
            return 0
        parsed = parse_file(args.file, args.doc_id)
    except DocumentError as exc:
        print(f"policyqa parse: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.clauses:
        for clause in parsed.clauses:
            _print_json(clause.to_dict())
    else:
        for item in parsed.items:
            _print_json(item.to_dict())
    for warning in parsed.warnings:
        print(f"warning: {warning.where}: {warning.message}", file=sys.stderr)
    doc = parsed.document
    print(
        f"{doc.doc_id}: {doc.title} {doc.number or ''} — {len(parsed.items)} items, "
        f"{len(parsed.clauses)} clauses, {len(parsed.warnings)} warnings",
        file=sys.stderr,
    )
    if doc.report is not None:
        for line in doc.report.lines():
            print(line, file=sys.stderr)
    return 0


def _commands() -> dict:
    from api import commands

    return {
        "build": commands.cmd_build,
        "ask": commands.cmd_ask,
        "search": commands.cmd_search,
        "tasks": commands.cmd_tasks,
        "serve": commands.cmd_serve,
        "mcp": commands.cmd_mcp,
        "ingest": commands.cmd_ingest,
        "model": commands.cmd_model,
    }


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policyqa", description="Cited answers over Chinese policy documents.")
    parser.add_argument("--data-dir", help="data folder (index, originals); default $POLICYQA_HOME, else the "
                        "per-user data folder (~/.local/share/policyqa)")
    parser.add_argument("--model-dir", help="sentence-transformers model folder; default $POLICYQA_MODEL_DIR")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse a document and print its items as JSON lines")
    p.add_argument("file")
    p.add_argument("--doc-id", help="document id (default: the file name)")
    p.add_argument("--clauses", action="store_true", help="print clause-level chunks instead of items")
    p.add_argument("--blocks", action="store_true",
                   help="print the blocks the document was read into (paragraphs, tables, merged cells)")

    p = sub.add_parser("build", help="build the model (if missing) and the index of the bundled corpus")
    p.add_argument("--corpus", nargs="*", help="document files (default: the bundled corpus)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="parse and embed on Ray: a cluster's address, or none for a local Ray")

    p = sub.add_parser("ask", help="ask a question in Chinese")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the full JSON answer")
    p.add_argument("--top-k", type=int, default=5)

    p = sub.add_parser("search", help="keyword search over items, with targets")
    p.add_argument("query")
    p.add_argument("--unit")
    p.add_argument("--official")
    p.add_argument("--doc")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("tasks", help="the 台账: every task of a unit, official, document or deadline range")
    p.add_argument("--unit", help="a unit, by any of its names")
    p.add_argument("--lead", action="store_true", help="only the tasks the unit leads")
    p.add_argument("--official")
    p.add_argument("--doc")
    p.add_argument("--kind")
    p.add_argument("--due-before", type=_iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--due-after", type=_iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--overdue-on", type=_iso_date, metavar="YYYY-MM-DD", help="past its deadline on this day")
    p.add_argument("-q", "--query", help="words the task must contain")
    p.add_argument("--sort", choices=("document", "due"), default="document")
    p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table")
    p.add_argument("--out", help="write to this file (needed for xlsx)")

    sub.add_parser("mcp", help="an MCP server over stdio (tools ask, search, tasks, get_item, list_documents)")

    p = sub.add_parser("serve", help="start the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("ingest", help="add or replace one document in the index")
    p.add_argument("file")
    p.add_argument("--doc-id")

    sub.add_parser("model", help="build (if missing) and verify the embedding model; print where it is")

    # commands other packages add through the `policyqa.commands` entry point (eval: `policyqa eval`)
    for entry in entry_points(group="policyqa.commands"):
        _ADDED[entry.name] = entry.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import signal

    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `policyqa parse … | head` ends quietly
    args = make_parser().parse_args(argv)
    if args.command == "parse":
        return cmd_parse(args)
    return {**_commands(), **_ADDED}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
