"""Reading centres workbooks: every row problem by row and column; hostile files refused."""

import io
import zipfile

import pytest
import xlsxwriter

from app.services.centres.upload.reader import (
    MAX_ROWS,
    OLE2_MAGIC,
    FileProblem,
    read_centres,
)
from tests.imports.files import (
    HEADER,
    openpyxl_file,
    replace_member,
    row,
    xlsxwriter_file,
    zip_of,
)


def problems(result):
    return [(p.row, p.column, p.value, p.reason) for p in result.problems]


@pytest.mark.parametrize("writer", [openpyxl_file, xlsxwriter_file])
def test_a_valid_file_from_either_writer(writer):
    result = read_centres(
        writer(
            [
                row(),
                row(email="head@hillside.example"),
                row(
                    number=12345,
                    name="Numeric Number School",
                    country="IN",
                    town="Pune",
                    timezone="",
                    zone=4.0,
                    email="",
                ),
            ]
        )
    )
    assert result.problems == []
    assert result.data_rows == 3
    first, second, third = result.rows
    assert (first.row, first.number, first.zone, first.email) == (
        2,
        "GB101",
        3,
        "officer@hillside.example",
    )
    assert second.email == "head@hillside.example"
    assert (third.number, third.timezone, third.zone, third.email) == (
        "12345",
        "Asia/Kolkata",
        4,
        None,
    )


def test_columns_match_by_name_in_any_order_and_case():
    header = ["email", "ZONE", "  Centre   name ", "Town", "Country", "centre number", "Notes"]
    result = read_centres(
        openpyxl_file(
            [["a@b.example", 2, "Colegio", "Madrid", "ES", "ES1", "ignored"]], header=header
        )
    )
    assert result.problems[0].reason.startswith("Choose the time zone: Spain has several")
    result = read_centres(
        openpyxl_file(
            [["a@b.example", 2, "Colegio", "Lima", "PE", "PE1", "ignored"]], header=header
        )
    )
    assert result.problems == []
    assert result.rows[0].timezone == "America/Lima"


def test_every_bad_row_is_reported_with_row_column_value_and_reason():
    result = read_centres(
        openpyxl_file(
            [
                row(),
                row(number="G-1"),
                row(number="GB102", email="not an email"),
                row(number="GB103", country="XX"),
                row(number="GB104", timezone="Mars/Base"),
                row(number="GB105", zone=9),
                row(number="GB101", name="Another Name", email="x@hillside.example"),
                row(email="officer@hillside.example"),
            ]
        )
    )
    found = problems(result)
    assert found[0] == (
        3,
        "Centre Number",
        "G-1",
        "A centre number is 2 to 10 letters or digits, like GB123.",
    )
    assert found[1][:3] == (4, "Email", "not an email")
    assert "is not an email address" in found[1][3]
    assert found[2] == (5, "Country", "XX", "“XX” is not an ISO 3166 country code (like GB or IN).")
    assert found[3] == (
        6,
        "Time Zone",
        "Mars/Base",
        "“Mars/Base” is not an IANA time zone (like Europe/London).",
    )
    assert found[4] == (7, "Zone", "9", "The zone must be a whole number from 1 to 6, not “9”.")
    assert found[5] == (
        8,
        "Centre Name",
        "Another Name",
        "centre GB101 has “Hillside Academy” on row 2",
    )
    assert found[6] == (
        9,
        "Email",
        "officer@hillside.example",
        "already given for centre GB101 on row 2",
    )
    assert len(found) == 7


def test_one_pass_lists_every_problem_even_on_rows_whose_other_cells_are_bad():
    """Rows compare with earlier rows of their centre even when a cell of either is bad."""
    result = read_centres(
        openpyxl_file(
            [
                row(number="GB201", zone=9, email="a@x.example"),
                row(number="GB201", email="a@x.example"),
                row(number="GB202", country="XX", email="c@x.example"),
                row(number="GB202", town="Leeds", email="d@x.example"),
                row(number="GB203", email="nope"),
                row(number="GB203", name="Other Name", email="f@x.example"),
                row(number="G-1"),
                row(number="GB204", timezone="Mars/Base"),
            ]
        )
    )
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "Zone"),
        (3, "Email"),
        (4, "Country"),
        (5, "Town"),
        (6, "Email"),
        (7, "Centre Name"),
        (8, "Centre Number"),
        (9, "Time Zone"),
    ]
    assert result.problems[1].reason == "already given for centre GB201 on row 2"
    assert result.problems[3].reason == "centre GB202 has “London” on row 4"
    assert result.problem_count == 8


def test_centres_no_row_names_are_known_even_when_their_rows_have_problems():
    result = read_centres(
        openpyxl_file(
            [
                row(number="GB559", name="", zone=9),
                row(number="GB560", name="Named Here", email="bad"),
                row(number="GB560", name="", email="ok@x.example"),
            ]
        )
    )
    assert result.unnamed == {"GB559": 2}


