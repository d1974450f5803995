"""The Event Logs page: filters, keyset pages, CSV export."""

from app.reports import bp  # noqa: F401
