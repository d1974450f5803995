"""Keeping unexpected server errors for Errors → Other Errors.

An error is stored on a connection of its own, waiting at most a moment for the
database: the error may have happened because another request holds SQLite's
write lock for long (a big upload), and the error page must not wait for it too.
What cannot be stored then is appended to a spool file, which the Other Errors
page moves into the table the next time it is opened.
"""

import json
import logging
import os
import secrets
import traceback as tb
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, insert, select

from app.extensions import db
from app.models import ServerError
from app.services.clock import utcnow
from app.services.transactions import release_transaction

log = logging.getLogger(__name__)
LISTED = 100
# Errors are rare, but a flood (someone provoking one again and again) must not
# fill the database: beyond this many, the oldest go.
KEPT = 5_000
# How long storing an error may wait for SQLite's write lock before it is spooled.
STORE_WAIT_MS = 250


def record_server_error(
    reference: str, *, method: str, path: str, user, error: BaseException, spool: Path
) -> None:
    """Store the error at once on a connection of its own, or append it to `spool`.

    The request's session may be what failed, so it is not used; if neither the
    database nor the spool file can take it, it stays in the log (with its reference).
    """
    row = {
        "at": utcnow(),
        "reference": reference,
        "method": method[:10],
        "path": path[:500],
        "user_id": getattr(user, "id", None),
        "user_email": getattr(user, "email", None),
        "error_type": f"{type(error).__module__}.{type(error).__qualname__}"[:200],
        "message": str(error)[:1000],
        "traceback": "".join(tb.format_exception(error))[-8_000:],
    }
    try:
        # The failed request's own transaction may hold SQLite's write lock: end it.
        db.session.rollback()
        _store([row], wait_ms=STORE_WAIT_MS)
    except Exception:
        log.warning("could not store the error with reference %s: spooling it", reference)
        try:
            with spool.open("a", encoding="utf-8") as file:
                file.write(json.dumps({**row, "at": row["at"].isoformat()}) + "\n")
        except OSError:
            log.warning("could not spool the error with reference %s", reference, exc_info=True)


def _store(rows: list[dict], *, wait_ms: int | None = None) -> None:
    with db.engine.begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite and wait_ms is not None:
            (previous,) = connection.exec_driver_sql("PRAGMA busy_timeout").one()
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
        try:
            connection.execute(insert(ServerError), rows)
            oldest_kept = connection.scalar(
                select(ServerError.id).order_by(ServerError.id.desc()).offset(KEPT - 1).limit(1)
            )
            if oldest_kept is not None:
                connection.execute(delete(ServerError).where(ServerError.id < oldest_kept))
        finally:
            if sqlite and wait_ms is not None:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(previous)}")


def store_spooled_errors(spool: Path) -> int:
    """Move the errors spooled while the database was busy into the table; how many.

    The spool is renamed before it is read, so errors spooled meanwhile start a new
    one; each renamed file is claimed by a second rename (two admins opening the
    page at once do not both store it), and deleted only once stored. One that
    cannot be stored now is put back, for the next time.
    """
    with suppress(FileNotFoundError):
        os.replace(spool, spool.with_name(f"{spool.name}.{secrets.token_hex(8)}.waiting"))
    stored = 0
    for waiting in sorted(spool.parent.glob(f"{spool.name}.*.waiting")):
        claimed = waiting.with_suffix(".storing")
        try:
            os.replace(waiting, claimed)
        except FileNotFoundError:
            continue  # another request has it
        rows = _spooled_rows(claimed)
        try:
            if rows:
                _store(rows)
        except Exception:
            log.warning("could not store the spooled errors in %s yet", waiting, exc_info=True)
            os.replace(claimed, waiting)
            continue
        claimed.unlink()
        stored += len(rows)
    if stored:
        # The caller's read snapshot (SQLite) began before they were stored: end it,
        # so that what it reads next includes them.
        release_transaction()
    return stored


def _spooled_rows(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with suppress(ValueError, KeyError, TypeError):
            row = json.loads(line)
            rows.append({**row, "at": datetime.fromisoformat(row["at"])})
    return rows


def recent_server_errors(reference: str = "") -> list[ServerError]:
    """The latest errors, or those whose reference starts with what an admin typed."""
    query = select(ServerError).order_by(ServerError.at.desc(), ServerError.id.desc())
    if reference:
        query = query.where(
            ServerError.reference.startswith(reference.strip().upper()[:16], autoescape=True)
        )
    return list(db.session.scalars(query.limit(LISTED)))
