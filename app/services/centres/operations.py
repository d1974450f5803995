"""Managing centres: search, create, edit, soft delete and restore. Flushes, never commits."""

from dataclasses import dataclass, fields

from sqlalchemy import case, func, select

from app.extensions import db
from app.models import Centre, User
from app.services.audit import record_event, refuse_stale_edit
from app.services.centres.rules import RuleError
from app.services.clock import utcnow
from app.services.releases import notices
from app.services.text import fold
from app.services.timetable import followups
from app.services.transactions import on_clash

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class CentreDetails:
    """The editable details of a centre, already cleaned by centre_rules."""

    number: str
    name: str
    country: str
    town: str
    timezone: str
    zone: int


@dataclass(frozen=True)
class SearchResult:
    centres: list[Centre]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.centres)


class CentreNumberTaken(RuleError):
    """Another centre already has this number."""


on_clash(
    "centres.number", lambda: CentreNumberTaken("That centre number is used by another centre.")
)


@dataclass(frozen=True)
class CentreSaved:
    changes: dict[str, list]  # {field: [before, after]}
    restored: bool


def search_centres(
    query: str, *, include_deleted: bool = False, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Centres whose number, name or town contain every word of `query`.

    Case and accents are ignored. An exact number match comes first, then
    numbers that start with the query, then the rest by number.
    """
    conditions = [
        Centre.search_key.like(f"%{_escape_like(word)}%", escape="\\")
        for word in fold(query).split()
    ]
    if not include_deleted:
        conditions.append(Centre.deleted_at.is_(None))
    exact = query.strip().upper()
    rank = case(
        (Centre.number == exact, 0),
        (Centre.number.like(f"{_escape_like(exact)}%", escape="\\"), 1),
        else_=2,
    )
    centres = db.session.scalars(
        select(Centre).where(*conditions).order_by(rank, Centre.number).limit(limit)
    ).all()
    if len(centres) < limit:
        total = len(centres)
    else:
        total = db.session.scalar(select(func.count()).select_from(Centre).where(*conditions))
    return SearchResult(list(centres), total)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_centre_by_number(number: str) -> Centre | None:
    return db.session.scalar(select(Centre).where(Centre.number == number))


def _refuse_taken_number(number: str, centre: Centre | None = None) -> None:
    other = find_centre_by_number(number)
    if other is not None and other is not centre:
        deleted = " (deleted)" if other.is_deleted else ""
        raise CentreNumberTaken(f"Centre number {number} is already used by {other.name}{deleted}.")


# What entries and key times depend on: a change to one is followed up.
CLOCK_FIELDS = frozenset({"number", "country", "timezone", "zone"})


def create_centre(details: CentreDetails) -> Centre:
    _refuse_taken_number(details.number)
    centre = Centre(**_as_dict(details))
    db.session.add(centre)
    db.session.flush()
    record_event(
        "centre.created", subject=centre, details={"number": centre.number, **_as_dict(details)}
    )
    followups.centres_changed([centre.country], [centre.number])
    return centre


def update_centre(centre: Centre, details: CentreDetails) -> dict[str, list]:
    """Apply new details; return and record what changed as {field: [before, after]}."""
    _refuse_taken_number(details.number, centre)
    changes = {}
    for field, value in _as_dict(details).items():
        before = getattr(centre, field)
        if before != value:
            changes[field] = [before, value]
            setattr(centre, field, value)
    if changes:
        db.session.flush()
        record_event(
            "centre.updated", subject=centre, details={"number": centre.number, "changes": changes}
        )
    if changes.keys() & CLOCK_FIELDS:
        followups.centres_changed(
            {centre.country, *changes.get("country", ())},
            {centre.number, *changes.get("number", ())},
        )
    return changes


def save_centre(
    centre: Centre, details: CentreDetails, *, read_version: int | None, restore: bool
) -> CentreSaved:
    """Save an edit of the centre's details form, read at `read_version`, restoring the
    centre too when Undo Delete was clicked before saving."""
    refuse_stale_edit(centre, read_version, f"Centre {centre.number}")
    changes = update_centre(centre, details)
    restored = restore and centre.is_deleted
    if restored:
        restore_centre(centre)
    return CentreSaved(changes, restored)


def soft_delete_centre(centre: Centre) -> None:
    """Flag the centre as deleted; nothing is removed, and restore_centre undoes it."""
    if centre.is_deleted:
        return
    centre.deleted_at = utcnow()
    db.session.flush()
    record_event("centre.deleted", subject=centre, details={"number": centre.number})
    notices.centre_deleted(centre.id)
    followups.centres_changed([centre.country], [centre.number])


def restore_centre(centre: Centre) -> None:
    if not centre.is_deleted:
        return
    centre.deleted_at = None
    db.session.flush()
    record_event("centre.restored", subject=centre, details={"number": centre.number})
    notices.centre_restored(centre.id)
    followups.centres_changed([centre.country], [centre.number])


def users_of_centre(centre: Centre) -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.centre_id == centre.id).order_by(User.email))
    )


def _as_dict(details: CentreDetails) -> dict:
    return {f.name: getattr(details, f.name) for f in fields(details)}
