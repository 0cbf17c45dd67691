"""The scoring rubric of a "Dân vận khéo" model as data (Biểu chấm điểm mô hình of the
Kế hoạch năm 2024 (Yên Bái)).

The one place the rubric lives: the chat scoring flow validates points with
:func:`validate_points` and explains the result with :func:`verdict_text`; the score sheet
(``reports/score_sheet.py``) prints the same wording, maxima and verdict.

Part I (criteria 1–10, 75 points) is common to every model. Part II (criteria 11–15, 25
points) has one wording for a model carried out by a collective (II.1) and another for one
carried out by an individual (II.2); a model is scored on the set matching its subject. A
model passes with a total of at least 75 points **and** the maximum on criteria 2, 7, 9, 11
and 15.

Every text is copied from the plan verbatim (NFC; trailing spaces and the form's line breaks
inside a cell dropped), including its mix of straight and curly quotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from domain.catalog import Subject

SHEET_TITLE = "BIỂU CHẤM ĐIỂM MÔ HÌNH"

# Column headings of the form, left to right.
COL_NUMBER = "STT"
COL_CRITERION = "Tiêu chí"
COL_MAXIMUM = "Điểm tối đa"
COL_POINTS = "Điểm đánh giá"
COL_SELF = "Điểm tự chấm"
COL_COUNCIL = "Điểm thẩm định"
COL_NOTE = "Ghi chú"

PART_I_LABEL = "I"
PART_I_TITLE = 'Các tiêu chí chung về mô hình "Dân vận khéo"'
PART_II_LABEL = "II"
PART_II_TITLE = "Tiêu chí đánh giá chủ thể thực hiện"
PART_II_NOTE = "(Chọn chủ thể phù hợp để tiến hành đánh giá)"
PART_II_1_LABEL = "II.1"
PART_II_1_TITLE = "Đối với mô hình do tập thể thực hiện"
PART_II_2_LABEL = "II.2"
PART_II_2_TITLE = "Đối với mô hình do cá nhân thực hiện"
TOTAL_LABEL = "Tổng cộng I + II"
RULE_TEXT = (
    'Mô hình "Dân vận khéo" phải đạt tổng từ 75 điểm (I+II) trở lên; '
    "trong đó các tiêu chí 2, 7, 9, 11 và 15 phải đạt điểm tối đa."
)

PART_I_MAX = Decimal(75)
PART_II_MAX = Decimal(25)
TOTAL_MAX = Decimal(100)
PASS_TOTAL = Decimal(75)
MUST_MAX = (2, 7, 9, 11, 15)
STEP = Decimal("0.5")  # points are given in halves


@dataclass(frozen=True)
class Criterion:
    number: int  # 1–15, as numbered on the form
    part: str  # "I" or "II"
    text: str
    maximum: Decimal

    @property
    def must_max(self) -> bool:
        """One of the criteria a passing model must have at its maximum."""
        return self.number in MUST_MAX


def _part(part: str, first: int, items: tuple[tuple[int, str], ...]) -> tuple[Criterion, ...]:
    return tuple(
        Criterion(first + i, part, text, Decimal(maximum))
        for i, (maximum, text) in enumerate(items)
    )


COMMON: tuple[Criterion, ...] = _part(
    "I",
    1,
    (
        (
            5,
            "Mô hình “Dân vận khéo” phải xác định rõ tên, địa chỉ, có đăng ký thực hiện từ đầu "
            "năm; được cấp ủy hoặc cơ quan tham mưu cấp huyện tổng hợp danh sách theo dõi, chỉ "
            "đạo việc thực hiện.",
        ),
        (
            10,
            "Nội dung thực hiện giải quyết được những việc mới, khó khăn, cấp bách hoặc những "
            "nhiệm vụ chính trị của địa phương, cơ quan, đơn vị đang tập trung lãnh đạo, chỉ "
            "đạo thực hiện.",
        ),
        (
            10,
            "Giải quyết nhu cầu, lợi ích, nguyện vọng chính đáng, hợp pháp của nhân dân và phát "
            "huy được quyền làm chủ của nhân dân.",
        ),
        (
            5,
            "Có sự phối hợp tham gia hiệu quả của các cơ quan, tổ chức trong hệ thống chính trị "
            "và của nhiều thành phần, lực lượng trong xã hội.",
        ),
        (
            5,
            "Thu hút, tập hợp, huy động được đông đảo các cá nhân trong tổ chức và đoàn viên, "
            "hội viên, nhân dân hưởng ứng tham gia thực hiện.",
        ),
        (5, "Huy động được các nguồn lực xã hội hóa để thực hiện mô hình."),
        (
            10,
            "Mô hình có đóng góp tích cực vào việc phát triển kinh tế, văn hóa - xã hội, quốc "
            "phòng - an ninh, xây dựng hệ thống chính trị vững mạnh của địa phương.",
        ),
        (
            5,
            "Mô hình được tổ chức thực hiện linh hoạt, sáng tạo, tiết kiệm thời gian, nguồn lực "
            "nhưng vẫn đáp ứng yêu cầu nhiệm vụ, đem lại hiệu quả thiết thực.",
        ),
        (
            10,
            "Là những mô hình có tính bền vững, có sức lan tỏa trong cộng đồng, có khả năng nhân "
            "rộng ra các địa phương, các cơ quan, đơn vị.",
        ),
        (
            10,
            "Mô hình được tổng kết, đánh giá, tổ chức học tập kinh nghiệm tại địa phương, cơ "
            "quan, đơn vị.",
        ),
    ),
)

COLLECTIVE: tuple[Criterion, ...] = _part(
    "II",
    11,
    (
        (
            5,
            "Cán bộ, đảng viên của tập thể đoàn kết, tiên phong, gương mẫu; thực hiện nghiêm "
            "công tác phòng, chống tham nhũng và các hiện tượng tiêu cực, tệ nạn xã hội; thực "
            "hành tiết kiệm, chống lãng phí.",
        ),
        (
            5,
            "Nắm chắc tâm tư, nguyện vọng, tình hình nhân dân liên quan đến chức năng, nhiệm "
            "vụ, lĩnh vực hoạt động của cơ quan, tổ chức.",
        ),
        (
            5,
            "Thường xuyên tổ chức quán triệt, tuyên truyền đường lối, chủ trương của Đảng, chính "
            "sách pháp luật của Nhà nước đến cán bộ, đảng viên, công chức, người lao động về "
            "công tác dân vận.",
        ),
        (
            5,
            "Có hình thức phù hợp biểu dương, khen thưởng các cá nhân, tập thể tiêu biểu trong "
            "việc thực hiện phong trào thi đua “Dân vận khéo”, xây dựng mô hình “Dân vận khéo” "
            "hằng năm.",
        ),
        (5, "Hằng năm, tập thể hoàn thành tốt nhiệm vụ trở lên."),
    ),
)

INDIVIDUAL: tuple[Criterion, ...] = _part(
    "II",
    11,
    (
        (
            5,
            "Có phẩm chất chính trị tốt, lối sống lành mạnh; nói và làm đúng chủ trương, đường "
            "lối của Đảng, chính sách, pháp luật của Nhà nước; không mắc các tệ nạn xã hội. Đối "
            "với cán bộ, đảng viên đang công tác trong các cơ quan, đơn vị, doanh nghiệp… phải "
            "thường xuyên giữ mối liên hệ tốt với cấp ủy và nhân dân nơi cư trú.",
        ),
        (
            5,
            "Đóng góp ý kiến, sáng kiến trong công tác dân vận ở địa phương, cơ quan, đơn vị, "
            "đoàn thể, doanh nghiệp.",
        ),
        (
            5,
            "Tiên phong, gương mẫu, tích cực, đi đầu trong mọi công việc, được tập thể cơ quan, "
            "đơn vị hoặc cộng đồng dân cư, quần chúng nhân dân tin tưởng, ủng hộ, học tập, noi "
            "theo.",
        ),
        (
            5,
            "Thường xuyên vận động, giúp đỡ nhân dân nơi mình sinh sống thực hiện các cách làm "
            "sáng tạo, mô hình hiệu quả, mang lại nhiều lợi ích thiết thực cho bản thân và cộng "
            "đồng.",
        ),
        (
            5,
            "Hằng năm, cá nhân hoàn thành tốt nhiệm vụ trở lên hoặc được địa phương, tổ chức, "
            "đoàn thể đánh giá mức độ tốt.",
        ),
    ),
)

_PART_II: dict[str, tuple[Criterion, ...]] = {
    Subject.COLLECTIVE.value: COLLECTIVE,
    Subject.INDIVIDUAL.value: INDIVIDUAL,
}
_PART_II_HEADING: dict[str, tuple[str, str]] = {
    Subject.COLLECTIVE.value: (PART_II_1_LABEL, PART_II_1_TITLE),
    Subject.INDIVIDUAL.value: (PART_II_2_LABEL, PART_II_2_TITLE),
}


def _check() -> None:
    """The form's own arithmetic: 75 + 25 = 100 for either subject, numbered 1–15."""
    if sum(c.maximum for c in COMMON) != PART_I_MAX:
        raise RuntimeError("rubric: Part I maxima do not add up to 75")
    for subject, part_two in _PART_II.items():
        if sum(c.maximum for c in part_two) != PART_II_MAX:
            raise RuntimeError(f"rubric: Part II ({subject}) maxima do not add up to 25")
        numbers = [c.number for c in (*COMMON, *part_two)]
        if numbers != list(range(1, 16)):
            raise RuntimeError(f"rubric: criteria of {subject} are not numbered 1–15")


