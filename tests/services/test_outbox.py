"""The outbox: emails committed with their change, sent after it, never lost."""

import socket
import threading
from datetime import timedelta

from sqlalchemy import select

from app.models import Event, OutboxMessage
from app.services.email import outbox
from app.services.email.transport import ascii_address, print_to_console
from app.web import outbox as outbox_web
from app.web.access import allow
from tests.auth.test_activation import ask_to_activate


def messages(db):
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_smtp_down_leaves_the_email_pending_and_outbox_send_delivers_it_once(
    mail_app, mail_client, smtp_server, csrf_token, make_user, db, clock
):
    user = make_user("centre", activated=False)
    smtp_server.stop()
    response = ask_to_activate(mail_client, csrf_token, user.email)
    assert response.status_code == 200  # the user is not told anything went wrong

    [message] = messages(db)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at == clock.now + timedelta(minutes=1)

    smtp_server.start()
    runner = mail_app.test_cli_runner()
    early = runner.invoke(args=["outbox", "send"])
    assert "Sent 0," in early.output  # not due yet: the backoff is respected
    clock.advance(minutes=1)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "Sent 1, will retry 0, failed 0." in result.output
    assert "Sent 0," in runner.invoke(args=["outbox", "send"]).output

    [received] = smtp_server.messages
    assert received["To"] == user.email
    assert "/activate/" in received.get_content()
    db.session.rollback()
    [message] = messages(db)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 2, clock.now)
    assert message.body == ""  # the link it held is not kept once sent


def test_a_slow_mail_server_does_not_hold_the_request(make_app, csrf_token, make_user, db):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=listener.getsockname()[1], MAIL_TIMEOUT=1)
    user = make_user("centre", activated=False)
    try:
        response = ask_to_activate(app.test_client(), csrf_token, user.email)
    finally:
        listener.close()
    assert response.status_code == 200
    [message] = messages(db)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "timed out" in message.last_error


def test_a_rolled_back_change_sends_nothing(make_app, smtp_server, make_user, db):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, PROPAGATE_EXCEPTIONS=False)

    def queue_then_fail():
        outbox.queue_email(to="someone@example.org", template="test", subject="S", body="B")
        raise RuntimeError("the change failed after queueing its email")

    app.add_url_rule("/queue-then-fail", "queue_then_fail", allow("admin")(queue_then_fail))
    client = app.test_client()
    admin = make_user("admin")
    with client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    assert client.get("/queue-then-fail").status_code == 500
    assert messages(db) == []
    assert smtp_server.messages == []


def test_rollback_forgets_the_queued_ids(db):
    outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.rollback()
    db.session.commit()
    assert outbox.take_committed(db.session()) == []
    assert messages(db) == []


def failing_transport(message):
    raise ConnectionRefusedError("mail server down")


