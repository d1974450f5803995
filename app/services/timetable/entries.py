"""Entries: reading an entries workbook, reconciling it with what is stored, applying
it, and keeping Entry Errors until their cause is fixed.

An entries file is the complete list of (centre number, syllabus, component) for
one series. Uploading it enters what is new, withdraws stored entries it leaves
out, and changes nothing for the rest, so the same file twice changes nothing.
A row that cannot be entered does not stop the others: it becomes an Entry Error
that stays listed until its cause is fixed (`recheck_entry_errors`, called when
centres, key times or the timetable change), a later file replaces it, or an
admin dismisses it with a reason.

Written for 300,000 rows: each distinct cell value is cleaned once, what is
stored is loaded in one query of plain tuples, the difference is worked out with
dicts and sets, and the changes are made with bulk Core statements. Flushes,
never commits (the request commits once).
"""

import gc
import hashlib
import heapq
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from typing import NamedTuple

from sqlalchemy import String, bindparam, cast, func, insert, or_, select, text, tuple_, update
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.models import Centre, Entry, EntryError, EntryUpload, TimetableSlot
from app.models.timetable import ENTRY_ERROR_KINDS
from app.services.audit import record_event
from app.services.centres.rules import NUMBER_PATTERN
from app.services.clock import utcnow
from app.services.errors import DomainError
from app.services.resources.naming import series_label
from app.services.spreadsheets.reading import (
    FileProblem,
    RowProblem,
    cell_text,
    find_header,
    read_sheet,
)
from app.services.timetable.checks import KeyTimeTable, Problem, problem_or_times
from app.services.timetable.instants import local_time_before
from app.services.transactions import lock_entry_uploads, release_transaction

# How long before an exam's key time its release window opens: the board's default,
# used by every upload and re-check alike until releases (the next issue) give each
# window its own opening and make it a setting (RELEASE_DEFAULT_DAYS_BEFORE).
DEFAULT_WINDOW_LEAD = timedelta(days=3)
MAX_ROWS = 400_000
# Blank rows are skipped, but reading them costs time: the sheet may be at most this
# long, blank rows included (a hostile file can claim row 10^9).
MAX_SHEET_ROWS = MAX_ROWS + 100_000
PREVIEW_LISTED = 200  # withdrawals a preview lists
CHUNK = 500  # ids per UPDATE ... WHERE id IN (...)
SHOWN_MAX = 100  # characters of a cell an Entry Error keeps

# Header text (matched ignoring case and spacing) → field.
COLUMNS = {
    "centre number": "centre",
    "centre": "centre",
    "syllabus": "syllabus",
    "syllabus code": "syllabus",
    "component": "component",
}
REQUIRED = ("centre", "syllabus", "component")
TITLES = {"centre": "Centre Number", "syllabus": "Syllabus", "component": "Component"}
# Kinds whose cause can be fixed elsewhere (a centre added, the timetable corrected...).
RECHECKED = ("unknown-centre", "deleted-centre", "not-timetabled", "wrong-zone", "late-entry")
FIXED_BECAUSE = {
    "unknown-centre": "the centre was added",
    "deleted-centre": "the centre was restored",
    "not-timetabled": "the component was added to the timetable",
    "wrong-zone": "the centre's zone is now among the component's zones",
    "late-entry": "its release window is no longer open",
}
ERRORS_PER_PAGE = 50


# ---------------------------------------------------------------------------
# Reading


class RowError(NamedTuple):
    """An Entry Error to be: a row not entered (or a stored entry not withdrawn), and why."""

    kind: str
    row: int | None
    centre_number: str
    syllabus: str
    component: str
    detail: str
    entry_id: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.centre_number, self.syllabus, self.component)


@dataclass
class EntriesFile:
    """An entries workbook as read: its valid rows (each entry once) and the rest."""

    sheet_name: str = ""
    data_rows: int = 0
    rows: list[tuple[int, str, str, str]] = field(default_factory=list)  # row, centre, syl, comp
    errors: list[RowError] = field(default_factory=list)  # invalid and duplicate rows


def read_entries(content: bytes) -> EntriesFile:
    """Check the file is a safe one-sheet .xlsx and read its rows; FileProblem if not."""
    with _garbage_collector_paused():
        return read_sheet(content, "entries", _read_rows)


@contextmanager
def _garbage_collector_paused():
    """Reading makes millions of short-lived objects, all freed by reference counting;
    the cyclic collector would scan the heap again and again meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A cleaned cell: (value, or None when it is not valid; the cell as text, for the
# error; why it is not valid, or "").
Cleaned = tuple[str | None, str, str]


def _cell(value, title: str) -> tuple[str, str]:
    """The cell as trimmed text, and a problem ("" if none) as the shared reader sees it."""
    problems: list[RowProblem] = []
    shown = cell_text(value, 0, title, problems)
    if not shown.isprintable():  # tabs, line breaks: shown as spaces, never stored
        shown = "".join(ch if ch.isprintable() else " " for ch in shown)
    if problems:
        problem = problems[0]
        if problem.value.startswith("#"):
            return problem.value, f"holds the Excel error “{problem.value}”: correct the cell"
        return problem.value, f"holds a date or time (“{problem.value}”), not {_what(title)}"
    return shown, ""


def _what(title: str) -> str:
    return {
        "Centre Number": "a centre number",
        "Syllabus": "a syllabus code",
        "Component": "a component",
    }[title]


def _clean_centre(value) -> Cleaned:
    shown, problem = _cell(value, "Centre Number")
    if problem:
        return None, shown, problem
    if not shown:
        return None, "", "is blank"
    number = shown.upper()
    if not NUMBER_PATTERN.fullmatch(number):
        return None, shown, "is not a centre number (2 to 10 letters or digits, e.g. GB123)"
    return number, number, ""


def _number(value) -> int | None:
    """A number stored as a number, if it is a whole one."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _clean_syllabus(value) -> Cleaned:
    number = _number(value)
    if number is not None and 0 <= number <= 9999:
        code = f"{number:04d}"
        return code, code, ""
    shown, problem = _cell(value, "Syllabus")
    if problem:
        return None, shown, problem
    if not shown:
        return None, "", "is blank"
    if len(shown) == 4 and shown.isascii() and shown.isdigit():
        return shown, shown, ""
    return None, shown, "is not a syllabus code (4 digits, e.g. 0580)"


