"""What the core says itself: to strangers, when it cannot help, and the help."""

from __future__ import annotations

SORRY = (
    "Xin lỗi, trợ lý gặp sự cố khi xử lý tin nhắn này. Những gì đồng chí đã nhập trước đó vẫn "
    "được giữ. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, gõ /huy để làm lại từ đầu "
    "hoặc báo cán bộ quản trị."
)
DROPPED = "Đã hủy thao tác đang làm dở."
TOO_FAST = (
    "Đồng chí gửi nhiều tin nhắn quá nhanh nên trợ lý tạm chưa trả lời các tin tiếp theo. "
    "Vui lòng chờ khoảng một phút rồi gửi lại."
)
NOTHING_OPEN = "Không có thao tác nào đang làm dở."
NOT_UNDERSTOOD = "Trợ lý chưa hiểu tin nhắn này."
OLD_BUTTON = "Nút bấm này thuộc một thao tác đã xong hoặc đã hủy nên không còn hiệu lực."
IN_PROGRESS = "Đồng chí đang làm dở:"
WHILE_ANSWERING = "Trong lúc trả lời: gõ “quay lại” để trở lại bước trước, “hủy” để dừng."
LEADER_NOTE = (
    "Với vai trò lãnh đạo, đồng chí dùng được các lệnh trên cho mọi đơn vị trực thuộc, "
    "kể cả sửa hoặc rút mô hình sau hạn đăng ký."
)
OUTDATED = (
    "Thao tác đang làm dở “{heading}” được tạo từ phiên bản trước của trợ lý nên đã được "
    "hủy; những gì đã lưu trước đó vẫn còn. Vui lòng bắt đầu lại."
)


def unknown_command(name: str) -> str:
    return f"Không có lệnh /{name}."


def busy(heading: str, name: str) -> str:
    return (
        f"Đồng chí đang làm dở “{heading}”. Hãy trả lời tiếp, hoặc gõ /huy để hủy "
        f"rồi dùng lệnh /{name}."
    )


def expired(heading: str, since: str, days: int) -> str:
    return (
        f"Thao tác “{heading}” bỏ dở từ {since} đã quá {days} ngày nên đã được hủy; "
        "những gì đã lưu trước đó vẫn còn."
    )


def refused(name: str) -> str:
    return f"Lệnh /{name} không dành cho vai trò của đồng chí. Gõ /trogiup để xem các lệnh."
