"""The figures on the admin's Home page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Centre, EntryError, Event, KeyTimeError, OutboxMessage, ServerError, User
from app.services.releases.decisions import undecided_count

RECENT = timedelta(hours=24)
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
class AdminDashboard:
    centres: int
    deleted_centres: int
    centre_users: int
    activated_centre_users: int
    staff_users: int
    sign_ins_last_24h: int
    recent_sign_ins: list[Event]


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
    return AdminDashboard(
        centres=centre_counts[0],
        deleted_centres=centre_counts[1],
        centre_users=user_counts[0],
        activated_centre_users=user_counts[1],
        staff_users=user_counts[2],
        sign_ins_last_24h=db.session.scalar(
            select(func.count()).select_from(sign_ins.where(Event.at >= now - RECENT).subquery())
        ),
        recent_sign_ins=list(
            db.session.scalars(sign_ins.order_by(Event.at.desc()).limit(recent_limit))
        ),
    )


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
    menu and Home: four indexed counts."""
    return ErrorCounts(
        other=db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "failed")
        )
        + db.session.scalar(
            select(func.count())
            .select_from(ServerError)
            .where(ServerError.at >= now - SERVER_ERRORS_SHOWN_FOR)
        ),
        entries=db.session.scalar(
            select(func.count())
            .select_from(EntryError)
            .where(EntryError.resolved_at.is_(None), EntryError.dismissed_at.is_(None))
        ),
        key_times=db.session.scalar(select(func.count()).select_from(KeyTimeError)),
        windows=undecided_count(),
    )
