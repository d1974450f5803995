"""The outbox: every email is stored with the change that caused it, then sent.

`queue_email` adds a message to the session, so it is committed or rolled back
with everything else the request did. After a commit the web layer hands the
new messages to `deliver` (once the response has gone); `send_due` (the
`outbox send` command, run from cron) retries whatever is still pending, with
backoff, and marks a message failed after its last try. A message may also be
queued due later (a release notice, due when its centre's window opens): it waits,
pending, until `send_due` finds it due; nothing sends it before then. Nothing is
dropped: a message leaves `pending` only as `sent` or `failed`, or `withdrawn` when
what it announced no longer holds (kept, never sent), and failed ones can be
retried from Errors → Other Errors.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import OutboxMessage
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.transactions import begin_write, is_lock_timeout

log = logging.getLogger(__name__)

# The wait before each retry: after the first failed try 1 minute, then 5, ...
BACKOFF_MINUTES = (1, 5, 15, 60, 240)
# How long a sender may take over one message before another may try it (a
# sender that died mid-try leaves the message to be taken again after this).
LEASE = timedelta(minutes=5)

_QUEUED = "outbox_queued"
_COMMITTED = "outbox_committed"

Transport = Callable[["Envelope"], None]


def queue_email(*, to: str, template: str, subject: str, body: str) -> OutboxMessage:
    """Add an email to the session; it is sent only if the caller commits."""
    now = utcnow()
    message = OutboxMessage(
        to_address=to,
        template=template,
        subject=subject,
        body=body,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    _remember(db.session(), message.id)
    return message


def _remember(session: Session, message_id: int) -> None:
    session.info.setdefault(_QUEUED, []).append(message_id)


def remember_for_delivery(message_ids: list[int]) -> None:
    """Hand these messages (added in bulk, and due now) to the sender once the change
    is committed, as queue_email does for one."""
    if message_ids:
        db.session().info.setdefault(_QUEUED, []).extend(message_ids)


@event.listens_for(Session, "after_commit")
def _queued_messages_are_committed(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info.setdefault(_COMMITTED, []).extend(queued)


@event.listens_for(Session, "after_rollback")
def _queued_messages_are_gone(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def take_committed(session: Session) -> list[int]:
    """The ids of messages queued and committed in this session, not yet handed over."""
    return session.info.pop(_COMMITTED, [])


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # sent, being sent, or not yet due
    left: int = 0  # not tried: the mail server could not be reached


@dataclass(frozen=True)
class Envelope:
    """What a transport needs of a message, read when it was claimed, so that no
    transaction stays open while the mail server is talked to."""

    id: int
    to_address: str
    template: str
    subject: str
    body: str
    lease: datetime | None = None  # this sender's hold on the message, until then


def _unreachable(error: Exception) -> bool:
    """Whether the mail server could not be reached or talked to at all (a wrong
    host name, a refused or dropped connection, a timeout), rather than refusing
    this one message: then trying the next message now is pointless."""
    refusal = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)
    return isinstance(error, OSError) and not isinstance(error, refusal)


def deliver(message_ids: list[int], transport: Transport, *, max_attempts: int) -> Outcome:
    """Try to send these messages now, each at most once, recording what happened.
    Stops at the first message the mail server could not even be reached for."""
    outcome = Outcome()
    for position, message_id in enumerate(message_ids):
        envelope = _claim(message_id)
        if envelope is None:
            outcome.skipped += 1
            continue
        try:
            transport(envelope)
        except Exception as error:  # noqa: BLE001 - any failure leaves it for a retry
            log.warning("email %s to %s not sent: %s", envelope.id, envelope.to_address, error)
            status = _record_failure(envelope, error, max_attempts)
            if status == "failed":
                outcome.failed += 1
            elif status == "pending":
                outcome.retrying += 1
            if _unreachable(error):
                outcome.left = len(message_ids) - position - 1
                break
        else:
            _record_success(envelope)
            outcome.sent += 1
    return outcome


def _held(envelope: "Envelope") -> OutboxMessage | None:
    """The message, in a new write transaction, if this sender's lease on it still
    holds; None if the lease ran out and another sender may have taken it, whose
    record must then stand. (A new transaction: on SQLite a read snapshot taken
    before the send could not be upgraded to a write if another request wrote.)"""
    begin_write()
    message = db.session.get(OutboxMessage, envelope.id, populate_existing=True)
    if message is None or message.sending_until != envelope.lease:
        db.session.rollback()
        log.warning("email %s: the lease ran out while sending; not recorded", envelope.id)
        return None
    return message


def _record_success(envelope: "Envelope") -> None:
    for attempt in range(3):
        try:
            message = _held(envelope)
            if message is None:
                return
            message.status = "sent"
            message.sent_at = utcnow()
            message.sending_until = None
            message.last_error = None
            # The body holds a live link: once it has left, it is not kept.
            message.body = ""
            db.session.commit()
            return
        except OperationalError as error:
            # The email has gone: keep trying to say so, or it would be sent again.
            db.session.rollback()
            if not is_lock_timeout(error) or attempt == 2:
                raise


def _not_being_sent(now):
    return or_(OutboxMessage.sending_until.is_(None), OutboxMessage.sending_until <= now)


def _claim(message_id: int) -> "Envelope | None":
    """Take this message for one try, if it is pending, due and nobody else is
    sending it: no other sender can take it until this try ends or its lease runs out."""
    begin_write()
    now = utcnow()
    lease = now + LEASE
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            _not_being_sent(now),
        )
        .values(attempts=OutboxMessage.attempts + 1, sending_until=lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    envelope = None
    if claimed:
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        envelope = Envelope(
            message.id,
            message.to_address,
            message.template,
            message.subject,
            message.body,
            message.sending_until,
        )
    db.session.commit()
    return envelope


def _record_failure(envelope: "Envelope", error: Exception, max_attempts: int) -> str | None:
    message = _held(envelope)
    if message is None:
        return None
    message.sending_until = None
    message.last_error = f"{type(error).__name__}: {error}"[:1000]
    if message.status == "withdrawn":
        pass  # withdrawn while this try was under way: it is not tried again
    elif message.attempts >= max_attempts:
        message.status = "failed"
        record_event(
            "email.failed",
            subject=message,
            details={"to": message.to_address, "template": message.template},
        )
    else:
        wait = BACKOFF_MINUTES[min(message.attempts, len(BACKOFF_MINUTES)) - 1]
        message.next_attempt_at = utcnow() + timedelta(minutes=wait)
    status = message.status
    db.session.commit()
    return status


def send_due(transport: Transport, *, max_attempts: int, limit: int = 1000) -> Outcome:
    """Send the pending messages whose time has come, oldest first."""
    now = utcnow()
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            _not_being_sent(now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return deliver(list(due), transport, max_attempts=max_attempts)


def retry(message_id: int) -> OutboxMessage | None:
    """Send a pending or failed message once more, as soon as this change is
    committed: one more try, even after the last. None when it has been sent, is
    being sent right now, or does not exist."""
    now = utcnow()
    retried = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_(("pending", "failed")),
            ~_waiting(now),
            _not_being_sent(now),
        )
        .values(status="pending", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not retried:
        return None
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    _remember(db.session(), message.id)
    record_event(
        "email.retried",
        subject=message,
        details={"to": message.to_address, "template": message.template},
    )
    return message


def _waiting(now: datetime):
    """Messages waiting for their time (a release notice before its window opens):
    pending, never tried, due later. Not a problem, and not to be sent early."""
    return and_(
        OutboxMessage.status == "pending",
        OutboxMessage.attempts == 0,
        OutboxMessage.next_attempt_at > now,
    )


def waiting_count() -> int:
    """How many messages wait for their time (release notices before their window)."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(_waiting(utcnow()))
    )


def undelivered(limit: int = 200) -> list[OutboxMessage]:
    """Failed messages, and pending ones that are due or were tried (not those waiting
    for their time, nor withdrawn ones), newest first, for Errors → Other Errors."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "failed"),
                ~_waiting(now),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
