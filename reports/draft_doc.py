"""Report drafts in Word that a unit sends upward, in the Party's document format
(:mod:`reports.docx_style`), with every figure from :mod:`reports.drafts`:

- ``yearly``: the unit's yearly result report (25/11), along the Hướng dẫn giới thiệu mô hình
  (Quảng Ngãi): the year's results, the figures, the typical models introduced as prose,
  assessment and proposals;
- ``consolidated``: what a ward sends to the province (5/12) by the Kế hoạch của Đảng ủy
  phường (2025): the same for its subtree, plus the figures of each lower unit and the lower
  units that have not sent their yearly report;
- ``review``: the five-year review (:mod:`reports.draft_review`).

What the database cannot know (the situation, assessment, lessons, proposals) is a headed
placeholder in italics, “[Đơn vị bổ sung: …]”.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from docx.document import Document as DocxDocument
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import FIELD_KEYS, FIELD_SHORT, Field
from reports import docx_style as S
from reports.draft_lists import (
    DocumentLine,
    RecognisedModel,
    TypicalModel,
    lead_documents,
    recognised_models,
    typical_models,
)
from reports.drafts import Counts, Figures, LowerUnit, figures_of, lower_units, units_count
from reports.style import ascii_slug
from storage import unit_tree
from storage.models import Unit

YEARLY, CONSOLIDATED, REVIEW = "yearly", "consolidated", "review"
DRAFT_KINDS = (YEARLY, CONSOLIDATED, REVIEW)
DRAFT_LABELS = {
    YEARLY: "Báo cáo kết quả",
    CONSOLIDATED: "Báo cáo tổng hợp",
    REVIEW: "Báo cáo tổng kết",
}
MOVEMENT = "phong trào thi đua “Dân vận khéo”"
TYPICAL_SHOWN = 10  # introductions written out in full; the rest are counted
FIELD_PROSE = {
    Field.KT.value: "Lĩnh vực phát triển kinh tế",
    Field.VHXH.value: "Lĩnh vực văn hóa - xã hội",
    Field.QPAN.value: "Lĩnh vực quốc phòng, an ninh",
    Field.XDD.value: "Lĩnh vực xây dựng đảng và hệ thống chính trị",
    Field.OTHER.value: "Các lĩnh vực khác",
}
VERDICT_RULE = "từ 75 điểm, các tiêu chí 2, 7, 9, 11, 15 đạt điểm tối đa"
_PLACE_PREFIX = re.compile(
    r"^(đảng bộ|đảng ủy|đảng uỷ|chi bộ|ủy ban nhân dân|)\s*"
    r"(thành phố|thị xã|thị trấn|phường|xã|tỉnh|huyện|quận|)\s*",
    re.IGNORECASE,
)


# --- who issues it -------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The names a report of ``unit`` carries, from the unit tree."""

    superior: str | None  # the body above, e.g. “Đảng bộ thị xã Hương Trà”
    issuer: str  # e.g. “Đảng ủy phường Hương Hồ”
    symbol: str  # after “-BC/”: ĐU, CB, …
    place: str  # before “, ngày … tháng … năm …”
    on_behalf: str  # T/M …
    role: str


def issuing_body(unit: Unit) -> str:
    """A Đảng bộ issues as its Đảng ủy (“Đảng bộ phường X” → “Đảng ủy phường X”)."""
    if unit.name.lower().startswith("đảng bộ"):
        return "Đảng ủy" + unit.name[len("Đảng bộ") :]
    return unit.name


def party_body(unit: Unit) -> str:
    """The organisation named above an issuer: “Đảng ủy X” → “Đảng bộ X”; a ward, commune or
    province named by itself (“Thị xã Hương Trà”) → “Đảng bộ thị xã Hương Trà”."""
    name = unit.name
    lowered = name.lower()
    if lowered.startswith(("đảng ủy", "đảng uỷ")):
        return "Đảng bộ" + name[len("Đảng ủy") :]
    if unit.kind in ("tinh", "xa", "phuong") and not lowered.startswith(("đảng", "chi bộ")):
        return f"Đảng bộ {name[:1].lower()}{name[1:]}"
    return name


