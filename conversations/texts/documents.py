"""Texts of recording a document issued to lead the movement (/vanban, Biểu 1)."""

from __future__ import annotations

from domain.template import Template

UNIT = "Văn bản của đơn vị nào?"
NUMBER = "Số hiệu văn bản? (ví dụ: 15-KH/ĐU)"
ISSUED_ON = "Ngày ban hành? (ngày/tháng/năm, ví dụ 12/03/2026)"
CONTENT = "Trích yếu nội dung văn bản?"
AFTER_TODAY = "Ngày ban hành không thể ở sau hôm nay."

bad_date = Template("Ngày “{text}” không đúng. Vui lòng gõ ngày/tháng/năm, ví dụ 12/03/{year}.")

saved = Template(
    "Đã ghi văn bản {number} ngày {issued_on} "
    "của {unit_name} vào Biểu 1 năm {year}. "
    "Xem: /xuat bieu1 {year}"
)
