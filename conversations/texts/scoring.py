"""Texts of /chamdiem (self-scoring a model on the Biểu chấm điểm, criterion by criterion;
the council's /thamdinh asks its points with the same steps) and /dexuat (proposing a model
that passes for recognition)."""

from __future__ import annotations

MUST_MAX = "Tiêu chí bắt buộc: mô hình chỉ đạt khi tiêu chí này được điểm tối đa."
BELOW_MUST_MAX = " — chưa đạt điểm tối đa (bắt buộc)"
INCOMPLETE = "Chưa chấm đủ các tiêu chí."
TITLE = "Chấm điểm mô hình"
PROPOSE_NEXT = "Gõ /dexuat để đề xuất công nhận mô hình."
UNSCORED = "chưa chấm"
PASSED = "đạt"
NOT_PASSED = "chưa đạt"
PICK_UNIT = "Chấm điểm mô hình của đơn vị nào?"
PICK_MODEL = "Chọn mô hình để chấm điểm"


def allowed(maximum: str) -> str:
    return f"Vui lòng nhập điểm từ 0 đến {maximum} (được lẻ 0,5, ví dụ 2 hoặc 2,5)."


def negative(number: int, allowed_text: str) -> str:
    return f"Điểm tiêu chí {number} không được âm. {allowed_text}"


def not_points(text: str, allowed_text: str) -> str:
    return f"“{text}” không phải là điểm. {allowed_text}"


def part_heading(label: str, title: str) -> str:
    return f"Phần {label}. {title}"


def criterion_heading(number: int, part: str) -> str:
    return f"Tiêu chí {number} — {part}"


def maximum(points: str) -> str:
    return f"Điểm tối đa: {points}."


def running_total(total: str, scored: int, criteria: int) -> str:
    return f"Tổng điểm đã chấm: {total} điểm ({scored}/{criteria} tiêu chí)."


def total_and_verdict(total: str, maximum: str, verdict: str) -> str:
    return f"\n\nTổng cộng: {total}/{maximum} điểm\nKết quả: {verdict}"


def subject_changed(command: str) -> str:
    return (
        "Chủ thể của mô hình (tập thể / cá nhân) vừa được sửa nên bộ tiêu chí đã khác. "
        f"Vui lòng gõ /huy rồi /{command} để chấm lại."
    )


def title_for(name: str | None) -> str:
    return f"Chấm điểm “{name}”" if name else TITLE


def saved(name: str, unit: str, year: int, total: str, maximum: str) -> str:
    return (
        f"✅ Đã lưu điểm tự chấm của mô hình “{name}” ({unit}, năm {year}): "
        f"tổng {total}/{maximum} điểm."
    )


def verdict_line(verdict: str) -> str:
    return f"Kết quả: {verdict}."


def not_eligible(rule: str) -> str:
    return f"Mô hình chưa đủ điều kiện đề xuất công nhận. {rule}"


def scored_status(total: str, verdict: str) -> str:
    return f"đã chấm {total} điểm, {verdict}"


def scored_before(name: str) -> str:
    return (
        f"Mô hình “{name}” đã được chấm điểm. Dưới đây là điểm đã lưu: chọn "
        "tiêu chí cần chấm lại, rồi bấm Lưu."
    )


# --- /dexuat ---------------------------------------------------------------------------------

PROPOSE_TITLE = "Đề xuất công nhận"
PROPOSE_PICK_UNIT = "Đề xuất công nhận mô hình của đơn vị nào?"
PROPOSE_PICK_MODEL = "Chọn mô hình để đề xuất công nhận"
PROPOSE_QUESTION = "Gửi đề xuất công nhận mô hình này lên lãnh đạo?"
PROPOSE_YES = "Có, gửi đề xuất"
NOT_PROPOSED = "Chưa gửi đề xuất. Gõ /dexuat khi sẵn sàng."


def already_proposed(name: str) -> str:
    return f"Mô hình “{name}” đã được đề xuất và đang chờ lãnh đạo duyệt."


def already_recognised(name: str) -> str:
    return f"Mô hình “{name}” đã được công nhận, không cần đề xuất lại."


def removed(name: str) -> str:
    return f"Mô hình “{name}” đã bị thanh loại nên không đề xuất được."


def no_results(name: str) -> str:
    return (
        f"Mô hình “{name}” chưa có kết quả đạt được (Phụ lục 4). "
        "Gõ /ketqua để nhập kết quả trước khi đề xuất."
    )


def not_scored(name: str) -> str:
    return f"Mô hình “{name}” chưa được chấm điểm. Gõ /chamdiem để tự chấm điểm."


def partly_scored(name: str, missing: str | None) -> str:
    return f"Mô hình “{name}”: {missing} Gõ /chamdiem để chấm đủ."


def fails(name: str, verdict: str, rule: str) -> str:
    return f"Mô hình “{name}” chưa đủ điều kiện đề xuất công nhận: {verdict}.\n{rule}"


def proposed(name: str, unit: str, year: int) -> str:
    return (
        f"✅ Đã đề xuất công nhận mô hình “{name}” ({unit}, năm {year}). Lãnh đạo sẽ xem xét; "
        "đồng chí sẽ nhận thông báo khi có quyết định."
    )
