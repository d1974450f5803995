"""Keeping unexpected server errors for Errors → Other Errors."""

import logging
import traceback as tb

from sqlalchemy import delete, insert, select

from app.extensions import db
from app.models import ServerError
from app.services.clock import utcnow

log = logging.getLogger(__name__)
LISTED = 100
# Errors are rare, but a flood (someone provoking one again and again) must not
# fill the database: beyond this many, the oldest go.
KEPT = 5_000


def record_server_error(
    reference: str, *, method: str, path: str, user, error: BaseException
) -> None:
    """Store the error on a connection of its own, committed at once.

    The request's session may be what failed, so it is not used; and if the
    database itself is down, the error stays in the log (with its reference).
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
        with db.engine.begin() as connection:
            connection.execute(insert(ServerError), row)
            oldest_kept = connection.scalar(
                select(ServerError.id).order_by(ServerError.id.desc()).offset(KEPT - 1).limit(1)
            )
            if oldest_kept is not None:
                connection.execute(delete(ServerError).where(ServerError.id < oldest_kept))
    except Exception:
        log.warning("could not store the error with reference %s", reference, exc_info=True)


def recent_server_errors(reference: str = "") -> list[ServerError]:
    """The latest errors, or those whose reference starts with what an admin typed."""
    query = select(ServerError).order_by(ServerError.at.desc(), ServerError.id.desc())
    if reference:
        query = query.where(
            ServerError.reference.startswith(reference.strip().upper()[:16], autoescape=True)
        )
    return list(db.session.scalars(query.limit(LISTED)))
