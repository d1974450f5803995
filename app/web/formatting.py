"""Jinja filters that show moments in time, sizes and resource details the way the
board reads them."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape

from app.services.resources.naming import kind_label, series_label
from app.services.timetable.instants import wall_time

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


def local_time(moment: datetime, timezone: str) -> str:
    """A moment as clocks in `timezone` show it, with the zone's abbreviation, in the
    admin pages' form: "01 Jun 2026 09:00 IST" (from the pinned tzdata)."""
    return f"{wall_time(moment, timezone):{FORMAT} %Z}"


def file_size(size: int | None) -> str:
    """1,234 bytes as "1.2 KB": kilo, mega and giga by 1,024, one decimal below 100."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    raise AssertionError("unreachable")


# A web address in plain text: http(s):// or www., up to a space or a character that
# cannot be part of one; trailing punctuation is the sentence's, not the link's.
_WEB_ADDRESS = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def plain_text_with_links(text: str | None) -> Markup:
    """Text an admin wrote, escaped, its line breaks kept and its web addresses links."""
    parts = []
    position = 0
    for match in _WEB_ADDRESS.finditer(text or ""):
        address = match.group().rstrip(_TRAILING)
        if address.lower() in ("www.", "http://", "https://"):
            continue
        end = match.start() + len(address)
        href = address if "://" in address else f"https://{address}"
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(href, address))
        position = end
    parts.append(escape((text or "")[position:]))
    html = Markup("").join(parts)
    return Markup("<br>\n").join(html.split("\n"))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        utc_time=utc_time,
        utc_date=utc_date,
        both_times=both_times,
        local_time=local_time,
        file_size=file_size,
        series_label=series_label,
        kind_label=kind_label,
        plain_text_with_links=plain_text_with_links,
    )
