"""Reports → Event Logs: the list, its filters, keyset pages, details, export, and the
hash chain's last check."""

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sqlalchemy_event

from app.models import Event
from app.services.reports import event_logs

HTMX = {"HX-Request": "true", "HX-Target": "event-logs"}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(login_as):
    return login_as("admin", email="boss@example.com")


@pytest.fixture
def add(db, clock):
    """Add an Event as the code would have recorded it (`at` defaults to the clock)."""

    def add(action: str = "login.succeeded", **values) -> Event:
        values.setdefault("at", clock.now)
        event = Event(action=action, details=values.pop("details", {}), **values)
        db.session.add(event)
        db.session.commit()
        return event

    return add


def rows_of(page: str) -> list[str]:
    """The events listed, as their ids, top to bottom."""
    return re.findall(r'<tr id="event-(\d+)">', page)


# ---------------------------------------------------------------------------
# Who may look


def test_only_admins_see_the_event_logs(client, login_as):
    assert client.get("/reports/events").status_code == 302  # to sign in
    login_as("tp")
    assert client.get("/reports/events").status_code == 403
    assert client.get("/reports/events?format=csv").status_code == 403


def test_centre_users_are_refused(client, login_as):
    login_as("centre")
    assert client.get("/reports/events").status_code == 403


# ---------------------------------------------------------------------------
# The list


def test_an_empty_log_says_so(client, admin):
    response = client.get("/reports/events")
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Event Logs</h1>" in page
    assert "No events have been recorded yet." in page
    assert "as CSV" not in page  # nothing to export


def test_events_are_listed_newest_first_in_words(client, admin, add, clock, make_centre):
    centre = make_centre(number="GB101")
    first = add("centre.deleted", subject_type="Centre", subject_id=centre.id,
                details={"number": "GB101"}, actor_id=admin.id, actor_email=admin.email,
                ip="203.0.113.7")  # fmt: skip
    clock.advance(minutes=5)
    second = add("login.succeeded", actor_id=admin.id, actor_email=admin.email, ip="203.0.113.8")
    page = text_of(client.get("/reports/events"))
    assert rows_of(page) == [str(second.id), str(first.id)]
    row = page.split(f'<tr id="event-{first.id}">', 1)[1].split("</tr>", 1)[0]
    assert "Centre deleted<br><small><code>centre.deleted</code></small>" in row
    assert f'<a href="/admin/centres/{centre.id}">Centre GB101</a>' in row
    assert "01 Jun 2026 08:00:00" in row
    assert 'href="/reports/events?actor=boss%40example.com"' in row
    assert 'href="/reports/events?ip=203.0.113.7"' in row
    assert "Signed in" in page
    assert "2 events, newest first: 01 Jun 2026 08:05 UTC back to 01 Jun 2026 08:00 UTC." in page


def test_subjects_read_as_the_admin_knows_them(client, admin, add, make_user, make_centre):
    officer = make_user("centre", email="officer@example.com")
    add(
        "user.pin_reset",
        subject_type="User",
        subject_id=officer.id,
        details={"email": officer.email},
    )
    add(
        "user.deleted",
        subject_type="User",
        subject_id=99_999,
        details={"email": "gone@example.com"},
    )
    add("release.created", subject_type="Release", subject_id=77, details={"series": "2026-06"})
    add("centres.imported", subject_type="ImportRun", subject_id=5, details={})
    page = text_of(client.get("/reports/events"))
    assert f'<a href="/admin/centres/{officer.centre_id}/users">officer@example.com</a>' in page
    assert "<td>gone@example.com</td>" in page  # deleted: no link
    assert "<td>Release #77</td>" in page  # no such release: no link
    assert '<a href="/admin/centres/imports/5">Centres import #5</a>' in page


