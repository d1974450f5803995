"""The main menu: one definition, shown by role, a section only once its pages exist."""

import re

from flask import Blueprint

from app.web import menu
from app.web.access import allow
from app.web.menu import MENU


def menu_links(html: str) -> list[str]:
    nav = html.split('<nav class="main-menu"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r"<(?:a href=\"[^\"]*\"[^>]*|summary[^>]*)>([^<]+)</", nav)


def test_menu_is_one_definition_in_the_seed_order():
    assert [section.title for section in MENU] == [
        "Home",
        "Admin - TP",
        "Admin",
        "Releases",
        "Reports",
        "Key Times",
        "Errors",
    ]
    assert [p.title for p in MENU[2].pages] == [
        "Manage Centres",
        "E-mail Templates",
        "Users",
        "Help Document Upload",
    ]


def test_only_built_sections_and_pages_show(client, login_as):
    for role, expected in (
        (
            "admin",
            [
                "Home",
                "Admin - TP",
                "Upload Resources - TP",
                "Manage Resources - TP",
                "Admin",
                "Manage Centres",
                "E-mail Templates",
                "Users",
                "Help Document Upload",
                "Releases",
                "Release Resources",
                "Manage Releases",
                "Windows to Decide",
                "Reports",
                "Audit Reports",
                "Event Logs",
                "Key Times",
                "Key Times",
                "Timetable",
                "Upload Entries",
                "Errors",
                "Other Errors",
                "Entry Errors",
                "Key Time Errors",
            ],
        ),
        ("tp", ["Home", "Admin - TP", "Upload Resources - TP", "Manage Resources - TP"]),
        ("centre", ["Home"]),
    ):
        login_as(role)
        assert menu_links(client.get("/").get_data(as_text=True)) == expected, role


def test_no_menu_when_signed_out(client):
    assert '<nav class="main-menu"' not in client.get("/login").get_data(as_text=True)


def test_a_section_appears_for_its_roles_once_a_page_exists(make_app, make_user, monkeypatch):
    # Every section of the real menu has its pages now: a section still to come stands
    # in for one, with a page that gets built and one that never does.
    later = menu.Section(
        "Later",
        (
            menu.Page("Soon", "later.soon", menu.ADMIN),
            menu.Page("Never", "later.never", menu.ADMIN),
        ),
    )
    monkeypatch.setattr(menu, "MENU", (*menu.MENU, later))

    def links(app, role):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = make_user(role).session_token
        return menu_links(client.get("/").get_data(as_text=True))

    before = make_app()
    assert "Later" not in links(before, "admin")
    app = make_app()
    pages = Blueprint("later", __name__)
    pages.add_url_rule("/later/soon", "soon", allow("admin")(lambda: "soon"))
    app.register_blueprint(pages)
    assert links(app, "admin")[-2:] == ["Later", "Soon"]
    assert "Later" not in links(app, "tp")
    assert links(app, "centre") == ["Home"]


def test_current_page_is_marked(client, login_as):
    login_as("admin")
    assert '<a href="/" aria-current="page">Home</a>' in client.get("/").get_data(as_text=True)
