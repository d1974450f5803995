"""Key times: the local start of each session, per series and country (or time zone).

What the Key Times page does, without the request: clean a time of day, save
one row (refusing a stale form), add and delete rows, copy a series' rows into
another, read a key-times workbook and apply it, and the sample workbook. Every
change records an Event and calls `followups.key_times_changed`, in the caller's
transaction (services flush, never commit). The page's table (`key_time_table`)
is built from two grouped queries however many centres there are.
"""

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import Centre, KeyTime, KeyTimeError, TimetableSlot
from app.models.timetable import SESSION_NAMES, SESSIONS
from app.services import audit
from app.services.errors import DomainError
from app.services.geography import canonical_timezone, countries, default_timezone, zones_for
from app.services.resources.naming import series_label
from app.services.spreadsheets.reading import (
    FileProblem,
    RowProblem,
    cell_text,
    find_header,
    formula_problems,
    read_sheet,
)
from app.services.spreadsheets.writing import text_workbook
from app.services.timetable import followups
from app.services.timetable.checks import Problem, key_time_utc_on
from app.services.transactions import on_clash

LOCAL_FIELDS = tuple(session.lower() for session in SESSIONS)  # am, pm, ev
GMT_FIELDS = tuple(f"{name}_gmt" for name in LOCAL_FIELDS)
FIELDS = LOCAL_FIELDS + GMT_FIELDS
FIELD_LABELS = {
    **{name: f"{name.upper()} local time" for name in LOCAL_FIELDS},
    **{f"{name}_gmt": f"{name.upper()} published GMT" for name in LOCAL_FIELDS},
}
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})", re.ASCII)
_SESSION_WORDS = {
    **{session.lower(): session for session in SESSIONS},
    **{name.lower(): session for session, name in SESSION_NAMES.items()},
}
CLASH = (
    "Key times for that country and time zone were set by someone else at the same "
    "moment, so nothing was changed. Look at the page again, then try again."
)


class KeyTimeRuleError(DomainError):
    """A value breaks a key-time rule; str(error) says which, in the board's words."""


class KeyTimeGone(DomainError):
    """The row an edit form was opened for has been deleted since."""


on_clash("key_times.series", lambda: KeyTimeRuleError(CLASH))


# ----------------------------------------------------------------------------- rules


def clean_time(raw) -> str | None:
    """A time of day as stored, "HH:MM", from "9:00" or "09:00"; None when blank."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        shown = text if len(text) <= 20 else text[:19] + "…"
        raise KeyTimeRuleError(f"“{shown}” is not a time of day (HH:MM, 24-hour).")
    return f"{int(match[1]):02d}:{match[2]}"


def clean_session(raw) -> str:
    """AM, PM or EV, from those (any case) or Morning, Afternoon, Evening."""
    text = " ".join(str(raw if raw is not None else "").split())
    if not text:
        raise KeyTimeRuleError("Enter the session: AM, PM or EV.")
    session = _SESSION_WORDS.get(text.lower())
    if session is None:
        raise KeyTimeRuleError(
            f"“{text[:20]}” is not a session: write AM, PM or EV (or Morning, Afternoon, Evening)."
        )
    return session


# Names people write that the tz database words otherwise ("Britain (UK)").
COUNTRY_ALIASES = {
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "usa": "US",
    "united states of america": "US",
}


@cache
def _country_names() -> dict[str, str]:
    """Folded English name → code: the tz database's names, those names without their
    bracketed part where that is still one country ("Britain"), and COUNTRY_ALIASES."""
    names = {name.casefold(): code for code, name in countries().items()}
    short: dict[str, set[str]] = {}
    for code, name in countries().items():
        bare = re.sub(r"\s*\([^)]*\)", "", name).strip().casefold()
        if bare and bare != name.casefold():
            short.setdefault(bare, set()).add(code)
    for bare, codes in short.items():
        if len(codes) == 1 and bare not in names:
            names[bare] = codes.pop()
    return {**names, **COUNTRY_ALIASES}


def find_country(raw) -> str:
    """The ISO code of a country given by its code ("GB", any case) or English name."""
    text = " ".join(str(raw if raw is not None else "").split())
    if not text:
        raise KeyTimeRuleError("Enter the country: its ISO code (like GB) or English name.")
    if text.upper() in countries():
        return text.upper()
    code = _country_names().get(text.casefold())
    if code is None:
        raise KeyTimeRuleError(
            f"“{text[:60]}” is not a country: give its ISO code (like GB) or its English name."
        )
    return code


def clean_place_timezone(raw, country: str) -> str:
    """ "" (the whole country) or one of the country's time zones, by its current name."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return ""
    zones = zones_for(country)
    name = canonical_timezone(text)
    if name is not None and name in zones:
        return name
    place = countries().get(country, country)
    if not zones:
        raise KeyTimeRuleError(
            f"{place} has no time zones of its own: leave the time zone blank (whole country)."
        )
    listed = ", ".join(zones[:5]) + (f" and {len(zones) - 5} more" if len(zones) > 5 else "")
    its = "its time zone is" if len(zones) == 1 else "its time zones are"
    raise KeyTimeRuleError(
        f"“{text[:64]}” is not a time zone of {place}: {its} {listed}. Leave it blank for "
        "the whole country."
    )


