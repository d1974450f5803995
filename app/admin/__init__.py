"""Admin: Manage Centres (with each centre's users), E-mail Templates, Users (staff
accounts) and Help Document Upload."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import centres, email_templates, help, imports, staff  # noqa: E402, F401  (registers the routes on bp)
