"""Texts of /chamdiem (self-scoring a model on the Biểu chấm điểm, criterion by criterion;
the council's /thamdinh asks its points with the same steps) and /dexuat (proposing a model
that passes for recognition)."""

from __future__ import annotations

from domain.template import Template

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

allowed = Template("Vui lòng nhập điểm từ 0 đến {maximum} (được lẻ 0,5, ví dụ 2 hoặc 2,5).")
negative = Template("Điểm tiêu chí {number} không được âm. {allowed_text}")
not_points = Template("“{text}” không phải là điểm. {allowed_text}")
part_heading = Template("Phần {label}. {title}")
criterion_heading = Template("Tiêu chí {number} — {part}")
maximum = Template("Điểm tối đa: {points}.")
running_total = Template("Tổng điểm đã chấm: {total} điểm ({scored}/{criteria} tiêu chí).")
total_and_verdict = Template("\n\nTổng cộng: {total}/{maximum} điểm\nKết quả: {verdict}")

subject_changed = Template(
    "Chủ thể của mô hình (tập thể / cá nhân) vừa được sửa nên bộ tiêu chí đã khác. "
    "Vui lòng gõ /huy rồi /{command} để chấm lại."
)


def title_for(name: str | None) -> str:
    return f"Chấm điểm “{name}”" if name else TITLE


saved = Template(
    "✅ Đã lưu điểm tự chấm của mô hình “{name}” ({unit}, năm {year}): tổng {total}/{maximum} điểm."
)

verdict_line = Template("Kết quả: {verdict}.")
not_eligible = Template("Mô hình chưa đủ điều kiện đề xuất công nhận. {rule}")
scored_status = Template("đã chấm {total} điểm, {verdict}")

scored_before = Template(
    "Mô hình “{name}” đã được chấm điểm. Dưới đây là điểm đã lưu: chọn "
    "tiêu chí cần chấm lại, rồi bấm Lưu."
)

# --- /dexuat ---------------------------------------------------------------------------------
PROPOSE_TITLE = "Đề xuất công nhận"
PROPOSE_PICK_UNIT = "Đề xuất công nhận mô hình của đơn vị nào?"
PROPOSE_PICK_MODEL = "Chọn mô hình để đề xuất công nhận"
PROPOSE_QUESTION = "Gửi đề xuất công nhận mô hình này lên lãnh đạo?"
PROPOSE_YES = "Có, gửi đề xuất"
NOT_PROPOSED = "Chưa gửi đề xuất. Gõ /dexuat khi sẵn sàng."

already_proposed = Template("Mô hình “{name}” đã được đề xuất và đang chờ lãnh đạo duyệt.")
already_recognised = Template("Mô hình “{name}” đã được công nhận, không cần đề xuất lại.")
removed = Template("Mô hình “{name}” đã bị thanh loại nên không đề xuất được.")

no_results = Template(
    "Mô hình “{name}” chưa có kết quả đạt được (Phụ lục 4). "
    "Gõ /ketqua để nhập kết quả trước khi đề xuất."
)

not_scored = Template("Mô hình “{name}” chưa được chấm điểm. Gõ /chamdiem để tự chấm điểm.")
partly_scored = Template("Mô hình “{name}”: {missing} Gõ /chamdiem để chấm đủ.")
fails = Template("Mô hình “{name}” chưa đủ điều kiện đề xuất công nhận: {verdict}.\n{rule}")

proposed = Template(
    "✅ Đã đề xuất công nhận mô hình “{name}” ({unit}, năm {year}). Lãnh đạo sẽ xem xét; "
    "đồng chí sẽ nhận thông báo khi có quyết định."
)
