"""Writes that cannot hurt reads: upload bursts, zip bombs, huge bodies, an outside ingest, a full disk,
headers and exposure, explicit replacement, schema honesty.

Everything runs on the fake embedder (HashEmbedder(32)) over one small genre document; the servers
are real (uvicorn on loopback) where the point is what other requests see meanwhile.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from corpus.config import Config
from qa.service import PolicyQA
from tests.servers import free_port
from tests.support.fakes import HashEmbedder

ROOT = Path(__file__).resolve().parent.parent
SMALL_CORPUS = ROOT / "tests" / "data" / "genre" / "ncp_xiangtan_zxqy_2020.txt"
KEY = "writes-key-0123456789"
READ_KEY = "read-key-0123456789"
H = {"X-API-Key": KEY}


def genre_doc(n: int) -> str:
    """A small document of the genre, different for every n."""
    return (f"某{n}号市人民政府办公室关于印发2024年重点工作责任分解的通知\n一、稳增长\n"
            f"1．全市新建充电桩{1000 + n}个以上。（责任单位：市能源局、市建设局）\n"
            f"2．新增城镇就业{n + 1}万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n")


def config_for(data: Path, **changes) -> Config:
    return Config(data_dir=data, model_dir=data.parent / "no-model", **changes)


@pytest.fixture(scope="module")
def small_base(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("writes-small") / "data"
    PolicyQA(config_for(data), HashEmbedder(32)).build([SMALL_CORPUS], progress=False)
    return data


@pytest.fixture()
def small_data(small_base, tmp_path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(small_base, dest, symlinks=True)
    return dest


class Server:
    """A real server on loopback in a thread, for as long as the `with` block lasts."""

    def __init__(self, data: Path, **config) -> None:
        import uvicorn

        self.svc = PolicyQA(config_for(data, **config), HashEmbedder(32)).load()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.svc.config, self.svc), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


SERVE = textwrap.dedent("""
    import sys
    from pathlib import Path
    import uvicorn
    from api.app import create_app
    from corpus.config import Config
    from tests.support.fakes import HashEmbedder
    from qa.service import PolicyQA
    data, port, key = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    svc = PolicyQA(Config(data_dir=data, model_dir=data.parent / "no-model", api_key=key), HashEmbedder(32)).load()
    uvicorn.run(create_app(svc.config, svc), host="127.0.0.1", port=port, log_level="warning")
""")


class ServerProcess:
    """The server in a process of its own, as it runs in production: the test's clients do not share
    its interpreter."""

    def __init__(self, data: Path, key: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-c", SERVE, str(data), str(self.port), key]

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.proc.kill()
        raise AssertionError("the server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def raw_request(port: int, head: str, body: bytes = b"", timeout: float = 5.0) -> tuple[int, bytes]:
    """Send a request's head (and maybe part of a body) over a bare socket; the status and what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 4 + 10:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_job(client, job_id: str, headers=H, timeout: float = 120.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


