"""What a step or a command may use while handling one message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.texts.account import DEFAULT_INVITE_ISSUER
from domain.messages import IncomingMessage
from storage import audit_log
from storage.evidence import EvidenceStore
from storage.models import Person

Data = dict[str, Any]


@dataclass
class Ctx:
    session: AsyncSession
    person: Person | None
    channel: str
    chat_id: str
    user_id: str
    now: datetime  # timezone-aware
    tz: ZoneInfo
    display_name: str | None = None
    quotas: Mapping[str, int] | None = None  # models expected per unit kind (QUOTAS)
    files: EvidenceStore = field(default_factory=EvidenceStore)  # FILES_DIR and its limits
    message: IncomingMessage | None = None  # the message being handled
    invite_issuer: str = DEFAULT_INVITE_ISSUER  # who hands out invite codes (INVITE_ISSUER)
    web_base: str | None = None  # PUBLIC_BASE_URL: links to the bot's own web server (/web)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    async def audit(
        self,
        action: str,
        entity: str,
        entity_id: int | None,
        details: dict[str, Any],
        by: Person | None = None,
    ) -> None:
        """What ``by`` (this message's person unless said) did, into the audit log, with the
        time and the channel of this message."""
        person = by if by is not None else self.person
        assert person is not None
        await audit_log.audit(
            self.session, person.id, action, entity, entity_id, details, self.now, self.channel
        )
