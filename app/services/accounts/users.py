"""Managing people: a centre's users and the board's staff accounts. Flushes, never commits."""

from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Centre,
    Download,
    EntryError,
    EntryUpload,
    HelpDocument,
    Release,
    ResourceFile,
    User,
)
from app.services.accounts import passwords
from app.services.accounts.addresses import AccountError, checked_email, refuse_duplicate_email
from app.services.accounts.pins import new_unused_pin
from app.services.audit import record_event, refuse_stale_edit
from app.services.clock import utcnow
from app.services.releases import notices

STAFF_ROLES = ("admin", "tp")
MIN_PASSWORD_LENGTH = 12
# The admins' changes to an account, which raise its version (signing in does not).
ADMIN_CHANGES = ("staff.role_changed", "user.pin_reset", "staff.unlocked")


def add_centre_user(centre: Centre, email: str) -> User:
    """A new user of the centre, waiting to activate with a fresh PIN."""
    email = checked_email(email)
    refuse_duplicate_email(email)
    user = User(email=email, role="centre", centre=centre, pin=new_unused_pin())
    db.session.add(user)
    db.session.flush()
    record_event("user.created", subject=user, details={"email": email, "centre": centre.number})
    return user


def reset_pin(user: User) -> str:
    """Give a not-yet-activated user a new PIN (the old one stops working)."""
    if user.activated_at is not None:
        raise AccountError(f"{user.email} has activated their account: there is no PIN to reset.")
    user.pin = new_unused_pin()
    user.pin_failures = 0
    user.version += 1
    db.session.flush()
    record_event("user.pin_reset", subject=user, details={"email": user.email})
    return user.pin


def delete_centre_user(user: User) -> None:
    """Remove a centre user; the centre and its history stay. Their release notices
    still waiting to be sent are withdrawn."""
    details = {"email": user.email, "centre": user.centre.number if user.centre else None}
    notices.user_deleted(user)
    record_event("user.deleted", subject=user, details=details)
    _forget(user)
    db.session.delete(user)
    db.session.flush()


def staff_accounts() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role != "centre").order_by(User.email)))


def invite_staff(email: str, role: str) -> User:
    """A staff account that activates by the same link as centre users, without a PIN."""
    _check_staff_role(role)
    email = checked_email(email)
    refuse_duplicate_email(email)
    user = User(email=email, role=role)
    db.session.add(user)
    db.session.flush()
    record_event("staff.invited", subject=user, details={"email": email, "role": role})
    return user


def change_role(user: User, role: str, *, by: User, read_version: int | None) -> None:
    """Give a staff account another role, if nobody changed the account since the
    admin's page was read (at `read_version`)."""
    _check_staff_role(role)
    refuse_stale_edit(user, read_version, f"The account {user.email}", ADMIN_CHANGES)
    if user.role == role:
        return
    if user.role == "admin":
        _refuse_removing_an_admin(user, by=by, verb="change the role of")
    record_event(
        "staff.role_changed",
        subject=user,
        details={"email": user.email, "before": user.role, "after": role},
    )
    user.role = role
    user.version += 1
    # A new role is a new set of permissions: start a new session with it.
    user.rotate_session_token()
    db.session.flush()


def unlock(user: User) -> None:
    """End an account's wait after failed sign-ins."""
    user.failed_logins = 0
    user.locked_until = None
    user.version += 1
    db.session.flush()
    record_event("staff.unlocked", subject=user, details={"email": user.email})


def delete_staff(user: User, *, by: User) -> None:
    if user.role == "admin":
        _refuse_removing_an_admin(user, by=by, verb="delete")
    record_event("staff.deleted", subject=user, details={"email": user.email, "role": user.role})
    _forget(user)
    db.session.delete(user)
    db.session.flush()


def _check_staff_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise AccountError("Choose Admin or Admin - TP.")


def _refuse_removing_an_admin(user: User, *, by: User, verb: str) -> None:
    if user.id == by.id:
        raise AccountError(f"You cannot {verb} your own account: ask another admin.")
    # Lock the admins' rows so that two admins removing each other at the same
    # moment cannot leave the portal with none.
    admins = db.session.scalars(select(User.id).where(User.role == "admin").with_for_update()).all()
    if len(admins) <= 1:
        raise AccountError("This is the last admin account, so it must stay an admin.")


def create_activated_staff(email: str, password: str, role: str = "admin") -> User:
    """A staff account that can sign in straight away (used from the command line)."""
    email = checked_email(email)
    refuse_duplicate_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(
        email=email,
        role=role,
        password_hash=passwords.hash_password(password),
        activated_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _forget(user: User) -> None:
    """Before an account is deleted, what it did stays recorded without pointing to it:
    downloads keep the email they were made with, uploads and releases say "unknown",
    and the Events say who it was."""
    for column in (
        Download.user_id,
        ResourceFile.uploaded_by_id,
        HelpDocument.uploaded_by_id,
        Release.created_by_id,
        Release.cancelled_by_id,
        EntryUpload.actor_id,
        EntryError.dismissed_by_id,
    ):
        db.session.execute(
            update(column.class_)
            .where(column == user.id)
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )
