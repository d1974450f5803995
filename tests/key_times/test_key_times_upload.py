"""Upload key times from Excel: all or nothing, row problems by row and column, a
preview before stored values change, and the sample."""

import io
import re
from datetime import date, datetime, time

import openpyxl
import pytest

from app.models import KeyTime
from tests.conftest import csrf_token_of
from tests.key_times.key_time_fixtures import (
    JUNE,
    NOVEMBER,
    add_key_time,
    add_slot,
    admin,
    confirm,
    count,
    enter,
    events,
    key_time_errors,
    stored,
    temporary_instance_folder,
    text_of,
    upload,
    workbook,
)

# The fixtures these tests use (imported, so that pytest finds them here).
__all__ = ["admin", "temporary_instance_folder"]

ROWS = [
    ("GB", "", "AM", "09:00", "08:00"),
    ("GB", "", "PM", "13:30", "12:30"),
    ("US", "America/New_York", "AM", "09:00", "13:00"),
    ("US", "America/Chicago", "am", "8:00", "13:00"),
]


def flash_after(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return text_of(client.get(response.headers["Location"]).get_data(as_text=True))


def problems_of(response) -> list[tuple[str, str, str, str]]:
    """The problems table: (row, column, value, problem)."""
    html = response.get_data(as_text=True)
    table = html.split('<table class="problems">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [tuple(text_of(cell) for cell in row) for row in rows]


def test_the_upload_page(client, admin):
    text = text_of(client.get("/key-times/upload?series=2026-11").get_data(as_text=True))
    assert "Upload key times from excel file" in text
    assert "Country (ISO code such as GB, or the country's English name)" in text
    assert "key times it leaves out are left as they are" in text
    page = client.get("/key-times/upload?series=2026-11").get_data(as_text=True)
    assert '<option value="2026-11" selected>November 2026</option>' in page
    assert 'href="/key-times/sample.xlsx"' in page


def test_a_new_file_is_applied_at_once(client, admin, db):
    response = upload(client, workbook(ROWS))
    text = flash_after(client, response)
    assert "June 2026: 4 key times added, 0 changed, 0 unchanged." in text
    assert stored(db) == {
        ("GB", ""): ("09:00", "13:30", None, "08:00", "12:30", None),
        ("US", "America/New_York"): ("09:00", None, None, "13:00", None, None),
        ("US", "America/Chicago"): ("08:00", None, None, "13:00", None, None),
    }
    (uploaded,) = events(db, "key_times.uploaded")
    assert uploaded.details == {
        "series": JUNE,
        "file_name": "key-times.xlsx",
        "rows": 4,
        "added": 4,
        "changed": 0,
        "unchanged": 0,
        "changes": [],
    }


def test_the_same_file_twice_changes_nothing(client, admin, db):
    content = workbook(ROWS)
    upload(client, content)
    before = stored(db)
    versions = {r.id: r.version for r in db.session.query(KeyTime)}
    text = flash_after(client, upload(client, content))
    assert "Nothing changed: every key time in the file is already stored for June 2026." in text
    assert stored(db) == before
    db.session.rollback()
    assert {r.id: r.version for r in db.session.query(KeyTime)} == versions


def test_excel_time_cells_names_and_words_are_read(client, admin, db):
    content = workbook(
        [
            ("gb", None, "Morning", time(9, 0), time(8, 0)),
            ("India", "Asia/Calcutta", "evening", time(18, 30), None),
            ("united kingdom", "", "Afternoon", "14:00", ""),
        ]
    )
    flash_after(client, upload(client, content, series=NOVEMBER))
    assert stored(db, NOVEMBER) == {
        ("GB", ""): ("09:00", "14:00", None, "08:00", None, None),
        ("IN", "Asia/Kolkata"): (None, None, "18:30", None, None, None),
    }


def test_changes_wait_for_confirm(client, admin, db):
    add_key_time(db, "GB", am="09:00", am_gmt="08:00", pm="13:00")
    add_key_time(db, "US", "America/Chicago", am="08:00", am_gmt="13:00")
    content = workbook(
        [
            ("GB", "", "AM", "10:00", "09:00"),  # changed
            ("GB", "", "EV", "18:00", ""),  # added
            ("US", "America/Chicago", "AM", "08:00", "13:00"),  # unchanged
        ]
    )
    response = upload(client, content)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Check the upload before it is applied" in text
    assert "change 1 stored key time" in text
    assert "add 1 key time not set before" in text
    assert "leave 1 unchanged" in text
    assert "Britain (UK) (GB) Whole country AM 09:00 (GMT 08:00) 10:00 (GMT 09:00)" in text
    assert "Britain (UK): EV 18:00" in text
    assert stored(db)[("GB", "")][0] == "09:00"  # nothing yet
    assert events(db, "key_times.uploaded") == []

    text = flash_after(client, confirm(client, response))
    assert "June 2026: 1 key time added, 1 changed, 1 unchanged." in text
    assert stored(db)[("GB", "")] == ("10:00", "13:00", "18:00", "09:00", None, None)
    assert stored(db)[("US", "America/Chicago")] == ("08:00", None, None, "13:00", None, None)
    (uploaded,) = events(db, "key_times.uploaded")
    assert (uploaded.details["added"], uploaded.details["changed"]) == (1, 1)
    assert uploaded.details["changes"] == [
        {
            "country": "GB",
            "timezone": "",
            "session": "AM",
            "before": ["09:00", "08:00"],
            "after": ["10:00", "09:00"],
        }
    ]


def test_without_a_gmt_column_stored_gmt_times_stay(client, admin, db):
    add_key_time(db, "GB", am="09:00", am_gmt="08:00")
    content = workbook([("GB", "AM", "09:00")], header=("Country", "Session", "Key Time"))
    text = flash_after(client, upload(client, content))
    assert "Nothing changed" in text
    assert stored(db)[("GB", "")][3] == "08:00"


def test_cancel_discards_the_upload(client, admin, db):
    add_key_time(db, "GB", am="09:00")
    response = upload(client, workbook([("GB", "", "AM", "10:00", "")]))
    page = response.get_data(as_text=True)
    cancel = re.search(r'action="(/key-times/upload/waiting/[^"]+/cancel)"', page).group(1)
    result = client.post(cancel, data={"csrf_token": csrf_token_of(client, "/key-times/")})
    assert "Upload cancelled: nothing was changed." in flash_after(client, result)
    assert stored(db)[("GB", "")][0] == "09:00"
    late = confirm(client, response)
    assert late.status_code == 410
    assert "That upload is no longer waiting to be confirmed" in late.get_data(as_text=True)
    assert stored(db)[("GB", "")][0] == "09:00"


def test_a_change_meanwhile_shows_the_preview_again(client, admin, db):
    add_key_time(db, "GB", am="09:00")
    response = upload(client, workbook([("GB", "", "AM", "10:00", "")]))
    db.session.rollback()
    row = db.session.query(KeyTime).one()
    row.am = "09:15"
    db.session.commit()
    again = confirm(client, response)
    text = text_of(again.get_data(as_text=True))
    assert "The key times of June 2026 changed after you checked this upload" in text
    assert "AM 09:15 10:00" in text
    assert stored(db)[("GB", "")][0] == "09:15"
    flash_after(client, confirm(client, again))
    assert stored(db)[("GB", "")][0] == "10:00"


def test_another_admins_upload_cannot_be_confirmed(client, admin, db, app, make_user):
    add_key_time(db, "GB", am="09:00")
    response = upload(client, workbook([("GB", "", "AM", "10:00", "")]))
    other = make_user("admin")
    with client.session_transaction() as session:
        session["_user_id"] = other.session_token
    assert confirm(client, response).status_code == 410
    assert stored(db)[("GB", "")][0] == "09:00"


def test_every_row_problem_is_reported_and_nothing_is_stored(client, admin, db):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Country", "Time Zone", "Session", "Key Time", "GMT"])
    sheet.append(["GB", "", "AM", "09:00", "08:00"])  # row 2: fine
    sheet.append(["Narnia", "", "AM", "09:00", ""])  # 3
    sheet.append(["GB", "Europe/Paris", "PM", "13:00", ""])  # 4
    sheet.append(["US", "", "Lunch", "12:00", ""])  # 5
    sheet.append(["GB", "", "EV", "25:00", ""])  # 6
    sheet.append(["FR", "", "AM", None, ""])  # 7
    sheet.append(["FR", "", "PM", "13:00", "1pm"])  # 8
    sheet.append(["GB", "", "AM", "10:00", ""])  # 9: row 2 again
    sheet.append(["DE", "", "AM", datetime(2026, 6, 2, 9, 0), ""])  # 10
    sheet.append(["IN", "", "AM", "=A1", ""])  # 11
    sheet.append(["JP", "", "AM", "#VALUE!", ""])  # 12
    sheet.append([None, None, None, None, None])  # blank rows are skipped
    sheet.append(["ES", "", "AM", "0900", ""])  # 14
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, buffer.getvalue(), name="bad.xlsx")
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert "Failed to upload file “bad.xlsx”: 11 problems in 12 rows. Nothing was changed." in text
    found = problems_of(response)
    assert found == [
        (
            "3",
            "Country",
            "Narnia",
            "“Narnia” is not a country: give its ISO code (like GB) or its English name",
        ),
        (
            "4",
            "Time Zone",
            "Europe/Paris",
            "“Europe/Paris” is not a time zone of Britain (UK): its time zone is "
            "Europe/London. Leave it blank for the whole country",
        ),
        (
            "5",
            "Session",
            "Lunch",
            "“Lunch” is not a session: write AM, PM or EV (or Morning, Afternoon, Evening)",
        ),
        ("6", "Key Time", "25:00", "not a time of day (HH:MM, 24-hour)"),
        ("7", "Key Time", "", "blank: enter the local time (HH:MM)"),
        ("8", "GMT", "1pm", "not a time of day (HH:MM, 24-hour)"),
        ("9", "Session", "AM", "row 2 already gives the AM key time for Britain (UK)"),
        ("10", "Key Time", "2026-06-02 09:00:00", "a date and time: give only the time of day"),
        ("11", "Key Time", "=A1", "a formula: paste values instead"),
        ("12", "Key Time", "#VALUE!", "an Excel error value, not text: correct the cell"),
        ("14", "Key Time", "0900", "not a time of day (HH:MM, 24-hour)"),
    ]
    assert count(db, KeyTime) == 0
    assert events(db, "key_times.uploaded") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Country,Session,Key Time\nGB,AM,09:00\n", "This is a text file (such as .csv)"),
        (b"", "The file is empty."),
        (
            workbook([("GB", "AM", "08:00")], header=("Country", "Session", "GMT")),
            "The header row (row 1) is missing the column(s) “Key Time”. It has “Country”, "
            "“Session”, “GMT”.",
        ),
        (workbook([]), "The sheet has a header (row 1) but no key times below it."),
    ],
)
def test_file_problems(client, admin, db, content, message):
    response = upload(client, content, name="times.xlsx")
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert "Failed to upload file “times.xlsx”." in text
    assert message in text
    assert count(db, KeyTime) == 0


