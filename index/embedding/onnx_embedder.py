"""The built embedding model run by ONNX Runtime: sentence-transformers' numbers without torch.

``export_onnx`` adds an ``onnx/`` folder to a model folder written by ``build_model``:

- ``onnx/encoder.onnx``: the transformer, mean pooling and L2 normalisation, fed *token
  embeddings* (``inputs_embeds``) and the attention mask;
- the token-embedding table (250k × 384 fp32, 384 MB) is not copied: it is read from the model's
  own ``model.safetensors`` (``embeddings.word_embeddings.weight``), so the weights are on disk once.

The table lives outside the graph and is read row by row (``TokenTable``): a query touches a few
dozen rows, so the serving process keeps ≈ 90 MB of weights resident instead of 470 MB, and it never
imports torch; the tokenizer is read compactly (index/embedding/unigram.py). ``OnnxEmbedder`` agrees with
``SentenceTransformerEmbedder`` to cosine ≥ 0.9999
(checked at export and by tests/test_onnx_embedder.py) and embeds a query about twice as fast on
one core (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import struct
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.protocol import (
    MANIFEST_NAME,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    Embedder,
    PrefixedEmbedder,
    as_list,
    l2_normalise,
)
from index.embedding.unigram import CompactUnigram

ENCODER_FILE = "onnx/encoder.onnx"
WEIGHTS_FILE = "model.safetensors"
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"  # the table's tensor in WEIGHTS_FILE
_DTYPES = {"F32": "<f4", "F16": "<f2"}
OPSET = 17
EXPORT_TOLERANCE = 0.9999  # minimum cosine between the exported graph and the torch model


def has_onnx(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds an exported ONNX encoder."""
    return (Path(model_dir) / ENCODER_FILE).is_file() and (Path(model_dir) / WEIGHTS_FILE).is_file()


