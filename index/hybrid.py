"""Hybrid retrieval: BM25 over jieba tokens + dense vectors in FAISS, fused by RRF, with filters."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from corpus.aliases import AliasTable, load_aliases, names_unit, same_level_variants
from corpus.model import Clause, Document, Item, ParsedDocument
from corpus.normalize import normalize
from index.errors import IndexUnavailable
from index.store import (
    DenseBase,
    IndexManifest,
    bm25_text,
    dense_text,
    item_df_text,
    jsonl_lines,
    load_records,
    parsed_records,
    read_clause_tokens,
    read_item_df,
    read_item_df_by_doc,
    read_manifest,
    resolve_index,
    write_index,
)
from index.tokenize import ChineseTokenizer, dictionary_words, user_words_from_items, words_finder


@dataclass(frozen=True)
class Filters:
    """Retrieval filters. Units are matched alias-aware; every field is optional."""

    doc_ids: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    deadline: str | None = None
    kinds: tuple[str, ...] = ()
    parts: tuple[tuple[str, str], ...] = ()  # (doc id, section title): a part, annex or chapter of a document

    def active(self) -> bool:
        return bool(self.doc_ids or self.units or self.officials or self.deadline or self.kinds or self.parts)


SearchMode = Literal["hybrid", "bm25", "dense"]  # both channels fused, or one of them alone
SEARCH_MODES: tuple[SearchMode, ...] = get_args(SearchMode)


@dataclass(frozen=True)
class Hit:
    clause: Clause
    item: Item
    score: float
    bm25_score: float = 0.0
    dense_score: float = 0.0
    bm25_rank: int | None = None
    dense_rank: int | None = None


@dataclass(frozen=True)
class Candidates:
    """What each retrieval channel found: rows best first, and their scores (None: channel not asked)."""

    keyword: list[int] | None
    keyword_scores: np.ndarray | dict[int, float] | None  # every clause's BM25 score, or the found rows'
    dense: list[int] | None
    dense_scores: dict[int, float] | None

    def rankings(self) -> list[list[int]]:
        return [r for r in (self.keyword, self.dense) if r is not None]

    def keyword_score(self, row: int) -> float:
        if self.keyword_scores is None:
            return 0.0
        if isinstance(self.keyword_scores, dict):
            return self.keyword_scores.get(row, 0.0)
        return float(self.keyword_scores[row])


@dataclass
class HybridIndex:
    """A loaded index: records, BM25, dense vectors. Search is read-only and thread-safe."""

    folder: Path
    manifest: IndexManifest
    documents: list[Document]
    items: dict[str, Item]
    clauses: list[Clause]
    embeddings: np.ndarray
    dense: object | None
    bm25: object
    tokenizer: ChineseTokenizer
    embedder: object | None
    aliases: AliasTable = field(default_factory=load_aliases)
    query_cache: dict = field(default_factory=dict)  # query text → vector; officials ask alike
    item_names: dict = field(default_factory=dict)  # item id → (normalised section path, row name), filled as met
    item_df: tuple[int, dict[str, int]] | None = None  # stored item token counts (None: not given)
    retrieval: object | None = None  # a remote backend that answers `candidates` (index.milvus)
    _tables: _ClauseTables = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tables = _ClauseTables.build(self.clauses, self.items)

    @classmethod
    def load(cls, index_dir: Path, embedder=None, aliases: AliasTable | None = None) -> HybridIndex:
        """Load memory-mapped; refuse an index built by a different model than `embedder`."""
        import bm25s
        import faiss

        folder = resolve_index(index_dir)
        manifest = read_manifest(folder)
        if embedder is not None and manifest.model and manifest.model != embedder.name:
            raise IndexUnavailable(
                f"the index at {index_dir} was built with model {manifest.model!r}, "
                f"but the configured model is {embedder.name!r}: rebuild it with `policyqa build`"
            )
        documents, items, clauses = load_records(folder)
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        dense = None
        if (folder / "dense.faiss").exists():
            dense = faiss.read_index(str(folder / "dense.faiss"), faiss.IO_FLAG_MMAP)
        bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
        # plain ndarray views of the same mapped memory: every slice of an np.memmap runs memmap's
        # Python-level __array_finalize__, ≈ 20% of a /search request's CPU
        bm25.scores = {k: np.asarray(v) if isinstance(v, np.memmap) else v for k, v in bm25.scores.items()}
        words = (folder / "user_words.txt").read_text(encoding="utf-8").split("\n")
        return cls(
            folder=folder,
            manifest=manifest,
            documents=documents,
            items={i.item_id: i for i in items},
            clauses=clauses,
            embeddings=embeddings,
            dense=dense,
            bm25=bm25,
            tokenizer=ChineseTokenizer(w for w in words if w),
            embedder=embedder,
            aliases=aliases or load_aliases(),
            item_df=read_item_df(folder),
        )

    # ----- filters -------------------------------------------------------------------------
    def unit_variants(self, unit: str) -> frozenset[str]:
        """A unit's other names, at its own level: a bare name links 区发改委 and 市发改委 in the alias
        table (each document writes 发展改革委 for its own), but 国家发改委 is neither."""
        return same_level_variants(self.aliases, unit)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Which clauses pass the filters (None: no filter), from the tables built at load."""
        if filters is None or not filters.active():
            return None
        t = self._tables
        keep = np.ones(len(self.clauses), dtype=bool)
        if filters.doc_ids:
            keep &= np.isin(t.doc_code, [t.doc_codes[d] for d in filters.doc_ids if d in t.doc_codes])
        if filters.kinds:
            keep &= np.isin(t.kind_code, [t.kind_codes[k] for k in filters.kinds if k in t.kind_codes])
        if filters.parts:
            keep &= t.rows_of(t.by_section, [p for p in filters.parts if p in t.by_section])
        units = {v for u in filters.units for v in self.unit_variants(u)}
        if units:
            # a variant matches a clause unit that equals or contains it (省发展改革委 in 省发展改革委、省能源局)
            keep &= t.rows_of(t.by_unit, [u for u in t.by_unit if any(names_unit(v, u) for v in units)])
        if filters.officials:
            keep &= t.rows_of(t.by_official, [o for o in dict.fromkeys(filters.officials) if o in t.by_official])
        if filters.deadline:
            keep &= t.rows_of(t.by_deadline, [d for d in t.by_deadline if filters.deadline in d])
        return keep

    # ----- retrieval -----------------------------------------------------------------------
    def bm25_scores(self, query: str) -> np.ndarray:
        vocab = self.bm25.vocab_dict
        tokens = [t for t in self.tokenizer(query) if t in vocab]
        if not tokens:
            return np.zeros(len(self.clauses), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)[: len(self.clauses)]

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, shape (1, dim), from a small cache (a question is often asked again)."""
        vector = self.query_cache.get(query)
        if vector is None:
            vector = np.asarray(self.embedder.embed_queries([query]), dtype=np.float32)
            if len(self.query_cache) >= 4096:
                self.query_cache.clear()
            self.query_cache[query] = vector
        return vector

    def dense_scores(self, query: str, candidates: int, mask: np.ndarray | None) -> dict[int, float]:
        if self.embedder is None or not len(self.clauses):
            return {}
        vector = self.query_vector(query)
        params = None
        if mask is not None:
            selected = int(np.count_nonzero(mask))
            if not selected:
                return {}
            params = self._selector(mask)
            if params is None:
                return self._scan_scores(vector[0], np.flatnonzero(mask), candidates)
            candidates = min(candidates, selected)
        elif self.dense is None:
            return self._scan_scores(vector[0], np.arange(len(self.clauses)), candidates)
        sims, ids = self.dense.search(vector, min(candidates, len(self.clauses)), params=params)
        return {int(i): float(s) for i, s in zip(ids[0], sims[0], strict=True) if i >= 0}

    def _selector(self, mask: np.ndarray):
        """FAISS search parameters restricting a search to the masked rows (None: not supported).

        No copy of the masked embeddings (150 MB for a kind filter at 100,000 items). An IVF index
        probes every list: filters follow the clustering (project rows sit apart from tasks), so the
        lists nearest a question can hold no row that passes; scanning them all keeps the search
        exact, as it was, and costs 4–14 ms at 206,038 clauses (distances only for passing rows).
        """
        import faiss

        ivf = isinstance(self.dense, faiss.IndexIVF)
        if not ivf and not isinstance(self.dense, faiss.IndexFlat):
            return None  # a graph index (HNSW): a filtered graph search loses recall; scan instead
        bits = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        if ivf:
            params = faiss.SearchParametersIVF(sel=sel, nprobe=self.dense.nlist)
        else:
            params = faiss.SearchParameters(sel=sel)
        params.referenced_objects = [sel, bits]  # the selector points into `bits`: keep both alive
        return params

    def _scan_scores(self, vector: np.ndarray, rows: np.ndarray, candidates: int) -> dict[int, float]:
        """Exact scores of `rows`, in slices so the memory-mapped embeddings are never copied whole."""
        if not len(rows):
            return {}
        scores = np.empty(len(rows), dtype=np.float32)
        for start in range(0, len(rows), 16384):
            part = rows[start : start + 16384]
            scores[start : start + len(part)] = self.embeddings[part] @ vector
        top = np.argsort(-scores)[:candidates]
        return {int(rows[i]): float(scores[i]) for i in top}

    def candidates(self, query: str, filters: Filters | None = None, mode: SearchMode = "hybrid",
                   candidates: int = 100) -> Candidates:
        """The clauses each channel retrieves for a query under the filters, best first: BM25 (rows
        with a positive score, ties by row) and dense (ties by row). `mode` is hybrid, bm25 or dense.
        How to fuse and re-rank them is the caller's (qa.ranking). A remote `retrieval` backend (index.milvus)
        answers instead of the local arrays when one is attached."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        if self.retrieval is not None:
            return self.retrieval.candidates(self, query, filters, mode, candidates)
        mask = self.mask(filters)
        bm25 = self.bm25_scores(query) if mode in ("hybrid", "bm25") else None
        keyword: list[int] | None = None
        if bm25 is not None:
            scored = np.where(mask, bm25, 0) if mask is not None else bm25
            if len(scored) > candidates:
                top = np.argpartition(-scored, candidates)[:candidates]
                order = top[np.lexsort((top, -scored[top]))]  # by score, ties by row: deterministic
            else:
                order = np.lexsort((np.arange(len(scored)), -scored))
            keyword = [int(i) for i in order if scored[i] > 0]
        dense: dict[int, float] | None = None
        dense_order: list[int] | None = None
        if mode in ("hybrid", "dense"):
            dense = self.dense_scores(query, candidates, mask)
            dense_order = [i for i, _ in sorted(dense.items(), key=lambda kv: (-kv[1], kv[0]))]
        return Candidates(keyword, bm25, dense_order, dense)

    def row_names(self, item: Item) -> tuple[str, str]:
        """An item's normalised section path and table-row name, computed the first time it is a candidate."""
        names = self.item_names.get(item.item_id)
        if names is None:
            name = normalize(item.text.split("：")[0].split("。")[0]) if item.fields else ""
            names = self.item_names[item.item_id] = (normalize("".join(item.section)), name)
        return names

    def items_matching(self, filters: Filters) -> list[Item]:
        """Every item (not clause) matching the filters, in document order: for list questions."""
        mask = self.mask(filters)
        t = self._tables
        item_rows = t.item_row if mask is None else t.item_row[mask]
        item_rows = item_rows[item_rows >= 0]
        _, first = np.unique(item_rows, return_index=True)
        # in the order of each item's first matching clause, as the clauses are stored
        return [t.item_list[r] for r in item_rows[np.sort(first)]]

    def clauses_matching(self, filters: Filters) -> list[Clause]:
        """Every clause matching the filters, in document order."""
        mask = self.mask(filters)
        rows = range(len(self.clauses)) if mask is None else np.flatnonzero(mask)
        return [self.clauses[int(r)] for r in rows]


