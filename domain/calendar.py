"""The movement's year: what is due and when by default (Kế hoạch năm 2024 (Yên Bái): models
registered by 15/4, evaluated and proposed for recognition by 15/11; Kế hoạch của Đảng ủy
phường (2025): the unit's yearly report by 25/11, the consolidated report to the province by
5/12), and the words people type for each. A level's own plan may set other dates for the
units below it (``storage/deadlines.py``)."""

from __future__ import annotations

from datetime import date

from domain.text import fold

REGISTRATION = "registration"
EVALUATION = "evaluation"
UNIT_REPORT = "unit_report"
CONSOLIDATED = "consolidated"

# (kind, title, day, month) in the order of the year.
DEFAULT_DEADLINES: tuple[tuple[str, str, int, int], ...] = (
    (REGISTRATION, "Đăng ký mô hình", 15, 4),
    (EVALUATION, "Đánh giá, đề nghị công nhận mô hình", 15, 11),
    (UNIT_REPORT, "Báo cáo kết quả năm của đơn vị", 25, 11),
    (CONSOLIDATED, "Báo cáo tổng hợp gửi Tỉnh ủy", 5, 12),
)
DEADLINE_KINDS: tuple[str, ...] = tuple(k for k, *_ in DEFAULT_DEADLINES)
TITLES: dict[str, str] = {k: title for k, title, *_ in DEFAULT_DEADLINES}

# Words a person may type for a deadline kind (chat and `dvk campaign set`), folded.
KIND_ALIASES: dict[str, tuple[str, ...]] = {
    REGISTRATION: ("dangky", "dang ky", "dang ky mo hinh"),
    EVALUATION: ("danhgia", "danh gia", "cong nhan", "de nghi cong nhan"),
    UNIT_REPORT: ("baocao", "bao cao", "bao cao nam", "unit report"),
    CONSOLIDATED: ("tonghop", "tong hop", "bao cao tong hop"),
}


def default_date(kind: str, year: int) -> date:
    for k, _title, day, month in DEFAULT_DEADLINES:
        if k == kind:
            return date(year, month, day)
    raise KeyError(kind)


def kind_from_text(text: str) -> str | None:
    """The deadline kind named by ``text`` (``registration``, ``dangky``, ``Đăng ký`` …)."""
    word = fold(text).replace("_", " ").replace("-", " ")
    for kind, aliases in KIND_ALIASES.items():
        if word in (kind.replace("_", " "), kind, *aliases):
            return kind
    return None
