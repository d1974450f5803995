"""Entry Errors are checked again when centres, key times or the timetable change: a
row whose cause is fixed is entered, and its error resolved."""

from datetime import date

import pytest
from sqlalchemy import select

from app.models import Entry, EntryError, Event, KeyTime, TimetableSlot
from app.services.centres.operations import (
    CentreDetails,
    create_centre,
    restore_centre,
    soft_delete_centre,
    update_centre,
)
from app.services.clock import utcnow
from app.services.timetable import followups
from app.services.timetable.entries import (
    dismiss_entry_error,
    open_entry_errors,
    recheck_entry_errors,
    upload_entries,
)
from tests.key_times.entries_fixtures import (
    SERIES,
    entries,
    key_time_fixture,  # noqa: F401
    open_errors,
    slot_fixture,  # noqa: F401
    workbook,
)


def uploaded(db, rows):
    db.session.rollback()
    result = upload_entries(workbook(rows), "entries.xlsx", SERIES, actor_id=None)
    db.session.commit()
    return result


def resolutions(db) -> list[tuple[str, str]]:
    db.session.rollback()
    rows = db.session.execute(
        select(EntryError.kind, EntryError.resolution)
        .where(EntryError.resolved_at.is_not(None))
        .order_by(EntryError.id)
    ).all()
    return [tuple(row) for row in rows]


def gb(number: str, zone: int = 3) -> CentreDetails:
    return CentreDetails(number, f"Centre {number}", "GB", "Cambridge", "Europe/London", zone)


def test_creating_the_missing_centre_enters_its_rows(db, slot, clock):
    slot("0580", "22")
    uploaded(db, [("GB7", 580, 22)])
    assert open_errors(db) == [("unknown-centre", 2, "GB7", "0580", "22")]
    assert open_entry_errors() == 1
    create_centre(gb("GB7"))  # the service follows the change up itself
    db.session.commit()
    assert entries(db) == {("GB7", "0580", "22")}
    assert open_errors(db) == [] and open_entry_errors() == 0
    assert resolutions(db) == [("unknown-centre", "Entered on 1 June 2026: the centre was added.")]
    entry = db.session.scalars(select(Entry)).one()
    error = db.session.scalars(select(EntryError)).one()
    assert entry.upload_id == error.upload_id and entry.entered_at == clock.now
    assert error.resolved_at == clock.now  # written in bulk, read back as the same instant
    event = db.session.scalars(select(Event).where(Event.action == "entry_errors.rechecked")).one()
    assert event.details["entered"] == 1
    assert event.details["entries"] == [{"series": SERIES, "centre": "GB7", "component": "0580/22"}]


def test_restoring_a_deleted_centre_enters_its_rows(db, slot, make_centre):
    slot("0580", "22")
    centre = make_centre(number="GB7", deleted_at=utcnow())
    uploaded(db, [("GB7", 580, 22)])
    assert open_errors(db) == [("deleted-centre", 2, "GB7", "0580", "22")]
    restore_centre(db.session.get(type(centre), centre.id))
    db.session.commit()
    assert entries(db) == {("GB7", "0580", "22")}
    assert resolutions(db)[0][1].endswith(": the centre was restored.")


def test_the_timetable_corrected_enters_the_row_or_says_what_stops_it_now(
    db, slot, make_centre, clock
):
    centre = make_centre(number="GB7", zone=3)
    uploaded(db, [("GB7", 580, 22)])
    assert open_errors(db) == [("not-timetabled", 2, "GB7", "0580", "22")]
    slot("0580", "22", zones="45")
    followups.timetable_changed(SERIES)
    db.session.commit()
    assert open_errors(db) == [("wrong-zone", 2, "GB7", "0580", "22")]
    error = db.session.scalars(select(EntryError)).one()
    assert error.detail == "Centre GB7 is in zone 3; 0580/22 is sat in zones 4, 5."
    assert entries(db) == set()
    # The centre moves to zone 4.
    update_centre(db.session.get(type(centre), centre.id), gb("GB7", zone=4))
    db.session.commit()
    assert entries(db) == {("GB7", "0580", "22")}
    assert resolutions(db) == [
        (
            "wrong-zone",
            "Entered on 1 June 2026: the centre's zone is now among the component's zones.",
        )
    ]


