"""Centres uploads waiting for the admin's Confirm: a kind of pending workbook.

An upload that would remove users or rename centres is shown before it is
applied; its file waits as a `spreadsheets.pending` file of kind "centres", so
that Confirm does not need it uploaded again, with the rows as read kept beside
it, so that Confirm does not read the workbook again either. Files, not database
rows: a 20 MB workbook stays out of the database (and its backups and the
ImportRun history, which records what was done), and no migration is needed.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from app.services.centres.upload.reader import CentreRow, ReadResult
from app.services.spreadsheets.pending import PENDING_HOURS, PendingFiles

KIND = "centres"
__all__ = ["PENDING_HOURS", "PendingUpload", "PendingUploads"]


@dataclass(frozen=True)
class PendingUpload:
    token: str
    file_name: str
    content: bytes
    read: ReadResult | None  # the valid file as the preview read it


class PendingUploads:
    """The centres files waiting under an instance folder."""

    def __init__(self, instance_path: str | Path) -> None:
        self.files = PendingFiles(instance_path)
        # Where they waited before they were pending workbooks: nothing there is
        # confirmable now, and it holds users' addresses.
        shutil.rmtree(Path(instance_path) / "pending-uploads", ignore_errors=True)

    def keep(self, content: bytes, file_name: str, actor_id: int, read: ReadResult) -> str:
        """Keep an uploaded file, and its rows as read, until it is confirmed or
        cancelled; return its token."""
        rows = {"sheet_name": read.sheet_name, "data_rows": read.data_rows, "rows": read.rows}
        return self.files.keep(KIND, content, file_name, actor_id, read=rows)

    def find(self, token: str, actor_id: int) -> PendingUpload | None:
        """The file kept under `token` for this admin; None if unknown, expired or another's."""
        found = self.files.find(KIND, token, actor_id)
        if found is None:
            return None
        return PendingUpload(token, found.file_name, found.content, _rows(found.about))

    def discard(self, token: str) -> None:
        """Forget a kept file (applied, or cancelled)."""
        self.files.discard(token)


def _rows(about: dict) -> ReadResult | None:
    """The rows kept with the file; None if they are not there (Confirm reads it)."""
    try:
        kept = about["read"]
        rows = [CentreRow(*row) for row in kept["rows"]]
    except (KeyError, ValueError, TypeError):
        return None
    return ReadResult(rows=rows, data_rows=kept["data_rows"], sheet_name=kept["sheet_name"])
