"""The admin's Home: windows opening in the next 7 days, recent uploads and imports,
downloads in the last 24 hours, and the links to the pages that show more."""

import html
import re
from datetime import timedelta

import pytest

from app.models import (
    Authorisation,
    Download,
    EntryUpload,
    Event,
    ImportRun,
    Release,
    Resource,
    ResourceFile,
)
from app.services.releases import figures
from app.web.access import allow


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def table_rows(part: str) -> list[list[str]]:
    """The cells of each body row, as text without tags."""
    body = part.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def admin(login_as):
    return login_as("admin", email="boss@example.com")


@pytest.fixture
def resource(db):
    paper = Resource(
        series="2026-06", syllabus="0580", component="22", kind="question-paper", title="Paper 22"
    )
    paper.files.append(
        ResourceFile(
            number=1,
            original_name="0580_s26_qp_22.pdf",
            stored_name="a" * 32,
            size=10,
            sha256="0" * 64,
            media_type="application/pdf",
        )
    )
    db.session.add(paper)
    db.session.commit()
    return paper


@pytest.fixture
def windows(db, resource):
    """A release (title, series) whose centres' windows open after the given delays
    from now: windows("June", "2026-06", {centre: [delay, ...]})."""

    def make(title, series, openings, *, cancelled_at=None) -> Release:
        release = Release(
            series=series, title=title, opens_days=3, opens_hours=0, cancelled_at=cancelled_at
        )
        db.session.add(release)
        db.session.flush()
        for centre, moments in openings.items():
            for n, opens in enumerate(moments):
                db.session.add(
                    Authorisation(
                        release_id=release.id,
                        centre_id=centre.id,
                        # One resource per opening: the unique key is (release, centre, resource).
                        resource_id=_resource(db, resource, n),
                        opens_at=opens,
                        closes_at=opens + timedelta(days=2),
                    )
                )
        figures.rebuild(release.id)  # rows made by hand: worked out afresh
        db.session.commit()
        return release

    return make


def _resource(db, first: Resource, n: int) -> int:
    if n == 0:
        return first.id
    other = Resource(
        series=first.series, syllabus="0580", component=f"{n + 30}", kind="insert", title=f"#{n}"
    )
    db.session.add(other)
    db.session.flush()
    return other.id


# ---------------------------------------------------------------------------
# Windows opening in the next 7 days


def test_windows_opening_in_the_next_7_days_by_release(client, admin, windows, make_centre, clock):
    now = clock.now
    a, b, c, d = (make_centre(number=n) for n in ("GB101", "GB102", "GB103", "GB104"))
    june = windows(
        "June papers",
        "2026-06",
        {
            a: [now + timedelta(days=1)],
            b: [now + timedelta(days=3), now + timedelta(days=9)],  # counted once
            c: [now + timedelta(days=8)],  # too late
            d: [now - timedelta(hours=1)],  # open already
        },
    )
    later = windows("", "2026-11", {a: [now + timedelta(days=5)], b: [now + timedelta(days=7)]})
    windows("Cancelled", "2026-06", {a: [now + timedelta(days=2)]}, cancelled_at=now)
    windows("Far off", "2026-06", {a: [now + timedelta(days=7, seconds=1)]})

    page = text_of(client.get("/"))
    part = section(page, "upcoming-openings")
    assert table_rows(part) == [
        ["June papers", "June 2026", "2", "02 Jun 2026 08:00 UTC", "04 Jun 2026 08:00 UTC"],
        [
            f"Release {later.id}",
            "November 2026",
            "2",
            "06 Jun 2026 08:00 UTC",
            "08 Jun 2026 08:00 UTC",
        ],
    ]
    assert f'<a href="/releases/{june.id}">June papers</a>' in part
    assert f'<a href="/releases/{later.id}">Release {later.id}</a>' in part
    assert "Cancelled" not in part and "Far off" not in part


def test_no_windows_opening_soon_says_so(client, admin, windows, make_centre, clock):
    windows("Old", "2026-06", {make_centre(): [clock.now - timedelta(days=1)]})
    part = section(text_of(client.get("/")), "upcoming-openings")
    assert "No release has a window opening in the next 7 days." in part
    assert '<a href="/releases/">Manage Releases</a>' in part