def test_retries_back_off_then_the_message_fails(db, clock):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.commit()
    waits = []
    for _ in range(6):
        outbox.send_due(failing_transport, max_attempts=6)
        stored = db.session.get(OutboxMessage, message.id)
        if stored.status == "pending":
            waits.append(int((stored.next_attempt_at - clock.now).total_seconds() // 60))
            clock.set(stored.next_attempt_at)
    assert waits == [1, 5, 15, 60, 240]
    assert (stored.status, stored.attempts) == ("failed", 6)
    assert stored.last_error == "ConnectionRefusedError: mail server down"
    [event] = db.session.scalars(select(Event).where(Event.action == "email.failed"))
    assert event.details == {"to": "a@example.org", "template": "test"}
    clock.advance(days=1)
    assert outbox.send_due(failing_transport, max_attempts=6).failed == 0  # failed stays failed


def test_a_message_being_sent_is_not_taken_by_a_second_sender(db, clock):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.commit()
    seen = []

    def transport_that_meets_a_rival(sending):
        # While this sender holds the message, another sender finds nothing to do.
        seen.append(outbox.send_due(lambda m: seen.append("rival sent"), max_attempts=6))

    outbox.deliver([message.id], transport_that_meets_a_rival, max_attempts=6)
    assert seen[0].sent == 0 and "rival sent" not in seen
    assert db.session.get(OutboxMessage, message.id).status == "sent"


def test_without_a_mail_server_emails_are_printed(client, csrf_token, make_user, db, capsys):
    user = make_user("centre", activated=False)
    ask_to_activate(client, csrf_token, user.email)
    printed = capsys.readouterr().out
    assert f"to {user.email} (activation)" in printed
    assert "https://portal.example.org/activate/" in printed
    assert [m.status for m in messages(db)] == ["sent"]


def test_console_printing_shows_subject_and_body(capsys):
    message = OutboxMessage(
        id=7, to_address="x@example.org", template="t", subject="Hi", body="Body"
    )
    print_to_console(message)
    assert "Subject: Hi\n\nBody" in capsys.readouterr().out


def test_retry_leaves_alone_a_message_being_sent(db, clock):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.commit()
    sent = []

    def transport_during_which_an_admin_clicks_retry(envelope):
        assert outbox.retry(envelope.id) is None  # being sent: not taken again
        db.session.commit()
        sent.append(envelope.id)

    outbox.deliver([message.id], transport_during_which_an_admin_clicks_retry, max_attempts=6)
    assert sent == [message.id]
    stored = db.session.get(OutboxMessage, message.id)
    assert (stored.status, stored.attempts, stored.sending_until) == ("sent", 1, None)
    assert outbox.retry(message.id) is None  # and a sent message is not sent again


def test_retry_gives_a_failed_message_one_more_try_now(db, clock):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    message.status, message.attempts = "failed", 6
    db.session.commit()
    assert outbox.take_committed(db.session()) == [message.id]  # handed over once, at queueing
    assert outbox.retry(message.id) is not None
    db.session.commit()
    assert outbox.take_committed(db.session()) == [message.id]
    outcome = outbox.deliver([message.id], failing_transport, max_attempts=6)
    assert outcome.failed == 1
    assert db.session.get(OutboxMessage, message.id).attempts == 7


def test_a_batch_stops_when_the_mail_server_cannot_be_reached(db, clock):
    for n in range(3):
        outbox.queue_email(to=f"a{n}@example.org", template="test", subject="S", body="B")
    db.session.commit()
    outcome = outbox.send_due(failing_transport, max_attempts=6)
    assert (outcome.retrying, outcome.left) == (1, 2)
    assert [m.attempts for m in messages(db)] == [1, 0, 0]  # the others were not charged


def test_in_production_the_response_does_not_wait_for_the_mail_server(
    make_app, csrf_token, make_user, db
):
    """The sender thread takes the email; the request is over while the mail server
    has not even answered yet."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connected, release = threading.Event(), threading.Event()

    def silent_mail_server():
        connection, _ = listener.accept()
        connected.set()
        release.wait(10)
        connection.close()

    threading.Thread(target=silent_mail_server, daemon=True).start()
    app = make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=listener.getsockname()[1],
        MAIL_TIMEOUT=5,
        OUTBOX_SEND_IN_BACKGROUND=True,
    )
    user = make_user("centre", activated=False)
    try:
        response = ask_to_activate(app.test_client(), csrf_token, user.email)
        assert response.status_code == 200
        assert connected.wait(10)  # the sender thread has reached the mail server...
        assert not release.is_set()  # ...which has not answered, yet the request is done
    finally:
        release.set()
        listener.close()
    outbox_web._sender.wait_until_idle()
    db.session.rollback()
    [message] = messages(db)
    assert (message.status, message.attempts, message.sending_until) == ("pending", 1, None)
    assert "SMTPServerDisconnected" in message.last_error


def test_internationalised_domains_are_sent_in_punycode(
    mail_client, smtp_server, csrf_token, make_user
):
    make_user("centre", activated=False, email="officer@bücher.example")
    ask_to_activate(mail_client, csrf_token, "officer@bücher.example")
    [message] = smtp_server.messages
    assert message["To"] == "officer@xn--bcher-kva.example"


def test_punycode_follows_idna_2008_so_no_mail_goes_to_a_look_alike_domain():
    assert ascii_address("user@straße.de") == "user@xn--strae-oqa.de"  # not strasse.de
    assert ascii_address("x@ελληνικά.ς.gr").endswith(".xn--3xa.gr")


def test_refusals_do_not_stop_a_batch_but_an_unreachable_server_does():
    import smtplib

    assert outbox._unreachable(ConnectionRefusedError())
    assert outbox._unreachable(socket.gaierror("no such host"))
    assert outbox._unreachable(smtplib.SMTPServerDisconnected("closed"))
    assert not outbox._unreachable(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")}))
    assert not outbox._unreachable(smtplib.SMTPDataError(554, b"rejected"))


def test_a_sender_whose_lease_ran_out_does_not_overwrite_the_next_one(db, clock):
    message = outbox.queue_email(to="a@example.org", template="test", subject="S", body="B")
    db.session.commit()

    def slow_transport(envelope):
        clock.advance(minutes=6)  # longer than the lease: another sender takes over...
        assert outbox.send_due(lambda e: None, max_attempts=6).sent == 1

    outbox.deliver([message.id], slow_transport, max_attempts=6)
    stored = db.session.get(OutboxMessage, message.id)
    # ...and its record stands: sent, on the second attempt.
    assert (stored.status, stored.attempts) == ("sent", 2)
