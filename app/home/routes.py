from flask import abort, current_app, render_template
from flask_login import current_user

from app.home import bp
from app.services import clock, site
from app.services.reports.dashboard import SIGN_IN_ACTIONS, admin_dashboard, open_error_counts
from app.web.access import SIGNED_IN, allow
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
    return render_template("home/centre.html", centre=current_user.centre)


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
