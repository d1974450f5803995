"""Errors: what an admin should see and fix: Other Errors, Entry Errors, Key Time Errors."""

from flask import Blueprint

bp = Blueprint("errors", __name__, url_prefix="/errors")

from app.errors import entry_errors, key_time_errors, routes  # noqa: E402, F401  (registers the routes on bp)
