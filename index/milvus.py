"""Retrieval on Milvus: the keyword (BM25) and dense channels of an index, served by a Milvus collection.

The index folder stays the record of the corpus (documents, items, clauses, their fields); a collection
holds what retrieval needs per clause: its BM25 text, its vector and the filter fields. `candidates`
answers exactly the question the local backend answers (`HybridIndex.candidates`), so qa ranks the
same way whichever backend found the candidates.

- The BM25 text is the clause's tokens as policyqa cuts them (index.tokenize, with the corpus's unit
  names as words), joined by spaces; the collection's analyzer only splits on the spaces (milvus-lite's
  `standard`, a cluster's `whitespace`: POLICYQA_MILVUS_ANALYZER), and Milvus scores BM25 itself.
- A build writes a new collection and moves the alias to it (atomic for readers), then drops the old
  one; an update changes the aliased collection in place: the clauses of the documents that went,
  those that came, and those whose tokens a new dictionary word changed.
- Milvus knows clauses by `clause_id`; a clause it returns that the loaded records do not have (a
  write between the two) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpus.aliases import names_unit
from corpus.model import Clause, Item
from index.errors import IndexUnavailable
from index.store import load_records, read_clause_tokens

STATE_FILE = "milvus.json"  # in the data folder: which index version the collection holds
_BATCH = 512
_MAX_LIST = 256  # units, officials or parts of one clause kept as filter values


@dataclass(frozen=True)
class MilvusSettings:
    uri: str  # a Milvus server ("http://host:19530") or a milvus-lite file ("…/milvus.db")
    token: str = ""
    alias: str = "policyqa"
    analyzer: str = '{"tokenizer": "standard"}'

    def client(self) -> Any:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:  # the optional extra is not installed
            raise IndexUnavailable("POLICYQA_BACKEND=milvus needs pymilvus (and milvus-lite for a local file): "
                                   "pip install 'policyqa[milvus]'") from exc
        return MilvusClient(self.uri, token=self.token) if self.token else MilvusClient(self.uri)


def part_key(doc_id: str, title: str) -> str:
    """A section title of a document as a short filter value (titles run to hundreds of characters)."""
    return hashlib.blake2b(f"{doc_id}\x1f{title}".encode(), digest_size=8).hexdigest()


def _officials(clause: Clause, items: dict[str, Item]) -> tuple[str, ...]:
    item = items.get(clause.item_id)
    return clause.lead_officials or (item.lead_officials if item is not None else ())


def clause_rows(clauses: Sequence[Clause], items: dict[str, Item], tokens: Sequence[Sequence[str]],
                embeddings: np.ndarray) -> list[dict[str, Any]]:
    """The collection's rows for clauses: BM25 text, vector and filter fields."""
    rows = []
    for row, (clause, toks) in enumerate(zip(clauses, tokens, strict=True)):
        rows.append({
            "cid": clause.clause_id,
            "text": " ".join(toks) or "∅",
            "vec": np.asarray(embeddings[row], dtype=np.float32).tolist(),
            "doc_id": clause.doc_id,
            "kind": clause.kind,
            "parts": [part_key(clause.doc_id, t) for t in dict.fromkeys(clause.section[:3])],
            "units": list(dict.fromkeys(clause.units))[:_MAX_LIST],
            "officials": list(dict.fromkeys(_officials(clause, items)))[:_MAX_LIST],
            "deadline": clause.deadline or "",
        })
    return rows


class MilvusStore:
    """One policyqa corpus in Milvus: an alias over the collection of the current index version."""

    def __init__(self, settings: MilvusSettings, data_dir: Path) -> None:
        self.settings = settings
        self.state_path = Path(data_dir) / STATE_FILE
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.settings.client()
        return self._client

    # ----- state -----------------------------------------------------------------------------
    def synced_version(self) -> str | None:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            return None

    def _record(self, collection: str, version: str) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"collection": collection, "version": version}), encoding="utf-8")
        tmp.replace(self.state_path)

    # ----- writes ----------------------------------------------------------------------------
    def _create(self, name: str, dimension: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        schema = c.create_schema(auto_id=False)
        schema.add_field("cid", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params=json.loads(self.settings.analyzer))
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=max(dimension, 2))
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("kind", DataType.VARCHAR, max_length=64)
        for name_ in ("parts", "units", "officials"):
            schema.add_field(name_, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=_MAX_LIST,
                             max_length=512)
        schema.add_field("deadline", DataType.VARCHAR, max_length=512)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                     output_field_names=["sparse"]))
        params = c.prepare_index_params()
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        params.add_index(field_name="vec", index_type="HNSW", metric_type="IP",
                         params={"M": 16, "efConstruction": 200})
        c.create_collection(name, schema=schema, index_params=params)

    def _insert(self, name: str, rows: list[dict[str, Any]], upsert: bool = False) -> None:
        write = self.client.upsert if upsert else self.client.insert
        for start in range(0, len(rows), _BATCH):
            write(name, rows[start: start + _BATCH])

    def publish(self, folder: Path) -> str:
        """Load an index version into a new collection and point the alias at it; returns its name."""
        documents, items, clauses = load_records(folder)
        by_id = {i.item_id: i for i in items}
        tokens = read_clause_tokens(folder) or [[] for _ in clauses]
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        dimension = int(embeddings.shape[1]) if embeddings.ndim == 2 and len(embeddings) else 2
        name = f"{self.settings.alias}_{time.strftime('%Y%m%d_%H%M%S')}_{hashlib.blake2b(folder.name.encode(), digest_size=3).hexdigest()}"
        self._create(name, dimension)
        self._insert(name, clause_rows(clauses, by_id, tokens, embeddings))
        c = self.client
        if self.settings.alias in c.list_aliases().get("aliases", []):
            c.alter_alias(collection_name=name, alias=self.settings.alias)
        else:
            c.create_alias(collection_name=name, alias=self.settings.alias)
        self._record(name, folder.name)
        for other in c.list_collections():  # the previous version, and any a crash left behind
            if other != name and other.startswith(self.settings.alias + "_"):
                c.drop_collection(other)
        return name

    def sync(self, previous: Path | None, folder: Path) -> None:
        """Make the collection hold `folder`'s version: in place from `previous` when the collection holds
        it, else a full publish."""
        c = self.client
        if previous is None or self.synced_version() != previous.name \
                or self.settings.alias not in c.list_aliases().get("aliases", []):
            self.publish(folder)
            return
        _, old_items, old_clauses = load_records(previous)
        _, items, clauses = load_records(folder)
        old_tokens = read_clause_tokens(previous) or [[] for _ in old_clauses]
        tokens = read_clause_tokens(folder) or [[] for _ in clauses]
        old_by_id = {i.item_id: i for i in old_items}
        by_id = {i.item_id: i for i in items}
        old = {cl.clause_id: (cl, t) for cl, t in zip(old_clauses, old_tokens, strict=True)}
        changed = [row for row, (cl, t) in enumerate(zip(clauses, tokens, strict=True))
                   if cl.clause_id not in old or old[cl.clause_id][1] != t or old[cl.clause_id][0] != cl
                   or _officials(cl, by_id) != _officials(old[cl.clause_id][0], old_by_id)]
        gone = set(old) - {cl.clause_id for cl in clauses}
        if gone:
            for start in range(0, len(gone), _BATCH):
                ids = sorted(gone)[start: start + _BATCH]
                c.delete(self.settings.alias, ids=ids)
        if changed:
            embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
            rows = clause_rows([clauses[r] for r in changed], by_id, [tokens[r] for r in changed],
                               embeddings[changed])
            self._insert(self.settings.alias, rows, upsert=True)
        self._record(c.describe_alias(self.settings.alias).get("collection_name", ""), folder.name)


