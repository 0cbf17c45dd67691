"""The vocabulary of the movement: the kinds a model, a unit and a person can be, and the
labels the official forms (Kế hoạch năm 2024 (Yên Bái)) give them, shared by the chat
flows, the rules and the workbooks."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from domain.text import fold


class Role(enum.StrEnum):
    OFFICER = "officer"
    LEADER = "leader"
    ADMIN = "admin"


class Field(enum.StrEnum):
    """Lĩnh vực of a model, in the order the official forms list them."""

    KT = "KT"
    VHXH = "VHXH"
    QPAN = "QPAN"
    XDD = "XDD"
    OTHER = "OTHER"


class Subject(enum.StrEnum):
    COLLECTIVE = "collective"
    INDIVIDUAL = "individual"


class Origin(enum.StrEnum):
    NEW = "new"
    KEPT = "kept"


class RecordState(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Review(enum.StrEnum):
    """Where a model's year stands in recognition (Kế hoạch của Đảng ủy phường, 2025)."""

    PROPOSED = "proposed"  # the unit proposes it for recognition
    RECOGNISED = "recognised"  # công nhận
    NOT_RECOGNISED = "not_recognised"  # không công nhận: may be fixed and proposed again
    REMOVED = "removed"  # thanh loại: off the list, not offered as "kept" next year


class DecisionLevel(enum.StrEnum):
    """The level whose decision recognised a model."""

    XA = "xa"
    PHUONG = "phuong"
    HUYEN = "huyen"
    KHOI = "khoi"
    TINH = "tinh"


DECISION_LEVEL_LABELS = {
    DecisionLevel.XA: "Cấp xã",
    DecisionLevel.PHUONG: "Cấp phường",
    DecisionLevel.HUYEN: "Cấp huyện",
    DecisionLevel.KHOI: "Cấp Đảng ủy Khối",
    DecisionLevel.TINH: "Cấp tỉnh",
}
# Typed without diacritics, with or without "cấp": "phuong", "cap huyen", "thi xa".
DECISION_LEVEL_ALIASES = {
    DecisionLevel.XA: ("xa", "thi tran", "cap xa", "cap co so", "co so"),
    DecisionLevel.PHUONG: ("phuong", "cap phuong"),
    DecisionLevel.HUYEN: (
        "huyen",
        "cap huyen",
        "quan",
        "thi xa",
        "thanh pho thuoc tinh",
        "thi uy",
        "huyen uy",
        "quan uy",
    ),
    DecisionLevel.KHOI: ("khoi", "cap khoi", "dang uy khoi", "duk"),
    DecisionLevel.TINH: ("tinh", "cap tinh", "tinh uy", "thanh pho", "thanh uy"),
}


FIELD_ORDER = (Field.KT, Field.VHXH, Field.QPAN, Field.XDD, Field.OTHER)
# The same as stored values; the reports count the fields named here by name and every other
# value (and OTHER itself) as "Khác".
FIELD_KEYS: tuple[str, ...] = tuple(f.value for f in FIELD_ORDER)
NAMED_FIELDS: tuple[str, ...] = tuple(f for f in FIELD_KEYS if f != Field.OTHER.value)
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
# Who signs a unit's sheets when the unit names no one (dvk unit set-signer), by its kind.
SIGNER_TITLES = {
    "tinh": "T/M BAN THƯỜNG VỤ",
    "xa": "T/M ĐẢNG ỦY",
    "phuong": "T/M ĐẢNG ỦY",
    "dang_uy": "T/M ĐẢNG ỦY",
    "chi_bo": "T/M CHI BỘ",
    "phong_ban": "TRƯỞNG BAN",
    "doan_the": "T/M BAN THƯỜNG VỤ",
}
SIGNER_DEFAULT = "THỦ TRƯỞNG ĐƠN VỊ"


def signer_title(kind: str, title: str | None) -> str:
    """The title a unit's sheets are signed under: its own, else its kind's."""
    return (title or "").strip() or SIGNER_TITLES.get(kind, SIGNER_DEFAULT)


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

