"""One realistic document of the genre, written out in every format policyqa reads: the same
source as .docx (merged cells), .xlsx, and through LibreOffice as PDF and .doc; the PDF rendered to
images as a scan, and its placed text written as an OFD. The parity tests compare what each parses to."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

TITLE = "某市人民政府办公室关于印发2025年重点工作任务分工方案的通知"
NUMBER = "某政办发〔2025〕8号"
INTRO = "各区人民政府，市政府各部门：经市政府同意，现将2025年重点工作任务分工方案印发给你们，请认真贯彻落实。"
SECTIONS = [
    ("一、扩大有效投资", [
        "1．全年完成固定资产投资增长6%以上。（牵头单位：市发展改革委；责任单位：市财政局、市统计局；完成时限：2025年12月底）",
        "2．新开工重大项目50个以上，年度完成投资300亿元。（牵头单位：市发展改革委；责任单位：各区人民政府；完成时限：2025年11月底）",
    ]),
    ("二、培育数字经济", [
        "3．新建5G基站1200个，实现重点场所全覆盖。（牵头单位：市经信局；责任单位：市通信管理局；完成时限：2025年10月底）",
        "4．培育省级专精特新中小企业40家。（责任单位：市经信局、市科技局；完成时限：2025年12月底）",
    ]),
]
ANNEX = "附件"
TABLE_TITLE = "2025年民生实事项目任务分工表"
HEADER = ["序号", "项目名称", "年度目标", "牵头单位", "配合单位", "完成时限"]
_PROJECTS = [
    ("新建口袋公园", "新建口袋公园20个", "市住房城乡建设局", "各区人民政府", "2025年9月底"),
    ("改造老旧小区", "改造老旧小区45个", "市住房城乡建设局", "市财政局", "2025年11月底"),
    ("新增养老床位", "新增养老床位800张", "市民政局", "市卫生健康委", "2025年12月底"),
    ("建设充电桩", "建成公共充电桩1500个", "市发展改革委", "市供电公司", "2025年10月底"),
    ("新增托育托位", "新增普惠托育托位600个", "市卫生健康委", "市教育局", "2025年12月底"),
    ("改造农村公路", "新改建农村公路120公里", "市交通运输局", "各区人民政府", "2025年11月底"),
    ("建设城市绿道", "新建城市绿道35公里", "市园林局", "市自然资源规划局", "2025年10月底"),
    ("新增学位", "新增中小学学位5000个", "市教育局", "市财政局", "2025年8月底"),
    ("改造供水管网", "改造老旧供水管网80公里", "市水务局", "市城管局", "2025年12月底"),
    ("建设社区食堂", "建成社区食堂30家", "市民政局", "市市场监管局", "2025年9月底"),
    ("新增停车泊位", "新增公共停车泊位4000个", "市城管局", "市公安局", "2025年11月底"),
    ("改造农贸市场", "改造提升农贸市场12家", "市商务局", "市市场监管局", "2025年10月底"),
    ("建设体育公园", "新建体育公园8个", "市体育局", "市园林局", "2025年12月底"),
    ("开展技能培训", "开展职业技能培训3万人次", "市人力资源社会保障局", "市财政局", "2025年12月底"),
    ("新增就业岗位", "开发公益性岗位1200个", "市人力资源社会保障局", "各区人民政府", "2025年6月底"),
    ("改造危旧房", "完成农村危房改造300户", "市住房城乡建设局", "市农业农村局", "2025年10月底"),
    ("建设污水设施", "新建污水收集管网60公里", "市水务局", "市生态环境局", "2025年12月底"),
    ("建设电动自行车充电设施", "新建电动自行车充电端口2万个", "市消防救援支队", "市住房城乡建设局", "2025年9月底"),
    ("加装电梯", "既有住宅加装电梯150台", "市住房城乡建设局", "市市场监管局", "2025年12月底"),
    ("建设无障碍设施", "改造无障碍设施200处", "市残联", "市住房城乡建设局", "2025年11月底"),
    ("建设便民服务站", "建成便民服务站50个", "市商务局", "各区人民政府", "2025年10月底"),
    ("开展免费筛查", "开展适龄妇女两癌免费筛查2万人", "市卫生健康委", "市妇联", "2025年12月底"),
]
# the 牵头单位 of rows 1 and 2 is one cell merged down, as offices print it
ROWS = [[str(n), *p] for n, p in enumerate(_PROJECTS, start=1)]
HEADER_TEXT = "某市人民政府办公室文件"  # printed at the top of every page, as a running header
MERGED = (1, 2, 3)  # rows 1–2 (0-based data rows 0 and 1) share column 3


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(NUMBER)
    document.add_paragraph(INTRO)
    for heading, items in SECTIONS:
        document.add_paragraph(heading)
        for item in items:
            document.add_paragraph(item)
    document.add_paragraph(ANNEX)
    document.add_paragraph(TABLE_TITLE)
    table = document.add_table(rows=len(ROWS) + 1, cols=len(HEADER))
    table.style = "Table Grid"
    for r, values in enumerate([HEADER, *ROWS]):
        for cell, text in zip(table.rows[r].cells, values, strict=True):
            cell.text = text
    first, last, col = MERGED
    merged = table.cell(first, col).merge(table.cell(last, col))
    merged.text = ROWS[0][col]
    section = document.sections[0]
    section.header.paragraphs[0].text = HEADER_TEXT
    _page_number_field(section.footer.paragraphs[0])
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _page_number_field(paragraph) -> None:
    """"— N —" in the footer, N a PAGE field as Word inserts it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == "PAGE":
            instr = OxmlElement("w:instrText")
            instr.text = text
            run._r.append(instr)
        else:
            t = OxmlElement("w:t")
            t.text = text
            run._r.append(t)
    paragraph.add_run(" —")


def xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "任务分工"
    sheet.append([TABLE_TITLE] + [None] * (len(HEADER) - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append([int(row[0]), *row[1:]])
    first, last, col = MERGED
    sheet.cell(row=2 + last, column=col + 1).value = None
    sheet.merge_cells(start_row=2 + first, start_column=col + 1, end_row=2 + last, end_column=col + 1)
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(data: bytes, suffix: str, target: str) -> bytes:
    """The bytes converted by LibreOffice (the test's own call, independent of the reader's)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"doc{suffix}"
        source.write_bytes(data)
        subprocess.run([office(), f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to",
                        target, "--outdir", tmp, str(source)], capture_output=True, timeout=180, check=True)
        return (Path(tmp) / f"doc.{target}").read_bytes()


def scanned_pdf(pdf: bytes, scale: float = 2.5) -> bytes:
    """The PDF's pages rendered to images and saved as an image-only PDF, as a scanner makes it."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    images = [document[i].render(scale=scale).to_pil().convert("L") for i in range(len(document))]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=72 * scale)
    return buf.getvalue()


def scanned_png(pdf: bytes, page: int = 0, scale: float = 2.5) -> bytes:
    import pypdfium2

    image = pypdfium2.PdfDocument(pdf)[page].render(scale=scale).to_pil()
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


_OFD_NS = "http://www.ofdspec.org/2016"


def ofd_bytes(pdf: bytes) -> bytes:
    """The PDF's words, placed where the PDF places them, written as an OFD (one TextObject a word)."""
    import pdfplumber

    mm = 25.4 / 72
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            objects = []
            for n, w in enumerate(page.extract_words(keep_blank_chars=False, use_text_flow=True), start=1):
                size = (w["bottom"] - w["top"]) * mm
                x, y, width = w["x0"] * mm, w["top"] * mm, (w["x1"] - w["x0"]) * mm
                advance = width / max(len(w["text"]), 1)
                text = w["text"].replace("&", "&amp;").replace("<", "&lt;")
                objects.append(
                    f'<ofd:TextObject ID="{n}" Boundary="{x:.2f} {y:.2f} {width:.2f} {size:.2f}" Font="1" '
                    f'Size="{size:.2f}"><ofd:TextCode X="0" Y="{size:.2f}" '
                    f'DeltaX="g {max(len(w["text"]) - 1, 0)} {advance:.2f}">{text}</ofd:TextCode></ofd:TextObject>')
            pages.append(f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{_OFD_NS}"><ofd:Content>'
                         f'<ofd:Layer ID="0">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{_OFD_NS}" '
                    f'Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:Title>{TITLE}</ofd:Title>'
                    '</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        listed = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
        zf.writestr("Doc_0/Document.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{_OFD_NS}">'
                    f'<ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
                    f'</ofd:CommonData><ofd:Pages>{listed}</ofd:Pages></ofd:Document>')
        for i, page in enumerate(pages):
            zf.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", page)
    return buf.getvalue()