def test_a_formula_cell_is_refused():
    content = xlsxwriter_file([row(), row(number="GB102")], formulas=[(2, 1, '="Sneaky "&"Name"')])
    [problem] = read_centres(content).problems
    assert (problem.row, problem.column) == (3, "Centre Name")
    assert problem.reason == "a formula: copy the column and paste values instead"


def test_text_that_looks_like_a_formula_is_just_text():
    """A text cell holding "=..." (typed with a leading apostrophe) is no formula."""
    result = read_centres(xlsxwriter_file([row(name="=Hillside Academy")]))
    assert result.problems == []
    assert result.rows[0].name == "=Hillside Academy"


def test_a_formula_in_a_column_we_do_not_read_is_ignored():
    content = xlsxwriter_file(
        [row(), row(email="b@hillside.example")],
        header=[*HEADER, "Notes"],
        formulas=[(1, 7, "=1+1")],
    )
    result = read_centres(content)
    assert result.problems == [] and len(result.rows) == 2


def test_blank_rows_are_skipped_and_counted_rows_are_real():
    result = read_centres(openpyxl_file([row(), [None] * 7, row(email="b@hillside.example")]))
    assert result.data_rows == 2
    assert [r.row for r in result.rows] == [2, 4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"Centre Number,Centre Name\nGB1,School\n", "This is a text file (such as .csv)"),
        (OLE2_MAGIC + b"\x00" * 600, "old-style Excel file (.xls)"),
        (
            OLE2_MAGIC + b"\x00" * 50 + "EncryptedPackage".encode("utf-16-le"),
            "protected with a password",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not an Excel workbook (.xlsx)"),
        (zip_of({"hello.txt": b"hi"}), "not an Excel workbook (.xlsx)"),
    ],
)
def test_files_that_are_not_workbooks_say_what_they_are(content, message):
    with pytest.raises(FileProblem) as problem:
        read_centres(content)
    assert message in str(problem.value)


def test_a_truncated_workbook_is_damaged():
    content = openpyxl_file([row()])
    with pytest.raises(FileProblem, match="damaged"):
        read_centres(content[: len(content) // 2])


def test_header_problems():
    with pytest.raises(FileProblem, match="The sheet is empty"):
        read_centres(openpyxl_file([], header=None))
    with pytest.raises(FileProblem, match=r"missing the column\(s\) “Zone”, “Email”"):
        read_centres(openpyxl_file([], header=HEADER[:5]))
    with pytest.raises(FileProblem, match="but no centres below it"):
        read_centres(openpyxl_file([]))
    with pytest.raises(FileProblem, match="has the column “Email” twice"):
        read_centres(openpyxl_file([], header=[*HEADER, "EMAIL"]))


def test_more_than_one_sheet_is_refused():
    with pytest.raises(FileProblem, match="The workbook has 2 sheets"):
        read_centres(openpyxl_file([row()], sheets=("Centres", "Notes")))


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr("app.services.centres.upload.reader.MAX_ROWS", 3)
    rows = [row(email=f"u{i}@hillside.example") for i in range(4)]
    with pytest.raises(FileProblem, match="more than 3 rows"):
        read_centres(openpyxl_file(rows))
    assert MAX_ROWS == 50_000


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/worksheets/sheet1.xml": b"<" + b"a" * 50_000_000 + b">",
        }
    )
    assert len(bomb) < 200_000
    with pytest.raises(FileProblem, match="not safe to open"):
        read_centres(bomb)


def test_too_many_parts_is_refused():
    members = {f"part{i}.xml": b"x" for i in range(600)}
    with pytest.raises(FileProblem, match="holds 600 parts"):
        read_centres(zip_of(members))


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    ("part", "xml"),
    [
        (
            "xl/sharedStrings.xml",
            LAUGHS + b"<sst " + MAIN + b' count="1" uniqueCount="1"><si><t>&lol2;</t></si></sst>',
        ),
        (
            "xl/worksheets/sheet1.xml",
            LAUGHS + b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="inlineStr">'
            b"<is><t>&lol2;</t></is></c></row></sheetData></worksheet>",
        ),
    ],
)
def test_xml_entity_tricks_are_refused(part, xml):
    """defusedxml is installed, so openpyxl parses with it and refuses entities."""
    content = replace_member(xlsxwriter_file([row()]), part, xml)
    with pytest.raises(FileProblem, match="XML that is not safe to open"):
        read_centres(content)


def test_a_file_over_the_size_limit(monkeypatch):
    monkeypatch.setattr("app.services.spreadsheets.reading.MAX_FILE_BYTES", 1000)
    with pytest.raises(FileProblem, match="the limit is 0 MB"):
        read_centres(b"x" * 1001)


