"""Manage Releases: the list with statuses and counts, a release's centres, cancel."""

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Download, Event, Release
from app.services.releases import figures
from app.services.releases.access import may_download
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES, paper_file


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def released(db, paper, centres):
    """Save a release of the paper to its entered centres: → its id."""

    def release(title="June papers"):
        plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
        made = save_release(plan, title=title, actor_id=None)
        db.session.commit()
        return made.id

    return release


def download(db, paper, centre, release_id, status="sent"):
    file = paper_file(db, paper)
    db.session.add(
        Download(
            resource_file_id=file.id, centre_id=centre.id, release_id=release_id, status=status
        )
    )
    if release_id is not None:
        figures.rebuild(release_id, [centre.id])  # rows made by hand: worked out afresh
    db.session.commit()


def status_in_list(client) -> str:
    page = text_of(client.get("/releases/"))
    row = page.split("June papers</a>", 1)[1].split("</tr>", 1)[0]
    return row.split("<td>", 2)[1].split("</td>", 1)[0]


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        (datetime(2026, 6, 1, 3, 29, 59, tzinfo=UTC), "Scheduled"),  # Kolkata opens 03:30
        (datetime(2026, 6, 1, 3, 30, tzinfo=UTC), "Opening"),
        (datetime(2026, 6, 1, 14, 0, tzinfo=UTC), "Open"),  # Chicago opens 14:00
        (datetime(2026, 6, 5, 5, 0, tzinfo=UTC), "Closing"),  # Kolkata closes 05:00
        (datetime(2026, 6, 5, 15, 30, tzinfo=UTC), "Closed"),  # Chicago closes 15:30
    ],
)
def test_the_list_shows_each_releases_status_at_the_time(
    client, admin, released, clock, moment, status
):
    released()
    clock.set(moment)
    assert status_in_list(client) == status


def test_the_list_groups_by_series_with_counts_and_downloads(
    client, admin, released, paper, centres, db, count_queries
):
    first = released()
    download(db, paper, centres["london"], first)
    download(db, paper, centres["london"], first)
    download(db, paper, centres["kolkata"], first, status="refused")
    page = text_of(client.get("/releases/"))
    assert '<h2 id="series-2026-06">June 2026</h2>' in page
    row = page.split("June papers</a>", 1)[1].split("</tr>", 1)[0]
    cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
    assert cells[-3:] == ["1", "3", "2"]  # resources, centres, downloads sent
    # One query per aggregate, however many releases there are.
    with count_queries() as one:
        client.get("/releases/")
    released("Second")
    released("Third")
    with count_queries() as three:
        page = text_of(client.get("/releases/"))
    assert "Second" in page and "Third" in page
    assert len(three) == len(one)


def test_the_list_says_when_there_are_none(client, admin):
    assert "There are no releases yet." in text_of(client.get("/releases/"))


def test_details_show_the_rule_and_each_centre_filtered(
    client, admin, released, paper, centres, db, clock
):
    release_id = released()
    download(db, paper, centres["kolkata"], release_id)
    clock.set(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))  # London and Kolkata open, not Chicago
    page = text_of(client.get(f"/releases/{release_id}"))
    assert "Opens 3 days before the exam's key time, in each centre's local time." in page
    assert "Closes 24 hours after the exam's end or its key time, whichever is later." in page
    assert "1 resource, 3 centres, 3 authorisations, 1 download so far" in page
    assert f'<a href="/admin/centres/{centres["london"].id}">GB001</a>' in page
    assert "01 Jun 2026 09:00 IST<br><small>01 Jun 2026 03:30 UTC</small>" in page
    page = text_of(client.get(f"/releases/{release_id}?country=IN"))
    assert "IN001" in page and "GB001" not in page and "1 centre matching." in page
    page = text_of(client.get(f"/releases/{release_id}?status=not-yet"))
    assert "US001" in page and "GB001" not in page and "IN001" not in page
    page = text_of(client.get(f"/releases/{release_id}?status=open&downloaded=no"))
    assert "GB001" in page and "IN001" not in page and "US001" not in page
    page = text_of(client.get(f"/releases/{release_id}?downloaded=yes"))
    assert "IN001" in page and "GB001" not in page
    page = text_of(client.get(f"/releases/{release_id}?status=closed"))
    assert "No centres match these filters." in page
    # Nonsense in the address is ignored, never a 500.
    assert client.get(f"/releases/{release_id}?country=ZZ&status=x&page=-4").status_code == 200
    assert client.get("/releases/999999").status_code == 404


def test_details_are_paged(client, admin, released, monkeypatch):
    monkeypatch.setattr("app.services.releases.manage.PAGE_SIZE", 2)
    release_id = released()
    page = text_of(client.get(f"/releases/{release_id}"))
    assert "Showing 1–2 of 3 centres." in page and "US001" not in page
    assert f'href="/releases/{release_id}?page=2" rel="next"' in page
    page = text_of(client.get(f"/releases/{release_id}?page=2"))
    assert "US001" in page and "GB001" not in page


