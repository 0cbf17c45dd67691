"""Texts of the deadlines in chat: /lich, /nhacnho, /hanchot and /giahan."""

from __future__ import annotations

from datetime import date

from domain.template import Template


def fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def days_text(due_on: date, today: date) -> str:
    days = (due_on - today).days
    if days > 1:
        return f"còn {days} ngày"
    if days == 1:
        return "ngày mai"
    if days == 0:
        return "hôm nay"
    return "đã qua"


# --- /lich ---------------------------------------------------------------------------------


nothing_owed = Template("{unit}: không còn thiếu việc nào.")
dates_of = Template("Các hạn năm {year} của {names}:")


def due_line(title: str, due: date, today: date, extended: date | None) -> str:
    line = f"• {fmt(due)} — {title} ({days_text(due, today)})"
    if extended is not None and extended > due:
        line += f"; được gia hạn đến {fmt(extended)} ({days_text(extended, today)})"
    return line


def set_by(names: list[str]) -> str:
    return "(Theo kế hoạch của " + ", ".join(names) + ".)"


DEFAULTS = "(Các ngày mặc định của kế hoạch thi đua; cấp trên có thể đặt ngày khác.)"

owes = Template("{unit} còn thiếu:")


def owed_heading(title: str, due: date, late: bool) -> str:
    return f"• {title} (hạn {fmt(due)}{', đã quá hạn' if late else ''}):"


def who_reopens(leaders: list[tuple[str, str]]) -> str:
    """Who may reopen a deadline for a unit: its nearest leaders by name."""
    if not leaders:
        return "lãnh đạo cấp trên"
    unit = leaders[0][1]
    names = ", ".join(n for n, u in leaders if u == unit)
    return f"lãnh đạo {unit} ({names})"


def closed(due: date, who: str) -> str:
    return f"đã quá hạn {fmt(due)} — đề nghị {who} mở lại (gia hạn) cho đơn vị"


owed_item = Template("  – {text}")


def owed_closed(text: str, due: date, who: str) -> str:
    """Something owed that a passed deadline stops this person from doing."""
    return f"  – {text} — {closed(due, who)}"


PAUSE_ON = (
    "Nhắc hạn: đang bật (nhắc trước hạn và vào ngày hạn chót). "
    "Gõ /nhacnho tat để tạm dừng nhắc trước hạn."
)


def pause_off(since: date) -> str:
    return (
        f"Nhắc hạn: đã tạm dừng nhắc trước hạn từ {fmt(since)}; tin nhắc vào ngày hạn chót vẫn "
        "được gửi. Gõ /nhacnho bat để nhận lại."
    )


# --- /nhacnho ------------------------------------------------------------------------------

PAUSED = (
    "Đã tạm dừng nhắc trước hạn. Đồng chí vẫn nhận tin nhắc vào đúng ngày hạn chót "
    "của những việc đơn vị còn thiếu. Gõ /nhacnho bat để nhận lại, /lich để xem "
    "các hạn."
)

RESUMED = (
    "Đã bật lại nhắc hạn: trợ lý nhắc đồng chí trước mỗi hạn và vào ngày hạn chót "
    "khi đơn vị còn thiếu việc."
)

unknown_pause_word = Template(
    "Chưa hiểu “{args}”. Gõ /nhacnho tat để tạm dừng nhắc trước hạn, /nhacnho bat "
    "để bật lại, hoặc /nhacnho để xem đang bật hay tắt."
)

# --- /hanchot and /giahan --------------------------------------------------------------------
ADMINS_ONLY = (
    "Lệnh /hanchot dành cho cán bộ quản trị (đổi ngày các hạn của năm). Gõ /lich để xem các hạn."
)

LEADERS_ONLY = (
    "Lệnh /giahan dành cho lãnh đạo: mở lại một hạn đã qua cho một đơn vị trực thuộc. "
    "Gõ /lich để xem các hạn."
)

NO_SUCH = "Không còn hạn này."
SET_UNIT = "Đổi hạn cho đơn vị nào (và các đơn vị trực thuộc)?"
EXTEND_UNIT = "Mở lại hạn cho đơn vị nào?"

kind_prompt = Template("Các hạn năm {year} áp dụng cho {unit}. Đồng chí muốn đổi hạn nào?")
extend_kind_prompt = Template("Các hạn năm {year} của {unit}. Mở lại hạn nào?")


def source(level_name: str | None) -> str:
    return f"theo kế hoạch của {level_name}" if level_name else "mặc định"


def kind_label(title: str, due: date, level_name: str | None) -> str:
    return f"{title} — {fmt(due)} ({source(level_name)})"


def due_prompt(title: str, current: date, example: date) -> str:
    return (
        f"Ngày hạn mới cho “{title}” (hiện tại {fmt(current)})? "
        f"Gõ ngày/tháng/năm, ví dụ {fmt(example)}."
    )


def until_prompt(title: str, due: date, example: date) -> str:
    return (
        f"Mở lại “{title}” (hạn {fmt(due)}) đến ngày nào? Gõ ngày/tháng/năm, ví dụ {fmt(example)}."
    )


bad_date = Template("Ngày “{text}” chưa đúng dạng. Vui lòng gõ ngày/tháng/năm, ví dụ 30/11/{year}.")
no_such_day = Template("Ngày “{text}” không có trên lịch. Vui lòng kiểm tra lại ngày và tháng.")


def outside_year(year: int) -> str:
    return f"Hạn của năm {year} phải là một ngày trong năm {year} (hoặc đầu năm {year + 1})."


def before_today(today: date) -> str:
    return f"Ngày hạn mới không thể ở trước hôm nay ({fmt(today)})."


def same_day(due: date) -> str:
    return f"Hạn này đã là {fmt(due)} rồi. Vui lòng gõ ngày khác."


def not_after_due(due: date) -> str:
    return f"Ngày mở lại phải sau hạn {fmt(due)}."


def changed(title: str, year: int, unit: str, old: date, new: date, keeping: list[str]) -> str:
    text = (
        f"Đã đổi hạn “{title}” năm {year} của {unit} và các đơn vị trực thuộc: {fmt(old)} → "
        f"{fmt(new)}. Lịch nhắc hạn được tính lại theo ngày mới. Xem: /lich"
    )
    if keeping:
        text += "\nCác đơn vị đã tự đặt hạn riêng giữ hạn của mình: " + ", ".join(keeping) + "."
    return text


def extended(title: str, year: int, unit: str, until: date, told: list[str]) -> str:
    text = f"Đã mở lại hạn “{title}” năm {year} cho {unit} đến hết ngày {fmt(until)}."
    if told:
        text += f" Đã báo cho: {', '.join(told)}."
    else:
        text += " Đơn vị chưa có cán bộ phụ trách nhận được thông báo qua Telegram hoặc Zalo."
    return text


def extension_notice(leader: str, title: str, year: int, unit: str, until: date) -> str:
    return (
        f"Lãnh đạo {leader} đã mở lại hạn “{title}” năm {year} cho {unit} đến hết ngày "
        f"{fmt(until)}. Gõ /lich để xem việc đơn vị còn thiếu."
    )
