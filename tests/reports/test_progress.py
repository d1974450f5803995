"""A release's progress chart: centres whose window had opened, and centres that had
downloaded, over time; the SVG and the table of its numbers."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from defusedxml import ElementTree
from sqlalchemy import delete, insert, select

from app.models import Authorisation, Centre, Download, Release
from app.services.releases import figures
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from app.services.reports.progress import MAX_STEPS, release_progress
from tests.releases.conftest import (  # noqa: F401  (fixtures used below)
    SERIES,
    centres,
    paper,
    paper_file,
)

SVG = "{http://www.w3.org/2000/svg}"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def release(db, paper, centres):  # noqa: F811
    """Paper 22 released to London, Kolkata and Chicago, opening 3 days before the
    exam's 09:00 key time: Kolkata at 03:30 UTC on 1 June, London at 08:00, Chicago at
    14:00; closing 24 hours after the exam's end (Chicago last, 5 June 15:30 UTC)."""
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    made = save_release(plan, title="June papers", actor_id=None)
    db.session.commit()
    return made


@pytest.fixture
def downloads(db, release, paper, centres):  # noqa: F811
    """Kolkata downloads at 04:00 (after a refused try at 03:00); London at 09:15 and
    again at 10:00 (a second download, not a second centre), and Chicago at 15:00."""
    file = paper_file(db, paper)
    for centre, moment, status in (
        ("kolkata", at(1, 3), "refused"),
        ("kolkata", at(1, 4), "sent"),
        ("london", at(1, 9, 15), "sent"),
        ("london", at(1, 10), "sent"),
        ("london", at(1, 8, 30), "not-modified"),
        ("chicago", at(1, 15), "sent"),
    ):
        db.session.add(
            Download(
                resource_file_id=file.id,
                centre_id=centres[centre].id,
                release_id=release.id,
                at=moment,
                status=status,
            )
        )
    figures.rebuild(release.id)  # rows made by hand: worked out afresh
    db.session.commit()
    return file


def page_of(client, release) -> str:
    return html.unescape(client.get(f"/releases/{release.id}").get_data(as_text=True))


def progress_section(page: str) -> str:
    return page.split('<section aria-labelledby="progress-heading">', 1)[1].split("</section>")[0]


