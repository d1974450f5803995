"""Changing a saved release: Windows to Decide, Edit window and Add centres (the paper
and centres are tests/releases/conftest.py's: 0580/22 on 4 June 2026 at 09:00 local)."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Authorisation, Event, KeyTime, Release, ReleaseCentre
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES

# 1 June 05:00 UTC: Kolkata's window (09:00 IST = 03:30 UTC) is open; London's
# (08:00 UTC) and Chicago's (14:00 UTC) are not yet.
KOLKATA_OPEN = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def windows(db) -> dict[int, tuple[datetime, datetime]]:
    db.session.expire_all()
    return {
        a.centre_id: (a.opens_at, a.closes_at) for a in db.session.scalars(select(Authorisation))
    }


@pytest.fixture
def release(db, paper, centres):
    made = save_release(
        plan_release(SERIES, [paper.id], "entered", WindowRule()),
        title="June papers",
        actor_id=None,
    )
    db.session.commit()
    return made


def key_times_at(db, clock_time: str, when: datetime, clock) -> None:
    from app.services.timetable import followups

    clock.set(when)
    for row in db.session.scalars(select(KeyTime)):
        row.am = clock_time
    followups.key_times_changed(SERIES, ["GB", "IN", "US"])
    db.session.commit()


def form_of(client, path: str) -> dict:
    """The hidden fields of the page's form (token, version, plan)."""
    page = client.get(path).get_data(as_text=True)
    return dict(re.findall(r'<input[^>]*name="(csrf_token|version)"[^>]*value="([^"]*)"', page))


# Windows to Decide


def test_an_open_window_a_key_time_would_move_waits_for_a_decision(
    client, admin, db, release, centres, clock
):
    key_times_at(db, "10:00", KOLKATA_OPEN, clock)
    kolkata = centres["kolkata"].id
    assert windows(db)[kolkata][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)  # not moved
    waiting = db.session.scalars(select(Authorisation).where(Authorisation.centre_id == kolkata))
    row = next(iter(waiting))
    assert row.review_opens_at == datetime(2026, 6, 1, 4, 30, tzinfo=UTC)
    assert "after this window opened" in row.review_reason
    assert windows(db)[centres["london"].id][0] == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    page = text_of(client.get("/releases/decide"))
    assert "IN001" in page and "GB001" not in page
    assert "01 Jun 2026 09:00 IST" in page and "01 Jun 2026 10:00 IST" in page
    assert "Windows to Decide" in page and re.search(r"Windows to Decide\s*<[^>]*>\s*1\b", page)
    assert "1 centre of this release has a window waiting" in text_of(
        client.get(f"/releases/{release.id}")
    )

    token = form_of(client, "/releases/decide")["csrf_token"]
    done = client.post(
        f"/releases/{release.id}/decide",
        data={"csrf_token": token, "centre": kolkata, "decision": "move"},
        follow_redirects=True,
    )
    assert "1 centre: 1 window moved to the new window." in text_of(done)
    assert windows(db)[kolkata][0] == datetime(2026, 6, 1, 4, 30, tzinfo=UTC)
    assert (
        db.session.scalars(
            select(Authorisation.review_reason).where(Authorisation.review_reason.is_not(None))
        ).all()
        == []
    )
    event = db.session.scalars(select(Event).where(Event.action == "release.windows_moved")).one()
    assert event.details["centres"] == ["IN001"]
    assert "No window is waiting for a decision." in text_of(client.get("/releases/decide"))


