"""Reconciling spreadsheet rows with what is stored: the seed's rules, as a pure function."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.centres.upload.reader import CentreRow
from app.services.centres.upload.reconcile import (
    Place,
    StoredCentre,
    StoredUser,
    reconcile,
)


def centre(number, name="Stored Name", *, id_=None, deleted=False, town="London", zone=3):
    return StoredCentre(
        id_ or hash(number) % 10_000, number, name, "GB", town, "Europe/London", zone, deleted
    )


def user(email, number, *, id_=None, activated=False, role="centre"):
    return StoredUser(id_ or hash(email) % 10_000, email, role, number, activated)


def rows(*specs):
    """(number, name, email) triples → CentreRows numbered from row 2."""
    return [
        CentreRow(i, number, name, "GB", "London", "Europe/London", 3, email)
        for i, (number, name, email) in enumerate(specs, start=2)
    ]


def test_a_new_centre_and_its_users_are_created():
    plan = reconcile(
        rows(("GB1", "New School", "a@x.example"), ("GB1", "New School", "b@x.example")), [], []
    )
    assert [(c.number, c.name) for c in plan.new_centres] == [("GB1", "New School")]
    assert [(u.email, u.number) for u in plan.new_users] == [
        ("a@x.example", "GB1"),
        ("b@x.example", "GB1"),
    ]
    assert plan.changes and plan.problems == []


def test_a_new_centre_needs_a_name():
    plan = reconcile(rows(("GB1", "", "a@x.example")), [], [])
    [problem] = plan.problems
    assert (problem.row, problem.column, problem.reason) == (
        2,
        "Centre Name",
        "GB1 is a new centre, so it needs a name",
    )
    assert plan.new_users == []


def test_a_time_zone_not_of_the_country_is_a_warning_to_confirm():
    tokyo = CentreRow(2, "GB1", "New School", "GB", "London", "Asia/Tokyo", 3, "a@x.example")
    plan = reconcile([tokyo, *rows(("GB2", "Fine", None))], [], [])
    [warning] = plan.zone_warnings
    assert (warning.row, warning.number, warning.country, warning.timezone) == (
        2,
        "GB1",
        "GB",
        "Asia/Tokyo",
    )
    assert plan.needs_confirmation and plan.new_centres  # still created, once confirmed
    unlisted = CentreRow(2, "XK1", "Prishtina School", "XK", "Prishtina", "UTC", 3, None)
    assert reconcile([unlisted], [], []).zone_warnings == []  # Kosovo: no zones listed
    zurich = CentreRow(2, "LI1", "Vaduz School", "LI", "Vaduz", "Europe/Zurich", 3, None)
    assert reconcile([zurich], [], []).zone_warnings == []  # the same time as Europe/Vaduz


def test_a_stored_centre_is_not_warned_about_its_zone_again():
    """An upload never changes a stored centre's zone: nothing to confirm there."""
    tokyo = CentreRow(2, "GB1", "Known School", "GB", "London", "Asia/Tokyo", 3, None)
    plan = reconcile([tokyo], [centre("GB1", name="Known School")], [])
    assert plan.zone_warnings == [] and not plan.needs_confirmation


def test_only_removals_renames_and_zone_warnings_need_confirmation():
    adds = reconcile(rows(("GB1", "New School", "a@x.example")), [], [])
    assert not adds.needs_confirmation
    removes = reconcile(rows(("GB1", "", None)), [centre("GB1")], [user("w@x.example", "GB1")])
    assert removes.needs_confirmation and [u.email for u in removes.replaced_users] == [
        "w@x.example"
    ]
    renames = reconcile(rows(("GB1", "New Name", None)), [centre("GB1")], [])
    assert renames.needs_confirmation


def test_the_fingerprint_changes_with_what_the_preview_shows():
    file = rows(("GB1", "", "a@x.example"))
    before = reconcile(file, [centre("GB1")], [user("w@x.example", "GB1", id_=7)])
    again = reconcile(file, [centre("GB1")], [user("w@x.example", "GB1", id_=7)])
    assert before.fingerprint() == again.fingerprint()
    more = reconcile(
        file, [centre("GB1")], [user("w@x.example", "GB1", id_=7), user("v@x.example", "GB1")]
    )
    assert more.fingerprint() != before.fingerprint()
    activated = reconcile(file, [centre("GB1")], [user("w@x.example", "GB1", activated=True)])
    assert activated.fingerprint() != before.fingerprint()


