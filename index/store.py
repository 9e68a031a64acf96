"""The index folder: manifest.json, JSONL records, arrays; written atomically, loaded memory-mapped.

Layout of data/index (a symlink swapped atomically to the current version under data/indexes/):
    manifest.json   versions, model, dimension, counts, corpus checksum, dense index type
    documents.jsonl items.jsonl clauses.jsonl
    embeddings.npy  float32 (clauses × dimension), L2-normalised, memory-mapped on load
    dense.faiss     the FAISS index (flat inner product; above the size threshold IVF with float16 vectors)
    bm25/           bm25s arrays and vocabulary (JSON + .npy, no pickle)
    user_words.txt  the jieba user dictionary the tokens were made with
    item_df.json    {"n_items", "df"}: in how many items each token occurs (the question lexicon's idf)
    item_df_by_doc.jsonl  the same per document, so an update re-tokenises only the changed documents
    bm25_tokens.npy bm25_token_offsets.npy bm25_token_vocab.json  every clause's BM25 tokens (ids into
                    the vocabulary, clause i's at offsets[i]:offsets[i+1]), so that an update re-tokenises
                    only the clauses that changed or that contain a changed dictionary word
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from corpus.model import Clause, Document, Investment, Item, ParsedDocument, Target
from corpus.normalize import normalize
from index.errors import IndexUnavailable, StorageFull

FORMAT_VERSION = 2  # 2: clause tokens stored; jieba's total fixed (index.tokenize)


def _versions() -> dict[str, str]:
    out = {}
    for name in ("policyqa", "bm25s", "faiss-cpu", "jieba", "sentence-transformers", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def corpus_checksum(documents: list[Document]) -> str:
    h = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        h.update(f"{doc.doc_id}:{doc.checksum}\n".encode())
    return h.hexdigest()


def _write_jsonl(path: Path, records: Sequence[Any], to_dict: Callable[[Any], dict[str, Any]],
                 written: Sequence[str] = ()) -> None:
    """One JSON line per record; `written` are the lines of the first records as an earlier version
    wrote them (an update copies them instead of serialising 300,000 records again)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(written)
        for record in records[len(written):]:
            fh.write(json.dumps(to_dict(record), ensure_ascii=False) + "\n")


