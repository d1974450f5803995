"""Reports → Event Logs: every Event, newest first, filtered, paged by keyset, exported.

The names of the actions the code records are data here (`ACTIONS`): each has the
words the page shows and the kinds it is filtered under (`KINDS`). A test reads the
source for every action recorded and fails on one missing here, so no new action
is left out of the filters.

Pages are keyset pages on the events' id, newest first: a page is one query
(`id < before` or `id > after`, ORDER BY id, LIMIT size + 1), never OFFSET and never
a COUNT over the whole table, so the millionth event opens as fast as the first.
Reads only; the export's Event is recorded by the caller.
"""

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Centre, Event, Release, Resource, User
from app.services.centres.rules import NUMBER_PATTERN

PAGE_SIZE = 50
EXPORT_BATCH = 1_000
# Ids beyond what the events' id column holds read as "no such page".
ID_MAX = 2**63 - 1

# The kinds of action the page filters by, in the order of its list.
KINDS: dict[str, str] = {
    "sign-ins": "Sign-ins",
    "centres": "Centres",
    "users": "Users",
    "uploads": "Uploads and imports",
    "emails": "Emails",
    "resources": "Resources",
    "releases": "Releases",
    "downloads": "Downloads and exports",
    "key-times": "Key times and timetable",
    "settings": "Settings",
}


@dataclass(frozen=True)
class Action:
    label: str  # what the page says ("Centre deleted")
    kinds: tuple[str, ...]  # the KINDS it is listed under; the first is its own


# Every action the code records (the test tests/reports/test_event_logs_actions.py
# reads app/ for them), with its words and kinds.
ACTIONS: dict[str, Action] = {
    # Signing in and out, and the account links that sign a user in.
    "login.succeeded": Action("Signed in", ("sign-ins",)),
    "login.failed": Action("Sign-in refused", ("sign-ins",)),
    "logout": Action("Signed out", ("sign-ins",)),
    "account.activated": Action("Activated the account", ("sign-ins", "users")),
    "account.password_reset": Action("Reset the password", ("sign-ins", "users")),
    "account.activation_requested": Action("Asked for an activation email", ("sign-ins", "emails")),
    "account.reset_requested": Action("Asked for a password reset email", ("sign-ins", "emails")),
    "account.wrong_pin": Action("Wrong PIN entered", ("sign-ins", "users")),
    "account.pin_voided": Action("PIN voided after wrong tries", ("sign-ins", "users")),
    "staff.unlocked": Action("Staff account unlocked", ("users", "sign-ins")),
    # Centres.
    "centre.created": Action("Centre created", ("centres",)),
    "centre.updated": Action("Centre changed", ("centres",)),
    "centre.deleted": Action("Centre deleted", ("centres",)),
    "centre.restored": Action("Centre restored", ("centres",)),
    "centres.imported": Action("Centres file imported", ("centres", "uploads")),
    "centres.import_failed": Action("Centres file refused", ("centres", "uploads")),
    "centres.pins_downloaded": Action(
        "New users' PINs downloaded", ("centres", "users", "downloads")
    ),
    # Users.
    "user.created": Action("Centre user added", ("users",)),
    "user.pin_reset": Action("New PIN made", ("users",)),
    "user.deleted": Action("Centre user deleted", ("users",)),
    "staff.created": Action("Staff account created", ("users",)),
    "staff.invited": Action("Staff member invited", ("users", "emails")),
    "staff.role_changed": Action("Staff role changed", ("users",)),
    "staff.deleted": Action("Staff account deleted", ("users",)),
    # Uploads of files that change what is stored.
    "entries.uploaded": Action("Entries file uploaded", ("uploads", "key-times")),
    "key_times.uploaded": Action("Key times file uploaded", ("uploads", "key-times")),
    "timetable.uploaded": Action("Timetable file uploaded", ("uploads", "key-times")),
    "help_document.uploaded": Action("Help document uploaded", ("uploads", "settings")),
    # Emails.
    "email.queued": Action("Email queued", ("emails",)),
    "email.failed": Action("Email failed", ("emails",)),
    "email.retried": Action("Email sent again", ("emails",)),
    "email_template.test_sent": Action("Test email sent", ("emails", "settings")),
    "release.notices_queued": Action("Release notices queued", ("emails", "releases")),
    "release.notices_moved": Action("Release notices re-timed", ("emails", "releases")),
    "release.notices_withdrawn": Action("Release notices withdrawn", ("emails", "releases")),
    # Resources.
    "resource.uploaded": Action("Resource uploaded", ("resources", "uploads")),
    "resource.replaced": Action("Resource file replaced", ("resources", "uploads")),
    "resource.edited": Action("Resource details changed", ("resources",)),
    "resource.deleted": Action("Resource deleted", ("resources",)),
    "resource.restored": Action("Resource restored", ("resources",)),
    # Releases.
    "release.created": Action("Release saved", ("releases",)),
    "release.cancelled": Action("Release cancelled", ("releases",)),
    "release.centre_removed": Action("Centre removed from a release", ("releases", "centres")),
    "release.centres_added": Action("Centres added to a release", ("releases",)),
    "release.window_changed": Action("Release window changed", ("releases",)),
    "release.windows_moved": Action("Waiting windows moved", ("releases",)),
    "release.windows_kept": Action("Waiting windows kept", ("releases",)),
    # Key times, the timetable, and the errors worked out from them.
    "key_time.added": Action("Key time added", ("key-times",)),
    "key_time.saved": Action("Key time changed", ("key-times",)),
    "key_time.deleted": Action("Key time deleted", ("key-times",)),
    "key_times.copied": Action("Key times copied", ("key-times",)),
    "timetable.slot_deleted": Action("Timetable component deleted", ("key-times",)),
    "key_time_errors.checked": Action("Key Time Errors checked again", ("key-times",)),
    "entry_errors.rechecked": Action("Entry Errors checked again", ("key-times",)),
    "entry_error.dismissed": Action("Entry error dismissed", ("key-times",)),
    # The portal's settings and texts.
    "email_template.saved": Action("Email template saved", ("settings", "emails")),
    "email_template.restored": Action("Email template set back to default", ("settings", "emails")),
    "standard_message.saved": Action("Standard message saved", ("settings",)),
    # Reports, and the Event Logs themselves.
    "report.exported": Action("Report exported", ("downloads",)),
    "events.verified": Action("Event log chain checked", ("settings",)),
}

SIGN_INS = "sign-ins"


def action_label(action: str) -> str:
    """The words for an action; an action not (or no longer) listed shows its name."""
    known = ACTIONS.get(action)
    return known.label if known else action


def actions_of(kind: str) -> list[str]:
    return [name for name, action in ACTIONS.items() if kind in action.kinds]


# ---------------------------------------------------------------------------
# Filters


@dataclass(frozen=True)
class EventFilters:
    kind: str = ""  # a key of KINDS, or ""
    actor: str = ""  # an email address, lower case: the actor's, exactly
    subject: str = ""  # a centre number (upper case) or a user's email (lower case)
    date_from: date | None = None  # UTC dates, both inclusive
    date_to: date | None = None
    ip: str = ""  # an IP address, exactly

    @property
    def any(self) -> bool:
        return bool(
            self.kind or self.actor or self.subject or self.date_from or self.date_to or self.ip
        )

    @property
    def subject_is_email(self) -> bool:
        return "@" in self.subject

    def as_args(self) -> dict[str, str]:
        """The filters as the page's query string has them (only those set)."""
        values = {
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "ip": self.ip,
        }
        return {name: value for name, value in values.items() if value}


TEXT_MAX = 254  # the longest email address


