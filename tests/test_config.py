"""Settings a live portal cannot run without are refused at start-up, with the fix."""

import pytest

from app.config import ConfigError


def test_production_refuses_to_start_without_a_mail_server(make_app):
    with pytest.raises(ConfigError, match="MAIL_SERVER is not set"):
        make_app(ENV_NAME="production")
    assert make_app(ENV_NAME="production", MAIL_SERVER="mail.example.org") is not None


def test_production_refuses_to_start_without_the_portal_address(make_app):
    with pytest.raises(ConfigError, match="PORTAL_BASE_URL is not set"):
        make_app(ENV_NAME="production", MAIL_SERVER="mail.example.org", PORTAL_BASE_URL="")


def test_development_prints_emails_and_links_to_the_local_server(make_app):
    app = make_app(ENV_NAME="development", MAIL_SERVER=None, PORTAL_BASE_URL="")
    assert app.config["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"