def _clean_component(value) -> Cleaned:
    number = _number(value)
    if number is not None and 1 <= number <= 99:
        code = f"{number:02d}"
        return code, code, ""
    shown, problem = _cell(value, "Component")
    if problem:
        return None, shown, problem
    if not shown:
        return None, "", "is blank"
    if len(shown) <= 2 and shown.isascii() and shown.isdigit() and int(shown):
        return shown.zfill(2), shown, ""  # "2" as the timetable reads it: 02
    return None, shown, "is not a component (2 digits, e.g. 22)"


def _cached(cache: dict, value, clean) -> Cleaned:
    # Keyed by type too where it matters: True == 1 == 1.0 as dict keys.
    key = value if type(value) is str else (type(value), value)
    found = cache.get(key)
    if found is None:
        found = cache[key] = clean(value)
    return found


def _read_rows(rows: Iterable[tuple[int, tuple, dict]], sheet_name: str) -> EntriesFile:
    """Every row under the header, written for speed: each distinct value of a column
    is cleaned once (a centre number repeats on each of its entries' rows)."""
    rows = iter(rows)
    header_row, columns = find_header(rows, COLUMNS, REQUIRED, TITLES, "entries", MAX_SHEET_ROWS)
    ci, si, pi = columns["centre"], columns["syllabus"], columns["component"]
    if hasattr(rows, "keep_columns"):
        rows.keep_columns(max(ci, si, pi) + 1)
    titles = {ci: TITLES["centre"], si: TITLES["syllabus"], pi: TITLES["component"]}
    result = EntriesFile(sheet_name=sheet_name)
    valid, errors = result.rows, result.errors
    centres: dict = {}
    syllabuses: dict = {}
    components: dict = {}
    seen: dict[tuple[str, str, str], int] = {}
    data_rows = 0
    for row_number, values, formulas in rows:
        if row_number > MAX_SHEET_ROWS:
            raise FileProblem(
                f"The sheet goes on past row {MAX_SHEET_ROWS:,} (blank rows included); an "
                f"entries file has at most {MAX_ROWS:,} rows. Delete the rows below the entries."
            )
        width = len(values)
        centre_value = values[ci] if ci < width else None
        syllabus_value = values[si] if si < width else None
        component_value = values[pi] if pi < width else None
        in_formulas = (
            {titles[c]: f for c, f in formulas.items() if c in titles} if formulas else None
        )
        if (
            centre_value is None
            and syllabus_value is None
            and component_value is None
            and not in_formulas
        ):
            continue
        centre = _cached(centres, centre_value, _clean_centre)
        syllabus = _cached(syllabuses, syllabus_value, _clean_syllabus)
        component = _cached(components, component_value, _clean_component)
        if not in_formulas and centre[0] and syllabus[0] and component[0]:
            key = (centre[0], syllabus[0], component[0])
            first = seen.get(key)
            if first is None:
                seen[key] = row_number
                valid.append((row_number, *key))
            else:
                errors.append(_duplicate(row_number, first, *key))
        elif in_formulas or centre[1] or syllabus[1] or component[1]:
            errors.append(_invalid(row_number, (centre, syllabus, component), in_formulas or {}))
        else:
            continue  # cells holding only spaces: a blank row
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise FileProblem(
                f"The sheet has more than {MAX_ROWS:,} rows of entries; the limit is {MAX_ROWS:,}."
            )
    result.data_rows = data_rows
    if data_rows == 0:
        raise FileProblem(f"The sheet has a header (row {header_row}) but no entries below it.")
    return result


def _duplicate(row: int, first: int, centre: str, syllabus: str, component: str) -> RowError:
    return RowError(
        "duplicate",
        row,
        centre,
        syllabus,
        component,
        f"Row {row} repeats row {first} ({centre}, {syllabus}/{component}): the entry is "
        "made once, from the first.",
    )


def _invalid(row: int, cells: tuple[Cleaned, ...], formulas: dict[str, str]) -> RowError:
    """One error for the row, naming every bad cell: its column, its value and why."""
    parts = []
    shown = []
    for (value, cell, problem), title in zip(cells, TITLES.values(), strict=True):
        formula = formulas.get(title)
        if formula is not None:
            parts.append(
                f"Column “{title}” holds the formula “{formula[:60]}”: paste values instead"
            )
            shown.append(formula[:SHOWN_MAX])
        elif problem == "is blank":
            parts.append(f"Column “{title}” is blank")
            shown.append("")
        elif problem.startswith("holds"):
            parts.append(f"Column “{title}” {problem}")
            shown.append(cell[:SHOWN_MAX])
        elif problem:
            parts.append(f"Column “{title}”: “{cell[:60]}” {problem}")
            shown.append(cell[:SHOWN_MAX])
        else:
            shown.append((value or "")[:SHOWN_MAX])
    return RowError("invalid", row, *shown, "; ".join(parts) + ".")


