"""Reports → Audit Reports: the releases, the report by release (totals, each filter,
paging, the not-downloaded list against a hand-built release) and its exports."""

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.models import (
    Authorisation,
    Centre,
    Download,
    Event,
    Release,
    ReleaseResource,
    Resource,
    ResourceFile,
)
from app.services.releases import figures
from app.services.reports import audit as reports
from app.web.access import allow

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # the clock fixture's moment
FORMULA_NAME = "=cmd|' /C calc'!A0"
HTMX = {"HX-Request": "true"}


def at(day: int, hour: int = 0, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


ROW_CENTRE = re.compile(r'<th scope="row"><a href="/admin/centres/\d+">([A-Z0-9]+)</a>')


def listed(response) -> list[str]:
    """The Centre Numbers in the report's table, in order."""
    assert response.status_code == 200
    return ROW_CENTRE.findall(response.get_data(as_text=True))


@dataclass
class Made:
    release: Release
    other: Release  # a second release, whose downloads must not count in the first
    centres: dict[str, Centre]
    users: dict[str, str]  # centre number → its user's email
    paper1: Resource  # replaced: version 2 is current
    paper2: Resource

    @property
    def url(self) -> str:
        return f"/reports/audit/releases/{self.release.id}"


def _file(db, resource: Resource, number: int) -> ResourceFile:
    file = ResourceFile(
        resource_id=resource.id,
        number=number,
        original_name=f"0580_s26_qp_{resource.component}_v{number}.pdf",
        stored_name=f"stored-{resource.id}-{number}",
        size=10,
        sha256=f"{resource.id:032d}{number:032d}",
        media_type="application/pdf",
    )
    db.session.add(file)
    db.session.flush()
    return file


def keep_figures(db, *releases) -> None:
    """What the release services do after changing authorisations or downloads: the
    rows here are made by hand."""
    for release in releases:
        figures.rebuild(release.id)
    db.session.commit()


@pytest.fixture
def made(db, make_centre, make_user, clock) -> Made:
    """A release of two papers to seven centres, at 08:00 UTC on 1 June 2026:

    | centre | window (UTC)    | sent under the release              | expected             |
    | DE001  | 20 May – 25 May | paper 1 v1 (replaced since)         | closed, replaced     |
    | FR001  | 31 May – 4 Jun  | paper 1 v1, then v2                 | open, downloaded     |
    | GB001  | 31 May – 4 Jun  | refused; paper 2; paper 1 v2 (2nd)  | open, downloaded, 2  |
    | GB002  | 2 Jun – 5 Jun   | nothing                             | not yet open         |
    | GB003  | 31 May – 4 Jun  | paper 1 v1, paper 2 (name =cmd…)    | open, replaced       |
    | IN001  | 31 May – 4 Jun  | refused, 304; sent in other release | open, NOT downloaded |
    | US001  | 20 May – 25 May | nothing                             | closed, NOT downl.   |
    """
    centres = {
        "DE001": make_centre(number="DE001", country="DE", timezone="Europe/Berlin", zone=3),
        "FR001": make_centre(number="FR001", country="FR", timezone="Europe/Paris", zone=3),
        "GB001": make_centre(number="GB001", name="London Academy"),
        "GB002": make_centre(number="GB002"),
        "GB003": make_centre(number="GB003", name=FORMULA_NAME),
        "IN001": make_centre(number="IN001", country="IN", timezone="Asia/Kolkata", zone=4),
        "US001": make_centre(number="US001", country="US", timezone="America/Chicago", zone=1),
        "ZA001": make_centre(number="ZA001", country="ZA", timezone="Africa/Johannesburg"),
    }
    users = {number: make_user("centre", centre=centre).email for number, centre in centres.items()}
    second_gb001 = make_user("centre", centre=centres["GB001"]).email
    db.session.rollback()
    paper1 = Resource(
        series="2026-06", syllabus="0580", component="21", kind="question-paper", title="Paper 21"
    )
    paper2 = Resource(
        series="2026-06", syllabus="0580", component="22", kind="question-paper", title="Paper 22"
    )
    db.session.add_all([paper1, paper2])
    db.session.flush()
    p1v1, p1v2, p2v1 = _file(db, paper1, 1), _file(db, paper1, 2), _file(db, paper2, 1)
    paper1.current_version = 2
    release = Release(series="2026-06", title="June papers", opens_days=3, opens_hours=0)
    other = Release(series="2026-06", title="Other papers", opens_days=3, opens_hours=0)
    db.session.add_all([release, other])
    db.session.flush()
    for resource in (paper1, paper2):
        db.session.add(ReleaseResource(release_id=release.id, resource_id=resource.id))
    windows = {
        "DE001": ((at(20, month=5), at(24, month=5)), (at(21, month=5), at(25, month=5))),
        "US001": ((at(20, month=5), at(24, month=5)), (at(21, month=5), at(25, month=5))),
        "GB002": ((at(2), at(4)), (at(3), at(5))),
    }
    open_now = ((at(31, 23, month=5), at(3, 12)), (at(1, 5), at(4, 12)))
    for number in ("DE001", "FR001", "GB001", "GB002", "GB003", "IN001", "US001"):
        for resource, (opens, closes) in zip(
            (paper1, paper2), windows.get(number, open_now), strict=True
        ):
            db.session.add(
                Authorisation(
                    release_id=release.id,
                    centre_id=centres[number].id,
                    resource_id=resource.id,
                    opens_at=opens,
                    closes_at=closes,
                )
            )
    for number in ("ZA001", "IN001"):
        db.session.add(
            Authorisation(
                release_id=other.id,
                centre_id=centres[number].id,
                resource_id=paper2.id,
                opens_at=open_now[1][0],
                closes_at=open_now[1][1],
            )
        )

    def download(number, file, moment, status="sent", release_id=release.id, email=None):
        db.session.add(
            Download(
                at=moment,
                centre_id=centres[number].id,
                user_email=email or users[number],
                resource_file_id=file.id,
                release_id=release_id,
                status=status,
                reason="window closed" if status == "refused" else None,
            )
        )

    download("DE001", p1v1, at(21, 9, month=5))
    download("FR001", p1v1, at(31, 23, 30, month=5))
    download("FR001", p1v2, at(1, 7, 30))
    download("GB001", p1v2, at(1, 6), status="refused")
    download("GB001", p2v1, at(1, 6, 30))
    download("GB001", p1v2, at(1, 7), email=second_gb001)
    download("GB003", p1v1, at(1, 6))
    download("GB003", p2v1, at(1, 7))
    download("IN001", p2v1, at(1, 6), status="refused")
    download("IN001", p2v1, at(1, 6, 5), status="not-modified")
    download("IN001", p2v1, at(1, 6, 1), release_id=other.id)
    download("ZA001", p2v1, at(1, 6), release_id=other.id)
    keep_figures(db, release, other)
    return Made(release, other, centres, users, paper1, paper2)


@pytest.fixture
def admin(login_as):
    return login_as("admin")


EVERY = ["DE001", "FR001", "GB001", "GB002", "GB003", "IN001", "US001"]


# ---------------------------------------------------------------------------
# Who may see it


@pytest.mark.parametrize("role", ["centre", "tp"])
def test_only_admins_see_audit_reports(client, login_as, made, role):
    login_as(role)
    assert client.get("/reports/audit").status_code == 403
    assert client.get(made.url).status_code == 403
    assert client.get(f"{made.url}/export?format=xlsx").status_code == 403


def test_signed_out_users_are_sent_to_sign_in(client, made):
    response = client.get(made.url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_unknown_release_or_format_is_not_found(client, admin, made):
    assert client.get("/reports/audit/releases/999999").status_code == 404
    assert client.get("/reports/audit/releases/99999999999999999999999").status_code == 404
    assert client.get("/reports/audit/releases/999999/export?format=csv").status_code == 404
    assert client.get(f"{made.url}/export?format=pdf").status_code == 404
    assert client.get(f"{made.url}/export").status_code == 404


def test_the_menu_links_audit_reports(client, admin):
    page = client.get("/reports/audit").get_data(as_text=True)
    assert '<a href="/reports/audit" aria-current="page">Audit Reports</a>' in page


# ---------------------------------------------------------------------------
# The landing page


def test_the_landing_page_lists_releases_with_how_many_downloaded(client, admin, made, db):
    db.session.add(Release(series="2025-11", title="November papers", opens_days=3, opens_hours=0))
    db.session.commit()
    page = text_of(client.get("/reports/audit"))
    assert "<h1>Audit reports</h1>" in page
    june, november = page.index("June 2026"), page.index("November 2025")
    assert june < november  # newest series first
    row = page.split(">June papers</a>", 1)[1].split("</tr>", 1)[0]
    assert "4 of 7 centres have downloaded" in row
    assert f'href="/reports/audit/releases/{made.release.id}"' in page
    other = page.split(">Other papers</a>", 1)[1].split("</tr>", 1)[0]
    # IN001's file was sent under the other release; ZA001's too.
    assert "2 of 2 centres have downloaded" in other
    november_row = page.split(">November papers</a>", 1)[1].split("</tr>", 1)[0]
    assert "No centre is authorised" in november_row


def test_the_landing_page_pages_its_releases(client, admin, db, monkeypatch):
    monkeypatch.setattr(reports, "RELEASES_PAGE_SIZE", 2)
    for n in range(1, 6):
        db.session.add(
            Release(
                series="2026-06",
                title=f"Release number {n}",
                opens_days=1,
                opens_hours=0,
                created_at=at(n, month=1),
            )
        )
    db.session.commit()
    first = text_of(client.get("/reports/audit"))
    assert "Release number 5" in first and "Release number 4" in first
    assert "Release number 3" not in first
    assert "Page 1 of 3" in first and 'href="/reports/audit?page=2"' in first
    fragment = text_of(
        client.get("/reports/audit?page=3", headers={**HTMX, "HX-Target": "audit-releases"})
    )
    assert "<h1>" not in fragment
    assert "Release number 1" in fragment and "Release number 2" not in fragment
    assert "Page 3 of 3" in fragment


def test_the_landing_page_says_when_there_are_no_releases(client, admin):
    page = text_of(client.get("/reports/audit"))
    assert "There are no releases yet, so nothing has been downloaded." in page


def _stub(view_name):
    def view():
        return "stub"

    view.__name__ = view_name
    return allow("admin")(view)


def test_links_to_the_other_reports_only_once_they_exist(make_app, db, make_user):
    user = make_user("admin")
    plain = make_app()
    if "reports.audit_centres" not in plain.view_functions:
        client = plain.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.session_token
        page = text_of(client.get("/reports/audit"))
        assert "By centre" not in page and "By resource" not in page
    built = make_app()
    for endpoint, path in (
        ("reports.audit_centres", "/reports/audit/centres"),
        ("reports.audit_resources", "/reports/audit/resources"),
    ):
        if endpoint not in built.view_functions:
            built.add_url_rule(path, endpoint=endpoint, view_func=_stub(endpoint))
    client = built.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
    page = text_of(client.get("/reports/audit"))
    assert '<a href="/reports/audit/centres">By centre</a>' in page
    assert '<a href="/reports/audit/resources">By resource</a>' in page


# ---------------------------------------------------------------------------
# By release: rows and totals


def test_the_release_page_links_its_audit_report(client, admin, made):
    page = client.get(f"/releases/{made.release.id}").get_data(as_text=True)
    assert f'<a href="{made.url}">Audit report</a>' in page


def test_every_centre_with_its_window_downloads_and_totals(client, admin, made):
    response = client.get(made.url)
    assert listed(response) == EVERY  # ZA001 is only in the other release
    page = text_of(response)
    assert "<h1>Audit report: June papers</h1>" in page
    assert "4 of 7 centres have downloaded." in page
    assert "Not downloaded: 2 (" in page
    assert "1 with the window open</a>, " in page and "1 with the window closed</a>)." in page
    assert "1 not yet open</a>, " in page and "4 open</a>, " in page and "2 closed</a>" in page
    assert "Downloaded a replaced version: " in page and "2 centres</a>." in page
    assert "7 centres." in page

    def row(number):
        return page.split(f">{number}</a>", 1)[1].split("</tr>", 1)[0]

    london = row("GB001")
    # The window: first opening, last closing, local and UTC.
    assert "01 Jun 2026 00:00 BST<br><small>31 May 2026 23:00 UTC</small>" in london
    assert "04 Jun 2026 13:00 BST<br><small>04 Jun 2026 12:00 UTC</small>" in london
    assert "<td>Open</td>" in london and "<td>2</td>" in london  # resources
    # The first file sent (the refused attempt before it does not count), by whom.
    assert "01 Jun 2026 07:30 BST<br><small>01 Jun 2026 06:30 UTC</small>" in london
    assert f"by {made.users['GB001']}" in london
    assert london.rstrip().endswith("<td>2</td>")  # downloads: two files sent
    kolkata = row("IN001")
    assert "01 Jun 2026 04:30 IST<br><small>31 May 2026 23:00 UTC</small>" in kolkata
    assert "<mark>Not downloaded</mark>" in kolkata
    assert "<mark>Not downloaded</mark>" in row("US001")
    assert "<td>Closed</td>" in row("US001")
    assert "None yet" in row("GB002") and "<td>Not yet open</td>" in row("GB002")
    assert "Downloaded a replaced version" in row("GB003")
    assert FORMULA_NAME in row("GB003")
    assert "Downloaded a replaced version" in row("DE001")  # v1 was current when sent
    assert "Downloaded a replaced version" not in row("FR001")  # v2 since
    assert "Downloaded a replaced version" not in london
    assert "Downloaded</dt>" in page and "nothing was sent" in page  # what counts, said


def test_the_not_downloaded_list_is_exactly_the_centres_without_a_download(client, admin, made):
    # Open or closed, nothing sent under this release: a refused attempt, a 304 and a
    # file sent under another release do not make IN001 downloaded; GB002 has not opened.
    assert listed(client.get(made.url, query_string={"downloaded": "no"})) == ["IN001", "US001"]
    page = text_of(client.get(made.url, query_string={"downloaded": "no"}))
    assert "2 centres that match these filters, of 7 in the release." in page
    assert "4 of 7 centres have downloaded." in page  # the totals stay whole


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"country": "GB"}, ["GB001", "GB002", "GB003"]),
        ({"country": "gb"}, ["GB001", "GB002", "GB003"]),
        ({"zone": "4"}, ["IN001"]),
        ({"zone": "3"}, ["DE001", "FR001", "GB001", "GB002", "GB003"]),
        ({"downloaded": "yes"}, ["DE001", "FR001", "GB001", "GB003"]),
        ({"downloaded": "no"}, ["IN001", "US001"]),
        ({"window": "not-yet"}, ["GB002"]),
        ({"window": "open"}, ["FR001", "GB001", "GB003", "IN001"]),
        ({"window": "closed"}, ["DE001", "US001"]),
        ({"replaced": "yes"}, ["DE001", "GB003"]),
        ({"downloaded": "no", "window": "open"}, ["IN001"]),
        ({"downloaded": "no", "window": "closed"}, ["US001"]),
        ({"country": "GB", "downloaded": "yes", "replaced": "yes"}, ["GB003"]),
        ({"country": "GB", "window": "closed"}, []),
    ],
)
def test_each_filter(client, admin, made, query, expected):
    response = client.get(made.url, query_string=query)
    assert listed(response) == expected
    page = text_of(response)
    if expected:
        count = len(expected)
        assert f"{count} centre{'' if count == 1 else 's'} that match these filters" in page
    else:
        assert "No centres of this release match these filters." in page


