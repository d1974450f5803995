"""Home: the admin's figures and a centre user's honest empty state."""

from datetime import timedelta

from app.extensions import db as _db
from app.models import Event
from tests.auth.test_activation import activate, activation_link

SIGN_INS_FIGURE = (
    '<p class="figure">{}</p>\n      <p><a href="/reports/events?kind=sign-ins">sign-ins</a> in '
    "the last 24 hours</p>"
)


def test_admin_sees_real_counts(client, login_as, make_centre, make_user, clock):
    admin = login_as("admin")
    live = make_centre(name="Live Centre")
    make_centre(name="Gone Centre", deleted_at=clock.now)
    make_user("centre", centre=live)
    make_user("centre", centre=live, activated=False)
    make_user("centre", centre=live, activated=False)
    make_user("tp")
    page = client.get("/").get_data(as_text=True)
    assert '<p class="figure">1</p>\n      <p>centres (1 deleted not counted)</p>' in page
    assert '<p class="figure">3</p>\n      <p>centre users, 1 activated</p>' in page
    assert '<p class="figure">2</p>\n      <p>staff accounts</p>' in page
    assert admin.email in page


def test_admin_sees_recent_sign_ins_from_the_event_log(client, login_as, make_user, clock):
    login_as("admin")
    officer = make_user("centre", email="officer@example.com")

    def event(action, ip):
        _db.session.add(
            Event(
                at=clock.now, action=action, actor_id=officer.id, actor_email=officer.email, ip=ip
            )
        )

    event("login.succeeded", "198.51.100.4")
    clock.advance(hours=25)
    event("login.succeeded", "198.51.100.5")
    event("login.failed", "198.51.100.6")
    _db.session.commit()
    clock.advance(hours=1)

    page = client.get("/").get_data(as_text=True)
    assert SIGN_INS_FIGURE.format(1) in page
    table = page.split('id="recent-sign-ins"', 1)[1]
    assert table.count("officer@example.com") == 2
    assert "198.51.100.5" in table and "198.51.100.4" in table
    assert "198.51.100.6" not in table  # a failure is not a sign-in
    assert table.index("198.51.100.5") < table.index("198.51.100.4")  # newest first
    assert (clock.now - timedelta(hours=1)).strftime("%d %b %Y %H:%M") in table


def test_admin_empty_state(client, login_as):
    login_as("admin")
    assert "Nobody has signed in yet." in client.get("/").get_data(as_text=True)


def test_centre_user_sees_their_centre_and_an_honest_empty_state(client, login_as, make_centre):
    centre = make_centre(number="IN301", name="Delhi Public School – Rohini")
    login_as("centre", centre=centre)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>IN301 – Delhi Public School – Rohini</h1>" in page
    assert "Nothing has been released to your centre yet." in page
    assert "centre users" not in page  # none of the admin's figures


def test_user_of_a_deleted_centre_sees_a_notice_and_nothing_else(
    client, login_as, make_centre, clock
):
    centre = make_centre(deleted_at=clock.now)
    login_as("centre", centre=centre)
    page = client.get("/").get_data(as_text=True)
    assert "Your centre is not active on this portal at the moment" in page
    assert "Your resources" not in page


def test_resource_producer_home(client, login_as):
    login_as("tp")
    page = client.get("/").get_data(as_text=True)
    assert "You are signed in as a resource producer (Admin - TP)." in page
    assert 'href="/resources/upload">upload resources</a>' in page
    assert 'href="/resources/">manage resources</a>' in page


def test_sign_ins_by_activating_or_resetting_are_listed_too(
    mail_client, smtp_server, csrf_token, make_user, db, clock
):
    newcomer = make_user("centre", activated=False, email="newcomer@example.com")
    path = activation_link(smtp_server, mail_client, csrf_token, newcomer)
    assert activate(mail_client, path, pin=newcomer.pin).status_code == 302
    forgetful = make_user("tp", email="forgetful@example.com")
    other = mail_client.application.test_client()
    other.post("/reset", data={"reset-username": forgetful.email, "csrf_token": csrf_token(other)})
    [message] = smtp_server.to(forgetful.email)
    reset_path = smtp_server.link_path(message)
    assert activate(other, reset_path).status_code == 302

    admin = mail_client.application.test_client()
    with admin.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
    page = admin.get("/").get_data(as_text=True)
    assert SIGN_INS_FIGURE.format(2) in page
    table = page.split('id="recent-sign-ins"', 1)[1]
    assert "<td>newcomer@example.com</td>\n        <td>Activated the account</td>" in table
    assert "<td>forgetful@example.com</td>\n        <td>Reset the password</td>" in table