def test_a_stored_centre_gets_its_name_updated_only():
    stored = [centre("GB1", "Old Name", town="Leeds", zone=2)]
    plan = reconcile(rows(("GB1", "New Name", None)), stored, [])
    assert [(r.number, r.old, r.new) for r in plan.renames] == [("GB1", "Old Name", "New Name")]
    assert {(d.column, d.stored, d.in_file) for d in plan.location_differences} == {
        ("Town", "Leeds", "London"),
        ("Zone", "2", "3"),
    }
    assert plan.new_centres == []


def test_a_blank_name_keeps_a_stored_centres_name():
    plan = reconcile(rows(("GB1", "", None)), [centre("GB1", "Kept")], [])
    assert plan.renames == [] and plan.problems == []


def test_a_deleted_centre_is_listed_not_restored_and_its_users_untouched():
    stored = [centre("GB1", deleted=True)]
    users = [user("old@x.example", "GB1")]
    plan = reconcile(rows(("GB1", "Stored Name", "new@x.example")), stored, users)
    assert [c.number for c in plan.deleted_in_file] == ["GB1"]
    assert plan.new_users == [] and plan.replaced_users == [] and plan.renames == []


def test_never_activated_users_not_in_the_file_are_replaced_activated_ones_are_extra():
    stored = [centre("GB1")]
    users = [
        user("keep@x.example", "GB1"),
        user("waiting@x.example", "GB1"),
        user("active@x.example", "GB1", activated=True),
    ]
    plan = reconcile(
        rows(("GB1", "Stored Name", "keep@x.example"), ("GB1", "Stored Name", "new@x.example")),
        stored,
        users,
    )
    assert [u.email for u in plan.replaced_users] == ["waiting@x.example"]
    [extra] = plan.extra_users
    assert (extra.id, extra.email, extra.number) == (users[2].id, "active@x.example", "GB1")
    assert extra.spreadsheet_emails == ("keep@x.example", "new@x.example")
    assert [u.email for u in plan.new_users] == ["new@x.example"]


def test_a_centre_without_users_in_the_file_replaces_its_waiting_users():
    plan = reconcile(
        rows(("GB1", "Stored Name", None)), [centre("GB1")], [user("waiting@x.example", "GB1")]
    )
    assert [u.email for u in plan.replaced_users] == ["waiting@x.example"]


def test_users_of_centres_not_in_the_file_are_left_alone():
    plan = reconcile(
        rows(("GB1", "Stored Name", None)),
        [centre("GB1"), centre("GB2")],
        [user("other@x.example", "GB2")],
    )
    assert plan.replaced_users == [] and plan.extra_users == []
    assert [c.number for c in plan.missing_centres] == ["GB2"]


def test_missing_centres_are_live_ones_absent_from_the_file():
    stored = [centre("GB1"), centre("GB3"), centre("GB2"), centre("GB9", deleted=True)]
    plan = reconcile(rows(("GB1", "Stored Name", None)), stored, [])
    assert [c.number for c in plan.missing_centres] == ["GB2", "GB3"]


def test_an_email_given_to_two_centres_is_duplicated_and_not_created():
    plan = reconcile(
        rows(("GB1", "One", "twice@x.example"), ("GB2", "Two", "twice@x.example")), [], []
    )
    [duplicate] = plan.duplicated_users
    assert duplicate.places == (Place("GB1", "spreadsheet"), Place("GB2", "spreadsheet"))
    assert plan.new_users == []


def test_an_email_saved_at_another_centre_is_duplicated_not_moved_nor_replaced():
    stored = [centre("GB1"), centre("GB2")]
    users = [user("moved@x.example", "GB1", id_=7)]
    plan = reconcile(
        rows(("GB1", "Stored Name", None), ("GB2", "Stored Name", "moved@x.example")), stored, users
    )
    [duplicate] = plan.duplicated_users
    assert duplicate.places == (Place("GB1", "saved", 7), Place("GB2", "spreadsheet"))
    assert plan.new_users == [] and plan.replaced_users == []


