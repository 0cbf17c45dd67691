"""Texts of a model's introduction (/gioithieu): picking the model and its five parts."""

from __future__ import annotations

from domain.template import Template

UNIT = "Giới thiệu mô hình của đơn vị nào?"
PICK = "Chọn mô hình để giới thiệu"
NO_CHANGE = "Không có thay đổi nào. Phần giới thiệu giữ nguyên như cũ."
EMPTY = "Phần giới thiệu đang trống. Vui lòng điền ít nhất một mục."


def title(name: str | None) -> str:
    return f"Giới thiệu mô hình — {name}" if name else "Giới thiệu mô hình"


def part_prompt(question: str, optional: bool) -> str:
    """A part's question (domain.catalog.INTRO_PARTS); an optional one may be skipped."""
    return question + (" Gõ “bỏ qua” nếu chưa có." if optional else "")


introduced_before = Template("Mô hình “{name}” đã có phần giới thiệu; sửa mục nào cũng được.")

saved = Template(
    "✅ Đã lưu phần giới thiệu mô hình “{name}”.\n"
    "Lấy bản giới thiệu các mô hình để đưa vào báo cáo: /xuat intro {year}"
)
