"""Errors → Entry Errors: the list, its filters and pages, and dismissing with a reason."""

import re

import pytest
from sqlalchemy import select

from app.models import EntryError, Event
from app.services.timetable.entries import open_entry_errors, upload_entries
from tests.conftest import csrf_token_of
from tests.key_times.entries_fixtures import SERIES, slot_fixture, workbook  # noqa: F401

HTMX = {"HX-Request": "true", "HX-Target": "entry-error-results"}


def uploaded(db, rows, series=SERIES):
    db.session.rollback()
    upload = upload_entries(workbook(rows), "entries.xlsx", series, actor_id=None)
    db.session.commit()
    return upload


@pytest.fixture
def errors(db, make_centre, slot):
    """GB1 exists; the file names GB1 for a component not timetabled, and GB9 and GB8,
    which do not exist."""
    make_centre(number="GB1")
    slot("0580", "22")
    slot("0580", "22", series="2026-11")
    uploaded(db, [("GB1", 580, 21), ("GB9", 580, 22), ("GB8", 580, 22)])
    uploaded(db, [("GB9", 580, 22)], series="2026-11")
    return db.session.scalars(select(EntryError).order_by(EntryError.id)).all()


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr id="entry-error-(\d+)">', page)


def test_the_list_shows_each_open_error_with_links(client, login_as, errors, db):
    login_as("admin")
    page = client.get("/errors/entries").get_data(as_text=True)
    assert "<h1>Entry Errors</h1>" in page
    assert "4 open Entry Errors." in page
    gb1 = errors[0]
    centre_id = re.search(r'href="/admin/centres/(\d+)">GB1</a>', page)
    assert centre_id, "a centre that exists links to its page"
    assert ">GB9</a>" not in page
    assert f'<a href="/key-times/entries/{gb1.upload_id}">Upload {gb1.upload_id}</a>, row 2' in page
    assert "0580/21 is not in the timetable for June 2026." in page
    assert "Component not in the timetable" in page and "Unknown centre number" in page
    assert "November 2026" in page
    assert 'name="reason"' in page and "Dismiss error" in page


def test_only_admins_see_entry_errors(client, login_as):
    login_as("centre")
    assert client.get("/errors/entries").status_code == 403


def test_the_list_filters_by_series_kind_and_centre(client, login_as, errors):
    login_as("admin")
    page = client.get("/errors/entries?series=2026-11").get_data(as_text=True)
    assert "1 open Entry Error matching." in page
    page = client.get("/errors/entries?kind=unknown-centre&series=2026-06").get_data(as_text=True)
    assert "2 open Entry Errors matching." in page and "GB1</a>" not in page
    page = client.get("/errors/entries?centre=gb9").get_data(as_text=True)
    assert "2 open Entry Errors matching." in page and "GB8" not in page
    page = client.get(f"/errors/entries?upload={errors[0].upload_id}").get_data(as_text=True)
    assert "3 open Entry Errors matching." in page and "Errors of <a" in page
    page = client.get("/errors/entries?centre=XX").get_data(as_text=True)
    assert "No open Entry Errors match these filters." in page
    # Nonsense in the address is ignored, never an error.
    page = client.get("/errors/entries?series=junk&kind=junk&upload=x&page=x")
    assert page.status_code == 200 and "4 open Entry Errors." in page.get_data(as_text=True)
    # htmx asks for the results only.
    fragment = client.get("/errors/entries?centre=GB8", headers=HTMX).get_data(as_text=True)
    assert "<h1>" not in fragment and "1 open Entry Error matching." in fragment


def test_the_list_has_pages_of_50(client, login_as, db, slot):
    login_as("admin")
    slot("0580", "22")
    uploaded(db, [(f"GB{n:03d}", 580, 22) for n in range(120)])
    page = client.get("/errors/entries").get_data(as_text=True)
    assert "Showing 1–50 of 120 open Entry Errors." in page and len(rows_of(page)) == 50
    assert 'href="/errors/entries?page=2" rel="next">Next</a>' in page
    page = client.get("/errors/entries?page=3").get_data(as_text=True)
    assert "Showing 101–120 of 120" in page and len(rows_of(page)) == 20
    assert 'rel="prev">Previous</a>' in page and "Page 3 of 3" in page
    page = client.get("/errors/entries?page=99").get_data(as_text=True)
    assert "Page 3 of 3" in page
    page = client.get("/errors/entries?centre=GB0&page=2").get_data(as_text=True)
    assert "Showing 51–100 of 100 open Entry Errors matching." in page
    assert 'href="/errors/entries?centre=GB0&amp;page=1" rel="prev"' in page


