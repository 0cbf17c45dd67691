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
