"""Reports: Audit Reports (who has and has not downloaded what) and the Event Logs."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import audit, audit_history, events  # noqa: E402, F401  (registers the routes on bp)