@dataclass(frozen=True)
class _ClauseTables:
    """Per-clause codes and value → rows tables, so filters are numpy operations, not clause loops."""

    doc_codes: dict[str, int]
    doc_code: np.ndarray  # int32 per clause
    kind_codes: dict[str, int]
    kind_code: np.ndarray
    by_section: dict[tuple[str, str], np.ndarray]  # (document, one of its first three section titles) → rows
    item_list: list[Item]
    item_row: np.ndarray  # int32 per clause: its item in item_list (-1: none)
    by_unit: dict[str, np.ndarray]  # a clause's unit as written → the rows that name it
    by_official: dict[str, np.ndarray]  # lead official (the clause's, else its item's) → rows
    by_deadline: dict[str, np.ndarray]
    n: int

    @classmethod
    def build(cls, clauses: Sequence[Clause], items: dict[str, Item]) -> _ClauseTables:
        doc_codes: dict[str, int] = {}
        kind_codes: dict[str, int] = {}
        by_section: dict[tuple[str, str], list[int]] = {}
        item_index = {item_id: r for r, item_id in enumerate(items)}
        n = len(clauses)
        doc_code = np.empty(n, dtype=np.int32)
        kind_code = np.empty(n, dtype=np.int32)
        item_row = np.empty(n, dtype=np.int32)
        by_unit: dict[str, list[int]] = {}
        by_official: dict[str, list[int]] = {}
        by_deadline: dict[str, list[int]] = {}
        for row, clause in enumerate(clauses):
            doc_code[row] = doc_codes.setdefault(clause.doc_id, len(doc_codes))
            kind_code[row] = kind_codes.setdefault(clause.kind, len(kind_codes))
            for title in clause.section[:3]:
                by_section.setdefault((clause.doc_id, title), []).append(row)
            r = item_index.get(clause.item_id, -1)
            item_row[row] = r
            for unit in dict.fromkeys(clause.units):
                by_unit.setdefault(unit, []).append(row)
            officials = clause.lead_officials or (items[clause.item_id].lead_officials if r >= 0 else ())
            for name in dict.fromkeys(officials):
                by_official.setdefault(name, []).append(row)
            if clause.deadline:
                by_deadline.setdefault(clause.deadline, []).append(row)

        def arrays(table: dict[str, list[int]]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v, dtype=np.int32) for k, v in table.items()}

        return cls(doc_codes, doc_code, kind_codes, kind_code, arrays(by_section), list(items.values()), item_row,
                   arrays(by_unit), arrays(by_official), arrays(by_deadline), n)

    def rows_of(self, table: dict[str, np.ndarray], keys: Sequence[str]) -> np.ndarray:
        """A mask of the rows listed under any of `keys`."""
        out = np.zeros(self.n, dtype=bool)
        for key in keys:
            out[table[key]] = True
        return out


