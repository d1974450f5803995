"""Key Times → Timetable: the list, its filters (htmx and plain), paging, entries
counts, the series chooser, and deleting one slot."""

import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Event, TimetableSlot
from tests.conftest import csrf_token_of
from tests.key_times.timetable_fixtures import HTMX, add_slot, count, enter, flashed

URL = "/key-times/timetable"


def page_of(client, url=URL, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.get_data(as_text=True)


def htmx_post(client) -> dict:
    """What htmx sends with a POST from the page: its headers and the CSRF token."""
    return {**HTMX, "X-CSRFToken": csrf_token_of(client, "/")}


def codes_listed(page: str) -> list[str]:
    """ "0580/22" for each row of the results table, in order."""
    return [
        f"{s}/{c}"
        for s, c in re.findall(r'<tr id="slot-\d+">\s*<td>(\d{4})</td>\s*<td>(\d\d)</td>', page)
    ]


def test_only_admins_see_the_timetable(client, login_as):
    login_as("tp")
    assert client.get(URL).status_code == 403


def test_an_empty_series_says_to_upload_one(client, login_as, clock):
    login_as("admin")
    response, page = page_of(client, URL + "?series=2026-11")
    assert response.status_code == 200
    assert "<h1>Timetable</h1>" in page
    assert "No timetable for November 2026 yet: upload one below." in page
    assert '<h2 id="upload-heading">Upload the November 2026 timetable</h2>' in page
    assert 'href="/key-times/timetable/sample.xlsx?series=2026-11" download>sample</a>' in page
    assert "Components in the stored timetable that are not in the file are kept" in page


def test_the_series_shown_by_default_is_the_one_being_sat(client, login_as, clock):
    login_as("admin")
    _, page = page_of(client)
    assert '<option value="2026-06" selected>June 2026</option>' in page
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    _, page = page_of(client)
    assert '<option value="2026-11" selected>November 2026</option>' in page


def test_the_series_chooser_offers_series_with_a_timetable_too(client, login_as, clock):
    add_slot(series="2019-06", day=date(2019, 6, 4))
    login_as("admin")
    _, page = page_of(client)
    assert '<option value="2019-06">June 2019</option>' in page
    assert '<option value="2025-03">March 2025</option>' in page
    assert '<option value="2029-11">November 2029</option>' in page


def test_a_series_that_is_not_one_is_said_so(client, login_as, clock):
    login_as("admin")
    response, page = page_of(client, URL + "?series=2026-13")
    assert response.status_code == 422
    assert "There is a problem" in page
    assert 'Series must be March, June or November of a year, e.g. "June 2026".' in unescape(page)


def test_the_list_shows_each_slot_as_the_board_writes_it(client, login_as, clock):
    add_slot("0580", "42", date(2026, 6, 2), "PM", 150)
    add_slot("0580", "22", date(2026, 6, 2), "AM", 90, "45")
    add_slot("9093", "12", date(2026, 6, 3), "AM", 75)
    add_slot("0417", "11", date(2026, 6, 2), "EV", 60)
    add_slot("0580", "32", date(2026, 6, 4), "AM", 45, series="2026-11")
    login_as("admin")
    _, page = page_of(client, URL + "?series=2026-06")
    assert "4 components." in page
    # By date, then AM, PM, EV, then code
    assert codes_listed(page) == ["0580/22", "0580/42", "0417/11", "9093/12"]
    row = re.search(r'<tr id="slot-\d+">\s*<td>0580</td>\s*<td>22</td>(.*?)</tr>', page, re.S)[1]
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[:5] == [
        '<time datetime="2026-06-02">Tue 2 Jun 2026</time>',
        "AM",
        "1 h 30 min",
        "4, 5",
        "0",
    ]
    assert "<td>2 h 30 min</td>" in page and "<td>1 h 15 min</td>" in page
    assert "<td>1 h</td>" in page
    assert page.count("<td>All</td>") == 3
    for title in ("Syllabus", "Component", "Date", "Session", "Duration", "Zones", "Entries"):
        assert f'<th scope="col">{title}</th>' in page


def test_entries_counts_live_entries_of_the_series_in_one_query(
    client, login_as, make_centre, clock, app
):
    for n in range(1, 6):
        add_slot("0580", f"{n}2")
    centres = [make_centre() for _ in range(3)]
    for centre in centres:
        enter(centre, "0580", "12")
    enter(centres[0], "0580", "22")
    enter(centres[1], "0580", "22", withdrawn=datetime(2026, 5, 1, tzinfo=UTC))
    enter(centres[2], "0580", "22", series="2026-11")
    login_as("admin")

    statements: list[str] = []

    def counted(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        _, page = page_of(client, URL + "?series=2026-06")
        few = len(statements)
        for n in range(6, 10):
            add_slot("0580", f"{n}2")
        statements.clear()
        page_of(client, URL + "?series=2026-06")
        many = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    assert few == many  # not one query per row
    entries = dict(
        re.findall(
            r"<td>0580</td>\s*<td>(\d\d)</td>.*?<td>([\d,]+)</td>\s*<td>\s*<form", page, re.S
        )
    )
    assert entries == {"12": "3", "22": "1", "32": "0", "42": "0", "52": "0"}


@pytest.fixture
def spread(db):
    add_slot("0580", "22", date(2026, 6, 2), "AM")
    add_slot("0580", "21", date(2026, 6, 2), "PM")
    add_slot("0580", "42", date(2026, 6, 5), "PM")
    add_slot("0581", "22", date(2026, 6, 3), "EV")
    add_slot("9093", "12", date(2026, 6, 3), "AM")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("code=0580", ["0580/22", "0580/21", "0580/42"]),
        ("code=058", ["0580/22", "0580/21", "0581/22", "0580/42"]),
        ("code=0580/22", ["0580/22"]),
        ("code=0580/2", ["0580/22", "0580/21"]),
        ("code=+0580+/+4+", ["0580/42"]),
        ("date=2026-06-03", ["9093/12", "0581/22"]),
        ("session=pm", ["0580/21", "0580/42"]),
        ("code=0580&session=PM&date=2026-06-05", ["0580/42"]),
    ],
)
def test_filters_without_javascript(client, login_as, clock, spread, query, expected):
    login_as("admin")
    response, page = page_of(client, f"{URL}?series=2026-06&{query}")
    assert response.status_code == 200
    assert codes_listed(page) == expected
    assert "<html" in page
    assert (
        f"{len(expected)} component{'' if len(expected) == 1 else 's'} matching, of 5 in the "
        "timetable." in page
    )


