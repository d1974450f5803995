"""Audit Reports: by release, by centre, by resource; their exports."""

from app.reports import bp  # noqa: F401
