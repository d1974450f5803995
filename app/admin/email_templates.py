"""Admin → E-mail Templates: reword the emails the portal sends, preview and test them."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField, TextAreaField

from app.admin import bp
from app.services.audit import record_event
from app.services.email import templates as email_templates
from app.services.email.outbox import queue_email
from app.services.email.templates import ALLOWED_FILTERS, KINDS, Kind, Problem
from app.services.errors import EditConflict
from app.services.transactions import changes
from app.web.access import allow
from app.web.forms import PortalForm, VersionField
from app.web.htmx import confirmation_page, fragment_or_redirect, render_page_or_fragment

PREVIEW = "preview"  # the id of the edit page's preview region


def _unix_line_endings(text: str | None) -> str | None:
    # Browsers send a textarea's lines ending in CR LF; store them as the defaults are.
    return text.replace("\r\n", "\n") if text else text


class EmailTemplateForm(PortalForm):
    """An admin's wording. It has no validators: email_templates.problems_in checks it,
    and CSRFProtect has checked every POST before the view runs."""

    subject = StringField("Subject")
    # Not stripped: blank lines at the end of an email are the admin's to choose.
    body = TextAreaField("Text of the email", filters=[_unix_line_endings])
    # The version of the wording the form was opened at (see templates.save_wording).
    version = VersionField()

    @classmethod
    def as_stored(cls, key: str) -> "EmailTemplateForm":
        """The wording in use now, at its present version."""
        subject, body, _ = email_templates.wording(key)
        data = {"subject": subject, "body": body, "version": email_templates.version_of(key)}
        return cls(formdata=None, data=data)

    def wording(self) -> tuple[str, str]:
        return self.subject.data or "", self.body.data or ""

    def opened_at(self) -> int:
        """The version sent back; a missing or mangled one matches no version."""
        return -1 if self.version.data is None else self.version.data

    def show(self, problems: list[Problem]) -> None:
        """Put each problem under the field it is in."""
        for name in ("subject", "body"):
            getattr(self, name).errors = [str(p) for p in problems if p.field == name]


def _version(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _kind_or_404(key: str) -> Kind:
    return KINDS.get(key) or abort(404)


def _sample(kind: Kind, subject: str, body: str, **sample):
    """The wording rendered with made-up values (`sample` overrides some), or the
    problems that stop it."""
    problems = email_templates.problems_in(kind, subject, body)
    if problems:
        return None, problems
    organisation = current_app.config["ORGANISATION_NAME"]
    context = email_templates.sample_context(kind, organisation, **sample)
    try:
        return email_templates.render(subject, body, context), []
    except Exception as error:  # noqa: BLE001 - a branch the check's sample did not reach
        return None, [Problem("body", None, email_templates.render_failure(error))]


def _edit_page(kind: Kind, form: EmailTemplateForm, status: int = 200, **context):
    """The edit page, or only its preview region when htmx asked for that."""
    return render_page_or_fragment(
        "admin/email_template.html",
        "admin/_email_preview.html",
        PREVIEW,
        kind=kind,
        form=form,
        stored=email_templates.changed_wording(kind.key),
        allowed_filters=sorted(ALLOWED_FILTERS),
        **context,
    ), status


@bp.route("/email-templates", endpoint="email_templates")
@allow("admin")
def email_template_list():
    stored = email_templates.changed_wordings()
    return render_template("admin/email_templates.html", kinds=KINDS.values(), stored=stored)


@bp.route("/email-templates/<key>", methods=["GET", "POST"])
@allow("admin")
def email_template(key: str):
    kind = _kind_or_404(key)
    if request.method == "GET":
        form = EmailTemplateForm.as_stored(key)
        preview, problems = _sample(kind, *form.wording())
        return _edit_page(kind, form, preview=preview, problems=problems)
    form = EmailTemplateForm()
    try:
        with changes():
            problems = email_templates.save_wording(
                key, *form.wording(), by=current_user.email, version=form.opened_at()
            )
    except EditConflict as conflict:
        return _conflict_page(kind, form, conflict)
    if not problems:
        flash(f"Saved the {kind.title} email.", "success")
        return redirect(url_for(".email_template", key=key))
    form.show(problems)
    return _edit_page(kind, form, 422, problems=problems)


def _conflict_page(kind: Kind, unsaved: EmailTemplateForm, conflict: EditConflict):
    """The wording as it is now, to start again from, with the admin's own beside it."""
    form = EmailTemplateForm.as_stored(kind.key)
    preview, problems = _sample(kind, *form.wording())
    return _edit_page(
        kind,
        form,
        409,
        preview=preview,
        problems=problems,
        conflict=str(conflict),
        unsaved=unsaved.wording(),
    )


@bp.route("/email-templates/<key>/preview", methods=["POST"])
@allow("admin")
def email_template_preview(key: str):
    """The live preview (htmx, on every pause in typing) or the Preview button."""
    kind = _kind_or_404(key)
    form = EmailTemplateForm()
    preview, problems = _sample(kind, *form.wording())
    form.show(problems)
    return _edit_page(kind, form, 422 if problems else 200, preview=preview, problems=problems)


@bp.route("/email-templates/<key>/test", methods=["POST"])
@allow("admin")
def email_template_test(key: str):
    """Send the wording in the form, saved or not, to the signed-in admin."""
    kind = _kind_or_404(key)
    form = EmailTemplateForm()
    to = current_user.email
    preview, problems = _sample(kind, *form.wording(), email=to)
    if problems:
        form.show(problems)
        return _edit_page(kind, form, 422, problems=problems)
    subject, body = preview
    queue_email(to=to, template=key, subject=f"[Test] {subject}", body=body)
    record_event("email_template.test_sent", details={"template": key, "to": to})
    # With htmx the admin's unsaved changes stay in the form: only the preview says it went.
    return fragment_or_redirect(
        "admin/_email_preview.html",
        url_for(".email_template", key=key),
        f"A test email is on its way to {to}.",
        form=form,
        preview=preview,
        problems=[],
    )


@bp.route("/email-templates/<key>/restore", methods=["GET", "POST"])
@allow("admin")
def email_template_restore(key: str):
    kind = _kind_or_404(key)
    if request.method == "GET":
        # The version the edit page showed; opened some other way, the one there is now.
        version = request.args.get("version") or email_templates.version_of(key)
        return confirmation_page(
            title=f"Restore the default wording of the {kind.title} email?",
            message="The subject and text the portal came with will be used again, and the "
            "changed wording will be lost.",
            action=url_for(".email_template_restore", key=key),
            button="Restore default",
            cancel=url_for(".email_template", key=key),
            hidden=[("version", _version(version))],
        )
    try:
        with changes():
            email_templates.restore_default(
                key, by=current_user.email, version=_version(request.form.get("version"))
            )
    except EditConflict as conflict:
        flash(str(conflict), "error")
    else:
        flash(f"The {kind.title} email has its default wording again.", "success")
    return redirect(url_for(".email_template", key=key))