# ---------------------------------------------------------------------------
# Recent uploads and imports


def test_recent_uploads_and_imports_newest_first_each_linked(
    client, admin, db, clock, resource, make_user
):
    officer = make_user("admin", email="uploader@example.com")
    start = clock.now - timedelta(hours=10)

    def at(hours):
        return start + timedelta(hours=hours)

    applied = ImportRun(
        started_at=at(1), actor_email="boss@example.com", file_name="centres.xlsx", file_size=1,
        file_sha256="0" * 64, status="applied", rows=12, created_centres=3, renamed_centres=1,
        created_users=1,
    )  # fmt: skip
    refused = ImportRun(
        started_at=at(2), actor_email="boss@example.com", file_name="bad.xlsx", file_size=1,
        file_sha256="0" * 64, status="failed", problem_count=4,
    )  # fmt: skip
    entries = EntryUpload(
        series="2026-06", file_name="entries.xlsx", actor_id=officer.id, at=at(3), rows=10,
        added=9, withdrawn=2, errors=1,
    )  # fmt: skip
    db.session.add_all([applied, refused, entries])
    db.session.flush()
    resource.files[0].uploaded_at = at(4)
    resource.files[0].uploaded_by_id = officer.id
    resource.files.append(
        ResourceFile(
            number=2, original_name="0580_s26_qp_22_v2.pdf", stored_name="b" * 32, size=10,
            sha256="1" * 64, media_type="application/pdf", uploaded_at=at(5),
        )
    )  # fmt: skip
    db.session.add(
        Event(
            at=at(6), action="timetable.uploaded", actor_email="boss@example.com",
            details={"file_name": "timetable.xlsx", "series": "2026-11", "added": 40, "changed": 2},
        )
    )  # fmt: skip
    db.session.add(Event(at=at(7), action="centre.created"))  # not an upload
    db.session.commit()

    part = section(text_of(client.get("/")), "recent-uploads")
    assert table_rows(part) == [
        [
            "01 Jun 2026 04:00",
            "Timetable upload",
            "timetable.xlsx",
            "boss@example.com",
            "40 added, 2 changed",
        ],
        [
            "01 Jun 2026 03:00",
            "Resource file replaced",
            "0580_s26_qp_22_v2.pdf",
            "unknown",
            "Paper 22: version 2",
        ],
        [
            "01 Jun 2026 02:00",
            "Resource upload",
            "0580_s26_qp_22.pdf",
            "uploader@example.com",
            "Paper 22",
        ],
        [
            "01 Jun 2026 01:00",
            "Entries upload",
            "entries.xlsx",
            "uploader@example.com",
            "9 entries added, 2 withdrawn, 1 error",
        ],
        [
            "01 Jun 2026 00:00",
            "Centres import",
            "bad.xlsx",
            "boss@example.com",
            "Refused: 4 problems",
        ],
        [
            "31 May 2026 23:00",
            "Centres import",
            "centres.xlsx",
            "boss@example.com",
            "3 centres added, 1 centre renamed, 1 user added",
        ],
    ]
    assert '<a href="/key-times/timetable?series=2026-11">Timetable upload</a>' in part
    assert f'<a href="/resources/{resource.id}">Resource upload</a>' in part
    assert f'<a href="/key-times/entries/{entries.id}">Entries upload</a>' in part
    assert f'<a href="/admin/centres/imports/{applied.id}">Centres import</a>' in part
    assert '<a href="/reports/events?kind=uploads">Every upload and import</a>' in part


def test_a_big_upload_does_not_hide_the_others(client, admin, db, clock, resource):
    db.session.add(
        ImportRun(
            started_at=clock.now - timedelta(days=30), actor_email="boss@example.com",
            file_name="centres.xlsx", file_size=1, file_sha256="0" * 64, status="applied",
        )
    )  # fmt: skip
    for n in range(20):  # twenty newer versions of one resource
        resource.files.append(
            ResourceFile(
                number=n + 2, original_name=f"v{n}.pdf", stored_name=f"{n:032d}", size=1,
                sha256=f"{n:064d}", media_type="application/pdf", uploaded_at=clock.now,
            )
        )  # fmt: skip
    db.session.commit()
    rows = table_rows(section(text_of(client.get("/")), "recent-uploads"))
    assert [row[1] for row in rows] == ["Resource file replaced"] * 3 + ["Centres import"]


