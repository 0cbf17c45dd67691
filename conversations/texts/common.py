"""Texts shared by several flows: refusals about units and models, and how a model reads."""

from __future__ import annotations

NO_RIGHT_UNIT = "Đồng chí không có quyền với đơn vị này."
NO_RIGHT = "Đồng chí không có quyền với mô hình này."
GONE = "Mô hình này không còn trong danh sách."
NOT_A_MEMBER = "Đồng chí chưa thuộc đơn vị nào."
NO_RESULTS = "(chưa nhập)"
NOT_SCORED = "• Điểm: chưa chấm"
NO_DECISION = "chưa ghi số quyết định (gõ /quyetdinh để ghi)"


def only_unit(label: str, name: str) -> str:
    return f"{label}: {name} (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn)."


def only_model(name: str, unit_name: str, year: int) -> str:
    return f"Mô hình: “{name}” (mô hình duy nhất năm {year} của {unit_name} nên trợ lý chọn sẵn)."


def model_list_prompt(prompt: str, year: int, unit_name: str) -> str:
    return f"{prompt} (năm {year}, {unit_name}):"


def no_models(year: int, what: str) -> str:
    return f"Chưa có mô hình nào năm {year} để {what}. Gõ /dangky để đăng ký mô hình trước."


def file_expected(accepted: str) -> str:
    return (
        "Ở bước này cần gửi ảnh hoặc tệp (bấm biểu tượng đính kèm), không phải chữ. "
        f"Nhận {accepted}."
    )


SEE_MODELS = "Gõ /mohinh để xem các mô hình."


def _leaders_only_now(stage: str, due: str, what: str, who: str) -> str:
    """A deadline passed: what only leaders may do now, and who may reopen it."""
    return (
        f"Đã quá hạn {stage} ({due}): chỉ lãnh đạo hoặc quản trị mới {what}. "
        f"Nếu cần, đề nghị {who} mở lại hạn (gia hạn) cho đơn vị."
    )


def registration_closed(due: str, who: str) -> str:
    return _leaders_only_now("đăng ký", due, "sửa hoặc rút được mô hình", who)


def evaluation_locked(name: str, status: str) -> str:
    return (
        f"Mô hình “{name}” {status} nên cán bộ phụ trách không sửa "
        "được kết quả và điểm nữa. Nếu cần sửa, vui lòng liên hệ lãnh đạo đơn vị."
    )


def evaluation_closed(year: int, due: str, who: str) -> str:
    return _leaders_only_now(f"đánh giá mô hình năm {year}", due, "sửa được kết quả và điểm", who)


def proposal_closed(year: int, due: str, who: str) -> str:
    return (
        f"Đã quá hạn đề xuất công nhận mô hình năm {year} ({due}). Nếu đơn vị còn mô hình "
        f"cần đề xuất, đề nghị {who} mở lại hạn (gia hạn) cho đơn vị, hoặc báo lãnh đạo "
        "để xem xét trực tiếp."
    )


# Where a model stands in recognition, as a phrase: "Mô hình … {status}".
REVIEW_STATUS: dict[str | None, str] = {
    None: "chưa đề xuất công nhận",
    "proposed": "đang chờ lãnh đạo duyệt",
    "recognised": "đã được công nhận",
    "not_recognised": "không được công nhận",
    "removed": "đã bị thanh loại",
}


# --- a model's record as chat shows it (conversations.records) -----------------------------


def record_lines(
    name: str, field: str, subject: str, subject_name: str, place: str, lead_body: str, scale: str
) -> list[str]:
    """The fields of Phụ lục 1, one line each; ``field`` and ``subject`` as their labels."""
    return [
        f"• Tên mô hình: {name}",
        f"• Lĩnh vực: {field}",
        f"• Chủ thể: {subject} — {subject_name}",
        f"• Địa điểm: {place}",
        f"• Chủ trì: {lead_body}",
        f"• Quy mô: {scale}",
    ]


def record_heading(name: str, unit_name: str, year: int, origin: str) -> str:
    return f"Mô hình “{name}” — {unit_name}, năm {year} ({origin}):"


def results_line(results: str | None) -> str:
    return f"• Kết quả đạt được: {results or NO_RESULTS}"


def score_lines(points: str, total: str) -> list[str]:
    """The self-score: points per criterion, then the total with its verdict."""
    return [f"• Điểm từng tiêu chí: {points}", f"• Tổng điểm: {total}"]


def council_score_lines(points: str, total: str) -> list[str]:
    """The council's assessment (/thamdinh), as :func:`score_lines`."""
    return [
        f"• Điểm thẩm định: {points}",
        f"• Tổng điểm thẩm định: {total} (dùng để xét công nhận)",
    ]


def proposed(proposer: str | None, day: str, status: str) -> str:
    """A model proposed for recognition: by whom (when known), on which day, where it stands."""
    who = f" bởi {proposer}" if proposer is not None else ""
    return f"đề xuất công nhận{who} ngày {day}, {status}"


def status_line(status: str) -> str:
    return f"• Tình trạng: {status}"


def reason_line(reason: str) -> str:
    return f"• Lý do: {reason}"


def decision_line(decision: str) -> str:
    return f"• Quyết định công nhận: {decision}"


def decision(number: str | None, day: str | None, level: str | None) -> str:
    """ "số 125-QĐ/ĐU ngày 10/11/2026, cấp phường" (what is known of it; ``level`` as its
    lowercase label), or that it is not recorded yet."""
    if not (number or day or level):
        return NO_DECISION
    parts = []
    if number:
        parts.append(f"số {number}")
    if day:
        parts.append(f"ngày {day}")
    text = " ".join(parts)
    if level:
        text = f"{text}, {level}" if text else level
    return text
