"""Manage Releases: Edit window, Add centres, and Windows to Decide.

Edit window and Add centres are one form each, posted back to its page: "Preview"
works out what would change and shows it; "Save" works it out again from the
submitted fields and saves it only if it is what the preview showed (the
fingerprint) and the release has not changed since the page was read (its version).
"""

from flask import abort, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.models import Centre, Release
from app.releases import bp
from app.releases.forms import AddCentresForm, EditWindowForm, centre_ids_of, zone_options
from app.services import clock
from app.services.errors import DomainError, EditConflict
from app.services.geography import countries
from app.services.releases import decisions, editing
from app.services.releases.planning import centre_places
from app.services.transactions import changes
from app.web.access import allow
from app.web.formatting import local_time
from app.web.htmx import confirmation_page
from app.web.paging import page_number

MAX_ID = 2**31 - 1


def _release_or_404(release_id: int) -> Release:
    return db.session.get(Release, release_id) or abort(404)


def _change_form(release_id: int, form_class, page):
    """(release, form, response): the response is the page to show now (the form as the
    release is, a refusal, or the form with its errors), or None for a valid POST."""
    release = _release_or_404(release_id)
    form = form_class()
    if release.is_cancelled:
        flash("This release is cancelled: it can no longer change.", "error")
        return release, form, redirect(url_for(".release", release_id=release.id))
    if request.method == "GET":
        if hasattr(form, "fill_from"):
            form.fill_from(release)
        form.version.data = release.version
        return release, form, page(release, form)
    if not form.validate():
        return release, form, page(release, form, status=400 if form.csrf_token.errors else 422)
    return release, form, None


def _preview_or_save(release: Release, form, page, planned, save):
    """The preview of `planned` (what the form would change, worked out just now), or
    for Save, `save()` in one transaction (→ the message to flash) if `planned` is what
    the preview showed (its fingerprint) and the release is as the page read it (the
    service checks the version); otherwise the page again, saying why."""
    if request.form.get("action") != "save":
        return page(release, form, planned)
    if request.form.get("plan") != planned.fingerprint:
        return page(release, form, planned, changed=True, status=409)
    try:
        with changes():
            message = save()
    except EditConflict as conflict:
        db.session.refresh(release)
        form.version.data = release.version
        return page(release, form, planned, conflict=str(conflict), status=409)
    except DomainError as refused:
        return page(release, form, planned, conflict=str(refused), status=422)
    flash(message, "success")
    return redirect(url_for(".release", release_id=release.id))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@bp.route("/<int:release_id>/window", methods=["GET", "POST"])
@allow("admin")
def edit_window(release_id: int):
    release, form, shown = _change_form(release_id, EditWindowForm, _window_page)
    if shown is not None:
        return shown
    rule, opens_zone, closes_zone = form.window_rule()
    if rule is None:
        return _window_page(release, form, status=422)
    change = editing.plan_window_change(release, rule, clock.utcnow())

    def save() -> str:
        editing.save_window_change(
            release,
            change,
            read_version=form.version.data,
            move_open=bool(form.move_open.data),
            opens_zone=opens_zone,
            closes_zone=closes_zone,
        )
        moved = len(change.moves) + (len(change.open_moves) if form.move_open.data else 0)
        message = f"Window saved: {_plural(moved, 'window')} moved."
        if change.open_moves and not form.move_open.data:
            message += f" {_plural(len(change.open_moves), 'window')} open now left as they were."
        return message

    return _preview_or_save(release, form, _window_page, change, save)


def _window_page(release, form, change=None, *, changed=False, conflict=None, status=200):
    context = {}
    if change is not None:
        moving = change.centre_moves(False)
        moving_open = change.centre_moves(True)
        context = {
            "change": change,
            "moving": moving[: editing.SHOWN],
            "moving_count": len(moving),
            "moving_open": moving_open[: editing.SHOWN],
            "moving_open_count": len(moving_open),
            "blocked": sorted(
                centre_places(change.blocked).values(), key=lambda place: place.number
            )[: editing.SHOWN],
        }
    return render_template(
        "releases/edit_window.html",
        release=release,
        form=form,
        zone_options=zone_options(),
        places=centre_places(
            [m.centre_id for m in context.get("moving", []) + context.get("moving_open", [])]
        )
        if change
        else {},
        changed=changed,
        conflict=conflict,
        local=local_time,
        shown=editing.SHOWN,
        **context,
    ), status


