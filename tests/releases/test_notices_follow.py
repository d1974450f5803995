"""Release notices follow every change to a saved release's windows: cancel, remove a
centre, Edit window, Add centres, a decision, key times and entries (the paper and
centres are tests/releases/conftest.py's; the users tests/releases/test_notices.py's)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import Entry, KeyTime, OutboxMessage, Release
from app.services.releases import notices
from app.services.releases.decisions import decide
from app.services.releases.editing import (
    add_centres,
    plan_added_centres,
    plan_window_change,
    save_window_change,
)
from app.services.releases.manage import cancel_release, remove_centre
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from app.services.timetable import followups
from tests.releases.conftest import SERIES
from tests.releases.test_notices import users  # noqa: F401  (a fixture)

BEFORE = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
KOLKATA_OPEN = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


def notices_of(db, centre) -> list[tuple[str, str, datetime]]:
    """(address, status, due) of the centre's release notices, as stored now."""
    db.session.rollback()
    return [
        (m.to_address, m.status, m.next_attempt_at)
        for m in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == notices.NOTICE, OutboxMessage.centre_id == centre.id)
            .order_by(OutboxMessage.to_address, OutboxMessage.id)
        )
    ]


@pytest.fixture
def release(db, paper, centres, users, clock):  # noqa: F811
    clock.set(BEFORE)
    made = save_release(
        plan_release(SERIES, [paper.id], "entered", WindowRule()), title="June", actor_id=None
    )
    db.session.commit()
    return made


def test_cancelling_or_removing_a_centre_withdraws_its_notices(db, release, centres, clock):
    remove_centre(release, centres["kolkata"], release.version, clock.now)
    db.session.commit()
    assert [s for _, s, _ in notices_of(db, centres["kolkata"])] == ["withdrawn"]
    assert {s for _, s, _ in notices_of(db, centres["london"])} == {"pending"}
    release = db.session.get(Release, release.id)
    cancel_release(release, release.version, None, clock.now)
    db.session.commit()
    assert {s for _, s, _ in notices_of(db, centres["london"])} == {"withdrawn"}


def test_edit_window_moves_the_notices_of_the_windows_it_moves(db, release, centres, clock):
    change = plan_window_change(release, WindowRule(opens_days=2, opens_hours=0), clock.now)
    save_window_change(
        release,
        change,
        read_version=release.version,
        move_open=False,
        opens_zone="UTC",
        closes_zone="UTC",
    )
    db.session.commit()
    assert {due for _, _, due in notices_of(db, centres["london"])} == {
        datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    }


def test_a_key_time_change_moves_waiting_notices_and_a_decision_moves_the_open_ones(
    db, release, centres, clock
):
    clock.set(KOLKATA_OPEN)
    for row in db.session.scalars(select(KeyTime)):
        row.am = "10:00"
    followups.key_times_changed(SERIES, ["GB", "IN", "US"])
    db.session.commit()
    assert {due for _, _, due in notices_of(db, centres["london"])} == {
        datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    }
    kolkata = notices_of(db, centres["kolkata"])
    assert {due for _, _, due in kolkata} == {datetime(2026, 6, 1, 3, 30, tzinfo=UTC)}
    decide(db.session.get(Release, release.id), [centres["kolkata"].id], move=True)
    db.session.commit()
    # Its notice (due, not yet sent by cron) now gives the new window and its new time.
    moved = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.centre_id == centres["kolkata"].id)
    ).one()
    assert moved.next_attempt_at == datetime(2026, 6, 1, 4, 30, tzinfo=UTC)
    assert "10:00 IST" in moved.body


def test_added_centres_and_new_entries_get_notices(
    db, paper, release, centres, make_centre, make_user, clock
):
    newcomer = make_centre(number="GB002")
    make_user(centre=newcomer, email="exams@gb002.example")
    addition = plan_added_centres(release, [newcomer.id])
    add_centres(release, addition, read_version=release.version)
    db.session.commit()
    assert notices_of(db, newcomer) == [
        ("exams@gb002.example", "pending", datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    ]

    entered = make_centre(number="GB003")
    make_user(centre=entered, email="exams@gb003.example")
    db.session.add(Entry(series=SERIES, centre_id=entered.id, syllabus="0580", component="22"))
    for entry in db.session.scalars(select(Entry).where(Entry.centre_id == centres["london"].id)):
        entry.withdrawn_at = clock.now
    db.session.commit()
    followups.entries_changed(SERIES)
    db.session.commit()
    assert [s for _, s, _ in notices_of(db, entered)] == ["pending"]
    assert {s for _, s, _ in notices_of(db, centres["london"])} == {"withdrawn"}
