"""What the core says itself: to strangers, when it cannot help, and the help."""

from __future__ import annotations

from datetime import date

from domain.calendar import REGISTRATION
from domain.catalog import ROLE_LABELS
from domain.template import Template

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

outdated = Template(
    "Thao tác đang làm dở “{heading}” được tạo từ phiên bản trước của trợ lý nên đã được "
    "hủy; những gì đã lưu trước đó vẫn còn. Vui lòng bắt đầu lại."
)

unknown_command = Template("Không có lệnh /{name}.")

busy = Template(
    "Đồng chí đang làm dở “{heading}”. Hãy trả lời tiếp, hoặc gõ /huy để hủy rồi dùng lệnh /{name}."
)

expired = Template(
    "Thao tác “{heading}” bỏ dở từ {since} đã quá {days} ngày nên đã được hủy; "
    "những gì đã lưu trước đó vẫn còn."
)

refused = Template("Lệnh /{name} không dành cho vai trò của đồng chí. Gõ /trogiup để xem các lệnh.")


def did_you_mean(name: str, purpose: str) -> str:
    what = purpose[:1].lower() + purpose[1:]  # "Lãnh đạo: …" → "lãnh đạo: …", "Word" kept
    return f"Có phải đồng chí muốn /{name} ({what})? Gõ /{name} để bắt đầu."


hello = Template("Chào đồng chí {name}!")

YOU_ARE_WELCOME = "Không có gì ạ. Cần gì đồng chí cứ nhắn trợ lý."
SEE_LICH = "Gõ /lich để xem cả việc đơn vị còn thiếu."
SEE_TONGHOP = "Gõ /tonghop để xem tình hình đầy đủ."
LEADERS_ASK = "Danh sách các đơn vị chưa làm chỉ dành cho lãnh đạo."


def how_to_register(year: int, closes: list[date]) -> str:
    dates = ", ".join(d.strftime("%d/%m/%Y") for d in closes)
    return (
        f"Để đăng ký mô hình năm {year}, đồng chí gõ /dangky. Trợ lý hỏi lần lượt: đơn vị (nếu "
        "đồng chí phụ trách nhiều đơn vị), mô hình mới hay duy trì, tên mô hình, lĩnh vực, "
        "chủ thể (tập thể hay cá nhân), địa điểm, cơ quan chủ trì và quy mô; đồng chí bấm nút "
        "hoặc gõ số của lựa chọn, cuối cùng kiểm tra lại rồi bấm Lưu. Gõ “quay lại” để sửa "
        "câu trước, “hủy” để dừng." + (f" Hạn đăng ký: {dates}." if dates else "")
    )


def lagging_heading(kind: str, root: str, year: int, count: int) -> str:
    what = "chưa đăng ký đủ mô hình" if kind == REGISTRATION else "chưa gửi báo cáo năm"
    if count == 0:
        return f"{root}: năm {year} không còn đơn vị nào {what}."
    return f"{root}: năm {year} có {count} đơn vị {what}:"


help_hello = Template("Chào {name}. Đồng chí là:")


def membership_line(role: str, unit: str) -> str:
    return f"• {ROLE_LABELS[role]} — {unit}"


command_line = Template("/{name} — {purpose}")

ALL_COMMANDS_HEADING = "Các lệnh:"
NOW_HEADING = "Nên làm bây giờ:"
OTHERS_HEADING = "Các lệnh khác:"
ALWAYS_KNOWN = ("huy", "trogiup")  # said in the help's last line instead


def help_tail(total: int, more: bool) -> str:
    more_text = f"Gõ /trogiup tatca để xem đủ {total} lệnh. " if more else ""
    return f"{more_text}Đang trả lời: gõ “quay lại” để lùi một bước, /huy để dừng."
