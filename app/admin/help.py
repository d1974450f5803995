"""Admin → Help Document Upload: the help documents for centre users and for staff,
and the site's standard message."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import FileField, TextAreaField

from app.admin import bp
from app.extensions import db
from app.models import HelpDocument
from app.services import site
from app.services.errors import DomainError, EditConflict
from app.services.resources import naming
from app.services.transactions import changes
from app.web.access import allow
from app.web.forms import PortalForm, VersionField
from app.web.uploads import (
    incoming_files,
    resource_max_bytes,
    send_stored,
    storage,
    streams_files,
)


class HelpUploadForm(PortalForm):
    file = FileField("Help document (PDF)")


class StandardMessageForm(PortalForm):
    text = TextAreaField("Standard message")
    version = VersionField()


def _page(status: int = 200, forms: dict | None = None, message_form=None, **context):
    forms = forms or {}
    return render_template(
        "admin/help.html",
        audiences=site.AUDIENCES,
        forms={a: forms.get(a) or HelpUploadForm(formdata=None, prefix=a) for a in site.AUDIENCES},
        history={a: site.help_history(a) for a in site.AUDIENCES},
        message_form=message_form
        or StandardMessageForm(
            formdata=None,
            data={"text": site.standard_message(), "version": site.standard_message_version()},
        ),
        max_mb=resource_max_bytes() // (1024 * 1024),
        **context,
    ), status


@bp.route("/help")
@allow("admin")
def help_upload():
    return _page()


@bp.route("/help/<any(centre, staff):audience>", methods=["POST"])
@allow("admin")
@streams_files(lambda: 1)
def upload_help(audience: str):
    form = HelpUploadForm(prefix=audience)
    if not form.validate_on_submit():
        return _page(400, {audience: form})
    received = incoming_files(request.files.getlist(form.file.name))
    if len(received) != 1:
        form.file.errors = ["Choose the PDF file to upload."]
        return _page(422, {audience: form})
    name, incoming = received[0]
    try:
        with changes():
            site.upload_help(storage(), audience, name, incoming, current_user)
    except DomainError as error:
        form.file.errors = [naming.about_file(name, f"{error} Nothing was uploaded.")]
        return _page(422, {audience: form})
    flash(f"“{name}” is now the help document for {site.AUDIENCES[audience]}.", "success")
    return redirect(url_for(".help_upload"))


@bp.route("/help/documents/<int:document_id>/download")
@allow("admin")
def download_help(document_id: int):
    document = db.session.get(HelpDocument, document_id) or abort(404)
    return send_help(document, as_attachment=True)


def send_help(document: HelpDocument, *, as_attachment: bool):
    response = send_stored(
        document.stored_name,
        media_type="application/pdf",
        name=document.original_name,
        sha256=document.sha256,
        as_attachment=as_attachment,
    )
    return response if response is not None else abort(404)


@bp.route("/help/message", methods=["POST"])
@allow("admin")
def save_standard_message():
    form = StandardMessageForm()
    if form.validate_on_submit():
        try:
            with changes():
                changed = site.save_standard_message(
                    form.text.data or "", read_version=form.version.data, by=current_user
                )
        except EditConflict as conflict:
            current = StandardMessageForm(
                formdata=None,
                data={"text": site.standard_message(), "version": site.standard_message_version()},
            )
            return _page(409, message_form=current, conflict=str(conflict), typed=form.text.data)
        except DomainError as error:
            form.text.errors = [str(error)]
        else:
            flash("Standard message saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for(".help_upload", _anchor="standard-message"))
    return _page(422, message_form=form)
