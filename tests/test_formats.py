"""Every format read as its structure: blocks and real tables, merged cells resolved, the same items
from the same document whatever its format."""

from __future__ import annotations

import io

import pytest

from corpus import parse_document, read_bytes
from corpus.blocks import Heading, Paragraph, Table

TITLE = "某市人民政府办公室关于印发2024年重点工作任务分工的通知"
PROSE = [
    "一、稳增长",
    "1．全市地区生产总值增长6%左右。（责任单位：市发展改革委、市统计局）",
    "2．新增城镇就业3万人以上。（牵头单位：市人力资源社会保障局；责任单位：市财政局）",
]
HEADER = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]
ROWS = [
    ["1", "建成5G基站1000个", "市经信局", "市通信管理局、市住房城乡建设局", "6月底前"],
    ["2", "新建口袋公园20个", "市绿化市容局", "——", "年底前"],
]


def as_text() -> bytes:
    lines = [TITLE, *PROSE, "附件", "重点任务分工表", "\t".join(HEADER), *("\t".join(r) for r in ROWS)]
    return "\n".join(lines).encode("utf-8")


def as_html() -> bytes:
    cells = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in ROWS)
    markup = (f"<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
              + "".join(f"<p>{p}</p>" for p in PROSE)
              + f"<p>附件</p><p>重点任务分工表</p><table><tr>{cells}</tr>{body}</table></body></html>")
    return markup.encode("utf-8")


def as_markdown() -> bytes:
    table = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER), *("| " + " | ".join(r) + " |" for r in ROWS)]
    text = "\n\n".join([f"---\n标题: {TITLE}\n文号: 某政办发〔2024〕3号\n发布日期: 2024-02-01\n---\n# {TITLE}",
                        *PROSE, "附件", "重点任务分工表", "\n".join(table)])
    return text.encode("utf-8")


def as_docx() -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph(TITLE)
    for line in PROSE + ["附件", "重点任务分工表"]:
        document.add_paragraph(line)
    table = document.add_table(rows=len(ROWS) + 1, cols=len(HEADER))
    for r, values in enumerate([HEADER, *ROWS]):
        for cell, text in zip(table.rows[r].cells, values, strict=True):
            cell.text = text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def as_pdf() -> bytes:
    pytest.importorskip("reportlab")
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph as PdfParagraph
    from reportlab.platypus import SimpleDocTemplate, TableStyle
    from reportlab.platypus import Table as PdfTable

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # a CJK font that needs no font file
    style = ParagraphStyle("cn", fontName="STSong-Light", fontSize=10, leading=14)
    table = PdfTable([HEADER, *ROWS])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                               ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build(
        [PdfParagraph(t, style) for t in [TITLE, *PROSE, "附件", "重点任务分工表"]] + [table])
    return buf.getvalue()


def fields(parsed) -> list[tuple]:
    return [(i.text.replace(" ", "").split("（")[0], i.units, i.lead_units, i.deadline) for i in parsed.items]


EXPECTED = [
    ("全市地区生产总值增长6%左右。", ("市发展改革委", "市统计局"), (), None),
    ("新增城镇就业3万人以上。", ("市人力资源社会保障局", "市财政局"), ("市人力资源社会保障局",), None),
    ("建成5G基站1000个", ("市经信局", "市通信管理局", "市住房城乡建设局"), ("市经信局",), "6月底前"),
    ("新建口袋公园20个", ("市绿化市容局",), ("市绿化市容局",), "年底前"),
]


class TestParity:
    """The same document as .txt, .html, .md, .docx and .pdf gives the same items and fields."""

    @pytest.mark.parametrize("make, kind", [(as_text, "text"), (as_html, "html"), (as_markdown, "markdown"),
                                             (as_docx, "docx"), (as_pdf, "pdf")])
    def test_same_items(self, make, kind):
        source = read_bytes(make())
        assert source.kind == kind
        parsed = parse_document(source, "parity")
        assert fields(parsed) == EXPECTED
        assert parsed.items[2].fields[2] == ("牵头单位", "市经信局")
        assert parsed.items[2].section == ("重点任务分工表",)

    def test_markdown_front_matter_is_metadata(self):
        parsed = parse_document(read_bytes(as_markdown()), "md")
        assert parsed.document.title == TITLE
        assert parsed.document.number == "某政办发〔2024〕3号"
        assert parsed.document.date == "2024-02-01"

    def test_html_title_tag_is_metadata(self):
        assert parse_document(read_bytes(as_html()), "h").document.title == TITLE

    def test_pdf_keeps_pages(self):
        source = read_bytes(as_pdf())
        assert source.pages == 1
        assert all(b.location.page == 1 for b in source.blocks)


class TestHtmlTables:
    def test_rowspan_resolved_and_marked(self):
        markup = (
            "<table><tr><th>序号</th><th>重点任务</th><th>具体内容</th><th>牵头部门</th><th>完成时限</th></tr>"
            "<tr><td>1</td><td rowspan='2'>优化营商环境</td><td>推行一网通办</td><td>市政务服务中心</td>"
            "<td rowspan='2'>2024年底前</td></tr>"
            "<tr><td>2</td><td>压减审批时限</td><td>市发展改革委</td></tr></table>"
        ).encode()
        source = read_bytes(markup)
        (table,) = [b for b in source.blocks if isinstance(b, Table)]
        second = table.rows[2]
        assert [c.text for c in second.cells] == ["2", "优化营商环境", "压减审批时限", "市发展改革委", "2024年底前"]
        assert [c.inherited for c in second.cells] == [False, True, False, False, True]
        items = parse_document(source, "h").items
        assert [(i.item_no, i.deadline, i.units) for i in items] == [
            ("1", "2024年底前", ("市政务服务中心",)), ("2", "2024年底前", ("市发展改革委",))]
        assert items[1].text.startswith("优化营商环境")

    def test_blank_cell_without_a_span_stays_blank(self):
        markup = ("<table><tr><th>序号</th><th>重点工作</th><th>完成时限</th><th>责任单位</th></tr>"
                  "<tr><td>1</td><td>建成5G基站1000个</td><td>6月</td><td>市经信局</td></tr>"
                  "<tr><td>2</td><td>新建公园20个</td><td></td><td></td></tr></table>").encode()
        items = parse_document(read_bytes(markup), "t").items
        assert [(i.item_no, i.units, i.deadline) for i in items] == [("1", ("市经信局",), "6月"), ("2", (), None)]

    def test_two_level_header_with_year_columns(self):
        markup = (
            "<table><tr><td rowspan=2>省（市）</td><td rowspan=2>扩招</td><td colspan=3>分年度招生任务</td></tr>"
            "<tr><td>1996年</td><td>1997年</td><td>1998年</td></tr>"
            "<tr><td>江苏</td><td>100</td><td>120</td><td>140</td><td>200</td></tr></table>"
        ).encode()
        (item,) = parse_document(read_bytes(markup), "x").items
        assert item.fields[-1] == ("分年度招生任务·1998年", "200")
        assert {(t.year, t.value) for t in item.targets} >= {("1996", "120"), ("1998", "200")}
        assert item.printed.replace(" ", "") == "江苏100120140200"

    def test_layout_table_around_the_text_is_not_data(self):
        markup = ("<tbody><tr><td id='UCAP-CONTENT'><p>一、总体要求</p><p>（一）做好就业工作。（人力资源社会保障部负责）</p>"
                  "<p>（二）加大资金支持。（财政部负责）</p></td></tr></tbody>").encode()
        source = read_bytes(markup)
        assert not [b for b in source.blocks if isinstance(b, Table)]
        assert [i.units for i in parse_document(source, "g").items] == [("人力资源社会保障部",), ("财政部",)]


class TestWordTables:
    def test_vertical_and_horizontal_merges(self):
        docx = pytest.importorskip("docx")
        document = docx.Document()
        document.add_heading("重点任务分工", level=1)
        table = document.add_table(rows=4, cols=4)
        for cell, text in zip(table.rows[0].cells, ["序号", "重点任务", "责任单位", "完成时限"], strict=True):
            cell.text = text
        for r, values in ((1, ["1", "推进老旧小区改造", "区住房城乡建设委", "6月底前"]), (2, ["2", "", "区财政局", ""]),
                          (3, ["3", "加强宣传", "区委宣传部", "全年"])):
            for cell, text in zip(table.rows[r].cells, values, strict=True):
                cell.text = text
        table.cell(1, 1).merge(table.cell(2, 1))  # 重点任务 over two rows
        table.cell(1, 3).merge(table.cell(2, 3))  # 完成时限 over two rows
        buf = io.BytesIO()
        document.save(buf)
        source = read_bytes(buf.getvalue())
        assert isinstance(source.blocks[0], Heading)
        (tbl,) = [b for b in source.blocks if isinstance(b, Table)]
        row = tbl.rows[2]
        assert [c.text for c in row.cells] == ["2", "推进老旧小区改造", "区财政局", "6月底前"]
        assert [c.inherited for c in row.cells] == [False, True, False, True]
        items = parse_document(source, "w").items
        assert [(i.units, i.deadline) for i in items] == [
            (("区住房城乡建设委",), "6月底前"), (("区财政局",), "6月底前"), (("区委宣传部",), "全年")]