# ---------------------------------------------------------------------------
# Reconciling


class _Centre(NamedTuple):
    id: int
    number: str
    country: str
    timezone: str
    zone: str  # "3": as the timetable's zones hold it
    deleted: bool


class _Slot(NamedTuple):
    session: str
    exam_date: object
    minutes: int
    zones: str  # "45": zones 4 and 5; "": every zone


class Windows:
    """When an exam's release window opens for a centre, for deciding whether an entry
    may still be made or withdrawn.

    For now this is the default window: it opens `lead` (whole days) before the exam's
    key time in the centre's own local time (09:00 on Thursday → 09:00 on Monday, even
    across a clock change), worked out by the release clock. When the key time cannot
    be worked out (a Key Time Error), neither can the window: an upload may then enter
    and withdraw (no release can be timed for it yet), but a late entry refused earlier
    is not let in on that account (`known` says so). The next issue replaces this with
    the release's own authorisations (its opens_at for the centre and resource)."""

    def __init__(self, series: str, lead: timedelta, now: datetime | None = None) -> None:
        self.table = KeyTimeTable.of_series(series)
        self.lead = lead
        self.now = now or utcnow()
        self._opens: dict[tuple, datetime | None] = {}

    def _opening(self, country: str, timezone: str, slot: _Slot) -> datetime | None:
        key = (country, timezone, slot.session, slot.exam_date, slot.minutes)
        if key not in self._opens:
            found = problem_or_times(
                self.table,
                country,
                timezone,
                slot.session,
                slot.exam_date,
                timedelta(minutes=slot.minutes),
            )
            # A suspect key time (a published GMT time disagrees) still has an instant.
            times = found.times if isinstance(found, Problem) else found
            self._opens[key] = (
                None if times is None else local_days_before(times.key, timezone, self.lead)
            )
        return self._opens[key]

    def known(self, country: str, timezone: str, slot: _Slot) -> bool:
        """Whether this centre's window for the slot can be worked out at all."""
        return self._opening(country, timezone, slot) is not None

    def opened(self, country: str, timezone: str, slot: _Slot) -> datetime | None:
        """When the window opened, if it has; None if it has not (or cannot be said)."""
        opens = self._opening(country, timezone, slot)
        return opens if opens is not None and opens <= self.now else None


def local_days_before(key: datetime, timezone: str, lead: timedelta) -> datetime:
    """`lead` (whole days) before `key` on the centre's clocks (see local_time_before)."""
    return local_time_before(key, timezone, days=lead.days)


@dataclass
class Plan:
    """What uploading a file would do to a series' entries. Nothing is written."""

    series: str
    rows: int = 0
    add: list[tuple[int, str, str]] = field(default_factory=list)  # centre id, syl, comp
    reenter: list[int] = field(default_factory=list)  # withdrawn entries listed again
    withdraw: list[tuple[int, str, str, str]] = field(default_factory=list)  # id, centre...
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def added(self) -> int:
        return len(self.add) + len(self.reenter)

    @property
    def withdrawn(self) -> int:
        return len(self.withdraw)

    @property
    def needs_confirmation(self) -> bool:
        """Withdrawals are a bulk removal: the admin sees them first."""
        return bool(self.withdraw)

    @property
    def changes_nothing(self) -> bool:
        return not (self.add or self.reenter or self.withdraw)

    def errors_by_kind(self) -> list[tuple[str, str, int]]:
        counts = Counter(error.kind for error in self.errors)
        return [
            (kind, name, counts[kind]) for kind, name in ENTRY_ERROR_KINDS.items() if counts[kind]
        ]

    def fingerprint(self) -> str:
        """Changes when anything the upload would do changes (for Confirm to compare)."""
        digest = hashlib.sha256(self.series.encode())
        digest.update(repr(self.add).encode())
        digest.update(repr(self.reenter).encode())
        digest.update(repr([entry_id for entry_id, *_ in self.withdraw]).encode())
        digest.update(
            repr(
                [
                    (e.kind, e.row, e.centre_number, e.syllabus, e.component, e.entry_id)
                    for e in self.errors
                ]
            ).encode()
        )
        return digest.hexdigest()


def _load_centres() -> dict[str, _Centre]:
    rows = db.session.execute(
        select(
            Centre.id,
            Centre.number,
            Centre.country,
            Centre.timezone,
            Centre.zone,
            Centre.deleted_at.is_not(None),
        )
    )
    return {
        number: _Centre(id_, number, country, tz, str(zone), bool(deleted))
        for id_, number, country, tz, zone, deleted in rows
    }


def _load_slots(series: str) -> dict[tuple[str, str], _Slot]:
    rows = db.session.execute(
        select(
            TimetableSlot.syllabus,
            TimetableSlot.component,
            TimetableSlot.session,
            TimetableSlot.exam_date,
            TimetableSlot.duration_minutes,
            TimetableSlot.zones,
        ).where(TimetableSlot.series == series)
    )
    return {
        (s, c): _Slot(session, day, minutes, zones or "")
        for s, c, session, day, minutes, zones in rows
    }


def _load_entries(series: str) -> dict[tuple[int, str, str], tuple[int, bool]]:
    """Every stored entry of the series, withdrawn ones too: (centre id, syllabus,
    component) → (id, live). One query of plain values."""
    rows = db.session.execute(
        text(
            "SELECT id, centre_id, syllabus, component, withdrawn_at IS NULL "
            "FROM entries WHERE series = :series ORDER BY id"
        ),
        {"series": series},
    )
    return {(centre, syl, comp): (id_, bool(live)) for id_, centre, syl, comp, live in rows}


