"""Manage Resources - TP: the filterable list, each resource's details, Replace file,
Download (recorded), Delete and Undo Delete."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.models import Resource
from app.resources import bp
from app.resources.forms import (
    KIND_OPTIONS,
    METADATA,
    ReplaceForm,
    ResourceForm,
    VersionOnlyForm,
)
from app.resources.upload import STAFF
from app.services import clock
from app.services.errors import DomainError, EditConflict
from app.services.resources import catalogue, naming
from app.services.resources.catalogue import FieldErrors, Filters
from app.services.transactions import begin_write, changes
from app.web.access import allow
from app.web.htmx import confirmation_page, render_page_or_fragment
from app.web.paging import page_number
from app.web.uploads import (
    incoming_files,
    resource_max_bytes,
    send_stored,
    storage,
    streams_files,
)

QUERY_MAX = 200


def _resource_or_404(resource_id: int) -> Resource:
    return db.session.get(Resource, resource_id) or abort(404)


def _filters() -> Filters:
    args = request.args
    kind = args.get("kind", "")
    return Filters(
        series=args.get("series", "")[:7],
        syllabus=args.get("syllabus", "").strip()[:4],
        kind=kind if kind in dict(KIND_OPTIONS) else "",
        text=args.get("q", "")[:QUERY_MAX],
        deleted=args.get("deleted") == "1",
    )


def _page_number() -> int:
    return page_number(request.args.get("page"))


@bp.route("/")
@allow(*STAFF)
def manage():
    filters = _filters()
    return render_page_or_fragment(
        "resources/manage.html",
        "resources/_results.html",
        "resource-results",
        filters=filters,
        results=catalogue.search_resources(filters, _page_number(), catalogue.PAGE_SIZE),
        series_options=[(s, naming.series_label(s)) for s in catalogue.series_in_use()],
        kind_options=KIND_OPTIONS,
    )


def _form_data(resource: Resource) -> dict:
    return {**{name: getattr(resource, name) for name in METADATA}, "version": resource.version}


def _resource_page(
    resource: Resource, form: ResourceForm | None = None, status: int = 200, **context
):
    form = form or ResourceForm(formdata=None, data=_form_data(resource))
    options = naming.series_choices(clock.utcnow().date())
    if resource.series not in dict(options):
        options = sorted([*options, (resource.series, naming.series_label(resource.series))])
    return render_template(
        "resources/resource.html",
        resource=resource,
        form=form,
        replace_form=context.pop("replace_form", None)
        or ReplaceForm(formdata=None, data={"version": resource.version}),
        series_options=options,
        kind_options=KIND_OPTIONS,
        downloads=catalogue.downloads_of(resource),
        max_mb=resource_max_bytes() // (1024 * 1024),
        **context,
    ), status


@bp.route("/<int:resource_id>")
@allow(*STAFF)
def resource(resource_id: int):
    return _resource_page(_resource_or_404(resource_id))


@bp.route("/<int:resource_id>", methods=["POST"])
@allow(*STAFF)
def save_resource(resource_id: int):
    resource = _resource_or_404(resource_id)
    form = ResourceForm()
    if form.validate_on_submit():
        try:
            with changes():
                changed = catalogue.edit_resource(resource, form.values(), form.version.data)
        except EditConflict as conflict:
            return _edit_conflict(resource, form, conflict)
        except FieldErrors as errors:
            form.show_errors(errors.errors)
        except DomainError as error:
            form.title.errors = [str(error)]
        else:
            flash("Saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for(".resource", resource_id=resource.id))
    return _resource_page(resource, form, 422, editing=True)


def _edit_conflict(resource: Resource, yours: ResourceForm, conflict: EditConflict):
    current = ResourceForm(formdata=None, data=_form_data(resource))
    typed = [
        (yours[name].label.text, yours[name].data, current[name].data)
        for name in METADATA
        if str(yours[name].data or "").strip() != str(current[name].data or "")
    ]
    return _resource_page(resource, current, 409, conflict=str(conflict), typed=typed)


@bp.route("/<int:resource_id>/replace", methods=["POST"])
@allow(*STAFF)
@streams_files(lambda: 1)
def replace_file(resource_id: int):
    resource = _resource_or_404(resource_id)
    form = ReplaceForm()
    if not form.validate_on_submit():
        return _resource_page(resource, status=400, replace_form=form)
    received = incoming_files(request.files.getlist("file"))
    if len(received) != 1:
        form.file.errors = ["Choose the file that replaces the current one."]
        return _resource_page(resource, status=422, replace_form=form)
    name, incoming = received[0]
    try:
        with changes():
            file = catalogue.replace_file(
                storage(), resource, name, incoming, current_user, form.version.data
            )
    except EditConflict as conflict:
        return _resource_page(resource, status=409, conflict=str(conflict))
    except DomainError as error:
        form.file.errors = [naming.about_file(name, f"{error} Nothing was replaced.")]
        return _resource_page(resource, status=422, replace_form=form)
    flash(f"Version {file.number} ({file.original_name}) is now the current file.", "success")
    return redirect(url_for(".resource", resource_id=resource.id))


@bp.route("/<int:resource_id>/versions/<int:number>/download")
@allow(*STAFF)
def download(resource_id: int, number: int):
    begin_write()  # a GET that writes: the Download record
    resource = _resource_or_404(resource_id)
    file = catalogue.file_version(resource, number) or abort(404)
    try:
        response = send_stored(
            file.stored_name,
            media_type=file.media_type,
            name=file.original_name,
            sha256=file.sha256,
            as_attachment=True,
        )
    except HTTPException as refused:  # 416: a Range outside the file
        reason = f"{refused.code} {refused.name}"
        catalogue.record_download(file, current_user, **_client(), status="refused", reason=reason)
        # Answered, not raised, so that the refused attempt's record is committed.
        return refused
    if response is None:
        catalogue.record_download(
            file, current_user, **_client(), status="refused", reason="file missing from storage"
        )
        message = "The file of this version is missing from the portal's storage."
        return render_template(
            "errors/error.html", code=404, title="File missing", message=message
        ), 404
    status = "not-modified" if response.status_code == 304 else "sent"
    catalogue.record_download(file, current_user, **_client(), status=status)
    return response


def _client() -> dict:
    return {
        "ip": request.remote_addr,
        "user_agent": request.user_agent.string,
        "range_header": request.headers.get("Range"),
    }


@bp.route("/<int:resource_id>/delete", methods=["GET", "POST"])
@allow(*STAFF)
def delete_resource(resource_id: int):
    resource = _resource_or_404(resource_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Delete “{resource.title}”?",
            message="The delete is a soft delete: the resource and all its versions are kept, "
            "flagged as deleted, and left out of Manage Resources - TP unless deleted ones are "
            "shown. This can be undone on its details page.",
            action=url_for(".delete_resource", resource_id=resource.id),
            button="Delete resource",
            cancel=url_for(".resource", resource_id=resource.id),
            hidden=[("version", request.args.get("version", resource.version))],
        )
    return _flag(resource, catalogue.delete_resource, f"“{resource.title}” deleted.")


@bp.route("/<int:resource_id>/restore", methods=["POST"])
@allow(*STAFF)
def restore_resource(resource_id: int):
    resource = _resource_or_404(resource_id)
    return _flag(
        resource, catalogue.restore_resource, f"Delete undone: “{resource.title}” is back."
    )


def _flag(resource: Resource, change, done: str):
    """Delete or Undo Delete, from a page read at the version the form sends."""
    form = VersionOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with changes():
            change(resource, form.version.data)
    except EditConflict as conflict:
        return _resource_page(resource, status=409, conflict=str(conflict))
    flash(done, "success")
    return redirect(url_for(".resource", resource_id=resource.id))
