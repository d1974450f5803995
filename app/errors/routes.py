from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.errors import bp
from app.extensions import db
from app.models import OutboxMessage
from app.services.clock import utcnow
from app.services.email.outbox import retry, undelivered, waiting_count
from app.services.server_errors import recent_server_errors, store_spooled_errors
from app.web.access import allow
from app.web.errors import error_spool


@bp.route("/other")
@allow("admin")
def other():
    reference = request.args.get("reference", "")[:16]
    store_spooled_errors(error_spool(current_app))
    return render_template(
        "errors_section/other.html",
        reference=reference,
        emails=undelivered(),
        waiting=waiting_count(),
        now=utcnow(),
        server_errors=recent_server_errors(reference),
    )


@bp.route("/emails/<int:message_id>/retry", methods=["POST"])
@allow("admin")
def retry_email(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    to_address = message.to_address
    if retry(message_id) is None:
        flash(f"The email to {to_address} has been sent, or is being sent right now.", "info")
    else:
        flash(
            f"Sending the email to {to_address} again. Reload this page in a "
            "moment: it leaves the list once it is sent.",
            "success",
        )
    return redirect(url_for(".other"))
