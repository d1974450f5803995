"""Releases → Release Resources: choose resources, audience and window; preview; save.

One form, posted back to the same page: "Show resources" applies the series and the
filters, "Preview" plans the release and shows what it would authorise and what
blocks it, "Save" plans it again from the submitted fields (nothing the page showed
is trusted) and stores it. Works without JavaScript; the preview is paged by buttons.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.releases import bp
from app.releases.forms import KIND_OPTIONS, ReleaseChoices, ReleaseForm, zone_options
from app.services import clock
from app.services.errors import DomainError
from app.services.geography import countries
from app.services.releases import notices, planning
from app.services.resources import catalogue, naming
from app.services.transactions import changes
from app.web.access import allow
from app.web.formatting import local_time
from app.web.paging import page_number

_ACTIONS = ("show", "select-shown", "preview", "save")


def _series_options() -> list[tuple[str, str]]:
    options = dict(naming.series_choices(clock.utcnow().date()))
    for series in catalogue.series_in_use():
        try:
            options.setdefault(series, naming.series_label(series))
        except naming.MetadataError:
            continue
    return sorted(options.items(), reverse=True)


def _ticked() -> list[int]:
    ids = []
    for raw in request.form.getlist("resources"):
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            ids.append(int(raw))
    return ids


def _new_form() -> ReleaseForm:
    form = ReleaseForm() if request.method == "POST" else ReleaseForm(formdata=None)
    if request.method == "GET":
        form.opens_days.data = str(current_app.config.get("RELEASE_DEFAULT_DAYS_BEFORE", 3))
        series = request.args.get("series", "")
        form.series.data = series if series in dict(_series_options()) else ""
    for field in (form.opens_zone, form.closes_zone):
        if not field.data:
            field.data = "Europe/London"
    return form


@bp.route("/new", methods=["GET", "POST"])
@allow("admin")
def create():
    form = _new_form()
    action = request.form.get("action", "show")
    preview_to = request.form.get("preview_page")
    if preview_to:
        action = "preview"
    if action not in _ACTIONS:
        action = "show"
    ticked = _ticked()
    if request.method == "GET":
        return _page(form, ticked)
    if not form.validate():
        return _page(form, ticked, status=400 if form.csrf_token.errors else 422)
    series_values = set(dict(_series_options()))
    series = form.series.data if form.series.data in series_values else ""
    pick = _pickable(form, series, ticked)
    if action == "select-shown" and pick is not None:
        ticked = sorted(set(ticked) | {r.id for r in pick.resources})
    if action in ("show", "select-shown"):
        return _page(form, ticked, pick=pick)
    choices, loose = form.release_choices(ticked, series_values, pick.ids if pick else set())
    if choices is None:
        return _page(form, ticked, pick=pick, loose=loose, status=422)
    try:
        plan = planning.plan_release(
            choices.series, choices.resource_ids, choices.audience, choices.rule, choices.chosen
        )
    except DomainError as refused:
        return _page(form, ticked, pick=pick, loose=[str(refused)], status=422)
    if action == "preview":
        return _page(form, ticked, pick=pick, plan=plan, preview_page=page_number(preview_to))
    if request.form.get("plan") != _fingerprint(form, plan):
        return _page(form, ticked, pick=pick, plan=plan, changed=True, status=409)
    if plan.blocked and not form.leave_out.data:
        form.leave_out.errors = [
            f"No window can be worked out for {len(plan.blocked):,} "
            f"centre{'' if len(plan.blocked) == 1 else 's'}: correct their key times or "
            "entries, or tick “Leave these centres out of the release”."
        ]
        return _page(form, ticked, pick=pick, plan=plan, status=422)
    try:
        with changes():
            release = _save(
                plan,
                choices,
                leave_out=bool(form.leave_out.data),
                notify=bool(form.notify_scheduled.data),
            )
    except DomainError as refused:
        return _page(form, ticked, pick=pick, plan=plan, loose=[str(refused)], status=422)
    flash(
        f"Release saved: {len(plan.targets):,} authorisation"
        f"{'' if len(plan.targets) == 1 else 's'} for {plan.centres:,} "
        f"centre{'' if plan.centres == 1 else 's'}.",
        "success",
    )
    return redirect(url_for(".release", release_id=release.id))


def _save(plan: planning.ReleasePlan, choices: ReleaseChoices, *, leave_out: bool, notify: bool):
    return planning.save_release(
        plan,
        title=choices.title,
        actor_id=current_user.id,
        leave_out_blocked=leave_out,
        opens_zone=choices.opens_zone,
        closes_zone=choices.closes_zone,
        notify_scheduled=notify,
    )


def _fingerprint(form: ReleaseForm, plan: planning.ReleasePlan) -> str:
    """The plan's fingerprint, with whether the centres are told now: Save stores what
    the preview said, that included."""
    return planning.fingerprint(plan, notify_scheduled=bool(form.notify_scheduled.data))


def _pickable(form: ReleaseForm, series: str, ticked: list[int]):
    if not series:
        return None
    return planning.pickable_resources(
        series,
        (form.syllabus.data or "").strip()[:4],
        (form.component.data or "").strip()[:2],
        form.kind.data if form.kind.data in dict(KIND_OPTIONS) else "",
        ticked,
    )


def _page(
    form: ReleaseForm,
    ticked: list[int],
    *,
    pick=None,
    plan=None,
    loose=(),
    preview_page: int = 1,
    changed: bool = False,
    status: int = 200,
):
    series_options = _series_options()
    if pick is None and form.series.data in dict(series_options):
        pick = _pickable(form, form.series.data, ticked)
    context = {}
    if plan is not None:
        blocked_places = planning.centre_places(set(plan.blocked) | set(plan.entry_errors))
        context = {
            "plan": plan,
            "fingerprint": _fingerprint(form, plan),
            "recipients": notices.recipients_count({t.centre_id for t in plan.targets}),
            "changed": changed,
            "preview": planning.preview_page(plan, preview_page),
            "extremes": planning.opening_extremes(plan),
            "blocked": sorted(
                ((blocked_places[c], why) for c, why in plan.blocked.items()),
                key=lambda pair: pair[0].number,
            ),
            "with_entry_errors": sorted(
                ((blocked_places[c], n) for c, n in plan.entry_errors.items()),
                key=lambda pair: pair[0].number,
            ),
        }
    return render_template(
        "releases/create.html",
        form=form,
        ticked=set(ticked),
        pick=pick,
        loose_items=[("resources-list", "Resources", message) for message in loose],
        local=local_time,
        series_options=series_options,
        kind_options=KIND_OPTIONS,
        zone_options=zone_options(),
        country_names=countries(),
        **context,
    ), status
