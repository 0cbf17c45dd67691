"""Labels of the official forms (seed 002), shared by the chat flows and the reports."""

from __future__ import annotations

from storage.models import Field, Origin, Subject

FIELD_ORDER = (Field.KT, Field.VHXH, Field.QPAN, Field.XDD, Field.OTHER)
FIELD_LABELS = {
    Field.KT: "Kinh tế (KT)",
    Field.VHXH: "Văn hóa - Xã hội (VHXH)",
    Field.QPAN: "Quốc phòng - An ninh (QPAN)",
    Field.XDD: "Xây dựng Đảng và hệ thống chính trị (XDĐ&HTCT)",
    Field.OTHER: "Lĩnh vực khác",
}
FIELD_SHORT = {
    Field.KT: "KT",
    Field.VHXH: "VHXH",
    Field.QPAN: "QPAN",
    Field.XDD: "XDĐ&HTCT",
    Field.OTHER: "Khác",
}
FIELD_ALIASES = {
    Field.KT: ("kinh te", "phat trien kinh te"),
    Field.VHXH: ("van hoa xa hoi", "van hoa", "xa hoi"),
    Field.QPAN: ("quoc phong an ninh", "quoc phong", "an ninh"),
    Field.XDD: ("xay dung dang", "he thong chinh tri", "xdd", "xd dang"),
    Field.OTHER: ("khac", "linh vuc khac"),
}
SUBJECT_LABELS = {Subject.COLLECTIVE: "Tập thể", Subject.INDIVIDUAL: "Cá nhân"}
ORIGIN_LABELS = {Origin.NEW: "Xây dựng mới", Origin.KEPT: "Duy trì từ năm trước"}
LEAD_BODIES = (
    "Chi bộ",
    "Đảng ủy",
    "UBND",
    "MTTQ",
    "Hội Nông dân",
    "Hội LHPN",
    "Đoàn Thanh niên",
    "Hội Cựu chiến binh",
    "Công đoàn",
)
ROLE_LABELS = {"officer": "cán bộ phụ trách", "leader": "lãnh đạo", "admin": "quản trị"}
UNIT_KINDS = {
    "tinh": "Tỉnh",
    "xa": "Xã",
    "phuong": "Phường",
    "dang_uy": "Đảng ủy",
    "chi_bo": "Chi bộ",
    "phong_ban": "Phòng, ban",
    "doan_the": "Đoàn thể",
    "khac": "Đơn vị khác",
}
NAME_MAX = 300


def field_label(field: str, other: str | None = None) -> str:
    if field == Field.OTHER and other:
        return other
    return FIELD_LABELS[Field(field)]