def _when(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y at %H:%M} UTC"


def _zones_text(zones: str) -> str:
    listed = ", ".join(zones)
    return f"zone {listed}" if len(zones) == 1 else f"zones {listed}"


def _row_problem(
    number: str,
    centre: _Centre | None,
    slot: _Slot | None,
    syllabus: str,
    component: str,
    series: str,
) -> tuple[str, str] | None:
    """Why a valid row cannot be entered now, window apart: (kind, detail), or None."""
    code = f"{syllabus}/{component}"
    if centre is None:
        return "unknown-centre", f"There is no centre {number} on the portal."
    if centre.deleted:
        return (
            "deleted-centre",
            f"Centre {number} is deleted: restore it on its details page to enter it.",
        )
    if slot is None:
        return "not-timetabled", f"{code} is not in the timetable for {series_label(series)}."
    if slot.zones and centre.zone not in slot.zones:
        sat_in = _zones_text(slot.zones)
        return "wrong-zone", f"Centre {number} is in zone {centre.zone}; {code} is sat in {sat_in}."
    return None


def _late_entry(number: str, syllabus: str, component: str, opened: datetime) -> str:
    return (
        f"The release window of {syllabus}/{component} for centre {number} opened on "
        f"{_when(opened)}, so the new entry was not made."
    )


def _late_withdrawal(number: str, syllabus: str, component: str, opened: datetime) -> str:
    return (
        f"The file leaves out {syllabus}/{component} for centre {number}, but its release "
        f"window opened on {_when(opened)}, so the entry was kept, not withdrawn."
    )


KEPT = " The entry made earlier is kept."
# An entry a later change made wrong (flag_live_entries).
LIVE_KEPT = (
    " The entry made earlier is kept: withdraw it with the next entries file, or fix the cause."
)


def reconcile(file: EntriesFile, series: str, lead: timedelta = DEFAULT_WINDOW_LEAD) -> Plan:
    """What the file would do to the stored entries of `series` (see the module)."""
    centres = _load_centres()
    slots = _load_slots(series)
    stored = _load_entries(series)
    windows = Windows(series, lead)
    plan = Plan(series, rows=file.data_rows, errors=list(file.errors))
    errors, add, reenter = plan.errors, plan.add, plan.reenter
    listed: set[int] = set()
    unchanged = 0
    for row, number, syllabus, component in file.rows:
        centre = centres.get(number)
        slot = slots.get((syllabus, component))
        found = None
        if centre is not None:
            key = (centre.id, syllabus, component)
            found = stored.get(key)
            live = found is not None and found[1]
            if live:
                listed.add(found[0])
            if (
                not centre.deleted
                and slot is not None
                and (not slot.zones or centre.zone in slot.zones)
            ):
                if live:
                    unchanged += 1
                    continue
                opened = windows.opened(centre.country, centre.timezone, slot)
                if opened is not None:
                    detail = _late_entry(number, syllabus, component, opened)
                    errors.append(RowError("late-entry", row, number, syllabus, component, detail))
                elif found is not None:
                    reenter.append(found[0])
                else:
                    add.append(key)
                continue
        kind, detail = _row_problem(number, centre, slot, syllabus, component, series)
        if found is not None and found[1]:
            detail += KEPT
        errors.append(RowError(kind, row, number, syllabus, component, detail))
    plan.unchanged = unchanged
    by_id = {centre.id: centre for centre in centres.values()}
    for (centre_id, syllabus, component), (entry_id, live) in stored.items():
        if not live or entry_id in listed:
            continue
        centre = by_id.get(centre_id)
        slot = slots.get((syllabus, component))
        opened = None
        if centre is not None and not centre.deleted and slot is not None:
            opened = windows.opened(centre.country, centre.timezone, slot)
        number = centre.number if centre is not None else ""
        if opened is None:
            plan.withdraw.append((entry_id, number, syllabus, component))
        else:
            detail = _late_withdrawal(number, syllabus, component, opened)
            errors.append(
                RowError("late-withdrawal", None, number, syllabus, component, detail, entry_id)
            )
    return plan


# ---------------------------------------------------------------------------
# Uploading and applying


@dataclass
class Preview:
    """An upload that waits for the admin's Confirm: what it would do."""

    file_name: str
    plan: Plan
    # The stored entries (or centres, timetable...) changed after the admin saw the
    # plan they confirmed: this is the new one.
    changed: bool = False

    @property
    def fingerprint(self) -> str:
        return self.plan.fingerprint()

    @property
    def listed_withdrawals(self) -> list[tuple[int, str, str, str]]:
        """The first of the withdrawals by centre number and component."""
        return heapq.nsmallest(PREVIEW_LISTED, self.plan.withdraw, key=lambda w: (w[1], w[2], w[3]))