def test_a_staff_email_in_the_file_is_duplicated():
    plan = reconcile(
        rows(("GB1", "New", "admin@board.example")),
        [],
        [user("admin@board.example", None, id_=3, role="admin")],
    )
    [duplicate] = plan.duplicated_users
    assert duplicate.places[0] == Place("", "staff account", 3)
    assert plan.new_users == []


def test_nothing_to_change_when_the_site_matches_the_file():
    stored = [centre("GB1")]
    users = [user("a@x.example", "GB1"), user("b@x.example", "GB1", activated=True)]
    plan = reconcile(
        rows(("GB1", "Stored Name", "a@x.example"), ("GB1", "Stored Name", "b@x.example")),
        stored,
        users,
    )
    assert not plan.changes
    assert plan.missing_centres == plan.extra_users == plan.duplicated_users == []


# Property tests: random files never crash reconcile, and a plan, once applied,
# leaves nothing to do when the same file comes again.

numbers = st.sampled_from([f"GB{i}" for i in range(6)])
names = st.sampled_from(["", "Alpha", "Beta"])
emails = st.one_of(st.none(), st.sampled_from([f"u{i}@x.example" for i in range(8)]))
file_rows = st.lists(st.tuples(numbers, names, emails), max_size=25)
stored_centres = st.lists(
    st.tuples(numbers, names.filter(bool), st.booleans()), max_size=6, unique_by=lambda c: c[0]
)
stored_users = st.lists(
    st.tuples(emails.filter(bool), numbers, st.booleans()), max_size=8, unique_by=lambda u: u[0]
)


def consistent(specs):
    """The reader guarantees one description per centre and one row per (centre, email)."""
    first_name, seen, out = {}, set(), []
    for number, name, email in specs:
        name = first_name.setdefault(number, name)
        if (number, email) in seen and email is not None:
            continue
        seen.add((number, email))
        out.append((number, name, email))
    return rows(*out)


def build(centre_specs, user_specs):
    centres = [
        StoredCentre(i + 1, n, name, "GB", "London", "Europe/London", 3, deleted)
        for i, (n, name, deleted) in enumerate(centre_specs)
    ]
    known = {c.number for c in centres}
    users = [
        StoredUser(100 + i, e, "centre", n, activated)
        for i, (e, n, activated) in enumerate(user_specs)
        if n in known
    ]
    return centres, users


def applied(plan, centres, users):
    """What the site holds after apply_plan, modelled on plain values."""
    centres = [c for c in centres]
    next_id = 1000
    for c in plan.new_centres:
        centres.append(
            StoredCentre(next_id, c.number, c.name, c.country, c.town, c.timezone, c.zone, False)
        )
        next_id += 1
    renamed = {r.number: r.new for r in plan.renames}
    centres = [
        StoredCentre(
            c.id,
            c.number,
            renamed.get(c.number, c.name),
            c.country,
            c.town,
            c.timezone,
            c.zone,
            c.deleted,
        )
        for c in centres
    ]
    gone = {u.id for u in plan.replaced_users}
    users = [u for u in users if u.id not in gone]
    for n in plan.new_users:
        users.append(StoredUser(next_id, n.email, "centre", n.number, False))
        next_id += 1
    return centres, users


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_rows, stored_centres, stored_users)
def test_random_files_never_crash_and_a_second_pass_changes_nothing(specs, c_specs, u_specs):
    file = consistent(specs)
    centres, users = build(c_specs, u_specs)
    plan = reconcile(file, centres, users)
    emails_created = [u.email for u in plan.new_users]
    assert len(emails_created) == len(set(emails_created))
    assert not {u.email for u in users} & set(emails_created)
    if plan.problems:
        return  # the upload is refused; nothing is applied
    again = reconcile(file, *applied(plan, centres, users))
    assert not again.changes, again
    assert again.problems == []
