"""Release Resources: the form, its preview, and saving."""

import html
import re
from datetime import UTC, datetime

from sqlalchemy import select

from app.models import (
    Authorisation,
    Entry,
    EntryError,
    Event,
    Release,
    ReleaseCentre,
    Resource,
)
from app.services.clock import utcnow
from tests.releases.conftest import SERIES


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_page_lists_the_series_resources_with_the_default_window(client, admin, paper, db):
    db.session.add(
        Resource(series="2026-11", syllabus="0610", component="41", kind="insert", title="Bio")
    )
    db.session.commit()
    page = text_of(client.get(f"/releases/new?series={SERIES}"))
    assert "<h1>Release resources</h1>" in page
    assert "Paper 22" in page and "Bio" not in page
    assert 'name="opens_days" type="text" value="3"' in page
    assert '<option value="Europe/London" selected>' in page
    # Without a series, the page asks for one.
    assert "Choose a series, then Show resources." in text_of(client.get("/releases/new"))


def test_the_default_days_come_from_the_setting(make_app, make_user):
    app = make_app(RELEASE_DEFAULT_DAYS_BEFORE=5)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
    page = client.get("/releases/new").get_data(as_text=True)
    assert 'name="opens_days" type="text" value="5"' in page


def test_filters_narrow_the_resources_and_ticked_ones_stay(release_form, paper, db):
    insert = Resource(
        series=SERIES, syllabus="0580", component="22", kind="insert", title="Insert 22"
    )
    other = Resource(
        series=SERIES, syllabus="0610", component="41", kind="question-paper", title="Bio 41"
    )
    db.session.add_all([insert, other])
    db.session.commit()
    page = text_of(release_form([paper], action="show", syllabus="0610"))
    assert "Bio 41" in page and "Paper 22" in page  # ticked, so still shown
    assert "Insert 22" not in page and "1 resource matches." in page
    page = text_of(release_form([], action="show", kind="insert"))
    assert "Insert 22" in page and "Bio 41" not in page and "Paper 22" not in page
    # "Tick every resource shown" ticks what the filters show.
    page = text_of(release_form([], action="select-shown", syllabus="0580"))
    assert "2 ticked." in page
    assert f'value="{insert.id}" id="resource-{insert.id}" checked' in page


def test_preview_shows_counts_and_each_centres_local_window(release_form, paper, centres, db):
    response = release_form([paper])
    assert response.status_code == 200
    page = text_of(response)
    assert "Nothing has been saved yet." in page
    assert "3 authorisations for 3 centres" in page
    assert (
        "earliest opening: 01 Jun 2026 03:30 UTC (01 Jun 2026 09:00 IST, Asia/Kolkata, "
        "centre IN001)" in page
    )
    assert "latest opening: 01 Jun 2026 14:00 UTC (01 Jun 2026 09:00 CDT" in page
    for row in (
        "<td>GB001</td><td>Britain (UK)</td><td>Europe/London</td>",
        "<td>01 Jun 2026 09:00 BST</td><td>05 Jun 2026 10:30 BST</td>",
        "<td>01 Jun 2026 09:00 IST</td><td>05 Jun 2026 10:30 IST</td>",
        "<td>01 Jun 2026 14:00 UTC</td><td>05 Jun 2026 15:30 UTC</td>",
    ):
        assert row in page
    # Nothing is stored by a preview.
    assert db.session.scalars(select(Release)).all() == []


def test_the_preview_is_paged(release_form, paper, centres, monkeypatch):
    monkeypatch.setattr("app.services.releases.planning.PREVIEW_PAGE_SIZE", 2)
    page = text_of(release_form([paper]))
    assert "Centres 1–2 of 3." in page and "GB001" in page and "US001</td>" not in page
    assert 'name="preview_page" value="2"' in page
    page = text_of(release_form([paper], preview_page="2"))
    assert "Centres 3–3 of 3." in page and "<td>US001</td>" in page
    assert "<td>GB001</td>" not in page


