"""Releases: Release Resources (plan, preview, save), Manage Releases (and changing a
saved release), and Windows to Decide."""

from flask import Blueprint

bp = Blueprint("releases", __name__, url_prefix="/releases")

from app.releases import changes, create, manage  # noqa: E402, F401  (registers the routes on bp)