def upload_entries(
    content: bytes,
    file_name: str,
    series: str,
    *,
    actor_id: int | None,
    lead: timedelta = DEFAULT_WINDOW_LEAD,
    confirmed: str | None = None,
) -> EntryUpload | Preview:
    """Read an entries file for `series`, reconcile it, and apply it; or return a Preview
    when it would withdraw entries (or, on Confirm, when the plan is no longer the one
    the admin saw: `confirmed` is that plan's fingerprint).

    The file is read outside any transaction; planning and applying hold the write
    lock, so nothing changes in between. A file-level problem raises FileProblem and
    changes nothing. Flushes: the caller commits."""
    started = time.perf_counter()
    release_transaction()
    entries_file = read_entries(content)
    lock_entry_uploads()
    with _garbage_collector_paused():
        plan = reconcile(entries_file, series, lead)
        if confirmed is not None and plan.fingerprint() != confirmed:
            return Preview(file_name, plan, changed=True)
        if confirmed is None and plan.needs_confirmation:
            return Preview(file_name, plan)
        return apply_plan(plan, file_name, actor_id, started)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


ENTRIES = Entry.__table__
ERRORS = EntryError.__table__


def apply_plan(
    plan: Plan, file_name: str, actor_id: int | None, started: float | None = None
) -> EntryUpload:
    """Make the plan's changes with bulk statements and keep its EntryUpload."""
    started = time.perf_counter() if started is None else started
    now = utcnow()
    upload = EntryUpload(
        series=plan.series,
        file_name=file_name[:255],
        actor_id=actor_id,
        at=now,
        rows=plan.rows,
        added=plan.added,
        withdrawn=plan.withdrawn,
        unchanged=plan.unchanged,
        errors=len(plan.errors),
    )
    db.session.add(upload)
    db.session.flush()
    series, upload_id = plan.series, upload.id
    if plan.add:
        db.session.execute(
            insert(ENTRIES),
            [
                {
                    "series": series,
                    "centre_id": centre_id,
                    "syllabus": syllabus,
                    "component": component,
                    "entered_at": now,
                    "upload_id": upload_id,
                }
                for centre_id, syllabus, component in plan.add
            ],
        )
    for ids in _chunks(plan.reenter):
        db.session.execute(
            update(ENTRIES)
            .where(ENTRIES.c.id.in_(ids))
            .values(withdrawn_at=None, withdrawn_upload_id=None)
        )
    for ids in _chunks([entry_id for entry_id, *_ in plan.withdraw]):
        db.session.execute(
            update(ENTRIES)
            .where(ENTRIES.c.id.in_(ids))
            .values(withdrawn_at=now, withdrawn_upload_id=upload_id)
        )
    _replace_errors(plan, upload, now)
    upload.seconds = round(time.perf_counter() - started, 3)
    record_event(
        "entries.uploaded",
        subject=upload,
        details={
            "series": series,
            "file": upload.file_name,
            "rows": plan.rows,
            "added": plan.added,
            "withdrawn": plan.withdrawn,
            "unchanged": plan.unchanged,
            "errors": len(plan.errors),
        },
    )
    db.session.flush()
    if not plan.changes_nothing:
        from app.services.timetable import followups  # followups imports this module

        followups.entries_changed(series)
    return upload


def _replace_errors(plan: Plan, upload: EntryUpload, now: datetime) -> None:
    """The file is the complete list: its errors replace the series' earlier ones.

    An earlier error (open, or dismissed) that the file has again (the same kind,
    centre, syllabus and component) is kept as it is, first seen when it was and
    dismissed if it was, and now points at this upload's row: so uploading a file
    again lists nothing twice and undoes no dismissal. Earlier errors the file does
    not have are resolved, superseded by this upload; the new ones are added."""
    earlier = db.session.execute(
        select(
            EntryError.id,
            EntryError.kind,
            EntryError.centre_number,
            EntryError.syllabus,
            EntryError.component,
            EntryError.row,
            EntryError.detail,
            EntryError.entry_id,
        )
        .where(EntryError.series == plan.series, EntryError.resolved_at.is_(None))
        .order_by(EntryError.row, EntryError.id)
    ).all()
    same: dict[tuple, deque] = {}
    for old in earlier:
        same.setdefault(tuple(old[1:5]), deque()).append(old)
    new_rows, kept = [], []
    for error in plan.errors:
        olds = same.get(error.key)
        if olds:
            old = olds.popleft()
            kept.append(
                {
                    "_id": old.id,
                    "_upload": upload.id,
                    "_row": error.row,
                    "_detail": error.detail,
                    "_entry": error.entry_id,
                }
            )
            continue
        new_rows.append(
            {
                "series": plan.series,
                "kind": error.kind,
                "upload_id": upload.id,
                "row": error.row,
                "centre_number": error.centre_number,
                "syllabus": error.syllabus,
                "component": error.component,
                "entry_id": error.entry_id,
                "detail": error.detail,
                "created_at": now,
                "resolved_at": None,
                "resolution": "",
                "dismissed_at": None,
                "dismissed_by_id": None,
                "dismiss_reason": "",
            }
        )
    gone = [old.id for olds in same.values() for old in olds]
    resolution = f"Superseded by upload {upload.id}: its file does not have this error."
    for ids in _chunks(gone):
        db.session.execute(
            update(ERRORS)
            .where(ERRORS.c.id.in_(ids))
            .values(resolved_at=now, resolution=resolution)
        )
    if kept:
        db.session.execute(
            update(ERRORS)
            .where(ERRORS.c.id == bindparam("_id"))
            .values(
                upload_id=bindparam("_upload"),
                row=bindparam("_row"),
                detail=bindparam("_detail"),
                entry_id=bindparam("_entry"),
            ),
            kept,
        )
    if new_rows:
        db.session.execute(insert(ERRORS), new_rows)


# ---------------------------------------------------------------------------
# Entries that a later change makes wrong


