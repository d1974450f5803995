"""Uploading a timetable: every cell form it reads, every problem it reports (row and
column, nothing stored), the preview that waits for Confirm, and what it leaves alone."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Event, KeyTimeError, TimetableSlot
from app.services.spreadsheets.pending import PendingFiles
from app.services.timetable.slots import read_timetable
from tests.key_times.timetable_fixtures import (
    PREVIEW_HEADING,
    SERIES,
    add_slot,
    cancel,
    confirm,
    count,
    enter,
    flashed,
    preview_forms,
    stored,
    upload,
    workbook,
)

JUNE_2 = date(2026, 6, 2)
GOOD = ("0580", "22", "2026-06-02", "AM", 90, "4, 5")


def problems_of(response) -> list[tuple[str, str, str, str]]:
    """(row, column, value, problem) of each row of the problems table."""
    page = unescape(response.get_data(as_text=True))
    body = re.search(r'<table class="problems">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[-4000:]
    return [
        tuple(c.strip() for c in cells)
        for cells in re.findall(
            r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body[1], re.S
        )
    ]


def events(action="timetable.uploaded") -> list[Event]:
    db.session.rollback()
    return list(db.session.scalars(select(Event).where(Event.action == action)))


# ---------------------------------------------------------------------------
# A valid file


def test_a_valid_file_is_stored_at_once(client, login_as, clock):
    login_as("admin")
    content = workbook(
        [
            GOOD,
            ("0580", "42", "2026-06-02", "PM", 150, None),
            ("9093", "12", "2026-06-03", "AM", 75, ""),
        ]
    )
    response = upload(client, content, "June timetable.xlsx")
    assert response.headers["Location"].endswith("/key-times/timetable?series=2026-06")
    page = flashed(client, response)
    assert "3 components added, 0 changed, 0 unchanged." in page
    assert count(TimetableSlot) == 3
    slot = db.session.scalars(select(TimetableSlot).where(TimetableSlot.component == "22")).one()
    assert (slot.series, slot.syllabus, slot.exam_date, slot.session) == (
        SERIES,
        "0580",
        JUNE_2,
        "AM",
    )
    assert (slot.duration_minutes, slot.zones) == (90, "45")
    (event,) = events()
    assert event.details["file_name"] == "June timetable.xlsx"
    assert event.details["series"] == SERIES
    assert (event.details["added"], event.details["changed"], event.details["unchanged"]) == (
        3,
        0,
        0,
    )


def test_the_sample_round_trips(client, login_as, clock):
    login_as("admin")
    response = client.get("/key-times/timetable/sample.xlsx?series=2026-06")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="timetable-sample-2026-06.xlsx"'
    )
    assert read_timetable(response.data, SERIES).problems == []
    page = flashed(client, upload(client, response.data, "timetable-sample-2026-06.xlsx"))
    assert "3 components added, 0 changed, 0 unchanged." in page
    assert stored() == {
        "0580/22": (JUNE_2, "AM", 90, "45"),
        "0580/42": (JUNE_2, "PM", 150, ""),
        "9093/12": (date(2026, 6, 3), "AM", 75, ""),
    }
    # For another series, the sample's dates are that series'.
    november = client.get("/key-times/timetable/sample.xlsx?series=2027-11").data
    assert read_timetable(november, "2027-11").rows[0].exam_date == date(2027, 11, 2)


def test_the_same_file_twice_changes_nothing_and_says_so(client, login_as, clock):
    login_as("admin")
    content = workbook([GOOD, ("9093", "12", "2026-06-03", "AM", 75, "")])
    flashed(client, upload(client, content))
    before = stored()
    page = flashed(client, upload(client, content))
    assert "Nothing changed: the timetable already matches this file." in page
    assert stored() == before
    assert len(events()) == 1


def test_components_the_file_leaves_out_are_kept(client, login_as, clock):
    add_slot("0580", "31")
    add_slot("0580", "32")
    login_as("admin")
    page = flashed(client, upload(client, workbook([GOOD])))
    assert (
        "1 component added, 0 changed, 0 unchanged. 2 components in the stored timetable are "
        "not in this file and were kept."
    ) in page
    assert set(stored()) == {"0580/22", "0580/31", "0580/32"}
    page = flashed(client, upload(client, workbook([GOOD])))
    assert (
        "Nothing changed: the timetable already matches this file. 2 components in the stored "
        "timetable are not in this file and were kept."
    ) in page


def test_other_series_are_untouched(client, login_as, clock):
    add_slot("0580", "22", date(2026, 11, 3), series="2026-11")
    login_as("admin")
    flashed(client, upload(client, workbook([GOOD])))
    assert stored()["0580/22"] == (JUNE_2, "AM", 90, "45")
    assert stored("2026-11") == {"0580/22": (date(2026, 11, 3), "AM", 90, "")}


# ---------------------------------------------------------------------------
# What each column accepts


def read_one(*cells, series=SERIES):
    result = read_timetable(workbook([cells]), series)
    assert result.problems == [], result.problems
    return result.rows[0]


@pytest.mark.parametrize(
    "syllabus, component, expected",
    [
        (580, 2, ("0580", "02")),
        (580.0, 22.0, ("0580", "22")),
        ("0580", "2", ("0580", "02")),
        (9093, " 12 ", ("9093", "12")),
        (12, "07", ("0012", "07")),
    ],
)
def test_syllabus_and_component_numbers_are_padded(syllabus, component, expected):
    row = read_one(syllabus, component, "2026-06-02", "AM", 90, "")
    assert (row.syllabus, row.component) == expected


@pytest.mark.parametrize(
    "cell",
    [
        datetime(2026, 6, 2),
        JUNE_2,
        "2026-06-02",
        " 2026-6-2 ",
        "02/06/2026",
        "2/6/2026",
    ],
)
def test_dates_as_date_cells_or_text(cell):
    assert read_one("0580", "22", cell, "AM", 90, "").exam_date == JUNE_2


@pytest.mark.parametrize(
    "cell, minutes",
    [
        (90, 90),
        (90.0, 90),
        ("90", 90),
        ("1:30", 90),
        ("01:30:00", 90),
        ("1h 30m", 90),
        ("1h30", 90),
        ("1 h 30 min", 90),
        ("1 hour 30 minutes", 90),
        ("2 h", 120),
        ("2h", 120),
        ("45 min", 45),
        ("45m", 45),
        (time(1, 30), 90),
        (timedelta(hours=2, minutes=30), 150),
        (timedelta(hours=12), 720),
        (1, 1),
    ],
)
def test_durations_in_every_form(cell, minutes):
    assert read_one("0580", "22", "2026-06-02", "AM", cell, "").minutes == minutes


@pytest.mark.parametrize(
    "cell, zones",
    [
        (None, ""),
        ("", ""),
        ("All", ""),
        ("4, 5", "45"),
        ("5;4", "45"),
        ("4 5", "45"),
        ("6,1, 3", "136"),
        ("4, 4", "4"),
        (4, "4"),
        (4.0, "4"),
        ("4", "4"),
    ],
)
def test_zones_in_every_form(cell, zones):
    assert read_one("0580", "22", "2026-06-02", "AM", 90, cell).zones == zones


@pytest.mark.parametrize(
    "cell, session",
    [
        ("AM", "AM"),
        ("pm", "PM"),
        ("Ev", "EV"),
        ("Morning", "AM"),
        ("AFTERNOON", "PM"),
        (" evening ", "EV"),
    ],
)
def test_sessions_by_code_or_name(cell, session):
    assert read_one("0580", "22", "2026-06-02", cell, 90, "").session == session


def test_the_zones_column_may_be_left_out_and_columns_come_in_any_order(client, login_as, clock):
    login_as("admin")
    content = workbook(
        [(90, "pm", "2026-06-02", "42", "0580")],
        header=("Duration", "Session", "Date", "Component", "Syllabus"),
    )
    flashed(client, upload(client, content))
    assert stored() == {"0580/42": (JUNE_2, "PM", 90, "")}


# ---------------------------------------------------------------------------
# Row problems: each named by row, column and value; nothing stored


UNCLEAR_45 = (
    "unclear: is 45 one zone or several? Zones are 1 to 6: list them separated by commas, "
    "e.g. “4, 5”"
)
ROW_PROBLEMS = [
    # (column index, cell, column title, value shown, reason)
    (0, "58A0", "Syllabus", "58A0", "not a syllabus code: a syllabus code has 4 digits, e.g. 0580"),
    (
        0,
        "580",
        "Syllabus",
        "580",
        "not 4 digits: a syllabus code has 4 digits (did you mean 0580?)",
    ),
    (0, 12345, "Syllabus", "12345", "not a syllabus code: a syllabus code has 4 digits, e.g. 0580"),
    (0, None, "Syllabus", "", "blank: give the syllabus code, e.g. 0580"),
    (1, "222", "Component", "222", "not a component: a component has 2 digits, e.g. 22"),
    (1, 0, "Component", "0", "not a component: there is no component 00"),
    (1, "", "Component", "", "blank: give the component, e.g. 22"),
    (2, "2026-02-30", "Date", "2026-02-30", "not a date that exists"),
    (
        2,
        "June 2",
        "Date",
        "June 2",
        "not a date: use an Excel date, or write it as 2026-06-02 or 02/06/2026",
    ),
    (
        2,
        "2025-06-02",
        "Date",
        "2025-06-02",
        "not in this series: its exams are sat from 1 April to 30 June 2026",
    ),
    (
        2,
        datetime(2027, 6, 2),
        "Date",
        "2027-06-02 00:00:00",
        "not in this series: its exams are sat from 1 April to 30 June 2026",
    ),
    (
        2,
        "06/02/2026",  # meant month first, as in the US: read day first, it is February
        "Date",
        "06/02/2026",
        "not in this series: its exams are sat from 1 April to 30 June 2026 (dates are "
        "written day first: 02/06/2026 is 2 June)",
    ),
    (
        2,
        datetime(2026, 6, 2, 9, 0),
        "Date",
        "2026-06-02 09:00:00",
        "a date with a time of day: give the date alone",
    ),
    (
        2,
        46175,
        "Date",
        "46175",
        "a number, not a date: format the cell as a date, or write it as 2026-06-02",
    ),
    (2, None, "Date", "", "blank: give the exam date, e.g. 2026-06-02"),
    (
        3,
        "Noon",
        "Session",
        "Noon",
        "not a session: use AM, PM or EV (or Morning, Afternoon, Evening)",
    ),
    (3, None, "Session", "", "blank: give the session, AM, PM or EV"),
    (4, 0, "Duration", "0", "not between 1 minute and 12 hours (720 minutes)"),
    (4, "721", "Duration", "721", "not between 1 minute and 12 hours (720 minutes)"),
    (
        4,
        "ninety",
        "Duration",
        "ninety",
        "not a duration: give minutes (90) or hours and minutes (1:30 or 1 h 30 min)",
    ),
    (
        4,
        1.5,
        "Duration",
        "1.5",
        "not a whole number of minutes: give minutes (90) or hours and minutes (1:30)",
    ),
    (4, None, "Duration", "", "blank: give the duration in minutes, e.g. 90"),
    (
        5,
        45,
        "Zones",
        "45",
        UNCLEAR_45,
    ),
    (
        5,
        "45",
        "Zones",
        "45",
        UNCLEAR_45,
    ),
    (5, "7", "Zones", "7", "“7” is not a zone: zones are 1 to 6, listed as “4, 5” (blank for all)"),
    (
        5,
        "4-5",
        "Zones",
        "4-5",
        "“4-5” is not a zone: zones are 1 to 6, listed as “4, 5” (blank for all)",
    ),
    (5, "=4+1", "Zones", "=4+1", "a formula: paste values instead"),
    (3, "#N/A", "Session", "#N/A", "an Excel error value: correct the cell"),
]


@pytest.mark.parametrize(
    "index, cell, title, shown, reason", ROW_PROBLEMS, ids=[f"{p[2]}-{p[3]}" for p in ROW_PROBLEMS]
)
def test_each_row_problem_is_named_by_row_and_column(
    client, login_as, clock, index, cell, title, shown, reason
):
    login_as("admin")
    bad = list(("9093", "12", "2026-06-03", "AM", 75, ""))
    bad[index] = cell
    response = upload(client, workbook([GOOD, bad]), "bad.xlsx")
    assert response.status_code == 422
    assert problems_of(response) == [("3", title, shown, reason)]
    page = unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert "“bad.xlsx” was not uploaded: 1 problem in 2 rows. Nothing was changed." in page
    assert count(TimetableSlot) == 0 and events() == []


def test_a_component_given_twice_names_the_earlier_row(client, login_as, clock):
    login_as("admin")
    content = workbook(
        [GOOD, ("9093", "12", "2026-06-03", "AM", 75, ""), (580, 22, "2026-06-04", "PM", 60, "")]
    )
    response = upload(client, content)
    assert problems_of(response) == [
        ("4", "Component", "0580/22", "0580/22 is on row 2 already: give each component once")
    ]
    assert count(TimetableSlot) == 0


def test_every_problem_of_every_row_is_listed_at_once(client, login_as, clock):
    add_slot("0580", "22", date(2026, 6, 5))
    login_as("admin")
    content = workbook(
        [
            ("0580", "22", "2026-06-02", "AM", 90, ""),  # would change the stored one
            ("05800", "1", "2025-01-01", "Noon", "90", ""),
            (None, None, None, None, None, None),  # blank rows are skipped
            ("0580", "42", "2026-06-02", "PM", "0", "9"),
        ]
    )
    response = upload(client, content, "many.xlsx")
    assert response.status_code == 422
    assert [(row, column) for row, column, _, _ in problems_of(response)] == [
        ("3", "Syllabus"),
        ("3", "Date"),
        ("3", "Session"),
        ("5", "Duration"),
        ("5", "Zones"),
    ]
    assert "5 problems in 3 rows" in response.get_data(as_text=True)
    assert stored() == {"0580/22": (date(2026, 6, 5), "AM", 90, "")}


# ---------------------------------------------------------------------------
# The file as a whole


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"Syllabus,Component\n0580,22\n",
            "This is a text file (such as .csv), not an Excel workbook.",
        ),
        (
            b"\x00\x01 not a workbook",
            "This is not an Excel workbook (.xlsx), or the file is damaged.",
        ),
        (b"", "The file is empty."),
        (
            workbook(
                [("0580", "22", "2026-06-02", 90)],
                header=("Syllabus", "Component", "Date", "Duration"),
            ),
            "The header row (row 1) is missing the column(s) “Session”.",
        ),
        (
            workbook([], header=("Syllabus", "Component", "Date", "Session", "Duration")),
            "The sheet has a header (row 1) but no timetable rows below it.",
        ),
        (workbook([], header=None), "The sheet is empty: there is no header row and no timetable."),
        (
            workbook([GOOD], sheets=("Timetable", "Notes")),
            "The workbook has 2 sheets (“Timetable”, “Notes”).",
        ),
    ],
    ids=["csv", "junk", "empty", "missing-column", "no-rows", "blank-sheet", "two-sheets"],
)
def test_file_problems_are_said_and_nothing_stored(client, login_as, clock, content, message):
    login_as("admin")
    response = upload(client, content, "file.xlsx")
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert "“file.xlsx” was not uploaded. " in page and message in page
    assert count(TimetableSlot) == 0


def test_no_file_chosen(client, login_as, clock, csrf_token):
    login_as("admin")
    response = client.post(
        "/key-times/timetable/upload",
        data={"series": SERIES, "csrf_token": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Choose a file to upload." in page
    assert 'aria-invalid="true" aria-describedby="file-error"' in page


def test_a_series_that_is_not_one_is_refused(client, login_as, clock):
    login_as("admin")
    response = upload(client, workbook([GOOD]), series="2026-07")
    assert response.status_code == 422
    assert "Series must be March, June or November" in response.get_data(as_text=True)
    assert count(TimetableSlot) == 0


def test_the_dates_must_be_in_the_series_months(client, login_as, clock):
    login_as("admin")
    response = upload(client, workbook([GOOD]), series="2026-11")
    assert problems_of(response) == [
        (
            "2",
            "Date",
            "2026-06-02",
            "not in this series: its exams are sat from 1 September to 30 November 2026",
        )
    ]


def test_a_march_series_starts_in_the_year_before():
    from app.services.timetable.slots import series_dates

    assert series_dates("2027-03") == (date(2027, 1, 1), date(2027, 3, 31))
    assert series_dates("2026-11") == (date(2026, 9, 1), date(2026, 11, 30))


# ---------------------------------------------------------------------------
# Changes to stored slots wait for Confirm


def changing_file():
    return workbook(
        [
            ("0580", "22", "2026-06-03", "PM", "2:00", "4, 5"),  # date, session, duration change
            ("0580", "42", "2026-06-02", "PM", 150, ""),  # unchanged
            ("9093", "12", "2026-06-03", "AM", 75, ""),  # new
        ]
    )


@pytest.fixture
def stored_slots(db):
    add_slot("0580", "22", JUNE_2, "AM", 90, "45")
    add_slot("0580", "42", JUNE_2, "PM", 150, "")
    add_slot("0417", "11", JUNE_2, "EV", 60, "")  # not in the file: kept


def test_changes_are_shown_then_applied_on_confirm(client, login_as, clock, stored_slots):
    login_as("admin")
    response = upload(client, changing_file(), "new dates.xlsx")
    page = unescape(response.get_data(as_text=True))
    assert PREVIEW_HEADING in page
    assert "“new dates.xlsx”, for June 2026. Nothing has been changed yet." in page
    assert "change 1 stored component" in page and "add 1 component;" in page
    assert "leave 1 unchanged." in page
    assert "1 component in the stored timetable is not in this file: it will be kept." in page
    assert "<li>Date: Tue 2 Jun 2026 → Wed 3 Jun 2026</li>" in page
    assert "<li>Session: AM → PM</li>" in page
    assert "<li>Duration: 1 h 30 min → 2 h</li>" in page
    assert "Zones:" not in page
    assert (
        "<td>9093/12</td><td>Wed 3 Jun 2026</td><td>AM</td><td>1 h 15 min</td><td>All</td>" in page
    )
    assert stored()["0580/22"] == (JUNE_2, "AM", 90, "45") and "9093/12" not in stored()
    assert events() == []

    done = flashed(client, confirm(client, response))
    assert (
        "1 component added, 1 changed, 1 unchanged. 1 component in the stored timetable is not "
        "in this file and was kept."
    ) in done
    assert stored() == {
        "0580/22": (date(2026, 6, 3), "PM", 120, "45"),
        "0580/42": (JUNE_2, "PM", 150, ""),
        "0417/11": (JUNE_2, "EV", 60, ""),
        "9093/12": (date(2026, 6, 3), "AM", 75, ""),
    }
    (event,) = events()
    assert event.details["changes"] == [
        {
            "component": "0580/22",
            "fields": [
                ["Date", "Tue 2 Jun 2026", "Wed 3 Jun 2026"],
                ["Session", "AM", "PM"],
                ["Duration", "1 h 30 min", "2 h"],
            ],
        }
    ]
    # The kept file is gone: a second Confirm is refused.
    again = confirm(client, response)
    assert again.status_code == 410
    assert "That upload is no longer waiting to be confirmed" in again.get_data(as_text=True)


def test_a_timetable_changed_since_the_preview_is_shown_again(
    client, login_as, clock, stored_slots
):
    login_as("admin")
    response = upload(client, changing_file())
    db.session.rollback()
    slot = db.session.scalars(select(TimetableSlot).where(TimetableSlot.component == "42")).one()
    slot.duration_minutes = 120  # someone else's change, after the preview
    db.session.commit()

    again = confirm(client, response)
    page = unescape(again.get_data(as_text=True))
    assert again.status_code == 200 and PREVIEW_HEADING in page
    assert "The stored June 2026 timetable changed after you checked this upload" in page
    assert "<li>Duration: 2 h → 2 h 30 min</li>" in page
    assert "9093/12" not in stored() and events() == []

    flashed(client, confirm(client, again))
    assert stored()["0580/42"] == (JUNE_2, "PM", 150, "")
    assert "9093/12" in stored()


def test_a_confirm_for_another_plan_is_not_applied(client, login_as, clock, stored_slots):
    login_as("admin")
    response = upload(client, changing_file())
    again = confirm(client, response, plan="0" * 64)
    assert PREVIEW_HEADING in again.get_data(as_text=True)
    assert "9093/12" not in stored()


def test_cancel_discards_the_upload(client, login_as, clock, stored_slots):
    login_as("admin")
    response = upload(client, changing_file())
    token = preview_forms(response)[0].rsplit("/", 1)[1]
    cancelled = cancel(client, response)
    assert cancelled.headers["Location"].endswith("/key-times/timetable?series=2026-06")
    assert "Upload cancelled: nothing was changed." in flashed(client, cancelled)
    assert stored()["0580/22"] == (JUNE_2, "AM", 90, "45")
    assert confirm(client, response).status_code == 410
    assert PendingFiles(client.application.instance_path).find("timetable", token, 1) is None


def test_another_admin_cannot_confirm_it(client, login_as, clock, stored_slots):
    login_as("admin")
    response = upload(client, changing_file())
    login_as("admin")  # someone else, on the same browser
    assert confirm(client, response).status_code == 410
    assert "9093/12" not in stored()


def test_only_additions_need_no_confirm(client, login_as, clock, stored_slots):
    login_as("admin")
    content = workbook(
        [("0580", "42", "2026-06-02", "PM", 150, ""), ("9093", "12", "2026-06-03", "AM", 75, "")]
    )
    page = flashed(client, upload(client, content))
    assert "1 component added, 0 changed, 1 unchanged." in page


# ---------------------------------------------------------------------------
# The release clock follows


def test_key_time_errors_follow_the_timetable(client, login_as, make_centre, clock):
    centre = make_centre(country="GB", timezone="Europe/London")
    enter(centre, "0580", "22")
    login_as("admin")
    assert count(KeyTimeError) == 0  # not timetabled: an Entry Error, not a Key Time Error
    flashed(client, upload(client, workbook([GOOD])))
    db.session.rollback()
    (error,) = db.session.scalars(select(KeyTimeError)).all()
    assert (error.kind, error.series, error.country, error.session) == (
        "no-key-time",
        SERIES,
        "GB",
        "AM",
    )
    assert error.exam_date == JUNE_2 and error.entries == 1

    # Moving the exam to the evening moves the error with it.
    moved = upload(client, workbook([("0580", "22", "2026-06-02", "EV", 90, "4, 5")]))
    flashed(client, confirm(client, moved))
    db.session.rollback()
    assert db.session.scalars(select(KeyTimeError.session)).all() == ["EV"]


def test_a_slot_whose_entries_were_all_withdrawn_can_be_deleted(
    client, login_as, make_centre, clock, csrf_token
):
    centre = make_centre()
    enter(centre, "0580", "22", withdrawn=datetime(2026, 5, 1, tzinfo=UTC))
    add_slot("0580", "22")
    login_as("admin")
    slot_id = db.session.scalar(select(TimetableSlot.id))
    response = client.post(
        f"/key-times/timetable/slots/{slot_id}/delete",
        data={"confirmed": "yes", "csrf_token": csrf_token(client, "/")},
    )
    assert "0580/22 deleted from the June 2026 timetable." in flashed(client, response)
    assert count(TimetableSlot) == 0
