"""A centre's Home: its released resources by series and exam date, each available,
opening later or closed, with times in the centre's own zone; and View as centre."""

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from app.models import KeyTime, Release, Resource, ResourceFile, TimetableSlot
from app.services.releases.centre_home import centre_home, local_text, time_until
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.resources import files

SERIES = "2026-06"
# Paper 12 was sat on Thu 28 May, Paper 22 is sat on Thu 4 June, Paper 42 on Wed 10 June.
DATES = {"12": date(2026, 5, 28), "22": date(2026, 6, 4), "42": date(2026, 6, 10)}
NOW = datetime(2026, 6, 4, 5, 0, tzinfo=UTC)  # 06:00 BST, 10:30 IST


def store_resource(db, resource_dir, content: bytes, *, component="22", **overrides) -> Resource:
    """A resource of 0580 with its file really kept in the storage folder."""
    stored_name = f"{secrets.token_hex(16)}.pdf"
    folder = resource_dir / "files"
    folder.mkdir(exist_ok=True)
    (folder / stored_name).write_bytes(content)
    values = {
        "series": SERIES,
        "syllabus": "0580",
        "component": component,
        "kind": "question-paper",
        "title": f"Paper {component}",
    }
    name = overrides.pop("file_name", None) or f"0580_s26_qp_{component}.pdf"
    values.update(overrides)
    db.session.rollback()
    resource = Resource(**values)
    resource.files.append(
        ResourceFile(
            number=1,
            original_name=name,
            stored_name=stored_name,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            media_type="application/pdf",
        )
    )
    db.session.add(resource)
    db.session.commit()
    return resource


def timetable(db) -> None:
    """0580's papers in the timetable, each in the morning, 90 minutes; key times
    09:00 in the United Kingdom and India."""
    db.session.rollback()
    for component, day in DATES.items():
        db.session.add(
            TimetableSlot(
                series=SERIES,
                syllabus="0580",
                component=component,
                exam_date=day,
                session="AM",
                duration_minutes=90,
            )
        )
    for country in ("GB", "IN"):
        db.session.add(KeyTime(series=SERIES, country=country, timezone="", am="09:00"))
    db.session.commit()


def release(db, resources, centres, rule: WindowRule | None = None) -> Release:
    """Release `resources` to the chosen `centres` (by default: 3 days before)."""
    db.session.rollback()
    plan = plan_release(
        SERIES, [r.id for r in resources], "chosen", rule or WindowRule(), [c.id for c in centres]
    )
    assert not plan.blocked, plan.blocked
    saved = save_release(plan, title="June papers", actor_id=None)
    db.session.commit()
    return saved


@pytest.fixture
def papers(db, resource_dir):
    timetable(db)
    return {
        component: store_resource(db, resource_dir, files.pdf(component), component=component)
        for component in DATES
    }


@pytest.fixture
def london(make_centre):
    return make_centre(number="GB101", name="Cambridge Grammar")


@pytest.fixture
def kolkata(make_centre):
    return make_centre(
        number="IN301", name="Kolkata Academy", country="IN", timezone="Asia/Kolkata", zone=4
    )


# --- the pure helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(days=2, hours=3, minutes=59), "in 2 days 3 hours"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=3, minutes=5), "in 3 days"),
        (timedelta(hours=1, minutes=1), "in 1 hour 1 minute"),
        (timedelta(hours=5), "in 5 hours"),
        (timedelta(minutes=5, seconds=59), "in 5 minutes"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(seconds=59), "in less than a minute"),
        (timedelta(0), "in less than a minute"),
    ],
)
def test_time_until_says_whole_days_hours_and_minutes(left, words):
    assert time_until(NOW, NOW + left) == words


def test_local_text_names_the_zone_by_its_abbreviation():
    moment = datetime(2026, 6, 4, 9, 30, tzinfo=UTC)
    assert local_text(moment, "Europe/London") == "Thu 4 Jun 2026 10:30 BST"
    assert local_text(moment, "Asia/Kolkata") == "Thu 4 Jun 2026 15:00 IST"
    assert local_text(moment, "Europe/Paris") == "Thu 4 Jun 2026 11:30 CEST"
    assert local_text(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "Europe/London") == (
        "Mon 5 Jan 2026 09:00 GMT"
    )


# --- the listing ------------------------------------------------------------------


