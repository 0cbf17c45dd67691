"""Texts of /duyet, /quyetdinh and /thamdinh: decisions on recognition and the council's
assessment."""

from __future__ import annotations

from domain.template import Template

ASK_NUMBER = (
    "Số quyết định công nhận? (ví dụ 125-QĐ/ĐU; gõ “bỏ qua” nếu chưa có, ghi sau bằng /quyetdinh)"
)

ASK_DATE = "Ngày ký quyết định? (ngày/tháng/năm, ví dụ 10/11/2026; hoặc “bỏ qua”)"
ASK_LEVEL = "Cấp ra quyết định công nhận? (chọn, gõ ví dụ “cấp phường”, hoặc “bỏ qua”)"
NUMBER_EMPTY = "Số quyết định không được để trống."

NONE_RECOGNISED = (
    "Chưa có mô hình nào được công nhận trong các đơn vị đồng chí phụ trách, nên chưa có quyết "
    "định nào để ghi."
)

PICK_RECOGNISED = "Ghi số quyết định cho mô hình nào?"
ONLY_PENDING = "Mô hình chờ duyệt duy nhất"
ONLY_RECOGNISED = "Mô hình đã công nhận duy nhất"
NO_RIGHT = "Đồng chí không có quyền duyệt mô hình của đơn vị này."
NONE_PENDING = "Hiện không có mô hình nào đang chờ duyệt trong các đơn vị đồng chí phụ trách."
PICK_ASSESS = "Thẩm định (chấm điểm của Hội đồng) mô hình nào?"

NONE_TO_ASSESS = (
    "Không có mô hình nào đang chờ duyệt để thẩm định trong các đơn vị đồng chí phụ trách."
)

assessed_before = Template(
    "Mô hình “{name}” đã có điểm thẩm định. Dưới đây là điểm đã lưu: chọn tiêu chí cần chấm "
    "lại, rồi bấm Lưu."
)

not_recognised = Template(
    "Mô hình “{name}” chưa được công nhận ({status}), nên chưa ghi quyết định được."
)
not_pending = Template("Mô hình “{name}” không còn chờ duyệt ({status}).")

none_pending_decision = Template(
    " Có {count} mô hình đã công nhận chưa ghi số quyết định: gõ /quyetdinh để ghi."
)

number_too_long = Template("Số quyết định dài {length} ký tự, tối đa {limit} ký tự.")

bad_level = Template(
    "Không rõ cấp “{text}”. Vui lòng chọn hoặc gõ: cấp xã, cấp phường, cấp huyện, "
    "cấp Đảng ủy Khối, cấp tỉnh."
)

cannot_recognise = Template(
    "Không công nhận được: {source} hiện tại {verdict}. Chọn “Không công nhận” và nêu lý "
    "do để đơn vị chấm lại."
)

decision_saved = Template("✅ Đã ghi quyết định công nhận mô hình “{name}” ({unit}): {decision}.")

assessed_saved = Template(
    "✅ Đã lưu điểm thẩm định của mô hình “{name}” ({unit}): tổng {total} điểm.\n"
    "Kết quả thẩm định: {verdict}. Điểm này được dùng khi xét công nhận (/duyet)."
)

# --- /duyet ----------------------------------------------------------------------------------
DECISION_RECOGNISED = "Công nhận"
DECISION_NOT_RECOGNISED = "Không công nhận"
DECISION_REMOVED = "Thanh loại (đưa ra khỏi danh sách)"
DECISION_QUESTION = "Quyết định của đồng chí?"
REASON_REMOVED = "Lý do thanh loại mô hình? (sẽ gửi cho cán bộ phụ trách của đơn vị)"

REASON_NOT_RECOGNISED = (
    "Lý do không công nhận? Nêu rõ cần bổ sung, sửa gì để đơn vị có thể đề xuất lại "
    "(sẽ gửi cho cán bộ phụ trách)."
)

NOTHING_CHANGED = "Không có gì thay đổi."
NOBODY_TOLD = "Không có cán bộ phụ trách nào có tài khoản Telegram hoặc Zalo để nhận thông báo."
MORE_PENDING = "Gõ /duyet để xem các mô hình còn chờ duyệt."


def pending_choice(name: str, unit: str, year: int | None) -> str:
    """A model waiting for a decision; ``year`` when it is not this year's."""
    when = "" if year is None else f", năm {year}"
    return f"{name} — {unit}{when}"


pending_list = Template("Mô hình đang chờ duyệt ({count}). Chọn một mô hình để xem và quyết định:")


def recognised_notice(model: str, decision: str | None, who: str) -> str:
    by = f" (quyết định {decision})" if decision is not None else ""
    return f"🎉 {model} đã được công nhận là mô hình “Dân vận khéo”{by}. {who}"


not_recognised_notice = Template(
    "{model} chưa được công nhận. Lý do: {reason}\n{who}\n"
    "Đơn vị có thể bổ sung kết quả (/ketqua), chấm lại điểm (/chamdiem) rồi đề xuất "
    "lại (/dexuat)."
)

removed_notice = Template(
    "{model} đã bị thanh loại (đưa ra khỏi danh sách). Lý do: {reason}\n{who}\n"
    "Mô hình này sẽ không được đưa vào danh sách duy trì năm sau."
)

notice_model = Template("Mô hình “{name}” của {unit} (năm {year})")
notice_reviewer = Template("Người duyệt: {leader}, ngày {day}.")


def decided_elsewhere(name: str, status: str) -> str:
    return (
        f"Mô hình “{name}” không còn chờ duyệt ({status}), "
        f"có thể vì đã được quyết định từ nơi khác. {NOTHING_CHANGED}"
    )


told = Template("Đã gửi thông báo cho: {names}.")
decided = Template("✅ Đã ghi quyết định: mô hình “{name}” ({unit}, năm {year}) — {decision}.")
reason_line = Template("Lý do: {reason}")
decision_line = Template("Quyết định công nhận: {decision}.")
recognised_choice = Template("{name} — {unit}, năm {year} ({decision})")

# --- /thamdinh -------------------------------------------------------------------------------
NOT_ASSESSED = "chưa thẩm định"

assessed_status = Template("đã thẩm định {total} điểm")
assess_title = Template("Thẩm định “{name}”")