def test_filters_with_htmx_answer_with_the_results_only(client, login_as, clock, spread):
    login_as("admin")
    response, page = page_of(client, f"{URL}?series=2026-06&code=0580/4", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in page and "<h1>" not in page
    assert codes_listed(page) == ["0580/42"]
    _, whole = page_of(client, f"{URL}?series=2026-06")
    assert 'hx-get="/key-times/timetable"' in whole
    assert 'hx-target="#timetable-results"' in whole
    assert 'hx-trigger="input changed delay:300ms, search"' in whole
    assert '<div id="timetable-results" aria-live="polite">' in whole


def test_filters_matching_nothing_say_so(client, login_as, clock, spread):
    login_as("admin")
    _, page = page_of(client, f"{URL}?series=2026-06&code=1234", headers=HTMX)
    assert "No components of the June 2026 timetable match these filters." in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("code=0580/222", "Enter a syllabus code such as 0580, or a component such as 0580/22."),
        ("code=05/2", "Enter a syllabus code such as 0580, or a component such as 0580/22."),
        ("code=abc", "Enter a syllabus code such as 0580, or a component such as 0580/22."),
        ("date=2026-02-30", "Enter the date as a date, e.g. 2026-06-02."),
        ("session=XX", "Choose a session: AM, PM or EV."),
    ],
)
def test_filters_that_cannot_be_used_are_said_so(client, login_as, clock, spread, query, message):
    login_as("admin")
    for headers in (None, HTMX):
        response, page = page_of(client, f"{URL}?series=2026-06&{query}", headers=headers)
        assert response.status_code == 422
        assert "There is a problem" in page and message in page
        assert codes_listed(page) == []


