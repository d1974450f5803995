"""Key Times → Upload entries through the web: apply, preview and Confirm, reports."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.models import Entry, EntryError, EntryUpload, Event
from app.services.clock import utcnow
from app.services.timetable.entries import read_entries
from tests.conftest import csrf_token_of
from tests.key_times.entries_fixtures import (
    PREVIEW,
    SERIES,
    confirm,
    entries,
    key_time_fixture,  # noqa: F401
    open_errors,
    pending_folder_fixture,  # noqa: F401
    report,
    slot_fixture,  # noqa: F401
    upload,
    workbook,
)

pytestmark = pytest.mark.usefixtures("pending_folder")


def count(db, model, *where):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def timetabled(slot):
    """0580/22, 0580/42 and 9709/12 in the timetable, sat in every zone."""
    for syllabus, component in (("0580", "22"), ("0580", "42"), ("9709", "12")):
        slot(syllabus, component)


@pytest.fixture
def centres(make_centre):
    return [make_centre(number="GB1"), make_centre(number="GB2")]


def test_the_upload_page_says_what_the_file_holds(client, login_as):
    login_as("admin")
    page = client.get("/key-times/entries").get_data(as_text=True)
    assert "<h1>Upload entries</h1>" in page
    assert "the complete list of entries for its series" in page
    assert "withdraws the entries of the series that are not in the file" in page
    assert 'href="/key-times/entries/sample.xlsx" download>sample</a>' in page
    assert '<option value="2026-06">June 2026</option>' in page
    assert "No entries file has been uploaded yet." in page


def test_only_admins_upload_entries(client, login_as):
    login_as("tp")
    assert client.get("/key-times/entries").status_code == 403


def test_the_sample_is_a_valid_file(client, login_as):
    login_as("admin")
    response = client.get("/key-times/entries/sample.xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="entries-sample.xlsx"'
    result = read_entries(response.data)
    assert result.errors == [] and len(result.rows) == 5


def test_the_first_upload_of_a_series_is_applied_at_once(client, login_as, db, centres, timetabled):
    admin = login_as("admin")
    content = workbook([("GB1", 580, 22), ("GB1", 580, 42), ("GB2", 9709, 12)])
    page = report(client, upload(client, content, name="june.xlsx"))
    assert "<h1>Entries upload: June 2026</h1>" in page
    assert "The entries file was applied: 3 entries added and 0 withdrawn." in page
    assert "None: every row of the file was entered or already entered." in page
    assert entries(db) == {("GB1", "0580", "22"), ("GB1", "0580", "42"), ("GB2", "9709", "12")}
    stored = db.session.scalars(select(EntryUpload)).one()
    assert (stored.series, stored.file_name, stored.actor_id) == (SERIES, "june.xlsx", admin.id)
    assert (stored.rows, stored.added, stored.withdrawn, stored.unchanged, stored.errors) == (
        3,
        3,
        0,
        0,
        0,
    )
    event = db.session.scalars(select(Event).where(Event.action == "entries.uploaded")).one()
    assert event.details == {
        "series": SERIES,
        "file": "june.xlsx",
        "rows": 3,
        "added": 3,
        "withdrawn": 0,
        "unchanged": 0,
        "errors": 0,
    }
    history = client.get("/key-times/entries").get_data(as_text=True)
    assert f'href="/key-times/entries/{stored.id}"' in history and "june.xlsx" in history


def test_the_same_file_twice_changes_nothing_and_lists_no_error_twice(
    client, login_as, db, centres, timetabled
):
    login_as("admin")
    content = workbook([("GB1", 580, 22), ("GB9", 580, 22), ("GB2", 580, 99)])
    report(client, upload(client, content))
    first = open_errors(db)
    first_seen = db.session.scalars(select(EntryError.created_at).order_by(EntryError.id)).all()
    page = report(client, upload(client, content))
    assert "Nothing changed: the stored entries already match this file." in page
    assert entries(db) == {("GB1", "0580", "22")}
    assert open_errors(db) == first and len(first) == 2
    # The errors of the second file replace the first's, first seen when they were.
    now_open = db.session.scalars(
        select(EntryError.created_at)
        .where(EntryError.resolved_at.is_(None))
        .order_by(EntryError.id)
    ).all()
    assert now_open == first_seen
    listed = client.get("/errors/entries").get_data(as_text=True)
    assert listed.count("There is no centre GB9 on the portal.") == 1
    stored = db.session.scalars(select(EntryUpload).order_by(EntryUpload.id)).all()
    assert [(u.added, u.withdrawn, u.unchanged, u.errors) for u in stored] == [
        (1, 0, 0, 2),
        (0, 0, 1, 2),
    ]
    # The errors are kept, not resolved and added again: they belong to the latest file.
    closed = client.get("/errors/entries?show=closed").get_data(as_text=True)
    assert "No Entry Error has been dismissed or resolved yet." in closed
    assert "There is no centre GB9 on the portal." in page
    first_report = client.get(f"/key-times/entries/{stored[0].id}").get_data(as_text=True)
    assert "2 of this file's errors were found again in a later upload" in first_report


def test_withdrawals_wait_for_confirm(client, login_as, db, centres, timetabled):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42), ("GB2", 580, 22)])))
    response = upload(client, workbook([("GB1", 580, 22), ("GB2", 9709, 12)]), name="fewer.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and PREVIEW in page
    assert "“fewer.xlsx” for June 2026, 2 row(s). Nothing has been changed yet." in page
    assert "enter 1 entry;" in page
    assert "withdraw 2 entries</strong>" in page and "leave 1 entry unchanged;" in page
    assert "<tr><td>GB1</td><td>0580/42</td></tr><tr><td>GB2</td><td>0580/22</td></tr>" in page
    assert len(entries(db)) == 3  # nothing yet
    page = report(client, confirm(client, response))
    assert "The entries file was applied: 1 entry added and 2 withdrawn." in page
    assert '<h2 id="withdrawn-heading">Withdrawn entries (2)</h2>' in page
    assert "<tr><td>GB1</td><td>0580/42</td></tr>" in page
    assert entries(db) == {("GB1", "0580", "22"), ("GB2", "9709", "12")}
    assert entries(db, live=False) == {("GB1", "0580", "42"), ("GB2", "0580", "22")}
    latest = db.session.scalars(select(EntryUpload).order_by(EntryUpload.id.desc())).first()
    withdrawn = db.session.scalars(select(Entry).where(Entry.withdrawn_at.is_not(None))).all()
    assert {e.withdrawn_upload_id for e in withdrawn} == {latest.id}
    # Confirming again finds nothing waiting.
    again = confirm(client, response)
    assert again.status_code == 410
    assert "That upload is no longer waiting to be confirmed" in again.get_data(as_text=True)


def test_a_withdrawn_entry_listed_again_is_entered_again(client, login_as, db, centres, timetabled):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    report(client, confirm(client, upload(client, workbook([("GB1", 580, 22)]))))
    [withdrawn] = db.session.scalars(select(Entry).where(Entry.withdrawn_at.is_not(None))).all()
    page = report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    assert "1 entry added and 0 withdrawn" in page
    assert count(db, Entry) == 2  # the same row, not a new one
    entry = db.session.get(Entry, withdrawn.id)
    assert entry.withdrawn_at is None and entry.withdrawn_upload_id is None


def test_cancel_changes_nothing(client, login_as, db, centres, timetabled):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    response = upload(client, workbook([("GB1", 580, 22)]))
    action = re.search(r'action="([^"]+/cancel)"', response.get_data(as_text=True)).group(1)
    cancelled = client.post(action, data={"csrf_token": csrf_token_of(client, "/")})
    assert cancelled.status_code == 302
    assert "Upload cancelled: nothing was changed." in client.get("/key-times/entries").get_data(
        as_text=True
    )
    assert len(entries(db)) == 2 and count(db, EntryUpload) == 1
    assert confirm(client, response).status_code == 410


def test_confirm_shows_the_new_plan_when_it_changed_meanwhile(
    client, login_as, db, centres, timetabled, make_centre
):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    response = upload(client, workbook([("GB1", 580, 22), ("GB3", 580, 22)]))
    make_centre(number="GB3")  # GB3's row would now be entered, not an error
    changed = confirm(client, response)
    page = changed.get_data(as_text=True)
    assert changed.status_code == 200 and PREVIEW in page
    assert "changed after you checked this upload, so nothing was changed" in page
    assert "enter 1 entry;" in page
    assert entries(db) == {("GB1", "0580", "22"), ("GB1", "0580", "42")}
    page = report(client, confirm(client, changed))
    assert "1 entry added and 1 withdrawn" in page
    assert entries(db) == {("GB1", "0580", "22"), ("GB3", "0580", "22")}


def test_a_forged_plan_is_not_applied(client, login_as, db, centres, timetabled):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    response = upload(client, workbook([("GB1", 580, 22)]))
    assert PREVIEW in confirm(client, response, plan="0" * 64).get_data(as_text=True)
    assert len(entries(db)) == 2


def test_rows_that_cannot_be_entered_become_entry_errors(client, login_as, db, make_centre, slot):
    login_as("admin")
    make_centre(number="GB1", zone=3)
    make_centre(number="GB2", zone=3, deleted_at=utcnow())
    slot("0580", "22", zones="45")
    slot("0580", "21", zones="3")
    content = workbook(
        [
            ("GB1", 580, 21),  # entered
            ("GB9", 580, 21),  # no such centre
            ("GB2", 580, 21),  # deleted centre
            ("GB1", 580, 11),  # not in the timetable
            ("GB1", 580, 22),  # zones 4 and 5 only
            ("GB1", 580, 21),  # duplicate
            ("GB1", "x", 21),  # invalid
        ]
    )
    page = report(client, upload(client, content))
    assert "1 entry added and 0 withdrawn" in page
    assert entries(db) == {("GB1", "0580", "21")}
    assert open_errors(db) == [
        ("unknown-centre", 3, "GB9", "0580", "21"),
        ("deleted-centre", 4, "GB2", "0580", "21"),
        ("not-timetabled", 5, "GB1", "0580", "11"),
        ("wrong-zone", 6, "GB1", "0580", "22"),
        ("duplicate", 7, "GB1", "0580", "21"),
        ("invalid", 8, "GB1", "x", "21"),
    ]
    assert "Centre GB1 is in zone 3; 0580/22 is sat in zones 4, 5." in page
    assert "0580/11 is not in the timetable for June 2026." in page
    assert "Centre GB2 is deleted: restore it on its details page to enter it." in page
    assert '<h3 id="kind-unknown-centre">Unknown centre number (1)</h3>' in page
    assert 'href="/errors/entries?series=2026-06&amp;kind=wrong-zone&amp;upload=' in page, (
        "each kind links to the Entry Errors page, filtered"
    )


def test_late_entries_and_withdrawals_after_the_window_opened(
    client, login_as, db, make_centre, slot, key_time, clock
):
    """The clock says 1 June 2026 08:00 UTC; the default window opens 3 days before the
    key time, so an exam on 3 June at 09:00 London time (08:00 UTC) is open already."""
    login_as("admin")
    make_centre(number="GB1")
    key_time("GB", am="09:00")
    slot("0580", "22", day=date(2026, 6, 3))
    slot("0580", "42", day=date(2026, 6, 3))
    slot("0580", "12", day=date(2026, 6, 20))
    clock.set(clock.now.replace(month=5, day=20))
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 12)])))
    clock.set(clock.now.replace(month=6, day=1))
    response = upload(client, workbook([("GB1", 580, 42)]))
    assert PREVIEW in response.get_data(as_text=True)  # 0580/12 is withdrawn
    page = report(client, confirm(client, response))
    assert "0 entries added and 1 withdrawn" in page
    assert entries(db) == {("GB1", "0580", "22")}
    assert open_errors(db) == [
        ("late-entry", 2, "GB1", "0580", "42"),
        ("late-withdrawal", None, "GB1", "0580", "22"),
    ]
    assert (
        "The release window of 0580/42 for centre GB1 opened on 31 May 2026 at 08:00 UTC, so "
        "the new entry was not made."
    ) in page
    assert (
        "The file leaves out 0580/22 for centre GB1, but its release window opened on 31 May "
        "2026 at 08:00 UTC, so the entry was kept, not withdrawn."
    ) in page
    late = db.session.scalars(select(EntryError).where(EntryError.kind == "late-withdrawal")).one()
    kept = db.session.scalars(select(Entry).where(Entry.component == "22")).one()
    assert late.entry_id == kept.id and kept.withdrawn_at is None
    # A later file that lists the entry again resolves the late withdrawal.
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB1", 580, 42)])))
    assert open_errors(db) == [("late-entry", 3, "GB1", "0580", "42")]
    assert db.session.get(EntryError, late.id).resolved_at is not None


@pytest.mark.parametrize(
    ("now", "entered"),
    [
        # 09:00 BST on Thursday 4 June is 08:00 UTC: the window opens 3 local days
        # before, at 09:00 BST on Monday 1 June (08:00 UTC).
        (datetime(2026, 6, 1, 7, 59, 59, tzinfo=UTC), True),
        (datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC), False),
    ],
)
def test_the_window_opens_three_local_days_before_the_key_time(
    client, login_as, db, make_centre, slot, key_time, clock, now, entered
):
    clock.set(now)
    login_as("admin")
    make_centre(number="GB1")
    key_time("GB", am="09:00")
    slot("0580", "42", day=date(2026, 6, 4))
    report(client, upload(client, workbook([("GB1", 580, 42)])))
    assert entries(db) == ({("GB1", "0580", "42")} if entered else set())
    assert open_errors(db) == ([] if entered else [("late-entry", 2, "GB1", "0580", "42")])


def test_without_a_key_time_the_window_is_not_open(client, login_as, db, make_centre, slot):
    login_as("admin")
    make_centre(number="GB1")
    slot("0580", "42", day=date(2026, 6, 1))
    report(client, upload(client, workbook([("GB1", 580, 42)])))
    assert entries(db) == {("GB1", "0580", "42")}


def test_a_new_file_supersedes_the_open_errors_of_the_series(
    client, login_as, db, centres, timetabled
):
    login_as("admin")
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB9", 580, 22)])))
    report(client, upload(client, workbook([("GB1", 580, 22), ("GB8", 580, 22)])))
    assert open_errors(db) == [("unknown-centre", 3, "GB8", "0580", "22")]
    latest = db.session.scalars(select(EntryUpload).order_by(EntryUpload.id.desc())).first()
    old = db.session.scalars(select(EntryError).where(EntryError.centre_number == "GB9")).one()
    assert old.resolution == f"Superseded by upload {latest.id}: its file does not have this error."
    assert old.resolved_at is not None


def test_another_series_is_left_alone(client, login_as, db, centres, slot):
    login_as("admin")
    slot("0580", "22")
    slot("0580", "22", series="2026-11")
    report(client, upload(client, workbook([("GB1", 580, 22)])))
    report(client, upload(client, workbook([("GB2", 580, 22)]), series="2026-11"))
    assert entries(db) == {("GB1", "0580", "22")}
    assert entries(db, "2026-11") == {("GB2", "0580", "22")}


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Centre Number,Syllabus,Component\nGB1,0580,22\n", "entries.csv", "This is a text file"),
        (
            workbook([("GB1", 580)], header=("Centre Number", "Syllabus")),
            "short.xlsx",
            "missing the column(s) “Component”",
        ),
    ],
)
def test_a_file_level_problem_rejects_the_file(
    client, login_as, db, centres, content, name, message
):
    login_as("admin")
    response = upload(client, content, name=name)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page and f"Failed to upload “{name}”." in page
    assert message in page and "Nothing was changed." in page
    assert count(db, EntryUpload) == 0 and count(db, Entry) == 0


def test_the_series_and_the_file_are_required(client, login_as, db):
    login_as("admin")
    response = upload(client, None, series="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the series these entries are for." in page
    assert "Choose the entries file to upload." in page
    response = upload(client, workbook([("GB1", 580, 22)]), series="2026-07")
    assert "Choose the series these entries are for." in response.get_data(as_text=True)
    assert count(db, EntryUpload) == 0


def test_a_report_that_does_not_exist_is_404(client, login_as):
    login_as("admin")
    assert client.get("/key-times/entries/999").status_code == 404
