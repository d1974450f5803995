"""The data model: one module per aggregate, all imported here for Alembic."""

from app.models.centre import Centre
from app.models.email import EmailTemplate, OutboxMessage
from app.models.event import Event
from app.models.import_run import ImportRun
from app.models.release import (
    Authorisation,
    CentreFigures,
    Release,
    ReleaseCentre,
    ReleaseResource,
)
from app.models.resource import Download, Resource, ResourceFile
from app.models.server_error import ServerError
from app.models.site import HelpDocument, SiteText
from app.models.timetable import (
    Entry,
    EntryError,
    EntryUpload,
    KeyTime,
    KeyTimeError,
    TimetableSlot,
)
from app.models.user import ROLES, User

__all__ = [
    "Authorisation",
    "CentreFigures",
    "ROLES",
    "Centre",
    "Download",
    "Entry",
    "EntryError",
    "EntryUpload",
    "EmailTemplate",
    "HelpDocument",
    "Event",
    "ImportRun",
    "KeyTime",
    "KeyTimeError",
    "OutboxMessage",
    "Release",
    "ReleaseCentre",
    "ReleaseResource",
    "Resource",
    "ResourceFile",
    "ServerError",
    "SiteText",
    "TimetableSlot",
    "User",
]
