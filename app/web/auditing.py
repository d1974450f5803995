"""Tell the Event Logs who each request acts for, and from which address."""

from flask import Flask, request
from flask_login import current_user

from app.services.audit import clear_audit_context, set_audit_context


def _signed_in_user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def audit_requests(app: Flask) -> None:
    @app.before_request
    def set_context() -> None:
        set_audit_context(_signed_in_user, request.remote_addr)

    @app.teardown_request
    def clear_context(exc) -> None:
        clear_audit_context()
