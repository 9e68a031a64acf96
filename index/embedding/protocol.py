"""What every embedder shares: the interface the index needs, the E5 prefixes, small helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

MANIFEST_NAME = "policyqa_model.json"  # written by build_model beside a model's files
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
PROMPTS = {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX}  # as sentence-transformers names them


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from an embedding model. Outputs are float32, L2-normalised, shape (n, dim)."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]: ...


def as_list(texts: Sequence[str]) -> list[str]:
    """The texts as a list; a bare string is refused (it would embed one character per text)."""
    if isinstance(texts, str):
        raise TypeError("expected a sequence of strings, got a single str")
    return list(texts)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class PrefixedEmbedder:
    """``embed_queries`` and ``embed_passages`` as one ``_embed(texts, prefix)`` with the E5-style prefix."""

    query_prefix: str
    passage_prefix: str

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        raise NotImplementedError

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries (with ``query_prefix``)."""
        return self._embed(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages (with ``passage_prefix``)."""
        return self._embed(texts, self.passage_prefix)
