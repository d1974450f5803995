"""Centres workbooks made in the tests, by two different writers, and hostile files."""

import io
import zipfile

import xlsxwriter
from openpyxl import Workbook

HEADER = ["Centre Number", "Centre Name", "Country", "Town", "Time Zone", "Zone", "Email"]


def openpyxl_file(rows, header=HEADER, sheets=("Centres",)) -> bytes:
    """Shared-string cells (openpyxl's usual way), numbers stored as numbers."""
    workbook = Workbook()
    workbook.active.title = sheets[0]
    for name in sheets[1:]:
        workbook.create_sheet(name)
    sheet = workbook.active
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsxwriter_file(rows, header=HEADER, formulas=()) -> bytes:
    """Another writer: XlsxWriter's shared strings and number cells; `formulas` are
    (row index, column index, formula) written as real formula cells."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Centres")
    all_rows = ([header] if header else []) + [list(r) for r in rows]
    for r, values in enumerate(all_rows):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    for r, c, formula in formulas:
        sheet.write_formula(r, c, formula)
    workbook.close()
    return buffer.getvalue()


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def replace_member(xlsx: bytes, name: str, data: bytes) -> bytes:
    """The same workbook with one part replaced (for XML tricks)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    members = {info.filename: source.read(info.filename) for info in source.infolist()}
    members[name] = data
    return zip_of(members)


def row(
    number="GB101",
    name="Hillside Academy",
    country="GB",
    town="London",
    timezone="Europe/London",
    zone=3,
    email="officer@hillside.example",
):
    return [number, name, country, town, timezone, zone, email]
