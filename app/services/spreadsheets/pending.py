"""Uploaded workbooks waiting for the admin's Confirm (key times, timetable, entries).

An upload that would overwrite or remove stored data in bulk is shown first; its
file waits here under a random token, so Confirm needs no second upload. Only the
admin who uploaded it may confirm it, and only for the same kind of upload; files
older than PENDING_HOURS are deleted when another is kept. Confirm reads the file
again and applies only if what it would do is what the admin saw (the caller
compares a fingerprint of the plan).
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.services.clock import utcnow

PENDING_HOURS = 24
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True)
class PendingFile:
    token: str
    kind: str
    file_name: str
    content: bytes
    about: dict  # what the caller kept with it (the series, ...)


class PendingFiles:
    """The files waiting under an instance folder (given: services do not read the app)."""

    def __init__(self, instance_path: str | Path) -> None:
        self.folder = Path(instance_path) / "pending-sheets"

    def keep(self, kind: str, content: bytes, file_name: str, actor_id: int, **about) -> str:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._delete_expired()
        token = secrets.token_urlsafe(24)  # 32 characters
        (self.folder / f"{token}.xlsx").write_bytes(content)
        record = {
            "kind": kind,
            "file_name": file_name,
            "actor_id": actor_id,
            "kept_at": utcnow().isoformat(),
            "about": about,
        }
        (self.folder / f"{token}.json").write_text(json.dumps(record))
        return token

    def find(self, kind: str, token: str, actor_id: int) -> PendingFile | None:
        """The file kept under `token` for this admin and kind; None if unknown, expired,
        another admin's or another kind's."""
        if not TOKEN.fullmatch(token):
            return None
        try:
            record = json.loads((self.folder / f"{token}.json").read_text())
            content = (self.folder / f"{token}.xlsx").read_bytes()
        except (OSError, ValueError):
            return None
        if record.get("actor_id") != actor_id or record.get("kind") != kind or _expired(record):
            return None
        return PendingFile(token, kind, record["file_name"], content, record.get("about", {}))

    def discard(self, token: str) -> None:
        if TOKEN.fullmatch(token):
            for suffix in (".xlsx", ".json"):
                (self.folder / f"{token}{suffix}").unlink(missing_ok=True)

    def _delete_expired(self) -> None:
        for path in self.folder.glob("*.json"):
            try:
                expired = _expired(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError):
                expired = True
            if expired:
                self.discard(path.stem)


def _expired(record: dict) -> bool:
    kept_at = datetime.fromisoformat(record["kept_at"])
    return utcnow() - kept_at > timedelta(hours=PENDING_HOURS)
