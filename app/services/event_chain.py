"""The Event Logs' tamper evidence: a hash chain, and the triggers that keep it append-only.

Each event has a place in the chain (`seq`: 1, 2, 3, … with no gaps) and a `hash`:
the SHA-256 of the previous event's hash and the event's own canonical content
(`canonical`). Changing, removing or reordering any event breaks the link after it,
and `verify` names the first broken one. What the chain cannot show by itself is the
newest events being cut off or the whole tail rewritten: each verification records
the head it saw (an Event `events.verified`), and the next one checks that this head
is still there, unchanged. That record lives in the same log, so whoever can rewrite
the log can remove it too: the head (`SEQ:HASH`, printed by `events verify`) copied
somewhere else (a ticket, an email) and given back with `--head` is evidence the
database alone cannot rewrite.

Writers never fork the chain: the next links are handed out while holding a lock for
the rest of the transaction (PostgreSQL: an advisory lock; SQLite: the database's
write lock, which a writing transaction holds from its first statement), and `seq`
is unique, so two writers that somehow read the same head cannot both commit.

Append-only at the database: triggers refuse UPDATE and DELETE on events (and, on
PostgreSQL, TRUNCATE), whatever the client. `append_only_off` lifts them inside one
transaction, for the tests' clean-up and deliberate tampering in tests only.
"""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, event, inspect, select, text
from sqlalchemy.orm import Session

from app.models import Event
from app.services.clock import utcnow
from app.services.transactions import EVENT_CHAIN_LOCK

GENESIS = "0" * 64  # the "previous hash" of the first event
VERIFIED = "events.verified"

# The fields an event's hash covers, in order. Never change this list or `canonical`:
# every stored hash depends on them.
CHAINED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "ip",
)


def canonical(values: dict) -> bytes:
    """An event's content as the bytes its hash covers: its CHAINED_FIELDS as compact
    JSON with sorted keys, the time as UTC to the microsecond."""
    at = values["at"]
    if at.tzinfo is None:  # SQLite returns naive UTC through a plain select
        at = at.replace(tzinfo=UTC)
    content = [values[name] for name in CHAINED_FIELDS]
    content[1] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def link(previous_hash: str, values: dict) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical(values)).hexdigest()