def export_onnx(model_dir: Path, probes: Sequence[str] = (), reference: Embedder | None = None) -> None:
    """Export the transformer in ``model_dir`` to ``model_dir/onnx`` and check it against ``reference``.

    ``probes`` are texts embedded by ``reference`` (the torch embedder of the same folder) and by the
    export; the export is refused (``RuntimeError``) if any pair's cosine is below
    ``EXPORT_TOLERANCE``. Needs torch and transformers (build time only).
    """
    import torch
    from transformers import AutoModel

    from index.embedding.torch_embedder import quiet_hf_progress

    model_dir = Path(model_dir)
    with quiet_hf_progress():
        transformer = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            hidden = self.inner(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    out = model_dir / ENCODER_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    # Two rows of different lengths, so the traced graph keeps batch and sequence dynamic.
    ids = torch.tensor([[0, 6, 124, 5000, 2], [0, 6, 124, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    dims = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow fixed at export
        torch.onnx.export(
            _Encoder(transformer).eval(),
            (transformer.get_input_embeddings()(ids), mask),
            str(out),
            input_names=["inputs_embeds", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"inputs_embeds": dims, "attention_mask": dims, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    if probes and reference is not None:
        check_export(model_dir, list(probes), reference)


def check_export(model_dir: Path, probes: list[str], reference: Embedder) -> None:
    """Refuse an export whose vectors differ from ``reference``'s on ``probes`` (``RuntimeError``)."""
    expected = reference.embed_passages(probes)
    exported = OnnxEmbedder(model_dir, threads=1).embed_passages(probes)
    worst = float((expected * exported).sum(axis=1).min())
    if worst < EXPORT_TOLERANCE:
        raise RuntimeError(
            f"the ONNX export differs from the torch model: cosine {worst:.6f} < {EXPORT_TOLERANCE}"
        )


class TokenTable:
    """Rows of the token-embedding table read from the model's safetensors file on demand (``os.pread``).

    Neither loaded nor memory-mapped: a question needs a few dozen of its 250,002 rows, and a
    mapping would keep ≈ 64 KB of neighbours resident around every row touched (the kernel's fault-
    around ignores ``MADV_RANDOM``), ≈ 66 MB after 40 questions. Reads go through the page cache.
    """

    def __init__(self, path: Path, tensor: str = WORD_EMBEDDINGS) -> None:
        # safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
        # shape and byte range, then the data, C-ordered
        with open(path, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(length))
        entry = header.get(tensor)
        if not entry or len(entry.get("shape", ())) != 2 or entry.get("dtype") not in _DTYPES:
            raise ValueError(f"{path}: no 2-D float tensor {tensor!r}")
        shape, start = tuple(entry["shape"]), entry["data_offsets"][0]
        self.offset = 8 + length + start
        self.shape, self.dtype = shape, np.dtype(_DTYPES[entry["dtype"]])
        self.row_bytes = shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The rows ``ids`` (any shape of ints) as float32, shaped ``ids.shape + (dim,)``."""
        flat = np.asarray(ids, dtype=np.int64).ravel()
        unique, inverse = np.unique(flat, return_inverse=True)
        if len(unique) and (unique[0] < 0 or unique[-1] >= self.shape[0]):
            raise IndexError(f"token id out of range 0..{self.shape[0] - 1}")
        rows = np.empty((len(unique), self.shape[1]), dtype=self.dtype)
        for i, token in enumerate(unique.tolist()):
            rows[i] = np.frombuffer(
                os.pread(self._fd, self.row_bytes, self.offset + token * self.row_bytes), dtype=self.dtype
            )
        return rows[inverse].astype(np.float32, copy=False).reshape(*np.shape(ids), self.shape[1])


def _tokenizer(path: Path) -> Callable[[list[str]], list[list[int]]]:
    """Texts → token ids (special tokens added, no truncation): the compact reading of the model's
    tokenizer (≈ 80 MB instead of ≈ 280 MB resident), else HF ``tokenizers`` for other pipelines."""
    compact = CompactUnigram.load(path)
    if compact is not None:
        return lambda texts: [compact.encode(t) for t in texts]
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(path))
    hf.encode_special_tokens = True  # "<s>" in a text stays text, as with the torch tokenizer
    hf.no_padding()
    hf.no_truncation()
    return lambda texts: [e.ids for e in hf.encode_batch(texts)]


class OnnxEmbedder(PrefixedEmbedder):
    """Embeds with ``onnx/encoder.onnx`` of a built model folder; same interface as the torch embedder.

    ``threads`` is ONNX Runtime's intra-op thread count (None: one per core). Loaded lazily once.
    """

    def __init__(
        self,
        model_dir: Path,
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Callable[[list[str]], list[list[int]]], TokenTable, int] | None = None
        path = self.model_dir / MANIFEST_NAME
        self._manifest: dict[str, Any] = (
            json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        )

    @property
    def name(self) -> str:
        """The same identifier as the torch embedder of this folder, so either can read the other's index."""
        return str(self._manifest.get("name") or self.model_dir.absolute().name)

    @property
    def dimension(self) -> int:
        dim = self._manifest.get("dimension")
        return int(dim) if dim else int(self._parts()[2].shape[1])

    @property
    def max_seq_length(self) -> int:
        """Tokens (including ``<s>``/``</s>``) the model sees; longer inputs are truncated."""
        return int(self._manifest.get("max_seq_length") or 512)

    def _parts(self) -> tuple[Any, Callable[[list[str]], list[list[int]]], TokenTable, int]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def _load(self) -> tuple[Any, Callable[[list[str]], list[list[int]]], TokenTable, int]:
        if not has_onnx(self.model_dir):
            raise FileNotFoundError(f"no ONNX export in {self.model_dir} (expected {ENCODER_FILE})")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(self.model_dir / ENCODER_FILE), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = _tokenizer(self.model_dir / "tokenizer.json")
        words = TokenTable(self.model_dir / WEIGHTS_FILE)
        config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        return session, tokenizer, words, int(config.get("pad_token_id", 1))

    def _ids(self, texts: list[str]) -> list[list[int]]:
        return self._parts()[1](texts)

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        session, _, words, pad = self._parts()
        width = max(len(row) for row in ids)
        tokens = np.full((len(ids), width), pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1
        embeds = words.take(tokens)
        (out,) = session.run(
            None, {"inputs_embeds": embeds.astype(np.float32, copy=False), "attention_mask": mask}
        )
        return out

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        items = [prefix + t for t in as_list(texts)]
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        limit = self.max_seq_length
        # Cut as sentence-transformers does: the first limit-1 tokens, then </s>.
        ids = [row if len(row) <= limit else row[: limit - 1] + row[-1:] for row in self._ids(items)]
        # Batches of similar length pad little (sentence-transformers sorts the same way).
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        out = np.zeros((len(ids), self.dimension), np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([ids[i] for i in rows])
        return l2_normalise(out)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text exactly as given (no prefix added, special tokens included, no truncation)."""
        items = as_list(texts)
        if not items:
            return []
        return self._ids(items)
