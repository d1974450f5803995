from flask import abort, flash, redirect, render_template, request, url_for

from app.errors import bp
from app.extensions import db
from app.models import OutboxMessage
from app.services.outbox import retry, undelivered
from app.services.server_errors import recent_server_errors
from app.web.access import allow


@bp.route("/other")
@allow("admin")
def other():
    reference = request.args.get("reference", "")[:16]
    return render_template(
        "errors_section/other.html",
        reference=reference,
        emails=undelivered(),
        server_errors=recent_server_errors(reference),
    )


@bp.route("/emails/<int:message_id>/retry", methods=["POST"])
@allow("admin")
def retry_email(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if message.status == "sent":
        flash(f"The email to {message.to_address} has already been sent.", "info")
    else:
        retry(message)
        db.session.commit()
        flash(
            f"Sending the email to {message.to_address} again. Reload this page in a "
            "moment: it leaves the list once it is sent.",
            "success",
        )
    return redirect(url_for(".other"))
