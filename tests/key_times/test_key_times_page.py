"""The Key Times page: the series chooser, the table, centre counts and the UTC column."""

import re
from datetime import UTC, date, datetime

from sqlalchemy import event

from app.extensions import db as _db
from tests.key_times.key_time_fixtures import (
    NOVEMBER,
    add_key_time,
    add_slot,
    admin,
    row_html,
    text_of,
)

# The fixtures these tests use (imported, so that pytest finds them here).
__all__ = ["admin"]


def test_admins_only(client, login_as):
    assert client.get("/key-times/").status_code == 302  # to sign in
    login_as("tp")
    assert client.get("/key-times/").status_code == 403


def test_menu_links_to_the_page(client, admin):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/key-times/"' in page


def test_empty_state(client, admin):
    response = client.get("/key-times/")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Key times for June 2026" in text  # the series being sat on 1 June 2026
    assert "There are no key times for June 2026 yet, and no centres to set them for." in text
    assert "No other series has key times to copy yet." in text
    # With no timetable, UTC is shown for the 1st of the series' month.
    assert 'value="2026-06-01"' in response.get_data(as_text=True)


def test_countries_with_centres_but_no_row_are_listed(client, admin, make_centre):
    make_centre(country="FR", timezone="Europe/Paris")
    make_centre(country="FR", timezone="Europe/Paris")
    make_centre(country="DE", timezone="Europe/Berlin")
    make_centre(country="IT", timezone="Europe/Rome", deleted_at=datetime(2026, 5, 1, tzinfo=UTC))
    page = client.get("/key-times/?series=2026-06").get_data(as_text=True)
    france = text_of(row_html(page, "key-time-FR"))
    assert france.startswith("France (FR) Whole country 2 — — —")
    assert "Set key times" in france
    assert "Germany (DE)" in page
    assert 'id="key-time-IT"' not in page  # its only centre is deleted
    assert page.index("France (FR)") < page.index("Germany (DE)")  # by country name


def test_counts_by_zone_and_the_whole_country(client, admin, make_centre, db):
    for _ in range(3):
        make_centre(country="US", timezone="America/New_York")
    for _ in range(2):
        make_centre(country="US", timezone="America/Chicago")
    make_centre(country="US", timezone="America/Denver")
    add_key_time(db, "US", am="09:00")
    add_key_time(db, "US", "America/Chicago", am="08:00")
    page = client.get("/key-times/?series=2026-06&on=2026-06-02").get_data(as_text=True)
    chicago = text_of(row_html(page, "key-time-US-America-Chicago"))
    whole = text_of(row_html(page, "key-time-US"))
    # Chicago's row: its 2 centres; the whole country's: the 4 it covers, UTC for the zone
    # most of them use.
    assert chicago.startswith("United States (US) America/Chicago 2 08:00 local 13:00 UTC")
    assert whole.startswith(
        "United States (US) Whole country UTC for America/New_York, the time zone most of "
        "its centres use 4 09:00 local 13:00 UTC"
    )


def test_counts_take_two_queries_however_many_countries(client, admin, make_centre, db):
    for country, zone in [("GB", "Europe/London"), ("FR", "Europe/Paris"), ("IN", "Asia/Kolkata")]:
        make_centre(country=country, timezone=zone)
        add_key_time(db, country, am="09:00")
    statements = []

    def count_it(conn, cursor, statement, *args):
        if "centres" in statement or "key_times" in statement:
            statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", count_it)
    try:
        client.get("/key-times/?series=2026-06")
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    few = len(statements)
    for n in range(10):
        make_centre(country="DE", timezone="Europe/Berlin", number=f"DE{n:03d}")
    add_key_time(db, "DE", am="09:00")
    statements.clear()
    event.listen(engine, "before_cursor_execute", count_it)
    try:
        client.get("/key-times/?series=2026-06")
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    assert len(statements) == few  # no query per row


def test_utc_in_june_and_november(client, admin, db, make_centre):
    make_centre()  # GB, Europe/London
    add_key_time(db, "GB", am="09:00", am_gmt="08:00", pm="13:30")
    add_key_time(db, "GB", series=NOVEMBER, am="09:00", am_gmt="09:00")
    june = client.get("/key-times/?series=2026-06&on=2026-06-02").get_data(as_text=True)
    row = text_of(row_html(june, "key-time-GB"))
    assert "09:00 local Published 08:00 GMT 08:00 UTC" in row  # BST: UTC+1
    assert "13:30 local 12:30 UTC" in row
    assert "UTC for Europe/London, the time zone most of its centres use" in row
    november = client.get("/key-times/?series=2026-11&on=2026-11-04").get_data(as_text=True)
    row = text_of(row_html(november, "key-time-GB"))
    assert "09:00 local Published 09:00 GMT 09:00 UTC" in row  # GMT again
    assert "Local key times in November 2026, with UTC on Wed 04 Nov 2026" in text_of(november)