def dismiss(client, error, headers=None, **data):
    return client.post(
        f"/errors/entries/{error.id}/dismiss?series=2026-06",
        data={"csrf_token": csrf_token_of(client, "/"), **data},
        headers=headers,
    )


def test_dismissing_asks_first_and_needs_a_reason(client, login_as, errors, db):
    admin = login_as("admin")
    gb9 = errors[1]
    asked = dismiss(client, gb9, reason="  Centre   closed  ")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<h1>Dismiss this Entry Error?</h1>" in page
    assert "Unknown centre number, GB9, 0580/22, June 2026, row 3" in page
    assert "Reason: Centre closed" in page
    assert 'name="reason" value="Centre closed"' in page
    assert 'href="/errors/entries?series=2026-06"' in page  # Cancel goes back to the list
    assert open_entry_errors() == 4
    done = dismiss(client, gb9, reason="Centre closed", confirmed="yes")
    assert done.status_code == 302 and done.headers["Location"] == "/errors/entries?series=2026-06"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Dismissed: Unknown centre number, GB9, 0580/22, June 2026, row 3." in page
    assert f"entry-error-{gb9.id}" not in page
    db.session.rollback()
    stored = db.session.get(EntryError, gb9.id)
    assert stored.dismissed_by_id == admin.id and stored.dismiss_reason == "Centre closed"
    assert open_entry_errors() == 3
    event = db.session.scalars(select(Event).where(Event.action == "entry_error.dismissed")).one()
    assert event.subject_id == gb9.id and event.details["reason"] == "Centre closed"
    assert event.details["centre"] == "GB9"
    # The dismissed and resolved list shows who and why.
    page = client.get("/errors/entries?show=closed").get_data(as_text=True)
    assert "1 dismissed or resolved Entry Error." in page
    assert f"by {admin.email}: “Centre closed”" in page
    # Dismissing it again is refused, and says why.
    again = dismiss(client, gb9, reason="Again", confirmed="yes")
    assert again.status_code == 422
    assert "This error is no longer open: it was dismissed meanwhile." in again.get_data(
        as_text=True
    )


def test_a_dismissal_without_a_reason_is_refused(client, login_as, errors, db):
    login_as("admin")
    gb9 = errors[1]
    refused = dismiss(client, gb9, reason="   ")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "There is a problem" in page and "The error was not dismissed." in page
    assert f'<a href="#reason-{gb9.id}">Give the reason for dismissing this error.</a>' in page
    assert "<details open>" in page
    # With htmx, the row comes back with the problem beside the field.
    row = dismiss(client, gb9, headers={"HX-Request": "true"}, reason="", confirmed="yes")
    html = row.get_data(as_text=True)
    assert row.status_code == 422 and html.startswith('<tr id="entry-error-')
    assert "Give the reason for dismissing this error." in html
    assert open_entry_errors() == 4


def test_dismissing_with_htmx_replaces_the_row(client, login_as, errors):
    login_as("admin")
    row = dismiss(
        client, errors[0], headers={"HX-Request": "true"}, reason="Paper withdrawn", confirmed="yes"
    )
    html = row.get_data(as_text=True)
    assert row.status_code == 200
    assert "Dismissed: Component not in the timetable, GB1, 0580/21, June 2026, row 2." in html
    assert "It has left the list of open errors." in html
    assert open_entry_errors() == 3


def test_a_dismissed_error_stays_dismissed_when_the_file_is_uploaded_again(
    client, login_as, errors, db
):
    login_as("admin")
    dismiss(client, errors[1], reason="Centre closed", confirmed="yes")
    uploaded(db, [("GB1", 580, 21), ("GB9", 580, 22), ("GB8", 580, 22)])
    assert open_entry_errors() == 3
    page = client.get("/errors/entries?centre=GB9&series=2026-06").get_data(as_text=True)
    assert "No open Entry Errors match these filters." in page
    assert "1 dismissed or resolved error matches" in page


def test_an_empty_list_says_so(client, login_as):
    login_as("admin")
    page = client.get("/errors/entries").get_data(as_text=True)
    assert "There are no open Entry Errors" in page
    page = client.get("/errors/entries?show=closed").get_data(as_text=True)
    assert "No Entry Error has been dismissed or resolved yet." in page


def test_dismissing_an_error_that_does_not_exist_is_404(client, login_as):
    login_as("admin")
    response = client.post(
        "/errors/entries/999/dismiss",
        data={"csrf_token": csrf_token_of(client, "/"), "reason": "x", "confirmed": "yes"},
    )
    assert response.status_code == 404
