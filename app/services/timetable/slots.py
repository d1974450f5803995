"""The timetable: when each component of a series is sat, read from Excel, listed and kept.

A timetable workbook has one row per component: Syllabus, Component, Date,
Session, Duration and (optionally) Zones. `read_timetable` checks every row and
reports every problem with its row and column; `plan_upload` compares a valid
file with the stored slots of its series (added, changed field by field,
unchanged, and stored ones the file leaves out, which are kept); `apply_plan`
writes it in bulk. Stored slots are never removed by an upload: only the
Delete on the Timetable page removes one, and only when nobody is entered for it.

Pure reading and formatting need no database; the rest flushes, never commits.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, insert, select, update

from app.extensions import db
from app.models import Entry, TimetableSlot
from app.models.timetable import SESSIONS
from app.services import transactions
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.errors import DomainError
from app.services.paging import Paging
from app.services.resources.naming import SERIES_MONTHS, series_choices, series_label
from app.services.spreadsheets.reading import (
    EXCEL_ERRORS,
    FileProblem,
    RowProblem,
    find_header,
    formula_problems,
    read_sheet,
)
from app.services.spreadsheets.writing import text_workbook
from app.services.timetable import followups

PAGE_SIZE = 50
MAX_ROWS = 10_000  # a series has a few thousand components at most
MAX_SHEET_ROWS = MAX_ROWS + 5_000  # blank rows included
MAX_PROBLEMS_KEPT = 1_000
MAX_MINUTES = 720
ZONES = frozenset("123456")

# Header text (matched ignoring case and spacing) → field.
COLUMNS = {
    "syllabus": "syllabus",
    "syllabus code": "syllabus",
    "component": "component",
    "date": "exam_date",
    "exam date": "exam_date",
    "session": "session",
    "duration": "minutes",
    "duration (minutes)": "minutes",
    "zones": "zones",
    "zone": "zones",
}
REQUIRED = ("syllabus", "component", "exam_date", "session", "minutes")
TITLES = {
    "syllabus": "Syllabus",
    "component": "Component",
    "exam_date": "Date",
    "session": "Session",
    "minutes": "Duration",
    "zones": "Zones",
}
FIELDS = tuple(TITLES)
SESSION_WORDS = {
    "am": "AM",
    "pm": "PM",
    "ev": "EV",
    "morning": "AM",
    "afternoon": "PM",
    "evening": "EV",
}

transactions.on_clash(
    "timetable_slots.series",
    lambda: DomainError(
        "Another change to this timetable was saved at the same moment, so nothing was "
        "changed. Upload the file again."
    ),
)


# ---------------------------------------------------------------------------
# How slots read on the page


def day_label(day: date) -> str:
    """ "Tue 2 Jun 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def duration_label(minutes: int) -> str:
    """ "1 h 30 min", "2 h", "45 min" (and the upload reads each of them back)."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def zones_label(zones: str) -> str:
    """ "All" for "", "4, 5" for "45"."""
    return ", ".join(zones) if zones else "All"


def count_of(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# ---------------------------------------------------------------------------
# Reading a cell


class CellProblem(ValueError):
    """A cell that does not hold what its column needs; str() says why."""


def _is_int(value) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:100]


def syllabus_of(value) -> str:
    """ "0580": four digits. A number cell (580) has lost its leading zero to Excel: it is
    padded back. Text must be the four digits."""
    if _is_int(value):
        number = int(value)
        if not 0 <= number <= 9999:
            raise CellProblem("not a syllabus code: a syllabus code has 4 digits, e.g. 0580")
        return f"{number:04d}"
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise CellProblem("blank: give the syllabus code, e.g. 0580")
        if re.fullmatch(r"[0-9]{4}", text):
            return text
        if re.fullmatch(r"[0-9]{1,3}", text):
            raise CellProblem(
                f"not 4 digits: a syllabus code has 4 digits (did you mean {text.zfill(4)}?)"
            )
    if value is None:
        raise CellProblem("blank: give the syllabus code, e.g. 0580")
    raise CellProblem("not a syllabus code: a syllabus code has 4 digits, e.g. 0580")


def component_of(value) -> str:
    """ "22": two digits, padded ("2" or the number 2 → "02"). There is no component 00."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem("blank: give the component, e.g. 22")
    if _is_int(value) and 0 <= int(value) <= 99:
        text = f"{int(value):02d}"
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,2}", value.strip()):
        text = value.strip().zfill(2)
    else:
        raise CellProblem("not a component: a component has 2 digits, e.g. 22")
    if text == "00":
        raise CellProblem("not a component: there is no component 00")
    return text


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def series_dates(series: str) -> tuple[date, date]:
    """When a series' exams may be sat: from the first day of the month two before its
    own to its month's last day (June 2026: 1 April to 30 June; March: from 1 January).
    A date typed month first is refused when its day-first reading falls outside
    (06/02/2026, meant as 2 June, is 6 February); one that stays inside (06/05/2026)
    cannot be told apart, which is why the page asks for Excel dates or 2026-06-02."""
    year, month = int(series[:4]), int(series[5:7])
    first = date(year, month - 2, 1)  # series are in March, June and November
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return first, last