@pytest.mark.parametrize(
    "query",
    [
        {"country": "ZZ"},
        {"zone": "9"},
        {"zone": "x"},
        {"downloaded": "maybe"},
        {"window": "ajar"},
        {"replaced": "1"},
        {"page": "-3"},
        {"page": "lots"},
    ],
)
def test_unknown_filter_values_are_ignored(client, admin, made, query):
    response = client.get(made.url, query_string=query)
    assert listed(response) == EVERY
    assert "that match these filters" not in text_of(response)


def test_the_filter_form_offers_the_releases_countries_and_keeps_choices(client, admin, made):
    page = text_of(client.get(made.url, query_string={"country": "IN", "window": "open"}))
    form = page.split('id="audit-filters"', 1)[1].split("</form>", 1)[0]
    options = re.findall(r'<option value="([A-Z]{2})"', form.split('id="zone"')[0])
    assert options == ["GB", "FR", "DE", "IN", "US"]  # by name: Britain (UK), France...
    assert '<option value="IN" selected>India</option>' in form
    assert '<option value="open" selected>Open</option>' in form
    assert "South Africa" not in form  # only in the other release


def test_a_release_without_centres_says_so(client, admin, made, db):
    empty = Release(series="2026-06", title="Nobody", opens_days=1, opens_hours=0)
    db.session.add(empty)
    db.session.commit()
    page = text_of(client.get(f"/reports/audit/releases/{empty.id}"))
    assert "This release authorises no centre, so there is nothing to report." in page
    assert "<table" not in page


