"""What admins write for the whole site: the help documents and the standard message."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow

HELP_AUDIENCES = ("centre", "staff")


class HelpDocument(db.Model):
    """One upload of the help document (a PDF) for centre users or for staff. The
    newest of an audience is the one its Help link opens; earlier ones are history."""

    __tablename__ = "help_documents"
    __table_args__ = (
        CheckConstraint("audience IN ('centre', 'staff')", name="audience_known"),
        Index("ix_help_documents_audience_uploaded_at", "audience", "uploaded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(10))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User", lazy="joined")


class SiteText(db.Model):
    """A piece of text admins write for the whole site (the standard message), by key.
    Without a row, the default wording is used; an empty text hides it."""

    __tablename__ = "site_texts"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
