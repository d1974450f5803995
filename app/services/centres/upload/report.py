"""What an upload's report says now, and which of its listed items may be acted on.

A report lists centres and users by id as they were at upload time. Before
anything is deleted from it, each id is checked to be still what the report
named (the same number or email), and only the latest upload's report counts:
the site has moved on since an older one.
"""

from sqlalchemy import select

from app.extensions import db
from app.models import Centre, ImportRun, User

USER_SECTIONS = ("extra", "duplicated")


def recent_runs(limit: int) -> list[ImportRun]:
    return list(
        db.session.scalars(
            select(ImportRun)
            .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
            .limit(limit)
        )
    )


def latest_applied_id() -> int | None:
    return db.session.scalar(
        select(ImportRun.id)
        .where(ImportRun.status == "applied")
        .order_by(ImportRun.started_at.desc(), ImportRun.id.desc())
        .limit(1)
    )


def issues_now(run: ImportRun) -> dict:
    """The report's issue lists as they stand now: what has been dealt with drops out."""
    report = run.report
    missing_ids = [c["id"] for c in report["missing_centres"]]
    live = (
        set(
            db.session.scalars(
                select(Centre.id).where(Centre.id.in_(missing_ids), Centre.deleted_at.is_(None))
            )
        )
        if missing_ids
        else set()
    )
    saved_ids = [u["id"] for u in report["extra_users"]] + [
        p["user_id"] for d in report["duplicated_users"] for p in d["places"] if p["user_id"]
    ]
    existing = (
        set(db.session.scalars(select(User.id).where(User.id.in_(saved_ids))))
        if saved_ids
        else set()
    )
    return {
        "missing_centres": [c for c in report["missing_centres"] if c["id"] in live],
        "extra_users": [u for u in report["extra_users"] if u["id"] in existing],
        "duplicated_users": report["duplicated_users"],
        "existing_users": existing,
        # The saved users of Duplicated Users still on the site: the ones to tick.
        "deletable_duplicates": [
            p["user_id"]
            for d in report["duplicated_users"]
            for p in d["places"]
            if p["where"] == "saved" and p["user_id"] in existing
        ],
    }


def listed_missing_centres(run: ImportRun, ids: list[int]) -> list[Centre]:
    """The live centres among `ids` that the report listed as missing, still as listed."""
    listed = {c["id"]: c["number"] for c in run.report.get("missing_centres", [])}
    ids = [i for i in ids if i in listed]
    if not ids:
        return []
    centres = db.session.scalars(
        select(Centre)
        .where(Centre.id.in_(ids), Centre.deleted_at.is_(None))
        .order_by(Centre.number)
    )
    return [centre for centre in centres if centre.number == listed[centre.id]]


def listed_users(run: ImportRun, section: str, ids: list[int]) -> list[User]:
    """The centre users among `ids` that the report listed in `section`, still as listed.

    "extra": Delete Extra Users; "duplicated": the saved users of Duplicated Users.
    """
    if section == "duplicated":
        listed = {
            p["user_id"]: d["email"]
            for d in run.report.get("duplicated_users", [])
            for p in d["places"]
            if p["user_id"] and p["where"] == "saved"
        }
    else:
        listed = {u["id"]: u["email"] for u in run.report.get("extra_users", [])}
    ids = [i for i in ids if i in listed]
    if not ids:
        return []
    users = db.session.scalars(
        select(User).where(User.id.in_(ids), User.role == "centre").order_by(User.email)
    )
    return [user for user in users if user.email == listed[user.id]]


def new_user_pins(run: ImportRun) -> list[tuple[str, str, str, str]]:
    """(centre number, centre name, email, PIN) of the run's users still not activated."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Centre.number, Centre.name, User.email, User.pin)
            .join(Centre, User.centre_id == Centre.id)
            .where(
                User.id.in_(run.new_user_ids or [-1]),
                User.activated_at.is_(None),
                User.pin.is_not(None),
            )
            .order_by(Centre.number, User.email)
        )
    ]
