"""The form of Phụ lục 1 and Phụ lục 4 as the Kế hoạch năm 2024 (Yên Bái) prints them: titles,
column headers, notes and total lines, and where they go (rows, column widths)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import Field, Subject

# --- wording of the Kế hoạch năm 2024 (Yên Bái) ---------------------------------------------

PL1_LABEL = "Phụ lục 1"
PL4_LABEL = "Phụ lục 4"
PL1_TITLE = "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}"
PL4_TITLE = "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}"
PL1_SECTION_KEPT = "Mô hình tiếp tục duy trì từ năm {last_year}"
PL1_SECTION_NEW = "Mô hình đăng ký mới năm {year}"

H_STT = "STT"
H_NAME = "Xã, phường, thị trấn, cơ quan đơn vị/\nTên mô hình"
H_COUNT = "Số lượng"
H_PLACE = "Địa điểm xây dựng, triển khai"
H_LEAD = "Chủ trì"
H_FIELD = "Lĩnh vực"
H_SCALE = "Quy mô thực hiện"
H_RESULTS = "Tóm tắt quy mô, kết quả cụ thể đạt được"
H_ORIGIN = "Trong đó"
H_NEW = "XD mới"
H_KEPT = "Duy trì"
H_SUBJECT = "Chủ thể"
H_COLLECTIVE = "Tập thể"
H_INDIVIDUAL = "Cá nhân"
TOTAL = "Tổng số"
NOT_REPORTED = "(chưa báo cáo)"
MARK = "x"
DASH = "-"

TOTAL_BY_FIELD = "Tổng số mô hình theo lĩnh vực:"
TOTAL_BY_SUBJECT = "Tổng số tập thể, cá nhân xây dựng mô hình"
FIELD_TOTAL_LINES = {
    Field.KT.value: "- Lĩnh vực phát triển kinh tế: {n} mô hình",
    Field.VHXH.value: "- Lĩnh vực văn hoá - xã hội: {n} mô hình",
    Field.QPAN.value: "- Lĩnh vực Quốc phòng - an ninh: {n} mô hình",
    Field.XDD.value: "- Lĩnh vực xây dựng hệ thống chính trị: {n} mô hình",
}
OTHER_FIELD_LINE = "- Lĩnh vực {label}: {n} mô hình"
OTHER_FIELD_DEFAULT = "khác"
SUBJECT_TOTAL_LINES = {
    Subject.COLLECTIVE.value: "- Tập thể: {n} mô hình",
    Subject.INDIVIDUAL.value: "- Cá nhân: {n} mô hình",
}
NOTES_LABEL = "Ghi chú:"
_NOTE_2 = (
    "(2): Chi bộ, phòng, ban, đơn vị, đoàn thể / Tên mô hình (xếp tuần tự theo từng lĩnh vực "
    "sau: KT; VHXH, QPAN, XDĐ&HTCT, …)"
)
_NOTE_6 = (
    "(6): Lĩnh vực (Kinh tế; Văn hóa xã hội; Quốc phòng an ninh; Xây dựng Đảng và hệ thống "
    "chính trị; Xây dựng NTM; Xây dựng Đô thị văn minh...)"
)
PL1_NOTES = (
    _NOTE_2,
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (phòng, ban, cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, "
    "huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    _NOTE_6,
    "(7): Quy mô thực hiện (số lượng, diện tích, số hộ...)",
    "(8): Chủ thể thực hiện (đánh dấu X vào cột tập thể hoặc cá nhân)",
)
PL4_NOTES = (
    _NOTE_2,
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    _NOTE_6,
    "(7): Tóm tắt quy mô, kết quả đạt được",
    "(8): Xây dựng mới/duy trì: Đánh dấu X vào cột (danh sách sắp xếp loạt mô hình xây dựng mới "
    "lên trên loạt mô hình đang duy trì)",
    "(9): Chủ thể thực hiện (Đánh dấu X vào cột tập thể hoặc cá nhân)",
)

# --- layout -----------------------------------------------------------------------------------

ROW_UNIT = 1  # unit name (left) and appendix label (right)
ROW_TITLE = 3
ROW_HEAD = 5  # two header rows: 5 and 6
ROW_NUMBERS = 7  # (1) (2) …
ROW_TOTAL = 8  # "Tổng số"
FREEZE = f"A{ROW_TOTAL}"

# (label, columns spanned); a group spanning two columns has its sub-labels on the second row.
# Both appendices begin with the same six columns (1)–(6).
_MODEL_HEAD: tuple[tuple[str, int], ...] = tuple(
    (label, 1) for label in (H_STT, H_NAME, H_COUNT, H_PLACE, H_LEAD, H_FIELD)
)
PL1_HEAD: tuple[tuple[str, int], ...] = (*_MODEL_HEAD, (H_SCALE, 1), (H_SUBJECT, 2))
PL1_SUB = (H_COLLECTIVE, H_INDIVIDUAL)
PL1_WIDTHS = (6, 42, 9, 24, 16, 18, 40, 9, 9)
PL4_HEAD: tuple[tuple[str, int], ...] = (
    *_MODEL_HEAD,
    (H_RESULTS, 1),
    (H_ORIGIN, 2),
    (H_SUBJECT, 2),
)
PL4_SUB = (H_NEW, H_KEPT, H_COLLECTIVE, H_INDIVIDUAL)
PL4_WIDTHS = (6, 40, 9, 22, 15, 17, 42, 8, 8, 8, 8)


@dataclass(frozen=True)
class Form:
    """What frames one appendix's table: its label, title (``{year}`` in it), header rows,
    column widths and the notes under the table."""

    label: str
    title: str
    head: tuple[tuple[str, int], ...]
    sub: tuple[str, ...]
    widths: tuple[float, ...]
    notes: tuple[str, ...]


PL1 = Form(PL1_LABEL, PL1_TITLE, PL1_HEAD, PL1_SUB, PL1_WIDTHS, PL1_NOTES)
PL4 = Form(PL4_LABEL, PL4_TITLE, PL4_HEAD, PL4_SUB, PL4_WIDTHS, PL4_NOTES)