def _place(unit: Unit) -> str:
    return _PLACE_PREFIX.sub("", unit.name, count=1).strip() or unit.name


async def issuer_of(session: AsyncSession, unit: Unit) -> Issuer:
    ancestors = [await session.get(Unit, i) for i in unit_tree.ancestor_ids(unit)[:-1]]
    chain = [u for u in ancestors if u is not None]
    parent = chain[-1] if chain else None
    # The place: of the nearest ward, commune or province up the tree, else the unit's own.
    place_unit = next(
        (u for u in reversed([*chain, unit]) if u.kind in ("phuong", "xa", "tinh")), unit
    )
    lowered = unit.name.lower()
    if lowered.startswith("chi bộ") or unit.kind == "chi_bo":
        symbol, on_behalf, role = "CB", "T/M Chi bộ", "Bí thư"
    elif lowered.startswith("đảng") or unit.kind in ("phuong", "xa", "tinh", "dang_uy"):
        symbol, on_behalf, role = "ĐU", "T/M Ban Thường vụ", "Bí thư"
    else:
        initials = "".join(w[0] for w in unit.name.split() if w[:1].isupper())[:4]
        symbol, on_behalf, role = initials or "BC", "T/M Ban Chấp hành", "Chủ tịch"
    return Issuer(
        superior=party_body(parent) if parent else None,
        issuer=issuing_body(unit),
        symbol=symbol,
        place=_place(place_unit),
        on_behalf=on_behalf,
        role=role,
    )


def above(who: Issuer) -> str:
    """The level above, for “Nơi nhận”: “Đảng bộ phường Minh Khai” → “phường Minh Khai”."""
    if who.superior is None:
        return "cấp trên"
    for prefix in ("Đảng bộ ", "Đảng ủy "):
        if who.superior.startswith(prefix):
            return who.superior[len(prefix) :]
    return who.superior


def open_document(who: Issuer, today: date, what: str) -> DocxDocument:
    """The page, the header block, the title "BÁO CÁO <what>" and the opening
    “Thực hiện [the plan above], <issuer> báo cáo <what> như sau:”."""
    doc = S.new_draft()
    S.header_block(
        doc,
        who.superior,
        who.issuer,
        f"Số        -BC/{who.symbol}",
        f"{who.place}, ngày    tháng    năm {today.year}",
    )
    S.title(doc, "BÁO CÁO", what)
    paragraph = S.body(doc, "Thực hiện ")
    run = paragraph.add_run(S.PLACEHOLDER.format(what="kế hoạch, hướng dẫn của cấp trên"))
    run.italic = True
    paragraph.add_run(f", {who.issuer} báo cáo {what} như sau:")
    return doc


def ending(doc: DocxDocument, who: Issuer, recipients: Sequence[str]) -> None:
    last = S.line(doc, "", after=0)
    last.paragraph_format.keep_with_next = True
    S.closing(doc, recipients, who.on_behalf, who.role)


# --- shared sections -----------------------------------------------------------------------


def number_and_date(d: DocumentLine) -> str:
    """As Biểu 1 writes it: ``15-KH/ĐU, ngày 12/3/2026``."""
    day = d.issued_on
    return f"{d.number}, ngày {day.day}/{day.month}/{day.year}"


def documents_section(doc: DocxDocument, documents: Sequence[DocumentLine], when: str) -> None:
    if documents:
        S.body(
            doc,
            f"{when.capitalize()}, đã ban hành {len(documents)} văn bản lãnh đạo, chỉ đạo, "
            f"triển khai {MOVEMENT}:",
        )
        for d in documents:
            S.body(doc, f"- {number_and_date(d)} ({d.unit_name}): {d.content}")
    else:
        S.placeholder(doc, "văn bản lãnh đạo, chỉ đạo (chưa ghi bằng lệnh /vanban)")


def counts_sentence(c: Counts) -> str:
    return (
        f"{c.models} mô hình (xây dựng mới {c.new}, duy trì {c.kept}; "
        f"tập thể {c.collective}, cá nhân {c.individual})"
    )


