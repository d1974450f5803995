"""Secure resources, the versions of their files, and every download of them."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow
from app.services.text import search_key

KIND_VALUES = (
    "question-paper",
    "insert",
    "pre-release",
    "listening-audio",
    "source-files",
    "confidential-instructions",
    "mark-scheme",
    "other",
)


class Resource(db.Model):
    """One secure resource (a question paper, its insert, its audio...) of an exam
    series. Its file has versions (ResourceFile); `current_version` is the number of
    the one a release hands out. Metadata edits and new versions both count in
    `version`, which edit forms carry (see Centre.version)."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint("length(syllabus) = 4", name="syllabus_4_digits"),
        CheckConstraint("length(component) = 2", name="component_2_digits"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in KIND_VALUES) + ")", name="kind_known"
        ),
        Index("ix_resources_series_syllabus_component", "series", "syllabus", "component"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))  # "2026-06"
    syllabus: Mapped[str] = mapped_column(String(4))
    component: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    # Title, syllabus and the current file's name, folded for search (see Centre).
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    files: Mapped[list["ResourceFile"]] = relationship(
        back_populates="resource", order_by="ResourceFile.number", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def current_file(self) -> "ResourceFile":
        return next(f for f in self.files if f.number == self.current_version)

    def __repr__(self) -> str:
        return f"<Resource {self.id} {self.series} {self.syllabus}/{self.component} {self.kind}>"


class ResourceFile(db.Model):
    """One version of a resource's file, as received: kept when a newer one replaces it.

    `stored_name` is generated, never taken from the client; `original_name` is what
    the uploader's computer called it, kept as text and shown escaped."""

    __tablename__ = "resource_files"
    __table_args__ = (
        UniqueConstraint("resource_id", "number", name="uq_resource_files_resource_number"),
        Index("ix_resource_files_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    number: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource: Mapped[Resource] = relationship(back_populates="files")
    uploaded_by = relationship("User", lazy="joined")


@event.listens_for(Resource, "before_insert")
@event.listens_for(Resource, "before_update")
def _keep_search_key(mapper, connection, resource: Resource) -> None:
    names = " ".join(f.original_name for f in resource.files)
    resource.search_key = search_key(resource.syllabus, resource.title, names)


# sent: the file (or the part a Range asked for); not-modified: the browser's copy is
# current (304); refused: nothing sent, `reason` says why.
DOWNLOAD_STATUSES = ("sent", "not-modified", "refused")


class Download(db.Model):
    """Every download of a resource file, and every refused attempt with its reason:
    by staff from Manage Resources, and (from releases on) by centre users."""

    __tablename__ = "downloads"
    __table_args__ = (
        CheckConstraint("status IN ('sent', 'not-modified', 'refused')", name="status_known"),
        # Audit Reports by resource: each version's downloads, newest first.
        Index("ix_downloads_resource_file", "resource_file_id", "at"),
        Index("ix_downloads_centre_at", "centre_id", "at"),
        Index("ix_downloads_user_at", "user_id", "at"),
        # Audit Reports by release: each centre's downloads under the release.
        Index("ix_downloads_release_centre", "release_id", "centre_id", "at"),
        # The admin's Home: downloads in the last 24 hours.
        Index("ix_downloads_at", "at"),
        # Audit Reports' resources to choose from: each file's sent downloads, counted.
        Index("ix_downloads_resource_file_status", "resource_file_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Kept when the account is deleted (user_id then becomes None): who it was.
    user_email: Mapped[str | None] = mapped_column(String(254))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    resource_file_id: Mapped[int] = mapped_column(ForeignKey("resource_files.id"))
    # The release it was downloaded under (centre users); None for staff.
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # The Range header of a partial download (resumed audio, say), as sent.
    range: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="sent")
    reason: Mapped[str | None] = mapped_column(String(200))

    user = relationship("User", lazy="joined")
    resource_file: Mapped[ResourceFile] = relationship()
