"""Texts of /chamdiem: self-scoring a model on the Biểu chấm điểm, criterion by criterion
(the council's /thamdinh asks its points with the same steps)."""

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


def given(points: str, maximum: str) -> str:
    return f"{points}/{maximum}"


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


def choice(name: str, status: str) -> str:
    return f"{name} — {status}"


def scored_before(name: str) -> str:
    return (
        f"Mô hình “{name}” đã được chấm điểm. Dưới đây là điểm đã lưu: chọn "
        "tiêu chí cần chấm lại, rồi bấm Lưu."
    )