# Models expected of a unit per year by its kind. Kế hoạch của Đảng ủy phường (2025): each
# unit of the ward builds 1–2 models a year, so every unit kind below a ward or commune has a
# quota of 1; the ward, commune or province itself (it leads, its units build) has none and is
# not counted as a unit that must register. Other plans ask more — Kế hoạch năm 2024 (Yên Bái):
# a party cell 1, a grassroots party committee 2, each mass organisation 5 — and are set with
# the QUOTAS setting. 0 = no quota.
DEFAULT_QUOTAS: dict[str, int] = dict.fromkeys(UNIT_KINDS, 1) | {
    "tinh": 0,
    "xa": 0,
    "phuong": 0,
}


def required_models(kind: str, quotas: Mapping[str, int]) -> int:
    """Models a unit of ``kind`` must register for the year: its quota; 0 (a kind without a
    quota) owes none and is not counted as a unit that must register."""
    return max(int(quotas.get(kind, 0)), 0)


_QUOTA_ITEM = re.compile(r"^([a-z_]+)\s*=\s*(-?\d+)$")


def parse_quotas(text: str) -> dict[str, int]:
    """The quotas of a setting such as ``"chi_bo=1,dang_uy=2,doan_the=5"`` (``,`` or ``;``
    between items, spaces allowed). Only the kinds named are returned; merge them over
    :data:`DEFAULT_QUOTAS` to keep the defaults of the others. An empty text gives ``{}``.

    Raises ValueError naming the bad item: no ``=``, an unknown unit kind, a count that is
    not a whole number from 0 to 1000, or a kind given twice."""
    quotas: dict[str, int] = {}
    for raw in re.split(r"[,;]", text):
        item = raw.strip()
        if not item:
            continue
        match = _QUOTA_ITEM.match(item)
        if match is None:
            raise ValueError(
                f"Chỉ tiêu “{item}” không đúng dạng loại_đơn_vị=số, ví dụ chi_bo=1,doan_the=5."
            )
        kind, number = match.group(1), int(match.group(2))
        if kind not in UNIT_KINDS:
            known = ", ".join(UNIT_KINDS)
            raise ValueError(f"Loại đơn vị “{kind}” không có. Các loại: {known}.")
        if not 0 <= number <= 1000:
            raise ValueError(f"Chỉ tiêu của {kind} phải từ 0 đến 1000, không phải {number}.")
        if kind in quotas:
            raise ValueError(f"Chỉ tiêu của {kind} được ghi hai lần.")
        quotas[kind] = number
    return quotas


def field_label(field: str, other: str | None = None) -> str:
    if field == Field.OTHER and other:
        return other
    return FIELD_LABELS[Field(field)]


# The parts of the introduction of a typical model: (key, label in the summary and the
# report, question, optional), worded as the Hướng dẫn giới thiệu mô hình (Quảng Ngãi).
INTRO_PARTS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "basis",
        "Cơ sở xây dựng",
        "Cơ sở xây dựng mô hình: mô hình ra đời từ chủ trương, nhu cầu thực tế nào "
        "của địa phương, đơn vị?",
        False,
    ),
    (
        "scope",
        "Phạm vi tác động, ảnh hưởng",
        "Phạm vi tác động, ảnh hưởng của mô hình (địa bàn, số hộ, số người được hưởng lợi…)?",
        True,
    ),
    (
        "method",
        "Phương thức triển khai",
        "Phương thức triển khai: mô hình được thực hiện thế nào (các bước, cách làm, "
        "lực lượng tham gia)?",
        False,
    ),
    (
        "results",
        "Hiệu quả trong quá trình thực hiện",
        "Hiệu quả trong quá trình thực hiện (kết quả cụ thể, có số liệu)?",
        False,
    ),
    (
        "replication",
        "Các giải pháp nhân rộng",
        "Các giải pháp nhân rộng mô hình, điển hình?",
        True,
    ),
)
INTRO_PART_KEYS = tuple(key for key, *_ in INTRO_PARTS)
INTRO_PART_LABELS = {key: label for key, label, *_ in INTRO_PARTS}


def parse_decision_level(text: str) -> DecisionLevel | None:
    """The level typed with or without diacritics ("cấp phường", "cap huyen", "tỉnh")."""
    key = re.sub(r"[^a-z ]+", " ", fold(text))
    key = " ".join(key.split())
    for level, aliases in DECISION_LEVEL_ALIASES.items():
        if key in aliases or key == level.value:
            return level
    return None