def test_a_cancelled_release_says_since_when(client, admin, made, db):
    made.release.cancelled_at = at(1, 7)
    db.session.commit()
    page = text_of(client.get(made.url))
    assert "This release was cancelled on 01 Jun 2026 07:00 UTC" in page
    assert "4 of 7 centres have downloaded." in page


def test_the_window_moves_on_with_the_clock(client, admin, made, clock):
    clock.set(at(2, 12))  # GB002 is open now, with nothing sent
    assert listed(client.get(made.url, query_string={"downloaded": "no"})) == [
        "GB002",
        "IN001",
        "US001",
    ]


# ---------------------------------------------------------------------------
# Paging, htmx, queries


def test_pages_keep_the_filters_and_htmx_gets_the_results_only(client, admin, made, monkeypatch):
    monkeypatch.setattr(reports, "PAGE_SIZE", 2)
    first = client.get(made.url, query_string={"window": "open"})
    assert listed(first) == ["FR001", "GB001"]
    page = text_of(first)
    assert "Showing 1–2 of 4 centres that match these filters, of 7 in the release." in page
    assert f'href="{made.url}?page=2&amp;window=open"' in first.get_data(as_text=True)
    second = client.get(
        made.url,
        query_string={"window": "open", "page": "2"},
        headers={**HTMX, "HX-Target": "audit-results"},
    )
    assert listed(second) == ["GB003", "IN001"]
    fragment = text_of(second)
    assert "<h1>" not in fragment and "Totals" not in fragment
    assert "Page 2 of 2" in fragment and 'rel="prev"' in fragment
    # A page past the end shows the last one.
    assert listed(client.get(made.url, query_string={"window": "open", "page": "9"})) == [
        "GB003",
        "IN001",
    ]