def test_the_listing_groups_by_series_and_date_in_one_query(
    db, papers, london, resource_dir, count_queries
):
    notes = store_resource(
        db, resource_dir, files.pdf("notes"), component="01", kind="pre-release", title="Notes"
    )
    release(db, papers.values(), [london])
    release(
        db,
        [notes],
        [london],
        WindowRule(
            opens_at=datetime(2026, 5, 1, tzinfo=UTC), closes_at=datetime(2026, 6, 30, tzinfo=UTC)
        ),
    )
    centre_id = london.id
    with count_queries() as queries:
        sections = centre_home(centre_id, NOW)
    assert len([q for q in queries if q.startswith("SELECT")]) == 1
    assert [(s.series_label, s.date_label) for s in sections] == [
        ("June 2026", "Thursday 28 May 2026"),
        ("June 2026", "Thursday 4 June 2026"),
        ("June 2026", "Wednesday 10 June 2026"),
        ("June 2026", "Not timetabled"),
    ]
    items = [section.items[0] for section in sections]
    assert [(i.title, i.state) for i in items] == [
        ("Paper 12", "closed"),
        ("Paper 22", "available"),
        ("Paper 42", "opens"),
        ("Notes", "available"),
    ]
    paper = items[1]
    assert (paper.kind_label, paper.file_name, paper.size) == (
        "Question paper",
        "0580_s26_qp_22.pdf",
        papers["22"].current_file.size,
    )
    assert paper.sha256 == papers["22"].current_file.sha256
    assert (paper.opens_at, paper.closes_at) == (
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 6, 5, 9, 30, tzinfo=UTC),
    )


def test_a_resource_released_twice_shows_once_under_its_best_window(
    db, papers, london, resource_dir
):
    paper = papers["22"]
    insert = store_resource(
        db,
        resource_dir,
        files.pdf("insert"),
        kind="insert",
        title="Insert 22",
        file_name="0580_s26_in_22.pdf",
    )
    later = WindowRule(
        opens_at=datetime(2026, 6, 20, tzinfo=UTC), closes_at=datetime(2026, 6, 30, tzinfo=UTC)
    )
    earlier = WindowRule(
        opens_at=datetime(2026, 5, 1, tzinfo=UTC), closes_at=datetime(2026, 5, 2, tzinfo=UTC)
    )
    release(db, [paper], [london], later)
    open_now = release(db, [paper], [london])
    release(db, [paper], [london], earlier)
    release(db, [insert], [london], later)
    release(db, [insert], [london], earlier)
    (section,) = centre_home(london.id, NOW)
    assert [(i.title, i.state, i.release_id) for i in section.items] == [
        ("Paper 22", "available", open_now.id),
        ("Insert 22", "opens", section.items[1].release_id),
    ]
    assert section.items[1].opens_at == datetime(2026, 6, 20, tzinfo=UTC)
    # Once every window has closed: the latest one.
    (section,) = centre_home(london.id, datetime(2026, 7, 1, tzinfo=UTC))
    assert [(i.title, i.state, i.closes_at) for i in section.items] == [
        ("Insert 22", "closed", datetime(2026, 6, 30, tzinfo=UTC)),
        ("Paper 22", "closed", datetime(2026, 6, 30, tzinfo=UTC)),
    ]


def test_cancelled_releases_deleted_resources_and_other_centres_are_left_out(
    db, papers, london, kolkata, clock
):
    cancelled = release(db, [papers["22"]], [london])
    release(db, [papers["42"], papers["12"]], [london, kolkata])
    db.session.get(Release, cancelled.id).cancelled_at = clock.now
    db.session.get(Resource, papers["12"].id).deleted_at = clock.now
    db.session.commit()
    assert [s.items[0].title for s in centre_home(london.id, NOW)] == ["Paper 42"]
    assert [s.items[0].title for s in centre_home(kolkata.id, NOW)] == ["Paper 42"]


# --- the page ---------------------------------------------------------------------


def test_a_london_centre_sees_the_three_states_in_bst(
    client, login_as, db, papers, london, kolkata, clock
):
    release(db, papers.values(), [london, kolkata])
    clock.set(NOW)
    login_as("centre", centre=london)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>GB101 – Cambridge Grammar</h1>" in page
    assert "Nothing has been released" not in page
    assert "June 2026: Thursday 28 May 2026" in page
    assert "Closed<br><small>closed " in page and ">Fri 29 May 2026 10:30 BST</time>" in page
    assert "<strong>Available now</strong><br>closes " in page
    assert (
        '<time datetime="2026-06-05T09:30:00Z" title="5 Jun 2026 09:30 UTC">'
        "Fri 5 Jun 2026 10:30 BST</time>"
    ) in page
    assert (
        'Opens <time datetime="2026-06-07T08:00:00Z" title="7 Jun 2026 08:00 UTC">'
        "Sun 7 Jun 2026 09:00 BST</time> (in 3 days 3 hours)"
    ) in page
    assert "Question paper" in page and "0580_s26_qp_22.pdf" in page
    sha = papers["22"].current_file.sha256
    assert f'<code title="{sha}">{sha[:12]}…</code>' in page
    assert f'<code class="hash">{sha}</code>' in page
    # One Download button: for the paper whose window is open.
    assert page.count('role="button" download') == 1
    assert f"/home/resources/{papers['22'].id}/download" in page


