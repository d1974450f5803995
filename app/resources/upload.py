"""Upload Resources - TP: send one or many files, check them in a confirmation table,
save them all together."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.resources import bp
from app.resources.forms import KIND_OPTIONS, ConfirmUploadForm, UploadForm
from app.services import clock
from app.services.errors import DomainError
from app.services.resources import naming
from app.services.resources.uploads import (
    Batch,
    Batches,
    BatchNotFound,
    BatchSaved,
    RowReview,
    review,
    save,
)
from app.services.transactions import changes
from app.web.access import allow
from app.web.uploads import incoming_files, resource_max_bytes, storage, streams_files

STAFF = ("admin", "tp")


def _batches() -> Batches:
    return Batches(storage())


def _max_files() -> int:
    return current_app.config["RESOURCE_MAX_FILES"]


def _upload_page(form: UploadForm, status: int = 200, problem: str | None = None):
    return render_template(
        "resources/upload.html",
        form=form,
        problem=problem,
        max_mb=resource_max_bytes() // (1024 * 1024),
        max_files=_max_files(),
    ), status


@bp.route("/upload")
@allow(*STAFF)
def upload():
    _batches().delete_expired(clock.utcnow())  # uploads abandoned a day ago
    return _upload_page(UploadForm(formdata=None))


@bp.route("/upload", methods=["POST"])
@allow(*STAFF)
@streams_files(_max_files)
def receive():
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 400)
    received = incoming_files(request.files.getlist("files"))
    if not received:  # more than _max_files() were refused with a 413 as they arrived
        return _upload_page(form, 422, "Choose one or more files to upload.")
    batch = _batches().stage(received, current_user.id, clock.utcnow())
    return redirect(url_for(".confirm_upload", token=batch.token))


def _find_batch(token: str):
    """The waiting upload, or where to go instead, with a message saying why: its
    resources if it was saved already, else the upload page."""
    try:
        return _batches().find(token, current_user.id, clock.utcnow())
    except BatchSaved as saved:
        flash(str(saved), "success")
        return redirect(url_for(".manage"))
    except BatchNotFound as gone:
        flash(str(gone), "error")
        return redirect(url_for(".upload"))


@bp.route("/upload/<token>")
@allow(*STAFF)
def confirm_upload(token: str):
    batch = _find_batch(token)
    if not isinstance(batch, Batch):
        return batch
    suggested = [staged.suggested() for staged in batch.accepted]
    form = ConfirmUploadForm(formdata=None, data={"rows": suggested})
    reviews = review(batch, suggested)
    for row in reviews:
        # Nothing is wrong yet with a field left for the uploader to fill in: only what
        # the name gave wrongly, and duplicates, are problems before Save.
        row.errors = {k: v for k, v in row.errors.items() if k == "file" or row.values.get(k)}
    return _confirmation(batch, form, reviews)


@bp.route("/upload/<token>", methods=["POST"])
@allow(*STAFF)
def save_upload(token: str):
    batch = _find_batch(token)
    if not isinstance(batch, Batch):
        return batch
    form = ConfirmUploadForm()
    if len(form.rows.entries) != len(batch.accepted):
        flash("The table sent does not match the files uploaded: check it and save again.", "error")
        return redirect(url_for(".confirm_upload", token=token))
    valid = form.validate_on_submit()
    reviews = review(batch, [entry.form.values() for entry in form.rows])
    if valid and all(row.ok for row in reviews):
        try:
            with changes():
                saved = save(_batches(), batch, reviews, current_user)
        except DomainError as error:
            return _confirmation(batch, form, reviews, 422, problem=str(error))
        flash(_saved_message(len(saved), len(batch.refused)), "success")
        return redirect(url_for(".manage"))
    return _confirmation(batch, form, reviews, 422, problem="Nothing was saved.")


@bp.route("/upload/<token>/cancel", methods=["POST"])
@allow(*STAFF)
def cancel_upload(token: str):
    form = UploadForm()
    if form.validate_on_submit():
        _batches().discard(token)
        flash("Upload cancelled: nothing was saved.", "success")
    return redirect(url_for(".upload"))


def _saved_message(saved: int, refused: int) -> str:
    message = f"Saved {saved} resource{'' if saved == 1 else 's'}."
    if refused:
        message += f" {refused} refused file{' was' if refused == 1 else 's were'} not saved."
    return message


def _confirmation(
    batch: Batch, form: ConfirmUploadForm, reviews: list[RowReview], status=200, problem=None
):
    for entry, row in zip(form.rows, reviews, strict=True):
        entry.form.show_errors(row.errors)
    rows = list(zip(form.rows, reviews, strict=True))
    errors = [
        (
            entry.form[name].id if name != "file" else f"file-{row.file.number}",
            name,
            f"Row {row.file.number} ({row.file.original_name}): {message}",
        )
        for entry, row in rows
        for name, message in row.errors.items()
    ]
    return render_template(
        "resources/confirm_upload.html",
        batch=batch,
        form=form,
        rows=rows,
        errors=errors,
        problem=problem,
        series_options=_series_options(reviews),
        kind_options=KIND_OPTIONS,
    ), status


def _series_options(reviews: list[RowReview]) -> list[tuple[str, str]]:
    """The series a row may choose: this year's neighbours, and any a row already has."""
    options = naming.series_choices(clock.utcnow().date())
    known = {value for value, _ in options}
    for row in reviews:
        value = row.clean.get("series")
        if value and value not in known:
            options.append((value, naming.series_label(value)))
            known.add(value)
    return sorted(options)