def test_one_statement_for_the_page_and_one_for_the_totals_however_many_rows(
    client, admin, made, db, make_centre, count_queries
):
    client.get(made.url)  # warm: the first request loads what every page caches
    with count_queries() as few:
        assert len(listed(client.get(made.url, query_string={"downloaded": "yes"}))) == 4
    more = [
        make_centre(number=f"KE{n:03d}", country="KE", timezone="Africa/Nairobi") for n in range(12)
    ]
    for centre in more:
        for resource in (made.paper1, made.paper2):
            db.session.add(
                Authorisation(
                    release_id=made.release.id,
                    centre_id=centre.id,
                    resource_id=resource.id,
                    opens_at=at(1, 1),
                    closes_at=at(3),
                )
            )
        db.session.add(
            Download(
                at=at(1, 2),
                centre_id=centre.id,
                user_email="ke@example.com",
                resource_file_id=made.paper2.files[0].id,
                release_id=made.release.id,
            )
        )
    keep_figures(db, made.release)
    with count_queries() as many:
        assert len(listed(client.get(made.url, query_string={"downloaded": "yes"}))) == 16
    assert len(many) == len(few)
    audit_statements = [s for s in many if "release_centre_figures" in s]
    assert len(audit_statements) == 2  # the totals, and the page