def place_name(country: str, timezone: str) -> str:
    """How a row's place reads: "United Kingdom" or "United States, America/Chicago"."""
    name = countries().get(country, country)
    return f"{name}, {timezone}" if timezone else name


def value_problems(values: dict[str, str | None]) -> dict[str, str]:
    """Field → why, for cleaned values that do not go together (a GMT time needs its
    local time)."""
    problems = {}
    for local in LOCAL_FIELDS:
        if values.get(f"{local}_gmt") and not values.get(local):
            problems[f"{local}_gmt"] = (
                f"A published GMT time needs its {local.upper()} local time: enter that too, "
                "or clear the GMT time."
            )
    return problems


# ----------------------------------------------------------------------------- lookups


def key_time_of(series: str, country: str, timezone: str) -> KeyTime | None:
    return db.session.scalar(
        select(KeyTime).where(
            KeyTime.series == series, KeyTime.country == country, KeyTime.timezone == timezone
        )
    )


def series_with_key_times() -> list[str]:
    return list(db.session.scalars(select(KeyTime.series).distinct().order_by(KeyTime.series)))


def default_day(series: str) -> date:
    """The date the UTC column is shown for: the series' first exam, else its month's 1st."""
    first = db.session.scalar(
        select(func.min(TimetableSlot.exam_date)).where(TimetableSlot.series == series)
    )
    if first is not None:
        return first
    year, month = series.split("-")
    return date(int(year), int(month), 1)


def key_time_error_count(series: str) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(KeyTimeError).where(KeyTimeError.series == series)
        )
        or 0
    )


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class SessionCell:
    session: str
    local: str | None
    gmt: str | None
    utc: datetime | None  # on the chosen date, in the row's zone
    problem: str | None  # why there is no UTC time (in words)
    gmt_differs: bool  # the published GMT time is not the UTC time on that date


@dataclass(frozen=True)
class TableRow:
    country: str
    country_name: str
    timezone: str  # "" for the whole country
    centres: int
    zone: str | None  # the zone the UTC times are worked out in
    zone_reason: str  # why that zone, for a whole-country row
    key_time: KeyTime | None  # None: the country has centres but no row
    cells: tuple[SessionCell, ...]

    @property
    def placeholder(self) -> bool:
        return self.key_time is None

    @property
    def blank(self) -> bool:
        return all(cell.local is None for cell in self.cells)

    @property
    def place(self) -> str:
        return place_name(self.country, self.timezone)

    @property
    def dom_id(self) -> str:
        return dom_id(self.country, self.timezone)


def dom_id(country: str, timezone: str) -> str:
    """The page's id for a place's row: "key-time-US-America-Chicago"."""
    zone = re.sub(r"[^A-Za-z0-9_-]", "-", timezone)
    return f"key-time-{country}" + (f"-{zone}" if zone else "")