def test_the_form_needs_a_file_and_a_series(client, admin):
    response = client.post(
        "/key-times/upload",
        data={"series": "2026-07", "csrf_token": csrf_token_of(client, "/key-times/upload")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert "There is a problem" in text
    assert "Choose a key-times file (.xlsx) to upload." in text
    assert 'Series must be March, June or November of a year, e.g. "June 2026".' in text


def test_the_sample_downloads_and_uploads_cleanly(client, admin, db):
    response = client.get("/key-times/sample.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="key-times-sample.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Country", "Time Zone", "Session", "Key Time", "GMT")
    assert ("GB", None, "AM", "09:00", "08:00") in rows
    text = flash_after(client, upload(client, response.data, name="key-times-sample.xlsx"))
    assert "June 2026: 5 key times added, 0 changed, 0 unchanged." in text
    assert set(stored(db)) == {
        ("GB", ""),
        ("US", "America/New_York"),
        ("US", "America/Chicago"),
        ("IN", ""),
    }


def test_an_upload_keeps_key_time_errors_up_to_date(client, admin, db, make_centre):
    from app.services.timetable.checks import refresh_key_time_errors

    centre = make_centre()
    add_slot(db, day=date(2026, 6, 2), session="AM")
    enter(db, centre)
    refresh_key_time_errors()
    db.session.commit()
    assert key_time_errors(db) == [("no-key-time", "GB", "AM")]
    flash_after(client, upload(client, workbook([("GB", "", "AM", "09:00", "09:00")])))
    assert key_time_errors(db) == [("gmt-disagrees", "GB", "AM")]
