"""Reliability and security: bad uploads, failed and killed ingests, concurrency, auth, limits, logs.

Everything here runs on the fast fake embedder (HashEmbedder(32)): no model is loaded, and an index
is built once per module and copied for each test that changes it. docs/reliability.md lists every
fault injected here, what happened, and the command to run it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import index.store as store
import qa.service as service_module
from api.app import create_app
from corpus.config import Config, load_config
from index.hybrid import Filters, HybridIndex, update_index
from qa.service import PolicyQA
from tests.servers import free_port
from tests.support.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SMALL_CORPUS = ROOT / "tests" / "data" / "genre" / "ncp_xiangtan_zxqy_2020.txt"
KEY = "reliability-key-0123456789"
H = {"X-API-Key": KEY}

# A small genre document in two versions: same id, different title, targets and units.
V1 = (
    "某某市人民政府办公室关于印发2024年重点工作责任分解的通知\n"
    "一、稳增长\n"
    "1．全市新建充电桩3000个以上。（责任单位：市能源局、市建设局）\n"
    "2．新增城镇就业3万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n"
)
V2 = (
    "某某市人民政府办公室关于印发2025年重点工作责任分解的通知\n"
    "一、稳增长\n"
    "1．全市新建充电桩5000个以上。（责任单位：市交通运输局）\n"
    "2．新增城镇就业5万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n"
)
VERSIONS = {
    1: {"title": "2024年", "markers": ("3000个", "3万人"), "units": ["市能源局", "市建设局"]},
    2: {"title": "2025年", "markers": ("5000个", "5万人"), "units": ["市交通运输局"]},
}
REP_QUESTION = "新建充电桩由哪个单位负责？"

# Questions whose answers (and citations) must survive every failed or killed ingest unchanged.
BASE_QUESTIONS = [
    "农村公路新改建由谁牵头？",
    "杭衢铁路建德至衢州段今年计划投资多少？",
    "居民人均可支配收入目标是多少？",
    "王文序副省长牵头哪些重点工作？",
    "5G基站建设目标是多少？",
    "火星基地建设目标是多少？",
]


# ----- helpers ------------------------------------------------------------------------------------
def make_config(data_dir: Path, **changes) -> Config:
    # model_dir points nowhere: nothing in this file may load the real model
    return Config(data_dir=data_dir, model_dir=data_dir.parent / "no-model", **changes)


def load_service(data_dir: Path, embedder=None, **changes) -> PolicyQA:
    return PolicyQA(make_config(data_dir, **changes), embedder or HashEmbedder(32)).load()


def copy_data(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest, symlinks=True)  # data/index is a relative symlink into data/indexes
    return dest


def index_state(data_dir: Path) -> dict:
    """What must not change when an ingest fails: the current version and every byte in it."""
    link = data_dir / "index"
    current = link.resolve()
    files = {
        str(p.relative_to(current)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(current.rglob("*"))
        if p.is_file()
    }
    return {"link": os.readlink(link) if link.is_symlink() else None, "current": current.name, "files": files}


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "indexes").glob(".tmp-*"))


def answers(svc: PolicyQA) -> list[tuple]:
    out = []
    for q in BASE_QUESTIONS:
        a = svc.ask(q)
        out.append((q, a.found, a.answer, [(c.doc_id, c.item_id, c.ref) for c in a.citations]))
    return out


def version_of(text: str) -> int:
    hits = [v for v, spec in VERSIONS.items() if any(m in text for m in spec["markers"])]
    assert len(hits) == 1, f"text belongs to no single version: {text[:60]}"
    return hits[0]


def rep_versions(index: HybridIndex) -> set[int]:
    """The versions of document 'rep' present in one loaded index."""
    return {version_of(i.text) for i in index.items.values() if i.doc_id == "rep" and "充电桩" in i.text}


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.strip().split("\n"):
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


class SlowEmbedder(HashEmbedder):
    """The fake embedder, made slow on demand so that an ingest is still running when we look."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(32)
        self.delay = delay

    def embed_passages(self, texts):
        if self.delay:
            time.sleep(self.delay)
        return super().embed_passages(texts)


# ----- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled_base(tmp_path_factory) -> Path:
    """A data folder with the bundled corpus indexed (fake embedder); copy it before changing it."""
    data = tmp_path_factory.mktemp("bundled") / "data"
    PolicyQA(make_config(data), HashEmbedder(32)).build(progress=False)
    return data


@pytest.fixture(scope="module")
def bundled_answers(bundled_base) -> list[tuple]:
    return answers(load_service(bundled_base))


@pytest.fixture(scope="module")
def small_base(tmp_path_factory) -> Path:
    """A data folder with one small genre document indexed: cheap to ingest into."""
    data = tmp_path_factory.mktemp("small") / "data"
    PolicyQA(make_config(data), HashEmbedder(32)).build([SMALL_CORPUS], progress=False)
    return data


