"""The rubric as data (Kế hoạch năm 2024, Yên Bái, Biểu chấm điểm mô hình): wording, maxima and the
pass rule."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

from domain import rubric
from domain.catalog import Subject
from domain.rubric import (
    COLLECTIVE,
    COMMON,
    INDIVIDUAL,
    MUST_MAX,
    PASS_TOTAL,
    Criterion,
    criteria_for,
    validate_points,
    verdict,
    verdict_text,
)

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "002_118bac312b72b995.txt"
D = Decimal


def full(subject: str) -> dict[int, Decimal]:
    return {c.number: c.maximum for c in criteria_for(subject)}


def by_number(subject: str) -> dict[int, Criterion]:
    return {c.number: c for c in criteria_for(subject)}


def test_wording_starts_as_in_the_plan() -> None:
    assert COMMON[0].text.startswith("Mô hình “Dân vận khéo” phải xác định rõ tên, địa chỉ")
    assert COMMON[0].text.endswith("chỉ đạo việc thực hiện.")
    assert COMMON[5].text == "Huy động được các nguồn lực xã hội hóa để thực hiện mô hình."
    assert COLLECTIVE[0].text.startswith("Cán bộ, đảng viên của tập thể đoàn kết, tiên phong")
    assert INDIVIDUAL[0].text.startswith("Có phẩm chất chính trị tốt, lối sống lành mạnh")
    assert COLLECTIVE[4].text == "Hằng năm, tập thể hoàn thành tốt nhiệm vụ trở lên."
    assert INDIVIDUAL[4].text == (
        "Hằng năm, cá nhân hoàn thành tốt nhiệm vụ trở lên hoặc được địa phương, tổ chức, "
        "đoàn thể đánh giá mức độ tốt."
    )
    assert rubric.PART_I_TITLE == 'Các tiêu chí chung về mô hình "Dân vận khéo"'
    assert rubric.PART_II_TITLE == "Tiêu chí đánh giá chủ thể thực hiện"
    assert rubric.PART_II_1_TITLE == "Đối với mô hình do tập thể thực hiện"
    assert rubric.PART_II_2_TITLE == "Đối với mô hình do cá nhân thực hiện"


def test_every_text_is_nfc_and_trimmed() -> None:
    texts = [c.text for c in (*COMMON, *COLLECTIVE, *INDIVIDUAL)]
    texts += [rubric.PART_I_TITLE, rubric.PART_II_TITLE, rubric.PART_II_NOTE, rubric.RULE_TEXT]
    for text in texts:
        assert unicodedata.is_normalized("NFC", text)
        assert text == text.strip()
        assert "  " not in text


@pytest.mark.skipif(
    not SEED.exists(), reason="Kế hoạch năm 2024 (Yên Bái) is not beside the repository"
)
def test_every_text_is_verbatim_in_the_plan() -> None:
    seed = unicodedata.normalize("NFC", SEED.read_text(encoding="utf-8"))
    lines = {line.strip() for line in seed.splitlines()}
    for c in (*COMMON, *COLLECTIVE, *INDIVIDUAL):
        assert c.text in lines, c.number
    for heading in (
        rubric.SHEET_TITLE,
        rubric.PART_I_TITLE,
        rubric.PART_II_TITLE,
        rubric.PART_II_NOTE,
        rubric.PART_II_1_TITLE,
        rubric.PART_II_2_TITLE,
        rubric.TOTAL_LABEL,
        rubric.COL_CRITERION,
        rubric.COL_POINTS,
        rubric.COL_NOTE,
    ):
        assert heading in lines, heading
    # The form breaks these over two lines of one cell.
    flat = " ".join(seed.split())
    assert rubric.COL_MAXIMUM in flat
    assert rubric.RULE_TEXT in flat


def test_maxima_and_numbering() -> None:
    assert [c.number for c in COMMON] == list(range(1, 11))
    assert [int(c.maximum) for c in COMMON] == [5, 10, 10, 5, 5, 5, 10, 5, 10, 10]
    for part_two in (COLLECTIVE, INDIVIDUAL):
        assert [c.number for c in part_two] == list(range(11, 16))
        assert [c.maximum for c in part_two] == [D(5)] * 5
        assert {c.part for c in part_two} == {"II"}
    assert {c.part for c in COMMON} == {"I"}
    assert sum(c.maximum for c in COMMON) == D(75) == rubric.PART_I_MAX
    for subject in ("collective", "individual"):
        assert sum(c.maximum for c in criteria_for(subject)) == D(100)
        assert [c.number for c in criteria_for(subject)] == list(range(1, 16))
    assert MUST_MAX == (2, 7, 9, 11, 15)
    assert D(75) == PASS_TOTAL
    assert [c.number for c in criteria_for("collective") if c.must_max] == [2, 7, 9, 11, 15]


def test_subjects_differ_only_in_part_two() -> None:
    collective = criteria_for("collective")
    individual = criteria_for(Subject.INDIVIDUAL)
    assert collective[:10] == individual[:10] == COMMON
    assert collective[10:] == COLLECTIVE
    assert individual[10:] == INDIVIDUAL
    for a, b in zip(COLLECTIVE, INDIVIDUAL, strict=True):
        assert a.number == b.number
        assert a.text != b.text
    assert rubric.part_two_heading("collective") == ("II.1", rubric.PART_II_1_TITLE)
    assert rubric.part_two_heading("individual") == ("II.2", rubric.PART_II_2_TITLE)
    with pytest.raises(ValueError, match="unknown subject"):
        criteria_for("group")


def test_exactly_75_with_every_must_max_full_passes() -> None:
    points = full("collective")
    # Take 25 points off criteria that need not be full: 3 (10→0), 10 (10→0), 12 and 13.
    points.update({3: D(0), 10: D(0), 12: D("2.5"), 13: D("2.5")})
    v = verdict(points, "collective")
    assert v.total == D(75)
    assert v.passed
    assert not v.below_total
    assert v.blocking == ()
    assert v.missing == ()
    assert verdict_text(v) == "Đạt (tổng 75 điểm)"


def test_74_and_a_half_fails_below_total() -> None:
    points = full("individual")
    points.update({3: D(0), 10: D(0), 12: D("2.5"), 13: D(2)})
    v = verdict(points, "individual")
    assert v.total == D("74.5")
    assert not v.passed
    assert v.below_total
    assert v.blocking == ()
    assert verdict_text(v) == "Không đạt (tổng 74,5 điểm, dưới 75 điểm)"


def test_95_with_criterion_9_short_of_its_maximum_fails() -> None:
    points = full("collective")
    points.update({9: D(9), 3: D(6)})
    v = verdict(points, "collective")
    assert v.total == D(95)
    assert not v.passed
    assert not v.below_total
    assert v.blocking == (9,)
    assert verdict_text(v) == "Không đạt (tiêu chí 9 chưa đạt điểm tối đa)"


def test_80_points_failing_must_max_criteria() -> None:
    points = full("individual")
    points.update({2: D("7.5"), 15: D(4), 3: D(5), 10: D("3.5"), 6: D(0)})
    v = verdict(points, "individual")
    assert v.total == D(80)
    assert not v.passed
    assert v.blocking == (2, 15)
    assert verdict_text(v) == "Không đạt (các tiêu chí 2 và 15 chưa đạt điểm tối đa)"


def test_below_total_and_blocking_name_both_reasons() -> None:
    v = verdict({1: D(5), 2: D(10), 7: D(9)}, "collective")
    assert v.total == D(24)
    assert v.below_total
    assert v.blocking == (7, 9, 11, 15)  # a missing must-max criterion is not at its maximum
    assert v.missing == (3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)
    assert verdict_text(v) == (
        "Không đạt (tổng 24 điểm, dưới 75 điểm; các tiêu chí 7, 9, 11 và 15 chưa đạt điểm tối đa)"
    )
    assert rubric.missing_text(v) == (
        "Chưa chấm các tiêu chí 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14 và 15 (tính 0 điểm)."
    )


def test_missing_criteria_that_cannot_change_the_result_still_pass() -> None:
    points = full("collective")
    del points[4], points[14]
    v = verdict(points, "collective")
    assert v.passed
    assert v.total == D(90)
    assert v.missing == (4, 14)
    assert rubric.missing_text(v) == "Chưa chấm các tiêu chí 4 và 14 (tính 0 điểm)."
    assert rubric.missing_text(verdict(full("collective"), "collective")) is None


def test_no_points_at_all() -> None:
    v = verdict({}, "individual")
    assert v.total == D(0)
    assert not v.passed
    assert v.blocking == MUST_MAX
    assert v.missing == tuple(range(1, 16))


def test_verdict_refuses_points_the_rubric_does_not_allow() -> None:
    with pytest.raises(ValueError, match="no criterion 16"):
        verdict({16: D(1)}, "collective")
    with pytest.raises(ValueError, match="tối đa 5"):
        verdict({1: D(6)}, "collective")


def test_validate_points() -> None:
    c4 = by_number("collective")[4]  # maximum 5
    c2 = by_number("collective")[2]  # maximum 10
    validate_points(c4, D("2.5"))
    validate_points(c4, D(0))
    validate_points(c4, D(5))
    validate_points(c2, D("10.0"))
    with pytest.raises(ValueError, match="không được âm"):
        validate_points(c4, D(-1))
    with pytest.raises(ValueError, match="tối đa 5 điểm"):
        validate_points(c4, D("5.5"))
    with pytest.raises(ValueError, match="tối đa 10 điểm"):
        validate_points(c2, D(11))
    with pytest.raises(ValueError, match="bậc 0,5"):
        validate_points(c4, D("2.3"))
    with pytest.raises(ValueError, match="con số"):
        validate_points(c4, D("NaN"))


def test_format_points() -> None:
    assert rubric.format_points(D("10.0")) == "10"
    assert rubric.format_points(D("7.5")) == "7,5"
    assert rubric.format_points(D("74.50")) == "74,5"
    assert rubric.format_points(D(100)) == "100"
