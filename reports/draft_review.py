"""The five-year review draft along the outline of the Kế hoạch tổng kết 2021–2025 (Điện
Biên): Phần thứ nhất (leadership, results per field with the collective and individual models
of each year, assessment), Phần thứ hai (direction, proposals), then Biểu 1 with the documents
of the whole period. Figures from :mod:`reports.drafts`; the rest placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from docx.document import Document as DocxDocument
from docx.enum.text import WD_BREAK
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import FIELD_KEYS, FIELD_SHORT, Field
from reports import docx_style as S
from reports.bieu1 import HEADERS as BIEU1_HEADERS
from reports.bieu1 import roman
from reports.draft_doc import (
    FIELD_PROSE,
    MOVEMENT,
    above,
    documents_section,
    ending,
    issuer_of,
    number_and_date,
    open_document,
    typical_prose,
)
from reports.draft_lists import DocumentLine, lead_documents, typical_models
from reports.drafts import FieldSplit, fields_by_year, fields_of_period
from storage.models import Unit

BIEU1_TITLE = "VĂN BẢN LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” GIAI ĐOẠN"
TYPICAL_PER_FIELD = 3
YEAR_TABLE = ("Lĩnh vực", "Tập thể", "Cá nhân", "Cộng")


def _split_text(split: FieldSplit) -> str:
    return f"{split.collective} tập thể, {split.individual} cá nhân"


def year_rows(by_field: dict[str, FieldSplit]) -> list[list[object]]:
    """A year's table: one row per field (Khác only when it has models), then Cộng."""
    rows: list[list[object]] = []
    for key in FIELD_KEYS:
        s = by_field[key]
        if key == Field.OTHER.value and not s.total:
            continue
        rows.append([FIELD_SHORT[Field(key)], s.collective, s.individual, s.total])
    coll = sum(s.collective for s in by_field.values())
    indiv = sum(s.individual for s in by_field.values())
    rows.append(["Cộng", coll, indiv, coll + indiv])
    return rows


def bieu1_rows(documents: Sequence[DocumentLine]) -> list[list[object]]:
    """Biểu 1's rows: grouped by unit (a Roman numeral and the unit) when several units have
    documents, numbered from 1 within each."""
    units = list(dict.fromkeys(d.unit_name for d in documents))
    grouped = len(units) > 1
    rows: list[list[object]] = []
    for g, unit in enumerate(units, 1):
        if grouped:
            rows.append([roman(g), unit, ""])
        mine = [d for d in documents if d.unit_name == unit]
        rows += [[n, number_and_date(d), d.content] for n, d in enumerate(mine, 1)]
    return rows


def _part(doc: DocxDocument, number: str, name: str) -> None:
    """The heading of a part of the review (“Phần thứ nhất”, its name under it), centred,
    bold, kept with what follows."""
    S.line(doc, number, bold=True, align="center", keep=True, after=0)
    S.line(doc, name, bold=True, align="center", keep=True)


