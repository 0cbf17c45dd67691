"""The leader's summary of a year as a text that fits one phone screen (/tonghop): the
figures of :func:`reports.summary.summary_of`, long unit names cut."""

from __future__ import annotations

from collections.abc import Sequence

from domain.catalog import FIELD_KEYS, FIELD_SHORT, Field
from reports.summary import Summary

NAME_SHOWN_MAX = 60  # characters of one unit name in the phone text


def _short(name: str, limit: int = NAME_SHOWN_MAX) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _names(names: Sequence[str], shown: int) -> str:
    shown = max(shown, 0)
    head = ", ".join(_short(n) for n in names[:shown])
    rest = len(names) - min(shown, len(names))
    if not head:
        return f"{rest} đơn vị"
    return f"{head} và {rest} đơn vị khác" if rest else head


def summary_text(summary: Summary, names_shown: int = 3, evaluation: bool = False) -> str:
    """The summary on one phone screen (long names are cut). Registration first: units that
    owe models (their kind has a quota) registered x/y, then the models. With
    ``evaluation`` (the registration deadline has passed), the season's figures as x/y:
    results entered, self-scored and passing, proposed and recognised, yearly reports sent.
    "Not registered" and "registered late" are separate lines whose counts add up with x/y."""
    lines = [
        f"Tổng hợp năm {summary.year} — {_short(summary.root_name, 80)}",
        f"Đơn vị đã đăng ký: {summary.owing_registered}/{len(summary.must_register)}",
        f"Tổng số mô hình: {summary.models}",
        *(f"• {FIELD_SHORT[Field(f)]}: {summary.by_field.get(f, 0)}" for f in FIELD_KEYS),
        f"Tập thể: {summary.collective} · Cá nhân: {summary.individual}",
        f"Xây dựng mới: {summary.new} · Duy trì: {summary.kept}",
    ]
    if evaluation:
        lines += [
            f"Đã nhập kết quả: {summary.results}/{summary.models} mô hình",
            f"Đã tự chấm điểm: {summary.scored}/{summary.models} · đạt: "
            f"{summary.passing}/{summary.scored}",
            f"Đã đề xuất công nhận: {summary.considered}/{summary.passing} mô hình đạt · "
            f"đã công nhận: {summary.recognised}/{summary.considered}",
            f"Báo cáo năm đã gửi: {summary.reports_sent}/{summary.reports_due} đơn vị",
        ]
        if summary.removed:
            lines.append(f"Thanh loại: {summary.removed} mô hình")
    elif summary.proposed or summary.recognised or summary.not_recognised or summary.removed:
        lines.append(
            f"Công nhận: chờ duyệt {summary.proposed} · đã công nhận {summary.recognised} · "
            f"không công nhận {summary.not_recognised} · thanh loại {summary.removed}"
        )
    if summary.not_registered:
        names = _names(summary.not_registered, names_shown)
        lines.append(f"Chưa đăng ký ({len(summary.not_registered)}): {names}")
    if summary.registered_late:
        names = _names(summary.registered_late, names_shown)
        lines.append(f"Đăng ký muộn ({len(summary.registered_late)}): {names}")
    if not summary.late:
        lines.append("Tất cả đơn vị đã đăng ký đúng hạn.")
    if summary.under_quota:
        under = _names(summary.under_quota, names_shown)
        lines.append(f"Chưa đạt chỉ tiêu ({len(summary.under_quota)}): {under}")
    else:
        lines.append("Tất cả đơn vị đạt chỉ tiêu.")
    return "\n".join(lines)


__all__ = ["summary_text"]