def _centre_zones(country: str | None) -> dict[str, Counter]:
    """Live centres per country, by time zone: one grouped query."""
    query = (
        select(Centre.country, Centre.timezone, func.count())
        .where(Centre.deleted_at.is_(None))
        .group_by(Centre.country, Centre.timezone)
    )
    if country is not None:
        query = query.where(Centre.country == country)
    found: dict[str, Counter] = {}
    for code, timezone, count in db.session.execute(query):
        found.setdefault(code, Counter())[timezone] = count
    return found


def _cells(row: KeyTime | None, day: date, zone: str | None) -> tuple[SessionCell, ...]:
    cells = []
    for session in SESSIONS:
        local = row.local(session) if row else None
        gmt = row.gmt(session) if row else None
        utc, problem = None, None
        if local is not None:
            if zone is None:
                problem = "No time zone to work out UTC with."
            else:
                found = key_time_utc_on(row, session, day, zone)
                if isinstance(found, Problem):
                    problem = found.detail or "Cannot be worked out."
                else:
                    utc = found
        differs = bool(utc and gmt and f"{utc:%H:%M}" != gmt)
        cells.append(SessionCell(session, local, gmt, utc, problem, differs))
    return tuple(cells)


def _whole_country_zone(country: str, covered: Counter) -> tuple[str | None, str]:
    if covered:
        zone = sorted(covered.items(), key=lambda item: (-item[1], item[0]))[0][0]
        return zone, "the time zone most of its centres use"
    single = default_timezone(country)
    if single:
        return single, "its time zone"
    zones = zones_for(country)
    if zones:
        return zones[0], "the first of its time zones (it has no centres)"
    return None, "it has no time zone of its own"


def key_time_table(series: str, day: date, country: str | None = None) -> list[TableRow]:
    """The rows of the Key Times page for `series` (of one country, if given), UTC on `day`:
    every stored row, and a row for each country whose live centres have none."""
    query = select(KeyTime).where(KeyTime.series == series)
    if country is not None:
        query = query.where(KeyTime.country == country)
    stored = list(db.session.scalars(query))
    centre_zones = _centre_zones(country)
    by_country: dict[str, dict[str, KeyTime]] = {}
    for row in stored:
        by_country.setdefault(row.country, {})[row.timezone] = row
    names = countries()
    rows = []
    for code in set(by_country) | set(centre_zones):
        own = by_country.get(code, {})
        zones = centre_zones.get(code, Counter())
        keyed_zones = {tz for tz in own if tz}
        for tz, row in own.items():
            if tz:
                rows.append(
                    TableRow(
                        code,
                        names.get(code, code),
                        tz,
                        zones.get(tz, 0),
                        tz,
                        "",
                        row,
                        _cells(row, day, tz),
                    )
                )
        covered = Counter({tz: n for tz, n in zones.items() if tz not in keyed_zones})
        whole = own.get("")
        if whole is None and not covered:
            continue
        zone, reason = _whole_country_zone(code, covered)
        rows.append(
            TableRow(
                code,
                names.get(code, code),
                "",
                sum(covered.values()),
                zone,
                reason,
                whole,
                _cells(whole, day, zone),
            )
        )
    rows.sort(key=lambda r: (r.country_name.casefold(), r.country, r.timezone))
    return rows


def table_row(series: str, day: date, country: str, timezone: str) -> TableRow | None:
    """One row of the page, as `key_time_table` shows it (None: it shows no such row)."""
    for row in key_time_table(series, day, country):
        if row.timezone == timezone:
            return row
    return None


# ----------------------------------------------------------------------------- changes


def _what(series: str, country: str, timezone: str) -> str:
    return f"The key time row for {place_name(country, timezone)} in {series_label(series)}"


def _about(row: KeyTime) -> dict:
    return {"series": row.series, "country": row.country, "timezone": row.timezone}


