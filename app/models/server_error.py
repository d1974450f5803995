"""Unexpected server errors, kept so that admins can match a user's reference."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow


class ServerError(db.Model):
    """One unexpected error: the reference its user was shown, where, for whom, and why."""

    __tablename__ = "server_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    reference: Mapped[str] = mapped_column(String(16), index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_email: Mapped[str | None] = mapped_column(String(254))
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(1000))
    traceback: Mapped[str] = mapped_column(Text, deferred=True)
