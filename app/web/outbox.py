"""Send the emails a request committed, once its response has gone to the browser.

The emails go to a sender thread of the worker process, so neither the
response nor the closing of the connection waits for the mail server: a slow
or absent mail server does not hold up the page, and the "New user" and
"Existing user" answers end at the same moment whether or not an email was
queued. Whatever is not sent here (the mail server is down, the worker stops)
stays pending for `flask outbox send`. The tests send in the closing of the
response instead (OUTBOX_SEND_IN_BACKGROUND=false), so that it has happened
when the test client returns.
"""

import logging
import os
import queue
import threading
from datetime import timedelta

from flask import Flask, Response, current_app

from app.extensions import db
from app.services import outbox
from app.services.activation import AccountMail
from app.services.mail_transport import transport_for
from app.services.tokens import ACTIVATE

log = logging.getLogger(__name__)

_LINK_ENDPOINTS = {ACTIVATE: "auth.activate", "reset": "auth.reset_password"}


def account_mail() -> AccountMail:
    """Account-email settings from the app's config; links start with PORTAL_BASE_URL."""
    config = current_app.config
    base_url = config["PORTAL_BASE_URL"]

    # Paths from the app's own URL map, bound to nothing of this request: neither
    # its Host header nor its SCRIPT_NAME can get into a link.
    urls = current_app.url_map.bind("portal.invalid", script_name="/")

    def link_for(purpose: str, token: str) -> str:
        return base_url + urls.build(_LINK_ENDPOINTS[purpose], {"token": token})

    return AccountMail(
        secret_key=config["SECRET_KEY"],
        organisation=config["ORGANISATION_NAME"],
        activation_lifetime=timedelta(hours=config["ACTIVATION_LINK_HOURS"]),
        reset_lifetime=timedelta(minutes=config["RESET_LINK_MINUTES"]),
        link_for=link_for,
    )


def deliver_in_app_context(app: Flask, message_ids: list[int]) -> outbox.Outcome | None:
    with app.app_context():
        try:
            return outbox.deliver(
                message_ids, transport_for(app), max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"]
            )
        except Exception:
            # The messages are committed: `outbox send` will retry them.
            log.exception("sending emails %s after the response failed", message_ids)
            db.session.rollback()
            return None


class _SenderThread:
    """One thread per worker process that sends what requests hand it, in turn."""

    def __init__(self):
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def submit(self, app: Flask, message_ids: list[int]) -> None:
        with self._lock:
            # A forked worker does not inherit its parent's threads.
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._work = queue.SimpleQueue()
                self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
                self._pid = os.getpid()
                self._thread.start()
        self._work.put((app, message_ids))

    def _run(self) -> None:
        while True:
            app, message_ids = self._work.get()
            deliver_in_app_context(app, message_ids)


_sender = _SenderThread()


def send_after_response(app: Flask) -> None:
    @app.after_request
    def hand_over_committed_emails(response: Response) -> Response:
        message_ids = outbox.take_committed(db.session())
        if not message_ids:
            return response
        # The page is rendered: end the request's transaction now, so that it
        # holds no lock (SQLite's write lock, after a POST) while the email
        # is claimed and sent.
        db.session.close()
        if app.config["OUTBOX_SEND_IN_BACKGROUND"]:
            response.call_on_close(lambda: _sender.submit(app, message_ids))
        else:
            response.call_on_close(lambda: deliver_in_app_context(app, message_ids))
        return response