def flag_live_entries(
    series: str | None = None, centre_numbers: Iterable[str] | None = None
) -> int:
    """Make an Entry Error for each live entry (of `series`, of `centre_numbers`) that
    a change since it was made has put wrong: its centre deleted, its component gone
    from the timetable, or the centre's zone no longer among the component's. The
    entry is kept (withdrawing is the entries file's business); the error says so,
    and the re-check resolves it once the cause is fixed. Returns how many were made.

    One query finds them (the database compares, not Python), so a timetable upload
    of a 300,000-entry series costs one scan."""
    slot = TimetableSlot
    centre_zone = cast(Centre.zone, String)
    query = (
        select(
            Entry.id,
            Entry.series,
            Entry.syllabus,
            Entry.component,
            Centre.number,
            Centre.zone,
            Centre.deleted_at.is_not(None),
            slot.id,
            slot.zones,
        )
        .join(Centre, Centre.id == Entry.centre_id)
        .outerjoin(
            slot,
            (slot.series == Entry.series)
            & (slot.syllabus == Entry.syllabus)
            & (slot.component == Entry.component),
        )
        .where(
            Entry.withdrawn_at.is_(None),
            or_(
                Centre.deleted_at.is_not(None),
                slot.id.is_(None),
                (slot.zones != "") & ~slot.zones.contains(centre_zone),
            ),
        )
    )
    if series is not None:
        query = query.where(Entry.series == series)
    if centre_numbers is not None:
        numbers = sorted({number.upper() for number in centre_numbers})
        if not numbers:
            return 0
        query = query.where(Centre.number.in_(numbers))
    found = db.session.execute(query).all()
    if not found:
        return 0
    open_keys = set(
        db.session.execute(
            select(
                EntryError.series,
                EntryError.kind,
                EntryError.centre_number,
                EntryError.syllabus,
                EntryError.component,
            ).where(
                # Dismissed ones count as listed: a dismissal is never undone.
                EntryError.resolved_at.is_(None),
                EntryError.series.in_({row[1] for row in found}),
            )
        ).all()
    )
    now = utcnow()
    made = []
    for (
        entry_id,
        entry_series,
        syllabus,
        component,
        number,
        zone_,
        deleted,
        slot_id,
        zones,
    ) in found:
        centre = _Centre(0, number, "", "", str(zone_), deleted)
        wrong = _row_problem(
            number,
            centre,
            _Slot("", None, 0, zones) if slot_id is not None else None,
            syllabus,
            component,
            entry_series,
        )
        if wrong is None or (entry_series, wrong[0], number, syllabus, component) in open_keys:
            continue
        made.append(
            {
                "series": entry_series,
                "kind": wrong[0],
                "upload_id": None,
                "row": None,
                "centre_number": number,
                "syllabus": syllabus,
                "component": component,
                "entry_id": entry_id,
                "detail": wrong[1] + LIVE_KEPT,
                "created_at": now,
                "resolved_at": None,
                "resolution": "",
                "dismissed_at": None,
                "dismissed_by_id": None,
                "dismiss_reason": "",
            }
        )
    if made:
        db.session.execute(insert(ERRORS), made)
    return len(made)


# ---------------------------------------------------------------------------
# Rechecking


@dataclass
class Rechecked:
    entered: int = 0  # rows entered now that their cause is fixed
    resolved: int = 0  # errors resolved (those entered included)
    changed: int = 0  # errors whose cause is now another