def embed_clauses(embedder, clauses: list[Clause], batch: int = 32, progress: bool = True) -> np.ndarray:
    """Passage embeddings for clauses, with a progress bar showing clauses/s.

    Clauses are embedded in order of length so that a batch pads to similar lengths.
    """
    if embedder is None or not clauses:
        return np.zeros((len(clauses), 0), dtype=np.float32)
    from tqdm import tqdm

    texts = [dense_text(c) for c in clauses]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: np.ndarray | None = None
    with tqdm(total=len(order), desc="embedding clauses", unit=" clauses", disable=not progress,
              file=sys.stderr) as bar:
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            vectors = np.asarray(embedder.embed_passages([texts[i] for i in rows]), dtype=np.float32)
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            bar.update(len(rows))
    return out


def build_index(
    index_dir: Path,
    parsed: list[ParsedDocument],
    embedder,
    ivf_threshold: int = 50_000,
    progress: bool = True,
    embeddings: np.ndarray | None = None,
) -> Path:
    """Build an index from parsed documents, from scratch; `embeddings` when they were computed elsewhere
    (index.ray_build), in `parsed_records` order."""
    documents, items, clauses = parsed_records(parsed)
    if embeddings is None:
        embeddings = embed_clauses(embedder, clauses, progress=progress)
    return _write(index_dir, documents, items, clauses, embeddings, embedder, ivf_threshold)


