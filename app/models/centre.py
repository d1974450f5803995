"""Exam centres."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, SmallInteger, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow
from app.services.text import search_key


class Centre(db.Model):
    """An exam centre: the unit that is entered for exams and receives releases."""

    __tablename__ = "centres"
    __table_args__ = (
        CheckConstraint("number = upper(number)", name="number_upper_case"),
        CheckConstraint("zone BETWEEN 1 AND 6", name="zone_1_to_6"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    town: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    zone: Mapped[int] = mapped_column(SmallInteger)
    # Number, name and town folded to lower case without accents, for search.
    # Text, not String(n): case folding can lengthen it ("ß" → "ss").
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Counts saves: an edit form carries the version it was read at, and every
    # UPDATE checks it (version_id_col), so no save silently overwrites another.
    # Bulk UPDATEs (the centres upload) bump it themselves.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def label(self) -> str:
        return f"{self.number} – {self.name}"

    def __repr__(self) -> str:
        return f"<Centre {self.number}>"


@event.listens_for(Centre, "before_insert")
@event.listens_for(Centre, "before_update")
def _keep_search_key(mapper, connection, centre: Centre) -> None:
    centre.search_key = search_key(centre.number, centre.name, centre.town)
