"""What admins do to a release, a centre, a user or a key time takes effect on the centre
user's very next download request: the user is signed in, an admin acts in another
session, and the next request is answered (and recorded) by the new state."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Centre, Download, Event, KeyTime, Release, User
from tests.home.conftest import CONTENT
from tests.home.test_centre_downloads import (
    OPENS,
    SECOND,
    downloads,
    not_found_page,
    page_of,
    url,
)
from tests.home.test_centre_resources import release, store_resource
from tests.resources import files


@pytest.fixture
def officer(login_as, london):
    """The London centre's exams officer, signed in on `client`."""
    return login_as("centre", centre=london)


@pytest.fixture
def admin_client(app, make_user):
    """An admin signed in on a client of their own, beside the centre user's."""
    staff = app.test_client()
    with staff.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
        session["_fresh"] = True
    return staff


def post(admin_client, csrf_token, path: str, **data):
    return admin_client.post(path, data={"csrf_token": csrf_token(admin_client, "/"), **data})


def test_cancelling_the_release(
    client, admin_client, csrf_token, db, paper, released, officer, clock
):
    clock.set(OPENS)
    assert client.get(url(paper)).data == CONTENT
    response = post(
        admin_client, csrf_token, f"/releases/{released.id}/cancel", version="1", confirmed="yes"
    )
    assert response.status_code == 302
    refused = client.get(url(paper))
    assert refused.status_code == 404
    assert page_of(refused) == not_found_page(client)
    assert downloads(db) == [
        ("sent", None, released.id, None),
        ("refused", "release cancelled", released.id, None),
    ]


def test_removing_the_centre_from_the_release(
    client, admin_client, csrf_token, db, paper, london, released, officer, clock
):
    clock.set(OPENS)
    assert client.get(url(paper)).status_code == 200
    response = post(
        admin_client,
        csrf_token,
        f"/releases/{released.id}/centres/{london.id}/remove",
        version="1",
        confirmed="yes",
    )
    assert response.status_code == 302
    assert client.get(url(paper)).status_code == 404
    assert downloads(db) == [
        ("sent", None, released.id, None),
        ("refused", "not authorised", None, None),
    ]


def test_deleting_the_centre(
    client, admin_client, csrf_token, db, paper, london, released, officer, clock
):
    clock.set(OPENS)
    assert client.get(url(paper)).status_code == 200
    response = post(admin_client, csrf_token, f"/admin/centres/{london.id}/delete")
    assert response.status_code == 302
    assert db.session.get(Centre, london.id).is_deleted
    refused = client.get(url(paper))
    assert refused.status_code == 404
    assert page_of(refused) == not_found_page(client)
    assert downloads(db) == [
        ("sent", None, released.id, None),
        ("refused", "centre deleted", None, None),
    ]
    # Its Home no longer lists the paper either.
    page = client.get("/").get_data(as_text=True)
    assert "Your centre is not active on this portal" in page and "Paper 22" not in page


def test_deleting_the_user(
    client, admin_client, csrf_token, db, paper, london, released, officer, clock
):
    clock.set(OPENS)
    user_id, email = officer.id, officer.email
    assert 'role="button" download' in client.get("/").get_data(as_text=True)
    response = post(admin_client, csrf_token, f"/admin/centres/{london.id}/users/{user_id}/delete")
    assert response.status_code == 302
    assert db.session.get(User, user_id) is None
    # The session names a user who is gone: the next request is a stranger's, sent to
    # sign in like any signed-out request for any address; nothing is sent.
    after = client.get(url(paper))
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login?next=")
    assert CONTENT not in after.data
    assert (
        client.get("/home/resources/999999/download").headers["Location"].startswith("/login?next=")
    )
    assert downloads(db) == []
    deleted = db.session.scalars(select(Event).where(Event.action == "user.deleted")).one()
    assert deleted.details["email"] == email


def key_time_edit(admin_client, csrf_token, am: str):
    row = db_key_time()
    return post(
        admin_client,
        csrf_token,
        "/key-times/2026-06/GB/edit",
        am=am,
        pm="",
        ev="",
        am_gmt="",
        pm_gmt="",
        ev_gmt="",
        version=str(row.version),
        on="2026-06-04",
    )


def db_key_time() -> KeyTime:
    from app.extensions import db

    db.session.rollback()
    return db.session.scalars(
        select(KeyTime).where(KeyTime.series == "2026-06", KeyTime.country == "GB")
    ).one()


def test_a_key_time_moved_earlier_opens_a_waiting_window_on_the_next_request(
    client, admin_client, csrf_token, db, paper, released, officer, clock
):
    clock.set(OPENS - timedelta(minutes=30))  # 07:30 UTC: opens at 08:00 (09:00 BST)
    assert client.get(url(paper)).status_code == 404
    response = key_time_edit(admin_client, csrf_token, "08:00")  # now opens 07:00 UTC
    assert response.status_code == 302
    assert client.get(url(paper)).data == CONTENT
    assert downloads(db) == [
        ("refused", "too early", released.id, None),
        ("sent", None, released.id, None),
    ]


def test_a_key_time_moved_later_moves_a_waiting_window_to_the_second(
    client, admin_client, csrf_token, db, paper, released, officer, clock
):
    clock.set(OPENS - SECOND)  # still waiting: it would open in one second
    response = key_time_edit(admin_client, csrf_token, "10:00")  # now opens 09:00 UTC
    assert response.status_code == 302
    clock.set(OPENS)  # the old opening
    assert client.get(url(paper)).status_code == 404
    clock.set(OPENS + timedelta(hours=1) - SECOND)
    assert client.get(url(paper)).status_code == 404
    clock.set(OPENS + timedelta(hours=1))
    assert client.get(url(paper)).status_code == 200
    assert downloads(db) == [
        ("refused", "too early", released.id, None),
        ("refused", "too early", released.id, None),
        ("sent", None, released.id, None),
    ]


def test_an_open_window_is_not_moved_under_the_user(
    client, admin_client, csrf_token, db, paper, released, officer, clock
):
    """The other side of the rule: once open, a key-time change leaves it as it was
    (an admin decides), so a user downloading now is not cut off."""
    clock.set(OPENS)
    response = key_time_edit(admin_client, csrf_token, "10:00")
    assert response.status_code == 302
    assert client.get(url(paper)).status_code == 200
    assert downloads(db) == [("sent", None, released.id, None)]


def test_a_release_made_while_signed_in_opens_on_the_next_request(
    client, db, paper, london, officer, clock, resource_dir
):
    clock.set(OPENS)
    assert client.get(url(paper)).status_code == 404  # not released yet
    made = release(db, [paper], [london])
    assert client.get(url(paper)).status_code == 200
    assert downloads(db) == [
        ("refused", "not authorised", None, None),
        ("sent", None, made.id, None),
    ]
    # And a second, cancelled release of the same paper changes nothing for the first.
    other = release(db, [paper], [london])
    db.session.get(Release, other.id).cancelled_at = clock.now
    db.session.commit()
    assert client.get(url(paper)).status_code == 200
    assert db.session.scalars(select(Download.release_id).order_by(Download.id)).all()[-1] == (
        made.id
    )
    unreleased = store_resource(db, resource_dir, files.pdf("not released"), component="42")
    assert client.get(url(unreleased)).status_code == 404
