"""Email: the wording admins give each kind of email, and every email sent."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow

OUTBOX_STATUSES = ("pending", "sent", "failed", "withdrawn")


class EmailTemplate(db.Model):
    """An admin's wording of one kind of email. Without a row, or with an empty subject
    (the default restored; the row stays so that its version goes on counting), the
    default wording is used."""

    __tablename__ = "email_templates"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    # Counts saves; the edit form carries it (see Centre.version).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class OutboxMessage(db.Model):
    """One email, committed with the change that caused it and sent after the commit.

    A message is pending until it is sent. Each try claims it by setting
    `sending_until` (a lease), so two senders never send it at once, and a
    sender that dies mid-try leaves it to be retried, never lost. A message due later
    (a release notice, due when its window opens) waits in `next_attempt_at`; one that
    is no longer wanted before it went is "withdrawn", kept and never sent.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'withdrawn')", name="status_known"
        ),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_release_centre", "release_id", "centre_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    # Emptied once sent: it holds a live link (activation, reset) until then.
    body: Mapped[str] = mapped_column(Text, deferred=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A release notice's release and centre, so that it moves with the centre's window
    # and is withdrawn (status "withdrawn", never sent) when the window goes.
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} to {self.to_address} {self.status}>"
