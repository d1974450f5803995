"""What every form and every request's text must pass before any code uses it.

Control characters (NUL above all, which PostgreSQL cannot store or even
compare) have no place in anything a person types into the portal. Every form
derives from PortalForm, which refuses them field by field with a message; a
hook refuses them in query strings and uploaded file names, which no form sees.
"""

import unicodedata

from flask import current_app, render_template, request
from flask_wtf import FlaskForm
from wtforms import FileField, HiddenField, PasswordField

from app.services.text import control_character_in, control_character_message
from app.web.htmx import is_htmx_fragment_request


class PortalForm(FlaskForm):
    """A FlaskForm whose text fields refuse control characters (passwords included:
    a NUL in a password cannot be typed, only injected)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, FileField) or not isinstance(field.data, str):
                continue
            code = control_character_in(field.data)
            if code is None:
                continue
            label = "The password" if isinstance(field, PasswordField) else field.label.text
            # The field's only error: it explains any other (a rule saying the same).
            field.errors = [control_character_message(label, code)]
            valid = False
        return valid


class VersionField(HiddenField):
    """The version of the record the form was read at, for saving to check it is still
    current (app.services.audit.refuse_stale_edit). A missing or mangled one is None,
    which matches no version: the save is refused as a conflict, never a hidden error."""

    def process_formdata(self, valuelist) -> None:
        try:
            self.data = int(valuelist[0]) if valuelist else None
        except ValueError:
            self.data = None


def refuse_control_characters():
    """before_request: a query string or file name with a control character gets a 400
    page that says which, before any view passes it to the database."""
    view = current_app.view_functions.get(request.endpoint or "")
    streams = getattr(view, "streams_files", False)
    for name, value in request.args.items(multi=True):
        code = control_character_in(name) or control_character_in(value)
        if code:
            return _refused(f"The “{_printable(name)}” value in the address", code)
    # A view that streams files checks each file's name itself, on its row.
    if request.method == "POST" and request.mimetype == "multipart/form-data" and not streams:
        for upload in request.files.values():
            code = control_character_in(upload.filename or "")
            if code:
                return _refused("The file name", code)
    return None


def _printable(text: str) -> str:
    return "".join(ch for ch in text[:40] if unicodedata.category(ch) != "Cc")


def _refused(label: str, code: str):
    message = control_character_message(label, code)
    if is_htmx_fragment_request():
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    title = "Something was wrong with that request"
    return render_template("errors/error.html", code=400, title=title, message=message), 400
