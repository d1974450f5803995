"""/healthz: a trivial page for load balancers and uptime checks (and the benchmarks' baseline)."""

from flask import Blueprint

from app.web.access import public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
