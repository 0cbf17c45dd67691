"""Test helpers: a settable clock, a small unit tree with people, and a chat driver."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import RecordState
from domain.messages import IncomingMessage, Reply
from handlers.core import Core
from storage import invites, people, unit_tree
from storage.models import Account, DvkModel, ModelYear, Person, Unit


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class World:
    ward: Unit
    cell1: Unit
    cell2: Unit
    women: Unit
    other_ward: Unit
    other_cell: Unit
    officer: Person  # cell1, terminal "lan", telegram 1001
    multi: Person  # officer of cell1 and cell2, terminal "minh"
    leader: Person  # leader of the ward, terminal "hung", telegram 2001
    outsider: Person  # officer of another ward's cell, terminal "tuan", telegram 3001
    kept: ModelYear  # last year's model of cell1
    invites: dict[str, str] = field(default_factory=dict)


async def add_person(
    session: AsyncSession,
    name: str,
    accounts: dict[str, str],
    units: list[tuple[Unit, str]],
    now: datetime,
) -> Person:
    channel, ext = next(iter(accounts.items()))
    person = await people.create_person(session, name, channel, ext, None, now)
    for other_channel, other_ext in list(accounts.items())[1:]:
        session.add(
            Account(
                person_id=person.id, channel=other_channel, external_id=other_ext, created_at=now
            )
        )
    for unit, role in units:
        await people.add_membership(session, person, unit, role, now)
    return person


async def add_model_year(
    session: AsyncSession,
    unit: Unit,
    name: str,
    *,
    now: datetime,
    year: int = 2026,
    field: str = "KT",
    origin: str = "new",
    subject: str = "collective",
    subject_name: str | None = None,
    place: str = "Tổ dân phố 1",
    lead_body: str = "Chi bộ",
    scale: str = "120 hộ",
    state: str = RecordState.ACTIVE.value,
    model_id: int | None = None,
    **values: Any,
) -> ModelYear:
    """A model of ``unit`` (a new one unless ``model_id``) registered for ``year``, flushed.
    The subject's name is the unit's unless given; other columns (results, review, field_other…)
    by keyword."""
    if model_id is None:
        model = DvkModel(unit_id=unit.id, created_at=now)
        session.add(model)
        await session.flush()
        model_id = model.id
    record = ModelYear(
        model_id=model_id,
        year=year,
        origin=origin,
        name=name,
        field=field,
        subject=subject,
        subject_name=subject_name or unit.name,
        place=place,
        lead_body=lead_body,
        scale=scale,
        state=state,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(record)
    await session.flush()
    return record


async def new_model(
    sm: async_sessionmaker[AsyncSession], unit: Unit, name: str, clock: Clock, **values: Any
) -> int:
    """:func:`add_model_year` (20 hộ unless given) in a transaction of its own: the record id."""
    async with sm() as session, session.begin():
        values.setdefault("scale", "20 hộ")
        return (await add_model_year(session, unit, name, now=clock(), **values)).id


async def active_models_by_unit(
    sm: async_sessionmaker[AsyncSession], root: Unit, year: int = 2026
) -> dict[int, int]:
    """Active models of ``year`` per unit of ``root``'s subtree (units with one), counted with
    the tests' own SQL: what pictures and pages are checked against."""
    async with sm() as session:
        rows = await session.execute(
            select(DvkModel.unit_id, func.count(ModelYear.id))
            .join(ModelYear, ModelYear.model_id == DvkModel.id)
            .join(Unit, Unit.id == DvkModel.unit_id)
            .where(
                ModelYear.year == year,
                ModelYear.state == RecordState.ACTIVE.value,
                Unit.path.startswith(root.path),
            )
            .group_by(DvkModel.unit_id)
        )
        return {unit_id: int(n) for unit_id, n in rows.all()}


async def build_world(sm: async_sessionmaker[AsyncSession], now: datetime) -> World:
    async with sm() as session, session.begin():
        ward = await unit_tree.add_unit(session, "Đảng bộ phường Minh Khai", "phuong", None, now)
        cell1 = await unit_tree.add_unit(session, "Chi bộ Tổ dân phố 1", "chi_bo", ward, now)
        cell2 = await unit_tree.add_unit(session, "Chi bộ Tổ dân phố 2", "chi_bo", ward, now)
        women = await unit_tree.add_unit(session, "Hội LHPN phường", "doan_the", ward, now)
        other_ward = await unit_tree.add_unit(session, "Đảng bộ xã Tân Lập", "xa", None, now)
        other_cell = await unit_tree.add_unit(
            session, "Chi bộ thôn Đồng Tâm", "chi_bo", other_ward, now
        )
        officer = await add_person(
            session,
            "Nguyễn Thị Lan",
            {"terminal": "lan", "telegram": "1001"},
            [(cell1, "officer")],
            now,
        )
        multi = await add_person(
            session,
            "Phạm Văn Minh",
            {"terminal": "minh", "telegram": "1002"},
            [(cell1, "officer"), (cell2, "officer")],
            now,
        )
        leader = await add_person(
            session,
            "Trần Văn Hùng",
            {"terminal": "hung", "telegram": "2001"},
            [(ward, "leader")],
            now,
        )
        outsider = await add_person(
            session,
            "Lê Văn Tuấn",
            {"terminal": "tuan", "telegram": "3001"},
            [(other_cell, "officer")],
            now,
        )
        kept = await add_model_year(
            session, cell1, "Tuyến phố văn minh", now=now, year=2025, field="VHXH", scale="210 hộ"
        )
        invite = await invites.create_invite(session, cell2, "officer", 5, 7, now)
        return World(
            ward,
            cell1,
            cell2,
            women,
            other_ward,
            other_cell,
            officer,
            multi,
            leader,
            outsider,
            kept,
            {"cell2": invite.code},
        )


