"""Texts of evidence (/minhchung): the list of a model's evidence, one piece of it, sending
and removing."""

from __future__ import annotations

from domain.template import Template

UNIT = "Minh chứng cho mô hình của đơn vị nào?"
PICK = "Chọn mô hình"
DONE = "Xong. Gõ /minhchung để xem hoặc gửi thêm minh chứng."
DONE_CHOICE = "Xong"
ADD_CHOICE = "➕ Gửi thêm minh chứng"
REMOVE_CHOICE = "Xóa minh chứng này"
LIST_CHOICE = "Về danh sách minh chứng"
YES_REMOVE = "Có, xóa"
PICK_OR_SEND = "Chọn một minh chứng để xem (hoặc xóa), hoặc gửi ngay ảnh, tệp để thêm."
NONE_YET = "Chưa có minh chứng nào. Gửi ngay ảnh hoặc tệp để thêm."

CAPTION = (
    "Chú thích cho minh chứng này (ví dụ: Ra quân vệ sinh môi trường tổ 5, "
    "ngày 12/3)? Gõ “bỏ qua” nếu không cần."
)

GONE = "Minh chứng này không còn."
GONE_PICK_AGAIN = "Minh chứng này không còn. Vui lòng chọn lại."
FILE_MISSING = "Tệp này không còn trên máy chủ; có thể xóa rồi gửi lại."
WHAT_NEXT = "Đồng chí muốn làm gì tiếp?"
NOT_REMOVED = "Đã giữ nguyên minh chứng, không xóa."
ONLY_SENDER_REMOVES = "Chỉ người gửi hoặc lãnh đạo đơn vị mới xóa được minh chứng này."


def title(name: str | None) -> str:
    return f"Minh chứng — {name}" if name else "Minh chứng"


record_choice = Template("{name} ({count} minh chứng)")
view_choice = Template("Xem minh chứng {number}")


def evidence_text(
    photo: bool, file_name: str | None, caption: str | None, day: str, size: str
) -> str:
    """One piece of evidence: what it is, its caption, the day it came and its size."""
    icon = "📷 Ảnh" if photo else f"📄 {file_name or 'Tệp'}"
    quoted = f" — “{caption}”" if caption else ""
    return f"{icon}{quoted} — {day} — {size}"


list_heading = Template("Mô hình “{name}” — {unit_name}, năm {year}.")
count_heading = Template("Minh chứng đã có ({count}):")
accepted = Template("(Nhận {limit}.)")

file_prompt = Template(
    "Gửi ảnh hoặc tệp minh chứng cho mô hình “{name}” ({accepted}). "
    "Có thể ghi chú thích ngay trong tin nhắn gửi ảnh."
)


def file_shown(photo: bool, file_name: str | None, size: str) -> str:
    """The file sent, as the summary shows it."""
    name = file_name or ("ảnh" if photo else "tệp")
    return f"{name} ({size})"


def saved(number: int, photo: bool, file_name: str | None, size: str, name: str) -> str:
    what = "ảnh" if photo else f"tệp {file_name or ''}".strip()
    return f"✅ Đã lưu minh chứng số {number} ({what}, {size}) cho mô hình “{name}”."


kept = Template("{saved} minh chứng đã gửi trước đó vẫn được lưu.")


def item_heading(number: int, name: str, sender: str | None) -> str:
    who = f" (gửi bởi {sender})" if sender is not None else ""
    return f"Minh chứng số {number} của mô hình “{name}”{who}."


remove_prompt = Template(
    "Xóa minh chứng số {number} ({evidence}) khỏi mô hình “{name}”? Thao tác này được ghi lại."
)

removed = Template("Đã xóa minh chứng số {number} của mô hình “{name}”.")
