"""Reading the centres workbook: hostile-file checks, then typed rows and row problems.

Nothing here touches the database. A file-level problem (not a workbook, a zip
bomb, missing columns) raises FileProblem; problems in rows are collected, all
of them, with the row number and column a person sees in Excel.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from app.services.accounts.addresses import AccountError, checked_email
from app.services.centres import rules as centre_rules
from app.services.centres.rules import RuleError
from app.services.spreadsheets.reading import (
    EXCEL_ERRORS,
    OLE2_MAGIC,
    FileProblem,
    RowProblem,
    find_header,
    read_sheet,
)

MAX_ROWS = 50_000
# Blank rows are skipped, but reading them still costs time: a sheet may be at
# most this many rows long, blank ones included (a file can claim row 10^9).
MAX_SHEET_ROWS = MAX_ROWS + 20_000
MAX_PROBLEMS_KEPT = 1_000

# Header text (matched ignoring case and spaces) → field name.
COLUMNS = {
    "centre number": "number",
    "centre name": "name",
    "country": "country",
    "town": "town",
    "time zone": "timezone",
    "zone": "zone",
    "email": "email",
}
REQUIRED = ("number", "name", "country", "town", "zone", "email")
TITLES = {
    "number": "Centre Number",
    "name": "Centre Name",
    "country": "Country",
    "town": "Town",
    "timezone": "Time Zone",
    "zone": "Zone",
    "email": "Email",
}
__all__ = ["OLE2_MAGIC", "FileProblem", "RowProblem", "read_centres"]


class CentreRow(NamedTuple):
    """One (centre, user) row, cleaned. `name` may be "" (allowed for a stored centre).

    A named tuple: one is made per row, and a tuple is made several times faster
    than a dataclass."""

    row: int
    number: str
    name: str
    country: str
    town: str
    timezone: str
    zone: int
    email: str | None


@dataclass
class ReadResult:
    rows: list[CentreRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    data_rows: int = 0
    sheet_name: str = ""
    problem_count: int = 0  # all of them; `problems` keeps the first MAX_PROBLEMS_KEPT
    # Centre number → its first row, for centres that no row names (rows with
    # problems included): such a centre must already be on the site.
    unnamed: dict[str, int] = field(default_factory=dict)


def read_centres(content: bytes) -> ReadResult:
    """Check the file is a safe .xlsx, then read and check every row."""
    return read_sheet(content, "centres", _read_sheet)


def _read_sheet(rows, sheet_name: str) -> ReadResult:
    result = ReadResult(sheet_name=sheet_name)
    _read_rows(rows, result)
    return result


FIELDS = ("number", "name", "country", "town", "timezone", "zone", "email")


def _read_rows(rows: Iterable[tuple[int, tuple, dict]], result: ReadResult) -> None:
    """Read every row under the header. Written for speed (30,000 rows cost little
    more than openpyxl's own parse): a centre's details repeat on each of its
    rows, so each distinct set is cleaned once, and only the email per row."""
    rows = iter(rows)
    header_row, columns = find_header(rows, COLUMNS, REQUIRED, TITLES, "centres", MAX_SHEET_ROWS)
    indexes = [columns.get(field, -1) for field in FIELDS]  # Time Zone may be absent
    if hasattr(rows, "keep_columns"):
        rows.keep_columns(max(indexes) + 1)
    cleaned_centres: dict[tuple, tuple] = {}
    seen = _SeenCentres()
    formula_columns = {index: field for field, index in zip(FIELDS, indexes, strict=True)}
    for row_number, values, formulas in rows:
        if row_number > MAX_SHEET_ROWS:
            raise FileProblem(
                f"The sheet goes on past row {MAX_SHEET_ROWS:,} (blank rows included); a "
                f"centres file has at most {MAX_ROWS:,} rows. Delete the rows below the centres."
            )
        problems = _formula_problems(row_number, formulas, formula_columns)
        raw = _raw_values(row_number, values, indexes, problems)
        if not any(raw) and not problems:
            continue  # blank rows in the middle of a sheet are common and harmless
        result.data_rows += 1
        if result.data_rows > MAX_ROWS:
            raise FileProblem(
                f"The sheet has more than {MAX_ROWS:,} rows of centres; the limit is {MAX_ROWS:,}."
            )
        key = tuple(raw[:6])
        if key not in cleaned_centres:
            cleaned_centres[key] = _clean_centre(key)
        details, reasons = cleaned_centres[key]
        problems.extend(RowProblem(row_number, TITLES[f], v[:100], r) for f, v, r in reasons)
        email = None
        if raw[6]:
            try:
                email = checked_email(raw[6])
            except AccountError as error:
                problems.append(RowProblem(row_number, "Email", raw[6][:100], str(error)))
        # Every row is compared, its bad cells left out, so that one pass finds
        # every problem (not those hidden behind another cell's).
        seen.check(row_number, details, email, problems)
        if problems:
            result.problem_count += len(problems)
            room = MAX_PROBLEMS_KEPT - len(result.problems)
            result.problems.extend(problems[: max(room, 0)])
        else:
            result.rows.append(CentreRow(row_number, *details, email))
    result.unnamed = seen.unnamed()
    if result.data_rows == 0:
        raise FileProblem(f"The sheet has a header (row {header_row}) but no centres below it.")


def _formula_problems(row_number: int, formulas: dict, formula_columns: dict) -> list[RowProblem]:
    """A formula in a column we read: its value is whatever Excel last worked out."""
    return [
        RowProblem(
            row_number,
            TITLES[formula_columns[column]],
            formula[:100],
            "a formula: copy the column and paste values instead",
        )
        for column, formula in formulas.items()
        if column in formula_columns
    ]


def _raw_values(row_number: int, values: tuple, indexes: list[int], problems: list) -> list[str]:
    """The row's values as trimmed text; numbers stored as numbers become their digits."""
    width = len(values)
    raw = []
    for name, index in zip(FIELDS, indexes, strict=True):
        value = values[index] if 0 <= index < width else None
        kind = type(value)
        if kind is str and value[:1] != "#":
            raw.append(value.strip())
        elif kind is str and value.strip() in EXCEL_ERRORS:
            problems.append(
                RowProblem(
                    row_number,
                    TITLES[name],
                    value.strip(),
                    "an Excel error value, not text: correct the cell",
                )
            )
            raw.append("")
        elif kind is str:
            raw.append(value.strip())
        elif value is None:
            raw.append("")
        elif kind is int:
            raw.append(str(value))
        elif kind is float:
            raw.append(str(int(value)) if value.is_integer() else str(value))
        elif kind is bool:
            raw.append(str(value).upper())
        elif isinstance(value, (datetime, date, time, timedelta)):
            problems.append(
                RowProblem(row_number, TITLES[name], str(value), "a date or time, not text")
            )
            raw.append("")
        else:
            raw.append(str(value).strip())
    return raw


def _clean_centre(raw: tuple) -> tuple[tuple, list[tuple[str, str, str]]]:
    """A centre's six details cleaned by the shared rules (None where a detail is
    bad or could not be checked), and why not, by field."""
    number, name, country, town, timezone, zone = raw
    reasons = []

    def check(field: str, value: str, clean, *args):
        try:
            return clean(value, *args)
        except RuleError as error:
            reasons.append((field, value, str(error)))
            return None

    clean_number = check("number", number, centre_rules.clean_number)
    clean_name = check("name", name, centre_rules.clean_name) if name else ""
    clean_country = check("country", country, centre_rules.clean_country)
    clean_town = check("town", town, centre_rules.clean_town)
    clean_timezone = (
        check("timezone", timezone, centre_rules.clean_timezone, clean_country)
        if clean_country
        else None
    )
    clean_zone = check("zone", zone, centre_rules.clean_zone)
    details = (clean_number, clean_name, clean_country, clean_town, clean_timezone, clean_zone)
    return details, reasons


class _SeenCentres:
    """What earlier rows said about each centre: one centre is described the same
    way on every row, and a user appears once per centre.

    Each detail is compared with the first row that gave it validly, so a bad
    cell on one row neither hides nor causes a problem on another. A blank name
    means "not given" (a stored centre keeps its name), so it never conflicts.
    """

    def __init__(self) -> None:
        # number → [first row, then (row, value) or None for name, country, town,
        # time zone and zone]; a list, filled in as rows give what was missing.
        self.centres: dict[str, list] = {}
        self.pairs: dict[tuple[str, str], int] = {}

    def check(self, row_number: int, details: tuple, email: str | None, problems: list) -> None:
        number = details[0]
        if number is None:
            return  # nothing to compare with: the number itself is reported
        first = self.centres.get(number)
        if first is None:
            self.centres[number] = [row_number, *(self._given(row_number, details))]
        else:
            self._compare(row_number, number, details, first, problems)
        if email is not None:
            self._check_email(row_number, number, email, problems)

    @staticmethod
    def _given(row_number: int, details: tuple) -> list:
        name = (row_number, details[1]) if details[1] else None
        return [name, *(None if v is None else (row_number, v) for v in details[2:])]

    @staticmethod
    def _compare(row_number: int, number: str, details: tuple, first: list, problems: list):
        for index, mine in enumerate(details[1:], start=1):
            if mine is None or (mine == "" and index == 1):
                continue
            earlier = first[index]
            if earlier is None:
                first[index] = (row_number, mine)
            elif earlier[1] != mine:
                problems.append(
                    RowProblem(
                        row_number,
                        TITLES[FIELDS[index]],
                        str(mine),
                        f"centre {number} has “{earlier[1]}” on row {earlier[0]}",
                    )
                )

    def _check_email(self, row_number: int, number: str, email: str, problems: list) -> None:
        pair = (number, email)
        if pair in self.pairs:
            problems.append(
                RowProblem(
                    row_number,
                    "Email",
                    email,
                    f"already given for centre {number} on row {self.pairs[pair]}",
                )
            )
        else:
            self.pairs[pair] = row_number

    def unnamed(self) -> dict[str, int]:
        """Centre number → first row, for the centres no row named."""
        return {number: first[0] for number, first in self.centres.items() if first[1] is None}
