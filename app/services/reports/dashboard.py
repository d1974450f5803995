"""The figures on the admin's Home page.

A fixed number of queries, whatever the amount of data: each list is limited in SQL,
and each figure is one aggregate.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, union_all

from app.extensions import db
from app.models import (
    Centre,
    CentreFigures,
    Download,
    EntryError,
    EntryUpload,
    Event,
    ImportRun,
    KeyTimeError,
    OutboxMessage,
    Release,
    Resource,
    ResourceFile,
    ServerError,
    User,
)
from app.services.releases.decisions import undecided_count_query

RECENT = timedelta(hours=24)
UPCOMING = timedelta(days=7)
UPCOMING_SHOWN = 20  # releases with windows opening soon, soonest first
UPLOADS_SHOWN = 8  # recent uploads and imports, newest first...
UPLOADS_OF_A_KIND = 3  # ...at most 3 of a kind, so 50 resource files do not hide an import
# Server errors count as open on the Other Errors page for a week after they happen.
SERVER_ERRORS_SHOWN_FOR = timedelta(days=7)
# Every way a session starts: the sign-in page, and the activation and reset
# links, which sign the user in with the password they have just chosen.
SIGN_IN_ACTIONS = {
    "login.succeeded": "Signed in",
    "account.activated": "Activated the account",
    "account.password_reset": "Reset the password",
}


@dataclass(frozen=True)
class UpcomingOpening:
    """A release with windows opening in the next 7 days: how many centres' first
    opening there falls in them, and the first and last of those openings (UTC)."""

    release_id: int
    title: str
    series: str
    centres: int
    first_opens: datetime
    last_opens: datetime


@dataclass(frozen=True)
class RecentUpload:
    """One upload or import: what kind, when, by whom, what it was and what it did,
    and the page that shows it (endpoint and its arguments)."""

    kind: str  # "Centres import", "Entries upload", "Resource upload", ...
    at: datetime
    by: str | None
    what: str
    outcome: str
    endpoint: str
    arguments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AdminDashboard:
    centres: int
    deleted_centres: int
    centre_users: int
    activated_centre_users: int
    staff_users: int
    sign_ins_last_24h: int
    recent_sign_ins: list[Event]
    upcoming: list[UpcomingOpening] = field(default_factory=list)
    recent_uploads: list[RecentUpload] = field(default_factory=list)
    downloads_last_24h: int = 0
    centres_downloading_last_24h: int = 0


def admin_dashboard(*, now: datetime, recent_limit: int = 10) -> AdminDashboard:
    """Count centres and users, and list the latest sign-ins from the Event Logs."""
    centre_counts = db.session.execute(
        select(
            func.count().filter(Centre.deleted_at.is_(None)),
            func.count().filter(Centre.deleted_at.is_not(None)),
        )
    ).one()
    user_counts = db.session.execute(
        select(
            func.count().filter(User.role == "centre"),
            func.count().filter(User.role == "centre", User.activated_at.is_not(None)),
            func.count().filter(User.role != "centre"),
        )
    ).one()
    sign_ins = select(Event).where(Event.action.in_(SIGN_IN_ACTIONS))
    downloads = db.session.execute(
        # ix_downloads_at: the last 24 hours' downloads, not all of them.
        select(func.count(), func.count(Download.centre_id.distinct())).where(
            Download.status == "sent", Download.at >= now - RECENT
        )
    ).one()
    return AdminDashboard(
        centres=centre_counts[0],
        deleted_centres=centre_counts[1],
        centre_users=user_counts[0],
        activated_centre_users=user_counts[1],
        staff_users=user_counts[2],
        sign_ins_last_24h=db.session.scalar(
            select(func.count()).select_from(sign_ins.where(Event.at >= now - RECENT).subquery())
        ),
        recent_sign_ins=newest_events(list(SIGN_IN_ACTIONS), recent_limit),
        upcoming=upcoming_openings(now),
        recent_uploads=recent_uploads(),
        downloads_last_24h=downloads[0],
        centres_downloading_last_24h=downloads[1],
    )


def newest_events(actions: list[str], limit: int) -> list[Event]:
    """The newest `limit` events of these actions, newest first, in one statement.

    `action IN (...) ORDER BY at` would sort every event of the actions (hundreds of
    thousands of sign-ins) to return ten; so each action is an arm of its own, read
    newest first from ix_events_action_at (action, at) and stopped at `limit`, and
    only the arms' rows are sorted."""
    arms = [
        select(Event.id)
        .where(Event.action == action)
        .order_by(Event.at.desc())
        .limit(limit)
        .subquery()
        for action in actions
    ]
    ids = union_all(*[select(arm.c.id) for arm in arms]).subquery()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.id.in_(select(ids.c.id)))
            .order_by(Event.at.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def upcoming_openings(now: datetime, within: timedelta = UPCOMING) -> list[UpcomingOpening]:
    """Releases (not cancelled) with centres whose window opens after `now` and
    within `within` (a centre's window opens with its first resource, as on Manage
    Releases and the Audit Reports), soonest first: one grouped query over the
    centres' figures (ix_release_centre_figures_opens_at), not the authorisations."""
    f = CentreFigures
    first = func.min(f.opens_at)
    rows = db.session.execute(
        select(
            Release.id,
            Release.title,
            Release.series,
            func.count(),
            first,
            func.max(f.opens_at),
        )
        .join(Release, Release.id == f.release_id)
        .where(f.opens_at > now, f.opens_at <= now + within, Release.cancelled_at.is_(None))
        .group_by(Release.id, Release.title, Release.series)
        .order_by(first, Release.id)
        .limit(UPCOMING_SHOWN)
    )
    return [UpcomingOpening(*row) for row in rows]


def _count(number: int, thing: str, things: str = "") -> str:
    return f"{number:,} {thing if number == 1 else things or thing + 's'}"


def recent_uploads(shown: int = UPLOADS_SHOWN, each: int = UPLOADS_OF_A_KIND) -> list[RecentUpload]:
    """The newest centres imports, entries uploads, resource files and key-time,
    timetable and help-document uploads (`each` of every one of those four), the
    `shown` newest of them first: four queries, each limited (the first three newest by
    primary key, the last by ix_events_action_at)."""
    found: list[RecentUpload] = []
    for run in db.session.execute(
        select(
            ImportRun.id,
            ImportRun.started_at,
            ImportRun.actor_email,
            ImportRun.file_name,
            ImportRun.status,
            ImportRun.rows,
            ImportRun.created_centres,
            ImportRun.renamed_centres,
            ImportRun.created_users,
            ImportRun.problem_count,
        )
        .order_by(ImportRun.id.desc())
        .limit(each)
    ):
        if run.status == "applied":
            outcome = (
                f"{_count(run.created_centres, 'centre')} added, "
                f"{_count(run.renamed_centres, 'centre')} renamed, "
                f"{_count(run.created_users, 'user')} added"
            )
        else:
            outcome = f"Refused: {_count(run.problem_count, 'problem')}"
        found.append(
            RecentUpload(
                "Centres import",
                run.started_at,
                run.actor_email,
                run.file_name,
                outcome,
                "admin.import_report",
                {"run_id": run.id},
            )
        )
    for upload, email in db.session.execute(
        select(EntryUpload, User.email)
        .outerjoin(User, User.id == EntryUpload.actor_id)
        .order_by(EntryUpload.id.desc())
        .limit(each)
    ):
        found.append(
            RecentUpload(
                "Entries upload",
                upload.at,
                email,
                upload.file_name,
                f"{_count(upload.added, 'entry', 'entries')} added, "
                f"{upload.withdrawn:,} withdrawn, {_count(upload.errors, 'error')}",
                "key_times.entries_report",
                {"upload_id": upload.id},
            )
        )
    for at, name, number, resource_id, title, email in db.session.execute(
        select(
            ResourceFile.uploaded_at,
            ResourceFile.original_name,
            ResourceFile.number,
            Resource.id,
            Resource.title,
            User.email,
        )
        .join(Resource, Resource.id == ResourceFile.resource_id)
        .outerjoin(User, User.id == ResourceFile.uploaded_by_id)
        .order_by(ResourceFile.id.desc())
        .limit(each)
    ):
        found.append(
            RecentUpload(
                "Resource upload" if number == 1 else "Resource file replaced",
                at,
                email,
                name,
                title if number == 1 else f"{title}: version {number}",
                "resources.resource",
                {"resource_id": resource_id},
            )
        )
    for event in newest_events(list(_UPLOAD_EVENTS), each):
        kind, endpoint = _UPLOAD_EVENTS[event.action]
        details = event.details if isinstance(event.details, dict) else {}
        arguments = {"series": details["series"]} if details.get("series") else {}
        found.append(
            RecentUpload(
                kind,
                event.at,
                event.actor_email,
                str(details.get("file_name") or details.get("file") or ""),
                _upload_outcome(event.action, details),
                endpoint,
                arguments if endpoint == "key_times.timetable" else {},
            )
        )
    found.sort(key=lambda upload: upload.at, reverse=True)
    return found[:shown]


# Uploads known only from the Event Logs: action → (kind, the page that shows more).
_UPLOAD_EVENTS = {
    "key_times.uploaded": ("Key times upload", "key_times.index"),
    "timetable.uploaded": ("Timetable upload", "key_times.timetable"),
    "help_document.uploaded": ("Help document upload", "admin.help_upload"),
}


def _upload_outcome(action: str, details: dict) -> str:
    if action == "help_document.uploaded":
        audience = details.get("audience")
        return "For centre users" if audience == "centre" else "For staff"

    def number(key: str) -> int:
        value = details.get(key)
        return value if isinstance(value, int) else 0

    return f"{number('added'):,} added, {number('changed'):,} changed"


@dataclass(frozen=True)
class ErrorCounts:
    other: int  # emails that failed for good, and server errors in the last week
    entries: int  # open Entry Errors
    key_times: int  # Key Time Errors (each one a place, session and date held up)
    windows: int = 0  # (release, centre) windows waiting for a decision

    @property
    def by_endpoint(self) -> dict[str, int]:
        return {
            "errors.other": self.other,
            "errors.entries": self.entries,
            "errors.key_times": self.key_times,
            "releases.decide_list": self.windows,
        }


def open_error_counts(now: datetime) -> ErrorCounts:
    """What each Errors page has open, and the windows waiting for a decision, for the
    menu and Home: five indexed counts, asked in one statement (every admin page
    shows them)."""
    failed, server_errors, entries, key_times, windows = db.session.execute(
        select(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .scalar_subquery(),
            select(func.count())
            .select_from(ServerError)
            .where(ServerError.at >= now - SERVER_ERRORS_SHOWN_FOR)
            .scalar_subquery(),
            select(func.count())
            .select_from(EntryError)
            .where(EntryError.resolved_at.is_(None), EntryError.dismissed_at.is_(None))
            .scalar_subquery(),
            select(func.count()).select_from(KeyTimeError).scalar_subquery(),
            undecided_count_query().scalar_subquery(),
        )
    ).one()
    return ErrorCounts(
        other=failed + server_errors, entries=entries, key_times=key_times, windows=windows
    )
