"""Each centre's figures in a release (CentreFigures), kept equal to what they count.

A report of a release to 10,000 centres needs, for every centre, its first opening, its
last closing and whether anything was sent to it: worked out from 300,000
authorisations and half a million downloads on every page view, that is tens to
hundreds of milliseconds. So they are kept, like the Errors lists, in the transaction of every
change to what they count:

- `refresh(release_id, centre_ids)` works a centre's row out again from its
  authorisations and downloads; the services that add, move or remove authorisations
  call it (planning.insert_authorisations, recompute.move_windows and follow_entries'
  removals, manage.remove_centre). A centre with no authorisation left has no row.
- `download_sent(...)` counts a file sent to a centre's user under a release
  (catalogue.record_download).

`differences()` works every row out afresh and lists those that differ; the tests run
it after every test, so a change that forgets to keep the figures fails loudly.
Flushes, never commits.
"""

import logging
from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import case, delete, exists, func, insert, literal_column, or_, select, update

from app.extensions import db
from app.models import Authorisation, CentreFigures, Download

log = logging.getLogger(__name__)

SENT = "sent"
ONE = literal_column("1")
CHUNK = 5_000
COLUMNS = (
    "release_id",
    "centre_id",
    "opens_at",
    "closes_at",
    "last_opens_at",
    "first_closes_at",
    "resources",
    "downloads",
    "first_download_at",
    "first_download_by",
)

_A, _D, _F = Authorisation.__table__, Download.__table__, CentreFigures.__table__


def _worked_out(where: list):
    """Each (release, centre) of the authorisations `where` keeps, with its figures
    worked out from the authorisations and downloads (downloads (release_id,
    centre_id, at) finds a centre's)."""
    sent = (_D.c.release_id == _A.c.release_id, _D.c.centre_id == _A.c.centre_id)
    sent += (_D.c.status == SENT,)
    return (
        select(
            _A.c.release_id,
            _A.c.centre_id,
            func.min(_A.c.opens_at),
            func.max(_A.c.closes_at),
            func.max(_A.c.opens_at),
            func.min(_A.c.closes_at),
            func.count(),
            select(func.count()).select_from(_D).where(*sent).scalar_subquery(),
            select(func.min(_D.c.at)).where(*sent).scalar_subquery(),
            select(_D.c.user_email)
            .where(*sent)
            .order_by(_D.c.at, _D.c.id)
            .limit(1)
            .scalar_subquery(),
        )
        .where(*where)
        .group_by(_A.c.release_id, _A.c.centre_id)
    )


def _chunks(centre_ids: Collection[int] | None) -> Iterator[list | None]:
    if centre_ids is None:
        yield None
        return
    ids = sorted(set(centre_ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def refresh(release_id: int, centre_ids: Collection[int] | None = None) -> None:
    """Work out again the figures of `centre_ids` (every centre, if None) in the
    release, after its authorisations changed: rows of centres with no authorisation
    left go, the windows of the others are updated in place, and centres new to the
    release get a row (with the downloads already made under it, for a centre added
    back). In place, not deleted and inserted again: a download counted meanwhile by
    another transaction (download_sent) must not be lost."""
    db.session.flush()  # downloads and authorisations the ORM still holds count too
    for ids in _chunks(centre_ids):
        stored = [_F.c.release_id == release_id]
        source = [_A.c.release_id == release_id]
        if ids is not None:
            stored.append(_F.c.centre_id.in_(ids))
            source.append(_A.c.centre_id.in_(ids))
        held = select(ONE).where(
            _A.c.release_id == _F.c.release_id, _A.c.centre_id == _F.c.centre_id
        )
        db.session.execute(delete(_F).where(*stored, ~exists(held)))
        windows = (
            select(
                _A.c.release_id,
                _A.c.centre_id,
                func.min(_A.c.opens_at).label("opens_at"),
                func.max(_A.c.closes_at).label("closes_at"),
                func.max(_A.c.opens_at).label("last_opens_at"),
                func.min(_A.c.closes_at).label("first_closes_at"),
                func.count().label("resources"),
            )
            .where(*source)
            .group_by(_A.c.release_id, _A.c.centre_id)
            .subquery()
        )
        db.session.execute(
            update(_F)
            .where(_F.c.release_id == windows.c.release_id, _F.c.centre_id == windows.c.centre_id)
            .values(
                opens_at=windows.c.opens_at,
                closes_at=windows.c.closes_at,
                last_opens_at=windows.c.last_opens_at,
                first_closes_at=windows.c.first_closes_at,
                resources=windows.c.resources,
            )
        )
        kept = select(ONE).where(
            _F.c.release_id == _A.c.release_id, _F.c.centre_id == _A.c.centre_id
        )
        db.session.execute(insert(_F).from_select(COLUMNS, _worked_out([*source, ~exists(kept)])))


def rebuild(release_id: int, centre_ids: Collection[int] | None = None) -> None:
    """Work the figures of `centre_ids` (every centre, if None) out afresh, downloads
    included: for rows written around the services (the tests' hand-made data, the
    benchmarks' bulk seeds). Never beside live downloads: it deletes and inserts."""
    db.session.flush()
    for ids in _chunks(centre_ids):
        stored = [_F.c.release_id == release_id]
        source = [_A.c.release_id == release_id]
        if ids is not None:
            stored.append(_F.c.centre_id.in_(ids))
            source.append(_A.c.centre_id.in_(ids))
        db.session.execute(delete(_F).where(*stored))
        db.session.execute(insert(_F).from_select(COLUMNS, _worked_out(source)))


def download_sent(release_id: int, centre_id: int, at: datetime, user_email: str | None) -> None:
    """Count a file sent under the release to a user of the centre, at `at`."""
    # The earliest is the first, whichever transaction commits first.
    earlier = or_(_F.c.first_download_at.is_(None), _F.c.first_download_at > at)
    counted = db.session.execute(
        update(_F)
        .where(_F.c.release_id == release_id, _F.c.centre_id == centre_id)
        .values(
            downloads=_F.c.downloads + 1,
            # Both read the row as it was.
            first_download_at=case((earlier, at), else_=_F.c.first_download_at),
            first_download_by=case((earlier, user_email), else_=_F.c.first_download_by),
        )
    ).rowcount
    if not counted:  # no row: the centre's figures were missed; work them out now
        log.error("no figures for centre %s in release %s: worked out again", centre_id, release_id)
        refresh(release_id, [centre_id])


def differences() -> list[str]:
    """Every stored row that differs from its figures worked out afresh, and every
    row missing or left over, in words; [] when all are kept."""
    db.session.flush()
    stored = {tuple(row[:2]): tuple(row[2:]) for row in db.session.execute(select(_F))}
    fresh = {tuple(row[:2]): tuple(row[2:]) for row in db.session.execute(_worked_out([]))}
    found = []
    for key in sorted(stored.keys() | fresh.keys()):
        if stored.get(key) != fresh.get(key):
            found.append(
                f"release {key[0]}, centre {key[1]}: kept {stored.get(key)}, "
                f"worked out {fresh.get(key)}"
            )
    return found
