"""core/documents.py: the one renderer of the documents people keep, read back as a reader would."""

import io

import docx
import pypdf

from core.documents import Document, Facts, Figure, Heading, PageBreak, Paragraph, Table, render_docx, render_pdf, sha256_hex

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><rect width="120" height="30" fill="#d1242f"/></svg>'


def a_document():
    return Document(
        title="征信系统故障事件证据包", subtitle="事件 #12 · 红色预警", banner="【演练】", footer="烽火 · 事件 #12",
        blocks=[
            Heading("事件概况"),
            Facts([("发生时间", "2026-12-03 09:00"), ("影响系统", "征信前置机 <script>alert(1)</script>")]),
            Paragraph("网络中断，分支机构无法报送征信数据。"),
            Table(["时间", "事件", "操作人"], [["09:00", "事件登记", "王值班"], ["09:05", "升级为橙色预警", "系统"]],
                  widths=[1, 3, 1]),
            Figure(SVG, caption="按级别的事件数"),
            PageBreak(),
            Heading("Summary in English", level=3),
            Paragraph("Recovered at 10:12."),
        ],
    )


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_pdf_carries_its_chinese_text_readable_back():
    data = render_pdf(a_document())
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in ("征信系统故障事件证据包", "事件概况", "发生时间", "网络中断，分支机构无法报送征信数据", "升级为橙色预警",
                     "王值班", "按级别的事件数", "Recovered at 10:12", "【演练】"):
        assert expected in text, expected
    # Callers pass text, never markup: a value that looks like a tag is printed as it is.
    assert "<script>alert(1)</script>" in text
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 2  # the page break


def test_a_docx_carries_the_same_text_with_an_east_asian_font():
    data = render_docx(a_document())
    document = docx.Document(io.BytesIO(data))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "征信系统故障事件证据包" in paragraphs and "网络中断，分支机构无法报送征信数据。" in paragraphs
    assert "升级为橙色预警" in cells and "征信前置机 <script>alert(1)</script>" in cells
    assert document.sections[0].header.paragraphs[0].text == "【演练】"
    assert document.sections[0].footer.paragraphs[0].text == "烽火 · 事件 #12"
    normal_fonts = document.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")


def test_sha256_hex_is_the_files_digest():
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
