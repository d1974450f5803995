"""Admins sending account emails: Send activation email, Resend invitation, and the
Errors → Other Errors list of emails not sent, with Retry."""

from sqlalchemy import select

from app.models import OutboxMessage
from app.services.email import outbox
from tests.admin.test_centres import HTMX, events, post


def test_send_activation_email_from_the_users_table(
    mail_client, smtp_server, csrf_token, make_user, make_centre, db
):
    admin = make_user("admin")
    with mail_client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    centre = make_centre(number="GB123")
    waiting = make_user("centre", centre=centre, activated=False, email="waiting@example.org")
    make_user("centre", centre=centre, email="active@example.org")

    table = mail_client.get(f"/admin/centres/{centre.id}/users").get_data(as_text=True)
    assert table.count(">Send activation email</button>") == 1
    assert 'aria-label="Send activation email to waiting@example.org"' in table

    url = f"/admin/centres/{centre.id}/users/{waiting.id}/activation-email"
    row = post(
        mail_client, csrf_token, url, {}, headers={**HTMX, "HX-Target": f"user-{waiting.id}"}
    )
    body = row.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="user-{waiting.id}">')
    assert "Activation email on its way to waiting@example.org." in body
    [message] = smtp_server.to("waiting@example.org")
    assert "centre GB123" in message.get_content()
    [event] = events(db, "email.queued")
    assert (event.actor_id, event.details["template"]) == (admin.id, "activation")

    # As a plain form it redirects to the centre with a message.
    plain = post(mail_client, csrf_token, url, {})
    assert plain.status_code == 302
    assert len(smtp_server.to("waiting@example.org")) == 2


def test_no_activation_email_for_an_activated_user(client, csrf_token, login_as, make_user, db):
    login_as("admin")
    active = make_user("centre", email="active@example.org")
    url = f"/admin/centres/{active.centre_id}/users/{active.id}/activation-email"
    body = post(client, csrf_token, url, {}, headers=HTMX).get_data(as_text=True)
    assert "active@example.org has already activated their account." in body
    assert db.session.scalar(select(OutboxMessage)) is None


def test_resend_invitation(mail_client, smtp_server, csrf_token, make_user, db):
    admin = make_user("admin")
    with mail_client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    invited = make_user("tp", activated=False, pin=None, email="producer@example.org")
    page = mail_client.get("/admin/users").get_data(as_text=True)
    assert page.count(">Resend invitation</button>") == 1  # not for the activated admin
    response = post(mail_client, csrf_token, f"/admin/users/{invited.id}/invitation", {})
    assert "Invitation on its way to producer@example.org." in mail_client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    [message] = smtp_server.to("producer@example.org")
    assert message["Subject"] == "You are invited to the Example Exam Board secure portal"


def test_other_errors_lists_emails_not_sent_and_retry_sends_one(
    mail_client, smtp_server, csrf_token, make_user, db, clock
):
    admin = make_user("admin")
    with mail_client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    failed = outbox.queue_email(to="gone@example.org", template="activation", subject="S", body="B")
    failed.status, failed.attempts, failed.last_error = "failed", 6, "SMTPRecipientsRefused: 550"
    pending = outbox.queue_email(
        to="later@example.org", template="password_reset", subject="S", body="B"
    )
    pending.attempts, pending.last_error = 1, "ConnectionRefusedError: down"
    pending.next_attempt_at = clock.now.replace(hour=9)
    sent = outbox.queue_email(to="fine@example.org", template="invitation", subject="S", body="B")
    sent.status = "sent"
    db.session.commit()

    page = mail_client.get("/errors/other").get_data(as_text=True)
    assert "fine@example.org" not in page
    failed_row = page.split(f'<tr id="email-{failed.id}">', 1)[1].split("</tr>", 1)[0]
    assert "gone@example.org" in failed_row and "Failed" in failed_row
    assert "<td>6</td>" in failed_row and "SMTPRecipientsRefused: 550" in failed_row
    pending_row = page.split(f'<tr id="email-{pending.id}">', 1)[1].split("</tr>", 1)[0]
    assert "Pending, next try 01 Jun 2026 09:00 UTC" in pending_row
    assert 'aria-label="Retry the email to gone@example.org"' in failed_row

    response = post(mail_client, csrf_token, f"/errors/emails/{failed.id}/retry", {})
    assert response.status_code == 302
    [received] = smtp_server.to("gone@example.org")
    assert received["Subject"] == "S"
    stored = db.session.get(OutboxMessage, failed.id)
    assert (stored.status, stored.attempts) == ("sent", 7)
    assert [e.details["to"] for e in events(db, "email.retried")] == ["gone@example.org"]
    page = mail_client.get("/errors/other").get_data(as_text=True)
    assert "Sending the email to gone@example.org again." in page
    assert "gone@example.org</td>" not in page


def test_only_admins_see_and_retry_emails(client, csrf_token, login_as, db):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.commit()
    login_as("tp")
    assert client.get("/errors/other").status_code == 403
    assert post(client, csrf_token, f"/errors/emails/{message.id}/retry", {}).status_code == 403
    assert db.session.get(OutboxMessage, message.id).attempts == 0


def test_every_email_sent_leaves_an_empty_list(client, login_as):
    login_as("admin")
    assert "Every email has been sent." in client.get("/errors/other").get_data(as_text=True)