def jsonl_lines(path: Path) -> list[str]:
    """The record lines of a JSONL file, each with its newline (blank lines skipped, as on reading)."""
    return [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    # one line at a time: 300,000 parsed dicts held at once cost more than the records themselves
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


class Interner:
    """One shared object per distinct value (strings, tuples, Targets) while records are loaded.

    At 100,000 items most doc ids, kinds, section paths, unit and official lists, deadlines and
    targets repeat; JSON parsing makes a new object for each occurrence.
    """

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        # a table of our own, not sys.intern: it goes away with the loader instead of growing the
        # interpreter's table by every clause text
        return None if value is None else self._seen.setdefault(value, value)

    def strings(self, values: Iterable[str]) -> tuple[str, ...]:
        key = tuple(values)
        found = self._seen.get(key)
        if found is None:  # most tuples repeat: their strings are interned once, on first sight
            found = self._seen.setdefault(key, tuple(self(v) for v in key))
        return found


def _shared_fields(d: dict[str, Any], intern: Interner) -> dict[str, Any]:
    """JSON lists back to the tuples and Targets that items and clauses share, interned."""
    d = dict(d)
    for key in ("section", "lead_officials", "units", "lead_units"):
        d[key] = intern.strings(d[key])
    for key in ("item_id", "doc_id", "kind", "item_no", "deadline", "text", "norm"):
        d[key] = intern(d[key])
    d["targets"] = intern(tuple(intern(Target(**t)) for t in d["targets"]))
    return d


def document_from_dict(d: dict[str, Any]) -> Document:
    from corpus.model import ParseReport

    d = dict(d)
    report = d.pop("report", None)
    if report:
        report["warning_samples"] = tuple(report.get("warning_samples", ()))
        d["report"] = ParseReport(**report)
    return Document(**d)


def item_from_dict(d: dict[str, Any], intern: Interner | None = None) -> Item:
    intern = intern or Interner()
    d = _shared_fields(d, intern)
    d["fields"] = intern(tuple(intern.strings(f) for f in d["fields"]))
    d["investment"] = Investment(**d["investment"]) if d.get("investment") else None
    for key in ("project_code", "build_type", "progress"):
        d[key] = intern(d.get(key))
    d["unit_roles"] = intern(tuple(intern.strings(r) for r in d.get("unit_roles", ())))
    return Item(**d)


def clause_from_dict(d: dict[str, Any], intern: Interner | None = None) -> Clause:
    intern = intern or Interner()
    return Clause(**_shared_fields(d, intern))


def item_df_text(item: Item) -> str:
    """The text an item's tokens are counted from for the question lexicon's idf."""
    return item.norm + "".join(_normalized_heading(s) for s in item.section)


@functools.lru_cache(maxsize=8192)
def _normalized_heading(heading: str) -> str:
    # a corpus has a few thousand distinct headings, each shared by many items
    return normalize(heading)


def count_item_df(items: Iterable[Item], tokenizer: Callable[[str], list[str]]) -> dict[str, list]:
    """Per document: [number of items, {token: number of its items containing the token}]."""
    by_doc: dict[str, list] = {}
    for item in items:
        entry = by_doc.setdefault(item.doc_id, [0, Counter()])
        entry[0] += 1
        entry[1].update(set(tokenizer(item_df_text(item))))
    return by_doc


def read_item_df_by_doc(folder: Path) -> dict[str, list] | None:
    """The per-document counts stored with an index, or None if it predates them."""
    path = folder / "item_df_by_doc.jsonl"
    if not path.exists():
        return None
    return {row["doc_id"]: [row["n_items"], row["df"]] for row in _iter_jsonl(path)}


def read_item_df(folder: Path) -> tuple[int, dict[str, int]] | None:
    """(number of items, {token: number of items containing it}) stored with an index, or None."""
    path = folder / "item_df.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return int(data["n_items"]), data["df"]


def read_clause_tokens(folder: Path) -> list[list[str]] | None:
    """Every clause's BM25 tokens as stored with an index (in clause order), or None if it predates them."""
    if not (folder / "bm25_tokens.npy").exists():
        return None
    vocab = json.loads((folder / "bm25_token_vocab.json").read_text(encoding="utf-8"))
    ids = np.load(folder / "bm25_tokens.npy", allow_pickle=False).tolist()
    offsets = np.load(folder / "bm25_token_offsets.npy", allow_pickle=False).tolist()
    return [[vocab[t] for t in ids[a:b]] for a, b in zip(offsets, offsets[1:], strict=False)]


def _write_clause_tokens(folder: Path, tokens: list[list[str]]) -> None:
    vocab: dict[str, int] = {}
    ids = [vocab.setdefault(t, len(vocab)) for row in tokens for t in row]
    offsets = np.cumsum([0] + [len(row) for row in tokens], dtype=np.int64)
    np.save(folder / "bm25_tokens.npy", np.asarray(ids, dtype=np.int32), allow_pickle=False)
    np.save(folder / "bm25_token_offsets.npy", offsets, allow_pickle=False)
    (folder / "bm25_token_vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")


@dataclass(frozen=True)
class DenseBase:
    """The dense index of the version an update starts from: its file, the clause count it was trained
    on, and which of its rows the new version keeps (ascending; they become rows 0…len-1, and the new
    clauses follow)."""

    path: Path
    trained_on: int
    kept_rows: np.ndarray


def _updated_ivf(base: DenseBase | None, embeddings: np.ndarray, count: int):
    """(the previous IVF index with the dropped rows removed, the kept ones renumbered and the new ones
    added, the count it was trained on), or None where it cannot be kept: no IVF before, another
    dimension, or a corpus that has halved or doubled since its training."""
    import faiss

    if base is None or not base.path.exists() or not base.trained_on or not 0.5 <= count / base.trained_on <= 2:
        return None
    index = faiss.read_index(str(base.path))
    if not isinstance(index, faiss.IndexIVF) or index.d != embeddings.shape[1]:
        return None
    keep = np.zeros(index.ntotal, dtype=bool)
    keep[base.kept_rows] = True
    gone = np.flatnonzero(~keep).astype(np.int64)
    if len(gone):
        index.remove_ids(faiss.IDSelectorBatch(len(gone), faiss.swig_ptr(gone)))
    new_row = (np.cumsum(keep) - 1).astype(np.int64)
    lists = index.invlists
    for list_no in range(index.nlist):
        size = lists.list_size(list_no)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy()
        moved = new_row[ids]
        if not np.array_equal(ids, moved):
            codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * lists.code_size).copy()
            lists.update_entries(list_no, 0, size, faiss.swig_ptr(moved), faiss.swig_ptr(codes))
    if len(embeddings) > index.ntotal:
        index.add(np.ascontiguousarray(embeddings[index.ntotal:]))
    return index, base.trained_on


