"""Reconciling the rows of a centres file with what the site holds: a pure function.

The seed's rules: a new centre number makes a centre; a stored centre gets its
name updated only (location differences are listed); a soft-deleted centre in
the file is listed, not restored; a new email makes a centre user with a PIN; a
never-activated user of a file centre who is not in the file for it is
replaced (removed); an activated one is listed under Delete Extra Users; an
email the file gives to two centres, or the site has elsewhere, is a Duplicated
User and is neither created nor moved; live centres missing from the file are
listed under Delete Missing Centres. A centre whose time zone is not one of
its country's is a warning, which the admin confirms.
"""

import hashlib
from dataclasses import astuple, dataclass, field
from datetime import datetime
from typing import NamedTuple

from app.services.centres.operations import CentreDetails
from app.services.centres.upload.reader import CentreRow, RowProblem
from app.services.geography import keeps_country_time


# What is stored, as named tuples: tens of thousands are made per upload, and a
# tuple is made several times faster than a dataclass.
class StoredCentre(NamedTuple):
    id: int
    number: str
    name: str
    country: str
    town: str
    timezone: str
    zone: int
    deleted: bool


class StoredUser(NamedTuple):
    id: int
    email: str
    role: str
    centre_number: str | None
    activated: bool


@dataclass(frozen=True)
class Rename:
    centre_id: int
    number: str
    old: str
    new: str
    town: str  # kept, for the centre's search key


@dataclass(frozen=True)
class LocationDifference:
    number: str
    column: str
    stored: str
    in_file: str


@dataclass(frozen=True)
class NewUser:
    email: str
    number: str


@dataclass(frozen=True)
class UserOnSite:
    id: int
    email: str
    number: str
    last_login_at: datetime | None = None  # filled in afterwards, for the report
    spreadsheet_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Place:
    number: str
    where: str  # "saved" or "spreadsheet"
    user_id: int | None = None  # the saved user, which an admin may delete


@dataclass(frozen=True)
class Duplicate:
    email: str
    places: tuple[Place, ...]


@dataclass(frozen=True)
class CentreOnSite:
    id: int
    number: str
    name: str


@dataclass(frozen=True)
class ZoneWarning:
    """A centre whose time zone is not one of its country's (a GB centre in Asia/Tokyo)."""

    row: int
    number: str
    country: str
    timezone: str


@dataclass
class Plan:
    rows: int = 0
    new_centres: list[CentreDetails] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    location_differences: list[LocationDifference] = field(default_factory=list)
    deleted_in_file: list[CentreOnSite] = field(default_factory=list)
    new_users: list[NewUser] = field(default_factory=list)
    replaced_users: list[UserOnSite] = field(default_factory=list)
    extra_users: list[UserOnSite] = field(default_factory=list)
    duplicated_users: list[Duplicate] = field(default_factory=list)
    missing_centres: list[CentreOnSite] = field(default_factory=list)
    zone_warnings: list[ZoneWarning] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """Whether applying the plan would change anything stored."""
        return bool(self.new_centres or self.renames or self.new_users or self.replaced_users)

    @property
    def needs_confirmation(self) -> bool:
        """Whether the admin must see the plan first: it removes users, renames
        centres, or gives a centre a time zone its country does not use."""
        return bool(self.replaced_users or self.renames or self.zone_warnings)

    def fingerprint(self) -> str:
        """A digest of what the preview shows: the same plan, the same digest."""
        shown = (
            len(self.new_centres),
            len(self.new_users),
            [(u.id, u.email, u.number) for u in self.replaced_users],
            [(r.centre_id, r.old, r.new) for r in self.renames],
            [astuple(w) for w in self.zone_warnings],
        )
        return hashlib.sha256(repr(shown).encode()).hexdigest()


@dataclass
class _FileCentres:
    """The file's rows gathered by centre: first row, name, emails."""

    first_rows: dict[str, CentreRow] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)
    emails: dict[str, list[str]] = field(default_factory=dict)  # number → its emails
    email_centres: dict[str, list[str]] = field(default_factory=dict)  # email → numbers

    @classmethod
    def of(cls, rows: list[CentreRow]) -> "_FileCentres":
        file = cls()
        for row in rows:
            file.first_rows.setdefault(row.number, row)
            if row.name:
                file.named.setdefault(row.number, row.name)
            emails = file.emails.setdefault(row.number, [])
            if row.email is not None:
                emails.append(row.email)
                centres_of_email = file.email_centres.setdefault(row.email, [])
                if row.number not in centres_of_email:
                    centres_of_email.append(row.number)
        return file

    def unnamed(self) -> dict[str, int]:
        return {n: row.row for n, row in self.first_rows.items() if n not in self.named}


