"""Texts of /baocao (drafting a report in Word, marking a report sent), /xuat (the official
workbooks) and /tonghop (a leader's status summary)."""

from __future__ import annotations

from domain.calendar import CONSOLIDATED, UNIT_REPORT
from domain.template import Template

MENU_TITLE = "Báo cáo"
MENU_PROMPT = "Đồng chí cần làm gì?"
ACTION_DRAFT = "Soạn dự thảo báo cáo"
ACTION_MARK = "Đánh dấu đã gửi"
DRAFT_TITLE = "Soạn dự thảo báo cáo"
DRAFT_UNIT = "Dự thảo báo cáo của đơn vị nào?"
DRAFT_KIND = "Dự thảo báo cáo nào?"
DRAFT_KIND_LABEL = "Báo cáo"
DESPITE_LABEL = "Lưu ý"
DESPITE_CHOICE = "Vẫn đánh dấu đã gửi"
WITH_LOWER = " và các đơn vị trực thuộc"
NO_RIGHT_DRAFT = "Đồng chí không có quyền soạn báo cáo của đơn vị này."

draft_choice = Template("{label} năm {year} (hạn {due})")


def draft_sent(label: str, year: int, unit: str, scope: str, today: str) -> str:
    return (
        f"Dự thảo {label.lower()} năm {year} — {unit}{scope}, số liệu đến ngày {today}. "
        "Các phần in nghiêng trong ngoặc vuông “[Đơn vị bổ sung: …]” là phần đơn vị viết thêm; "
        "số hiệu, ngày tháng và chữ ký điền khi ban hành."
    )


despite_prompt = Template(
    "Lưu ý: {missing}. Đồng chí vẫn đánh dấu {unit} đã gửi báo cáo tổng hợp năm {year}? "
    "(Hủy để chờ các đơn vị gửi.)"
)

despite_needed = Template("Cần xác nhận trước: {missing}.")

# --- /baocao: marking a report sent ------------------------------------------------------
# Followed by "năm 2026" wherever they are shown.
REPORT_LABELS = {
    UNIT_REPORT: "báo cáo kết quả",
    CONSOLIDATED: "báo cáo tổng hợp",
}

NOT_OWN = "Đồng chí không thuộc đơn vị này nên không báo cáo thay được."
MARK_UNIT = "Báo cáo của đơn vị nào?"
MARK_KIND = "Đơn vị đã gửi báo cáo nào?"
MARK_CONFIRM = "Đã gửi"
MARK_SUMMARY = "Xác nhận đơn vị đã gửi báo cáo này?"


def all_marked(unit: str, year: int, sent_on: dict[str, str]) -> str:
    """Every report of ``unit`` marked: ``sent_on`` is each kind's day, in order."""
    done = "; ".join(f"{REPORT_LABELS[k]} ngày {day}" for k, day in sent_on.items())
    return f"{unit} đã đánh dấu gửi mọi báo cáo năm {year}: {done}."


report_picked = Template("Báo cáo: {label}.")


def mark_title(kind: str | None, year: int, unit: str | None) -> str:
    what = REPORT_LABELS.get(str(kind), "báo cáo")
    where = f" — {unit}" if unit else ""
    return f"Đánh dấu đã gửi {what} năm {year}{where}"


def already_marked(unit: str, kind: str, year: int) -> str:
    return f"{unit} đã được đánh dấu gửi {REPORT_LABELS[kind]} năm {year} rồi."


def marked(unit: str, kind: str, year: int, due: str) -> str:
    return (
        f"Đã ghi nhận: {unit} đã gửi {REPORT_LABELS[kind]} năm {year} "
        f"(hạn {due}). Trợ lý không nhắc việc này nữa."
    )


still_missing = Template("Lưu ý: {missing}.")

# --- /xuat ---------------------------------------------------------------------------------
NO_RIGHT_EXPORT = "Đồng chí không có quyền lấy biểu của đơn vị này."
NO_UNIT_EXPORT = "Đồng chí chưa thuộc đơn vị nào nên chưa lấy được biểu."
EXPORT_KIND = "Đồng chí cần biểu nào?"
EXPORT_UNIT = "Biểu của đơn vị nào?"
EXPORT_YEAR = "Năm nào? (chọn, hoặc gõ năm, ví dụ 2025)"

year_choice = Template("Năm {year}")


def unknown_export(word: str, codes: list[str]) -> str:
    return f"Không có biểu “{word}”. Các biểu: {', '.join(codes)}. Ví dụ: /xuat pl1 2026"


def export_sent(label: str, year: int, unit: str, subtree: bool) -> str:
    where = f"{unit}{WITH_LOWER}" if subtree else unit
    return f"{label} năm {year} — {where}."


# --- /tonghop ------------------------------------------------------------------------------


summary_sheet = Template("Bảng tổng hợp năm {year} — {unit}.")
chart_caption = Template("{title} — {unit}.")
