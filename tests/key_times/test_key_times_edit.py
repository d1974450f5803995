"""Editing a key time row in place (htmx) and as a plain form; deleting a row."""

from datetime import date

import pytest

from tests.key_times.key_time_fixtures import (
    HTMX,
    JUNE,
    add_key_time,
    add_slot,
    admin,
    csrf,
    enter,
    events,
    key_time_errors,
    row_html,
    stored,
    text_of,
)

# The fixtures these tests use (imported, so that pytest finds them here).
__all__ = ["admin", "csrf"]

EDIT = "/key-times/2026-06/GB/edit"


def form(csrf, version=1, on="2026-06-02", **times):
    data = {"csrf_token": csrf, "version": version, "on": on}
    for name in ("am", "am_gmt", "pm", "pm_gmt", "ev", "ev_gmt"):
        data[name] = times.get(name, "")
    return data


def test_edit_opens_in_place_with_htmx(client, admin, db, make_centre):
    make_centre()
    add_key_time(db, "GB", am="09:00", am_gmt="08:00")
    response = client.get(f"{EDIT}?on=2026-06-02", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<tr id="key-time-GB" class="key-time-editing">')
    assert "Edit key times for Britain (UK)" in html
    assert 'id="key-time-GB-am"' in html and 'value="09:00"' in html
    assert "autofocus" in html
    assert 'name="version" type="hidden" value="1"' in html
    assert 'hx-get="/key-times/2026-06/GB/row?on=2026-06-02"' in html  # Cancel


def test_save_in_place_moves_the_utc_time(client, admin, csrf, db, make_centre):
    make_centre()
    add_key_time(db, "GB", am="09:00", am_gmt="08:00")
    response = client.post(EDIT, data=form(csrf, am="10:00", am_gmt="09:00"), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<tr id="key-time-GB"')
    row = text_of(html)
    assert "10:00 local Published 09:00 GMT 09:00 UTC" in row
    assert "Key times for Britain (UK) saved." in row
    assert "autofocus" in html  # the keyboard goes back to Edit
    assert stored(db)[("GB", "")] == ("10:00", None, None, "09:00", None, None)
    (saved,) = events(db, "key_time.saved")
    assert saved.details == {
        "series": JUNE,
        "country": "GB",
        "timezone": "",
        "before": {"am": "09:00", "am_gmt": "08:00"},
        "after": {"am": "10:00", "am_gmt": "09:00"},
    }
    assert saved.actor_email == admin.email


def test_save_without_javascript_redirects_with_a_message(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf, am="9:30", pm="14:00"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/key-times/?series=2026-06&on=2026-06-02#key-time-GB"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Key times for Britain (UK) saved." in page
    assert "09:30 local 08:30 UTC" in text_of(row_html(page, "key-time-GB"))
    assert stored(db)[("GB", "")][:2] == ("09:30", "14:00")


def test_the_plain_edit_page(client, admin, db):
    add_key_time(db, "US", "America/Chicago", am="08:00")
    response = client.get("/key-times/2026-06/US/edit?timezone=America/Chicago&on=2026-06-02")
    text = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Edit key times for United States, America/Chicago, June 2026" in text
    assert 'action="/key-times/2026-06/US/edit?timezone=America/Chicago#edit-errors"' in (
        response.get_data(as_text=True)
    )


def test_nothing_changed(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf, am="09:00"), headers=HTMX)
    assert "Nothing was changed for Britain (UK)." in text_of(response.get_data(as_text=True))
    assert events(db, "key_time.saved") == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("25:00", "“25:00” is not a time of day (HH:MM, 24-hour)."),
        ("0900", "“0900” is not a time of day (HH:MM, 24-hour)."),
        ("9.00", "“9.00” is not a time of day (HH:MM, 24-hour)."),
        ("12:60", "“12:60” is not a time of day (HH:MM, 24-hour)."),
        ("١٢:٠٠", "“١٢:٠٠” is not a time of day (HH:MM, 24-hour)."),
    ],
)
def test_times_of_day_are_checked(client, admin, csrf, db, typed, message):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf, am=typed), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and "Nothing was saved." in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert stored(db)[("GB", "")][0] == "09:00"


