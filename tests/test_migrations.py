"""The Alembic migrations build exactly the schema the models describe."""

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db as _db


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, _db.metadata)


def test_flask_db_upgrade_on_an_empty_database(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():  # the commands run in the current app's context
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        tables = set(sa.inspect(_db.engine).get_table_names())
        assert {"users", "centres", "events", "alembic_version"} <= tables
        assert differences(_db.engine) == []
        _db.engine.dispose()


def test_the_test_database_matches_the_models(app, db):
    # Built by the same migrations: on SQLite, or on PostgreSQL with TEST_DATABASE_URL.
    assert differences(_db.engine) == []


def test_events_written_before_the_chain_are_chained_by_the_migration(make_app, tmp_path):
    from app.models import Event
    from app.services.event_chain import verify

    url = f"sqlite:///{tmp_path / 'older.db'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade", "5c1d2e7a9b40"]).exit_code == 0
        with _db.engine.begin() as connection:
            for n, action in enumerate(("login.succeeded", "centre.deleted", "logout")):
                connection.execute(
                    sa.text(
                        "INSERT INTO events (at, actor_email, action, details, ip) "
                        "VALUES (:at, 'a@example.com', :action, :details, '10.0.0.1')"
                    ),
                    {
                        "at": f"2026-06-0{n + 1} 09:00:00.000000",
                        "action": action,
                        "details": json.dumps({"n": n}),
                    },
                )
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with _db.engine.connect() as connection:
            rows = connection.execute(sa.select(Event.seq, Event.action).order_by(Event.id)).all()
            assert rows == [(1, "login.succeeded"), (2, "centre.deleted"), (3, "logout")]
            found = verify(connection)
            assert (found.whole, found.checked) == (True, 3)
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                connection.execute(sa.text("DELETE FROM events"))
        _db.engine.dispose()
