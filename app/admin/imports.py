"""Admin → Manage Centres → Upload centres from excel file: upload, report, issue actions."""

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from app.admin import bp
from app.extensions import db
from app.models import ImportRun
from app.services.accounts.users import delete_centre_user
from app.services.audit import record_event
from app.services.centres.operations import soft_delete_centre
from app.services.centres.upload.apply import Preview, import_centres
from app.services.centres.upload.pending import PENDING_HOURS, PendingUploads
from app.services.centres.upload.report import (
    USER_SECTIONS,
    issues_now,
    latest_applied_id,
    listed_missing_centres,
    listed_users,
    new_user_pins,
    recent_runs,
)
from app.services.centres.upload.workbooks import pins_workbook, sample_workbook
from app.services.spreadsheets.reading import MAX_FILE_BYTES
from app.services.timetable import followups
from app.services.transactions import begin_write, is_lock_timeout
from app.web.access import allow
from app.web.htmx import confirmation_page, fragment_or_redirect
from app.web.limits import accepts_upload
from app.web.workbooks import workbook_download

log = logging.getLogger(__name__)

HISTORY_SIZE = 20
IN_PROGRESS = (
    "Another centres upload is being applied right now. Please wait a minute and upload "
    "your file again."
)
NOT_WAITING = (
    "That upload is no longer waiting to be confirmed: it was applied or cancelled, or "
    f"waited more than {PENDING_HOURS} hours. Nothing was changed by it now. Upload the file "
    "again."
)
CHANGED_MEANWHILE = (
    "A centre or user in your file was added by someone else while the file was being "
    "applied, so nothing was changed. Please upload the file again."
)


def _run_or_404(run_id: int) -> ImportRun:
    return db.session.get(ImportRun, run_id) or abort(404)


def _applied_run_or_404(run_id: int) -> ImportRun:
    """A run whose report has issues and new users: a failed upload has neither."""
    run = _run_or_404(run_id)
    if not run.applied:
        abort(404)
    return run


def _upload_page(status: int = 200, **context):
    return render_template(
        "admin/upload.html",
        history=recent_runs(HISTORY_SIZE),
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
        **context,
    ), status


@bp.route("/centres/upload")
@allow("admin")
def upload_page():
    return _upload_page()


@bp.route("/centres/upload", methods=["POST"])
@allow("admin")
@accepts_upload(lambda: MAX_FILE_BYTES + 64 * 1024)  # the file, and the form around it
def upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(422, missing_file=True)
    return _import(upload.read(), upload.filename)


@bp.route("/centres/upload/waiting/<token>", methods=["POST"])
@allow("admin")
def confirm_upload(token: str):
    waiting = _pending().find(token, current_user.id)
    if waiting is None:
        return _upload_page(410, busy=NOT_WAITING)
    confirmed = request.form.get("plan", "")
    return _import(waiting.content, waiting.file_name, token, confirmed, waiting.read)


@bp.route("/centres/upload/waiting/<token>/cancel", methods=["POST"])
@allow("admin")
def cancel_upload(token: str):
    if _pending().find(token, current_user.id) is not None:
        _pending().discard(token)
    flash("Upload cancelled: nothing was changed.", "success")
    return redirect(url_for(".upload_page"))


def _pending() -> PendingUploads:
    return PendingUploads(current_app.instance_path)


def _import(content: bytes, file_name: str, token: str | None = None, confirmed=None, read=None):
    """Apply an upload, or show what it would do when it must be confirmed first
    (its file kept meanwhile); then the report, or why it failed."""
    actor = current_user._get_current_object()
    actor_id = actor.id  # read now: importing ends the request's transaction
    try:
        result = import_centres(content, file_name, actor=actor, confirmed=confirmed, read=read)
    except OperationalError as error:
        if not is_lock_timeout(error):
            raise
        db.session.rollback()
        log.warning("centres upload refused: another upload holds the lock")
        return _upload_page(409, busy=IN_PROGRESS)
    except IntegrityError:
        # A centre or user was added through Manage Centres while this file was
        # being applied: nothing of the upload was kept; the next try sees it.
        db.session.rollback()
        log.warning("centres upload clashed with a concurrent change", exc_info=True)
        return _upload_page(409, busy=CHANGED_MEANWHILE)
    if isinstance(result, Preview):
        token = token or _pending().keep(content, file_name, actor_id, result.read)
        return render_template("admin/upload_preview.html", preview=result, token=token)
    if token:
        _pending().discard(token)
    if not result.applied:
        return _upload_page(422, failed=result)
    return redirect(url_for(".import_report", run_id=result.id))


