"""Texts of the flow engine: progress, navigation, the summary, the steps every flow builds
from, and answers it cannot take."""

from __future__ import annotations

from domain.template import Template

EMPTY = "(bỏ trống)"
UNKNOWN_FLOW = "thao tác trước"
FIRST_STEP = "Đây đã là bước đầu tiên."

OLD_BUTTON = (
    "Nút bấm này thuộc một tin nhắn cũ nên không còn hiệu lực. Đồng chí đang ở bước dưới đây:"
)

BAD_BUTTON = "Nút bấm này không hợp lệ. Đồng chí đang ở bước dưới đây:"
TEXT_ONLY = "Ở bước này cần trả lời bằng chữ (ảnh, nhãn dán hay tệp không dùng được ở đây)."
EMPTY_ANSWER = "Câu trả lời đang để trống, vui lòng nhập lại."
SUMMARY_ONLY = "Ở bước này chỉ có thể lưu hoặc chọn mục để sửa."
NOT_SKIPPABLE = "Bước này bắt buộc, không bỏ qua được."
NOTHING_TO_KEEP = "Bước này chưa có câu trả lời để giữ nguyên."
STALE_CHOICE = "Lựa chọn này không còn hiệu lực. Vui lòng chọn lại:"
NOT_HERE = "Thao tác này không dùng được ở bước này."
CHOICES_ONLY = "Bước này chỉ nhận lựa chọn trong danh sách."

# The summary's confirm button and what its title asks, unless a flow names its own.
SAVE = "Lưu"
CHECK_BEFORE_SAVE = "kiểm tra lại trước khi lưu:"
NAV_LABELS = {"back": "Quay lại", "skip": "Bỏ qua", "keep": "Giữ nguyên", "cancel": "Hủy"}

# A yes/no question's answers, unless it names its own.
YES = "Có"
NO = "Không"

confirm_button = Template("✅ {label}")


def step_of(k: int, n: int, follow_up: bool) -> str:
    return f"Bước {k}/{n}" + (" (tiếp)" if follow_up else "")


# The button that edits a field from the summary, and the heading while it is edited.
editing = Template("Sửa: {label}")
current = Template("(Hiện tại: {value})")
auto_picked = Template("{label}: {value} (chỉ có một lựa chọn nên trợ lý chọn sẵn).")
stopped = Template("{reason}\nĐã dừng “{heading}”.")


def cancelled(heading: str, kept: str | None) -> str:
    if kept:
        return f"Đã hủy “{heading}”. {kept}"
    return f"Đã hủy “{heading}”. Không có gì được lưu."


too_long = Template(
    "Câu trả lời dài {length} ký tự, vượt quá {limit} ký tự cho phép. Vui lòng rút gọn rồi gửi lại."
)


def summary_hint(editable: int, confirm_label: str) -> str:
    word = confirm_label.lower()
    if not editable:
        return f"Chưa rõ lựa chọn. Gõ “{word}” để xác nhận, hoặc “hủy” để dừng."
    numbers = "1" if editable == 1 else f"1–{editable}"
    return f"Chưa rõ lựa chọn. Gõ “{word}” để xác nhận, hoặc số của mục cần sửa ({numbers})."


unknown_choice = Template(
    "Chưa nhận ra lựa chọn “{text}”. Vui lòng trả lời số từ 1 đến {n} hoặc gõ đúng tên lựa chọn."
)

enter = Template("Vui lòng nhập {what}.")


def text_too_long(what: str, length: int, limit: int) -> str:
    return f"{what.capitalize()} dài {length} ký tự, vượt quá {limit} ký tự. Vui lòng rút gọn."


bad_year = Template("Năm “{text}” không hợp lệ. Vui lòng gõ năm, ví dụ {now_year}.")
