"""The Event Logs' hash chain and append-only triggers (app/services/event_chain.py)."""

import json
import multiprocessing

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.config import TestConfig
from app.models import Event
from app.services import event_chain
from app.services.audit import record_event, record_events
from app.services.event_chain import GENESIS, append_only_off, link, verify


def write_events(db, count: int) -> list[Event]:
    for n in range(count):
        record_event("test.happened", details={"n": n, "name": "Ünïcode ✓", "list": [1, 2.5]})
    db.session.commit()
    return list(db.session.scalars(select(Event).order_by(Event.seq)))


def tamper(db, sql: str, **params) -> None:
    db.session.rollback()
    with db.engine.begin() as connection, append_only_off(connection):
        connection.execute(text(sql), params)


def test_each_event_links_to_the_one_before(db):
    events = write_events(db, 3)
    record_events("test.bulk", "Centre", [(7, {"a": 1}), (8, {"b": 2})])
    record_event("test.after_bulk")
    db.session.commit()
    events = list(db.session.scalars(select(Event).order_by(Event.seq)))

    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.action for e in events] == ["test.happened"] * 3 + ["test.bulk"] * 2 + [
        "test.after_bulk"
    ]
    previous = GENESIS
    for event in events:
        values = {name: getattr(event, name) for name in event_chain.CHAINED_FIELDS}
        assert event.hash == link(previous, values)
        previous = event.hash
    found = verify(db.session.connection())
    assert (found.whole, found.checked, found.last_seq) == (True, 6, 6)
    assert found.last_hash == events[-1].hash


def test_an_empty_log_verifies(db):
    found = verify(db.session.connection())
    assert (found.whole, found.checked, found.last_hash) == (True, 0, GENESIS)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET details = '{}' WHERE action = 'test.happened'",
        "UPDATE events SET hash = 'x'",
        "DELETE FROM events WHERE seq = 2",
        "DELETE FROM events",
    ],
)
def test_the_database_refuses_changing_or_removing_events(db, sql):
    write_events(db, 3)
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(sql))
    assert db.session.scalar(select(Event.details).where(Event.seq == 2))["n"] == 1
    assert verify(db.session.connection()).whole


def test_postgresql_refuses_truncate_too(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none")
    write_events(db, 1)
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("TRUNCATE events"))


def test_the_orm_refuses_too(db):
    event = write_events(db, 1)[0]
    event.action = "test.rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_changed_event_is_named(db):
    events = write_events(db, 5)
    tamper(
        db,
        "UPDATE events SET details = :details WHERE id = :id",
        id=events[2].id,
        details='{"n": 99}',
    )
    found = verify(db.session.connection())
    assert not found.whole
    assert found.broken_at == events[2].id
    assert found.checked == 2
    assert f"event #{events[2].id} (test.happened) does not match its hash" in found.reason


def test_a_removed_event_is_found_by_the_gap_it_leaves(db):
    events = write_events(db, 5)
    tamper(db, "DELETE FROM events WHERE id = :id", id=events[1].id)
    found = verify(db.session.connection())
    assert (found.whole, found.broken_at) == (False, events[2].id)
    assert "1 event(s) before it are missing" in found.reason


def test_a_rewritten_hash_breaks_the_next_link(db):
    events = write_events(db, 4)
    # Recompute event 2 with new content: event 3 no longer follows from it.
    values = {name: getattr(events[1], name) for name in event_chain.CHAINED_FIELDS}
    values["details"] = {"n": 42}
    forged = link(events[0].hash, values)
    tamper(
        db,
        "UPDATE events SET details = :details, hash = :hash WHERE id = :id",
        id=events[1].id,
        details='{"n": 42}',
        hash=forged,
    )
    found = verify(db.session.connection())
    assert (found.whole, found.broken_at) == (False, events[2].id)


def test_a_rewritten_tail_is_caught_by_the_last_verification(db):
    events = write_events(db, 4)
    found = verify(db.session.connection())
    record_event(event_chain.VERIFIED, details=found.details())  # saw head 4
    db.session.commit()
    # Rewrite event 4 and every link after it, so that the chain itself is whole.
    rows = db.session.scalars(select(Event).where(Event.seq >= 4).order_by(Event.seq)).all()
    previous, forged = events[2].hash, []
    for row in rows:
        values = {name: getattr(row, name) for name in event_chain.CHAINED_FIELDS}
        if row.seq == 4:
            values["details"] = {"n": 99}
        previous = link(previous, values)
        forged.append((row.id, previous, values["details"]))
    for event_id, digest, details in forged:
        tamper(
            db,
            "UPDATE events SET hash = :hash, details = :details WHERE id = :id",
            id=event_id,
            hash=digest,
            details=json.dumps(details),
        )
    found = verify(db.session.connection())
    assert (found.whole, found.broken_at) == (False, events[3].id)
    assert "not the event the chain had at place 4 when verified" in found.reason


