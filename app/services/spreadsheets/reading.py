"""Opening an uploaded workbook safely, and reading its one sheet's rows.

Every upload (centres, key times, the timetable, entries) reads its file here,
so every one gets the same protections: size, zip-bomb and part-size checks
before openpyxl unpacks anything, no DTDs or entities, old or encrypted Excel
files and CSVs named for what they are, and one sheet only. A file-level
problem raises FileProblem; what a row means is the caller's business.

    result = read_sheet(content, "entries", read_entries)

`read_entries(rows, sheet_title)` gets an iterator of (row number, values, {column: formula}),
blank rows included; `find_header` finds the columns it needs.
"""

import io
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.utils.exceptions import InvalidFileException

from app.services.spreadsheets.sheet_xml import SheetRows, UnsafeSheetXml

MAX_FILE_BYTES = 20 * 1024 * 1024
# A real .xlsx has a few dozen parts; a 50,000-row one unpacks to about 15 MB.
MAX_ZIP_MEMBERS = 500
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_PART_BYTES = 60 * 1024 * 1024  # a worksheet, read as a stream
# Every other part (shared strings, styles, ...) is loaded whole, before any row.
MAX_LOADED_PART_BYTES = 20 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx
ENCRYPTED_MARKER = "EncryptedPackage".encode("utf-16-le")
# What Excel shows in a cell whose value could not be worked out.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)
UNSAFE_XML = (
    "The workbook contains XML that is not safe to open (entity or DTD declarations). "
    "Open it in Excel, save it as a new Excel Workbook (.xlsx) and upload that."
)
NOT_A_WORKBOOK = "This is not an Excel workbook (.xlsx), or the file is damaged."

log = logging.getLogger(__name__)
T = TypeVar("T")
Rows = Iterator[tuple[int, tuple, dict[int, str]]]


class FileProblem(ValueError):
    """The file as a whole cannot be read; str(problem) says why, for the admin."""


@dataclass(frozen=True)
class RowProblem:
    """A problem in one cell, as Excel shows it: row number, column title, value, reason."""

    row: int
    column: str
    value: str
    reason: str


def read_sheet(content: bytes, what: str, read: Callable[[Rows, str], T]) -> T:
    """Check the file is a safe one-sheet .xlsx, then hand its rows and title to `read`.

    `what` names the file's contents for messages ("centres", "entries"). The
    rows are read lazily, so a problem deep in the sheet's XML is raised while
    `read` runs; it becomes a FileProblem too.
    """
    workbook = open_workbook(content, what)
    try:
        if len(workbook.worksheets) != 1:
            names = ", ".join(f"“{ws.title}”" for ws in workbook.worksheets)
            raise FileProblem(
                f"The workbook has {len(workbook.worksheets)} sheets ({names}). Keep only the "
                f"sheet with the {what} and upload it again."
            )
        sheet = workbook.worksheets[0]
        # The stated dimensions can lie (a hostile file may claim a million rows):
        # read the rows that are really there.
        sheet.reset_dimensions()
        fast = _fast_rows(workbook, sheet)
        if fast is None:
            # openpyxl's own rows: slower, used only if its internals ever change shape.
            rows = (_values_of(n, cells) for n, cells in enumerate(sheet.iter_rows(), 1))
            return read(rows, sheet.title)
        source, *lookups = fast
        with source:
            return read(SheetRows(source, *lookups), sheet.title)
    except FileProblem:
        raise
    except (DefusedXmlException, UnsafeSheetXml):
        raise FileProblem(UNSAFE_XML) from None
    except Exception as error:  # openpyxl, zipfile and zlib fail many ways on damaged parts
        if _unsafe_xml_behind(error):
            raise FileProblem(UNSAFE_XML) from None
        log.warning("unreadable %s workbook", what, exc_info=True)
        raise FileProblem(
            f"The workbook could not be read: it is damaged ({type(error).__name__})."
        ) from None
    finally:
        workbook.close()


def find_header(
    rows: Iterable[tuple[int, tuple, dict]],
    columns: dict[str, str],
    required: Iterable[str],
    titles: dict[str, str],
    what: str,
    max_row: int,
) -> tuple[int, dict[str, int]]:
    """The first row with any text, and where each known column is in it.

    `columns` maps header text (matched ignoring case and spacing) to a field,
    `titles` a field to its title in messages. A missing required column, or
    one given twice, is a FileProblem naming what the row has instead.
    """
    for row_number, values, _formulas in rows:
        if row_number > max_row:
            break
        texts = [plain_text(value) for value in values]
        if not any(texts):
            continue
        found: dict[str, int] = {}
        for index, text in enumerate(texts):
            name = columns.get(" ".join(text.lower().split()))
            if name is None:
                continue
            if name in found:
                raise FileProblem(f"Row {row_number} has the column “{titles[name]}” twice.")
            found[name] = index
        required = tuple(required)
        missing = [titles[name] for name in required if name not in found]
        if missing:
            has = ", ".join(f"“{t}”" for t in texts if t) or "nothing"
            listing = [t if f in required else f"{t} (optional)" for f, t in titles.items()]
            raise FileProblem(
                f"The header row (row {row_number}) is missing the column(s) "
                f"{', '.join(f'“{m}”' for m in missing)}. It has {has}. The columns are "
                f"{', '.join(listing[:-1])} and {listing[-1]}."
            )
        return row_number, found
    raise FileProblem(f"The sheet is empty: there is no header row and no {what}.")


