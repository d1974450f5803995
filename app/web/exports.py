"""Exports of a report's whole filtered result, as .xlsx or CSV.

Rows are written to a temporary file as they come (openpyxl's write-only workbook
keeps no sheet in memory; CSV is written line by line), then the file is sent in
chunks: a worker's memory stays flat however many rows there are. The caller passes
the rows as an iterator that reads them from the database in batches.

Cells are text. A value a spreadsheet would read as a formula (starting with = + - @,
or a tab or carriage return) is written as text in .xlsx and, in CSV, behind a single
quote, as OWASP advises for CSV injection.
"""

import csv
import io
import tempfile
from collections.abc import Iterable

from flask import Response, send_file

from app.services.audit import record_event
from app.services.spreadsheets.writing import text_cell
from app.services.transactions import begin_write
from app.web.workbooks import XLSX

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("xlsx", "csv")


def export_download(
    file_format: str, file_stem: str, title: str, header: Iterable, rows: Iterable[Iterable]
) -> Response:
    """The rows as `file_stem`.xlsx (one sheet named `title`) or `file_stem`.csv."""
    if file_format == "xlsx":
        return _xlsx_download(f"{file_stem}.xlsx", title, header, rows)
    if file_format == "csv":
        return _csv_download(f"{file_stem}.csv", header, rows)
    raise ValueError(f"unknown export format {file_format!r}")


def recorded_export(
    file_format: str,
    file_stem: str,
    title: str,
    header: Iterable,
    rows: Iterable[Iterable],
    *,
    report: str,
    subject=None,
    details: dict | None = None,
) -> Response:
    """`export_download`, and the Event `report.exported` saying which report, in which
    format, with what (`details`: its filters...) and how many rows. The Event is
    recorded once the rows are read, in a transaction that takes the write lock only
    then (a GET that writes): no writer waits while a big export is read."""
    counted = _Counted(rows)
    response = export_download(file_format, file_stem, title, header, counted)
    begin_write()
    record_event(
        "report.exported",
        subject=subject,
        details={"report": report, "format": file_format, **(details or {}), "rows": counted.count},
    )
    return response


class _Counted:
    """Rows, counted as the writer takes them."""

    def __init__(self, rows: Iterable):
        self._rows = rows
        self.count = 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row


def csv_safe(value) -> str:
    """A cell's text for CSV: empty for None; a would-be formula behind a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_download(file_name: str, header: Iterable, rows: Iterable[Iterable]) -> Response:
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (send_file closes it)
    # utf-8-sig: Excel reads the byte-order mark as "this is UTF-8".
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([csv_safe(value) for value in header])
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    text.detach()
    return _send(spool, file_name, "text/csv; charset=utf-8")


def _xlsx_download(file_name: str, title: str, header: Iterable, rows: Iterable[Iterable]):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])  # Excel's limit for a sheet's name
    sheet.append([text_cell(sheet, value) for value in header])
    for row in rows:
        sheet.append([text_cell(sheet, value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (send_file closes it)
    workbook.save(spool)
    return _send(spool, file_name, XLSX)


def _send(spool, file_name: str, mimetype: str) -> Response:
    spool.seek(0)
    response = send_file(spool, mimetype=mimetype, as_attachment=True, download_name=file_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
