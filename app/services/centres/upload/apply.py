"""Loading what is stored, applying a plan in one transaction, and keeping the ImportRun."""

import gc
import hashlib
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, replace

from sqlalchemy import bindparam, delete, insert, select, update

from app.extensions import db
from app.models import Centre, ImportRun, User
from app.models.user import new_session_token
from app.services.accounts.pins import generate_pin
from app.services.audit import record_event, record_events
from app.services.centres.upload.reader import (
    MAX_PROBLEMS_KEPT,
    FileProblem,
    RowProblem,
    read_centres,
)
from app.services.centres.upload.reconcile import Plan, StoredCentre, StoredUser, reconcile
from app.services.clock import utcnow
from app.services.text import search_key
from app.services.transactions import lock_centre_imports, release_transaction

CHUNK = 500
log = logging.getLogger(__name__)


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


def import_centres(content: bytes, file_name: str, *, actor=None) -> ImportRun:
    """Read, reconcile and apply a centres file; keep and return its ImportRun.

    Nothing is written unless the whole file is valid. The file is read before
    any lock is taken; loading what is stored, reconciling and applying happen
    under the centres-upload lock, so two uploads never interleave. Flushes:
    the caller commits (the run, and for a valid file every change, together).
    """
    with _garbage_collector_paused():
        return _import_centres(content, file_name, actor=actor)


def _import_centres(content: bytes, file_name: str, *, actor=None) -> ImportRun:
    started = time.perf_counter()
    release_transaction()  # reading a large file must not hold the database
    run = ImportRun(
        started_at=utcnow(),
        file_name=file_name[:255],
        file_size=len(content),
        file_sha256=hashlib.sha256(content).hexdigest(),
        status="failed",
    )
    timings = {}
    try:
        read = read_centres(content)
    except FileProblem as problem:
        return _finish(run, started, problems=[RowProblem(0, "", "", str(problem))], actor=actor)
    run.rows = read.data_rows
    if read.problem_count:
        return _finish(
            run, started, problems=read.problems, actor=actor, problem_count=read.problem_count
        )

    timings["read"] = time.perf_counter() - started
    lock_centre_imports()
    timings["lock"] = time.perf_counter() - started - sum(timings.values())
    plan = _with_last_sign_ins(reconcile(read.rows, *load_stored()))
    timings["reconcile"] = time.perf_counter() - started - sum(timings.values())
    if plan.problems:
        return _finish(run, started, problems=plan.problems, actor=actor)
    db.session.add(run)
    db.session.flush()  # the run's id, for the Events of its changes
    run.new_user_ids = apply_plan(plan, run.id)
    timings["apply"] = time.perf_counter() - started - sum(timings.values())
    log.info(
        "centres upload %r: %s",
        file_name,
        ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in timings.items()),
    )
    run.status = "applied"
    run.created_centres = len(plan.new_centres)
    run.created_users = len(plan.new_users)
    run.replaced_users = len(plan.replaced_users)
    run.renamed_centres = len(plan.renames)
    run.report = report_of(plan, read.sheet_name)
    return _finish(run, started, actor=actor)


def _finish(
    run: ImportRun, started: float, *, problems=(), actor=None, problem_count: int | None = None
) -> ImportRun:
    run.problems = [asdict(problem) for problem in problems[:MAX_PROBLEMS_KEPT]]
    run.problem_count = len(problems) if problem_count is None else problem_count
    run.duration_ms = round((time.perf_counter() - started) * 1000)
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


def load_stored() -> tuple[list[StoredCentre], list[StoredUser]]:
    """Every centre and user, as plain values: no ORM objects, no datetimes to convert
    (the last sign-in is fetched later, for the few users the report lists)."""
    # Plain SQL through the driver: 40,000 rows of ints and strings need no type
    # processing, and this is three times faster than going through the ORM.
    connection = db.session.connection()
    centres = list(
        map(
            StoredCentre._make,
            connection.exec_driver_sql(
                "SELECT id, number, name, country, town, timezone, zone, deleted_at IS NOT NULL "
                "FROM centres"
            ),
        )
    )
    users = list(
        map(
            StoredUser._make,
            connection.exec_driver_sql(
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
    """Make the plan's changes with bulk statements, each change with its Event;
    return the new users' ids. Flushes only."""
    now = utcnow()
    source = {"import_run": run_id}
    if plan.new_centres:
        db.session.execute(
            insert(Centre),
            [
                {
                    **asdict(c),
                    "search_key": search_key(c.number, c.name, c.town),
                    "created_at": now,
                    "updated_at": now,
                }
                for c in plan.new_centres
            ],
        )
    centre_ids = _centre_ids(
        {c.number for c in plan.new_centres} | {u.number for u in plan.new_users}
    )
    record_events(
        "centre.created",
        "Centre",
        [(centre_ids[c.number], {**asdict(c), **source}) for c in plan.new_centres],
    )
    if plan.renames:
        # A Core UPDATE (the ORM's bulk form wants each row's version): every renamed
        # centre's version goes up, so an edit form opened before the upload is refused.
        centres = Centre.__table__
        db.session.execute(
            update(centres)
            .where(centres.c.id == bindparam("centre_id"))
            .values(
                name=bindparam("new_name"),
                search_key=bindparam("new_key"),
                updated_at=now,
                version=centres.c.version + 1,
            ),
            [
                {
                    "centre_id": r.centre_id,
                    "new_name": r.new,
                    "new_key": search_key(r.number, r.new, r.town),
                }
                for r in plan.renames
            ],
        )
        record_events(
            "centre.updated",
            "Centre",
            [
                (r.centre_id, {"number": r.number, "changes": {"name": [r.old, r.new]}, **source})
                for r in plan.renames
            ],
        )
    new_ids: list[int] = []
    if plan.new_users:
        taken = set(db.session.scalars(select(User.pin).where(User.pin.is_not(None))))
        rows = []
        for user in plan.new_users:
            pin = generate_pin()
            while pin in taken:
                pin = generate_pin()
            taken.add(pin)
            rows.append(
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
            )
        created = db.session.execute(insert(User).returning(User.id, User.email), rows).all()
        new_ids = [user_id for user_id, _ in created]
        centre_of = {user.email: user.number for user in plan.new_users}
        record_events(
            "user.created",
            "User",
            [
                (user_id, {"email": email, "centre": centre_of[email], **source})
                for user_id, email in created
            ],
        )
    replaced = [user.id for user in plan.replaced_users]
    removed = set()
    for start in range(0, len(replaced), CHUNK):
        # Only users still waiting to activate: one who activated a moment ago stays.
        removed.update(
            db.session.scalars(
                delete(User)
                .where(User.id.in_(replaced[start : start + CHUNK]), User.activated_at.is_(None))
                .returning(User.id)
            )
        )
    plan.replaced_users = [u for u in plan.replaced_users if u.id in removed]
    record_events(
        "user.deleted",
        "User",
        [
            (u.id, {"email": u.email, "centre": u.number, "replaced": True, **source})
            for u in plan.replaced_users
        ],
    )
    return new_ids


def _centre_ids(numbers: set[str]) -> dict[str, int]:
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
    }
