"""Applying a centres upload: read and plan without the write lock, then apply
the plan in one transaction under it, and keep the ImportRun.

Other writers wait while an upload holds SQLite's write lock, and give up
after the busy timeout (5 s): so the file is read, what is stored loaded and
the plan made in a read transaction that takes no lock; the lock is taken only
to check that nothing the plan depends on changed meanwhile (planning again if
it did) and to apply it with bulk statements.
"""

import gc
import hashlib
import logging
import secrets
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

from sqlalchemy import bindparam, delete, insert, select, update

from app.extensions import db
from app.models import Centre, ImportRun, User
from app.models.user import new_session_token
from app.services.accounts.pins import PIN_ALPHABET, PIN_LENGTH
from app.services.audit import record_event, record_events
from app.services.centres.upload.reader import (
    MAX_PROBLEMS_KEPT,
    FileProblem,
    ReadResult,
    RowProblem,
    read_centres,
)
from app.services.centres.upload.reconcile import (
    NewUser,
    Plan,
    Rename,
    StoredCentre,
    StoredUser,
    UserOnSite,
    reconcile,
    unnamed_new_centres,
)
from app.services.clock import utcnow
from app.services.text import search_key
from app.services.timetable import followups
from app.services.transactions import (
    lock_centre_imports,
    read_only_connection,
    release_transaction,
)

CHUNK = 500
log = logging.getLogger(__name__)
CENTRES = Centre.__table__
USERS = User.__table__


@contextmanager
def _garbage_collector_paused():
    """Parsing a workbook makes millions of short-lived objects, all freed by reference
    counting; the cyclic collector would scan the worker's whole heap again and again
    meanwhile (measured: about 15% of the read). It runs again straight after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Preview:
    """An upload that waits for the admin's Confirm: what it would do; nothing is written."""

    file_name: str
    sheet_name: str
    rows: int
    plan: Plan
    # The site changed after the admin saw the plan they confirmed: this is the new one.
    changed: bool = False
    # The file as read, kept with it so that Confirm need not read it again.
    read: ReadResult | None = None

    @property
    def fingerprint(self) -> str:
        return self.plan.fingerprint()


