"""A centre user's download: only while a window of a release that is not cancelled
is open, to the second; anything else is the plain 404 page; every attempt on a real
resource is a Download row with its status and reason."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Download, Release, Resource
from tests.home.conftest import CONTENT
from tests.home.test_centre_resources import release, store_resource
from tests.resources import files

SECOND = timedelta(seconds=1)
OPENS = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Mon 1 Jun 09:00 BST, 3 days before
CLOSES = datetime(2026, 6, 5, 9, 30, tzinfo=UTC)  # 24 hours after the exam's end


@pytest.fixture(autouse=True)
def at_opening(clock):
    """The app's clock stands at the paper's opening moment unless a test moves it."""
    clock.set(OPENS)
    return clock


def url(resource) -> str:
    return f"/home/resources/{resource.id}/download"


def downloads(db) -> list[tuple]:
    db.session.rollback()
    return [
        (d.status, d.reason, d.release_id, d.range)
        for d in db.session.scalars(select(Download).order_by(Download.id))
    ]


_CSRF = re.compile(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]+')


def page_of(response) -> str:
    """The page's text, its CSRF tokens masked: they are signed with the second they
    were made in, so two pages made a second apart differ there and only there."""
    return _CSRF.sub(r"\1…", response.get_data(as_text=True))


def not_found_page(client) -> str:
    return page_of(client.get("/no-such-page"))


def test_the_window_is_kept_to_the_second(client, login_as, db, paper, london, released, clock):
    user = login_as("centre", centre=london)
    clock.set(OPENS - SECOND)
    early = client.get(url(paper))
    assert early.status_code == 404
    assert page_of(early) == not_found_page(client)

    clock.set(OPENS)
    sent = client.get(url(paper), headers={"User-Agent": "Test browser"})
    assert sent.status_code == 200 and sent.data == CONTENT
    assert hashlib.sha256(sent.data).hexdigest() == paper.current_file.sha256
    assert sent.headers["Content-Disposition"] == "attachment; filename=0580_s26_qp_22.pdf"
    assert sent.headers["Cache-Control"] == "private, no-store"
    assert sent.headers["ETag"] == f'"{paper.current_file.sha256}"'
    assert sent.headers["Content-Type"] == "application/pdf"

    clock.set(CLOSES - SECOND)
    assert client.get(url(paper)).status_code == 200
    clock.set(CLOSES)
    assert client.get(url(paper)).status_code == 404

    assert downloads(db) == [
        ("refused", "too early", released.id, None),
        ("sent", None, released.id, None),
        ("sent", None, released.id, None),
        ("refused", "closed", released.id, None),
    ]
    row = db.session.scalars(select(Download).order_by(Download.id)).all()[1]
    assert (row.user_id, row.centre_id, row.resource_file_id) == (
        user.id,
        london.id,
        paper.current_file.id,
    )
    assert row.user_agent == "Test browser" and row.ip == "127.0.0.1"
    assert row.at == OPENS


def test_another_centres_user_is_refused(client, login_as, db, paper, released, clock):
    login_as("centre")  # a centre of its own, not in the release
    response = client.get(url(paper))
    assert response.status_code == 404
    assert page_of(response) == not_found_page(client)
    assert downloads(db) == [("refused", "not authorised", None, None)]


def test_a_cancelled_release_is_refused(client, login_as, db, paper, london, released, clock):
    db.session.get(Release, released.id).cancelled_at = clock.now
    db.session.commit()
    login_as("centre", centre=london)
    assert client.get(url(paper)).status_code == 404
    assert downloads(db) == [("refused", "release cancelled", released.id, None)]


def test_a_deleted_centres_user_is_refused(client, login_as, db, paper, london, released, clock):
    login_as("centre", centre=london)
    db.session.rollback()
    london.deleted_at = clock.now
    db.session.add(london)
    db.session.commit()
    assert client.get(url(paper)).status_code == 404
    assert downloads(db) == [("refused", "centre deleted", None, None)]


def test_a_user_not_yet_activated_is_refused(client, login_as, db, paper, london, released):
    login_as("centre", centre=london, activated=False)
    assert client.get(url(paper)).status_code == 404
    assert downloads(db) == [("refused", "not a centre user", None, None)]


def test_a_deleted_resource_is_refused(client, login_as, db, paper, london, released, clock):
    db.session.get(Resource, paper.id).deleted_at = clock.now
    db.session.commit()
    login_as("centre", centre=london)
    assert client.get(url(paper)).status_code == 404
    assert downloads(db) == [("refused", "resource deleted", released.id, None)]


@pytest.mark.parametrize("path", ["/home/resources/999999/download", "/home/resources/x/download"])
def test_an_unknown_or_tampered_id_is_the_plain_404_with_no_row(
    client, login_as, db, london, released, path
):
    login_as("centre", centre=london)
    response = client.get(path)
    assert response.status_code == 404
    assert page_of(response) == not_found_page(client)
    assert downloads(db) == []


def test_a_resumed_download_is_answered_in_part_and_recorded(
    client, login_as, db, paper, london, released
):
    login_as("centre", centre=london)
    response = client.get(url(paper), headers={"Range": "bytes=4-9"})
    assert response.status_code == 206 and response.data == CONTENT[4:10]
    outside = client.get(url(paper), headers={"Range": f"bytes={len(CONTENT) + 10}-"})
    assert outside.status_code == 416
    assert downloads(db) == [
        ("sent", None, released.id, "bytes=4-9"),
        (
            "refused",
            "416 Requested Range Not Satisfiable",
            released.id,
            f"bytes={len(CONTENT) + 10}-",
        ),
    ]


def test_a_current_copy_is_answered_not_modified(client, login_as, db, paper, london, released):
    login_as("centre", centre=london)
    etag = f'"{paper.current_file.sha256}"'
    response = client.get(url(paper), headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert downloads(db) == [("not-modified", None, released.id, None)]


def test_a_file_missing_from_storage_is_a_recorded_refusal(
    client, login_as, db, paper, london, released, resource_dir
):
    (resource_dir / "files" / paper.current_file.stored_name).unlink()
    login_as("centre", centre=london)
    response = client.get(url(paper))
    assert response.status_code == 404
    assert "missing from the portal" in response.get_data(as_text=True)
    assert downloads(db) == [("refused", "file missing from storage", released.id, None)]


@pytest.mark.parametrize("role", ["admin", "tp"])
def test_staff_use_their_own_download(client, login_as, db, paper, released, role):
    login_as(role)
    assert client.get(url(paper)).status_code == 403
    assert downloads(db) == []


def test_behind_nginx_the_download_is_handed_to_it(
    client, login_as, db, paper, london, released, app, monkeypatch
):
    """With RESOURCE_ACCEL_REDIRECT, the portal decides and records; nginx sends."""
    monkeypatch.setitem(app.config, "RESOURCE_ACCEL_REDIRECT", "/_protected/")
    login_as("centre", centre=london)
    sent = client.get(url(paper))
    assert sent.status_code == 200 and sent.data == b""
    stored = paper.current_file.stored_name
    assert sent.headers["X-Accel-Redirect"] == f"/_protected/{stored}"
    assert sent.headers["Content-Disposition"] == 'attachment; filename="0580_s26_qp_22.pdf"'
    assert sent.headers["Cache-Control"] == "private, no-store"
    assert sent.headers["Content-Type"] == "application/pdf"
    assert downloads(db) == [("sent", None, released.id, None)]


def test_a_name_beyond_ascii_keeps_a_plain_fallback():
    from app.web.uploads import content_disposition

    assert content_disposition('Lösung "A".pdf', True) == (
        "attachment; filename=\"Lsung A.pdf\"; filename*=UTF-8''L%C3%B6sung%20%22A%22.pdf"
    )


# --- the same exam, three zones ----------------------------------------------------


def test_kolkata_london_and_chicago_open_at_their_own_instants(
    client, db, paper, make_centre, make_user, clock
):
    """One release, windows opening at 09:00 local three days before: Kolkata's
    opens at 03:30 UTC, London's at 08:00, Chicago's at 14:00."""
    from app.models import KeyTime

    db.session.rollback()
    db.session.add(KeyTime(series="2026-06", country="US", timezone="America/Chicago", am="09:00"))
    db.session.commit()
    centres = {
        "kolkata": make_centre(number="IN301", country="IN", timezone="Asia/Kolkata", zone=4),
        "london": make_centre(number="GB101"),
        "chicago": make_centre(number="US601", country="US", timezone="America/Chicago", zone=1),
    }
    release(db, [paper], list(centres.values()))
    users = {name: make_user("centre", centre=centre) for name, centre in centres.items()}
    opening = {
        "kolkata": datetime(2026, 6, 1, 3, 30, tzinfo=UTC),
        "london": OPENS,
        "chicago": datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
    }

    def answer(name: str) -> int:
        with client.session_transaction() as session:
            session["_user_id"] = users[name].session_token
        return client.get(url(paper)).status_code

    for name, moment in opening.items():
        clock.set(moment - SECOND)
        assert {other: answer(other) for other in users} == {
            other: 200 if opening[other] < moment else 404 for other in users
        }
        clock.set(moment)
        assert answer(name) == 200


# --- whatever is asked for, a 404 that says nothing -----------------------------------


def test_a_centre_asking_for_another_centres_resource_is_refused(
    client, login_as, db, paper, london, released, make_centre, resource_dir
):
    theirs = store_resource(db, resource_dir, files.pdf("paper 42"), component="42")
    other = make_centre(number="GB202")
    release(db, [theirs], [other])
    login_as("centre", centre=london)
    assert client.get(url(paper)).status_code == 200  # its own
    response = client.get(url(theirs))  # centre GB202's
    assert response.status_code == 404
    assert page_of(response) == not_found_page(client)
    assert downloads(db)[1:] == [("refused", "not authorised", None, None)]


def test_a_resource_never_released_is_refused(
    client, login_as, db, paper, london, released, resource_dir
):
    unreleased = store_resource(db, resource_dir, files.pdf("not yet"), component="42")
    login_as("centre", centre=london)
    response = client.get(url(unreleased))
    assert response.status_code == 404
    assert page_of(response) == not_found_page(client)
    assert downloads(db) == [("refused", "not authorised", None, None)]


@pytest.mark.parametrize(
    "path",
    [
        "/home/resources/99999999999999999999999/download",  # beyond any id
        "/home/resources/-1/download",
        "/home/resources/1.0/download",
        "/home/resources/%31%20/download",
        "/home/resources//download",
        "/home/resources/{id}/download/",
        "/home/resources/{id}/download/extra",
        "/home/resources/{id}",
        "/home/resources/{id}/downloads",
    ],
)
def test_a_tampered_address_is_the_plain_404(client, login_as, db, paper, london, released, path):
    login_as("centre", centre=london)
    response = client.get(path.format(id=paper.id))
    assert response.status_code == 404
    assert page_of(response) == not_found_page(client)
    assert downloads(db) == []


def test_the_404_is_the_same_whatever_the_reason(
    client, login_as, db, paper, london, released, clock
):
    """Too early, closed, cancelled, not authorised, no such resource: one page."""
    login_as("centre", centre=london)
    pages = {}
    clock.set(OPENS - SECOND)
    pages["too early"] = client.get(url(paper))
    clock.set(CLOSES)
    pages["closed"] = client.get(url(paper))
    pages["no such resource"] = client.get("/home/resources/999999/download")
    clock.set(OPENS)
    db.session.get(Release, released.id).cancelled_at = clock.now
    db.session.commit()
    pages["cancelled"] = client.get(url(paper))
    expected = not_found_page(client)
    assert {reason: (r.status_code, page_of(r)) for reason, r in pages.items()} == {
        reason: (404, expected) for reason in pages
    }
    assert [row[1] for row in downloads(db)] == ["too early", "closed", "release cancelled"]


# --- HEAD -------------------------------------------------------------------------


def test_an_allowed_head_answers_the_headers_and_records_no_download(
    client, login_as, db, paper, london, released
):
    """A HEAD sends no file: it is not a download, so it is not counted as one."""
    login_as("centre", centre=london)
    response = client.head(url(paper))
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert response.headers["ETag"] == f'"{paper.current_file.sha256}"'
    assert response.headers["Content-Disposition"] == "attachment; filename=0580_s26_qp_22.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert downloads(db) == []
    assert client.get(url(paper)).data == CONTENT
    assert downloads(db) == [("sent", None, released.id, None)]


def test_a_refused_head_is_the_plain_404_recorded_as_a_head(
    client, login_as, db, paper, london, released, clock, resource_dir
):
    login_as("centre", centre=london)
    clock.set(OPENS - SECOND)
    early = client.head(url(paper))
    assert early.status_code == 404 and early.data == b""
    clock.set(OPENS)
    assert client.head(url(paper), headers={"Range": "bytes=9999-"}).status_code == 416
    assert client.head("/home/resources/999999/download").status_code == 404
    (resource_dir / "files" / paper.current_file.stored_name).unlink()
    assert client.head(url(paper)).status_code == 404
    assert downloads(db) == [
        ("refused", "too early (HEAD request)", released.id, None),
        (
            "refused",
            "416 Requested Range Not Satisfiable (HEAD request)",
            released.id,
            "bytes=9999-",
        ),
        ("refused", "file missing from storage (HEAD request)", released.id, None),
    ]


def test_the_current_version_is_sent_and_recorded(
    client, login_as, db, paper, london, released, resource_dir
):
    """A file replaced after the release: the centre gets the new version, and the
    Download row names it."""
    from app.models import ResourceFile

    second = files.pdf("secure paper 22, corrected")
    stored_name = "0" * 32 + ".pdf"
    (resource_dir / "files" / stored_name).write_bytes(second)
    db.session.rollback()
    resource = db.session.get(Resource, paper.id)
    corrected = ResourceFile(
        number=2,
        original_name="0580_s26_qp_22_v2.pdf",
        stored_name=stored_name,
        size=len(second),
        sha256=hashlib.sha256(second).hexdigest(),
        media_type="application/pdf",
    )
    resource.files.append(corrected)
    resource.current_version = 2
    db.session.commit()
    login_as("centre", centre=london)
    sent = client.get(url(paper))
    assert sent.data == second
    assert sent.headers["ETag"] == f'"{corrected.sha256}"'
    assert sent.headers["Content-Disposition"] == "attachment; filename=0580_s26_qp_22_v2.pdf"
    row = db.session.scalars(select(Download)).one()
    assert row.resource_file_id == corrected.id
