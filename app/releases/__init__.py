"""Releases: Release Resources (plan, preview, save) and Manage Releases."""

from flask import Blueprint

bp = Blueprint("releases", __name__, url_prefix="/releases")

from app.releases import create, manage  # noqa: E402, F401  (registers the routes on bp)
