"""The HTTP API: every endpoint and error path, with TestClient and with a real uvicorn server."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.request

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.servers import free_port

KEY = "test-key-123"
GENRE_DOC = (
    "某某市人民政府办公室关于印发2024年重点工作责任分解的通知\n"
    "一、稳增长\n"
    "1．全市新建充电桩3000个以上。（责任单位：市能源局、市建设局）\n"
    "2．新增城镇就业3万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n"
)


@pytest.fixture(scope="module")
def client(service):
    config = dataclasses.replace(service.config, api_key=KEY)
    app = create_app(config, service)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def writable(make_writable_service):
    """A separate service for uploads, so they do not change what other tests see."""
    svc = make_writable_service(KEY)
    with TestClient(create_app(svc.config, svc)) as c:
        yield c


class TestRead:
    def test_health(self, client):
        body = client.get("/health").json()
        assert body["status"] == "ok" and body["documents"] == 2 and body["items"] > 600
        assert body["writes_enabled"] is True

    def test_officials(self, client):
        officials = {o["official"]: o["items"] for o in client.get("/officials").json()}
        assert officials["王文序"] == 8 and "张家胜" in officials

    def test_ask(self, client):
        r = client.post("/ask", json={"question": "农村公路新改建由谁牵头？"})
        assert r.status_code == 200
        body = r.json()
        assert body["found"] and body["intent"] == "owner"
        assert body["terms"] == ["农村公路新改建"]
        assert body["fields"]["lead_officials"] == ["张家胜"]
        assert body["fields"]["units"] == ["省交通运输厅"]
        c = body["citations"][0]
        assert c["doc_number"] == "浙政办发〔2023〕6号" and "农村公路新改建" in c["text"]
        assert set(c) >= {"doc_id", "doc_title", "doc_number", "section", "item_no", "ref", "text", "score"}

    def test_ask_refusal(self, client):
        body = client.post("/ask", json={"question": "火星基地建设目标是多少？"}).json()
        assert body["found"] is False and body["citations"] == []

    def test_ask_with_filter(self, client):
        body = client.post("/ask", json={"question": "高能级战略平台", "filters": {"unit": "省统计局"}}).json()
        assert body["found"] and "省统计局" in body["fields"]["units"]

    def test_search(self, client):
        body = client.get("/search", params={"q": "5G", "unit": "省经信厅"}).json()
        assert body["total"] >= 1
        assert all("省经信厅" in r["units"] for r in body["results"])
        assert any(t["value"] == "20" for r in body["results"] for t in r["targets"])

    def test_item_documents_units(self, client):
        docs = client.get("/documents").json()
        assert {d["doc_id"] for d in docs} == {"000_30a6bebbb49a94f9", "004_da63b5862d0a4b52"}
        item_id = client.post("/ask", json={"question": "农村公路新改建由谁牵头？"}).json()["citations"][0]["item_id"]
        item = client.get(f"/items/{item_id}").json()
        assert item["item_no"] == "七" and "ref" in item
        assert client.get("/items/nope").status_code == 404
        units = client.get("/units").json()
        dev = next(u for u in units if u["unit"] == "省发展改革委")
        assert "省发改委" in dev["aliases"] and dev["items"] > 20

    def test_openapi_docs(self, client):
        assert client.get("/docs").status_code == 200
        assert "/ask" in client.get("/openapi.json").json()["paths"]


class TestErrors:
    @pytest.mark.parametrize(
        "payload",
        [
            {"question": ""},
            {"question": "   "},
            {"question": "问" * 501},
            {"question": "谁负责", "top_k": 0},
            {"question": "谁负责", "top_k": 1000},
            {"question": "谁负责", "filters": {"unit": "x" * 101}},
            {"question": "谁负责", "unknown": 1},
            {},
        ],
    )
    def test_bad_questions_are_422(self, client, payload):
        r = client.post("/ask", json=payload)
        assert r.status_code == 422 and r.json()["detail"]

    def test_not_json(self, client):
        r = client.post("/ask", content=b"\xff\xfe", headers={"content-type": "application/json"})
        assert r.status_code == 422

    def test_search_bad_params(self, client):
        assert client.get("/search").status_code == 422
        assert client.get("/search", params={"q": "x", "limit": 0}).status_code == 422
        assert client.get("/search", params={"q": " "}).status_code == 422

    def test_writes_need_the_key(self, client):
        files = {"file": ("a.txt", GENRE_DOC.encode(), "text/plain")}
        assert client.post("/documents", files=files).status_code == 401
        assert client.post("/documents", files=files, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.delete("/documents/000_30a6bebbb49a94f9").status_code == 401

    def test_writes_disabled_without_a_configured_key(self, service):
        with TestClient(create_app(dataclasses.replace(service.config, api_key=None), service)) as c:
            r = c.delete("/documents/x", headers={"X-API-Key": "anything"})
            assert r.status_code == 403 and "已关闭" in r.json()["detail"]

    def test_read_key(self, service):
        config = dataclasses.replace(service.config, read_key="r", api_key=None)
        with TestClient(create_app(config, service)) as c:
            assert c.get("/documents").status_code == 401
            assert c.get("/documents", headers={"X-API-Key": "r"}).status_code == 200


class TestWrites:
    def test_upload_then_ask_then_delete(self, writable):
        h = {"X-API-Key": KEY}
        r = writable.post("/documents", files={"file": ("x.txt", GENRE_DOC.encode("gb18030"), "text/plain")},
                          data={"doc_id": "mycity-2024"}, headers=h)
        assert r.status_code == 201, r.text
        assert r.json()["items"] == 2
        body = writable.post("/ask", json={"question": "新建充电桩由哪个单位负责？"}).json()
        assert body["found"] and body["fields"]["units"] == ["市能源局", "市建设局"]
        assert body["citations"][0]["doc_id"] == "mycity-2024"
        assert writable.delete("/documents/mycity-2024", headers=h).status_code == 200
        assert writable.delete("/documents/mycity-2024", headers=h).status_code == 404
        assert "mycity-2024" not in {d["doc_id"] for d in writable.get("/documents").json()}

    def test_upload_errors(self, writable):
        h = {"X-API-Key": KEY}
        r = writable.post("/documents", files={"file": ("a.pdf", bytes(range(256)) * 10, "application/pdf")}, headers=h)
        assert r.status_code == 415
        r = writable.post("/documents", files={"file": ("big.txt", b"a" * 300_000, "text/plain")}, headers=h)
        assert r.status_code == 413
        r = writable.post("/documents", files={"file": ("e.txt", b"", "text/plain")}, headers=h)
        assert r.status_code == 422 and "文件是空的" in r.json()["detail"]
        r = writable.post("/documents", files={"file": ("n.txt", "没有编号的一段话。".encode(), "text/plain")}, headers=h)
        assert r.status_code == 422 and "没有找到编号的条目" in r.json()["detail"]
        r = writable.post("/documents", files={"file": ("a.txt", GENRE_DOC.encode(), "text/plain")},
                          data={"doc_id": "../etc"}, headers=h)
        assert r.status_code == 422 and "文档编号无效" in r.json()["detail"]
        assert writable.delete("/documents/..%2Fetc", headers=h).status_code in (404, 422)


def test_real_server_over_http(service):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service.config, service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/ask",
            data=json.dumps({"question": "农村公路新改建由谁牵头？"}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.loads(resp.read())
        assert body["fields"]["lead_officials"] == ["张家胜"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
