"""People who sign in: centre users and board staff."""

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.centre import Centre
from app.models.types import UTCDateTime
from app.services.clock import utcnow

ROLES = ("admin", "tp", "centre")
ROLE_LABELS = {"admin": "Admin", "tp": "Admin - TP", "centre": "Centre user"}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    """A person who signs in with their email address as username.

    Flask-Login identifies the signed-in user by `session_token`, not by id, so
    rotating the token ends every session of that user at once (sign-out,
    password change, disabling).
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("role IN ('admin', 'tp', 'centre')", name="role_known"),
        CheckConstraint(
            "(role = 'centre' AND centre_id IS NOT NULL)"
            " OR (role <> 'centre' AND centre_id IS NULL)",
            name="centre_users_have_a_centre",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    # The activation PIN until the account is activated; unique among those unused.
    pin: Mapped[str | None] = mapped_column(String(16), unique=True)
    # Wrong PINs typed on the activation page; at five the PIN stops working.
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Counts changes made by admins (role, PIN, unlock), which their forms check;
    # not signing in, which would make every open form look out of date.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Every UPDATE checks the version it read (two admin actions at once cannot both
    # pass); the services that make an admin's change raise it themselves.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    centre: Mapped[Centre | None] = relationship()

    # Flask-Login's interface, spelled out rather than inherited from UserMixin so
    # that get_id() cannot silently fall back to the primary key.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.activated_at is not None

    def get_id(self) -> str:
        return self.session_token

    def rotate_session_token(self) -> None:
        """End every session this user has open."""
        self.session_token = new_session_token()

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