def review_sentence(c: Counts) -> str:
    return (
        f"Có {c.with_results} mô hình đã báo cáo kết quả, {c.scored} mô hình đã tự chấm điểm, "
        f"{c.passing} mô hình đạt yêu cầu ({VERDICT_RULE}); đề nghị công nhận đang chờ xét "
        f"{c.proposed}, đã công nhận {c.recognised}, không công nhận {c.not_recognised}, "
        f"thanh loại {c.removed}."
    )


def field_rows(figures: Figures) -> tuple[list[list[object]], list[list[object]]]:
    """The two tables of figures per field: registration, then evaluation and review."""
    first: list[list[object]] = []
    second: list[list[object]] = []
    keys = [k for k in FIELD_KEYS if k != Field.OTHER.value or figures.by_field[k].models]
    for label, c in [
        *((FIELD_SHORT[Field(k)], figures.by_field[k]) for k in keys),
        ("Tổng số", figures.total),
    ]:
        first.append([label, c.models, c.collective, c.individual, c.new, c.kept])
        second.append(
            [label, c.with_results, c.scored, c.passing, c.proposed, c.recognised, c.removed]
        )
    return first, second


FIELD_TABLE_1 = ("Lĩnh vực", "Tổng số", "Tập thể", "Cá nhân", "XD mới", "Duy trì")
FIELD_TABLE_2 = (
    "Lĩnh vực",
    "Có kết quả",
    "Tự chấm điểm",
    "Đạt yêu cầu",
    "Chờ xét công nhận",
    "Công nhận",
    "Thanh loại",
)


def figures_section(doc: DocxDocument, figures: Figures, registered: str) -> None:
    S.body(doc, f"Năm {figures.year}, {registered} {counts_sentence(figures.total)}.")
    S.body(doc, review_sentence(figures.total))
    first, second = field_rows(figures)
    S.line(doc, "Bảng 1. Số mô hình theo lĩnh vực, chủ thể", italic=True, align="center", keep=True)
    S.grid(doc, FIELD_TABLE_1, first, (50, 23, 23, 23, 23, 23), bold_last=True)
    S.line(doc, "Bảng 2. Đánh giá, công nhận theo lĩnh vực", italic=True, align="center", keep=True)
    S.grid(doc, FIELD_TABLE_2, second, (38, 21, 21, 21, 22, 21, 21), bold_last=True)


def recognised_section(doc: DocxDocument, rows: Sequence[Sequence[object]]) -> None:
    if not rows:
        S.body(doc, "Chưa có mô hình nào được công nhận trong năm.")
        return
    S.body(doc, f"Danh sách {len(rows)} mô hình được công nhận:")
    S.grid(
        doc,
        RECOGNISED_HEADERS,
        [[n, *row] for n, row in enumerate(rows, 1)],
        RECOGNISED_WIDTHS,
    )


# The list of recognised models (the widths add up to 165 mm).
RECOGNISED_HEADERS = ("STT", "Tên mô hình", "Đơn vị", "Lĩnh vực", "Chủ thể", "Quyết định")
RECOGNISED_WIDTHS = (10, 44, 33, 27, 18, 33)


def recognised_rows(models: Sequence[RecognisedModel]) -> list[list[object]]:
    """One row per recognised model: name, unit, field, subject, the recognising decision
    (number, date, level; "(chưa ghi)" until recorded with /quyetdinh)."""
    return [[m.name, m.unit_name, m.field, m.subject, m.decision or NO_DECISION] for m in models]


NO_DECISION = "(chưa ghi)"


def typical_prose(model: TypicalModel) -> str:
    """An introduction as one paragraph of prose: who, where, then each part answered."""
    head = (
        f"Mô hình “{model.name}” ({model.subject.lower()}, {model.unit_name}; "
        f"{model.field_text}; địa điểm: {model.place})."
    )
    parts = " ".join(f"{label}: {text.rstrip('.')}." for label, text in model.parts)
    return f"{head} {parts}" if parts else head


def typical_section(doc: DocxDocument, models: Sequence[TypicalModel]) -> None:
    if not models:
        S.placeholder(doc, "giới thiệu mô hình, điển hình tiêu biểu (nhập bằng lệnh /gioithieu)")
        return
    for n, model in enumerate(models[:TYPICAL_SHOWN], 1):
        S.body(doc, f"{n}. {typical_prose(model)}")
    more = len(models) - TYPICAL_SHOWN
    if more > 0:
        S.body(
            doc,
            f"Còn {more} mô hình khác đã có bài giới thiệu (biểu Giới thiệu mô hình, lệnh "
            "/xuat intro).",
        )


def assessment(doc: DocxDocument, number: str) -> None:
    S.heading(doc, f"{number}. Đánh giá chung")
    for label, what in (
        ("Ưu điểm", "ưu điểm"),
        ("Những khó khăn, hạn chế và nguyên nhân", "khó khăn, hạn chế và nguyên nhân"),
        ("Phương hướng và giải pháp thực hiện trong thời gian đến", "phương hướng, giải pháp"),
        ("Đề xuất, kiến nghị", "đề xuất, kiến nghị"),
    ):
        S.line(doc, f"- {label}", italic=True, indent=True, keep=True)
        S.placeholder(doc, what)


# --- yearly and consolidated ---------------------------------------------------------------


async def build_year_report(
    session: AsyncSession,
    root: Unit,
    year: int,
    *,
    subtree: bool = True,
    consolidated: bool = False,
    today: date,
) -> bytes:
    """The yearly report (``consolidated`` False) or the consolidated report of ``root``."""
    who = await issuer_of(session, root)
    figures = await figures_of(session, root, year, subtree)
    what = "tổng hợp kết quả" if consolidated else "kết quả"
    doc = open_document(who, today, f"{what} thực hiện {MOVEMENT} năm {year}")

    S.heading(doc, f"I. KẾT QUẢ THỰC HIỆN PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” NĂM {year}")
    S.heading(doc, "1. Khái quát tình hình chung")
    S.placeholder(doc, "khái quát tình hình chung của địa phương, đơn vị")
    S.heading(doc, "2. Công tác lãnh đạo, chỉ đạo triển khai thực hiện")
    documents = await lead_documents(session, root, year, year, subtree)
    documents_section(doc, documents, f"năm {year}")
    S.placeholder(doc, "công tác phổ biến, quán triệt; kiểm tra, đôn đốc việc thực hiện")
    S.heading(doc, "3. Kết quả thực hiện")
    S.heading(doc, "3.1. Sự phối hợp trong công tác tuyên truyền, triển khai tổ chức thực hiện")
    S.placeholder(doc, "công tác tuyên truyền, phối hợp triển khai")
    S.heading(doc, "3.2. Kết quả thực hiện trên các lĩnh vực")
    for key in FIELD_KEYS:
        c = figures.by_field[key]
        if key == Field.OTHER.value and not c.models:
            continue
        S.body(
            doc,
            f"- {FIELD_PROSE[key]}: {c.models} mô hình "
            f"({c.collective} tập thể, {c.individual} cá nhân).",
        )
    S.placeholder(doc, "kết quả cụ thể và minh chứng của từng lĩnh vực")
    S.heading(doc, "3.3. Kết quả xây dựng, nhân rộng, công nhận các mô hình, điển hình")
    in_scope = await units_count(session, root) if subtree else 1
    registered_units = sum(1 for c in figures.by_unit.values() if c.models)
    registered = (
        f"{registered_units}/{in_scope} đơn vị đã đăng ký" if in_scope > 1 else "đơn vị đăng ký"
    )
    figures_section(doc, figures, registered)
    recognised_section(doc, recognised_rows(await recognised_models(session, root, year, subtree)))
    number = "4"
    if consolidated:
        await lower_section(doc, session, root, figures)
        number = "5"
    assessment(doc, number)
    S.heading(doc, "II. GIỚI THIỆU CÁC MÔ HÌNH, ĐIỂN HÌNH “DÂN VẬN KHÉO” TIÊU BIỂU")
    typical_section(doc, await typical_models(session, root, year, year, subtree))
    recipients = (
        [
            "Ban Tuyên giáo và Dân vận Tỉnh ủy (báo cáo),",
            "Thường trực Đảng ủy (báo cáo),",
            "Các chi, đảng bộ trực thuộc,",
            "Lưu Văn phòng, Ban Xây dựng Đảng.",
        ]
        if consolidated
        else [
            f"Ban Xây dựng Đảng {above(who)} (báo cáo),",
            "Lưu Văn phòng.",
        ]
    )
    ending(doc, who, recipients)
    return S.to_bytes(doc)