def write_index(
    index_dir: Path,
    documents: list[Document],
    items: list[Item],
    clauses: list[Clause],
    embeddings: np.ndarray,
    model_name: str,
    user_words: list[str],
    ivf_threshold: int,
    tokenizer,
    item_df_by_doc: dict[str, list] | None = None,
    clause_tokens: list[list[str] | None] | None = None,
    dense_base: DenseBase | None = None,
    written: dict[str, list[str]] | None = None,
) -> Path:
    """Write a complete index version and swap it in atomically; return its folder.

    `item_df_by_doc` holds item token counts already known for some documents, and `clause_tokens`
    the BM25 tokens already known for some clauses (None for the others), both as `tokenizer` would
    make them; everything else is tokenised here. `dense_base` is the previous version's IVF index, kept
    (trained once) for an update while the corpus stays within half to twice the size it was trained on.
    `written` holds, by file name, the JSON lines of the leading records as the previous version has them.
    """
    versions_root = index_dir.parent / "indexes"
    versions_root.mkdir(parents=True, exist_ok=True)
    version = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = versions_root / f".tmp-{version}"
    tmp.mkdir()
    try:
        written = written or {}
        _write_jsonl(tmp / "documents.jsonl", documents, asdict, written.get("documents.jsonl", ()))
        _write_jsonl(tmp / "items.jsonl", items, Item.to_dict, written.get("items.jsonl", ()))
        _write_jsonl(tmp / "clauses.jsonl", clauses, Clause.to_dict, written.get("clauses.jsonl", ()))
        (tmp / "user_words.txt").write_text("\n".join(user_words), encoding="utf-8")
        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        np.save(tmp / "embeddings.npy", embeddings, allow_pickle=False)
        dim = int(embeddings.shape[1]) if embeddings.ndim == 2 and embeddings.shape[0] else 0
        dense_type, trained_on = _write_dense(tmp, embeddings, len(clauses), ivf_threshold, dense_base) \
            if dim else ("flat", None)
        _write_bm25(tmp, clauses, items, tokenizer, clause_tokens)
        _write_item_df(tmp, items, tokenizer, item_df_by_doc or {})
        manifest = _manifest(documents, len(items), len(clauses), model_name, dim, dense_type, trained_on)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        final = versions_root / version
        os.replace(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise StorageFull() from exc
        raise
    try:
        _swap_symlink(index_dir, final)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            shutil.rmtree(final, ignore_errors=True)
            raise StorageFull() from exc
        raise
    _prune(versions_root, keep={final.name})
    return final


def _manifest(documents: list[Document], n_items: int, n_clauses: int, model_name: str, dim: int,
              dense_type: str, trained_on: int | None) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "versions": _versions(),
        "model": model_name,
        "dimension": dim,
        "dense": dense_type,
        "dense_trained_on": trained_on,
        "counts": {"documents": len(documents), "items": n_items, "clauses": n_clauses},
        "corpus_checksum": corpus_checksum(documents),
        "documents": {d.doc_id: d.checksum for d in documents},
    }


