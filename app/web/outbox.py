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

import atexit
import logging
import os
import queue
import threading
from datetime import timedelta

from flask import Flask, Response, current_app

from app.extensions import db
from app.services.accounts.activation import AccountMail
from app.services.accounts.tokens import ACTIVATE, RESET
from app.services.email import outbox
from app.services.email.transport import transport_for
from app.services.releases import notices

log = logging.getLogger(__name__)

_LINK_ENDPOINTS = {ACTIVATE: "auth.activate", RESET: "auth.reset_password"}


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


def configure_release_notices(app: Flask) -> None:
    """Give release notices the board's name and the portal's Home address, built
    like account emails' links: PORTAL_BASE_URL and the app's own URL map."""
    urls = app.url_map.bind("portal.invalid", script_name="/")
    notices.configure(
        organisation=app.config["ORGANISATION_NAME"],
        home_link=app.config["PORTAL_BASE_URL"] + urls.build("home.index"),
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
    """One thread per worker process that sends what requests hand it, in turn.

    Its queue is bounded: past that, emails wait for `outbox send` rather than for
    memory. When the worker exits, the email being sent is finished (for up to the
    mail timeout) so that it is not left claimed and sent twice; what is still
    queued stays pending in the database.
    """

    QUEUE_SIZE = 1000
    _STOP = None

    def __init__(self):
        self._work: queue.Queue = queue.Queue(self.QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def submit(self, app: Flask, message_ids: list[int]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker inherits neither its parent's thread nor its queue.
                self._work = queue.Queue(self.QUEUE_SIZE)
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
                self._thread.start()
                atexit.register(self.stop, app.config["MAIL_TIMEOUT"] + 5)
        try:
            self._work.put_nowait((app, message_ids))
        except queue.Full:
            log.warning("outbox sender busy: emails %s left for `outbox send`", message_ids)

    def _run(self) -> None:
        while True:
            item = self._work.get()
            try:
                if item is self._STOP:
                    return
                deliver_in_app_context(*item)
            except Exception:
                log.exception("the outbox sender failed; `outbox send` will retry")
            finally:
                self._work.task_done()

    def wait_until_idle(self) -> None:
        """Block until everything handed over so far has been tried (for tests)."""
        self._work.join()

    def stop(self, timeout: float) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            self._drop_queued()
            self._work.put(self._STOP)
            thread.join(timeout)

    def _drop_queued(self) -> None:
        # Unsent emails stay pending in the database, for `outbox send`.
        while True:
            try:
                self._work.get_nowait()
            except queue.Empty:
                return
            self._work.task_done()


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
