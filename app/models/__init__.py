"""The data model: one module per aggregate, all imported here for Alembic."""

from app.models.centre import Centre
from app.models.email import EmailTemplate, OutboxMessage
from app.models.event import Event
from app.models.import_run import ImportRun
from app.models.server_error import ServerError
from app.models.user import ROLES, User

__all__ = [
    "ROLES",
    "Centre",
    "EmailTemplate",
    "Event",
    "ImportRun",
    "OutboxMessage",
    "ServerError",
    "User",
]