LOWER_TABLE = ("STT", "Đơn vị", "Tổng số", "KT", "VHXH", "QPAN", "XDĐ& HTCT", "Khác")
STATUS_TABLE = ("STT", "Đơn vị", "Tập thể", "Cá nhân", "Có kết quả", "Công nhận", "Báo cáo năm")


async def lower_section(
    doc: DocxDocument, session: AsyncSession, root: Unit, figures: Figures
) -> None:
    """4. The figures of each direct lower unit (its subtree), the reports not sent."""
    lower = await lower_units(session, root, figures.year, figures)
    S.heading(doc, "4. Kết quả của các đơn vị trực thuộc")
    rows: list[list[object]] = []
    status: list[list[object]] = []
    entries: list[tuple[str, Counts, dict[str, int], LowerUnit | None]] = [
        (u.name, u.counts, u.by_field, u) for u in lower
    ]
    own = figures.by_unit.get(root.id)
    if own is not None and own.models:
        own_fields = figures.by_unit_field[root.id]
        entries.append((f"{root.name} (trực tiếp)", own, own_fields, None))
    for n, (name, c, by_field, unit) in enumerate(entries, 1):
        rows.append([n, name, c.models, *(by_field[k] for k in FIELD_KEYS)])
        sent = "" if unit is None else _sent_text(unit)
        status.append([n, name, c.collective, c.individual, c.with_results, c.recognised, sent])
    total = figures.total
    rows.append(["", "Cộng", total.models, *(figures.by_field[k].models for k in FIELD_KEYS)])
    status.append(
        ["", "Cộng", total.collective, total.individual, total.with_results, total.recognised, ""]
    )
    S.line(
        doc, "Bảng 3. Số mô hình của các đơn vị trực thuộc", italic=True, align="center", keep=True
    )
    S.grid(doc, LOWER_TABLE, rows, (13, 50, 17, 15, 17, 17, 19, 17), bold_last=True)
    S.line(doc, "Bảng 4. Kết quả và báo cáo của các đơn vị", italic=True, align="center", keep=True)
    S.grid(doc, STATUS_TABLE, status, (13, 48, 18, 18, 20, 20, 28), bold_last=True)
    missing = [u.name for u in lower if not u.reported]
    if missing:
        S.body(
            doc,
            f"Đơn vị trực thuộc chưa gửi báo cáo kết quả năm {figures.year}: "
            f"{len(missing)}/{len(lower)} ({', '.join(missing)}).",
        )
    elif lower:
        S.body(doc, f"Cả {len(lower)} đơn vị trực thuộc đã gửi báo cáo kết quả năm {figures.year}.")


def _sent_text(unit: LowerUnit) -> str:
    sent_at = unit.reported_at
    if sent_at is None:
        return "Chưa gửi"
    return f"Đã gửi {sent_at.day:02d}/{sent_at.month:02d}"


# --- the file ------------------------------------------------------------------------------


def draft_file_name(kind: str, root: Unit, year: int, first: int | None = None) -> str:
    """E.g. ``Du_thao_Bao_cao_ket_qua_Dang_bo_phuong_Minh_Khai_2026.docx``."""
    period = f"{first}-{year}" if kind == REVIEW and first is not None else str(year)
    return f"Du_thao_{ascii_slug(DRAFT_LABELS[kind])}_{ascii_slug(root.name)}_{period}.docx"
