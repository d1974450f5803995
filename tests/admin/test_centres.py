"""Admin → Manage Centres through the web: search, create, edit, delete, Undo Delete."""

import re

from sqlalchemy import select

from app.models import Centre, Event
from tests.web.test_menu import menu_links

HTMX = {"HX-Request": "true"}


def search_fragment(client, query="", **params):
    headers = {**HTMX, "HX-Target": "search-results", "HX-Trigger": "q"}
    return client.get("/admin/centres", query_string={"q": query, **params}, headers=headers)


def post(client, csrf_token, url, data, headers=None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/")}, headers=headers)


def events(db, action):
    return list(db.session.scalars(select(Event).where(Event.action == action)))


# Pakistan has one time zone, so it can be left for the country to give.
CENTRE = {
    "number": "pk777",
    "name": "Rāvi Grammar School",
    "country": "PK",
    "town": "Lahore",
    "timezone": "",
    "zone": "4",
}


def test_the_page_has_the_seed_heading_search_and_create_form(client, login_as):
    login_as("admin")
    page = client.get("/admin/centres").get_data(as_text=True)
    assert "<h1>Browse and modify centres and users</h1>" in page
    assert "You can search for a centre by typing in the search box below." in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert "Show deleted centres" in page
    assert '<h2 id="create-heading">Create a new centre</h2>' in page
    assert "There are no centres yet." in page


def test_active_search_returns_only_the_results_fragment(client, login_as, make_centre):
    login_as("admin")
    make_centre(number="IN301", name="Delhi Public School", town="New Delhi")
    make_centre(number="GB101", name="Hillside Academy", town="London")
    response = search_fragment(client, "delhi")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "<h1>" not in body
    assert "1 centre matching “delhi”." in body
    assert ">IN301</a>" in body and "GB101" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_and_history_restore_requests_get_the_whole_page(client, login_as):
    login_as("admin")
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        headers = {**HTMX, "HX-Target": "search-results", **extra}
        body = client.get("/admin/centres?q=x", headers=headers).get_data(as_text=True)
        assert "<html" in body and "<h1>Browse and modify centres and users</h1>" in body


def test_search_works_as_a_plain_form(client, login_as, make_centre, clock):
    login_as("admin")
    make_centre(number="IN301", name="Delhi Public School")
    make_centre(number="IN302", name="Delhi Model School", deleted_at=clock.now)
    page = client.get("/admin/centres?q=delhi").get_data(as_text=True)
    assert 'value="delhi"' in page
    assert ">IN301</a>" in page and "IN302" not in page
    assert "Deleted centres are not shown" not in page
    page = client.get("/admin/centres?q=delhi&deleted=1").get_data(as_text=True)
    assert ">IN302</a> <mark>Deleted</mark>" in page
    assert 'name="deleted" value="1" checked' in page


def test_at_most_50_results_with_a_note(client, login_as, make_centre):
    login_as("admin")
    for n in range(53):
        make_centre(number=f"ZZ{n:03d}", name="Same School")
    body = search_fragment(client, "same school").get_data(as_text=True)
    assert "Showing 50 of 53 — refine your search." in body
    assert body.count("<tr") == 51  # header + 50


def test_no_match_says_so(client, login_as):
    login_as("admin")
    body = search_fragment(client, "nothing like it").get_data(as_text=True)
    assert "No centres match “nothing like it”." in body


def test_create_a_centre_opens_it_and_records_the_event(client, csrf_token, login_as, db):
    admin = login_as("admin")
    response = post(client, csrf_token, "/admin/centres", CENTRE)
    centre = db.session.scalar(select(Centre).where(Centre.number == "PK777"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/centres/{centre.id}#main"
    assert (centre.name, centre.timezone, centre.zone) == ("Rāvi Grammar School", "Asia/Karachi", 4)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Centre PK777 – Rāvi Grammar School created." in page
    assert "<h1>Details for PK777 – Rāvi Grammar School</h1>" in page
    [event] = events(db, "centre.created")
    assert (event.actor_id, event.subject_id) == (admin.id, centre.id)


def test_create_shows_every_field_error_and_stores_nothing(client, csrf_token, login_as, db):
    login_as("admin")
    response = post(
        client,
        csrf_token,
        "/admin/centres",
        {"number": "G", "name": "", "country": "US", "town": "", "timezone": "", "zone": "9"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The centre was not created." in body
    assert "A centre number is 2 to 10 letters or digits, like GB123." in body
    assert "Enter the centre name." in body
    assert "Choose the time zone: United States has several" in body
    assert "The zone must be a whole number from 1 to 6" in body
    assert 'aria-invalid="true"' in body
    assert db.session.scalar(select(Centre)) is None
    assert events(db, "centre.created") == []


def test_create_refuses_a_number_in_use(client, csrf_token, login_as, make_centre, db):
    login_as("admin")
    make_centre(number="PK777", name="Hillside Academy")
    body = post(client, csrf_token, "/admin/centres", CENTRE).get_data(as_text=True)
    assert "Centre number PK777 is already used by Hillside Academy." in body
    assert len(db.session.scalars(select(Centre)).all()) == 1


def test_timezone_list_follows_the_country(client, login_as):
    login_as("admin")
    body = client.get("/admin/centres/timezones?country=IN", headers=HTMX).get_data(as_text=True)
    assert '<optgroup label="Time zones in India">' in body
    assert '<option value="Asia/Kolkata" selected>' in body
    body = client.get("/admin/centres/timezones?country=US", headers=HTMX).get_data(as_text=True)
    assert '<optgroup label="Time zones in United States">' in body
    assert " selected" not in body


def test_edit_and_save_records_what_changed(client, csrf_token, login_as, make_centre, db):
    login_as("admin")
    centre = make_centre(number="GB101", name="Hillside Academy", town="London")
    page = client.get(f"/admin/centres/{centre.id}").get_data(as_text=True)
    assert 'value="Hillside Academy"' in page
    assert '<option value="Europe/London" selected>' in page
    data = {
        "number": "GB101",
        "name": "Hillside College",
        "country": "GB",
        "town": "London",
        "timezone": "Europe/London",
        "zone": "3",
        "action": "save",
        "version": "1",
    }
    assert '<input id="version" name="version" type="hidden" value="1">' in page
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", data)
    assert response.status_code == 302
    assert "Centre GB101 – Hillside College saved." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    [event] = events(db, "centre.updated")
    assert event.details["changes"] == {"name": ["Hillside Academy", "Hillside College"]}
    assert db.session.get(Centre, centre.id).version == 2
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", {**data, "version": "2"})
    assert "Nothing was changed." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_edit_keeps_what_was_typed_and_changes_nothing(
    client, csrf_token, login_as, make_centre, db
):
    login_as("admin")
    centre = make_centre(number="GB101", name="Hillside Academy")
    data = {
        "number": "GB101",
        "name": "Typed Name",
        "country": "GB",
        "town": "",
        "timezone": "Nowhere/Special",
        "zone": "3",
    }
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Typed Name"' in body
    assert "“Nowhere/Special” is not an IANA time zone" in body
    assert db.session.get(Centre, centre.id).name == "Hillside Academy"


def test_delete_asks_first_then_soft_deletes(client, csrf_token, login_as, make_centre, db):
    login_as("admin")
    centre = make_centre(number="GB101", name="Hillside Academy")
    page = client.get(f"/admin/centres/{centre.id}/delete").get_data(as_text=True)
    assert "<h1>Delete centre GB101 – Hillside Academy?</h1>" in page
    assert "The delete is a soft delete" in page
    assert db.session.get(Centre, centre.id).deleted_at is None

    response = post(client, csrf_token, f"/admin/centres/{centre.id}/delete", {})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Centre is deleted. This can be undone by clicking 'Undo Delete' and then saving." in page
    )
    assert ">Undo Delete</button>" in page
    assert db.session.get(Centre, centre.id).deleted_at is not None
    assert len(events(db, "centre.deleted")) == 1


def test_undo_delete_with_htmx_swaps_the_banner_and_save_restores(
    client, csrf_token, login_as, make_centre, db, clock
):
    login_as("admin")
    centre = make_centre(number="GB101", name="Hillside Academy", deleted_at=clock.now)
    form = {
        "number": "GB101",
        "name": "Hillside Academy",
        "country": "GB",
        "town": "Cambridge",
        "timezone": "Europe/London",
        "zone": "3",
    }
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}",
        {**form, "action": "undo_delete"},
        headers={**HTMX, "HX-Target": "centre-status"},
    )
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "Delete Undone (pending save)" in body
    assert '<input type="hidden" name="restore" value="1">' in body
    assert db.session.get(Centre, centre.id).deleted_at is not None  # nothing stored yet

    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}",
        {**form, "restore": "1", "action": "save", "version": "1"},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Centre GB101 – Hillside Academy restored." in page
    assert "Centre is deleted" not in page
    assert db.session.get(Centre, centre.id).deleted_at is None
    assert len(events(db, "centre.restored")) == 1


def test_undo_delete_without_javascript(client, csrf_token, login_as, make_centre, db, clock):
    login_as("admin")
    centre = make_centre(number="GB101", name="Hillside Academy", deleted_at=clock.now)
    form = {
        "number": "GB101",
        "name": "Renamed Meanwhile",
        "country": "GB",
        "town": "",
        "timezone": "Europe/London",
        "zone": "3",
    }
    body = post(
        client, csrf_token, f"/admin/centres/{centre.id}", {**form, "action": "undo_delete"}
    ).get_data(as_text=True)
    assert "<html" in body and "Delete Undone (pending save)" in body
    assert 'value="Renamed Meanwhile"' in body  # what was typed is kept
    post(
        client, csrf_token, f"/admin/centres/{centre.id}", {**form, "restore": "1", "version": "1"}
    )
    stored = db.session.get(Centre, centre.id)
    assert (stored.deleted_at, stored.name) == (None, "Renamed Meanwhile")


def test_details_of_a_missing_centre_is_a_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/centres/999999").status_code == 404


def test_only_admins_manage_centres(client, login_as, make_centre):
    centre = make_centre()
    login_as("tp")
    assert client.get("/admin/centres").status_code == 403
    assert client.get(f"/admin/centres/{centre.id}/users", headers=HTMX).status_code == 403


def test_a_centre_user_of_a_deleted_centre_sees_only_a_notice(client, login_as, make_centre, clock):
    login_as("centre", centre=make_centre(deleted_at=clock.now))
    page = client.get("/").get_data(as_text=True)
    assert "Your centre is not active on this portal" in page
    assert "Your resources" not in page
    assert menu_links(page) == ["Home"]
    assert client.get("/admin/centres").status_code == 403


def test_edit_to_a_number_in_use_is_refused(client, csrf_token, login_as, make_centre, db):
    login_as("admin")
    make_centre(number="GB102", name="Other School")
    centre = make_centre(number="GB101", name="Hillside Academy")
    data = {
        "number": "gb102",
        "name": "Hillside Academy",
        "country": "GB",
        "town": "",
        "timezone": "Europe/London",
        "zone": "3",
        "version": "1",
    }
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", data)
    assert response.status_code == 422
    assert "Centre number GB102 is already used by Other School." in response.get_data(as_text=True)
    assert db.session.get(Centre, centre.id).number == "GB101"


def test_a_number_taken_at_the_same_moment_is_a_field_error(
    client, csrf_token, login_as, make_centre, monkeypatch, db
):
    """Two admins creating the same number at once: the database refuses the second."""
    login_as("admin")
    make_centre(number="PK777", name="Created A Moment Ago")
    monkeypatch.setattr("app.services.centres.operations._refuse_taken_number", lambda *args: None)
    response = post(client, csrf_token, "/admin/centres", CENTRE)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "That centre number is used by another centre." in body
    assert len(db.session.scalars(select(Centre)).all()) == 1


def test_an_old_time_zone_name_is_stored_by_its_current_name(client, csrf_token, login_as, db):
    login_as("admin")
    post(
        client,
        csrf_token,
        "/admin/centres",
        {**CENTRE, "country": "IN", "timezone": "Asia/Calcutta"},
    )
    centre = db.session.scalar(select(Centre).where(Centre.number == "PK777"))
    assert centre.timezone == "Asia/Kolkata"


def test_a_long_name_with_characters_that_fold_longer_still_saves(client, csrf_token, login_as, db):
    login_as("admin")
    name = "Große Straße Gymnasium " + "ß" * 170
    response = post(
        client, csrf_token, "/admin/centres", {**CENTRE, "name": name, "town": "ß" * 100}
    )
    assert response.status_code == 302
    centre = db.session.scalar(select(Centre).where(Centre.number == "PK777"))
    assert len(centre.search_key) > 330
    assert "grosse strasse" in centre.search_key


def test_htmx_requests_vary_by_the_headers_that_choose_page_or_fragment(client, login_as):
    login_as("admin")
    vary = client.get("/admin/centres").headers["Vary"]
    for header in ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request"):
        assert header in vary


def test_expired_session_htmx_post_is_sent_to_sign_in(client, make_centre):
    """The session (and its CSRF token) is gone: htmx must navigate, not fail silently."""
    centre = make_centre()
    response = client.post(
        f"/admin/centres/{centre.id}/users",
        data={"email": "a@example.com"},
        headers={**HTMX, "HX-Current-URL": f"http://localhost/admin/centres/{centre.id}"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == f"/login?next=/admin/centres/{centre.id}"


def test_stale_csrf_token_on_an_htmx_post_reloads_the_page(client, login_as, make_centre):
    login_as("admin")
    centre = make_centre()
    response = client.post(
        f"/admin/centres/{centre.id}/users",
        data={"email": "a@example.com"},
        headers={**HTMX, "X-CSRFToken": "stale"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"


def test_enter_on_a_deleted_centres_form_saves_rather_than_undoes(
    client, login_as, make_centre, clock
):
    login_as("admin")
    centre = make_centre(deleted_at=clock.now)
    page = client.get(f"/admin/centres/{centre.id}").get_data(as_text=True)
    form = page.split('id="centre-form"', 1)[1]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'value="save"' in first_button


TOKYO_IN_GB = {
    "number": "GB555",
    "name": "Far Away School",
    "country": "GB",
    "town": "London",
    "timezone": "Asia/Tokyo",
    "zone": "3",
}


def test_a_time_zone_not_of_the_country_needs_a_tick(client, csrf_token, login_as, db):
    login_as("admin")
    response = post(client, csrf_token, "/admin/centres", TOKYO_IN_GB)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Asia/Tokyo is not a time zone of Britain (UK): its time zone is Europe/London. "
        "Choose one of its time zones, or tick “Keep this time zone”." in body
    )
    assert "Keep this time zone: the centre really keeps this time" in body
    assert db.session.scalars(select(Centre)).all() == []

    response = post(client, csrf_token, "/admin/centres", {**TOKYO_IN_GB, "keep_timezone": "y"})
    assert response.status_code == 302
    centre = db.session.scalar(select(Centre))
    assert (centre.country, centre.timezone) == ("GB", "Asia/Tokyo")

    # Saving it again as it is asks nothing more; moving it to another foreign zone does.
    edit = {**TOKYO_IN_GB, "version": str(centre.version), "action": "save"}
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", {**edit, "town": "Leeds"})
    assert response.status_code == 302
    moved = {**edit, "version": "2", "timezone": "Asia/Seoul"}
    response = post(client, csrf_token, f"/admin/centres/{centre.id}", moved)
    assert response.status_code == 422
    assert db.session.get(Centre, centre.id).timezone == "Asia/Tokyo"


def test_a_zone_keeping_the_same_time_as_the_country_needs_no_tick(client, csrf_token, login_as):
    login_as("admin")
    liechtenstein = {**TOKYO_IN_GB, "number": "LI001", "country": "LI", "timezone": "Europe/Zurich"}
    assert post(client, csrf_token, "/admin/centres", liechtenstein).status_code == 302


def test_control_characters_in_a_field_are_refused_by_name(client, csrf_token, login_as, db):
    login_as("admin")
    response = post(client, csrf_token, "/admin/centres", {**CENTRE, "name": "Rāvi\x00School"})
    assert response.status_code == 422
    assert (
        "Name contains an invisible control character (U+0000), which is not allowed"
        in response.get_data(as_text=True)
    )
    assert db.session.scalars(select(Centre)).all() == []


def test_control_characters_in_a_search_are_a_clear_400(client, login_as):
    login_as("admin")
    response = client.get("/admin/centres", query_string={"q": "GB\x00"})
    assert response.status_code == 400
    assert (
        "The “q” value in the address contains an invisible control character (U+0000)"
        in response.get_data(as_text=True)
    )
    htmx = search_fragment(client, "GB\x1b")
    assert htmx.status_code == 400
    assert htmx.content_type.startswith("text/plain")
    assert "(U+001B)" in htmx.get_data(as_text=True)


def test_ids_beyond_any_column_are_404_not_errors(client, login_as):
    login_as("admin")
    for number in ("99999999999999999999", str(2**31), str(2**63)):
        assert client.get(f"/admin/centres/{number}").status_code == 404, number
        assert client.get(f"/admin/centres/{number}/users").status_code == 404, number
    assert client.get(f"/admin/centres/{2**31 - 1}").status_code == 404
