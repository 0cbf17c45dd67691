"""Texts of the models menu (/mohinh): viewing, editing and withdrawing a model."""

from __future__ import annotations

from domain.template import Template

UNIT = "Xem mô hình của đơn vị nào?"
PICK = "Chọn một mô hình để xem"
WHAT_NEXT = "Đồng chí muốn làm gì?"
DONE = "Xong. Gõ /mohinh để xem lại danh sách, /trogiup để xem các lệnh."
KEPT = "Đã giữ nguyên mô hình, không rút."
MORE = "Gõ /mohinh để xem mô hình khác."
ACTION_EDIT = "Sửa thông tin"
ACTION_WITHDRAW = "Rút mô hình"
ACTION_DONE = "Xong"
YES_WITHDRAW = "Có, rút mô hình"

record_label = Template("{name} ({field}; {subject})")
no_models = Template("Chưa có mô hình nào năm {year}. Gõ /dangky để đăng ký mô hình.")

withdraw_question = Template(
    "Rút mô hình “{name}” khỏi danh sách năm {year}? Thao tác này được ghi lại."
)

withdrawn = Template("Đã rút mô hình “{name}” khỏi danh sách năm {year}.")