@dataclass(frozen=True)
class Saved:
    key_time: KeyTime
    added: bool
    before: dict[str, str | None]
    after: dict[str, str | None]

    @property
    def changed(self) -> bool:
        return self.added or bool(self.after)


def save_key_time(
    series: str,
    country: str,
    timezone: str,
    values: dict[str, str | None],
    read_version: int | None,
) -> Saved:
    """Store a row's AM/PM/EV times and published GMT times (cleaned "HH:MM" or None).

    `read_version` is the version the form was read at; 0 for a row that did not exist
    then (it is added). A stale form is refused (EditConflict); a row deleted since
    is KeyTimeGone."""
    problems = value_problems(values)
    if problems:
        raise KeyTimeRuleError(" ".join(problems.values()))
    what = _what(series, country, timezone)
    row = key_time_of(series, country, timezone)
    if row is None:
        if read_version != 0:
            raise KeyTimeGone(
                f"{what} was deleted since you opened it, so your changes were not saved. "
                "Add the row again if it is needed."
            )
        row = KeyTime(series=series, country=country, timezone=timezone)
        for name in FIELDS:
            setattr(row, name, values.get(name))
        db.session.add(row)
        db.session.flush()
        set_values = {name: getattr(row, name) for name in FIELDS if getattr(row, name)}
        audit.record_event("key_time.added", subject=row, details={**_about(row), **set_values})
        followups.key_times_changed(series, [country])
        return Saved(row, True, {}, set_values)
    audit.refuse_stale_edit(row, read_version, what)
    before, after = {}, {}
    for name in FIELDS:
        new = values.get(name)
        if getattr(row, name) != new:
            before[name], after[name] = getattr(row, name), new
            setattr(row, name, new)
    if not after:
        return Saved(row, False, {}, {})
    db.session.flush()
    audit.record_event(
        "key_time.saved", subject=row, details={**_about(row), "before": before, "after": after}
    )
    followups.key_times_changed(series, [country])
    return Saved(row, False, before, after)


def add_key_time(series: str, country: str, timezone: str) -> KeyTime:
    """A new row for a country (or one of its zones) in a series, its times blank."""
    if key_time_of(series, country, timezone) is not None:
        raise KeyTimeRuleError(
            f"{_what(series, country, timezone)} is already on the page: edit that row instead."
        )
    row = KeyTime(series=series, country=country, timezone=timezone)
    db.session.add(row)
    db.session.flush()
    audit.record_event("key_time.added", subject=row, details=_about(row))
    followups.key_times_changed(series, [country])
    return row


def delete_key_time(row: KeyTime, read_version: int | None) -> None:
    """Delete a row, from a page read at `read_version` (a stale one is refused)."""
    audit.refuse_stale_edit(row, read_version, _what(row.series, row.country, row.timezone))
    details = {**_about(row), **{name: getattr(row, name) for name in FIELDS if getattr(row, name)}}
    series, country = row.series, row.country
    audit.record_event("key_time.deleted", subject=row, details=details)
    db.session.delete(row)
    db.session.flush()
    followups.key_times_changed(series, [country])


# ----------------------------------------------------------------------------- copying


@dataclass(frozen=True)
class CopyPlan:
    source: str
    target: str
    rows: list[KeyTime]  # the source's rows that will be added
    kept: list[str]  # countries the target has rows for already: left as they are

    @property
    def countries(self) -> list[str]:
        return sorted({row.country for row in self.rows})


def copy_plan(source: str, target: str) -> CopyPlan:
    """What copying `source`'s rows into `target` adds: the rows of every country the
    target has no rows for. A country with rows in the target is never overwritten."""
    if source == target:
        raise KeyTimeRuleError("Choose another series to copy from: that is this series.")
    rows = list(db.session.scalars(select(KeyTime).where(KeyTime.series == source)))
    if not rows:
        raise KeyTimeRuleError(f"{series_label(source)} has no key times to copy.")
    present = set(
        db.session.scalars(select(KeyTime.country).where(KeyTime.series == target).distinct())
    )
    adding = [row for row in rows if row.country not in present]
    kept = sorted({row.country for row in rows} & present, key=lambda c: countries().get(c, c))
    adding.sort(key=lambda r: (countries().get(r.country, r.country), r.timezone))
    return CopyPlan(source, target, adding, kept)


