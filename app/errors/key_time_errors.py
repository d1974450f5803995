"""Errors → Key Time Errors: what stops an entered centre's key time being worked out.

The list is kept by services/timetable/checks.py in the same transaction as every
change to its inputs; this page only reads it. "Check again" works every series
out afresh: after a tzdata upgrade, the only input that changes without an edit.
"""

from flask import flash, redirect, request, url_for
from sqlalchemy import func, select

from app.errors import bp
from app.extensions import db
from app.models import KeyTime, KeyTimeError
from app.models.timetable import KEY_TIME_ERROR_KINDS
from app.services.audit import record_event
from app.services.errors import DomainError
from app.services.geography import countries
from app.services.resources.naming import series_label
from app.services.timetable import followups
from app.services.timetable.checks import held_up
from app.services.timetable.instants import TZ_DATABASE_VERSION
from app.services.timetable.key_times import dom_id
from app.web.access import allow
from app.web.htmx import render_page_or_fragment
from app.web.paging import page_number

PAGE_SIZE = 50


@bp.route("/key-times")
@allow("admin")
def key_times():
    series = request.args.get("series", "")[:7]
    kind = request.args.get("kind", "")
    kind = kind if kind in KEY_TIME_ERROR_KINDS else ""
    query = select(KeyTimeError)
    if series:
        query = query.where(KeyTimeError.series == series)
    if kind:
        query = query.where(KeyTimeError.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(page_number(request.args.get("page")), pages)
    errors = db.session.scalars(
        query.order_by(
            KeyTimeError.series,
            KeyTimeError.exam_date,
            KeyTimeError.country,
            KeyTimeError.timezone,
            KeyTimeError.session,
            KeyTimeError.kind,
        )
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    # Each error links to the Key Times row it is fixed on: its key time's row, else
    # the country's (a placeholder row when the country has none).
    row_zones = dict(
        db.session.execute(
            select(KeyTime.id, KeyTime.timezone).where(
                KeyTime.id.in_({e.key_time_id for e in errors if e.key_time_id})
            )
        ).all()
    )
    anchors = {e.id: dom_id(e.country, row_zones.get(e.key_time_id, "")) for e in errors}
    all_series = db.session.scalars(
        select(KeyTimeError.series).distinct().order_by(KeyTimeError.series)
    ).all()
    return render_page_or_fragment(
        "errors_section/key_times.html",
        "errors_section/_key_time_errors.html",
        "key-time-errors",
        errors=errors,
        held=held_up(errors),
        anchors=anchors,
        total=total,
        number=number,
        pages=pages,
        page_size=PAGE_SIZE,
        series=series,
        kind=kind,
        kinds=KEY_TIME_ERROR_KINDS,
        all_series=all_series,
        series_label=_label,
        country_name=lambda code: countries().get(code, code),
        tz_version=TZ_DATABASE_VERSION,
    )


def _label(series: str) -> str:
    try:
        return series_label(series)
    except DomainError:
        return series


@bp.route("/key-times/check", methods=["POST"])
@allow("admin")
def check_key_times():
    result = followups.check_everything()
    record_event(
        "key_time_errors.checked",
        details={"found": result.found, "new": result.new, "fixed": result.fixed},
    )
    flash(
        f"Checked every series with the tz database {TZ_DATABASE_VERSION}: {result.found:,} "
        f"key time error(s), {result.new:,} new, {result.fixed:,} fixed since.",
        "success",
    )
    return redirect(url_for(".key_times"))