def test_removing_the_newest_events_is_caught_by_a_head_kept_elsewhere(db):
    write_events(db, 6)
    head = verify(db.session.connection())
    # Cut the newest two: what is left is a whole, shorter chain.
    tamper(db, "DELETE FROM events WHERE seq >= 5")
    assert verify(db.session.connection()).whole
    found = verify(db.session.connection(), {head.last_seq: head.last_hash})
    assert not found.whole
    assert "the chain once reached event 6; only 4 are left" in found.reason


def test_the_verify_command_reports_and_records(app, db):
    events = write_events(db, 3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["events", "verify"])
    assert result.exit_code == 0, result.output
    assert "Checked 3 events" in result.output
    assert "the chain is whole" in result.output
    assert f"3:{events[-1].hash}" in result.output
    assert runner.invoke(args=["events", "verify", "--head", f"3:{events[-1].hash}"]).exit_code == 0
    wrong = runner.invoke(args=["events", "verify", "--head", f"3:{'0' * 64}"])
    assert wrong.exit_code == 1
    assert "not the event the chain had at place 3" in wrong.output
    assert runner.invoke(args=["events", "verify", "--head", "three"]).exit_code == 2
    recorded = db.session.scalars(
        select(Event).where(Event.action == "events.verified").order_by(Event.id)
    ).first()
    assert recorded.details["whole"] is True
    assert recorded.details["checked"] == 3
    assert recorded.details["last_hash"] == events[-1].hash

    tamper(db, "UPDATE events SET ip = '10.0.0.66' WHERE id = :id", id=events[0].id)
    result = runner.invoke(args=["events", "verify"])
    assert result.exit_code == 1
    assert f"The chain is broken at event #{events[0].id} after 0 good events" in result.output
    db.session.rollback()
    last = db.session.scalars(
        select(Event).where(Event.action == "events.verified").order_by(Event.id.desc())
    ).first()
    assert (last.details["whole"], last.details["broken_at"]) == (False, events[0].id)


def test_migrated_database_has_the_triggers(db):
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        names = connection.scalars(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass")
        ).all()
        assert set(event_chain.POSTGRESQL_TRIGGERS) <= set(names)
    else:
        names = connection.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        ).all()
        assert set(names) == set(event_chain.SQLITE_TRIGGERS)


# --- several processes writing at once --------------------------------------------------

WORKERS, ROUNDS = 4, 15


def _write_in_a_process(database_url: str, resource_dir: str, worker: int) -> None:
    from app import create_app
    from app.extensions import db as process_db
    from app.services.transactions import begin_write

    app = create_app(
        TestConfig,
        {"SQLALCHEMY_DATABASE_URI": database_url, "RESOURCE_STORAGE_DIR": resource_dir},
    )
    with app.app_context():
        for n in range(ROUNDS):
            begin_write()  # as every writer does: a POST, or a command's begin_write()
            record_event("test.concurrent", details={"worker": worker, "n": n})
            if n % 5 == 0:
                record_events("test.concurrent_bulk", "Centre", [(worker, {"n": n})] * 3)
            process_db.session.commit()
        process_db.engine.dispose()


def test_several_processes_never_fork_the_chain(app, db, database_url, resource_dir):
    db.session.rollback()
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_write_in_a_process, args=(database_url, str(resource_dir), w))
        for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * WORKERS

    bulk_rounds = len(range(0, ROUNDS, 5))
    expected = WORKERS * (ROUNDS + 3 * bulk_rounds)
    seqs = db.session.scalars(select(Event.seq).order_by(Event.seq)).all()
    assert seqs == list(range(1, expected + 1))
    found = verify(db.session.connection())
    assert (found.whole, found.checked) == (True, expected)
    written = db.session.scalars(
        select(Event.details).where(Event.action == "test.concurrent")
    ).all()
    assert sorted((w["worker"], w["n"]) for w in written) == [
        (w, n) for w in range(WORKERS) for n in range(ROUNDS)
    ]


def test_details_are_hashed_as_the_database_gives_them_back(db):
    record_event("test.keys", details={2: "two", 10: "ten", "list": (1, 2)})
    record_events("test.keys_bulk", "Centre", [(1, {3: "three"})])
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(Event.details).order_by(Event.seq)).all()
    assert stored == [{"2": "two", "10": "ten", "list": [1, 2]}, {"3": "three"}]
    assert verify(db.session.connection()).whole
