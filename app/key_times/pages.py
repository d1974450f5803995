"""Key Times: the key times page (edit in place, copy from series, upload), the timetable."""

import re
from contextlib import suppress
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.key_times import bp
from app.key_times.forms import (
    AddKeyTimeForm,
    DeleteForm,
    KeyTimeForm,
    UploadForm,
    country_options,
    key_time_form_data,
    zone_options,
)
from app.services.clock import utcnow
from app.services.errors import DomainError, EditConflict
from app.services.geography import countries, zones_for
from app.services.resources.naming import (
    FIRST_YEAR,
    LAST_YEAR,
    clean_series,
    series_choices,
    series_label,
)
from app.services.spreadsheets.pending import PENDING_HOURS, PendingFiles
from app.services.spreadsheets.reading import MAX_FILE_BYTES, FileProblem
from app.services.timetable import key_times as service
from app.services.timetable.key_times import FIELD_LABELS, FIELDS, KeyTimeGone
from app.services.transactions import after_commit, changes, release_transaction
from app.web.access import allow
from app.web.htmx import confirmation_page, fragment_or_redirect, is_htmx_fragment_request
from app.web.limits import accepts_upload
from app.web.workbooks import workbook_download

PENDING_KIND = "key-times"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
NOT_WAITING = (
    "That upload is no longer waiting to be confirmed: it was applied or cancelled, or "
    f"waited more than {PENDING_HOURS} hours. Nothing was changed by it now. Upload the file "
    "again."
)


# ----------------------------------------------------------------------------- helpers


def _optional_url(endpoint: str, **values) -> str | None:
    """A link to a page another part of the portal may not have yet."""
    if endpoint in current_app.view_functions:
        return url_for(endpoint, **values)
    return None


def _today() -> date:
    return utcnow().date()


def _default_series() -> str:
    """The series being sat now or next."""
    now = f"{_today():%Y-%m}"
    options = [value for value, _ in series_choices(_today())]
    return next((value for value in options if value >= now), options[-1])


def _series_options(*also: str) -> list[tuple[str, str]]:
    """series_choices, and every series that has key times (and `also`)."""
    values = {value for value, _ in series_choices(_today())}
    values |= set(service.series_with_key_times())
    for value in also:
        with suppress(DomainError):  # a bad value is explained beside its field
            values.add(clean_series(value))
    return [(value, series_label(value)) for value in sorted(values)]


def _series_or_404(raw: str) -> str:
    try:
        series = clean_series(raw)
    except DomainError:
        abort(404)
    if series != raw:
        abort(404)
    return series


def _place_or_404(country: str) -> tuple[str, str]:
    """The country in the address and the time zone in its query ("" the whole country)."""
    if country not in countries():
        abort(404)
    timezone = request.args.get("timezone", "")
    if timezone and timezone not in zones_for(country):
        abort(404)
    return country, timezone


def _parse_day(raw: str | None) -> date:
    """A date written YYYY-MM-DD, in the years the portal's series cover; ValueError
    (saying what is wrong) otherwise."""
    text = (raw or "").strip()
    shown = text[:20]
    try:
        day = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"“{shown}” is not a date: write it as YYYY-MM-DD, e.g. 2026-06-02.")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            f"“{shown}” is outside the years the portal covers ({FIRST_YEAR} to {LAST_YEAR})."
        )
    return day


def _day_or_default(raw: str | None, series: str) -> date:
    try:
        return _parse_day(raw)
    except ValueError:
        return service.default_day(series)


def _row_urls(series: str, country: str, timezone: str, day: date) -> dict:
    place = {"series": series, "country": country, "timezone": timezone or None}
    on = day.isoformat()
    return {
        "edit_url": url_for(".edit_row", **place, on=on),
        "save_url": url_for(".save_row", **place),
        "row_url": url_for(".show_row", **place, on=on),
        "delete_url": url_for(".delete_row", **place, on=on),
        "page_url": url_for(".index", series=series, on=on),
    }


def _row_context(series: str, day: date, country: str, timezone: str) -> dict:
    return {
        "row": service.table_row(series, day, country, timezone),
        "dom_id": service.dom_id(country, timezone),
        "series": series,
        "day": day,
        "place": service.place_name(country, timezone),
        **_row_urls(series, country, timezone, day),
    }


# ----------------------------------------------------------------------------- the page


