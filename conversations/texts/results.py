"""Texts of entering a model's results (/ketqua, Phụ lục 4 column 7)."""

from __future__ import annotations

from domain.template import Template

UNIT = "Nhập kết quả cho mô hình của đơn vị nào?"
PICK = "Chọn mô hình để nhập kết quả"

NEEDS_FIGURE = (
    "Kết quả cần có ít nhất một con số cụ thể (số hộ, số người tham gia, diện tích, "
    "số tiền…). Ví dụ: 120 hộ tham gia, huy động 50 triệu đồng. Vui lòng nhập lại."
)

NO_CHANGE = "Không có thay đổi nào. Kết quả giữ nguyên như cũ."
AFTER_SAVE = "Gõ /chamdiem để tự chấm điểm mô hình, /dexuat để đề xuất công nhận."


def status(has_results: bool) -> str:
    return "đã có kết quả" if has_results else "chưa nhập kết quả"


def results_prompt(year: int, scale: str | None) -> str:
    return (
        f"Tóm tắt quy mô, kết quả cụ thể đạt được năm {year} (Phụ lục 4, cột 7).\n"
        "Nêu rõ các con số: số hộ, số người tham gia, diện tích (ha), số tiền huy động, "
        "số công trình, ngày công…\n"
        "Ví dụ: 215 hộ tham gia; làm mới 1,2 km đường bê tông; huy động 350 triệu đồng "
        "và 1.200 ngày công.\n"
        f"(Quy mô đã đăng ký: {scale or 'chưa có'})"
    )


origin_prompt = Template("Năm {year}, mô hình này là xây dựng mới hay duy trì từ năm trước?")


def title(name: str | None) -> str:
    return f"Kết quả “{name}”" if name else "Nhập kết quả mô hình"


def saved(year: int, name: str, unit_name: str, results: str, origin: str) -> str:
    return "\n".join(
        [
            f"✅ Đã lưu kết quả năm {year} của mô hình “{name}” ({unit_name}):",
            f"• Kết quả: {results}",
            f"• Loại: {origin}",
            "",
            AFTER_SAVE,
        ]
    )
