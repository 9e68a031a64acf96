"""The same document in every format an office has: .docx, PDF (made by LibreOffice, with a running
header and a page-number footer, its table breaking over a page), .doc, a scanned PDF (the PDF's
pages rendered to images), a PNG of one page, .xlsx (the task table, merged cells) and OFD. Each
parses to the same items with the same units, lead units, deadlines and targets as the .docx."""

from __future__ import annotations

import pytest

from corpus import parse_document, read_bytes
from corpus.read import UnsupportedFormat, detect_kind
from tests import formats_source as source

needs_office = pytest.mark.skipif(source.office() is None, reason="LibreOffice is not installed")


def fields(data: bytes) -> list[tuple]:
    parsed = parse_document(read_bytes(data), "parity")
    return [(i.item_no, i.units, i.lead_units, i.deadline, tuple(t.value for t in i.targets)) for i in parsed.items]


def differing(got: list[tuple], want: list[tuple]) -> list[str]:
    """The items of `want` that `got` lacks or has otherwise, by item number."""
    return [f"{w} -> {g}" for w, g in zip(want, got, strict=False) if w != g] + [f"{w} -> (missing)" for w in want[len(got):]]


@pytest.fixture(scope="module")
def docx() -> bytes:
    pytest.importorskip("docx")
    return source.docx_bytes()


@pytest.fixture(scope="module")
def want(docx) -> list[tuple]:
    items = fields(docx)
    assert len(items) == 4 + len(source.ROWS)
    assert items[0] == ("1", ("市发展改革委", "市财政局", "市统计局"), ("市发展改革委",), "2025年12月底", ("6",))
    assert items[5][1:3] == (("市住房城乡建设局", "市财政局"), ("市住房城乡建设局",))  # the merged 牵头单位
    return items


@pytest.fixture(scope="module")
def pdf(docx) -> bytes:
    if source.office() is None:
        pytest.skip("LibreOffice is not installed")
    return source.convert(docx, ".docx", "pdf")


class TestTextFormats:
    def test_pdf_from_libreoffice(self, pdf, want):
        import io

        import pdfplumber

        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            assert len(doc.pages) >= 2  # the table breaks over a page: the join is tested
        assert differing(fields(pdf), want) == []

    def test_pdf_running_header_is_dropped(self, pdf):
        document = parse_document(read_bytes(pdf), "parity").document
        assert document.title == source.TITLE
        text = read_bytes(pdf).text()
        assert source.HEADER_TEXT not in text and "— 1 —" not in text

    @needs_office
    def test_old_word(self, docx, want):
        doc = source.convert(docx, ".docx", "doc")
        assert detect_kind(doc) == "doc"
        assert read_bytes(doc).kind == "doc"
        assert differing(fields(doc), want) == []

    def test_ofd(self, pdf, want):
        ofd = source.ofd_bytes(pdf)
        assert detect_kind(ofd) == "ofd"
        assert differing(fields(ofd), want) == []


class TestSpreadsheet:
    def test_xlsx_task_table(self, want):
        pytest.importorskip("openpyxl")
        data = source.xlsx_bytes()
        assert detect_kind(data) == "xlsx"
        table_items = want[4:]
        assert differing(fields(data), table_items) == []

    @needs_office
    def test_old_excel(self, want):
        pytest.importorskip("openpyxl")
        xls = source.convert(source.xlsx_bytes(), ".xlsx", "xls")
        assert detect_kind(xls) == "xls"
        assert differing(fields(xls), want[4:]) == []

    def test_merged_title_row_is_a_paragraph_above_the_table(self):
        pytest.importorskip("openpyxl")
        from corpus.blocks import Paragraph, Table

        blocks = read_bytes(source.xlsx_bytes()).blocks
        assert isinstance(blocks[0], Paragraph) and blocks[0].text == source.TABLE_TITLE
        assert isinstance(blocks[1], Table) and blocks[1].rows[2].cells[3].inherited


@pytest.fixture(scope="module")
def ocr():
    return pytest.importorskip("rapidocr_onnxruntime")


class TestScans:
    def test_scanned_pdf(self, ocr, pdf, want):
        scan = source.scanned_pdf(pdf)
        document = read_bytes(scan)
        assert document.ocr_pages >= 2 and document.ocr_confidence > 0.9
        wrong = differing(fields(scan), want)
        assert len(wrong) <= 0.02 * len(want), wrong

    def test_report_says_the_text_came_from_ocr(self, ocr, pdf):
        parsed = parse_document(read_bytes(source.scanned_pdf(pdf)), "parity")
        assert parsed.document.report.ocr_pages >= 2
        assert any("OCR" in line for line in parsed.document.report.lines())

    def test_png_of_the_first_page(self, ocr, pdf, want):
        png = source.scanned_png(pdf)
        assert detect_kind(png) == "png"
        got = fields(png)
        assert got[:4] == want[:4]


class TestUnsupported:
    @pytest.mark.parametrize("data", [b"\x7fELF\x02\x01\x01" + b"\x00" * 200,
                                      b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600])
    def test_unknown_bytes_list_the_formats(self, data):
        with pytest.raises(UnsupportedFormat, match="支持的格式") as info:
            read_bytes(data)
        assert "OFD" in str(info.value) and ".xlsx" in str(info.value)

    def test_old_word_without_libreoffice_says_what_to_install(self, monkeypatch, docx):
        from corpus.read import DocumentError
        from corpus.readers import office

        monkeypatch.setattr(office, "office_binary", lambda: None)
        fake_doc = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + b"\x00" * 600
        with pytest.raises(DocumentError, match="LibreOffice"):
            read_bytes(fake_doc)


class TestUploads:
    """Each format through the API: type by content (the name says .bin), parsed in the upload's child
    process under its memory and time limits, the parse report saying how the text was read."""

    @pytest.fixture(scope="class")
    def client(self, make_writable_service):
        from fastapi.testclient import TestClient

        from api.app import create_app

        svc = make_writable_service("k", max_upload_bytes=5_000_000)
        with TestClient(create_app(svc.config, svc)) as client:
            yield client

    def post(self, client, data: bytes, doc_id: str):
        return client.post("/documents", files={"file": ("upload.bin", data, "application/octet-stream")},
                           data={"doc_id": doc_id}, headers={"X-API-Key": "k"})

    @pytest.mark.parametrize("kind", ["doc", "xlsx", "ofd", "scan"])
    def test_format_upload(self, client, docx, pdf, kind, want):
        if kind == "doc" and source.office() is None:
            pytest.skip("LibreOffice is not installed")
        if kind == "scan":
            pytest.importorskip("rapidocr_onnxruntime")
        data = {"doc": lambda: source.convert(docx, ".docx", "doc"), "xlsx": source.xlsx_bytes,
                "ofd": lambda: source.ofd_bytes(pdf), "scan": lambda: source.scanned_pdf(pdf)}[kind]()
        r = self.post(client, data, f"parity_{kind}")
        assert r.status_code == 201, r.text
        assert r.json()["items"] == (len(source.ROWS) if kind == "xlsx" else len(want))
        report = client.get("/documents", headers={"X-API-Key": "k"}).json()
        assert report

    def test_unsupported_is_415_in_chinese(self, client):
        r = self.post(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "ole")
        assert r.status_code == 415 and "支持的格式" in r.json()["detail"], r.text
