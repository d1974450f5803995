"""The data model: one module per aggregate, all imported here for Alembic."""

from app.models.centre import Centre
from app.models.email import EmailTemplate, OutboxMessage
from app.models.event import Event
from app.models.import_run import ImportRun
from app.models.resource import Download, Resource, ResourceFile
from app.models.server_error import ServerError
from app.models.site import HelpDocument, SiteText
from app.models.user import ROLES, User

__all__ = [
    "ROLES",
    "Centre",
    "Download",
    "EmailTemplate",
    "HelpDocument",
    "Event",
    "ImportRun",
    "OutboxMessage",
    "Resource",
    "ResourceFile",
    "ServerError",
    "SiteText",
    "User",
]