# ===== writes off the request path =================================================================
class TestUploadBurst:
    def test_eighty_concurrent_uploads_leave_reads_fast(self, small_data, tmp_path):
        # the uploads come from a process of their own, as a burst from an office would: in this process
        # their 80 client threads would hold the interpreter that times the reads
        burst = textwrap.dedent("""
            import json, sys, threading
            import httpx
            base, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
            client = httpx.Client(base_url=base, timeout=60,
                                  limits=httpx.Limits(max_connections=80, max_keepalive_connections=80))
            replies = []
            def upload(n):
                text = (f"某{n}号市人民政府办公室关于印发2024年重点工作责任分解的通知\\n一、稳增长\\n"
                        f"1．全市新建充电桩{1000 + n}个以上。（责任单位：市能源局、市建设局）\\n")
                r = client.post("/documents", params={"wait": "false"}, headers={"X-API-Key": key},
                                files={"file": (f"burst{n}.txt", text.encode(), "text/plain")})
                replies.append([r.status_code, r.json().get("job_id")])
            threads = [threading.Thread(target=upload, args=(n,)) for n in range(80)]
            for t in threads: t.start()
            for t in threads: t.join()
            open(out, "w").write(json.dumps(replies))
        """)
        out = tmp_path / "replies.json"
        with ServerProcess(small_data, KEY) as server:
            sender = subprocess.Popen([sys.executable, "-c", burst, server.base, KEY, str(out)])
            slowest, seen = 0.0, []
            with httpx.Client(base_url=server.base, timeout=30) as client:
                while sender.poll() is None or len(seen) < 20:
                    for method, path, body in (("GET", "/health", None),
                                               ("POST", "/ask", {"question": "新建充电桩由哪个单位负责？"})):
                        started = time.perf_counter()
                        r = client.request(method, path, json=body)
                        slowest = max(slowest, time.perf_counter() - started)
                        seen.append(f"{path} {time.perf_counter() - started:.2f}")
                        assert r.status_code == 200
                    time.sleep(0.1)
                assert sender.wait(timeout=120) == 0
                replies = json.loads(out.read_text())
                assert [status for status, _ in replies] == [202] * 80, replies
                # on 2 cores shared by the server, the sender and the parsing children the slowest read
                # was 0.28–0.47 s over 9 runs (docs/reliability.md); 12–88 s before the writer thread
                assert slowest < 1.0, f"a read took {slowest:.2f} s during the burst: {seen}"
                finished = [wait_job(client, job_id, timeout=240) for _, job_id in replies]
                assert all(j["state"] == "done" and j["status"] == 201 for j in finished), finished[:3]
                assert client.get("/health").json()["documents"] == 81

    def test_a_waiting_upload_returns_its_result(self, small_data):
        svc = PolicyQA(config_for(small_data, api_key=KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            r = client.post("/documents", files={"file": ("a.txt", genre_doc(1).encode(), "text/plain")}, headers=H)
            assert r.status_code == 201 and r.json()["items"] == 2 and r.json()["replaced"] is False
            job = client.get(f"/jobs/{r.json()['job_id']}", headers=H).json()
            assert job["state"] == "done" and job["result"]["doc_id"] == "a"


# ===== limits before work ===========================================================================
def zip_bomb(unpacked_mb: int) -> bytes:
    """A .docx whose document.xml unpacks to `unpacked_mb` MB of one repeated run."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w", force_zip64=True) as f:
            chunk = b"<w:t>" + b"A" * (1024 * 1024 - 5)
            for _ in range(unpacked_mb):
                f.write(chunk)
    return buf.getvalue()


class TestLimitsBeforeWork:
    def test_a_zip_bomb_is_refused_and_memory_stays_low(self, small_data):
        bomb = zip_bomb(400)
        assert len(bomb) < 2 * 1024 * 1024
        with Server(small_data, api_key=KEY) as server:
            before = rss_mb()
            r = httpx.post(server.base + "/documents", headers=H, timeout=60,
                           files={"file": ("bomb.docx", bomb, "application/octet-stream")})
            grown = rss_mb() - before
        assert r.status_code == 413, r.text
        assert "解压" in r.json()["detail"]
        assert grown < 300, f"the server grew by {grown:.0f} MB"

    def test_a_huge_body_without_a_key_is_refused_before_it_is_read(self, small_data):
        with Server(small_data, api_key=KEY, read_key=READ_KEY) as server:
            started = time.perf_counter()
            status, reply = raw_request(server.port, "POST /documents HTTP/1.1\r\nHost: x\r\n"
                                        "Content-Type: multipart/form-data; boundary=b\r\n"
                                        "Content-Length: 500000000\r\n\r\n", b"--b\r\n")
            assert status == 401 and time.perf_counter() - started < 2.0
            status, _ = raw_request(server.port, "POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 300000000\r\n\r\n", b"{")
            assert status == 401
            # with the key, the declared size alone is refused
            status, reply = raw_request(server.port, "POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                        f"X-API-Key: {READ_KEY}\r\nContent-Length: 300000000\r\n\r\n", b"{")
            assert status == 413 and "请求体过大".encode() in reply

    def test_a_streamed_body_is_cut_at_the_limit(self, small_data):
        svc = PolicyQA(config_for(small_data, api_key=KEY, max_upload_bytes=100_000), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            def chunks():
                for _ in range(100):
                    yield b"x" * 10_000  # 1 MB in all, no Content-Length
            r = client.post("/documents", content=chunks(), headers={**H, "Content-Type": "multipart/form-data; boundary=b"})
            assert r.status_code == 413

    def test_two_file_parts_are_422(self, small_data):
        svc = PolicyQA(config_for(small_data, api_key=KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            r = client.post("/documents", headers=H, files=[("file", ("a.txt", genre_doc(1).encode(), "text/plain")),
                                                            ("file", ("b.txt", genre_doc(2).encode(), "text/plain"))])
            assert r.status_code == 422 and "一个文件" in r.json()["detail"]


# ===== one truth for the index =======================================================================
class TestOutsideIngest:
    def test_a_cli_ingest_is_picked_up_by_a_running_server(self, small_data, tmp_path):
        doc = tmp_path / "outside.txt"
        doc.write_text(genre_doc(7), encoding="utf-8")
        child = textwrap.dedent("""
            import sys
            from pathlib import Path
            from corpus.config import Config
            from tests.support.fakes import HashEmbedder
            from qa.service import PolicyQA
            data = Path(sys.argv[1])
            svc = PolicyQA(Config(data_dir=data, model_dir=data.parent / "no-model"), HashEmbedder(32)).load()
            svc.ingest_bytes(Path(sys.argv[2]).read_bytes(), "outside", "outside.txt")
        """)
        with Server(small_data, watch_seconds=0.5) as server:
            assert httpx.get(server.base + "/health").json()["documents"] == 1
            subprocess.run([sys.executable, "-c", child, str(small_data), str(doc)], cwd=ROOT, check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
            deadline = time.time() + 5
            while time.time() < deadline and httpx.get(server.base + "/health").json()["documents"] != 2:
                time.sleep(0.2)
            assert httpx.get(server.base + "/health").json()["documents"] == 2
            r = httpx.post(server.base + "/ask", json={"question": "某7号市新建充电桩多少个？"})
            assert "1007" in r.json()["answer"]

    def test_startup_removes_partial_folders_no_writer_holds(self, small_data):
        partial = small_data / "indexes" / ".tmp-20200101-000000-abcdef"
        partial.mkdir()
        (partial / "documents.jsonl").write_text("{}", encoding="utf-8")
        PolicyQA(config_for(small_data), HashEmbedder(32)).load()
        assert not partial.exists()


# ===== a full disk ====================================================================================
@pytest.fixture()
def tiny_disk(small_base, tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        data = mount / "data"
        shutil.copytree(small_base, data, symlinks=True)
        yield data
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


class TestFullDisk:
    def test_a_full_disk_is_a_clear_507_and_a_delete_still_goes_through(self, tiny_disk):
        svc = PolicyQA(config_for(tiny_disk, api_key=KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            assert client.post("/documents", headers=H, files={
                "file": ("first.txt", genre_doc(1).encode(), "text/plain")}).status_code == 201
            filler = tiny_disk.parent / "filler"
            with open(filler, "wb") as f:  # fill the disk to the last block
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            r = client.post("/documents", headers=H, files={"file": ("second.txt", genre_doc(2).encode(), "text/plain")})
            assert r.status_code == 507 and "磁盘空间不足" in r.json()["detail"]
            r = client.delete("/documents/first", headers=H)
            assert r.status_code == 200, r.text
            assert "first" not in {d.doc_id for d in svc.index.documents}


# ===== headers, exposure, schema honesty ================================================================
class TestHeadersAndExposure:
    def test_security_headers_on_every_response(self, small_data):
        svc = PolicyQA(config_for(small_data), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            for r in (client.get("/health"), client.get("/"), client.get("/nope"),
                      client.post("/ask", json={"question": ""})):
                assert r.headers["x-content-type-options"] == "nosniff"
                assert "frame-ancestors 'none'" in r.headers["content-security-policy"]

    def test_with_a_read_key_only_a_bare_health_is_open(self, small_data):
        svc = PolicyQA(config_for(small_data, read_key=READ_KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            for path in ("/", "/docs", "/openapi.json", "/documents"):
                assert client.get(path).status_code == 401, path
            assert client.get("/health").json() == {"status": "ok"}
            full = client.get("/health", headers={"X-API-Key": READ_KEY}).json()
            assert full["documents"] == 1 and full["model"]

    def test_head_options_content_type_and_strict_types(self, small_data):
        svc = PolicyQA(config_for(small_data, api_key=KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            head = client.head("/health")
            assert head.status_code == 200 and head.content == b""
            allow = client.options("/documents").headers["allow"]
            assert {"GET", "POST"} <= set(allow.replace(" ", "").split(","))
            assert client.post("/ask", content=b"question=x", headers={
                "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
            for top_k in (True, "5"):
                assert client.post("/ask", json={"question": "充电桩", "top_k": top_k}).status_code == 422
            schema = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]
            assert schema["question"].get("pattern")

    def test_a_replacement_says_so(self, small_data):
        svc = PolicyQA(config_for(small_data, api_key=KEY), HashEmbedder(32)).load()
        with TestClient(create_app(svc.config, svc)) as client:
            first = client.post("/documents", headers=H, files={"file": ("same.txt", genre_doc(1).encode(), "text/plain")})
            second = client.post("/documents", headers=H, files={"file": ("same.txt", genre_doc(2).encode(), "text/plain")})
            assert first.json()["replaced"] is False
            assert second.json()["replaced"] is True and second.json()["previous"]["items"] == 2
