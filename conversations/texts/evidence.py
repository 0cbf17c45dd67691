"""Texts of evidence (/minhchung)."""

from __future__ import annotations

DONE = "Xong. Gõ /minhchung để xem hoặc gửi thêm minh chứng."


def file_prompt(name: str, accepted: str) -> str:
    return (
        f"Gửi ảnh hoặc tệp minh chứng cho mô hình “{name}” ({accepted}). "
        "Có thể ghi chú thích ngay trong tin nhắn gửi ảnh."
    )


def kept(saved: int) -> str:
    return f"{saved} minh chứng đã gửi trước đó vẫn được lưu."


ONLY_SENDER_REMOVES = "Chỉ người gửi hoặc lãnh đạo đơn vị mới xóa được minh chứng này."
