"""An index build on Ray: documents parsed by Ray tasks, clauses embedded by an actor pool (Ray Data),
each actor loading the model once; the index version is then written as `build_index` writes it.

The same code runs on a laptop (a local Ray started for the build, bound to 127.0.0.1, no dashboard,
no usage statistics) and on a cluster (`address` of its head, "ray://host:10001" or "auto").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from corpus.model import ParsedDocument
from index.store import dense_text, parsed_records

_ROOT = Path(__file__).resolve().parents[1]


def _start(address: str | None, num_cpus: int | None) -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage statistics sent anywhere
    import ray

    if ray.is_initialized():
        return ray
    # workers import policyqa from the same folder as the driver
    runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in (str(_ROOT), os.environ.get(
        "PYTHONPATH", "")) if p), "RAY_USAGE_STATS_ENABLED": "0"}}
    if address:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                 runtime_env=runtime_env, log_to_driver=False)
    return ray


class _Embed:
    """One actor of the pool: the model, loaded once, embedding batches of clause texts."""

    def __init__(self, embedder_factory: Callable[[], Any]) -> None:
        self.embedder = embedder_factory()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        vectors = np.asarray(self.embedder.embed_passages(list(batch["text"])), dtype=np.float32)
        return {"row": batch["row"], "vector": list(vectors)}


def _parse(data: bytes, doc_id: str, name: str) -> ParsedDocument:
    from corpus.parse import parse_document
    from corpus.read import read_bytes

    return parse_document(read_bytes(data), doc_id, name)  # as corpus.parse.parse_file reads a file


def ray_parse_and_embed(paths: Sequence[Path], doc_ids: Sequence[str], embedder_factory: Callable[[], Any],
                        address: str | None = None, actors: int = 2, batch_size: int = 32,
                        num_cpus: int | None = None) -> tuple[list[ParsedDocument], np.ndarray]:
    """Parse the files and embed their clauses on Ray; the parsed documents in the order given and the
    clause embeddings in `parsed_records` order."""
    ray = _start(address, num_cpus)
    parse = ray.remote(_parse)
    parsed = ray.get([parse.remote(Path(p).read_bytes(), d, str(p)) for p, d in zip(paths, doc_ids, strict=True)])
    _, _, clauses = parsed_records(parsed)
    if not clauses:
        return parsed, np.zeros((0, 0), dtype=np.float32)
    # passages sorted by length, so that a batch pads to similar lengths (as embed_clauses does)
    texts = [dense_text(c) for c in clauses]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    dataset = ray.data.from_items([{"row": i, "text": texts[i]} for i in order])
    embedded = dataset.map_batches(_Embed, fn_constructor_kwargs={"embedder_factory": embedder_factory},
                                   batch_size=batch_size, concurrency=max(1, actors), batch_format="numpy")
    out: np.ndarray | None = None
    for row in embedded.iter_rows():
        vector = np.asarray(row["vector"], dtype=np.float32)
        if out is None:
            out = np.zeros((len(texts), len(vector)), dtype=np.float32)
        out[int(row["row"])] = vector
    assert out is not None
    return parsed, out


def shutdown() -> None:
    """Stop the local Ray a build started (a cluster keeps running)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