def test_a_late_entry_is_entered_once_its_window_is_no_longer_open(
    db, slot, key_time, make_centre, clock
):
    make_centre(number="GB7")
    key_time("GB", am="09:00")
    exam = slot("0580", "22", day=date(2026, 6, 3))
    uploaded(db, [("GB7", 580, 22)])
    assert open_errors(db) == [("late-entry", 2, "GB7", "0580", "22")]
    followups.timetable_changed(SERIES)  # nothing changed: still late
    db.session.commit()
    assert open_errors(db) == [("late-entry", 2, "GB7", "0580", "22")]
    db.session.get(TimetableSlot, exam.id).exam_date = date(2026, 6, 20)
    followups.timetable_changed(SERIES)
    db.session.commit()
    assert entries(db) == {("GB7", "0580", "22")}
    assert resolutions(db)[0][1] == "Entered on 1 June 2026: its release window is no longer open."


@pytest.mark.parametrize("change", ["delete the key time", "a published GMT that disagrees"])
def test_a_late_entry_is_not_let_in_because_its_window_can_no_longer_be_worked_out(
    db, slot, key_time, make_centre, clock, change
):
    make_centre(number="GB7")
    row = key_time("GB", am="09:00")
    slot("0580", "22", day=date(2026, 6, 3))
    uploaded(db, [("GB7", 580, 22)])
    if change == "delete the key time":
        db.session.delete(db.session.get(KeyTime, row.id))
    else:
        db.session.get(KeyTime, row.id).am_gmt = "09:00"  # 09:00 BST is 08:00 GMT
    followups.key_times_changed(SERIES, ["GB"])
    db.session.commit()
    assert entries(db) == set()
    assert open_errors(db) == [("late-entry", 2, "GB7", "0580", "22")]


def test_a_late_withdrawal_stays_open_until_the_entry_is_withdrawn(
    db, slot, key_time, make_centre, clock
):
    make_centre(number="GB7")
    make_centre(number="GB8")
    key_time("GB", am="09:00")
    slot("0580", "22", day=date(2026, 6, 3))
    clock.set(clock.now.replace(month=5, day=1))
    uploaded(db, [("GB7", 580, 22), ("GB8", 580, 22)])
    clock.set(clock.now.replace(month=6, day=1))
    preview = uploaded(db, [("GB8", 580, 22)])
    # Nothing would be withdrawn: the late withdrawal is kept, so no preview.
    assert preview.withdrawn == 0 and preview.errors == 1
    assert open_errors(db) == [("late-withdrawal", None, "GB7", "0580", "22")]
    recheck_entry_errors()
    db.session.commit()
    assert len(open_errors(db)) == 1
    error = db.session.scalars(select(EntryError)).one()
    db.session.get(Entry, error.entry_id).withdrawn_at = utcnow()
    recheck_entry_errors(series=SERIES)
    db.session.commit()
    assert open_errors(db) == []
    assert resolutions(db) == [
        ("late-withdrawal", "Resolved on 1 June 2026: the entry has been withdrawn.")
    ]


def test_dismissed_errors_are_not_checked_again(db, slot):
    slot("0580", "22")
    uploaded(db, [("GB7", 580, 22)])
    error = db.session.scalars(select(EntryError)).one()
    dismiss_entry_error(error, "Centre closed", None)
    db.session.commit()
    create_centre(gb("GB7"))  # the service follows the change up itself
    db.session.commit()
    assert entries(db) == set()


def test_the_recheck_can_be_scoped_to_centres(db, slot, make_centre):
    slot("0580", "22")
    uploaded(db, [("GB7", 580, 22), ("GB8", 580, 22)])
    make_centre(number="GB7")  # stored directly: no follow-up has rechecked anything
    make_centre(number="GB8")
    done = recheck_entry_errors(centre_numbers=["gb7"])
    db.session.commit()
    assert (done.entered, done.resolved, done.changed) == (1, 1, 0)
    assert entries(db) == {("GB7", "0580", "22")}
    assert recheck_entry_errors(centre_numbers=[]).resolved == 0


@pytest.mark.parametrize("kind", ["duplicate", "invalid"])
def test_rows_of_the_file_itself_wait_for_a_new_file(db, slot, make_centre, kind):
    make_centre(number="GB7")
    slot("0580", "22")
    rows = [("GB7", 580, 22), ("GB7", 580, 22)] if kind == "duplicate" else [("GB7", "x", 22)]
    uploaded(db, rows)
    followups.centres_changed(["GB"], ["GB7"])
    db.session.commit()
    assert [error[0] for error in open_errors(db)] == [kind]


