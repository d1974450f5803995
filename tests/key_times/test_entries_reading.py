"""Reading an entries workbook: columns, padding, invalid cells, duplicates, file problems."""

import datetime

import pytest

from app.services.spreadsheets.reading import FileProblem
from app.services.timetable import entries as service
from app.services.timetable.entries import read_entries
from tests.key_times.entries_fixtures import workbook


def test_numbers_stored_as_numbers_are_padded_and_text_is_kept():
    result = read_entries(
        workbook([("gb123", 580, 2), ("GB123", "0580", "22"), (12345, 9709.0, 41)])
    )
    assert result.rows == [
        (2, "GB123", "0580", "02"),
        (3, "GB123", "0580", "22"),
        (4, "12345", "9709", "41"),
    ]
    assert result.errors == [] and result.data_rows == 3 and result.sheet_name == "Entries"


def test_headers_are_matched_ignoring_case_and_spacing_in_any_order_and_centre_will_do():
    content = workbook(
        [(22, "Notes", "GB1", 580)], header=("  COMPONENT ", "Notes", "centre", "Syllabus")
    )
    assert read_entries(content).rows == [(2, "GB1", "0580", "22")]


def test_invalid_cells_become_invalid_errors_naming_the_column_and_value():
    result = read_entries(
        workbook(
            [
                ("GB1", "58a", 22),
                (None, 580, 22),
                ("GB1", 580, "#N/A"),
                ("GB1", 580, 100),
                ("GB-1", 12345, 0),
                ("GB1", datetime.datetime(2026, 1, 5), 22),
                ("GB1", 580, 22),
            ],
            formulas=[(6, 2, "=B8+1")],
        )
    )
    details = {error.row: error.detail for error in result.errors}
    assert {error.kind for error in result.errors} == {"invalid"}
    assert details[2] == ("Column “Syllabus”: “58a” is not a syllabus code (4 digits, e.g. 0580).")
    assert details[3] == "Column “Centre Number” is blank."
    assert details[4] == "Column “Component” holds the Excel error “#N/A”: correct the cell."
    assert details[5] == "Column “Component”: “100” is not a component (2 digits, e.g. 22)."
    assert details[6] == (
        "Column “Centre Number”: “GB-1” is not a centre number (2 to 10 letters or digits, "
        "e.g. GB123); Column “Syllabus”: “12345” is not a syllabus code (4 digits, e.g. 0580); "
        "Column “Component”: “0” is not a component (2 digits, e.g. 22)."
    )
    assert details[7].startswith("Column “Syllabus” holds a date or time (“2026-01-05")
    assert details[8] == "Column “Component” holds the formula “=B8+1”: paste values instead."
    # What the row held is kept, for the list and its filters.
    invalid = {error.row: error for error in result.errors}
    assert (invalid[2].centre_number, invalid[2].syllabus, invalid[2].component) == (
        "GB1",
        "58a",
        "22",
    )
    assert invalid[8].component == "=B8+1"
    assert result.rows == [] and result.data_rows == 7


def test_a_repeated_row_is_a_duplicate_naming_the_first_which_is_entered():
    result = read_entries(workbook([("GB1", 580, 22), ("gb1", "0580", "22"), ("GB1", 580, 42)]))
    assert result.rows == [(2, "GB1", "0580", "22"), (4, "GB1", "0580", "42")]
    [duplicate] = result.errors
    assert (duplicate.kind, duplicate.row) == ("duplicate", 3)
    assert duplicate.detail == (
        "Row 3 repeats row 2 (GB1, 0580/22): the entry is made once, from the first."
    )


def test_blank_rows_are_skipped():
    result = read_entries(workbook([("GB1", 580, 22), (None, None, None), ("  ", "", None)]))
    assert result.data_rows == 1 and result.errors == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Centre Number,Syllabus,Component\nGB1,0580,22\n", "This is a text file (such as .csv)"),
        (b"\x00\x01 not a workbook", "This is not an Excel workbook (.xlsx)"),
        (
            workbook([("GB1", 580)], header=("Centre Number", "Syllabus")),
            "missing the column(s) “Component”",
        ),
        (workbook([]), "no entries below it"),
        (workbook([], header=None), "The sheet is empty"),
    ],
)
def test_file_level_problems_reject_the_file(content, message):
    with pytest.raises(FileProblem) as problem:
        read_entries(content)
    assert message in str(problem.value)


def test_too_many_rows_reject_the_file(monkeypatch):
    monkeypatch.setattr(service, "MAX_ROWS", 3)
    with pytest.raises(FileProblem, match="more than 3 rows of entries"):
        read_entries(workbook([("GB1", 580, c) for c in range(11, 16)]))


def test_control_characters_in_a_bad_cell_are_not_kept():
    [error] = read_entries(workbook([("GB1", "05\t80", 22)])).errors
    assert error.syllabus == "05 80"
    assert (
        error.detail == "Column “Syllabus”: “05 80” is not a syllabus code (4 digits, e.g. 0580)."
    )


def test_components_written_as_text_are_read_as_the_timetable_reads_them():
    content = workbook([("GB1", "0580", "2"), ("GB1", "0580", " 07 "), ("GB1", "0580", "00")])
    result = read_entries(content)
    assert result.rows == [(2, "GB1", "0580", "02"), (3, "GB1", "0580", "07")]
    assert [error.detail for error in result.errors] == [
        "Column “Component”: “00” is not a component (2 digits, e.g. 22)."
    ]
