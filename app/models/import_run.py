"""One upload of the centres spreadsheet, kept with its report."""

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow


class ImportRun(db.Model):
    """Who uploaded which file when, what it did, and the report shown afterwards.

    A failed upload is kept too, with its problems, so that "it failed last
    week" can be answered. `new_user_ids` are the users this upload created,
    for the new PINs file.
    """

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(Integer)
    file_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # "applied" or "failed"
    rows: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_centres: Mapped[int] = mapped_column(Integer, default=0)
    created_users: Mapped[int] = mapped_column(Integer, default=0)
    replaced_users: Mapped[int] = mapped_column(Integer, default=0)
    renamed_centres: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Loaded only when a report is opened: the history list needs none of them.
    report: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)
    problems: Mapped[list] = mapped_column(JSON, default=list, deferred=True)  # the first 1,000
    new_user_ids: Mapped[list] = mapped_column(JSON, default=list, deferred=True)

    @property
    def applied(self) -> bool:
        return self.status == "applied"