def _write(index_dir, documents, items, clauses, embeddings, embedder, ivf_threshold,
           previous: Path | None = None, changed: frozenset[str] = frozenset(),
           previous_tokens: list[list[str] | None] | None = None, dense_base: DenseBase | None = None,
           written: dict[str, list[str]] | None = None) -> Path:
    """Write the index, re-tokenising only what an update can have changed: the documents in `changed`,
    and the clauses and documents of the others whose text contains a dictionary word that came or
    went (only those cut differently: index.tokenize). `previous_tokens` are the BM25 tokens the
    `previous` version stored, aligned with `clauses` (None for a new clause)."""
    words = sorted(user_words_from_items(items))
    tokenizer = ChineseTokenizer(words)
    model = embedder.name if embedder is not None else "none"
    known, tokens = None, None
    if previous is not None and (previous / "user_words.txt").exists():
        old_words = (previous / "user_words.txt").read_text(encoding="utf-8").split("\n")
        moved = dictionary_words(w for w in old_words if w) ^ dictionary_words(words)
        found = words_finder(moved)
        by_doc: dict[str, list[Item]] = {}
        for item in items:
            by_doc.setdefault(item.doc_id, []).append(item)
        known = {d: v for d, v in (read_item_df_by_doc(previous) or {}).items()
                 if d not in changed and d in by_doc
                 and not (moved and any(found(item_df_text(i)) for i in by_doc[d]))}
        if previous_tokens is not None:
            by_id = {i.item_id: i for i in items}
            tokens = [t if t is not None and not (moved and found(bm25_text(c, by_id))) else None
                      for c, t in zip(clauses, previous_tokens, strict=True)]
    return write_index(index_dir, documents, items, clauses, embeddings, model, words, ivf_threshold, tokenizer,
                       item_df_by_doc=known, clause_tokens=tokens, dense_base=dense_base, written=written)


