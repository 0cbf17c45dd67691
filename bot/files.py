"""Files for channels that cannot send documents (Zalo): signed, expiring, personal links.

A file the core sends is written under ``FILES_DIR/links/`` with a small JSON record of
its name, content type, owner (channel and account id) and expiry. The link names the file
id, the owner, the expiry and an HMAC-SHA256 signature over all three; the web server
(`bot/web.py`) serves the file only when the signature matches, the link has not expired
and the owner in the link is the file's owner. Anything else gets 403 or 404 with the same
empty body, so a wrong guess reveals nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from domain.messages import Document

log = logging.getLogger(__name__)

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ascii_name(name: str) -> str:
    """A file name without diacritics, for clients that do not read RFC 5987 names."""
    name = unicodedata.normalize("NFD", name).replace("đ", "d").replace("Đ", "D")
    name = "".join(ch for ch in name if not unicodedata.combining(ch))
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return name or "tep"


@dataclass(frozen=True)
class StoredFile:
    path: Path
    file_name: str
    mime_type: str


class LinkRefused(Exception):
    """The link is not valid: ``status`` is 403 (bad or expired signature) or 404."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class FileLinks:
    def __init__(
        self,
        directory: Path,
        secret: bytes,
        base_url: str,
        ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self.directory = directory / "links"
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def _sign(self, file_id: str, owner: str, expires: int) -> str:
        message = f"{file_id}\n{owner}\n{expires}".encode()
        return _b64(hmac.new(self.secret, message, hashlib.sha256).digest())

    def publish(self, document: Document, channel: str, user_id: str, now: datetime) -> str:
        """Store the document for one person and return its link."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prune(now)
        file_id = secrets.token_urlsafe(18)
        owner = f"{channel}:{user_id}"
        expires = int((now + self.ttl).timestamp())
        (self.directory / f"{file_id}.bin").write_bytes(document.content)
        meta = {
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "owner": owner,
            "expires": expires,
        }
        (self.directory / f"{file_id}.json").write_text(json.dumps(meta), encoding="utf-8")
        query = urlencode(
            {"o": _b64(owner.encode()), "e": expires, "s": self._sign(file_id, owner, expires)}
        )
        return f"{self.base_url}/files/{file_id}/{quote(ascii_name(document.file_name))}?{query}"

    def open(
        self, file_id: str, owner_b64: str, expires: str, signature: str, now: datetime
    ) -> StoredFile:
        """The file behind a link, or LinkRefused."""
        if not _FILE_ID.match(file_id):
            raise LinkRefused(404)
        try:
            owner = base64.urlsafe_b64decode(owner_b64 + "=" * (-len(owner_b64) % 4)).decode()
            expires_at = int(expires)
        except ValueError:
            raise LinkRefused(403) from None
        expected = self._sign(file_id, owner, expires_at)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LinkRefused(403)
        if expires_at <= now.timestamp():
            raise LinkRefused(403)
        meta_path = self.directory / f"{file_id}.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise LinkRefused(404) from None
        if meta.get("owner") != owner or int(meta.get("expires", 0)) <= now.timestamp():
            raise LinkRefused(404)
        return StoredFile(self.directory / f"{file_id}.bin", meta["file_name"], meta["mime_type"])

    def prune(self, now: datetime) -> int:
        """Delete the files whose links have expired; returns how many."""
        removed = 0
        for meta_path in self.directory.glob("*.json"):
            try:
                expires = int(json.loads(meta_path.read_text(encoding="utf-8"))["expires"])
            except (OSError, ValueError, KeyError):
                continue
            if expires <= now.timestamp():
                meta_path.with_suffix(".bin").unlink(missing_ok=True)
                meta_path.unlink(missing_ok=True)
                removed += 1
        return removed


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266/5987)."""
    return f"attachment; filename=\"{ascii_name(file_name)}\"; filename*=UTF-8''{quote(file_name)}"