class TestFlattenedTables:
    """A table a converter wrote one cell per paragraph: rebuilt from its header and sequence numbers."""

    CELLS = ["附件", "任务分工表", "序号", "重点任务", "具体工作", "时间进度", "责任部门",
             "一", "推进节能降碳",
             "1", "开展重点用能单位节能监察，完成年度节能目标", "年内完成", "发展改革委、生态环境局",
             "2", "推动既有公共建筑节能改造，能耗下降15%以上", "全年推进", "建设管理委、机管局等",
             "二", "推进资源循环利用",
             "3", "统筹协调推进塑料污染治理工作", "持续推进", "发展改革委、市场监管局、",
             "商务委"]

    def parsed(self, sep: str):
        text = "某区2026年节能减排重点工作安排\n\n一、总体要求\n\n全面完成年度目标。\n\n" + sep.join(self.CELLS)
        return parse_document(read_bytes(text.encode()), "f")

    @pytest.mark.parametrize("sep", ["\n", "\n\n"])
    def test_rows_rebuilt_with_groups(self, sep):
        rows = [i for i in self.parsed(sep).items if i.fields]
        assert [(i.item_no, i.deadline, i.units) for i in rows] == [
            ("1", "年内完成", ("发展改革委", "生态环境局")),
            ("2", "全年推进", ("建设管理委", "机管局")),
            ("3", "持续推进", ("发展改革委", "市场监管局", "商务委")),  # a cell broken after 、 is joined
        ]
        assert rows[0].section == ("任务分工表", "一推进节能降碳")
        assert rows[2].section[-1] == "二推进资源循环利用"

    def test_sub_rows_share_the_merged_task(self):
        cells = ["序号", "工作任务", "主要工作内容", "牵头单位", "配合单位",
                 "（一）", "加强源头监管", "落实工地数字化监督管理。", "区城运中心", "区数据局、区建设管理委",
                 "加强拆房工地监督管理。", "区房管局", "——",
                 "（二）", "严打“黑车”运营", "开展专项执法整治行动", "公安分局", "区建设管理委"]
        items = parse_document(read_bytes("\n\n".join(cells).encode()), "q").items
        assert [(i.text.split("：")[0], i.lead_units, i.units) for i in items] == [
            ("加强源头监管", ("区城运中心",), ("区城运中心", "区数据局", "区建设管理委")),
            ("加强源头监管", ("区房管局",), ("区房管局",)),
            ("严打“黑车”运营", ("公安分局",), ("公安分局", "区建设管理委")),
        ]
        # the sub-row as printed follows the cells of the row whose merged cell it shares
        assert "——" not in items[0].printed and "加强源头监管" in items[1].printed.replace(" ", "")

    def test_headerless_table_by_recurring_numbers(self):
        cells = ["指标体系", "1", "人均体育场地面积", "㎡/人", "区体育局", "2", "公共厕所服务优良率", "%", "区绿化市容局",
                 "3", "城市常年积水内涝点数量", "个", "区水务局、区房管局"]
        items = parse_document(read_bytes("\n\n".join(cells).encode()), "x").items
        assert [(i.item_no, i.units) for i in items] == [
            ("1", ("区体育局",)), ("2", ("区绿化市容局",)), ("3", ("区水务局", "区房管局"))]


class TestBlocks:
    def test_text_keeps_lines_and_tables(self):
        source = read_bytes(as_text())
        assert isinstance(source.blocks[0], Paragraph) and source.blocks[0].location.line == 1
        (table,) = [b for b in source.blocks if isinstance(b, Table)]
        assert table.rows[0].texts == tuple(HEADER) and table.location.line == 7

    def test_markdown_list_keeps_its_numbers(self):
        source = read_bytes("# 标题\n\n1. 第一项工作。\n2. 第二项工作。\n".encode())
        assert [b.text for b in source.blocks if isinstance(b, Paragraph)] == ["1.第一项工作。", "2.第二项工作。"]


@pytest.mark.parametrize(("scanned_at", "read_at"), [(150, 200), (200, 200), (300, 300), (600, 300)])
def test_a_scan_is_read_at_its_own_resolution_within_bounds(scanned_at, read_at):
    """A 300-dpi scan read at 200 dpi lost half its items' fields (docs/formats.md): read at its own."""
    import io

    import pdfplumber
    from PIL import Image

    from corpus.readers.pdf import ocr_scale

    page = Image.new("L", (int(8.27 * scanned_at), int(11.69 * scanned_at)), 255)  # an A4 page
    buf = io.BytesIO()
    page.save(buf, format="PDF", resolution=scanned_at)
    with pdfplumber.open(io.BytesIO(buf.getvalue())) as pdf:
        assert round(ocr_scale(pdf.pages[0]) * 72) == read_at
