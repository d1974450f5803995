"""Every route, every role: the access guard in front of the whole app.

The walk reads each endpoint's declared audience and checks it against what
each role actually gets, so a new route is covered the moment it is added.
"""

import logging

import pytest
from werkzeug.routing import Rule

from app.models import ROLES
from app.web.access import PUBLIC, access_of, allow

SAMPLE_VALUES = {
    "DatabaseIdConverter": 1,
    "UnicodeConverter": "sample",
    "PathConverter": "sample/path",
    "UUIDConverter": "00000000-0000-0000-0000-000000000000",
    "AnyConverter": "staff",  # /admin/help/<any(centre, staff):audience>
}


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def url_for_rule(rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = SAMPLE_VALUES[type(rule._converters[name]).__name__]
    return rule.build(values, append_unknown=False)[1]


def request(client, method, url, csrf_token):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": csrf_token(client, "/login")})


def test_every_endpoint_declares_who_may_use_it(app):
    with app.test_request_context():
        undeclared = sorted(
            {rule.endpoint for rule, _ in routes(app) if access_of(rule.endpoint) is None}
        )
    assert undeclared == []


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_gets_what_the_route_declares(app, role, login_as, client, csrf_token):
    if role is not None:
        login_as(role)
    checked = 0
    for rule, method in routes(app):
        with app.test_request_context():
            access = access_of(rule.endpoint)
        url = url_for_rule(rule)
        response = request(client, method, url, csrf_token)
        where = f"{method} {url} as {role or 'anonymous'}"
        assert response.status_code < 500, where
        if access == PUBLIC:
            assert response.status_code not in (401, 403), where
            assert not response.headers.get("Location", "").startswith("/login?next="), where
        elif role is None:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where
        elif role in access:
            assert response.status_code not in (401, 403), where
            assert not response.headers.get("Location", "").startswith("/login?next="), where
        else:
            assert response.status_code == 403, where
            assert "You do not have access to this page" in response.get_data(as_text=True)
        checked += 1
        if rule.endpoint == "auth.logout" and role is not None and method == "POST":
            login_as(role)  # signing out ended the session: sign in again for the rest
    assert checked >= 3


def test_anonymous_htmx_request_is_told_to_navigate_to_sign_in(client):
    response = client.get(
        "/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/?q=GB1"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/?q%3DGB1"
    assert response.get_data() == b""


def test_anonymous_boosted_request_gets_the_normal_redirect(client):
    response = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 302
    assert "HX-Redirect" not in response.headers


def test_wrong_role_gets_the_403_page_and_right_role_the_page(make_app, make_user, csrf_token):
    app = make_app()
    app.add_url_rule("/only-admins", "only_admins", allow("admin")(lambda: "admin things"))
    client = app.test_client()
    for role, status in (("centre", 403), ("tp", 403), ("admin", 200)):
        user = make_user(role)
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
        response = client.get("/only-admins")
        assert response.status_code == status, role
    assert response.get_data(as_text=True) == "admin things"


def test_a_route_without_a_declaration_is_closed_to_everyone(make_app, make_user, caplog):
    app = make_app()
    app.add_url_rule("/forgotten", "forgotten", lambda: "should not be seen")
    client = app.test_client()
    admin = make_user("admin")
    with client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    with caplog.at_level(logging.ERROR, logger="app.web.access"):
        response = client.get("/forgotten")
    assert response.status_code == 403
    assert "should not be seen" not in response.get_data(as_text=True)
    assert "endpoint forgotten declares no access rule" in caplog.text


def test_a_malformed_current_url_header_still_sends_to_sign_in(client):
    response = client.get(
        "/admin/centres", headers={"HX-Request": "true", "HX-Current-URL": "http://["}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
