"""Release notices: one email per activated centre user, due when the centre's window
opens, moved with it and withdrawn with it; and the "release scheduled" email the admin
may send at once (the paper and centres are tests/releases/conftest.py's: London,
Kolkata and Chicago, each opening at 09:00 local on Monday 1 June 2026)."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.models import Authorisation, Event, OutboxMessage, Release
from app.services.accounts.activation import activate_account
from app.services.accounts.users import delete_centre_user
from app.services.centres.operations import restore_centre, soft_delete_centre
from app.services.email import outbox
from app.services.releases import figures, notices
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES

SECOND = timedelta(seconds=1)
BEFORE = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)  # before any window opens
LONDON_OPENS = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
KOLKATA_OPENS = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)  # 09:00 IST
CHICAGO_OPENS = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # 09:00 CDT


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def users(db, centres, make_user):
    """Activated users: two in London, one each in Kolkata and Chicago; and a London
    user who has not activated."""
    return {
        "london": [
            make_user(centre=centres["london"], email="head@london.example"),
            make_user(centre=centres["london"], email="exams@london.example"),
        ],
        "kolkata": [make_user(centre=centres["kolkata"], email="exams@kolkata.example")],
        "chicago": [make_user(centre=centres["chicago"], email="exams@chicago.example")],
        "waiting": make_user(centre=centres["london"], activated=False, email="new@london.example"),
    }


def release_of(db, paper, rule=None, audience="entered", **options) -> Release:
    plan = plan_release(SERIES, [paper.id], audience, rule or WindowRule())
    release = save_release(plan, title="June papers", actor_id=None, **options)
    db.session.commit()
    return release


def messages(db, template=notices.NOTICE) -> list[OutboxMessage]:
    db.session.rollback()  # what is stored now, not what this session saw before
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.to_address)
        )
    )


def by_address(db, template=notices.NOTICE) -> dict[str, OutboxMessage]:
    return {m.to_address: m for m in messages(db, template)}


class Transport:
    """A mail server that keeps what it is given."""

    def __init__(self):
        self.sent = []

    def __call__(self, envelope):
        self.sent.append(envelope)

    @property
    def addresses(self) -> list[str]:
        return sorted(e.to_address for e in self.sent)


def test_saving_queues_one_notice_per_activated_user_due_at_the_centres_opening(
    db, clock, paper, centres, users, login_as
):
    clock.set(BEFORE)
    login_as("admin")  # staff are nobody's centre users: they get no notice
    release = release_of(db, paper)
    found = by_address(db)
    assert sorted(found) == [
        "exams@chicago.example",
        "exams@kolkata.example",
        "exams@london.example",
        "head@london.example",
    ]
    assert {(m.to_address, m.centre_id, m.next_attempt_at) for m in found.values()} == {
        ("head@london.example", centres["london"].id, LONDON_OPENS),
        ("exams@london.example", centres["london"].id, LONDON_OPENS),
        ("exams@kolkata.example", centres["kolkata"].id, KOLKATA_OPENS),
        ("exams@chicago.example", centres["chicago"].id, CHICAGO_OPENS),
    }
    for message in found.values():
        assert (message.status, message.attempts, message.release_id) == ("pending", 0, release.id)
    london = found["head@london.example"]
    assert london.subject == "Resources for centre GB001 are available to download"
    assert "Resources for centre GB001 (" in london.body
    assert "of the June 2026 series" in london.body and "release June papers." in london.body
    assert (
        "- Paper 22 (0580/22, Question paper)\n"
        "  opens Mon 1 Jun 2026 09:00 BST (1 Jun 2026 08:00 UTC)\n"
        "  closes Fri 5 Jun 2026 10:30 BST (5 Jun 2026 09:30 UTC)\n"
    ) in london.body
    assert "sign in at:\n\nhttps://portal.example.org/\n" in london.body
    assert london.body.rstrip().endswith("Example Exam Board")
    kolkata = found["exams@kolkata.example"].body
    assert "opens Mon 1 Jun 2026 09:00 IST (1 Jun 2026 03:30 UTC)" in kolkata
    assert "closes Fri 5 Jun 2026 10:30 IST (5 Jun 2026 05:00 UTC)" in kolkata
    chicago = found["exams@chicago.example"].body
    assert "opens Mon 1 Jun 2026 09:00 CDT (1 Jun 2026 14:00 UTC)" in chicago
    assert "closes Fri 5 Jun 2026 10:30 CDT (5 Jun 2026 15:30 UTC)" in chicago
    [event] = db.session.scalars(select(Event).where(Event.action == "release.notices_queued"))
    assert event.details == {"template": notices.NOTICE, "emails": 4, "centres": 3}
    assert db.session.get(Release, release.id).notify_scheduled is False
    assert messages(db, notices.SCHEDULED) == []


def test_winter_times_read_gmt_and_cst(db, clock, paper, centres, users):
    clock.set(BEFORE)
    rule = WindowRule(
        opens_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        closes_at=datetime(2026, 11, 10, 17, 0, tzinfo=UTC),
    )
    release_of(db, paper, rule)
    found = by_address(db)
    assert "opens Mon 2 Nov 2026 09:00 GMT (2 Nov 2026 09:00 UTC)" in (
        found["head@london.example"].body
    )
    assert "closes Tue 10 Nov 2026 17:00 GMT (10 Nov 2026 17:00 UTC)" in (
        found["head@london.example"].body
    )
    chicago = found["exams@chicago.example"].body
    assert "opens Mon 2 Nov 2026 03:00 CST (2 Nov 2026 09:00 UTC)" in chicago
    assert "closes Tue 10 Nov 2026 11:00 CST (10 Nov 2026 17:00 UTC)" in chicago
    assert "opens Mon 2 Nov 2026 14:30 IST" in found["exams@kolkata.example"].body


def test_a_notice_is_sent_when_its_window_opens_not_a_second_before_and_once(
    db, clock, paper, centres, users
):
    clock.set(BEFORE)
    release_of(db, paper)
    mail = Transport()
    clock.set(LONDON_OPENS - SECOND)
    outbox.send_due(mail, max_attempts=6)
    assert mail.addresses == ["exams@kolkata.example"]  # Kolkata opened at 03:30 UTC
    clock.set(LONDON_OPENS)
    outbox.send_due(mail, max_attempts=6)
    assert mail.addresses == [
        "exams@kolkata.example",
        "exams@london.example",
        "head@london.example",
    ]
    clock.advance(minutes=1)
    outbox.send_due(mail, max_attempts=6)
    assert len(mail.sent) == 3  # sent once; Chicago still waits
    clock.set(CHICAGO_OPENS)
    outbox.send_due(mail, max_attempts=6)
    assert mail.sent[-1].to_address == "exams@chicago.example" and len(mail.sent) == 4
    assert {m.status for m in messages(db)} == {"sent"}


def test_outbox_send_from_cron_sends_what_is_due(app, db, clock, paper, centres, users, capsys):
    clock.set(BEFORE)
    release_of(db, paper)
    runner = app.test_cli_runner()
    clock.set(KOLKATA_OPENS - SECOND)
    assert "Sent 0," in runner.invoke(args=["outbox", "send"]).output
    clock.set(KOLKATA_OPENS)
    assert "Sent 1," in runner.invoke(args=["outbox", "send"]).output
    assert "Sent 0," in runner.invoke(args=["outbox", "send"]).output
    assert by_address(db)["exams@kolkata.example"].status == "sent"


def test_the_after_commit_delivery_does_not_send_a_notice_early(db, clock, paper, centres, users):
    clock.set(BEFORE)
    release_of(db, paper)
    ids = [m.id for m in messages(db)]
    mail = Transport()
    # Handed to the sender by mistake, or by Retry: still not sent before its time.
    assert outbox.deliver(ids, mail, max_attempts=6).skipped == 4
    assert outbox.retry(ids[0]) is None
    db.session.commit()
    assert mail.sent == [] and {m.attempts for m in messages(db)} == {0}


def test_withdrawn_notices_are_kept_and_never_sent(db, clock, paper, centres, users):
    clock.set(BEFORE)
    release = release_of(db, paper)
    assert notices.withdraw_notices(release.id, [centres["london"].id]) == 2
    db.session.commit()
    assert {a: m.status for a, m in by_address(db).items()} == {
        "head@london.example": "withdrawn",
        "exams@london.example": "withdrawn",
        "exams@kolkata.example": "pending",
        "exams@chicago.example": "pending",
    }
    assert notices.withdraw_notices(release.id) == 2
    db.session.commit()
    mail = Transport()
    clock.set(CHICAGO_OPENS)
    outbox.send_due(mail, max_attempts=6)
    assert mail.sent == []
    assert {m.status for m in messages(db)} == {"withdrawn"}
    assert outbox.retry(messages(db)[0].id) is None  # not from Other Errors either
    events = db.session.scalars(select(Event).where(Event.action == "release.notices_withdrawn"))
    assert [e.details["emails"] for e in events] == [2, 2]


def test_moved_windows_rewrite_the_notice_and_its_due_time(db, clock, paper, centres, users):
    clock.set(BEFORE)
    release = release_of(db, paper)
    london = centres["london"].id
    later = LONDON_OPENS + timedelta(days=1)  # Tue 2 Jun 09:00 BST
    db.session.execute(
        update(Authorisation)
        .where(Authorisation.centre_id == london)
        .values(opens_at=later, closes_at=datetime(2026, 6, 6, 9, 30, tzinfo=UTC))
    )
    figures.refresh(release.id, [london])  # as the services that move windows do
    notices.windows_moved(release.id, [london])
    db.session.commit()
    found = by_address(db)
    for address in ("head@london.example", "exams@london.example"):
        assert found[address].next_attempt_at == later
        assert "opens Tue 2 Jun 2026 09:00 BST (2 Jun 2026 08:00 UTC)" in found[address].body
        assert "closes Sat 6 Jun 2026 10:30 BST (6 Jun 2026 09:30 UTC)" in found[address].body
        assert "Mon 1 Jun" not in found[address].body
    assert found["exams@kolkata.example"].next_attempt_at == KOLKATA_OPENS  # not moved

    # A centre left without authorisations in the release: its notices are withdrawn.
    chicago = centres["chicago"].id
    db.session.execute(Authorisation.__table__.delete().where(Authorisation.centre_id == chicago))
    figures.refresh(release.id, [chicago])
    notices.windows_moved(release.id, [chicago])
    db.session.commit()
    assert by_address(db)["exams@chicago.example"].status == "withdrawn"

    mail = Transport()
    clock.set(LONDON_OPENS)
    outbox.send_due(mail, max_attempts=6)
    assert mail.addresses == ["exams@kolkata.example"]
    clock.set(later)
    outbox.send_due(mail, max_attempts=6)
    assert mail.addresses == [
        "exams@kolkata.example",
        "exams@london.example",
        "head@london.example",
    ]


def test_queuing_again_adds_nothing_for_users_who_have_their_notice(
    db, clock, paper, centres, users
):
    clock.set(BEFORE)
    release = release_of(db, paper)
    assert notices.queue_opening_notices(release) == 0
    assert notices.queue_opening_notices(release, [centres["london"].id]) == 0
    # Withdrawn ones do not count: a centre taken out and added again is told again.
    notices.withdraw_notices(release.id, [centres["london"].id])
    assert notices.queue_opening_notices(release, [centres["london"].id]) == 2
    db.session.commit()
    assert len(messages(db)) == 6


def test_a_user_who_activates_after_the_save_gets_the_notices_not_yet_open(
    db, clock, paper, centres, users, make_user
):
    clock.set(BEFORE)
    release_of(db, paper)
    waiting = users["waiting"]
    activate_account(waiting.id, pin=waiting.pin, password_hash="x")
    [notice] = [m for m in messages(db) if m.to_address == "new@london.example"]
    assert (notice.next_attempt_at, notice.status) == (LONDON_OPENS, "pending")
    assert "opens Mon 1 Jun 2026 09:00 BST" in notice.body

    # Once the centre's window has opened, a user who activates is not told.
    late = make_user(centre=centres["kolkata"], activated=False, email="late@kolkata.example")
    clock.set(KOLKATA_OPENS)
    activate_account(late.id, pin=late.pin, password_hash="x")
    assert "late@kolkata.example" not in by_address(db)


def test_a_cancelled_release_gives_no_notice_to_users_who_activate_later(
    db, clock, paper, centres, users
):
    clock.set(BEFORE)
    release = release_of(db, paper)
    db.session.get(Release, release.id).cancelled_at = BEFORE
    notices.withdraw_notices(release.id)
    db.session.commit()
    activate_account(users["waiting"].id, pin=users["waiting"].pin, password_hash="x")
    assert "new@london.example" not in by_address(db)


def test_a_deleted_users_notices_are_withdrawn(db, clock, paper, centres, users):
    clock.set(BEFORE)
    release_of(db, paper)
    delete_centre_user(users["london"][0])
    db.session.commit()
    found = by_address(db)
    assert found["head@london.example"].status == "withdrawn"
    assert found["exams@london.example"].status == "pending"


def test_a_deleted_centres_notices_are_withdrawn_and_come_back_with_it(
    db, clock, paper, centres, users
):
    clock.set(BEFORE)
    release_of(db, paper)
    soft_delete_centre(centres["chicago"])
    db.session.commit()
    assert by_address(db)["exams@chicago.example"].status == "withdrawn"
    restore_centre(db.session.merge(centres["chicago"]))
    db.session.commit()
    statuses = sorted(m.status for m in messages(db) if m.to_address == "exams@chicago.example")
    assert statuses == ["pending", "withdrawn"]


def test_a_save_without_users_costs_one_query_and_many_centres_no_more_than_a_few(
    db, clock, paper, centres, count_queries, make_centre, make_user
):
    clock.set(BEFORE)
    plan = plan_release(SERIES, [paper.id], "entered", WindowRule())
    release = save_release(plan, title="", actor_id=None)
    with count_queries() as statements:
        assert notices.queue_release_notices(release, plan.targets, scheduled=True) == 0
    assert len(statements) == 1
    db.session.rollback()

    def queries_to_notify(users: int) -> int:
        release = release_of(db, paper, audience="all")
        notices.withdraw_notices(release.id)  # queued by the save: queue them again
        with count_queries() as statements:
            assert notices.queue_opening_notices(release) == users
        db.session.commit()
        return len(statements)

    for centre in centres.values():
        make_user(centre=centre)
    few = queries_to_notify(3)
    for n in range(10):
        make_user(centre=make_centre(number=f"GB9{n:02d}"))
    assert queries_to_notify(13) == few


def test_future_notices_are_not_other_errors_until_they_are_overdue(
    client, login_as, db, clock, paper, centres, users
):
    clock.set(BEFORE)
    release = release_of(db, paper)
    login_as("admin")
    page = text_of(client.get("/errors/other"))
    assert "head@london.example" not in page
    assert (
        "Every email that is due has been sent. 4 release notices wait for their centres' "
        "windows to open."
    ) in page
    notices.withdraw_notices(release.id, [centres["chicago"].id])
    db.session.commit()
    clock.set(LONDON_OPENS + timedelta(minutes=10))  # due, and cron has not sent them
    page = text_of(client.get("/errors/other"))
    assert "head@london.example" in page and "exams@kolkata.example" in page
    assert "exams@chicago.example" not in page  # withdrawn: not an error


def test_the_email_templates_pages_list_and_preview_both_release_emails(client, login_as):
    login_as("admin")
    page = text_of(client.get("/admin/email-templates"))
    assert "Release notice" in page and "Release scheduled" in page
    notice = text_of(client.get("/admin/email-templates/release_notice"))
    assert "Subject: Resources for centre GB123 are available to download" in notice
    assert "opens Mon 1 Jun 2026 09:00 BST (1 Jun 2026 08:00 UTC)" in notice
    assert "<code>{{ resources }}</code>" in notice
    assert "The address of the portal, where the centre's users sign in" in notice
    scheduled = text_of(client.get("/admin/email-templates/release_scheduled"))
    assert (
        "Subject: Resources for centre GB123 will be available from "
        "Mon 1 Jun 2026 09:00 BST (1 Jun 2026 08:00 UTC)"
    ) in scheduled


def test_a_saved_wording_is_used_for_the_notices(db, clock, paper, centres, users):
    from app.services.email.templates import save_wording

    save_wording(
        "release_notice",
        "Open: {{ centre_number }}",
        "{{ centre_name|upper }} from {{ opens }}\n",
        by="boss@example.com",
        version=0,
    )
    db.session.commit()
    clock.set(BEFORE)
    release_of(db, paper)
    kolkata = by_address(db)["exams@kolkata.example"]
    assert kolkata.subject == "Open: IN001"
    assert kolkata.body == (
        f"{centres['kolkata'].name.upper()} from Mon 1 Jun 2026 09:00 IST (1 Jun 2026 03:30 UTC)\n"
    )


# Through the Release Resources form.


def test_the_form_tells_the_centres_at_once_when_the_option_is_ticked(
    release_form, db, clock, paper, centres, users
):
    clock.set(BEFORE)
    preview = text_of(release_form([paper], notify_scheduled="y"))
    assert "Tell the centres now that this release is scheduled, with their local opening time" in (
        preview
    )
    summary = preview.split('id="emails-summary">', 1)[1].split("</p>", 1)[0]
    assert "4 activated users at 3 centres will each get a release notice" in summary
    assert "also be told now that this release is scheduled" in summary
    response = release_form([paper], action="save", notify_scheduled="y")
    assert response.status_code == 302
    scheduled = by_address(db, notices.SCHEDULED)
    assert sorted(scheduled) == [
        "exams@chicago.example",
        "exams@kolkata.example",
        "exams@london.example",
        "head@london.example",
    ]
    # Sent once the response had gone, not left for cron.
    assert {m.status for m in scheduled.values()} == {"sent"}
    assert scheduled["exams@kolkata.example"].subject == (
        "Resources for centre IN001 will be available from "
        "Mon 1 Jun 2026 09:00 IST (1 Jun 2026 03:30 UTC)"
    )
    # The notices wait for their windows.
    assert {m.status for m in messages(db)} == {"pending"}
    assert db.session.scalars(select(Release)).one().notify_scheduled is True


def test_the_form_does_not_tell_the_centres_unless_asked(
    release_form, db, clock, paper, centres, users
):
    clock.set(BEFORE)
    preview = text_of(release_form([paper]))
    summary = preview.split('id="emails-summary">', 1)[1].split("</p>", 1)[0]
    assert "will not be told now" in summary
    assert release_form([paper], action="save").status_code == 302
    assert messages(db, notices.SCHEDULED) == []
    assert len(messages(db)) == 4
    assert db.session.scalars(select(Release)).one().notify_scheduled is False


def test_ticking_the_option_after_the_preview_asks_for_a_new_preview(
    release_form, db, clock, paper, centres, users
):
    clock.set(BEFORE)
    preview = release_form([paper]).get_data(as_text=True)
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', preview).group(1)
    response = release_form([paper], action="save", plan=plan, notify_scheduled="y")
    assert response.status_code == 409
    assert "Nothing was saved" in text_of(response)
    assert db.session.scalars(select(Release)).all() == []
    assert messages(db) == [] and messages(db, notices.SCHEDULED) == []