@bp.route("/<int:release_id>/centres/add", methods=["GET", "POST"])
@allow("admin")
def add_centres(release_id: int):
    release, form, shown = _change_form(release_id, AddCentresForm, _add_page)
    if shown is not None:
        return shown
    ids = centre_ids_of(form.centres)
    if form.centres.errors:
        return _add_page(release, form, status=422)
    addition = editing.plan_added_centres(release, ids)

    def save() -> str:
        added = editing.add_centres(release, addition, read_version=form.version.data)
        return (
            f"{_plural(len(added), 'centre')} added: "
            f"{_plural(len(addition.plan.targets), 'authorisation')}."
        )

    return _preview_or_save(release, form, _add_page, addition, save)


def _add_page(release, form, addition=None, *, changed=False, conflict=None, status=200):
    context = {}
    if addition is not None:
        plan = addition.plan
        windows: dict[int, list] = {}
        for t in plan.targets:
            found = windows.setdefault(t.centre_id, [t.opens_at, t.closes_at, 0])
            found[0], found[1] = min(found[0], t.opens_at), max(found[1], t.closes_at)
            found[2] += 1
        places = centre_places(set(windows) | set(plan.blocked) | set(addition.already))
        context = {
            "addition": addition,
            "adding": sorted(
                ((places[c], *w) for c, w in windows.items()), key=lambda row: row[0].number
            ),
            "blocked": sorted(
                ((places[c], why) for c, why in plan.blocked.items()),
                key=lambda row: row[0].number,
            ),
            "already": sorted(places[c].number for c in addition.already),
        }
    return render_template(
        "releases/add_centres.html",
        release=release,
        form=form,
        changed=changed,
        conflict=conflict,
        local=local_time,
        country_names=countries(),
        **context,
    ), status


@bp.route("/decide")
@allow("admin")
def decide_list():
    raw = request.args.get("release", "")
    release_id = int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else None
    found = decisions.windows_to_decide(page_number(request.args.get("page")), release_id)
    return render_template(
        "releases/decide.html",
        found=found,
        release_id=release_id,
        local=local_time,
        country_names=countries(),
    )


@bp.route("/<int:release_id>/decide", methods=["GET", "POST"])
@allow("admin")
def decide(release_id: int):
    release = _release_or_404(release_id)
    move = request.values.get("decision") == "move"
    raw = request.values.get("centre", "")
    centre = None
    if raw:
        if not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID):
            abort(404)
        centre = db.session.get(Centre, int(raw)) or abort(404)
    back = url_for(".decide_list")
    if request.method == "GET":
        # Every centre of the release at once: ask first.
        waiting = decisions.windows_to_decide(1, release.id).total
        return confirmation_page(
            title=(
                f"Move every waiting window of “{release.title or release.id}”?"
                if move
                else f"Keep every waiting window of “{release.title or release.id}” as it is?"
            ),
            message=(
                f"{_plural(waiting, 'centre')} of this release "
                f"{'has' if waiting == 1 else 'have'} a window waiting for a decision. "
                + (
                    "Each window that can be worked out moves to it now, open or not: a "
                    "centre whose new window has not opened yet loses access until it does."
                    if move
                    else "Each window stays as it is; nothing moves."
                )
            ),
            action=url_for(".decide", release_id=release.id),
            button="Move them" if move else "Keep them",
            cancel=back,
            hidden=[("decision", "move" if move else "keep")],
        )
    try:
        with changes():
            count, centres = decisions.decide(release, [centre.id] if centre else None, move=move)
    except DomainError as refused:
        flash(str(refused), "error")
        return redirect(back)
    flash(
        f"{_plural(len(centres), 'centre')}: {_plural(count, 'window')} "
        f"{'moved to the new window' if move else 'kept as they were'}.",
        "success",
    )
    return redirect(back)