def read_filters(args: Mapping[str, str]) -> tuple[EventFilters, dict[str, str], list]:
    """The filters from the query string, what the form shows again, and the problems
    as (field id, label, message). A kind not in the list is ignored; every other
    value that cannot be used is a problem, and the list is not shown until fixed."""
    errors: list[tuple[str, str, str]] = []

    def text(name: str) -> str:
        return (args.get(name) or "").strip()[: TEXT_MAX + 1]

    # (Control characters never get here: a hook refuses them in every query string.)
    shown = {name: text(name) for name in ("kind", "actor", "subject", "from", "to", "ip")}

    kind = shown["kind"] if shown["kind"] in KINDS else ""
    shown["kind"] = kind

    actor = shown["actor"].lower()
    if actor and (len(actor) > TEXT_MAX or not _looks_like_email(actor)):
        errors.append(
            (
                "actor",
                "Actor",
                "Enter the whole email address of the person who acted, e.g. "
                "admin@example.com: it is matched exactly.",
            )
        )

    subject = shown["subject"]
    if "@" in subject:
        subject = subject.lower()
        if len(subject) > TEXT_MAX or not _looks_like_email(subject):
            errors.append(
                ("subject", "Subject", "Enter a whole email address, e.g. exams@school.org.")
            )
    elif subject:
        subject = subject.upper()
        if not NUMBER_PATTERN.fullmatch(subject):
            errors.append(
                (
                    "subject",
                    "Subject",
                    "Enter a centre number (2 to 10 letters or digits, like GB123) or a "
                    "user's email address.",
                )
            )

    date_from = _date(shown["from"], "from", "From", errors)
    date_to = _date(shown["to"], "to", "To", errors)
    if date_from and date_to and date_to < date_from:
        errors.append(("to", "To", "The “to” date must be the same as or after the “from” date."))

    ip = shown["ip"]
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            errors.append(
                ("ip", "IP address", "Enter an IP address, e.g. 203.0.113.7 or 2001:db8::1.")
            )

    filters = EventFilters(kind, actor, subject, date_from, date_to, ip)
    return filters, shown, errors


def _looks_like_email(text: str) -> bool:
    local, _, domain = text.rpartition("@")
    return bool(local) and "." in domain and " " not in text


def _date(raw: str, field: str, label: str, errors: list) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append((field, label, f"{label}: enter a date, e.g. 2026-06-02."))
        return None
    if not date(2000, 1, 1) <= day <= date(2199, 12, 31):
        errors.append((field, label, f"{label}: enter a date between the years 2000 and 2199."))
        return None
    return day


def page_id(raw: str | None) -> int | None:
    """`before=` or `after=` as an event id; anything that is not one reads as none."""
    try:
        number = int(raw or "")
    except ValueError:
        return None
    return max(0, min(number, ID_MAX))


# ---------------------------------------------------------------------------
# The list


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    actor_id: int | None
    actor_email: str | None
    action: str
    subject_type: str | None
    subject_id: int | None
    details: dict
    ip: str | None
    # The subject as it is now, where it still exists (joined, not queried per row).
    centre_number: str | None
    user_email: str | None
    user_centre_id: int | None
    release_title: str | None
    resource_title: str | None

    @property
    def label(self) -> str:
        return action_label(self.action)

    @property
    def subject_exists(self) -> bool:
        return (
            self.centre_number is not None
            or self.user_email is not None
            or self.release_title is not None
            or self.resource_title is not None
        )

    @property
    def subject_label(self) -> str:
        return subject_label(self)

    @property
    def readable_details(self) -> list[tuple[str, str]]:
        return readable_details(self.details)


_SubjectCentre = aliased(Centre, name="subject_centre")
_SubjectUser = aliased(User, name="subject_user")
_SubjectRelease = aliased(Release, name="subject_release")
_SubjectResource = aliased(Resource, name="subject_resource")