# ---------------------------------------------------------------------------
# Exports


def export(client, made, file_format, **query):
    response = client.get(f"{made.url}/export", query_string={"format": file_format, **query})
    assert response.status_code == 200
    return response


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()], sheet


def test_the_xlsx_export_has_every_row_not_just_the_page(client, admin, made, monkeypatch, db):
    monkeypatch.setattr(reports, "PAGE_SIZE", 2)
    response = export(client, made, "xlsx")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=audit-2026-06-release-{made.release.id}.xlsx"
    rows, sheet = xlsx_rows(response)
    assert rows[0][:5] == ["Centre Number", "Centre name", "Country", "Zone", "Time zone"]
    assert [row[0] for row in rows[1:]] == EVERY
    by_number = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    london = by_number["GB001"]
    assert london["Window opens (local)"] == "2026-06-01 00:00 BST"
    assert london["Window opens (UTC)"] == "2026-05-31 23:00"
    assert london["Window closes (local)"] == "2026-06-04 13:00 BST"
    assert london["Window closes (UTC)"] == "2026-06-04 12:00"
    assert london["Window"] == "Open"
    assert london["Resources authorised"] == "2"
    assert london["First download (UTC)"] == "2026-06-01 06:30"
    assert london["First download (local)"] == "2026-06-01 07:30 BST"
    assert london["First download by"] == made.users["GB001"]
    assert london["Downloads"] == "2"
    assert london["Downloaded"] == "Yes"
    assert london["Downloaded a replaced version"] is None
    assert by_number["IN001"]["Downloaded"] == "Not downloaded"
    assert by_number["IN001"]["Country"] == "India"
    assert by_number["GB002"]["Downloaded"] == "Window not yet open"
    assert by_number["GB003"]["Downloaded a replaced version"] == "Yes"
    assert by_number["DE001"]["Downloaded a replaced version"] == "Yes"
    assert by_number["FR001"]["Downloaded a replaced version"] is None  # v2 since
    # A centre name a spreadsheet would run as a formula stays text.
    assert by_number["GB003"]["Centre name"] == FORMULA_NAME
    gb003 = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "GB003")
    assert gb003[1].data_type == "s"
    event = db.session.scalars(select(Event).where(Event.action == "report.exported")).one()
    assert event.subject_type == "Release" and event.subject_id == made.release.id
    assert event.details == {
        "report": "audit by release",
        "format": "xlsx",
        "filters": {},
        "rows": 7,
    }


