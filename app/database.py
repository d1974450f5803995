"""How the app talks to its database: how long to wait for locks; for SQLite, WAL,
foreign keys and explicit BEGINs (each hook returns at once for other databases).
"""

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.services.transactions import BEGIN_IMMEDIATE

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def lock_wait_options(url: str, wait_ms: int) -> dict:
    """Engine options that make a request wait at most `wait_ms` for a lock another
    request holds, then fail with an error the error pages answer "busy" (503).

    SQLite: the driver's busy timeout on its write lock. PostgreSQL: lock_timeout,
    for every lock (a row another request is saving, the centres-upload lock).
    """
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": wait_ms / 1000}}
    if url.startswith("postgresql"):
        return {"connect_args": {"options": f"-c lock_timeout={int(wait_ms)}"}}
    return {}


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """Switch pysqlite's implicit BEGIN off (isolation_level=None) so that SQLAlchemy
    emits BEGIN itself (below), and SAVEPOINT and BEGIN IMMEDIATE work as documented."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection) -> None:
    """Open a SQLite transaction; IMMEDIATE (taking the write lock) when it will write.

    A deferred transaction that reads and then writes fails at once with
    "database is locked" if another connection wrote in between: a WAL snapshot
    cannot be upgraded. So a transaction takes the write lock up front, waiting
    up to busy_timeout for it, when it is asked to (begin_write()) or belongs to
    a request that changes things (POST and friends). Page views stay deferred,
    and reads never wait for each other. Routes doing slow work before writing
    call release_transaction() first, so that they do not hold the lock meanwhile.
    """
    if connection.dialect.name != "sqlite":
        return
    immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE) or (
        has_request_context() and request.method not in READ_ONLY_METHODS
    )
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