@pytest.fixture()
def small_data(small_base, tmp_path) -> Path:
    return copy_data(small_base, tmp_path / "data")


@pytest.fixture()
def bundled_data(bundled_base, tmp_path) -> Path:
    return copy_data(bundled_base, tmp_path / "data")


@pytest.fixture(scope="module")
def upload_client(small_base, tmp_path_factory):
    """One writable service (small corpus, 100 kB upload limit) shared by the upload tests."""
    data = copy_data(small_base, tmp_path_factory.mktemp("uploads") / "data")
    svc = load_service(data, api_key=KEY, max_upload_bytes=100_000)
    with TestClient(create_app(svc.config, svc)) as client:
        client.svc = svc
        client.data = data
        yield client


def upload(client, name: str, data: bytes, content_type: str = "text/plain", doc_id: str | None = None):
    form = {"doc_id": doc_id} if doc_id is not None else None
    return client.post("/documents", files={"file": (name, data, content_type)}, data=form, headers=H)


# ===== 1. upload validation through the API ========================================================
class TestUploadValidation:
    """tests/test_api.py covers: garbage .pdf → 415, 300 kB → 413, empty → 422, no items → 422,
    doc_id "../etc" → 422 and a GB18030 upload that answers. These add the rest."""

    @pytest.mark.parametrize(
        "name, data, content_type",
        [
            ("report.pdf", V1.encode(), "application/pdf"),  # plain text with a PDF name and type
            ("upload.bin", docx_bytes(V1), "application/octet-stream"),  # a .docx without its name
            ("page.txt", ("<html><body>" + "".join(f"<p>{line}</p>" for line in V1.split("\n")) + "</body></html>").encode(),
             "text/plain"),  # HTML named .txt: tags are not indexed as text
        ],
        ids=["text-named-pdf", "docx-named-bin", "html-named-txt"],
    )
    def test_type_is_detected_from_content_not_name(self, upload_client, name, data, content_type):
        r = upload(upload_client, name, data, content_type, doc_id="bycontent")
        assert r.status_code == 201, r.text
        assert r.json()["items"] == 2 and "2024年重点工作" in r.json()["title"]
        item_texts = [i.text for i in upload_client.svc.index.items.values() if i.doc_id == "bycontent"]
        assert len(item_texts) == 2 and not any("<p>" in t or "</" in t for t in item_texts)

    @pytest.mark.parametrize(
        "name, data",
        [
            ("tool.docx", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
            ("archive.docx", None),  # a ZIP without word/document.xml
            ("nul.txt", b"\x00" * 64),
            ("controls.txt", bytes(range(1, 9)) * 40),
            ("utf16.txt", V1.encode("utf-16")),  # UTF-16 has NUL bytes: refused as binary (see docs)
        ],
        ids=["elf-named-docx", "zip-named-docx", "nul-bytes", "control-bytes", "utf16"],
    )
    def test_binary_and_unsupported_are_415(self, upload_client, name, data):
        if data is None:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr("word/other.xml", "<x/>")
            data = buf.getvalue()
        before = index_state(upload_client.data)
        r = upload(upload_client, name, data)
        assert r.status_code == 415 and r.json()["detail"].startswith("不支持的文件类型"), r.text
        assert "支持的格式" in r.json()["detail"]
        assert index_state(upload_client.data) == before

    @pytest.mark.parametrize(
        "name, data, message",
        [
            ("broken.txt", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "无法读取这个 PDF 文件"),
            ("broken.docx", None, "无法读取这个 .docx 文件"),
            ("blank.txt", b"  \n\n\t \r\n ", "文件中没有文字"),
            ("bom.txt", b"\xef\xbb\xbf\n\n", "文件中没有文字"),
            ("mojibake.txt", bytes(0x80 + (i * 37) % 127 for i in range(400)), "无法识别文件的文字编码"),
            ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200, "无法读取这张图片"),
            ("title.txt", "关于印发2024年重点工作的通知".encode("gb18030"), "no numbered items"),
        ],
        ids=["truncated-pdf", "corrupt-docx", "whitespace-only", "bom-only", "undecodable", "broken-png", "title-only"],
    )
    def test_unreadable_documents_are_422_with_a_reason(self, upload_client, name, data, message):
        if data is None:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr("word/document.xml", "<w:document><w:body><w:p>")  # truncated XML
            data = buf.getvalue()
        before = index_state(upload_client.data)
        r = upload(upload_client, name, data)
        assert r.status_code == 422 and message in r.json()["detail"], r.text
        assert index_state(upload_client.data) == before

    def test_gb18030_and_gbk_are_decoded_exactly(self, upload_client):
        # U+20000 exists in GB18030 (four bytes) but not in GBK: the decoder must not stop at GBK
        text = V1.replace("稳增长", "稳增长𠀀").replace("3000个", "3000个（含𠀀区）")
        r = upload(upload_client, "gb.txt", text.encode("gb18030"), doc_id="gb18030")
        assert r.status_code == 201, r.text
        items = [i for i in upload_client.svc.index.items.values() if i.doc_id == "gb18030"]
        assert any("3000个（含𠀀区）" in i.text for i in items)
        assert {u for i in items for u in i.units} >= {"市能源局", "市建设局", "市财政局"}
        r = upload(upload_client, "gbk.txt", V2.encode("gbk"), doc_id="gbk")
        assert r.status_code == 201 and "2025年重点工作" in r.json()["title"], r.text

    def test_size_limit(self, upload_client):
        limit = upload_client.svc.config.max_upload_bytes
        exact = (V1.encode() + b" " * limit)[:limit]
        assert upload(upload_client, "exact.txt", exact, doc_id="exactlimit").status_code == 201
        before = index_state(upload_client.data)
        for size in (limit + 1, 5 * limit):
            r = upload(upload_client, "big.txt", (V1.encode() + b" " * size)[:size])
            assert r.status_code == 413 and "上限" in r.json()["detail"], r.text
        assert index_state(upload_client.data) == before

    def test_size_limit_message_names_the_real_limit(self, upload_client):
        # regression: the message used to round a 100 kB limit down to "0 MB"
        r = upload(upload_client, "big.txt", b"1" * 100_001)
        assert r.status_code == 413
        assert "0 MB" not in r.json()["detail"] and re.search(r"(0\.\d+ ?MB|\d+(\.\d+)? ?[kK]i?B|\d+ bytes)", r.json()["detail"])

    def test_file_names_never_become_paths(self, upload_client):
        from corpus import doc_id_from_path

        root = upload_client.data.parent
        before = set(root.rglob("*"))
        r = upload(upload_client, "../../../tmp/../evil name.txt", V1.encode())
        assert r.status_code == 201 and r.json()["doc_id"] == "evil_name", r.text
        new = set(root.rglob("*")) - before
        assert new and all(p.is_relative_to(upload_client.data / "indexes") for p in new)  # one new version only
        assert not list(Path("/tmp").glob("evil*")) and not list(ROOT.glob("evil*"))
        for name, expected in [("/etc/passwd", "passwd"), ("a\x00b.txt", "a_b"), ("..\\..\\win.txt", "win"),
                               ("../..", "doc"), ("中文 文件.docx", "中文_文件")]:
            assert doc_id_from_path(name) == expected

    def test_missing_file_field_is_422(self, upload_client):
        r = upload_client.post("/documents", data={"doc_id": "x"}, headers=H)
        assert r.status_code == 422 and "file" in r.json()["detail"]