class _Stopwatch:
    """Seconds spent in each stage of an upload, for the log."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.last
        self.last = now
        return now

    def __str__(self) -> str:
        return ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in self.stages.items())


def import_centres(
    content: bytes,
    file_name: str,
    *,
    actor=None,
    confirmed: str | None = None,
    read: ReadResult | None = None,
) -> ImportRun | Preview:
    """Read, reconcile and apply a centres file; keep and return its ImportRun, or
    return a Preview when the upload must be confirmed first.

    An upload that removes users, renames centres or gives a centre a time zone
    not of its country needs confirming: it is applied only when `confirmed` is
    the fingerprint of the plan it makes now (the one the admin saw). Nothing is
    written unless the whole file is valid. `read` is the file as a preview read
    it (a valid file), so that Confirm does not read it again. Flushes: the caller
    commits (the run, and for a valid file every change, together).
    """
    with _garbage_collector_paused():
        return _import_centres(content, file_name, actor=actor, confirmed=confirmed, read=read)


def _import_centres(
    content: bytes, file_name: str, *, actor, confirmed, read
) -> ImportRun | Preview:
    clock = _Stopwatch()
    release_transaction()  # reading a large file must not hold the database
    run = _new_run(content, file_name)
    if read is None:
        try:
            read = read_centres(content)
        except FileProblem as problem:
            problems = [RowProblem(0, "", "", str(problem))]
            return _finish(run, clock, problems=problems, actor=actor)
    run.rows = read.data_rows
    if read.problem_count:
        return _failed_read(run, read, clock, actor)
    clock.lap("read")
    stored, stamp = _stored_snapshot()
    plan = reconcile(read.rows, *stored)
    clock.lap("reconcile")
    if plan.problems:
        return _finish(run, clock, problems=plan.problems, actor=actor)
    if _awaits_confirmation(plan, confirmed):
        return Preview(
            file_name, read.sheet_name, read.data_rows, plan, confirmed is not None, read
        )
    lock_centre_imports()
    locked_at = clock.lap("lock wait")
    if _stored_stamp(_session_execute) != stamp:
        # Someone changed centres or users since the snapshot: plan again, now that
        # nobody else can (rare, and then as slow as before).
        plan = reconcile(read.rows, *load_stored())
        clock.lap("reconcile again, under the lock")
        if plan.problems:
            return _finish(run, clock, problems=plan.problems, actor=actor)
        if _awaits_confirmation(plan, confirmed):
            release_transaction()
            return Preview(
                file_name, read.sheet_name, read.data_rows, plan, confirmed is not None, read
            )
    _apply(run, plan, read.sheet_name)
    clock.lap("apply")
    run = _finish(run, clock, actor=actor)
    log.info(
        "centres upload %r: %s; write lock held %.2f s before the commit",
        file_name,
        clock,
        time.perf_counter() - locked_at,
    )
    return run


def _awaits_confirmation(plan: Plan, confirmed: str | None) -> bool:
    """Whether to show the plan instead of applying it: it needs confirming and was
    not the one confirmed, or the admin confirmed another (the site has changed)."""
    if confirmed is not None:
        return plan.fingerprint() != confirmed
    return plan.needs_confirmation


def _new_run(content: bytes, file_name: str) -> ImportRun:
    return ImportRun(
        started_at=utcnow(),
        file_name=file_name[:255],
        file_size=len(content),
        file_sha256=hashlib.sha256(content).hexdigest(),
        status="failed",
    )


def _failed_read(run: ImportRun, read: ReadResult, clock: _Stopwatch, actor) -> ImportRun:
    """A file with bad rows fails; its new centres without a name are listed with the
    rest, so that one upload shows every problem."""
    unnamed = unnamed_new_centres(read.unnamed, _centre_ids(set(read.unnamed)))
    problems = sorted([*read.problems, *unnamed], key=lambda problem: problem.row)
    return _finish(
        run, clock, problems=problems, actor=actor, problem_count=read.problem_count + len(unnamed)
    )


def _apply(run: ImportRun, plan: Plan, sheet_name: str) -> None:
    """Make the plan's changes and record them on the run."""
    plan = _with_last_sign_ins(plan)
    db.session.add(run)
    db.session.flush()  # the run's id, for the Events of its changes
    run.new_user_ids = apply_plan(plan, run.id)
    if plan.new_centres:  # they may be centres that entries named
        followups.centres_changed(
            {centre.country for centre in plan.new_centres},
            {centre.number for centre in plan.new_centres},
        )
    run.status = "applied"
    run.created_centres = len(plan.new_centres)
    run.created_users = len(plan.new_users)
    run.replaced_users = len(plan.replaced_users)
    run.renamed_centres = len(plan.renames)
    run.report = report_of(plan, sheet_name)


def _finish(
    run: ImportRun,
    clock: _Stopwatch,
    *,
    problems=(),
    actor=None,
    problem_count: int | None = None,
) -> ImportRun:
    run.problems = [asdict(problem) for problem in problems[:MAX_PROBLEMS_KEPT]]
    run.problem_count = len(problems) if problem_count is None else problem_count
    run.duration_ms = round((time.perf_counter() - clock.started) * 1000)
    if actor is not None:
        run.actor_id, run.actor_email = actor.id, actor.email
    db.session.add(run)
    db.session.flush()
    counts = {
        "file": run.file_name,
        "rows": run.rows,
        "created_centres": run.created_centres,
        "created_users": run.created_users,
        "replaced_users": run.replaced_users,
        "renamed_centres": run.renamed_centres,
        "problems": run.problem_count,
    }
    record_event(
        "centres.imported" if run.applied else "centres.import_failed",
        subject=run,
        details=counts,
        actor=actor,
    )
    return run


def _session_execute(sql: str):
    return db.session.connection().exec_driver_sql(sql)


def _stored_snapshot() -> tuple[tuple[list[StoredCentre], list[StoredUser]], tuple]:
    """What is stored, and its stamp, read together without the write lock."""
    with read_only_connection() as execute:
        return load_stored(execute), _stored_stamp(execute)


