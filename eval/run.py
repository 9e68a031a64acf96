"""`policyqa eval`: score policyqa and baselines on a gold file; write report.json, report.md, chart.png."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from eval.gold import GoldError, GoldQuestion, load_gold
from eval.scoring import Prediction, Score, score_one, summarize

DEFAULT_GOLD = Path("eval/gold/dev.jsonl")
SHOWN = ("accuracy", "citation@1", "citation@5", "mrr@10", "units_em", "lead_units_em", "lead_officials_em",
         "deadline_em", "value_hit", "list_recall", "list_precision", "refusal_precision", "refusal_recall",
         "latency_p50_ms", "latency_p95_ms")


def run_system(system, gold: list[GoldQuestion]) -> tuple[list[Score], list[Prediction]]:
    scores, preds = [], []
    for g in gold:
        try:
            pred = system(g.question)
        except Exception as exc:  # a failing system answer is scored, not fatal
            pred = Prediction(False, f"error: {exc.__class__.__name__}: {exc}", ())
        preds.append(pred)
        scores.append(score_one(g, pred))
    return scores, preds


def failures(gold: list[GoldQuestion], scores: list[Score], preds: list[Prediction]) -> list[dict]:
    out = []
    for g, s, p in zip(gold, scores, preds, strict=True):
        if not s.correct:
            out.append({
                "id": g.id, "type": g.type, "doc": g.doc, "question": g.question,
                "failed": sorted(k for k, v in s.checks.items() if not v),
                "expected": {k: v for k, v in asdict(g).items() if v not in (None, ()) and k not in ("id", "question", "type", "has_deadline", "doc", "klass")},
                "answer": p.answer[:300], "units": list(p.units), "lead_officials": list(p.lead_officials),
                "deadline": p.deadline, "top_citation": (p.citations[0][:120] if p.citations else None),
            })
    return out


def _cell(v, key: str = "") -> str:
    if v is None:
        return "–"
    if key.endswith("_ms"):
        return f"{v:.1f}"
    if isinstance(v, float) and v <= 1.0:
        return f"{v:.1%}"
    return str(v)


def write_markdown(path: Path, gold_path: str, results: dict, fails: list[dict]) -> None:
    names = list(results)
    lines = [f"# Evaluation report — `{gold_path}`", "", f"{time.strftime('%Y-%m-%d %H:%M')} · "
             f"{results[names[0]]['overall']['questions']} questions", "",
             "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in SHOWN:
        lines.append(f"| {key} | " + " | ".join(_cell(results[n]["overall"].get(key), key) for n in names) + " |")
    lines += ["", "## policyqa per type", "", "| type | n | accuracy | citation@1 | units | lead officials | value | refusal recall |",
              "|---|---|---|---|---|---|---|---|"]
    for t, m in results[names[0]]["per_type"].items():
        lines.append(f"| {t} | {m['questions']} | {_cell(m['accuracy'])} | {_cell(m['citation@1'])} | "
                     f"{_cell(m['units_em'])} | {_cell(m['lead_officials_em'])} | {_cell(m['value_hit'])} | "
                     f"{_cell(m['refusal_recall'])} |")
    for key, label in (("per_document", "document"), ("per_class", "class")):
        table = results[names[0]].get(key)
        if not table:
            continue
        lines += ["", f"## policyqa per {label}", "", f"| {label} | n | accuracy | citation@1 | units | lead units | deadline | value |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, m in table.items():
            lines.append(f"| {name} | {m['questions']} | {_cell(m['accuracy'])} | {_cell(m['citation@1'])} | "
                         f"{_cell(m['units_em'])} | {_cell(m['lead_units_em'])} | {_cell(m['deadline_em'])} | "
                         f"{_cell(m['value_hit'])} |")
    lines += ["", f"## policyqa failures ({len(fails)})", ""]
    for f in fails:
        lines.append(f"- **{f['id']}** ({f['type']}) {f['question']} — failed {', '.join(f['failed'])}; "
                     f"expected {json.dumps(f['expected'], ensure_ascii=False)}; got: {f['answer'][:160]!r}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_chart(path: Path, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["accuracy", "citation@1", "citation@5", "units_em", "value_hit", "refusal_recall"]
    names = list(results)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        vals = [results[name]["overall"].get(k) or 0 for k in keys]
        ax.bar([x + i * width for x in range(len(keys))], vals, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(keys))], keys)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of questions")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("policyqa vs baselines")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(gold_path: str | Path, systems: dict, out: Path | None) -> dict:
    gold = load_gold(gold_path)
    results: dict[str, dict] = {}
    fails: list[dict] = []
    for name, system in systems.items():
        scores, preds = run_system(system, gold)
        results[name] = summarize(scores)
        if name == "policyqa":
            fails = failures(gold, scores, preds)
    report = {"gold": str(gold_path), "results": results, "failures": fails}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        write_markdown(out / "report.md", str(gold_path), results, fails)
        write_chart(out / "chart.png", results)
    return report


def main(args: argparse.Namespace, config) -> int:
    if getattr(args, "search", None):
        from eval.search import main as search_main

        return search_main(args, config)
    if not args.out:  # the tracked reports in eval/ change only when asked (--out eval/report)
        import tempfile

        args.out = tempfile.mkdtemp(prefix="policyqa-eval-report-")
    gold_path = Path(args.gold) if args.gold else DEFAULT_GOLD
    try:
        load_gold(gold_path)
    except (GoldError, OSError) as exc:
        print(f"policyqa eval: {exc}", file=sys.stderr)
        return 2
    sources = [Path(d) for d in args.docs] if getattr(args, "docs", None) else None
    if sources:
        import dataclasses
        import tempfile

        config = dataclasses.replace(config, data_dir=Path(tempfile.mkdtemp(prefix="policyqa-eval-")))
    systems = _systems(args, config, sources)
    report = evaluate(gold_path, systems, Path(args.out))
    _print_summary(report)
    print(f"report: {Path(args.out) / 'report.md'}")
    return 0


def _systems(args: argparse.Namespace, config, sources: list[Path] | None) -> dict:
    """The systems to score: policyqa in process (built from `sources`, or the configured index) or over
    HTTP, and with --baselines the retrieval-only and vanilla-RAG baselines."""
    from qa.service import PolicyQA, load_embedder

    systems: dict = {}
    service = None
    if args.url:
        from eval.systems import policyqa_http

        systems["policyqa"] = policyqa_http(args.url, config.read_key or config.api_key)
    if not args.url or args.baselines:
        from index.errors import Unavailable

        service = PolicyQA(config, load_embedder(config))
        if sources:
            service.build(sources, progress=False)
        else:
            try:
                service.load()
            except Unavailable:
                service.build(progress=False)
        if not args.url:
            from eval.systems import policyqa_in_process

            systems["policyqa"] = policyqa_in_process(service)
            service.ask("预热")  # load the model before timing
    if args.baselines:
        from corpus import bundled_sources
        from eval.systems import VanillaRAG, retrieval_only

        systems["bm25_only"] = retrieval_only(service.index, "bm25")
        systems["dense_only"] = retrieval_only(service.index, "dense")
        systems["vanilla_rag"] = VanillaRAG(service.embedder, sources or bundled_sources())
    return systems


def _print_summary(report: dict) -> None:
    for name, res in report["results"].items():
        m = res["overall"]
        print(f"{name:12s} accuracy {m['accuracy']:.1%}  citation@1 {_cell(m['citation@1'])}  "
              f"refusal recall {_cell(m['refusal_recall'])}  p95 {m['latency_p95_ms']} ms")
    ours = report["results"].get("policyqa", {})
    for key in ("per_document", "per_class"):
        for name, m in ours.get(key, {}).items():
            print(f"  {name:42s} {m['questions']:4d}  accuracy {m['accuracy']:.1%}")
