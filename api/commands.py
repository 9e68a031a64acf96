"""CLI subcommands other than `parse` (which needs no model)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from corpus.config import Config, load_config


def config_from(args: argparse.Namespace) -> Config:
    return load_config().with_overrides(
        data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None,
        model_dir=Path(args.model_dir) if getattr(args, "model_dir", None) else None,
    )


def _service(config: Config, load: bool = True, serving: bool = True):
    from qa.service import PolicyQA, load_embedder

    svc = PolicyQA(config, load_embedder(config, serving))
    if load:
        from index.errors import Unavailable

        try:
            svc.load()
        except Unavailable as exc:
            print(f"policyqa: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc
    return svc


def cmd_build(args: argparse.Namespace) -> int:
    config = config_from(args)
    started = time.time()
    svc = _service(config, load=False, serving=False)
    model_s = time.time() - started
    paths = [Path(p) for p in args.corpus] if args.corpus else None
    t0 = time.time()
    folder = svc.build(paths, ray=getattr(args, "ray", None))
    m = svc.index.manifest
    secs = time.time() - t0
    print(
        f"index built at {folder}: {m.counts['documents']} documents, {m.counts['items']} items, "
        f"{m.counts['clauses']} clauses in {secs:.1f} s ({m.counts['clauses'] / max(secs, 1e-9):.0f} clauses/s); "
        f"model ready in {model_s:.1f} s"
    )
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from index.embedding.build import build_model, verify_model

    config = config_from(args)
    info = verify_model(config.model_dir)
    if not info.ok and (not config.model_dir.exists() or (config.model_dir / "policyqa_model.json").exists()):
        # missing, damaged, or of an older format: built again (a model of one's own is only verified)
        print(f"building the model into {config.model_dir} …", file=sys.stderr)
        build_model(config.model_dir)
        info = verify_model(config.model_dir)
    print(f"model: {info.name}\npath: {info.path}\ndimension: {info.dimension}\nverified: {'yes' if info.ok else 'NO'}")
    for problem in info.problems:
        print(f"problem: {problem}")
    return 0 if info.ok else 1


def _filters(args):
    from index.hybrid import Filters

    f = Filters(
        doc_ids=(args.doc,) if getattr(args, "doc", None) else (),
        units=(args.unit,) if getattr(args, "unit", None) else (),
        officials=(args.official,) if getattr(args, "official", None) else (),
    )
    return f if f.active() else None


def cmd_ask(args: argparse.Namespace) -> int:
    config = config_from(args)
    svc = _service(config)
    answer = svc.ask(args.question, args.top_k)
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
    else:
        print(answer.answer)
        if not answer.found and answer.reason:
            print(f"（{answer.reason}）")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from qa.answer import target_text

    config = config_from(args)
    svc = _service(config)
    results = svc.search(args.query, _filters(args), args.limit)
    if args.json:
        rows = [
            {"item_id": r.item.item_id, "ref": r.ref, "text": r.item.text, "highlights": list(r.highlights),
             "targets": [asdict(t) for t in r.targets], "units": list(r.item.units), "score": r.score}
            for r in results
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not results:
        print("未找到")
    for n, r in enumerate(results, start=1):
        print(f"{n}. {r.highlights[0][:120]} {r.ref}")
        for t in r.targets[:4]:
            print(f"   目标：{t.text}（{target_text(t)}）")
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from api.export import task_row, tasks_csv, tasks_xlsx
    from qa.tasks import TaskQuery, list_tasks

    if args.format == "xlsx" and not args.out:
        print("xlsx 需要 --out 文件名", file=sys.stderr)
        return 2
    svc = _service(config_from(args))
    query = TaskQuery(unit=args.unit, official=args.official, doc_id=args.doc, kind=args.kind,
                      due_before=args.due_before, due_after=args.due_after, overdue_on=args.overdue_on,
                      q=args.query, role="lead" if args.lead else "any", sort=args.sort, limit=None)
    page = list_tasks(svc.index, query)
    if args.format in ("csv", "xlsx"):
        data = tasks_csv(page.tasks) if args.format == "csv" else tasks_xlsx(page.tasks)
        if args.out:
            Path(args.out).write_bytes(data)
            print(f"{page.total} 项任务已写入 {args.out}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
        return 0
    if args.format == "json":
        print(json.dumps([dict(zip(("document", "section", "item_no", "text", "lead_officials", "lead_units",
                                    "units", "deadline", "due_end", "targets"), task_row(t), strict=True))
                          | {"item_id": t.item.item_id, "ref": t.ref} for t in page.tasks], ensure_ascii=False, indent=2))
        return 0
    print(f"共 {page.total} 项")
    for n, t in enumerate(page.tasks, start=1):
        owner = "、".join(t.item.lead_units or t.item.units) or "（未列明）"
        when = f"；{t.item.deadline}" if t.item.deadline else ""
        print(f"{n}. {t.item.text.split('。')[0][:60]}（{owner}{when}）{t.ref}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from corpus import DocumentError, doc_id_from_path

    svc = _service(config_from(args), load=False)  # into an empty home too: the index begins with this file
    path = Path(args.file)
    try:
        parsed = svc.ingest_bytes(path.read_bytes(), args.doc_id or doc_id_from_path(path), str(path))
    except (DocumentError, OSError) as exc:
        print(f"policyqa ingest: {path}: {exc}", file=sys.stderr)
        return 2
    for w in parsed.warnings:
        print(f"warning: {w.where}: {w.message}", file=sys.stderr)
    print(f"{parsed.document.doc_id}: {len(parsed.items)} items, {len(parsed.clauses)} clauses indexed")
    if parsed.document.report is not None:
        for line in parsed.document.report.lines():
            print(line)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """MCP over stdio: stdout carries the protocol, so everything else goes to stderr."""
    from api.mcp_server import create_mcp

    svc = _service(config_from(args))
    create_mcp(lambda: svc).run("stdio")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = config_from(args)
    app = create_app(config, start_in_background=True)  # listens at once; /health is 503 until ready
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"policyqa: http://{host}:{args.port}/  (data: {config.data_dir}; GET /health says 503 with what "
          "is under way until the model and index are ready)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