async def build_review(
    session: AsyncSession,
    root: Unit,
    first: int,
    last: int,
    *,
    subtree: bool = True,
    today: date,
) -> bytes:
    who = await issuer_of(session, root)
    period = f"giai đoạn {first} - {last}"
    doc = open_document(who, today, f"tổng kết {MOVEMENT} {period}")
    documents = await lead_documents(session, root, first, last, subtree)
    by_year = await fields_by_year(session, root, first, last, subtree)
    whole = await fields_of_period(session, root, first, last, subtree)
    typical = await typical_models(session, root, first, last, subtree)

    _part(doc, "Phần thứ nhất", f"KẾT QUẢ PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” {period.upper()}")
    S.heading(doc, "I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO THỰC HIỆN")
    S.heading(doc, "1. Công tác lãnh đạo, chỉ đạo")
    documents_section(doc, documents, period)
    if documents:
        S.body(doc, "(Chi tiết tại Biểu 1 kèm theo.)")
    S.placeholder(doc, "đánh giá công tác lãnh đạo, chỉ đạo")
    S.heading(doc, "2. Công tác tuyên truyền, quán triệt")
    S.placeholder(doc, "hình thức tuyên truyền, số lượng tin bài")
    S.heading(doc, "3. Công tác kiểm tra, giám sát, khảo sát đánh giá việc thực hiện")
    S.placeholder(doc, "công tác kiểm tra, giám sát, khảo sát")
    S.heading(doc, "4. Việc sơ kết, tổng kết, biểu dương, khen thưởng các mô hình, điển hình")
    S.placeholder(doc, "sơ kết, tổng kết, biểu dương, khen thưởng qua các năm")

    S.heading(doc, "II. KẾT QUẢ THỰC HIỆN")
    S.heading(doc, "1. Kết quả thực hiện nhiệm vụ công tác dân vận và phong trào thi đua")
    S.placeholder(doc, "hiệu quả, tác động của phong trào với nhiệm vụ chính trị")
    S.heading(doc, f"2. Kết quả xây dựng mô hình, điển hình “Dân vận khéo” {period}")
    total = FieldSplit(
        sum(s.collective for s in whole.values()), sum(s.individual for s in whole.values())
    )
    S.body(
        doc,
        f"Từ năm {first} đến năm {last}, có {total.total} mô hình, điển hình “Dân vận khéo” "
        f"({_split_text(total)}; mỗi mô hình tính một lần, theo lĩnh vực của năm gần nhất): "
        + "; ".join(
            f"{FIELD_PROSE[k].lower()}: {whole[k].total}"
            for k in FIELD_KEYS
            if k != Field.OTHER.value or whole[k].total
        )
        + ". Số mô hình từng năm:",
    )
    for year, by_field in by_year.items():
        S.line(doc, f"Năm {year}", italic=True, align="center", keep=True)
        S.grid(doc, YEAR_TABLE, year_rows(by_field), (70, 30, 30, 30), bold_last=True)
    for n, key in enumerate(FIELD_KEYS, 1):
        if key == Field.OTHER.value and not whole[key].total:
            continue
        S.heading(doc, f"2.{n}. {FIELD_PROSE[key]}")
        yearly = "; ".join(f"năm {y}: {_split_text(f[key])}" for y, f in by_year.items())
        S.body(doc, f"- Số mô hình tập thể, số mô hình cá nhân: {yearly}.")
        S.body(doc, f"- Cả giai đoạn: {whole[key].total} mô hình ({_split_text(whole[key])}).")
        mine = [t for t in typical if t.field == key][:TYPICAL_PER_FIELD]
        for model in mine:
            S.body(doc, f"- Năm {model.year}: {typical_prose(model)}")
        S.placeholder(doc, f"kết quả nổi bật của {FIELD_PROSE[key].lower()}")
    S.heading(doc, "III. ĐÁNH GIÁ CHUNG")
    for number, label in (
        ("1", "Kết quả đạt được"),
        ("2", "Hạn chế và nguyên nhân"),
        ("3", "Bài học kinh nghiệm"),
    ):
        S.heading(doc, f"{number}. {label}")
        S.placeholder(doc, label.lower())
    _part(
        doc,
        "Phần thứ hai",
        "PHƯƠNG HƯỚNG, NHIỆM VỤ NHẰM TĂNG CƯỜNG VÀ ĐỔI MỚI CÔNG TÁC DÂN VẬN VÀ PHONG TRÀO "
        f"THI ĐUA “DÂN VẬN KHÉO” GIAI ĐOẠN {last} - {last + 5}",
    )
    S.heading(doc, "I. PHƯƠNG HƯỚNG, NHIỆM VỤ")
    S.placeholder(doc, "phương hướng, nhiệm vụ")
    S.heading(doc, "II. ĐỀ XUẤT, KIẾN NGHỊ")
    S.placeholder(doc, "đề xuất, kiến nghị")
    recipients = [
        f"Ban Dân vận {above(who)} (báo cáo),",
        "Các chi, đảng bộ trực thuộc,",
        "Lưu Văn phòng.",
    ]
    ending(doc, who, recipients)
    bieu1(doc, documents, first, last)
    return S.to_bytes(doc)


def bieu1(doc: DocxDocument, documents: Sequence[DocumentLine], first: int, last: int) -> None:
    """Biểu 1 on a page of its own."""
    S.line(doc, "", after=0).add_run().add_break(WD_BREAK.PAGE)
    S.line(doc, "Biểu 1:", bold=True, align="left", keep=True)
    S.line(doc, f"{BIEU1_TITLE} {first} - {last}", bold=True, align="center", keep=True)
    rows = bieu1_rows(documents) or [["", "Chưa có văn bản nào.", ""]]
    S.grid(
        doc,
        BIEU1_HEADERS,
        rows,
        (15, 55, 95),
    )