def test_cancel_asks_first_then_ends_access_at_once(
    client, admin, released, paper, centres, csrf_token, db, make_user
):
    release_id = released()
    user = make_user("centre", centre=centres["london"])
    during = datetime(2026, 6, 2, tzinfo=UTC)
    assert may_download(user, paper.id, during).allowed
    page = text_of(client.get(f"/releases/{release_id}/cancel?version=1"))
    assert "Cancel release “June papers”?" in page and "This cannot be undone." in page
    assert '<input type="hidden" name="version" value="1">' in page
    response = client.post(
        f"/releases/{release_id}/cancel",
        data={"csrf_token": csrf_token(client), "version": "1", "confirmed": "yes"},
    )
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Release cancelled: no centre can download its resources now." in page
    release = db.session.get(Release, release_id)
    assert release.cancelled_at is not None and release.cancelled_by_id == admin.id
    assert may_download(user, paper.id, during).reason == "release cancelled"
    event = db.session.scalars(select(Event).where(Event.action == "release.cancelled")).one()
    assert (event.subject_id, event.actor_id) == (release_id, admin.id)
    assert "<mark>Cancelled</mark>" in text_of(client.get("/releases/"))
    # A second cancel is refused, and changes nothing.
    again = client.post(
        f"/releases/{release_id}/cancel",
        data={"csrf_token": csrf_token(client), "version": str(release.version)},
    )
    assert again.status_code == 409
    assert "This release is already cancelled." in text_of(again)
    assert (
        len(db.session.scalars(select(Event).where(Event.action == "release.cancelled")).all()) == 1
    )


def test_cancel_from_a_stale_page_is_refused(client, admin, released, csrf_token, db):
    release_id = released()
    db.session.get(Release, release_id).title = "Renamed"
    db.session.commit()  # version 2
    response = client.post(
        f"/releases/{release_id}/cancel",
        data={"csrf_token": csrf_token(client), "version": "1"},
    )
    assert response.status_code == 409
    assert "This release was changed" in text_of(response)
    assert "so it was not cancelled" in text_of(response)
    assert db.session.get(Release, release_id).cancelled_at is None
    assert db.session.scalars(select(Event).where(Event.action == "release.cancelled")).all() == []


def test_cancel_with_htmx_is_sent_to_the_details_page(client, admin, released, csrf_token, db):
    release_id = released()
    response = client.post(
        f"/releases/{release_id}/cancel",
        data={"version": "1", "confirmed": "yes"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/releases/{release_id}"
    assert db.session.get(Release, release_id).is_cancelled


def test_a_key_time_saved_on_its_page_says_how_many_windows_moved(
    client, login_as, db, csrf_token, clock
):
    """Any page that changes key times tells the admin what it did to release windows."""
    from datetime import UTC, date, datetime

    from sqlalchemy import select

    from app.models import Authorisation, Entry, KeyTime, Resource, TimetableSlot
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    login_as("admin")
    db.session.add(
        TimetableSlot(
            series="2026-06",
            syllabus="0580",
            component="22",
            exam_date=date(2026, 6, 4),
            session="AM",
            duration_minutes=90,
        )
    )
    row = KeyTime(series="2026-06", country="GB", am="09:00")
    paper = Resource(
        series="2026-06", syllabus="0580", component="22", kind="question-paper", title="P22"
    )
    db.session.add_all([row, paper])
    db.session.commit()
    from app.models import Centre

    centre = Centre(
        number="GB900", name="A", country="GB", town="X", timezone="Europe/London", zone=3
    )
    db.session.add(centre)
    db.session.commit()
    db.session.add(Entry(series="2026-06", centre_id=centre.id, syllabus="0580", component="22"))
    db.session.commit()
    save_release(
        plan_release("2026-06", [paper.id], "entered", WindowRule()), title="", actor_id=None
    )
    db.session.commit()
    clock.set(datetime(2026, 5, 20, tzinfo=UTC))
    response = client.post(
        "/key-times/2026-06/GB/edit",
        data={
            "csrf_token": csrf_token(client, "/key-times/?series=2026-06"),
            "am": "10:00",
            "pm": "",
            "ev": "",
            "am_gmt": "",
            "pm_gmt": "",
            "ev_gmt": "",
            "version": row.version,
            "on": "2026-06-04",
        },
        follow_redirects=True,
    )
    assert "1 release window not yet open moved with this change." in response.get_data(
        as_text=True
    )
    opens = db.session.scalars(select(Authorisation.opens_at)).one()
    assert opens == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 10:00 BST, 3 days before


def test_removing_a_centre_asks_first_and_ends_its_access_at_once(
    client, admin, released, paper, centres, csrf_token, db, make_user
):
    release_id = released()
    london, kolkata = centres["london"], centres["kolkata"]
    user = make_user("centre", centre=london)
    other = make_user("centre", centre=kolkata)
    during = datetime(2026, 6, 2, tzinfo=UTC)
    page = client.get(f"/releases/{release_id}").get_data(as_text=True)
    assert f'aria-label="Remove centre {london.number} from this release"' in page
    asked = text_of(client.get(f"/releases/{release_id}/centres/{london.id}/remove?version=1"))
    assert f"Remove centre {london.number} from this release?" in asked
    response = client.post(
        f"/releases/{release_id}/centres/{london.id}/remove",
        data={"csrf_token": csrf_token(client), "version": "1", "confirmed": "yes"},
    )
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert f"Centre {london.number} removed" in page
    assert "Centres left out (1)" in page and "Removed on" in page
    assert may_download(user, paper.id, during).reason == "not authorised"
    assert may_download(other, paper.id, during).allowed  # the others keep theirs
    event = db.session.scalars(select(Event).where(Event.action == "release.centre_removed")).one()
    assert event.details == {"centre": london.number, "authorisations": 1}
    # The page it was done from is now stale; and the centre is no longer in it.
    stale = client.post(
        f"/releases/{release_id}/centres/{kolkata.id}/remove",
        data={"csrf_token": csrf_token(client), "version": "1"},
    )
    assert stale.status_code == 409 and "so the centre was not removed" in text_of(stale)
    version = db.session.get(Release, release_id).version
    again = client.post(
        f"/releases/{release_id}/centres/{london.id}/remove",
        data={"csrf_token": csrf_token(client), "version": str(version)},
    )
    assert again.status_code == 409
    assert f"Centre {london.number} is not in this release." in text_of(again)