def take_head(connection: Connection) -> tuple[int, str]:
    """Lock the chain for the rest of this transaction and return its head: the last
    event's (seq, hash), or (0, GENESIS) for an empty log."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_CHAIN_LOCK})
    head = connection.execute(
        select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)
    ).first()
    return (head.seq, head.hash) if head is not None else (0, GENESIS)


def chain(connection: Connection, rows: list[dict]) -> None:
    """Give each event (a dict of its columns, in the order they will be inserted) its
    `seq` and `hash`, after the chain's current head. Call it just before inserting
    them, in the transaction that inserts them."""
    if not rows:
        return
    seq, previous = take_head(connection)
    for row in rows:
        # As the database will give it back: keys as text, tuples as lists.
        row["details"] = json.loads(json.dumps(row.get("details") or {}))
        seq += 1
        row["seq"] = seq
        previous = row["hash"] = link(previous, row)


def register() -> None:
    """Chain every Event the ORM inserts (once per process; create_app calls it)."""
    if not event.contains(Session, "before_flush", _chain_new_events):
        event.listen(Session, "before_flush", _chain_new_events)


def _chain_new_events(session: Session, flush_context, instances) -> None:
    """Give the Events about to be inserted their places in the hash chain, in the
    order they were added (the order the flush inserts them)."""
    new = [obj for obj in session.new if isinstance(obj, Event)]
    if not new:
        return
    new.sort(key=lambda obj: inspect(obj).insert_order)
    rows = []
    for obj in new:
        if obj.at is None:
            obj.at = utcnow()
        if obj.details is None:
            obj.details = {}
        rows.append({name: getattr(obj, name) for name in CHAINED_FIELDS[1:]})
    chain(session.connection(), rows)
    for obj, row in zip(new, rows, strict=True):
        obj.seq, obj.hash, obj.details = row["seq"], row["hash"], row["details"]


@dataclass(frozen=True)
class Verification:
    checked: int
    whole: bool
    broken_at: int | None = None  # the id of the first event whose link is broken
    reason: str = ""
    last_seq: int = 0
    last_hash: str = GENESIS

    def details(self) -> dict:
        """What the `events.verified` Event records."""
        return {
            "checked": self.checked,
            "whole": self.whole,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
        }


def verify(
    connection: Connection, known_heads: dict[int, str] | None = None, batch: int = 5_000
) -> Verification:
    """Walk the chain from the first event, in batches; stop at the first broken link.

    Also checks that each head an earlier verification saw (recorded in the log), and
    each of `known_heads` ({seq: hash}, kept outside the database), is still there
    with the same hash: the tail rewritten, or the newest events cut off, since."""
    columns = [getattr(Event, name) for name in CHAINED_FIELDS]
    query = select(Event.id, Event.hash, *columns).order_by(Event.seq).limit(batch)
    recorded = {**_recorded_heads(connection), **(known_heads or {})}
    previous, expected_seq, checked = GENESIS, 1, 0
    last_id = None
    while True:
        rows = connection.execute(query.where(Event.seq >= expected_seq)).mappings().all()
        for row in rows:
            if row["seq"] != expected_seq:
                return _broken(
                    checked,
                    row["id"],
                    f"event #{row['id']} has place {row['seq']} in the chain where "
                    f"{expected_seq} was expected: {row['seq'] - expected_seq} event(s) "
                    "before it are missing",
                )
            if link(previous, row) != row["hash"]:
                return _broken(
                    checked,
                    row["id"],
                    f"event #{row['id']} ({row['action']}) does not match its hash: it, "
                    "or the event before it, was changed after it was written",
                )
            known = recorded.pop(row["seq"], None)
            if known is not None and known != row["hash"]:
                return _broken(
                    checked,
                    row["id"],
                    f"event #{row['id']} is not the event the chain had at place "
                    f"{row['seq']} when verified: the log was rewritten from there on",
                )
            previous, last_id = row["hash"], row["id"]
            expected_seq += 1
            checked += 1
        if len(rows) < batch:
            break
    if recorded:
        seq = min(recorded)
        return _broken(
            checked,
            last_id,
            f"the chain once reached event {seq:,}; only {checked:,} are left: "
            "the newest were removed",
        )
    return Verification(checked, True, last_seq=expected_seq - 1, last_hash=previous)


def _broken(checked: int, event_id: int | None, reason: str) -> Verification:
    return Verification(checked, False, broken_at=event_id, reason=reason)


def _recorded_heads(connection: Connection) -> dict[int, str]:
    """The heads earlier whole verifications saw: {seq: hash}."""
    heads = {}
    for details in connection.scalars(select(Event.details).where(Event.action == VERIFIED)):
        if isinstance(details, dict) and details.get("whole") and details.get("last_seq"):
            heads[int(details["last_seq"])] = str(details.get("last_hash"))
    return heads


def last_verification(connection: Connection) -> tuple[datetime, dict] | None:
    """When the chain was last verified and what was found: (at, details)."""
    row = connection.execute(
        select(Event.at, Event.details)
        .where(Event.action == VERIFIED)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    return (row.at, row.details) if row is not None else None


# --- the triggers ---------------------------------------------------------------------

REFUSAL = "events are append-only: UPDATE, DELETE and TRUNCATE are refused"

SQLITE_TRIGGERS = {
    "events_refuse_update": (
        "CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
    "events_refuse_delete": (
        "CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
}

POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege'; "
    "END $$"
)
POSTGRESQL_TRIGGERS = {
    "events_refuse_change": (
        "CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_refuse_change()"
    ),
    "events_refuse_truncate": (
        "CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()"
    ),
}


def create_triggers(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRESQL_FUNCTION)
        for sql in POSTGRESQL_TRIGGERS.values():
            connection.exec_driver_sql(sql)
    else:
        for sql in SQLITE_TRIGGERS.values():
            connection.exec_driver_sql(sql)


def drop_triggers(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON events")
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS events_refuse_change()")
    else:
        for name in SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def append_only_off(connection: Connection) -> Iterator[None]:
    """Lift the triggers inside the caller's transaction (tests only: clearing the
    log between tests, tampering with it on purpose). They are back when this ends;
    on PostgreSQL they were never off for anyone else."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        yield
        connection.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER USER")
    else:
        drop_triggers(connection)
        yield
        create_triggers(connection)