_check()


def _subject_key(subject: str) -> str:
    key = str(subject)  # a Subject member is its value
    if key not in _PART_II:
        raise ValueError(f"unknown subject {subject!r}: expected 'collective' or 'individual'")
    return key


def criteria_for(subject: str) -> tuple[Criterion, ...]:
    """All 15 criteria a model of this subject ("collective" / "individual") is scored on."""
    return (*COMMON, *_PART_II[_subject_key(subject)])


def part_two_heading(subject: str) -> tuple[str, str]:
    """The label and title of the Part II section for this subject: ("II.1", "Đối với …")."""
    return _PART_II_HEADING[_subject_key(subject)]


def format_points(value: Decimal) -> str:
    """Points the Vietnamese way: ``7``, ``7,5``, ``74,5``."""
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.normalize():f}".replace(".", ",")


def validate_points(criterion: Criterion, value: Decimal) -> None:
    """Raise ValueError (a message an officer can read) unless ``value`` may be given to
    ``criterion``: from 0 to its maximum, in steps of 0,5."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"Điểm tiêu chí {criterion.number} phải là một con số.")
    if value < 0:
        raise ValueError(f"Điểm tiêu chí {criterion.number} không được âm.")
    if value > criterion.maximum:
        raise ValueError(
            f"Tiêu chí {criterion.number} tối đa {format_points(criterion.maximum)} điểm; "
            f"không thể chấm {format_points(value)}."
        )
    if value % STEP != 0:
        raise ValueError(
            f"Điểm chấm theo bậc 0,5 (ví dụ 2 hoặc 2,5); "
            f"tiêu chí {criterion.number} không thể chấm {format_points(value)}."
        )


@dataclass(frozen=True)
class Verdict:
    total: Decimal
    passed: bool
    blocking: tuple[int, ...]  # must-max criteria not at their maximum (missing counts)
    below_total: bool  # total under PASS_TOTAL
    missing: tuple[int, ...]  # criteria with no points yet (counted as 0)


def verdict(points: Mapping[int, Decimal], subject: str) -> Verdict:
    """Apply the pass rule to a model's points (criterion number → points).

    A criterion with no points counts as 0: the model can still pass when the rest already
    reach 75 with every must-max criterion full (more points can only add), and ``missing``
    says the scoring is incomplete. Points for a criterion the rubric does not have, or that
    :func:`validate_points` would refuse, raise ValueError.
    """
    criteria = criteria_for(subject)
    by_number = {c.number: c for c in criteria}
    unknown = sorted(set(points) - set(by_number))
    if unknown:
        raise ValueError(f"rubric has no criterion {', '.join(map(str, unknown))}")
    for number, value in points.items():
        validate_points(by_number[number], value)
    total = sum(points.values(), Decimal(0))
    blocking = tuple(n for n in MUST_MAX if points.get(n, Decimal(0)) < by_number[n].maximum)
    below_total = total < PASS_TOTAL
    missing = tuple(c.number for c in criteria if c.number not in points)
    return Verdict(
        total=total,
        passed=not below_total and not blocking,
        blocking=blocking,
        below_total=below_total,
        missing=missing,
    )


@dataclass(frozen=True)
class Assessment:
    """The verdict recognition goes by: the council's (điểm thẩm định) when it has scored the
    model, else the officer's self-score."""

    verdict: Verdict
    by_council: bool

    @property
    def source(self) -> str:
        return COUNCIL_SOURCE if self.by_council else SELF_SOURCE