def test_a_recheck_costs_the_same_few_queries_however_many_errors(
    db, slot, make_centre, count_queries
):
    """Rows waiting for a component to be timetabled, all entered by one re-check: no
    query per error (there were two each: thousands after a big upload)."""

    def statements_for(numbers: list[str], series: str) -> int:
        for number in numbers:
            make_centre(number=number)
        db.session.rollback()
        upload_entries(workbook([(n, 580, 22) for n in numbers]), "e.xlsx", series, actor_id=None)
        db.session.commit()
        slot("0580", "22", series=series)  # stored directly: nothing has rechecked yet
        with count_queries() as statements:
            done = recheck_entry_errors()
        db.session.commit()
        assert done.entered == len(numbers)
        return len(statements)

    assert statements_for(["GB1"], "2026-06") == statements_for(
        [f"GC{n}" for n in range(40)], "2026-11"
    )


def test_an_entry_a_later_change_makes_wrong_is_listed_until_it_is_put_right(db, slot, make_centre):
    centre = make_centre(number="GB7", zone=4)
    other = make_centre(number="GB8", zone=4)
    exam = slot("0580", "22", zones="45")
    uploaded(db, [("GB7", 580, 22), ("GB8", 580, 22)])
    assert open_errors(db) == []
    # The centre moves to zone 3, where 0580/22 is not sat; the other centre is deleted.
    update_centre(db.session.get(type(centre), centre.id), gb("GB7", zone=3))
    soft_delete_centre(db.session.get(type(other), other.id))
    db.session.commit()
    assert open_errors(db) == [
        ("deleted-centre", None, "GB8", "0580", "22"),
        ("wrong-zone", None, "GB7", "0580", "22"),
    ]
    wrong = db.session.scalars(select(EntryError).where(EntryError.kind == "wrong-zone")).one()
    assert wrong.detail == (
        "Centre GB7 is in zone 3; 0580/22 is sat in zones 4, 5. The entry made earlier is "
        "kept: withdraw it with the next entries file, or fix the cause."
    )
    assert entries(db) == {("GB7", "0580", "22"), ("GB8", "0580", "22")}  # kept
    # A second change finds them listed already: no duplicates.
    followups.centres_changed(["GB"], ["GB7", "GB8"])
    db.session.commit()
    assert len(open_errors(db)) == 2
    # The timetable is corrected to all zones, and the centre restored: both resolved.
    db.session.get(TimetableSlot, exam.id).zones = ""
    followups.timetable_changed(SERIES)
    restore_centre(db.session.get(type(other), other.id))
    db.session.commit()
    assert open_errors(db) == []


def test_a_dismissed_error_about_a_live_entry_stays_dismissed(db, slot, make_centre):
    centre = make_centre(number="GB7", zone=4)
    slot("0580", "22", zones="45")
    uploaded(db, [("GB7", 580, 22)])
    update_centre(db.session.get(type(centre), centre.id), gb("GB7", zone=3))
    db.session.commit()
    (error,) = db.session.scalars(select(EntryError)).all()
    dismiss_entry_error(error, "Sits it at a zone 4 centre nearby", None)
    db.session.commit()
    followups.timetable_changed(SERIES)
    followups.check_everything()
    db.session.commit()
    assert open_errors(db) == []
    assert len(db.session.scalars(select(EntryError)).all()) == 1


def test_a_recheck_leaves_a_flagged_errors_words_as_they_are(db, slot, make_centre):
    centre = make_centre(number="GB7", zone=4)
    slot("0580", "22", zones="45")
    uploaded(db, [("GB7", 580, 22)])
    update_centre(db.session.get(type(centre), centre.id), gb("GB7", zone=3))
    db.session.commit()
    before = db.session.scalars(select(EntryError.detail)).one()
    done = recheck_entry_errors()
    db.session.commit()
    assert (done.changed, done.resolved) == (0, 0)
    assert db.session.scalars(select(EntryError.detail)).one() == before
    assert (
        db.session.scalars(select(Event).where(Event.action == "entry_errors.rechecked")).all()
        == []
    )


def test_centre_changes_made_together_are_followed_up_once(db, make_centre, monkeypatch):
    calls = []
    monkeypatch.setattr(
        followups,
        "_follow_up_centres",
        lambda countries, numbers: calls.append((countries, numbers)),
    )
    first, second = (
        make_centre(number="GB7"),
        make_centre(number="FR1", country="FR", timezone="Europe/Paris"),
    )
    calls.clear()
    with followups.centre_changes_together():
        soft_delete_centre(first)
        soft_delete_centre(second)
        assert calls == []
    assert calls == [({"GB", "FR"}, {"GB7", "FR1"})]
