"""How an outbox message leaves: by SMTP through Flask-Mail, or printed to the console."""

import logging
import smtplib
import sys

import idna
from flask import Flask
from flask_mail import Connection, Message

from app.services.email.outbox import Envelope

log = logging.getLogger(__name__)


class _TimedConnection(Connection):
    """Flask-Mail's connection with a timeout, so a slow mail server cannot hold a
    worker: Flask-Mail 0.10 opens smtplib connections without one."""

    def __init__(self, mail, timeout: float):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def transport_for(app: Flask):
    """The function that sends one message, for this app's settings. Call in an app context."""
    if not app.config.get("MAIL_SERVER"):
        return print_to_console
    state = app.extensions["mail"]
    timeout = app.config["MAIL_TIMEOUT"]

    def send_by_smtp(message: Envelope) -> None:
        email = Message(
            subject=message.subject,
            recipients=[ascii_address(message.to_address)],
            body=message.body,
            sender=app.config["MAIL_DEFAULT_SENDER"],
        )
        with _TimedConnection(state, timeout) as connection:
            connection.send(email)

    return send_by_smtp


def ascii_address(address: str) -> str:
    """The address with its domain in Punycode, which every mail server takes; local
    parts are ASCII already (accounts.checked_email refuses others). IDNA 2008 with
    UTS 46, as email_validator checks domains: Python's own "idna" codec (IDNA 2003)
    would send straße.de's mail to strasse.de, another domain."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


_RULE = "=" * 72


def print_to_console(message: Envelope) -> None:
    """Development without a mail server: show the email, link included, where
    `make run` prints its output, framed so that it stands out from the request log."""
    print(
        f"\n{_RULE}\n"
        f"EMAIL (development: printed, not sent) to {message.to_address} ({message.template})\n"
        f"Subject: {message.subject}\n\n"
        f"{message.body.rstrip()}\n"
        f"{_RULE}\n",
        file=sys.stdout,
        flush=True,
    )