def _write_dense(folder: Path, embeddings: np.ndarray, count: int, ivf_threshold: int,
                 dense_base: DenseBase | None) -> tuple[str, int | None]:
    """dense.faiss: exact (flat) up to `ivf_threshold` clauses, IVF above it; (its type, what IVF trained on)."""
    import faiss

    dim = int(embeddings.shape[1])
    reused = _updated_ivf(dense_base, embeddings, count) if count > ivf_threshold else None
    if reused is not None:
        dense, trained_on = reused
        faiss.write_index(dense, str(folder / "dense.faiss"))
        return "ivf", trained_on
    if count <= ivf_threshold:
        dense = faiss.IndexFlatIP(dim)
        dense.add(embeddings)
        faiss.write_index(dense, str(folder / "dense.faiss"))
        return "flat", None
    # IVF, not HNSW: at 206k clauses IVF (nprobe 16) had recall@10 0.93 against HNSW's 0.24, and built in
    # 25 s (docs/performance.md). Vectors in float16: the same recall@10 (0.941 at nprobe 16, 206k
    # clauses), half the file a long-running server maps (155 MB)
    nlist = int(min(4096, max(64, 4 * np.sqrt(count))))
    dense = faiss.index_factory(dim, f"IVF{nlist},SQfp16", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    dense.train(embeddings[rng.choice(len(embeddings), min(len(embeddings), 64 * nlist), replace=False)])
    faiss.extract_index_ivf(dense).nprobe = 16
    dense.add(embeddings)
    faiss.write_index(dense, str(folder / "dense.faiss"))
    return "ivf", count


def _write_bm25(folder: Path, clauses: list[Clause], items: list[Item], tokenizer,
                clause_tokens: list[list[str] | None] | None) -> None:
    """bm25/ and the clauses' tokens, tokenising only the clauses whose tokens are not known."""
    import bm25s

    by_id = {i.item_id: i for i in items}
    known_tokens = clause_tokens or [None] * len(clauses)
    corpus_tokens = [known if known is not None else tokenizer(bm25_text(c, by_id))
                     for c, known in zip(clauses, known_tokens, strict=True)]
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens or [["∅"]], show_progress=False)
    retriever.save(str(folder / "bm25"), show_progress=False)
    _write_clause_tokens(folder, corpus_tokens)


def _write_item_df(folder: Path, items: list[Item], tokenizer, known: dict[str, list]) -> None:
    doc_ids = list(dict.fromkeys(i.doc_id for i in items))
    by_doc = {d: known[d] for d in doc_ids if d in known}
    by_doc.update(count_item_df((i for i in items if i.doc_id not in by_doc), tokenizer))
    total: dict[str, int] = {}
    rows = []
    for doc_id in doc_ids:
        n, df = by_doc[doc_id]
        rows.append({"doc_id": doc_id, "n_items": n, "df": df})
        for token, count in df.items():
            total[token] = total.get(token, 0) + count
    _write_jsonl(folder / "item_df_by_doc.jsonl", rows, dict)
    (folder / "item_df.json").write_text(json.dumps({"n_items": len(items), "df": total}, ensure_ascii=False),
                                         encoding="utf-8")


def _swap_symlink(link: Path, target: Path) -> None:
    tmp_link = link.parent / f".{link.name}.{uuid.uuid4().hex[:6]}"
    os.symlink(os.path.relpath(target, link.parent), tmp_link)
    moved = None
    if link.exists() and not link.is_symlink():
        # an old plain folder (a manual copy): move it beside the versions rather than delete it
        moved = target.parent / f"{link.name}-replaced-{uuid.uuid4().hex[:6]}"
        os.replace(link, moved)
    try:
        os.replace(tmp_link, link)
    except BaseException:
        if moved is not None and not os.path.lexists(link):
            os.rename(moved, link)  # put the old index back where it was
        tmp_link.unlink(missing_ok=True)
        raise


def free_space(index_dir: Path) -> None:
    """Remove every version but the current one (before a write on a disk that may be full)."""
    versions_root = index_dir.parent / "indexes"
    if not versions_root.is_dir():
        return
    current = resolve_index(index_dir).name
    for old in versions_root.iterdir():
        if old.name[:1].isdigit() and old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def remove_partial(index_dir: Path) -> int:
    """Remove the temp folders of interrupted writes; call only while holding the write lock (no live
    writer owns them then). Returns how many were removed."""
    versions_root = index_dir.parent / "indexes"
    removed = 0
    for leftover in versions_root.glob(".tmp-*") if versions_root.is_dir() else ():
        shutil.rmtree(leftover, ignore_errors=True)
        removed += 1
    return removed