def _page(series: str, day: date, status: int = 200, **context):
    add_form = context.pop("add_form", None) or AddKeyTimeForm(
        formdata=None, data={"series": series}
    )
    with_key_times = service.series_with_key_times()
    return render_template(
        "key_times/index.html",
        series=series,
        label=series_label(series),
        day=day,
        series_options=_series_options(series),
        rows=service.key_time_table(series, day),
        add_form=add_form,
        countries=country_options(),
        zones=zone_options(add_form.country.data),
        copy_sources=[(s, series_label(s)) for s in with_key_times if s != series],
        error_count=service.key_time_error_count(series),
        errors_url=_optional_url("errors.key_times", series=series),
        timetable_url=_optional_url("key_times.timetable", series=series),
        entries_url=_optional_url("key_times.entries_upload", series=series),
        **context,
    ), status


@bp.route("/")
@allow("admin")
def index():
    errors = []
    series = _default_series()
    raw_series = request.args.get("series", "").strip()
    if raw_series:
        try:
            series = clean_series(raw_series)
        except DomainError as error:
            errors.append(("series", "Series", f"{error} Showing {series_label(series)}."))
    day = service.default_day(series)
    raw_day = request.args.get("on", "").strip()
    if raw_day:
        try:
            day = _parse_day(raw_day)
        except ValueError as error:
            errors.append(("on", "Show UTC on", f"{error} Showing UTC on {day:%d %B %Y}."))
    return _page(series, day, 400 if errors else 200, chooser_errors=errors)


# ----------------------------------------------------------------------------- edit in place


def _edit_response(series: str, country: str, timezone: str, day: date, form, status=200, **ctx):
    """The row's form: a table row for htmx, else a page of its own."""
    context = _row_context(series, day, country, timezone)
    for field in form:
        # Unique on the page, whichever rows have their forms open.
        if field.name != "csrf_token":
            field.id = f"{context['dom_id']}-{field.name}"
    context.update(
        form=form,
        key_time=service.key_time_of(series, country, timezone),
        label=series_label(series),
        **ctx,
    )
    if is_htmx_fragment_request():
        # 422, not 409: htmx swaps in a 422 (the form with its notice), not a 409.
        return render_template("key_times/_key_time_form_row.html", **context), (
            422 if status == 409 else status
        )
    return render_template("key_times/key_times_edit.html", **context), status


@bp.route("/<series>/<country>/edit")
@allow("admin")
def edit_row(series: str, country: str):
    series = _series_or_404(series)
    country, timezone = _place_or_404(country)
    day = _day_or_default(request.args.get("on"), series)
    row = service.key_time_of(series, country, timezone)
    if row is None and timezone:
        abort(404)  # a zone's row is added first (Add a row); a country's may be set here
    form = KeyTimeForm(formdata=None, data={**key_time_form_data(row), "on": day.isoformat()})
    return _edit_response(series, country, timezone, day, form, focus=True)


@bp.route("/<series>/<country>/row")
@allow("admin")
def show_row(series: str, country: str):
    """Cancel: the row as it is (with JavaScript); without, the page."""
    series = _series_or_404(series)
    country, timezone = _place_or_404(country)
    day = _day_or_default(request.args.get("on"), series)
    if not is_htmx_fragment_request():
        return redirect(url_for(".index", series=series, on=day.isoformat()))
    context = _row_context(series, day, country, timezone)
    if context["row"] is None:
        return render_template("key_times/_key_time_gone_row.html", **context)
    return render_template("key_times/_key_time_row.html", focus=True, **context)


def _saved_message(place: str, saved: service.Saved) -> str:
    if not saved.changed:
        return f"Nothing was changed for {place}."
    message = f"Key times for {place} {'set' if saved.added else 'saved'}."
    row = saved.key_time
    if all(row.local(s) is None for s in ("AM", "PM", "EV")):
        message += " Every session is blank: delete the row if it is not needed."
    return message


@bp.route("/<series>/<country>/edit", methods=["POST"])
@allow("admin")
def save_row(series: str, country: str):
    series = _series_or_404(series)
    country, timezone = _place_or_404(country)
    form = KeyTimeForm()
    day = _day_or_default(form.on.data, series)
    place = service.place_name(country, timezone)
    if form.validate_on_submit():
        try:
            with changes():
                saved = service.save_key_time(
                    series, country, timezone, form.values(), form.version.data
                )
        except EditConflict as conflict:
            return _edit_conflict(series, country, timezone, day, form, conflict)
        except KeyTimeGone as gone:
            return _gone(series, country, timezone, day, str(gone))
        except DomainError as error:
            form.am.errors = [*form.am.errors, str(error)]
        else:
            # An anchor of its own: the form posted to "...#edit-errors", which a
            # redirect without one would keep.
            return fragment_or_redirect(
                "key_times/_key_time_row.html",
                url_for(
                    ".index",
                    series=series,
                    on=day.isoformat(),
                    _anchor=service.dom_id(country, timezone),
                ),
                _saved_message(place, saved),
                focus=True,
                **_row_context(series, day, country, timezone),
            )
    return _edit_response(series, country, timezone, day, form, 422)