def _with_subjects():
    """The events' columns, with their subjects' names: outer joins on primary keys,
    made only for the rows a page returns."""
    return (
        select(
            Event.id,
            Event.at,
            Event.actor_id,
            Event.actor_email,
            Event.action,
            Event.subject_type,
            Event.subject_id,
            Event.details,
            Event.ip,
            _SubjectCentre.number,
            _SubjectUser.email,
            _SubjectUser.centre_id,
            _SubjectRelease.title,
            _SubjectResource.title,
        )
        .outerjoin(
            _SubjectCentre,
            and_(Event.subject_type == "Centre", _SubjectCentre.id == Event.subject_id),
        )
        .outerjoin(
            _SubjectUser, and_(Event.subject_type == "User", _SubjectUser.id == Event.subject_id)
        )
        .outerjoin(
            _SubjectRelease,
            and_(Event.subject_type == "Release", _SubjectRelease.id == Event.subject_id),
        )
        .outerjoin(
            _SubjectResource,
            and_(Event.subject_type == "Resource", _SubjectResource.id == Event.subject_id),
        )
    )


def _window(filters: EventFilters, keyset: list, *, newest_first: bool, limit: int):
    """The first `limit` events matching `filters` and `keyset` (id < or > a bound), in
    id order: one statement.

    A kind is several actions, and `action IN (...) ORDER BY id` would sort every
    event of the kind (a million sign-ins) to return fifty. So each action is an arm
    of its own, `action = ? ... ORDER BY id LIMIT n`, reading at most n ids from the
    index (action, id); the arms' ids (n per action at most) are then merged.
    Indexes for the other filters: actor ix_events_actor (actor_email, id), ip
    ix_events_ip (ip, id), subject ix_events_subject (subject_type, subject_id, id),
    dates the index on at."""
    order = Event.id.desc() if newest_first else Event.id.asc()
    conditions = [*_conditions(filters), *keyset]
    if not filters.kind:
        return _with_subjects().where(*conditions).order_by(order).limit(limit)
    arms = [
        select(Event.id)
        .where(Event.action == action, *conditions)
        .order_by(order)
        .limit(limit)
        .subquery()
        for action in actions_of(filters.kind)
    ]
    ids = union_all(*[select(arm.c.id) for arm in arms]).subquery()
    return _with_subjects().where(Event.id.in_(select(ids.c.id))).order_by(order).limit(limit)


def _conditions(filters: EventFilters) -> list:
    """The conditions of every filter but the kind (see _window)."""
    conditions = []
    if filters.actor:
        conditions.append(Event.actor_email == filters.actor)
    if filters.subject and filters.subject_is_email:
        # The user with this address now: the events about them as a record.
        conditions.append(
            and_(
                Event.subject_type == "User",
                Event.subject_id.in_(select(User.id).where(User.email == filters.subject)),
            )
        )
    elif filters.subject:
        # The centre with this number, and its users as they are now.
        centre_ids = select(Centre.id).where(Centre.number == filters.subject)
        conditions.append(
            or_(
                and_(Event.subject_type == "Centre", Event.subject_id.in_(centre_ids)),
                and_(
                    Event.subject_type == "User",
                    Event.subject_id.in_(select(User.id).where(User.centre_id.in_(centre_ids))),
                ),
            )
        )
    if filters.date_from:
        conditions.append(Event.at >= datetime.combine(filters.date_from, time(), UTC))
    if filters.date_to:
        conditions.append(
            Event.at < datetime.combine(filters.date_to + timedelta(days=1), time(), UTC)
        )
    if filters.ip:
        conditions.append(Event.ip == filters.ip)
    return conditions


