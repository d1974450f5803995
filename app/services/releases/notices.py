"""Release notices: the emails that tell a centre's users about their resources.

When a release is saved, each activated user of each centre in it gets one "release
notice" (the Release notice E-mail Template), queued in the outbox due at the centre's
first opening in the release: it waits there, pending, and `outbox send` (cron, every
minute) sends it once that moment has come. The notice names the release, the centre
and its resources, each with its opening and closing time in the centre's own zone (and
UTC). When the centre's windows move, its pending notices are written again and moved
to the new first opening; when the release is cancelled, the centre is taken out of it
or deleted, or a user deleted, they are withdrawn (kept, status "withdrawn", never
sent). A user who activates later gets the notices of the releases not yet open at
their centre. The admin may also tell the centres at once that a release is scheduled
(the Release scheduled template), due now.

Thousands of centres are done in a handful of queries: the recipients in one, the
windows, resources and messages already queued in a few more, the emails added with a
Core bulk insert, each centre's email rendered once (its users get the same text).
Flushes only.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import String, bindparam, exists, func, insert, or_, select, type_coerce, update

from app.extensions import db
from app.models import Authorisation, Centre, OutboxMessage, Release, Resource, User
from app.models.types import UTCDateTime
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.email import templates
from app.services.email.outbox import remember_for_delivery
from app.services.releases.centre_home import local_text, utc_text
from app.services.resources.naming import KIND_LABELS, MetadataError, series_label

NOTICE = "release_notice"  # due when the centre's window opens
SCHEDULED = "release_scheduled"  # due at once, when the admin asks for it
NOTICE_KINDS = (NOTICE, SCHEDULED)

CHUNK = 5_000  # ids in one IN (...) list
_OUTBOX = OutboxMessage.__table__


@dataclass(frozen=True)
class NoticeSettings:
    """What every notice says the same way: the board's name and the portal's address."""

    organisation: str = ""
    home_link: str = ""


_settings = NoticeSettings()


def configure(organisation: str, home_link: str) -> None:
    """Set the board's name and the portal's Home address (from the app's settings:
    PORTAL_BASE_URL, as account emails' links are), once when the app is built."""
    global _settings
    _settings = NoticeSettings(organisation, home_link)


# One resource's window at a centre: (resource_id, opens_at, closes_at).
Window = tuple[int, datetime, datetime]


class _Place(NamedTuple):
    number: str
    name: str
    timezone: str


# Queuing.


def queue_opening_notices(release: Release, centre_ids: Iterable[int] | None = None) -> int:
    """One release notice for each activated user of each centre of the release (or of
    `centre_ids`) that has authorisations in it, due at the centre's first opening.
    A user who has one (pending or sent) already for that centre is left alone.
    Returns how many were queued."""
    return _queue(release, NOTICE, centre_ids)


def queue_scheduled_notices(release: Release, centre_ids: Iterable[int] | None = None) -> int:
    """One "release scheduled" email, due now, for each activated user of each centre of
    the release (or of `centre_ids`), with the centre's opening and closing times."""
    return _queue(release, SCHEDULED, centre_ids)


def queue_release_notices(release: Release, targets: Iterable, *, scheduled: bool = False) -> int:
    """The emails of a release just saved: its release notices and, with `scheduled`,
    the "release scheduled" ones. `targets` are its (centre_id, resource_id, opens_at,
    closes_at), which the caller has: they are not read back. Without any activated
    user at its centres, this costs one query."""
    recipients, places = _recipients(release.id, None, None)
    if not recipients:
        return 0
    windows = _windows_of(release.id, recipients, targets)
    queued = _add(release, NOTICE, recipients, places, windows)
    if scheduled:
        queued += _add(release, SCHEDULED, recipients, places, windows)
    return queued


def _queue(
    release: Release,
    key: str,
    centre_ids: Iterable[int] | None = None,
    *,
    email: str | None = None,
    not_open_at: datetime | None = None,
) -> int:
    """Queue `key` emails for the release's centres (or `centre_ids`): to every activated
    user, or only to `email`; with `not_open_at`, only for centres whose first opening
    is after it."""
    if release.is_cancelled:
        return 0
    wanted = None if centre_ids is None else sorted(set(centre_ids))
    recipients, places = _recipients(release.id, wanted, email)
    if recipients and key == NOTICE:
        _leave_out_notified(release.id, recipients)
    if not recipients:
        return 0
    windows = _windows_of(release.id, recipients)
    if not_open_at is not None:
        windows = {c: found for c, found in windows.items() if _first(found) > not_open_at}
    return _add(release, key, recipients, places, windows, email=email)


def _add(
    release: Release,
    key: str,
    recipients: dict[int, list[str]],
    places: dict[int, "_Place"],
    windows: dict[int, list[Window]],
    *,
    email: str | None = None,
) -> int:
    """Render each centre's email once, add one message per recipient in bulk, and
    record what was queued."""
    now = utcnow()
    writer = _Writer(release, key)
    rows: list[dict] = []
    for centre_id, found in windows.items():
        subject, body, first = writer.email(places[centre_id], found)
        due = first if key == NOTICE else now
        for to in recipients.get(centre_id, ()):
            rows.append(
                {
                    "to_address": to,
                    "template": key,
                    "subject": subject,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": due,
                    "release_id": release.id,
                    "centre_id": centre_id,
                }
            )
    if not rows:
        return 0
    _insert(rows, now)
    record_event(
        "release.notices_queued",
        subject=release,
        details={
            "template": key,
            "emails": len(rows),
            "centres": len(windows),
            **({"to": email} if email else {}),
        },
    )
    return len(rows)


def _recipients(
    release_id: int, centre_ids: list[int] | None, email: str | None
) -> tuple[dict[int, list[str]], dict[int, _Place]]:
    """The activated users of the release's live centres (those with authorisations in
    it), by centre, and each such centre's number, name and zone: one query (one per
    5,000 centres named)."""
    query = (
        select(User.centre_id, User.email, Centre.number, Centre.name, Centre.timezone)
        .join(Centre, Centre.id == User.centre_id)
        .where(
            User.role == "centre",
            User.activated_at.is_not(None),
            Centre.deleted_at.is_(None),
            exists().where(
                Authorisation.release_id == release_id,
                Authorisation.centre_id == User.centre_id,
            ),
        )
        .order_by(User.centre_id, User.email)
    )
    if email is not None:
        query = query.where(User.email == email)
    recipients: dict[int, list[str]] = defaultdict(list)
    places: dict[int, _Place] = {}
    for chunk in _chunks(centre_ids):
        for centre_id, to, number, name, tz in db.session.execute(
            query if chunk is None else query.where(User.centre_id.in_(chunk))
        ):
            recipients[centre_id].append(to)
            places[centre_id] = _Place(number, name, tz)
    return recipients, places


def _leave_out_notified(release_id: int, recipients: dict[int, list[str]]) -> None:
    """Take out of `recipients` the users who have this release's notice for their
    centre already, waiting or sent (a withdrawn one does not count)."""
    query = select(OutboxMessage.centre_id, OutboxMessage.to_address).where(
        OutboxMessage.release_id == release_id,
        OutboxMessage.template == NOTICE,
        OutboxMessage.status.in_(("pending", "sent")),
    )
    have = set()
    for chunk in _chunks(sorted(recipients)):
        have.update(db.session.execute(query.where(OutboxMessage.centre_id.in_(chunk))).all())
    if not have:
        return
    for centre_id in list(recipients):
        left = [to for to in recipients[centre_id] if (centre_id, to) not in have]
        if left:
            recipients[centre_id] = left
        else:
            del recipients[centre_id]


def _windows_of(
    release_id: int, centre_ids: Iterable[int], targets: Iterable | None = None
) -> dict[int, list[Window]]:
    """Each centre's windows in the release, (resource_id, opens_at, closes_at), by
    centre: from `targets` when given, else read (one query per 5,000 centres)."""
    wanted = sorted(set(centre_ids))
    found: dict[int, list[Window]] = defaultdict(list)
    if targets is not None:
        keep = set(wanted)
        for target in targets:
            if target[0] in keep:
                found[target[0]].append(target[1:])
        return dict(found)
    table = Authorisation.__table__
    # 300,000 rows hold a few hundred distinct instants: read as stored, each turned
    # into an aware UTC datetime once (UTCDateTime would do it 600,000 times).
    query = select(
        table.c.centre_id,
        table.c.resource_id,
        type_coerce(table.c.opens_at, String),
        type_coerce(table.c.closes_at, String),
    ).where(table.c.release_id == release_id)
    instant = _instants()
    connection = db.session.connection()
    for chunk in _chunks(wanted):
        for centre_id, resource_id, opens_at, closes_at in connection.execute(
            query.where(table.c.centre_id.in_(chunk))
        ):
            found[centre_id].append((resource_id, instant(opens_at), instant(closes_at)))
    return dict(found)


def _instants():
    """A reader of stored instants (text on SQLite, datetimes on PostgreSQL) into aware
    UTC datetimes, each distinct value read once."""
    seen: dict = {}
    as_utc = UTCDateTime().process_result_value

    def instant(stored) -> datetime:
        found = seen.get(stored)
        if found is None:
            value = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
            found = seen[stored] = as_utc(value, None)
        return found

    return instant


def _first(windows: list[Window]) -> datetime:
    """The centre's first opening."""
    return min(w[1] for w in windows)


def _insert(rows: list[dict], now: datetime) -> None:
    """Add the emails in bulk; those already due are handed to the sender after the
    commit, like any email (the others wait for `outbox send`)."""
    due = [row for row in rows if row["next_attempt_at"] <= now]
    later = [row for row in rows if row["next_attempt_at"] > now]
    for start in range(0, len(later), CHUNK):
        db.session.execute(insert(_OUTBOX), later[start : start + CHUNK])
    for start in range(0, len(due), CHUNK):
        ids = db.session.scalars(
            insert(_OUTBOX).returning(_OUTBOX.c.id),
            due[start : start + CHUNK],
        ).all()
        remember_for_delivery(ids)


class _Writer:
    """Renders a release's emails of one kind: the wording is read once, and each time
    or resource line worked out once for every centre that shares it."""

    def __init__(self, release: Release, key: str):
        self.render = templates.renderer(key)
        try:
            series = series_label(release.series)
        except MetadataError:
            series = release.series
        self.common = {
            "series": series,
            "release": release.title or f"Release {release.id}",
            "link": _settings.home_link,
            "organisation": _settings.organisation,
        }
        self.resources = _resources_of(release.id)
        self._times: dict[tuple[datetime, str], str] = {}
        self._listed: dict[tuple, tuple[str, str, str, datetime]] = {}

    def email(self, place: _Place, windows: list[Window]) -> tuple[str, str, datetime]:
        """The centre's subject and body, and its first opening (the notice's due time).
        Centres in one zone with the same windows share the text of their resources."""
        key = (tuple(windows), place.timezone)
        listed = self._listed.get(key)
        if listed is None:
            listed = self._listed[key] = self._list(windows, place.timezone)
        resources, opens, closes, first = listed
        context = {
            **self.common,
            "centre_number": place.number,
            "centre_name": place.name,
            "resources": resources,
            "opens": opens,
            "closes": closes,
        }
        return (*self.render(context), first)

    def _list(self, windows: list[Window], zone: str) -> tuple[str, str, str, datetime]:
        """The resources (those not deleted; all, if every one is), each with its
        window, in the order they open; the first opening and the last closing."""
        live = sorted(
            [w for w in windows if w[0] in self.resources] or windows,
            key=lambda w: (w[1], self._order(w[0]), w[0]),
        )
        text = "\n".join(self._line(w, zone) for w in live)
        first, last = live[0][1], max(w[2] for w in live)
        return text, self._time(first, zone), self._time(last, zone), first

    def _order(self, resource_id: int) -> tuple:
        found = self.resources.get(resource_id)
        return found[:2] + (found[3].casefold(),) if found else ("", "", "")

    def _time(self, instant: datetime, zone: str) -> str:
        key = (instant, zone)
        text = self._times.get(key)
        if text is None:
            text = self._times[key] = f"{local_text(instant, zone)} ({utc_text(instant)})"
        return text

    def _line(self, window: Window, zone: str) -> str:
        resource_id, opens_at, closes_at = window
        syllabus, component, kind, title = self.resources.get(resource_id, ("", "", "", "Resource"))
        return (
            f"- {title} ({syllabus}/{component}, {KIND_LABELS.get(kind, kind)})\n"
            f"  opens {self._time(opens_at, zone)}\n"
            f"  closes {self._time(closes_at, zone)}"
        )


def _resources_of(release_id: int) -> dict[int, tuple[str, str, str, str]]:
    """The release's resources that are not deleted: (syllabus, component, kind, title)."""
    return {
        row[0]: tuple(row[1:])
        for row in db.session.execute(
            select(
                Resource.id, Resource.syllabus, Resource.component, Resource.kind, Resource.title
            ).where(
                Resource.deleted_at.is_(None),
                Resource.id.in_(
                    select(Authorisation.resource_id)
                    .where(Authorisation.release_id == release_id)
                    .distinct()
                ),
            )
        )
    }


# Moving and withdrawing.


def windows_moved(release_id: int, centre_ids: Iterable[int]) -> None:
    """The windows of these centres in the release moved: their pending notices are
    written again with the windows as they are now, and the release notices are due at
    the new first opening. A centre left without authorisations in the release (or a
    cancelled release) has its pending notices withdrawn."""
    wanted = sorted(set(centre_ids))
    release = db.session.get(Release, release_id)
    if not wanted or release is None:
        return
    if release.is_cancelled:
        withdraw_notices(release_id, wanted)
        return
    now = utcnow()
    waiting = _pending_centres(release_id, wanted, now)
    if not waiting:
        return
    windows = _windows_of(release_id, waiting)
    gone = sorted(set(waiting) - set(windows))
    if gone:
        withdraw_notices(release_id, gone)
    places = _places(windows)
    changes: dict[str, list[dict]] = {NOTICE: [], SCHEDULED: []}
    for key in NOTICE_KINDS:
        centres = [c for c in windows if key in waiting[c]]
        if not centres:
            continue
        writer = _Writer(release, key)
        for centre_id in centres:
            subject, body, first = writer.email(places[centre_id], windows[centre_id])
            change = {"c_id": centre_id, "new_subject": subject, "new_body": body}
            if key == NOTICE:
                change["new_due"] = first
            changes[key].append(change)
    moved = 0
    for key, rows in changes.items():
        if not rows:
            continue
        values = {"subject": bindparam("new_subject"), "body": bindparam("new_body")}
        if key == NOTICE:
            values["next_attempt_at"] = bindparam("new_due", type_=_OUTBOX.c.next_attempt_at.type)
        moved += (
            db.session.connection()
            .execute(
                update(_OUTBOX)
                .where(
                    _OUTBOX.c.release_id == release_id,
                    _OUTBOX.c.centre_id == bindparam("c_id"),
                    _OUTBOX.c.template == key,
                    _OUTBOX.c.status == "pending",
                    _not_being_sent(now),
                )
                .values(**values),
                rows,
            )
            .rowcount
        )
    _deliver_due_now(release_id, [row["c_id"] for row in changes[NOTICE]], now)
    if moved:
        record_event(
            "release.notices_moved",
            subject=release,
            details={"emails": moved, "centres": len(windows)},
        )


def _pending_centres(release_id: int, centre_ids: list[int], now: datetime) -> dict[int, set]:
    """The centres (of `centre_ids`) with pending notices of the release, and their kinds."""
    query = (
        select(OutboxMessage.centre_id, OutboxMessage.template)
        .where(
            OutboxMessage.release_id == release_id,
            OutboxMessage.status == "pending",
            OutboxMessage.template.in_(NOTICE_KINDS),
            _not_being_sent(now),
        )
        .distinct()
    )
    found: dict[int, set] = defaultdict(set)
    for chunk in _chunks(centre_ids):
        for centre_id, key in db.session.execute(query.where(OutboxMessage.centre_id.in_(chunk))):
            found[centre_id].add(key)
    return dict(found)


def _places(centre_ids: Iterable[int]) -> dict[int, _Place]:
    found = {}
    for chunk in _chunks(sorted(set(centre_ids))):
        for centre_id, number, name, tz in db.session.execute(
            select(Centre.id, Centre.number, Centre.name, Centre.timezone).where(
                Centre.id.in_(chunk)
            )
        ):
            found[centre_id] = _Place(number, name, tz)
    return found


def _deliver_due_now(release_id: int, centre_ids: list[int], now: datetime) -> None:
    """Notices moved to a moment already past go to the sender after the commit."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.release_id == release_id,
        OutboxMessage.template == NOTICE,
        OutboxMessage.status == "pending",
        OutboxMessage.attempts == 0,
        OutboxMessage.next_attempt_at <= now,
    )
    for chunk in _chunks(sorted(centre_ids)):
        remember_for_delivery(
            db.session.scalars(query.where(OutboxMessage.centre_id.in_(chunk))).all()
        )


def withdraw_notices(release_id: int, centre_ids: Iterable[int] | None = None) -> int:
    """The release's pending notices (both kinds), or those of `centre_ids`, become
    "withdrawn": kept, never sent. Returns how many."""
    where = [
        OutboxMessage.release_id == release_id,
        OutboxMessage.status == "pending",
        OutboxMessage.template.in_(NOTICE_KINDS),
    ]
    wanted = None if centre_ids is None else sorted(set(centre_ids))
    withdrawn = 0
    for chunk in _chunks(wanted):
        withdrawn += _withdraw(
            where if chunk is None else [*where, OutboxMessage.centre_id.in_(chunk)]
        )
    if withdrawn:
        record_event(
            "release.notices_withdrawn",
            subject=db.session.get(Release, release_id),
            details={"emails": withdrawn, **({"centres": wanted} if wanted else {})},
        )
    return withdrawn


def _withdraw(where: list) -> int:
    return db.session.execute(
        update(OutboxMessage)
        .where(*where)
        .values(status="withdrawn")
        .execution_options(synchronize_session=False)
    ).rowcount


# A centre's users and the centre itself.


def user_activated(user: User) -> int:
    """A centre user who has just activated gets the notices of their centre's releases
    (not cancelled) whose windows have not opened yet."""
    if user.role != "centre" or user.centre_id is None:
        return 0
    return _queue_for_centre(user.centre_id, email=user.email)


def user_deleted(user: User) -> int:
    """A centre user is being deleted: their pending release emails are withdrawn."""
    if user.role != "centre" or user.centre_id is None:
        return 0
    withdrawn = _withdraw(
        [*_centre_notices(user.centre_id), OutboxMessage.to_address == user.email]
    )
    if withdrawn:
        record_event(
            "release.notices_withdrawn",
            subject=user,
            details={"emails": withdrawn, "to": user.email},
        )
    return withdrawn


def centre_deleted(centre_id: int) -> int:
    """A deleted centre gets nothing: its pending release emails are withdrawn."""
    withdrawn = _withdraw(_centre_notices(centre_id))
    if withdrawn:
        record_event(
            "release.notices_withdrawn",
            subject=db.session.get(Centre, centre_id),
            details={"emails": withdrawn},
        )
    return withdrawn


def centre_restored(centre_id: int) -> int:
    """A restored centre's activated users get the notices of its releases that have
    not opened yet (as if they had just activated)."""
    return _queue_for_centre(centre_id)


def _centre_notices(centre_id: int) -> list:
    """The pending release emails of the centre (found by the releases it is in, so
    that the (release, centre) index serves)."""
    return [
        OutboxMessage.release_id.in_(
            select(Authorisation.release_id).where(Authorisation.centre_id == centre_id).distinct()
        ),
        OutboxMessage.centre_id == centre_id,
        OutboxMessage.status == "pending",
        OutboxMessage.template.in_(NOTICE_KINDS),
    ]


def _queue_for_centre(centre_id: int, email: str | None = None) -> int:
    now = utcnow()
    not_open = db.session.scalars(
        select(Release)
        .join(Authorisation, Authorisation.release_id == Release.id)
        .where(Authorisation.centre_id == centre_id, Release.cancelled_at.is_(None))
        .group_by(Release.id)
        .having(func.min(Authorisation.opens_at) > now)
        .order_by(Release.id)
    ).all()
    return sum(
        _queue(release, NOTICE, [centre_id], email=email, not_open_at=now) for release in not_open
    )


def _not_being_sent(now: datetime):
    return or_(OutboxMessage.sending_until.is_(None), OutboxMessage.sending_until <= now)


def _chunks(ids: list[int] | None) -> Iterator[list[int] | None]:
    """`ids` in lists of CHUNK; None (every centre) as itself, once."""
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# What the Release Resources preview says about the emails.


def recipients_count(centre_ids: Iterable[int]) -> tuple[int, int]:
    """How many activated users the centres have, and at how many of them."""
    ids = sorted(set(centre_ids))
    users = centres = 0
    for chunk in _chunks(ids):
        found = db.session.execute(
            select(func.count(), func.count(User.centre_id.distinct()))
            .join(Centre, Centre.id == User.centre_id)
            .where(
                User.role == "centre",
                User.activated_at.is_not(None),
                Centre.deleted_at.is_(None),
                User.centre_id.in_(chunk),
            )
        ).one()
        users, centres = users + found[0], centres + found[1]
    return users, centres