def _prune(versions_root: Path, keep: set[str]) -> None:
    """Remove old versions and leftovers of interrupted builds; the newest previous one stays."""
    # versions are named by time (digits first); anything else (a replaced plain folder) is kept
    versions = sorted(p for p in versions_root.iterdir() if p.name[:1].isdigit() and p.name not in keep)
    for old in versions[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in versions_root.glob(".tmp-*"):
        if time.time() - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)


def bm25_text(clause: Clause, items: dict[str, Item]) -> str:
    """What BM25 sees for a clause: its section tail, its item's opening, its text and its owners."""
    item = items.get(clause.item_id)
    head = item.text[:40] if item is not None and not item.text.startswith(clause.text[:20]) else ""
    owners = " ".join(clause.units + clause.lead_officials)
    return " ".join(p for p in (clause.section[-1] if clause.section else "", head, clause.text, owners) if p)


def dense_text(clause: Clause) -> str:
    """What the embedder sees for a clause (the passage prefix is added by the embedder)."""
    tail = clause.section[-1] if clause.section else ""
    return f"{tail}：{clause.text}" if tail else clause.text


def resolve_index(index_dir: Path) -> Path:
    """The index folder to load: the link's target, or, if the link is missing (a crash between
    two renames), the newest complete version beside it."""
    if (index_dir / "manifest.json").exists():
        return index_dir.resolve()
    versions = index_dir.parent / "indexes"
    if versions.is_dir():
        complete = [p for p in versions.iterdir() if not p.name.startswith(".") and (p / "manifest.json").exists()]
        if complete:
            return max(complete, key=lambda p: (p / "manifest.json").stat().st_mtime)
    return index_dir


@dataclass(frozen=True)
class IndexManifest:
    """What an index folder's manifest.json says about it."""

    format_version: int
    model: str
    dimension: int
    dense: str  # "flat" or "ivf"
    dense_trained_on: int | None  # clauses the IVF index was trained on
    counts: dict[str, int]  # documents, items, clauses
    corpus_checksum: str
    documents: dict[str, str]  # doc_id -> checksum
    created: str = ""
    versions: dict[str, str] | None = None


def read_manifest(index_dir: Path) -> IndexManifest:
    """The manifest of an index folder; an index of an older format is refused (it must be rebuilt)."""
    path = index_dir / "manifest.json"
    if not path.exists():
        raise IndexUnavailable(f"no index at {index_dir}: run `policyqa build` first")
    raw = json.loads(path.read_text(encoding="utf-8"))
    version = raw.get("format_version", 1)
    if version != FORMAT_VERSION:
        raise IndexUnavailable(f"the index at {index_dir} has format {version}, this policyqa reads "
                               f"format {FORMAT_VERSION}: run `policyqa build`")
    try:
        return IndexManifest(
            format_version=version, model=raw["model"], dimension=int(raw["dimension"]), dense=raw["dense"],
            dense_trained_on=raw.get("dense_trained_on"), counts=dict(raw["counts"]),
            corpus_checksum=raw["corpus_checksum"], documents=dict(raw["documents"]),
            created=raw.get("created", ""), versions=raw.get("versions"))
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexUnavailable(f"the manifest of the index at {index_dir} is damaged ({exc!r}): "
                               "run `policyqa build`") from exc


def load_records(folder: Path) -> tuple[list[Document], list[Item], list[Clause]]:
    """Documents, items and clauses of an index folder; repeated values are shared, not copied."""
    intern = Interner()
    documents = [document_from_dict(d) for d in _iter_jsonl(folder / "documents.jsonl")]
    items = [item_from_dict(d, intern) for d in _iter_jsonl(folder / "items.jsonl")]
    clauses = [clause_from_dict(d, intern) for d in _iter_jsonl(folder / "clauses.jsonl")]
    return documents, items, clauses


def parsed_records(parsed: list[ParsedDocument]) -> tuple[list[Document], list[Item], list[Clause]]:
    return (
        [p.document for p in parsed],
        [i for p in parsed for i in p.items],
        [c for p in parsed for c in p.clauses],
    )
