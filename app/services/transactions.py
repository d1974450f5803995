"""Transaction boundaries: one commit per request, refused changes undone, locks.

The request is the unit of work (indico's RH.process): services add and flush,
never commit; the web layer commits once when the view has returned (see
app/web/unit_of_work.py) and rolls back when it raised. Inside it, `changes()`
marks one attempt at a change, so that a refused one leaves nothing behind and
a unique-constraint clash reaches the route as the same DomainError that the
service's own check would have raised.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import DomainError

log = logging.getLogger(__name__)

# A connection execution option read by app.database: start this transaction
# holding SQLite's write lock.
BEGIN_IMMEDIATE = "portal_begin_immediate"
# An arbitrary number naming the centres-upload lock among PostgreSQL advisory locks.
CENTRE_IMPORT_LOCK = 7_301_001


@contextmanager
def read_only_connection() -> Iterator[Callable]:
    """A query function on a connection of its own, in a read-only transaction.

    The session's transactions in a POST take SQLite's write lock from their
    first query (app/database.py); this one never does, so other writers go on
    while an upload is planned. On PostgreSQL it is one snapshot (REPEATABLE READ).
    Yields a function that runs one SQL statement and returns its rows.
    """
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # deferred: a read snapshot, no lock
        else:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

        def execute(sql: str):
            cursor.execute(sql)
            return cursor.fetchall()

        yield execute
    finally:
        connection.rollback()
        connection.close()


def release_transaction() -> None:
    """End the session's read-only transaction before slow work (hashing, parsing).

    Refuses to drop changes that were made but not yet committed.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("release_transaction() called with uncommitted changes")
    session.rollback()


def begin_write() -> None:
    """Start a transaction that will write, holding the write lock from its first query.

    Needed where a read-only request (a GET) writes after reading, e.g. when a
    download is recorded; POSTs get this by default.
    """
    release_transaction()
    db.session.connection(execution_options={BEGIN_IMMEDIATE: True})


def lock_centre_imports() -> None:
    """Start the transaction that applies a centres upload, one upload at a time.

    SQLite: the write lock, taken up front (a second upload waits up to the
    busy timeout). PostgreSQL: a transaction-scoped advisory lock, waited for
    up to 30 seconds. Either way a second upload that cannot get its turn fails
    with an OperationalError that the caller reports as "in progress".
    """
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL lock_timeout = '30s'"))
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CENTRE_IMPORT_LOCK})


RESOURCE_LOCK = 7_301_002
ENTRY_UPLOAD_LOCK = 7_301_003
# Handing out places in the Event Logs' hash chain (services/event_chain.py).
EVENT_CHAIN_LOCK = 7_301_004


def lock_entry_uploads() -> None:
    """One entries upload at a time. SQLite: the write lock, taken up front.
    PostgreSQL: a transaction-scoped advisory lock, waited for up to
    DATABASE_LOCK_WAIT_MS (then the request gets the "busy" page)."""
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ENTRY_UPLOAD_LOCK})


def lock_resource_changes() -> None:
    """Make changes that must not race (saving an upload, new details or a new file
    for a resource, each checked against the stored files for duplicates) one at a
    time. SQLite: a writing request holds the write lock already. PostgreSQL: a
    transaction-scoped advisory lock, waited for up to DATABASE_LOCK_WAIT_MS."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RESOURCE_LOCK})


# "table.column" of a unique constraint → the DomainError a clash on it becomes.
_CLASHES: dict[str, Callable[[], DomainError]] = {}


def on_clash(column: str, error: Callable[[], DomainError]) -> None:
    """Say which DomainError a clash on this unique column (\"table.column\") means.

    Each domain module registers its own, beside the check it makes first.
    """
    _CLASHES[column] = error


@contextmanager
def changes() -> Iterator[None]:
    """Make one change as a unit inside the request's transaction (a savepoint).

    If the change is refused (a DomainError from a service, or the database's
    unique constraint when two requests raced past the service's check), all
    of it is undone and the DomainError is raised for the route to show; the
    request can still commit what it did before. A clash on a constraint
    nobody registered is a bug, and is raised as it is.
    """
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as error:
        clash = _CLASHES.get(unique_violation(error) or "")
        if clash is None:
            raise
        raise clash() from error


# Unique keys over several columns, named in the models: the "table.column" SQLite
# reports for them (its first column), so that on_clash works on both databases.
NAMED_CONSTRAINTS = {
    "uq_key_times_series_place": "key_times.series",
    "uq_timetable_component": "timetable_slots.series",
    "uq_entry": "entries.series",
}


def unique_violation(error: IntegrityError) -> str | None:
    """Which unique column an IntegrityError is about, as "table.column", if it says.

    The checks made before writing catch duplicates one at a time; two requests
    at the same moment can both pass them, and then the database refuses one.
    """
    diag = getattr(error.orig, "diag", None)  # PostgreSQL names the constraint
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        if constraint in NAMED_CONSTRAINTS:
            return NAMED_CONSTRAINTS[constraint]
        for table in ("centres", "users"):
            prefix = f"uq_{table}_"
            if constraint.startswith(prefix):
                return f"{table}.{constraint.removeprefix(prefix)}"
    message = str(error.orig)
    if "UNIQUE constraint failed:" in message:  # SQLite names the column
        return message.split("UNIQUE constraint failed:", 1)[1].split(",")[0].strip()
    return None


def is_lock_timeout(error: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock (another writer held it)."""
    code = getattr(error.orig, "sqlstate", None)  # PostgreSQL: lock_not_available
    return code == "55P03" or "database is locked" in str(error.orig)


# Work outside the database that must follow the request's transaction: files kept
# for a save are removed if it rolls back, and the pending copies deleted once it
# commits. Kept in session.info, run once by whichever of the two happens.
_AFTER = "portal_after_transaction"


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the request's transaction has committed."""
    _pending_callbacks()["commit"].append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the request's transaction rolls back instead."""
    _pending_callbacks()["rollback"].append(callback)


def _pending_callbacks() -> dict[str, list[Callable[[], None]]]:
    return db.session.info.setdefault(_AFTER, {"commit": [], "rollback": []})


def _run_callbacks(session: Session, which: str) -> None:
    callbacks = session.info.pop(_AFTER, None)
    for callback in (callbacks or {}).get(which, ()):
        try:
            callback()
        except Exception:  # the transaction's outcome stands; say what was left behind
            log.exception("a callback after %s failed", which)


# SQLAlchemy fires these for savepoints too (changes() releasing or rolling back one):
# only the request's own transaction decides.
@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        _run_callbacks(session, "commit")


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        _run_callbacks(session, "rollback")


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    # A session closed without a commit (the request's context torn down after an
    # error nobody handled) never fires after_rollback: what it did is undone all the same.
    if transaction.parent is None and not transaction.nested:
        _run_callbacks(session, "rollback")