def test_keeping_a_window_leaves_it_and_a_change_back_needs_no_decision(
    client, admin, db, release, centres, clock
):
    key_times_at(db, "10:00", KOLKATA_OPEN, clock)
    token = form_of(client, "/releases/decide")["csrf_token"]
    kept = client.post(
        f"/releases/{release.id}/decide",
        data={"csrf_token": token, "decision": "keep"},
        follow_redirects=True,
    )
    assert "1 window kept as they were" in text_of(kept)
    assert windows(db)[centres["kolkata"].id][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    again = client.post(
        f"/releases/{release.id}/decide",
        data={"csrf_token": token, "decision": "keep"},
        follow_redirects=True,
    )
    assert "There is nothing to decide there now" in text_of(again)

    key_times_at(db, "10:00", KOLKATA_OPEN, clock)  # waits again (kept is not forgotten)
    key_times_at(db, "09:00", KOLKATA_OPEN, clock)  # and back: nothing left to decide
    assert "No window is waiting" in text_of(client.get("/releases/decide"))


def test_deciding_for_every_centre_of_a_release_asks_first(client, admin, db, release, clock):
    key_times_at(db, "10:00", KOLKATA_OPEN, clock)
    asked = text_of(client.get(f"/releases/{release.id}/decide?decision=move"))
    assert "Move every waiting window of “June papers”?" in asked
    assert "1 centre of this release has a window waiting" in asked
    assert db.session.scalars(
        select(Authorisation).where(Authorisation.review_reason.is_not(None))
    ).all()


def test_a_closed_window_never_waits_for_a_decision(db, release, clock):
    key_times_at(db, "10:00", datetime(2026, 6, 10, tzinfo=UTC), clock)
    assert (
        db.session.scalars(
            select(Authorisation).where(Authorisation.review_reason.is_not(None))
        ).all()
        == []
    )


# Edit window


def post_window(client, release, **fields):
    data = {
        **form_of(client, f"/releases/{release.id}/window"),
        "opens": "before",
        "opens_days": "2",
        "opens_hours": "0",
        "opens_zone": "Europe/London",
        "closes": "rule",
        "closes_zone": "Europe/London",
        "action": "preview",
    }
    data.update(fields)
    if data["action"] == "save" and "plan" not in data:
        preview = client.post(f"/releases/{release.id}/window", data={**data, "action": "preview"})
        data["plan"] = re.search(
            r'name="plan" value="([0-9a-f]+)"', preview.get_data(as_text=True)
        )[1]
    return client.post(f"/releases/{release.id}/window", data=data)


def test_edit_window_shows_the_rule_and_what_would_move(client, admin, db, release, clock):
    clock.set(KOLKATA_OPEN)
    page = client.get(f"/releases/{release.id}/window").get_data(as_text=True)
    assert re.search(r'name="opens_days"[^>]*value="3"', page)
    preview = text_of(post_window(client, release))
    assert "move 2 windows not yet open, of 2 centres" in preview
    assert "change 1 window open now, of 1 centre, only if you tick the box" in preview
    # London 2 days before: 2 June 09:00 BST, from 1 June.
    assert "01 Jun 2026 09:00 BST" in preview and "02 Jun 2026 09:00 BST" in preview
    assert db.session.get(Release, release.id).opens_days == 3


def test_saving_a_window_moves_only_windows_not_yet_open_unless_told(
    client, admin, db, release, centres, clock
):
    clock.set(KOLKATA_OPEN)
    saved = post_window(client, release, action="save")
    assert saved.status_code == 302
    assert "Window saved: 2 windows moved. 1 window open now left as they were." in text_of(
        client.get(saved.location)
    )
    now = windows(db)
    assert now[centres["london"].id][0] == datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    assert now[centres["chicago"].id][0] == datetime(2026, 6, 2, 14, 0, tzinfo=UTC)
    assert now[centres["kolkata"].id][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    stored = db.session.get(Release, release.id)
    assert stored.opens_days == 2
    event = db.session.scalars(select(Event).where(Event.action == "release.window_changed")).one()
    assert event.details["before"]["opens_days"] == 3 and event.details["open_left"] == 1

    saved = post_window(client, release, action="save", opens_days="1", move_open="y")
    assert saved.status_code == 302
    assert windows(db)[centres["kolkata"].id][0] == datetime(2026, 6, 3, 3, 30, tzinfo=UTC)


def test_a_window_saved_from_an_old_page_or_preview_is_refused(client, admin, db, release, clock):
    clock.set(KOLKATA_OPEN)
    stale = post_window(client, release, action="save", version=str(release.version - 1))
    assert stale.status_code == 409
    assert "was changed" in text_of(stale)
    changed = post_window(client, release, action="save", plan="0" * 64)
    assert changed.status_code == 409
    assert "not what was previewed" in text_of(changed)
    assert db.session.get(Release, release.id).opens_days == 3


def test_a_window_that_leaves_centres_without_one_cannot_be_saved(
    client, admin, db, release, clock
):
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    page = post_window(
        client,
        release,
        opens="fixed",
        opens_date="2026-06-10",
        opens_time="09:00",
        opens_zone="UTC",
    )
    text = text_of(page)
    assert "3 centres without a window under this rule" in text
    assert "after it closes" in text and "Save window" not in text
    refused = post_window(
        client,
        release,
        action="save",
        plan="x",
        opens="fixed",
        opens_date="2026-06-10",
        opens_time="09:00",
        opens_zone="UTC",
    )
    assert refused.status_code == 409
    assert db.session.get(Release, release.id).opens_at_fixed is None


def test_a_fixed_moment_that_is_not_a_real_local_time_is_explained(
    client, admin, db, release, clock
):
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    page = post_window(
        client,
        release,
        opens="fixed",
        opens_date="2026-03-29",
        opens_time="01:30",
        opens_zone="Europe/London",
    )
    assert page.status_code == 422
    assert "01:30 on 29 Mar 2026 does not exist in Europe/London" in text_of(page)


# Add centres


def test_adding_centres_previews_their_windows_then_authorises_them(
    client, admin, db, paper, centres, make_centre, clock
):
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    made = save_release(
        plan_release(SERIES, [paper.id], "chosen", WindowRule(), [centres["london"].id]),
        title="June papers",
        actor_id=None,
    )
    db.session.commit()
    path = f"/releases/{made.id}/centres/add"
    fields = {**form_of(client, path), "centres": "in001 GB001", "action": "preview"}
    preview = text_of(client.post(path, data=fields))
    assert "Already in this release, nothing to add: GB001." in preview
    assert "IN001" in preview and "01 Jun 2026 09:00 IST" in preview
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', preview)[1]
    saved = client.post(path, data={**fields, "action": "save", "plan": plan})
    assert saved.status_code == 302
    assert "1 centre added: 1 authorisation." in text_of(client.get(saved.location))
    assert windows(db)[centres["kolkata"].id][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    listed = db.session.get(ReleaseCentre, (made.id, centres["kolkata"].id))
    assert listed.role == "added"
    event = db.session.scalars(select(Event).where(Event.action == "release.centres_added")).one()
    assert event.details["centres"] == ["IN001"]

    again = client.post(path, data={**fields, "action": "save", "plan": plan})
    assert again.status_code == 409  # the page's version is old now, and nothing to add
    assert len(windows(db)) == 2


def test_adding_unknown_centres_says_which(client, admin, db, release):
    path = f"/releases/{release.id}/centres/add"
    page = client.post(
        path, data={**form_of(client, path), "centres": "ZZ999", "action": "preview"}
    )
    assert page.status_code == 422
    assert "No centre has the Centre Number ZZ999." in text_of(page)


def test_a_cancelled_release_cannot_change(client, admin, db, release, clock):
    db.session.get(Release, release.id).cancelled_at = datetime(2026, 5, 1, tzinfo=UTC)
    db.session.commit()
    for path in (f"/releases/{release.id}/window", f"/releases/{release.id}/centres/add"):
        shown = client.get(path, follow_redirects=True)
        assert "This release is cancelled: it can no longer change." in text_of(shown)


# Entries: a release to "centres entered" follows them while windows are not yet open


def entered(db, centre):
    from app.models import Entry

    found = db.session.scalars(select(Entry).where(Entry.centre_id == centre.id)).first()
    if found is None:
        db.session.add(Entry(series=SERIES, centre_id=centre.id, syllabus="0580", component="22"))
    else:
        found.withdrawn_at = None
    db.session.commit()


def withdrawn(db, centre, clock):
    from app.models import Entry

    for entry in db.session.scalars(select(Entry).where(Entry.centre_id == centre.id)):
        entry.withdrawn_at = clock.now
    db.session.commit()


def entries_changed(db):
    from app.services.timetable import followups

    moved = followups.entries_changed(SERIES)
    db.session.commit()
    return moved


def test_new_and_withdrawn_entries_change_windows_not_yet_open(
    db, release, centres, make_centre, clock
):
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    dublin = make_centre(number="GB002")
    entered(db, dublin)
    withdrawn(db, centres["london"], clock)
    moved = entries_changed(db)
    assert moved.added == {(release.id, dublin.id)}
    assert moved.removed == {(release.id, centres["london"].id)}
    now = windows(db)
    assert now[dublin.id][0] == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert centres["london"].id not in now
    assert entries_changed(db).added == set()  # nothing more to do


def test_an_entry_withdrawn_after_its_window_opened_waits_for_a_decision(
    client, admin, db, release, centres, make_centre, clock
):
    clock.set(KOLKATA_OPEN)
    kolkata = centres["kolkata"]
    withdrawn(db, kolkata, clock)
    late = make_centre(number="IN002", country="IN", timezone="Asia/Kolkata", zone=4)
    entered(db, late)
    moved = entries_changed(db)
    assert moved.late == {(release.id, late.id)} and moved.added == set()
    assert kolkata.id in windows(db) and late.id not in windows(db)  # nothing silent
    page = text_of(client.get("/releases/decide"))
    assert "The centre's entry was withdrawn after this window opened." in page
    assert "None can be worked out" in page

    entered(db, kolkata)  # entered again: nothing left to decide
    entries_changed(db)
    assert "No window is waiting" in text_of(client.get("/releases/decide"))


def test_a_centre_removed_from_a_release_is_not_brought_back_by_its_entries(
    db, release, centres, clock
):
    from app.services.releases.manage import remove_centre

    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    london = centres["london"]
    remove_centre(db.session.get(Release, release.id), london, release.version, clock.now)
    db.session.commit()
    assert entries_changed(db).added == set()
    assert london.id not in windows(db)
