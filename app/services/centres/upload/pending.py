"""Uploaded files waiting for the admin's Confirm, kept under the instance folder.

An upload that would remove users or rename centres is shown before it is
applied; its file waits here, named by a random token, so that Confirm does
not need it uploaded again. The rows as read are kept beside it, so that
Confirm does not read the workbook again either. Files, not database rows: a 20 MB workbook stays
out of the database (and its backups and the ImportRun history, which records
what was done), and no migration is needed. Only the admin who uploaded a
file may confirm it; files older than PENDING_HOURS are deleted when another
upload waits.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.services.centres.upload.reader import CentreRow, ReadResult
from app.services.clock import utcnow

PENDING_HOURS = 24
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True)
class PendingUpload:
    token: str
    file_name: str
    content: bytes
    read: ReadResult | None  # the valid file as the preview read it


class PendingUploads:
    """The files waiting under an instance folder (given: services do not read the app)."""

    def __init__(self, instance_path: str | Path) -> None:
        self.folder = Path(instance_path) / "pending-uploads"

    def keep(self, content: bytes, file_name: str, actor_id: int, read: ReadResult) -> str:
        """Keep an uploaded file, and its rows as read, until it is confirmed or
        cancelled; return its token."""
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._delete_expired()
        token = secrets.token_urlsafe(24)  # 32 characters
        (self.folder / f"{token}.xlsx").write_bytes(content)
        rows = {"sheet_name": read.sheet_name, "data_rows": read.data_rows, "rows": read.rows}
        (self.folder / f"{token}.rows.json").write_text(json.dumps(rows))
        about = {"file_name": file_name, "actor_id": actor_id, "kept_at": utcnow().isoformat()}
        (self.folder / f"{token}.json").write_text(json.dumps(about))
        return token

    def find(self, token: str, actor_id: int) -> PendingUpload | None:
        """The file kept under `token` for this admin; None if unknown, expired or another's."""
        if not TOKEN.fullmatch(token):
            return None
        try:
            about = json.loads((self.folder / f"{token}.json").read_text())
            content = (self.folder / f"{token}.xlsx").read_bytes()
        except (OSError, ValueError):
            return None
        if about["actor_id"] != actor_id or _expired(about):
            return None
        return PendingUpload(token, about["file_name"], content, self._rows(token))

    def _rows(self, token: str) -> ReadResult | None:
        """The rows kept with the file; None if they are not there (Confirm reads it)."""
        try:
            kept = json.loads((self.folder / f"{token}.rows.json").read_text())
            rows = [CentreRow(*row) for row in kept["rows"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return ReadResult(rows=rows, data_rows=kept["data_rows"], sheet_name=kept["sheet_name"])

    def discard(self, token: str) -> None:
        """Forget a kept file (applied, or cancelled)."""
        if TOKEN.fullmatch(token):
            for suffix in (".xlsx", ".json", ".rows.json"):
                (self.folder / f"{token}{suffix}").unlink(missing_ok=True)

    def _delete_expired(self) -> None:
        for path in self.folder.glob("*.json"):
            if path.name.endswith(".rows.json"):
                continue  # kept with its file, and discarded with it
            try:
                expired = _expired(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError):
                expired = True
            if expired:
                self.discard(path.stem)


def _expired(about: dict) -> bool:
    kept_at = datetime.fromisoformat(about["kept_at"])
    return utcnow() - kept_at > timedelta(hours=PENDING_HOURS)
