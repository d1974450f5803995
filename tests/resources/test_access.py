"""Who reaches Admin - TP: admins and resource producers; never a centre user. And
resource producers reach nothing of Admin."""

import io

import pytest
from flask import url_for

from app.resources import bp as resources_bp

ADMIN_ONLY = ["/admin/centres", "/admin/users", "/admin/email-templates", "/admin/help"]


def admin_tp_urls(app) -> list[tuple[str, str]]:
    """(method, url) of every route of the Admin - TP blueprint, with made-up ids."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith(f"{resources_bp.name}."):
                continue
            values = {arg: 1 if arg != "token" else "0" * 32 for arg in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                urls.append((method, url_for(rule.endpoint, **values)))
    return urls


def test_every_admin_tp_url_is_refused_to_a_centre_user(app, client, login_as):
    login_as("centre")
    urls = admin_tp_urls(app)
    assert len(urls) >= 12
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url)


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    for method, url in admin_tp_urls(app):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_resource_producers_cannot_reach_admin(client, login_as, url):
    login_as("tp")
    assert client.get(url).status_code == 403


def test_resource_producers_see_only_admin_tp_in_the_menu(client, login_as):
    login_as("tp")
    page = client.get("/").get_data(as_text=True)
    assert "Upload Resources - TP" in page and "Manage Resources - TP" in page
    assert "Manage Centres" not in page and "Help Document Upload" not in page


def test_a_centre_upload_by_a_centre_user_is_not_read(client, login_as, resource_dir):
    """Turned away before the body is read: nothing reaches the storage folder."""
    login_as("centre")
    response = client.post(
        "/resources/upload",
        data={"files": [(io.BytesIO(b"%PDF-1.7\n" * 1000), "a.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert not (resource_dir / "incoming").exists() or not list(
        (resource_dir / "incoming").iterdir()
    )
