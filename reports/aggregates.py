"""The pieces the reports' GROUP BY queries are built from, so that /tonghop, Tổng hợp, the
report drafts and the progress chart count alike: what a record with results is, a record's
self-score and whether it passes the rubric (domain.rubric.verdict as one comparison), the
field a record is counted under."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select

from domain.catalog import NAMED_FIELDS, Field, Subject
from domain.rubric import MUST_MAX, PASS_TOTAL, criteria_for
from storage.models import ModelScore, ModelYear


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """COUNT(CASE WHEN condition THEN id END): the group's records meeting ``condition``."""
    return func.count(case((condition, ModelYear.id)))


def has_results() -> ColumnElement[bool]:
    """The record's results of the year (Phụ lục 4 column (7), /ketqua) are entered."""
    return func.coalesce(func.trim(ModelYear.results), "") != ""


def field_key() -> ColumnElement[str]:
    """The record's field as the reports count it: a named field, else ``OTHER``."""
    return case(*((ModelYear.field == k, k) for k in NAMED_FIELDS), else_=Field.OTHER.value)


def record_scores() -> Any:
    """A subquery, per self-scored record (``record``): its ``total`` and how many must-max
    criteria are ``full`` (the rubric's maxima depend on the subject); join it on
    ``record`` with an outer join, a record without a row is unscored."""
    full = case(
        *(
            (
                and_(
                    ModelYear.subject == subject.value,
                    ModelScore.criterion == c.number,
                    ModelScore.points >= c.maximum,
                ),
                1,
            )
            for subject in Subject
            for c in criteria_for(subject.value)
            if c.number in MUST_MAX
        ),
        else_=0,
    )
    return (
        select(
            ModelScore.model_year_id.label("record"),
            func.sum(ModelScore.points).label("total"),
            func.sum(full).label("full"),
        )
        .join(ModelYear, ModelYear.id == ModelScore.model_year_id)
        .group_by(ModelScore.model_year_id)
        .subquery("record_scores")
    )


def scored(scores: Any) -> ColumnElement[bool]:
    """The record has a self-score (``scores`` from :func:`record_scores`)."""
    return scores.c.record.is_not(None)


def passing(scores: Any) -> ColumnElement[bool]:
    """The record's self-score passes the rubric (``scores`` from :func:`record_scores`)."""
    return and_(scores.c.total >= PASS_TOTAL, scores.c.full == len(MUST_MAX))