# ===== 2. a failed ingest leaves the index exactly as it was ======================================
def _fail_on_call(n: int, original, exc: BaseException):
    """A stand-in for `original` that works n-1 times, then raises `exc`."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= n:
            raise exc
        return original(*args, **kwargs)

    return wrapper


def _inject(monkeypatch, point: str):
    """Make the next index write fail at `point`; return the fail_after_embedding hook if any."""
    import bm25s
    import faiss
    import numpy as np

    if point == "after-embedding":
        def boom():
            raise RuntimeError("injected: after embedding")
        return boom
    if point == "after-first-file":  # documents.jsonl written, items.jsonl fails
        monkeypatch.setattr(store, "_write_jsonl", _fail_on_call(2, store._write_jsonl, OSError(28, "No space left")))
    elif point == "embeddings-save":
        monkeypatch.setattr(np, "save", _fail_on_call(1, np.save, OSError(28, "No space left")))
    elif point == "faiss-write":
        monkeypatch.setattr(faiss, "write_index", _fail_on_call(1, faiss.write_index, RuntimeError("injected")))
    elif point == "bm25-save-interrupt":  # a BaseException: Ctrl-C in the middle of the write
        monkeypatch.setattr(bm25s.BM25, "save", _fail_on_call(1, bm25s.BM25.save, KeyboardInterrupt()))
    elif point == "rename-into-place":  # the last step before the swap
        monkeypatch.setattr(store.os, "replace", _fail_on_call(1, os.replace, OSError(5, "I/O error")))
    elif point == "symlink-swap":  # the new version is complete but cannot be linked
        monkeypatch.setattr(store.os, "symlink", _fail_on_call(1, os.symlink, OSError(28, "No space left")))
    else:
        raise ValueError(point)
    return None


INJECTION_POINTS = ["after-embedding", "after-first-file", "embeddings-save", "faiss-write",
                    "bm25-save-interrupt", "rename-into-place", "symlink-swap"]


class TestFailedIngest:
    @pytest.mark.parametrize("point", INJECTION_POINTS)
    def test_injected_failure_leaves_index_unchanged(self, bundled_data, monkeypatch, point):
        from corpus import parse_text

        before = index_state(bundled_data)
        hook = _inject(monkeypatch, point)
        expected = KeyboardInterrupt if point == "bm25-save-interrupt" else (RuntimeError, OSError)
        with pytest.raises(expected):
            update_index(bundled_data / "index", HashEmbedder(32), add=[parse_text(V1, "rep")],
                         delete=["000_30a6bebbb49a94f9"], fail_after_embedding=hook)
        monkeypatch.undo()
        assert index_state(bundled_data) == before
        assert leftovers(bundled_data) == []
        versions = [p.name for p in (bundled_data / "indexes").iterdir() if not p.name.startswith(".")]
        # symlink-swap fails with ENOSPC: the unlinked new version is removed to give the space back
        assert versions == [before["current"]]

    def test_service_keeps_serving_and_reloads_the_same_answers(self, bundled_data, bundled_answers, monkeypatch):
        svc = load_service(bundled_data)
        loaded = svc.index

        def boom():
            raise RuntimeError("injected: after embedding")

        monkeypatch.setattr(service_module, "update_index", partial(update_index, fail_after_embedding=boom))
        with pytest.raises(RuntimeError):
            svc.ingest_bytes(V1.encode(), "rep")
        monkeypatch.undo()
        assert svc.index is loaded  # the service never installed anything
        assert answers(svc) == bundled_answers
        assert answers(load_service(bundled_data)) == bundled_answers

    def test_plain_folder_index_is_replaced_atomically(self, bundled_data, monkeypatch):
        from corpus import parse_text

        link = bundled_data / "index"
        current = link.resolve()
        link.unlink()
        shutil.copytree(current, link)  # "an old plain folder from a manual copy"
        shutil.rmtree(current)
        real_replace = os.replace

        def replace(src, dst):
            if Path(dst) == link:
                raise OSError(5, "I/O error")  # the symlink swap fails (or the process dies here)
            return real_replace(src, dst)

        monkeypatch.setattr(store.os, "replace", replace)
        with pytest.raises(OSError):
            update_index(link, HashEmbedder(32), add=[parse_text(V1, "rep")])
        monkeypatch.undo()
        assert (link / "manifest.json").exists(), "the index is gone"


# ----- killed with SIGKILL ---------------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import index.store as store
    from corpus.config import Config
    from tests.support.fakes import HashEmbedder
    from qa.service import PolicyQA

    data, stage, doc = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    class Slow(HashEmbedder):
        def embed_passages(self, texts):
            if stage == "embedding":
                print("EMBEDDING", flush=True)
                time.sleep(120)
            return super().embed_passages(texts)

    write_jsonl, swap = store._write_jsonl, store._swap_symlink

    def slow_write(path, *args):  # a slow disk: the .tmp-* folder stays half-written for a while
        write_jsonl(path, *args)
        time.sleep(0.5)

    def late_swap(link, target):
        print("SWAPPING", flush=True)
        time.sleep(120)
        swap(link, target)

    if stage in ("writing", "rebuild"):
        store._write_jsonl = slow_write
    if stage == "before-swap":
        store._swap_symlink = late_swap
    svc = PolicyQA(Config(data_dir=data, model_dir=data.parent / "no-model"), Slow(32))
    if stage == "rebuild":
        from corpus import bundled_sources
        svc.build(bundled_sources() + [Path(doc)], progress=False)
    else:
        svc.load()
        svc.ingest_bytes(Path(doc).read_bytes(), "rep")
    print("DONE", flush=True)
    """
)


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the child ended early: {proc.stdout.read()} {proc.stderr.read()}")
        time.sleep(0.002)
    raise AssertionError("timed out waiting for the child")