@bp.route("/centres/upload/sample.xlsx")
@allow("admin")
def upload_sample():
    return workbook_download(sample_workbook(), "centres-sample.xlsx")


@bp.route("/centres/imports/<int:run_id>")
@allow("admin")
def import_report(run_id: int):
    run = _run_or_404(run_id)
    if not run.applied:
        return _upload_page(failed=run, past=True)
    return render_template(
        "admin/import_report.html",
        run=run,
        **issues_now(run),
        actionable=run.id == latest_applied_id(),
    )


def _issue_section(run: ImportRun, fragment: str, message: str):
    """After an action: the updated section for htmx, else the whole report."""
    return fragment_or_redirect(
        fragment,
        url_for(".import_report", run_id=run.id),
        message,
        run=run,
        actionable=True,
        **issues_now(run),
    )


def _confirm(
    run: ImportRun,
    title: str,
    items: list[str],
    field: str,
    ids: list[int],
    action: str,
    extra: dict | None = None,
):
    """The confirmation page for a bulk action (with JavaScript, hx-confirm asks instead)."""
    return confirmation_page(
        title=title,
        items=items,
        action=action,
        button=title.removesuffix("?"),
        cancel=url_for(".import_report", run_id=run.id),
        hidden=[*(extra or {}).items(), *((field, id_) for id_ in ids)],
    )


def _refuse_action(run: ImportRun, fragment: str, message: str):
    """Say why nothing was done: in the section for htmx, else on the report."""
    return fragment_or_redirect(
        fragment,
        url_for(".import_report", run_id=run.id),
        message,
        category="error",
        status=422,
        run=run,
        actionable=run.id == latest_applied_id(),
        **issues_now(run),
    )


OLDER_REPORT = (
    "This report is from an older upload, and the site has changed since: act on the "
    "latest upload's report instead."
)


@bp.route("/centres/imports/<int:run_id>/delete-centres", methods=["POST"])
@allow("admin")
def delete_missing_centres(run_id: int):
    run = _applied_run_or_404(run_id)
    fragment = "admin/_missing_centres.html"
    if run.id != latest_applied_id():
        return _refuse_action(run, fragment, OLDER_REPORT)
    centres = listed_missing_centres(run, request.form.getlist("centre", type=int))
    if not centres:
        return _refuse_action(run, fragment, "Tick the centres to delete first.")
    if request.form.get("confirmed") != "yes":
        return _confirm(
            run,
            f"Soft delete {len(centres)} centre(s)?",
            [c.label for c in centres],
            "centre",
            [c.id for c in centres],
            url_for(".delete_missing_centres", run_id=run.id),
        )
    with followups.centre_changes_together():
        for centre in centres:
            soft_delete_centre(centre)
    return _issue_section(
        run,
        fragment,
        f"Deleted {len(centres)} centre(s). This can be undone on each centre's details page.",
    )


@bp.route("/centres/imports/<int:run_id>/delete-users", methods=["POST"])
@allow("admin")
def delete_listed_users(run_id: int):
    run = _applied_run_or_404(run_id)
    section = request.form.get("section", "extra")
    if section not in USER_SECTIONS:
        abort(400)
    fragment = f"admin/_{section}_users.html"
    if run.id != latest_applied_id():
        return _refuse_action(run, fragment, OLDER_REPORT)
    users = listed_users(run, section, request.form.getlist("user", type=int))
    if not users:
        return _refuse_action(run, fragment, "Tick the users to delete first.")
    if request.form.get("confirmed") != "yes":
        return _confirm(
            run,
            f"Delete {len(users)} user(s)?",
            [f"{u.email} ({u.centre.number})" for u in users],
            "user",
            [u.id for u in users],
            url_for(".delete_listed_users", run_id=run.id),
            extra={"section": section},
        )
    for user in users:
        delete_centre_user(user)
    return _issue_section(
        run, fragment, f"Deleted {len(users)} user(s). Their centres are unchanged."
    )


@bp.route("/centres/imports/<int:run_id>/pins.xlsx")
@allow("admin")
def new_user_pins_file(run_id: int):
    # A GET that writes (the download's Event): take the write lock before reading.
    begin_write()
    run = _applied_run_or_404(run_id)
    rows = new_user_pins(run)
    record_event("centres.pins_downloaded", subject=run, details={"users": len(rows)})
    return workbook_download(pins_workbook(rows), f"new-user-pins-{run.id}.xlsx", private=True)
