"""The one configuration object, read once from the environment (and CLI flags)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path


def _default_model_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policyqa" / "models" / "multilingual-e5-small-q4"


def default_home(environ: dict[str, str] | os._Environ) -> Path:
    """The data folder (index versions, originals): $POLICYQA_HOME, else the per-user data folder
    (~/.local/share/policyqa on Linux), whatever the working directory."""
    if environ.get("POLICYQA_HOME"):
        return Path(environ["POLICYQA_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("policyqa", appauthor=False))


EMBEDDERS = ("auto", "onnx", "torch")
BACKENDS = ("local", "milvus")


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("data")
    model_dir: Path = _default_model_dir()
    api_key: str | None = None  # write endpoints are disabled when unset
    read_key: str | None = None  # optional: when set, read endpoints need it too
    max_upload_bytes: int = 40 * 1024 * 1024  # a 60-page scan at 200 dpi is about 25 MB
    max_body_bytes: int = 64 * 1024  # any request body but an upload's
    max_unpacked_bytes: int = 200 * 1024 * 1024  # a .docx/.xlsx/.ofd (a zip) unpacks to at most this
    max_compression_ratio: int = 200  # and no member of it more than this many times its packed size
    # the address space of the child that parses an upload: OCR (ONNX Runtime, OpenCV) maps about 1.5 GB
    parse_memory_bytes: int = 3 * 1024 * 1024 * 1024
    parse_seconds: float = 300.0  # a scan is read by OCR at seconds a page
    watch_seconds: float = 2.0  # how often a server looks for an index version another process wrote
    max_question_chars: int = 500
    rrf_k: int = 60
    ivf_threshold: int = 50_000  # above this many clauses the dense index is IVF (approximate), below it exact
    answer_threshold: float = 0.5  # calibrated on eval/gold/dev.jsonl: python -m eval.calibrate (eval/README.md)
    embedder: str = "auto"  # "onnx" (ONNX Runtime, no torch), "torch" (sentence-transformers), "auto": onnx if exported
    embed_threads: int | None = None  # None: 1 when serving (steady latency on 2 cores), one per core when building
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    backend: str = "local"  # "local" (bm25s + FAISS in the index folder) or "milvus" (index.milvus)
    milvus_uri: str | None = None  # a Milvus server's URI; None: a milvus-lite file in the data folder
    milvus_token: str = ""
    milvus_analyzer: str = '{"tokenizer": "standard"}'  # on a Milvus cluster: '{"tokenizer": "whitespace"}'

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def milvus_address(self) -> str:
        return self.milvus_uri or str(self.data_dir / "milvus.db")

    def with_overrides(self, **changes: object) -> Config:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Read POLICYQA_* variables once; callers pass the Config on from there."""
    env = os.environ if environ is None else environ
    config = Config()
    changes: dict[str, object] = {"data_dir": default_home(env)}
    if env.get("POLICYQA_DATA_DIR"):  # the older name, still honoured
        changes["data_dir"] = Path(env["POLICYQA_DATA_DIR"]).expanduser()
    if env.get("POLICYQA_MODEL_DIR"):
        changes["model_dir"] = Path(env["POLICYQA_MODEL_DIR"])
    if env.get("POLICYQA_API_KEY"):
        changes["api_key"] = env["POLICYQA_API_KEY"]
    if env.get("POLICYQA_READ_KEY"):
        changes["read_key"] = env["POLICYQA_READ_KEY"]
    if env.get("POLICYQA_MAX_UPLOAD_MB"):
        changes["max_upload_bytes"] = int(float(env["POLICYQA_MAX_UPLOAD_MB"]) * 1024 * 1024)
    if env.get("POLICYQA_QUERY_PREFIX") is not None and "POLICYQA_QUERY_PREFIX" in env:
        changes["query_prefix"] = env["POLICYQA_QUERY_PREFIX"]
    threads = env.get("POLICYQA_EMBED_THREADS") or env.get("POLICYQA_TORCH_THREADS")  # the latter: its old name
    if threads:
        changes["embed_threads"] = int(threads)
    if env.get("POLICYQA_EMBEDDER"):
        if env["POLICYQA_EMBEDDER"] not in EMBEDDERS:
            raise ValueError(f"POLICYQA_EMBEDDER must be one of {', '.join(EMBEDDERS)}, not {env['POLICYQA_EMBEDDER']!r}")
        changes["embedder"] = env["POLICYQA_EMBEDDER"]
    if "POLICYQA_PASSAGE_PREFIX" in env:
        changes["passage_prefix"] = env["POLICYQA_PASSAGE_PREFIX"]
    if env.get("POLICYQA_BACKEND"):
        if env["POLICYQA_BACKEND"] not in BACKENDS:
            raise ValueError(f"POLICYQA_BACKEND must be one of {', '.join(BACKENDS)}, not {env['POLICYQA_BACKEND']!r}")
        changes["backend"] = env["POLICYQA_BACKEND"]
    for name, key in (("POLICYQA_MILVUS_URI", "milvus_uri"), ("POLICYQA_MILVUS_TOKEN", "milvus_token"),
                      ("POLICYQA_MILVUS_ANALYZER", "milvus_analyzer")):
        if env.get(name):
            changes[key] = env[name]
    return replace(config, **changes)
