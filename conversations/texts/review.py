"""Texts of /duyet, /quyetdinh and /thamdinh: decisions on recognition and the council's
assessment."""

from __future__ import annotations

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
NOT_RECOGNISED = "Mô hình “{name}” chưa được công nhận ({status}), nên chưa ghi quyết định được."
NOT_PENDING = "Mô hình “{name}” không còn chờ duyệt ({status})."
ONLY_PENDING = "Mô hình chờ duyệt duy nhất"
ONLY_RECOGNISED = "Mô hình đã công nhận duy nhất"
NO_RIGHT = "Đồng chí không có quyền duyệt mô hình của đơn vị này."
NONE_PENDING = "Hiện không có mô hình nào đang chờ duyệt trong các đơn vị đồng chí phụ trách."
NONE_PENDING_DECISION = " Có {n} mô hình đã công nhận chưa ghi số quyết định: gõ /quyetdinh để ghi."
PICK_ASSESS = "Thẩm định (chấm điểm của Hội đồng) mô hình nào?"
NONE_TO_ASSESS = (
    "Không có mô hình nào đang chờ duyệt để thẩm định trong các đơn vị đồng chí phụ trách."
)
ASSESSED_BEFORE = (
    "Mô hình “{name}” đã có điểm thẩm định. Dưới đây là điểm đã lưu: chọn tiêu chí cần chấm "
    "lại, rồi bấm Lưu."
)


def number_too_long(length: int, limit: int) -> str:
    return f"Số quyết định dài {length} ký tự, tối đa {limit} ký tự."


def bad_level(text: str) -> str:
    return (
        f"Không rõ cấp “{text}”. Vui lòng chọn hoặc gõ: cấp xã, cấp phường, cấp huyện, "
        "cấp Đảng ủy Khối, cấp tỉnh."
    )


def cannot_recognise(source: str, verdict: str) -> str:
    return (
        f"Không công nhận được: {source} hiện tại {verdict}. Chọn “Không công nhận” và nêu lý "
        "do để đơn vị chấm lại."
    )


def decision_saved(name: str, unit: str, decision: str) -> str:
    return f"✅ Đã ghi quyết định công nhận mô hình “{name}” ({unit}): {decision}."


def assessed_saved(name: str, unit: str, total: str, verdict: str) -> str:
    return (
        f"✅ Đã lưu điểm thẩm định của mô hình “{name}” ({unit}): tổng {total} điểm.\n"
        f"Kết quả thẩm định: {verdict}. Điểm này được dùng khi xét công nhận (/duyet)."
    )
