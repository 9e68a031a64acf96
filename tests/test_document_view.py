"""The document around a citation: GET /documents/{id} (its items in order), GET /documents/{id}/file
(the original as uploaded), the store of originals through uploads, replacements and deletes, and the
API's error bodies (Chinese `detail`, stable `code`)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from corpus import bundled_sources
from corpus.config import Config
from index.originals import Originals
from qa.service import PolicyQA
from tests.support.fakes import HashEmbedder

KEY = "view-key-0123456789"
H = {"X-API-Key": KEY}


def genre_doc(n: int) -> str:
    return (f"某{n}号市人民政府办公室关于印发2024年重点工作责任分解的通知\n一、稳增长\n"
            f"1．全市新建充电桩{1000 + n}个以上。（责任单位：市能源局、市建设局；完成时限：2024年6月底前）\n"
            f"2．新增城镇就业{n + 1}万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n")


def docx_of(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def bundled(service):
    with TestClient(create_app(service.config, service)) as client:
        yield client


@pytest.fixture()
def writable(tmp_path):
    config = Config(data_dir=tmp_path / "data", model_dir=tmp_path / "no-model", api_key=KEY)
    svc = PolicyQA(config, HashEmbedder(32))
    svc.build([Path(p) for p in bundled_sources()][:1], progress=False)
    with TestClient(create_app(config, svc)) as client:
        yield client, svc


class TestDocumentItems:
    def test_every_item_in_the_order_printed(self, bundled, service):
        listed = {d["doc_id"]: d["items"] for d in bundled.get("/documents").json()}
        for doc_id, count in listed.items():
            body = bundled.get(f"/documents/{doc_id}").json()
            assert len(body["items"]) == count
            lines = [service.index.items[t["item_id"]].line for t in body["items"]]
            assert lines == sorted(lines), "items out of the printed order"
            assert body["title"] and body["has_file"]

    def test_a_cited_item_is_in_its_document_with_its_fields(self, bundled):
        answer = bundled.post("/ask", json={"question": "农村公路新改建由谁牵头？"}).json()
        cited = answer["citations"][0]
        body = bundled.get(f"/documents/{cited['doc_id']}").json()
        item = next(t for t in body["items"] if t["item_id"] == cited["item_id"])
        assert item["ref"] == cited["ref"] and item["item_no"] == cited["item_no"]
        assert set(answer["fields"]["lead_units"] or answer["fields"]["units"]) <= set(item["lead_units"] + item["units"])

    def test_an_unknown_document_is_a_chinese_404(self, bundled):
        r = bundled.get("/documents/没有这份")
        assert r.status_code == 404 and r.json() == {"detail": "没有文档 '没有这份'", "code": "not_found"}
        assert bundled.get("/documents/没有这份/file").status_code == 404


class TestOriginals:
    def test_the_bundled_sources_come_back_byte_for_byte(self, bundled):
        by_name = {Path(p).name: Path(p).read_bytes() for p in bundled_sources()}
        for d in bundled.get("/documents").json():
            r = bundled.get(f"/documents/{d['doc_id']}/file")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            name = unquote(r.headers["content-disposition"].split("filename*=UTF-8''")[1])
            assert r.content == by_name[name]

    def test_an_upload_keeps_its_file_and_name(self, writable):
        client, _ = writable
        data = docx_of(genre_doc(1))
        r = client.post("/documents", headers=H, data={"doc_id": "d1"}, files={"file": ("重点工作.docx", data)})
        assert r.status_code == 201, r.text
        got = client.get("/documents/d1/file")
        assert got.content == data and "wordprocessingml" in got.headers["content-type"]
        assert got.headers["content-disposition"].endswith("filename*=UTF-8''" + "%E9%87%8D%E7%82%B9%E5%B7%A5%E4%BD%9C.docx")
        assert zipfile.is_zipfile(io.BytesIO(got.content))
        body = client.get("/documents/d1").json()
        assert body["file_name"] == "重点工作.docx" and [t["deadline"] for t in body["items"]][0] == "2024年6月底前"

    def test_a_replacement_and_a_delete_leave_no_stale_file(self, writable):
        client, svc = writable
        store = Originals(svc.config.data_dir / "originals")
        assert client.post("/documents", headers=H, data={"doc_id": "d2"},
                           files={"file": ("a.txt", genre_doc(2).encode())}).status_code == 201
        first = svc.documents()["d2"].checksum
        assert store.get(first) is not None
        assert client.post("/documents", headers=H, data={"doc_id": "d2"},
                           files={"file": ("b.txt", genre_doc(3).encode())}).status_code == 201
        second = svc.documents()["d2"].checksum
        assert store.get(first) is None and store.get(second).name == "b.txt"
        assert client.get("/documents/d2/file").content == genre_doc(3).encode()
        assert client.delete("/documents/d2", headers=H).status_code == 200
        assert store.get(second) is None and client.get("/documents/d2/file").status_code == 404
        kept = {p.name for p in store.root.iterdir()}
        assert kept == {c for d in svc.index.documents for c in (d.checksum, d.checksum + ".json")}

    def test_a_document_indexed_before_originals_were_kept_says_so(self, writable):
        client, svc = writable
        doc = svc.index.documents[0]
        for path in svc.originals.root.iterdir():
            path.unlink()
        r = client.get(f"/documents/{doc.doc_id}/file")
        assert r.status_code == 404 and "重新上传" in r.json()["detail"]
        assert client.get(f"/documents/{doc.doc_id}").json()["has_file"] is False


class TestErrorBodies:
    @pytest.mark.parametrize("method, path, body, status, code, says", [
        ("get", "/search", None, 422, "invalid_request", "缺少参数 q"),
        ("get", "/search?q=%20", None, 422, "invalid_request", "不能只有空白"),
        ("get", "/tasks?due_before=6月底", None, 422, "invalid_request", "参数 due_before 应为日期"),
        ("get", "/tasks?limit=0", None, 422, "invalid_request", "参数 limit 不能小于 1"),
        ("get", "/tasks?role=boss", None, 422, "invalid_request", "参数 role 只能是 'any' 或 'lead'"),
        ("post", "/ask", {"question": ""}, 422, "invalid_request", "字段 question 不能为空"),
        ("post", "/ask", {"question": "谁牵头？", "top_k": 500}, 422, "invalid_request", "字段 top_k 不能大于 50"),
        ("get", "/nowhere", None, 404, "not_found", "没有这个地址"),
        ("get", "/items/nothing", None, 404, "not_found", "没有条目"),
        ("put", "/ask", {}, 405, "method_not_allowed", "不支持"),
        ("delete", "/documents/x", None, 403, "forbidden", ""),
    ])
    def test_chinese_detail_and_a_stable_code(self, bundled, method, path, body, status, code, says):
        r = getattr(bundled, method)(path, **({"json": body} if body is not None else {}))
        assert r.status_code == status, r.text
        got = r.json()
        assert got["code"] == code and says in got["detail"]
        assert not any(english in got["detail"] for english in ("Field required", "Not Found", "Input should"))

    def test_an_unreadable_json_body(self, bundled):
        r = bundled.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json() == {"detail": "请求体不是有效的 JSON", "code": "invalid_request"}

    def test_the_schema_declares_the_code(self, bundled):
        schema = bundled.get("/openapi.json").json()["components"]["schemas"]["ErrorResponse"]
        assert set(schema["required"]) == {"detail", "code"}
