"""Fixtures for the whole suite.

- `app`: one application for the session, its schema built by running the Alembic
  migrations (SQLite in a temporary folder, or TEST_DATABASE_URL when set).
- `db`: used by every test (autouse). Runs the test inside an app context and
  afterwards deletes every row, so each test starts from an empty database. We
  clean up rather than roll back a wrapping transaction so that the code under
  test commits for real, as it does in production.
- `client`, `csrf_token(client)`, `login_as(role)`: a Flask test client, the
  CSRF token its pages carry, and a signed-in session for a new user of a role.
- `make_centre(**overrides)`, `make_user(**overrides)`: factories that commit.
- `clock`: stops the app's clock at a known moment; `clock.advance(minutes=2)`.
- `make_app(**config)`: a second app on the same database, for tests that need
  a route of their own (routes cannot be added once an app has served).
- `count_queries()`: a context manager collecting the SQL statements run inside it.
- `smtp_server`: a real SMTP server (aiosmtpd) on a free loopback port, keeping
  what it receives; `mail_app`/`mail_client`: an app that sends mail to it.
"""

import email
import email.policy
import itertools
import os
import re
import shutil
import socket
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db
from app.extensions import limiter
from app.models import Centre, User
from app.services import clock as app_clock
from app.services.accounts import passwords
from app.services.event_chain import append_only_off
from app.services.releases import figures

PASSWORD = "correct horse battery staple"


def _database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.db'}"
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def resource_dir(tmp_path_factory):
    """The storage folder of every test app; emptied after each test."""
    return tmp_path_factory.mktemp("resources")


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Tests run inside an app context (the `db` fixture); without this, requests
    would share it, and with it `g` (the signed-in user, the CSRF token) and the
    database session. After each request the test's own session ends its
    transaction (a rollback: tests commit what they set up), so what the test
    reads next is what the request stored, not an older snapshot.
    """

    def open(self, *args, **kwargs):
        # Buffered: the response is read in full and closed, as a server does, so
        # what runs once it is closed (sending the outbox) has run on return.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            _db.session.rollback()
        return response


def _new_app(database_url: str, resource_dir, **config):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "RESOURCE_STORAGE_DIR": str(resource_dir)}
    app = create_app(TestConfig, {**settings, **config})
    app.test_client_class = FreshContextClient
    return app


@pytest.fixture(scope="session")
def app(database_url, resource_dir):
    app = _new_app(database_url, resource_dir)
    with app.app_context():
        # Start from nothing, even on a reused PostgreSQL database, then migrate.
        existing = sa.MetaData()
        existing.reflect(_db.engine)
        existing.drop_all(_db.engine)
        upgrade()
    return app


@pytest.fixture
def make_app(database_url, resource_dir):
    """Build another app on the same database, with config overrides."""

    def build(**config):
        return _new_app(database_url, resource_dir, **config)

    return build


@pytest.fixture(autouse=True)
def db(app, resource_dir):
    with app.app_context():
        limiter.reset()
        yield _db
        # Derived data kept by the services must equal what it is derived from,
        # whatever the test did (and committed).
        _db.session.rollback()
        kept_wrong = figures.differences()
        _db.session.remove()
        with _db.engine.begin() as connection, append_only_off(connection):
            for table in reversed(_db.metadata.sorted_tables):
                connection.execute(table.delete())
    for path in resource_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert not kept_wrong, "release_centre_figures not kept:\n" + "\n".join(kept_wrong)


@pytest.fixture
def client(app):
    return app.test_client()


_CSRF_IN_PAGE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def csrf_token_of(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, as a page would give it to a form."""
    page = client.get(path, follow_redirects=True)
    match = _CSRF_IN_PAGE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def csrf_token():
    return csrf_token_of


_numbers = itertools.count(1)


def _end_snapshot(db) -> None:
    """End the test session's read transaction before writing.

    On SQLite (WAL) a transaction that has read cannot write once another
    connection, such as the browser tests' server, has written since. Tests
    commit everything they set up, so nothing is lost.
    """
    db.session.rollback()


@pytest.fixture
def make_centre(db):
    def make(**overrides) -> Centre:
        n = next(_numbers)
        values = {
            "number": f"TC{n:04d}",
            "name": f"Test Centre {n}",
            "country": "GB",
            "town": "Cambridge",
            "timezone": "Europe/London",
            "zone": 3,
        }
        values.update(overrides)
        _end_snapshot(db)
        centre = Centre(**values)
        db.session.add(centre)
        db.session.commit()
        db.session.refresh(centre)
        return centre

    return make


@pytest.fixture
def make_user(db, make_centre):
    def make(
        role: str = "centre", *, activated: bool = True, password: str = PASSWORD, **overrides
    ) -> User:
        n = next(_numbers)
        values = {"email": f"user{n}@example.com", "role": role}
        if role == "centre" and "centre" not in overrides:
            values["centre"] = make_centre()
        if activated:
            values["password_hash"] = passwords.hash_password(password)
            values["activated_at"] = datetime.now(UTC) - timedelta(days=1)
        else:
            values["pin"] = f"PIN{n:05d}"
        values.update(overrides)
        _end_snapshot(db)
        user = User(**values)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        return user

    return make


@pytest.fixture
def login_as(client, make_user):
    """Sign the `client` in as a new activated user of `role`; returns the user."""

    def login(role: str, **overrides) -> User:
        user = make_user(role, **overrides)
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
            session["_fresh"] = True
        return user

    return login


class FrozenClock:
    def __init__(self, monkeypatch, start: datetime):
        self._monkeypatch = monkeypatch
        self.set(start)

    @property
    def now(self) -> datetime:
        return app_clock.fixed_now

    def set(self, moment: datetime) -> None:
        self._monkeypatch.setattr(app_clock, "fixed_now", moment)

    def advance(self, **delta) -> datetime:
        self.set(self.now + timedelta(**delta))
        return self.now


@pytest.fixture
def clock(monkeypatch):
    return FrozenClock(monkeypatch, datetime(2026, 6, 1, 8, 0, tzinfo=UTC))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_LINK = re.compile(r"https://portal\.example\.org(/\S+)")


class SmtpServer:
    """A real SMTP server on a loopback port, collecting the messages it receives.

    `stop()` and `start()` take it down and bring it back on the same port, to
    test what happens while the mail server is away.
    """

    def __init__(self):
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def link_path(message: email.message.EmailMessage) -> str:
        """The path of the link in a message (links start with PORTAL_BASE_URL)."""
        match = _LINK.search(message.get_content())
        assert match, "no link in the email"
        return match.group(1)


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """An app on the test database that sends its email to `smtp_server`."""
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=2)


@pytest.fixture
def mail_client(mail_app):
    return mail_app.test_client()


@pytest.fixture
def count_queries(db):
    """`with count_queries() as statements:` collects every SQL statement run inside."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def collect(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", collect)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", collect)

    return counting