def test_a_kolkata_centre_sees_its_own_local_times_in_ist(
    client, login_as, db, papers, london, kolkata, clock
):
    release(db, papers.values(), [london, kolkata])
    clock.set(NOW)
    login_as("centre", centre=kolkata)
    page = client.get("/").get_data(as_text=True)
    assert "Asia/Kolkata" in page
    assert ">Fri 5 Jun 2026 10:30 IST</time>" in page
    assert ">Sun 7 Jun 2026 09:00 IST</time> (in 2 days 22 hours)" in page
    assert "BST" not in page
    clock.set(datetime(2026, 6, 7, 3, 29, 30, tzinfo=UTC))
    page = client.get("/").get_data(as_text=True)
    assert ">Sun 7 Jun 2026 09:00 IST</time> (in less than a minute)" in page


def test_nothing_released_keeps_the_empty_state(client, login_as, london):
    login_as("centre", centre=london)
    page = client.get("/").get_data(as_text=True)
    assert "Nothing has been released to your centre yet." in page


def test_a_deleted_centres_users_see_only_the_notice(client, login_as, db, papers, london, clock):
    release(db, papers.values(), [london])
    db.session.rollback()
    london.deleted_at = clock.now
    db.session.add(london)
    db.session.commit()
    login_as("centre", centre=london)
    page = client.get("/").get_data(as_text=True)
    assert "Your centre is not active on this portal at the moment" in page
    assert "Paper 22" not in page and "Your resources" not in page


def test_an_admin_views_a_centres_home_read_only(
    client, login_as, db, papers, london, kolkata, clock
):
    release(db, papers.values(), [london])
    clock.set(NOW)
    login_as("admin")
    page = client.get(f"/home/centres/{london.id}").get_data(as_text=True)
    assert "Viewing as centre GB101 – read-only" in page
    assert "Paper 22" in page and "<strong>Available now</strong>" in page
    assert "Fri 5 Jun 2026 10:30 BST" in page
    assert 'role="button" download' not in page and "/download" not in page
    other = client.get(f"/home/centres/{kolkata.id}").get_data(as_text=True)
    assert "Nothing has been released to your centre yet." in other
    assert client.get("/home/centres/999999").status_code == 404


@pytest.mark.parametrize("role", ["centre", "tp"])
def test_only_admins_view_as_centre(client, login_as, london, role):
    login_as(role)
    assert client.get(f"/home/centres/{london.id}").status_code == 403


def test_the_admin_centre_page_links_to_view_as_centre(client, login_as, london):
    login_as("admin")
    page = client.get(f"/admin/centres/{london.id}").get_data(as_text=True)
    assert f'<a href="/home/centres/{london.id}">View as centre</a>' in page


def test_a_kept_row_never_outlives_what_it_shows(client, login_as, db, papers, london, clock):
    # Rows are rendered once and kept (app/home/rows.py), keyed by all they show.
    release(db, papers.values(), [london])
    clock.set(NOW)
    login_as("centre", centre=london)
    first = client.get("/").get_data(as_text=True)
    assert "Paper 22" in first and "(in 3 days 3 hours)" in first
    resource = db.session.get(Resource, papers["22"].id)
    resource.title = "Paper 22 (corrected)"
    db.session.commit()
    clock.set(NOW + timedelta(hours=1))
    page = client.get("/").get_data(as_text=True)
    assert "Paper 22 (corrected)" in page and "(in 3 days 2 hours)" in page
    assert "(in 3 days 3 hours)" not in page
    clock.set(datetime(2026, 6, 7, 8, 0, tzinfo=UTC))  # Paper 42's window opens
    page = client.get("/").get_data(as_text=True)
    assert page.count('role="button" download') == 1
    assert f"/home/resources/{papers['42'].id}/download" in page
    login_as("admin")  # the same rows, read-only: no Download button
    shown = client.get(f"/home/centres/{london.id}").get_data(as_text=True)
    assert "/download" not in shown and "Paper 42" in shown