class TestKilledIngest:
    """A build or update killed with SIGKILL (no cleanup runs) at four points."""

    @pytest.mark.parametrize("stage", ["embedding", "writing", "rebuild", "before-swap"])
    def test_sigkill_leaves_previous_index_answering_the_same(self, bundled_data, bundled_answers, tmp_path, stage):
        doc = tmp_path / "new.txt"
        doc.write_text(V1, encoding="utf-8")
        before = index_state(bundled_data)
        versions = bundled_data / "indexes"
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(bundled_data), stage, str(doc)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            if stage == "embedding":
                assert proc.stdout.readline().strip() == "EMBEDDING"
            elif stage == "before-swap":
                assert proc.stdout.readline().strip() == "SWAPPING"
            else:  # kill as soon as a half-written .tmp-* folder appears
                _wait_for(lambda: any(any(p.iterdir()) for p in versions.glob(".tmp-*")), 60, proc)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL
        if stage in ("writing", "rebuild"):
            assert leftovers(bundled_data), "killed before the write started or after it ended"
            tmp = versions / leftovers(bundled_data)[0]
            assert not (tmp / "manifest.json").exists()  # it really was half-written
        assert index_state(bundled_data) == before
        svc = load_service(bundled_data)
        assert answers(svc) == bundled_answers
        assert rep_versions(svc.index) == set()
        if stage != "writing":
            return
        # the leftovers do not get in the way of the next ingest
        svc.ingest_bytes(V1.encode(), "rep")
        assert rep_versions(load_service(bundled_data).index) == {1}
        assert all(x in answers(svc) for x in bundled_answers[:3])


