"""Workbooks the portal writes (samples, PINs, reports).

Every cell is written as text. A value starting with = + - @ is never written
as a formula, so a spreadsheet opened by an admin cannot run what a centre
typed (CSV/formula injection).
"""

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell


def text_workbook(title: str, header: Iterable, rows: Iterable[Iterable]) -> bytes:
    """An .xlsx with one sheet whose every cell is stored as text."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for values in (header, *rows):
        sheet.append([text_cell(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def text_cell(sheet, value) -> WriteOnlyCell:
    """A write-only cell holding `value` as text (None: empty), never a formula."""
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"  # openpyxl would make "=..." a formula
    return cell
