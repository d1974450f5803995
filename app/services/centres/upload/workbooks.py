"""Workbooks the portal writes: the sample centres file and the new-user PINs file.

The PINs file is written as text (`spreadsheets.writing`), so what a centre
typed is never a formula.
"""

import io
from collections.abc import Iterable

from openpyxl import Workbook

from app.services.spreadsheets.writing import text_workbook

SAMPLE_HEADER = ("Centre Number", "Centre Name", "Country", "Town", "Time Zone", "Zone", "Email")
# Four-digit numbers: the demo data uses three (GB101) and `seed-demo --centres N`
# five (IN00042), so uploading the sample unchanged never touches the demo's centres.
SAMPLE_ROWS = (
    (
        "GB1001",
        "Hillside Academy",
        "GB",
        "London",
        "Europe/London",
        3,
        "exams.officer@hillside.example",
    ),
    ("GB1001", "Hillside Academy", "GB", "London", "Europe/London", 3, "head@hillside.example"),
    (
        "IN3001",
        "Delhi Public School – Rohini",
        "IN",
        "New Delhi",
        "",
        4,
        "exams@dps-rohini.example",
    ),
    (
        "US6001",
        "Lakeview High School",
        "US",
        "Chicago",
        "America/Chicago",
        1,
        "exams@lakeview.example",
    ),
    ("ES2001", "Colegio Internacional Peñalara", "ES", "Madrid", "Europe/Madrid", 3, ""),
)
PINS_HEADER = ("Centre Number", "Centre Name", "Email", "PIN")


def sample_workbook() -> bytes:
    """A valid centres file: two users at one centre, a time zone left to its country,
    and a centre without users."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Centres")
    sheet.append(SAMPLE_HEADER)
    for row in SAMPLE_ROWS:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pins_workbook(rows: Iterable[tuple[str, str, str, str]]) -> bytes:
    return text_workbook("New user PINs", PINS_HEADER, rows)