def test_fifty_a_page_with_previous_and_next(client, login_as, clock):
    for n in range(120):
        add_slot(f"{1000 + n:04d}", "11", date(2026, 6, 2))
    login_as("admin")
    _, page = page_of(client, URL + "?series=2026-06")
    assert "Showing 1–50 of 120 components." in page
    assert codes_listed(page)[0] == "1000/11" and len(codes_listed(page)) == 50
    assert "Page 1 of 3" in page and 'rel="prev"' not in page
    next_url = re.search(r'<a href="([^"]+)" rel="next"', page)[1].replace("&amp;", "&")
    _, page = page_of(client, next_url)
    assert "Showing 51–100 of 120 components." in page and codes_listed(page)[0] == "1050/11"
    _, page = page_of(client, URL + "?series=2026-06&page=3", headers=HTMX)
    assert len(codes_listed(page)) == 20 and "Page 3 of 3" in page and 'rel="next"' not in page
    _, page = page_of(client, URL + "?series=2026-06&page=99")
    assert "Page 3 of 3" in page
    _, page = page_of(client, URL + "?series=2026-06&page=x")
    assert "Page 1 of 3" in page
    _, page = page_of(client, URL + "?series=2026-06&code=100")
    assert "Showing 1–10 of 10" not in page and len(codes_listed(page)) == 10


def test_the_link_back_to_key_times_is_there_once_that_page_is(client, login_as, clock, app):
    login_as("admin")
    _, page = page_of(client)
    assert ("Back to Key Times" in page) == ("key_times.index" in app.view_functions)


def slot_id(syllabus="0580", component="22") -> int:
    db.session.rollback()
    return db.session.scalar(
        select(TimetableSlot.id).where(
            TimetableSlot.syllabus == syllabus, TimetableSlot.component == component
        )
    )


def test_delete_asks_first_without_javascript(client, login_as, clock, spread):
    login_as("admin")
    ident = slot_id()
    response, page = page_of(client, f"{URL}/slots/{ident}/delete?series=2026-06&code=0580")
    assert response.status_code == 200
    assert "Delete 0580/22 from the June 2026 timetable?" in page
    assert "0580/22 is sat on Tue 2 Jun 2026 (AM)." in page
    action = re.search(r'<form method="post" action="([^"]+)" class="actions">', page)[1]
    action = action.replace("&amp;", "&")
    response = client.post(
        action, data={"confirmed": "yes", "csrf_token": csrf_token_of(client, "/")}
    )
    assert response.headers["Location"].endswith("/key-times/timetable?series=2026-06&code=0580")
    page = flashed(client, response)
    assert "0580/22 deleted from the June 2026 timetable." in page
    assert codes_listed(page) == ["0580/21", "0580/42"]
    assert count(TimetableSlot) == 4
    event_row = db.session.scalars(
        select(Event).where(Event.action == "timetable.slot_deleted")
    ).one()
    assert event_row.details["component"] == "0580/22"
    assert event_row.details["series"] == "2026-06"
    assert event_row.subject_type == "TimetableSlot" and event_row.subject_id == ident


def test_delete_with_htmx_updates_the_list(client, login_as, clock, spread):
    login_as("admin")
    _, page = page_of(client, URL + "?series=2026-06&session=PM")
    assert 'hx-confirm="Delete 0580/21 from the June 2026 timetable?"' in page
    ident = slot_id("0580", "21")
    response = client.post(
        f"{URL}/slots/{ident}/delete?series=2026-06&session=PM",
        headers=htmx_post(client),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert "0580/21 deleted from the June 2026 timetable." in page
    assert codes_listed(page) == ["0580/42"]


def test_a_slot_with_live_entries_is_not_deleted(client, login_as, make_centre, clock, spread):
    login_as("admin")
    one, two = make_centre(), make_centre()
    enter(one)
    enter(two)
    enter(make_centre(), withdrawn=datetime(2026, 5, 1, tzinfo=UTC))
    ident = slot_id()
    message = (
        "0580/22 cannot be deleted: June 2026 has 2 live entries for it. The entries must be "
        "withdrawn first"
    )
    response = client.post(f"{URL}/slots/{ident}/delete?series=2026-06", headers=htmx_post(client))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    response = client.post(
        f"{URL}/slots/{ident}/delete?series=2026-06",
        data={"confirmed": "yes", "csrf_token": csrf_token_of(client, "/")},
    )
    assert message in flashed(client, response)
    assert count(TimetableSlot, TimetableSlot.id == ident) == 1
    assert count(Event, Event.action == "timetable.slot_deleted") == 0


def test_deleting_a_slot_that_is_gone_is_a_404(client, login_as, clock):
    login_as("admin")
    assert client.get(f"{URL}/slots/999/delete").status_code == 404
