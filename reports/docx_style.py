"""The look of a Party document (Hướng dẫn 36-HD/VPTW on the format of the Party's documents)
for the report drafts, written with python-docx.

A4 portrait, margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm; Times New Roman 14 pt
body (13 pt in tables); page numbers at the top centre from the second page. The header block
is a table without borders: top left the superior body, the issuing body in bold and “*”
under it, then the number (“Số     -BC/ĐU”); top right “ĐẢNG CỘNG SẢN VIỆT NAM” in bold,
underlined, and the place and date in italics. Then the title (“BÁO CÁO”) and its subtitle,
the body, and at the end “Nơi nhận:” bottom left and the signature block bottom right
(“T/M …”, the role, room to sign and a line for the name), kept together on one page.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from xml.sax.saxutils import escape

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
PLACEHOLDER = "[Đơn vị bổ sung: {what}]"
TEXT_WIDTH_MM = 210 - 30 - 15


def new_draft() -> Document:
    """An empty document with the page, margins, fonts and the page number in place."""
    doc = new_document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)
    form = normal.paragraph_format
    form.space_before, form.space_after = Pt(0), Pt(6)
    form.line_spacing = 1.1
    section.different_first_page_header_footer = True
    _page_number(section.header.paragraphs[0])
    return doc


def _page_number(paragraph: Paragraph) -> None:
    """A PAGE field, centred."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    run.font.size = Pt(BODY_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1")):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def line(
    container: Document | _Cell,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float | None = None,
    align: str = "justify",
    indent: bool = False,
    after: float | None = None,
    keep: bool = False,
) -> Paragraph:
    """A paragraph of one run. ``align``: left, center, right, justify; ``indent``: the first
    line indented 1 cm as in the body of a report; ``keep``: kept with the next paragraph."""
    paragraph = container.add_paragraph()
    paragraph.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    form = paragraph.paragraph_format
    if indent:
        form.first_line_indent = Cm(1)
    if after is not None:
        form.space_after = Pt(after)
    if keep:
        form.keep_with_next = True
    if text:
        run = paragraph.add_run(text)
        if bold:
            run.bold = True
        if italic:
            run.italic = True
        if underline:
            run.underline = True
        if size is not None:
            run.font.size = Pt(size)
    return paragraph


def heading(doc: Document, text: str, *, italic: bool = False) -> Paragraph:
    """A numbered heading of the body (“I. …”, “1. …”), bold, kept with what follows."""
    return line(doc, text, bold=True, italic=italic, indent=True, keep=True)


def body(doc: Document, text: str) -> Paragraph:
    return line(doc, text, indent=True)


def placeholder(doc: Document, what: str) -> Paragraph:
    """What the database cannot know, for the unit to write: “[Đơn vị bổ sung: …]”, italic."""
    return line(doc, PLACEHOLDER.format(what=what), italic=True, indent=True)


def _borderless(table: Table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _keep_row(table: Table) -> None:
    """No row of the table is split across two pages."""
    for row in table.rows:
        properties = row._tr.get_or_add_trPr()
        element = OxmlElement("w:cantSplit")
        properties.append(element)


def _widths(table: Table, widths_mm: Sequence[float]) -> None:
    """Column widths, in the grid (which LibreOffice follows) and in every cell (Word)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def _first(cell: _Cell, text: str, **style: object) -> Paragraph:
    """The cell's first (empty) paragraph, filled."""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    for prop in ("bold", "italic", "underline"):
        if style.get(prop):
            setattr(run, prop, True)
    size = style.get("size")
    if isinstance(size, (int, float)):
        run.font.size = Pt(size)
    return paragraph


def header_block(
    doc: Document, superior: str | None, issuer: str, number: str, place_date: str
) -> Table:
    """The top of the first page (left: bodies, “*”, number; right: the Party's name, the
    place and date)."""
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (80, TEXT_WIDTH_MM - 80))
    left, right = table.rows[0].cells
    if superior:
        _first(left, superior.upper(), size=14)
        line(left, issuer.upper(), bold=True, size=14, align="center", after=0)
    else:
        _first(left, issuer.upper(), bold=True, size=14)
    line(left, "*", align="center", after=0)
    line(left, number, size=14, align="center", after=0)
    _first(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, underline=True, size=15)
    line(right, "", after=0)
    line(right, place_date, italic=True, size=14, align="center", after=0)
    for cell in (left, right):
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.space_after = Pt(0)
    _keep_row(table)
    return table


def title(doc: Document, text: str, subtitle: str) -> None:
    line(doc, "", after=0)
    line(doc, text, bold=True, size=16, align="center", after=0, keep=True)
    line(doc, subtitle, bold=True, size=14, align="center", after=0, keep=True)
    line(doc, "-----", align="center", keep=True)


def grid(
    doc: Document,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths_mm: Sequence[float],
    *,
    bold_last: bool = False,
) -> Table:
    """A bordered table, 12 pt: the header row bold (repeated on each page); text left, numbers
    centred; with ``bold_last`` the last row (a total) in bold. The rows are written as XML in
    one piece (python-docx's cell by cell API takes a second for a few hundred rows)."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _first(cell, text, bold=True, size=TABLE_PT)
    repeat = OxmlElement("w:tblHeader")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    _widths(table, widths_mm)
    _keep_row(table)
    twips = [round(w / 25.4 * 1440) for w in widths_mm]
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        xml = "".join(
            _row_xml(values, twips, bold_last and start + r == len(rows) - 1)
            for r, values in enumerate(chunk)
        )
        holder = parse_xml(f"<w:tbl {nsdecls('w')}>{xml}</w:tbl>")
        for tr in list(holder):
            table._tbl.append(tr)
    line(doc, "", after=0)
    return table


def _row_xml(values: Sequence[object], twips: Sequence[int], bold: bool) -> str:
    cells = []
    run_props = f'{"<w:b/>" if bold else ""}<w:sz w:val="{TABLE_PT * 2}"/>'
    for value, width in zip(values, twips, strict=True):
        text = "" if value is None else str(value)
        align = "left" if isinstance(value, str) and not text.isdigit() else "center"
        run = (
            f'<w:r><w:rPr>{run_props}</w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'
            if text
            else ""
        )
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
            f'<w:p><w:pPr><w:spacing w:after="0"/><w:jc w:val="{align}"/></w:pPr>{run}</w:p>'
            "</w:tc>"
        )
    return f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{''.join(cells)}</w:tr>"


def closing(doc: Document, recipients: Sequence[str], on_behalf: str, role: str) -> Table:
    """“Nơi nhận:” bottom left, the signature block bottom right, on one page."""
    table = doc.add_table(rows=1, cols=2)
    _borderless(table)
    _widths(table, (80, TEXT_WIDTH_MM - 80))
    left, right = table.rows[0].cells
    paragraph = left.paragraphs[0]
    run = paragraph.add_run("Nơi nhận:")
    run.bold, run.italic, run.underline = True, True, True
    run.font.size = Pt(12)
    for recipient in recipients:
        line(left, f"- {recipient}", size=12, align="left", after=0)
    _first(right, on_behalf.upper(), bold=True, size=14)
    line(right, role.upper(), bold=True, size=14, align="center", after=0)
    for _ in range(4):
        line(right, "", after=0)
    line(right, "(Ký, ghi rõ họ tên)", italic=True, size=12, align="center", after=0)
    line(right, "……………………………", align="center", after=0)
    for paragraph in (*left.paragraphs, *right.paragraphs):
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.keep_with_next = True
    _keep_row(table)
    return table


def to_bytes(doc: Document) -> bytes:
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
