"""Key Times → Timetable: when each component is sat, uploaded from Excel."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.key_times import bp
from app.models import TimetableSlot
from app.models.timetable import SESSION_NAMES, SESSIONS
from app.services.clock import utcnow
from app.services.errors import DomainError
from app.services.resources.naming import MetadataError, clean_series, series_label, shown_name
from app.services.spreadsheets.pending import PENDING_HOURS, PendingFiles
from app.services.spreadsheets.reading import MAX_FILE_BYTES, FileProblem, RowProblem
from app.services.timetable import slots
from app.services.transactions import after_commit, changes, release_transaction
from app.web.access import allow
from app.web.htmx import confirmation_page, fragment_or_redirect, render_page_or_fragment
from app.web.limits import accepts_upload
from app.web.paging import page_number
from app.web.workbooks import workbook_download

PENDING_KIND = "timetable"
RESULTS = "timetable-results"
LIST_ARGS = ("series", "code", "date", "session", "page")
NOT_WAITING = (
    "That upload is no longer waiting to be confirmed: it was applied or cancelled, or "
    f"waited more than {PENDING_HOURS} hours. Nothing was changed by it now. Upload the file "
    "again."
)


@dataclass
class Failed:
    """An upload refused: the file as a whole, or its rows (nothing was stored)."""

    file_name: str
    file_problem: str = ""
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0

    @property
    def message(self) -> str:
        name = shown_name(self.file_name)
        if self.file_problem:
            return f"“{name}” was not uploaded. {self.file_problem}"
        return (
            f"“{name}” was not uploaded: {slots.count_of(self.problem_count, 'problem')} in "
            f"{slots.count_of(self.rows, 'row')}. Nothing was changed. Correct the file and "
            "upload it again."
        )


# ---------------------------------------------------------------------------
# The page


def _index_url() -> str | None:
    """The Key Times page, once it exists."""
    return url_for(".index") if "key_times.index" in current_app.view_functions else None


def _listing(args: Mapping[str, str]) -> tuple[dict, list]:
    """What the page and its results region show for these query values, and the
    problems in them as (field id, label, message)."""
    today = utcnow().date()
    errors = []
    raw_series = args.get("series", "").strip()[:20]
    series = slots.default_series(today)
    if raw_series:
        try:
            series = clean_series(raw_series)
        except MetadataError as error:
            errors.append(("series", "Series", str(error)))
    code = args.get("code", "").strip()[:20]
    syllabus, component = "", None
    try:
        syllabus, component = slots.code_filter(code)
    except DomainError as error:
        errors.append(("code", "Syllabus or component", str(error)))
    day_text = args.get("date", "").strip()[:20]
    day = None
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            errors.append(("date", "Date", "Enter the date as a date, e.g. 2026-06-02."))
    session = args.get("session", "").strip().upper()[:2]
    if session and session not in SESSIONS:
        errors.append(("session", "Session", "Choose a session: AM, PM or EV."))
        session = ""
    filters = slots.Filters(series, syllabus, component, day, session)
    list_args = {"series": series}
    for name, value in (("code", code), ("date", day_text), ("session", session)):
        if value:
            list_args[name] = value
    results = None
    if not errors:
        results = slots.search_slots(filters, page_number(args.get("page")))
    context = {
        "series": series,
        "series_name": series_label(series),
        "series_options": slots.series_options(today),
        "shown": {"code": code, "date": day_text, "session": session},
        "narrowed": filters.narrowed,
        "filter_errors": errors,
        "results": results,
        "list_args": list_args,
        "sessions": [(s, SESSION_NAMES[s]) for s in SESSIONS],
        "day_label": slots.day_label,
        "duration_label": slots.duration_label,
        "zones_label": slots.zones_label,
    }
    return context, errors


def _page_context(args: Mapping[str, str]) -> tuple[dict, list]:
    context, errors = _listing(args)
    context.update(
        index_url=_index_url(),
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
        dates=slots.series_dates(context["series"]),
    )
    return context, errors


@bp.route("/timetable")
@allow("admin")
def timetable():
    context, errors = _page_context(request.args)
    page = render_page_or_fragment(
        "key_times/timetable.html", "key_times/_timetable_results.html", RESULTS, **context
    )
    return page, 422 if errors else 200


def _whole_page(series: str, status: int = 200, **extra):
    context, _ = _page_context({"series": series})
    return render_template("key_times/timetable.html", **context, **extra), status


# ---------------------------------------------------------------------------
# Upload, preview, Confirm, Cancel


def _pending() -> PendingFiles:
    return PendingFiles(current_app.instance_path)


@bp.route("/timetable/upload", methods=["POST"])
@allow("admin")
@accepts_upload(lambda: MAX_FILE_BYTES + 64 * 1024)  # the file, and the form around it
def upload_timetable():
    try:
        series = clean_series(request.form.get("series", "")[:20])
    except MetadataError as error:
        return _whole_page(
            slots.default_series(utcnow().date()),
            422,
            upload_errors=[("upload-series", "Series", str(error))],
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _whole_page(
            series, 422, upload_errors=[("file", "Timetable file", "Choose a file to upload.")]
        )
    return _upload(upload.read(), upload.filename, series)


@bp.route("/timetable/upload/waiting/<token>", methods=["POST"])
@allow("admin")
def confirm_timetable(token: str):
    waiting = _pending().find(PENDING_KIND, token, current_user.id)
    series = waiting and waiting.about.get("series")
    try:
        series = clean_series(series) if series else None
    except MetadataError:
        series = None
    if waiting is None or series is None:
        return _whole_page(slots.default_series(utcnow().date()), 410, busy=NOT_WAITING)
    return _upload(waiting.content, waiting.file_name, series, token, request.form.get("plan", ""))


@bp.route("/timetable/upload/waiting/<token>/cancel", methods=["POST"])
@allow("admin")
def cancel_timetable(token: str):
    waiting = _pending().find(PENDING_KIND, token, current_user.id)
    series = None
    if waiting is not None:
        series = waiting.about.get("series")
        _pending().discard(token)
    flash("Upload cancelled: nothing was changed.", "success")
    return redirect(url_for(".timetable", series=series) if series else url_for(".timetable"))


def _upload(
    content: bytes,
    file_name: str,
    series: str,
    token: str | None = None,
    confirmed: str | None = None,
):
    """Apply a valid file, or show what it would change and wait for Confirm (the file
    kept meanwhile); or say why it was refused. Confirm applies only the plan the admin
    saw: if the stored timetable changed since, the new plan is shown instead."""
    actor_id = current_user.id
    release_transaction()  # reading the file must not hold the database
    try:
        read = slots.read_timetable(content, series)
    except FileProblem as problem:
        return _refused(token, series, Failed(file_name, file_problem=str(problem)))
    if read.problem_count:
        failed = Failed(file_name, "", read.problems, read.problem_count, read.data_rows)
        return _refused(token, series, failed)
    plan = slots.plan_upload(series, read.rows)
    if confirmed is not None and plan.fingerprint() != confirmed:
        return _preview(plan, file_name, token, changed=True)
    if confirmed is None and plan.needs_confirmation:
        token = _pending().keep(PENDING_KIND, content, file_name, actor_id, series=series)
        return _preview(plan, file_name, token)
    try:
        with changes():
            slots.apply_plan(plan, file_name)
    except DomainError as error:
        return _whole_page(series, 409, busy=str(error))
    if token:
        pending = _pending()
        after_commit(lambda: pending.discard(token))  # kept if the commit fails: try again
    flash(plan.summary(), "success")
    return redirect(url_for(".timetable", series=series))


def _refused(token: str | None, series: str, failed: Failed):
    if token:
        _pending().discard(token)
    return _whole_page(series, 422, failed=failed)


def _preview(plan: slots.Plan, file_name: str, token: str, changed: bool = False):
    return render_template(
        "key_times/timetable_preview.html",
        plan=plan,
        file_name=shown_name(file_name),
        token=token,
        changed=changed,
        series_name=series_label(plan.series),
        day_label=slots.day_label,
        duration_label=slots.duration_label,
        zones_label=slots.zones_label,
        count_of=slots.count_of,
    )


@bp.route("/timetable/sample.xlsx")
@allow("admin")
def timetable_sample():
    try:
        series = clean_series(request.args.get("series", "")[:20])
    except MetadataError:
        series = slots.default_series(utcnow().date())
    return workbook_download(slots.sample_workbook(series), f"timetable-sample-{series}.xlsx")


# ---------------------------------------------------------------------------
# Delete one slot


@bp.route("/timetable/slots/<int:slot_id>/delete", methods=["GET", "POST"])
@allow("admin")
def delete_timetable_slot(slot_id: int):
    slot = db.session.get(TimetableSlot, slot_id) or abort(404)
    back = {name: request.args[name] for name in LIST_ARGS if request.args.get(name)}
    back["series"] = slot.series
    code, name = slot.code, series_label(slot.series)
    if request.method == "GET":
        return confirmation_page(
            title=f"Delete {code} from the {name} timetable?",
            message=(
                f"{code} is sat on {slots.day_label(slot.exam_date)} ({slot.session}). "
                "Deleting it removes it from the timetable; uploading a file with it adds "
                "it again."
            ),
            action=url_for(".delete_timetable_slot", slot_id=slot.id, **back),
            button="Delete",
            cancel=url_for(".timetable", **back),
        )
    try:
        with changes():
            slots.delete_slot(slot)
    except DomainError as error:
        return _after_delete(back, str(error), "error", 422)
    return _after_delete(back, f"{code} deleted from the {name} timetable.", "success", 200)


def _after_delete(back: dict, message: str, category: str, status: int):
    context, _ = _listing(back)
    return fragment_or_redirect(
        "key_times/_timetable_results.html",
        url_for(".timetable", **back),
        message,
        category=category,
        status=status,
        **context,
    )
