"""Documents people keep (evidence pack, reports to the regulator, scorecards, the monthly report).

An app builds a ``Document``, already in its reader's language, out of a few
kinds of block; this module alone knows how a block looks on paper. PDF goes
through WeasyPrint with Debian's Noto Sans CJK (installed by both of the
README's commands, never fetched at run time), DOCX through python-docx with
its East Asian font set, so Chinese renders in both. Text is escaped here:
callers pass plain strings, never markup.
"""

import hashlib
import io
from dataclasses import dataclass, field
from html import escape
from typing import Any, Union

# Debian's fonts-noto-cjk. "SC" first: the documents are Simplified Chinese.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK", "WenQuanYi Micro Hei")
# What Word on a reader's PC uses for the Chinese runs of a DOCX (any CJK font there will do).
DOCX_EAST_ASIAN_FONT = "SimSun"
DOCX_LATIN_FONT = "Calibri"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2  # 1 is the document's own title; sections are 2, sub-sections 3


@dataclass(frozen=True)
class Paragraph:
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Facts:
    """Label and value pairs: an incident's facts, a report's header."""

    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    # Relative column widths (e.g. [1, 1, 4]); equal when empty.
    widths: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    """A chart: SVG for the PDF, PNG (optional) for the DOCX, and its caption in both."""

    svg: str
    caption: str = ""
    png: bytes | None = None


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Union[Heading, Paragraph, Facts, Table, Figure, PageBreak]


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)
    subtitle: str = ""
    # "zh-hans" or "en": the PDF's lang attribute, which picks the CJK glyph forms.
    language: str = "zh-hans"
    # A line printed on every page's foot, e.g. "Fenghuo evidence pack · incident #12".
    footer: str = ""
    # A mark across the top of the first page and in every page's head, e.g. "【演练】" for a drill.
    banner: str = ""
    author: str = ""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- PDF --------------------------------------------------------------------------------------

_CSS = """
@page {
  size: A4; margin: 18mm 16mm 20mm 16mm;
  @bottom-left { content: var(--footer); font-size: 8pt; color: #57606a; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #57606a; }
  @top-center { content: var(--banner); font-size: 9pt; color: #b35900; font-weight: bold; }
}
html { font-family: %(fonts)s, sans-serif; font-size: 10pt; line-height: 1.45; color: #1f2328; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
.subtitle { color: #57606a; margin: 0 0 6mm; }
.banner { border: 2px solid #b35900; color: #b35900; font-weight: bold; padding: 2mm 3mm; margin-bottom: 5mm;
          background: repeating-linear-gradient(45deg, #fff4e5, #fff4e5 6px, #ffffff 6px, #ffffff 12px); }
h2 { font-size: 13pt; border-bottom: 1px solid #d0d7de; padding-bottom: 1mm; margin: 6mm 0 2mm; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm; }
p { margin: 0 0 2mm; white-space: pre-wrap; }
p.muted { color: #57606a; }
table { border-collapse: collapse; width: 100%%; margin: 1mm 0 3mm; }
th, td { border: 1px solid #d0d7de; padding: 1mm 1.5mm; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f6f8fa; }
table.facts th { width: 30%%; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
figure { margin: 2mm 0 4mm; page-break-inside: avoid; }
figure svg { max-width: 100%%; height: auto; }
figcaption { color: #57606a; font-size: 9pt; }
.page-break { page-break-after: always; }
"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 2), 4)
        return f"<h{level}>{escape(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        css = ' class="muted"' if block.muted else ""
        return f"<p{css}>{escape(block.text)}</p>"
    if isinstance(block, Facts):
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in block.items)
        return f'<table class="facts">{rows}</table>'
    if isinstance(block, Table):
        cols = ""
        if block.widths:
            total = sum(block.widths) or 1
            cols = "<colgroup>" + "".join(f'<col style="width:{w * 100 / total:.1f}%">' for w in block.widths) + "</colgroup>"
        head = "".join(f"<th>{escape(h)}</th>" for h in block.headers)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Figure):
        # The SVG is the caller's own drawing (never user input): it goes in as markup.
        caption = f"<figcaption>{escape(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure>{block.svg}{caption}</figure>"
    if isinstance(block, PageBreak):
        return '<div class="page-break"></div>'
    raise TypeError(f"not a document block: {block!r}")


def to_html(doc: Document) -> str:
    fonts = ", ".join(f'"{f}"' for f in CJK_FONTS)
    variables = f":root {{ --footer: {_css_string(doc.footer)}; --banner: {_css_string(doc.banner)}; }}"
    parts = [
        f'<!doctype html><html lang="{escape(doc.language)}"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title>",
        f'<meta name="author" content="{escape(doc.author)}">' if doc.author else "",
        f"<style>{_CSS % {'fonts': fonts}}{variables}</style></head><body>",
        f'<div class="banner">{escape(doc.banner)}</div>' if doc.banner else "",
        f"<h1>{escape(doc.title)}</h1>",
        f'<p class="subtitle">{escape(doc.subtitle)}</p>' if doc.subtitle else "",
        *(_html_block(b) for b in doc.blocks),
        "</body></html>",
    ]
    return "".join(parts)


def render_pdf(doc: Document) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which only document-making processes need.
    from weasyprint import HTML

    return HTML(string=to_html(doc)).write_pdf()


# --- DOCX -------------------------------------------------------------------------------------


def _east_asian(run_or_style: Any, name: str = DOCX_EAST_ASIAN_FONT) -> None:
    from docx.oxml.ns import qn

    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _docx_table(document: Any, headers: list[str], rows: list[list[str]], *, header_column: bool = False) -> Any:
    table = document.add_table(rows=0, cols=len(headers) if headers else (len(rows[0]) if rows else 1))
    table.style = "Table Grid"
    if headers:
        cells = table.add_row().cells
        for cell, text in zip(cells, headers, strict=False):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=False)):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = header_column and i == 0
    return table


def render_docx(doc: Document) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Inches, Pt, RGBColor

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = DOCX_LATIN_FONT
    normal.font.size = Pt(10.5)
    _east_asian(normal)
    for style_name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4"):
        _east_asian(document.styles[style_name])
    props = document.core_properties
    props.title = doc.title
    if doc.author:
        props.author = doc.author
    if doc.banner:
        banner = document.add_paragraph()
        run = banner.add_run(doc.banner)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB3, 0x59, 0x00)
    document.add_heading(doc.title, level=0)
    if doc.subtitle:
        document.add_paragraph(doc.subtitle)
    for block in doc.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=min(max(block.level - 1, 1), 3))
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.text)
            if block.muted:
                run.font.color.rgb = RGBColor(0x57, 0x60, 0x6A)
        elif isinstance(block, Facts):
            _docx_table(document, [], [[k, v] for k, v in block.items], header_column=True)
        elif isinstance(block, Table):
            _docx_table(document, block.headers, block.rows)
        elif isinstance(block, Figure):
            if block.png:
                document.add_picture(io.BytesIO(block.png), width=Inches(6))
            if block.caption:
                document.add_paragraph(block.caption)
        elif isinstance(block, PageBreak):
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            raise TypeError(f"not a document block: {block!r}")
    section = document.sections[0]
    if doc.footer:
        section.footer.paragraphs[0].text = doc.footer
    if doc.banner:
        section.header.paragraphs[0].text = doc.banner
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