def test_a_gmt_time_needs_its_local_time(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf, am="09:00", pm_gmt="12:00"))
    assert response.status_code == 422
    assert (
        "A published GMT time needs its PM local time: enter that too, or clear the GMT time."
        in (response.get_data(as_text=True))
    )
    assert stored(db)[("GB", "")][4] is None


def test_control_characters_are_refused(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf, am="09:00\x00"))
    assert response.status_code == 422
    assert "AM local time contains an invisible control character (U+0000)" in response.get_data(
        as_text=True
    )


def test_a_stale_form_is_refused_with_the_conflict(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    client.post(EDIT, data=form(csrf, am="09:30"))  # someone saves first (version 2)
    response = client.post(EDIT, data=form(csrf, version=1, am="10:00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    text = text_of(html)
    assert (
        f"The key time row for Britain (UK) in June 2026 was changed by {admin.email} at 01 Jun "
        "2026 08:00 UTC since you opened it, so your changes were not saved."
    ) in text
    assert "AM local time 10:00 09:30" in text  # where the form differs from the saved row
    assert 'value="2"' in html  # the form now carries the current version
    assert stored(db)[("GB", "")][0] == "09:30"
    htmx = client.post(EDIT, data=form(csrf, version=1, am="10:00"), headers=HTMX)
    assert htmx.status_code == 422  # swapped in by htmx
    assert "since you opened it" in htmx.get_data(as_text=True)
    assert "<html" not in htmx.get_data(as_text=True)


def test_a_row_deleted_meanwhile(client, admin, csrf, db):
    row = add_key_time(db, "GB", am="09:00")
    db.session.delete(row)
    db.session.commit()
    response = client.post(EDIT, data=form(csrf, am="10:00"), headers=HTMX)
    assert response.status_code == 422
    assert "The key time row for Britain (UK) in June 2026 was deleted since you opened it" in (
        response.get_data(as_text=True)
    )
    assert stored(db) == {}


def test_cancel_restores_the_row(client, admin, db):
    add_key_time(db, "GB", am="09:00")
    response = client.get("/key-times/2026-06/GB/row?on=2026-06-02", headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<tr id="key-time-GB">')
    assert "09:00 local 08:00 UTC" in text_of(html)
    plain = client.get("/key-times/2026-06/GB/row?on=2026-06-02")
    assert plain.status_code == 302


def test_set_key_times_for_a_country_without_a_row(client, admin, csrf, db, make_centre):
    make_centre(country="FR", timezone="Europe/Paris")
    page = client.get("/key-times/?series=2026-06").get_data(as_text=True)
    assert "Set key times for France" in page
    edit = client.get("/key-times/2026-06/FR/edit?on=2026-06-02", headers=HTMX)
    assert 'name="version" type="hidden" value="0"' in edit.get_data(as_text=True)
    response = client.post(
        "/key-times/2026-06/FR/edit", data=form(csrf, version=0, am="09:00"), headers=HTMX
    )
    assert "Key times for France set." in text_of(response.get_data(as_text=True))
    assert "09:00 local 07:00 UTC" in text_of(response.get_data(as_text=True))
    (added,) = events(db, "key_time.added")
    assert added.details == {"series": JUNE, "country": "FR", "timezone": "", "am": "09:00"}
    # A second form opened before it was set is refused, not merged.
    again = client.post("/key-times/2026-06/FR/edit", data=form(csrf, version=0, am="10:00"))
    assert again.status_code == 409
    assert stored(db)[("FR", "")][0] == "09:00"


def test_addresses_that_name_nothing_are_not_found(client, admin, db):
    add_key_time(db, "GB", am="09:00")
    assert client.get("/key-times/2026-07/GB/edit").status_code == 404
    assert client.get("/key-times/June%202026/GB/edit").status_code == 404
    assert client.get("/key-times/2026-06/XX/edit").status_code == 404
    assert client.get("/key-times/2026-06/gb/edit").status_code == 404
    assert client.get("/key-times/2026-06/GB/edit?timezone=Europe/Paris").status_code == 404
    # A zone's row is added first (Add a row): no form for one that is not there.
    assert client.get("/key-times/2026-06/US/edit?timezone=America/Chicago").status_code == 404


def test_a_blank_row_offers_delete(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = client.post(EDIT, data=form(csrf), headers=HTMX)
    html = response.get_data(as_text=True)
    assert "Every session is blank: delete the row if it is not needed." in text_of(html)
    assert 'aria-label="Delete the row for Britain (UK)"' in html
    assert 'hx-confirm="Delete the row for Britain (UK)? Every session in it is blank."' in html
    with_times = add_key_time(db, "FR", am="09:00")
    page = client.get("/key-times/?series=2026-06").get_data(as_text=True)
    assert "Delete the row for France" not in row_html(page, "key-time-FR")
    assert with_times.version == 1


def test_delete_asks_first_without_javascript(client, admin, csrf, db):
    add_key_time(db, "GB")
    page = client.get("/key-times/2026-06/GB/delete?on=2026-06-02&version=1")
    text = text_of(page.get_data(as_text=True))
    assert "Delete the key times for Britain (UK)?" in text
    assert stored(db)  # asking changes nothing
    response = client.post(
        "/key-times/2026-06/GB/delete",
        data={"csrf_token": csrf, "version": 1, "on": "2026-06-02", "confirmed": "yes"},
    )
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Key times for Britain (UK) deleted." in follow
    assert stored(db) == {}
    (deleted,) = events(db, "key_time.deleted")
    assert deleted.details == {"series": JUNE, "country": "GB", "timezone": ""}


def test_delete_with_htmx_returns_the_table(client, admin, csrf, db, make_centre):
    make_centre()
    add_key_time(db, "GB", am="09:00")
    response = client.post(
        "/key-times/2026-06/GB/delete?on=2026-06-02",
        data={"csrf_token": csrf, "version": 1, "on": "2026-06-02"},
        headers=HTMX,
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="key-time-table">')
    assert "Key times for Britain (UK) deleted." in html
    # Its centre is still there: the country is listed again, without key times.
    assert "Set key times for Britain (UK)" in html


def test_a_stale_delete_is_refused(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    client.post(EDIT, data=form(csrf, am="09:30"))
    response = client.post(
        "/key-times/2026-06/GB/delete",
        data={"csrf_token": csrf, "version": 1, "on": "2026-06-02"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "since you opened it" in response.get_data(as_text=True)
    assert ("GB", "") in stored(db)


def test_key_time_errors_follow_the_edits(client, admin, csrf, db, make_centre):
    """A centre entered for an exam on 2 June (AM): its Key Time Errors come and go as the
    GB row is edited."""
    from app.services.timetable.checks import refresh_key_time_errors

    centre = make_centre()
    add_slot(db, day=date(2026, 6, 2), session="AM")
    enter(db, centre)
    refresh_key_time_errors()
    db.session.commit()
    assert key_time_errors(db) == [("no-key-time", "GB", "AM")]

    client.post("/key-times/2026-06/GB/edit", data=form(csrf, version=0, am="09:00"), headers=HTMX)
    assert key_time_errors(db) == []

    client.post(EDIT, data=form(csrf, version=1, am="09:00", am_gmt="09:00"), headers=HTMX)
    assert key_time_errors(db) == [("gmt-disagrees", "GB", "AM")]

    client.post(EDIT, data=form(csrf, version=2, am="09:00", am_gmt="08:00"), headers=HTMX)
    assert key_time_errors(db) == []

    client.post(
        "/key-times/2026-06/GB/delete",
        data={"csrf_token": csrf, "version": 3, "on": "2026-06-02"},
    )
    assert key_time_errors(db) == [("no-key-time", "GB", "AM")]


def test_deleting_a_row_that_a_key_time_error_points_at(client, admin, csrf, db, make_centre):
    from app.services.timetable.checks import refresh_key_time_errors

    centre = make_centre()
    add_slot(db, day=date(2026, 6, 2), session="AM")
    enter(db, centre)
    add_key_time(db, "GB", am="09:00", am_gmt="09:00")
    refresh_key_time_errors()
    db.session.commit()
    assert key_time_errors(db) == [("gmt-disagrees", "GB", "AM")]
    response = client.post(
        "/key-times/2026-06/GB/delete",
        data={"csrf_token": csrf, "version": 1, "on": "2026-06-02"},
    )
    assert response.status_code == 302
    assert key_time_errors(db) == [("no-key-time", "GB", "AM")]
