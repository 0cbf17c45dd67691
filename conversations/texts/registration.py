"""Texts of registering a model (/dangky) and editing it."""

from __future__ import annotations

from domain.template import Template

NO_UNIT = "Đồng chí chưa thuộc đơn vị nào nên chưa đăng ký được mô hình."
ALREADY_KEPT = "Mô hình năm trước này đã được duy trì rồi. Vui lòng kiểm tra /mohinh."
NOT_KEEPABLE = "Mô hình này không còn để duy trì. Vui lòng chọn lại."
ONLY_NEW = "Loại: Xây dựng mới (đơn vị chưa có mô hình năm trước để duy trì)."
ORIGIN = "Mô hình xây dựng mới trong năm, hay duy trì mô hình của năm trước?"
KEPT_FROM = "Chọn mô hình năm trước muốn duy trì (các câu trả lời cũ sẽ được điền sẵn):"
NAME = "Tên mô hình là gì? (tối đa 300 ký tự)"
FIELD = "Mô hình thuộc lĩnh vực nào?"
FIELD_OTHER = "Lĩnh vực khác là gì? (ví dụ: Xây dựng nông thôn mới, Đô thị văn minh)"
SUBJECT = "Mô hình do tập thể hay cá nhân thực hiện?"
SUBJECT_PERSON = "Họ và tên cá nhân thực hiện mô hình?"
SUBJECT_GROUP = "Tên tập thể thực hiện mô hình (ví dụ: Chi hội Phụ nữ thôn 3)?"
PLACE = "Địa điểm xây dựng, triển khai (ví dụ: Thôn 3; Tổ dân phố 5; Phường Minh Khai)?"
LEAD_BODY = "Cơ quan, tổ chức chủ trì? Chọn trong danh sách hoặc gõ tên khác."
SCALE = "Quy mô thực hiện (số lượng, diện tích, số hộ…)? Ví dụ: 120 hộ, 15 ha."
NO_CHANGE = "Không có thay đổi nào. Mô hình giữ nguyên như cũ."
AFTER_SAVE = "Gõ /dangky để đăng ký thêm, /mohinh để xem lại hoặc sửa."
EDIT_TITLE = "Sửa mô hình"

title = Template("Đăng ký mô hình năm {year}")

YEAR = "Đăng ký cho năm nào?"


def year_label(year: int, default: bool) -> str:
    return f"Năm {year}" if default else f"Năm {year} (năm đang đánh giá, đăng ký bổ sung)"


def year_refused(word: str, years: list[int]) -> str:
    allowed = " hoặc ".join(str(y) for y in years)
    return f"Không đăng ký được cho năm “{word}”: lúc này chỉ đăng ký cho năm {allowed}."


unit_prompt = Template("Mô hình của đơn vị nào? (năm {year})")

twin_name = Template(
    "Đơn vị đã có mô hình “{name}” trong năm {year}. Vui lòng đặt tên khác, "
    "hoặc dùng /mohinh để sửa mô hình đó."
)


def saved(kept: bool, year: int, unit_name: str) -> str:
    origin = "duy trì" if kept else "xây dựng mới"
    return f"✅ Đã lưu mô hình {origin} năm {year} của {unit_name}:"


edited = Template("✅ Đã lưu thay đổi của mô hình “{name}”:")
