"""Key Times: key times per country and session, the timetable, and entries uploads."""

from flask import Blueprint

bp = Blueprint("key_times", __name__, url_prefix="/key-times")

from app.key_times import entry_uploads, pages, timetable  # noqa: E402, F401  (registers the routes on bp)
