"""Admin - TP: Upload Resources - TP and Manage Resources - TP (admins and resource
producers; producers see nothing else)."""

from flask import Blueprint

bp = Blueprint("resources", __name__, url_prefix="/resources")

from app.resources import manage, upload  # noqa: E402, F401  (registers the routes on bp)
