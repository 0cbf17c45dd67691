"""Texts of /web: the sign-in link to the leaders' web page."""

from __future__ import annotations

from domain.template import Template

NO_WEB = (
    "Trang tổng hợp trên web chưa được bật: máy chủ chưa đặt PUBLIC_BASE_URL. "
    "Đồng chí dùng /tonghop để xem tình hình ngay trong trò chuyện."
)

REFUSED = (
    "Lệnh /web dành cho lãnh đạo và quản trị. Đồng chí dùng /mohinh để xem mô hình của đơn vị."
)

sign_in_link = Template(
    "Đường dẫn đăng nhập trang tổng hợp (chỉ xem) của đồng chí:\n"
    "{url}\n"
    "Dùng được một lần, trong {minutes} phút (đến {until}), chỉ dành cho đồng chí: "
    "đừng chuyển cho người khác. Gõ /web để lấy đường dẫn mới."
)