def _edit_conflict(series, country, timezone, day, yours: KeyTimeForm, conflict: EditConflict):
    row = service.key_time_of(series, country, timezone)
    current = KeyTimeForm(formdata=None, data={**key_time_form_data(row), "on": day.isoformat()})
    typed = [
        (FIELD_LABELS[name], yours[name].data or "blank", current[name].data or "blank")
        for name in FIELDS
        if (yours[name].data or "").strip() != (current[name].data or "")
    ]
    return _edit_response(
        series, country, timezone, day, current, 409, conflict=str(conflict), typed=typed
    )


def _gone(series: str, country: str, timezone: str, day: date, message: str):
    """The row was deleted since the form was opened: say so where it was."""
    context = _row_context(series, day, country, timezone)
    template = "key_times/_key_time_row.html"
    if context["row"] is None:
        template = "key_times/_key_time_gone_row.html"
    return fragment_or_redirect(
        template,
        url_for(".index", series=series, on=day.isoformat()),
        message,
        category="error",
        status=422,
        **context,
    )


@bp.route("/<series>/<country>/delete", methods=["GET", "POST"])
@allow("admin")
def delete_row(series: str, country: str):
    series = _series_or_404(series)
    country, timezone = _place_or_404(country)
    place = service.place_name(country, timezone)
    row = service.key_time_of(series, country, timezone)
    if request.method == "GET":
        if row is None:
            abort(404)
        day = _day_or_default(request.args.get("on"), series)
        urls = _row_urls(series, country, timezone, day)
        return confirmation_page(
            title=f"Delete the key times for {place}?",
            message=f"The row for {place} in {series_label(series)} will be deleted"
            + (
                ": its centres then use the key times of the whole country."
                if timezone
                else ". Entered centres that used it will have no key time (a Key Time Error)"
                " until one is set again."
            ),
            action=urls["delete_url"],
            button="Delete key times",
            cancel=urls["page_url"],
            hidden=[("version", request.args.get("version", row.version)), ("on", day.isoformat())],
        )
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    day = _day_or_default(form.on.data, series)
    page_url = url_for(".index", series=series, on=day.isoformat())
    if row is None:
        return _table_or_redirect(
            series, day, page_url, f"The key times for {place} were deleted already.", "error"
        )
    try:
        with changes():
            service.delete_key_time(row, form.version.data)
    except EditConflict as conflict:
        return _table_or_redirect(series, day, page_url, str(conflict), "error")
    return _table_or_redirect(series, day, page_url, f"Key times for {place} deleted.")


def _table_or_redirect(series: str, day: date, url: str, message: str, category="success"):
    return fragment_or_redirect(
        "key_times/_key_time_table.html",
        url,
        message,
        category=category,
        status=422 if category == "error" else 200,
        series=series,
        label=series_label(series),
        day=day,
        rows=service.key_time_table(series, day),
        focus=True,
    )


# ----------------------------------------------------------------------------- add a row


@bp.route("/add", methods=["POST"])
@allow("admin")
def add_row():
    form = AddKeyTimeForm()
    if form.validate_on_submit():
        series, country, timezone = form.series.data, form.country.data, form.timezone.data
        try:
            with changes():
                service.add_key_time(series, country, timezone)
        except DomainError as error:
            form.country.errors = [*form.country.errors, str(error)]
        else:
            place = service.place_name(country, timezone)
            flash(f"Row added for {place}. Enter its key times below.", "success")
            # The form posted to "...#add-errors": a redirect keeps that unless given its own.
            return redirect(
                url_for(
                    ".edit_row",
                    series=series,
                    country=country,
                    timezone=timezone or None,
                    _anchor="main",
                )
            )
    try:
        series = clean_series(form.series.data)
    except DomainError:
        series = _default_series()
    return _page(series, service.default_day(series), 422, add_form=form, adding=True)


@bp.route("/zones")
@allow("admin")
def zone_field():
    """The time zone list for the chosen country (htmx swaps it in when the country changes)."""
    country = request.args.get("country", "")[:2]
    form = AddKeyTimeForm(formdata=None, data={"country": country})
    return render_template(
        "key_times/_key_time_zone_field.html", add_form=form, zones=zone_options(country)
    )


# ----------------------------------------------------------------------------- copy


@bp.route("/copy", methods=["GET", "POST"])
@allow("admin")
def copy():
    values = request.form if request.method == "POST" else request.args
    try:
        target = clean_series(values.get("series", ""))
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    back = url_for(".index", series=target)
    source_raw = values.get("source", "").strip()
    if not source_raw:
        flash("Choose the series to copy the key times from.", "error")
        return redirect(back)
    try:
        source = clean_series(source_raw)
        if request.method == "GET":
            plan = service.copy_plan(source, target)
        else:
            with changes():
                plan = service.copy_series(source, target)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(back)
    if request.method == "GET":
        return render_template(
            "key_times/key_times_copy.html",
            plan=plan,
            source_label=series_label(source),
            target_label=series_label(target),
            country_names=countries(),
            back=back,
        )
    flash(_copied_message(plan), "success")
    return redirect(back)