def _stored_stamp(execute) -> tuple:
    """Counts, highest ids and latest changes of centres and users: a plan made when
    they were the same is still right. (A rename, a deletion, an activation or a new
    user each changes one of them; so does a sign-in, which only costs a new plan.)"""
    return tuple(
        tuple(row)
        for table in ("centres", "users")
        for row in execute(f"SELECT count(*), max(id), max(updated_at) FROM {table}")  # noqa: S608
    )


def load_stored(execute=_session_execute) -> tuple[list[StoredCentre], list[StoredUser]]:
    """Every centre and user, as plain values: no ORM objects, no datetimes to convert
    (the last sign-in is fetched later, for the few users the report lists)."""
    # Plain SQL through the driver: 40,000 rows of ints and strings need no type
    # processing, and this is three times faster than going through the ORM.
    centres = list(
        map(
            StoredCentre._make,
            execute(
                "SELECT id, number, name, country, town, timezone, zone, deleted_at IS NOT NULL "
                "FROM centres"
            ),
        )
    )
    users = list(
        map(
            StoredUser._make,
            execute(
                "SELECT users.id, users.email, users.role, centres.number, "
                "users.activated_at IS NOT NULL FROM users "
                "LEFT OUTER JOIN centres ON users.centre_id = centres.id"
            ),
        )
    )
    return centres, users


def _with_last_sign_ins(plan: Plan) -> Plan:
    """Fill in the last sign-in of the extra users, which the report shows."""
    ids = [user.id for user in plan.extra_users]
    last = {}
    for start in range(0, len(ids), CHUNK):
        last.update(
            db.session.execute(
                select(User.id, User.last_login_at).where(User.id.in_(ids[start : start + CHUNK]))
            ).all()
        )
    plan.extra_users = [replace(user, last_login_at=last.get(user.id)) for user in plan.extra_users]
    return plan


def apply_plan(plan: Plan, run_id: int | None = None) -> list[int]:
    """Make the plan's changes with bulk Core statements, each change with its Event;
    return the new users' ids. Flushes only."""
    now = utcnow()
    source = {"import_run": run_id}
    centre_ids = _insert_centres(plan, now, source)
    _rename_centres(plan.renames, now, source)
    wanted = {user.number for user in plan.new_users} - centre_ids.keys()
    centre_ids.update(_centre_ids(wanted))
    new_ids = _insert_users(plan.new_users, centre_ids, now, source)
    plan.replaced_users = _remove_replaced_users(plan.replaced_users, source)
    return new_ids


def _insert_centres(plan: Plan, now, source: dict) -> dict[str, int]:
    """Insert the new centres, each with its Event; their ids by number."""
    if not plan.new_centres:
        return {}
    rows = []
    for c in plan.new_centres:
        details = {
            "number": c.number,
            "name": c.name,
            "country": c.country,
            "town": c.town,
            "timezone": c.timezone,
            "zone": c.zone,
        }
        rows.append(
            {
                **details,
                "search_key": search_key(c.number, c.name, c.town),
                "created_at": now,
                "updated_at": now,
            }
        )
    connection = db.session.connection()
    ids = dict(
        connection.execute(insert(CENTRES).returning(CENTRES.c.number, CENTRES.c.id), rows).all()
    )
    record_events(
        "centre.created",
        "Centre",
        [(ids[row["number"]], {**_details_of(row), **source}) for row in rows],
    )
    return ids


def _details_of(row: dict) -> dict:
    return {key: row[key] for key in ("number", "name", "country", "town", "timezone", "zone")}


def _rename_centres(renames: list[Rename], now, source: dict) -> None:
    """Give the renamed centres their new names, each with its Event."""
    if not renames:
        return
    # Core (the ORM's bulk form wants each row's version): every renamed centre's
    # version goes up, so an edit form opened before the upload is refused.
    db.session.connection().execute(
        update(CENTRES)
        .where(CENTRES.c.id == bindparam("centre_id"))
        .values(
            name=bindparam("new_name"),
            search_key=bindparam("new_key"),
            updated_at=now,
            version=CENTRES.c.version + 1,
        ),
        [
            {
                "centre_id": r.centre_id,
                "new_name": r.new,
                "new_key": search_key(r.number, r.new, r.town),
            }
            for r in renames
        ],
    )
    record_events(
        "centre.updated",
        "Centre",
        [
            (r.centre_id, {"number": r.number, "changes": {"name": [r.old, r.new]}, **source})
            for r in renames
        ],
    )


