"""Jinja filters that show moments in time the way the board reads them."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

FORMAT = "%d %b %Y %H:%M"


def utc_time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:{FORMAT}} UTC"


def utc_date(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%d %b %Y}"


def local_time(moment: datetime | None, timezone: str) -> str:
    """The moment on the wall clocks of `timezone`, e.g. "29 Nov 2026 15:29 (Asia/Kolkata)"."""
    if moment is None:
        return ""
    return f"{moment.astimezone(ZoneInfo(timezone)):{FORMAT}} ({timezone})"


def both_times(moment: datetime | None, timezone: str) -> str:
    """What admins see: UTC, and the centre's local time when that differs."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    if local.utcoffset().total_seconds() == 0:
        return utc_time(moment)
    return f"{utc_time(moment)} ({local:%H:%M} {timezone})"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        utc_time=utc_time, utc_date=utc_date, local_time=local_time, both_times=both_times
    )
