"""Planning and saving a release, and the download decision, to the second (the paper
and centres are tests/releases/conftest.py's)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import (
    Authorisation,
    Entry,
    EntryError,
    Event,
    KeyTime,
    Release,
    ReleaseCentre,
    Resource,
)
from app.services.clock import utcnow
from app.services.releases.access import may_download
from app.services.releases.planning import ReleaseRefused, plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES

SECOND = timedelta(seconds=1)


def saved(db, plan, **options):
    release = save_release(plan, title="June papers", actor_id=None, **options)
    db.session.commit()
    return release


def windows(db) -> dict[int, tuple[datetime, datetime]]:
    return {
        a.centre_id: (a.opens_at, a.closes_at) for a in db.session.scalars(select(Authorisation))
    }


def test_entered_centres_get_their_own_local_windows(db, paper, centres):
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    assert (plan.centres, len(plan.targets), plan.blocked) == (3, 3, {})
    assert plan.earliest == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)  # 09:00 IST, 3 days before
    assert plan.latest == datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # 09:00 CDT
    release = saved(db, plan)
    assert windows(db) == {
        centres["london"].id: (
            datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
            datetime(2026, 6, 5, 9, 30, tzinfo=UTC),
        ),
        centres["kolkata"].id: (
            datetime(2026, 6, 1, 3, 30, tzinfo=UTC),
            datetime(2026, 6, 5, 5, 0, tzinfo=UTC),
        ),
        centres["chicago"].id: (
            datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
            datetime(2026, 6, 5, 15, 30, tzinfo=UTC),
        ),
    }
    stored = db.session.get(Release, release.id)
    assert (stored.opens_days, stored.opens_hours, stored.tz_version) == (3, 0, "2026f")
    event = db.session.scalars(select(Event).where(Event.action == "release.created")).one()
    assert event.details["authorisations"] == 3 and event.details["left_out"] == 0


def test_a_centre_without_a_key_time_blocks_the_save_until_it_is_left_out(
    db, paper, centres, make_centre
):
    denver = make_centre(country="US", timezone="America/Denver", zone=1)
    db.session.add(Entry(series=SERIES, centre_id=denver.id, syllabus="0580", component="22"))
    db.session.commit()
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    assert plan.blocked == {
        denver.id: (
            "No AM key time for United States (America/Denver) in this series. Key times "
            "for United States are set only for America/Chicago."
        )
    }
    with pytest.raises(ReleaseRefused, match="No window can be worked out for 1 centre"):
        save_release(plan, title="", actor_id=None)
    release = saved(db, plan, leave_out_blocked=True)
    assert set(windows(db)) == {c.id for c in centres.values()}
    left = db.session.scalars(select(ReleaseCentre)).one()
    assert (left.release_id, left.centre_id, left.role) == (release.id, denver.id, "left-out")


def test_centres_with_open_entry_errors_are_named(db, paper, centres):
    db.session.add(
        EntryError(series=SERIES, kind="duplicate", centre_number=centres["london"].number)
    )
    db.session.commit()
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    assert plan.entry_errors == {centres["london"].id: 1}


def test_chosen_centres_and_all_centres(db, paper, centres, make_centre):
    other = make_centre()  # not entered
    chosen = plan_release(SERIES, [paper.id], "chosen", WindowRule(), chosen=[other.id])
    assert [t.centre_id for t in chosen.targets] == [other.id]
    everyone = plan_release(SERIES, [paper.id], "all", WindowRule())
    assert everyone.centres == 4


def test_an_untimetabled_resource_needs_fixed_moments(db, centres):
    notes = Resource(
        series=SERIES, syllabus="0580", component="01", kind="pre-release", title="Notes"
    )
    db.session.add(notes)
    db.session.commit()
    relative = plan_release(SERIES, [notes.id], "all", WindowRule())
    assert len(relative.blocked) == 3 and not relative.targets
    assert "0580/01 is not timetabled" in next(iter(relative.blocked.values()))
    fixed = WindowRule(
        opens_at=datetime(2026, 5, 1, tzinfo=UTC), closes_at=datetime(2026, 6, 30, tzinfo=UTC)
    )
    plan = plan_release(SERIES, [notes.id], "all", fixed)
    assert plan.centres == 3 and plan.blocked == {}


def test_resources_of_another_series_are_refused(db, paper, centres):
    with pytest.raises(ReleaseRefused, match="Choose resources of this series"):
        plan_release("2026-11", [paper.id], "entered", WindowRule())


def test_a_download_is_allowed_from_the_opening_second_until_the_closing_one(
    db, paper, centres, make_user
):
    saved(db, plan_release(SERIES, [paper.id], "entered", WindowRule()))
    user = make_user("centre", centre=centres["london"])
    opens = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    closes = datetime(2026, 6, 5, 9, 30, tzinfo=UTC)
    assert may_download(user, paper.id, opens - SECOND).reason == "too early"
    assert may_download(user, paper.id, opens).allowed
    assert may_download(user, paper.id, closes - SECOND).allowed
    assert may_download(user, paper.id, closes).reason == "closed"
    # Another centre's user at the same instant: Kolkata opened earlier, Chicago later.
    kolkata = make_user("centre", centre=centres["kolkata"])
    chicago = make_user("centre", centre=centres["chicago"])
    assert may_download(kolkata, paper.id, opens).allowed
    assert may_download(chicago, paper.id, opens).reason == "too early"


def test_cancelled_releases_deleted_centres_and_other_resources_are_refused(
    db, paper, centres, make_user
):
    release = saved(db, plan_release(SERIES, [paper.id], "entered", WindowRule()))
    user = make_user("centre", centre=centres["london"])
    now = datetime(2026, 6, 2, tzinfo=UTC)
    assert may_download(user, paper.id, now).allowed
    assert may_download(user, paper.id + 1, now).reason == "not authorised"
    db.session.get(Release, release.id).cancelled_at = utcnow()
    db.session.commit()
    assert may_download(user, paper.id, now).reason == "release cancelled"
    db.session.get(Release, release.id).cancelled_at = None
    db.session.get(type(centres["london"]), centres["london"].id).deleted_at = utcnow()
    db.session.commit()
    assert may_download(user, paper.id, now).reason == "centre deleted"
    staff = make_user("admin")
    assert may_download(staff, paper.id, now).reason == "not a centre user"


def test_a_key_time_change_moves_windows_not_yet_open_and_lists_open_ones(
    db, paper, centres, clock
):
    from app.services.timetable import followups

    saved(db, plan_release(SERIES, [paper.id], "entered", WindowRule()))
    # 1 June 05:00 UTC: Kolkata's window (03:30) is open, London's (08:00) not yet.
    clock.set(datetime(2026, 6, 1, 5, 0, tzinfo=UTC))
    for row in db.session.scalars(select(KeyTime)):
        row.am = "10:00"
    moved = followups.key_times_changed(SERIES, ["GB", "IN", "US"])
    db.session.commit()
    assert moved.moved == 2  # London and Chicago
    assert moved.open_changed == [
        a.id
        for a in db.session.scalars(
            select(Authorisation).where(Authorisation.centre_id == centres["kolkata"].id)
        )
    ]
    now = windows(db)
    assert now[centres["london"].id][0] == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert now[centres["kolkata"].id][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)  # kept


def test_a_centre_moved_to_another_zone_moves_its_window(db, paper, centres, clock):
    from app.services.centres.operations import CentreDetails, update_centre

    saved(db, plan_release(SERIES, [paper.id], "entered", WindowRule()))
    clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    london = db.session.get(type(centres["london"]), centres["london"].id)
    db.session.add(KeyTime(series=SERIES, country="IE", am="09:00"))
    update_centre(
        london,
        CentreDetails(london.number, london.name, "IE", london.town, "Europe/Dublin", london.zone),
    )
    db.session.commit()
    # 09:00 IST (Irish Summer Time, UTC+1) on 1 June is still 08:00 UTC: same window.
    assert windows(db)[london.id][0] == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    update_centre(
        london,
        CentreDetails(london.number, london.name, "IN", london.town, "Asia/Kolkata", 4),
    )
    db.session.commit()
    assert windows(db)[london.id][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