def exam_date_of(value, dates: tuple[date, date]) -> date:
    """An Excel date cell, or text 2026-06-02 or 02/06/2026 (day first), within `dates`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem("blank: give the exam date, e.g. 2026-06-02")
    if isinstance(value, datetime):
        if value.time() != time(0, 0):
            raise CellProblem("a date with a time of day: give the date alone")
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        text = value.strip()
        if iso := _ISO_DATE.fullmatch(text):
            parts = int(iso[1]), int(iso[2]), int(iso[3])
        elif uk := _UK_DATE.fullmatch(text):
            parts = int(uk[3]), int(uk[2]), int(uk[1])
        else:
            raise CellProblem(
                "not a date: use an Excel date, or write it as 2026-06-02 or 02/06/2026"
            )
        try:
            day = date(*parts)
        except ValueError:
            raise CellProblem("not a date that exists") from None
    elif isinstance(value, (time, timedelta)):
        raise CellProblem("a time, not a date")
    else:
        raise CellProblem(
            "a number, not a date: format the cell as a date, or write it as 2026-06-02"
        )
    first, last = dates
    if not first <= day <= last:
        raise CellProblem(
            f"not in this series: its exams are sat from {first:%-d %B} to {last:%-d %B %Y}"
            + (
                " (dates are written day first: 02/06/2026 is 2 June)"
                if isinstance(value, str) and "/" in value
                else ""
            )
        )
    return day


def session_of(value) -> str:
    """AM, PM or EV (or Morning, Afternoon, Evening), in any case."""
    text = value.strip() if isinstance(value, str) else ""
    if value is None or (isinstance(value, str) and not text):
        raise CellProblem("blank: give the session, AM, PM or EV")
    session = SESSION_WORDS.get(text.lower())
    if session is None:
        raise CellProblem("not a session: use AM, PM or EV (or Morning, Afternoon, Evening)")
    return session


_HOURS_MINUTES = re.compile(r"([0-9]{1,2}):([0-5][0-9])(?::00)?")
_WORDED = re.compile(
    r"(?:([0-9]{1,3})\s*h(?:ours?|rs?)?)?\s*(?:([0-9]{1,4})\s*(?:m(?:in(?:ute)?s?)?)?)?",
    re.IGNORECASE,
)


def minutes_of(value) -> int:
    """Whole minutes: a number (90), text "90", "1:30", "1h 30m", "1 h 30 min", or an Excel
    time or duration cell; 1 to 720."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CellProblem("blank: give the duration in minutes, e.g. 90")
    if _is_int(value):
        minutes = int(value)
    elif type(value) is float:
        raise CellProblem(
            "not a whole number of minutes: give minutes (90) or hours and minutes (1:30)"
        )
    elif isinstance(value, datetime):
        raise CellProblem("a date, not a duration: give minutes (90) or hours and minutes (1:30)")
    elif isinstance(value, time):
        if value.second or value.microsecond:
            raise CellProblem("not a whole number of minutes")
        minutes = value.hour * 60 + value.minute
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds % 60:
            raise CellProblem("not a whole number of minutes")
        minutes = int(seconds // 60)
    elif isinstance(value, str):
        minutes = _text_minutes(value.strip())
    else:
        raise CellProblem("not a duration: give minutes (90) or hours and minutes (1:30)")
    if not 1 <= minutes <= MAX_MINUTES:
        raise CellProblem(f"not between 1 minute and 12 hours ({MAX_MINUTES} minutes)")
    return minutes


def _text_minutes(text: str) -> int:
    if text.isdigit() and text.isascii():
        return int(text)
    if clock := _HOURS_MINUTES.fullmatch(text):
        return int(clock[1]) * 60 + int(clock[2])
    worded = _WORDED.fullmatch(text)
    if worded and (worded[1] or worded[2]):
        return int(worded[1] or 0) * 60 + int(worded[2] or 0)
    raise CellProblem("not a duration: give minutes (90) or hours and minutes (1:30 or 1 h 30 min)")


def zones_of(value) -> str:
    """The zones the component's variant is sat in, sorted, without separators ("45");
    blank (or "All") for every zone. Text lists them: "4, 5", "4;5", "4 5". A number cell
    holds one zone: 45 could be zone 45 or zones 4 and 5, so it is refused."""
    if value is None:
        return ""
    if _is_int(value):
        parts = [str(int(value))]
    elif isinstance(value, str):
        text = value.strip()
        if not text or text.lower() == "all":
            return ""
        parts = [p for p in re.split(r"[,;\s]+", text) if p]
    else:
        raise CellProblem("not a list of zones: list them as “4, 5”, or leave blank for all")
    zones = set()
    for part in parts:
        if len(part) > 1 and part.isdigit() and part.isascii():
            spaced = ", ".join(part)
            raise CellProblem(
                f"unclear: is {part} one zone or several? Zones are 1 to 6: list them "
                f"separated by commas, e.g. “{spaced}”"
            )
        if part not in ZONES:
            raise CellProblem(
                f"“{part}” is not a zone: zones are 1 to 6, listed as “4, 5” (blank for all)"
            )
        zones.add(part)
    return "".join(sorted(zones))


# ---------------------------------------------------------------------------
# Reading a workbook


class SlotRow(NamedTuple):
    row: int
    syllabus: str
    component: str
    exam_date: date
    session: str
    minutes: int
    zones: str

    @property
    def code(self) -> str:
        return f"{self.syllabus}/{self.component}"


@dataclass
class ReadResult:
    rows: list[SlotRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0  # all of them; `problems` keeps the first MAX_PROBLEMS_KEPT
    data_rows: int = 0
    sheet_name: str = ""


_PARSERS = {
    "syllabus": syllabus_of,
    "component": component_of,
    "session": session_of,
    "minutes": minutes_of,
    "zones": zones_of,
}


def read_timetable(content: bytes, series: str) -> ReadResult:
    """Check the file is a safe .xlsx, then read and check every row for `series`
    (its dates must be in the series' months: `series_dates`). Raises FileProblem for
    the file as a whole."""
    dates = series_dates(series)
    return read_sheet(content, "timetable", lambda rows, title: _read_rows(rows, title, dates))


def _read_rows(rows, sheet_name: str, dates: tuple[date, date]) -> ReadResult:
    result = ReadResult(sheet_name=sheet_name)
    rows = iter(rows)
    header_row, columns = find_header(rows, COLUMNS, REQUIRED, TITLES, "timetable", MAX_SHEET_ROWS)
    indexes = {name: columns.get(name, -1) for name in FIELDS}
    if hasattr(rows, "keep_columns"):
        rows.keep_columns(max(indexes.values()) + 1)
    titles_by_index = {index: TITLES[name] for name, index in indexes.items() if index >= 0}
    first_row: dict[tuple[str, str], int] = {}
    for row_number, values, formulas in rows:
        if row_number > MAX_SHEET_ROWS:
            raise FileProblem(
                f"The sheet goes on past row {MAX_SHEET_ROWS:,} (blank rows included); a "
                f"timetable has at most {MAX_ROWS:,} rows. Delete the rows below the timetable."
            )
        problems = formula_problems(row_number, formulas, titles_by_index)
        width = len(values)
        cells = {
            name: values[index] if 0 <= index < width else None for name, index in indexes.items()
        }
        if all(_blank(v) for v in cells.values()) and not problems:
            continue
        result.data_rows += 1
        if result.data_rows > MAX_ROWS:
            raise FileProblem(
                f"The sheet has more than {MAX_ROWS:,} rows; a timetable has at most {MAX_ROWS:,}."
            )
        formula_columns = {p.column for p in problems}
        found: dict = {}
        for name in FIELDS:
            title = TITLES[name]
            if title in formula_columns:
                continue
            value = cells[name]
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                problems.append(
                    RowProblem(
                        row_number,
                        title,
                        value.strip(),
                        "an Excel error value: correct the cell",
                    )
                )
                continue
            try:
                if name == "exam_date":
                    found[name] = exam_date_of(value, dates)
                else:
                    found[name] = _PARSERS[name](value)
            except CellProblem as problem:
                problems.append(RowProblem(row_number, title, _shown(value), str(problem)))
        if "syllabus" in found and "component" in found:
            key = (found["syllabus"], found["component"])
            earlier = first_row.setdefault(key, row_number)
            if earlier != row_number:
                problems.append(
                    RowProblem(
                        row_number,
                        "Component",
                        f"{key[0]}/{key[1]}",
                        f"{key[0]}/{key[1]} is on row {earlier} already: give each component once",
                    )
                )
        if problems:
            result.problem_count += len(problems)
            room = MAX_PROBLEMS_KEPT - len(result.problems)
            result.problems.extend(problems[: max(room, 0)])
        else:
            result.rows.append(
                SlotRow(
                    row_number,
                    found["syllabus"],
                    found["component"],
                    found["exam_date"],
                    found["session"],
                    found["minutes"],
                    found["zones"],
                )
            )
    if result.data_rows == 0:
        raise FileProblem(
            f"The sheet has a header (row {header_row}) but no timetable rows below it."
        )
    return result


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------
# What an upload would do


@dataclass(frozen=True)
class Change:
    slot_id: int
    row: SlotRow
    fields: tuple[tuple[str, str, str], ...]  # (column title, old as shown, new as shown)

    @property
    def code(self) -> str:
        return self.row.code


@dataclass
class Plan:
    series: str
    added: list[SlotRow]
    changed: list[Change]
    unchanged: int
    kept: list[str]  # stored components the file leaves out ("0580/31"): kept as they are

    @property
    def needs_confirmation(self) -> bool:
        """An upload that would overwrite stored slots is shown first."""
        return bool(self.changed)

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.changed)

    def fingerprint(self) -> str:
        """What the admin saw: the same only if the upload would do the same now."""
        described = {
            "series": self.series,
            "added": [_described(r) for r in self.added],
            "changed": [[c.code, c.slot_id, [list(f) for f in c.fields]] for c in self.changed],
            "kept": self.kept,
        }
        text = json.dumps(described, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> str:
        """ "40 components added, 2 changed, 100 unchanged." and what was kept."""
        if not self.changes_anything:
            text = "Nothing changed: the timetable already matches this file."
        else:
            text = (
                f"{count_of(len(self.added), 'component')} added, {len(self.changed):,} "
                f"changed, {self.unchanged:,} unchanged."
            )
        return f"{text} {self.kept_sentence()}".strip()

    def kept_sentence(self, done: bool = True) -> str:
        """What happens to the stored components the file leaves out (nothing): said
        of an applied upload, or (`done` False) of one still to be confirmed."""
        if not self.kept:
            return ""
        number = len(self.kept)
        verb = "is" if number == 1 else "are"
        if not done:
            return (
                f"{count_of(number, 'component')} in the stored timetable {verb} not in this "
                f"file: {'it' if number == 1 else 'they'} will be kept."
            )
        was = "was" if number == 1 else "were"
        return (
            f"{count_of(number, 'component')} in the stored timetable {verb} not in this file "
            f"and {was} kept."
        )


def _described(row: SlotRow) -> list:
    return [row.code, row.exam_date.isoformat(), row.session, row.minutes, row.zones]


_SHOWN_FIELDS = (
    ("Date", "exam_date", day_label),
    ("Session", "session", str),
    ("Duration", "minutes", duration_label),
    ("Zones", "zones", zones_label),
)


def plan_upload(series: str, rows: Iterable[SlotRow]) -> Plan:
    """Compare a valid file's rows with the stored slots of `series`."""
    stored = {
        (syllabus, component): (slot_id, exam_date, session, minutes, zones)
        for slot_id, syllabus, component, exam_date, session, minutes, zones in db.session.execute(
            select(
                TimetableSlot.id,
                TimetableSlot.syllabus,
                TimetableSlot.component,
                TimetableSlot.exam_date,
                TimetableSlot.session,
                TimetableSlot.duration_minutes,
                TimetableSlot.zones,
            ).where(TimetableSlot.series == series)
        )
    }
    added, changed, unchanged, seen = [], [], 0, set()
    for row in rows:
        key = (row.syllabus, row.component)
        seen.add(key)
        if key not in stored:
            added.append(row)
            continue
        slot_id, *old = stored[key]
        new = [row.exam_date, row.session, row.minutes, row.zones]
        fields = tuple(
            (title, shown(before), shown(after))
            for (title, _, shown), before, after in zip(_SHOWN_FIELDS, old, new, strict=True)
            if before != after
        )
        if fields:
            changed.append(Change(slot_id, row, fields))
        else:
            unchanged += 1
    kept = sorted(f"{s}/{c}" for s, c in stored if (s, c) not in seen)
    return Plan(series, added, changed, unchanged, kept)


def apply_plan(plan: Plan, file_name: str) -> None:
    """Write the plan in bulk, record one Event, and bring Key Time Errors up to date.
    A plan that changes nothing writes nothing."""
    if not plan.changes_anything:
        return
    now = utcnow()
    if plan.added:
        db.session.execute(
            insert(TimetableSlot),
            [
                {
                    "series": plan.series,
                    "syllabus": r.syllabus,
                    "component": r.component,
                    "exam_date": r.exam_date,
                    "session": r.session,
                    "duration_minutes": r.minutes,
                    "zones": r.zones,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in plan.added
            ],
        )
    if plan.changed:
        db.session.execute(
            update(TimetableSlot),
            [
                {
                    "id": c.slot_id,
                    "exam_date": c.row.exam_date,
                    "session": c.row.session,
                    "duration_minutes": c.row.minutes,
                    "zones": c.row.zones,
                    "updated_at": now,
                }
                for c in plan.changed
            ],
        )
    record_event(
        "timetable.uploaded",
        details={
            "file_name": file_name[:255],
            "series": plan.series,
            "added": len(plan.added),
            "changed": len(plan.changed),
            "unchanged": plan.unchanged,
            "kept": len(plan.kept),
            "changes": [
                {"component": c.code, "fields": [list(f) for f in c.fields]}
                for c in plan.changed[:200]
            ],
        },
    )
    db.session.flush()
    followups.timetable_changed(plan.series)


# ---------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class Filters:
    series: str
    syllabus: str = ""  # a prefix ("05") or the whole code
    component: str | None = None  # with a whole syllabus: a prefix of the component
    day: date | None = None
    session: str = ""

    @property
    def narrowed(self) -> bool:
        return bool(self.syllabus or self.day or self.session)


_CODE_FILTER = re.compile(r"([0-9]{1,4})(?:\s*/\s*([0-9]{0,2}))?")
CODE_FILTER_MESSAGE = "Enter a syllabus code such as 0580, or a component such as 0580/22."


def code_filter(text: str) -> tuple[str, str | None]:
    """("0580", "2") from "0580/2"; ("05", None) from "05"; ("", None) from ""."""
    text = text.strip()
    if not text:
        return "", None
    match = _CODE_FILTER.fullmatch(text)
    if match is None or (match[2] is not None and len(match[1]) != 4):
        raise DomainError(CODE_FILTER_MESSAGE)
    return match[1], match[2]


@dataclass(frozen=True)
class Listed:
    slot: TimetableSlot
    entries: int


@dataclass(frozen=True)
class Page(Paging):
    rows: list[Listed]
    total: int  # matching the filters
    stored: int  # in the series, whatever the filters
    number: int
    size: int


_SESSION_ORDER = case({s: i for i, s in enumerate(SESSIONS)}, value=TimetableSlot.session)


def search_slots(filters: Filters, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """The series' slots matching the filters, by date and session, with each one's
    number of live entries (one grouped query for the page)."""
    in_series = TimetableSlot.series == filters.series
    conditions = [in_series]
    if filters.component is not None:
        conditions.append(TimetableSlot.syllabus == filters.syllabus)
        if filters.component:
            conditions.append(TimetableSlot.component.startswith(filters.component))
    elif filters.syllabus:
        conditions.append(TimetableSlot.syllabus.startswith(filters.syllabus))
    if filters.day is not None:
        conditions.append(TimetableSlot.exam_date == filters.day)
    if filters.session:
        conditions.append(TimetableSlot.session == filters.session)
    total = db.session.scalar(select(func.count()).select_from(TimetableSlot).where(*conditions))
    stored = (
        total
        if len(conditions) == 1
        else db.session.scalar(select(func.count()).select_from(TimetableSlot).where(in_series))
    )
    number = max(1, min(page, max(1, -(-total // size))))
    slots = db.session.scalars(
        select(TimetableSlot)
        .where(*conditions)
        .order_by(
            TimetableSlot.exam_date,
            _SESSION_ORDER,
            TimetableSlot.syllabus,
            TimetableSlot.component,
        )
        .limit(size)
        .offset((number - 1) * size)
    ).all()
    counts = live_entries(filters.series, slots)
    rows = [Listed(s, counts.get((s.syllabus, s.component), 0)) for s in slots]
    return Page(rows, total, stored, number, size)


def live_entries(series: str, slots: Iterable[TimetableSlot]) -> dict[tuple[str, str], int]:
    """(syllabus, component) → how many entries of the series are not withdrawn."""
    wanted = {(s.syllabus, s.component) for s in slots}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Entry.syllabus, Entry.component, func.count())
        .where(
            Entry.series == series,
            Entry.withdrawn_at.is_(None),
            Entry.syllabus.in_(sorted({s for s, _ in wanted})),
        )
        .group_by(Entry.syllabus, Entry.component)
    )
    return {(s, c): n for s, c, n in rows if (s, c) in wanted}


def series_with_slots() -> list[str]:
    return list(
        db.session.scalars(select(TimetableSlot.series).distinct().order_by(TimetableSlot.series))
    )


def series_options(today: date) -> list[tuple[str, str]]:
    """The usual choices, and any other series that has a timetable, in time order."""
    options = dict(series_choices(today))
    for series in series_with_slots():
        options.setdefault(series, series_label(series))
    return sorted(options.items())


def default_series(today: date) -> str:
    """The series being sat now or next: the first whose month is not over."""
    now = f"{today.year}-{today.month:02d}"
    for value, _ in series_choices(today):
        if value >= now:
            return value
    return series_choices(today)[-1][0]


# ---------------------------------------------------------------------------
# Deleting one slot


def delete_slot(slot: TimetableSlot) -> None:
    """Delete a slot nobody is entered for (live entries need it for their key time)."""
    entered = live_entries(slot.series, [slot]).get((slot.syllabus, slot.component), 0)
    if entered:
        entries = "1 live entry" if entered == 1 else f"{entered:,} live entries"
        raise DomainError(
            f"{slot.code} cannot be deleted: {series_label(slot.series)} has {entries} for "
            "it. The entries must be withdrawn first (upload the series' entries without "
            "them), then the component can be deleted."
        )
    series = slot.series
    record_event(
        "timetable.slot_deleted",
        subject=slot,
        details={
            "series": series,
            "component": slot.code,
            "exam_date": slot.exam_date.isoformat(),
            "session": slot.session,
            "duration_minutes": slot.duration_minutes,
            "zones": slot.zones,
        },
    )
    db.session.delete(slot)
    db.session.flush()
    followups.timetable_changed(series)


# ---------------------------------------------------------------------------
# The sample


SAMPLE_HEADER = ("Syllabus", "Component", "Date", "Session", "Duration", "Zones")


def sample_workbook(series: str) -> bytes:
    """A valid timetable for `series` (its month's first days), every cell as text."""
    year, month = int(series[:4]), int(series[5:7])
    if f"{month:02d}" not in SERIES_MONTHS:
        raise ValueError(f"not a series: {series!r}")

    def day(number: int) -> str:
        return date(year, month, number).isoformat()

    rows = [
        ("0580", "22", day(2), "AM", "90", "4, 5"),
        ("0580", "42", day(2), "PM", "150", ""),
        ("9093", "12", day(3), "AM", "75", ""),
    ]
    return text_workbook("Timetable", SAMPLE_HEADER, rows)
