"""The Alembic migrations build exactly the schema the models describe."""

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