def test_nothing_uploaded_yet(client, admin):
    part = section(text_of(client.get("/")), "recent-uploads")
    assert "Nothing has been uploaded or imported yet." in part


# ---------------------------------------------------------------------------
# Downloads and sign-ins


def download(db, file, centre, user, at, status="sent"):
    db.session.add(
        Download(
            at=at, user_id=user.id, user_email=user.email, centre_id=centre.id,
            resource_file_id=file.id, status=status,
        )
    )  # fmt: skip


def test_downloads_in_the_last_24_hours(client, admin, db, clock, resource, make_user):
    london, kolkata = make_user("centre"), make_user("centre")
    file = resource.files[0]
    download(db, file, london.centre, london, clock.now - timedelta(hours=1))
    download(db, file, london.centre, london, clock.now - timedelta(hours=23))
    download(db, file, kolkata.centre, kolkata, clock.now - timedelta(minutes=5))
    download(db, file, kolkata.centre, kolkata, clock.now, status="refused")
    download(db, file, kolkata.centre, kolkata, clock.now, status="not-modified")
    download(db, file, london.centre, london, clock.now - timedelta(hours=25))
    db.session.commit()
    page = text_of(client.get("/"))
    assert '<p class="figure">3</p>' in page
    assert "files downloaded by 2 centres in the last 24 hours" in re.sub(r"<[^>]+>", "", page)


def test_downloads_link_to_the_audit_reports_once_they_exist(make_app, make_user, db):
    app = make_app()
    if "reports.audit" not in app.view_functions:  # until the Audit Reports land
        app.add_url_rule("/reports/audit", "reports.audit", allow("admin")(lambda: "Audit Reports"))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
    page = text_of(client.get("/"))
    assert '<a href="/reports/audit">files downloaded</a> by 0 centres' in page


def test_no_downloads_yet(client, admin):
    page = text_of(client.get("/"))
    assert "files downloaded" in page and "by 0 centres in the last 24 hours" in page


def test_sign_ins_link_to_the_event_logs(client, admin):
    page = text_of(client.get("/"))
    part = section(page, "recent-sign-ins")
    assert '<a href="/reports/events?kind=sign-ins">Every sign-in event</a>' in part
    assert '<a href="/reports/events?kind=sign-ins">sign-ins</a> in the last 24 hours' in page


# ---------------------------------------------------------------------------
# A fixed number of queries


def test_the_home_runs_the_same_queries_however_much_there_is(
    client, admin, db, clock, windows, make_centre, make_user, resource, count_queries
):
    with count_queries() as empty:
        client.get("/")
    centres = [make_centre() for _ in range(6)]
    windows(
        "June", "2026-06", {c: [clock.now + timedelta(days=1 + i)] for i, c in enumerate(centres)}
    )
    windows("Nov", "2026-11", {c: [clock.now + timedelta(hours=5)] for c in centres})
    user = make_user("centre")
    for n in range(10):
        download(db, resource.files[0], user.centre, user, clock.now - timedelta(minutes=n))
        db.session.add(Event(at=clock.now, action="login.succeeded", actor_email=user.email))
        db.session.add(
            ImportRun(
                started_at=clock.now, file_name=f"{n}.xlsx", file_size=1, file_sha256="0" * 64,
                status="applied",
            )
        )  # fmt: skip
        db.session.add(EntryUpload(series="2026-06", file_name=f"{n}.xlsx", at=clock.now))
        db.session.add(
            Event(at=clock.now, action="key_times.uploaded", details={"file_name": "k.xlsx"})
        )
    db.session.commit()
    with count_queries() as full:
        page = text_of(client.get("/"))
    assert len(table_rows(section(page, "upcoming-openings"))) == 2
    assert len(table_rows(section(page, "recent-uploads"))) == 8
    assert len(full) == len(empty)