def test_a_sheet_running_far_past_its_rows_is_refused_quickly():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Centres")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, row())
    sheet.write(1_000_000, 0, "far below")
    workbook.close()
    with pytest.raises(FileProblem, match="goes on past row 70,000"):
        read_centres(buffer.getvalue())


def test_a_claimed_row_one_billion_is_refused_quickly():
    content = xlsxwriter_file([row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(
        b"</sheetData>", b'<row r="1000000000"><c r="A1000000000"><v>1</v></c></row></sheetData>'
    )
    with pytest.raises(FileProblem, match="goes on past row"):
        read_centres(replace_member(content, "xl/worksheets/sheet1.xml", sheet))


def test_a_missing_shared_string_is_damage_not_a_crash():
    content = xlsxwriter_file([row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(
        b"</sheetData>", b'<row r="3"><c r="A3" t="s"><v>999</v></c></row></sheetData>'
    )
    with pytest.raises(FileProblem, match="damaged"):
        read_centres(replace_member(content, "xl/worksheets/sheet1.xml", sheet))


def test_oversized_shared_strings_are_refused_before_loading(monkeypatch):
    """They are loaded whole, before any row limit applies, whatever the part is called."""
    monkeypatch.setattr("app.services.spreadsheets.reading.MAX_LOADED_PART_BYTES", 12_000)
    content = xlsxwriter_file(
        [
            row(name=f"School number {i:04d} " + "x" * 40, email=f"u{i}@x.example")
            for i in range(300)
        ]
    )
    with pytest.raises(FileProblem, match="“xl/sharedStrings.xml” of the file unpacks to"):
        read_centres(content)
    renamed = replace_member(
        content, "xl/strings.xml", zipfile.ZipFile(io.BytesIO(content)).read("xl/sharedStrings.xml")
    )
    with pytest.raises(FileProblem, match="of the file unpacks to"):
        read_centres(renamed)


def test_a_formula_in_utf16_xml_is_still_found():
    content = xlsxwriter_file(
        [row(), row(number="GB102")], formulas=[(2, 1, '=HYPERLINK("http://x","Name")')]
    )
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    utf16 = sheet.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    [problem] = read_centres(replace_member(content, "xl/worksheets/sheet1.xml", utf16)).problems
    assert (problem.row, problem.column) == (3, "Centre Name")
    assert "formula" in problem.reason


def test_only_the_first_problems_are_kept_but_all_are_counted(monkeypatch):
    monkeypatch.setattr("app.services.centres.upload.reader.MAX_PROBLEMS_KEPT", 2)
    result = read_centres(openpyxl_file([row(zone=9, email=f"u{i}@x.example") for i in range(5)]))
    assert result.problem_count == 5
    assert [p.row for p in result.problems] == [2, 3]


def test_a_blank_name_on_a_centres_later_row_is_fine_but_two_names_are_not():
    result = read_centres(
        openpyxl_file(
            [
                row(),
                row(name="", email="b@hillside.example"),
                row(number="GB102", name="", email="c@x.example"),
                row(number="GB102", name="First", email="d@x.example"),
                row(number="GB102", name="", email="e@x.example"),
                row(number="GB102", name="Second", email="f@x.example"),
            ]
        )
    )
    assert [(p.row, p.reason) for p in result.problems] == [
        (7, "centre GB102 has “First” on row 5")
    ]


def test_dates_booleans_and_missing_references_are_read_as_excel_means_them():
    from datetime import datetime as dt

    result = read_centres(openpyxl_file([row(town=dt(2026, 6, 1, 9, 30))]))
    [problem] = result.problems
    assert (problem.row, problem.column, problem.reason) == (2, "Town", "a date or time, not text")
    content = xlsxwriter_file([row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    # A row written without cell references, with an inline rich-text string
    # (two runs and a phonetic reading), a formula's cached text and a boolean.
    extra = (
        b'<row r="3"><c t="inlineStr"><is><r><t>GB</t></r><r><t>102</t></r>'
        b"<rPh><t>ignored</t></rPh></is></c>"
        b'<c t="str"><v>Text School</v></c><c t="inlineStr"><is><t>GB</t></is></c>'
        b'<c t="b"><v>1</v></c><c t="inlineStr"><is><t>Europe/London</t></is></c>'
        b'<c><v>3</v></c><c t="inlineStr"><is><t>x@y.example</t></is></c></row>'
    )
    result = read_centres(
        replace_member(
            content,
            "xl/worksheets/sheet1.xml",
            sheet.replace(b"</sheetData>", extra + b"</sheetData>"),
        )
    )
    assert result.problems == []
    added = result.rows[1]
    assert (added.number, added.name, added.town, added.zone, added.email) == (
        "GB102",
        "Text School",
        "TRUE",
        3,
        "x@y.example",
    )


def test_a_cell_beyond_excels_last_column_is_damage():
    content = xlsxwriter_file([row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(
        b"</sheetData>", b'<row r="3"><c r="ZZZZZZZZ3"><v>1</v></c></row></sheetData>'
    )
    with pytest.raises(FileProblem, match="damaged"):
        read_centres(replace_member(content, "xl/worksheets/sheet1.xml", sheet))


def test_openpyxls_own_rows_give_the_same_result(monkeypatch):
    """The fallback, used only if openpyxl's internals ever change shape."""
    content = xlsxwriter_file(
        [row(), row(number=12345, zone=4.0, email="")], formulas=[(2, 1, "=1+1")]
    )
    fast = read_centres(content)
    monkeypatch.setattr("app.services.spreadsheets.reading._fast_rows", lambda *args: None)
    slow = read_centres(content)
    assert slow.rows == fast.rows and slow.problems == fast.problems
    assert [p.reason for p in slow.problems] == [
        "a formula: copy the column and paste values instead"
    ]


def with_sheet_rows(xml_rows: bytes, content: bytes | None = None) -> bytes:
    """A workbook whose sheet holds the header, one good row, then `xml_rows`."""
    content = content or xlsxwriter_file([row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    return replace_member(
        content,
        "xl/worksheets/sheet1.xml",
        sheet.replace(b"</sheetData>", xml_rows + b"</sheetData>"),
    )


@pytest.mark.parametrize(("offset", "value"), [(6, 200), (9, 0x08)])
def test_odd_zip_headers_are_damage_not_a_crash(offset, value):
    content = bytearray(xlsxwriter_file([row()]))
    at = content.rfind(b"PK\x01\x02")
    content[at + offset] |= value
    if offset == 9:
        content[at + 46] = 0xFF  # a name that is not UTF-8, flagged as UTF-8
    with pytest.raises(FileProblem):
        read_centres(bytes(content))


def test_empty_cells_far_to_the_right_cost_nothing():
    rows = b"".join(b'<row r="%d"><c r="XFD%d"/></row>' % (n, n) for n in range(3, 20_000))
    result = read_centres(with_sheet_rows(rows))
    assert result.data_rows == 1 and result.problems == []


def test_row_numbers_must_go_up():
    with pytest.raises(FileProblem, match="damaged"):
        read_centres(with_sheet_rows(b'<row r="2"><c r="A2"><v>1</v></c></row>'))


def test_formulas_above_the_header_are_not_the_centres():
    """A title row such as =TODAY() above the header is no problem of the centres."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Centres")
    sheet.write_formula(0, 0, "=TODAY()")
    sheet.write_formula(0, 6, '="Centres at "&TEXT(TODAY(),"yyyy-mm-dd")')
    sheet.write_row(2, 0, HEADER)
    sheet.write_row(3, 0, row())
    workbook.close()
    result = read_centres(buffer.getvalue())
    assert result.problems == [] and result.rows[0].row == 4


def test_cell_references_as_excel_and_other_writers_spell_them():
    rows = (
        b'<row r="3"><c r="a3" t="inlineStr"><is><t>GB102</t></is></c>'
        b'<c r="$B$3" t="inlineStr"><is><t>Dollar School</t></is></c>'
        b'<c r="C3" t="inlineStr"><is><t>GB</t></is></c>'
        b'<c r="E3" t="inlineStr"><is><t>Europe/London</t></is></c>'
        b'<c r="F3"><v>3</v></c></row>'
    )
    result = read_centres(with_sheet_rows(rows))
    assert (result.rows[1].number, result.rows[1].name) == ("GB102", "Dollar School")
    with pytest.raises(FileProblem, match="damaged"):
        read_centres(with_sheet_rows(b'<row r="3"><c r="3"><v>1</v></c></row>'))


def test_a_date_out_of_range_is_a_row_problem_not_a_damaged_file():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Centres")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, row())
    sheet.write_row(2, 0, row(number="GB102", email="b@x.example"))
    sheet.write_number(2, 3, 1e9, workbook.add_format({"num_format": "yyyy-mm-dd"}))
    workbook.close()
    result = read_centres(buffer.getvalue())
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (3, "Town", "#VALUE!")
    assert problem.reason == "an Excel error value, not text: correct the cell"
    assert len(result.rows) == 1


def test_a_formula_filled_down_is_named_as_such():
    rows = b'<row r="3"><c r="A3"><f t="shared" si="0"/><v>1</v></c></row>'
    problem = read_centres(with_sheet_rows(rows)).problems[0]
    assert (problem.column, problem.value) == (
        "Centre Number",
        "(a formula filled down from above)",
    )