def test_the_date_defaults_to_the_series_first_exam(client, admin, db):
    add_slot(db, day=date(2026, 6, 9))
    add_slot(db, component="42", day=date(2026, 5, 28))
    page = client.get("/key-times/?series=2026-06").get_data(as_text=True)
    assert 'value="2026-05-28"' in page
    assert "Thursday 28 May 2026" in text_of(page)


def test_a_time_that_does_not_exist_on_the_date_is_said_in_words(client, admin, db):
    add_key_time(db, "GB", series="2026-03", ev="01:30")
    page = client.get("/key-times/?series=2026-03&on=2026-03-29").get_data(as_text=True)
    row = text_of(row_html(page, "key-time-GB"))
    assert "01:30 local 01:30 on 29 Mar 2026 does not exist in Europe/London: the clocks go" in row
    assert not re.search(r"[0-9]{2}:[0-9]{2} UTC", row)  # no UTC time is guessed for it
    add_key_time(db, "GB", series="2026-11", ev="01:30")
    page = client.get("/key-times/?series=2026-11&on=2026-10-25").get_data(as_text=True)
    assert "01:30 on 25 Oct 2026 happens twice in Europe/London" in text_of(page)


def test_a_published_gmt_time_that_disagrees_is_marked(client, admin, db):
    add_key_time(db, "GB", am="09:00", am_gmt="09:00")
    page = client.get("/key-times/?series=2026-06&on=2026-06-02").get_data(as_text=True)
    assert "Not the published GMT time on this date." in text_of(row_html(page, "key-time-GB"))


def test_a_utc_time_on_another_day_names_it(client, admin, db):
    add_key_time(db, "JP", am="08:00")
    page = client.get("/key-times/?series=2026-06&on=2026-06-02").get_data(as_text=True)
    assert "23:00 UTC (01 Jun)" in text_of(row_html(page, "key-time-JP"))


def test_zone_of_a_country_without_centres(client, admin, db):
    add_key_time(db, "US", am="09:00")
    add_key_time(db, "IN", am="09:00")
    page = client.get("/key-times/?series=2026-06&on=2026-06-02").get_data(as_text=True)
    assert "UTC for Asia/Kolkata, its time zone 0 09:00 local 03:30 UTC" in text_of(
        row_html(page, "key-time-IN")
    )
    assert "UTC for America/Adak, the first of its time zones (it has no centres)" in text_of(
        row_html(page, "key-time-US")
    )


def test_bad_query_values_are_explained(client, admin):
    response = client.get("/key-times/?series=2026-07&on=2026-02-30")
    assert response.status_code == 400
    text = text_of(response.get_data(as_text=True))
    assert "There is a problem" in text
    assert (
        'Series must be March, June or November of a year, e.g. "June 2026". Showing June 2026.'
        in text
    )
    assert "“2026-02-30” is not a date: write it as YYYY-MM-DD, e.g. 2026-06-02." in text
    response = client.get("/key-times/?series=2026-06&on=9999-12-31")
    assert response.status_code == 400
    assert "“9999-12-31” is outside the years the portal covers (2000 to 2099)." in text_of(
        response.get_data(as_text=True)
    )
    response = client.get("/key-times/?series=June%202027&on=junk")
    assert response.status_code == 400
    assert "Key times for June 2027" in text_of(response.get_data(as_text=True))


def test_the_series_chooser_offers_series_with_key_times(client, admin, db):
    add_key_time(db, "GB", series="2015-06", am="09:00")
    page = client.get("/key-times/").get_data(as_text=True)
    assert '<option value="2015-06">June 2015</option>' in page
    assert '<option value="2026-06" selected>June 2026</option>' in page
    assert '<option value="2015-06">June 2015</option>' in page.split('id="copy-source"')[1]


def test_links_to_pages_that_exist(client, admin, app):
    page = client.get("/key-times/").get_data(as_text=True)
    assert 'href="/key-times/upload?series=2026-06"' in page
    for endpoint, text in (
        ("key_times.timetable", ">Timetable</a>"),
        ("key_times.entries_upload", ">Upload entries</a>"),
    ):
        assert (text in page) == (endpoint in app.view_functions)
