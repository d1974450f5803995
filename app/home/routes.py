from flask import abort, current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.home import bp
from app.home.rows import CentreRows
from app.models import Centre, Resource
from app.services import clock, site
from app.services.releases.access import may_download
from app.services.releases.centre_home import centre_home
from app.services.reports.dashboard import SIGN_IN_ACTIONS, admin_dashboard, open_error_counts
from app.services.resources import catalogue
from app.services.transactions import begin_write
from app.web.access import SIGNED_IN, allow
from app.web.errors import MESSAGES
from app.web.uploads import send_stored


@bp.route("/")
@allow(*SIGNED_IN)
def index():
    if current_user.role == "admin":
        now = clock.utcnow()
        return render_template(
            "home/admin.html",
            dashboard=admin_dashboard(now=now),
            errors=open_error_counts(now),
            endpoints=current_app.view_functions,
            how=SIGN_IN_ACTIONS,
        )
    if current_user.role == "tp":
        return render_template("home/tp.html")
    return _centre_page(current_user.centre, read_only=False)


@bp.route("/home/centres/<int:centre_id>")
@allow("admin")
def view_as_centre(centre_id: int):
    """A centre's Home as its users see it, read-only: for answering support calls."""
    centre = db.session.get(Centre, centre_id) or abort(404)
    return _centre_page(centre, read_only=True)


def _centre_page(centre: Centre, *, read_only: bool):
    now = clock.utcnow()
    sections = [] if centre.is_deleted else centre_home(centre.id, now)
    return render_template(
        "home/centre.html",
        centre=centre,
        sections=sections,
        read_only=read_only,
        centre_rows=CentreRows(centre.timezone, now, read_only),
    )


@bp.route("/home/resources/<int:resource_id>/download")
@allow("centre")
def download(resource_id: int):
    """The current file of a resource released to the user's centre, while its window
    is open. Anything else is the plain 404 page, whatever the reason, so nothing
    says the resource exists; every attempt on a real resource is recorded.

    A HEAD is answered as the GET would be, without the body. It sends no file, so an
    allowed one writes no Download row (it must not count as downloaded); a refused
    one is recorded like any refused attempt, its reason saying it was a HEAD."""
    begin_write()  # a GET that writes: the Download record
    head = request.method == "HEAD"
    decision = may_download(current_user, resource_id, clock.utcnow())
    resource = db.session.get(Resource, resource_id)
    file = resource and next(
        (f for f in resource.files if f.number == resource.current_version), None
    )
    if file is None:
        return _not_found()  # nothing to record a refusal against
    if decision.allowed and resource.is_deleted:
        decision_reason = "resource deleted"
    else:
        decision_reason = decision.reason
    record = dict(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        range_header=request.headers.get("Range"),
        release_id=decision.release_id,
    )

    def refused(reason: str) -> None:
        reason = f"{reason} (HEAD request)" if head else reason
        catalogue.record_download(file, current_user, **record, status="refused", reason=reason)

    if decision_reason:
        refused(decision_reason)
        return _not_found()
    try:
        response = send_stored(
            file.stored_name,
            media_type=file.media_type,
            name=file.original_name,
            sha256=file.sha256,
            as_attachment=True,
        )
    except HTTPException as unsatisfiable:  # 416: a Range outside the file
        refused(f"{unsatisfiable.code} {unsatisfiable.name}")
        # Answered, not raised, so that the refused attempt's record is committed.
        return unsatisfiable
    if response is None:
        refused("file missing from storage")
        message = (
            "The file of this resource is missing from the portal's storage. Please contact "
            "support, who can put it back."
        )
        return render_template(
            "errors/error.html", code=404, title="File missing", message=message
        ), 404
    if not head:
        status = "not-modified" if response.status_code == 304 else "sent"
        catalogue.record_download(file, current_user, **record, status=status)
    return response


def _not_found():
    """The same 404 page as any unknown address, answered rather than raised so that
    the refused attempt's record is committed."""
    title, message = MESSAGES[404]
    return render_template("errors/error.html", code=404, title=title, message=message), 404


@bp.route("/help")
@allow(*SIGNED_IN)
def help_document():
    """The current help document for the user's role, opened in the browser."""
    document = site.current_help(site.audience_of(current_user.role))
    response = document and send_stored(
        document.stored_name,
        media_type="application/pdf",
        name=document.original_name,
        sha256=document.sha256,
        as_attachment=False,
    )
    return response or abort(404)