def _insert_users(
    new_users: list[NewUser], centre_ids: dict[str, int], now, source: dict
) -> list[int]:
    """Insert the new centre users, each with a PIN and its Event; return their ids."""
    if not new_users:
        return []
    taken = set(db.session.scalars(select(User.pin).where(User.pin.is_not(None))))
    pins = _new_pins(len(new_users), taken)
    rows = [
        {
            "email": user.email,
            "role": "centre",
            "centre_id": centre_ids[user.number],
            "pin": pin,
            "failed_logins": 0,
            "session_token": new_session_token(),
            "created_at": now,
            "updated_at": now,
        }
        for user, pin in zip(new_users, pins, strict=True)
    ]
    created = (
        db.session.connection()
        .execute(insert(USERS).returning(USERS.c.id, USERS.c.email), rows)
        .all()
    )
    centre_of = {user.email: user.number for user in new_users}
    record_events(
        "user.created",
        "User",
        [
            (user_id, {"email": email, "centre": centre_of[email], **source})
            for user_id, email in created
        ],
    )
    return [user_id for user_id, _ in created]


def _new_pins(count: int, taken: set[str]) -> list[str]:
    """`count` distinct PINs that no waiting user holds, from one block of random bytes
    (a byte's low five bits pick one of the 32 letters evenly): per-letter
    secrets.choice costs seconds for 50,000 users."""
    pins: list[str] = []
    chosen = set(taken)
    while len(pins) < count:
        block = secrets.token_bytes((count - len(pins)) * PIN_LENGTH)
        for start in range(0, len(block), PIN_LENGTH):
            pin = "".join(PIN_ALPHABET[b & 31] for b in block[start : start + PIN_LENGTH])
            if pin not in chosen:
                chosen.add(pin)
                pins.append(pin)
    return pins


def _remove_replaced_users(replaced: list[UserOnSite], source: dict) -> list[UserOnSite]:
    """Delete the replaced users still waiting to activate, each with its Event;
    return those deleted (one who activated a moment ago stays)."""
    ids = [user.id for user in replaced]
    removed = set()
    for start in range(0, len(ids), CHUNK):
        removed.update(
            db.session.scalars(
                delete(User)
                .where(User.id.in_(ids[start : start + CHUNK]), User.activated_at.is_(None))
                .returning(User.id)
            )
        )
    replaced = [user for user in replaced if user.id in removed]
    record_events(
        "user.deleted",
        "User",
        [
            (u.id, {"email": u.email, "centre": u.number, "replaced": True, **source})
            for u in replaced
        ],
    )
    return replaced


def _centre_ids(numbers: set[str]) -> dict[str, int]:
    """The stored centres' ids by number (deleted ones included)."""
    ordered = sorted(numbers)
    ids = {}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        ids.update(
            db.session.execute(
                select(Centre.number, Centre.id).where(Centre.number.in_(chunk))
            ).all()
        )
    return ids


def report_of(plan: Plan, sheet_name: str) -> dict:
    """The report's lists as plain JSON values, kept on the ImportRun."""

    def plain(items):
        return [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(i).items()}
            for i in items
        ]

    return {
        "sheet": sheet_name,
        "renamed": plain(plan.renames),
        "location_differences": plain(plan.location_differences),
        "deleted_in_file": plain(plan.deleted_in_file),
        "replaced": plain(plan.replaced_users),
        "extra_users": plain(plan.extra_users),
        "duplicated_users": [
            {"email": d.email, "places": [asdict(p) for p in d.places]}
            for d in plan.duplicated_users
        ],
        "missing_centres": plain(plan.missing_centres),
        "zone_warnings": plain(plan.zone_warnings),
    }
