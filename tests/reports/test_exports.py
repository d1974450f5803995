"""The shared export writer: whole results, text cells, formulas kept as text."""

import csv
import io

from openpyxl import load_workbook

from app.web.exports import csv_safe, export_download

HEADER = ("Centre", "Name", "Downloads")
ROWS = [("GB001", "=cmd|' /C calc'!A0", 3), ("IN001", "+SUM(A1)", None), ("US001", "Plain", 0)]


def test_xlsx_export_writes_every_row_as_text(app):
    with app.test_request_context():
        response = export_download("xlsx", "audit", "Audit report", HEADER, iter(ROWS))
        response.direct_passthrough = False
        content = response.get_data()
    assert response.headers["Content-Disposition"] == "attachment; filename=audit.xlsx"
    assert response.headers["Cache-Control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "Audit report"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [
        list(HEADER),
        ["GB001", "=cmd|' /C calc'!A0", "3"],
        ["IN001", "+SUM(A1)", None],
        ["US001", "Plain", "0"],
    ]
    assert sheet["B2"].data_type == "s"  # text, never a formula


def test_csv_export_quotes_would_be_formulas(app):
    with app.test_request_context():
        response = export_download("csv", "audit", "Audit report", HEADER, iter(ROWS))
        response.direct_passthrough = False
        content = response.get_data()
    assert response.mimetype == "text/csv"
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads as UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [
        list(HEADER),
        ["GB001", "'=cmd|' /C calc'!A0", "3"],
        ["IN001", "'+SUM(A1)", ""],
        ["US001", "Plain", "0"],
    ]


def test_csv_safe_leaves_ordinary_text_alone():
    assert csv_safe("Kolkata") == "Kolkata"
    assert csv_safe("-5") == "'-5"
    assert csv_safe(None) == ""