def recheck_entry_errors(
    series: str | None = None,
    centre_numbers: Iterable[str] | None = None,
    lead: timedelta = DEFAULT_WINDOW_LEAD,
) -> Rechecked:
    """Check the open Entry Errors whose cause can be fixed elsewhere again (of `series`,
    or every series; of `centre_numbers`, or every centre): a row whose cause is fixed
    is entered now and its error resolved; one with another cause now says so.

    A late withdrawal stays open until dismissed or replaced by a later file, unless
    the entry has been withdrawn meanwhile. Flushes, never commits."""
    query = select(EntryError).where(
        EntryError.resolved_at.is_(None),
        EntryError.dismissed_at.is_(None),
        EntryError.kind.in_((*RECHECKED, "late-withdrawal")),
    )
    if series is not None:
        query = query.where(EntryError.series == series)
    if centre_numbers is not None:
        numbers = sorted({number.upper() for number in centre_numbers})
        if not numbers:
            return Rechecked()
        query = query.where(EntryError.centre_number.in_(numbers))
    errors = db.session.scalars(query.order_by(EntryError.id)).all()
    done = Rechecked()
    if not errors:
        return done
    now = utcnow()
    centres = _centres_numbered({error.centre_number for error in errors})
    stored = _entries_of(errors, centres)
    slots: dict[str, dict] = {}
    windows: dict[str, Windows] = {}
    entered: list[dict] = []
    resolved: list[tuple[EntryError, str]] = []
    new_entries: list[dict] = []
    reentered: list[int] = []
    for error in errors:
        if error.kind == "late-withdrawal":
            entry = stored.get(error.entry_id)
            if entry is None or entry.withdrawn_at is not None:
                resolved.append((error, f"Resolved on {_day(now)}: the entry has been withdrawn."))
                done.resolved += 1
            continue
        if error.series not in slots:
            slots[error.series] = _load_slots(error.series)
            windows[error.series] = Windows(error.series, lead, now)
        centre = centres.get(error.centre_number)
        slot = slots[error.series].get((error.syllabus, error.component))
        args = (error.centre_number, centre, slot, error.syllabus, error.component, error.series)
        problem = _row_problem(*args)
        entry = None
        if problem is None:
            entry = stored.get((error.series, centre.id, error.syllabus, error.component))
            if entry is None or entry.withdrawn_at is not None:
                window = windows[error.series]
                if error.kind == "late-entry" and not window.known(
                    centre.country, centre.timezone, slot
                ):
                    continue  # late when refused; nothing says the window has closed since
                opened = window.opened(centre.country, centre.timezone, slot)
                if opened is not None:
                    problem = (
                        "late-entry",
                        _late_entry(error.centre_number, error.syllabus, error.component, opened),
                    )
        if problem is not None:
            # The same cause keeps its words (an upload's or flag_live_entries' ending).
            if error.kind != problem[0] or not error.detail.startswith(problem[1]):
                error.kind, error.detail = (
                    problem[0],
                    problem[1] + (LIVE_KEPT if error.entry_id and error.upload_id is None else ""),
                )
                done.changed += 1
            continue
        because = FIXED_BECAUSE[error.kind]
        if entry is not None and entry.withdrawn_at is None:
            resolved.append(
                (error, f"Resolved on {_day(now)}: {because}; the entry was already made.")
            )
        else:
            if entry is None:
                new_entries.append(
                    {
                        "series": error.series,
                        "centre_id": centre.id,
                        "syllabus": error.syllabus,
                        "component": error.component,
                        "entered_at": now,
                        "upload_id": error.upload_id,
                    }
                )
            else:
                reentered.append(entry.id)
            resolved.append((error, f"Entered on {_day(now)}: {because}."))
            done.entered += 1
            entered.append(
                {
                    "series": error.series,
                    "centre": error.centre_number,
                    "component": f"{error.syllabus}/{error.component}",
                }
            )
        done.resolved += 1
    db.session.flush()  # the errors whose cause changed
    _write_recheck(now, resolved, new_entries, reentered)
    if done.resolved or done.changed:
        record_event(
            "entry_errors.rechecked",
            details={
                "entered": done.entered,
                "resolved": done.resolved,
                "changed": done.changed,
                "entries": entered[:50],
            },
        )
    if entered:
        from app.services.timetable.checks import refresh_key_time_errors

        for touched in sorted({item["series"] for item in entered}):
            refresh_key_time_errors(touched)
    return done


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _write_recheck(now: datetime, resolved: list, new_entries: list, reentered: list) -> None:
    """What a re-check decided, in a few bulk statements (not one per error)."""
    if new_entries:
        db.session.execute(insert(Entry.__table__), new_entries)
    for ids in _chunks(reentered):
        db.session.execute(
            update(Entry.__table__)
            .where(Entry.__table__.c.id.in_(ids))
            .values(withdrawn_at=None, withdrawn_upload_id=None)
        )
    if resolved:
        db.session.execute(
            update(ERRORS)
            .where(ERRORS.c.id == bindparam("_id"))
            .values(
                resolved_at=bindparam("_at", type_=ERRORS.c.resolved_at.type),
                resolution=bindparam("_text"),
            ),
            [{"_id": error.id, "_at": now, "_text": text} for error, text in resolved],
        )
    for error, _text in resolved:
        db.session.expire(error)  # written by Core: read again if asked
    for entry_id in reentered:
        if (entry := db.session.identity_map.get(identity_key(Entry, entry_id))) is not None:
            db.session.expire(entry)


def _centres_numbered(numbers: set[str]) -> dict[str, _Centre]:
    found: dict[str, _Centre] = {}
    listed = sorted(numbers)
    for start in range(0, len(listed), CHUNK):
        rows = db.session.execute(
            select(
                Centre.id,
                Centre.number,
                Centre.country,
                Centre.timezone,
                Centre.zone,
                Centre.deleted_at.is_not(None),
            ).where(Centre.number.in_(listed[start : start + CHUNK]))
        )
        for id_, number, country, tz, admin_zone, deleted in rows:
            found[number] = _Centre(id_, number, country, tz, str(admin_zone), bool(deleted))
    return found


def _entries_of(errors: list[EntryError], centres: dict[str, _Centre]) -> dict:
    """The stored entries the errors are about, loaded at once: by id (late
    withdrawals) and by (series, centre id, syllabus, component) — those only, not
    every entry of their centres."""
    ids = sorted({error.entry_id for error in errors if error.entry_id})
    keys = sorted(
        {
            (error.series, centres[error.centre_number].id, error.syllabus, error.component)
            for error in errors
            if error.centre_number in centres
        }
    )
    found: dict = {}
    plain = select(Entry).options(lazyload(Entry.centre))
    for start in range(0, len(ids), CHUNK):
        for entry in db.session.scalars(plain.where(Entry.id.in_(ids[start : start + CHUNK]))):
            found[entry.id] = entry
    key = tuple_(Entry.series, Entry.centre_id, Entry.syllabus, Entry.component)
    for start in range(0, len(keys), CHUNK):
        for entry in db.session.scalars(plain.where(key.in_(keys[start : start + CHUNK]))):
            found[(entry.series, entry.centre_id, entry.syllabus, entry.component)] = entry
    return found


# ---------------------------------------------------------------------------
# Pages: the Entry Errors list, the uploads and their reports


