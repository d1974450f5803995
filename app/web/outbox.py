"""Send the emails a request committed, once its response has gone to the browser.

Sending after the response keeps a slow or absent mail server from holding up
the page, and keeps the "New user" and "Existing user" answers equally quick
whether or not an email was queued. Whatever is not sent here (the mail
server is down, the worker stops) stays pending for `flask outbox send`.
"""

import logging
from datetime import timedelta

from flask import Flask, Response, current_app, url_for

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

    def link_for(purpose: str, token: str) -> str:
        # Only the path comes from the app: never the Host header of this request.
        return base_url + url_for(_LINK_ENDPOINTS[purpose], token=token, _external=False)

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


def send_after_response(app: Flask) -> None:
    @app.after_request
    def hand_over_committed_emails(response: Response) -> Response:
        message_ids = outbox.take_committed(db.session())
        if message_ids:
            # The page is rendered: end the request's transaction now, so that it
            # holds no lock (SQLite's write lock, after a POST) while the email
            # is claimed and sent.
            db.session.close()
            response.call_on_close(lambda: deliver_in_app_context(app, message_ids))
        return response
