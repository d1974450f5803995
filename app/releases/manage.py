"""Releases → Manage Releases: the list by series, a release's centres, cancel."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.models import Centre, Release
from app.models.release import AUDIENCES
from app.releases import bp
from app.releases.forms import CancelForm
from app.services import clock
from app.services.errors import DomainError, EditConflict
from app.services.geography import countries
from app.services.releases import manage as releases
from app.services.releases.decisions import undecided_count
from app.services.releases.manage import CENTRE_STATUSES, CentreFilters
from app.services.reports.progress import release_progress
from app.services.transactions import changes
from app.web.access import allow
from app.web.formatting import local_time
from app.web.htmx import confirmation_page, is_htmx_fragment_request
from app.web.paging import page_number


def _release_or_404(release_id: int) -> Release:
    return db.session.get(Release, release_id) or abort(404)


@bp.route("/")
@allow("admin")
def manage():
    return render_template(
        "releases/manage.html", groups=releases.releases_by_series(clock.utcnow())
    )


def _filters() -> CentreFilters:
    args = request.args
    country = args.get("country", "").strip().upper()
    status = args.get("status", "")
    downloaded = args.get("downloaded", "")
    return CentreFilters(
        country=country if country in countries() else "",
        status=status if status in CENTRE_STATUSES else "",
        downloaded=downloaded if downloaded in ("yes", "no") else "",
    )


def _rule_in_words(release: Release) -> tuple[str, str]:
    if release.opens_at_fixed is not None:
        opens = f"Opens at {release.opens_at_fixed:%d %b %Y %H:%M} UTC" + (
            f" ({local_time(release.opens_at_fixed, release.opens_zone)}, {release.opens_zone})"
            if release.opens_zone != "UTC"
            else ""
        )
    else:
        days, hours = release.opens_days or 0, release.opens_hours or 0
        parts = [f"{days} day{'' if days == 1 else 's'}"]
        if hours:
            parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
        opens = (
            f"Opens {' and '.join(parts)} before the exam's key time, in each centre's local time"
        )
    if release.closes_at_fixed is not None:
        closes = f"Closes at {release.closes_at_fixed:%d %b %Y %H:%M} UTC" + (
            f" ({local_time(release.closes_at_fixed, release.closes_zone)}, {release.closes_zone})"
            if release.closes_zone != "UTC"
            else ""
        )
    else:
        closes = "Closes 24 hours after the exam's end or its key time, whichever is later"
    return opens, closes


def _release_page(release: Release, status: int = 200, **context):
    now = clock.utcnow()
    filters = _filters()
    opens, closes = _rule_in_words(release)
    centres = releases.release_centres(release, filters, page_number(request.args.get("page")), now)
    names = countries()
    return render_template(
        "releases/release.html",
        release=release,
        summary=releases.summary_of(release, now),
        resources=releases.resources_of(release),
        left_out=releases.left_out_centres(release),
        centres=centres,
        country_choices=[(code, names.get(code, code)) for code in centres.countries],
        filters=filters,
        centre_statuses=CENTRE_STATUSES,
        country_names=names,
        opens_words=opens,
        closes_words=closes,
        local=local_time,
        audiences=AUDIENCES,
        waiting=undecided_count(release.id),
        progress=release_progress(release, now),
        **context,
    ), status


@bp.route("/<int:release_id>")
@allow("admin")
def release(release_id: int):
    return _release_page(_release_or_404(release_id))


@bp.route("/<int:release_id>/cancel", methods=["GET", "POST"])
@allow("admin")
def cancel(release_id: int):
    release = _release_or_404(release_id)
    here = url_for(".release", release_id=release.id)
    if request.method == "GET":
        if release.is_cancelled:
            flash("This release is already cancelled.", "error")
            return redirect(here)
        return confirmation_page(
            title=f"Cancel release “{release.title}”?"
            if release.title
            else f"Cancel release {release.id}?",
            message="Centres lose access to its resources at once, whether their window is "
            "open or not. The release and its authorisations are kept, marked as cancelled. "
            "This cannot be undone.",
            action=url_for(".cancel", release_id=release.id),
            button="Cancel release",
            cancel=here,
            hidden=[("version", request.args.get("version", release.version))],
        )
    return _confirmed_change(
        release,
        lambda version: releases.cancel_release(release, version, current_user.id, clock.utcnow()),
        not_done="it was not cancelled",
        again="cancel it again",
        done="Release cancelled: no centre can download its resources now.",
    )


@bp.route("/<int:release_id>/centres/<int:centre_id>/remove", methods=["GET", "POST"])
@allow("admin")
def remove_centre(release_id: int, centre_id: int):
    release = _release_or_404(release_id)
    centre = db.session.get(Centre, centre_id) or abort(404)
    here = url_for(".release", release_id=release.id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Remove centre {centre.number} from this release?",
            message=f"{centre.label} loses access to this release's resources at once, "
            "whether its window is open or not. It is then listed on the release as removed.",
            action=url_for(".remove_centre", release_id=release.id, centre_id=centre.id),
            button="Remove centre",
            cancel=here,
            hidden=[("version", request.args.get("version", release.version))],
        )
    return _confirmed_change(
        release,
        lambda version: releases.remove_centre(release, centre, version, clock.utcnow()),
        not_done="the centre was not removed",
        again="remove the centre again",
        done=f"Centre {centre.number} removed: it cannot download this release's resources now.",
    )


def _confirmed_change(release: Release, change, *, not_done: str, again: str, done: str):
    """The POST of a change the admin confirmed (on the confirmation page, or htmx's
    hx-confirm): `change(version)` in one transaction, checked against the version the
    page was read at; on a conflict or a refusal, the release page again saying why;
    else `done` flashed, and back to the release."""
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    here = url_for(".release", release_id=release.id)
    try:
        with changes():
            change(form.version.data)
    except EditConflict as conflict:
        db.session.refresh(release)
        who = f" by {conflict.by}" if conflict.by else ""
        when = f" at {conflict.at:%d %b %Y %H:%M} UTC" if conflict.at else ""
        message = (
            f"This release was changed{who}{when} since you opened it, so {not_done}. It is "
            f"shown below as it is now: check it, and {again} if you still mean to."
        )
        return _release_page(release, 409, conflict=message)
    except DomainError as refused:
        db.session.refresh(release)
        return _release_page(release, 409, conflict=str(refused))
    flash(done, "success")
    if is_htmx_fragment_request():
        return "", 204, {"HX-Redirect": here}
    return redirect(here)