def copy_series(source: str, target: str) -> CopyPlan:
    """Add `source`'s rows to `target` (see copy_plan), in one insert. The local times
    are copied; the published GMT times are not: they hold only for the source series'
    dates (June's 09:00 BST is 08:00 GMT, November's 09:00 GMT is 09:00)."""
    plan = copy_plan(source, target)
    if plan.rows:
        db.session.execute(
            insert(KeyTime),
            [
                {
                    "series": target,
                    "country": row.country,
                    "timezone": row.timezone,
                    **{name: getattr(row, name) for name in LOCAL_FIELDS},
                }
                for row in plan.rows
            ],
        )
    audit.record_event(
        "key_times.copied",
        details={
            "from": source,
            "to": target,
            "rows": len(plan.rows),
            "countries": len(plan.countries),
            "left_as_they_were": plan.kept,
        },
    )
    if plan.rows:
        followups.key_times_changed(target, plan.countries)
    return plan


# ----------------------------------------------------------------------------- workbooks

MAX_ROWS = 5_000
MAX_SHEET_ROWS = MAX_ROWS + 2_000
MAX_PROBLEMS_KEPT = 1_000
COLUMNS = {
    "country": "country",
    "time zone": "timezone",
    "timezone": "timezone",
    "session": "session",
    "key time": "local",
    "gmt": "gmt",
}
REQUIRED = ("country", "session", "local")
TITLES = {
    "country": "Country",
    "timezone": "Time Zone",
    "session": "Session",
    "local": "Key Time",
    "gmt": "GMT",
}
SAMPLE_HEADER = ("Country", "Time Zone", "Session", "Key Time", "GMT")
SAMPLE_ROWS = (
    ("GB", "", "AM", "09:00", "08:00"),
    ("GB", "", "PM", "13:30", "12:30"),
    ("US", "America/New_York", "AM", "09:00", "13:00"),
    ("US", "America/Chicago", "AM", "08:00", "13:00"),
    ("India", "", "AM", "09:00", "03:30"),
)


def sample_workbook() -> bytes:
    """A key-times file with a few valid rows (for a June series: BST, EDT, CDT)."""
    return text_workbook("Key times", SAMPLE_HEADER, SAMPLE_ROWS)


@dataclass(frozen=True)
class FileRow:
    row: int
    country: str
    timezone: str
    session: str
    local: str
    gmt: str | None


