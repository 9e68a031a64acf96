"""A deterministic fake embedder for tests where the model is not the subject."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from index.embedding.protocol import PrefixedEmbedder, as_list


class HashEmbedder(PrefixedEmbedder):
    """Deterministic fake: signed hashing of character 1–3-grams into ``dimension`` dims, L2-normalised."""

    def __init__(self, dimension: int = 64, query_prefix: str = "", passage_prefix: str = "") -> None:
        if dimension < 2:
            raise ValueError("dimension must be >= 2")
        self._dimension = dimension
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix

    @property
    def name(self) -> str:
        return f"hash-ngram-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dimension, np.float32)
        for n in (1, 2, 3):
            for i in range(len(text) - n + 1):
                h = int.from_bytes(
                    hashlib.blake2b(text[i : i + n].encode("utf-8"), digest_size=8).digest(), "little"
                )
                v[h % self._dimension] += 1.0 if (h >> 63) & 1 else -1.0
        if not v.any():
            v[0] = 1.0  # empty (or fully cancelled) text: a fixed unit vector
        return v / np.linalg.norm(v)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        items = as_list(texts)
        out = np.zeros((len(items), self._dimension), np.float32)
        for i, t in enumerate(items):
            out[i] = self._vector(prefix + t)
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """One token per character (its codepoint)."""
        return [[ord(c) for c in t] for t in as_list(texts)]
