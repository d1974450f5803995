from flask import render_template
from flask_login import current_user

from app.home import bp
from app.services import clock
from app.services.reports.dashboard import SIGN_IN_ACTIONS, admin_dashboard
from app.web.access import SIGNED_IN, allow


@bp.route("/")
@allow(*SIGNED_IN)
def index():
    if current_user.role == "admin":
        dashboard = admin_dashboard(now=clock.utcnow())
        return render_template("home/admin.html", dashboard=dashboard, how=SIGN_IN_ACTIONS)
    if current_user.role == "tp":
        return render_template("home/tp.html")
    return render_template("home/centre.html", centre=current_user.centre)