@dataclass
class ReadResult:
    rows: list[FileRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    data_rows: int = 0
    has_gmt: bool = False


def read_key_times(content: bytes) -> ReadResult:
    """Check the file is a safe .xlsx, then read and check every row; FileProblem if
    the file as a whole is wrong."""
    return read_sheet(content, "key times", _read_rows)


def _time_cell(value, row: int, title: str, problems: list[RowProblem]) -> str | None:
    """A time of day from a time cell (as Excel stores 09:00) or text such as "9:00"."""
    if isinstance(value, datetime):
        problems.append(
            RowProblem(row, title, str(value), "a date and time: give only the time of day")
        )
        return None
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        if 0 <= seconds < 86_400 and seconds % 60 == 0:
            return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
        problems.append(RowProblem(row, title, str(value), "not a time of day (HH:MM, 24-hour)"))
        return None
    if isinstance(value, time):
        seconds = round(
            value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        )
        if seconds % 60 or seconds >= 86_400:
            problems.append(
                RowProblem(row, title, str(value), "has seconds: give hours and minutes only")
            )
            return None
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    text = cell_text(value, row, title, problems)
    try:
        return clean_time(text)
    except KeyTimeRuleError:
        problems.append(RowProblem(row, title, text[:100], "not a time of day (HH:MM, 24-hour)"))
        return None


def _read_rows(rows, _sheet_title: str) -> ReadResult:
    rows = iter(rows)
    header_row, columns = find_header(rows, COLUMNS, REQUIRED, TITLES, "key times", MAX_SHEET_ROWS)
    if hasattr(rows, "keep_columns"):
        rows.keep_columns(max(columns.values()) + 1)
    result = ReadResult(has_gmt="gmt" in columns)
    titles_by_index = {index: TITLES[name] for name, index in columns.items()}
    seen: dict[tuple[str, str, str], int] = {}
    for row_number, values, formulas in rows:
        if row_number > MAX_SHEET_ROWS:
            raise FileProblem(
                f"The sheet goes on past row {MAX_SHEET_ROWS:,} (blank rows included); a "
                f"key-times file has at most {MAX_ROWS:,} rows. Delete the rows below the key "
                "times."
            )

        problems = formula_problems(row_number, formulas, titles_by_index)
        raw = _raw_cells(values, columns)
        if not problems and all(_blank(v) for v in raw.values()):
            continue
        result.data_rows += 1
        if result.data_rows > MAX_ROWS:
            raise FileProblem(
                f"The sheet has more than {MAX_ROWS:,} rows of key times; the limit is "
                f"{MAX_ROWS:,}."
            )
        found = _read_row(row_number, raw, problems)
        if found is not None and not problems:
            key = (found.country, found.timezone, found.session)
            if key in seen:
                problems.append(
                    RowProblem(
                        row_number,
                        "Session",
                        found.session,
                        f"row {seen[key]} already gives the {found.session} key time for "
                        f"{place_name(found.country, found.timezone)}",
                    )
                )
            else:
                seen[key] = row_number
        if problems:
            result.problem_count += len(problems)
            room = MAX_PROBLEMS_KEPT - len(result.problems)
            result.problems.extend(problems[: max(room, 0)])
        elif found is not None:
            result.rows.append(found)
    if result.data_rows == 0:
        raise FileProblem(f"The sheet has a header (row {header_row}) but no key times below it.")
    return result


def _raw_cells(values: tuple, columns: dict[str, int]) -> dict:
    width = len(values)
    return {
        name: values[columns[name]] if name in columns and columns[name] < width else None
        for name in TITLES
    }


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_row(row: int, raw: dict, problems: list[RowProblem]) -> FileRow | None:
    """One row, cleaned, or None; its problems added to `problems`. Every cell is
    checked, but a formula's: that is a problem of its own already."""
    formulas = {p.column for p in problems}
    start = len(problems)

    def checked(name: str, clean, *args):
        title = TITLES[name]
        if title in formulas:
            return None
        text = cell_text(raw[name], row, title, problems)
        try:
            return clean(text, *args)
        except KeyTimeRuleError as error:
            problems.append(RowProblem(row, title, text[:100], _reason(error)))
            return None

    country = checked("country", find_country)
    timezone = checked("timezone", clean_place_timezone, country) if country else ""
    session = checked("session", clean_session)
    local = None
    if "Key Time" not in formulas:
        if _blank(raw["local"]):
            problems.append(RowProblem(row, "Key Time", "", "blank: enter the local time (HH:MM)"))
        else:
            local = _time_cell(raw["local"], row, "Key Time", problems)
    gmt = None
    if raw["gmt"] is not None and "GMT" not in formulas:
        gmt = _time_cell(raw["gmt"], row, "GMT", problems)
    if len(problems) > start or None in (country, timezone, session, local):
        return None
    return FileRow(row, country, timezone, session, local, gmt)


def _reason(error: DomainError) -> str:
    """A rule's message as a row problem's reason: lower-case start, no full stop."""
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


# ----------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class SessionChange:
    session: str
    before: tuple[str | None, str | None]  # (local, GMT) stored now
    after: tuple[str | None, str | None]  # (local, GMT) from the file


@dataclass
class PlaceChanges:
    country: str
    timezone: str
    new_row: bool
    added: list[SessionChange] = field(default_factory=list)
    changed: list[SessionChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def place(self) -> str:
        return place_name(self.country, self.timezone)

    @property
    def country_name(self) -> str:
        return countries().get(self.country, self.country)


@dataclass
class UploadPlan:
    series: str
    has_gmt: bool
    places: list[PlaceChanges]

    @property
    def added(self) -> int:
        return sum(len(p.added) for p in self.places)

    @property
    def changed(self) -> int:
        return sum(len(p.changed) for p in self.places)

    @property
    def unchanged(self) -> int:
        return sum(len(p.unchanged) for p in self.places)

    @property
    def needs_confirm(self) -> bool:
        """Whether applying it overwrites a stored value (then the admin confirms first)."""
        return self.changed > 0

    @property
    def changed_places(self) -> list[PlaceChanges]:
        return [p for p in self.places if p.changed]

    @property
    def fingerprint(self) -> str:
        """What applying would do, as a hash: Confirm applies only the plan the admin saw."""
        changes = [
            [p.country, p.timezone, c.session, list(c.before), list(c.after)]
            for p in self.places
            for c in (*p.added, *p.changed)
        ]
        text = json.dumps([self.series, sorted(changes)], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> str:
        if not self.added and not self.changed:
            return "Nothing changed: every key time in the file is already stored."
        return (
            f"{_count(self.added, 'key time')} added, {self.changed:,} changed, "
            f"{self.unchanged:,} unchanged."
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def plan_upload(series: str, read: ReadResult) -> UploadPlan:
    """What the file's rows would change in `series`: per place, the sessions added,
    changed (old → new) and unchanged. Sessions the file leaves out stay as they are."""
    stored = {
        (row.country, row.timezone): row
        for row in db.session.scalars(select(KeyTime).where(KeyTime.series == series))
    }
    places: dict[tuple[str, str], PlaceChanges] = {}
    for file_row in read.rows:
        key = (file_row.country, file_row.timezone)
        row = stored.get(key)
        place = places.get(key)
        if place is None:
            place = places[key] = PlaceChanges(*key, new_row=row is None)
        before = (row.local(file_row.session), row.gmt(file_row.session)) if row else (None, None)
        gmt = file_row.gmt if read.has_gmt else before[1]
        after = (file_row.local, gmt)
        if before == after:
            place.unchanged.append(file_row.session)
        elif before[0] is None and before[1] is None:
            place.added.append(SessionChange(file_row.session, before, after))
        else:
            place.changed.append(SessionChange(file_row.session, before, after))
    ordered = sorted(
        places.values(), key=lambda p: (countries().get(p.country, p.country), p.timezone)
    )
    return UploadPlan(series, read.has_gmt, ordered)


def apply_upload(plan: UploadPlan, file_name: str, rows: int) -> None:
    """Store what `plan` adds and changes (one flush), with one Event."""
    stored = {
        (row.country, row.timezone): row
        for row in db.session.scalars(select(KeyTime).where(KeyTime.series == plan.series))
    }
    touched = set()
    for place in plan.places:
        changes = [*place.added, *place.changed]
        if not changes:
            continue
        row = stored.get((place.country, place.timezone))
        if row is None:
            row = KeyTime(series=plan.series, country=place.country, timezone=place.timezone)
            db.session.add(row)
        for change in changes:
            name = change.session.lower()
            setattr(row, name, change.after[0])
            setattr(row, f"{name}_gmt", change.after[1])
        touched.add(place.country)
    db.session.flush()
    audit.record_event(
        "key_times.uploaded",
        details={
            "series": plan.series,
            "file_name": file_name,
            "rows": rows,
            "added": plan.added,
            "changed": plan.changed,
            "unchanged": plan.unchanged,
            # What each overwritten time was, as a single row's save records it.
            "changes": [
                {
                    "country": place.country,
                    "timezone": place.timezone,
                    "session": change.session,
                    "before": list(change.before),
                    "after": list(change.after),
                }
                for place in plan.places
                for change in place.changed
            ],
        },
    )
    if touched:
        followups.key_times_changed(plan.series, sorted(touched))
