"""Home: the admin dashboard, or a centre's resources."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from app.home import routes  # noqa: E402, F401  (registers the routes on bp)
