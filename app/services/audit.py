"""Writing the Event Logs."""

from typing import Any

from app.extensions import db
from app.models import Event, User
from app.services.clock import utcnow


def record_event(
    action: str,
    *,
    actor: User | None = None,
    subject: Any = None,
    details: dict | None = None,
    ip: str | None = None,
) -> Event:
    """Add an Event to the session (the caller commits it with the change it records)."""
    event = Event(
        at=utcnow(),
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        details=details or {},
        ip=ip,
    )
    db.session.add(event)
    return event
