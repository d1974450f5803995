"""Admin: Manage Centres (with each centre's users) and Users (staff accounts)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import centres, email_templates, imports, staff  # noqa: E402, F401  (registers the routes on bp)