def reconcile(rows: list[CentreRow], centres: list[StoredCentre], users: list[StoredUser]) -> Plan:
    """What an upload of `rows` would do to the stored centres and users, by the seed's rules."""
    plan = Plan(rows=len(rows))
    file = _FileCentres.of(rows)
    stored = {centre.number: centre for centre in centres}
    by_email = {user.email: user for user in users}
    plan.problems = unnamed_new_centres(file.unnamed(), stored)
    _plan_centres(plan, file, stored)
    plan.zone_warnings = zone_warnings(
        row for number, row in file.first_rows.items() if number not in stored
    )
    duplicated = _duplicates(file.email_centres, by_email)
    plan.duplicated_users = list(duplicated.values())
    plan.new_users = _new_users(plan, file, stored, duplicated, by_email)
    _plan_users_not_in_file(plan, file, stored, users, duplicated)
    plan.missing_centres = _missing_centres(centres, file)
    return plan


def unnamed_new_centres(unnamed: dict[str, int], stored) -> list[RowProblem]:
    """A centre that no row names must already be on the site: a new one needs a name.

    `unnamed` maps centre numbers to their first row; `stored`, anything that
    answers `number in stored`."""
    return [
        RowProblem(row, "Centre Name", "", f"{number} is a new centre, so it needs a name")
        for number, row in unnamed.items()
        if number not in stored
    ]


def zone_warnings(new_centre_rows) -> list[ZoneWarning]:
    """New centres whose time zone does not keep their country's time (a GB centre on
    Asia/Tokyo), by the same rule as the centre form. Only new ones: an upload never
    changes a stored centre's zone, so there is nothing to confirm about those."""
    return [
        ZoneWarning(row.row, row.number, row.country, row.timezone)
        for row in new_centre_rows
        if not keeps_country_time(row.timezone, row.country)
    ]


def _plan_centres(plan: Plan, file: _FileCentres, stored: dict[str, StoredCentre]) -> None:
    """New centres, renames, differences in location (listed, not applied), and
    deleted centres in the file (listed, not restored)."""
    for number, row in file.first_rows.items():
        centre = stored.get(number)
        if centre is None:
            if number in file.named:
                plan.new_centres.append(
                    CentreDetails(
                        number, file.named[number], row.country, row.town, row.timezone, row.zone
                    )
                )
        elif centre.deleted:
            plan.deleted_in_file.append(CentreOnSite(centre.id, number, centre.name))
        else:
            name = file.named.get(number)
            if name is not None and name != centre.name:
                plan.renames.append(Rename(centre.id, number, centre.name, name, centre.town))
            plan.location_differences.extend(_location_differences(centre, row))


def _location_differences(centre: StoredCentre, row: CentreRow) -> list[LocationDifference]:
    return [
        LocationDifference(centre.number, column, str(saved), str(in_file))
        for column, saved, in_file in (
            ("Country", centre.country, row.country),
            ("Town", centre.town, row.town),
            ("Time Zone", centre.timezone, row.timezone),
            ("Zone", centre.zone, row.zone),
        )
        if saved != in_file
    ]


def _new_users(plan, file, stored, duplicated, by_email) -> list[NewUser]:
    """The file's emails not yet on the site, each at its centre; none for deleted
    centres, new centres that cannot be made, or duplicated emails."""
    skipped = {c.number for c in plan.deleted_in_file} | {
        number for number in file.first_rows if number not in stored and number not in file.named
    }
    return [
        NewUser(email, numbers[0])
        for email, numbers in file.email_centres.items()
        if email not in duplicated and numbers[0] not in skipped and email not in by_email
    ]


def _plan_users_not_in_file(plan, file, stored, users, duplicated) -> None:
    """A file centre's users whom the file does not give it: never activated ones
    are replaced (removed), activated ones listed under Delete Extra Users."""
    in_file = {n for n in file.first_rows if n in stored and not stored[n].deleted}
    for user in users:
        if user.role != "centre" or user.centre_number not in in_file:
            continue
        emails = file.emails[user.centre_number]
        if user.email in emails or user.email in duplicated:
            continue
        if user.activated:
            plan.extra_users.append(
                UserOnSite(
                    user.id, user.email, user.centre_number, spreadsheet_emails=tuple(emails)
                )
            )
        else:
            plan.replaced_users.append(UserOnSite(user.id, user.email, user.centre_number))


def _missing_centres(centres: list[StoredCentre], file: _FileCentres) -> list[CentreOnSite]:
    """Live centres on the site that the file does not have."""
    return [
        CentreOnSite(c.id, c.number, c.name)
        for c in sorted(centres, key=lambda c: c.number)
        if not c.deleted and c.number not in file.first_rows
    ]


def _duplicates(email_centres: dict[str, list[str]], by_email: dict[str, StoredUser]):
    """Emails given to two centres by the file, or saved at another centre (or as staff)."""
    duplicates = {}
    for email, numbers in email_centres.items():
        saved = by_email.get(email)
        saved_elsewhere = saved is not None and (
            saved.role != "centre" or saved.centre_number not in numbers
        )
        if len(numbers) == 1 and not saved_elsewhere:
            continue
        places = [Place(number, "spreadsheet") for number in numbers]
        if saved is not None:
            where = "saved" if saved.role == "centre" else "staff account"
            places.insert(0, Place(saved.centre_number or "", where, saved.id))
        duplicates[email] = Duplicate(email, tuple(places))
    return duplicates