class InFlight:
    """Wraps one of the core's message handlers (``core.handle`` by default) to count the
    messages inside it at the same moment; each waits ``delay`` first, a slow database
    while the next messages pile up."""

    def __init__(self, core: Core, method: str = "handle", delay: float = 0.05) -> None:
        self.real = getattr(core, method)
        self.delay = delay
        self.now = 0
        self.peak = 0
        self.done = 0
        self.started: list[str] = []  # chat ids, in the order the messages came in
        setattr(core, method, self.handle)

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.started.append(msg.chat_id)
        try:
            await asyncio.sleep(self.delay)
            reply: list[Reply] = await self.real(msg)
            return reply
        finally:
            self.now -= 1
            self.done += 1


class Chat:
    """Drive the core as one person would: send text, tap a button by its label."""

    def __init__(self, core: Core, user: str, channel: str = "terminal") -> None:
        self.core = core
        self.user = user
        self.channel = channel
        self.replies: list[Reply] = []
        self._update = 0

    @property
    def last(self) -> Reply:
        assert self.replies, "no reply yet"
        return self.replies[-1]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    async def send(self, text: str | None = None, **extra: object) -> list[Reply]:
        msg = IncomingMessage(
            channel=self.channel,
            user_id=self.user,
            chat_id=self.user,
            text=text,
            **extra,  # type: ignore[arg-type]
        )
        self.replies = await self.core.handle(msg)
        return self.replies

    async def tap(self, label: str) -> list[Reply]:
        for option in (*self.last.options, *self.last.nav):
            if option.label == label or option.label.endswith(label):
                return await self.send(choice=option.data)
        labels = [o.label for o in (*self.last.options, *self.last.nav)]
        raise AssertionError(f"no button {label!r} in {labels}")

    async def answers(self, *texts: str) -> list[Reply]:
        for t in texts:
            await self.send(t)
        return self.replies


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
# Set by .ci/run: a test that needs LibreOffice fails instead of skipping without it.
REQUIRE_LIBREOFFICE = os.environ.get("DVK_REQUIRE_LIBREOFFICE") == "1"


def need_libreoffice() -> None:
    """Skip the calling test without LibreOffice and pdftotext, or fail it under
    ``DVK_REQUIRE_LIBREOFFICE=1``."""
    if SOFFICE is None or PDFTOTEXT is None:
        reason = "LibreOffice or pdftotext is not installed"
        if REQUIRE_LIBREOFFICE:
            pytest.fail(f"{reason}; DVK_REQUIRE_LIBREOFFICE=1 makes these tests mandatory")
        pytest.skip(reason)


# Skipped without LibreOffice, unless DVK_REQUIRE_LIBREOFFICE=1 (set by .ci/run): then they run
# and fail, as the PostgreSQL tests do with DVK_REQUIRE_POSTGRES=1.
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("DVK_REQUIRE_LIBREOFFICE") != "1",
    reason="LibreOffice is not installed",
)


async def assert_libreoffice_opens(tmp_path: Path, files: dict[str, bytes]) -> None:
    """LibreOffice converts every workbook in ``files`` (name → content) to PDF, headless:
    a file it would have to repair fails to load and leaves no PDF."""
    assert SOFFICE is not None, "LibreOffice is not installed (DVK_REQUIRE_LIBREOFFICE=1)"
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    process = await asyncio.create_subprocess_exec(
        SOFFICE,
        f"-env:UserInstallation=file://{tmp_path}/profile",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path),
        *files,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, output.decode(errors="replace")
    for name in files:
        pdf = (tmp_path / name).with_suffix(".pdf")
        assert pdf.exists(), output.decode(errors="replace")
        assert pdf.read_bytes().startswith(b"%PDF")


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    """The warnings ``logger`` logged during the test."""
    return [
        r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING
    ]