# ===== 3. concurrency ==============================================================================
def _check_answer(answer) -> int:
    """The one version an answer about 'rep' reflects; fails if it mixes versions or finds nothing."""
    assert answer.found, answer.reason
    seen = {version_of(c.text) for c in answer.citations if c.doc_id == "rep" and "充电桩" in c.text}
    assert len(seen) == 1, f"citations from versions {seen}"
    v = seen.pop()
    assert list(answer.fields.units) == VERSIONS[v]["units"], (answer.fields.units, v)
    return v


class TestConcurrency:
    def test_queries_during_replacements_see_one_whole_version(self, small_data):
        svc = load_service(small_data)
        svc.ingest_bytes(V1.encode(), "rep")
        stop = threading.Event()
        errors: list[BaseException] = []
        seen: list[int] = []
        only_rep = Filters(doc_ids=("rep",))

        def reader(kind: str) -> None:
            try:
                while not stop.is_set():
                    index = svc.index  # one snapshot: never both versions, never neither
                    assert len(rep_versions(index)) == 1
                    if kind == "ask":
                        seen.append(_check_answer(svc.ask(REP_QUESTION, 5, only_rep)))
                    else:
                        results = svc.search("充电桩", only_rep, 5)
                        versions = {version_of(r.item.text) for r in results if "充电桩" in r.item.text}
                        assert len(versions) == 1, versions
                        seen.extend(versions)
                    time.sleep(0.001)  # let the writer have the GIL now and then
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=reader, args=(k,)) for k in ("ask", "ask", "search")]
        for t in threads:
            t.start()
        while len(seen) < 3 and not errors:
            time.sleep(0.001)
        try:
            for text in (V2, V1):
                svc.ingest_bytes(text.encode(), "rep")
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        assert not errors, errors[0]
        assert len(seen) > 50 and set(seen) == {1, 2}
        assert rep_versions(load_service(small_data).index) == {1}

    def test_a_replacement_switches_versions_in_one_step(self, small_data):
        svc = load_service(small_data)
        svc.ingest_bytes(V1.encode(), "rep")
        observed: list[frozenset] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                observed.append(frozenset(rep_versions(svc.index)))
                time.sleep(0.0005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        while not observed:
            time.sleep(0.001)
        try:
            svc.ingest_bytes(V2.encode(), "rep")
            time.sleep(0.05)
        finally:
            stop.set()
            watcher.join(timeout=30)
        runs = [k for i, k in enumerate(observed) if i == 0 or observed[i - 1] != k]
        assert runs == [frozenset({1}), frozenset({2})], runs  # old until the swap, new after: no gap, no overlap

    def test_two_concurrent_uploads_both_land(self, small_data):
        svc = load_service(small_data, embedder=SlowEmbedder(0.2), api_key=KEY)
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}
        with TestClient(create_app(svc.config, svc)) as client:

            def post(doc_id: str, text: str) -> None:
                barrier.wait()
                results[doc_id] = upload(client, f"{doc_id}.txt", text.encode(), doc_id=doc_id).status_code

            threads = [threading.Thread(target=post, args=a) for a in (("alpha", V1), ("beta", V2))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert results == {"alpha": 201, "beta": 201}
            listed = {d["doc_id"] for d in client.get("/documents").json()}
        assert {"alpha", "beta"} <= listed
        assert {"alpha", "beta"} <= {d.doc_id for d in load_service(small_data).index.documents}

    def test_two_concurrent_ingests_in_one_process_are_serialised(self, small_data):
        svc = load_service(small_data, embedder=SlowEmbedder(0.5))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def ingest(doc_id: str, text: str) -> None:
            try:
                barrier.wait()
                svc.ingest_bytes(text.encode(), doc_id)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=ingest, args=a) for a in (("alpha", V1), ("beta", V2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        docs = {d.doc_id for d in load_service(small_data).index.documents}
        assert {"alpha", "beta", "ncp_xiangtan_zxqy_2020"} <= docs

    def test_an_answer_comes_from_one_index_snapshot(self, small_data, monkeypatch):
        svc = load_service(small_data)
        svc.ingest_bytes(V1.encode(), "rep")
        real_understand = service_module.understand
        swapped = []

        def understand_then_swap(question, lexicon):  # the writer wins the race right here
            if not swapped:
                swapped.append(True)
                svc.ingest_bytes(V2.encode(), "rep")
            return real_understand(question, lexicon)

        monkeypatch.setattr(service_module, "understand", understand_then_swap)
        answer = svc.ask(REP_QUESTION, 5, Filters(doc_ids=("rep",)))
        assert swapped
        for c in answer.citations:
            assert VERSIONS[version_of(c.text)]["title"] in c.doc_title, (c.text[:20], c.doc_title)

    def test_search_results_come_from_one_index_snapshot(self, small_data, monkeypatch):
        # regression: search read documents() from self.index again, so a swap in between cited the old
        # item under the new version's title: 〔…2025年…通知 …2024年…通知 › 一、稳增长 › 第1项〕
        svc = load_service(small_data)
        svc.ingest_bytes(V1.encode(), "rep")
        real_understand = service_module.understand
        swapped = []

        def understand_then_swap(question, lexicon):
            if not swapped:
                swapped.append(True)
                svc.ingest_bytes(V2.encode(), "rep")
            return real_understand(question, lexicon)

        monkeypatch.setattr(service_module, "understand", understand_then_swap)
        results = svc.search("充电桩", Filters(doc_ids=("rep",)), 5)
        assert swapped and results
        for r in results:
            other = VERSIONS[3 - version_of(r.item.text)]["title"]
            assert other not in r.ref, (r.item.text[:20], r.ref)

    def test_requests_are_served_while_an_upload_ingests(self, small_data):
        # regression: an `async def` upload ingested on the event loop; /health took 4.5 s meanwhile
        import httpx
        import uvicorn

        svc = load_service(small_data, embedder=SlowEmbedder(0.0), api_key=KEY)
        svc.embedder.delay = 3.0  # the ingest takes 3 s or more
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(svc.config, svc), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 30
            while not server.started and time.time() < deadline:
                time.sleep(0.05)
            done: dict = {}
            up = threading.Thread(target=lambda: done.setdefault("r", httpx.post(
                base + "/documents", files={"file": ("a.txt", V1.encode(), "text/plain")}, headers=H, timeout=60)))
            up.start()
            time.sleep(0.5)  # the upload is now embedding
            started = time.perf_counter()
            r = httpx.get(base + "/health", timeout=60)
            health_s = time.perf_counter() - started
            up.join(timeout=60)
            assert r.status_code == 200 and done["r"].status_code == 201
            assert health_s < 1.0, f"/health took {health_s:.1f} s during an upload"
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    def test_two_processes_ingesting_at_once_both_land(self, small_data, tmp_path):
        # regression: without a lock between processes both read the same version and the last swap won
        child = textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from corpus.config import Config
            from tests.support.fakes import HashEmbedder
            from qa.service import PolicyQA

            data, doc_id, text, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5])

            class Rendezvous(HashEmbedder):  # both processes have read the current index before either writes
                def embed_passages(self, texts):
                    me.touch()
                    deadline = time.time() + 4  # with the lock the other one waits: do not wait forever
                    while not other.exists() and time.time() < deadline:
                        time.sleep(0.01)
                    return super().embed_passages(texts)

            svc = PolicyQA(Config(data_dir=data, model_dir=data.parent / "no-model"), Rendezvous(32)).load()
            svc.ingest_bytes(text.encode(), doc_id)
            """
        )
        a, b = tmp_path / "a.ready", tmp_path / "b.ready"
        procs = [
            subprocess.Popen([sys.executable, "-c", child, str(small_data), doc_id, text, str(me), str(other)],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
            for doc_id, text, me, other in (("alpha", V1, a, b), ("beta", V2, b, a))
        ]
        for p in procs:
            assert p.wait(timeout=120) == 0
        docs = {d.doc_id for d in load_service(small_data).index.documents}
        assert {"alpha", "beta"} <= docs, docs


# ===== 4. auth and input limits ====================================================================
@pytest.fixture(scope="module")
def read_only_service(small_base, tmp_path_factory) -> PolicyQA:
    data = copy_data(small_base, tmp_path_factory.mktemp("ro") / "data")
    return load_service(data)


def client_for(svc: PolicyQA, **config) -> TestClient:
    return TestClient(create_app(dataclasses.replace(svc.config, **config), svc))


class TestAuth:
    def test_keys_are_compared_in_constant_time(self, read_only_service, monkeypatch):
        import api.app as app_module
        import api.guard as guard_module

        source = inspect.getsource(app_module) + inspect.getsource(guard_module)
        assert "hmac.compare_digest" in inspect.getsource(guard_module.same_key)
        assert not re.search(r"(x_api_key|api_key|read_key)\s*[!=]=\s*(x_api_key|config\.)", source)
        calls = []
        real = guard_module.hmac.compare_digest
        monkeypatch.setattr(guard_module.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
        with client_for(read_only_service, api_key=KEY, read_key="reader") as c:
            assert c.delete("/documents/x", headers={"X-API-Key": "wrong"}).status_code == 401
            assert c.get("/documents", headers={"X-API-Key": "reader"}).status_code == 200
        assert (b"wrong", KEY.encode()) in calls and (b"reader", b"reader") in calls

    def test_without_a_configured_key_every_write_is_403(self, read_only_service):
        before = index_state(read_only_service.config.data_dir)
        for api_key in (None, ""):
            with client_for(read_only_service, api_key=api_key) as c:
                for headers in ({}, {"X-API-Key": ""}, {"X-API-Key": "anything"}):
                    r = c.post("/documents", files={"file": ("a.txt", V1.encode(), "text/plain")}, headers=headers)
                    assert r.status_code == 403 and "已关闭" in r.json()["detail"]
                    assert c.delete("/documents/ncp_xiangtan_zxqy_2020", headers=headers).status_code == 403
        assert index_state(read_only_service.config.data_dir) == before
        assert load_config({"POLICYQA_API_KEY": ""}).api_key is None

    @pytest.mark.parametrize("sent", ["", " " + KEY, KEY + " ", KEY.upper(), KEY[:-1], KEY + "0", "Bearer " + KEY,
                                      "clé-ünïcode"])
    def test_near_miss_keys_are_401(self, read_only_service, sent):
        with client_for(read_only_service, api_key=KEY) as c:
            r = c.delete("/documents/nothing-here", headers={"X-API-Key": sent.encode("utf-8")})
            assert r.status_code == 401

    def test_read_key_guards_every_read_endpoint(self, read_only_service):
        item_id = next(iter(read_only_service.index.items))
        reads = [("POST", "/ask", {"json": {"question": "谁负责复工复产？"}}), ("GET", "/search?q=复工", {}),
                 ("GET", f"/items/{item_id}", {}), ("GET", "/documents", {}), ("GET", "/units", {}),
                 ("GET", "/officials", {})]
        with client_for(read_only_service, api_key=KEY, read_key="reader") as c:
            for method, url, kw in reads:
                assert c.request(method, url, **kw).status_code == 401, url
                assert c.request(method, url, headers={"X-API-Key": "wrong"}, **kw).status_code == 401, url
                assert c.request(method, url, headers={"X-API-Key": "reader"}, **kw).status_code == 200, url
                assert c.request(method, url, headers=H, **kw).status_code == 200, url  # the write key reads too
            assert c.get("/health").status_code == 200  # probes need no key
            assert c.delete("/documents/nothing-here", headers={"X-API-Key": "reader"}).status_code == 401

    @pytest.mark.parametrize(
        "payload, status",
        [
            ({"question": "问" * 500}, 200),
            ({"question": "谁负责", "top_k": 50}, 200),
            ({"question": "谁负责", "top_k": 51}, 422),
            ({"question": "谁负责", "top_k": -1}, 422),
            ({"question": "谁负责", "top_k": 2.5}, 422),
            ({"question": "谁负责", "top_k": None}, 422),
            ({"question": "谁负责", "filters": {"doc": "d" * 100}}, 200),
            ({"question": "谁负责", "filters": {"doc": "d" * 101}}, 422),
            ({"question": "谁负责", "filters": {"official": "o" * 101}}, 422),
            ({"question": "谁负责", "filters": {"deadline": "年" * 101}}, 422),
            ({"question": "谁负责", "filters": {"kind": "k" * 21}}, 422),
            ({"question": "谁负责", "filters": {"doc": "../../etc/passwd"}}, 200),  # a filter, never a path
            ({"question": "谁负责", "filters": {"nope": 1}}, 422),
            ({"question": ["谁负责"]}, 422),
            ({"question": "谁\x00负责"}, 200),
        ],
    )
    def test_ask_limits(self, read_only_service, payload, status):
        with client_for(read_only_service) as c:
            r = c.post("/ask", json=payload)
            assert r.status_code == status, r.text

    @pytest.mark.parametrize(
        "params, status",
        [({"q": "复" * 200}, 200), ({"q": "复" * 201}, 422), ({"q": "复工", "limit": 100}, 200),
         ({"q": "复工", "limit": 101}, 422), ({"q": "复工", "limit": "x"}, 422),
         ({"q": "复工", "unit": "u" * 101}, 422), ({"q": "复工", "kind": "k" * 21}, 422),
         ({"q": "复工", "doc": "/etc/passwd"}, 200)],
    )
    def test_search_limits(self, read_only_service, params, status):
        with client_for(read_only_service) as c:
            assert c.get("/search", params=params).status_code == status

    @pytest.mark.parametrize("doc_id", ["../etc", "/etc/passwd", "a\x00b", "..", ".", "a/b", "C:\\x", "%2e%2e",
                                        "x" * 81, "a b", "\nid", ""])
    def test_path_like_upload_ids_are_422(self, upload_client, doc_id):
        before = index_state(upload_client.data)
        r = upload(upload_client, "a.txt", b"\x00not even read", doc_id=doc_id)
        if doc_id == "":  # an empty form field means "not given": the id comes from the file name
            assert r.status_code == 415, r.text
        else:
            assert r.status_code == 422 and "文档编号无效" in r.json()["detail"], r.text
        assert index_state(upload_client.data) == before

    def test_doc_id_with_trailing_newline_is_422(self, upload_client):
        # regression: re.match with '$' also matched before a trailing newline
        r = upload(upload_client, "a.txt", V1.encode(), doc_id="newline\n")
        if r.status_code == 201:
            upload_client.delete("/documents/newline%0A", headers=H)
        assert r.status_code == 422, r.text

    @pytest.mark.parametrize("path", ["..%2Fetc", "%2Fetc%2Fpasswd", "a%00b", "..%5C..%5Cx", "%2E%2E", "x" * 81,
                                      "..%252F..%252Fetc", "%00"])
    def test_path_like_delete_ids_touch_nothing(self, read_only_service, path):
        before = index_state(read_only_service.config.data_dir)
        with client_for(read_only_service, api_key=KEY) as c:
            r = c.delete(f"/documents/{path}", headers=H)
        assert r.status_code in (404, 422), r.text  # 404 when the decoded id holds a "/": no route matches
        assert index_state(read_only_service.config.data_dir) == before


# ===== 5. logs =====================================================================================
class TestLogs:
    def test_request_logs_are_json_lines_with_latency(self, read_only_service, caplog):
        caplog.set_level(logging.INFO, logger="policyqa.api")
        with client_for(read_only_service) as c:
            responses = [c.get("/health"), c.post("/ask", json={"question": "谁负责复工复产？"}),
                         c.get("/search", params={"q": "复工"}), c.post("/ask", json={"question": ""}),
                         c.get("/items/none")]
        records = [r for r in caplog.records if r.name == "policyqa.api"]
        assert len(records) == len(responses)
        for record, response in zip(records, responses, strict=True):
            line = json.loads(record.getMessage())
            assert set(line) >= {"request_id", "method", "path", "status", "ms"}
            assert line["request_id"] == response.headers["X-Request-Id"] and re.fullmatch(r"[0-9a-f]{12}",
                                                                                             line["request_id"])
            assert line["status"] == response.status_code and isinstance(line["ms"], float) and line["ms"] >= 0
            assert "\n" not in record.getMessage()
        assert "谁负责" not in caplog.text  # questions are not logged

    def test_error_logs_name_the_request_not_the_document(self, small_data, caplog, monkeypatch):
        svc = load_service(small_data, api_key=KEY)
        secret = "这是一段只应出现在文档里的独特文字用于检查日志" * 3
        text = V1.replace("全市新建充电桩3000个以上。", f"全市新建充电桩3000个以上。{secret}")

        def broken(*args, **kwargs):  # an unforeseen failure (a full disk is a 507, tested in test_writes)
            raise RuntimeError("injected write failure")

        monkeypatch.setattr(service_module, "update_index", broken)
        caplog.set_level(logging.INFO)
        with TestClient(create_app(svc.config, svc)) as c:
            r = upload(c, "secret.txt", text.encode(), doc_id="secretdoc")
            bad = upload(c, "bad.txt", ("没有编号的一段话。" + secret).encode())
        assert r.status_code == 500 and r.json()["request_id"] == r.headers["X-Request-Id"]
        assert bad.status_code == 422
        errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
        assert errors and json.loads(errors[0].getMessage())["request_id"] == r.headers["X-Request-Id"]
        assert secret[:12] not in caplog.text  # neither message nor traceback carries document text
        assert "injected write failure" in caplog.text
        rejected = [json.loads(rec.getMessage()) for rec in caplog.records
                    if rec.levelno == logging.WARNING and rec.name == "policyqa.api"]
        assert [(w.get("doc_id"), w.get("status")) for w in rejected] == [("bad", 422)]  # a refusal names its id

    def test_error_log_of_a_failed_upload_names_the_document(self, small_data, caplog, monkeypatch):
        svc = load_service(small_data, api_key=KEY)

        def broken(*args, **kwargs):
            raise RuntimeError("injected write failure")

        monkeypatch.setattr(service_module, "update_index", broken)
        caplog.set_level(logging.INFO)
        with TestClient(create_app(svc.config, svc)) as c:
            assert upload(c, "x.txt", V1.encode(), doc_id="doc-to-find").status_code == 500
        assert any("doc-to-find" in rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR)

