"""Whether a centre user may download a resource, at this second.

Only if the user is an active centre user, their centre is live, and an
authorisation of a release that is not cancelled has opens_at ≤ now < closes_at.
Anything else is refused, with the reason kept for the Download row (too early,
closed, cancelled, not authorised); the user is shown a 404 whatever it is, so
nothing tells them the resource exists.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Authorisation, Centre, Release, User
from app.services.releases.windows import is_open


@dataclass(frozen=True)
class Decision:
    authorisation_id: int | None  # the one that allows it; None when refused
    release_id: int | None
    reason: str  # "" when allowed

    @property
    def allowed(self) -> bool:
        return self.authorisation_id is not None


def may_download(user: User, resource_id: int, now: datetime) -> Decision:
    """The decision for `user` and `resource_id` at `now`: one indexed query."""
    if user.role != "centre" or user.centre_id is None or user.activated_at is None:
        return Decision(None, None, "not a centre user")
    centre_live = db.session.scalar(
        select(Centre.deleted_at.is_(None)).where(Centre.id == user.centre_id)
    )
    if not centre_live:
        return Decision(None, None, "centre deleted")
    rows = db.session.execute(
        select(
            Authorisation.id,
            Authorisation.release_id,
            Authorisation.opens_at,
            Authorisation.closes_at,
            Release.cancelled_at.is_not(None),
        )
        .join(Release, Release.id == Authorisation.release_id)
        .where(
            Authorisation.resource_id == resource_id,
            Authorisation.centre_id == user.centre_id,
        )
        .order_by(Authorisation.opens_at)
    ).all()
    for authorisation_id, release_id, opens_at, closes_at, cancelled in rows:
        if not cancelled and is_open(opens_at, closes_at, now):
            return Decision(authorisation_id, release_id, "")
    if not rows:
        return Decision(None, None, "not authorised")
    live = [row for row in rows if not row[4]]
    if not live:
        return Decision(None, rows[0][1], "release cancelled")
    if any(row[2] > now for row in live):
        return Decision(None, live[0][1], "too early")
    return Decision(None, live[-1][1], "closed")
