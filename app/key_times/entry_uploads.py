"""Key Times → Upload entries: the complete entries of a series, reconciled.

The upload page (series, file, recent uploads), a preview that waits for Confirm
when the file would withdraw entries, each upload's report, and a sample file.
"""

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError
from wtforms import FileField, SelectField

from app.extensions import db
from app.key_times import bp
from app.models import EntryUpload
from app.services.clock import utcnow
from app.services.resources.naming import MetadataError, clean_series, series_choices
from app.services.spreadsheets.pending import PENDING_HOURS, PendingFiles
from app.services.spreadsheets.reading import MAX_FILE_BYTES, FileProblem
from app.services.spreadsheets.writing import text_workbook
from app.services.timetable.entries import (
    Preview,
    recent_uploads,
    upload_entries,
    upload_errors,
    withdrawn_by,
)
from app.services.transactions import after_commit, is_lock_timeout
from app.web.access import allow
from app.web.forms import PortalForm
from app.web.limits import accepts_upload
from app.web.workbooks import workbook_download

log = logging.getLogger(__name__)

PENDING_KIND = "entries"
HISTORY_SIZE = 20
WITHDRAWN_LISTED = 500
ERRORS_LISTED = 100
SAMPLE_ROWS = (
    ("GB123", "0580", "22"),
    ("GB123", "0580", "42"),
    ("GB123", "9709", "12"),
    ("IN456", "0580", "21"),
    ("IN456", "0580", "41"),
)
NOT_WAITING = (
    "That upload is no longer waiting to be confirmed: it was applied or cancelled, or "
    f"waited more than {PENDING_HOURS} hours. Nothing was changed by it now. Upload the file "
    "again."
)
IN_PROGRESS = (
    "Another entries upload is being applied right now. Please wait a minute and upload "
    "your file again."
)
CHANGED_MEANWHILE = (
    "The stored entries were changed by someone else while the file was being applied, so "
    "nothing was changed. Please upload the file again."
)


class EntryUploadForm(PortalForm):
    series = SelectField("Series", choices=[], validate_choice=False)
    file = FileField("Entries file (.xlsx)")


def _key_times_url() -> str | None:
    """The Key Times page, once it exists (the menu's way of knowing)."""
    if "key_times.index" in current_app.view_functions:
        return url_for("key_times.index")
    return None


def _upload_page(form: EntryUploadForm | None = None, status: int = 200, **context):
    form = form or EntryUploadForm(formdata=None)
    return render_template(
        "key_times/entries_upload.html",
        form=form,
        series_options=series_choices(utcnow().date()),
        history=recent_uploads(HISTORY_SIZE),
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
        key_times_url=_key_times_url(),
        **context,
    ), status


@bp.route("/entries", methods=["GET", "POST"])
@allow("admin")
@accepts_upload(lambda: MAX_FILE_BYTES + 64 * 1024)  # the file, and the form around it
def entries_upload():
    if request.method == "GET":
        return _upload_page()
    form = EntryUploadForm()
    valid = form.validate_on_submit()
    try:
        series = clean_series(form.series.data)
    except MetadataError:
        form.series.errors = [*form.series.errors, "Choose the series these entries are for."]
        valid = False
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, "Choose the entries file to upload."]
        valid = False
    if not valid:
        return _upload_page(form, 422)
    return _upload(upload.read(), upload.filename, series)


@bp.route("/entries/waiting/<token>", methods=["POST"])
@allow("admin")
def entries_confirm(token: str):
    waiting = _pending().find(PENDING_KIND, token, current_user.id)
    if waiting is None:
        return _upload_page(status=410, busy=NOT_WAITING)
    try:
        series = clean_series(waiting.about.get("series", ""))
    except MetadataError:
        _pending().discard(token)
        return _upload_page(status=410, busy=NOT_WAITING)
    confirmed = request.form.get("plan", "")
    return _upload(waiting.content, waiting.file_name, series, token, confirmed)


@bp.route("/entries/waiting/<token>/cancel", methods=["POST"])
@allow("admin")
def entries_cancel(token: str):
    if _pending().find(PENDING_KIND, token, current_user.id) is not None:
        _pending().discard(token)
    flash("Upload cancelled: nothing was changed.", "success")
    return redirect(url_for(".entries_upload"))


def _pending() -> PendingFiles:
    return PendingFiles(current_app.instance_path)


def _upload(content: bytes, file_name: str, series: str, token=None, confirmed=None):
    """Apply an entries file, or show what it would do when it must be confirmed
    first (its file kept meanwhile); then its report, or why it was refused."""
    actor_id = current_user.id  # read now: uploading ends the request's transaction
    try:
        result = upload_entries(
            content,
            file_name,
            series,
            actor_id=actor_id,
            confirmed=confirmed,
        )
    except FileProblem as problem:
        if token:
            _pending().discard(token)
        form = EntryUploadForm(formdata=None, data={"series": series})
        return _upload_page(form, 422, problem=str(problem), file_name=file_name)
    except OperationalError as error:
        if not is_lock_timeout(error):
            raise
        db.session.rollback()
        log.warning("entries upload refused: another upload holds the lock")
        return _upload_page(status=409, busy=IN_PROGRESS)
    except IntegrityError:
        db.session.rollback()
        log.warning("entries upload clashed with a concurrent change", exc_info=True)
        return _upload_page(status=409, busy=CHANGED_MEANWHILE)
    if isinstance(result, Preview):
        token = token or _pending().keep(PENDING_KIND, content, file_name, actor_id, series=series)
        return render_template(
            "key_times/entries_preview.html",
            preview=result,
            plan=result.plan,
            token=token,
        )
    if token:
        pending = _pending()
        after_commit(lambda: pending.discard(token))  # kept if the commit fails
    return redirect(url_for(".entries_report", upload_id=result.id))


@bp.route("/entries/<int:upload_id>")
@allow("admin")
def entries_report(upload_id: int):
    upload = db.session.get(EntryUpload, upload_id) or abort(404)
    withdrawn, withdrawn_now = withdrawn_by(upload, WITHDRAWN_LISTED)
    return render_template(
        "key_times/entries_report.html",
        upload=upload,
        withdrawn=withdrawn,
        withdrawn_now=withdrawn_now,
        error_kinds=upload_errors(upload, ERRORS_LISTED),
        errors_listed=ERRORS_LISTED,
        key_times_url=_key_times_url(),
    )


@bp.route("/entries/sample.xlsx")
@allow("admin")
def entries_sample():
    sample = text_workbook("Entries", ["Centre Number", "Syllabus", "Component"], SAMPLE_ROWS)
    return workbook_download(sample, "entries-sample.xlsx")
