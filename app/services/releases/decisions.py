"""Releases → Windows to Decide: open windows that would now be different, and windows
for which none can be worked out any more, each waiting for an admin to move it to the
window it would now have or to keep it as it is (recompute.py puts them here).

Listed one row per (release, centre); decided for one centre or for every centre of a
release at once. Flushes, never commits.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Authorisation, Centre, Release
from app.services.audit import record_event
from app.services.errors import DomainError
from app.services.paging import Paging
from app.services.releases import notices
from app.services.releases.recompute import move_windows, set_reviews

PAGE_SIZE = 50


class NothingToDecide(DomainError):
    """The windows were decided already (by someone else, or a later change)."""


@dataclass(frozen=True)
class Undecided:
    release: Release
    centre_id: int
    number: str
    name: str
    country: str
    timezone: str
    opens_at: datetime  # the first opening now
    closes_at: datetime  # the last closing now
    new_opens_at: datetime | None  # the first opening it would have; None: no window
    new_closes_at: datetime | None
    reason: str
    resources: int

    @property
    def movable(self) -> bool:
        return self.new_opens_at is not None


@dataclass
class UndecidedPage(Paging):
    rows: list[Undecided]
    total: int
    number: int
    size: int
    by_release: list[tuple[Release, int]]  # each release with centres waiting, over every page


# Authorisations waiting for a decision (a reason is never empty). Written as a range,
# not IS NOT NULL, and counted over `+ 0` columns: so SQLite reads the few waiting rows
# from ix_authorisations_review rather than walking all 300,000 in the unique index's
# order for the DISTINCT (every admin page shows the count in the menu).
WAITING = Authorisation.review_reason > ""


def undecided_count(release_id: int | None = None) -> int:
    """How many (release, centre) pairs wait for a decision (of one release, or all)."""
    return db.session.scalar(undecided_count_query(release_id)) or 0


def undecided_count_query(release_id: int | None = None):
    """undecided_count's statement (for the menu, which asks it with other counts)."""
    pairs = select(Authorisation.release_id + 0, Authorisation.centre_id + 0).where(WAITING)
    if release_id is not None:  # "+ 0" here too: the few waiting rows, then their release
        pairs = pairs.where(Authorisation.release_id + 0 == release_id)
    return select(func.count()).select_from(pairs.distinct().subquery())


def windows_to_decide(page: int, release_id: int | None = None) -> UndecidedPage:
    conditions = [WAITING]
    if release_id is not None:
        conditions.append(Authorisation.release_id == release_id)
    grouped = (
        select(
            Authorisation.release_id,
            Authorisation.centre_id,
            Centre.number,
            Centre.name,
            Centre.country,
            Centre.timezone,
            func.min(Authorisation.opens_at),
            func.max(Authorisation.closes_at),
            func.min(Authorisation.review_opens_at),
            func.max(Authorisation.review_closes_at),
            func.min(Authorisation.review_reason),
            func.count(),
            # a window for every one of the centre's resources, or it cannot be moved
            func.count(Authorisation.review_opens_at),
        )
        .join(Centre, Centre.id == Authorisation.centre_id)
        .where(*conditions)
        .group_by(
            Authorisation.release_id,
            Authorisation.centre_id,
            Centre.number,
            Centre.name,
            Centre.country,
            Centre.timezone,
        )
    )
    waiting = dict(
        db.session.execute(
            select(Authorisation.release_id, func.count(Authorisation.centre_id.distinct()))
            .where(*conditions)
            .group_by(Authorisation.release_id)
        ).all()
    )
    total = sum(waiting.values())
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(page, 1), pages)
    found = db.session.execute(
        grouped.order_by(Authorisation.release_id.desc(), Centre.number)
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    ).all()
    releases = {
        r.id: r for r in db.session.scalars(select(Release).where(Release.id.in_(sorted(waiting))))
    }
    rows = []
    for release_id_, centre_id, num, name, country, tz, o, c, no, nc, why, n, with_window in found:
        movable = with_window == n
        rows.append(
            Undecided(
                releases[release_id_],
                centre_id,
                num,
                name,
                country,
                tz,
                o,
                c,
                no if movable else None,
                nc if movable else None,
                why,
                n,
            )
        )
    by_release = [(releases[r], waiting[r]) for r in sorted(waiting, reverse=True)]
    return UndecidedPage(rows, total, number, PAGE_SIZE, by_release)


def decide(release: Release, centre_ids: list[int] | None, move: bool) -> tuple[int, set[int]]:
    """Move the release's windows waiting for a decision (of `centre_ids`, or all) to the
    window they would now have, or keep them as they are. Windows for which none can be
    worked out can only be kept. Returns (authorisations decided, their centres)."""
    query = select(
        Authorisation.id,
        Authorisation.centre_id,
        Authorisation.review_opens_at,
        Authorisation.review_closes_at,
    ).where(Authorisation.release_id == release.id, WAITING)
    if centre_ids is not None:
        query = query.where(Authorisation.centre_id.in_(sorted(set(centre_ids))))
    waiting = db.session.execute(query).all()
    if move:
        waiting = [row for row in waiting if row.review_opens_at is not None]
    if not waiting:
        raise NothingToDecide(
            "There is nothing to decide there now: it was decided already, or a later "
            "change put the window back as it was."
            if not move
            else "There is no new window to move to: no window can be worked out for it now. "
            "Keep it, or remove the centre from the release."
        )
    if move:
        move_windows(
            [
                {
                    "id_": row.id,
                    "new_opens": row.review_opens_at,
                    "new_closes": row.review_closes_at,
                }
                for row in waiting
            ]
        )
    else:
        set_reviews(
            [{"id_": row.id, "reason": None, "r_opens": None, "r_closes": None} for row in waiting]
        )
    centres = {row.centre_id for row in waiting}
    if move:
        notices.windows_moved(release.id, centres)
    numbers = sorted(
        db.session.scalars(select(Centre.number).where(Centre.id.in_(sorted(centres))))
    )
    record_event(
        "release.windows_moved" if move else "release.windows_kept",
        subject=release,
        details={
            "authorisations": len(waiting),
            "centres": numbers[:100]
            + ([f"and {len(numbers) - 100} more"] if len(numbers) > 100 else []),
        },
    )
    return len(waiting), centres