def test_a_change_reads_old_to_new_and_nothing_is_raw(client, admin, add):
    add(
        "centre.updated",
        subject_type="Centre",
        subject_id=1,
        details={
            "number": "GB101",
            "changes": {"name": ["Old School", "New School"], "zone": [3, 4]},
        },
    )
    add("staff.role_changed", details={"email": "a@example.com", "before": "tp", "after": "admin"})
    add(
        "key_time.saved",
        details={
            "series": "2026-06",
            "before": {"am": "09:00", "pm": "13:30"},
            "after": {"am": "08:30", "pm": "13:30"},
        },
    )
    add(
        "release.centres_added",
        details={"centres": [f"GB{n:03d}" for n in range(25)], "count": 25000},
    )
    add(
        "standard_message.saved",
        details={"text": "<script>alert(1)</script>" + "x" * 300, "open_left": None},
    )
    add("release.window_changed", details={"opens_at": "2026-06-01T07:00:00+00:00", "ok": True})
    response = client.get("/reports/events")
    raw = response.get_data(as_text=True)
    assert "<script>alert(1)" not in raw  # escaped
    page = text_of(response)
    assert "<dt>Name</dt><dd>Old School → New School</dd>" in page
    assert "<dt>Zone</dt><dd>3 → 4</dd>" in page
    assert "<dt>Change</dt><dd>tp → admin</dd>" in page
    assert "<dt>AM</dt><dd>09:00 → 08:30</dd>" in page
    assert "<dt>PM</dt>" not in page  # unchanged, so not shown
    assert "GB000, GB001" in page and "GB009 and 15 more</dd>" in page and "GB010" not in page
    assert "<dt>Count</dt><dd>25,000</dd>" in page
    assert "… (325 characters in all)</dd>" in page
    assert "<dt>Open left</dt><dd>none</dd>" in page
    assert "<dt>Opens at</dt><dd>01 Jun 2026 07:00 UTC</dd>" in page
    assert "<dt>Ok</dt><dd>yes</dd>" in page
    assert "{" not in page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]  # never a repr


def test_an_action_no_longer_known_shows_its_name(client, admin, add):
    add("something.retired")
    page = text_of(client.get("/reports/events"))
    assert "something.retired<br><small><code>something.retired</code>" in page


# ---------------------------------------------------------------------------
# Filters


def test_filter_by_kind(client, admin, add):
    signed_in = add("login.succeeded")
    failed = add("login.failed", details={"username": "x@example.com", "reason": "bad_password"})
    add("centre.created")
    add("resource.uploaded")
    page = text_of(client.get("/reports/events?kind=sign-ins"))
    assert rows_of(page) == [str(failed.id), str(signed_in.id)]
    assert '<option value="sign-ins" selected>Sign-ins</option>' in page
    assert "2 events matching" in page


def test_an_unknown_kind_is_ignored(client, admin, add):
    add("login.succeeded")
    add("centre.created")
    response = client.get("/reports/events?kind=nonsense")
    assert response.status_code == 200
    assert len(rows_of(text_of(response))) == 2


def test_filter_by_actor_matches_the_address_exactly(client, admin, add):
    mine = add("centre.created", actor_email="ann@example.com")
    add("centre.created", actor_email="ann@example.com.au")
    add("centre.created", actor_email="bob@example.com")
    add("centre.created")
    page = text_of(client.get("/reports/events?actor=ANN@example.com"))
    assert rows_of(page) == [str(mine.id)]
    assert 'name="actor" value="ANN@example.com"' in page  # as typed


def test_filter_by_a_centre_number_finds_the_centre_and_its_users(
    client, admin, add, make_centre, make_user
):
    centre = make_centre(number="IN301")
    other = make_centre(number="IN302")
    officer = make_user("centre", centre=centre)
    about_centre = add("centre.updated", subject_type="Centre", subject_id=centre.id)
    about_user = add("user.pin_reset", subject_type="User", subject_id=officer.id)
    add("centre.updated", subject_type="Centre", subject_id=other.id)
    add("login.succeeded", actor_id=officer.id)  # by the user, not about them
    page = text_of(client.get("/reports/events?subject=in301"))
    assert rows_of(page) == [str(about_user.id), str(about_centre.id)]


def test_filter_by_a_users_address(client, admin, add, make_user):
    officer = make_user("centre", email="officer@example.com")
    other = make_user("centre")
    about = add("user.pin_reset", subject_type="User", subject_id=officer.id)
    add("user.pin_reset", subject_type="User", subject_id=other.id)
    add("centre.updated", subject_type="Centre", subject_id=officer.id)  # same id, a centre
    page = text_of(client.get("/reports/events?subject=Officer@Example.com"))
    assert rows_of(page) == [str(about.id)]


def test_a_subject_that_does_not_exist_is_named(client, admin, add):
    add("centre.created")
    page = text_of(client.get("/reports/events?subject=ZZ999"))
    assert "No events match these filters. No centre has the number ZZ999." in page
    page = text_of(client.get("/reports/events?subject=nobody@example.com"))
    assert "No user has the address nobody@example.com now." in page


