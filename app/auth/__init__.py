"""Signing in and out, activating an account, resetting a forgotten password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import accounts, routes  # noqa: E402, F401  (registers the routes on bp)