class MilvusRetrieval:
    """`candidates` for a loaded index from the collection behind the alias."""

    def __init__(self, store: MilvusStore, index: Any) -> None:
        self.store = store
        self.row_of = {c.clause_id: r for r, c in enumerate(index.clauses)}

    def expression(self, index: Any, filters: Any) -> str | None:
        """The filters as a Milvus boolean expression; "" when nothing can pass, None when there is no filter."""
        if filters is None or not filters.active():
            return None
        t = index._tables
        parts: list[str] = []

        def any_of(field: str, values: Sequence[str], array: bool = False) -> None:
            values = list(dict.fromkeys(values))
            listed = json.dumps(values, ensure_ascii=False)
            parts.append(f"array_contains_any({field}, {listed})" if array else f"{field} in {listed}")

        if filters.doc_ids:
            any_of("doc_id", filters.doc_ids)
        if filters.kinds:
            any_of("kind", filters.kinds)
        if filters.parts:
            any_of("parts", [part_key(d, s) for d, s in filters.parts], array=True)
        variants = {v for u in filters.units for v in index.unit_variants(u)}
        if variants:
            any_of("units", [u for u in t.by_unit if any(names_unit(v, u) for v in variants)], array=True)
        if filters.officials:
            any_of("officials", filters.officials, array=True)
        if filters.deadline:
            any_of("deadline", [d for d in t.by_deadline if filters.deadline in d])
        if any(p.endswith("[])") or p.endswith(" in []") for p in parts):
            return ""
        return " and ".join(parts)

    def _search(self, data: list[Any], field: str, metric: str, limit: int, expr: str | None) -> dict[int, float]:
        kwargs: dict[str, Any] = {"filter": expr} if expr else {}
        result = self.store.client.search(self.store.settings.alias, data=data, anns_field=field, limit=limit,
                                          output_fields=["cid"], search_params={"metric_type": metric}, **kwargs)
        found: dict[int, float] = {}
        for hit in result[0] if result else ():
            row = self.row_of.get(hit.get("cid") or hit.get("entity", {}).get("cid"))
            if row is not None:
                # Milvus reports BM25 as a distance (lower is better); policyqa's scores rise with relevance
                score = float(hit["distance"])
                found[row] = -score if metric == "BM25" and score < 0 else score
        return found

    def candidates(self, index: Any, query: str, filters: Any, mode: str, candidates: int) -> Any:
        from index.hybrid import Candidates

        expr = self.expression(index, filters)
        if expr == "" or not index.clauses:
            return Candidates([] if mode != "dense" else None, {} if mode != "dense" else None,
                              [] if mode != "bm25" else None, {} if mode != "bm25" else None)
        keyword: list[int] | None = None
        keyword_scores: dict[int, float] | None = None
        if mode in ("hybrid", "bm25"):
            tokens = [t for t in index.tokenizer(query) if t.strip()]
            keyword_scores = self._search([" ".join(tokens)], "sparse", "BM25", candidates, expr) if tokens else {}
            keyword = [r for r, s in sorted(keyword_scores.items(), key=lambda kv: (-kv[1], kv[0])) if s > 0]
        dense: dict[int, float] | None = None
        dense_order: list[int] | None = None
        if mode in ("hybrid", "dense") and index.embedder is not None:
            vector = index.query_vector(query)
            dense = self._search([vector[0].tolist()], "vec", "IP", candidates, expr)
            dense_order = [r for r, _ in sorted(dense.items(), key=lambda kv: (-kv[1], kv[0]))]
        elif mode in ("hybrid", "dense"):
            dense, dense_order = {}, []
        return Candidates(keyword, keyword_scores, dense_order, dense)

