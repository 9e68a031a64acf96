"""Where policyqa keeps its data (POLICYQA_HOME, whatever the working directory), a first ingest into
an empty home, and a server that listens at once and says what it is doing until it is ready."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.cli import main as cli_main
from corpus.config import Config, load_config
from qa.service import PolicyQA
from tests.servers import free_port
from tests.support.fakes import HashEmbedder

SMALL = Path(__file__).resolve().parent / "data" / "genre" / "ncp_xiangtan_zxqy_2020.txt"


class TestHome:
    def test_policyqa_home_is_the_data_folder(self, tmp_path):
        assert load_config({"POLICYQA_HOME": str(tmp_path / "h")}).data_dir == tmp_path / "h"

    def test_the_default_does_not_depend_on_the_working_directory(self, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        first = load_config({}).data_dir
        monkeypatch.chdir(tmp_path)
        assert load_config({}).data_dir == first == tmp_path / "xdg" / "policyqa"

    def test_the_older_variable_still_wins(self, tmp_path):
        env = {"POLICYQA_HOME": str(tmp_path / "h"), "POLICYQA_DATA_DIR": str(tmp_path / "d")}
        assert load_config(env).data_dir == tmp_path / "d"

    def test_ingest_into_an_empty_home_builds_the_index(self, real_config, tmp_path, capsys):
        home = tmp_path / "empty-home"
        args = ["--data-dir", str(home), "--model-dir", str(real_config.model_dir)]
        assert cli_main([*args, "ingest", str(SMALL)]) == 0
        assert "12 items" in capsys.readouterr().out
        assert cli_main([*args, "ask", "加大信贷支持力度由谁负责？"]) == 0
        out = capsys.readouterr().out
        assert "湘潭" in out and "未找到" not in out
        assert (home / "originals").is_dir() and (home / "index" / "manifest.json").exists()


class _SlowFirstBuild(PolicyQA):
    """A service whose first build waits for the test, so that the test sees the server meanwhile."""

    go = threading.Event()

    def build(self, paths=None, progress=True):
        assert self.go.wait(60)
        return super().build([SMALL], progress=False)


class TestStart:
    def test_listens_at_once_and_says_what_it_is_doing(self, tmp_path):
        import uvicorn

        config = Config(data_dir=tmp_path / "home", model_dir=tmp_path / "no-model")
        svc = _SlowFirstBuild(config, HashEmbedder(32))
        app = create_app(dataclasses.replace(config), svc, start_in_background=True)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 30
            while not server.started and time.time() < deadline:
                time.sleep(0.05)
            assert server.started
            r = httpx.get(f"{base}/health", timeout=5)
            assert r.status_code == 503
            assert r.json() == {"detail": "正在为内置文档建立索引（首次启动）", "code": "unavailable"}
            r = httpx.post(f"{base}/ask", json={"question": "加大信贷支持力度由谁负责？"}, timeout=5)
            assert r.status_code == 503 and "建立索引" in r.json()["detail"]
            assert httpx.get(f"{base}/", timeout=5).status_code == 200  # the page loads and shows the state
            _SlowFirstBuild.go.set()
            deadline = time.time() + 60
            while httpx.get(f"{base}/health", timeout=5).status_code != 200:
                assert time.time() < deadline, "the server never became ready"
                time.sleep(0.2)
            body = httpx.get(f"{base}/health", timeout=5).json()
            assert body["status"] == "ok" and body["documents"] == 1
            r = httpx.post(f"{base}/ask", json={"question": "加大信贷支持力度由谁负责？"}, timeout=10)
            assert r.status_code == 200 and r.json()["citations"]
        finally:
            server.should_exit = True
            thread.join(timeout=10)

    def test_a_failed_start_stays_up_and_says_why(self, tmp_path):
        from fastapi.testclient import TestClient

        class Broken(PolicyQA):
            def build(self, paths=None, progress=True):
                raise OSError("磁盘只读")

        config = Config(data_dir=tmp_path / "home", model_dir=tmp_path / "no-model")
        with TestClient(create_app(config, Broken(config, HashEmbedder(32)), start_in_background=True)) as client:
            deadline = time.time() + 10
            while "启动失败" not in client.get("/health").json()["detail"]:
                assert time.time() < deadline
                time.sleep(0.05)
            r = client.get("/health")
            assert r.status_code == 503 and "磁盘只读" in r.json()["detail"]


@pytest.fixture(autouse=True)
def _reset_gate():
    _SlowFirstBuild.go.clear()
    yield
    _SlowFirstBuild.go.set()
