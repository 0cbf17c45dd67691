"""Texts of joining with an invite (/start) and linking accounts (/lienket)."""

from __future__ import annotations

from domain.catalog import ROLE_LABELS
from domain.template import Template

# Who hands out invite codes today (INVITE_ISSUER): the ward's Party-building office or the
# Party committee's office.
DEFAULT_INVITE_ISSUER = "Ban Xây dựng Đảng hoặc Văn phòng Đảng ủy"


def not_invited(issuer: str = DEFAULT_INVITE_ISSUER) -> str:
    return (
        "Xin chào! Đây là trợ lý phong trào thi đua “Dân vận khéo”.\n"
        "Trợ lý chỉ dành cho cán bộ đã được mời. Vui lòng xin mã mời từ cán bộ quản trị "
        f"của đơn vị ({issuer}), rồi gõ: /start MÃ_MỜI\n"
        "Đã dùng trợ lý trên Telegram hoặc Zalo? Gõ /lienket ở đó để lấy mã, "
        "rồi gõ ở đây: /lienket MÃ"
    )


NOT_INVITED = not_invited()
ASK_NAME = "Xin chào! Vui lòng cho biết họ và tên đầy đủ của đồng chí (ví dụ: Nguyễn Thị Lan)."

INVITE_PROBLEMS = {
    "unknown": "Mã mời không đúng. Vui lòng kiểm tra lại mã (chữ in hoa và số) "
    "hoặc xin mã mới từ cán bộ quản trị.",
    "expired": "Mã mời đã hết hạn. Vui lòng xin mã mới từ cán bộ quản trị.",
    "used_up": "Mã mời đã được dùng hết lượt. Vui lòng xin mã mới từ cán bộ quản trị.",
}

CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "terminal": "dòng lệnh"}

LINK_PROBLEMS = {
    "unknown": "Mã liên kết không đúng. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "expired": "Mã liên kết đã hết hạn. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "used_up": "Mã liên kết đã được dùng. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "taken": "Tài khoản này đã thuộc về một người khác nên không liên kết được. "
    "Vui lòng báo cán bộ quản trị.",
}


def welcome(full_name: str, unit_name: str, role: str) -> str:
    return (
        f"Chào {full_name}! Đồng chí đã tham gia {unit_name} với vai trò {ROLE_LABELS[role]}.\n"
        "Gõ /dangky để đăng ký mô hình “Dân vận khéo”, /mohinh để xem các mô hình "
        "đã đăng ký, /trogiup để xem mọi lệnh."
    )


greeting = Template("Chào {full_name}!\n{hints}")


def already_member(role: str, unit_name: str, hints: str) -> str:
    return (
        f"Đồng chí đã là {ROLE_LABELS[role]} của {unit_name}, không cần dùng mã mời này.\n{hints}"
    )


def other_channels(channel: str) -> str:
    """Where else the assistant is used than on ``channel``: "Zalo hoặc dòng lệnh"."""
    return " hoặc ".join(label for key, label in CHANNEL_LABELS.items() if key != channel)


link_code = Template(
    "Mã liên kết của đồng chí: {code}\n"
    "Mở trợ lý trên {others} và gõ: /lienket {code}\n"
    "Mã dùng được một lần trong {minutes} phút. Không gửi mã này cho ai khác."
)

already_linked = Template("Tài khoản này đã được liên kết với đồng chí.\n{hints}")


def linked(channel: str, full_name: str, hints: str) -> str:
    return (
        f"Đã liên kết tài khoản {CHANNEL_LABELS.get(channel, channel)} này với "
        f"{full_name}. Các đơn vị và vai trò của đồng chí dùng được ở đây.\n{hints}"
    )