def test_filter_by_dates_in_utc_with_the_to_date_included(client, admin, add, clock):
    def at(day, hour, minute=0):
        return datetime(2026, 6, day, hour, minute, tzinfo=UTC)

    add("centre.created", at=at(1, 23, 59))
    starts = add("centre.created", at=at(2, 0, 0))
    ends = add("centre.created", at=at(3, 23, 59))
    add("centre.created", at=at(4, 0, 0))
    page = text_of(client.get("/reports/events?from=2026-06-02&to=2026-06-03"))
    assert rows_of(page) == [str(ends.id), str(starts.id)]
    page = text_of(client.get("/reports/events?from=2026-06-04"))
    assert len(rows_of(page)) == 1
    page = text_of(client.get("/reports/events?to=2026-06-01"))
    assert len(rows_of(page)) == 1


def test_filter_by_ip(client, admin, add):
    here = add("login.succeeded", ip="2001:db8::1")
    add("login.succeeded", ip="2001:db8::10")
    add("login.succeeded", ip="203.0.113.7")
    page = text_of(client.get("/reports/events?ip=2001:DB8:0::1"))
    assert rows_of(page) == [str(here.id)]


def test_filters_combine(client, admin, add):
    wanted = add("login.failed", ip="203.0.113.7", actor_email=None)
    add("login.failed", ip="203.0.113.8")
    add("centre.created", ip="203.0.113.7")
    page = text_of(client.get("/reports/events?kind=sign-ins&ip=203.0.113.7"))
    assert rows_of(page) == [str(wanted.id)]
    assert 'href="/reports/events"' in page and "Clear the filters" in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01", "from", "From: enter a date, e.g. 2026-06-02."),
        ("to=yesterday", "to", "To: enter a date, e.g. 2026-06-02."),
        ("from=0999-01-01", "from", "From: enter a date between the years 2000 and 2199."),
        (
            "from=2026-06-05&to=2026-06-01",
            "to",
            "The “to” date must be the same as or after the “from” date.",
        ),
        ("ip=203.0.113.999", "ip", "Enter an IP address, e.g. 203.0.113.7 or 2001:db8::1."),
        ("actor=admin", "actor", "Enter the whole email address of the person who acted"),
        ("subject=GB-1", "subject", "Enter a centre number (2 to 10 letters or digits"),
        ("subject=a@b", "subject", "Enter a whole email address"),
        ("actor=" + "a" * 250 + "@example.com", "actor", "Enter the whole email address"),
    ],
)
def test_bad_filter_values_are_refused_beside_the_filter(client, admin, add, query, field, message):
    add("login.succeeded")
    response = client.get(f"/reports/events?{query}")
    assert response.status_code == 422
    page = text_of(response)
    beside = page.split(f'id="filter-{field}-error" class="field-error">', 1)[1]
    assert beside.startswith(message)
    assert f'<a href="#filter-{field}">' in page  # the summary links to the field
    assert "<tbody>" not in page  # no list until the filters are right
    assert client.get(f"/reports/events?{query}&format=csv").status_code == 422  # nor export


def test_filter_values_are_kept_in_the_form(client, admin):
    page = text_of(client.get("/reports/events?from=2026-06-01&ip=not-an-ip&subject=gb1"))
    assert 'id="filter-from" name="from" value="2026-06-01"' in page
    assert 'id="filter-ip" name="ip" value="not-an-ip"' in page
    assert 'name="subject" value="gb1"' in page


# ---------------------------------------------------------------------------
# Keyset pages


@pytest.fixture
def hundred_and_twenty(db, clock):
    events = [
        Event(
            at=clock.now + timedelta(seconds=n),
            action="centre.created" if n % 2 else "login.succeeded",
        )
        for n in range(120)
    ]
    db.session.add_all(events)
    db.session.commit()
    return [event.id for event in events]


