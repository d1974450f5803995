"""A centre user's download: only while a window of a release that is not cancelled
is open, to the second; anything else is the plain 404 page; every attempt on a real
resource is a Download row with its status and reason."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import Download, Release, Resource
from tests.home.test_centre_resources import release, store_resource, timetable
from tests.resources import files

SECOND = timedelta(seconds=1)
OPENS = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Mon 1 Jun 09:00 BST, 3 days before
CLOSES = datetime(2026, 6, 5, 9, 30, tzinfo=UTC)  # 24 hours after the exam's end
CONTENT = files.pdf("secure paper 22")


@pytest.fixture(autouse=True)
def at_opening(clock):
    """The app's clock stands at the paper's opening moment unless a test moves it."""
    clock.set(OPENS)
    return clock


@pytest.fixture
def paper(db, resource_dir):
    timetable(db)
    return store_resource(db, resource_dir, CONTENT)


@pytest.fixture
def london(make_centre):
    return make_centre(number="GB101", name="Cambridge Grammar")


@pytest.fixture
def released(db, paper, london):
    return release(db, [paper], [london])


def url(resource) -> str:
    return f"/home/resources/{resource.id}/download"


def downloads(db) -> list[tuple]:
    db.session.rollback()
    return [
        (d.status, d.reason, d.release_id, d.range)
        for d in db.session.scalars(select(Download).order_by(Download.id))
    ]


def not_found_page(client) -> str:
    return client.get("/no-such-page").get_data(as_text=True)


def test_the_window_is_kept_to_the_second(client, login_as, db, paper, london, released, clock):
    user = login_as("centre", centre=london)
    clock.set(OPENS - SECOND)
    early = client.get(url(paper))
    assert early.status_code == 404
    assert early.get_data(as_text=True) == not_found_page(client)

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
    assert response.get_data(as_text=True) == not_found_page(client)
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
    assert response.get_data(as_text=True) == not_found_page(client)
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
