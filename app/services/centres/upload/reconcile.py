"""Reconciling the rows of a centres file with what the site holds: a pure function.

The seed's rules: a new centre number makes a centre; a stored centre gets its
name updated only (location differences are listed); a soft-deleted centre in
the file is listed, not restored; a new email makes a centre user with a PIN; a
never-activated user of a file centre who is not in the file for it is
replaced (removed); an activated one is listed under Delete Extra Users; an
email the file gives to two centres, or the site has elsewhere, is a Duplicated
User and is neither created nor moved; live centres missing from the file are
listed under Delete Missing Centres.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from app.services.centres.operations import CentreDetails
from app.services.centres.upload.reader import CentreRow, RowProblem


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
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """Whether applying the plan would change anything stored."""
        return bool(self.new_centres or self.renames or self.new_users or self.replaced_users)


def reconcile(rows: list[CentreRow], centres: list[StoredCentre], users: list[StoredUser]) -> Plan:
    plan = Plan(rows=len(rows))
    stored = {centre.number: centre for centre in centres}
    by_email = {user.email: user for user in users}

    first_rows: dict[str, CentreRow] = {}
    named: dict[str, str] = {}
    file_emails: dict[str, list[str]] = {}
    email_centres: dict[str, list[str]] = {}
    for row in rows:
        first_rows.setdefault(row.number, row)
        if row.name:
            named.setdefault(row.number, row.name)
        emails = file_emails.setdefault(row.number, [])
        if row.email is not None:
            emails.append(row.email)
            centres_of_email = email_centres.setdefault(row.email, [])
            if row.number not in centres_of_email:
                centres_of_email.append(row.number)

    for number, row in first_rows.items():
        centre = stored.get(number)
        if centre is None:
            if number not in named:
                plan.problems.append(
                    RowProblem(
                        row.row, "Centre Name", "", f"{number} is a new centre, so it needs a name"
                    )
                )
                continue
            plan.new_centres.append(
                CentreDetails(number, named[number], row.country, row.town, row.timezone, row.zone)
            )
        elif centre.deleted:
            plan.deleted_in_file.append(CentreOnSite(centre.id, number, centre.name))
        else:
            if number in named and named[number] != centre.name:
                plan.renames.append(
                    Rename(centre.id, number, centre.name, named[number], centre.town)
                )
            for column, saved, in_file in (
                ("Country", centre.country, row.country),
                ("Town", centre.town, row.town),
                ("Time Zone", centre.timezone, row.timezone),
                ("Zone", centre.zone, row.zone),
            ):
                if saved != in_file:
                    plan.location_differences.append(
                        LocationDifference(number, column, str(saved), str(in_file))
                    )

    # Users are not created for deleted centres, nor for new centres that cannot be made.
    skipped = {c.number for c in plan.deleted_in_file} | {
        number for number in first_rows if number not in stored and number not in named
    }
    duplicated = _duplicates(email_centres, by_email)
    plan.duplicated_users = list(duplicated.values())

    for email, numbers in email_centres.items():
        if email in duplicated or numbers[0] in skipped or email in by_email:
            continue
        plan.new_users.append(NewUser(email, numbers[0]))

    in_file = {number for number in first_rows if number in stored and not stored[number].deleted}
    for user in users:
        if user.role != "centre" or user.centre_number not in in_file:
            continue
        if user.email in file_emails[user.centre_number] or user.email in duplicated:
            continue
        if user.activated:
            plan.extra_users.append(
                UserOnSite(
                    user.id,
                    user.email,
                    user.centre_number,
                    spreadsheet_emails=tuple(file_emails[user.centre_number]),
                )
            )
        else:
            plan.replaced_users.append(UserOnSite(user.id, user.email, user.centre_number))

    plan.missing_centres = [
        CentreOnSite(c.id, c.number, c.name)
        for c in sorted(centres, key=lambda c: c.number)
        if not c.deleted and c.number not in first_rows
    ]
    return plan


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
