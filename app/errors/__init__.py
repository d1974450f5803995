"""Errors: what went wrong that an admin should see (Other Errors, for now)."""

from flask import Blueprint

bp = Blueprint("errors", __name__, url_prefix="/errors")

from app.errors import routes  # noqa: E402, F401  (registers the routes on bp)
