"""Jinja filters that show moments in time the way the board reads them."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

FORMAT = "%d %b %Y %H:%M"


def utc_time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:{FORMAT}} UTC"


def utc_date(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%d %b %Y}"


def both_times(moment: datetime | None, timezone: str) -> str:
    """What admins see: UTC, and the centre's local time when that differs."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    if local.utcoffset().total_seconds() == 0:
        return utc_time(moment)
    # The local day, when it is not the UTC day: 23:30 UTC is 05:00 next day in Kolkata.
    when = f"{local:%H:%M}" if local.date() == moment.date() else f"{local:%d %b %H:%M}"
    return f"{utc_time(moment)} ({when} {timezone})"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(utc_time=utc_time, utc_date=utc_date, both_times=both_times)