def test_save_stores_the_authorisations_and_an_event(client, release_form, paper, centres, db):
    response = release_form([paper], action="save")
    assert response.status_code == 302
    release = db.session.scalars(select(Release)).one()
    assert response.headers["Location"] == f"/releases/{release.id}"
    assert (release.title, release.audience, release.opens_days, release.opens_hours) == (
        "June papers",
        "entered",
        3,
        0,
    )
    windows = {
        a.centre_id: (a.opens_at, a.closes_at) for a in db.session.scalars(select(Authorisation))
    }
    assert windows[centres["kolkata"].id] == (
        datetime(2026, 6, 1, 3, 30, tzinfo=UTC),
        datetime(2026, 6, 5, 5, 0, tzinfo=UTC),
    )
    assert len(windows) == 3
    event = db.session.scalars(select(Event).where(Event.action == "release.created")).one()
    assert event.details["authorisations"] == 3
    page = text_of(client.get(response.headers["Location"]))
    assert "Release saved: 3 authorisations for 3 centres." in page


def test_save_refuses_a_plan_other_than_the_one_previewed(
    release_form, paper, centres, make_centre, db
):
    preview = release_form([paper]).get_data(as_text=True)
    shown = re.search(r'name="plan" value="([0-9a-f]+)"', preview).group(1)
    late = make_centre(number="GB002")
    db.session.add(Entry(series=SERIES, centre_id=late.id, syllabus="0580", component="22"))
    db.session.commit()
    response = release_form([paper], action="save", plan=shown)
    assert response.status_code == 409
    page = text_of(response)
    assert "Nothing was saved: the release as the form now describes it is not the one" in page
    assert "4 authorisations for 4 centres" in page
    assert db.session.scalars(select(Release)).all() == []
    assert release_form([paper], action="save").status_code == 302