def _copied_message(plan: service.CopyPlan) -> str:
    rows = len(plan.rows)
    message = (
        f"Copied {rows:,} row{'s' if rows != 1 else ''} of key times from "
        f"{series_label(plan.source)} to {series_label(plan.target)}."
    )
    if len(plan.kept) == 1:
        message += " 1 country that already had key times was left as it was."
    elif plan.kept:
        message += (
            f" {len(plan.kept):,} countries that already had key times were left as they were."
        )
    return message


# ----------------------------------------------------------------------------- upload


def _pending() -> PendingFiles:
    return PendingFiles(current_app.instance_path)


def _upload_page(form: UploadForm | None = None, status: int = 200, **context):
    series = request.args.get("series", "")
    try:
        series = clean_series(series)
    except DomainError:
        series = _default_series()
    form = form or UploadForm(formdata=None, data={"series": series})
    return render_template(
        "key_times/key_times_upload.html",
        form=form,
        series_options=_series_options(form.series.data or ""),
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
        max_rows=service.MAX_ROWS,
        **context,
    ), status


@bp.route("/upload")
@allow("admin")
def upload_page():
    return _upload_page()


@bp.route("/upload", methods=["POST"])
@allow("admin")
@accepts_upload(lambda: MAX_FILE_BYTES + 64 * 1024)  # the file, and the form around it
def upload():
    form = UploadForm()
    upload = request.files.get("file")
    valid = form.validate_on_submit()
    if upload is None or not upload.filename:
        form.file.errors = ["Choose a key-times file (.xlsx) to upload."]
        valid = False
    if not valid:
        return _upload_page(form, 422)
    return _process(form.series.data, upload.read(), upload.filename, form=form)


@bp.route("/upload/waiting/<token>", methods=["POST"])
@allow("admin")
def confirm_upload(token: str):
    waiting = _pending().find(PENDING_KIND, token, current_user.id)
    if waiting is None:
        return _upload_page(status=410, busy=NOT_WAITING)
    series = waiting.about.get("series", "")
    return _process(
        series, waiting.content, waiting.file_name, token=token, confirmed=request.form.get("plan")
    )


@bp.route("/upload/waiting/<token>/cancel", methods=["POST"])
@allow("admin")
def cancel_upload(token: str):
    waiting = _pending().find(PENDING_KIND, token, current_user.id)
    if waiting is not None:
        _pending().discard(token)
    flash("Upload cancelled: nothing was changed.", "success")
    series = waiting.about.get("series") if waiting else None
    return redirect(url_for(".upload_page", series=series))


def _process(series, content, file_name, *, form=None, token=None, confirmed=None):
    """Check the file; then apply it, or show what it would overwrite and wait for Confirm."""
    form = form or UploadForm(formdata=None, data={"series": series})
    actor_id = current_user.id
    release_transaction()  # reading the file must not hold the database
    try:
        read = service.read_key_times(content)
    except FileProblem as problem:
        if token:
            _pending().discard(token)
        return _upload_page(form, 422, file_name=file_name, file_problem=str(problem))
    if read.problems:
        if token:
            _pending().discard(token)
        return _upload_page(form, 422, file_name=file_name, failed=read)
    plan = service.plan_upload(series, read)
    changed_meanwhile = confirmed is not None
    if plan.needs_confirm and (token is None or confirmed != plan.fingerprint):
        token = token or _pending().keep(PENDING_KIND, content, file_name, actor_id, series=series)
        return render_template(
            "key_times/key_times_upload_preview.html",
            plan=plan,
            token=token,
            file_name=file_name,
            label=series_label(series),
            changed_meanwhile=changed_meanwhile,
        )
    try:
        with changes():
            service.apply_upload(plan, file_name, read.data_rows)
    except DomainError as error:
        return _upload_page(form, 409, busy=str(error))
    if token:
        pending = _pending()
        after_commit(lambda: pending.discard(token))  # kept if the commit fails
    label = series_label(series)
    if plan.added or plan.changed:
        flash(f"{label}: {plan.summary()}", "success")
    else:
        flash(
            f"Nothing changed: every key time in the file is already stored for {label}.",
            "success",
        )
    return redirect(url_for(".index", series=series))


@bp.route("/sample.xlsx")
@allow("admin")
def sample():
    return workbook_download(service.sample_workbook(), "key-times-sample.xlsx")
