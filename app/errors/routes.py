from flask import render_template, request

from app.errors import bp
from app.services.server_errors import recent_server_errors
from app.web.access import allow


@bp.route("/other")
@allow("admin")
def other():
    reference = request.args.get("reference", "")[:16]
    return render_template(
        "errors_section/other.html",
        reference=reference,
        server_errors=recent_server_errors(reference),
    )