def update_index(
    index_dir: Path,
    embedder,
    add: Sequence[ParsedDocument] = (),
    delete: Sequence[str] = (),
    ivf_threshold: int = 50_000,
    fail_after_embedding: Callable[[], None] | None = None,
    loaded: HybridIndex | None = None,
) -> Path:
    """Add, replace (same doc_id) or delete documents without re-embedding the others.

    The new version is written beside the current one and swapped in atomically; a failure at
    any point leaves the current index exactly as it was. `loaded` is the current version already
    in memory (a server's), whose records need not be read again.
    """
    folder = resolve_index(index_dir)
    manifest = read_manifest(folder)
    if embedder is not None and manifest.model not in (embedder.name, "none"):
        raise IndexUnavailable(f"the index was built with {manifest.model!r}, not {embedder.name!r}: rebuild it")
    if loaded is not None and loaded.folder == folder:
        documents, items, clauses = list(loaded.documents), list(loaded.items.values()), list(loaded.clauses)
    else:
        documents, items, clauses = load_records(folder)
    embeddings = np.load(folder / "embeddings.npy", allow_pickle=False)
    stored_tokens = read_clause_tokens(folder)
    drop = set(delete) | {p.document.doc_id for p in add}
    keep_rows = [i for i, c in enumerate(clauses) if c.doc_id not in drop]
    new_docs, new_items, new_clauses = parsed_records(list(add))
    new_vectors = embed_clauses(embedder, new_clauses, progress=False)
    if fail_after_embedding is not None:
        fail_after_embedding()
    kept = embeddings[keep_rows] if len(embeddings) else embeddings
    if new_vectors.size and kept.size:
        vectors = np.vstack([kept, new_vectors])
    else:
        vectors = new_vectors if new_vectors.size else kept
    return _write(
        index_dir,
        [d for d in documents if d.doc_id not in drop] + new_docs,
        [i for i in items if i.doc_id not in drop] + new_items,
        [clauses[i] for i in keep_rows] + new_clauses,
        vectors,
        embedder,
        ivf_threshold,
        previous=folder,
        changed=frozenset(drop),
        previous_tokens=None if stored_tokens is None else [stored_tokens[i] for i in keep_rows] + [None] * len(new_clauses),
        dense_base=DenseBase(folder / "dense.faiss", manifest.dense_trained_on or 0,
                             np.asarray(keep_rows, dtype=np.int64)) if manifest.dense == "ivf" else None,
        written=_kept_lines(folder, documents, items, clauses, keep_rows, drop),
    )


def _kept_lines(folder: Path, documents, items, clauses, keep_rows: list[int],
                drop: set[str]) -> dict[str, list[str]] | None:
    """The JSON lines of the kept records as `folder` has them, by file, or None if a file does not line
    up with its records (one line per record, in order)."""
    files = {
        "documents.jsonl": (documents, [i for i, d in enumerate(documents) if d.doc_id not in drop]),
        "items.jsonl": (items, [i for i, it in enumerate(items) if it.doc_id not in drop]),
        "clauses.jsonl": (clauses, keep_rows),
    }
    out = {}
    for name, (records, rows) in files.items():
        lines = jsonl_lines(folder / name)
        if len(lines) != len(records):
            return None
        out[name] = [lines[i] for i in rows]
    return out
