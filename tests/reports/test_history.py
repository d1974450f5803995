"""Audit Reports by centre and by resource: what each page lists, its filters and
pages, its exports, and who may see it."""

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from app.models import Download, Event, Resource, ResourceFile
from app.services.releases import figures
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES, centres, paper  # noqa: F401  (fixtures used below)

FORMULA = "=cmd|' /C calc'!A0"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def cells(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def rows_of(response) -> list[list[str]]:
    """The results table's rows, each a list of its cells' text."""
    page = text_of(response)
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [
        [cells(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def moment(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6 if day < 20 else 5, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    release_id: int
    paper: Resource
    formula: Resource
    v1: ResourceFile
    v2: ResourceFile
    formula_file: ResourceFile
    london: object
    kolkata: object
    chicago: object


def _file(db, resource, number, name, sha):
    file = ResourceFile(
        resource_id=resource.id,
        number=number,
        original_name=name,
        stored_name=f"stored-{resource.id}-{number}",
        size=100,
        sha256=sha * 32,
        media_type="application/pdf",
    )
    db.session.add(file)
    db.session.flush()
    return file


def add_download(db, file, centre, at, user=None, **values) -> Download:
    download = Download(
        resource_file_id=file.id,
        centre_id=centre.id if centre is not None else None,
        at=at,
        user_id=user.id if user is not None else None,
        user_email=values.pop("user_email", user.email if user is not None else None),
        **values,
    )
    db.session.add(download)
    if download.release_id is not None and download.centre_id is not None:
        figures.rebuild(download.release_id, [download.centre_id])  # made by hand
    db.session.commit()
    return download


@pytest.fixture
def world(db, paper, centres):  # noqa: F811
    """Paper 22 in two versions (the second current), released to London, Kolkata and
    Chicago; and an insert titled like a formula, released to nobody."""
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    release = save_release(plan, title="June papers", actor_id=None)
    v1 = _file(db, paper, 1, "0580_s26_qp_22_old.pdf", "a1")
    v2 = _file(db, paper, 2, "0580_s26_qp_22.pdf", "b2")
    db.session.get(Resource, paper.id).current_version = 2
    formula = Resource(series=SERIES, syllabus="0580", component="21", kind="insert", title=FORMULA)
    db.session.add(formula)
    db.session.flush()
    formula_file = _file(db, formula, 1, "+insert.pdf", "c3")
    db.session.commit()
    return World(
        release.id,
        db.session.get(Resource, paper.id),
        formula,
        v1,
        v2,
        formula_file,
        centres["london"],
        centres["kolkata"],
        centres["chicago"],
    )


@pytest.fixture
def london_downloads(db, world, make_user):
    """Four attempts by London's users, one by Kolkata's and one by staff."""
    officer = make_user("centre", centre=world.london, email="officer@gb001.example")
    kolkata = make_user("centre", centre=world.kolkata, email="officer@in001.example")
    staff = make_user("tp", email="producer@board.example")
    add_download(
        db,
        world.v2,
        world.london,
        moment(1, 7),
        officer,
        release_id=world.release_id,
        status="refused",
        reason="too early",
        ip="203.0.113.5",
    )
    add_download(
        db,
        world.v1,
        world.london,
        moment(1, 8, 30),
        officer,
        release_id=world.release_id,
        ip="203.0.113.5",
    )
    # Its user was deleted since: the email the download was made with is kept.
    add_download(
        db,
        world.v2,
        world.london,
        moment(1, 9),
        user_email="former@gb001.example",
        release_id=world.release_id,
        ip="203.0.113.6",
        range="bytes=0-99",
    )
    add_download(
        db,
        world.formula_file,
        world.london,
        moment(1, 10),
        officer,
        status="refused",
        reason="not authorised",
        ip="203.0.113.5",
    )
    add_download(db, world.v2, world.kolkata, moment(1, 4), kolkata, release_id=world.release_id)
    add_download(db, world.v1, None, moment(25, 12), staff, ip="198.51.100.1")
    return officer


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def centre_url(centre, **args) -> str:
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return f"/reports/audit/centres/{centre.id}" + (f"?{query}" if query else "")


def resource_url(resource, **args) -> str:
    query = "&".join(f"{name}={value}" for name, value in args.items())
    return f"/reports/audit/resources/{resource.id}" + (f"?{query}" if query else "")


# ---------------------------------------------------------------------------
# Finding a centre


def test_a_centre_number_leads_to_its_report(client, admin, world):
    page = text_of(client.get("/reports/audit/centres"))
    assert '<label for="number">Centre Number</label>' in page
    response = client.get("/reports/audit/centres?number=+gb001+")
    assert response.status_code == 302
    assert response.headers["Location"] == centre_url(world.london)


def test_an_unknown_centre_number_is_said_on_the_page(client, admin, world):
    response = client.get("/reports/audit/centres?number=ZZ999")
    assert response.status_code == 200
    page = text_of(response)
    assert "No centre has the number “ZZ999”, deleted or not." in page
    assert 'value="ZZ999"' in page and 'aria-invalid="true"' in page
    assert "Enter a Centre Number" in text_of(client.get("/reports/audit/centres?number=+"))


def test_a_deleted_centre_is_found_and_reported(client, admin, world, london_downloads, db):
    world.london.deleted_at = moment(2, 12)
    db.session.add(world.london)
    db.session.commit()
    response = client.get("/reports/audit/centres?number=GB001")
    assert response.headers["Location"] == centre_url(world.london)
    page = text_of(client.get(centre_url(world.london)))
    assert "This centre was deleted on 02 Jun 2026 12:00 UTC" in page
    assert len(rows_of(client.get(centre_url(world.london)))) == 4


# ---------------------------------------------------------------------------
# By centre


def test_the_centre_report_lists_every_attempt_newest_first(client, admin, world, london_downloads):
    response = client.get(centre_url(world.london))
    page = text_of(response)
    assert "<h1>Downloads by GB001 – " in page
    assert "every attempt that was refused, with the reason" in page
    assert "4 attempts." in page
    assert rows_of(response) == [
        [
            "01 Jun 2026 11:00 BST 01 Jun 2026 10:00 UTC",
            f"{FORMULA} June 2026 · 0580/21 · Insert",
            "1",
            "+insert.pdf",
            "officer@gb001.example",
            "203.0.113.5",
            "Refused: not authorised",
            "None",
        ],
        [
            "01 Jun 2026 10:00 BST 01 Jun 2026 09:00 UTC",
            "Paper 22 June 2026 · 0580/22 · Question paper",
            "2",
            "0580_s26_qp_22.pdf",
            "former@gb001.example",
            "203.0.113.6",
            "Sent (part: bytes=0-99)",
            "June papers",
        ],
        [
            "01 Jun 2026 09:30 BST 01 Jun 2026 08:30 UTC",
            "Paper 22 June 2026 · 0580/22 · Question paper",
            "1 (replaced)",
            "0580_s26_qp_22_old.pdf",
            "officer@gb001.example",
            "203.0.113.5",
            "Sent",
            "June papers",
        ],
        [
            "01 Jun 2026 08:00 BST 01 Jun 2026 07:00 UTC",
            "Paper 22 June 2026 · 0580/22 · Question paper",
            "2",
            "0580_s26_qp_22.pdf",
            "officer@gb001.example",
            "203.0.113.5",
            "Refused: too early",
            "June papers",
        ],
    ]
    # The resource links to its own report; the release to its page.
    assert f'href="{resource_url(world.paper)}"' in page
    assert f'href="/releases/{world.release_id}"' in page


def test_the_centre_report_shows_local_times_in_the_centres_zone(
    client, admin, world, london_downloads
):
    rows = rows_of(client.get(centre_url(world.kolkata)))
    assert rows[0][0] == "01 Jun 2026 09:30 IST 01 Jun 2026 04:00 UTC"


def test_the_centre_report_filters_by_status(client, admin, world, london_downloads):
    refused = rows_of(client.get(centre_url(world.london, status="refused")))
    assert [row[6] for row in refused] == ["Refused: not authorised", "Refused: too early"]
    page = text_of(client.get(centre_url(world.london, status="refused")))
    assert "2 matching attempts." in page
    assert '<option value="refused" selected>' in page
    sent = rows_of(client.get(centre_url(world.london, status="sent")))
    assert [row[3] for row in sent] == ["0580_s26_qp_22.pdf", "0580_s26_qp_22_old.pdf"]
    assert "No attempts by GB001's users match these filters." in text_of(
        client.get(centre_url(world.london, status="not-modified"))
    )


def test_the_centre_report_filters_by_release(client, admin, world, london_downloads):
    page = text_of(client.get(centre_url(world.london)))
    assert (
        f'<option value="{world.release_id}">June papers (June 2026) – 3 attempts</option>' in page
    )
    assert '<option value="none">No release (not authorised) – 1 attempt</option>' in page
    under = rows_of(client.get(centre_url(world.london, release=world.release_id)))
    assert [row[7] for row in under] == ["June papers"] * 3
    outside = rows_of(client.get(centre_url(world.london, release="none")))
    assert [row[6] for row in outside] == ["Refused: not authorised"]
    both = rows_of(client.get(centre_url(world.london, release=world.release_id, status="refused")))
    assert [row[6] for row in both] == ["Refused: too early"]


@pytest.mark.parametrize(
    "query", ["status=bogus", "release=99999", "release=abc", "page=-3", "page=999999999999"]
)
def test_unknown_filter_values_are_ignored(client, admin, world, london_downloads, query):
    response = client.get(centre_url(world.london) + "?" + query)
    assert response.status_code == 200
    assert len(rows_of(response)) == 4


def test_a_centre_without_downloads_says_so(client, admin, world):
    page = text_of(client.get(centre_url(world.chicago)))
    assert "US001's users have not downloaded anything yet, nor tried to." in page
    assert "Export" not in page


def test_unknown_centres_are_404(client, admin):
    assert client.get("/reports/audit/centres/99999").status_code == 404
    assert client.get("/reports/audit/centres/99999999999999999999999").status_code == 404


def many_downloads(db, world, count: int, centre=None) -> None:
    """`count` sent downloads of version 2 by `centre` (London), a minute apart."""
    centre = centre or world.london
    db.session.execute(
        insert(Download),
        [
            {
                "resource_file_id": world.v2.id,
                "centre_id": centre.id,
                "release_id": world.release_id,
                "at": moment(2, 0, 0).replace(hour=n // 60, minute=n % 60),
                "user_email": f"user{n}@gb001.example",
                "status": "sent",
            }
            for n in range(count)
        ],
    )
    figures.rebuild(world.release_id, [centre.id])  # made by hand: worked out afresh
    db.session.commit()


def test_the_centre_report_is_paged_with_its_filters(client, admin, world, db):
    many_downloads(db, world, 60)
    first = client.get(centre_url(world.london, status="sent"))
    page = text_of(first)
    assert "Showing 1–50 of 60 matching attempts." in page
    assert len(rows_of(first)) == 50
    next_url = centre_url(world.london, page=2, status="sent")
    assert f'href="{next_url}" rel="next" hx-get="{next_url}"' in html.unescape(page)
    second = client.get(next_url)
    assert "Showing 51–60 of 60 matching attempts." in text_of(second)
    assert [row[4] for row in rows_of(second)][-1] == "user0@gb001.example"  # the oldest
    # Beyond the last page: the last page.
    assert "Showing 51–60" in text_of(client.get(centre_url(world.london, page=7)))


def test_htmx_gets_only_the_results(client, admin, world, london_downloads):
    response = client.get(
        centre_url(world.london, status="sent"),
        headers={"HX-Request": "true", "HX-Target": "centre-downloads"},
    )
    page = text_of(response)
    assert "<html" not in page and "<h1>" not in page
    assert len(rows_of(response)) == 2


def test_a_centre_page_is_the_same_few_queries_however_many_rows(
    client, admin, world, db, count_queries
):
    many_downloads(db, world, 1)
    with count_queries() as one:
        client.get(centre_url(world.london))
    many_downloads(db, world, 40)
    with count_queries() as many:
        response = client.get(centre_url(world.london))
    assert len(rows_of(response)) == 41
    assert len(many) == len(one)
    downloads = [s for s in many if "FROM downloads" in s]
    assert len(downloads) == 3  # the count, the page, the releases filter


# ---------------------------------------------------------------------------
# Exports


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()], sheet


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_centre_report_exports_to_xlsx_with_formulas_as_text(
    client, admin, world, london_downloads, db
):
    response = client.get(centre_url(world.london, format="xlsx"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=downloads-GB001.xlsx"
    rows, sheet = xlsx_rows(response)
    assert rows[0][:3] == ["When (UTC)", "When (centre's local time)", "Series"]
    assert rows[1] == [
        "2026-06-01 10:00:00",
        "2026-06-01 11:00:00 BST",
        SERIES,
        "0580",
        "21",
        "Insert",
        FORMULA,
        "1",
        "1",
        "+insert.pdf",
        "c3" * 32,
        "officer@gb001.example",
        "203.0.113.5",
        "Refused",
        "not authorised",
        None,
        None,
        None,
    ]
    assert sheet["G2"].data_type == "s"  # the title is text, never a formula
    assert [row[7] for row in rows[1:]] == ["1", "2", "1", "2"]
    assert rows[2][15:17] == ["June papers", "bytes=0-99"]
    event = db.session.scalars(select(Event).where(Event.action == "report.exported")).one()
    assert event.actor_email == admin.email
    assert event.subject_type == "Centre" and event.subject_id == world.london.id
    assert event.details == {
        "report": "downloads by centre",
        "centre": "GB001",
        "filters": {},
        "format": "xlsx",
        "rows": 4,
    }


def test_the_centre_export_is_the_whole_filtered_result(client, admin, world, db):
    many_downloads(db, world, 70)
    response = client.get(centre_url(world.london, format="csv", status="sent"))
    assert response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert len(rows) == 71  # the header and every row, not only the first page
    assert rows[1][0] == "2026-06-02 01:09:00" and rows[-1][0] == "2026-06-02 00:00:00"
    event = db.session.scalars(select(Event).where(Event.action == "report.exported")).one()
    assert event.details["filters"] == {"status": "sent"}
    assert event.details["rows"] == 70 and event.details["format"] == "csv"


def test_the_csv_export_keeps_formulas_as_text(client, admin, world, london_downloads):
    rows = csv_rows(client.get(centre_url(world.london, format="csv", release="none")))
    assert len(rows) == 2
    assert rows[1][6] == "'" + FORMULA
    assert rows[1][9] == "'+insert.pdf"


def test_an_unknown_format_shows_the_page(client, admin, world, london_downloads, db):
    response = client.get(centre_url(world.london, format="pdf"))
    assert response.mimetype == "text/html"
    assert db.session.scalars(select(Event).where(Event.action == "report.exported")).all() == []


# ---------------------------------------------------------------------------
# By resource


def test_the_resource_chooser_lists_a_series_resources(client, admin, world, db):
    db.session.add(
        Resource(series="2025-11", syllabus="9709", component="12", kind="other", title="Old")
    )
    world.formula.deleted_at = moment(3, 9)
    db.session.add(world.formula)
    db.session.commit()
    response = client.get("/reports/audit/resources")
    page = text_of(response)
    assert '<option value="2026-06" selected>June 2026</option>' in page  # the newest
    assert rows_of(response) == [
        [f"{FORMULA} Deleted", "0580/21", "Insert", "1", "0"],
        ["Paper 22", "0580/22", "Question paper", "2", "0"],
    ]
    assert f'href="{resource_url(world.paper)}"' in page
    older = rows_of(client.get("/reports/audit/resources?series=2025-11"))
    assert older == [["Old", "9709/12", "Other", "0", "0"]]
    assert len(rows_of(client.get("/reports/audit/resources?series=bogus"))) == 2


def test_the_resource_chooser_filters_by_syllabus(client, admin, world, db):
    db.session.add(
        Resource(series=SERIES, syllabus="9709", component="12", kind="other", title="Maths")
    )
    db.session.commit()
    assert [r[0] for r in rows_of(client.get("/reports/audit/resources?syllabus=97"))] == ["Maths"]
    assert "No resource of June 2026 has a syllabus code starting 1234." in text_of(
        client.get("/reports/audit/resources?syllabus=1234")
    )
    response = client.get("/reports/audit/resources?syllabus=ab")
    assert "A syllabus code is four digits" in text_of(response)
    assert len(rows_of(response)) == 3  # not narrowed


def test_the_resource_chooser_counts_sent_downloads(client, admin, world, london_downloads):
    rows = rows_of(client.get("/reports/audit/resources"))
    assert rows[1] == ["Paper 22", "0580/22", "Question paper", "2", "4"]


def test_the_resource_chooser_is_paged(client, admin, world, db):
    db.session.execute(
        insert(Resource),
        [
            {
                "series": SERIES,
                "syllabus": "9709",
                "component": f"{n:02d}",
                "kind": "other",
                "title": f"Maths {n:02d}",
            }
            for n in range(60)
        ],
    )
    db.session.commit()
    page = text_of(client.get("/reports/audit/resources?syllabus=9709"))
    assert "Showing 1–50 of 60 resources of June 2026 whose syllabus starts 9709." in page
    second = client.get("/reports/audit/resources?page=2&series=2026-06&syllabus=9709")
    assert [row[0] for row in rows_of(second)][-1] == "Maths 59"
    assert "/reports/audit/resources?page=1&series=2026-06&syllabus=9709" in text_of(second)


def test_no_resources_at_all(client, admin):
    page = text_of(client.get("/reports/audit/resources"))
    assert "There are no resources yet, so nothing has been downloaded." in page


def test_the_resource_report_lists_every_download_of_each_version(
    client, admin, world, london_downloads
):
    response = client.get(resource_url(world.paper))
    page = text_of(response)
    assert "<h1>Downloads of Paper 22</h1>" in page
    assert "5 attempts." in page
    assert rows_of(response) == [
        [
            "01 Jun 2026 10:00 BST 01 Jun 2026 09:00 UTC",
            "2",
            "0580_s26_qp_22.pdf",
            "b2b2b2b2b2b2",
            "GB001",
            "former@gb001.example",
            "203.0.113.6",
            "Sent (part: bytes=0-99)",
        ],
        [
            "01 Jun 2026 09:30 BST 01 Jun 2026 08:30 UTC",
            "1 (replaced)",
            "0580_s26_qp_22_old.pdf",
            "a1a1a1a1a1a1",
            "GB001",
            "officer@gb001.example",
            "203.0.113.5",
            "Sent",
        ],
        [
            "01 Jun 2026 08:00 BST 01 Jun 2026 07:00 UTC",
            "2",
            "0580_s26_qp_22.pdf",
            "b2b2b2b2b2b2",
            "GB001",
            "officer@gb001.example",
            "203.0.113.5",
            "Refused: too early",
        ],
        [
            "01 Jun 2026 09:30 IST 01 Jun 2026 04:00 UTC",
            "2",
            "0580_s26_qp_22.pdf",
            "b2b2b2b2b2b2",
            "IN001",
            "officer@in001.example",
            "",
            "Sent",
        ],
        [
            "25 May 2026 12:00 UTC",
            "1 (replaced)",
            "0580_s26_qp_22_old.pdf",
            "a1a1a1a1a1a1",
            "Staff",
            "producer@board.example",
            "198.51.100.1",
            "Sent",
        ],
    ]
    assert f'href="{centre_url(world.london)}"' in page  # its by-centre report


def test_the_resource_report_filters_by_version_and_status(client, admin, world, london_downloads):
    v1 = rows_of(client.get(resource_url(world.paper, version=1)))
    assert [row[4] for row in v1] == ["GB001", "Staff"]
    page = text_of(client.get(resource_url(world.paper, version=1)))
    assert '<option value="1" selected>Version 1 – 0580_s26_qp_22_old.pdf</option>' in page
    refused = rows_of(client.get(resource_url(world.paper, status="refused")))
    assert [row[7] for row in refused] == ["Refused: too early"]
    none = text_of(client.get(resource_url(world.paper, version=1, status="refused")))
    assert "No attempts to download version 1 of this resource match these filters." in none
    # A version it does not have, or not a number: every version.
    assert len(rows_of(client.get(resource_url(world.paper, version=3)))) == 5
    assert len(rows_of(client.get(resource_url(world.paper, version="x")))) == 5


def test_a_resource_never_downloaded_says_so(client, admin, world):
    page = text_of(client.get(resource_url(world.formula)))
    assert "Nobody has downloaded this resource yet, nor tried to." in page


def test_a_deleted_resource_is_still_reported(client, admin, world, london_downloads, db):
    world.formula.deleted_at = moment(3, 9)
    db.session.add(world.formula)
    db.session.commit()
    response = client.get(resource_url(world.formula))
    assert "This resource was deleted on 03 Jun 2026 09:00 UTC" in text_of(response)
    assert len(rows_of(response)) == 1


def test_unknown_resources_are_404(client, admin):
    assert client.get("/reports/audit/resources/99999").status_code == 404


def test_the_resource_report_is_paged(client, admin, world, db):
    many_downloads(db, world, 55)
    page = text_of(client.get(resource_url(world.paper)))
    assert "Showing 1–50 of 55 attempts." in page
    assert len(rows_of(client.get(resource_url(world.paper, page=2)))) == 5


def test_a_resource_page_is_the_same_few_queries_however_many_rows(
    client, admin, world, db, count_queries
):
    many_downloads(db, world, 1)
    with count_queries() as one:
        client.get(resource_url(world.paper))
    many_downloads(db, world, 30, centre=world.kolkata)
    with count_queries() as many:
        response = client.get(resource_url(world.paper))
    assert len(rows_of(response)) == 31
    assert len(many) == len(one)
    assert len([s for s in many if "FROM downloads" in s]) == 2  # the count and the page


def test_the_resource_report_exports(client, admin, world, london_downloads, db):
    response = client.get(resource_url(world.formula, format="xlsx"))
    rows, sheet = xlsx_rows(response)
    assert rows[0][6] == "Centre Number"
    assert rows[1][:9] == [
        "2026-06-01 10:00:00",
        "2026-06-01 11:00:00 BST",
        "1",
        "1",
        "+insert.pdf",
        "c3" * 32,
        "GB001",
        "Europe/London",
        "officer@gb001.example",
    ]
    assert sheet["E2"].data_type == "s"
    staff = csv_rows(client.get(resource_url(world.paper, format="csv", version=1)))
    assert [row[6] for row in staff[1:]] == ["GB001", "Staff"]
    assert staff[2][1] == ""  # no local time for staff
    events = db.session.scalars(
        select(Event).where(Event.action == "report.exported").order_by(Event.id)
    ).all()
    assert [e.details["report"] for e in events] == ["downloads by resource"] * 2
    assert events[0].details["resource"] == f"2026-06 0580/21 insert: {FORMULA}"
    assert events[1].details["filters"] == {"version": 1}
    assert events[1].subject_type == "Resource" and events[1].subject_id == world.paper.id


# ---------------------------------------------------------------------------
# Who may see them, and the links to them


@pytest.mark.parametrize("role", ["tp", "centre"])
def test_only_admins_see_the_reports(client, login_as, world, role):
    login_as(role)
    for url in (
        "/reports/audit/centres",
        "/reports/audit/centres?number=GB001",
        centre_url(world.london),
        centre_url(world.london, format="csv"),
        "/reports/audit/resources",
        resource_url(world.paper),
        resource_url(world.paper, format="xlsx"),
    ):
        assert client.get(url).status_code == 403, url


def test_signed_out_users_are_sent_to_sign_in(client, world):
    response = client.get(centre_url(world.london))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_centre_and_resource_pages_link_to_the_reports(client, admin, world):
    centre_page = text_of(client.get(f"/admin/centres/{world.london.id}"))
    assert f'<a href="{centre_url(world.london)}">Downloads by this centre</a>' in centre_page
    resource_page = text_of(client.get(f"/resources/{world.paper.id}"))
    assert f'<a href="{resource_url(world.paper)}">Every download of every version</a>' in (
        resource_page
    )
    listing = text_of(client.get("/resources/"))
    assert f'<a href="{resource_url(world.paper)}">Downloads' in listing


def test_producers_are_not_offered_the_admin_reports(client, login_as, world):
    login_as("tp")
    assert "/reports/audit/resources/" not in text_of(client.get(f"/resources/{world.paper.id}"))
    assert "/reports/audit/resources/" not in text_of(client.get("/resources/"))
