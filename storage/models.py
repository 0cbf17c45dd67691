"""Tables of the assistant. Alembic migrations in ``storage/migrations`` create them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from domain.catalog import RecordState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every database, returned timezone-aware.

    SQLite keeps no offset, so without this a value read back would compare unequal to the
    aware value written.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    # Materialised path "/1/5/12/": a subtree is one indexed LIKE prefix query on any database.
    path: Mapped[str] = mapped_column(String(1000), index=True, default="")
    created_at: Mapped[datetime]
    # Who signs the unit's sheets ("T/M ĐẢNG ỦY", "TRƯỞNG BAN"…); None: derived from the kind.
    signer_title: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_units_parent_name"),)

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # /nhacnho tat: early reminders paused since then (deadline-day reminders still come).
    reminders_paused_at: Mapped[datetime | None]

    accounts: Mapped[list[Account]] = relationship(back_populates="person")


class Account(Base):
    """One person's identity on one channel (telegram, zalo, terminal)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # Set when the platform refuses to deliver (the person blocked the bot); cleared when
    # a message from this account arrives again.
    unreachable_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(String(300))

    person: Mapped[Person] = relationship(back_populates="accounts")

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_accounts_channel_ext"),)


class Membership(Base):
    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("person_id", "unit_id", name="uq_memberships_person_unit"),)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]
    uses_left: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class LinkCode(Base):
    """A short one-time code that links a person's account on another platform (/lienket)."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeskLogin(Base):
    """A one-time sign-in link to the leaders' web page (/web), stored as the SHA-256 of its
    token, and the session it opened: signed out at ``ended_at``."""

    __tablename__ = "desk_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the link works until then, once
    used_at: Mapped[datetime | None]
    session_expires_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class Campaign(Base):
    """One year of the movement; the deadlines levels set for it hang from it."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime]

    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="campaign", order_by="Deadline.due_on", cascade="all, delete-orphan"
    )


class Deadline(Base):
    """A date a level's plan sets for its own units and every unit below it (until a lower
    level sets its own). Where no level set one, the default of ``domain/calendar.py``."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)

    campaign: Mapped[Campaign] = relationship(back_populates="deadlines")

    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id", "kind", name="uq_deadlines_campaign_unit_kind"),
    )


class DeadlineExtension(Base):
    """A deadline reopened for one unit (not those below it) until a date, by a leader."""

    __tablename__ = "deadline_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    until: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "kind", name="uq_deadline_extensions_unit_year_kind"),
    )


class DvkModel(Base):
    """A mô hình: its identity across years. What it is in a given year lives in ModelYear."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime]

    years: Mapped[list[ModelYear]] = relationship(back_populates="model")


class ModelYear(Base):
    """A model's record in one year: every column of Phụ lục 1 and Phụ lục 4."""

    __tablename__ = "model_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    origin: Mapped[str] = mapped_column(String(10))  # Origin: new / kept (XD mới / Duy trì)
    name: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(10))  # Field
    field_other: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(20))  # Subject
    subject_name: Mapped[str] = mapped_column(String(300))
    place: Mapped[str] = mapped_column(String(1000))
    lead_body: Mapped[str] = mapped_column(String(300))
    scale: Mapped[str] = mapped_column(Text)
    results: Mapped[str | None] = mapped_column(Text)  # Phụ lục 4 column (7)
    results_at: Mapped[datetime | None]  # when the results were last entered (/ketqua)
    # Recognition (/gioithieu … /duyet): None until proposed; see Review.
    review: Mapped[str | None] = mapped_column(String(20))
    review_reason: Mapped[str | None] = mapped_column(Text)
    proposed_at: Mapped[datetime | None]
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The decision recognising the model (recognised only): number, date, level (DecisionLevel).
    decision_number: Mapped[str | None] = mapped_column(String(100))
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_level: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=RecordState.ACTIVE.value)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    model: Mapped[DvkModel] = relationship(back_populates="years")

    __table_args__ = (
        UniqueConstraint("model_id", "year", name="uq_model_years_model_year"),
        Index("ix_model_years_year_state", "year", "state"),
    )