def plain_text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def cell_text(value, row: int, title: str, problems: list[RowProblem]) -> str:
    """A cell as trimmed text: numbers stored as numbers become their digits.

    Excel's error values and dates are problems (added to `problems`) and read
    as "": a cell meant as text should hold text.
    """
    kind = type(value)
    if kind is str:
        text = value.strip()
        if text[:1] == "#" and text in EXCEL_ERRORS:
            problems.append(
                RowProblem(row, title, text, "an Excel error value, not text: correct the cell")
            )
            return ""
        return text
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else str(value)
    if kind is bool:
        return str(value).upper()
    if isinstance(value, (datetime, date, time, timedelta)):
        problems.append(RowProblem(row, title, str(value), "a date or time, not text"))
        return ""
    return str(value).strip()


def formula_problems(row: int, formulas: dict[int, str], titles: dict[int, str]) -> list:
    """A formula in a column we read (`titles`: column index → title): its value is
    whatever Excel last worked out, so it is refused."""
    return [
        RowProblem(row, titles[column], formula[:100], "a formula: paste values instead")
        for column, formula in formulas.items()
        if column in titles
    ]


def open_workbook(content: bytes, what: str):
    if len(content) > MAX_FILE_BYTES:
        raise FileProblem(
            f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB."
        )
    if not content:
        raise FileProblem("The file is empty.")
    if content.startswith(OLE2_MAGIC):
        if ENCRYPTED_MARKER in content:
            raise FileProblem(
                "The workbook is protected with a password. Remove the password in Excel "
                "(File → Info → Protect Workbook) and upload it again."
            )
        raise FileProblem(
            "This is an old-style Excel file (.xls). Open it in Excel and save it as an "
            "Excel Workbook (.xlsx), then upload that."
        )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        if _looks_like_text(content):
            raise FileProblem(
                "This is a text file (such as .csv), not an Excel workbook. Open it in Excel "
                "and save it as an Excel Workbook (.xlsx), then upload that."
            )
        raise FileProblem(NOT_A_WORKBOOK)
    _check_zip(content, what)
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except DefusedXmlException:
        raise FileProblem(UNSAFE_XML) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise FileProblem(f"The workbook could not be read: it is damaged ({error}).") from None
    except Exception as error:  # openpyxl raises many kinds on malformed XML
        if _unsafe_xml_behind(error):
            raise FileProblem(UNSAFE_XML) from None
        raise FileProblem(
            f"The workbook could not be read: it is damaged or not a real .xlsx "
            f"({type(error).__name__})."
        ) from None


def _fast_rows(workbook, sheet) -> tuple | None:
    """The sheet's XML and what SheetRows needs from openpyxl; None if its internals differ."""
    try:
        lookups = (
            sheet._shared_strings,
            workbook._date_formats,
            workbook._timedelta_formats,
            workbook.epoch,
        )
        return workbook._archive.open(sheet._worksheet_path), *lookups
    except (AttributeError, KeyError):
        return None


def _values_of(row_number: int, cells: tuple) -> tuple[int, tuple, dict[int, str]]:
    """A row as SheetRows gives it: values, and formula cells apart (read as empty)."""
    values, formulas = [], {}
    for column, cell in enumerate(cells):
        if cell.data_type == "f":
            formulas[column] = str(cell.value)
            values.append(None)
        else:
            values.append(cell.value)
    return row_number, tuple(values), formulas


def _unsafe_xml_behind(error: BaseException | None) -> bool:
    """openpyxl wraps defusedxml's refusal in a ValueError: look behind it."""
    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _looks_like_text(content: bytes) -> bool:
    sample = content[:4096]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in sample


def _check_zip(content: bytes, what: str) -> None:
    """Refuse zip bombs before openpyxl unpacks anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
    except Exception:  # BadZipFile, and what odd headers raise (versions, names)
        raise FileProblem(NOT_A_WORKBOOK) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileProblem(
            f"The file holds {len(members)} parts, far more than a workbook does: it is not safe "
            "to open."
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileProblem(
            f"The file would unpack to {unpacked / 1024 / 1024:.0f} MB: it is not safe to open."
        )
    for member in members:
        streamed = member.filename.startswith("xl/worksheets/")
        limit = MAX_PART_BYTES if streamed else MAX_LOADED_PART_BYTES
        if member.file_size > limit:
            raise FileProblem(
                f"Part “{member.filename}” of the file unpacks to "
                f"{member.file_size / 1024 / 1024:.0f} MB, more than a file of {what} needs: "
                "it is not safe to open."
            )
        if member.compress_size and member.file_size / member.compress_size > MAX_COMPRESSION_RATIO:
            raise FileProblem(
                f"Part “{member.filename}” of the file is compressed {MAX_COMPRESSION_RATIO}"
                " times or more: it is not safe to open."
            )
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileProblem(NOT_A_WORKBOOK)
