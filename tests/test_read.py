"""Reading documents of every supported type, and clear errors for malformed input."""

from __future__ import annotations

import io

import pytest

from corpus import DocumentError, parse_document, parse_file, parse_text, read_bytes
from corpus.read import detect_kind

GENRE_SNIPPET = (
    "某某市人民政府办公室关于印发2024年重点工作责任分解的通知\n"
    "一、稳增长\n"
    "1．全市地区生产总值增长6%左右。（责任单位：市发展改革委、市统计局）\n"
    "2．新增城镇就业3万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）\n"
)


class TestReadTypes:
    def test_gb18030_text(self, tmp_path):
        path = tmp_path / "gbk.txt"
        path.write_bytes(GENRE_SNIPPET.encode("gb18030"))
        parsed = parse_file(path)
        assert [i.units for i in parsed.items] == [
            ("市发展改革委", "市统计局"),
            ("市人力资源社会保障局", "市财政局"),
        ]
        assert read_bytes(path.read_bytes()).encoding == "gb18030"

    def test_html_with_entities(self):
        markup = "<html><body>" + "".join(f"<p>{line}</p>" for line in GENRE_SNIPPET.splitlines())
        markup = markup.replace("、", "&#12289;") + "</body></html>"
        source = read_bytes(markup.encode("utf-8"))
        assert source.kind == "html"
        parsed = parse_document(source, "html-doc")
        assert parsed.items[0].units == ("市发展改革委", "市统计局")

    def test_docx_paragraphs_and_table(self):
        docx = pytest.importorskip("docx")
        document = docx.Document()
        for line in GENRE_SNIPPET.splitlines():
            document.add_paragraph(line)
        table = document.add_table(rows=2, cols=4)
        for cell, text in zip(table.rows[0].cells, ["序号", "重点工作", "完成时限", "责任单位"], strict=True):
            cell.text = text
        for cell, text in zip(table.rows[1].cells, ["1", "建成5G基站1000个", "6月", "市经信局"], strict=True):
            cell.text = text
        buf = io.BytesIO()
        document.save(buf)
        source = read_bytes(buf.getvalue())
        assert source.kind == "docx"
        parsed = parse_document(source, "docx-doc")
        assert len(parsed.items) == 3
        assert parsed.items[-1].units == ("市经信局",)


class TestMalformedInput:
    def test_empty_file(self, tmp_path):
        path = tmp_path / "empty.txt"
        path.write_bytes(b"")
        with pytest.raises(DocumentError, match="文件是空的"):
            parse_file(path)

    def test_binary_file(self):
        with pytest.raises(DocumentError, match="二进制"):
            read_bytes(bytes(range(256)) * 8)

    def test_zip_that_is_not_docx(self):
        import zipfile

        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.txt", "hello")
        with pytest.raises(DocumentError, match="ZIP"):
            read_bytes(buf.getvalue())

    def test_broken_pdf(self):
        with pytest.raises(DocumentError, match="PDF"):
            read_bytes(b"%PDF-1.4\n garbage that is not a pdf")

    def test_wrong_encoding_is_detected_not_garbled(self):
        text = "一、总体要求\n1．做好工作。（责任单位：省财政厅）\n"
        source = read_bytes(text.encode("gb18030"))
        assert "省财政厅" in source.text()

    def test_no_numbered_items_is_a_warning(self):
        parsed = parse_text("这是一段说明文字，没有任何编号条目。", "plain")
        assert parsed.items == ()
        assert any("no numbered items" in w.message for w in parsed.warnings)

    def test_oversized_file(self, tmp_path):
        path = tmp_path / "big.txt"
        with path.open("wb") as fh:
            fh.truncate(50 * 1024 * 1024)
        with pytest.raises(DocumentError, match="文件过大"):
            parse_file(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(DocumentError, match="文件不存在"):
            parse_file(tmp_path / "nope.txt")

    def test_kind_by_content_not_name(self, tmp_path):
        assert detect_kind(b"%PDF-1.7 ...") == "pdf"
        assert detect_kind("一、总则".encode()) == "text"
