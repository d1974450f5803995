"""Errors → Key Time Errors, and the open counts beside the Errors pages and on Home."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Entry, Event, KeyTime, KeyTimeError, TimetableSlot
from app.services.centres.operations import CentreDetails, save_centre, soft_delete_centre
from app.services.timetable.checks import refresh_key_time_errors

SERIES = "2026-06"


@pytest.fixture
def entered(db, make_centre):
    """A Denver centre and a London centre entered for 0580/22 (2 June 2026, AM); key
    times only for GB, so Denver's is a Key Time Error."""
    db.session.add(
        TimetableSlot(
            series=SERIES,
            syllabus="0580",
            component="22",
            exam_date=date(2026, 6, 2),
            session="AM",
            duration_minutes=90,
        )
    )
    db.session.add(KeyTime(series=SERIES, country="GB", am="09:00"))
    db.session.commit()
    centres = [make_centre(country="US", timezone="America/Denver"), make_centre()]
    for centre in centres:
        db.session.add(Entry(series=SERIES, centre_id=centre.id, syllabus="0580", component="22"))
    db.session.commit()
    refresh_key_time_errors()
    db.session.commit()
    return centres


def listed(page: str) -> list[str]:
    """The rows of the errors table, as text with tags and spacing removed."""
    body = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("</tr>")[:-1]]


def test_the_page_lists_each_problem_with_what_it_holds_up_and_where_to_fix_it(
    client, login_as, entered
):
    login_as("admin")
    page = client.get("/errors/key-times").get_data(as_text=True)
    [row] = listed(page)
    denver = entered[0]
    assert row.startswith(
        "No key time June 2026 United States (US) America/Denver AM Tue 02 Jun 2026"
    )
    assert f"1 centre, 1 entry 0580/22 Centres: {denver.number}" in row
    assert "No AM key time for United States in this series." in row
    assert 'href="/key-times/?series=2026-06&amp;on=2026-06-02#key-time-US"' in page
    assert "1 key time error." in page


def test_the_menu_and_home_count_open_errors(client, login_as, entered):
    login_as("admin")
    home = client.get("/").get_data(as_text=True)
    assert re.search(
        r'Key Time Errors <span class="menu-count">1<span class="visually-hidden"> open</span>',
        home,
    )
    assert re.search(
        r'<p class="figure">1</p>\s*<p><a href="/errors/key-times">Key Time Errors</a>', home
    )


def test_no_count_shows_when_nothing_is_open(client, login_as):
    login_as("admin")
    assert 'class="menu-count"' not in client.get("/").get_data(as_text=True)


def test_filters_narrow_the_list_and_say_when_nothing_matches(client, login_as, entered):
    login_as("admin")
    page = client.get("/errors/key-times?kind=ambiguous").get_data(as_text=True)
    assert "No key time errors match these filters." in page
    fragment = client.get(
        "/errors/key-times?kind=no-key-time&series=2026-06",
        headers={"HX-Request": "true", "HX-Target": "key-time-errors"},
    ).get_data(as_text=True)
    assert fragment.startswith('<div id="key-time-errors">')
    assert len(listed(fragment)) == 1
    assert "<h1>" not in fragment


def test_nonsense_filters_and_pages_are_read_as_none(client, login_as, entered):
    login_as("admin")
    response = client.get("/errors/key-times?kind=%3Cb%3E&page=99999999999999999999&series=x")
    assert response.status_code == 200
    assert "No key time errors match these filters." in response.get_data(as_text=True)


def test_an_empty_list_says_all_is_well(client, login_as):
    login_as("admin")
    page = client.get("/errors/key-times").get_data(as_text=True)
    assert "No key time errors: every entered centre's key time can be worked out." in page


def test_correcting_a_centres_time_zone_clears_its_error_in_the_same_save(db, entered):
    denver = entered[0]
    details = CentreDetails(
        number=denver.number,
        name=denver.name,
        country="GB",
        town=denver.town,
        timezone="Europe/London",
        zone=denver.zone,
    )
    save_centre(denver, details, read_version=denver.version, restore=False)
    db.session.commit()
    assert db.session.scalars(select(KeyTimeError)).all() == []


def test_deleting_a_centre_clears_what_only_it_held_up(db, entered):
    soft_delete_centre(entered[0])
    db.session.commit()
    assert db.session.scalars(select(KeyTimeError)).all() == []


def test_check_again_works_every_series_out_afresh(client, login_as, csrf_token, db, entered):
    login_as("admin")
    db.session.execute(KeyTimeError.__table__.delete())
    db.session.commit()
    response = client.post(
        "/errors/key-times/check",
        data={"csrf_token": csrf_token(client, "/errors/key-times")},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "1 key time error(s), 1 new, 0 fixed since." in page
    assert len(listed(page)) == 1
    event = db.session.scalars(select(Event).where(Event.action == "key_time_errors.checked")).one()
    assert event.details == {"found": 1, "new": 1, "fixed": 0}


def test_an_error_links_to_the_key_time_row_it_is_fixed_on(client, login_as, db, entered):
    """A published GMT time that disagrees, on a zone's own row: the link goes to that row."""
    db.session.add(
        KeyTime(series=SERIES, country="US", timezone="America/Denver", am="08:00", am_gmt="15:00")
    )
    db.session.commit()
    refresh_key_time_errors()
    db.session.commit()
    login_as("admin")
    page = client.get("/errors/key-times").get_data(as_text=True)
    [row] = listed(page)
    assert "Published GMT time disagrees" in row
    assert "08:00 in America/Denver on 02 Jun 2026 is 14:00 GMT, not the published 15:00 GMT" in row
    assert 'on=2026-06-02#key-time-US-America-Denver">Correct the key time</a>' in page


def test_paging_links_carry_only_the_filters(client, login_as, db, make_centre, monkeypatch):
    monkeypatch.setattr("app.errors.key_time_errors.PAGE_SIZE", 1)
    for day in (2, 3):
        db.session.add(
            TimetableSlot(
                series=SERIES,
                syllabus="0580",
                component=f"{day}2",
                exam_date=date(2026, 6, day),
                session="AM",
                duration_minutes=60,
            )
        )
    db.session.commit()
    centre = make_centre(country="US", timezone="America/Denver")
    for component in ("22", "32"):
        db.session.add(
            Entry(series=SERIES, centre_id=centre.id, syllabus="0580", component=component)
        )
    db.session.commit()
    refresh_key_time_errors()
    db.session.commit()
    login_as("admin")
    response = client.get("/errors/key-times?endpoint=x&_external=1&kind=no-key-time")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Showing 1–1 of 2 key time errors." in page
    assert 'href="/errors/key-times?kind=no-key-time&amp;page=2" rel="next"' in page
