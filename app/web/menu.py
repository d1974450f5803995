"""The main menu, defined once as data and rendered for the signed-in user's role.

Pages whose endpoint is not built yet are left out, and a section with no pages
left is not shown, so a section appears on its own once its first page exists.
"""

from dataclasses import dataclass

from flask import current_app, request, url_for

ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "tp"})
EVERYONE = frozenset({"admin", "tp", "centre"})


@dataclass(frozen=True)
class Page:
    title: str
    endpoint: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Section:
    title: str
    pages: tuple[Page, ...]


MENU: tuple[Section, ...] = (
    Section("Home", (Page("Home", "home.index", EVERYONE),)),
    Section(
        "Admin - TP",
        (
            Page("Upload Resources - TP", "resources.upload", STAFF),
            Page("Manage Resources - TP", "resources.manage", STAFF),
        ),
    ),
    Section(
        "Admin",
        (
            Page("Manage Centres", "admin.centres", ADMIN),
            Page("E-mail Templates", "admin.email_templates", ADMIN),
            Page("Users", "admin.users", ADMIN),
            Page("Help Document Upload", "admin.help_upload", ADMIN),
        ),
    ),
    Section(
        "Releases",
        (
            Page("Release Resources", "releases.create", ADMIN),
            Page("Manage Releases", "releases.manage", ADMIN),
            Page("Windows to Decide", "releases.decide_list", ADMIN),
        ),
    ),
    Section(
        "Reports",
        (
            Page("Audit Reports", "reports.audit", ADMIN),
            Page("Event Logs", "reports.events", ADMIN),
        ),
    ),
    Section(
        "Key Times",
        (
            Page("Key Times", "key_times.index", ADMIN),
            Page("Timetable", "key_times.timetable", ADMIN),
            Page("Upload Entries", "key_times.entries_upload", ADMIN),
        ),
    ),
    Section(
        "Errors",
        (
            Page("Other Errors", "errors.other", ADMIN),
            Page("Entry Errors", "errors.entries", ADMIN),
            Page("Key Time Errors", "errors.key_times", ADMIN),
        ),
    ),
)


@dataclass(frozen=True)
class MenuItem:
    title: str
    url: str | None  # a section with one page links straight to it
    current: bool
    pages: tuple[tuple[str, str, bool, int], ...]  # (title, url, current, open count)
    count: int = 0  # the open counts of its pages, added up


def menu_for(role: str | None, counts: dict[str, int] | None = None) -> list[MenuItem]:
    """The sections and pages this role may see, with the current page marked, and
    beside a page the number of open items it lists (`counts`: endpoint → number)."""
    if role is None:
        return []
    counts = counts or {}
    items = []
    for section in MENU:
        pages = tuple(
            (
                page.title,
                url_for(page.endpoint),
                request.endpoint == page.endpoint,
                counts.get(page.endpoint, 0),
            )
            for page in section.pages
            if role in page.roles and page.endpoint in current_app.view_functions
        )
        if not pages:
            continue
        current = any(page[2] for page in pages)
        total = sum(page[3] for page in pages)
        if len(section.pages) == 1:
            items.append(MenuItem(section.title, pages[0][1], current, (), total))
        else:
            items.append(MenuItem(section.title, None, current, pages, total))
    return items
