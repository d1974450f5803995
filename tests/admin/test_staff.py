"""Admin → Users: the staff accounts."""

from sqlalchemy import select

from app.models import OutboxMessage, User
from tests.admin.test_centres import events, post


def row(page, email):
    return page.split(f"<td>{email}", 1)[1].split("</tr>", 1)[0]


def test_list_shows_role_activation_last_sign_in_and_lock(client, login_as, make_user, clock):
    me = login_as("admin")
    make_user("tp", email="producer@example.com", last_login_at=clock.now)
    make_user("admin", email="invited@example.com", activated=False, pin=None)
    make_user(
        "tp", email="locked@example.com", failed_logins=6, locked_until=clock.now.replace(hour=9)
    )
    make_user("centre", email="officer@example.com")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "officer@example.com" not in page  # centre users live under Manage Centres
    assert "(you)" in row(page, me.email)
    assert "Delete" not in row(page, me.email)
    producer = row(page, "producer@example.com")
    assert '<option value="tp" selected>Admin - TP</option>' in producer
    assert "01 Jun 2026 08:00 UTC" in producer
    assert "Not yet" in row(page, "invited@example.com")
    locked = row(page, "locked@example.com")
    assert "Until 01 Jun 2026 09:00 UTC" in locked
    assert ">Unlock</button>" in locked


def test_invite_staff(client, csrf_token, login_as, db):
    login_as("admin")
    response = post(client, csrf_token, "/admin/users", {"email": "New@Example.com", "role": "tp"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added new@example.com as Admin - TP and emailed them an invitation." in page
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert (user.role, user.activated_at, user.centre_id) == ("tp", None, None)
    assert [e.details["role"] for e in events(db, "staff.invited")] == ["tp"]
    invitation = db.session.scalar(select(OutboxMessage))
    assert (invitation.to_address, invitation.template) == ("new@example.com", "invitation")
    assert invitation.status == "sent"  # printed to the console: no mail server in tests


def test_invite_errors(client, csrf_token, login_as, make_user, db):
    login_as("admin")
    make_user("centre", email="taken@example.com")
    for data, message in (
        (
            {"email": "taken@example.com", "role": "admin"},
            "That email address is already in use at <a href=",
        ),
        ({"email": "nope", "role": "admin"}, "is not an email address"),
        ({"email": "", "role": "admin"}, "Enter an email address."),
        ({"email": "ok@example.com", "role": "centre"}, "Not a valid choice."),
    ):
        response = post(client, csrf_token, "/admin/users", data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert events(db, "staff.invited") == []


def test_change_role_unlock_and_delete(client, csrf_token, login_as, make_user, db, clock):
    login_as("admin")
    other = make_user(
        "tp", email="other@example.com", failed_logins=5, locked_until=clock.now.replace(year=2027)
    )
    other_id = other.id
    response = post(
        client, csrf_token, f"/admin/users/{other.id}/role", {"role": "admin", "version": 1}
    )
    assert "other@example.com is now Admin." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    response = post(client, csrf_token, f"/admin/users/{other.id}/unlock", {})
    assert "other@example.com can sign in again straight away." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    stored = db.session.get(User, other.id)
    assert (stored.role, stored.failed_logins, stored.locked_until) == ("admin", 0, None)

    page = client.get(f"/admin/users/{other_id}/delete").get_data(as_text=True)
    assert "<h1>Delete other@example.com?</h1>" in page
    response = post(client, csrf_token, f"/admin/users/{other_id}/delete", {})
    assert "other@example.com deleted." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert db.session.get(User, other_id) is None
    assert [
        len(events(db, a)) for a in ("staff.role_changed", "staff.unlocked", "staff.deleted")
    ] == [1, 1, 1]


def test_an_admin_cannot_demote_or_delete_themself(client, csrf_token, login_as, make_user, db):
    me = login_as("admin")
    # A refused role change is the page again, the reason in its error summary.
    response = post(
        client, csrf_token, f"/admin/users/{me.id}/role", {"role": "tp", "version": me.version}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<div id="role-errors" class="error-summary"' in page
    assert f'<a href="#role-{me.id}">You cannot' in page and "your own account" in page
    response = post(client, csrf_token, f"/admin/users/{me.id}/delete", {})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot" in page and "your own account" in page
    assert db.session.get(User, me.id).role == "admin"


def test_an_unknown_role_is_refused_beside_the_user(client, csrf_token, login_as, make_user):
    login_as("admin")
    other = make_user("tp", email="other@example.com")
    response = post(client, csrf_token, f"/admin/users/{other.id}/role", {"role": "centre"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<a href="#role-{other.id}">Choose Admin or Admin - TP.</a>' in page
    assert f'<select id="role-{other.id}" name="role"' in page
    assert f'aria-invalid="true" aria-describedby="role-{other.id}-error"' in page


def test_centre_users_are_not_managed_here(client, csrf_token, login_as, make_user):
    login_as("admin")
    officer = make_user("centre")
    assert (
        post(client, csrf_token, f"/admin/users/{officer.id}/role", {"role": "admin"}).status_code
        == 404
    )


def test_an_invitation_racing_another_for_the_same_email(
    client, csrf_token, login_as, make_user, monkeypatch, db
):
    login_as("admin")
    make_user("tp", email="raced@example.com")
    monkeypatch.setattr("app.services.accounts.users.refuse_duplicate_email", lambda email: None)
    response = post(
        client, csrf_token, "/admin/users", {"email": "raced@example.com", "role": "admin"}
    )
    assert response.status_code == 422
    assert "That email address is already in use." in response.get_data(as_text=True)