def test_pages_go_older_and_newer_across_the_boundaries(
    client, admin, hundred_and_twenty, count_queries
):
    ids = [str(i) for i in reversed(hundred_and_twenty)]  # newest first
    first = text_of(client.get("/reports/events"))
    assert rows_of(first) == ids[:50]
    assert "Newer" not in first and "Newest</a>" not in first
    older = re.search(r'href="(/reports/events\?before=\d+)" rel="next"', first).group(1)
    assert older == f"/reports/events?before={ids[49]}"

    second = text_of(client.get(older))
    assert rows_of(second) == ids[50:100]
    third_url = re.search(r'href="([^"]+)" rel="next"', second).group(1)
    third = text_of(client.get(third_url))
    assert rows_of(third) == ids[100:]
    assert 'rel="next"' not in third  # the oldest page

    newer_url = re.search(r'href="([^"]+)" rel="prev"', third).group(1)
    assert newer_url == f"/reports/events?after={ids[100]}"
    back = text_of(client.get(newer_url))
    assert rows_of(back) == ids[50:100]
    newest_url = re.search(r'href="([^"]+)" rel="prev"', back).group(1)
    newest = text_of(client.get(newest_url))
    assert rows_of(newest) == ids[:50]
    assert 'rel="prev"' not in newest  # nothing newer
    assert "Newest</a>" in newest  # reached by paging, but the way back to the top is kept


def test_pages_carry_the_filters(client, admin, hundred_and_twenty):
    page = text_of(client.get("/reports/events?kind=centres"))
    assert len(rows_of(page)) == 50
    older = re.search(r'href="([^"]+)" rel="next"', page).group(1)
    assert "kind=centres" in older
    rest = text_of(client.get(older))
    assert len(rows_of(rest)) == 10
    assert 'rel="next"' not in rest


@pytest.fixture
def statements_of(client, db):
    """The SQL statements, with their parameters, that a GET of `url` runs."""

    def run(url: str) -> list[tuple[str, object]]:
        seen = []

        def collect(conn, cursor, statement, parameters, *args):
            seen.append((statement, parameters))

        sqlalchemy_event.listen(db.engine, "before_cursor_execute", collect)
        try:
            assert client.get(url).status_code == 200
        finally:
            sqlalchemy_event.remove(db.engine, "before_cursor_execute", collect)
        return seen

    return run


def skips_rows(statement: str, parameters) -> bool:
    """Whether a statement skips rows with OFFSET. SQLAlchemy writes "LIMIT ? OFFSET ?"
    for every LIMIT on SQLite, with an offset of 0; PostgreSQL gets no OFFSET."""
    if "OFFSET" not in statement.upper():
        return False
    return not (statement.rstrip().endswith("OFFSET ?") and parameters[-1] == 0)


def test_each_page_is_one_query_without_offset_or_count(
    client, admin, hundred_and_twenty, statements_of, db, clock
):
    newest = max(hundred_and_twenty)
    first = statements_of("/reports/events?kind=sign-ins&ip=203.0.113.7")
    deep = statements_of(f"/reports/events?before={newest - 60}")
    back = statements_of(f"/reports/events?after={newest - 110}&kind=centres")
    for seen in (first, deep, back):
        on_events = [s for s, _ in seen if re.search(r"\bFROM events\b", s)]
        # The page, and the hash chain's last check.
        assert len(on_events) == 2, on_events
        assert not [s for s, p in seen if skips_rows(s, p)]
        assert not [s for s in on_events if "count(" in s.lower()]
    assert len(first) == len(deep) == len(back)
    # More events: the same statements.
    db.session.add_all([Event(at=clock.now, action="logout") for _ in range(200)])
    db.session.commit()
    assert len(statements_of(f"/reports/events?before={newest - 60}")) == len(deep)


def test_page_ids_that_are_not_ids_read_as_the_newest_page(client, admin, hundred_and_twenty):
    for query in ("before=abc", "after=-", "before=", "after=1e9"):
        page = text_of(client.get(f"/reports/events?{query}"))
        assert len(rows_of(page)) == 50
    huge = text_of(client.get("/reports/events?before=99999999999999999999999"))
    assert len(rows_of(huge)) == 50  # beyond any id: the newest events
    past = text_of(client.get("/reports/events?after=99999999999999999999999"))
    assert "There are no events on this page." in past
    assert "Go to the newest events" in past


def test_htmx_gets_the_filters_and_the_list_only(client, admin, add):
    add("login.succeeded")
    response = client.get("/reports/events?kind=sign-ins", headers=HTMX)
    page = text_of(response)
    assert "<h1>" not in page and "<html" not in page
    assert 'id="event-filters"' in page and len(rows_of(page)) == 1
    bad = client.get("/reports/events?from=nope", headers=HTMX)
    assert bad.status_code == 422 and "From: enter a date" in text_of(bad)


