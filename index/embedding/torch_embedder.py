"""Embedding with a local sentence-transformers folder (torch), used to build and check the ONNX export."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedding.protocol import (
    MANIFEST_NAME,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    PrefixedEmbedder,
    as_list,
    l2_normalise,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@contextmanager
def quiet_hf_progress() -> Iterator[None]:
    """No "Loading weights" or "Writing model shards" bar from transformers on every start and build."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()


class SentenceTransformerEmbedder(PrefixedEmbedder):
    """Embeds with a local sentence-transformers folder on CPU, loaded lazily on first use.

    Works with the folder ``build_model`` writes and with any other local sentence-transformers
    model (e.g. bge-small-zh-v1.5 with ``query_prefix=""`` or its instruction, ``passage_prefix=""``).
    Texts longer than ``max_seq_length`` tokens are truncated by sentence-transformers.
    """

    def __init__(
        self,
        model_dir: Path,
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
        batch_size: int = 32,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self._manifest: dict[str, Any] | None = None

    def _read_manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            path = self.model_dir / MANIFEST_NAME
            self._manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return self._manifest

    @property
    def model(self) -> SentenceTransformer:
        """The loaded ``SentenceTransformer`` (loaded once, on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if (
                        not (self.model_dir / "modules.json").is_file()
                        and not (self.model_dir / "config.json").is_file()
                    ):
                        raise FileNotFoundError(f"not a sentence-transformers model folder: {self.model_dir}")
                    from sentence_transformers import SentenceTransformer

                    with quiet_hf_progress():
                        self._model = SentenceTransformer(
                            str(self.model_dir), device="cpu", local_files_only=True
                        )
        return self._model

    @property
    def name(self) -> str:
        """Stable identifier: ``multilingual-e5-small-q4@<sha12>`` for built models, else the folder name."""
        name = self._read_manifest().get("name")
        return str(name) if name else self.model_dir.absolute().name

    @property
    def dimension(self) -> int:
        dim = self._read_manifest().get("dimension")
        if dim:
            return int(dim)
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        """Tokens (including ``<s>``/``</s>``) the model sees; longer inputs are truncated."""
        return int(self.model.max_seq_length)

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        items = as_list(texts)
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        out = self.model.encode(
            items, prompt=prefix, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True
        )
        return l2_normalise(out)  # once, here: a folder other than ours may have no Normalize module

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text exactly as given (no prefix added, special tokens included, no truncation)."""
        items = as_list(texts)
        if not items:
            return []
        enc = self.model.tokenizer(items, add_special_tokens=True, truncation=False, verbose=False)
        return [list(ids) for ids in enc["input_ids"]]