class CriterionPoints:
    """Points given to one criterion of the rubric (domain/rubric.py) for a model's year,
    by whom and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    model_year_id: Mapped[int] = mapped_column(
        ForeignKey("model_years.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[int] = mapped_column(Integer)  # 1–15
    points: Mapped[Decimal] = mapped_column(Numeric(4, 1))  # halves allowed
    scored_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    scored_at: Mapped[datetime]


class ModelScore(CriterionPoints, Base):
    """The unit's own points (self-score) for one criterion of a model's year."""

    __tablename__ = "model_scores"
    __table_args__ = (
        UniqueConstraint("model_year_id", "criterion", name="uq_model_scores_criterion"),
    )


class CouncilScore(CriterionPoints, Base):
    """Points the council (a leader, for the level deciding on recognition) gives to one
    criterion of a model's year: the assessment (điểm thẩm định), beside the self-score."""

    __tablename__ = "council_scores"
    __table_args__ = (
        UniqueConstraint("model_year_id", "criterion", name="uq_council_scores_criterion"),
    )


class Evidence(Base):
    """A photo or document attached to a model's year as evidence (minh chứng)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_year_id: Mapped[int] = mapped_column(
        ForeignKey("model_years.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # photo / document
    path: Mapped[str] = mapped_column(String(500))  # relative to FILES_DIR
    file_name: Mapped[str | None] = mapped_column(String(300))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    uploaded_via: Mapped[str | None] = mapped_column(String(20))
    uploaded_at: Mapped[datetime]


class ModelIntro(Base):
    """The introduction of a typical model (Hướng dẫn giới thiệu mô hình, Quảng Ngãi), one per
    model's year."""

    __tablename__ = "model_intros"

    model_year_id: Mapped[int] = mapped_column(
        ForeignKey("model_years.id", ondelete="CASCADE"), primary_key=True
    )
    basis: Mapped[str | None] = mapped_column(Text)  # cơ sở hình thành
    scope: Mapped[str | None] = mapped_column(Text)  # phạm vi ảnh hưởng
    method: Mapped[str | None] = mapped_column(Text)  # cách thức thực hiện
    results: Mapped[str | None] = mapped_column(Text)  # kết quả đạt được
    replication: Mapped[str | None] = mapped_column(Text)  # khả năng nhân rộng
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]


class LeadDocument(Base):
    """A document issued to lead the movement (Biểu 1): number and date, content."""

    __tablename__ = "lead_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    number: Mapped[str] = mapped_column(String(100))  # số hiệu, e.g. 15-KH/ĐU
    issued_on: Mapped[date]
    content: Mapped[str] = mapped_column(Text)  # trích yếu nội dung
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class UnitReport(Base):
    """A report a unit has marked as sent for a year's deadline (25/11 unit report,
    5/12 consolidated report)."""

    __tablename__ = "unit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))  # a Deadline.kind
    sent_at: Mapped[datetime]
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "kind", name="uq_unit_reports_unit_year_kind"),
    )


class ReminderRun(Base):
    """One planned reminder time (a deadline and an offset) and what became of it: done,
    or skipped with the reason (e.g. the bot was down longer than the grace window)."""

    __tablename__ = "reminder_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    deadline_kind: Mapped[str] = mapped_column(String(40))
    planned_for: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # done / skipped
    reason: Mapped[str | None] = mapped_column(Text)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime]


class OutboxMessage(Base):
    """A message waiting to be delivered, delivered, or given up on.

    ``key`` is the idempotency key (campaign, deadline, offset, person, channel): writing
    the same reminder twice inserts nothing the second time. Senders claim pending rows
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) for a lease; a row whose lease ran out
    (its process died) is claimed again.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # reminder / digest / notice
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # pending / sending / sent / failed / unreachable
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)


class ConversationState(Base):
    """The open flow of one chat, as plain JSON, so a restart continues where it stopped."""

    __tablename__ = "conversation_states"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Platform update ids already handled: a redelivered update is answered once."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class SendTurn(Base):
    """The next free turn of a sending limit shared by every bot process on one PostgreSQL
    database (scheduler/turns.py): a platform's rate (``key`` = the channel) or one chat's
    spacing (``channel:chat``). ``next_at``: seconds since the epoch, by the database's clock."""

    __tablename__ = "send_turns"

    key: Mapped[str] = mapped_column(String(150), primary_key=True)
    next_at: Mapped[float] = mapped_column(Double, index=True)


class InboxUpdate(Base):
    """An update taken from a platform and not yet handled: written before the platform is
    told it arrived, deleted once handled; what a stopped process left is handled at the
    next start."""

    __tablename__ = "inbox"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The update as the platform sent it, as JSON text (escaped: a NUL stays "\\u0000").
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]]
    at: Mapped[datetime]
    via_channel: Mapped[str | None] = mapped_column(String(20))
