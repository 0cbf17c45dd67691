"""The one entry point: ``Core.handle(IncomingMessage) -> list[Reply]``.

It routes a message to the chat's open flow or to a command, checks who may do it, and
returns replies; it never sends. One database transaction per message: either everything
the message caused is written, or nothing is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conversations.documents import DOCUMENT, start_document
from conversations.engine import Ctx, Data, FlowEngine, StaleState
from conversations.evidence import (
    EVIDENCE_FLOWS,
    MB,
    EvidenceStore,
    is_resting,
    start_evidence,
    take_upload,
    using_store,
)
from conversations.exports import EXPORT, start_export, tonghop
from conversations.flows import FLOWS, invite_problem_text, start_menu, start_register, welcome
from conversations.intro import INTRO_FLOWS, start_intro
from conversations.reminders import (
    DEADLINE,
    DEADLINES_CHANGED,
    REPORT,
    lich,
    nhacnho,
    start_deadline,
    start_report,
)
from conversations.results import start_results
from conversations.review import EVALUATION_FLOWS, start_propose, start_review
from conversations.scoring import start_scoring
from domain.catalog import ROLE_LABELS
from domain.messages import IncomingMessage, Reply
from domain.text import clean, fold
from scheduler import outbox
from storage import repo
from storage.models import ConversationState, ProcessedUpdate, Unit

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

NOT_INVITED = (
    "Xin chào! Đây là trợ lý phong trào thi đua “Dân vận khéo”.\n"
    "Trợ lý chỉ dành cho cán bộ đã được mời. Vui lòng xin mã mời từ cán bộ quản trị "
    "của đơn vị (Ban Dân vận hoặc Văn phòng Đảng ủy), rồi gõ: /start MÃ_MỜI\n"
    "Đã dùng trợ lý trên Telegram hoặc Zalo? Gõ /lienket ở đó để lấy mã, "
    "rồi gõ ở đây: /lienket MÃ"
)
SORRY = (
    "Xin lỗi, trợ lý gặp sự cố khi xử lý tin nhắn này. Những gì bạn đã nhập trước đó vẫn "
    "được giữ. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, gõ /huy để làm lại từ đầu "
    "hoặc báo cán bộ quản trị."
)

COMMANDS: tuple[tuple[str, str], ...] = (
    ("dangky", "Đăng ký mô hình “Dân vận khéo”"),
    ("mohinh", "Xem, sửa hoặc rút mô hình đã đăng ký"),
    ("tonghop", "Lãnh đạo: tình hình các đơn vị và bảng tổng hợp"),
    ("xuat", "Lấy biểu: Phụ lục 1, Phụ lục 4, chấm điểm, Biểu 1, tổng hợp"),
    ("vanban", "Ghi văn bản chỉ đạo phong trào (Biểu 1)"),
    ("ketqua", "Nhập kết quả đạt được của mô hình (Phụ lục 4)"),
    ("chamdiem", "Tự chấm điểm mô hình theo biểu chấm điểm"),
    ("dexuat", "Đề xuất công nhận mô hình đã chấm điểm đạt"),
    ("duyet", "Lãnh đạo: duyệt mô hình được đề xuất công nhận"),
    ("lich", "Xem các hạn trong năm và việc đơn vị còn thiếu"),
    ("baocao", "Đánh dấu đơn vị đã gửi báo cáo năm"),
    ("nhacnho", "Tạm dừng hoặc bật lại nhắc hạn"),
    ("hanchot", "Quản trị: đổi ngày các hạn"),
    ("minhchung", "Gửi, xem minh chứng (ảnh, tệp) của mô hình"),
    ("gioithieu", "Giới thiệu mô hình điển hình (cơ sở, cách làm, hiệu quả)"),
    ("lienket", "Dùng chung tài khoản trên Telegram và Zalo"),
    ("huy", "Hủy thao tác đang làm"),
    ("trogiup", "Xem hướng dẫn và các lệnh"),
)
CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "terminal": "dòng lệnh"}
LINK_PROBLEMS = {
    "unknown": "Mã liên kết không đúng. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "expired": "Mã liên kết đã hết hạn. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "used_up": "Mã liên kết đã được dùng. Gõ /lienket trên tài khoản kia để lấy mã mới.",
    "taken": "Tài khoản này đã thuộc về một người khác nên không liên kết được. "
    "Vui lòng báo cán bộ quản trị.",
}
KEEP_UPDATE_IDS = timedelta(days=3)  # how long a processed update id is remembered
PRUNE_EVERY = timedelta(hours=1)
FLOW_COMMANDS = {
    "dangky": "register",
    "mohinh": "menu",
    "xuat": "export",
    "vanban": "document",
    "minhchung": "evidence",
    "gioithieu": "intro_pick",
    "ketqua": "results",
    "chamdiem": "score_pick",
    "dexuat": "propose",
    "duyet": "review",
    "hanchot": "deadline",
    "baocao": "report",
}
ALIASES = {"help": "trogiup", "cancel": "huy", "hdsd": "trogiup"}
EVIDENCE_NAMES = {flow.name for flow in EVIDENCE_FLOWS}
# Remember an update id, once: built for each dialect at import, values bound per message.
_FIRST_DELIVERY = {
    name: insert(ProcessedUpdate)
    .values(
        channel=bindparam("channel"), update_id=bindparam("update"), processed_at=bindparam("at")
    )
    .on_conflict_do_nothing(index_elements=["channel", "update_id"])
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_cancel(text: str | None) -> bool:
    """``/huy`` (or ``/cancel``) or the word “hủy” typed on its own."""
    if not text:
        return False
    word = fold(text)
    return word in {"huy", "/huy", "/cancel", "cancel"} or word.startswith(("/huy@", "/cancel@"))


def parse_command(text: str) -> tuple[str, str]:
    head, _, rest = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return ALIASES.get(name, name), rest.strip()


def _is_sqlite(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    engine = sessionmaker.kw.get("bind")
    return isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite"


class Core:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        timezone: str = "Asia/Ho_Chi_Minh",
        clock: Clock = utcnow,
        quotas: Mapping[str, int] | None = None,
        on_deadlines_changed: Callable[[], None] | None = None,
        on_outbox: Callable[[], None] | None = None,
        files_dir: str | Path = "dvk-files",
        max_evidence_mb: float = 20.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.tz = ZoneInfo(timezone)
        self.clock = clock
        self.quotas = quotas
        # Called after a message changed a deadline (/hanchot) and was committed: the
        # reminder planner reschedules.
        self.on_deadlines_changed = on_deadlines_changed
        # Called after a message's transaction wrote to the outbox (e.g. the notice of a
        # review decision), so the senders deliver it now rather than at their next poll.
        self.on_outbox = on_outbox
        self.engine = FlowEngine(
            (
                *FLOWS,
                EXPORT,
                DOCUMENT,
                DEADLINE,
                REPORT,
                *EVALUATION_FLOWS,
                *EVIDENCE_FLOWS,
                *INTRO_FLOWS,
            )
        )
        # FILES_DIR: evidence (/minhchung) is kept under it; channels put incoming files there.
        self.files_dir = Path(files_dir)
        self.evidence = EvidenceStore(self.files_dir, int(max_evidence_mb * MB))
        # One message at a time per chat, in arrival order; entries live while in use.
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        # SQLite writes one transaction at a time (and the pool keeps one connection):
        # messages wait for their turn here, in arrival order, rather than each opening a
        # session and waiting in the pool's queue.
        self._database_turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if _is_sqlite(sessionmaker) else contextlib.nullcontext()
        )
        self._pruned_at: datetime | None = None

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        key = (msg.channel, msg.chat_id)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                with using_store(self.evidence):
                    async with self._database_turn:
                        return await self._handle_with_retry(msg)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _handle_with_retry(self, msg: IncomingMessage) -> list[Reply]:
        for _attempt in range(3):
            try:
                async with self.sessionmaker() as session:
                    async with session.begin():
                        if msg.update_id is not None and not await self._first_delivery(
                            session, msg
                        ):
                            return []
                        replies = await self._handle(session, msg)
                    self._after_commit(session)
                    return replies
            except StaleState:
                # Another process answered for this chat in between: read the new state again.
                continue
            except IntegrityError:
                if msg.update_id is not None and await self._seen(msg):
                    return []
                log.exception("integrity error while handling a message")
                return [Reply(SORRY)]
            except DBAPIError as err:
                if err.connection_invalidated:
                    # The database dropped the connection (restart, idle timeout): the pool
                    # has discarded it and the whole message is tried again on a fresh one.
                    log.warning("database connection lost; retrying the message")
                    continue
                log.exception("database error while handling a message")
                return [Reply(SORRY)]
            except Exception:
                log.exception("error while handling a message")
                if is_cancel(msg.text) and await self._drop_flow(msg):
                    return [Reply("Đã hủy thao tác đang làm dở.\n" + short_help())]
                return [Reply(SORRY)]
        return [Reply(SORRY)]

    def _after_commit(self, session: AsyncSession) -> None:
        """Run the hooks a committed message asked for (flags in ``session.info``)."""
        for flag, hook in (
            (DEADLINES_CHANGED, self.on_deadlines_changed),
            (outbox.WRITTEN, self.on_outbox),
        ):
            if session.info.pop(flag, False) and hook is not None:
                try:
                    hook()
                except Exception:
                    log.exception("the %s hook failed", flag)

    async def _drop_flow(self, msg: IncomingMessage) -> bool:
        """Last resort when an open flow cannot be handled at all: let the officer out of it."""
        try:
            async with self.sessionmaker() as session, session.begin():
                result = await session.execute(
                    delete(ConversationState).where(
                        ConversationState.channel == msg.channel,
                        ConversationState.chat_id == msg.chat_id,
                    )
                )
                return bool(result.rowcount)  # type: ignore[attr-defined]
        except Exception:
            log.exception("could not drop the conversation state")
            return False

    async def _first_delivery(self, session: AsyncSession, msg: IncomingMessage) -> bool:
        assert msg.update_id is not None
        now = self.clock()
        # One statement: INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike); a
        # concurrent delivery of the same update waits on the row and then inserts nothing.
        conn = await session.connection()  # Core: with values given, the ORM would bulk-insert
        result = await conn.execute(
            _FIRST_DELIVERY[conn.dialect.name],
            {"channel": msg.channel, "update": msg.update_id, "at": now},
        )
        if result.rowcount != 1:
            return False
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            # Platforms redeliver within a day at most: older ids need not be kept forever.
            self._pruned_at = now
            await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_UPDATE_IDS)
            )
        return True

    async def _seen(self, msg: IncomingMessage) -> bool:
        async with self.sessionmaker() as session:
            row = await session.get(ProcessedUpdate, (msg.channel, str(msg.update_id)))
            return row is not None

    async def _handle(self, session: AsyncSession, msg: IncomingMessage) -> list[Reply]:
        text = clean(msg.text) if msg.text else None
        msg = replace(msg, text=text)
        person, row = await repo.person_and_state(session, msg.channel, msg.user_id, msg.chat_id)
        ctx = Ctx(
            session=session,
            person=person,
            channel=msg.channel,
            chat_id=msg.chat_id,
            user_id=msg.user_id,
            now=self.clock(),
            tz=self.tz,
            display_name=msg.display_name,
            quotas=self.quotas,
        )
        if text and text.startswith("/") and msg.choice is None:
            name, args = parse_command(text)
            return await self._command(ctx, name, args, row is not None)
        if row is not None and msg.attachment is not None and row.flow in EVIDENCE_NAMES:
            return await take_upload(self.engine, ctx, row, msg)
        if row is not None:
            return await self.engine.handle(ctx, row, msg)
        if person is None:
            return [Reply(NOT_INVITED)]
        if msg.choice is not None:
            return [
                Reply(
                    "Nút bấm này thuộc một thao tác đã xong hoặc đã hủy nên không còn hiệu lực.\n"
                    + short_help()
                )
            ]
        return [Reply("Trợ lý chưa hiểu tin nhắn này.\n" + short_help())]

    async def _command(self, ctx: Ctx, name: str, args: str, flow_open: bool) -> list[Reply]:
        if name == "huy":
            row = await self.engine.load(ctx)
            if row is None and ctx.person is None:
                return [Reply(NOT_INVITED)]
            if row is None:
                return [Reply("Không có thao tác nào đang làm dở. " + short_help())]
            return await self.engine.handle(
                ctx, row, IncomingMessage(ctx.channel, ctx.user_id, ctx.chat_id, text="hủy")
            )
        if name == "trogiup":
            replies = [await self._help(ctx)]
            row = await self.engine.load(ctx)
            if row is not None:
                replies.append(await self.engine.render(ctx, row, note="Bạn đang làm dở:"))
            return replies
        if name == "start":
            return await self._start(ctx, args, flow_open)
        if name == "lienket":
            return await self._link(ctx, args)
        if ctx.person is None:
            return [Reply(NOT_INVITED)]
        if name == "tonghop":  # a report, not a flow: fine in the middle of one
            return await tonghop(ctx, args)
        if name == "lich":
            return await lich(ctx, args)
        if name == "nhacnho":
            return await nhacnho(ctx, args)
        if flow_open and await self._close_resting(ctx):
            flow_open = False  # a menu left open (/minhchung list): nothing to lose
        if flow_open:
            row = await self.engine.load(ctx)
            assert row is not None
            title = self.engine.flows[row.flow].heading(row.data["data"])
            note = (
                f"Bạn đang làm dở “{title}”. Hãy trả lời tiếp, hoặc gõ /huy để hủy "
                f"rồi dùng lệnh /{name}."
            )
            return [await self.engine.render(ctx, row, note=note)]
        starter = STARTERS.get(name)
        if starter is None:
            return [Reply(f"Không có lệnh /{name}.\n" + short_help())]
        initial = await starter(ctx, args)
        if isinstance(initial, Reply):
            return [initial]
        # No flow is open here: the message found none, or a resting one was just closed.
        return await self.engine.start(ctx, FLOW_COMMANDS[name], initial, none_open=True)

    async def _close_resting(self, ctx: Ctx) -> bool:
        row = await self.engine.load(ctx)
        if row is None or not is_resting(row):
            return False
        await self.engine.close(ctx, row)
        await ctx.session.flush()
        return True

    async def _start(self, ctx: Ctx, args: str, flow_open: bool) -> list[Reply]:
        code = args.split()[0] if args else ""
        if not code:
            if ctx.person is None:
                return [Reply(NOT_INVITED)]
            return [Reply(f"Chào {ctx.person.full_name}!\n" + short_help())]
        try:
            await repo.check_invite(ctx.session, code, ctx.now)
        except repo.InviteProblem as err:
            return [Reply(invite_problem_text(err.reason))]
        if ctx.person is None:
            # First contact: ask the full name, then join (the join flow takes the invite).
            return await self.engine.start(ctx, "join", {"code": code})
        if flow_open:
            return [Reply("Vui lòng hoàn tất hoặc /huy thao tác đang làm trước khi dùng mã mời.")]
        pending = await repo.check_invite(ctx.session, code, ctx.now)
        held = await repo.role_held(ctx.session, ctx.person, pending.unit_id)
        if held is not None and repo.ROLE_RANK[held] >= repo.ROLE_RANK[pending.role]:
            # Already a member with this role: the invite keeps its use for someone else.
            unit = await ctx.session.get(Unit, pending.unit_id)
            assert unit is not None
            return [
                Reply(
                    f"Bạn đã là {ROLE_LABELS[held]} của {unit.name}, không cần dùng mã mời này.\n"
                    + short_help()
                )
            ]
        invite = await repo.consume_invite(ctx.session, code, ctx.now)
        unit = await ctx.session.get(Unit, invite.unit_id)
        assert unit is not None
        membership = await repo.add_membership(ctx.session, ctx.person, unit, invite.role, ctx.now)
        await repo.audit(
            ctx.session,
            ctx.person.id,
            "join",
            "unit",
            unit.id,
            {"role": membership.role, "invite": invite.id},
            ctx.now,
            ctx.channel,
        )
        return [welcome(ctx.person.full_name, unit.name, membership.role)]

    async def _link(self, ctx: Ctx, args: str) -> list[Reply]:
        """``/lienket``: a one-time code; ``/lienket CODE`` on the other platform uses it."""
        code = args.split()[0] if args else ""
        if not code:
            if ctx.person is None:
                return [Reply(NOT_INVITED)]
            link = await repo.create_link_code(ctx.session, ctx.person, ctx.now)
            minutes = int(repo.LINK_CODE_TTL.total_seconds() // 60)
            others = " hoặc ".join(
                label for channel, label in CHANNEL_LABELS.items() if channel != ctx.channel
            )
            return [
                Reply(
                    f"Mã liên kết của bạn: {link.code}\n"
                    f"Mở trợ lý trên {others} và gõ: /lienket {link.code}\n"
                    f"Mã dùng được một lần trong {minutes} phút. Không gửi mã này cho ai khác."
                )
            ]
        try:
            person = await repo.use_link_code(ctx.session, code, ctx.channel, ctx.user_id, ctx.now)
        except repo.InviteProblem as err:
            return [Reply(LINK_PROBLEMS[err.reason])]
        if ctx.person is not None and ctx.person.id == person.id:
            return [Reply("Tài khoản này đã được liên kết với bạn.\n" + short_help())]
        await repo.audit(
            ctx.session,
            person.id,
            "link",
            "person",
            person.id,
            {"channel": ctx.channel},
            ctx.now,
            ctx.channel,
        )
        return [
            Reply(
                f"Đã liên kết tài khoản {CHANNEL_LABELS.get(ctx.channel, ctx.channel)} này với "
                f"{person.full_name}. Các đơn vị và vai trò của bạn dùng được ở đây.\n"
                + short_help()
            )
        ]

    async def _help(self, ctx: Ctx) -> Reply:
        if ctx.person is None:
            return Reply(NOT_INVITED)
        access = await repo.access_of(ctx.session, ctx.person)
        units = await repo.memberships(ctx.session, ctx.person)
        lines = [f"Chào {ctx.person.full_name}. Bạn là:"]
        lines += [f"• {ROLE_LABELS[m.role]} — {u.name}" for m, u in units]
        lines += ["", "Các lệnh:"]
        lines += [f"/{name} — {desc}" for name, desc in COMMANDS]
        if access.led_paths:
            lines += [
                "",
                "Với vai trò lãnh đạo, bạn dùng được các lệnh trên cho mọi đơn vị trực thuộc, "
                "kể cả sửa hoặc rút mô hình sau hạn đăng ký.",
            ]
        lines += ["", "Trong lúc trả lời: gõ “quay lại” để trở lại bước trước, “hủy” để dừng."]
        return Reply("\n".join(lines))


def short_help() -> str:
    return "Gõ /dangky để đăng ký mô hình, /mohinh để xem mô hình, /trogiup để xem mọi lệnh."


STARTERS: dict[str, Callable[[Ctx, str], Awaitable[Data | Reply]]] = {
    "dangky": lambda ctx, _args: start_register(ctx),
    "mohinh": lambda ctx, _args: start_menu(ctx),
    "xuat": start_export,
    "vanban": start_document,
    "minhchung": start_evidence,
    "gioithieu": start_intro,
    "ketqua": start_results,
    "chamdiem": start_scoring,
    "dexuat": start_propose,
    "duyet": start_review,
    "hanchot": start_deadline,
    "baocao": start_report,
}