def test_each_field_says_what_is_wrong(release_form, paper, centres, db):
    response = release_form(
        [],
        opens_days="61",
        opens_hours="x",
        title="t" * 201,
        audience="chosen",
        centres="",
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "There is a problem" in page
    for message in (
        "Choose at least one resource of this series to release.",
        "Days before must be a whole number from 0 to 60.",
        "Hours before must be a whole number from 0 to 23.",
        "A title has at most 200 characters; this one has 201.",
        "Enter the Centre Numbers of the chosen centres.",
    ):
        assert message in page
    page = text_of(release_form([paper], series="1999-06"))
    assert "Choose the series of the resources." in page
    page = text_of(
        release_form(
            [paper],
            opens="fixed",
            opens_date="2026-02-30",
            opens_time="25:00",
            closes="fixed",
            closes_date="",
            closes_time="",
            closes_zone="Mars/Olympus",
        )
    )
    for message in (
        "The opening date must be a real date, e.g. 2026-06-01.",
        "The opening time must be a time of day, e.g. 09:00.",
        "Enter the closing date.",
        "Enter the closing time.",
        "Choose the time zone of the closing time.",
    ):
        assert message in page
    page = text_of(
        release_form(
            [paper],
            opens="fixed",
            opens_date="2026-06-02",
            opens_time="09:00",
            closes="fixed",
            closes_date="2026-06-01",
            closes_time="09:00",
        )
    )
    assert "The closing moment must be after the opening moment." in page
    assert db.session.scalars(select(Release)).all() == []


def test_control_characters_and_a_missing_token_are_refused(client, release_form, paper):
    page = text_of(release_form([paper], title="June\x00papers"))
    assert "control character" in page
    response = client.post("/releases/new", data={"series": SERIES, "action": "preview"})
    assert response.status_code == 400


def test_chosen_centres_by_number_and_unknown_or_deleted_ones_named(
    release_form, paper, centres, make_centre, db
):
    gone = make_centre(number="GB999", deleted_at=utcnow())
    page = text_of(
        release_form([paper], audience="chosen", centres="gb001, NOPE1\nNOPE2;" + gone.number)
    )
    assert "No centre has the Centre Number NOPE1, NOPE2." in page
    assert "Deleted centre: GB999. Undo the delete first, or leave it out." in page
    response = release_form([paper], audience="chosen", centres="gb001\nIN001", action="save")
    assert response.status_code == 302
    assert {a.centre_id for a in db.session.scalars(select(Authorisation))} == {
        centres["london"].id,
        centres["kolkata"].id,
    }
    chosen = db.session.scalars(select(ReleaseCentre)).all()
    assert {(c.centre_id, c.role) for c in chosen} == {
        (centres["london"].id, "chosen"),
        (centres["kolkata"].id, "chosen"),
    }


def test_a_fixed_moment_that_does_not_exist_or_happens_twice_is_refused(release_form, paper):
    page = text_of(
        release_form([paper], opens="fixed", opens_date="2026-03-29", opens_time="01:30")
    )
    assert "01:30 on 29 Mar 2026 does not exist in Europe/London" in page
    assert "Choose an opening time outside the hour that is skipped." in page
    page = text_of(
        release_form(
            [paper],
            closes="fixed",
            closes_date="2026-10-25",
            closes_time="01:30",
        )
    )
    assert "01:30 on 25 Oct 2026 happens twice in Europe/London" in page
    assert "Choose a closing time outside the hour that repeats." in page


def test_an_untimetabled_resource_needs_fixed_moments_stored_as_utc(release_form, centres, db):
    notes = Resource(
        series=SERIES, syllabus="0580", component="01", kind="pre-release", title="Notes"
    )
    db.session.add(notes)
    db.session.commit()
    page = text_of(release_form([notes], audience="all"))
    assert "3 centres without a window" in page
    assert "0580/01 is not timetabled" in page
    response = release_form(
        [notes],
        audience="all",
        opens="fixed",
        opens_date="2026-05-01",
        opens_time="09:00",
        opens_zone="Asia/Kolkata",
        closes="fixed",
        closes_date="2026-06-30",
        closes_time="18:00",
        closes_zone="Europe/London",
        action="save",
    )
    assert response.status_code == 302
    release = db.session.scalars(select(Release)).one()
    assert release.opens_at_fixed == datetime(2026, 5, 1, 3, 30, tzinfo=UTC)
    assert release.closes_at_fixed == datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
    assert (release.opens_zone, release.closes_zone, release.opens_days) == (
        "Asia/Kolkata",
        "Europe/London",
        None,
    )
    assert len(db.session.scalars(select(Authorisation)).all()) == 3


def test_a_blocked_centre_refuses_the_save_until_it_is_left_out(
    release_form, paper, centres, make_centre, db
):
    denver = make_centre(number="US777", country="US", timezone="America/Denver", zone=1)
    db.session.add(Entry(series=SERIES, centre_id=denver.id, syllabus="0580", component="22"))
    db.session.add(EntryError(series=SERIES, kind="duplicate", centre_number="GB001"))
    db.session.commit()
    page = text_of(release_form([paper]))
    assert "1 centre without a window" in page
    assert "No AM key time for United States (America/Denver) in this series." in page
    assert f'href="/errors/key-times?series={SERIES}"' in page
    assert f'href="/errors/entries?series={SERIES}&centre=GB001">GB001</a>: 1 open Entry Error' in (
        page.replace("&amp;", "&")
    )
    refused = release_form([paper], action="save")
    assert refused.status_code == 422
    assert "No window can be worked out for 1 centre: correct their key times" in text_of(refused)
    assert db.session.scalars(select(Release)).all() == []
    saved = release_form([paper], action="save", leave_out="y")
    assert saved.status_code == 302
    left = db.session.scalars(select(ReleaseCentre)).one()
    assert (left.centre_id, left.role) == (denver.id, "left-out")
    assert "No AM key time" in left.reason
    assert len(db.session.scalars(select(Authorisation)).all()) == 3


def test_resources_of_another_series_or_deleted_ones_are_not_released(
    release_form, paper, centres, db
):
    paper_row = db.session.get(Resource, paper.id)
    paper_row.deleted_at = utcnow()
    db.session.commit()
    page = text_of(release_form([paper], action="save"))
    assert "Choose at least one resource of this series to release." in page
    assert db.session.scalars(select(Release)).all() == []


def test_other_roles_are_refused(client, login_as):
    for role in ("tp", "centre"):
        login_as(role)
        assert client.get("/releases/new").status_code == 403
        assert client.get("/releases/").status_code == 403