def test_the_csv_export_is_the_filtered_result(client, admin, made, db):
    response = export(client, made, "csv", downloaded="no")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "Centre Number" and len(rows[0]) == len(rows[1])
    assert [row[0] for row in rows[1:]] == ["IN001", "US001"]
    assert rows[2][9] == "Closed" and rows[2][15] == "Not downloaded"
    event = db.session.scalars(select(Event).where(Event.action == "report.exported")).one()
    assert event.details["filters"] == {"downloaded": "no"}
    assert event.details["rows"] == 2


def test_the_csv_export_quotes_a_formula_name(client, admin, made):
    response = export(client, made, "csv", replaced="yes", country="GB")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [row[:2] for row in rows[1:]] == [["GB003", "'" + FORMULA_NAME]]


def test_the_page_links_the_exports_of_what_it_shows(client, admin, made):
    page = client.get(made.url, query_string={"zone": "3", "downloaded": "yes"})
    body = page.get_data(as_text=True)
    assert f'href="{made.url}/export?format=xlsx&amp;zone=3&amp;downloaded=yes"' in body
    assert f'href="{made.url}/export?format=csv&amp;zone=3&amp;downloaded=yes"' in body
    assert "Download these 4 rows:" in body


def test_an_export_of_nothing_has_its_header_only(client, admin, made):
    response = export(client, made, "xlsx", country="GB", window="closed")
    rows, _ = xlsx_rows(response)
    assert len(rows) == 1 and rows[0][0] == "Centre Number"


def test_a_deleted_centre_keeps_its_row_marked(client, admin, made, db):
    made.centres["GB002"].deleted_at = at(1, 7)
    db.session.commit()
    page = text_of(client.get(made.url, query_string={"country": "GB"}))
    assert ">GB002</a> <mark>Deleted</mark>" in page
    rows, _ = xlsx_rows(export(client, made, "xlsx", country="GB"))
    deleted = {row[0]: row[-1] for row in rows[1:]}
    assert deleted == {"GB001": None, "GB002": "Yes", "GB003": None}


def test_an_export_reads_its_rows_in_one_statement_however_many(
    client, admin, made, db, make_centre, count_queries
):
    def statements():
        with count_queries() as seen:
            export(client, made, "csv")
        return [s for s in seen if "release_centre_figures" in s]

    assert len(statements()) == 1
    more = [make_centre(number=f"KE{n:03d}", country="KE") for n in range(5)]
    for centre in more:
        db.session.add(
            Authorisation(
                release_id=made.release.id,
                centre_id=centre.id,
                resource_id=made.paper1.id,
                opens_at=at(1, 1),
                closes_at=at(3),
            )
        )
    keep_figures(db, made.release)
    assert len(statements()) == 1
    rows = list(csv.reader(io.StringIO(export(client, made, "csv").get_data().decode("utf-8-sig"))))
    assert len(rows) == 1 + 7 + 5