# ---------------------------------------------------------------------------
# Export


def read_csv(response) -> list[list[str]]:
    response.direct_passthrough = False
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_export_has_every_matching_event_and_formulas_stay_text(
    client, admin, add, db, monkeypatch
):
    monkeypatch.setattr(event_logs, "EXPORT_BATCH", 2)  # several batches
    add("centre.created", details={"number": "GB101"})
    formula = add(
        "standard_message.saved",
        actor_email="boss@example.com",
        ip="203.0.113.7",
        details={"text": '=HYPERLINK("http://evil")'},
    )
    for n in range(4):
        add(
            "login.failed",
            ip="203.0.113.7",
            details={"username": f"u{n}@example.com", "reason": "locked"},
        )
    add("login.succeeded", ip="198.51.100.1")

    response = client.get("/reports/events?ip=203.0.113.7&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=event-logs.csv"
    rows = read_csv(response)
    assert rows[0] == list(event_logs.EXPORT_HEADER)
    assert len(rows) == 1 + 5  # 4 failures and the message, from 3 batches
    assert [row[3] for row in rows[1:]] == ["login.failed"] * 4 + ["standard_message.saved"]
    last = rows[-1]
    assert last[0] == str(formula.id)
    assert last[1] == "2026-06-01 08:00:00"
    assert last[2] == "Standard message saved"
    assert last[4] == "boss@example.com"
    assert last[8] == "203.0.113.7"
    assert last[9] == 'Text: =HYPERLINK("http://evil")'
    assert last[10] == '{"text": "=HYPERLINK(\\"http://evil\\")"}'
    assert rows[1][9] == "Username: u3@example.com; Reason: locked"

    [exported] = db.session.query(Event).filter_by(action="report.exported").all()
    assert exported.actor_email == "boss@example.com"
    assert exported.details == {
        "report": "Event Logs",
        "format": "csv",
        "filters": {"ip": "203.0.113.7"},
        "rows": 5,
    }


def test_a_cell_that_would_be_a_formula_is_quoted(client, admin, add):
    add("login.failed", actor_email="=cmd@example.com", details={"username": "+1", "reason": "-x"})
    rows = read_csv(client.get("/reports/events?format=csv"))
    assert rows[1][4] == "'=cmd@example.com"
    assert rows[1][9] == "Username: +1; Reason: -x"  # starts with text, so left alone


def test_the_page_links_to_the_export_with_its_filters(client, admin, add):
    add("login.succeeded")
    page = text_of(client.get("/reports/events?kind=sign-ins"))
    assert 'href="/reports/events?format=csv&kind=sign-ins"' in page
    assert "Download these events as CSV" in page


# ---------------------------------------------------------------------------
# The hash chain's last check


def test_never_verified(client, admin):
    page = text_of(client.get("/reports/events"))
    assert "The event log's chain has never been verified." in page
    assert "<code>flask --app wsgi events verify</code>" in page


def test_last_verified_whole(client, admin, add, clock):
    add("events.verified", details={"checked": 10, "whole": False, "broken_at": 3, "reason": "old"})
    clock.set(datetime(2026, 12, 3, 14, 2, tzinfo=UTC))
    add(
        "events.verified",
        details={"checked": 1_000_000, "whole": True, "broken_at": None, "reason": ""},
    )
    page = text_of(client.get("/reports/events"))
    assert (
        '<p class="flash flash-success" id="chain-check">Last verified 03 Dec 2026 14:02 UTC: '
        "1,000,000 events, the chain is whole.</p>"
    ) in page


def test_last_verified_broken(client, admin, add, clock):
    add("events.verified", details={"checked": 5, "whole": True, "broken_at": None, "reason": ""})
    clock.advance(days=1)
    add(
        "events.verified",
        details={
            "checked": 1_234,
            "whole": False,
            "broken_at": 123,
            "reason": "its hash does not match its contents",
        },
    )
    page = text_of(client.get("/reports/events"))
    check = page.split('id="chain-check"', 1)[1].split("</p>", 1)[0]
    assert 'role="alert"' in check
    assert (
        "Last verified 02 Jun 2026 08:00 UTC: 1,234 events checked, the chain is broken at "
        '<a href="/reports/events?before=124">event #123</a>: its hash does not match its contents.'
    ) in check
