"""Texts shared by several flows: refusals about units and models, and how a model reads."""

from __future__ import annotations

from domain.template import Template

NO_RIGHT_UNIT = "Đồng chí không có quyền với đơn vị này."
NO_RIGHT = "Đồng chí không có quyền với mô hình này."
GONE = "Mô hình này không còn trong danh sách."
NOT_A_MEMBER = "Đồng chí chưa thuộc đơn vị nào."
NO_RESULTS = "(chưa nhập)"
NOT_SCORED = "• Điểm: chưa chấm"
NO_DECISION = "chưa ghi số quyết định (gõ /quyetdinh để ghi)"

only_unit = Template("{label}: {name} (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).")

only_model = Template(
    "Mô hình: “{name}” (mô hình duy nhất năm {year} của {unit_name} nên trợ lý chọn sẵn)."
)

model_list_prompt = Template("{prompt} (năm {year}, {unit_name}):")

no_models = Template(
    "Chưa có mô hình nào năm {year} để {what}. Gõ /dangky để đăng ký mô hình trước."
)

file_expected = Template(
    "Ở bước này cần gửi ảnh hoặc tệp (bấm biểu tượng đính kèm), không phải chữ. Nhận {accepted}."
)

SEE_MODELS = "Gõ /mohinh để xem các mô hình."

# A deadline passed: what only leaders may do now, and who may reopen it.
_leaders_only_now = Template(
    "Đã quá hạn {stage} ({due}): chỉ lãnh đạo hoặc quản trị mới {what}. "
    "Nếu cần, đề nghị {who} mở lại hạn (gia hạn) cho đơn vị."
)


def registration_closed(due: str, who: str) -> str:
    return _leaders_only_now(stage="đăng ký", due=due, what="sửa hoặc rút được mô hình", who=who)


evaluation_locked = Template(
    "Mô hình “{name}” {status} nên cán bộ phụ trách không sửa "
    "được kết quả và điểm nữa. Nếu cần sửa, vui lòng liên hệ lãnh đạo đơn vị."
)


def evaluation_closed(year: int, due: str, who: str) -> str:
    return _leaders_only_now(
        stage=f"đánh giá mô hình năm {year}", due=due, what="sửa được kết quả và điểm", who=who
    )


proposal_closed = Template(
    "Đã quá hạn đề xuất công nhận mô hình năm {year} ({due}). Nếu đơn vị còn mô hình "
    "cần đề xuất, đề nghị {who} mở lại hạn (gia hạn) cho đơn vị, hoặc báo lãnh đạo "
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


record_heading = Template("Mô hình “{name}” — {unit_name}, năm {year} ({origin}):")


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


status_line = Template("• Tình trạng: {status}")
reason_line = Template("• Lý do: {reason}")
decision_line = Template("• Quyết định công nhận: {decision}")


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