def _rows(query) -> list[EventRow]:
    return [EventRow(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    newest: bool  # the first page: nothing newer matches
    newer: int | None  # after=this for the page of newer events, when there are some
    older: int | None  # before=this for the page of older events, when there are some


def events_page(
    filters: EventFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of the matching events, newest first: the newest `size`, or those just
    older than event `before`, or just newer than event `after`. One query: a row more
    than the page is read to know whether there are more beyond it."""
    if before is None and after is not None:
        rows = _rows(_window(filters, [Event.id > after], newest_first=False, limit=size + 1))
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        return EventPage(
            rows,
            newest=False,
            newer=rows[0].id if more_newer else None,
            # The event `after` itself matched the page it came from: older ones exist.
            older=rows[-1].id if rows else None,
        )
    keyset = [Event.id < before] if before is not None else []
    rows = _rows(_window(filters, keyset, newest_first=True, limit=size + 1))
    more_older = len(rows) > size
    rows = rows[:size]
    return EventPage(
        rows,
        newest=before is None,
        newer=rows[0].id if before is not None and rows else None,
        older=rows[-1].id if more_older else None,
    )


def export_rows(filters: EventFilters, batch: int | None = None) -> Iterator[EventRow]:
    """Every matching event, newest first, read `batch` at a time by keyset. Events
    recorded while the export runs are newer than its first batch and left out."""
    batch = batch or EXPORT_BATCH
    last = None
    while True:
        keyset = [Event.id < last] if last is not None else []
        rows = _rows(_window(filters, keyset, newest_first=True, limit=batch))
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


EXPORT_HEADER = (
    "Event",
    "When (UTC)",
    "What",
    "Action",
    "Actor",
    "Subject type",
    "Subject id",
    "Subject",
    "IP address",
    "Details",
    "Details (JSON)",
)


def export_line(row: EventRow) -> tuple:
    return (
        row.id,
        row.at.strftime("%Y-%m-%d %H:%M:%S"),
        row.label,
        row.action,
        row.actor_email or "",
        row.subject_type or "",
        row.subject_id if row.subject_id is not None else "",
        row.subject_label if row.subject_type else "",
        row.ip or "",
        "; ".join(f"{label}: {text}" for label, text in readable_details(row.details)),
        json.dumps(row.details, ensure_ascii=False, sort_keys=True, default=str),
    )


def subject_missing_reason(filters: EventFilters) -> str | None:
    """Why a subject filter matches nothing, when that is because there is no such
    centre or user now (asked only when a filtered page is empty)."""
    if not filters.subject:
        return None
    if filters.subject_is_email:
        found = db.session.scalar(select(User.id).where(User.email == filters.subject))
        return None if found else f"No user has the address {filters.subject} now."
    found = db.session.scalar(select(Centre.id).where(Centre.number == filters.subject))
    return None if found else f"No centre has the number {filters.subject}."


# ---------------------------------------------------------------------------
# The subject and the details, in words

_SUBJECT_NAMES = {
    "Centre": "Centre",
    "User": "User",
    "Release": "Release",
    "Resource": "Resource",
    "ImportRun": "Centres import",
    "EntryUpload": "Entries upload",
    "EntryError": "Entry error",
    "OutboxMessage": "Email",
    "HelpDocument": "Help document",
    "KeyTime": "Key time",
    "TimetableSlot": "Timetable component",
}


def subject_label(row: EventRow) -> str:
    """The subject as the admin knows it: a centre's number, a user's address, a
    release's or resource's title (as they are now, else as the details recorded
    them), or its kind and id."""
    details = row.details if isinstance(row.details, dict) else {}
    kind = row.subject_type
    if kind is None:
        return ""
    if kind == "Centre" and (row.centre_number or details.get("number")):
        return f"Centre {row.centre_number or details['number']}"
    if kind == "User" and (row.user_email or details.get("email")):
        return str(row.user_email or details["email"])
    if kind == "Release" and (row.release_title or details.get("title")):
        return f"Release “{row.release_title or details['title']}”"
    if kind == "Resource" and (row.resource_title or details.get("title")):
        return f"Resource “{row.resource_title or details['title']}”"
    if kind == "KeyTime" and details.get("country"):
        zone = f" {details['timezone']}" if details.get("timezone") else ""
        return f"Key time {details['country']}{zone} {details.get('series', '')}".rstrip()
    return f"{_SUBJECT_NAMES.get(kind, kind)} #{row.subject_id}"


LIST_SHOWN = 10  # items of a list shown before "and N more"
TEXT_SHOWN = 200  # characters of a text shown before it is cut short
_KEY_WORDS = {
    "sha256": "SHA-256",
    "ip": "IP address",
    "am": "AM",
    "pm": "PM",
    "ev": "EV",
    "am_gmt": "AM (GMT)",
    "pm_gmt": "PM (GMT)",
    "ev_gmt": "EV (GMT)",
    "file_name": "File",
    "to": "To",
    "from": "From",
    "url": "URL",
    "pin": "PIN",
}
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z)?")
_NUMBERS_NOT_COUNTS = ("id", "message", "version", "year", "run", "upload", "size")


def humanise(key: str) -> str:
    """A details key as words: "file_name" → "File", "open_moved" → "Open moved"."""
    if key in _KEY_WORDS:
        return _KEY_WORDS[key]
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def readable_details(details: Any) -> list[tuple[str, str]]:
    """An Event's details as (label, text) pairs for the page: keys as words, values as
    plain text (never a repr), long lists and texts cut short with a count, and a
    change shown as "old → new" ({"changes": {field: [old, new]}}, or "before" and
    "after" side by side)."""
    if not isinstance(details, dict):
        return [] if details in (None, "", [], {}) else [("Details", _text(details))]
    items: list[tuple[str, str]] = []
    has_change = "before" in details and "after" in details
    for key, value in details.items():
        if has_change and key in ("before", "after"):
            if key == "before":
                items.extend(_difference(details["before"], details["after"]))
            continue
        if key == "changes" and isinstance(value, dict):
            for field, pair in value.items():
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    items.append((humanise(field), _arrow(pair[0], pair[1])))
                else:
                    items.append((humanise(field), _text(pair)))
            continue
        items.append((humanise(key), _text(value, key)))
    return items


def _difference(before: Any, after: Any) -> list[tuple[str, str]]:
    if isinstance(before, dict) and isinstance(after, dict):
        fields = list(dict.fromkeys([*before, *after]))
        changed = [f for f in fields if before.get(f) != after.get(f)]
        if not changed:
            return [("Change", "nothing changed")]
        return [(humanise(f), _arrow(before.get(f), after.get(f))) for f in changed]
    return [("Change", _arrow(before, after))]


def _arrow(old: Any, new: Any) -> str:
    return f"{_text(old)} → {_text(new)}"


def _text(value: Any, key: str = "") -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        counted = not any(part in key for part in _NUMBERS_NOT_COUNTS)
        return f"{value:,}" if counted else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return _short(_moment(value) if _ISO_MOMENT.fullmatch(value) else value or "(blank)")
    if isinstance(value, list | tuple):
        shown = [_text(item) for item in value[:LIST_SHOWN]]
        more = len(value) - LIST_SHOWN
        return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "") if shown else "none"
    if isinstance(value, dict):
        return _short("; ".join(f"{humanise(k)}: {_text(v, k)}" for k, v in value.items()))
    return _short(str(value))


def _moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%d %b %Y %H:%M} UTC"


def _short(text: str) -> str:
    if len(text) <= TEXT_SHOWN:
        return text
    return f"{text[:TEXT_SHOWN]}… ({len(text):,} characters in all)"


# ---------------------------------------------------------------------------
# The hash chain's last check


@dataclass(frozen=True)
class Verification:
    at: datetime
    checked: int
    whole: bool
    broken_at: int | None
    reason: str


VERIFIED = "events.verified"


def last_verification() -> Verification | None:
    """The newest `flask events verify`, from its Event (ix_events_action_at)."""
    event = db.session.scalar(
        select(Event)
        .where(Event.action == VERIFIED)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    details = event.details if isinstance(event.details, dict) else {}
    checked = details.get("checked")
    broken_at = details.get("broken_at")
    return Verification(
        at=event.at,
        checked=checked if isinstance(checked, int) else 0,
        whole=details.get("whole") is True,
        broken_at=broken_at if isinstance(broken_at, int) else None,
        reason=str(details.get("reason") or ""),
    )
