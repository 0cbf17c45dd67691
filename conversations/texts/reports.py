"""/baocao: drafting a report in Word, and marking a report sent."""

from __future__ import annotations

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


def draft_choice(label: str, year: int, due: str) -> str:
    return f"{label} năm {year} (hạn {due})"


def draft_sent(label: str, year: int, unit: str, scope: str, today: str) -> str:
    return (
        f"Dự thảo {label.lower()} năm {year} — {unit}{scope}, số liệu đến ngày {today}. "
        "Các phần in nghiêng trong ngoặc vuông “[Đơn vị bổ sung: …]” là phần đơn vị viết thêm; "
        "số hiệu, ngày tháng và chữ ký điền khi ban hành."
    )


def despite_prompt(missing: str, unit: str, year: int) -> str:
    return (
        f"Lưu ý: {missing}. Đồng chí vẫn đánh dấu {unit} đã gửi báo cáo tổng hợp năm {year}? "
        "(Hủy để chờ các đơn vị gửi.)"
    )


def despite_needed(missing: str) -> str:
    return f"Cần xác nhận trước: {missing}."