def table_rows(page: str) -> list[list[str]]:
    section = progress_section(page)
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [" ".join(cell.split()) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def svg_of(page: str):
    section = progress_section(page)
    source = section[section.index("<svg") : section.index("</svg>") + len("</svg>")]
    return ElementTree.fromstring(source)


def test_the_table_counts_centres_opened_and_downloaded_up_to_now(
    client, admin, release, downloads, clock
):
    clock.set(at(1, 12))
    page = page_of(client, release)
    assert table_rows(page) == [
        ["01 Jun 2026 03:30 UTC", "1", "0", "Asia/Kolkata (1)"],
        ["01 Jun 2026 04:00 UTC", "1", "1", ""],
        ["01 Jun 2026 08:00 UTC", "2", "1", "Europe/London (1)"],
        ["01 Jun 2026 09:15 UTC", "2", "2", ""],
    ]
    assert (
        "By 01 Jun 2026 12:00 UTC (now): the windows of 2 of its 3 centres had opened, "
        "and 2 centres had downloaded." in page
    )


def test_once_every_window_closed_the_chart_ends_at_the_last_closing(
    client, admin, release, downloads, clock
):
    clock.set(at(9, 0))
    page = page_of(client, release)
    assert table_rows(page)[-2:] == [
        ["01 Jun 2026 14:00 UTC", "3", "2", "America/Chicago (1)"],
        ["01 Jun 2026 15:00 UTC", "3", "3", ""],
    ]
    assert "By 05 Jun 2026 15:30 UTC (when the last window closed)" in page
    assert ">Last window closed</text>" in page


def test_a_cancelled_release_ends_at_its_cancellation(client, admin, release, downloads, clock, db):
    db.session.get(Release, release.id).cancelled_at = at(1, 9)
    db.session.commit()
    clock.set(at(1, 12))
    page = page_of(client, release)
    assert [row[0] for row in table_rows(page)] == [
        "01 Jun 2026 03:30 UTC",
        "01 Jun 2026 04:00 UTC",
        "01 Jun 2026 08:00 UTC",
    ]
    assert "By 01 Jun 2026 09:00 UTC (when the release was cancelled)" in page


def test_before_any_window_opens_there_is_no_chart(client, admin, release, clock):
    clock.set(at(1, 3))
    section = progress_section(page_of(client, release))
    assert "No window has opened yet. The first opens at 01 Jun 2026 03:30 UTC" in section
    assert "<svg" not in section and "<table" not in section


def test_at_the_first_opening_the_chart_starts(client, admin, release, downloads, clock):
    clock.set(at(1, 3, 30))
    page = page_of(client, release)
    assert table_rows(page) == [["01 Jun 2026 03:30 UTC", "1", "0", "Asia/Kolkata (1)"]]
    svg = svg_of(page)
    paths = {p.get("class"): p.get("d") for p in svg.iter(f"{SVG}path")}
    assert paths["chart-opened"] == "M64,268.0H64.0V194.7H700"
    assert paths["chart-downloaded"] == "M64,268.0H700"


def test_a_release_without_centres_has_no_chart(client, admin, db, clock):
    empty = Release(series=SERIES, title="Nobody", opens_days=3, opens_hours=0)
    db.session.add(empty)
    db.session.commit()
    section = progress_section(page_of(client, empty))
    assert "No chart: this release authorises no centre." in section
    assert "<svg" not in section


def test_the_chart_is_a_well_formed_accessible_svg(client, admin, release, downloads, clock):
    clock.set(at(1, 12))
    page = page_of(client, release)
    svg = svg_of(page)
    assert svg.get("role") == "img"
    assert svg.get("viewBox") == "0 0 720 340"
    assert svg.get("aria-labelledby") == "progress-title progress-desc"
    assert svg.find(f"{SVG}title").text == "Centres opened and downloaded over time"
    description = svg.find(f"{SVG}desc").text
    assert "from 01 Jun 2026 03:30 UTC to 01 Jun 2026 12:00 UTC" in description
    assert "rising to 2 of 3" in description
    paths = {p.get("class"): p.get("d") for p in svg.iter(f"{SVG}path")}
    # 03:30 is x=64 and 12:00 x=700; 3 centres fill the 220 units up from y=268.
    assert paths["chart-opened"] == "M64,268.0H64.0V194.7H400.7V121.3H700"
    assert paths["chart-downloaded"] == "M64,268.0H101.4V194.7H494.2V121.3H700"
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "Time (UTC)" in texts and "Centres" in texts and "Now" in texts
    assert "01 Jun04:00" in texts and "01 Jun12:00" in texts  # two lines each
    assert "Windows opened (centres)" in texts and "Downloaded (centres)" in texts
    # No inline styles: the CSP forbids them.
    assert "style=" not in progress_section(page)


def test_the_chart_is_two_grouped_queries_and_merges_steps_past_its_cap(
    db, release, downloads, count_queries
):
    """300 more centres, each opening and downloading at its own minute: the chart keeps
    at most MAX_STEPS steps, each exact at its time, in the same two queries."""
    db.session.execute(
        insert(Centre),
        [
            {
                "number": f"XX{n:04d}",
                "name": f"Centre {n}",
                "country": "GB",
                "timezone": "Europe/London",
                "zone": 3,
            }
            for n in range(300)
        ],
    )
    ids = db.session.scalars(
        select(Centre.id).where(Centre.number.like("XX%")).order_by(Centre.id)
    ).all()
    start = at(2, 0)
    db.session.execute(
        insert(Authorisation),
        [
            {
                "release_id": release.id,
                "centre_id": centre_id,
                "resource_id": downloads.resource_id,
                "opens_at": start + timedelta(minutes=n),
                "closes_at": at(8, 0),
            }
            for n, centre_id in enumerate(ids)
        ],
    )
    db.session.execute(
        insert(Download),
        [
            {
                "resource_file_id": downloads.id,
                "centre_id": centre_id,
                "release_id": release.id,
                "at": start + timedelta(minutes=n, seconds=30),
                "status": "sent",
            }
            for n, centre_id in enumerate(ids)
        ],
    )
    figures.rebuild(release.id, ids)  # rows made by hand: worked out afresh
    db.session.commit()
    stored = db.session.get(Release, release.id)
    with count_queries() as statements:
        progress = release_progress(stored, at(3, 0))
    assert len(statements) == 2
    assert progress.merged
    assert len(progress.steps) <= MAX_STEPS
    assert progress.opened == 303 and progress.downloaded == 303
    assert progress.end == at(3, 0) and progress.ended == "now"
    times = [step.at for step in progress.steps]
    assert times == sorted(times)
    # Every step's counts are exact at its time.
    for step in progress.steps:
        if step.at >= start:
            minutes = (step.at - start) // timedelta(minutes=1)
            seconds = (step.at - start).seconds % 60
            assert step.opened == 3 + minutes + 1
            assert step.downloaded == 3 + minutes + (1 if seconds >= 30 else 0)


def test_a_centre_removed_from_the_release_is_not_counted(
    client, admin, release, downloads, clock, db
):
    london = db.session.scalar(select(Centre.id).where(Centre.number == "GB001"))
    db.session.execute(delete(Authorisation).where(Authorisation.centre_id == london))
    figures.refresh(release.id, [london])  # as Remove centre does
    db.session.commit()
    clock.set(at(1, 12))
    assert table_rows(page_of(client, release)) == [
        ["01 Jun 2026 03:30 UTC", "1", "0", "Asia/Kolkata (1)"],
        ["01 Jun 2026 04:00 UTC", "1", "1", ""],
    ]
