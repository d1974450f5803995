"""Transaction boundaries for work that must not hold, or must take, the write lock."""

from app.extensions import db

# A connection execution option read by app.database: start this transaction
# holding SQLite's write lock.
BEGIN_IMMEDIATE = "portal_begin_immediate"


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