SELF_SOURCE = "điểm tự chấm"
COUNCIL_SOURCE = "điểm thẩm định"


def assessed(
    self_points: Mapping[int, Decimal], council_points: Mapping[int, Decimal], subject: str
) -> Assessment:
    """The verdict used for recognition: the council's points when there are any."""
    if council_points:
        return Assessment(verdict(council_points, subject), True)
    return Assessment(verdict(self_points, subject), False)


def join_numbers(numbers: tuple[int, ...]) -> str:
    """``(2, 7, 9)`` → ``"2, 7 và 9"``, as the form writes lists of criteria."""
    words = [str(n) for n in numbers]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} và {words[-1]}"


def verdict_text(v: Verdict) -> str:
    """``Đạt`` or ``Không đạt`` with every reason, in Vietnamese."""
    if v.passed:
        return f"Đạt (tổng {format_points(v.total)} điểm)"
    reasons = []
    if v.below_total:
        reasons.append(f"tổng {format_points(v.total)} điểm, dưới {format_points(PASS_TOTAL)} điểm")
    if v.blocking:
        which = "tiêu chí" if len(v.blocking) == 1 else "các tiêu chí"
        reasons.append(f"{which} {join_numbers(v.blocking)} chưa đạt điểm tối đa")
    return f"Không đạt ({'; '.join(reasons)})"


def missing_text(v: Verdict) -> str | None:
    """A note when some criteria have no points yet, else None."""
    if not v.missing:
        return None
    which = "tiêu chí" if len(v.missing) == 1 else "các tiêu chí"
    return f"Chưa chấm {which} {join_numbers(v.missing)} (tính 0 điểm)."
