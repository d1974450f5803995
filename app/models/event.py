"""The Event Logs: an append-only record of sign-ins and changes."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow

# SQLite only auto-increments a column declared exactly INTEGER.
_EventId = BigInteger().with_variant(Integer, "sqlite")


class Event(db.Model):
    """One thing that happened: who did what to which subject, when and from where.

    Actor and subject are recorded by value (id and email/label), without foreign
    keys, so deleting a user or centre never rewrites or loses its history. Never
    holds a password, PIN or token.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_action_at", "action", "at"),
        # A record's history, newest first (who changed it last, for edit conflicts).
        Index("ix_events_subject", "subject_type", "subject_id", "id"),
        # The Event Logs' filters, each read newest first by id (keyset pages).
        Index("ix_events_action", "action", "id"),
        Index("ix_events_actor", "actor_email", "id"),
        Index("ix_events_ip", "ip", "id"),
    )

    id: Mapped[int] = mapped_column(_EventId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    # Its place in the hash chain (1, 2, 3, … no gaps) and the chain's hash up to it:
    # see app/services/event_chain.py, which gives them out as Events are flushed.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<Event {self.action} {self.at:%Y-%m-%d %H:%M}>"


@event.listens_for(Session, "before_flush")
def _refuse_event_changes(session: Session, flush_context, instances) -> None:
    """Keep the log append-only: an Event once written is never changed or deleted."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError("Events are append-only: they cannot be changed or deleted")