def open_entry_errors() -> int:
    """How many Entry Errors are open (for the menu and Home)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(EntryError)
            .where(EntryError.resolved_at.is_(None), EntryError.dismissed_at.is_(None))
        )
        or 0
    )


@dataclass(frozen=True)
class ErrorFilters:
    series: str = ""
    kind: str = ""
    centre: str = ""
    upload: int | None = None
    closed: bool = False  # dismissed and resolved ones instead of open ones

    @property
    def any(self) -> bool:
        return bool(self.series or self.kind or self.centre or self.upload)


@dataclass
class ErrorPage:
    rows: list[EntryError]
    total: int
    number: int
    per_page: int
    centre_ids: dict[str, int]  # centre number → id, for those that exist
    hidden: int = 0  # with the same filters, how many are on the other list

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def _filtered(query, filters: ErrorFilters):
    if filters.series:
        query = query.where(EntryError.series == filters.series)
    if filters.kind:
        query = query.where(EntryError.kind == filters.kind)
    if filters.centre:
        query = query.where(
            EntryError.centre_number.startswith(filters.centre.strip().upper(), autoescape=True)
        )
    if filters.upload is not None:
        query = query.where(EntryError.upload_id == filters.upload)
    return query


OPEN = (EntryError.resolved_at.is_(None), EntryError.dismissed_at.is_(None))
CLOSED = or_(EntryError.resolved_at.is_not(None), EntryError.dismissed_at.is_not(None))


def search_entry_errors(
    filters: ErrorFilters, page: int = 1, per_page: int = ERRORS_PER_PAGE
) -> ErrorPage:
    """One page of the open (or the dismissed and resolved) Entry Errors that match."""
    state = (CLOSED,) if filters.closed else OPEN
    other = OPEN if filters.closed else (CLOSED,)
    count = select(func.count()).select_from(EntryError)
    total = db.session.scalar(_filtered(count.where(*state), filters)) or 0
    hidden = db.session.scalar(_filtered(count.where(*other), filters)) or 0
    pages = max(1, ceil(total / per_page))
    number = min(max(page, 1), pages)
    order = (
        (
            func.coalesce(EntryError.resolved_at, EntryError.dismissed_at).desc(),
            EntryError.id.desc(),
        )
        if filters.closed
        else (
            EntryError.series.desc(),
            EntryError.kind,
            EntryError.centre_number,
            EntryError.syllabus,
            EntryError.component,
            EntryError.id,
        )
    )
    rows = db.session.scalars(
        _filtered(select(EntryError).where(*state), filters)
        .order_by(*order)
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return ErrorPage(list(rows), total, number, per_page, centre_ids_of(rows), hidden)


def centre_ids_of(errors: Iterable[EntryError]) -> dict[str, int]:
    numbers = sorted({error.centre_number for error in errors if error.centre_number})
    if not numbers:
        return {}
    return dict(
        db.session.execute(select(Centre.number, Centre.id).where(Centre.number.in_(numbers))).all()
    )


def entry_error_series() -> list[str]:
    """Every series with Entry Errors, newest first (for the filter)."""
    return list(
        db.session.scalars(select(EntryError.series).distinct().order_by(EntryError.series.desc()))
    )


class NotOpen(DomainError):
    """The error was dismissed or resolved meanwhile."""


REASON_MAX = 1000


def dismiss_entry_error(error: EntryError, reason: str, actor_id: int | None) -> None:
    """Take an open error off the list, with the admin's reason (an Event)."""
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError("Give the reason for dismissing this error.")
    if len(reason) > REASON_MAX:
        raise DomainError(
            f"A reason has at most {REASON_MAX} characters; this one has {len(reason)}."
        )
    if not error.is_open:
        raise NotOpen(
            "This error is no longer open: it was "
            + ("dismissed" if error.dismissed_at else "resolved")
            + " meanwhile. Nothing was changed."
        )
    error.dismissed_at = utcnow()
    error.dismissed_by_id = actor_id
    error.dismiss_reason = reason
    db.session.flush()
    record_event(
        "entry_error.dismissed",
        subject=error,
        details={
            "series": error.series,
            "kind": error.kind,
            "centre": error.centre_number,
            "syllabus": error.syllabus,
            "component": error.component,
            "upload": error.upload_id,
            "row": error.row,
            "reason": reason,
        },
    )


def recent_uploads(limit: int = 20) -> list[EntryUpload]:
    return list(
        db.session.scalars(select(EntryUpload).order_by(EntryUpload.id.desc()).limit(limit))
    )


def withdrawn_by(upload: EntryUpload, limit: int = 500) -> tuple[list[tuple[str, str, str]], int]:
    """The entries this upload withdrew (still withdrawn), the first `limit` by centre."""
    where = (Entry.withdrawn_upload_id == upload.id,)
    total = db.session.scalar(select(func.count()).select_from(Entry).where(*where)) or 0
    rows = db.session.execute(
        select(Centre.number, Entry.syllabus, Entry.component)
        .join(Centre, Centre.id == Entry.centre_id)
        .where(*where)
        .order_by(Centre.number, Entry.syllabus, Entry.component)
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows], total


def upload_errors(
    upload: EntryUpload, per_kind: int = 100
) -> list[tuple[str, str, int, list[EntryError]]]:
    """The errors of an upload by kind: (kind, name, how many, the first `per_kind`)."""
    counts = dict(
        db.session.execute(
            select(EntryError.kind, func.count())
            .where(EntryError.upload_id == upload.id)
            .group_by(EntryError.kind)
        ).all()
    )
    found = []
    for kind, name in ENTRY_ERROR_KINDS.items():
        if not counts.get(kind):
            continue
        first = db.session.scalars(
            select(EntryError)
            .where(EntryError.upload_id == upload.id, EntryError.kind == kind)
            .order_by(
                EntryError.row.is_(None), EntryError.row, EntryError.centre_number, EntryError.id
            )
            .limit(per_kind)
        ).all()
        found.append((kind, name, counts[kind], list(first)))
    return found
